//! `GET /api/v1/changes`: the change feed, with long polling.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::db::Database;
use crate::error::{ApiError, responses};
use crate::http;
use crate::store::changes::{self, ChangeCursor, ChangePage};

/// The longest `wait` a request may ask for, in seconds.
const MAX_WAIT_SECONDS: u64 = 60;
/// How often a waiting request looks for new changes (a one-row read, then an index range).
const POLL_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next_cursor` (or an item's `cursor`) of an earlier answer: the changes after it.
    /// Absent: no changes, the cursor of now, and `full_state`, the lists to read for the
    /// registry as it is (the initial sync).
    #[param(example = "1.1")]
    since: Option<String>,
    /// The most changes to answer with: 1 to 1000, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Seconds to wait for a change when there is none after `since` yet (long polling):
    /// 0 to 60, default 0. The answer comes as soon as a change is committed, or empty when
    /// the time is up.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 60)]
    wait: Option<String>,
}

/// Every change to every record, in commit order (the change feed)
///
/// Lists each record created, changed or deleted, oldest first, in the order the writes were
/// committed, so a client that follows `next_cursor` sees every change exactly once, even
/// while many writers commit at once on several processes. A deletion leaves a tombstone
/// (`action: deleted`). Without a token that may see internal events, internal events are
/// left out entirely: an event that becomes internal is a `deleted` and one that becomes
/// public a `created`. Changes are kept for the retention period (`REGISTRY_CHANGES_RETENTION_DAYS`,
/// 90 days by default); an older cursor gets 410, and the client resyncs.
///
/// Start without `since`: the answer has no items, the cursor of now and `full_state`, the
/// lists to page for the registry as it is; then follow the feed from that cursor. A change
/// already seen in a list may come again (compare `version`). Each item names the record
/// (`resource`, `id`, `slug`, `url`) and its `version` after the change; fetch `url` for
/// its content. A change to one record that shows in another's embedded summaries (a
/// renamed organisation in an event's `organisers`) is listed for the record that changed.
#[utoipa::path(
    tag = "changes",
    params(ChangesQuery),
    responses(
        (status = 200, description = "The changes after `since` (or the cursor of now)", body = ChangePage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::ChangesGone,
        responses::BadCursor,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/changes")]
pub async fn list_changes(
    db: web::Data<Database>,
    query: web::Query<ChangesQuery>,
    caller: crate::routes::Caller,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let since = match query.since.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(ChangeCursor::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "since",
                format!(
                    "{text:?} is not a cursor of the change feed (they look like 1042 or 1042.1187: a next_cursor or an item's cursor)"
                ),
            )
        })?),
    };
    let limit = match query.limit {
        None => changes::DEFAULT_LIMIT,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if (1..=changes::MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_parameter(
                    "limit",
                    format!("must be a whole number from 1 to {}", changes::MAX_LIMIT),
                ));
            }
        },
    };
    let wait = match query.wait {
        None => 0,
        Some(text) => match text.trim().parse::<u64>() {
            Ok(n) if n <= MAX_WAIT_SECONDS => n,
            _ => {
                return Err(ApiError::bad_parameter(
                    "wait",
                    format!("must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"),
                ));
            }
        },
    };
    let viewer = caller.viewer();
    let deadline = Instant::now() + Duration::from_secs(wait);
    loop {
        let page: ChangePage = db
            .run(move |conn| changes::list(conn, since, limit, viewer))
            .await?;
        if since.is_none() || !page.items.is_empty() || Instant::now() >= deadline {
            return Ok(http::collection(&page));
        }
        actix_web::rt::time::sleep(POLL_EVERY.min(deadline - Instant::now())).await;
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_changes);
}
