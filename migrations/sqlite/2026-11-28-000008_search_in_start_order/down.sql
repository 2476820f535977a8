DROP TRIGGER events_search_apply;
DROP TRIGGER events_search_insert;
DROP TRIGGER events_search_delete;
DROP TRIGGER events_search_update;
DROP TABLE events_search_pending;
DROP TABLE events_search;
DROP INDEX events_search_key_idx;
ALTER TABLE events DROP COLUMN search_key;

CREATE VIRTUAL TABLE events_search USING fts5(
    search_text,
    content = 'events',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);
INSERT INTO events_search (events_search) VALUES ('rebuild');
CREATE TRIGGER events_search_insert AFTER INSERT ON events BEGIN
    INSERT INTO events_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER events_search_delete AFTER DELETE ON events BEGIN
    INSERT INTO events_search (events_search, rowid, search_text)
        VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER events_search_update AFTER UPDATE OF search_text ON events
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO events_search (events_search, rowid, search_text)
        VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO events_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
