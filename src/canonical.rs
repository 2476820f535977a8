//! Requests put into the shape the routes answer, before routing: `HEAD` is answered as `GET`,
//! an API path with a trailing slash and the bare root are redirected to where they mean, and
//! `Accept: text/calendar` on an event URL is answered by its `.ics` twin.

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::http::{Method, Uri, header};
use actix_web::middleware::Next;

/// Where the API lives; a trailing slash under it is redirected away.
const API_PREFIX: &str = "/api/";

/// One middleware for every route (documented or not, Swagger UI included):
/// - `HEAD` runs the `GET` route and keeps its status and headers (`Content-Length`, `ETag`…);
///   the HTTP layer sends no body for a `HEAD` request.
/// - `/api/v1/events/rnnc-3/` is a 308 to `/api/v1/events/rnnc-3` (query kept; 308 keeps the
///   method and body, so a `POST` or `PATCH` can follow it too).
/// - `/` is a 308 to `/docs`.
/// - A `GET` of an event URL a calendar subscribes to (`/api/v1/events`, `/events/{id}`,
///   `/networks/{id}/meetings`, `/organisations/{id}/events`, `/people/{id}/events`) whose
///   `Accept` prefers `text/calendar` is answered by the `.ics` route of the same path (query
///   kept), and the answers of those URLs say `Vary: Accept`.
pub async fn canonical_request(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    if let Some(location) = redirect_target(req.path(), req.query_string()) {
        let response = HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, location))
            .finish();
        return Ok(req.into_response(response).map_into_right_body());
    }
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let twin = (req.method() == Method::GET)
        .then(|| calendar_twin(req.path()))
        .flatten();
    let negotiated = twin.is_some();
    if let Some(twin) = twin
        && prefers_calendar(req.headers().get(header::ACCEPT))
    {
        let target = match req.query_string() {
            "" => twin,
            query => format!("{twin}?{query}"),
        };
        if let Ok(uri) = target.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    let mut res = next
        .call(req)
        .await?
        .map_into_boxed_body()
        .map_into_left_body();
    if negotiated {
        crate::http::vary_on_accept(res.headers_mut());
    }
    Ok(res)
}

/// The `.ics` path that answers `path` as iCalendar, for the event URLs that have one.
fn calendar_twin(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/api/v1/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let has_twin = match segments.as_slice() {
        ["events"] => true,
        ["events", id] => !id.is_empty() && !id.contains('.'),
        ["networks", id, "meetings"] | ["organisations" | "people", id, "events"] => !id.is_empty(),
        _ => false,
    };
    has_twin.then(|| format!("{path}.ics"))
}

/// Whether an `Accept` header asks for `text/calendar` more than for JSON.
fn prefers_calendar(accept: Option<&HeaderValue>) -> bool {
    prefers(accept, "text/calendar")
}

/// The media types the API answers with, besides JSON, on some of its paths.
const OTHER_MEDIA: [&str; 2] = ["text/calendar", "application/ld+json"];

/// Whether an `Accept` header asks for `media` more than for any other type the API answers
/// with: it names `media` with a weight above 0, and JSON and the other types not at all or
/// with a lower weight (a tie goes to JSON, the API's own type; wildcards name none).
pub fn prefers(accept: Option<&HeaderValue>, media: &str) -> bool {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut wanted: Option<f32> = None;
    let mut others: Option<f32> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = if name == media {
            &mut wanted
        } else if name == "application/json" || OTHER_MEDIA.contains(&name.as_str()) {
            &mut others
        } else {
            continue;
        };
        *slot = Some(slot.map_or(weight, |w| w.max(weight)));
    }
    match (wanted, others) {
        (Some(w), None) => w > 0.0,
        (Some(w), Some(o)) => w > o,
        (None, _) => false,
    }
}

/// Where a request for `path` should go instead, if anywhere.
fn redirect_target(path: &str, query: &str) -> Option<String> {
    let network_calendar = path
        .strip_prefix("/api/v1/networks/")
        .and_then(|rest| rest.strip_suffix("/events.ics"))
        .filter(|id| !id.is_empty() && !id.contains('/'));
    let target = if path == "/" {
        "/docs".to_owned()
    } else if let Some(id) = network_calendar {
        // DESIGN.md's name for a network's calendar; the API's is `meetings.ics`.
        format!("/api/v1/networks/{id}/meetings.ics")
    } else if path.starts_with(API_PREFIX) && path.ends_with('/') {
        path.trim_end_matches('/').to_owned()
    } else {
        return None;
    };
    Some(if query.is_empty() {
        target
    } else {
        format!("{target}?{query}")
    })
}

#[cfg(test)]
mod tests {
    use super::{HeaderValue, calendar_twin, prefers_calendar, redirect_target};

    #[test]
    fn event_urls_have_calendar_twins() {
        assert_eq!(
            calendar_twin("/api/v1/events").as_deref(),
            Some("/api/v1/events.ics")
        );
        assert_eq!(
            calendar_twin("/api/v1/events/rnnc-3").as_deref(),
            Some("/api/v1/events/rnnc-3.ics")
        );
        assert_eq!(
            calendar_twin("/api/v1/people/popowski/events").as_deref(),
            Some("/api/v1/people/popowski/events.ics")
        );
        for none in [
            "/api/v1/events.ics",
            "/api/v1/events/rnnc-3.ics",
            "/api/v1/chains",
            "/api/v1/networks/rnnc",
            "/api/v1/networks/rnnc/members",
        ] {
            assert_eq!(calendar_twin(none), None, "{none}");
        }
    }

    #[test]
    fn accept_prefers_the_calendar_only_when_it_says_so() {
        let prefers = |v: &str| HeaderValue::from_str(v).is_ok_and(|v| prefers_calendar(Some(&v)));
        assert!(prefers("text/calendar"));
        assert!(prefers("text/calendar, */*;q=0.1"));
        assert!(prefers("application/json;q=0.5, text/calendar"));
        assert!(!prefers("application/json, text/calendar"));
        assert!(!prefers("text/calendar;q=0"));
        assert!(!prefers("*/*"));
        assert!(!prefers("text/calendar;q=0.1, application/ld+json;q=0.9"));
        assert!(prefers("text/calendar;q=0.9, application/ld+json;q=0.1"));
        assert!(!prefers_calendar(None));
    }

    #[test]
    fn a_network_calendar_by_its_other_name_redirects() {
        assert_eq!(
            redirect_target("/api/v1/networks/rnnc/events.ics", "key=k").as_deref(),
            Some("/api/v1/networks/rnnc/meetings.ics?key=k")
        );
        assert_eq!(redirect_target("/api/v1/networks//events.ics", ""), None);
        assert_eq!(redirect_target("/api/v1/networks/a/b/events.ics", ""), None);
    }

    #[test]
    fn trailing_slashes_and_the_root_redirect() {
        assert_eq!(
            redirect_target("/api/v1/events/rnnc-3/", "").as_deref(),
            Some("/api/v1/events/rnnc-3")
        );
        assert_eq!(
            redirect_target("/api/v1/events//", "city=tirana").as_deref(),
            Some("/api/v1/events?city=tirana")
        );
        assert_eq!(redirect_target("/", "").as_deref(), Some("/docs"));
        assert_eq!(redirect_target("/docs/", ""), None);
        assert_eq!(redirect_target("/api/v1/events", "a=b"), None);
    }
}
