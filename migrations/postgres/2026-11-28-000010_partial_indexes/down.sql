DROP INDEX events_network_start_idx;
CREATE INDEX events_network_start_idx
    ON events (network_id, starts_at, id, end_date, visibility, kind, status);
DROP INDEX events_parent_idx;
CREATE INDEX events_parent_idx ON events (parent_event_id);
DROP INDEX events_chain_idx;
CREATE INDEX events_chain_idx ON events (chain_id, starts_at);
DROP INDEX event_participants_person_start_idx;
CREATE INDEX event_participants_person_start_idx
    ON event_participants (person_id, starts_at, event_id, ends_at);
DROP INDEX event_participants_organisation_start_idx;
CREATE INDEX event_participants_organisation_start_idx
    ON event_participants (organisation_id, starts_at, event_id, ends_at);
