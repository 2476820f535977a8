//! Scheduling conflicts: overlapping events that share a person (a chair cannot be in two
//! cities at once) or a venue in the same city. Reported, never refused: the registry records
//! what happened.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{event_participants, events};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{EventStatus, Visibility};
use crate::domain::event::MAX_DURATION_DAYS;
use crate::domain::text::fold;
use crate::error::ApiError;
use crate::ids::{EventId, PersonId};
use crate::store::people;
use crate::store::{Summary, Viewer};

use super::response::{EventResponse, EventSummary};
use super::rows::known_day;
use super::window::{LongEvents, SHORT_SPAN_DAYS, long_events, overlap_start, span_end};

/// A write's response names at most this many conflicts (earliest first);
/// `GET /conflicts` lists them all.
pub const MAX_WARNINGS: usize = 20;

/// What two overlapping events share: `person` (someone takes part in both) or `venue` (the
/// same venue in the same city).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    Person,
    Venue,
}

/// Two overlapping events that share a person or a venue.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Conflict {
    /// What the two events share.
    pub kind: ConflictKind,
    /// The two events' ids, earlier start first.
    pub event_ids: Vec<EventId>,
    /// The two events, summarised, in the same order.
    pub events: Vec<EventSummary>,
    /// The shared person, for `person` conflicts; else `null`.
    pub person: Option<Summary>,
    /// The shared venue, for `venue` conflicts; else `null`.
    pub venue: Option<String>,
    /// The city of the shared venue, for `venue` conflicts; else `null`.
    pub city: Option<String>,
    /// The conflict in one sentence, for people.
    pub detail: String,
}

#[derive(Debug, Clone, Queryable)]
struct Candidate {
    id: EventId,
    slug: String,
    title: String,
    start_date: NaiveDate,
    starts_at: Timestamp,
    ends_at: Timestamp,
    venue: Option<String>,
    city: Option<String>,
    city_key: Option<String>,
    parent_event_id: Option<EventId>,
}

type CandidateColumns = (
    events::id,
    events::slug,
    events::title,
    events::start_date,
    events::starts_at,
    events::ends_at,
    events::venue,
    events::city,
    events::city_key,
    events::parent_event_id,
);

const CANDIDATE_COLUMNS: CandidateColumns = (
    events::id,
    events::slug,
    events::title,
    events::start_date,
    events::starts_at,
    events::ends_at,
    events::venue,
    events::city,
    events::city_key,
    events::parent_event_id,
);

/// Conflicts among events that overlap the dates `from..=to`.
pub fn list(
    conn: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
    viewer: Viewer,
) -> Result<Vec<Conflict>, ApiError> {
    let earliest_start = from - chrono::Duration::days(MAX_DURATION_DAYS);
    // The dates are local; the instants bound them in any time zone, so the index by start
    // serves the window and the dates decide.
    let mut query = events::table
        .filter(events::starts_at.ge(overlap_start(from)))
        .filter(events::starts_at.lt(span_end(to)))
        .filter(events::end_date.ge(from))
        .filter(events::start_date.le(to))
        .filter(events::start_date.ge(earliest_start))
        .filter(events::status.ne(EventStatus::Cancelled.as_str()))
        .select(CANDIDATE_COLUMNS)
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    let candidates: Vec<Candidate> = query.load(conn)?;
    find(conn, candidates, None, None)
}

