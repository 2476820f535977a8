-- Organiser and topic rows carry their event's start, as participant rows do since 000007, and
-- all three carry its end. Every relation is indexed by (party, start, event, end). "An
-- organisation's (a person's, a topic's) events from a date" then reads candidates from one
-- index in start order, skips in the index those that ended before the date, and stops after
-- a page, however many events the party has. The new indexes replace the ones by
-- (party, event): a lookup by party alone uses them as well.
ALTER TABLE event_organisers ADD COLUMN starts_at timestamptz;
ALTER TABLE event_organisers ADD COLUMN ends_at timestamptz;
UPDATE event_organisers o SET starts_at = e.starts_at, ends_at = e.ends_at
    FROM events e WHERE e.id = o.event_id;
ALTER TABLE event_topics ADD COLUMN starts_at timestamptz;
ALTER TABLE event_topics ADD COLUMN ends_at timestamptz;
UPDATE event_topics t SET starts_at = e.starts_at, ends_at = e.ends_at
    FROM events e WHERE e.id = t.event_id;
ALTER TABLE event_participants ADD COLUMN ends_at timestamptz;
UPDATE event_participants p SET ends_at = e.ends_at FROM events e WHERE e.id = p.event_id;

DROP INDEX event_organisers_organisation_idx;
CREATE INDEX event_organisers_organisation_start_idx
    ON event_organisers (organisation_id, starts_at, event_id, ends_at);
DROP INDEX event_topics_topic_idx;
CREATE INDEX event_topics_topic_start_idx
    ON event_topics (topic_key, starts_at, event_id, ends_at);
DROP INDEX event_participants_person_idx;
DROP INDEX event_participants_person_start_idx;
CREATE INDEX event_participants_person_start_idx
    ON event_participants (person_id, starts_at, event_id, ends_at);
DROP INDEX event_participants_organisation_idx;
CREATE INDEX event_participants_organisation_start_idx
    ON event_participants (organisation_id, starts_at, event_id, ends_at);
