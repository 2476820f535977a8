//! Events: storage, the rules that need the database, and the read model a page needs.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::cache::Derived;
use crate::db::schema::{
    chains, event_organisers, event_participants, event_topics, events, networks, organisations,
    people,
};
use crate::db::sql_types::PortableUuid;
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::event::{
    EventInput, Link, LocationInput, MAX_DURATION_DAYS, OrganiserInput, ParticipantInput,
    ParticipantRef, ValidEvent,
};
use crate::domain::text::{fold, like_pattern};
use crate::domain::time::LocalTime;
use crate::error::{ApiError, FieldError, RecordRef, RuleViolation};
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId};
use crate::store::pagination::{Cursor, split_page};
use crate::store::party_walk::{Party, PartyWalk};
use crate::store::resource::{Resource, TopLevel};
use crate::store::{Summary, Viewer, choose_slug, lookup};

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
    fn key(&self) -> (Timestamp, EventId) {
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
    pub description: Option<String>,
    pub topics: String,
    pub links: String,
    pub visibility: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// The columns a write sets; `None` clears a column.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
struct EventColumns {
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
    network_id: Option<NetworkId>,
    series_number: Option<i32>,
    parent_event_id: Option<EventId>,
    description: Option<String>,
    topics: String,
    links: String,
    visibility: &'static str,
    search_text: String,
    updated_at: Timestamp,
}

impl EventColumns {
    /// The columns no index, unique constraint or trigger condition reads, with `updated_at`
    /// (whose index is appended to): all an update writes when [`EventKeys`] are unchanged.
    fn payload(self) -> EventPayload {
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
    fn same_keys(&self, keys: &EventKeys) -> bool {
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
struct EventKeys {
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
    network_id: Option<NetworkId>,
    series_number: Option<i32>,
    parent_event_id: Option<EventId>,
}

/// See [`EventColumns::payload`]; one SQL text, so it is kept prepared like the full update.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
struct EventPayload {
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

#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewEventRow {
    id: EventId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: EventColumns,
}

/// Where an event takes place.
/// Where an event takes place; every field is `null` when not known.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Location {
    /// The building or room.
    #[schema(example = "EU House")]
    pub venue: Option<String>,
    /// The city.
    #[schema(example = "Tirana")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2, upper case; `XK` for Kosovo.
    #[schema(example = "AL")]
    pub country_code: Option<String>,
    /// The street address.
    pub address: Option<String>,
}

/// A short summary of an event another record refers to.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventSummary {
    /// The event's id.
    pub id: EventId,
    /// The event's slug; usable wherever its id is.
    #[schema(example = "iisg-board-4")]
    pub slug: String,
    /// The event's title.
    #[schema(example = "4th IISG Board Meeting")]
    pub title: String,
    /// Its first day (`YYYY-MM-DD`, local to the event's time zone).
    #[schema(example = "2019-11-18")]
    pub start_date: NaiveDate,
}

/// An organisation's part in organising an event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrganiserResponse {
    /// The organisation's id.
    pub organisation_id: OrganisationId,
    /// Its part.
    pub role: OrganiserRole,
    /// The organisation, summarised.
    pub organisation: Summary,
}

/// A person's or an organisation's part in an event: exactly one of `person_id` and
/// `organisation_id` is set.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ParticipantResponse {
    /// The person's id when a person takes part, else `null`.
    pub person_id: Option<PersonId>,
    /// The organisation's id when an organisation takes part, else `null`.
    pub organisation_id: Option<OrganisationId>,
    /// The part they play.
    pub role: ParticipantRole,
    /// The person, or the organisation, taking part.
    pub participant: Summary,
}

/// An event's place in its chain of back-to-back events.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChainPosition {
    /// The chain's id.
    pub chain_id: ChainId,
    /// The chain's slug.
    #[schema(example = "tirana-april-2019")]
    pub slug: String,
    /// The chain's title.
    #[schema(example = "Back-to-back P-CVE meetings, Tirana, April 2019")]
    pub title: String,
    /// This event's place in the chain, 1-based, by start.
    #[schema(example = 2)]
    pub position: i32,
    /// The event just before this one in the chain; `null` for the first.
    pub previous_event_id: Option<EventId>,
    /// The event just before this one in the chain, summarised; `null` for the first.
    pub previous_event: Option<EventSummary>,
    /// The event just after this one in the chain; `null` for the last.
    pub next_event_id: Option<EventId>,
    /// The event after this one in the chain.
    pub next_event: Option<EventSummary>,
}

/// An event with everything a page about it needs: the records it refers to are embedded as
/// summaries, and its place in a chain is given.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventResponse {
    /// The event's id; read-only.
    pub id: EventId,
    /// Unique among events; usable wherever the id is.
    #[schema(example = "iisg-board-4")]
    pub slug: String,
    /// The event's name.
    #[schema(example = "4th IISG Board Meeting")]
    pub title: String,
    /// What kind of event this is.
    pub kind: EventKind,
    /// Where the event stands.
    pub status: EventStatus,
    /// The first day (`YYYY-MM-DD`), local to `timezone`.
    #[schema(example = "2019-11-18")]
    pub start_date: NaiveDate,
    /// The last day (`YYYY-MM-DD`, inclusive), local to `timezone`; equal to `start_date` for
    /// a one-day event.
    #[schema(example = "2019-11-18")]
    pub end_date: NaiveDate,
    /// The local start time on `start_date` (`HH:MM`, 24-hour); `null` for an all-day event.
    pub start_time: Option<LocalTime>,
    /// The local end time on `end_date` (`HH:MM`, 24-hour); `null` when the event runs to the
    /// end of its last day.
    pub end_time: Option<LocalTime>,
    /// The IANA time zone the dates and times are local to.
    #[schema(example = "Europe/Skopje")]
    pub timezone: String,
    /// Derived, read-only: the start as an RFC 3339 UTC instant (local midnight of
    /// `start_date` when there is no `start_time`).
    #[serde(with = "crate::domain::time::instant")]
    pub starts_at: DateTime<Utc>,
    /// Derived, read-only: the end as an RFC 3339 UTC instant (the local midnight after
    /// `end_date` when there is no `end_time`).
    #[serde(with = "crate::domain::time::instant")]
    pub ends_at: DateTime<Utc>,
    /// Where the event takes place.
    pub location: Location,
    /// How people attend.
    pub attendance_mode: AttendanceMode,
    /// The network whose meeting this is; `null` when it is no network's meeting.
    pub network_id: Option<NetworkId>,
    /// That network, summarised; `null` with `network_id`.
    pub network: Option<Summary>,
    /// The meeting's number in its network's series (`4` for the "4th meeting"); `null` when
    /// not numbered.
    #[schema(example = 4)]
    pub series_number: Option<i32>,
    /// The event this one is a session of; `null` for a top-level event.
    pub parent_event_id: Option<EventId>,
    /// That event, summarised; `null` with `parent_event_id`.
    pub parent_event: Option<EventSummary>,
    /// The organisations that organise, host, fund or support it.
    pub organisers: Vec<OrganiserResponse>,
    /// The people and organisations taking part, with their parts.
    pub participants: Vec<ParticipantResponse>,
    /// Free keywords, as written.
    #[schema(example = json!(["iisg", "terms-of-reference"]))]
    pub topics: Vec<String>,
    /// Free text; `null` when there is none.
    pub description: Option<String>,
    /// Links about the event.
    pub links: Vec<Link>,
    /// Who may see it.
    pub visibility: Visibility,
    /// The event's place in its chain of back-to-back events; `null` when it is in none.
    pub chain: Option<ChainPosition>,
    /// When the event was created (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When the event last changed (RFC 3339, UTC), joining or leaving a chain included;
    /// read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change (joining or leaving a chain
    /// included). Send the `ETag` in `If-Match` to guard a write.
    pub version: i32,
}

/// How a list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSort {
    Start,
    StartDescending,
    Updated,
}

impl EventSort {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "start" => Some(Self::Start),
            "-start" => Some(Self::StartDescending),
            "updated" => Some(Self::Updated),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::StartDescending => "-start",
            Self::Updated => "updated",
        }
    }
}

