//! The change feed: every record created, changed or deleted, in commit order.
//!
//! The rows are written by the triggers of the `changes` table (whatever wrote the record: the
//! API, an import, a chain or a membership) and stamped with the registry's generation as their
//! transaction commits (`db::transactions::advance_generation`, under the lock that orders committing
//! writers). A cursor is a position `(generation, seq)`: everything up to it has been read, and
//! nothing committed later can land before it.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{changes, registry_state};
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::RecordId;
use crate::store::Viewer;
use crate::store::pagination::after_cursor;

/// The most changes one page holds.
pub const MAX_LIMIT: i64 = 1000;
/// Changes per page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Created => "created",
            ChangeAction::Updated => "updated",
            ChangeAction::Deleted => "deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "created" => Some(ChangeAction::Created),
            "updated" => Some(ChangeAction::Updated),
            "deleted" => Some(ChangeAction::Deleted),
            _ => None,
        }
    }
}

/// A position in the feed: every change up to it has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChangeCursor {
    generation: i64,
    seq: i64,
}

impl ChangeCursor {
    /// Reads a cursor as the feed wrote it (`GENERATION.SEQ`, or `GENERATION` for the end of
    /// one); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let number = |s: &str| {
            (!s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i64>().ok())
                .flatten()
        };
        match text.split_once('.') {
            Some((generation, seq)) => Some(Self {
                generation: number(generation)?,
                seq: number(seq)?,
            }),
            None => Some(Self::end_of(number(text)?)),
        }
    }

    /// After every change of `generation` and before.
    fn end_of(generation: i64) -> Self {
        Self {
            generation,
            seq: i64::MAX,
        }
    }
}

impl fmt::Display for ChangeCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seq == i64::MAX {
            write!(f, "{}", self.generation)
        } else {
            write!(f, "{}.{}", self.generation, self.seq)
        }
    }
}

/// What happened to the record, as the caller may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// The record came into being (or, for a caller without a token, an internal event became
    /// public).
    Created,
    /// The record changed: fetch it at `url` for its new state.
    Updated,
    /// The record is gone (or, for a caller without a token, an event became internal): a
    /// tombstone.
    Deleted,
}

/// One change to one record.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Change {
    /// This change's position: pass it as `since` to read what came after it. Opaque:
    /// compare cursors only by passing them back.
    #[schema(example = "1.2")]
    pub cursor: String,
    /// When the write that made it was committed (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// The kind of record: `organisation`, `person`, `network`, `membership` (a network's
    /// member), `event`, `chain`, `programme`, `publication`, `outcome` (of an event) or
    /// `comment` (only approved ones: a comment's approval is its creation here, its rejection
    /// or removal its deletion).
    #[schema(example = "event")]
    pub resource: String,
    /// The record's id.
    #[schema(value_type = String, format = Uuid)]
    pub id: RecordId,
    /// The record's slug at the time of the change; `null` for memberships, which have none.
    #[schema(example = "iisg-board-4")]
    pub slug: Option<String>,
    /// What happened.
    pub action: ChangeAction,
    /// The record's `version` after the change (for `deleted`, the last version it had):
    /// a mirror that holds this version or a later one can skip the change.
    #[schema(example = 3)]
    pub version: i32,
    /// Where the record is read, by id (404 once it is deleted), e.g.
    /// `/api/v1/events/{id}` or, for a membership, `/api/v1/networks/{id}/members/{id}`.
    pub url: String,
}

/// A page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    /// The changes after `since`, oldest first; empty when there are none (yet).
    pub items: Vec<Change>,
    /// Pass as `since` for the next page; present on every answer, also an empty one. When
    /// `items` holds fewer than `limit` changes, the feed has been read to its end.
    #[schema(example = "1")]
    pub next_cursor: String,
    /// Only when `since` was absent: the lists to page for the full state as of now (or
    /// later). Reading them after taking `next_cursor`, then following the feed from
    /// `next_cursor`, misses nothing; a change already seen in a list may come again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = json!(["/api/v1/organisations", "/api/v1/people", "/api/v1/networks", "/api/v1/programmes", "/api/v1/events", "/api/v1/chains", "/api/v1/publications", "/api/v1/outcomes"]))]
    pub full_state: Option<Vec<String>>,
}

/// The lists that hold the registry's full state (memberships are read per network).
const FULL_STATE: [&str; 8] = [
    "/api/v1/organisations",
    "/api/v1/people",
    "/api/v1/networks",
    "/api/v1/programmes",
    "/api/v1/events",
    "/api/v1/chains",
    "/api/v1/publications",
    "/api/v1/outcomes",
];

#[derive(Queryable)]
struct ChangeRow {
    seq: i64,
    generation: Option<i64>,
    at: Option<Timestamp>,
    resource: String,
    record_id: RecordId,
    parent_id: Option<RecordId>,
    slug: Option<String>,
    action: String,
    version: i32,
    public_before: bool,
    public_after: bool,
}

