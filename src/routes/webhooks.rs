//! `/api/v1/webhooks` (admin): subscriptions that push the change feed to a URL, their
//! delivery logs and redelivery. The dispatcher that sends them is `crate::webhooks`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::Database;
use crate::domain::enums::Role;
use crate::domain::text;
use crate::error::{ApiError, FieldError, responses};
use crate::http;
use crate::representation;
use crate::routes::access::PageQuery;
use crate::routes::{Caller, params, rest};
use crate::store::audit;
use crate::store::changes::ChangeAction;
use crate::store::idempotency::StoredResponse;
use crate::store::webhooks::{
    self as store, CreatedWebhook, DeliveryPage, DeliveryResponse, ValidWebhook, WebhookPage,
    WebhookResource, WebhookResponse,
};
use crate::webhooks::{WebhookSettings, target};

/// A webhook's settings, as written on creation and merge-patched after.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where deliveries are POSTed: an `http` or `https` URL without user or password, at
    /// most 2000 characters, whose host resolves only to public addresses (private,
    /// loopback, link-local, unspecified and multicast ones are refused, also when reached
    /// through IPv4-mapped IPv6). Checked again before every delivery.
    #[schema(example = "https://partner.example.org/hooks/registry")]
    pub url: String,
    /// What the webhook is for, one line of at most 200 characters.
    #[serde(default)]
    #[schema(example = "Partner site: rebuild event pages")]
    pub description: Option<String>,
    /// The kinds of record whose changes are delivered; empty or absent for all.
    #[serde(default)]
    pub resources: Vec<WebhookResource>,
    /// The actions delivered (`created`, `updated`, `deleted`); empty or absent for all.
    #[serde(default)]
    pub actions: Vec<ChangeAction>,
    /// Whether changes to `internal` events are delivered (default `false`: the public view
    /// of the change feed, where an event becoming internal is a `deleted`).
    #[serde(default)]
    pub include_internal: bool,
    /// Whether changes are delivered (default `true`).
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl WebhookInput {
    fn of(webhook: &WebhookResponse) -> Self {
        Self {
            url: webhook.url.clone(),
            description: webhook.description.clone(),
            resources: webhook.resources.clone(),
            actions: webhook.actions.clone(),
            include_internal: webhook.include_internal,
            enabled: webhook.enabled,
        }
    }

    /// Every problem of form at once (the target's addresses are checked after).
    fn validate(self) -> Result<ValidWebhook, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = match target::parse(&self.url) {
            Ok(url) => url.to_string(),
            Err(message) => {
                errors.push(FieldError::new("url", message));
                String::new()
            }
        };
        let description = self
            .description
            .as_deref()
            .map(|d| text::required_line("description", d, 200, &mut errors))
            .filter(|d| !d.is_empty());
        let mut resources = self.resources;
        resources.sort_by_key(|r| r.as_str());
        resources.dedup();
        let mut actions = self.actions;
        actions.sort_by_key(|a| a.as_str());
        actions.dedup();
        if errors.is_empty() {
            Ok(ValidWebhook {
                url,
                description,
                resources,
                actions,
                include_internal: self.include_internal,
                enabled: self.enabled,
            })
        } else {
            Err(errors)
        }
    }
}

/// 422 on `url` unless its host resolves only to addresses deliveries may reach.
async fn check_target(valid: &ValidWebhook, settings: &WebhookSettings) -> Result<(), ApiError> {
    let url = target::parse(&valid.url).map_err(|m| ApiError::invalid("url", m))?;
    target::resolve(&url, settings.allow_private)
        .await
        .map(drop)
        .map_err(|m| ApiError::invalid("url", m))
}

/// What the audit log keeps of a webhook: its settings, never its secret.
fn audited(webhook: &WebhookResponse) -> serde_json::Value {
    serde_json::to_value(WebhookInput::of(webhook)).unwrap_or_default()
}

fn location(webhook: &WebhookResponse) -> String {
    format!("/api/v1/webhooks/{}", webhook.id)
}

