-- Only `GET /conflicts` read events by (start_date, end_date); it now bounds its window by
-- start instant as well, which the index by start serves. One index fewer for every write to
-- change.
DROP INDEX events_dates_idx;
