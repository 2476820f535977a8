//! The events of one party (a person, an organisation, a topic) in start order, a batch at a
//! time, for event lists filtered by that party.
//!
//! Every organiser, participant and topic row carries its event's start and end (migrations
//! 000007 and 000009) and is indexed by (party, start, event, end). A list filtered by a party
//! reads candidate events from that index in the list's order (leaving out in the index those
//! that ended before the list's window) and checks only those against its other filters,
//! doubling the batch until a page is full. What a page costs then follows the page, not the
//! number of the party's events (an organisation of a million-event registry has thousands).

use diesel::prelude::*;

use crate::db::schema::{event_organisers, event_participants, event_topics, events};
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::EventId;

use super::filter::{EventSort, order_page};
use super::page::{IdAmong, Page};
use super::query::{Party, Planner};
use super::rows::{PageKey, undated_at};
use super::window::{MAX_UTC_OFFSET_HOURS, Span, span_end, span_start, utc_midnight};

/// A key of the walk: an event's start and id, the order of every list by start.
type Key = (Timestamp, EventId);

/// The part of a party's index a walk has still to read.
#[derive(Debug, Clone)]
pub(super) struct PartyWalk<'a> {
    party: Party<'a>,
    descending: bool,
    /// Starts on or after this.
    low: Option<Timestamp>,
    /// Starts before this.
    below: Option<Timestamp>,
    /// Starts on or before this.
    up_to: Option<Timestamp>,
    /// Ends on or after this.
    ends_from: Option<Timestamp>,
    /// The last key read: the walk goes on past it.
    after: Option<Key>,
    done: bool,
}

/// The candidates of one relation table, in the walk's order, at most `$limit`.
macro_rules! candidates {
    ($conn:expr, $table:ident, $matches:expr, $walk:expr, $limit:expr) => {{
        let walk: &PartyWalk<'_> = $walk;
        let mut query = $table::table
            .filter($matches)
            .select(($table::starts_at, $table::event_id))
            .into_boxed();
        if let Some(low) = walk.low {
            query = query.filter($table::starts_at.ge(low));
        }
        if let Some(below) = walk.below {
            query = query.filter($table::starts_at.lt(below));
        }
        if let Some(up_to) = walk.up_to {
            query = query.filter($table::starts_at.le(up_to));
        }
        if let Some(ends_from) = walk.ends_from {
            query = query.filter($table::ends_at.ge(ends_from));
        }
        // The plain bound lets the index seek; the exact one breaks ties between events that
        // start at the same instant.
        query = match (walk.after, walk.descending) {
            (None, _) => query,
            (Some((at, id)), false) => query.filter($table::starts_at.ge(at)).filter(
                $table::starts_at
                    .gt(at)
                    .or($table::starts_at.eq(at).and($table::event_id.gt(id))),
            ),
            (Some((at, id)), true) => query.filter($table::starts_at.le(at)).filter(
                $table::starts_at
                    .lt(at)
                    .or($table::starts_at.eq(at).and($table::event_id.lt(id))),
            ),
        };
        query = if walk.descending {
            query.order(($table::starts_at.desc(), $table::event_id.desc()))
        } else {
            query.order(($table::starts_at.asc(), $table::event_id.asc()))
        };
        query
            .limit($limit)
            .load::<(Option<Timestamp>, EventId)>($conn)?
    }};
}

/// `$filtered` limited to the first `$batch` candidates of one relation table between the
/// bounds, in the walk's order: a subquery of fixed shape.
macro_rules! checked_first {
    ($filtered:expr, $table:ident, $matches:expr, ($low:expr, $high:expr, $ends_from:expr, $descending:expr, $batch:expr)) => {{
        let candidates = $table::table
            .filter($matches)
            .filter($table::starts_at.ge($low))
            .filter($table::starts_at.le($high))
            .filter($table::ends_at.ge($ends_from))
            .select($table::event_id);
        if $descending {
            $filtered.filter(IdAmong(
                candidates
                    .order(($table::starts_at.desc(), $table::event_id.desc()))
                    .limit($batch),
            ))
        } else {
            $filtered.filter(IdAmong(
                candidates
                    .order(($table::starts_at.asc(), $table::event_id.asc()))
                    .limit($batch),
            ))
        }
    }};
}

