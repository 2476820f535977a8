DROP TABLE feed_keys;
DROP TRIGGER events_calendar_sequence ON events;
DROP FUNCTION events_calendar_sequence();
ALTER TABLE events DROP COLUMN calendar_sequence;
