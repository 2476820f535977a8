//! Date windows: the UTC span of events that may overlap a range of local dates, and the
//! few long events indexed apart.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;

use crate::cache::Derived;
use crate::db::schema::events;
use crate::db::{AnyConnection, Timestamp};
use crate::domain::event::MAX_DURATION_DAYS;
use crate::error::ApiError;
use crate::ids::EventId;

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
            crate::db::MultiBackend::Sqlite(_) => super::sqlite::LONG_SPAN,
            crate::db::MultiBackend::Postgresql(_) => super::postgres::LONG_SPAN,
        });
        Ok(())
    }
}

/// Long events in a window beyond which one year-wide query is cheaper than naming them.
pub(super) const LONG_IDS_AT_ONCE: i64 = 500;

/// The long events that start in a window, for queries about events overlapping it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LongEvents {
    /// These (often none): a query for them by id is cheap.
    Named(Vec<EventId>),
    /// More than [`LONG_IDS_AT_ONCE`]: a window widened by the longest an event may last is
    /// the better plan.
    TooMany,
}

/// The long events of each `from` window (keyed by the earliest start they are read from),
/// each kept for the registry generation it was read at: what every event list with a `from`
/// date asks first. One per server, beside the representation cache; see [`list_rows`].
///
/// [`list_rows`]: super::list_rows
pub struct LongEventsKept(Derived<Timestamp, LongEvents>);

impl LongEventsKept {
    /// Windows kept at once; the least used go first.
    const WINDOWS: usize = 64;

    pub fn new() -> Self {
        Self(Derived::new(Self::WINDOWS))
    }

    /// The long events from `earliest` on, and the generation they were read at.
    pub(super) fn get(&self, earliest: Timestamp) -> Option<(i64, Arc<LongEvents>)> {
        self.0.get(&earliest)
    }

    /// Keeps `long`, read at `generation` (or later), and returns it.
    pub(super) fn insert(
        &self,
        earliest: Timestamp,
        generation: i64,
        long: LongEvents,
    ) -> Arc<LongEvents> {
        self.0.insert(earliest, generation, long)
    }
}

impl Default for LongEventsKept {
    fn default() -> Self {
        Self::new()
    }
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
pub(super) enum Span {
    /// No window: all of them.
    Any,
    /// Events of at most [`SHORT_SPAN_DAYS`], in a window widened by that much (others that
    /// start in it are found too).
    Short,
    /// The long events named by id, or, when there are too many to name, every event in a
    /// window widened by the longest an event may last.
    Long,
}

/// The earliest start an event of `span` overlapping `from` may have.
pub(super) fn span_start(from: NaiveDate, span: Span) -> Timestamp {
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

/// The easternmost UTC offset, in hours (Pacific/Kiritimati).
pub(super) const MAX_UTC_OFFSET_HOURS: i64 = 14;

pub(super) fn utc_midnight(day: NaiveDate) -> Timestamp {
    // Past the year 9999 an instant has no four-digit year, and SQLite compares stored instants
    // as text, where `+10000-…` sorts before every one of them: a bound that late (`to` of
    // 9999-12-31 and two days more) is the last instant of 9999 instead.
    if day.year() > 9999 {
        let last = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
            .unwrap_or(NaiveDateTime::MAX);
        return Timestamp::from(last.and_utc());
    }
    Timestamp::from(day.and_time(NaiveTime::MIN).and_utc())
}
