-- A process that keeps verified tokens in memory (src/store/tokens.rs, VerifiedTokens) forgets
-- them when this channel is notified: whatever changes the tokens table (the API, the
-- `token` command of another process, migrate-data, an operator's psql), PostgreSQL delivers
-- the notification to every listening process when the change commits.
CREATE FUNCTION notify_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('registry_tokens', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION notify_tokens_changed();