/// The open ends of a walk's bounds: before and after every stored instant (an undated event
/// is stored at the start of 9999-12-31).
fn earliest() -> Timestamp {
    Timestamp::from(
        chrono::NaiveDate::from_ymd_opt(1, 1, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|at| at.and_utc())
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC),
    )
}

fn latest() -> Timestamp {
    Timestamp::from(
        chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|day| day.and_hms_micro_opt(23, 59, 59, 999_999))
            .map(|at| at.and_utc())
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC),
    )
}

impl<'a> PartyWalk<'a> {
    /// A walk over the starts a list's span may hold: on or after `low`, before `below`, and
    /// from the list's cursor on (`cursor_at`, in the list's direction); of events that end on
    /// or after `ends_from`.
    pub(super) fn new(
        party: Party<'a>,
        descending: bool,
        (low, below): (Option<Timestamp>, Option<Timestamp>),
        ends_from: Option<Timestamp>,
        cursor_at: Option<Timestamp>,
    ) -> Self {
        let (low, up_to) = match (cursor_at, descending) {
            (None, _) => (low, None),
            (Some(at), false) => (Some(low.map_or(at, |low| low.max(at))), None),
            (Some(at), true) => (low, Some(at)),
        };
        Self {
            party,
            descending,
            low,
            below,
            up_to,
            ends_from,
            after: None,
            done: false,
        }
    }