/// Conflicts that involve one event: the `warnings` of its create and update responses.
///
/// Every write of an event computes them, so they are found in indexes first, and only the
/// events that do conflict are read:
/// - events sharing a person, in the participants' (person, start) index, whose rows carry
///   each event's start and end;
/// - events at the same venue, in the (city, start) index, which holds each event's end, status,
///   visibility and venue.
///
/// `event` is the event as its write read it back, so what it holds is not read again.
pub fn for_event(
    conn: &mut AnyConnection,
    event: &EventResponse,
    viewer: Viewer,
) -> Result<Vec<Conflict>, ApiError> {
    // A cancelled event conflicts with nothing, and one whose dates are not known overlaps
    // nothing yet.
    if event.status == EventStatus::Cancelled {
        return Ok(Vec::new());
    }
    let (Some(starts_at), Some(ends_at), Some(start_date)) =
        (event.starts_at, event.ends_at, event.start_date)
    else {
        return Ok(Vec::new());
    };
    let id = event.id;
    let this = Candidate {
        id,
        slug: event.slug.clone(),
        title: event.title.clone(),
        start_date,
        starts_at: Timestamp::from(starts_at),
        ends_at: Timestamp::from(ends_at),
        venue: event.location.venue.clone(),
        city: event.location.city.clone(),
        city_key: event.location.city.as_deref().map(fold),
        parent_event_id: event.parent_event_id,
    };
    // Short events that overlap started at most two weeks (and two days of time zones) before
    // this one; long ones are found through their own index.
    let short_start =
        Timestamp::from(this.starts_at.get() - chrono::Duration::days(SHORT_SPAN_DAYS + 2));
    let long_start =
        Timestamp::from(this.starts_at.get() - chrono::Duration::days(MAX_DURATION_DAYS + 2));
    // Long events are few: the long pass only looks at those named (when there are very many,
    // at a year-wide window instead).
    let long_ones = long_events(conn, long_start, Some(this.ends_at))?;
    let short_pass = Pass {
        window_start: short_start,
        named: None,
    };
    let long_pass = match &long_ones {
        LongEvents::Named(ids) if ids.is_empty() => None,
        LongEvents::Named(ids) => Some(Pass {
            window_start: long_start,
            named: Some(ids.as_slice()),
        }),
        LongEvents::TooMany => Some(Pass {
            window_start: long_start,
            named: None,
        }),
    };
    let mut people: Vec<PersonId> = event
        .participants
        .iter()
        .filter_map(|p| p.person_id)
        .collect();
    people.sort();
    people.dedup();
    let venue = this.venue.as_deref().map(fold);
    let mut matches = Matches::default();
    for pass in std::iter::once(short_pass).chain(long_pass) {
        if !people.is_empty() {
            matches.sharing_people(conn, &this, &people, &pass)?;
        }
        if let (Some(venue), Some(city_key)) = (&venue, &this.city_key) {
            matches.at_venue(conn, &this, venue, city_key, &pass)?;
        }
    }
    if matches.events.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = earliest_candidates(conn, matches.events, &this, viewer)?;
    let mut shared = matches.shared;
    shared.insert(id, people.into_iter().collect());
    candidates.push(this);
    let mut conflicts = find(conn, candidates, Some(id), Some(shared))?;
    conflicts.truncate(MAX_WARNINGS);
    Ok(conflicts)
}

/// One look for the events overlapping a write's event: those that started from
/// `window_start` on, only those `named` if given.
struct Pass<'a> {
    window_start: Timestamp,
    named: Option<&'a [EventId]>,
}

/// What the passes found, from indexes alone.
#[derive(Default)]
struct Matches {
    /// Who each other event shares with this one.
    shared: HashMap<EventId, HashSet<PersonId>>,
    /// The events found, by person or venue, with their starts (repeats included).
    events: Vec<(Timestamp, EventId)>,
}

