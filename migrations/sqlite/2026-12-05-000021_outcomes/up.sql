-- Outcomes of events: decisions, conclusions, endorsements and follow-up actions. An outcome
-- belongs to its event and goes with it. `due_key` is `due_date`, or 9999-12-31 for an outcome
-- without one, so the cross-meeting list walks an index in due order with the undated last.
CREATE TABLE outcomes (
    id text PRIMARY KEY,
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind text NOT NULL,
    text text NOT NULL,
    owner_organisation_id text REFERENCES organisations (id),
    owner_person_id text REFERENCES people (id),
    due_date text,
    due_key text NOT NULL,
    status text NOT NULL,
    publication_id text REFERENCES publications (id),
    created_at text NOT NULL,
    updated_at text NOT NULL,
    version integer NOT NULL DEFAULT 1
);
-- "What is still open?": by status, in due order.
CREATE INDEX outcomes_status_due_idx ON outcomes (status, due_key, id);
-- The same per owner, and an event's own outcomes.
CREATE INDEX outcomes_owner_organisation_idx ON outcomes (owner_organisation_id, status, due_key, id);
CREATE INDEX outcomes_owner_person_idx ON outcomes (owner_person_id, status, due_key, id);
CREATE INDEX outcomes_event_idx ON outcomes (event_id, due_key, id);
CREATE INDEX outcomes_publication_idx ON outcomes (publication_id);

-- An outcome is public when its event is; when the event is gone (deleted with it) the
-- tombstone is left to the event's own.
CREATE TRIGGER outcomes_created AFTER INSERT ON outcomes BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('outcome', NEW.id, NEW.event_id, NULL, 'created', NEW.version, 0,
            coalesce((SELECT visibility = 'public' FROM events WHERE id = NEW.event_id), 0));
END;
CREATE TRIGGER outcomes_updated AFTER UPDATE ON outcomes WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('outcome', NEW.id, NEW.event_id, NULL, 'updated', NEW.version,
            coalesce((SELECT visibility = 'public' FROM events WHERE id = OLD.event_id), 0),
            coalesce((SELECT visibility = 'public' FROM events WHERE id = NEW.event_id), 0));
END;
CREATE TRIGGER outcomes_deleted AFTER DELETE ON outcomes BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('outcome', OLD.id, OLD.event_id, NULL, 'deleted', OLD.version,
            coalesce((SELECT visibility = 'public' FROM events WHERE id = OLD.event_id), 0), 0);
END;
