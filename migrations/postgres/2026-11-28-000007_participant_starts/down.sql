DROP INDEX event_participants_person_start_idx;
ALTER TABLE event_participants DROP COLUMN starts_at;
