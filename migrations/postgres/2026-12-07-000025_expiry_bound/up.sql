-- Expiries past year 9999 were accepted once; their instants have no RFC 3339 form. Such a
-- credential now expires where the API's bound puts it (the end of 2200-12-31).
UPDATE tokens SET expires_at = '2201-01-01T00:00:00Z' WHERE expires_at >= '10000-01-01T00:00:00Z';
UPDATE feed_keys SET expires_at = '2201-01-01T00:00:00Z' WHERE expires_at >= '10000-01-01T00:00:00Z';
