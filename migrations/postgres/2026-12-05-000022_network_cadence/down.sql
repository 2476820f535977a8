ALTER TABLE networks DROP COLUMN cadence_note;
ALTER TABLE networks DROP COLUMN cadence_months;
