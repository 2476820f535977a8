-- The registry's graph: organisations, people, networks and their members, chains, events.
-- sort_key columns hold the folded name lists are ordered by (byte order on both backends);
-- search_text columns hold folded (lowercase, accent-free) text so `q` behaves the same on
-- PostgreSQL and SQLite.

CREATE TABLE organisations (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text NOT NULL,
    name text NOT NULL,
    acronym text,
    kind text NOT NULL,
    country_code text,
    parent_id text REFERENCES organisations (id),
    website text,
    description text,
    search_text text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX organisations_parent_idx ON organisations (parent_id);
CREATE INDEX organisations_sort_idx ON organisations (sort_key, id);

CREATE TABLE people (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text NOT NULL,
    full_name text NOT NULL,
    honorific text,
    position text,
    organisation_id text REFERENCES organisations (id),
    email text,
    phone text,
    search_text text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX people_organisation_idx ON people (organisation_id);
CREATE INDEX people_sort_idx ON people (sort_key, id);

CREATE TABLE networks (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text NOT NULL,
    name text NOT NULL,
    acronym text,
    description text,
    established_on text,
    coordinator_id text REFERENCES organisations (id),
    website text,
    search_text text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX networks_coordinator_idx ON networks (coordinator_id);
CREATE INDEX networks_sort_idx ON networks (sort_key, id);

CREATE TABLE network_supporters (
    network_id text NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    organisation_id text NOT NULL REFERENCES organisations (id),
    position integer NOT NULL,
    PRIMARY KEY (network_id, organisation_id)
);
CREATE INDEX network_supporters_organisation_idx ON network_supporters (organisation_id);

CREATE TABLE memberships (
    id text PRIMARY KEY,
    network_id text NOT NULL REFERENCES networks (id) ON DELETE CASCADE,
    person_id text REFERENCES people (id),
    organisation_id text REFERENCES organisations (id),
    role text NOT NULL,
    country_code text,
    since text,
    until text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    CHECK ((person_id IS NULL) <> (organisation_id IS NULL))
);
CREATE INDEX memberships_network_idx ON memberships (network_id, id);
CREATE INDEX memberships_person_idx ON memberships (person_id);
CREATE INDEX memberships_organisation_idx ON memberships (organisation_id);

CREATE TABLE chains (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    sort_key text NOT NULL,
    title text NOT NULL,
    description text,
    max_gap_days integer NOT NULL DEFAULT 1,
    same_city boolean NOT NULL DEFAULT 1,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX chains_sort_idx ON chains (sort_key, id);

CREATE TABLE events (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    title text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    start_date text NOT NULL,
    end_date text NOT NULL,
    start_time text,
    end_time text,
    timezone text NOT NULL,
    starts_at text NOT NULL,
    ends_at text NOT NULL,
    venue text,
    city text,
    city_key text,
    country_code text,
    address text,
    attendance_mode text NOT NULL,
    network_id text REFERENCES networks (id),
    series_number integer,
    parent_event_id text REFERENCES events (id),
    chain_id text REFERENCES chains (id),
    description text,
    topics text NOT NULL,
    links text NOT NULL,
    visibility text NOT NULL,
    search_text text NOT NULL,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    UNIQUE (network_id, series_number)
);
CREATE INDEX events_starts_at_idx ON events (starts_at, id);
CREATE INDEX events_updated_at_idx ON events (updated_at, id);
CREATE INDEX events_dates_idx ON events (start_date, end_date);
CREATE INDEX events_city_idx ON events (city_key);
CREATE INDEX events_country_idx ON events (country_code);
CREATE INDEX events_parent_idx ON events (parent_event_id);
CREATE INDEX events_chain_idx ON events (chain_id, starts_at);

CREATE TABLE event_topics (
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    topic_key text NOT NULL,
    PRIMARY KEY (event_id, topic_key)
);
CREATE INDEX event_topics_topic_idx ON event_topics (topic_key, event_id);

CREATE TABLE event_organisers (
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    organisation_id text NOT NULL REFERENCES organisations (id),
    role text NOT NULL,
    position integer NOT NULL,
    PRIMARY KEY (event_id, organisation_id, role)
);
CREATE INDEX event_organisers_organisation_idx ON event_organisers (organisation_id, event_id);

CREATE TABLE event_participants (
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    position integer NOT NULL,
    person_id text REFERENCES people (id),
    organisation_id text REFERENCES organisations (id),
    role text NOT NULL,
    PRIMARY KEY (event_id, position),
    CHECK ((person_id IS NULL) <> (organisation_id IS NULL))
);
CREATE INDEX event_participants_person_idx ON event_participants (person_id, event_id);
CREATE INDEX event_participants_organisation_idx ON event_participants (organisation_id, event_id);
