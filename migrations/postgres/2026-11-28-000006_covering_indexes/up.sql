-- A list page reads its rows from a (field, starts_at, id) index and checks the other filters
-- on each candidate. With those columns in the index, the checks happen in the index and only
-- the rows of the page are read: a page costs the same at 10,000 and at 1,000,000 events.
DROP INDEX events_starts_at_idx;
DROP INDEX events_country_start_idx;
DROP INDEX events_kind_start_idx;
DROP INDEX events_city_start_idx;
DROP INDEX events_network_start_idx;
DROP INDEX events_status_start_idx;
CREATE INDEX events_starts_at_idx
    ON events (starts_at, id, end_date, ends_at, visibility, kind, status, country_code);
CREATE INDEX events_country_start_idx
    ON events (country_code, starts_at, id, end_date, visibility, kind, status);
CREATE INDEX events_kind_start_idx
    ON events (kind, starts_at, id, end_date, visibility, status, country_code);
CREATE INDEX events_city_start_idx
    ON events (city_key, starts_at, id, end_date, ends_at, visibility, kind, status);
CREATE INDEX events_network_start_idx
    ON events (network_id, starts_at, id, end_date, visibility, kind, status);
CREATE INDEX events_status_start_idx
    ON events (status, starts_at, id, end_date, visibility, kind, country_code);
-- Events of more than two weeks are rare. Queries for events overlapping a window look for
-- the short ones in a window widened by two weeks and for the long ones here, instead of
-- widening every window by the longest possible event (a year).
CREATE INDEX events_long_idx ON events (starts_at, id) WHERE end_date - start_date > 14;
