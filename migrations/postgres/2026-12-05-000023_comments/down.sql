DROP TABLE comments;
DROP FUNCTION record_comment_change();
