//! iCalendar feeds (`text/calendar`): `/events.ics` and the `.ics` twin of each event URL a
//! calendar would subscribe to. The representation is built in
//! [`representation::calendar`](crate::representation::calendar); this module parses the
//! query and the feed key, and answers with the ETag and caching headers.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::cache::Representations;
use crate::configuration::PublicUrl;
use crate::db::{Database, Timestamp};
use crate::error::{ApiError, responses};
use crate::http::{self, IfNoneMatch};
use crate::representation::calendar::{self, Answer, CalendarTags, Calendars, Scope};
use crate::routes::Caller;
use crate::routes::access::stored_credential;
use crate::routes::events::EventListQuery;
use crate::store::Viewer;
use crate::store::events::{EventFilter, ListsKept};
use crate::store::feed_keys::{self, VerifiedFeedKeys};
use crate::store::tokens::{Refusal, hash};

/// The media type of every calendar.
pub const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

/// How long a client may use a calendar before asking again (it then revalidates with
/// `If-None-Match`, which costs the server one read of the registry's generation).
const MAX_AGE_SECONDS: u32 = 300;

/// The filters of a feed: those of `GET /api/v1/events`, with the same meaning and the same
/// problems, and a feed key. No paging: a feed holds every event it selects, up to 1000.
#[derive(Debug, Default, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A feed key (from `POST /api/v1/feed-keys`): the feed then holds `internal` events
    /// too, as for a token. For calendar clients, which cannot send `Authorization`. An
    /// unknown, expired or revoked key is 401.
    #[serde(skip_serializing)]
    key: Option<String>,
    /// Events that end on or after this day (`YYYY-MM-DD`, local to each event). Absent: a
    /// year before today (or before `to`, when that is earlier); every later event is in the
    /// feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<String>, format = Date, example = "2019-01-01")]
    from: Option<String>,
    /// Events that start on or before this day (`YYYY-MM-DD`, inclusive); absent: no end.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<String>, format = Date, example = "2019-12-31")]
    to: Option<String>,
    /// Events in this city: the whole name, case- and accent-insensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "Tirana")]
    city: Option<String>,
    /// Events in this country: ISO 3166-1 alpha-2, any case (`XK` for Kosovo).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "AL")]
    country: Option<String>,
    /// Events of this kind; several comma-separated. Values as in `EventKind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "network_meeting,board_meeting")]
    kind: Option<String>,
    /// Events with this status; several comma-separated. Values as in `EventStatus`.
    /// Cancelled events are in a feed unless this leaves them out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "scheduled")]
    status: Option<String>,
    /// Events with this topic: the whole topic, case- and accent-insensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "p-cve")]
    topic: Option<String>,
    /// Free text over title, description, venue, city, address and topics; case- and
    /// accent-insensitive; at most 200 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "janecek")]
    q: Option<String>,
    /// Only events changed at or after this instant (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// Meetings of this network (id or slug).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "rnnc")]
    network: Option<String>,
    /// Events this organisation (id or slug) organises, hosts, funds, supports or takes part
    /// in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "iisg-support-group")]
    organisation: Option<String>,
    /// Events this person (id or slug) takes part in, in any role.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "maciej-popowski")]
    person: Option<String>,
    /// Events of this chain (id or slug).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[param(example = "tirana-april-2019")]
    chain: Option<String>,
}

impl FeedQuery {
    /// The filter, parsed by the event list's own query type (so every filter means and fails
    /// exactly as it does there), and the feed key.
    fn into_parts(mut self) -> Result<(EventFilter, Option<String>), ApiError> {
        let key = self.key.take();
        let filters = serde_json::to_value(&self).map_err(ApiError::internal)?;
        let list: EventListQuery = serde_json::from_value(filters).map_err(ApiError::internal)?;
        Ok((list.into_filter()?, key))
    }
}

/// Only a feed key, for the calendar of one event.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventCalendarQuery {
    /// A feed key (from `POST /api/v1/feed-keys`), to read an `internal` event without a
    /// token. An unknown, expired or revoked key is 401.
    key: Option<String>,
}

