DROP TRIGGER outcomes_changes ON outcomes;
DROP FUNCTION record_outcome_change();
DROP TABLE outcomes;