    /// Whether every candidate has been read.
    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// For a party with one index (a person, a topic), the first `batch` candidates checked
    /// against the rest of the page's filters in the same statement: `filtered` limited to
    /// them. `None` for an organisation, whose two indexes are merged in Rust, and once the
    /// walk has begun.
    fn first_checked<'q>(&self, filtered: Page<'q>, batch: i64) -> Option<Page<'q>>
    where
        'a: 'q,
    {
        if self.after.is_some() || self.done {
            return None;
        }
        // One statement text for every walk (the bounds a walk leaves open are the ends of
        // time), so that it is prepared once; starts are kept to the microsecond, so "before
        // `below`" is "at most a microsecond before it".
        let low = self.low.unwrap_or_else(earliest);
        let high = [
            self.up_to,
            self.below
                .map(|below| Timestamp::from(below.get() - chrono::Duration::microseconds(1))),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or_else(latest);
        let ends_from = self.ends_from.unwrap_or_else(earliest);
        Some(match self.party {
            Party::Person(id) => checked_first!(
                filtered,
                event_participants,
                event_participants::person_id.eq(Some(id)),
                (low, high, ends_from, self.descending, batch)
            ),
            Party::Topic(key) => checked_first!(
                filtered,
                event_topics,
                event_topics::topic_key.eq(key),
                (low, high, ends_from, self.descending, batch)
            ),
            Party::Organisation(_) => return None,
        })
    }

    /// The next candidates in the walk's order, each event once. Together with the earlier
    /// ones they are every event of the party up to the last one returned; reads at most
    /// `batch` rows of each index.
    pub(super) fn next_batch(
        &mut self,
        conn: &mut AnyConnection,
        batch: i64,
    ) -> Result<Vec<EventId>, ApiError> {
        if self.done {
            return Ok(Vec::new());
        }
        let streams = match self.party {
            Party::Person(id) => vec![candidates!(
                conn,
                event_participants,
                event_participants::person_id.eq(Some(id)),
                self,
                batch
            )],
            Party::Organisation(id) => vec![
                candidates!(
                    conn,
                    event_organisers,
                    event_organisers::organisation_id.eq(id),
                    self,
                    batch
                ),
                candidates!(
                    conn,
                    event_participants,
                    event_participants::organisation_id.eq(Some(id)),
                    self,
                    batch
                ),
            ],
            Party::Topic(key) => vec![candidates!(
                conn,
                event_topics,
                event_topics::topic_key.eq(key),
                self,
                batch
            )],
        };
        let batch = usize::try_from(batch).unwrap_or(usize::MAX);
        // A stream that filled its batch may go on past its last key; one that did not is
        // complete. The merge is complete up to the nearest of the full streams' last keys.
        let full_ends = streams
            .iter()
            .filter(|rows| rows.len() >= batch)
            .filter_map(|rows| rows.last())
            .filter_map(|&(at, id)| at.map(|at| (at, id)));
        let cut = if self.descending {
            full_ends.max()
        } else {
            full_ends.min()
        };
        let mut keys: Vec<Key> = streams
            .into_iter()
            .flatten()
            .filter_map(|(at, id)| at.map(|at| (at, id)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        if self.descending {
            keys.reverse();
        }
        if let Some(cut) = cut {
            keys.retain(|key| {
                if self.descending {
                    *key >= cut
                } else {
                    *key <= cut
                }
            });
        }
        // Complete up to any earlier key too: a step hands on at most `batch` candidates, each
        // of which costs the page's query a row.
        if keys.len() > batch {
            keys.truncate(batch);
            self.after = keys.last().copied();
        } else if cut.is_some() {
            self.after = cut;
        } else {
            self.done = true;
        }
        Ok(keys.into_iter().map(|(_, id)| id).collect())
    }
}

/// The most candidates a party's walk reads from an index in one step.
const PARTY_BATCH_MAX: i64 = 4096;

/// A span's rows of `party`'s events: candidates come from the party's index in start order,
/// a batch at a time; each batch is checked against the other filters, until a page is full.
pub(super) fn walk_party(
    conn: &mut AnyConnection,
    planner: &Planner<'_>,
    span: Span,
    party: Party<'_>,
) -> Result<Vec<PageKey>, ApiError> {
    let (sort, want) = (planner.sort(), planner.want);
    let filter = planner.page.filter;
    let cursor_at = planner.page.cursor.map(|(key, _)| key);
    // An event that ends on or after `from` (a local date) ends at or after midnight of
    // `from` in the easternmost time zone (UTC+14): the tightest bound its end instant gives.
    // Events that end on the day before `from` in the zones west of it still pass it, and the
    // page's query leaves them out.
    let mut walk = PartyWalk::new(
        party,
        sort == EventSort::StartDescending,
        (
            filter.from.map(|from| span_start(from, span)),
            // A window leaves out the events whose dates are not known (stored at the start
            // of 9999-12-31): `to` by its end, `from` alone by this bound.
            filter
                .to
                .map(span_end)
                .or_else(|| filter.from.map(|_| undated_at())),
        ),
        filter.from.map(|from| {
            Timestamp::from(
                utc_midnight(from).get() - chrono::Duration::hours(MAX_UTC_OFFSET_HOURS),
            )
        }),
        cursor_at,
    );
    // A little more than a page: a few candidates that fail the other filters (an internal
    // event, say) cost no second step, and every candidate costs a row.
    let mut batch = (want + want / 8 + 2).min(PARTY_BATCH_MAX);
    let mut found: Vec<PageKey> = Vec::new();
    let mut read = 0;
    // The first step of a one-index party is one statement: its candidates checked in a
    // subquery. A full page needs nothing more; else the candidates are read alone, to learn
    // where the walk goes on (or that it is done), and the loop takes over from there.
    let mut checked = false;
    if let Some(query) = walk.first_checked(planner.filtered(span, Some(party)), batch) {
        found = planner.load(conn, query)?;
        order_page(&mut found, sort, want);
        if found.len() as i64 >= want {
            return Ok(found);
        }
        checked = true;
    }
    while !walk.is_done() {
        let ids = walk.next_batch(conn, batch)?;
        read += ids.len() as i64;
        // The first step's candidates were checked by the first statement.
        let already_checked = std::mem::take(&mut checked);
        if !already_checked && !ids.is_empty() {
            let query = planner
                .filtered(span, Some(party))
                .filter(events::id.eq_any(ids));
            found.extend(planner.load(conn, query)?);
            order_page(&mut found, sort, want);
        }
        // Every event of the party up to the last candidate has been checked, and the rest
        // come after it.
        let have = found.len() as i64;
        if have >= want {
            break;
        }
        // The next step reads what the rest of the page needs at the share of candidates
        // that passed so far, with a quarter more; at most twice the last step. Candidates
        // that fail come mostly first (those that ended just before `from`), so a page that
        // came out a few short rarely needs the doubled step.
        batch = if have > 0 {
            let needed = read.saturating_mul(want - have) / have;
            (needed + needed / 4 + 2).min(batch * 2)
        } else {
            batch * 2
        }
        .min(PARTY_BATCH_MAX);
    }
    Ok(found)
}
