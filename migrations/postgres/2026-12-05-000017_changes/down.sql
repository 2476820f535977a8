DROP TRIGGER organisations_changes ON organisations;
DROP TRIGGER people_changes ON people;
DROP TRIGGER networks_changes ON networks;
DROP TRIGGER memberships_changes ON memberships;
DROP TRIGGER events_changes ON events;
DROP TRIGGER chains_changes ON chains;
DROP FUNCTION record_change();
DROP TABLE changes;
ALTER TABLE registry_state DROP COLUMN changes_dropped_through;
