-- Comments on public events: `pending` until an editor approves or rejects them. The
-- commenter's email and address are shown to admins only and set to NULL once the retention
-- period has passed (REGISTRY_COMMENT_RETENTION_DAYS). A comment goes with its event.
CREATE TABLE comments (
    id text PRIMARY KEY,
    event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    author_name text NOT NULL,
    email text,
    client_ip text,
    body text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    moderated_at text,
    created_at text NOT NULL,
    updated_at text NOT NULL,
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
CREATE TRIGGER comments_created AFTER INSERT ON comments
WHEN NEW.status = 'approved' BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('comment', NEW.id, NEW.event_id, NULL, 'created', NEW.version, 0,
            coalesce((SELECT visibility = 'public' FROM events WHERE id = NEW.event_id), 0));
END;
CREATE TRIGGER comments_updated AFTER UPDATE ON comments
WHEN NEW.version <> OLD.version AND (OLD.status = 'approved' OR NEW.status = 'approved') BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('comment', NEW.id, NEW.event_id, NULL,
            CASE WHEN OLD.status <> 'approved' THEN 'created'
                 WHEN NEW.status <> 'approved' THEN 'deleted'
                 ELSE 'updated' END,
            NEW.version,
            OLD.status = 'approved'
                AND coalesce((SELECT visibility = 'public' FROM events WHERE id = NEW.event_id), 0),
            NEW.status = 'approved'
                AND coalesce((SELECT visibility = 'public' FROM events WHERE id = NEW.event_id), 0));
END;
CREATE TRIGGER comments_deleted AFTER DELETE ON comments
WHEN OLD.status = 'approved' BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    -- When the event's deletion takes the comment along, the event is gone already: the
    -- tombstone is public (comments are only taken on public events).
    VALUES ('comment', OLD.id, OLD.event_id, NULL, 'deleted', OLD.version,
            coalesce((SELECT visibility = 'public' FROM events WHERE id = OLD.event_id), 1), 0);
END;
