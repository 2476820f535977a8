-- Lists are ordered by (starts_at, id) and usually filtered by one field: an index per common
-- filter in list order lets a page stop after `limit` rows instead of sorting every match.
CREATE INDEX events_country_start_idx ON events (country_code, starts_at, id);
CREATE INDEX events_kind_start_idx ON events (kind, starts_at, id);
CREATE INDEX events_city_start_idx ON events (city_key, starts_at, id);
CREATE INDEX events_network_start_idx ON events (network_id, starts_at, id);
CREATE INDEX events_status_start_idx ON events (status, starts_at, id);
DROP INDEX events_country_idx;
DROP INDEX events_city_idx;