impl Matches {
    /// The overlapping events that one of `people` takes part in.
    fn sharing_people(
        &mut self,
        conn: &mut AnyConnection,
        this: &Candidate,
        people: &[PersonId],
        pass: &Pass<'_>,
    ) -> Result<(), ApiError> {
        let mut query = event_participants::table
            .filter(event_participants::person_id.eq_any(people.iter().map(|p| Some(*p))))
            .filter(event_participants::starts_at.ge(pass.window_start))
            .filter(event_participants::starts_at.lt(this.ends_at))
            .filter(event_participants::ends_at.gt(this.starts_at))
            .filter(event_participants::event_id.ne(this.id))
            .select((
                event_participants::starts_at.assume_not_null(),
                event_participants::event_id,
                event_participants::person_id.assume_not_null(),
            ))
            .into_boxed();
        if let Some(ids) = pass.named {
            query = query.filter(event_participants::event_id.eq_any(ids));
        }
        for (starts_at, event, person) in query.load::<(Timestamp, EventId, PersonId)>(conn)? {
            self.shared.entry(event).or_default().insert(person);
            self.events.push((starts_at, event));
        }
        Ok(())
    }

    /// The overlapping events, not cancelled, at `venue` (folded) in the city `city_key`.
    fn at_venue(
        &mut self,
        conn: &mut AnyConnection,
        this: &Candidate,
        venue: &str,
        city_key: &str,
        pass: &Pass<'_>,
    ) -> Result<(), ApiError> {
        let mut query = events::table
            .filter(events::city_key.eq(city_key))
            .filter(events::starts_at.ge(pass.window_start))
            .filter(events::starts_at.lt(this.ends_at))
            .filter(events::ends_at.gt(this.starts_at))
            .filter(events::id.ne(this.id))
            .filter(events::status.ne(EventStatus::Cancelled.as_str()))
            .filter(events::venue.is_not_null())
            .select((
                events::starts_at,
                events::id,
                events::venue.assume_not_null(),
            ))
            .into_boxed();
        if let Some(ids) = pass.named {
            query = query.filter(events::id.eq_any(ids));
        }
        for (starts_at, event, other) in query.load::<(Timestamp, EventId, String)>(conn)? {
            if fold(&other) == venue {
                self.events.push((starts_at, event));
            }
        }
        Ok(())
    }
}

/// The rows of the `matched` events that `viewer` may see and that are not cancelled, the
/// earliest first, read until [`MAX_WARNINGS`] of them are not sessions of `this` or its parent.
///
/// Every event kept conflicts with `this` at least once, and the warnings are ordered by start:
/// the first [`MAX_WARNINGS`] such events in start order give the same warnings as all of them.
/// So their rows are read a few at a time, in start order, until that many are kept: a busy
/// person or venue costs a few reads, not one random row read per overlapping event.
fn earliest_candidates(
    conn: &mut AnyConnection,
    mut matched: Vec<(Timestamp, EventId)>,
    this: &Candidate,
    viewer: Viewer,
) -> Result<Vec<Candidate>, ApiError> {
    matched.sort();
    matched.dedup_by_key(|(_, event)| *event);
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut kept = 0;
    for chunk in matched.chunks(CANDIDATES_AT_ONCE) {
        let ids: Vec<EventId> = chunk.iter().map(|(_, event)| *event).collect();
        let mut query = by_ids!(events::table.into_boxed(), events::id, ids.as_slice())
            .filter(events::status.ne(EventStatus::Cancelled.as_str()))
            .select(CANDIDATE_COLUMNS);
        if !viewer.sees_internal {
            query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
        }
        let rows: Vec<Candidate> = query.load(conn)?;
        kept += rows.iter().filter(|c| !session_pair(c, this)).count();
        candidates.extend(rows);
        if kept >= MAX_WARNINGS {
            break;
        }
    }
    Ok(candidates)
}

/// How many matched events' rows a write's warnings read at a time (see [`for_event`]): a
/// few more than [`MAX_WARNINGS`], so one read is enough unless some are left out.
const CANDIDATES_AT_ONCE: usize = MAX_WARNINGS + 12;

/// Whether one of the two events is a session of the other: they overlap by design, and
/// never conflict.
fn session_pair(a: &Candidate, b: &Candidate) -> bool {
    a.parent_event_id == Some(b.id) || b.parent_event_id == Some(a.id)
}