/// The filters of `GET /events`, parsed.
#[derive(Debug, Clone)]
pub struct EventFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub kinds: Vec<EventKind>,
    pub statuses: Vec<EventStatus>,
    pub topic: Option<String>,
    pub q: Option<String>,
    pub updated_since: Option<Timestamp>,
    pub network: Option<String>,
    pub organisation: Option<String>,
    pub person: Option<String>,
    pub chain: Option<String>,
    pub sort: EventSort,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// The events of this page, in the order asked for.
    pub items: Vec<EventResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The event with this id or slug, as `viewer` may see it.
pub fn get(conn: &mut AnyConnection, key: &str, viewer: Viewer) -> Result<EventResponse, ApiError> {
    let row = find_row(conn, key, viewer)?;
    let mut details = load_details(conn, vec![row], viewer)?;
    details
        .pop()
        .ok_or_else(|| ApiError::not_found("event", key))
}

fn find_row(conn: &mut AnyConnection, key: &str, viewer: Viewer) -> Result<EventRow, ApiError> {
    // Static (not boxed) queries, so diesel keeps them prepared.
    let row: Option<EventRow> = match lookup::Key::parse(key) {
        lookup::Key::Id(id) => crate::native!(conn, |c| events::table
            .filter(events::id.eq(EventId(id)))
            .select(EventRow::as_select())
            .first(c)
            .optional())?,
        lookup::Key::Slug(slug) => crate::native!(conn, |c| events::table
            .filter(events::slug.eq(slug))
            .select(EventRow::as_select())
            .first(c)
            .optional())?,
        lookup::Key::Nothing => None,
    };
    row.filter(|row| viewer.sees_internal || row.visibility == Visibility::Public.as_str())
        .ok_or_else(|| ApiError::not_found("event", key))
}

/// One page of events matching `filter`.
pub fn list(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    viewer: Viewer,
) -> Result<EventPage, ApiError> {
    let ListedRows {
        rows: keys,
        next_cursor,
        ..
    } = list_rows(conn, filter, viewer, None)?;
    let ids: Vec<EventId> = keys.iter().map(|k| k.id).collect();
    let rows = rows_by_id(conn, &ids)?;
    let items = load_details(conn, rows, viewer)?;
    Ok(EventPage { items, next_cursor })
}

/// The rows of `ids`, in that order (ids no longer there are left out).
pub fn rows_by_id(conn: &mut AnyConnection, ids: &[EventId]) -> Result<Vec<EventRow>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<EventId, EventRow> = crate::native!(conn, |c| by_ids!(
        events::table.into_boxed(),
        events::id,
        ids
    )
    .select(EventRow::as_select())
    .load::<EventRow>(c))?
    .into_iter()
    .map(|row| (row.id, row))
    .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Events whose local dates span more than this many days are "long": few, and indexed apart
/// (`events_long_idx`), so a date window needs widening by this much, not by a year.
pub const SHORT_SPAN_DAYS: i64 = 14;

/// The condition of `events_long_idx`, spelled as the index spells it on each backend (a
/// partial index serves only a query that repeats its condition). An expression of its own,
/// not a `sql()` literal, so that diesel keeps the statements using it prepared.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct LongSpan;

impl diesel::expression::Expression for LongSpan {
    type SqlType = diesel::sql_types::Bool;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for LongSpan {}

impl<QS> diesel::expression::SelectableExpression<QS> for LongSpan {}

impl diesel::expression::ValidGrouping<()> for LongSpan {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<crate::db::MultiBackend> for LongSpan {
    fn walk_ast<'b>(
        &'b self,
        mut pass: diesel::query_builder::AstPass<'_, 'b, crate::db::MultiBackend>,
    ) -> QueryResult<()> {
        pass.push_sql(match pass.backend() {
            crate::db::MultiBackend::Sqlite(_) => {
                "julianday(events.end_date) - julianday(events.start_date) > 14"
            }
            crate::db::MultiBackend::Postgresql(_) => "events.end_date - events.start_date > 14",
        });
        Ok(())
    }
}

/// Long events in a window beyond which one year-wide query is cheaper than naming them.
const LONG_IDS_AT_ONCE: i64 = 500;

/// The long events that start in a window, for queries about events overlapping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LongEvents {
    /// These (often none): a query for them by id is cheap.
    Named(Vec<EventId>),
    /// More than [`LONG_IDS_AT_ONCE`]: a window widened by the longest an event may last is
    /// the better plan.
    TooMany,
}

/// The long events starting at or after `starts_from` (and before `starts_before`). Ordered by
/// start, which makes PostgreSQL read their (small) partial index: without the order, guessing
/// a third of all events long, it scans the table.
pub fn long_events(
    conn: &mut AnyConnection,
    starts_from: Timestamp,
    starts_before: Option<Timestamp>,
) -> Result<LongEvents, ApiError> {
    let mut query = events::table
        .filter(LongSpan)
        .filter(events::starts_at.ge(starts_from))
        .select(events::id)
        .order((events::starts_at, events::id))
        .limit(LONG_IDS_AT_ONCE + 1)
        .into_boxed();
    if let Some(before) = starts_before {
        query = query.filter(events::starts_at.lt(before));
    }
    let ids: Vec<EventId> = query.load(conn)?;
    Ok(if ids.len() as i64 > LONG_IDS_AT_ONCE {
        LongEvents::TooMany
    } else {
        LongEvents::Named(ids)
    })
}

/// Which events a date-window query looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    /// No window: all of them.
    Any,
    /// Events of at most [`SHORT_SPAN_DAYS`], in a window widened by that much (others that
    /// start in it are found too).
    Short,
    /// The long events named by id, or, when there are too many to name, every event in a
    /// window widened by the longest an event may last.
    Long,
}

/// How `q` is matched.
enum Text {
    /// No `q` (or one that folds to nothing).
    Any,
    /// A LIKE pattern: on PostgreSQL (its trigram index serves it), and on SQLite for one or
    /// two characters.
    Like(String),
    /// An FTS5 phrase for SQLite's trigram index, which finds the substring.
    Indexed(String),
}

impl Text {
    fn of(conn: &AnyConnection, q: &str) -> Self {
        let folded = fold(q);
        if folded.is_empty() {
            Self::Any
        } else if matches!(conn, AnyConnection::Sqlite(_)) && folded.chars().count() >= 3 {
            // A quoted phrase matches literally.
            Self::Indexed(format!("\"{}\"", folded.replace('"', "\"\"")))
        } else {
            Self::Like(like_pattern(&folded))
        }
    }
}

/// The earliest start an event of `span` overlapping `from` may have.
fn span_start(from: NaiveDate, span: Span) -> Timestamp {
    let widen = match span {
        Span::Short | Span::Any => SHORT_SPAN_DAYS,
        Span::Long => MAX_DURATION_DAYS,
    };
    // Two more days cover every UTC offset.
    utc_midnight(from - chrono::Duration::days(widen + 2))
}

/// The earliest start any event overlapping `from` may have, however long it lasts.
pub fn overlap_start(from: NaiveDate) -> Timestamp {
    span_start(from, Span::Long)
}

/// A bound past every start of an event that begins on or before `to`, in any time zone.
pub fn span_end(to: NaiveDate) -> Timestamp {
    utc_midnight(to + chrono::Duration::days(2))
}

/// Whether a span's text search walks the text index in start order: every list ordered by
/// start, except the span of long events when they are few enough to name.
fn walks_index(sort: EventSort, span: Span, long_ids: &[EventId]) -> bool {
    sort != EventSort::Updated && (span != Span::Long || long_ids.is_empty())
}

/// Orders a page's keys as the list is ordered, drops repeats and keeps the first `want`.
fn order_page(rows: &mut Vec<PageKey>, sort: EventSort, want: i64) {
    rows.sort_by_key(PageKey::key);
    rows.dedup_by_key(|row| row.id);
    if sort == EventSort::StartDescending {
        rows.reverse();
    }
    rows.truncate(usize::try_from(want).unwrap_or(usize::MAX));
}

/// The most text-index matches read in one step of a walk.
const TEXT_BATCH_MAX: i64 = 4096;

/// The most candidates a party's walk reads from an index in one step.
const PARTY_BATCH_MAX: i64 = 4096;

