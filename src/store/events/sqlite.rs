//! SQLite's side of the event list: `q` through the FTS5 trigram index over `search_text`
//! (table `events_search`, keyed by `events.search_key`; see migration 000008), and the
//! condition of the partial index of long events as SQLite spells it.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::Timestamp;
use crate::error::ApiError;

use super::filter::EventSort;
use super::page::Page;

/// `events_long_idx`'s condition (see [`super::LongSpan`]).
pub(super) const LONG_SPAN: &str = "julianday(events.end_date) - julianday(events.start_date) > 14";

/// The FTS5 phrase matching the (folded, non-empty) text literally: a quoted string.
pub(super) fn phrase(folded: &str) -> String {
    format!("\"{}\"", folded.replace('"', "\"\""))
}

/// Events whose text matches `phrase`, all of them read from the index once.
pub(super) fn all_matching<'q>(query: Page<'q>, phrase: &str) -> Page<'q> {
    query.filter(
        diesel::dsl::sql::<diesel::sql_types::Bool>(
            "events.search_key IN (SELECT rowid FROM events_search \
             WHERE events_search MATCH ",
        )
        .bind::<diesel::sql_types::Text, _>(phrase.to_owned())
        .sql(")"),
    )
}

/// Events whose text matches `phrase`, each checked against the index: for a few rows named
/// by id.
pub(super) fn each_matching<'q>(query: Page<'q>, phrase: &str) -> Page<'q> {
    query.filter(
        diesel::dsl::sql::<diesel::sql_types::Bool>(
            "EXISTS (SELECT 1 FROM events_search WHERE events_search MATCH ",
        )
        .bind::<diesel::sql_types::Text, _>(phrase.to_owned())
        .sql(" AND events_search.rowid = events.search_key)"),
    )
}

/// Events with one of these `search_key`s (keys a [`KeyRange`] walk read), bound as one JSON
/// array, so the statement's text is the same for any number of keys.
pub(super) fn with_search_key_in<'q>(query: Page<'q>, keys: &[i64]) -> Result<Page<'q>, ApiError> {
    let keys = serde_json::to_string(keys).map_err(ApiError::internal)?;
    Ok(query.filter(
        diesel::dsl::sql::<diesel::sql_types::Bool>(
            "events.search_key IN (SELECT value FROM json_each(",
        )
        .bind::<diesel::sql_types::Text, _>(keys)
        .sql("))"),
    ))
}

/// Keys of the text index (`events.search_key`) are the start's Unix second times 2^24 plus a
/// sequence number.
const SECOND_IN_KEYS: i64 = 1 << 24;

fn key_of_second(second: i64) -> i64 {
    second.saturating_mul(SECOND_IN_KEYS)
}

/// Whether a page whose last row starts at `page_last` can gain no event from the keys after
/// `last` in the list's `sort`: it ends more than a second (the rounding of keys, see
/// [`KeyRange::of`]) before the second `last` belongs to.
pub(super) fn settled_before(page_last: Timestamp, last: i64, sort: EventSort) -> bool {
    let page_second = page_last.get().timestamp();
    let key_second = last.div_euclid(SECOND_IN_KEYS);
    match sort {
        EventSort::Start => page_second + 1 < key_second,
        EventSort::StartDescending => page_second - 1 > key_second,
        EventSort::Updated => false,
    }
}

/// The part of the text index a walk has still to read: keys in `low..high`.
pub(super) struct KeyRange {
    low: i64,
    high: i64,
}

impl KeyRange {
    /// The keys of events starting in `starts..before` and, with a `cursor`, on its side of
    /// it in the list's `sort`. Bounds are a second wider than needed, so the rounding of
    /// SQLite's `unixepoch` and chrono's timestamps never matters.
    pub(super) fn of(
        starts: Option<Timestamp>,
        before: Option<Timestamp>,
        cursor: Option<Timestamp>,
        sort: EventSort,
    ) -> Self {
        let second = |at: Timestamp| at.get().timestamp();
        let mut range = Self {
            low: i64::MIN,
            high: i64::MAX,
        };
        if let Some(starts) = starts {
            range.low = range.low.max(key_of_second(second(starts) - 1));
        }
        if let Some(before) = before {
            range.high = range.high.min(key_of_second(second(before) + 2));
        }
        if let Some(at) = cursor {
            match sort {
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
