//! Outcomes of events: `/api/v1/events/{id}/outcomes` (an event's own, and where they are
//! recorded), `/api/v1/outcomes/{id}` (one, changed and removed there) and `/api/v1/outcomes`
//! (across all meetings: what is still open?).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cache::Representations;
use crate::db::Database;
use crate::domain::enums::{OutcomeKind, OutcomeStatus, Role};
use crate::domain::outcome::OutcomeInput;
use crate::error::{ApiError, responses};
use crate::http;
use crate::representation;
use crate::routes::{Caller, params, rest};
use crate::store::audit;
use crate::store::idempotency::StoredResponse;
use crate::store::outcomes::{
    self as store, OutcomeFilter, OutcomePage, OutcomeResponse, Outcomes,
};
use crate::store::resource::Resource;

/// Filters and paging of a list of outcomes (in due order, those without a due date last).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OutcomeListQuery {
    /// Outcomes with this status (one value): `open` for what is still to be done.
    #[param(value_type = Option<OutcomeStatus>, example = "open")]
    status: Option<String>,
    /// Outcomes of this kind (one value).
    #[param(value_type = Option<OutcomeKind>, example = "follow_up")]
    kind: Option<String>,
    /// Outcomes this organisation or person is to act on (id or slug).
    #[param(example = "ministry-of-security-bih")]
    owner: Option<String>,
    /// Outcomes due before this day (`YYYY-MM-DD`, exclusive); leaves out those with no due
    /// date.
    #[param(value_type = Option<String>, format = Date)]
    due_before: Option<String>,
    /// Outcomes of this event (id or slug).
    #[param(example = "iisg-board-4")]
    event: Option<String>,
    /// Outcomes of this network's meetings (id or slug): `iisg-board` for the IISG Board.
    #[param(example = "iisg-board")]
    network: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

impl OutcomeListQuery {
    fn into_filter(self) -> Result<OutcomeFilter, ApiError> {
        Ok(OutcomeFilter {
            status: params::one(
                "status",
                self.status,
                OutcomeStatus::parse,
                OutcomeStatus::expected(),
            )?,
            kind: params::one(
                "kind",
                self.kind,
                OutcomeKind::parse,
                OutcomeKind::expected(),
            )?,
            owner: params::text("owner", self.owner)?,
            due_before: params::date("due_before", self.due_before)?,
            event: params::text("event", self.event)?,
            network: params::text("network", self.network)?,
            cursor: self.cursor,
            limit: params::limit(self.limit)?,
        })
    }
}

/// Outcomes across all meetings, e.g. what is still open
///
/// The question a secretariat asks before a board meeting: `?status=open&network=iisg-board`.
/// Anyone may list them; outcomes of `internal` events only with a token. In due order, those
/// without a due date last. Filters combine with AND; one naming no record is 422 naming it.
/// Keyset-paginated: when `next_cursor` is not `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "outcomes",
    params(OutcomeListQuery),
    responses(
        (status = 200, description = "A page of outcomes", body = OutcomePage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/outcomes")]
pub async fn list_outcomes(
    req: HttpRequest,
    db: web::Data<Database>,
    query: web::Query<OutcomeListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        store::list(conn, &filter, viewer)
    })
    .await
}

/// An event's outcomes
///
/// Its decisions, conclusions, endorsements and follow-ups, in due order, with the filters and
/// paging of `GET /api/v1/outcomes` (`event` is set by the path). 404 when no event has this
/// id or slug, or it is `internal` and the request carries no token.
#[utoipa::path(
    tag = "outcomes",
    params(("id" = String, Path, description = "The event's id (UUID) or slug", example = "iisg-board-4"), OutcomeListQuery),
    responses(
        (status = 200, description = "A page of the event's outcomes", body = OutcomePage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events/{id}/outcomes")]
pub async fn event_outcomes(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<OutcomeListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let key = path.into_inner();
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        store::of_event(conn, &key, &filter, viewer)
    })
    .await
}

