-- iCalendar feeds: each event's SEQUENCE, and the read-only keys a calendar client puts in a
-- feed's URL (it cannot send a header).

-- Grows with every change a calendar shows (title, status, dates, times, time zone, place,
-- attendance), and only then: a description-only change leaves it, so subscribed calendars
-- do not treat it as a rescheduling. Kept by the trigger, whatever writes the row.
ALTER TABLE events ADD COLUMN calendar_sequence integer NOT NULL DEFAULT 0;

CREATE TRIGGER events_calendar_sequence
AFTER UPDATE OF title, status, start_date, end_date, start_time, end_time, timezone, venue,
    city, country_code, address, attendance_mode ON events
FOR EACH ROW
WHEN OLD.title IS NOT NEW.title
    OR OLD.status IS NOT NEW.status
    OR OLD.start_date IS NOT NEW.start_date
    OR OLD.end_date IS NOT NEW.end_date
    OR OLD.start_time IS NOT NEW.start_time
    OR OLD.end_time IS NOT NEW.end_time
    OR OLD.timezone IS NOT NEW.timezone
    OR OLD.venue IS NOT NEW.venue
    OR OLD.city IS NOT NEW.city
    OR OLD.country_code IS NOT NEW.country_code
    OR OLD.address IS NOT NEW.address
    OR OLD.attendance_mode IS NOT NEW.attendance_mode
BEGIN
    UPDATE events SET calendar_sequence = calendar_sequence + 1 WHERE id = NEW.id;
END;

CREATE TABLE feed_keys (
    id text PRIMARY KEY,
    name text NOT NULL,
    secret_hash text NOT NULL UNIQUE,
    created_at text NOT NULL,
    expires_at text,
    revoked_at text
);
