//! `/api/v1/chains`: back-to-back chains of events; `/api/v1/conflicts`.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Days;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::clock::Clock;
use crate::db::Database;
use crate::domain::chain::ChainInput;
use crate::domain::enums::Role;
use crate::error::{ApiError, responses};
use crate::http;
use crate::representation;
use crate::routes::{Caller, params, rest};
use crate::store::Viewer;
use crate::store::audit;
use crate::store::chains::{self as store, ChainFilter, ChainPage, ChainResponse, Chains};
use crate::store::conflicts::{self, Conflict};
use crate::store::idempotency::StoredResponse;
use crate::store::resource::Resource;

rest::crud_handlers! {
    resource: Chains,
    tag: "chains",
    collection: "/chains",
    item: "/chains/{id}",
    input: ChainInput,
    response: ChainResponse,
    summaries: ["Create a chain of back-to-back events", "One chain, its events in order", "Change a chain (`event_ids` replaces the list)", "Delete a chain (its events stay)"],
    descriptions: [
        "`event_ids` take ids or slugs and must exist (422 otherwise); the chain orders them by start. Refused with 409 when they break the chain's rules: overlapping events (`chain_no_overlap`), a gap longer than `max_gap_days` (`chain_max_gap`), another city while `same_city` holds (`chain_same_city`), an event already in another chain (`chain_single`), or a taken slug (`slug_unique`).",
        "The chain with its events in start order, each with its dates, times, city and whether it is cancelled.",
        "Changing `max_gap_days` or `same_city` re-checks the events against the new rules; `event_ids`, when present, replaces the whole list (409 as on create).",
        "The events stay in the registry, in no chain.",
    ],
    id_example: "tirana-april-2019",
    handlers: [create_chain, get_chain, update_chain, delete_chain],
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChainListQuery {
    /// Text in the title, case- and accent-insensitive. At most 200 characters.
    #[param(example = "tirana")]
    q: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// List chains by title
///
/// Anyone may list chains; each comes with its events in order, as `GET /api/v1/chains/{id}`
/// gives it (events a caller may not see are left out). Keyset-paginated: when `next_cursor`
/// is not `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "chains",
    params(ChainListQuery),
    responses(
        (status = 200, description = "A page of chains", body = ChainPage),
        responses::BadRequest,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/chains")]
pub async fn list_chains(
    req: HttpRequest,
    db: web::Data<Database>,
    query: web::Query<ChainListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = ChainFilter {
        q: params::text("q", query.q)?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        store::list(conn, &filter, viewer)
    })
    .await
}

/// The event to add to a chain.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainEventInput {
    /// Event id or slug.
    #[schema(example = "rnnc-3")]
    pub event_id: String,
}

/// Add an event to a chain
///
/// The event is placed by its start. Needs a token with role editor or admin. Refused with 409
/// when the chain's rules would break (`chain_no_overlap`, `chain_max_gap`, `chain_same_city`)
/// or the event is in another chain (`chain_single`); 404 when the chain does not exist, 422
/// when the event does not. Answers 200 with the whole chain; an event already in the chain
/// is left as it is (the same version and ETag, nothing audited). `Idempotency-Key` works as
/// on the other POSTs.
#[utoipa::path(
    tag = "chains",
    params(
        ("id" = String, Path, description = "The chain's id (UUID) or slug", example = "tirana-april-2019"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token."),
    ),
    request_body(content = ChainEventInput, description = "The event to add", content_type = "application/json"),
    responses(
        (status = 200, description = "The chain with the event in place", body = ChainResponse, headers(
            ("ETag" = String, description = "The chain's new entity tag"),
        )),
        responses::BadRequest,
        responses::NotFound,
        responses::Conflict,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/chains/{id}/events")]
pub async fn add_chain_event(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let input: ChainEventInput = http::parse_input(http::json_body(&req, &body)?)?;
    let key = path.into_inner();
    rest::post_once(&req, &db, &caller, &body, move |conn| {
        let (event_id, added) = store::add_event(conn, &key, input.event_id.trim())?;
        let chain = Chains::get(conn, &key, Viewer::WRITER)?;
        if added {
            let changes = serde_json::json!({"event_id": event_id});
            audit::record(
                conn,
                &actor,
                "add_event",
                "chain",
                &chain.id.to_string(),
                &changes,
            )?;
        }
        let (body, etag) = representation::of(&chain)?;
        Ok(StoredResponse {
            status: 200,
            location: None,
            etag: Some(etag),
            body,
        })
    })
    .await
}

/// Remove an event from a chain
///
/// The event stays in the registry, in no chain. Needs a token with role editor or admin.
/// Answers 204. 404 when the chain does not exist or the event is not in it; 409 when the
/// events left would break the chain's rules (a gap too long once the middle event is gone).
#[utoipa::path(
    tag = "chains",
    params(
        ("id" = String, Path, description = "The chain's id (UUID) or slug", example = "tirana-april-2019"),
        ("event_id" = String, Path, description = "The event's id (UUID) or slug", example = "rnnc-3"),
    ),
    responses(
        (status = 204, description = "Removed"),
        responses::NotFound,
        responses::Conflict,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[delete("/chains/{id}/events/{event_id}")]
pub async fn remove_chain_event(
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let (chain, event) = path.into_inner();
    db.write(move |conn| {
        let (chain_id, event_id) = store::remove_event(conn, &chain, &event)?;
        let changes = serde_json::json!({"event_id": event_id});
        audit::record(
            conn,
            &actor,
            "remove_event",
            "chain",
            &chain_id.to_string(),
            &changes,
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConflictQuery {
    /// The first day to look at (`YYYY-MM-DD`, compared with each event's local dates);
    /// today (UTC) when absent.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// The last day to look at (`YYYY-MM-DD`, inclusive), not before `from` and at most 366
    /// days after it; 365 days after `from` when absent.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// The scheduling conflicts between two dates, all of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictPage {
    /// The conflicts, earliest first.
    pub items: Vec<Conflict>,
    /// Always null: the list is complete for the dates asked.
    pub next_cursor: Option<String>,
}

/// Overlapping events that share a person or a venue in the same city
///
/// A conflict is a warning, never a refusal: two events whose times overlap and that have a
/// participant in common (`person`), or the same venue in the same city (`venue`). A session
/// and the event it belongs to do not conflict. Anyone may ask; `internal` events count only
/// for callers with a token. Not paginated: the window is at most 366 days.
#[utoipa::path(
    tag = "events",
    params(ConflictQuery),
    responses(
        (status = 200, description = "Conflicts, earliest first", body = ConflictPage),
        responses::BadRequest,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/conflicts")]
pub async fn list_conflicts(
    req: HttpRequest,
    db: web::Data<Database>,
    clock: web::Data<Clock>,
    query: web::Query<ConflictQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let today = clock.today();
    let from = params::date("from", query.from)?.unwrap_or(today);
    let to = match params::date("to", query.to)? {
        Some(to) => to,
        None => from.checked_add_days(Days::new(365)).unwrap_or(from),
    };
    if to < from {
        return Err(ApiError::bad_parameter("to", "must not be before from"));
    }
    if (to - from).num_days() > 366 {
        return Err(ApiError::bad_parameter(
            "to",
            "must be at most 366 days after from",
        ));
    }
    let viewer = caller.viewer();
    rest::cached_list_on(&req, &db, viewer, today, move |conn| {
        Ok(ConflictPage {
            items: conflicts::list(conn, from, to, viewer)?,
            next_cursor: None,
        })
    })
    .await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_chains)
        .service(create_chain)
        .service(get_chain)
        .service(update_chain)
        .service(delete_chain)
        .service(add_chain_event)
        .service(remove_chain_event)
        .service(list_conflicts);
}
