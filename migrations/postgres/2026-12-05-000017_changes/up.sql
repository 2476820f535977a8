-- The change feed (GET /api/v1/changes): one row per created, changed or deleted record,
-- written by the triggers below whatever the write path (API, import, chains, memberships).
-- A row is stamped with the registry's generation as its transaction commits (the last
-- statement of every write transaction, src/db/mod.rs, under the registry_state row lock that
-- orders committing writers), so (generation, seq) is commit order, which a sequence alone is
-- not; unstamped rows belong to a transaction still open and are never read.
CREATE TABLE changes (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    generation bigint,
    at timestamptz,
    resource text NOT NULL,
    record_id uuid NOT NULL,
    parent_id uuid,
    slug text,
    action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    version integer NOT NULL,
    public_before boolean NOT NULL,
    public_after boolean NOT NULL
);
CREATE INDEX changes_order_idx ON changes (generation, seq);
CREATE INDEX changes_unstamped_idx ON changes (seq) WHERE generation IS NULL;
CREATE INDEX changes_at_idx ON changes (at);
-- Changes up to this generation were dropped after the retention period: older cursors get 410.
ALTER TABLE registry_state ADD COLUMN changes_dropped_through BIGINT NOT NULL DEFAULT 0;

-- TG_ARGV: the resource's name, whether the table has a visibility column, and the column
-- naming the record's parent (memberships: network_id) or ''.
CREATE FUNCTION record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
    row_now jsonb;
BEGIN
    -- A statement that takes the row lock without a new version is no change.
    IF TG_OP = 'UPDATE' AND OLD.version = NEW.version THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW);
    END IF;
    row_now := coalesce(new_row, old_row);
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before,
                         public_after)
    VALUES (TG_ARGV[0], (row_now ->> 'id')::uuid,
            CASE WHEN TG_ARGV[2] <> '' THEN (row_now ->> TG_ARGV[2])::uuid END,
            row_now ->> 'slug',
            CASE TG_OP WHEN 'INSERT' THEN 'created' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
            (row_now ->> 'version')::integer,
            TG_OP <> 'INSERT' AND (TG_ARGV[1] = 'no' OR old_row ->> 'visibility' = 'public'),
            TG_OP <> 'DELETE' AND (TG_ARGV[1] = 'no' OR new_row ->> 'visibility' = 'public'));
    RETURN NULL;
END;
$$;

CREATE TRIGGER organisations_changes AFTER INSERT OR UPDATE OR DELETE ON organisations
    FOR EACH ROW EXECUTE FUNCTION record_change('organisation', 'no', '');
CREATE TRIGGER people_changes AFTER INSERT OR UPDATE OR DELETE ON people
    FOR EACH ROW EXECUTE FUNCTION record_change('person', 'no', '');
CREATE TRIGGER networks_changes AFTER INSERT OR UPDATE OR DELETE ON networks
    FOR EACH ROW EXECUTE FUNCTION record_change('network', 'no', '');
CREATE TRIGGER memberships_changes AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION record_change('membership', 'no', 'network_id');
CREATE TRIGGER events_changes AFTER INSERT OR UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION record_change('event', 'yes', '');
CREATE TRIGGER chains_changes AFTER INSERT OR UPDATE OR DELETE ON chains
    FOR EACH ROW EXECUTE FUNCTION record_change('chain', 'no', '');