/// The easternmost UTC offset, in hours (Pacific/Kiritimati).
const MAX_UTC_OFFSET_HOURS: i64 = 14;

/// Keys of the text index (`events.search_key`, see migration 000008) are the start's Unix
/// second times 2^24 plus a sequence number.
const SECOND_IN_KEYS: i64 = 1 << 24;

fn key_of_second(second: i64) -> i64 {
    second.saturating_mul(SECOND_IN_KEYS)
}

/// The part of the text index a walk has still to read: keys in `low..high`.
struct KeyRange {
    low: i64,
    high: i64,
}

impl KeyRange {
    /// The keys of events a span may hold. Bounds are a second wider than needed, so the
    /// rounding of SQLite's `unixepoch` and chrono's timestamps never matters.
    fn of(filter: &EventFilter, span: Span, cursor: Option<Timestamp>) -> Self {
        let second = |at: Timestamp| at.get().timestamp();
        let mut range = Self {
            low: i64::MIN,
            high: i64::MAX,
        };
        if let Some(from) = filter.from {
            range.low = range
                .low
                .max(key_of_second(second(span_start(from, span)) - 1));
        }
        if let Some(to) = filter.to {
            range.high = range.high.min(key_of_second(second(span_end(to)) + 2));
        }
        if let Some(at) = cursor {
            match filter.sort {
                EventSort::Start => range.low = range.low.max(key_of_second(second(at) - 1)),
                EventSort::StartDescending => {
                    range.high = range.high.min(key_of_second(second(at) + 2));
                }
                EventSort::Updated => {}
            }
        }
        range
    }

    fn is_empty(&self) -> bool {
        self.low >= self.high
    }

    /// The next (at most) `batch` keys matching `phrase`, in the list's order, taking them off
    /// the range.
    fn next_matches(
        &mut self,
        conn: &mut AnyConnection,
        phrase: &str,
        sort: EventSort,
        batch: i64,
    ) -> Result<Vec<i64>, ApiError> {
        #[derive(QueryableByName)]
        struct Match {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            rowid: i64,
        }
        if self.is_empty() {
            return Ok(Vec::new());
        }
        let descending = sort == EventSort::StartDescending;
        let sql = if descending {
            "SELECT rowid FROM events_search WHERE events_search MATCH ? \
             AND rowid >= ? AND rowid < ? ORDER BY rowid DESC LIMIT ?"
        } else {
            "SELECT rowid FROM events_search WHERE events_search MATCH ? \
             AND rowid >= ? AND rowid < ? ORDER BY rowid LIMIT ?"
        };
        let keys: Vec<i64> = diesel::sql_query(sql)
            .bind::<diesel::sql_types::Text, _>(phrase)
            .bind::<diesel::sql_types::BigInt, _>(self.low)
            .bind::<diesel::sql_types::BigInt, _>(self.high)
            .bind::<diesel::sql_types::BigInt, _>(batch)
            .load::<Match>(conn)?
            .into_iter()
            .map(|m| m.rowid)
            .collect();
        match keys.last() {
            Some(&last) if (keys.len() as i64) == batch => {
                if descending {
                    self.high = last;
                } else {
                    self.low = last + 1;
                }
            }
            // Fewer than asked for: the range is read to its end.
            _ => self.low = self.high,
        }
        Ok(keys)
    }

    /// Shrinks the range to the rest of the second the key `last` belongs to.
    fn end_with_second_of(&mut self, last: i64, sort: EventSort) {
        let second = last.div_euclid(SECOND_IN_KEYS);
        if sort == EventSort::StartDescending {
            self.low = self.low.max(key_of_second(second));
        } else {
            self.high = self.high.min(key_of_second(second + 1));
        }
    }
}

/// The rows of one page of events matching `filter`, the cursor of the next page, and the
/// registry's generation they were read at.
pub struct ListedRows {
    pub rows: Vec<PageKey>,
    pub next_cursor: Option<String>,
    pub generation: i64,
}

/// The current generation, as a column of a page's query: a list costs one statement less
/// than asking for it apart. An expression of its own, like [`LongSpan`], so the statement
/// stays prepared; both backends compute the subquery once per statement.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
struct ReadAt;

impl diesel::expression::Expression for ReadAt {
    type SqlType = diesel::sql_types::BigInt;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for ReadAt {}

impl<QS> diesel::expression::SelectableExpression<QS> for ReadAt {}

impl diesel::expression::ValidGrouping<()> for ReadAt {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<crate::db::MultiBackend> for ReadAt {
    fn walk_ast<'b>(
        &'b self,
        mut pass: diesel::query_builder::AstPass<'_, 'b, crate::db::MultiBackend>,
    ) -> QueryResult<()> {
        pass.push_sql("(SELECT generation FROM registry_state WHERE id = 1)");
        Ok(())
    }
}

/// Everything a page's queries filter by, resolved.
struct PageQuery<'a> {
    filter: &'a EventFilter,
    viewer: Viewer,
    text: Text,
    cursor: Option<(Timestamp, EventId)>,
    network: Option<Option<NetworkId>>,
    chain: Option<Option<ChainId>>,
    organisation: Option<Option<OrganisationId>>,
    person: Option<Option<PersonId>>,
}

/// One page of events. `long_events_kept` keeps the long events of each `from` window for
/// the generation they were read at: a list then trusts the last answer, and the generation
/// its page is read at (a column of the page's query) says whether that was right; only
/// after a write does it ask again.
pub fn list_rows(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    viewer: Viewer,
    long_events_kept: Option<&Derived<Timestamp, LongEvents>>,
) -> Result<ListedRows, ApiError> {
    // Each reference filter is resolved once, here; one naming nothing is a 422.
    let network = match &filter.network {
        Some(key) => Some(Some(lookup::filter_target(
            "network",
            "network",
            key,
            lookup::network_id(conn, key)?,
        )?)),
        None => None,
    };
    let chain = match &filter.chain {
        Some(key) => Some(Some(lookup::filter_target(
            "chain",
            "chain",
            key,
            lookup::chain_id(conn, key)?,
        )?)),
        None => None,
    };
    let organisation = match &filter.organisation {
        Some(key) => Some(Some(lookup::filter_target(
            "organisation",
            "organisation",
            key,
            lookup::organisation_id(conn, key)?,
        )?)),
        None => None,
    };
    let person = match &filter.person {
        Some(key) => Some(Some(lookup::filter_target(
            "person",
            "person",
            key,
            lookup::person_id(conn, key)?,
        )?)),
        None => None,
    };
    let cursor = match &filter.cursor {
        Some(text) => {
            let cursor = Cursor::<String>::decode(text, filter.sort.name())?;
            let key = Timestamp::parse_sortable(&cursor.key).ok_or_else(|| {
                ApiError::bad_parameter("cursor", "is not a cursor this list issued")
            })?;
            Some((key, EventId(cursor.id)))
        }
        None => None,
    };
    let text = match &filter.q {
        Some(q) => Text::of(conn, q),
        None => Text::Any,
    };
    let query = PageQuery {
        filter,
        viewer,
        text,
        cursor,
        network,
        chain,
        organisation,
        person,
    };
    // With a `from` date, events that end on or after it started at most their own length
    // before it: short events in a window two weeks wide, long ones through their index.
    let earliest = filter.from.map(overlap_start);
    if let (Some(earliest), Some(kept)) = (earliest, long_events_kept)
        && let Some((kept_at, long)) = kept.get(&earliest)
    {
        let (rows, read_at) = page_rows_planned(conn, &query, Some(&long))?;
        // Generations only grow: a page read at the generation the long events were read at
        // saw the registry they describe.
        let read_at = match read_at {
            Some(read_at) => read_at,
            None => crate::db::generation(conn)?,
        };
        if read_at == kept_at {
            return Ok(finish_page(filter, rows, read_at));
        }
    }
    let (long, read_before) = match earliest {
        None => (None, None),
        Some(earliest) => {
            // Read before the long events, so they are at least as new as it says.
            let read_before = crate::db::generation(conn)?;
            let long = long_events(conn, earliest, None)?;
            let long = match long_events_kept {
                Some(kept) => kept.insert(earliest, read_before, long),
                None => Arc::new(long),
            };
            (Some(long), Some(read_before))
        }
    };
    let (rows, read_at) = page_rows_planned(conn, &query, long.as_deref())?;
    let generation = match read_before.or(read_at) {
        Some(generation) => generation,
        None => crate::db::generation(conn)?,
    };
    Ok(finish_page(filter, rows, generation))
}