/// Who reads the feed: the caller (a token sees internal events), or the holder of a valid
/// feed key. A key that does not work is refused (401), as a bad token is.
async fn viewer(
    state: &CalendarState<'_>,
    caller: &Caller,
    key: Option<String>,
) -> Result<Viewer, ApiError> {
    let Some(key) = key else {
        return Ok(caller.viewer());
    };
    let refused = |detail: &str| ApiError::Unauthorized {
        detail: detail.to_owned(),
    };
    if key.is_empty() || key.len() > 512 {
        return Err(refused("the feed key is not known"));
    }
    let presented = hash(&key);
    let kept = state.req.app_data::<web::Data<VerifiedFeedKeys>>();
    let kept = kept.map(|kept| kept.get_ref());
    let stored = stored_credential(&state.db, kept, &presented, feed_keys::find).await?;
    match feed_keys::judge(stored.as_deref(), &presented, Timestamp::now()) {
        Ok(()) => Ok(Viewer {
            sees_internal: true,
        }),
        Err(Refusal::Unknown) => Err(refused("the feed key is not known")),
        Err(Refusal::Expired) => Err(refused("the feed key has expired")),
        Err(Refusal::Revoked) => Err(refused("the feed key has been revoked")),
    }
}

/// The state every calendar handler uses.
pub struct CalendarState<'a> {
    req: &'a HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<Representations>,
    tags: web::Data<CalendarTags>,
    lists_kept: web::Data<ListsKept>,
    public_url: web::Data<PublicUrl>,
}

impl<'a> CalendarState<'a> {
    fn of(req: &'a HttpRequest) -> Result<Self, ApiError> {
        fn data<T: 'static>(req: &HttpRequest) -> Result<web::Data<T>, ApiError> {
            req.app_data::<web::Data<T>>()
                .cloned()
                .ok_or_else(|| ApiError::internal("calendar state not configured"))
        }
        Ok(Self {
            req,
            db: data(req)?,
            cache: data(req)?,
            tags: data(req)?,
            lists_kept: data(req)?,
            public_url: data(req)?,
        })
    }

    /// The calendar `scope` and `filter` select, as `viewer` may see it, with its ETag and
    /// caching headers (304 when `If-None-Match` names it).
    async fn answer(
        self,
        scope: Scope,
        filter: EventFilter,
        viewer: Viewer,
    ) -> Result<HttpResponse, ApiError> {
        let if_none_match = IfNoneMatch::of(self.req);
        let (cache, tags, lists_kept, public_url) =
            (self.cache, self.tags, self.lists_kept, self.public_url);
        let feed = calendar::Feed::of(&scope, filter, viewer);
        let known = self.db.known_generation().and_then(|generation| {
            let shared = Calendars {
                cache: &cache,
                tags: &tags,
                lists_kept: &lists_kept,
                public_url: &public_url,
            };
            calendar::kept(&shared, &feed, viewer, generation, |etag| {
                if_none_match.matches(etag)
            })
        });
        let answer = match known {
            Some(answer) => answer,
            None => {
                self.db
                    .run(move |conn| {
                        let shared = Calendars {
                            cache: &cache,
                            tags: &tags,
                            lists_kept: &lists_kept,
                            public_url: &public_url,
                        };
                        calendar::calendar(conn, &shared, &scope, feed, viewer, |etag| {
                            if_none_match.matches(etag)
                        })
                    })
                    .await?
            }
        };
        let mut response = match answer {
            Answer::Unchanged(etag) => http::not_modified(&etag),
            Answer::Calendar(entry) => http::with_etag_as(
                self.req,
                StatusCode::OK,
                entry.body.clone(),
                &entry.etag,
                CALENDAR_TYPE,
            ),
        };
        let cache_control = if viewer.sees_internal {
            format!("private, max-age={MAX_AGE_SECONDS}")
        } else {
            format!("public, max-age={MAX_AGE_SECONDS}")
        };
        if let Ok(value) = header::HeaderValue::from_str(&cache_control) {
            response.headers_mut().insert(header::CACHE_CONTROL, value);
        }
        Ok(response)
    }
}