/// The people who take part in each of `events`.
fn persons_of(
    conn: &mut AnyConnection,
    events: &[EventId],
) -> Result<HashMap<EventId, HashSet<PersonId>>, ApiError> {
    let mut persons: HashMap<EventId, HashSet<PersonId>> = HashMap::new();
    for chunk in events.chunks(500) {
        let rows: Vec<(EventId, Option<PersonId>)> = event_participants::table
            .filter(event_participants::event_id.eq_any(chunk))
            .filter(event_participants::person_id.is_not_null())
            .select((event_participants::event_id, event_participants::person_id))
            .load(conn)?;
        for (event, person) in rows {
            if let Some(person) = person {
                persons.entry(event).or_default().insert(person);
            }
        }
    }
    Ok(persons)
}

/// The conflicts among `candidates` (only those `involving` one event, if given). `persons`
/// are the people each event shares, when the caller already knows them; else they are read.
fn find(
    conn: &mut AnyConnection,
    mut candidates: Vec<Candidate>,
    involving: Option<EventId>,
    persons: Option<HashMap<EventId, HashSet<PersonId>>>,
) -> Result<Vec<Conflict>, ApiError> {
    candidates.sort_by_key(|c| (c.starts_at, c.id));
    let ids: Vec<EventId> = candidates.iter().map(|c| c.id).collect();
    let persons_of = match persons {
        Some(known) => known,
        None => persons_of(conn, &ids)?,
    };
    let empty = HashSet::new();
    let mut found: Vec<(usize, usize, ConflictKind, Option<PersonId>)> = Vec::new();
    for (i, a) in candidates.iter().enumerate() {
        for (j, b) in candidates.iter().enumerate().skip(i + 1) {
            if b.starts_at >= a.ends_at {
                break;
            }
            if involving.is_some_and(|id| a.id != id && b.id != id) || session_pair(a, b) {
                continue;
            }
            let a_people = persons_of.get(&a.id).unwrap_or(&empty);
            let b_people = persons_of.get(&b.id).unwrap_or(&empty);
            let mut shared: Vec<PersonId> = a_people.intersection(b_people).copied().collect();
            shared.sort();
            for person in shared {
                found.push((i, j, ConflictKind::Person, Some(person)));
            }
            let same_venue = match (&a.venue, &b.venue) {
                (Some(va), Some(vb)) => a.city_key == b.city_key && fold(va) == fold(vb),
                _ => false,
            };
            if same_venue {
                found.push((i, j, ConflictKind::Venue, None));
            }
        }
    }
    let person_ids: Vec<PersonId> = found.iter().filter_map(|(_, _, _, p)| *p).collect();
    let persons = people::summaries(conn, &person_ids)?;
    let summary = |c: &Candidate| EventSummary {
        id: c.id,
        slug: c.slug.clone(),
        title: c.title.clone(),
        start_date: known_day(c.start_date),
    };
    Ok(found
        .into_iter()
        .map(|(i, j, kind, person)| {
            let (a, b) = (&candidates[i], &candidates[j]);
            let person = person.and_then(|p| persons.get(&p).cloned());
            let detail = match (kind, &person) {
                (ConflictKind::Person, Some(p)) => {
                    format!(
                        "{} takes part in both {:?} and {:?}, which overlap",
                        p.name, a.slug, b.slug
                    )
                }
                _ => format!(
                    "{:?} and {:?} overlap at {} in {}",
                    a.slug,
                    b.slug,
                    a.venue.as_deref().unwrap_or("the same venue"),
                    a.city.as_deref().unwrap_or("the same city")
                ),
            };
            Conflict {
                kind,
                event_ids: vec![a.id, b.id],
                events: vec![summary(a), summary(b)],
                venue: (kind == ConflictKind::Venue)
                    .then(|| a.venue.clone())
                    .flatten(),
                city: (kind == ConflictKind::Venue)
                    .then(|| a.city.clone())
                    .flatten(),
                person,
                detail,
            }
        })
        .collect())
}
