-- Publications: reports, studies, terms of reference, conclusions… Only their metadata and a
-- link are stored, never the files. `date` is text of the precision known: YYYY, YYYY-MM or
-- YYYY-MM-DD (sorts as text). Authors, topics and the events a publication is linked to are
-- rows of their own, in the order written.
CREATE TABLE publications (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text NOT NULL,
    title text NOT NULL,
    kind text NOT NULL,
    date text,
    language text,
    publisher_id text REFERENCES organisations (id),
    url text,
    doi text,
    isbn text,
    description text,
    search_text text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX publications_sort_idx ON publications (sort_key, id);
CREATE INDEX publications_publisher_idx ON publications (publisher_id);

CREATE TABLE publication_authors (
    publication_id text NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position integer NOT NULL,
    person_id text NOT NULL REFERENCES people (id),
    affiliation_id text REFERENCES organisations (id),
    PRIMARY KEY (publication_id, position)
);
CREATE INDEX publication_authors_person_idx ON publication_authors (person_id);
CREATE INDEX publication_authors_affiliation_idx ON publication_authors (affiliation_id);

CREATE TABLE publication_topics (
    publication_id text NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position integer NOT NULL,
    topic text NOT NULL,
    topic_key text NOT NULL,
    PRIMARY KEY (publication_id, position)
);
CREATE INDEX publication_topics_key_idx ON publication_topics (topic_key);

CREATE TABLE publication_events (
    publication_id text NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position integer NOT NULL,
    event_id text NOT NULL REFERENCES events (id),
    role text NOT NULL,
    PRIMARY KEY (publication_id, position)
);
CREATE INDEX publication_events_event_idx ON publication_events (event_id);

CREATE TRIGGER publications_created AFTER INSERT ON publications BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('publication', NEW.id, NULL, NEW.slug, 'created', NEW.version, 0, 1);
END;
CREATE TRIGGER publications_updated AFTER UPDATE ON publications WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('publication', NEW.id, NULL, NEW.slug, 'updated', NEW.version, 1, 1);
END;
CREATE TRIGGER publications_deleted AFTER DELETE ON publications BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('publication', OLD.id, NULL, OLD.slug, 'deleted', OLD.version, 1, 0);
END;