/// Record an outcome of an event
///
/// Needs a token with role editor or admin. `owner_organisation_id` or `owner_person_id` (at
/// most one) and `publication_id` take ids or slugs and must exist (422 naming the field
/// otherwise). Answers 201 with the outcome, its `Location` (`/api/v1/outcomes/{id}`) and
/// `ETag`; 404 when the event does not exist. `Idempotency-Key` works as on the other POSTs.
#[utoipa::path(
    tag = "outcomes",
    params(
        ("id" = String, Path, description = "The event's id (UUID) or slug", example = "iisg-board-4"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token."),
    ),
    security(("bearer" = [])),
    request_body(content = OutcomeInput, description = "The new outcome; fields not listed are refused (422).", content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = OutcomeResponse, headers(
            ("Location" = String, description = "The new outcome's URL"),
            ("ETag" = String, description = "The representation's entity tag, for `If-Match` and `If-None-Match`"),
        )),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/events/{id}/outcomes")]
pub async fn add_outcome(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let valid = http::parse_valid(http::json_body(&req, &body)?, OutcomeInput::validate)?;
    let key = path.into_inner();
    rest::post_once(&req, &db, &caller, &body, move |conn| {
        let created = store::add(conn, &key, &valid)?;
        let fields =
            serde_json::to_value(Outcomes::as_input(&created)).map_err(ApiError::internal)?;
        audit::record(
            conn,
            &actor,
            "create",
            Outcomes::NAME,
            &created.id.to_string(),
            &fields,
        )?;
        let (body, etag) = representation::of(&created)?;
        Ok(StoredResponse {
            status: 201,
            location: Some(format!("/api/v1/outcomes/{}", created.id)),
            etag: Some(etag),
            body,
        })
    })
    .await
}

/// One outcome
///
/// Anyone may read it; an outcome of an `internal` event is 404 without a token. Answers with
/// an `ETag` (`If-None-Match` gives 304).
#[utoipa::path(
    tag = "outcomes",
    params(("id" = uuid::Uuid, Path, description = "The outcome's id (from a list or the `Location` of its creation)")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The outcome", body = OutcomeResponse, headers(
            ("ETag" = String, description = "The representation's entity tag, for `If-Match` and `If-None-Match`"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/outcomes/{id}")]
pub async fn get_outcome(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<Representations>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let viewer = caller.viewer();
    let today = chrono::Utc::now().date_naive();
    let entry = rest::cached::<Outcomes>(&db, cache, key, viewer, today).await?;
    Ok(http::with_etag(
        &req,
        StatusCode::OK,
        entry.body.clone(),
        &entry.etag,
    ))
}

/// Change an outcome, e.g. mark it done
///
/// The body is a JSON Merge Patch (RFC 7396) of the outcome's fields (those of
/// `OutcomeInput`), sent as `application/merge-patch+json` or `application/json`: fields
/// present replace, `null` clears, fields absent stay. Its event cannot change. Needs a token
/// with role editor or admin. With `If-Match`, the change applies only to the version whose
/// `ETag` was read (else 412).
#[utoipa::path(
    tag = "outcomes",
    params(
        ("id" = uuid::Uuid, Path, description = "The outcome's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on; 412 when the outcome has changed since"),
    ),
    security(("bearer" = [])),
    request_body(content = serde_json::Value, description = "A merge patch of the outcome's fields", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed outcome", body = OutcomeResponse, headers(
            ("ETag" = String, description = "The new representation's entity tag"),
        )),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[patch("/outcomes/{id}")]
pub async fn update_outcome(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::update::<Outcomes>(req, db, path.into_inner(), body, caller).await
}

/// Remove an outcome recorded by mistake
///
/// To record that a follow-up will not happen, set its `status` to `dropped` instead. Needs a
/// token with role editor or admin. Answers 204. With `If-Match`, removes only the version
/// whose `ETag` was read (else 412).
#[utoipa::path(
    tag = "outcomes",
    params(
        ("id" = uuid::Uuid, Path, description = "The outcome's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the removal is based on; 412 when the outcome has changed since"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[delete("/outcomes/{id}")]
pub async fn remove_outcome(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::delete::<Outcomes>(req, db, path.into_inner(), caller).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_outcomes)
        .service(event_outcomes)
        .service(add_outcome)
        .service(get_outcome)
        .service(update_outcome)
        .service(remove_outcome);
}
