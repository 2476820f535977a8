-- Outcomes of events: decisions, conclusions, endorsements and follow-up actions. An outcome
-- belongs to its event and goes with it. `due_key` is `due_date`, or 9999-12-31 for an outcome
-- without one, so the cross-meeting list walks an index in due order with the undated last.
CREATE TABLE outcomes (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    kind text NOT NULL,
    text text NOT NULL,
    owner_organisation_id uuid REFERENCES organisations (id),
    owner_person_id uuid REFERENCES people (id),
    due_date date,
    due_key date NOT NULL,
    status text NOT NULL,
    publication_id uuid REFERENCES publications (id),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
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
CREATE FUNCTION record_outcome_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    public_before boolean := false;
    public_after boolean := false;
    row_now record;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.version = NEW.version THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        row_now := OLD;
    ELSE
        row_now := NEW;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        public_before := coalesce(
            (SELECT visibility = 'public' FROM events WHERE id = OLD.event_id), false);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        public_after := coalesce(
            (SELECT visibility = 'public' FROM events WHERE id = NEW.event_id), false);
    END IF;
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before,
                         public_after)
    VALUES ('outcome', row_now.id, row_now.event_id, NULL,
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
            row_now.version, public_before, public_after);
    RETURN NULL;
END;
$$;

CREATE TRIGGER outcomes_changes AFTER INSERT OR UPDATE OR DELETE ON outcomes
    FOR EACH ROW EXECUTE FUNCTION record_outcome_change();
