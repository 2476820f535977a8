-- `q` in start order. The text index is keyed by `events.search_key`: the second the event
-- starts (Unix time) times 2^24, plus a sequence number within that second. A search reads its
-- matches in start order from the index and stops after a page, however many events match.
--
-- Writes reach the text index through `events_search_pending`: the triggers queue each change
-- and the last statement of every write transaction (the generation update) applies the queue.
-- FTS5 writes a new segment whenever a savepoint holding index changes is released; queued,
-- the index changes once per transaction, not once per write in a batch.
DROP TRIGGER events_search_insert;
DROP TRIGGER events_search_delete;
DROP TRIGGER events_search_update;
DROP TABLE events_search;

ALTER TABLE events ADD COLUMN search_key INTEGER;
UPDATE events SET search_key = keyed.search_key
FROM (
    SELECT rowid AS row,
           unixepoch(starts_at) * 16777216
             + row_number() OVER (PARTITION BY unixepoch(starts_at) ORDER BY rowid) - 1
             AS search_key
    FROM events
) AS keyed
WHERE events.rowid = keyed.row;
CREATE UNIQUE INDEX events_search_key_idx ON events (search_key);

CREATE VIRTUAL TABLE events_search USING fts5(
    search_text,
    content = 'events',
    content_rowid = 'search_key',
    tokenize = 'trigram'
);
INSERT INTO events_search (events_search) VALUES ('rebuild');

CREATE TABLE events_search_pending (
    seq INTEGER PRIMARY KEY,
    command TEXT,
    search_key INTEGER NOT NULL,
    search_text TEXT NOT NULL
);

-- The next free key in the second `new.starts_at` starts.
CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    UPDATE events SET search_key = (
        SELECT coalesce(max(search_key) + 1, unixepoch(new.starts_at) * 16777216)
        FROM events
        WHERE search_key >= unixepoch(new.starts_at) * 16777216
          AND search_key < (unixepoch(new.starts_at) + 1) * 16777216
    ) WHERE rowid = new.rowid;
    INSERT INTO events_search_pending (command, search_key, search_text)
        SELECT NULL, search_key, search_text FROM events WHERE rowid = new.rowid;
END;
CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search_pending (command, search_key, search_text)
        VALUES ('delete', old.search_key, old.search_text);
END;
CREATE TRIGGER events_search_update AFTER UPDATE OF search_text, starts_at ON events
WHEN old.search_text IS NOT new.search_text OR old.starts_at IS NOT new.starts_at BEGIN
    INSERT INTO events_search_pending (command, search_key, search_text)
        VALUES ('delete', old.search_key, old.search_text);
    UPDATE events SET search_key = (
        SELECT coalesce(max(search_key) + 1, unixepoch(new.starts_at) * 16777216)
        FROM events
        WHERE search_key >= unixepoch(new.starts_at) * 16777216
          AND search_key < (unixepoch(new.starts_at) + 1) * 16777216
    ) WHERE rowid = new.rowid AND old.starts_at IS NOT new.starts_at;
    INSERT INTO events_search_pending (command, search_key, search_text)
        SELECT NULL, search_key, search_text FROM events WHERE rowid = new.rowid;
END;

-- Applies the queue in order (a NULL command is an insert), as the write commits.
CREATE TRIGGER events_search_apply AFTER UPDATE OF generation ON registry_state BEGIN
    INSERT INTO events_search (events_search, rowid, search_text)
        SELECT command, search_key, search_text FROM events_search_pending ORDER BY seq;
    DELETE FROM events_search_pending;
END;
