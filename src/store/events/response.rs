//! The read model of an event: what `GET /events/{id}` and the lists return.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::event::Link;
use crate::domain::time::LocalTime;
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId, ProgrammeId};
use crate::store::Summary;
use crate::store::programmes::ProgrammeSummary;

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
    /// Its first day (`YYYY-MM-DD`, local to the event's time zone); `null` while its dates
    /// are not known.
    #[schema(example = "2019-11-18")]
    pub start_date: Option<NaiveDate>,
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
    /// The first day (`YYYY-MM-DD`), local to `timezone`; `null` while the dates are not
    /// known (then `status` is `tentative`, `postponed` or `cancelled`, and every date, time
    /// and instant below is `null` too).
    #[schema(example = "2019-11-18")]
    pub start_date: Option<NaiveDate>,
    /// The last day (`YYYY-MM-DD`, inclusive), local to `timezone`; equal to `start_date` for
    /// a one-day event; `null` while the dates are not known.
    #[schema(example = "2019-11-18")]
    pub end_date: Option<NaiveDate>,
    /// The local start time on `start_date` (`HH:MM`, 24-hour); `null` for an all-day event.
    pub start_time: Option<LocalTime>,
    /// The local end time on `end_date` (`HH:MM`, 24-hour); `null` when the event runs to the
    /// end of its last day.
    pub end_time: Option<LocalTime>,
    /// The IANA time zone the dates and times are local to; `null` only for an event whose
    /// dates are not known and whose time zone was not given.
    #[schema(example = "Europe/Skopje")]
    pub timezone: Option<String>,
    /// Derived, read-only: the start as an RFC 3339 UTC instant (local midnight of
    /// `start_date` when there is no `start_time`); `null` while the dates are not known.
    #[serde(with = "crate::domain::time::instant::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<DateTime<Utc>>,
    /// Derived, read-only: the end as an RFC 3339 UTC instant (the local midnight after
    /// `end_date` when there is no `end_time`); `null` while the dates are not known.
    #[serde(with = "crate::domain::time::instant::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<DateTime<Utc>>,
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
    /// The programme, action, project or plan the event is implemented under; `null` when
    /// none is recorded.
    pub programme_id: Option<ProgrammeId>,
    /// That programme, summarised; `null` with `programme_id`.
    pub programme: Option<ProgrammeSummary>,
    /// The event this one is a session of; `null` for a top-level event.
    pub parent_event_id: Option<EventId>,
    /// That event, summarised; `null` with `parent_event_id`.
    pub parent_event: Option<EventSummary>,
    /// The events this one precedes, summarised, in the order written (write them as ids or
    /// slugs in `precedes`). Events the caller may not see are left out.
    pub precedes: Vec<EventSummary>,
    /// Read-only, the inverse of `precedes`: the events that name this one in their
    /// `precedes`, summarised, in start order (events without dates last).
    pub preceded_by: Vec<EventSummary>,
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

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// The events of this page, in the order asked for.
    pub items: Vec<EventResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Read from `(id, slug, title, start_date)` as stored: the start date of an event whose dates
/// are not known is `None`.
impl<DB, ST> diesel::Queryable<ST, DB> for EventSummary
where
    DB: diesel::backend::Backend,
    (EventId, String, String, NaiveDate): diesel::deserialize::FromStaticSqlRow<ST, DB>,
{
    type Row = (EventId, String, String, NaiveDate);

    fn build((id, slug, title, start_date): Self::Row) -> diesel::deserialize::Result<Self> {
        Ok(Self {
            id,
            slug,
            title,
            start_date: super::rows::known_day(start_date),
        })
    }
}