/// Register a webhook (admin)
///
/// Needs an admin token. From now on every change of the change feed that the webhook asks
/// for (`resources`, `actions`, `include_internal`) is POSTed to `url` as JSON: the change
/// feed's item (`cursor`, `at`, `resource`, `id`, `slug`, `action`, `version`, `url`) plus
/// `data`, the record as the webhook would read it with `GET` at the time of sending (`null`
/// for a deletion or a record it may not see). Deliveries follow the Standard Webhooks
/// specification: headers `webhook-id` (the delivery's id, the same on retries),
/// `webhook-timestamp` (Unix seconds) and `webhook-signature` (`v1,` and the base64
/// HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded
/// part of the secret after `whsec_`). A 2xx answer within 10 seconds is a success; anything
/// else is retried with exponential backoff and jitter (5 s, 10 s, 20 s … up to 10 hours),
/// and a webhook whose deliveries have all failed for a day is disabled. Deliveries may come
/// more than once and out of order: use `webhook-id` and `version`.
///
/// The response is the only time the `secret` is shown. It is stored as it is (it must be,
/// to sign), never logged nor written to the audit log; rotate it with `rotate-secret`.
/// Answers 201 with `Location`; 422 names every invalid field, a target on a private
/// address included.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token."),
    ),
    request_body(content = WebhookInput, description = "The webhook's target and filters", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered; `secret` is shown only now", body = CreatedWebhook, headers(
            ("Location" = String, description = "The new webhook's URL"),
            ("ETag" = String, description = "The webhook's ETag, for `If-Match`"),
        )),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    req: HttpRequest,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let valid = http::parse_valid(http::json_body(&req, &body)?, WebhookInput::validate)?;
    check_target(&valid, &settings).await?;
    rest::post_once(&req, &db, &caller, &body, move |conn| {
        let created = store::create(conn, &valid)?;
        audit::record(
            conn,
            &actor,
            "create",
            "webhook",
            &created.webhook.id.to_string(),
            &audited(&created.webhook),
        )?;
        let (_, etag) = representation::of(&created.webhook)?;
        let body = serde_json::to_string(&created).map_err(ApiError::internal)?;
        Ok(StoredResponse {
            status: 201,
            location: Some(location(&created.webhook)),
            etag: Some(etag),
            body,
        })
    })
    .await
}

/// List webhooks (admin)
///
/// Needs an admin token. Every webhook, oldest first, disabled ones included; secrets are
/// never shown again. Keyset-paginated: when `next_cursor` is not `null`, pass it as
/// `cursor` for the next page.
#[utoipa::path(
    tag = "webhooks",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of webhooks", body = WebhookPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    db: web::Data<Database>,
    query: web::Query<PageQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let (cursor, limit) = query.into_inner().into_parts();
    let limit = params::limit(limit)?;
    let page = db
        .run(move |conn| store::list(conn, cursor.as_deref(), limit))
        .await?;
    Ok(http::collection(&page))
}

/// Read a webhook (admin)
///
/// Needs an admin token. The webhook's settings and health (`enabled`, `failing_since`,
/// `disabled_reason`), never its secret, with an `ETag` for `If-Match` (`If-None-Match`
/// answers 304 while it has not changed).
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The webhook's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook", body = WebhookResponse, headers(
            ("ETag" = String, description = "The webhook's ETag"),
        )),
        (status = 304, description = "Not modified since the ETag in `If-None-Match`"),
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = path.into_inner();
    let webhook = db.run(move |conn| store::get(conn, &id)).await?;
    let (body, etag) = representation::of(&webhook)?;
    Ok(http::with_etag(&req, StatusCode::OK, body, &etag))
}

/// Change a webhook (admin)
///
/// Needs an admin token. A JSON Merge Patch (RFC 7396) of the webhook's settings (`url`,
/// `description`, `resources`, `actions`, `include_internal`, `enabled`), sent as
/// `application/merge-patch+json` or `application/json`; `If-Match` with the ETag of a
/// `GET` makes it conditional (412 when the webhook changed since). A new `url` is checked
/// as on registration. Setting `enabled: true` on a webhook the registry disabled clears
/// `disabled_reason`; it then goes on from the first change it had not delivered.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = uuid::Uuid, Path, description = "The webhook's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
    ),
    request_body(content = WebhookInput, description = "The fields to change (a merge patch)", content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed webhook", body = WebhookResponse, headers(
            ("ETag" = String, description = "The webhook's new ETag"),
        )),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    req: HttpRequest,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let patch = http::json_body(&req, &body)?;
    let if_match = http::Preconditions::of(&req);
    let key = path.into_inner();
    let current = db
        .run({
            let key = key.clone();
            move |conn| store::get(conn, &key)
        })
        .await?;
    if_match.check(&representation::etag_of_value(&current)?)?;
    let merged = http::merge_patch(&WebhookInput::of(&current), &patch)?;
    let valid = http::parse_valid(merged, WebhookInput::validate)?;
    if valid.url != current.url {
        check_target(&valid, &settings).await?;
    }
    let before = audited(&current);
    let (id, version) = (current.id, current.version);
    let updated = db
        .write(move |conn| {
            let updated = store::update(conn, id, version, &valid)?;
            let changes = audit::diff(&before, &audited(&updated));
            if !audit::records_no_change(&changes) {
                audit::record(conn, &actor, "update", "webhook", &id.to_string(), &changes)?;
            }
            Ok(updated)
        })
        .await?;
    let (body, etag) = representation::of(&updated)?;
    Ok(http::with_etag(&req, StatusCode::OK, body, &etag))
}

