-- Expiries past year 9999 were accepted once and stored as `+10000-…`, which no instant
-- reads back: every list of tokens or feed keys, and every request with one, failed. Such a
-- credential now expires where the API's bound puts it (the end of 2200-12-31).
UPDATE tokens SET expires_at = '2201-01-01T00:00:00.000000Z' WHERE expires_at LIKE '+%';
UPDATE feed_keys SET expires_at = '2201-01-01T00:00:00.000000Z' WHERE expires_at LIKE '+%';
