//! Requests put into the shape the routes answer, before routing: `HEAD` is answered as `GET`,
//! an API path with a trailing slash and the bare root are redirected to where they mean.

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;

/// Where the API lives; a trailing slash under it is redirected away.
const API_PREFIX: &str = "/api/";

/// One middleware for every route (documented or not, Swagger UI included):
/// - `HEAD` runs the `GET` route and keeps its status and headers (`Content-Length`, `ETag`…);
///   the HTTP layer sends no body for a `HEAD` request.
/// - `/api/v1/events/rnnc-3/` is a 308 to `/api/v1/events/rnnc-3` (query kept; 308 keeps the
///   method and body, so a `POST` or `PATCH` can follow it too).
/// - `/` is a 308 to `/docs`.
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
    Ok(next
        .call(req)
        .await?
        .map_into_boxed_body()
        .map_into_left_body())
}

/// Where a request for `path` should go instead, if anywhere.
fn redirect_target(path: &str, query: &str) -> Option<String> {
    let target = if path == "/" {
        "/docs".to_owned()
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
    use super::redirect_target;

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