/// Delete a webhook (admin)
///
/// Needs an admin token. No more deliveries are made (one in flight may still arrive) and
/// its delivery log is deleted with it. `If-Match` makes it conditional (412 when the
/// webhook changed since). Answers 204; 404 when no webhook has this id.
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = uuid::Uuid, Path, description = "The webhook's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the deletion is based on"),
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
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let if_match = http::Preconditions::of(&req);
    let key = path.into_inner();
    db.write(move |conn| {
        let current = store::get(conn, &key)?;
        if_match.check(&representation::etag_of_value(&current)?)?;
        store::delete(conn, current.id, current.version)?;
        audit::record(
            conn,
            &actor,
            "delete",
            "webhook",
            &current.id.to_string(),
            &audited(&current),
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a webhook's secret (admin)
///
/// Needs an admin token. Replaces the signing secret at once: deliveries from now on,
/// retries included, are signed with the new one, shown in this response only.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The webhook's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook with its new `secret`, shown only now", body = CreatedWebhook),
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/webhooks/{id}/rotate-secret")]
pub async fn rotate_webhook_secret(
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let key = path.into_inner();
    let rotated = db
        .write(move |conn| {
            let rotated = store::rotate_secret(conn, &key)?;
            audit::record(
                conn,
                &actor,
                "rotate_secret",
                "webhook",
                &rotated.webhook.id.to_string(),
                &serde_json::json!({}),
            )?;
            Ok(rotated)
        })
        .await?;
    Ok(http::collection(&rotated))
}

/// List a webhook's deliveries (admin)
///
/// Needs an admin token. One delivery per change sent (or to be sent) to the webhook, newest
/// first: its `status` (`pending`, `succeeded`, `failed`), `attempts`, the last response's
/// status code and the start of its body or the connection error (`last_error`, at most 200
/// characters; response bodies are not kept beyond that), when it is next attempted, and the
/// change (`change_cursor`, `resource`, `record_id`, `action`). Keyset-paginated.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = uuid::Uuid, Path, description = "The webhook's id"), PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let key = path.into_inner();
    let (cursor, limit) = query.into_inner().into_parts();
    let limit = params::limit(limit)?;
    let page = db
        .run(move |conn| store::deliveries(conn, &key, cursor.as_deref(), limit))
        .await?;
    Ok(http::collection(&page))
}

/// Redeliver (admin)
///
/// Needs an admin token. Schedules the delivery to be sent again now, with the record's
/// data as it is now and the same `webhook-id`, whatever became of it before. Answers 202
/// with the delivery; 409 while the webhook is disabled (enable it first).
#[utoipa::path(
    tag = "webhooks",
    params(
        ("id" = uuid::Uuid, Path, description = "The webhook's id"),
        ("delivery_id" = uuid::Uuid, Path, description = "The delivery's id (from the delivery log)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Scheduled", body = DeliveryResponse),
        responses::Unauthorized,
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/redeliver")]
pub async fn redeliver(
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let (key, delivery) = path.into_inner();
    let scheduled = db
        .write(move |conn| {
            let scheduled = store::redeliver(conn, &key, &delivery)?;
            audit::record(
                conn,
                &actor,
                "redeliver",
                "webhook",
                &key,
                &serde_json::json!({"delivery_id": scheduled.id}),
            )?;
            Ok(scheduled)
        })
        .await?;
    let mut response = http::collection(&scheduled);
    *response.status_mut() = StatusCode::ACCEPTED;
    Ok(response)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_webhook)
        .service(list_webhooks)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(rotate_webhook_secret)
        .service(list_deliveries)
        .service(redeliver);
}
