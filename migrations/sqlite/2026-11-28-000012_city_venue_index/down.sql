DROP INDEX events_city_start_idx;
CREATE INDEX events_city_start_idx
    ON events (city_key, starts_at, id, end_date, ends_at, visibility, kind, status);
ANALYZE events_city_start_idx;