/// The changes after `since` that `viewer` may see, at most `limit`; with no `since`, none
/// and the cursor of now.
pub fn list(
    conn: &mut AnyConnection,
    since: Option<ChangeCursor>,
    limit: i64,
    viewer: Viewer,
) -> Result<ChangePage, ApiError> {
    // Read first: every change up to this generation is committed and visible to the query
    // below, so a short page has read the feed up to here at least.
    let (current, dropped_through): (i64, i64) = registry_state::table
        .filter(registry_state::id.eq(1))
        .select((
            registry_state::generation,
            registry_state::changes_dropped_through,
        ))
        .first(conn)?;
    let Some(since) = since else {
        return Ok(ChangePage {
            items: Vec::new(),
            next_cursor: ChangeCursor::end_of(current).to_string(),
            full_state: Some(FULL_STATE.iter().map(|s| (*s).to_owned()).collect()),
        });
    };
    if dropped_through > 0 && since < ChangeCursor::end_of(dropped_through) {
        return Err(ApiError::Gone {
            detail: format!(
                "changes up to cursor {} are no longer kept; resync: read the lists again \
                 (GET /api/v1/changes without since gives the cursor to follow from)",
                ChangeCursor::end_of(dropped_through)
            ),
        });
    }
    if since.generation > current {
        return Err(ApiError::invalid(
            "since",
            "is a cursor this registry has not given yet; use the next_cursor of an answer",
        ));
    }
    let limit = limit.clamp(1, MAX_LIMIT);
    let after = after_cursor!(
        changes::table.filter(changes::generation.is_not_null()),
        changes::generation,
        changes::seq,
        since.generation,
        since.seq
    );
    let mut query = after
        .order((changes::generation.asc(), changes::seq.asc()))
        .limit(limit)
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(changes::public_before.or(changes::public_after));
    }
    let rows: Vec<ChangeRow> = query.load(conn)?;
    let full = rows.len() as i64 >= limit;
    let items: Vec<Change> = rows
        .into_iter()
        .map(|row| change(row, viewer))
        .collect::<Result<_, _>>()?;
    let last = items.last().and_then(|c| ChangeCursor::parse(&c.cursor));
    let next = match last {
        Some(last) if full => last,
        // A short page read everything up to `current` (and maybe beyond).
        last => last.unwrap_or(since).max(ChangeCursor::end_of(current)),
    };
    Ok(ChangePage {
        items,
        next_cursor: next.to_string(),
        full_state: None,
    })
}

/// A stored change as `viewer` sees it: for a caller without a token, an event becoming
/// internal is its deletion and becoming public its creation.
fn change(row: ChangeRow, viewer: Viewer) -> Result<Change, ApiError> {
    let Some(stored) = ChangeAction::parse(&row.action) else {
        return Err(ApiError::internal(format!(
            "stored change action {:?}",
            row.action
        )));
    };
    let action = match (viewer.sees_internal, row.public_before, row.public_after) {
        (true, _, _) => stored,
        (false, true, false) => ChangeAction::Deleted,
        (false, false, true) => ChangeAction::Created,
        _ => stored,
    };
    let (Some(generation), Some(at)) = (row.generation, row.at) else {
        return Err(ApiError::internal("an unstamped change was read"));
    };
    let url = match (row.resource.as_str(), row.parent_id) {
        ("membership", Some(network)) => {
            format!("/api/v1/networks/{network}/members/{}", row.record_id)
        }
        ("organisation", _) => format!("/api/v1/organisations/{}", row.record_id),
        ("person", _) => format!("/api/v1/people/{}", row.record_id),
        ("network", _) => format!("/api/v1/networks/{}", row.record_id),
        ("event", _) => format!("/api/v1/events/{}", row.record_id),
        ("chain", _) => format!("/api/v1/chains/{}", row.record_id),
        ("programme", _) => format!("/api/v1/programmes/{}", row.record_id),
        ("comment", _) => format!("/api/v1/comments/{}", row.record_id),
        ("publication", _) => format!("/api/v1/publications/{}", row.record_id),
        ("outcome", _) => format!("/api/v1/outcomes/{}", row.record_id),
        (other, _) => return Err(ApiError::internal(format!("stored change of {other:?}"))),
    };
    Ok(Change {
        cursor: ChangeCursor {
            generation,
            seq: row.seq,
        }
        .to_string(),
        at: at.get(),
        resource: row.resource,
        id: row.record_id,
        slug: row.slug,
        action,
        version: row.version,
        url,
    })
}

/// Whether any change was committed before `now - retention` (a read, so that finding none
/// writes nothing).
pub fn any_older_than(
    conn: &mut AnyConnection,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let cutoff = Timestamp::from(now - retention);
    Ok(diesel::select(diesel::dsl::exists(
        changes::table.filter(changes::at.lt(cutoff)),
    ))
    .get_result(conn)?)
}

/// Drops the changes committed before `now - retention`; a cursor from before them then
/// gets 410. Returns how many were dropped. Call inside a write transaction.
pub fn drop_older_than(
    conn: &mut AnyConnection,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let cutoff = Timestamp::from(now - retention);
    let last: Option<i64> = changes::table
        .filter(changes::at.lt(cutoff))
        .select(diesel::dsl::max(changes::generation))
        .first(conn)?;
    let Some(last) = last else {
        return Ok(0);
    };
    let dropped =
        diesel::delete(changes::table.filter(changes::generation.le(last))).execute(conn)?;
    diesel::update(registry_state::table.filter(registry_state::id.eq(1)))
        .set(registry_state::changes_dropped_through.eq(last))
        .execute(conn)?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_written() {
        for text in ["0", "7", "1042.1187", "1042.0"] {
            let cursor = ChangeCursor::parse(text).expect(text);
            assert_eq!(cursor.to_string(), text);
        }
        assert!(ChangeCursor::parse("7").unwrap() > ChangeCursor::parse("7.99").unwrap());
        assert!(ChangeCursor::parse("8.1").unwrap() > ChangeCursor::parse("7").unwrap());
    }

    #[test]
    fn anything_else_is_no_cursor() {
        for text in [
            "",
            ".",
            "1.",
            ".1",
            "-1",
            "1.-1",
            "1.2.3",
            "+1",
            "1e3",
            "9999999999999999999",
        ] {
            assert_eq!(ChangeCursor::parse(text), None, "{text}");
        }
    }
}