/// A feed of events (iCalendar), with the filters of the event list
///
/// The events `GET /api/v1/events` would list with these filters, as one `text/calendar`
/// document, not paginated; `Accept: text/calendar` on `/api/v1/events` gives the same. Without
/// `from`, the feed starts a year before today (or before `to`) and holds every later event.
/// A feed holds at most 1000 events: one that would hold more is refused (422) rather than
/// cut, so narrow it with `from`/`to` or a filter. Events whose dates are not known yet are
/// left out; cancelled ones stay, with `STATUS:CANCELLED`, so subscribed calendars mark them.
/// Internal events are included for a token, or for a feed key (`key`). Each event is a
/// `VEVENT` whose `UID` stays the same across changes and whose `SEQUENCE` grows when its
/// title, status, dates, times, time zone or place change (not for other changes). Status
/// mapping: scheduled, rescheduled and moved_online → `CONFIRMED`; tentative and postponed
/// → `TENTATIVE`; cancelled → `CANCELLED`; the registry's status is also in
/// `X-REGISTRY-STATUS` and, when not `scheduled`, in the first line of `DESCRIPTION`.
/// Sessions name their parent event (`RELATED-TO;RELTYPE=PARENT`), chain members the first
/// and next event of their chain (`RELTYPE=FIRST`, `RELTYPE=NEXT`, RFC 9253). Answers with an
/// `ETag` (`If-None-Match` gives 304) and `Cache-Control: max-age=300`.
#[utoipa::path(
    tag = "calendar",
    params(FeedQuery),
    responses(
        (status = 200, description = "The feed, an RFC 5545 iCalendar document", content_type = "text/calendar", body = String, headers(
            ("ETag" = String, description = "The feed's entity tag, for `If-None-Match`"),
            ("Cache-Control" = String, description = "`public, max-age=300` (`private` for a feed with internal events)"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::BadRequest,
        responses::Unauthorized,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events.ics")]
pub async fn events_calendar(
    req: HttpRequest,
    query: web::Query<FeedQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let state = CalendarState::of(&req)?;
    let (filter, key) = query.into_inner().into_parts()?;
    let viewer = viewer(&state, &caller, key).await?;
    state.answer(Scope::Events, filter, viewer).await
}

/// One event as iCalendar
///
/// The event as a `text/calendar` document holding one `VEVENT` (and the `VTIMEZONE` its
/// times need), as in the feeds; `Accept: text/calendar` on `/api/v1/events/{id}` gives the
/// same. An event whose dates are not known yet cannot be a calendar entry: 409
/// (`calendar_dates_known`). An internal event is 404 without a token or a feed key (`key`).
/// Answers with an `ETag` (`If-None-Match` gives 304).
#[utoipa::path(
    tag = "calendar",
    params(("id" = String, Path, description = "The event's id (UUID) or slug", example = "iisg-board-4"), EventCalendarQuery),
    responses(
        (status = 200, description = "The event, an RFC 5545 iCalendar document", content_type = "text/calendar", body = String, headers(
            ("ETag" = String, description = "The calendar's entity tag, for `If-None-Match`"),
            ("Cache-Control" = String, description = "`public, max-age=300` (`private` for an internal event)"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::BadRequest,
        responses::Unauthorized,
        responses::NotFound,
        responses::Conflict,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events/{id}.ics")]
pub async fn event_calendar(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<EventCalendarQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let state = CalendarState::of(&req)?;
    let viewer = viewer(&state, &caller, query.into_inner().key).await?;
    let scope = Scope::Event(path.into_inner());
    state.answer(scope, EventFilter::default(), viewer).await
}

/// A network's meetings as an iCalendar feed
///
/// The feed of `GET /api/v1/events.ics` with `network` set by the path (same filters, window,
/// limit, feed key and caching); `Accept: text/calendar` on `/api/v1/networks/{id}/meetings`
/// gives the same. The calendar is named after the network. 404 when no network has this id
/// or slug.
#[utoipa::path(
    tag = "calendar",
    params(("id" = String, Path, description = "The network's id (UUID) or slug", example = "rnnc"), FeedQuery),
    responses(
        (status = 200, description = "The feed, an RFC 5545 iCalendar document", content_type = "text/calendar", body = String, headers(
            ("ETag" = String, description = "The feed's entity tag, for `If-None-Match`"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::BadRequest,
        responses::Unauthorized,
        responses::NotFound,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/networks/{id}/meetings.ics")]
pub async fn network_calendar(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<FeedQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    owned_feed(
        req,
        Scope::Network(path.into_inner()),
        query.into_inner(),
        caller,
    )
    .await
}

/// An organisation's events as an iCalendar feed
///
/// The feed of `GET /api/v1/events.ics` with `organisation` set by the path: the events it
/// organises, hosts, funds, supports or takes part in (same filters, window, limit, feed key
/// and caching); `Accept: text/calendar` on `/api/v1/organisations/{id}/events` gives the
/// same. 404 when no organisation has this id or slug.
#[utoipa::path(
    tag = "calendar",
    params(("id" = String, Path, description = "The organisation's id (UUID) or slug", example = "dcaf-ljubljana"), FeedQuery),
    responses(
        (status = 200, description = "The feed, an RFC 5545 iCalendar document", content_type = "text/calendar", body = String, headers(
            ("ETag" = String, description = "The feed's entity tag, for `If-None-Match`"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::BadRequest,
        responses::Unauthorized,
        responses::NotFound,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/organisations/{id}/events.ics")]
pub async fn organisation_calendar(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<FeedQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    owned_feed(
        req,
        Scope::Organisation(path.into_inner()),
        query.into_inner(),
        caller,
    )
    .await
}

/// A person's events as an iCalendar feed
///
/// The feed of `GET /api/v1/events.ics` with `person` set by the path: the events they take
/// part in, in any role (same filters, window, limit, feed key and caching);
/// `Accept: text/calendar` on `/api/v1/people/{id}/events` gives the same. 404 when no person
/// has this id or slug.
#[utoipa::path(
    tag = "calendar",
    params(("id" = String, Path, description = "The person's id (UUID) or slug", example = "maciej-popowski"), FeedQuery),
    responses(
        (status = 200, description = "The feed, an RFC 5545 iCalendar document", content_type = "text/calendar", body = String, headers(
            ("ETag" = String, description = "The feed's entity tag, for `If-None-Match`"),
        )),
        (status = 304, description = "Not modified (`If-None-Match`)"),
        responses::BadRequest,
        responses::Unauthorized,
        responses::NotFound,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/people/{id}/events.ics")]
pub async fn person_calendar(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<FeedQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    owned_feed(
        req,
        Scope::Person(path.into_inner()),
        query.into_inner(),
        caller,
    )
    .await
}

async fn owned_feed(
    req: HttpRequest,
    scope: Scope,
    query: FeedQuery,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let state = CalendarState::of(&req)?;
    let (filter, key) = query.into_parts()?;
    let viewer = viewer(&state, &caller, key).await?;
    state.answer(scope, filter, viewer).await
}

/// Registered before the JSON routes: `/events/{id}` would take `rnnc-3.ics` as an id.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(events_calendar)
        .service(event_calendar)
        .service(network_calendar)
        .service(organisation_calendar)
        .service(person_calendar);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_query_parses_as_the_list_does() {
        let query = FeedQuery {
            key: Some("mrf_x".into()),
            from: Some("2019-04-01".into()),
            kind: Some("network_meeting".into()),
            ..FeedQuery::default()
        };
        let (filter, key) = query.into_parts().expect("parses");
        assert_eq!(key.as_deref(), Some("mrf_x"));
        assert_eq!(
            filter.from.map(|d| d.to_string()).as_deref(),
            Some("2019-04-01")
        );
        assert_eq!(filter.kinds.len(), 1);
        let bad = FeedQuery {
            from: Some("yesterday".into()),
            ..FeedQuery::default()
        };
        assert!(bad.into_parts().is_err());
    }
}
