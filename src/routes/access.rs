//! Who is calling (the `Caller` extractor), `/api/v1/tokens` and `/api/v1/audit`.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{
    FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, delete, get, post, web,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::{AnyConnection, Database, Timestamp};
use crate::domain::enums::Role;
use crate::domain::text;
use crate::domain::time::{date_serde, expiry};
use crate::error::{ApiError, FieldError, responses};
use crate::http;
use crate::routes::{params, rest};
use crate::store::Viewer;
use crate::store::audit::{self, Actor, AuditFilter, AuditOrder, AuditPage};
use crate::store::tokens::{
    self, Authenticated, CreatedToken, KeptCredentials, Refusal, TokenPage, TokenResponse,
    VerifiedTokens,
};

/// The caller of a request: anonymous, or the owner of a valid bearer token. A request that
/// presents a token that is malformed, unknown, expired or revoked is refused (401) by
/// [`authenticate`], also for reads: a client with a broken token should hear about it.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    token: Option<Authenticated>,
}

impl Caller {
    pub fn viewer(&self) -> Viewer {
        Viewer {
            sees_internal: self.token.is_some(),
        }
    }

    /// 401 without a token, 403 when its role is too weak; else the actor for the audit log.
    pub fn require(&self, role: Role) -> Result<Actor, ApiError> {
        match &self.token {
            None => Err(ApiError::Unauthorized {
                detail: format!(
                    "this request needs a token with role {} or above: send Authorization: Bearer <token>",
                    role.as_str()
                ),
            }),
            Some(token) if !token.role.includes(role) => Err(ApiError::Forbidden {
                detail: format!(
                    "token {:?} has role {}; this request needs {} or above",
                    token.name,
                    token.role.as_str(),
                    role.as_str()
                ),
            }),
            Some(token) => Ok(Actor {
                token_id: Some(token.id),
                name: token.name.clone(),
            }),
        }
    }

    /// Whose `Idempotency-Key`s these are: a token's, or, without one, those of the client's
    /// address (`client`, behind trusted proxies the forwarded one), so two anonymous
    /// clients never share keys.
    pub fn key_space(&self, client: Option<std::net::IpAddr>) -> String {
        match (&self.token, client) {
            (Some(token), _) => token.id.to_string(),
            (None, Some(ip)) => format!("anonymous {ip}"),
            (None, None) => "anonymous".to_owned(),
        }
    }
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::Unauthorized {
        detail: detail.to_owned(),
    }
}

/// Checks the bearer token of every request that presents one, before any handler runs, and
/// leaves the [`Caller`] in the request's extensions.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(next
            .call(req)
            .await?
            .map_into_boxed_body()
            .map_into_left_body());
    };
    let secret = value.to_str().ok().and_then(|v| {
        let (scheme, secret) = v.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| secret.trim().to_owned())
    });
    let verdict = match secret.filter(|s| !s.is_empty() && s.len() <= 512) {
        None => Err(unauthorized(
            "the Authorization header must be `Bearer <token>`",
        )),
        Some(secret) => match req.app_data::<web::Data<Database>>().cloned() {
            None => Err(ApiError::internal("no database configured")),
            Some(db) => {
                match check_token(&db, req.app_data::<web::Data<VerifiedTokens>>(), &secret).await {
                    Ok(Ok(token)) => Ok(token),
                    Ok(Err(Refusal::Unknown)) => Err(unauthorized("the token is not known")),
                    Ok(Err(Refusal::Expired)) => Err(unauthorized("the token has expired")),
                    Ok(Err(Refusal::Revoked)) => Err(unauthorized("the token has been revoked")),
                    Err(e) => Err(e),
                }
            }
        },
    };
    match verdict {
        Ok(token) => {
            req.extensions_mut().insert(Caller { token: Some(token) });
            Ok(next
                .call(req)
                .await?
                .map_into_boxed_body()
                .map_into_left_body())
        }
        Err(error) => Ok(req
            .into_response(error.error_response())
            .map_into_right_body()),
    }
}

