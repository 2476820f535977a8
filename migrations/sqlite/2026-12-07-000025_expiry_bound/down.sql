-- Nothing to undo: the expiries moved were unreadable.
SELECT 1;
