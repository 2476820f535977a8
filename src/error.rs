//! The one error type of the API and its RFC 9457 problem document.
//!
//! Every failure the server can produce, including actix's own extractor errors, leaves as
//! `application/problem+json` with this shape; the same struct is the OpenAPI schema of every
//! error response. A 500 logs its cause and never shows it to the client.

use std::panic::Location;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON path into the request (`location.country_code`, `links[1].url`) or
    /// the name of a query parameter.
    #[schema(example = "end_date")]
    pub field: String,
    /// What is wrong with it, in plain words.
    #[schema(example = "must not be before start_date (2019-10-22)")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A record a broken rule involves, named by both its id and its slug, so a client neither has
/// to tell a slug from a UUID nor look the record up to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecordRef {
    /// `event`, `chain`, `organisation`, `person`, `network` or `programme`.
    #[schema(example = "event")]
    pub resource: String,
    /// The record's id (a UUID).
    #[schema(format = Uuid)]
    pub id: String,
    /// The record's slug, unique among records of its kind.
    #[schema(example = "rnnc-3")]
    pub slug: String,
}

impl RecordRef {
    pub fn new(resource: &str, id: impl std::fmt::Display, slug: impl Into<String>) -> Self {
        Self {
            resource: resource.to_owned(),
            id: id.to_string(),
            slug: slug.into(),
        }
    }
}

/// A broken registry rule, with the records involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RuleViolation {
    /// The rule's name, stable and safe to branch on: `chain_no_overlap`, `chain_max_gap`,
    /// `chain_same_city`, `chain_dates_known` (a chain's events need dates), `chain_single`
    /// (an event is in at most one chain), `series_unique`,
    /// `series_order`, `parent_cycle`, `parent_depth`, `precedes_order` (an event that
    /// precedes another starts after it), `precedes_cycle`, `slug_unique`,
    /// `still_referenced` or `calendar_dates_known` (an event without dates has no
    /// iCalendar form).
    #[schema(example = "chain_max_gap")]
    pub rule: String,
    /// Every record involved, each with its resource, id and slug, in the order the rule names
    /// them (for chain rules: the events, then the chain).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<RecordRef>,
    /// The events involved, by id only (the `event` entries of `records`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
    /// The other records involved (the chain, referring records…), by id only (the other
    /// entries of `records`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// What broke, in plain words, naming the records by slug.
    pub detail: String,
}

impl RuleViolation {
    /// A violation of `rule` by `records`; `event_ids` and `ids` are derived from them, so the
    /// three lists never disagree and never mix slugs with ids.
    pub fn new(rule: &str, records: Vec<RecordRef>, detail: impl Into<String>) -> Self {
        let (events, others): (Vec<&RecordRef>, Vec<&RecordRef>) =
            records.iter().partition(|r| r.resource == "event");
        Self {
            rule: rule.to_owned(),
            event_ids: events.iter().map(|r| r.id.clone()).collect(),
            ids: others.iter().map(|r| r.id.clone()).collect(),
            records,
            detail: detail.into(),
        }
    }

    /// Adds a record (the chain whose rule broke, …) after the ones already named.
    pub fn involving(mut self, record: RecordRef) -> Self {
        if record.resource == "event" {
            self.event_ids.push(record.id.clone());
        } else {
            self.ids.push(record.id.clone());
        }
        self.records.push(record);
        self
    }
}

/// An RFC 9457 problem document (`application/problem+json`): every error response has this
/// shape.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation",
    "title": "The request is not valid",
    "status": 422,
    "detail": "1 field is not valid",
    "errors": [{"field": "end_date", "message": "must not be before start_date (2019-10-22)"}]
}))]
pub struct Problem {
    /// A URI reference naming the kind of problem, stable and safe to branch on:
    /// `/problems/bad-request`, `validation`, `not-found`, `method-not-allowed`, `conflict`,
    /// `precondition-failed`, `payload-too-large`, `unsupported-media-type`, `not-acceptable`,
    /// `unauthorized`, `forbidden`, `rate-limited`, `unavailable` or `internal`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem; the same for every problem of a `type`.
    pub title: String,
    /// The HTTP status code, repeated.
    pub status: u16,
    /// What went wrong with this request, in plain words.
    pub detail: String,
    /// Invalid fields, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Broken rules, for conflicts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<RuleViolation>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("{resource} {key:?} not found")]
    NotFound { resource: &'static str, key: String },
    #[error("no route for this path")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict: {detail}")]
    Conflict {
        detail: String,
        violations: Vec<RuleViolation>,
    },
    #[error("precondition failed")]
    PreconditionFailed,
    /// What was asked for is no longer kept (a change-feed cursor older than the retention).
    #[error("gone: {detail}")]
    Gone { detail: String },
    #[error("body too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType { detail: String },
    #[error("not acceptable")]
    NotAcceptable,
    #[error("unauthorised: {detail}")]
    Unauthorized { detail: String },
    #[error("forbidden: {detail}")]
    Forbidden { detail: String },
    #[error("rate limited")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {cause}")]
    Unavailable { cause: String },
    /// The process is shutting down (crate::shutdown): ready no more, though it still serves.
    #[error("draining")]
    Draining,
    #[error("internal error at {location}: {cause}")]
    Internal {
        cause: String,
        location: &'static Location<'static>,
    },
}

impl ApiError {
    /// Whether the failure is the server's (its database failed or is out of reach) rather
    /// than the request's: such a read may succeed elsewhere.
    pub fn is_the_servers(&self) -> bool {
        matches!(self, Self::Internal { .. } | Self::Unavailable { .. })
    }

