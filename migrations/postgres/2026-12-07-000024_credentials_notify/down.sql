DROP TRIGGER feed_keys_changed ON feed_keys;
DROP TRIGGER tokens_changed ON tokens;
DROP FUNCTION notify_credentials_changed();
