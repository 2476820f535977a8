//! `/api/v1/feed-keys` (admin): the read-only keys calendar clients put in a feed's URL.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{Database, Timestamp};
use crate::domain::enums::Role;
use crate::domain::text;
use crate::domain::time::{date_serde, expiry};
use crate::error::{ApiError, FieldError, responses};
use crate::http;
use crate::routes::access::PageQuery;
use crate::routes::{Caller, params, rest};
use crate::store::audit;
use crate::store::feed_keys::{self, CreatedFeedKey, FeedKeyPage, FeedKeyResponse};

/// A new feed key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFeedKeyRequest {
    /// Who or what uses it (whose calendar), one line of at most 100 characters.
    #[schema(example = "secretariat-outlook")]
    pub name: String,
    /// The last day the key works (`YYYY-MM-DD`, inclusive, UTC); not in the past. Absent:
    /// it does not expire.
    #[serde(default, deserialize_with = "date_serde::optional")]
    #[schema(value_type = Option<String>, format = Date, example = "2027-12-31")]
    pub expires_on: Option<chrono::NaiveDate>,
}

impl CreateFeedKeyRequest {
    fn validate(self) -> Result<(String, Option<Timestamp>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = text::required_line("name", &self.name, 100, &mut errors);
        let expires_at = match self.expires_on.map(expiry) {
            None => None,
            Some(Ok(at)) => Some(Timestamp::from(at)),
            Some(Err(message)) => {
                errors.push(FieldError::new("expires_on", message));
                None
            }
        };
        if expires_at.is_some_and(|e| e <= Timestamp::now()) {
            errors.push(FieldError::new("expires_on", "must not be in the past"));
        }
        if errors.is_empty() {
            Ok((name, expires_at))
        } else {
            Err(errors)
        }
    }
}

/// Create a calendar feed key (admin)
///
/// Needs an admin token. A feed key lets a calendar client (which cannot send an
/// `Authorization` header) read the `.ics` feeds with `internal` events included: add
/// `?key=<secret>` to a feed's URL. It reads feeds only: it is not a bearer token and works on
/// no JSON endpoint. The response is the only time the secret is shown: only its hash is
/// stored. Answers 201 with the key and its `Location`; 422 names every invalid field. With
/// `Idempotency-Key` a retry creates nothing: it gets 409 naming the key made by the first
/// request (the secret is never kept, so it cannot be shown again).
#[utoipa::path(
    tag = "calendar",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token."),
    ),
    request_body(content = CreateFeedKeyRequest, description = "The new key's name and expiry", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedFeedKey, headers(
            ("Location" = String, description = "The new key's URL (for `DELETE`)"),
        )),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::SecretShownOnce,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/feed-keys")]
pub async fn create_feed_key(
    req: HttpRequest,
    db: web::Data<Database>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let (name, expires_at) = http::parse_valid(
        http::json_body(&req, &body)?,
        CreateFeedKeyRequest::validate,
    )?;
    rest::post_once_shown_once(&req, &db, &caller, &body, move |conn| {
        let created: CreatedFeedKey = feed_keys::create(conn, &name, expires_at)?;
        audit::record(
            conn,
            &actor,
            "create",
            "feed_key",
            &created.key.id.to_string(),
            &serde_json::json!({"name": created.key.name, "expires_at": created.key.expires_at.map(crate::domain::time::rfc3339_micros)}),
        )?;
        rest::shown_once("feed key", format!("/api/v1/feed-keys/{}", created.key.id), &created)
    })
    .await
}

/// List calendar feed keys (admin)
///
/// Needs an admin token. Every feed key, revoked and expired ones included (see `active`),
/// oldest first; secrets are never shown again. Keyset-paginated: when `next_cursor` is not
/// `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "calendar",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of feed keys", body = FeedKeyPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/feed-keys")]
pub async fn list_feed_keys(
    db: web::Data<Database>,
    query: web::Query<PageQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let (cursor, limit) = query.into_inner().into_parts();
    let limit = params::limit(limit)?;
    let page = db
        .run(move |conn| feed_keys::list(conn, cursor.as_deref(), limit))
        .await?;
    Ok(http::collection(&page))
}

/// Revoke a calendar feed key (admin)
///
/// Needs an admin token. From now on every feed URL with this key is refused (401); the key
/// stays listed, inactive. Answers 204; 404 when no feed key has this id.
#[utoipa::path(
    tag = "calendar",
    params(("id" = uuid::Uuid, Path, description = "The feed key's id (from the list, or the `Location` of its creation)")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[delete("/feed-keys/{id}")]
pub async fn revoke_feed_key(
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id = path.into_inner();
    db.write(move |conn| {
        let key: FeedKeyResponse = feed_keys::revoke(conn, &id)?;
        audit::record(
            conn,
            &actor,
            "revoke",
            "feed_key",
            &key.id.to_string(),
            &serde_json::json!({"name": key.name}),
        )
    })
    .await?;
    // This process refuses the key from now on, without waiting for its own notification.
    db.credentials_changed();
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_feed_key)
        .service(list_feed_keys)
        .service(revoke_feed_key);
}
