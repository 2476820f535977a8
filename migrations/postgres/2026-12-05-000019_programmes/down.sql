DROP TRIGGER programmes_changes ON programmes;
DROP INDEX events_programme_start_idx;
ALTER TABLE events DROP COLUMN programme_id;
DROP TABLE programme_organisations;
DROP TABLE programmes;
