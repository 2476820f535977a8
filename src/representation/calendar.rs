//! Events as iCalendar (RFC 5545, with RFC 7986 and RFC 9253 properties): one event, or a
//! feed of the events a list filter selects. A calendar is built once per registry generation
//! and kept like any representation; its ETag is kept apart (small, so it is never evicted
//! with a large body), so a client polling an unchanged feed costs one read of the
//! generation, as an event by id does.
//!
//! What a VEVENT says, and why:
//! - `UID` is `<event id>@<host of REGISTRY_PUBLIC_URL>`; `URL` the event's API URL.
//! - `DTSTAMP` and `LAST-MODIFIED` are the event's `updated_at` (a feed has no `METHOD`, so
//!   RFC 5545 makes `DTSTAMP` the time of the last revision): the same registry gives the
//!   same bytes, and the same ETag, on every replica.
//! - `SEQUENCE` grows with each change of title, status, dates, times, time zone, place or
//!   attendance, and only with those (a counter the database keeps, migration 000016).
//! - An all-day event has `DTSTART;VALUE=DATE` and an exclusive `DTEND;VALUE=DATE` (the day
//!   after `end_date`); a timed one has `TZID` local times, and the calendar holds a
//!   `VTIMEZONE` for each zone used, computed from chrono-tz over the years its events span.
//! - `STATUS`: scheduled, rescheduled and moved_online are `CONFIRMED`; tentative and
//!   postponed `TENTATIVE`; cancelled `CANCELLED` (and `TRANSP:TRANSPARENT`: it stays in the
//!   feed so subscribed calendars mark it, but takes no time). The registry's own status is
//!   in `X-REGISTRY-STATUS` (no standard property holds it) and, when it is not plain
//!   `scheduled`, in the first line of `DESCRIPTION`, where people read it.
//! - `RELATED-TO;RELTYPE=PARENT` names the event a session belongs to; in a chain,
//!   `RELTYPE=FIRST` names its first event and `RELTYPE=NEXT` the next one (RFC 9253).
//! - `ORGANIZER;CN=<name>` is the first organisation with the role `organiser` (else the first
//!   organisation listed), its address the organisation's API URL.
//! - `CATEGORIES`: the kind in words, then the topics. `CLASS:PRIVATE` for internal events.
//! - Events whose dates are not known yet cannot be placed in a calendar: feeds leave them
//!   out, and one asked for by itself is a 409 (`calendar_dates_known`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime};

use crate::cache::{Derived, Entry, Representations};
use crate::configuration::PublicUrl;
use crate::db::{self, AnyConnection};
use crate::domain::enums::{AttendanceMode, EventKind, EventStatus, OrganiserRole, Visibility};
use crate::error::{ApiError, RecordRef};
use crate::ical::{self, Writer};
use crate::store::Viewer;
use crate::store::calendar::{self as calendar_store, Owner};
use crate::store::events::{self as event_store, EventFilter, EventResponse, EventSort, ListsKept};
use crate::store::resource::Resource;

/// The most events a feed holds; a feed that would hold more is refused (422) with a
/// problem that says how to narrow it, rather than silently cut.
pub const MAX_FEED_EVENTS: i64 = 1000;

/// How far back a feed without `from` reaches: a year before today (or before `to`, when
/// that is earlier).
pub const DEFAULT_MONTHS_BACK: u32 = 12;

/// Which events a calendar holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One event, by id or slug.
    Event(String),
    /// The events a filter selects.
    Events,
    /// A network's meetings (by id or slug), filtered further.
    Network(String),
    /// An organisation's events.
    Organisation(String),
    /// A person's events.
    Person(String),
}

/// Each calendar's ETag at the generation it was built at, by calendar.
pub struct CalendarTags(Derived<String, String>);

impl CalendarTags {
    pub fn new() -> Self {
        Self(Derived::new(4096))
    }
}

impl Default for CalendarTags {
    fn default() -> Self {
        Self::new()
    }
}

/// What the shared state of the server lends a calendar request.
pub struct Calendars<'a> {
    pub cache: &'a Representations,
    pub tags: &'a CalendarTags,
    pub lists_kept: &'a ListsKept,
    pub public_url: &'a PublicUrl,
}

