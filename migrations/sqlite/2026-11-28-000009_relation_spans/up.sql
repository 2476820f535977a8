-- Organiser and topic rows carry their event's start, as participant rows do since 000007, and
-- all three carry its end. Every relation is indexed by (party, start, event, end). "An
-- organisation's (a person's, a topic's) events from a date" then reads candidates from one
-- index in start order, skips in the index those that ended before the date, and stops after
-- a page, however many events the party has. The new indexes replace the ones by
-- (party, event): a lookup by party alone uses them as well.
ALTER TABLE event_organisers ADD COLUMN starts_at text;
ALTER TABLE event_organisers ADD COLUMN ends_at text;
UPDATE event_organisers SET (starts_at, ends_at) =
    (SELECT starts_at, ends_at FROM events WHERE events.id = event_organisers.event_id);
ALTER TABLE event_topics ADD COLUMN starts_at text;
ALTER TABLE event_topics ADD COLUMN ends_at text;
UPDATE event_topics SET (starts_at, ends_at) =
    (SELECT starts_at, ends_at FROM events WHERE events.id = event_topics.event_id);
ALTER TABLE event_participants ADD COLUMN ends_at text;
UPDATE event_participants
    SET ends_at = (SELECT ends_at FROM events WHERE events.id = event_participants.event_id);

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
