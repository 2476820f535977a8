-- Access control, the audit log and idempotent POSTs.

CREATE TABLE tokens (
    id text PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL,
    secret_hash text NOT NULL UNIQUE,
    created_at text NOT NULL,
    expires_at text,
    revoked_at text
);

CREATE TABLE audit_log (
    id text PRIMARY KEY,
    at text NOT NULL,
    token_id text,
    actor text NOT NULL,
    action text NOT NULL,
    resource text NOT NULL,
    record_id text NOT NULL,
    changes text NOT NULL
);
CREATE INDEX audit_log_record_idx ON audit_log (resource, record_id, id);
CREATE INDEX audit_log_at_idx ON audit_log (at, id);

CREATE TABLE idempotency_keys (
    caller text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status integer NOT NULL,
    location text,
    etag text,
    body text NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
