-- Comments on public events: `pending` until an editor approves or rejects them. The
-- commenter's email and address are shown to admins only and set to NULL once the retention
-- period has passed (REGISTRY_COMMENT_RETENTION_DAYS). A comment goes with its event.
CREATE TABLE comments (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_name text NOT NULL,
    email text,
    client_ip text,
    body text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    moderated_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL DEFAULT 1
);
-- The moderation queue (by status, oldest first) and an event's approved comments.
CREATE INDEX comments_status_idx ON comments (status, created_at, id);
CREATE INDEX comments_event_idx ON comments (event_id, status, created_at, id);
-- The comments whose contact details are still to be purged.
CREATE INDEX comments_contact_idx ON comments (created_at)
    WHERE email IS NOT NULL OR client_ip IS NOT NULL;

-- The change feed hears of a comment only while it is (or as it stops being) approved on a
-- public event: a pending or rejected comment never appears in it. Its approval is its
-- creation, its rejection or removal its deletion.
CREATE FUNCTION record_comment_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_approved boolean := TG_OP <> 'INSERT' AND OLD.status = 'approved';
    is_approved boolean := TG_OP <> 'DELETE' AND NEW.status = 'approved';
    event_public boolean;
    row_id uuid;
    row_event uuid;
    row_version integer;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.version = NEW.version THEN
        RETURN NULL;
    END IF;
    IF NOT (was_approved OR is_approved) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        row_id := OLD.id; row_event := OLD.event_id; row_version := OLD.version;
    ELSE
        row_id := NEW.id; row_event := NEW.event_id; row_version := NEW.version;
    END IF;
    -- When the event's deletion takes the comment along, the event is gone already: the
    -- tombstone is public (comments are only taken on public events).
    event_public := coalesce((SELECT visibility = 'public' FROM events WHERE id = row_event),
                             TG_OP = 'DELETE');
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before,
                         public_after)
    VALUES ('comment', row_id, row_event, NULL,
            CASE WHEN NOT was_approved THEN 'created' WHEN NOT is_approved THEN 'deleted'
                 ELSE 'updated' END,
            row_version, was_approved AND event_public, is_approved AND event_public);
    RETURN NULL;
END;
$$;

CREATE TRIGGER comments_changes AFTER INSERT OR UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION record_comment_change();
