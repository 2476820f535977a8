DROP TRIGGER outcomes_deleted;
DROP TRIGGER outcomes_updated;
DROP TRIGGER outcomes_created;
DROP TABLE outcomes;