fn finish_page(filter: &EventFilter, rows: Vec<PageKey>, generation: i64) -> ListedRows {
    let sort = filter.sort;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: sort.name().to_owned(),
            key: row.at.to_sortable_string(),
            id: row.id.0,
        }
        .encode()
    });
    ListedRows {
        rows,
        next_cursor,
        generation,
    }
}

/// [`page_rows`], planned for its values where that matters. PostgreSQL connections keep
/// generic plans (db::ConnectionManager), but how many events a `q` pattern matches decides
/// between the trigram index (a rare term) and a walk in start order (a frequent one), and a
/// generic plan picks one of them for every pattern, so a `q` page is planned for its pattern,
/// in a transaction of its own that says so.
fn page_rows_planned(
    conn: &mut AnyConnection,
    query: &PageQuery<'_>,
    long: Option<&LongEvents>,
) -> Result<(Vec<PageKey>, Option<i64>), ApiError> {
    match (&*conn, &query.text) {
        (AnyConnection::Postgresql(_), Text::Like(_)) => conn.transaction(|conn| {
            diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
            page_rows(conn, query, long)
        }),
        _ => page_rows(conn, query, long),
    }
}

/// The rows of a page (one more than its size, when there are more), given the long events
/// of its window (for a list with `from`), and the generation the first rows were read at.
fn page_rows(
    conn: &mut AnyConnection,
    query: &PageQuery<'_>,
    long: Option<&LongEvents>,
) -> Result<(Vec<PageKey>, Option<i64>), ApiError> {
    let PageQuery {
        filter,
        viewer,
        ref text,
        cursor,
        network,
        chain,
        organisation,
        person,
    } = *query;
    let sort = filter.sort;
    let mut spans = vec![Span::Any];
    let mut long_ids: Vec<EventId> = Vec::new();
    match long {
        None => {}
        // Long events are few: their ids first, then (if any) a query for just those. Handing
        // the planner a subquery instead lets it scan a filter's index for a year.
        Some(LongEvents::TooMany) => spans = vec![Span::Long],
        Some(LongEvents::Named(ids)) if ids.is_empty() => spans = vec![Span::Short],
        Some(LongEvents::Named(ids)) => {
            long_ids = ids.clone();
            spans = vec![Span::Short, Span::Long];
        }
    }
    let topic_key = filter.topic.as_deref().map(fold);
    // A list by start filtered by a party walks that party's index (see `party_walk`): the
    // person's, else the organisation's, else the topic's.
    let party = match sort {
        EventSort::Updated => None,
        // A name that matches nothing (`None`) is left to the filter, which matches nothing.
        EventSort::Start | EventSort::StartDescending => person
            .flatten()
            .map(Party::Person)
            .or(organisation.flatten().map(Party::Organisation))
            .or(topic_key.as_deref().map(Party::Topic)),
    };
    let mut read_at: Option<i64> = None;
    let mut keys_of = |found: Vec<(PageKey, i64)>| -> Vec<PageKey> {
        if let Some(&(_, at)) = found.first() {
            read_at.get_or_insert(at);
        }
        found.into_iter().map(|(key, _)| key).collect()
    };
    // Every filter but the order and the limit, for one span; but for the party whose index
    // the span walks, if it does.
    let build = |span: Span, walked: Option<Party<'_>>| {
        let mut query = match sort {
            EventSort::Start | EventSort::StartDescending => events::table
                .select(((events::id, events::starts_at), ReadAt))
                .into_boxed(),
            EventSort::Updated => events::table
                .select(((events::id, events::updated_at), ReadAt))
                .into_boxed(),
        };
        if !viewer.sees_internal {
            query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
        }
        if let Some(from) = filter.from {
            // An event that ends on or after `from` started at most its own length before it;
            // two more days cover every UTC offset.
            query = query
                .filter(events::end_date.ge(from))
                .filter(events::starts_at.ge(span_start(from, span)));
            if span == Span::Long && !long_ids.is_empty() {
                query = query.filter(events::id.eq_any(long_ids.clone()));
            }
        }
        if let Some(to) = filter.to {
            query = query
                .filter(events::start_date.le(to))
                .filter(events::starts_at.lt(span_end(to)));
        }
        if let Some(city) = &filter.city {
            query = query.filter(events::city_key.eq(fold(city)));
        }
        if let Some(country) = &filter.country {
            query = query.filter(events::country_code.eq(country.clone()));
        }
        // One value is an equality, which PostgreSQL checks inside the index (an `= ANY`
        // on a later index column it checks on the row).
        match filter.kinds.as_slice() {
            [] => {}
            [kind] => query = query.filter(events::kind.eq(kind.as_str())),
            kinds => {
                let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                query = query.filter(events::kind.eq_any(kinds));
            }
        }
        match filter.statuses.as_slice() {
            [] => {}
            [status] => query = query.filter(events::status.eq(status.as_str())),
            statuses => {
                let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
                query = query.filter(events::status.eq_any(statuses));
            }
        }
        // Where the page's rows are a few named ones (the candidates of a walk, the long
        // events named by id), each is checked against a party's index; else the party's
        // events are read once.
        let few_rows = walked.is_some() || (span == Span::Long && !long_ids.is_empty());
        if let Some(topic) = topic_key.as_deref()
            && walked != Some(Party::Topic(topic))
        {
            query = if few_rows {
                query.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "EXISTS (SELECT 1 FROM event_topics \
                         WHERE event_topics.event_id = events.id AND event_topics.topic_key = ",
                    )
                    .bind::<diesel::sql_types::Text, _>(topic.to_owned())
                    .sql(")"),
                )
            } else {
                query.filter(
                    events::id.eq_any(
                        event_topics::table
                            .filter(event_topics::topic_key.eq(topic))
                            .select(event_topics::event_id),
                    ),
                )
            };
        }
        match text {
            Text::Any => {}
            Text::Like(pattern) => {
                query = query.filter(events::search_text.like(pattern.clone()).escape('\\'));
            }
            // The text index is walked in start order (see below), except for the few long
            // events named by id, each checked against it, and for `sort=updated`, which
            // reads all matches first.
            Text::Indexed(_) if walks_index(sort, span, &long_ids) => {}
            Text::Indexed(phrase) if span == Span::Long => {
                query = query.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "EXISTS (SELECT 1 FROM events_search WHERE events_search MATCH ",
                    )
                    .bind::<diesel::sql_types::Text, _>(phrase.clone())
                    .sql(" AND events_search.rowid = events.search_key)"),
                );
            }
            Text::Indexed(phrase) => {
                query = query.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "events.search_key IN (SELECT rowid FROM events_search \
                         WHERE events_search MATCH ",
                    )
                    .bind::<diesel::sql_types::Text, _>(phrase.clone())
                    .sql(")"),
                );
            }
        }
        if let Some(since) = filter.updated_since {
            query = query.filter(events::updated_at.ge(since));
        }
        if let Some(id) = network {
            query = query.filter(events::network_id.eq(id));
        }
        if let Some(id) = chain {
            query = query.filter(events::chain_id.eq(id));
        }
        // The walked party needs no filter: its index gave the candidates.
        let organisation =
            organisation.filter(|id| id.is_none() || walked != id.map(Party::Organisation));
        let person = person.filter(|id| id.is_none() || walked != id.map(Party::Person));
        if let Some(id) = organisation
            && few_rows
        {
            query = query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "(EXISTS (SELECT 1 FROM event_organisers \
                     WHERE event_organisers.event_id = events.id \
                     AND event_organisers.organisation_id = ",
                )
                .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
                .sql(
                    ") OR EXISTS (SELECT 1 FROM event_participants \
                     WHERE event_participants.event_id = events.id \
                     AND event_participants.organisation_id = ",
                )
                .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
                .sql("))"),
            );
        } else if let Some(id) = organisation {
            query = query.filter(
                events::id
                    .eq_any(
                        event_organisers::table
                            .filter(event_organisers::organisation_id.nullable().eq(id))
                            .select(event_organisers::event_id),
                    )
                    .or(events::id.eq_any(
                        event_participants::table
                            .filter(event_participants::organisation_id.eq(id))
                            .select(event_participants::event_id),
                    )),
            );
        }
        if let Some(id) = person
            && few_rows
        {
            query = query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "EXISTS (SELECT 1 FROM event_participants \
                     WHERE event_participants.event_id = events.id \
                     AND event_participants.person_id = ",
                )
                .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
                .sql(")"),
            );
        } else if let Some(id) = person {
            query = query.filter(
                events::id.eq_any(
                    event_participants::table
                        .filter(event_participants::person_id.eq(id))
                        .select(event_participants::event_id),
                ),
            );
        }
        if let Some((key, id)) = cursor {
            // The plain bound is implied by the exact one; it lets the index seek to the
            // cursor instead of reading every earlier event.
            query = match sort {
                EventSort::Start => query.filter(events::starts_at.ge(key)).filter(
                    events::starts_at
                        .gt(key)
                        .or(events::starts_at.eq(key).and(events::id.gt(id))),
                ),
                EventSort::StartDescending => query.filter(events::starts_at.le(key)).filter(
                    events::starts_at
                        .lt(key)
                        .or(events::starts_at.eq(key).and(events::id.lt(id))),
                ),
                EventSort::Updated => query.filter(events::updated_at.ge(key)).filter(
                    events::updated_at
                        .gt(key)
                        .or(events::updated_at.eq(key).and(events::id.gt(id))),
                ),
            };
        }
        match sort {
            EventSort::Start => query.order((events::starts_at.asc(), events::id.asc())),
            EventSort::StartDescending => {
                query.order((events::starts_at.desc(), events::id.desc()))
            }
            EventSort::Updated => query.order((events::updated_at.asc(), events::id.asc())),
        }
    };
    let want = filter.limit + 1;
    let mut rows: Vec<PageKey> = Vec::new();
    for &span in &spans {
        match &text {
            Text::Indexed(phrase) if walks_index(sort, span, &long_ids) => {
                // Matches come from the text index in start order, a batch at a time; each
                // batch is checked against the other filters, until a page is full.
                let mut range = KeyRange::of(filter, span, cursor.map(|(key, _)| key));
                let mut batch = want;
                let mut found: Vec<PageKey> = Vec::new();
                let mut last_round = false;
                loop {
                    let keys = range.next_matches(conn, phrase, sort, batch)?;
                    let Some(&last) = keys.last() else { break };
                    let keys = serde_json::to_string(&keys).map_err(ApiError::internal)?;
                    found.extend(keys_of(
                        build(span, None)
                            .filter(
                                diesel::dsl::sql::<diesel::sql_types::Bool>(
                                    "events.search_key IN (SELECT value FROM json_each(",
                                )
                                .bind::<diesel::sql_types::Text, _>(keys)
                                .sql("))"),
                            )
                            .limit(want)
                            .load::<(PageKey, i64)>(conn)?,
                    ));
                    order_page(&mut found, sort, want);
                    if last_round || range.is_empty() {
                        break;
                    }
                    if found.len() as i64 >= want {
                        // Events of the second the last match starts in may still come
                        // before the page's last one (keys order seconds, not ids): read them
                        // all, then stop.
                        range.end_with_second_of(last, sort);
                        batch = i64::MAX;
                        last_round = true;
                    } else {
                        batch = (batch * 2).min(TEXT_BATCH_MAX);
                    }
                }
                rows.extend(found);
            }
            // A party walks its index, as the text index is walked: in every span but one of
            // long events named by id, which reads just those.
            _ if let Some(party) = party
                && walks_index(sort, span, &long_ids) =>
            {
                let cursor_at = cursor.map(|(key, _)| key);
                // An event that ends on or after `from` (a local date) ends at or after
                // midnight of `from` in the easternmost time zone (UTC+14): the tightest bound
                // its end instant gives. Events that end on the day before `from` in the
                // zones west of it still pass it, and the page's query leaves them out.
                let mut walk = PartyWalk::new(
                    party,
                    sort == EventSort::StartDescending,
                    (
                        filter.from.map(|from| span_start(from, span)),
                        filter.to.map(span_end),
                    ),
                    filter.from.map(|from| {
                        Timestamp::from(
                            utc_midnight(from).get()
                                - chrono::Duration::hours(MAX_UTC_OFFSET_HOURS),
                        )
                    }),
                    cursor_at,
                );
                // A little more than a page: a few candidates that fail the other filters (an
                // internal event, say) cost no second step, and every candidate costs a row.
                let mut batch = (want + want / 8 + 2).min(PARTY_BATCH_MAX);
                let mut found: Vec<PageKey> = Vec::new();
                let mut read = 0;
                while !walk.is_done() {
                    let ids = walk.next_batch(conn, batch)?;
                    read += ids.len() as i64;
                    if !ids.is_empty() {
                        found.extend(keys_of(
                            build(span, Some(party))
                                .filter(events::id.eq_any(ids))
                                .limit(want)
                                .load::<(PageKey, i64)>(conn)?,
                        ));
                        order_page(&mut found, sort, want);
                    }
                    // Every event of the party up to the last candidate has been checked, and
                    // the rest come after it.
                    let have = found.len() as i64;
                    if have >= want {
                        break;
                    }
                    // The next step reads what the rest of the page needs at the share of
                    // candidates that passed so far, with a quarter more; at most twice the
                    // last step. Candidates that fail come mostly first (those that ended
                    // just before `from`), so a page that came out a few short rarely needs
                    // the doubled step.
                    batch = if have > 0 {
                        let needed = read.saturating_mul(want - have) / have;
                        (needed + needed / 4 + 2).min(batch * 2)
                    } else {
                        batch * 2
                    }
                    .min(PARTY_BATCH_MAX);
                }
                rows.extend(found);
            }
            _ => rows.extend(keys_of(
                build(span, None).limit(want).load::<(PageKey, i64)>(conn)?,
            )),
        }
    }
    if spans.len() > 1 {
        // A long event may be in both answers.
        order_page(&mut rows, sort, want);
    }
    Ok((rows, read_at))
}

