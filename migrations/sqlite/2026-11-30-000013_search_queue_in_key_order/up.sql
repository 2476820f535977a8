-- The queue of text-index changes is applied in key order (and, for one key, in the order the
-- changes were made), no longer in the order of the writes. FTS5 keeps a transaction's changes
-- in memory only while their keys grow: a key lower than the last one writes out what it holds
-- as a new segment first. Keys are in start order and the writes of a batch start anywhere, so
-- nearly every write made a segment of its own, which FTS5 then had to merge. In key order a
-- batch makes one segment (SQLite patches at 100k events, measured in one run: +2-18%).
DROP TRIGGER events_search_apply;
CREATE TRIGGER events_search_apply AFTER UPDATE OF generation ON registry_state BEGIN
    INSERT INTO events_search (events_search, rowid, search_text)
        SELECT command, search_key, search_text FROM events_search_pending
        ORDER BY search_key, seq;
    DELETE FROM events_search_pending;
END;
