DROP TRIGGER programmes_created;
DROP TRIGGER programmes_updated;
DROP TRIGGER programmes_deleted;
DROP INDEX events_programme_start_idx;
ALTER TABLE events DROP COLUMN programme_id;
DROP TABLE programme_organisations;
DROP TABLE programmes;
