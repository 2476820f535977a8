//! `q` on SQLite: the FTS5 trigram index over `search_text`, walked in start order.

use diesel::prelude::*;

use crate::db::{AnyConnection, Timestamp};
use crate::domain::text::{fold, like_pattern};
use crate::error::ApiError;

use super::{list::*, window::*};

/// How `q` is matched.
pub(super) enum Text {
    /// No `q` (or one that folds to nothing).
    Any,
    /// A LIKE pattern: on PostgreSQL (its trigram index serves it), and on SQLite for one or
    /// two characters.
    Like(String),
    /// An FTS5 phrase for SQLite's trigram index, which finds the substring.
    Indexed(String),
}

impl Text {
    pub(super) fn of(conn: &AnyConnection, q: &str) -> Self {
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

/// The most text-index matches read in one step of a walk.
pub(super) const TEXT_BATCH_MAX: i64 = 4096;

/// Keys of the text index (`events.search_key`, see migration 000008) are the start's Unix
/// second times 2^24 plus a sequence number.
pub(super) const SECOND_IN_KEYS: i64 = 1 << 24;

pub(super) fn key_of_second(second: i64) -> i64 {
    second.saturating_mul(SECOND_IN_KEYS)
}

/// The part of the text index a walk has still to read: keys in `low..high`.
pub(super) struct KeyRange {
    low: i64,
    high: i64,
}

impl KeyRange {
    /// The keys of events a span may hold. Bounds are a second wider than needed, so the
    /// rounding of SQLite's `unixepoch` and chrono's timestamps never matters.
    pub(super) fn of(filter: &EventFilter, span: Span, cursor: Option<Timestamp>) -> Self {
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

    pub(super) fn is_empty(&self) -> bool {
        self.low >= self.high
    }

    /// The next (at most) `batch` keys matching `phrase`, in the list's order, taking them off
    /// the range.
    pub(super) fn next_matches(
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
    pub(super) fn end_with_second_of(&mut self, last: i64, sort: EventSort) {
        let second = last.div_euclid(SECOND_IN_KEYS);
        if sort == EventSort::StartDescending {
            self.low = self.low.max(key_of_second(second));
        } else {
            self.high = self.high.min(key_of_second(second + 1));
        }
    }
}