fn utc_midnight(day: NaiveDate) -> Timestamp {
    Timestamp::from(day.and_time(NaiveTime::MIN).and_utc())
}

/// Fills the read model of `rows` with a fixed number of queries, whatever the page size.
pub fn load_details(
    conn: &mut AnyConnection,
    rows: Vec<EventRow>,
    viewer: Viewer,
) -> Result<Vec<EventResponse>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<EventId> = rows.iter().map(|r| r.id).collect();

    let mut organisers: HashMap<EventId, Vec<OrganiserResponse>> = HashMap::new();
    let organiser_rows: Vec<(
        EventId,
        String,
        OrganisationId,
        String,
        String,
        Option<String>,
    )> = crate::native!(conn, |c| by_ids!(
        event_organisers::table
            .inner_join(organisations::table)
            .into_boxed(),
        event_organisers::event_id,
        ids.as_slice()
    )
    .order((event_organisers::event_id, event_organisers::position))
    .select((
        event_organisers::event_id,
        event_organisers::role,
        organisations::id,
        organisations::slug,
        organisations::name,
        organisations::acronym,
    ))
    .load(c))?;
    for (event_id, role, id, slug, name, acronym) in organiser_rows {
        organisers
            .entry(event_id)
            .or_default()
            .push(OrganiserResponse {
                organisation_id: id,
                role: OrganiserRole::parse(&role).ok_or_else(|| stored("organiser role", &role))?,
                organisation: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            });
    }

    let mut participants: HashMap<EventId, Vec<(i32, ParticipantResponse)>> = HashMap::new();
    let person_rows: Vec<(EventId, i32, String, PersonId, String, String)> =
        crate::native!(conn, |c| by_ids!(
            event_participants::table
                .inner_join(
                    people::table.on(event_participants::person_id.eq(people::id.nullable()))
                )
                .into_boxed(),
            event_participants::event_id,
            ids.as_slice()
        )
        .select((
            event_participants::event_id,
            event_participants::position,
            event_participants::role,
            people::id,
            people::slug,
            people::full_name,
        ))
        .load(c))?;
    for (event_id, position, role, id, slug, name) in person_rows {
        let role =
            ParticipantRole::parse(&role).ok_or_else(|| stored("participant role", &role))?;
        participants.entry(event_id).or_default().push((
            position,
            ParticipantResponse {
                person_id: Some(id),
                organisation_id: None,
                role,
                participant: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym: None,
                },
            },
        ));
    }
    type OrganisationParticipantRow = (
        EventId,
        i32,
        String,
        OrganisationId,
        String,
        String,
        Option<String>,
    );
    let organisation_rows: Vec<OrganisationParticipantRow> = crate::native!(conn, |c| by_ids!(
        event_participants::table
            .inner_join(
                organisations::table
                    .on(event_participants::organisation_id.eq(organisations::id.nullable())),
            )
            .into_boxed(),
        event_participants::event_id,
        ids.as_slice()
    )
    .select((
        event_participants::event_id,
        event_participants::position,
        event_participants::role,
        organisations::id,
        organisations::slug,
        organisations::name,
        organisations::acronym,
    ))
    .load(c))?;
    for (event_id, position, role, id, slug, name, acronym) in organisation_rows {
        let role =
            ParticipantRole::parse(&role).ok_or_else(|| stored("participant role", &role))?;
        participants.entry(event_id).or_default().push((
            position,
            ParticipantResponse {
                person_id: None,
                organisation_id: Some(id),
                role,
                participant: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            },
        ));
    }

    let network_ids: Vec<NetworkId> = rows.iter().filter_map(|r| r.network_id).collect();
    let networks: HashMap<NetworkId, Summary> = if network_ids.is_empty() {
        HashMap::new()
    } else {
        crate::native!(conn, |c| by_ids!(
            networks::table.into_boxed(),
            networks::id,
            network_ids.as_slice()
        )
        .select((
            networks::id,
            networks::slug,
            networks::name,
            networks::acronym,
        ))
        .load::<(NetworkId, String, String, Option<String>)>(c))?
        .into_iter()
        .map(|(id, slug, name, acronym)| {
            (
                id,
                Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            )
        })
        .collect()
    };

    let parent_ids: Vec<EventId> = rows.iter().filter_map(|r| r.parent_event_id).collect();
    let parents: HashMap<EventId, EventSummary> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        crate::native!(conn, |c| {
            let mut query = by_ids!(
                events::table.into_boxed(),
                events::id,
                parent_ids.as_slice()
            )
            .select((events::id, events::slug, events::title, events::start_date));
            if !viewer.sees_internal {
                query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
            }
            query.load::<(EventId, String, String, NaiveDate)>(c)
        })?
        .into_iter()
        .map(|(id, slug, title, start_date)| {
            (
                id,
                EventSummary {
                    id,
                    slug,
                    title,
                    start_date,
                },
            )
        })
        .collect()
    };

    let chain_positions = chain_positions(conn, &rows, viewer)?;

    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let mut these_participants = participants.remove(&id).unwrap_or_default();
            these_participants.sort_by_key(|(position, _)| *position);
            let parent_event = row.parent_event_id.and_then(|p| parents.get(&p).cloned());
            Ok(EventResponse {
                id,
                kind: EventKind::parse(&row.kind).ok_or_else(|| stored("kind", &row.kind))?,
                status: EventStatus::parse(&row.status)
                    .ok_or_else(|| stored("status", &row.status))?,
                start_time: row.start_time.map(LocalTime::from),
                end_time: row.end_time.map(LocalTime::from),
                starts_at: row.starts_at.get(),
                ends_at: row.ends_at.get(),
                location: Location {
                    venue: row.venue,
                    city: row.city,
                    country_code: row.country_code,
                    address: row.address,
                },
                attendance_mode: AttendanceMode::parse(&row.attendance_mode)
                    .ok_or_else(|| stored("attendance mode", &row.attendance_mode))?,
                network: row.network_id.and_then(|n| networks.get(&n).cloned()),
                network_id: row.network_id,
                series_number: row.series_number,
                // An internal parent does not exist for those who may not see it.
                parent_event_id: parent_event.as_ref().map(|p| p.id),
                parent_event,
                organisers: organisers.remove(&id).unwrap_or_default(),
                participants: these_participants.into_iter().map(|(_, p)| p).collect(),
                topics: serde_json::from_str(&row.topics).map_err(ApiError::internal)?,
                description: row.description,
                links: serde_json::from_str(&row.links).map_err(ApiError::internal)?,
                visibility: Visibility::parse(&row.visibility)
                    .ok_or_else(|| stored("visibility", &row.visibility))?,
                chain: chain_positions.get(&id).cloned(),
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
                slug: row.slug,
                title: row.title,
                start_date: row.start_date,
                end_date: row.end_date,
                timezone: row.timezone,
            })
        })
        .collect()
}

