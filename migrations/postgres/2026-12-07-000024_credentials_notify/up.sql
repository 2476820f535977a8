-- A process that keeps the tokens and feed keys it has verified in memory
-- (src/store/tokens.rs, KeptCredentials) checks them again in the database once this channel
-- is notified: whatever changes either table (the API, the `token` command of another process,
-- migrate-data, an operator's psql), PostgreSQL delivers the notification to every listening
-- process when the change commits.
CREATE FUNCTION notify_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('registry_credentials', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_credentials_changed();
CREATE TRIGGER feed_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON feed_keys
    FOR EACH STATEMENT EXECUTE FUNCTION notify_credentials_changed();