/// A calendar, or word that the client's copy is current.
pub enum Answer {
    /// The client's `If-None-Match` names the current calendar: this ETag.
    Unchanged(String),
    Calendar(Arc<Entry>),
}

/// The day a feed without `from` starts on: [`DEFAULT_MONTHS_BACK`] before `today`, or
/// before `to` when that is earlier.
pub fn default_from(today: NaiveDate, to: Option<NaiveDate>) -> NaiveDate {
    let anchor = to.map_or(today, |to| to.min(today));
    anchor
        .checked_sub_months(Months::new(DEFAULT_MONTHS_BACK))
        .unwrap_or(anchor)
}

/// The calendar `scope` and `filter` select, as `viewer` may see it: `Unchanged` when
/// `is_current` accepts its ETag, else the calendar, from the cache while the registry has not
/// changed since it was built.
pub fn calendar(
    conn: &mut AnyConnection,
    shared: &Calendars<'_>,
    scope: &Scope,
    feed: Feed,
    viewer: Viewer,
    is_current: impl Fn(&str) -> bool,
) -> Result<Answer, ApiError> {
    // The generation is read first: a calendar is never older than the generation it is
    // kept under.
    let generation = db::generation(conn)?;
    if let Some(answer) = kept(shared, &feed, viewer, generation, &is_current) {
        return Ok(answer);
    }
    let Feed { mut filter, key } = feed;
    let (name, events) = match scope {
        Scope::Event(event_key) => {
            let event = event_store::Events::get(conn, event_key, viewer)?;
            if event.start_date.is_none() {
                return Err(ApiError::rule(
                    "calendar_dates_known",
                    vec![RecordRef::new("event", event.id, event.slug.as_str())],
                    format!(
                        "the dates of event {:?} are not known yet, so it cannot be a calendar \
                         entry; it appears in feeds once it has dates",
                        event.slug
                    ),
                ));
            }
            (event.title.clone(), vec![event])
        }
        _ => feed_events(conn, shared, scope, &mut filter, viewer)?,
    };
    let body = render(conn, &name, &events, viewer, shared.public_url)?;
    let etag = super::etag_of(body.as_bytes());
    shared.tags.0.insert(key.clone(), generation, etag.clone());
    let entry = Entry {
        generation,
        body: body.into(),
        etag,
    };
    Ok(Answer::Calendar(shared.cache.insert(
        CALENDAR,
        &key,
        viewer.sees_internal,
        entry,
    )))
}

/// The cache's name for calendars.
const CALENDAR: &str = "calendar";

/// A feed's filter as a calendar reads it, and the key it is kept under.
#[derive(Clone)]
pub struct Feed {
    filter: EventFilter,
    key: String,
}

impl Feed {
    /// The feed `scope` and `filter` select for `viewer`: without `from`, a year back (see
    /// [`default_from`]); in start order; at most [`MAX_FEED_EVENTS`].
    pub fn of(scope: &Scope, mut filter: EventFilter, viewer: Viewer) -> Self {
        if !matches!(scope, Scope::Event(_)) && filter.from.is_none() {
            let today = chrono::Utc::now().date_naive();
            filter.from = Some(default_from(today, filter.to));
        }
        filter.sort = EventSort::Start;
        filter.cursor = None;
        filter.limit = MAX_FEED_EVENTS;
        let key = format!("{}|{scope:?}|{filter:?}", viewer.sees_internal);
        Self { filter, key }
    }
}

/// The answer kept for `feed` at `generation`, if there is one: `Unchanged` when
/// `is_current` accepts its ETag.
pub fn kept(
    shared: &Calendars<'_>,
    feed: &Feed,
    viewer: Viewer,
    generation: i64,
    is_current: impl Fn(&str) -> bool,
) -> Option<Answer> {
    if let Some((at, etag)) = shared.tags.0.get(&feed.key)
        && at == generation
        && is_current(&etag)
    {
        return Some(Answer::Unchanged((*etag).clone()));
    }
    shared
        .cache
        .get(CALENDAR, &feed.key, viewer.sees_internal, generation)
        .map(Answer::Calendar)
}

