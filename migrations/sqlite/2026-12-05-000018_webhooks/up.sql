-- Webhooks: subscriptions that push the change feed to a URL, and their deliveries (the
-- outbox). A webhook's cursor is its position in the change feed: the dispatcher reads the
-- changes after it, inserts one delivery per change the webhook asks for and moves the cursor,
-- in one write transaction, so no change is skipped or fanned out twice.
CREATE TABLE webhooks (
    id text PRIMARY KEY,
    url text NOT NULL,
    description text,
    -- Comma-separated lists; empty for all.
    resources text NOT NULL,
    actions text NOT NULL,
    include_internal boolean NOT NULL,
    enabled boolean NOT NULL,
    -- Kept as given (not hashed): every delivery is signed with it.
    secret text NOT NULL,
    change_cursor text NOT NULL,
    failing_since text,
    disabled_reason text,
    version integer NOT NULL DEFAULT 1,
    created_at text NOT NULL,
    updated_at text NOT NULL
);

CREATE TABLE webhook_deliveries (
    id text PRIMARY KEY,
    webhook_id text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    change_cursor text NOT NULL,
    resource text NOT NULL,
    record_id text NOT NULL,
    action text NOT NULL,
    -- The change-feed item as the webhook sees it (JSON); the record's data is read at send time.
    payload text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at text,
    last_attempt_at text,
    last_status_code integer,
    last_error text,
    created_at text NOT NULL
);
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, id);
-- Each webhook's due deliveries, oldest first: claimed per webhook, so one webhook's backlog
-- never hides another's.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (webhook_id, next_attempt_at)
    WHERE status = 'pending';
