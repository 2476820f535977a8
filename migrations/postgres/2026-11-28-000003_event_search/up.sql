-- An index for `q`: trigram GIN over the folded search text, which LIKE '%…%' uses. pg_trgm
-- ships with PostgreSQL; where the role may not create extensions, `q` still works, unindexed.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
    RAISE NOTICE 'pg_trgm is not available: text search on events will scan';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX events_search_trgm_idx ON events USING gin (search_text gin_trgm_ops);
    END IF;
END
$$;