/// Each event's position in its chain, computed from the chain's members in start order.
fn chain_positions(
    conn: &mut AnyConnection,
    rows: &[EventRow],
    viewer: Viewer,
) -> Result<HashMap<EventId, ChainPosition>, ApiError> {
    let chain_ids: Vec<ChainId> = rows.iter().filter_map(|r| r.chain_id).collect();
    if chain_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let chain_info: HashMap<ChainId, (String, String)> = crate::native!(conn, |c| by_ids!(
        chains::table.into_boxed(),
        chains::id,
        chain_ids.as_slice()
    )
    .select((chains::id, chains::slug, chains::title))
    .load::<(ChainId, String, String)>(c))?
    .into_iter()
    .map(|(id, slug, title)| (id, (slug, title)))
    .collect();
    let chain_keys: Vec<Option<ChainId>> = chain_ids.iter().map(|c| Some(*c)).collect();
    let members: Vec<(Option<ChainId>, EventId, String, String, NaiveDate)> =
        crate::native!(conn, |c| {
            let mut query = by_ids!(
                events::table.into_boxed(),
                events::chain_id,
                chain_keys.as_slice()
            )
            .order((events::starts_at.asc(), events::id.asc()))
            .select((
                events::chain_id,
                events::id,
                events::slug,
                events::title,
                events::start_date,
            ));
            if !viewer.sees_internal {
                query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
            }
            query.load(c)
        })?;
    let mut by_chain: HashMap<ChainId, Vec<EventSummary>> = HashMap::new();
    for (chain_id, id, slug, title, start_date) in members {
        if let Some(chain_id) = chain_id {
            by_chain.entry(chain_id).or_default().push(EventSummary {
                id,
                slug,
                title,
                start_date,
            });
        }
    }
    let mut positions = HashMap::new();
    for (chain_id, members) in by_chain {
        let Some((slug, title)) = chain_info.get(&chain_id) else {
            continue;
        };
        for (i, event) in members.iter().enumerate() {
            let previous = i.checked_sub(1).and_then(|p| members.get(p));
            let next = members.get(i + 1);
            positions.insert(
                event.id,
                ChainPosition {
                    chain_id,
                    slug: slug.clone(),
                    title: title.clone(),
                    position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    previous_event_id: previous.map(|e| e.id),
                    previous_event: previous.cloned(),
                    next_event_id: next.map(|e| e.id),
                    next_event: next.cloned(),
                },
            );
        }
    }
    Ok(positions)
}

#[track_caller]
fn stored(what: &str, value: &str) -> ApiError {
    ApiError::internal(format!("stored {what} {value:?} is not known"))
}

/// References of an event, resolved to ids.
struct Resolved {
    network_id: Option<NetworkId>,
    parent_event_id: Option<EventId>,
    organisers: Vec<(OrganisationId, OrganiserRole)>,
    participants: Vec<(Option<PersonId>, Option<OrganisationId>, ParticipantRole)>,
}