/// The name of a feed and its events (those with dates), in start order.
fn feed_events(
    conn: &mut AnyConnection,
    shared: &Calendars<'_>,
    scope: &Scope,
    filter: &mut EventFilter,
    viewer: Viewer,
) -> Result<(String, Vec<EventResponse>), ApiError> {
    let name = match scope {
        Scope::Network(key) => {
            let (id, name) = calendar_store::owner(conn, Owner::Network, key)?;
            filter.network = Some(id.to_string());
            format!("{name}: meetings")
        }
        Scope::Organisation(key) => {
            let (id, name) = calendar_store::owner(conn, Owner::Organisation, key)?;
            filter.organisation = Some(id.to_string());
            format!("{name}: events")
        }
        Scope::Person(key) => {
            let (id, name) = calendar_store::owner(conn, Owner::Person, key)?;
            filter.person = Some(id.to_string());
            format!("{name}: events")
        }
        Scope::Events | Scope::Event(_) => "Meeting registry: events".to_owned(),
    };
    let listed = event_store::list_rows(conn, filter, viewer, Some(shared.lists_kept))?;
    if listed.next_cursor.is_some() {
        return Err(ApiError::invalid(
            "from",
            format!(
                "the feed would hold more than {MAX_FEED_EVENTS} events (the most a feed \
                 holds): narrow it with from and to, or another filter"
            ),
        ));
    }
    let ids: Vec<_> = listed.rows.iter().map(|row| row.id).collect();
    let rows = event_store::rows_by_id(conn, &ids)?;
    let events = event_store::load_details(conn, rows, viewer)?
        .into_iter()
        .filter(|event| event.start_date.is_some())
        .collect();
    Ok((name, events))
}

/// The calendar named `name` holding `events`.
fn render(
    conn: &mut AnyConnection,
    name: &str,
    events: &[EventResponse],
    viewer: Viewer,
    public_url: &PublicUrl,
) -> Result<String, ApiError> {
    let ids: Vec<_> = events.iter().map(|e| e.id).collect();
    let sequences = calendar_store::sequences(conn, &ids)?;
    let mut chains: Vec<_> = events
        .iter()
        .filter_map(|e| e.chain.as_ref())
        .filter(|c| c.position > 1)
        .map(|c| c.chain_id)
        .collect();
    chains.sort_unstable();
    chains.dedup();
    let firsts = calendar_store::chain_firsts(conn, &chains, viewer)?;
    let mut w = Writer::new();
    w.begin("VCALENDAR");
    w.raw("VERSION", &[], "2.0");
    w.raw("PRODID", &[], "-//meeting-registry//iCalendar feed//EN");
    w.raw("CALSCALE", &[], "GREGORIAN");
    w.text("NAME", &[], name);
    w.text("X-WR-CALNAME", &[], name);
    w.raw("REFRESH-INTERVAL", &[("VALUE", "DURATION")], "PT1H");
    // Outlook reads its own property, not RFC 7986's.
    w.raw("X-PUBLISHED-TTL", &[], "PT1H");
    for (zone, years) in zones(events) {
        ical::vtimezone(&mut w, zone, &years);
    }
    let uid = |id: &crate::ids::EventId| format!("{id}@{}", public_url.host());
    for event in events {
        let Some(start_date) = event.start_date else {
            continue;
        };
        let end_date = event.end_date.unwrap_or(start_date);
        w.begin("VEVENT");
        w.raw("UID", &[], &uid(&event.id));
        let stamp = ical::utc_date_time(event.updated_at);
        w.raw("DTSTAMP", &[], &stamp);
        w.raw("CREATED", &[], &ical::utc_date_time(event.created_at));
        w.raw("LAST-MODIFIED", &[], &stamp);
        let sequence = sequences.get(&event.id).copied().unwrap_or(0);
        w.raw("SEQUENCE", &[], &sequence.to_string());
        write_span(&mut w, event, start_date, end_date);
        w.text("SUMMARY", &[], &event.title);
        let description = description(event);
        if !description.is_empty() {
            w.text("DESCRIPTION", &[], &description);
        }
        if let Some(location) = location(event) {
            w.text("LOCATION", &[], &location);
        }
        w.raw(
            "URL",
            &[("VALUE", "URI")],
            &format!("{}/api/v1/events/{}", public_url.base(), event.id),
        );
        let organiser = event
            .organisers
            .iter()
            .find(|o| o.role == OrganiserRole::Organiser)
            .or_else(|| event.organisers.first());
        if let Some(organiser) = organiser {
            w.raw(
                "ORGANIZER",
                &[("CN", &organiser.organisation.name)],
                &format!(
                    "{}/api/v1/organisations/{}",
                    public_url.base(),
                    organiser.organisation_id
                ),
            );
        }
        let (status, transparent) = match event.status {
            EventStatus::Scheduled | EventStatus::Rescheduled | EventStatus::MovedOnline => {
                ("CONFIRMED", false)
            }
            EventStatus::Tentative | EventStatus::Postponed => ("TENTATIVE", false),
            EventStatus::Cancelled => ("CANCELLED", true),
        };
        w.raw("STATUS", &[], status);
        if transparent {
            w.raw("TRANSP", &[], "TRANSPARENT");
        }
        w.raw("X-REGISTRY-STATUS", &[], event.status.as_str());
        if event.visibility == Visibility::Internal {
            w.raw("CLASS", &[], "PRIVATE");
        }
        let kind = kind_in_words(event.kind);
        let mut categories: Vec<&str> = vec![kind];
        categories.extend(event.topics.iter().map(String::as_str));
        w.texts("CATEGORIES", &categories);
        if let Some(parent) = &event.parent_event_id {
            w.raw("RELATED-TO", &[("RELTYPE", "PARENT")], &uid(parent));
        }
        if let Some(chain) = &event.chain {
            if let Some(first) = firsts.get(&chain.chain_id).filter(|f| **f != event.id) {
                w.raw("RELATED-TO", &[("RELTYPE", "FIRST")], &uid(first));
            }
            if let Some(next) = &chain.next_event_id {
                w.raw("RELATED-TO", &[("RELTYPE", "NEXT")], &uid(next));
            }
        }
        w.end("VEVENT");
    }
    w.end("VCALENDAR");
    Ok(w.finish())
}

