//! An event's rows as stored: what is read back, and the rows a write derives from a
//! [`ValidEvent`] ([`event_rows`]): the store's own writes and `registry-generate`'s bulk load
//! insert the same structs, so both store the same columns.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;

use crate::db::Timestamp;
use crate::db::schema::{event_organisers, event_participants, event_topics, events};
use crate::domain::enums::{OrganiserRole, ParticipantRole};
use crate::domain::event::ValidEvent;
use crate::domain::time::LocalTime;
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId, ProgrammeId};

/// The day an event whose dates are not known is stored under, as both its dates: later
/// than any date an event may have, so lists by start put such events after every dated one
/// and every index and keyset on the start keeps working. Its stored span is empty (it starts
/// and ends at [`undated_at`]), so it overlaps nothing. Responses show it as `null`.
pub const UNDATED_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => panic!("9999-12-31 is a date"),
};

/// The instant an event whose dates are not known is stored as starting and ending at.
pub fn undated_at() -> Timestamp {
    Timestamp::from(UNDATED_DAY.and_time(NaiveTime::MIN).and_utc())
}

/// A stored date as clients see it: `None` for [`UNDATED_DAY`].
pub fn known_day(day: NaiveDate) -> Option<NaiveDate> {
    (day != UNDATED_DAY).then_some(day)
}

/// A stored instant as clients see it: `None` for [`undated_at`].
pub fn known_at(at: Timestamp) -> Option<DateTime<Utc>> {
    (at != undated_at()).then(|| at.get())
}

/// A stored time zone as clients see it: `None` for the empty name an event without one has.
pub fn known_zone(name: String) -> Option<String> {
    (!name.is_empty()).then_some(name)
}

/// The span `event` is stored with: its own, or the empty one at [`undated_at`].
pub fn stored_span(event: &ValidEvent) -> (Timestamp, Timestamp) {
    match event.span() {
        Some((starts_at, ends_at)) => (Timestamp::from(starts_at), Timestamp::from(ends_at)),
        None => (undated_at(), undated_at()),
    }
}

/// What a list needs of a row to order and page it; the rest comes from the representation
/// cache, or from [`rows_by_id`] for the events it does not hold. Only the instant the list is
/// ordered by is read, so a page is read from its index alone.
#[derive(Debug, Clone, Copy, Queryable)]
pub struct PageKey {
    pub id: EventId,
    /// The event's start, or its last change for `sort=updated`.
    pub at: Timestamp,
}

