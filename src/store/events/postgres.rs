//! PostgreSQL's side of the event list: planning a `q` page for its pattern, and the
//! condition of the partial index of long events as PostgreSQL spells it.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::error::ApiError;

/// `events_long_idx`'s condition (see [`super::LongSpan`]).
pub(super) const LONG_SPAN: &str = "events.end_date - events.start_date > 14";

/// Runs `work` in a transaction of its own whose statements PostgreSQL plans for their values.
///
/// Connections keep generic plans (`db::ConnectionManager`): a plan per statement, not per
/// run. But how many events a `q` pattern matches decides between the trigram index (a rare
/// term) and a walk in start order (a frequent one), and a generic plan picks one of them for
/// every pattern.
pub(super) fn planned_for_values<T>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
        work(conn)
    })
}