/// Each time zone timed events use, in name order, with the years they need as inclusive
/// ranges in ascending order (an event needs its years, and the next for an end at midnight).
fn zones(events: &[EventResponse]) -> Vec<(chrono_tz::Tz, Vec<(i32, i32)>)> {
    let mut zones: BTreeMap<&'static str, (chrono_tz::Tz, BTreeSet<i32>)> = BTreeMap::new();
    for event in events {
        let (Some(start), Some(zone)) = (event.start_date, timed_zone(event)) else {
            continue;
        };
        let end = event.end_date.unwrap_or(start).year() + 1;
        let years = &mut zones
            .entry(zone.name())
            .or_insert((zone, BTreeSet::new()))
            .1;
        years.extend(start.year()..=end);
    }
    zones
        .into_values()
        .map(|(zone, years)| {
            let mut ranges: Vec<(i32, i32)> = Vec::new();
            for year in years {
                match ranges.last_mut() {
                    Some(range) if range.1 + 1 == year => range.1 = year,
                    _ => ranges.push((year, year)),
                }
            }
            (zone, ranges)
        })
        .collect()
}

/// The zone of a timed event (one with a start or end time) that chrono-tz knows.
fn timed_zone(event: &EventResponse) -> Option<chrono_tz::Tz> {
    if event.start_time.is_none() && event.end_time.is_none() {
        return None;
    }
    event.timezone.as_deref()?.parse().ok()
}

/// `DTSTART` and `DTEND`: dates for an all-day event (the end exclusive), local times in the
/// event's zone for a timed one (an event without an end time runs to the end of its last
/// day).
fn write_span(w: &mut Writer, event: &EventResponse, start_date: NaiveDate, end_date: NaiveDate) {
    let day_after = end_date.checked_add_days(Days::new(1)).unwrap_or(end_date);
    match timed_zone(event) {
        None => {
            w.raw("DTSTART", &[("VALUE", "DATE")], &ical::date(start_date));
            w.raw("DTEND", &[("VALUE", "DATE")], &ical::date(day_after));
        }
        Some(zone) => {
            let start = NaiveDateTime::new(
                start_date,
                event.start_time.map_or(NaiveTime::MIN, |t| t.get()),
            );
            let end = match event.end_time {
                Some(t) => NaiveDateTime::new(end_date, t.get()),
                None => NaiveDateTime::new(day_after, NaiveTime::MIN),
            };
            let tzid = [("TZID", zone.name())];
            w.raw("DTSTART", &tzid, &ical::local_date_time(start));
            w.raw("DTEND", &tzid, &ical::local_date_time(end));
        }
    }
}

