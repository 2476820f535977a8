CREATE INDEX events_country_idx ON events (country_code);
CREATE INDEX events_city_idx ON events (city_key);
DROP INDEX events_status_start_idx;
DROP INDEX events_network_start_idx;
DROP INDEX events_city_start_idx;
DROP INDEX events_kind_start_idx;
DROP INDEX events_country_start_idx;
