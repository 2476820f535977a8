-- iCalendar feeds: each event's SEQUENCE, and the read-only keys a calendar client puts in a
-- feed's URL (it cannot send a header).

-- Grows with every change a calendar shows (title, status, dates, times, time zone, place,
-- attendance), and only then: a description-only change leaves it, so subscribed calendars
-- do not treat it as a rescheduling. Kept by the trigger, whatever writes the row.
ALTER TABLE events ADD COLUMN calendar_sequence integer NOT NULL DEFAULT 0;

CREATE FUNCTION events_calendar_sequence() RETURNS trigger AS $$
BEGIN
    NEW.calendar_sequence := OLD.calendar_sequence + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_calendar_sequence
BEFORE UPDATE ON events
FOR EACH ROW
WHEN (OLD.title IS DISTINCT FROM NEW.title
    OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.start_date IS DISTINCT FROM NEW.start_date
    OR OLD.end_date IS DISTINCT FROM NEW.end_date
    OR OLD.start_time IS DISTINCT FROM NEW.start_time
    OR OLD.end_time IS DISTINCT FROM NEW.end_time
    OR OLD.timezone IS DISTINCT FROM NEW.timezone
    OR OLD.venue IS DISTINCT FROM NEW.venue
    OR OLD.city IS DISTINCT FROM NEW.city
    OR OLD.country_code IS DISTINCT FROM NEW.country_code
    OR OLD.address IS DISTINCT FROM NEW.address
    OR OLD.attendance_mode IS DISTINCT FROM NEW.attendance_mode)
EXECUTE FUNCTION events_calendar_sequence();

CREATE TABLE feed_keys (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    secret_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz
);
