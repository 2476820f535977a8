-- Most events belong to no network, no chain and no parent, and most participants are people,
-- not organisations. Their indexes held an entry for every such NULL, which no query looks up
-- (every query names a network, a chain, a parent, a person or an organisation), and each
-- entry was one more page for every write to dirty: at a million events a random one. The
-- indexes now hold the rows that have a value; `x = ?` implies `x IS NOT NULL`, so both
-- databases still use them for every lookup they served.
DROP INDEX events_network_start_idx;
CREATE INDEX events_network_start_idx
    ON events (network_id, starts_at, id, end_date, visibility, kind, status)
    WHERE network_id IS NOT NULL;
DROP INDEX events_parent_idx;
CREATE INDEX events_parent_idx ON events (parent_event_id) WHERE parent_event_id IS NOT NULL;
DROP INDEX events_chain_idx;
CREATE INDEX events_chain_idx ON events (chain_id, starts_at) WHERE chain_id IS NOT NULL;
DROP INDEX event_participants_person_start_idx;
CREATE INDEX event_participants_person_start_idx
    ON event_participants (person_id, starts_at, event_id, ends_at)
    WHERE person_id IS NOT NULL;
DROP INDEX event_participants_organisation_start_idx;
CREATE INDEX event_participants_organisation_start_idx
    ON event_participants (organisation_id, starts_at, event_id, ends_at)
    WHERE organisation_id IS NOT NULL;