impl PageKey {
    /// What the list orders this event by (ascending; `-start` reverses it).
    pub(super) fn key(&self) -> (Timestamp, EventId) {
        (self.at, self.id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: EventId,
    pub slug: String,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub start_time: Option<NaiveTime>,
    pub end_time: Option<NaiveTime>,
    pub timezone: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub venue: Option<String>,
    pub city: Option<String>,
    pub country_code: Option<String>,
    pub address: Option<String>,
    pub attendance_mode: String,
    pub network_id: Option<NetworkId>,
    pub series_number: Option<i32>,
    pub parent_event_id: Option<EventId>,
    pub chain_id: Option<ChainId>,
    pub programme_id: Option<ProgrammeId>,
    pub description: Option<String>,
    pub topics: String,
    pub links: String,
    pub visibility: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// The columns a write sets; `None` clears a column. Inserted, `None` is bound as `NULL` (no
/// column has another default), so the statement has one text and many rows go in one.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(
    table_name = events,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub struct EventColumns {
    slug: String,
    title: String,
    kind: &'static str,
    status: &'static str,
    start_date: NaiveDate,
    end_date: NaiveDate,
    start_time: Option<NaiveTime>,
    end_time: Option<NaiveTime>,
    timezone: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    venue: Option<String>,
    city: Option<String>,
    city_key: Option<String>,
    country_code: Option<String>,
    address: Option<String>,
    attendance_mode: &'static str,
    pub(super) network_id: Option<NetworkId>,
    series_number: Option<i32>,
    pub(super) parent_event_id: Option<EventId>,
    pub(super) programme_id: Option<ProgrammeId>,
    description: Option<String>,
    topics: String,
    links: String,
    visibility: &'static str,
    search_text: String,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(EventColumns, event_columns_have_one_sql_text);

impl EventColumns {
    /// The columns no index, unique constraint or trigger condition reads, with `updated_at`
    /// (whose index is appended to): all an update writes when [`EventKeys`] are unchanged.
    pub(super) fn payload(self) -> EventPayload {
        EventPayload {
            title: self.title,
            start_time: self.start_time,
            end_time: self.end_time,
            timezone: self.timezone,
            city: self.city,
            address: self.address,
            attendance_mode: self.attendance_mode,
            description: self.description,
            topics: self.topics,
            links: self.links,
            search_text: self.search_text,
            updated_at: self.updated_at,
        }
    }

    /// Whether writing these columns would change any index entry of the row.
    pub(super) fn same_keys(&self, keys: &EventKeys) -> bool {
        self.slug == keys.slug
            && self.kind == keys.kind
            && self.status == keys.status
            && self.start_date == keys.start_date
            && self.end_date == keys.end_date
            && self.starts_at == keys.starts_at
            && self.ends_at == keys.ends_at
            && self.visibility == keys.visibility
            && self.country_code == keys.country_code
            && self.city_key == keys.city_key
            && self.venue == keys.venue
            && self.network_id == keys.network_id
            && self.series_number == keys.series_number
            && self.parent_event_id == keys.parent_event_id
            && self.programme_id == keys.programme_id
    }
}

/// An event's columns that indexes, unique constraints and partial-index conditions read
/// (SQLite: `events_*_idx`, migration 000006 on; the search trigger reads `starts_at` and
/// `search_text`). SQLite rewrites the entry of every index that has a column in an
/// `UPDATE`'s `SET` list, changed or not: setting them all cost about eight extra pages per
/// update (each written to the WAL and synced), where a change of the description alone
/// needs about two.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = events)]
pub(super) struct EventKeys {
    slug: String,
    kind: String,
    status: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    starts_at: Timestamp,
    ends_at: Timestamp,
    visibility: String,
    country_code: Option<String>,
    city_key: Option<String>,
    venue: Option<String>,
    pub(super) network_id: Option<NetworkId>,
    series_number: Option<i32>,
    pub(super) parent_event_id: Option<EventId>,
    pub(super) programme_id: Option<ProgrammeId>,
}

/// See [`EventColumns::payload`]; one SQL text, so it is kept prepared like the full update.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub(super) struct EventPayload {
    title: String,
    start_time: Option<NaiveTime>,
    end_time: Option<NaiveTime>,
    timezone: String,
    city: Option<String>,
    address: Option<String>,
    attendance_mode: &'static str,
    description: Option<String>,
    topics: String,
    links: String,
    search_text: String,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(EventPayload, event_payload_has_one_sql_text);

/// A new event's row; `version` and `chain_id` keep their defaults (1 and none). Its `None`s
/// are bound as `NULL` too: with diesel's default the embedded columns would count as ones
/// that may take `DEFAULT`, and SQLite would insert a slice of rows one statement each.
#[derive(Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
pub struct NewEventRow {
    pub id: EventId,
    pub created_at: Timestamp,
    #[diesel(embed)]
    pub columns: EventColumns,
}

/// References of an event, resolved to ids.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub network_id: Option<NetworkId>,
    pub parent_event_id: Option<EventId>,
    pub programme_id: Option<ProgrammeId>,
    /// The events this one precedes, in the order written.
    pub precedes: Vec<EventId>,
    pub organisers: Vec<(OrganisationId, OrganiserRole)>,
    pub participants: Vec<(Option<PersonId>, Option<OrganisationId>, ParticipantRole)>,
}

/// Everything written for a new event: its row and the rows of its relations.
pub struct EventRows<'a> {
    pub event: NewEventRow,
    pub relations: Relations<'a>,
}

/// The rows a new event is stored as, `id` and `slug` already chosen.
pub fn event_rows<'a>(
    id: EventId,
    event: &'a ValidEvent,
    refs: &'a Resolved,
    slug: String,
    now: Timestamp,
) -> EventRows<'a> {
    EventRows {
        event: NewEventRow {
            id,
            created_at: now,
            columns: columns(event, slug, refs, now),
        },
        relations: Relations { id, event, refs },
    }
}

/// A row of `event_topics`: one per topic key, carrying the event's span.
#[derive(Debug, Insertable)]
#[diesel(table_name = event_topics, treat_none_as_default_value = false)]
pub struct TopicRow {
    pub event_id: EventId,
    pub topic_key: String,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

/// A row of `event_organisers`, in the order the event lists them.
#[derive(Debug, Insertable)]
#[diesel(table_name = event_organisers, treat_none_as_default_value = false)]
pub struct OrganiserRow {
    pub event_id: EventId,
    pub organisation_id: OrganisationId,
    pub role: &'static str,
    pub position: i32,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

/// A row of `event_participants`, in the order the event lists them.
#[derive(Debug, Insertable)]
#[diesel(table_name = event_participants, treat_none_as_default_value = false)]
pub struct ParticipantRow {
    pub event_id: EventId,
    pub position: i32,
    pub person_id: Option<PersonId>,
    pub organisation_id: Option<OrganisationId>,
    pub role: &'static str,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

/// An event's topic, organiser and participant rows, made as they are iterated (a write inserts
/// them one by one, a bulk load collects them).
#[derive(Clone, Copy)]
pub struct Relations<'a> {
    id: EventId,
    event: &'a ValidEvent,
    refs: &'a Resolved,
}

impl<'a> Relations<'a> {
    pub fn new(id: EventId, event: &'a ValidEvent, refs: &'a Resolved) -> Self {
        Self { id, event, refs }
    }