/// Whether `secret` is a valid token's.
async fn check_token(
    db: &Database,
    kept: Option<&web::Data<VerifiedTokens>>,
    secret: &str,
) -> Result<Result<Authenticated, Refusal>, ApiError> {
    let presented = tokens::hash(secret);
    let kept = kept.map(|kept| kept.get_ref());
    let stored = stored_credential(db, kept, &presented, tokens::find).await?;
    tokens::judge(stored.as_deref(), &presented, Timestamp::now())
}

/// The stored credential (token or feed key) whose secret hashes to `presented`: from `kept`
/// when this process can trust it (see [`KeptCredentials`]), else read by `find` on the
/// primary, and then kept.
pub(crate) async fn stored_credential<T, F>(
    db: &Database,
    kept: Option<&KeptCredentials<T>>,
    presented: &str,
    find: F,
) -> Result<Option<Arc<T>>, ApiError>
where
    T: Send + Sync + 'static,
    F: FnOnce(&mut AnyConnection, &str) -> Result<Option<T>, ApiError> + Send + 'static,
{
    let epoch = db.credentials_epoch();
    if let (Some(kept), Some(epoch)) = (kept, epoch)
        && let Some(stored) = kept.get(presented, epoch)
    {
        kept.answered(true);
        return Ok(Some(stored));
    }
    if let Some(kept) = kept {
        kept.answered(false);
    }
    let stored = {
        let presented = presented.to_owned();
        db.run_fresh(move |conn| find(conn, &presented)).await?
    }
    .map(Arc::new);
    // Kept only if no credential changed while it was read: a revocation heard in between may
    // have come after the read.
    if let (Some(kept), Some(epoch), Some(stored)) = (kept, epoch, &stored)
        && db.credentials_epoch() == Some(epoch)
    {
        kept.keep(presented.to_owned(), epoch, stored.clone());
    }
    Ok(stored)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(Ok(req
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default()))
    }
}

/// A new token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// Who or what uses it, one line of at most 100 characters; the audit log names its writes
    /// by it.
    #[schema(example = "partner-sync")]
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// The last day the token works (`YYYY-MM-DD`, inclusive, UTC: it stops at the following
    /// midnight UTC); not in the past. Absent: it does not expire.
    #[serde(default, deserialize_with = "date_serde::optional")]
    #[schema(value_type = Option<String>, format = Date, example = "2027-12-31")]
    pub expires_on: Option<chrono::NaiveDate>,
}

impl CreateTokenRequest {
    /// The token's name, role and end, or every problem of the request.
    fn validate(self) -> Result<(String, Role, Option<Timestamp>), Vec<FieldError>> {
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
            Ok((name, self.role, expires_at))
        } else {
            Err(errors)
        }
    }
}

