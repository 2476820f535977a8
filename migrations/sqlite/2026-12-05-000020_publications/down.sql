DROP TRIGGER publications_deleted;
DROP TRIGGER publications_updated;
DROP TRIGGER publications_created;
DROP TABLE publication_events;
DROP TABLE publication_topics;
DROP TABLE publication_authors;
DROP TABLE publications;
