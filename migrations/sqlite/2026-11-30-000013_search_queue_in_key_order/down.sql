DROP TRIGGER events_search_apply;
CREATE TRIGGER events_search_apply AFTER UPDATE OF generation ON registry_state BEGIN
    INSERT INTO events_search (events_search, rowid, search_text)
        SELECT command, search_key, search_text FROM events_search_pending ORDER BY seq;
    DELETE FROM events_search_pending;
END;