    #[track_caller]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            cause: cause.to_string(),
            location: Location::caller(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A bad query or path parameter, naming it.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("parameter {field}: {message}"),
            errors: vec![FieldError::new(field, message)],
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(resource: &'static str, key: impl Into<String>) -> Self {
        Self::NotFound {
            resource,
            key: key.into(),
        }
    }

    /// This error, but a list filter's "names nothing" (a 422 naming `parameter` alone) as
    /// the 404 of the record a path names: for lists under a record (`/networks/{id}/…`),
    /// which pass the path's key on as a filter.
    pub fn or_not_found(self, parameter: &str, resource: &'static str, key: &str) -> Self {
        match &self {
            Self::Validation(errors) if errors.len() == 1 && errors[0].field == parameter => {
                Self::not_found(resource, key)
            }
            _ => self,
        }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            violations: Vec::new(),
        }
    }

    /// 409 for one broken rule involving `records`.
    pub fn rule(rule: &str, records: Vec<RecordRef>, detail: impl Into<String>) -> Self {
        Self::violations(vec![RuleViolation::new(rule, records, detail)])
    }

    /// 409 for broken rules.
    pub fn violations(violations: Vec<RuleViolation>) -> Self {
        let detail = violations
            .iter()
            .map(|v| format!("rule {}: {}", v.rule, v.detail))
            .collect::<Vec<_>>()
            .join("; ");
        Self::Conflict { detail, violations }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (kind, title) = match self {
            Self::BadRequest { .. } => ("bad-request", "The request is malformed"),
            Self::Validation(_) => ("validation", "The request is not valid"),
            Self::NotFound { .. } => ("not-found", "No such record"),
            Self::NoRoute => ("not-found", "No such resource"),
            Self::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            Self::Conflict { .. } => ("conflict", "The request conflicts with the registry"),
            Self::PreconditionFailed => ("precondition-failed", "The record has changed"),
            Self::Gone { .. } => ("gone", "No longer available"),
            Self::PayloadTooLarge { .. } => ("payload-too-large", "The body is too large"),
            Self::UnsupportedMediaType { .. } => {
                ("unsupported-media-type", "Unsupported media type")
            }
            Self::NotAcceptable => ("not-acceptable", "No acceptable representation"),
            Self::Unauthorized { .. } => ("unauthorized", "Authentication required"),
            Self::Forbidden { .. } => ("forbidden", "Not allowed"),
            Self::TooManyRequests { .. } => ("rate-limited", "Too many requests"),
            Self::Unavailable { .. } | Self::Draining => {
                ("unavailable", "Service temporarily unavailable")
            }
            Self::Internal { .. } => ("internal", "Internal server error"),
        };
        let (detail, errors, violations) = match self {
            Self::BadRequest { detail, errors } => (detail.clone(), errors.clone(), Vec::new()),
            Self::Validation(errors) => {
                let detail = match errors.as_slice() {
                    [one] => format!("{}: {}", one.field, one.message),
                    many => format!("{} fields are not valid", many.len()),
                };
                (detail, errors.clone(), Vec::new())
            }
            Self::NotFound { resource, key } => {
                (format!("no {resource} {key:?}"), Vec::new(), Vec::new())
            }
            Self::NoRoute => (
                "no resource at this path (every path of the API, all under /api/v1, is listed at /docs)"
                    .to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            Self::MethodNotAllowed => (
                "this resource does not support this method".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            Self::Conflict { detail, violations } => {
                (detail.clone(), Vec::new(), violations.clone())
            }
            Self::PreconditionFailed => (
                "If-Match does not match the current ETag; fetch the record again".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            Self::PayloadTooLarge { limit } => (
                format!("the body exceeds the limit of {limit} bytes"),
                Vec::new(),
                Vec::new(),
            ),
            Self::UnsupportedMediaType { detail } | Self::Gone { detail } => {
                (detail.clone(), Vec::new(), Vec::new())
            }
            Self::NotAcceptable => (
                "this resource is available as application/json".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            Self::Unauthorized { detail } | Self::Forbidden { detail } => {
                (detail.clone(), Vec::new(), Vec::new())
            }
            Self::TooManyRequests { retry_after_secs } => (
                format!("rate limit exceeded; retry after {retry_after_secs} s"),
                Vec::new(),
                Vec::new(),
            ),
            Self::Unavailable { .. } => (
                "the database is busy or unreachable; retry shortly".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            Self::Draining => (
                "this process is draining: it is shutting down and finishes the requests it has; \
                 send new ones to another process"
                    .to_owned(),
                Vec::new(),
                Vec::new(),
            ),
            Self::Internal { .. } => (
                "the server failed; the cause is logged with this request's id".to_owned(),
                Vec::new(),
                Vec::new(),
            ),
        };
        Problem {
            kind: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            errors,
            violations,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound { .. } | Self::NoRoute => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Gone { .. } => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::Draining => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal { cause, location } => {
                tracing::error!(%cause, %location, "internal error");
            }
            Self::Unavailable { cause } => tracing::warn!(%cause, "service unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match self {
            Self::Unauthorized { .. } => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"meeting-registry\""),
                ));
            }
            Self::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::MethodNotAllowed => {
                // The precise list depends on the route; clients use it only as a hint.
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    #[track_caller]
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::not_found("record", "requested"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::conflict(format!(
                    "a record with the same unique value exists ({})",
                    info.message()
                ))
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::conflict(
                "the write refers to a record that does not exist, or deletes one still referenced",
            ),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Self::Unavailable {
                cause: "serialization failure".to_owned(),
            },
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => Self::Unavailable {
                cause: info.message().to_owned(),
            },
            Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info) => {
                Self::Unavailable {
                    cause: info.message().to_owned(),
                }
            }
            Error::DatabaseError(_, ref info)
                if is_busy(info.message()) || lost_connection(info.message()) =>
            {
                Self::Unavailable {
                    cause: info.message().to_owned(),
                }
            }
            other => Self::internal(other),
        }
    }
}

/// PostgreSQL's (libpq's) words for a session that is gone: the server restarted or failed
/// over, or an administrator ended it. The request may succeed on a new connection.
fn lost_connection(message: &str) -> bool {
    [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "connection to server",
        "could not receive data from server",
        "could not send data to server",
    ]
    .iter()
    .any(|words| message.contains(words))
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable {
            cause: format!("taking a database connection from the pool: {error}"),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    #[track_caller]
    fn from(error: actix_web::error::BlockingError) -> Self {
        Self::internal(error)
    }
}

/// The OpenAPI description of the problem responses an endpoint can give.
pub mod responses {
    use super::Problem;
    use utoipa::IntoResponses;

    macro_rules! problem_response {
        ($name:ident, $status:literal, $description:literal) => {
            #[derive(IntoResponses)]
            #[response(status = $status, description = $description, content_type = "application/problem+json")]
            #[allow(dead_code)]
            pub struct $name(Problem);
        };
    }

    problem_response!(
        BadRequest,
        400,
        "Malformed request: bad JSON, or a bad or unknown query parameter (`errors` names it, with the closest known one)"
    );
    problem_response!(
        NotFound,
        404,
        "No such record (or not visible to the caller)"
    );
    problem_response!(
        Conflict,
        409,
        "A registry rule refused the write; `violations` names it"
    );
    problem_response!(
        PreconditionFailed,
        412,
        "`If-Match` does not match the current ETag, or `If-None-Match` does"
    );
    problem_response!(
        SecretShownOnce,
        409,
        "A retry with an `Idempotency-Key` that already created the credential: the problem names it (`Location`); its secret was shown once and is not kept"
    );
    problem_response!(
        Unauthorized,
        401,
        "No token, or a malformed, unknown, expired or revoked one"
    );
    problem_response!(Forbidden, 403, "The token's role may not do this");
    problem_response!(PayloadTooLarge, 413, "The body exceeds the size limit");
    problem_response!(UnsupportedMediaType, 415, "The body is not JSON");
    problem_response!(
        Unprocessable,
        422,
        "Validation failed; `errors` names every invalid field at once, each with a message in plain words"
    );
    problem_response!(
        UnknownFilterTarget,
        422,
        "A filter names a record that does not exist (or is not visible to the caller); `errors` names the parameter"
    );
    problem_response!(
        ChangesGone,
        410,
        "The cursor is older than the change feed keeps: resync from the lists"
    );
    problem_response!(
        BadCursor,
        422,
        "`since` is not a cursor this registry gave (`errors` names it)"
    );
    problem_response!(TooManyRequests, 429, "Rate limited; see `Retry-After`");
    problem_response!(Unavailable, 503, "The database is unreachable or busy");
}
