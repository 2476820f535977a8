-- How often a network intends to meet: at most `cadence_months` months between meetings
-- (twice a year is 6), and the intention in the network's own words.
ALTER TABLE networks ADD COLUMN cadence_months integer;
ALTER TABLE networks ADD COLUMN cadence_note text;
