-- Typed relations between events, e.g. a Board meeting that precedes a ministerial session.
-- An event's own relations go with it; an event others name may not be deleted (the store
-- refuses it with 409 still_referenced), which the second foreign key backs.
CREATE TABLE event_relations (
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    relation text NOT NULL CHECK (relation IN ('precedes')),
    related_event_id uuid NOT NULL REFERENCES events (id),
    position integer NOT NULL,
    PRIMARY KEY (event_id, relation, related_event_id)
);
CREATE INDEX event_relations_related_idx ON event_relations (related_event_id, relation);
