//! Comments: `/api/v1/events/{id}/comments` (anyone posts; approved ones shown to everyone)
//! and `/api/v1/comments` (the moderation queue, and one comment to approve, reject or
//! delete).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::clock::Clock;
use crate::db::Database;
use crate::domain::comment::{CommentInput, CommentModeration};
use crate::domain::enums::{CommentStatus, Role};
use crate::error::{ApiError, responses};
use crate::http;
use crate::rate_limit::CommentRateLimit;
use crate::representation;
use crate::routes::{Caller, PREFIX, params, rest};
use crate::store::audit::{self, Actor};
use crate::store::comments::{
    self as store, CommentFilter, CommentPage, CommentReader, CommentResponse, Comments,
};
use crate::store::idempotency::StoredResponse;

/// Who reads: editors and admins moderate, admins also see contact details.
fn reader_of(caller: &Caller) -> CommentReader {
    CommentReader {
        viewer: caller.viewer(),
        moderator: caller.require(Role::Editor).is_ok(),
        admin: caller.require(Role::Admin).is_ok(),
    }
}

/// Post a comment on a public event
///
/// Anyone may comment, without a token. The comment is `pending`: no one but editors and
/// admins sees it until an editor approves it. `email` is optional and never shown (admins
/// only; erased with the poster's IP address after `REGISTRY_COMMENT_RETENTION_DAYS`, 90 by
/// default). `body` is plain text, stored and returned exactly as sent, never as HTML.
///
/// Answers 201 with the comment (without the email), its `Location` and `ETag`. 404 when the
/// event does not exist or is internal (409 `comments_on_public_events` for a token holder,
/// who can see it); 422 names every invalid field. Each client (token, else IP address) may
/// post `REGISTRY_COMMENT_RATE_LIMIT` comments a minute (5 by default); more are 429 with
/// `Retry-After`. `Idempotency-Key` works as on the other POSTs.
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = String, Path, description = "The event's id (UUID) or slug", example = "iisg-board-4"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token (one key space for all callers without one)."),
    ),
    security((), ("bearer" = [])),
    request_body(content = CommentInput, description = "The comment; fields not listed (`status` included) are refused (422).", content_type = "application/json"),
    responses(
        (status = 201, description = "Posted, pending moderation", body = CommentResponse, headers(
            ("Location" = String, description = "The comment's URL: `/api/v1/comments/{id}`"),
            ("ETag" = String, description = "The representation's entity tag"),
        )),
        responses::BadRequest,
        responses::Unauthorized,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/events/{id}/comments")]
pub async fn post_comment(
    req: HttpRequest,
    db: web::Data<Database>,
    clock: web::Data<Clock>,
    limit: web::Data<CommentRateLimit>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    // Every attempt counts, so a flood of bad bodies is stopped as early as good ones.
    limit.check(&req)?;
    let valid = http::parse_valid(http::json_body(&req, &body)?, CommentInput::validate)?;
    let event = path.into_inner();
    let viewer = caller.viewer();
    let actor = caller.require(Role::Reader).unwrap_or_else(|_| Actor {
        token_id: None,
        name: "anonymous".to_owned(),
    });
    let client_ip = crate::client_ip::of(&req).map(|ip| ip.to_string());
    let now = clock.now();
    rest::post_once(&req, &db, &caller, &body, move |conn| {
        let created = store::create(conn, &event, &valid, client_ip, now, viewer)?;
        // The audit entry keeps what the page shows, never the email or the address.
        let fields = serde_json::json!({
            "event_id": created.event.slug,
            "author_name": created.author_name,
            "body": created.body,
            "status": created.status,
        });
        audit::record(
            conn,
            &actor,
            "create",
            "comment",
            &created.id.to_string(),
            &fields,
        )?;
        let (body, etag) = representation::of(&created)?;
        Ok(StoredResponse {
            status: 201,
            location: Some(format!("{PREFIX}/comments/{}", created.id)),
            etag: Some(etag),
            body,
        })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventCommentsQuery {
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// The approved comments on an event, oldest first
///
/// Anyone may read them; pending and rejected comments are not listed here, for anyone (the
/// moderation queue is `GET /api/v1/comments`). 404 when the event does not exist or is
/// internal and the request has no token. Keyset-paginated: when `next_cursor` is not `null`,
/// pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "comments",
    params(("id" = String, Path, description = "The event's id (UUID) or slug", example = "iisg-board-4"), EventCommentsQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of approved comments", body = CommentPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events/{id}/comments")]
pub async fn event_comments(
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<EventCommentsQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = params::limit(query.limit)?;
    let event = path.into_inner();
    let viewer = caller.viewer();
    let page = db
        .run(move |conn| store::list_on_event(conn, &event, viewer, query.cursor, limit))
        .await?;
    Ok(http::collection(&page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommentListQuery {
    /// Only comments with this status: `pending` for the moderation queue.
    #[param(value_type = Option<CommentStatus>, example = "pending")]
    status: Option<String>,
    /// Only comments on this event (id or slug); 422 when there is none.
    #[param(example = "iisg-board-4")]
    event: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// The moderation queue: comments of any status, oldest first
///
/// Needs a token with role editor or admin. `?status=pending` is the queue of comments to
/// approve or reject. Admin tokens also see each commenter's `contact` (email and IP address,
/// until erased). Keyset-paginated: when `next_cursor` is not `null`, pass it as `cursor` for
/// the next page.
#[utoipa::path(
    tag = "comments",
    params(CommentListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of comments", body = CommentPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/comments")]
pub async fn list_comments(
    db: web::Data<Database>,
    query: web::Query<CommentListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let query = query.into_inner();
    let filter = CommentFilter {
        status: params::one(
            "status",
            query.status,
            CommentStatus::parse,
            CommentStatus::expected(),
        )?,
        event: params::text("event", query.event)?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    let reader = reader_of(&caller);
    let page = db
        .run(move |conn| store::list(conn, &filter, reader))
        .await?;
    Ok(http::collection(&page))
}

/// One comment
///
/// Anyone may read an approved comment on an event they may see; pending and rejected ones
/// are 404 except to editors and admins. Admin tokens also see the commenter's `contact`. The
/// `ETag` is that of the comment without `contact`, so it serves `If-Match` on a moderation
/// alike for every role (`If-None-Match` gives 304).
#[utoipa::path(
    tag = "comments",
    params(("id" = uuid::Uuid, Path, description = "The comment's id (from the `Location` of its posting, or a list)")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The comment", body = CommentResponse, headers(
            ("ETag" = String, description = "The comment's entity tag, for `If-Match` and `If-None-Match`"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::Unauthorized,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/comments/{id}")]
pub async fn get_comment(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let reader = reader_of(&caller);
    let comment = db.run(move |conn| store::read(conn, &key, reader)).await?;
    let etag = representation::etag_of_value(&CommentResponse {
        contact: None,
        ..comment.clone()
    })?;
    let body = serde_json::to_vec(&comment).map_err(ApiError::internal)?;
    Ok(http::with_etag(&req, StatusCode::OK, body, &etag))
}

/// Approve or reject a comment
///
/// The body is a JSON Merge Patch of `{"status": …}`, sent as `application/merge-patch+json`
/// or `application/json`: `approved` shows the comment to everyone, `rejected` hides it,
/// `pending` puts it back in the queue. Nothing else of a comment can be changed (422). Needs a
/// token with role editor or admin; the audit log records who moderated and what. With
/// `If-Match`, the change applies only to the version whose `ETag` was read (else 412).
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = uuid::Uuid, Path, description = "The comment's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on; 412 when the comment has changed since"),
    ),
    security(("bearer" = [])),
    request_body(content = CommentModeration, description = "The new status", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The moderated comment", body = CommentResponse, headers(
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
#[patch("/comments/{id}")]
pub async fn moderate_comment(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::update::<Comments>(req, db, path.into_inner(), body, caller).await
}

/// Delete a comment
///
/// For spam and abuse: to hide a comment and keep it on record, reject it instead. Needs a
/// token with role editor or admin; audited. Answers 204. With `If-Match`, deletes only the
/// version whose `ETag` was read (else 412).
#[utoipa::path(
    tag = "comments",
    params(
        ("id" = uuid::Uuid, Path, description = "The comment's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion is based on; 412 when the comment has changed since"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[delete("/comments/{id}")]
pub async fn delete_comment(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::delete::<Comments>(req, db, path.into_inner(), caller).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(post_comment)
        .service(event_comments)
        .service(list_comments)
        .service(get_comment)
        .service(moderate_comment)
        .service(delete_comment);
}
