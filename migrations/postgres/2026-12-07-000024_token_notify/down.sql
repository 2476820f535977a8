DROP TRIGGER tokens_changed ON tokens;
DROP FUNCTION notify_tokens_changed();