    pub fn event_id(&self) -> EventId {
        self.id
    }

    /// The event's span, which every relation row carries for the list filters.
    fn span(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        let (starts_at, ends_at) = stored_span(self.event);
        (Some(starts_at), Some(ends_at))
    }

    pub fn topics(&self) -> impl Iterator<Item = TopicRow> + use<'a> {
        let (event_id, (starts_at, ends_at)) = (self.id, self.span());
        self.event
            .topic_keys()
            .into_iter()
            .map(move |topic_key| TopicRow {
                event_id,
                topic_key,
                starts_at,
                ends_at,
            })
    }

    pub fn organisers(&self) -> impl Iterator<Item = OrganiserRow> + use<'a> {
        let (event_id, (starts_at, ends_at)) = (self.id, self.span());
        self.refs
            .organisers
            .iter()
            .zip(0..)
            .map(move |(&(organisation_id, role), position)| OrganiserRow {
                event_id,
                organisation_id,
                role: role.as_str(),
                position,
                starts_at,
                ends_at,
            })
    }

    pub fn participants(&self) -> impl Iterator<Item = ParticipantRow> + use<'a> {
        let (event_id, (starts_at, ends_at)) = (self.id, self.span());
        self.refs.participants.iter().zip(0..).map(
            move |(&(person_id, organisation_id, role), position)| ParticipantRow {
                event_id,
                position,
                person_id,
                organisation_id,
                role: role.as_str(),
                starts_at,
                ends_at,
            },
        )
    }
}

/// The columns stored for `event` (with `slug` chosen and `refs` resolved), as of `now`.
pub fn columns(event: &ValidEvent, slug: String, refs: &Resolved, now: Timestamp) -> EventColumns {
    let (starts_at, ends_at) = stored_span(event);
    EventColumns {
        slug,
        title: event.title.clone(),
        kind: event.kind.as_str(),
        status: event.status.as_str(),
        start_date: event.start_date.unwrap_or(UNDATED_DAY),
        end_date: event.end_date.unwrap_or(UNDATED_DAY),
        start_time: event.start_time.map(LocalTime::get),
        end_time: event.end_time.map(LocalTime::get),
        timezone: event.timezone.map_or("", |tz| tz.name()).to_owned(),
        starts_at,
        ends_at,
        venue: event.location.venue.clone(),
        city: event.location.city.clone(),
        city_key: event.city_key(),
        country_code: event.location.country_code.as_ref().map(|c| c.to_string()),
        address: event.location.address.clone(),
        attendance_mode: event.attendance_mode.as_str(),
        network_id: refs.network_id,
        series_number: event.series_number,
        parent_event_id: refs.parent_event_id,
        programme_id: refs.programme_id,
        description: event.description.clone(),
        topics: serde_json::to_string(&event.topics).unwrap_or_else(|_| "[]".into()),
        links: serde_json::to_string(&event.links).unwrap_or_else(|_| "[]".into()),
        visibility: event.visibility.as_str(),
        search_text: event.search_text(),
        updated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use diesel::sqlite::Sqlite;

    use super::*;
    use crate::domain::event::EventInput;

    fn event() -> ValidEvent {
        serde_json::from_value::<EventInput>(serde_json::json!({
            "title": "Regional conference on radicalisation in prisons",
            "kind": "conference",
            "start_date": "2019-10-22",
            "timezone": "Europe/Sarajevo",
            "topics": ["P-CVE", "p-cve", "prisons"]
        }))
        .expect("valid input")
        .validate()
        .expect("valid event")
    }

    /// `registry-generate` inserts many rows a statement; SQLite would split the statement
    /// into one a row (`BEGIN; … COMMIT;`) if any column could take `DEFAULT`.
    #[test]
    fn rows_of_many_events_are_one_insert() {
        let (event, refs) = (event(), Resolved::default());
        let now = Timestamp::now();
        let rows: Vec<NewEventRow> = ["a", "b"]
            .map(|slug| event_rows(EventId::generate(), &event, &refs, slug.into(), now).event)
            .into();
        let sql =
            diesel::debug_query::<Sqlite, _>(&diesel::insert_into(events::table).values(&rows))
                .to_string();
        assert!(sql.starts_with("INSERT INTO"), "{sql}");
        let rows = event_rows(EventId::generate(), &event, &refs, "c".into(), now);
        let topics: Vec<TopicRow> = rows.relations.topics().collect();
        assert_eq!(topics.len(), 2, "one row per topic key");
        let sql = diesel::debug_query::<Sqlite, _>(
            &diesel::insert_into(event_topics::table).values(&topics),
        )
        .to_string();
        assert!(sql.starts_with("INSERT INTO"), "{sql}");
    }
}
