DROP TRIGGER publications_changes ON publications;
DROP TABLE publication_events;
DROP TABLE publication_topics;
DROP TABLE publication_authors;
DROP TABLE publications;
