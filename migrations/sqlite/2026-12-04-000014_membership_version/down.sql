ALTER TABLE memberships DROP COLUMN version;
