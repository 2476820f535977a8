-- Publications: reports, studies, terms of reference, conclusions… Only their metadata and a
-- link are stored, never the files. `date` is text of the precision known: YYYY, YYYY-MM or
-- YYYY-MM-DD (sorts as text). Authors, topics and the events a publication is linked to are
-- rows of their own, in the order written.
CREATE TABLE publications (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text COLLATE "C" NOT NULL,
    title text NOT NULL,
    kind text NOT NULL,
    date text,
    language text,
    publisher_id uuid REFERENCES organisations (id),
    url text,
    doi text,
    isbn text,
    description text,
    search_text text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX publications_sort_idx ON publications (sort_key, id);
CREATE INDEX publications_publisher_idx ON publications (publisher_id);

CREATE TABLE publication_authors (
    publication_id uuid NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position integer NOT NULL,
    person_id uuid NOT NULL REFERENCES people (id),
    affiliation_id uuid REFERENCES organisations (id),
    PRIMARY KEY (publication_id, position)
);
CREATE INDEX publication_authors_person_idx ON publication_authors (person_id);
CREATE INDEX publication_authors_affiliation_idx ON publication_authors (affiliation_id);

CREATE TABLE publication_topics (
    publication_id uuid NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position integer NOT NULL,
    topic text NOT NULL,
    topic_key text NOT NULL,
    PRIMARY KEY (publication_id, position)
);
CREATE INDEX publication_topics_key_idx ON publication_topics (topic_key);

CREATE TABLE publication_events (
    publication_id uuid NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
    position integer NOT NULL,
    event_id uuid NOT NULL REFERENCES events (id),
    role text NOT NULL,
    PRIMARY KEY (publication_id, position)
);
CREATE INDEX publication_events_event_idx ON publication_events (event_id);

CREATE TRIGGER publications_changes AFTER INSERT OR UPDATE OR DELETE ON publications
    FOR EACH ROW EXECUTE FUNCTION record_change('publication', 'no', '');
