CREATE INDEX events_dates_idx ON events (start_date, end_date);
