-- A participant row carries its event's start, so "this person's events around this date"
-- (the scheduling-conflict check of every write) is one range in one index, whatever the
-- person's number of events. Written with the participants by every event write.
ALTER TABLE event_participants ADD COLUMN starts_at timestamptz;
UPDATE event_participants p SET starts_at = e.starts_at FROM events e WHERE e.id = p.event_id;
CREATE INDEX event_participants_person_start_idx ON event_participants (person_id, starts_at);
