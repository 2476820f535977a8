-- Memberships get the version every other record has, so a change or removal guarded by
-- If-Match claims the row at the version read and two writers cannot both succeed.
ALTER TABLE memberships ADD COLUMN version integer NOT NULL DEFAULT 1;
