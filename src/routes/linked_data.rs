//! `Accept: application/ld+json`: the schema.org form of an event, an organisation, a person,
//! a network, a chain or a list of them, made from the JSON answer of the same URL (see
//! `representation::linked_data`), with its own ETag and conditional GET.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use serde_json::Value;

use crate::configuration::PublicUrl;
use crate::db::Database;
use crate::error::ApiError;
use crate::http::{IfNoneMatch, vary_on_accept};
use crate::ids::{NetworkId, OrganisationId, PersonId};
use crate::representation::etag_of;
use crate::representation::linked_data::{CONTENT_TYPE, Kind, LinkedDataWriter, Related};
use crate::store::memberships;

/// How many memberships a network's `member` or a record's `memberOf` lists.
const MAX_MEMBERSHIPS: i64 = 500;

/// What a path answers, when it has a schema.org form: one record or a list, of which kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    One(Kind),
    List(Kind),
}

/// The schema.org document `path` (an API path) can be answered with.
pub fn document_at(path: &str) -> Option<Document> {
    let rest = path.strip_prefix("/api/v1/")?;
    let segments: Vec<&str> = rest.split('/').collect();
    let kind = |collection: &str| match collection {
        "events" => Some(Kind::Event),
        "organisations" => Some(Kind::Organisation),
        "people" => Some(Kind::Person),
        "networks" => Some(Kind::Network),
        "chains" => Some(Kind::Chain),
        _ => None,
    };
    let plain = |id: &str| !id.is_empty() && !id.contains('.');
    match segments.as_slice() {
        [collection] => kind(collection).map(Document::List),
        [collection, id] if plain(id) => kind(collection).map(Document::One),
        ["networks", id, "meetings"]
        | ["organisations" | "people" | "programmes", id, "events"]
            if plain(id) =>
        {
            Some(Document::List(Kind::Event))
        }
        _ => None,
    }
}

/// The middleware: a `GET` of a path with a schema.org form whose `Accept` prefers
/// `application/ld+json` is answered with it; the answers of those paths say `Vary: Accept`.
pub async fn negotiate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let document = (req.method() == Method::GET)
        .then(|| document_at(req.path()))
        .flatten();
    let Some(document) = document else {
        return Ok(next
            .call(req)
            .await?
            .map_into_boxed_body()
            .map_into_left_body());
    };
    let wanted = crate::canonical::prefers(req.headers().get(header::ACCEPT), CONTENT_TYPE);
    if !wanted {
        let mut res = next.call(req).await?.map_into_boxed_body();
        vary_on_accept(res.headers_mut());
        return Ok(res.map_into_left_body());
    }
    // The JSON answer is asked for whole: its ETag is not this representation's.
    let if_none_match = IfNoneMatch::of(req.request());
    req.headers_mut().remove(header::IF_NONE_MATCH);
    let base = req
        .app_data::<web::Data<PublicUrl>>()
        .map(|url| url.base().to_owned())
        .unwrap_or_else(|| PublicUrl::default().base().to_owned());
    let db = req.app_data::<web::Data<Database>>().cloned();
    let query = req.query_string().to_owned();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if res.status() != StatusCode::OK || !is_json {
        let mut res = res.map_into_boxed_body();
        vary_on_accept(res.headers_mut());
        return Ok(res.map_into_left_body());
    }
    let (req, res) = res.into_parts();
    let kept: Vec<(header::HeaderName, HeaderValue)> = [header::CACHE_CONTROL, header::VARY]
        .into_iter()
        .filter_map(|name| res.headers().get(&name).cloned().map(|value| (name, value)))
        .collect();
    let body = match actix_web::body::to_bytes(res.into_body()).await {
        Ok(body) => body,
        Err(_) => {
            let error = ApiError::internal("the JSON answer could not be read");
            return Ok(ServiceResponse::new(req, error.error_response()).map_into_right_body());
        }
    };
    let outcome = linked_data(&body, document, &base, db, &path, &query).await;
    let (document, next_page) = match outcome {
        Ok(done) => done,
        Err(error) => {
            return Ok(ServiceResponse::new(req, error.error_response()).map_into_right_body());
        }
    };
    let bytes = match serde_json::to_vec(&document) {
        Ok(bytes) => bytes,
        Err(e) => {
            let error = ApiError::internal(e);
            return Ok(ServiceResponse::new(req, error.error_response()).map_into_right_body());
        }
    };
    let etag = etag_of(&bytes);
    let mut response = if if_none_match.matches(&etag) {
        crate::http::not_modified(&etag)
    } else {
        HttpResponse::Ok()
            .insert_header((header::ETAG, etag))
            .content_type(CONTENT_TYPE)
            .body(bytes)
    };
    let headers = response.headers_mut();
    for (name, value) in kept {
        headers.insert(name, value);
    }
    if let Some(link) = next_page.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LINK, link);
    }
    vary_on_accept(headers);
    Ok(ServiceResponse::new(req, response).map_into_right_body())
}

/// The schema.org document for a JSON answer, and the `Link` to a list's next page.
async fn linked_data(
    body: &[u8],
    document: Document,
    base: &str,
    db: Option<web::Data<Database>>,
    path: &str,
    query: &str,
) -> Result<(Value, Option<String>), ApiError> {
    let json: Value = serde_json::from_slice(body).map_err(ApiError::internal)?;
    let writer = LinkedDataWriter::new(base);
    match document {
        Document::List(kind) => {
            let next = json["next_cursor"].as_str().map(|cursor| {
                let kept: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
                    .collect();
                let mut query = kept.join("&");
                if !query.is_empty() {
                    query.push('&');
                }
                format!("<{base}{path}?{query}cursor={cursor}>; rel=\"next\"")
            });
            Ok((writer.list(kind, &json), next))
        }
        Document::One(kind) => {
            let related = match (kind, db) {
                (Kind::Network | Kind::Organisation | Kind::Person, Some(db)) => {
                    related(&db, kind, &json).await?
                }
                _ => Related::default(),
            };
            Ok((writer.record(kind, &json, &related), None))
        }
    }
}

/// A network's members, or the networks an organisation or person belongs to.
async fn related(db: &Database, kind: Kind, record: &Value) -> Result<Related, ApiError> {
    let id = record["id"]
        .as_str()
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .ok_or_else(|| ApiError::internal("a record without an id"))?;
    let whose = match kind {
        Kind::Network => memberships::Related::MembersOf(NetworkId(id)),
        Kind::Organisation => memberships::Related::OfOrganisation(OrganisationId(id)),
        _ => memberships::Related::OfPerson(PersonId(id)),
    };
    let found = db
        .run(move |conn| memberships::related(conn, whose, MAX_MEMBERSHIPS))
        .await?;
    let memberships = found
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::internal)?;
    Ok(Related { memberships })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_a_schema_org_form() {
        assert_eq!(
            document_at("/api/v1/events"),
            Some(Document::List(Kind::Event))
        );
        assert_eq!(
            document_at("/api/v1/events/rnnc-3"),
            Some(Document::One(Kind::Event))
        );
        assert_eq!(
            document_at("/api/v1/networks/rnnc/meetings"),
            Some(Document::List(Kind::Event))
        );
        assert_eq!(
            document_at("/api/v1/chains/tirana-april-2019"),
            Some(Document::One(Kind::Chain))
        );
        for none in [
            "/api/v1/events/rnnc-3.ics",
            "/api/v1/networks/rnnc/members",
            "/api/v1/changes",
            "/api/v1/audit",
            "/healthz",
        ] {
            assert_eq!(document_at(none), None, "{none}");
        }
    }
}