/// Create a token (admin)
///
/// Needs an admin token. The response is the only time the secret is shown: only its hash is
/// stored. Answers 201 with the token and its `Location`; 422 names every invalid field.
/// With `Idempotency-Key` a retry creates nothing: it gets 409 naming the token made by the
/// first request (the secret is never kept, so it cannot be shown again).
#[utoipa::path(
    tag = "access",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token."),
    ),
    request_body(content = CreateTokenRequest, description = "The new token's name, role and expiry", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `secret` is shown only now", body = CreatedToken, headers(
            ("Location" = String, description = "The new token's URL (for `DELETE`)"),
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
#[post("/tokens")]
pub async fn create_token(
    req: HttpRequest,
    db: web::Data<Database>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let (name, role, expires_at) =
        http::parse_valid(http::json_body(&req, &body)?, CreateTokenRequest::validate)?;
    rest::post_once_shown_once(&req, &db, &caller, &body, move |conn| {
        let created = tokens::create(conn, &name, role, expires_at)?;
        audit::record(
            conn,
            &actor,
            "create",
            "token",
            &created.token.id.to_string(),
            &serde_json::json!({"name": created.token.name, "role": created.token.role, "expires_at": created.token.expires_at.map(crate::domain::time::rfc3339_micros)}),
        )?;
        rest::shown_once("token", format!("/api/v1/tokens/{}", created.token.id), &created)
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

impl PageQuery {
    /// The cursor and the limit, as given.
    pub fn into_parts(self) -> (Option<String>, Option<String>) {
        (self.cursor, self.limit)
    }
}

/// List tokens (admin)
///
/// Needs an admin token. Every token, revoked and expired ones included (see `active`),
/// oldest first; secrets are never shown again. Keyset-paginated: when `next_cursor` is not
/// `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "access",
    params(PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of tokens", body = TokenPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/tokens")]
pub async fn list_tokens(
    db: web::Data<Database>,
    query: web::Query<PageQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let query = query.into_inner();
    let limit = params::limit(query.limit)?;
    let page = db
        .run(move |conn| tokens::list(conn, query.cursor.as_deref(), limit))
        .await?;
    Ok(http::collection(&page))
}

/// Revoke a token (admin)
///
/// Needs an admin token. From now on the token is refused (401); it stays listed, inactive,
/// so the audit log keeps naming it. Answers 204; 404 when no token has this id.
#[utoipa::path(
    tag = "access",
    params(("id" = uuid::Uuid, Path, description = "The token's id (from the list, or the `Location` of its creation)")),
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
#[delete("/tokens/{id}")]
pub async fn revoke_token(
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Admin)?;
    let id = path.into_inner();
    db.write(move |conn| {
        let token: TokenResponse = tokens::revoke(conn, &id)?;
        audit::record(
            conn,
            &actor,
            "revoke",
            "token",
            &token.id.to_string(),
            &serde_json::json!({"name": token.name}),
        )
    })
    .await?;
    // This process refuses the token from now on, without waiting for its own notification.
    db.credentials_changed();
    Ok(HttpResponse::NoContent().finish())
}

/// The kinds of record the audit log names; a `resource` filter naming another is refused
/// rather than answered with an empty log.
const AUDITED: [&str; 13] = [
    "event",
    "organisation",
    "person",
    "network",
    "membership",
    "chain",
    "programme",
    "token",
    "feed_key",
    "webhook",
    "comment",
    "publication",
    "outcome",
];

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only entries about this kind of record: `event`, `organisation`, `person`, `network`,
    /// `membership`, `chain`, `programme`, `token`, `feed_key`, `webhook`, `comment`,
    /// `publication` or `outcome`.
    #[param(example = "event")]
    resource: Option<String>,
    /// Only entries about this record, by its id (UUID), as `record_id` gives it.
    id: Option<String>,
    /// Only entries at or after this instant (RFC 3339, e.g. `2019-11-18T00:00:00Z`).
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// `at` (oldest first, the default) or `-at` (newest first).
    #[param(value_type = Option<String>, pattern = "^-?at$", example = "-at")]
    sort: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// The audit log (admin): every write, oldest first or newest first
///
/// Needs an admin token. Every create, update, delete, chain change and token revocation,
/// with who made it (token name or command-line tool) and what changed. Oldest first by
/// default; `sort=-at` lists the newest first. Filters are optional and combine with AND.
/// Keyset-paginated: when `next_cursor` is not `null`, pass it as `cursor` for the next page
/// (with the same `sort`).
#[utoipa::path(
    tag = "access",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of audit entries", body = AuditPage),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Forbidden,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/audit")]
pub async fn list_audit(
    db: web::Data<Database>,
    query: web::Query<AuditQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let query = query.into_inner();
    let since = query
        .since
        .map(|v| {
            Timestamp::parse_sortable(&v).ok_or_else(|| {
                ApiError::bad_parameter("since", format!("{v:?} is not an RFC 3339 instant"))
            })
        })
        .transpose()?;
    let resource = params::one(
        "resource",
        query.resource,
        |name| AUDITED.iter().find(|known| **known == name).copied(),
        format!("one of {}", AUDITED.join(", ")),
    )?;
    let filter = AuditFilter {
        resource: resource.map(str::to_owned),
        record_id: params::text("id", query.id)?,
        since,
        order: params::one(
            "sort",
            query.sort,
            AuditOrder::parse,
            "`at` or `-at`".into(),
        )?
        .unwrap_or_default(),
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    let page = db.run(move |conn| audit::list(conn, &filter)).await?;
    Ok(http::collection(&page))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_token)
        .service(list_tokens)
        .service(revoke_token)
        .service(list_audit);
}
