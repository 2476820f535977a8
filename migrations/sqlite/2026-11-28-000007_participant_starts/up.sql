-- A participant row carries its event's start, so "this person's events around this date"
-- (the scheduling-conflict check of every write) is one range in one index, whatever the
-- person's number of events. Written with the participants by every event write.
ALTER TABLE event_participants ADD COLUMN starts_at text;
UPDATE event_participants
    SET starts_at = (SELECT starts_at FROM events WHERE events.id = event_participants.event_id);
CREATE INDEX event_participants_person_start_idx ON event_participants (person_id, starts_at);