fn resolve(conn: &mut AnyConnection, event: &ValidEvent) -> Result<Resolved, ApiError> {
    let mut errors = Vec::new();
    fn missing(errors: &mut Vec<FieldError>, field: String, what: &str, key: &str) {
        errors.push(FieldError::new(field, format!("no {what} {key:?}")));
    }
    let network_id = match &event.network {
        Some(key) => {
            let found = lookup::network_id(conn, key)?;
            if found.is_none() {
                missing(&mut errors, "network_id".into(), "network", key);
            }
            found
        }
        None => None,
    };
    let parent_event_id = match &event.parent_event {
        Some(key) => {
            let found = lookup::event_id(conn, key)?;
            if found.is_none() {
                missing(&mut errors, "parent_event_id".into(), "event", key);
            }
            found
        }
        None => None,
    };
    let mut organisers = Vec::new();
    for (i, (key, role)) in event.organisers.iter().enumerate() {
        match lookup::organisation_id(conn, key)? {
            Some(id) if organisers.contains(&(id, *role)) => errors.push(FieldError::new(
                format!("organisers[{i}].organisation_id"),
                "is listed twice with the same role",
            )),
            Some(id) => organisers.push((id, *role)),
            None => missing(
                &mut errors,
                format!("organisers[{i}].organisation_id"),
                "organisation",
                key,
            ),
        }
    }
    let mut participants = Vec::new();
    for (i, (who, role)) in event.participants.iter().enumerate() {
        match who {
            ParticipantRef::Person(key) => match lookup::person_id(conn, key)? {
                Some(id) => participants.push((Some(id), None, *role)),
                None => missing(
                    &mut errors,
                    format!("participants[{i}].person_id"),
                    "person",
                    key,
                ),
            },
            ParticipantRef::Organisation(key) => match lookup::organisation_id(conn, key)? {
                Some(id) => participants.push((None, Some(id), *role)),
                None => missing(
                    &mut errors,
                    format!("participants[{i}].organisation_id"),
                    "organisation",
                    key,
                ),
            },
        }
    }
    if errors.is_empty() {
        Ok(Resolved {
            network_id,
            parent_event_id,
            organisers,
            participants,
        })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `(network, series_number)` is unique, and series numbers rise with start dates.
fn check_series(
    conn: &mut AnyConnection,
    this: EventId,
    network_id: NetworkId,
    number: i32,
    starts_at: Timestamp,
) -> Result<(), ApiError> {
    // The rule holds for the stored series, so only the neighbours in number need checking:
    // three index lookups on (network_id, series_number), however long the series.
    let numbered = || {
        events::table
            .filter(events::network_id.eq(network_id))
            .filter(events::id.ne(this))
            .select((
                events::id,
                events::series_number.assume_not_null(),
                events::starts_at,
                events::slug,
            ))
            .into_boxed()
    };
    let same: Option<(EventId, i32, Timestamp, String)> = numbered()
        .filter(events::series_number.eq(number))
        .first(conn)
        .optional()?;
    if let Some((id, _, _, slug)) = same {
        return Err(ApiError::violations(vec![RuleViolation::new(
            "series_unique",
            vec![RecordRef::new("event", id, slug.as_str())],
            format!("event {slug:?} is already number {number} of this network's series"),
        )]));
    }
    let previous: Option<(EventId, i32, Timestamp, String)> = numbered()
        .filter(events::series_number.lt(number))
        .order(events::series_number.desc())
        .first(conn)
        .optional()?;
    let next: Option<(EventId, i32, Timestamp, String)> = numbered()
        .filter(events::series_number.gt(number))
        .order(events::series_number.asc())
        .first(conn)
        .optional()?;
    let out_of_order = previous
        .filter(|(_, _, starts, _)| *starts > starts_at)
        .or(next.filter(|(_, _, starts, _)| *starts < starts_at));
    if let Some((id, n, _, slug)) = out_of_order {
        return Err(ApiError::violations(vec![RuleViolation::new(
            "series_order",
            vec![RecordRef::new("event", id, slug.as_str())],
            format!(
                "number {number} would {} number {n} ({slug:?}); series numbers rise with start dates",
                if n < number {
                    "start before"
                } else {
                    "start after"
                }
            ),
        )]));
    }
    Ok(())
}

/// A parent may not be the event itself or one of its own sessions.
fn check_parent(conn: &mut AnyConnection, this: EventId, parent: EventId) -> Result<(), ApiError> {
    let mut current = Some(parent);
    let mut steps = 0;
    while let Some(id) = current {
        if id == this {
            return Err(ApiError::rule(
                "parent_cycle",
                lookup::event_refs(conn, &[this, parent])?,
                "an event cannot be a session of itself or of one of its own sessions",
            ));
        }
        steps += 1;
        if steps > 64 {
            return Err(ApiError::rule(
                "parent_depth",
                lookup::event_refs(conn, &[parent])?,
                "events nest at most 64 levels deep",
            ));
        }
        current = events::table
            .filter(events::id.eq(id))
            .select(events::parent_event_id)
            .first::<Option<EventId>>(conn)
            .optional()?
            .flatten();
    }
    Ok(())
}

fn columns(event: &ValidEvent, slug: String, refs: &Resolved, now: Timestamp) -> EventColumns {
    EventColumns {
        slug,
        title: event.title.clone(),
        kind: event.kind.as_str(),
        status: event.status.as_str(),
        start_date: event.start_date,
        end_date: event.end_date,
        start_time: event.start_time.map(LocalTime::get),
        end_time: event.end_time.map(LocalTime::get),
        timezone: event.timezone.name().to_owned(),
        starts_at: Timestamp::from(event.starts_at),
        ends_at: Timestamp::from(event.ends_at),
        venue: event.location.venue.clone(),
        city: event.location.city.clone(),
        city_key: event.city_key(),
        country_code: event.location.country_code.as_ref().map(|c| c.to_string()),
        address: event.location.address.clone(),
        attendance_mode: event.attendance_mode.as_str(),
        network_id: refs.network_id,
        series_number: event.series_number,
        parent_event_id: refs.parent_event_id,
        description: event.description.clone(),
        topics: serde_json::to_string(&event.topics).unwrap_or_else(|_| "[]".into()),
        links: serde_json::to_string(&event.links).unwrap_or_else(|_| "[]".into()),
        visibility: event.visibility.as_str(),
        search_text: event.search_text(),
        updated_at: now,
    }
}

fn check_rules(
    conn: &mut AnyConnection,
    id: EventId,
    event: &ValidEvent,
) -> Result<(Resolved, String), ApiError> {
    let refs = resolve(conn, event)?;
    let slug = choose_slug(
        conn,
        "event",
        event.slug.as_ref(),
        &event.title,
        |conn, slug| {
            Ok(crate::native!(conn, |c| diesel::select(
                diesel::dsl::exists(
                    events::table
                        .filter(events::slug.eq(slug))
                        .filter(events::id.ne(id)),
                )
            )
            .get_result(c))?)
        },
    )?;
    if let (Some(network_id), Some(number)) = (refs.network_id, event.series_number) {
        check_series(
            conn,
            id,
            network_id,
            number,
            Timestamp::from(event.starts_at),
        )?;
    }
    if let Some(parent) = refs.parent_event_id {
        check_parent(conn, id, parent)?;
    }
    Ok((refs, slug))
}

/// Writes an event's topics, organisers and participants; `replacing` the ones it had (an
/// update), or for a new event, which has none.
fn write_relations(
    conn: &mut AnyConnection,
    id: EventId,
    event: &ValidEvent,
    refs: &Resolved,
    replacing: bool,
) -> Result<(), ApiError> {
    if replacing {
        crate::native!(conn, |c| diesel::delete(
            event_topics::table.filter(event_topics::event_id.eq(id))
        )
        .execute(c))?;
        crate::native!(conn, |c| diesel::delete(
            event_organisers::table.filter(event_organisers::event_id.eq(id))
        )
        .execute(c))?;
        crate::native!(conn, |c| diesel::delete(
            event_participants::table.filter(event_participants::event_id.eq(id))
        )
        .execute(c))?;
    }
    // MultiConnection cannot batch-insert a Vec, so rows go one by one inside the transaction.
    for topic in event.topic_keys() {
        crate::native!(conn, |c| diesel::insert_into(event_topics::table)
            .values((
                event_topics::event_id.eq(id),
                event_topics::topic_key.eq(topic),
                event_topics::starts_at.eq(Some(Timestamp::from(event.starts_at))),
                event_topics::ends_at.eq(Some(Timestamp::from(event.ends_at))),
            ))
            .execute(c))?;
    }
    for (position, (organisation_id, role)) in refs.organisers.iter().enumerate() {
        crate::native!(conn, |c| diesel::insert_into(event_organisers::table)
            .values((
                event_organisers::event_id.eq(id),
                event_organisers::organisation_id.eq(*organisation_id),
                event_organisers::role.eq(role.as_str()),
                event_organisers::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                event_organisers::starts_at.eq(Some(Timestamp::from(event.starts_at))),
                event_organisers::ends_at.eq(Some(Timestamp::from(event.ends_at))),
            ))
            .execute(c))?;
    }
    for (position, (person_id, organisation_id, role)) in refs.participants.iter().enumerate() {
        crate::native!(conn, |c| diesel::insert_into(event_participants::table)
            .values((
                event_participants::event_id.eq(id),
                event_participants::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                event_participants::person_id.eq(*person_id),
                event_participants::organisation_id.eq(*organisation_id),
                event_participants::role.eq(role.as_str()),
                event_participants::starts_at.eq(Some(Timestamp::from(event.starts_at))),
                event_participants::ends_at.eq(Some(Timestamp::from(event.ends_at))),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// Stores a new event; call inside a write transaction.
pub fn create(conn: &mut AnyConnection, event: &ValidEvent) -> Result<EventId, ApiError> {
    let id = EventId::generate();
    let now = Timestamp::now();
    let (refs, slug) = check_rules(conn, id, event)?;
    crate::native!(conn, |c| diesel::insert_into(events::table)
        .values(NewEventRow {
            id,
            created_at: now,
            columns: columns(event, slug, &refs, now),
        })
        .execute(c))?;
    write_relations(conn, id, event, &refs, false)?;
    Ok(id)
}

/// Replaces an event's content if it is still at `version`; call inside a write transaction.
/// Given `before` (the event at `version`), its topics, organisers and participants are written
/// only if they changed (their rows carry the event's start and end).
pub fn update(
    conn: &mut AnyConnection,
    id: EventId,
    version: i32,
    event: &ValidEvent,
    before: Option<&ValidEvent>,
) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let (refs, slug) = check_rules(conn, id, event)?;
    let columns = columns(event, slug, &refs, now);
    // The row's keys and chain as stored: a missing row fails the versioned update (412).
    let stored: Option<(EventKeys, Option<ChainId>)> = crate::native!(conn, |c| events::table
        .filter(events::id.eq(id))
        .select((EventKeys::as_select(), events::chain_id))
        .first(c)
        .optional())?;
    let chain = stored.as_ref().and_then(|(_, chain)| *chain);
    match stored {
        Some((keys, _)) if columns.same_keys(&keys) => {
            update_payload(conn, id, version, columns.payload())?;
        }
        _ => update_row(conn, id, version, columns)?,
    }
    let same_relations = before.is_some_and(|before| {
        before.starts_at == event.starts_at
            && before.ends_at == event.ends_at
            && before.organisers == event.organisers
            && before.participants == event.participants
            && before.topic_keys() == event.topic_keys()
    });
    if !same_relations {
        write_relations(conn, id, event, &refs, true)?;
    }
    match chain {
        Some(chain_id) => crate::store::chains::enforce(conn, chain_id),
        None => Ok(()),
    }
}

/// Deletes an event nothing refers to; call inside a write transaction.
pub fn delete(conn: &mut AnyConnection, id: EventId, version: i32) -> Result<(), ApiError> {
    let sessions: Vec<(EventId, String)> = events::table
        .filter(events::parent_event_id.eq(id))
        .select((events::id, events::slug))
        .limit(20)
        .load(conn)?;
    if !sessions.is_empty() {
        let slugs: Vec<&str> = sessions.iter().map(|(_, s)| s.as_str()).collect();
        return Err(ApiError::rule(
            "still_referenced",
            sessions
                .iter()
                .map(|(id, slug)| RecordRef::new("event", id, slug.as_str()))
                .collect(),
            format!("sessions of this event refer to it: {}", slugs.join(", ")),
        ));
    }
    let chain: Option<ChainId> = events::table
        .filter(events::id.eq(id))
        .select(events::chain_id)
        .first(conn)?;
    if let Some(chain_id) = chain {
        return Err(ApiError::rule(
            "still_referenced",
            lookup::chain_refs(conn, &[chain_id])?,
            "the event is in a chain; remove it from the chain first",
        ));
    }
    delete_row(conn, id, version)
}

versioned_rows!(events, EventId, EventColumns, EventResponse);

/// [`update_row`] for an update that leaves the row's [`EventKeys`] as they are.
fn update_payload(
    conn: &mut AnyConnection,
    id: EventId,
    version: i32,
    payload: EventPayload,
) -> Result<(), ApiError> {
    let changed = crate::db::KeptUpdate::new(
        events::table,
        (payload, events::version.eq(events::version + 1)),
        events::id.eq(id).and(events::version.eq(version)),
    )
    .execute(conn)?;
    if changed == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(())
}

/// Events as a [`Resource`].
pub struct Events;

impl Resource for Events {
    const NAME: &'static str = "event";
    type Id = EventId;
    type Input = EventInput;
    type Valid = ValidEvent;
    type Response = EventResponse;
    type Warning = crate::store::conflicts::Conflict;

    fn validate(input: EventInput) -> Result<ValidEvent, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<EventId>, ApiError> {
        lookup::event_id(conn, key)
    }

    fn get(conn: &mut AnyConnection, key: &str, viewer: Viewer) -> Result<EventResponse, ApiError> {
        get(conn, key, viewer)
    }

    fn update(
        conn: &mut AnyConnection,
        id: EventId,
        version: i32,
        valid: &ValidEvent,
        before: Option<&ValidEvent>,
    ) -> Result<(), ApiError> {
        update(conn, id, version, valid, before)
    }

    fn delete(conn: &mut AnyConnection, id: EventId, version: i32) -> Result<(), ApiError> {
        delete(conn, id, version)
    }

    fn as_input(response: &EventResponse) -> EventInput {
        as_input(response)
    }

    const HAS_WARNINGS: bool = true;

    /// The scheduling conflicts the event now has.
    fn warnings(
        conn: &mut AnyConnection,
        id: EventId,
        viewer: Viewer,
    ) -> Result<Vec<crate::store::conflicts::Conflict>, ApiError> {
        crate::store::conflicts::for_event(conn, id, viewer)
    }
}

impl TopLevel for Events {
    fn create(conn: &mut AnyConnection, valid: &ValidEvent) -> Result<EventId, ApiError> {
        create(conn, valid)
    }

    fn slug(response: &EventResponse) -> &str {
        &response.slug
    }
}

/// The current state of an event in the shape clients write, the base a merge patch applies to.
pub fn as_input(event: &EventResponse) -> EventInput {
    EventInput {
        title: event.title.clone(),
        slug: Some(event.slug.clone()),
        kind: event.kind,
        status: Some(event.status),
        start_date: event.start_date,
        end_date: Some(event.end_date),
        start_time: event.start_time,
        end_time: event.end_time,
        timezone: event.timezone.clone(),
        location: Some(LocationInput {
            venue: event.location.venue.clone(),
            city: event.location.city.clone(),
            country_code: event.location.country_code.clone(),
            address: event.location.address.clone(),
        }),
        attendance_mode: Some(event.attendance_mode),
        network_id: event.network.as_ref().map(|n| n.slug.clone()),
        series_number: event.series_number,
        parent_event_id: event.parent_event.as_ref().map(|p| p.slug.clone()),
        organisers: event
            .organisers
            .iter()
            .map(|o| OrganiserInput {
                organisation_id: o.organisation.slug.clone(),
                role: o.role,
            })
            .collect(),
        participants: event
            .participants
            .iter()
            .map(|p| ParticipantInput {
                person_id: p.person_id.map(|_| p.participant.slug.clone()),
                organisation_id: p.organisation_id.map(|_| p.participant.slug.clone()),
                role: p.role,
            })
            .collect(),
        topics: event.topics.clone(),
        description: event.description.clone(),
        links: event.links.clone(),
        visibility: Some(event.visibility),
    }
}
