//! `/api/v1/events`: meetings and events.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::db::{Database, Instant};
use crate::domain::CountryCode;
use crate::domain::enums::{EventKind, EventStatus};
use crate::domain::event::EventInput;
use crate::error::{ApiError, responses};
use crate::http;
use crate::routes::{Caller, rest};
use crate::store::events::{self as store, EventFilter, EventPage, EventResponse, EventSort, Events};
use crate::store::pagination;

/// Filters and paging of the event list. Dates are local to each event.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Events that end on or after this date (`YYYY-MM-DD`): an event running 22–23 October
    /// is found by `from=2019-10-23`.
    #[param(value_type = Option<String>, format = Date, example = "2019-01-01")]
    from: Option<String>,
    /// Events that start on or before this date.
    #[param(value_type = Option<String>, format = Date, example = "2019-12-31")]
    to: Option<String>,
    /// City, case- and accent-insensitive.
    #[param(example = "Tirana")]
    city: Option<String>,
    /// ISO 3166-1 alpha-2 country code (`XK` for Kosovo).
    #[param(example = "AL")]
    country: Option<String>,
    /// One kind or several, comma-separated.
    #[param(example = "network_meeting,board_meeting")]
    kind: Option<String>,
    /// One status or several, comma-separated.
    #[param(example = "scheduled")]
    status: Option<String>,
    /// A topic, case- and accent-insensitive.
    #[param(example = "p-cve")]
    topic: Option<String>,
    /// Free text over title, description, venue, city and topics; case- and
    /// accent-insensitive (`tirane` finds `Tiranë`).
    #[param(example = "radicalisation")]
    q: Option<String>,
    /// Only events changed at or after this instant (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// Network id or slug.
    network: Option<String>,
    /// Organisation id or slug: events it organises or takes part in.
    organisation: Option<String>,
    /// Person id or slug: events the person takes part in.
    person: Option<String>,
    /// Chain id or slug.
    chain: Option<String>,
    /// `start` (default), `-start` or `updated`.
    #[param(value_type = Option<String>, pattern = "^(start|-start|updated)$")]
    sort: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

const MAX_QUERY_TEXT: usize = 200;

fn text_param(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_QUERY_TEXT => Err(ApiError::bad_parameter(
            name,
            format!("must be at most {MAX_QUERY_TEXT} characters"),
        )),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => Ok(Some(v.trim().to_owned())),
        None => Ok(None),
    }
}

fn date_param(name: &str, value: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .map(|v| {
            crate::domain::time::parse_date(&v).map_err(|e| ApiError::bad_parameter(name, e))
        })
        .transpose()
}

fn list_param<T: Copy>(
    name: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
    expected: String,
) -> Result<Vec<T>, ApiError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(20)
        .map(|v| {
            parse(v).ok_or_else(|| ApiError::bad_parameter(name, format!("{v:?} is not {expected}")))
        })
        .collect()
}

impl EventListQuery {
    fn into_filter(self) -> Result<EventFilter, ApiError> {
        let from = date_param("from", self.from)?;
        let to = date_param("to", self.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(ApiError::bad_parameter("to", "must not be before from"));
        }
        let country = self
            .country
            .map(|c| CountryCode::parse(&c).map_err(|e| ApiError::bad_parameter("country", e)))
            .transpose()?
            .map(CountryCode::into_string);
        let updated_since = self
            .updated_since
            .map(|v| {
                Instant::parse_sortable(&v).ok_or_else(|| {
                    ApiError::bad_parameter("updated_since", format!("{v:?} is not an RFC 3339 instant"))
                })
            })
            .transpose()?;
        let sort = match self.sort.as_deref() {
            None => EventSort::Start,
            Some(s) => EventSort::parse(s).ok_or_else(|| {
                ApiError::bad_parameter("sort", "must be start, -start or updated")
            })?,
        };
        let limit = self
            .limit
            .map(|l| l.parse::<i64>().map_err(|_| ApiError::bad_parameter("limit", "must be a whole number")))
            .transpose()?;
        Ok(EventFilter {
            from,
            to,
            city: text_param("city", self.city)?,
            country,
            kinds: list_param("kind", self.kind, EventKind::parse, EventKind::expected())?,
            statuses: list_param("status", self.status, EventStatus::parse, EventStatus::expected())?,
            topic: text_param("topic", self.topic)?,
            q: text_param("q", self.q)?,
            updated_since,
            network: text_param("network", self.network)?,
            organisation: text_param("organisation", self.organisation)?,
            person: text_param("person", self.person)?,
            chain: text_param("chain", self.chain)?,
            sort,
            cursor: self.cursor,
            limit: pagination::limit(limit)?,
        })
    }
}

/// List events, oldest start first; keyset-paginated.
#[utoipa::path(
    tag = "events",
    params(EventListQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        responses::BadRequest,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events")]
pub async fn list_events(
    db: web::Data<Database>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let viewer = caller.viewer();
    let page = db.run(move |conn| store::list(conn, &filter, viewer)).await?;
    Ok(http::collection(&page))
}

/// Create an event.
#[utoipa::path(
    tag = "events",
    request_body(content = EventInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new event", body = EventResponse,
         headers(("Location" = String), ("ETag" = String))),
        responses::BadRequest,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/events")]
pub async fn create_event(
    req: HttpRequest,
    db: web::Data<Database>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::create::<Events>(req, db, body, caller).await
}

/// One event, by id or slug.
#[utoipa::path(
    tag = "events",
    params(("id" = String, Path, description = "Event id or slug")),
    responses(
        (status = 200, description = "The event", body = EventResponse, headers(("ETag" = String))),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events/{id}")]
pub async fn get_event(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::get::<Events>(req, db, path.into_inner(), caller).await
}

/// Change an event with a JSON Merge Patch (RFC 7396): fields present replace, `null` clears.
#[utoipa::path(
    tag = "events",
    params(
        ("id" = String, Path, description = "Event id or slug"),
        ("If-Match" = Option<String>, Header, description = "ETag the change is based on"),
    ),
    request_body(content = serde_json::Value, description = "A merge patch of the event's fields",
        content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed event", body = EventResponse, headers(("ETag" = String))),
        responses::BadRequest,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[patch("/events/{id}")]
pub async fn update_event(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::update::<Events>(req, db, path.into_inner(), body, caller).await
}

/// Delete an event nothing refers to.
#[utoipa::path(
    tag = "events",
    params(
        ("id" = String, Path, description = "Event id or slug"),
        ("If-Match" = Option<String>, Header, description = "ETag the deletion is based on"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[delete("/events/{id}")]
pub async fn delete_event(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    rest::delete::<Events>(req, db, path.into_inner(), caller).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_events)
        .service(create_event)
        .service(get_event)
        .service(update_event)
        .service(delete_event);
}
