-- The change feed (GET /api/v1/changes): one row per created, changed or deleted record,
-- written by the triggers below whatever the write path (API, import, chains, memberships).
-- A row is stamped with the registry's generation as its transaction commits (the last
-- statement of every write transaction, src/db/mod.rs), so (generation, seq) is commit order;
-- unstamped rows belong to a transaction still open and are never read.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    generation BIGINT,
    at text,
    resource text NOT NULL,
    record_id text NOT NULL,
    parent_id text,
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


CREATE TRIGGER organisations_created AFTER INSERT ON organisations BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('organisation', NEW.id, NULL, NEW.slug, 'created', NEW.version, 0, 1);
END;
CREATE TRIGGER organisations_updated AFTER UPDATE ON organisations WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('organisation', NEW.id, NULL, NEW.slug, 'updated', NEW.version, 1, 1);
END;
CREATE TRIGGER organisations_deleted AFTER DELETE ON organisations BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('organisation', OLD.id, NULL, OLD.slug, 'deleted', OLD.version, 1, 0);
END;

CREATE TRIGGER people_created AFTER INSERT ON people BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('person', NEW.id, NULL, NEW.slug, 'created', NEW.version, 0, 1);
END;
CREATE TRIGGER people_updated AFTER UPDATE ON people WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('person', NEW.id, NULL, NEW.slug, 'updated', NEW.version, 1, 1);
END;
CREATE TRIGGER people_deleted AFTER DELETE ON people BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('person', OLD.id, NULL, OLD.slug, 'deleted', OLD.version, 1, 0);
END;

CREATE TRIGGER networks_created AFTER INSERT ON networks BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('network', NEW.id, NULL, NEW.slug, 'created', NEW.version, 0, 1);
END;
CREATE TRIGGER networks_updated AFTER UPDATE ON networks WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('network', NEW.id, NULL, NEW.slug, 'updated', NEW.version, 1, 1);
END;
CREATE TRIGGER networks_deleted AFTER DELETE ON networks BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('network', OLD.id, NULL, OLD.slug, 'deleted', OLD.version, 1, 0);
END;

CREATE TRIGGER memberships_created AFTER INSERT ON memberships BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('membership', NEW.id, NEW.network_id, NULL, 'created', NEW.version, 0, 1);
END;
CREATE TRIGGER memberships_updated AFTER UPDATE ON memberships WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('membership', NEW.id, NEW.network_id, NULL, 'updated', NEW.version, 1, 1);
END;
CREATE TRIGGER memberships_deleted AFTER DELETE ON memberships BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('membership', OLD.id, OLD.network_id, NULL, 'deleted', OLD.version, 1, 0);
END;

CREATE TRIGGER events_created AFTER INSERT ON events BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('event', NEW.id, NULL, NEW.slug, 'created', NEW.version, 0, NEW.visibility = 'public');
END;
CREATE TRIGGER events_updated AFTER UPDATE ON events WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('event', NEW.id, NULL, NEW.slug, 'updated', NEW.version, OLD.visibility = 'public', NEW.visibility = 'public');
END;
CREATE TRIGGER events_deleted AFTER DELETE ON events BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('event', OLD.id, NULL, OLD.slug, 'deleted', OLD.version, OLD.visibility = 'public', 0);
END;

CREATE TRIGGER chains_created AFTER INSERT ON chains BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('chain', NEW.id, NULL, NEW.slug, 'created', NEW.version, 0, 1);
END;
CREATE TRIGGER chains_updated AFTER UPDATE ON chains WHEN NEW.version <> OLD.version BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('chain', NEW.id, NULL, NEW.slug, 'updated', NEW.version, 1, 1);
END;
CREATE TRIGGER chains_deleted AFTER DELETE ON chains BEGIN
    INSERT INTO changes (resource, record_id, parent_id, slug, action, version, public_before, public_after)
    VALUES ('chain', OLD.id, NULL, OLD.slug, 'deleted', OLD.version, 1, 0);
END;