/// The words a calendar shows for the registry's status, when it is not plain `scheduled`.
fn status_note(status: EventStatus) -> Option<&'static str> {
    match status {
        EventStatus::Scheduled => None,
        EventStatus::Tentative => Some("Tentative: the dates are not confirmed."),
        EventStatus::Postponed => {
            Some("Postponed: moved to dates not known yet; these are the former dates.")
        }
        EventStatus::Rescheduled => Some("Rescheduled: these are the new dates."),
        EventStatus::Cancelled => Some("Cancelled: this event will not take place."),
        EventStatus::MovedOnline => Some("Moved online: it takes place online instead."),
    }
}

/// The status note, the description, then who organises it and where it stands in a series,
/// a chain or a larger event.
fn description(event: &EventResponse) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(note) = status_note(event.status) {
        parts.push(note.to_owned());
    }
    if let Some(text) = event
        .description
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        parts.push(text.trim().to_owned());
    }
    let mut facts: Vec<String> = Vec::new();
    if !event.organisers.is_empty() {
        let names: Vec<String> = event
            .organisers
            .iter()
            .map(|o| {
                format!(
                    "{} ({})",
                    o.organisation.name,
                    o.role.as_str().replace('_', " ")
                )
            })
            .collect();
        facts.push(format!("Organisers: {}", names.join(", ")));
    }
    if let Some(network) = &event.network {
        match event.series_number {
            Some(n) => facts.push(format!("Meeting {n} of {}", network.name)),
            None => facts.push(format!("A meeting of {}", network.name)),
        }
    }
    if let Some(parent) = &event.parent_event {
        facts.push(format!("Part of: {}", parent.title));
    }
    if let Some(chain) = &event.chain {
        facts.push(format!(
            "Event {} of the chain {}",
            chain.position, chain.title
        ));
    }
    if !facts.is_empty() {
        parts.push(facts.join("\n"));
    }
    parts.join("\n\n")
}

/// Where: venue, address, city and country, as far as known; `Online` for an online event
/// with no place.
fn location(event: &EventResponse) -> Option<String> {
    let l = &event.location;
    let country = l.country_code.as_deref().map(country_name);
    let parts: Vec<&str> = [
        l.venue.as_deref(),
        l.address.as_deref(),
        l.city.as_deref(),
        country.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| !p.trim().is_empty())
    .collect();
    let online = event.status == EventStatus::MovedOnline;
    match (parts.is_empty(), event.attendance_mode) {
        (true, AttendanceMode::Online) => Some("Online".to_owned()),
        (true, _) if online => Some("Online".to_owned()),
        (true, _) => None,
        (false, AttendanceMode::Hybrid) => Some(format!("{} (and online)", parts.join(", "))),
        (false, _) => Some(parts.join(", ")),
    }
}

/// A country's English short name, from its code (`XK`: Kosovo).
fn country_name(code: &str) -> String {
    if code == "XK" {
        return "Kosovo".to_owned();
    }
    rust_iso3166::from_alpha2(code).map_or_else(|| code.to_owned(), |c| c.name.to_owned())
}

fn kind_in_words(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Meeting => "Meeting",
        EventKind::BoardMeeting => "Board meeting",
        EventKind::NetworkMeeting => "Network meeting",
        EventKind::CoordinationMeeting => "Coordination meeting",
        EventKind::Conference => "Conference",
        EventKind::Forum => "Forum",
        EventKind::Workshop => "Workshop",
        EventKind::Training => "Training",
        EventKind::Other => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_window_reaches_a_year_back() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert_eq!(default_from(day(2026, 12, 5), None), day(2025, 12, 5));
        assert_eq!(
            default_from(day(2026, 12, 5), Some(day(2019, 4, 30))),
            day(2018, 4, 30)
        );
        assert_eq!(
            default_from(day(2026, 12, 5), Some(day(2030, 1, 1))),
            day(2025, 12, 5)
        );
    }
}
