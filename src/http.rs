//! HTTP mechanics every resource shares: JSON bodies and their errors, merge patches, and
//! conditional requests on ETags (which [`crate::representation`] computes).

use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};
use crate::field_errors;

/// Bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 256 * 1024;
/// JSON nested deeper than this is refused (serde_json stops at 128 on its own).
const MAX_DEPTH: usize = 32;

/// The JSON value of a write's body: 415 unless the body is declared JSON (for `PATCH` also
/// `application/merge-patch+json`), 400 when it is not well-formed JSON.
pub fn json_body(req: &HttpRequest, body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let accepted = essence == "application/json"
        || (req.method() == Method::PATCH && essence == "application/merge-patch+json");
    if !accepted {
        let expected = if req.method() == Method::PATCH {
            "application/merge-patch+json or application/json"
        } else {
            "application/json"
        };
        let got = if content_type.is_empty() {
            "none"
        } else {
            content_type
        };
        return Err(ApiError::UnsupportedMediaType {
            detail: format!("send the body as {expected} (Content-Type was {got})"),
        });
    }
    if let Some(encoding) = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim())
        .filter(|e| !e.eq_ignore_ascii_case("identity"))
    {
        return Err(ApiError::UnsupportedMediaType {
            detail: format!(
                "the body's Content-Encoding ({encoding}) is not read here: send it unencoded"
            ),
        });
    }
    if body.len() > BODY_LIMIT {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(not_json)?;
    if depth(&value) > MAX_DEPTH {
        return Err(ApiError::bad_request(format!(
            "the body nests deeper than {MAX_DEPTH} levels"
        )));
    }
    if let Some(field) = duplicate_key(body) {
        // A JSON value keeps one of the two silently (the last); the writer meant one of them.
        return Err(ApiError::invalid(field, "is given more than once"));
    }
    Ok(value)
}

/// The first key an object in `body` (well-formed JSON, nested at most [`MAX_DEPTH`] deep)
/// gives twice, named as field errors name fields (`location.city`, `organisers[0].role`).
fn duplicate_key(body: &[u8]) -> Option<String> {
    use serde::de::{DeserializeSeed, Error, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;
    use std::collections::HashSet;

    struct Walk<'a> {
        path: String,
        found: &'a RefCell<Option<String>>,
    }

    impl Walk<'_> {
        fn at(&self, path: String) -> Self {
            Walk {
                path,
                found: self.found,
            }
        }
    }

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut index = 0;
            while seq
                .next_element_seed(self.at(format!("{}[{index}]", self.path)))?
                .is_some()
            {
                index += 1;
            }
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let path = if self.path.is_empty() {
                    key.clone()
                } else {
                    format!("{}.{key}", self.path)
                };
                if !seen.insert(key) {
                    *self.found.borrow_mut() = Some(path);
                    return Err(A::Error::custom("a key given twice"));
                }
                map.next_value_seed(self.at(path))?;
            }
            Ok(())
        }
    }

    let found = RefCell::new(None);
    let walk = Walk {
        path: String::new(),
        found: &found,
    };
    let _ = walk.deserialize(&mut serde_json::Deserializer::from_slice(body));
    found.into_inner()
}

/// A body that is not JSON, said where and how (serde_json's "EOF while parsing" is jargon).
fn not_json(error: serde_json::Error) -> ApiError {
    let (line, column) = (error.line(), error.column());
    if error.is_eof() {
        return ApiError::bad_request(format!(
            "the body is not valid JSON: it ends before the JSON is complete (line {line}, \
             column {column})"
        ));
    }
    let text = error.to_string();
    let what = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(what, _)| what);
    ApiError::bad_request(format!(
        "the body is not valid JSON: {what} (line {line}, column {column})"
    ))
}

fn depth(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Reads a request shape from JSON and checks it with `validate`: one 422 lists every problem
/// of the body, those of reading it (a wrong type, an unknown value, a missing or unknown
/// field) and those of the resource's rules alike, each naming its field.
pub fn parse_valid<T, V>(
    value: serde_json::Value,
    validate: impl FnOnce(T) -> Result<V, Vec<FieldError>>,
) -> Result<V, ApiError>
where
    T: DeserializeOwned + utoipa::ToSchema,
{
    if !value.is_object() {
        return Err(ApiError::invalid("", "the body must be a JSON object"));
    }
    field_errors::read_all::<T>(value)
        .validated(validate)
        .map_err(ApiError::Validation)
}

/// Reads a request shape from JSON; every problem of reading it is a 422 naming its field.
pub fn parse_input<T>(value: serde_json::Value) -> Result<T, ApiError>
where
    T: DeserializeOwned + utoipa::ToSchema,
{
    parse_valid(value, Ok)
}

/// Applies an RFC 7396 JSON Merge Patch; the patch itself must be an object.
pub fn merge_patch(
    current: &impl Serialize,
    patch: &serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::invalid("", "a merge patch must be a JSON object"));
    }
    let mut document = serde_json::to_value(current).map_err(ApiError::internal)?;
    json_patch::merge(&mut document, patch);
    Ok(document)
}

/// The comma-separated values of every `name` header; `None` when the request has none. A
/// header that is there but names nothing usable (empty, or not visible ASCII) gives an empty
/// list, which matches no representation: a precondition the client meant is never dropped.
fn header_lists(req: &HttpRequest, name: header::HeaderName) -> Option<Vec<String>> {
    let mut present = false;
    let values: Vec<String> = req
        .headers()
        .get_all(name)
        .inspect(|_| present = true)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    present.then_some(values)
}

/// The preconditions of a write (`If-Match` and `If-None-Match`), taken from the request so
/// they can travel to the database thread and be checked against the record as it is there.
#[derive(Debug, Clone)]
pub struct Preconditions {
    if_match: Option<Vec<String>>,
    if_none_match: IfNoneMatch,
}

impl Preconditions {
    pub fn of(req: &HttpRequest) -> Self {
        Self {
            if_match: header_lists(req, header::IF_MATCH),
            if_none_match: IfNoneMatch::of(req),
        }
    }

    /// Whether the request has no `If-Match`: a write that lost a race may then be done again
    /// on the new state (the preconditions are checked again there).
    pub fn is_absent(&self) -> bool {
        self.if_match.is_none()
    }

    /// 412 unless `If-Match` is absent, `*` or names the current representation, and
    /// `If-None-Match` (if any) names neither it nor `*` (RFC 9110 §13.1.1–2: a write is made
    /// only when both hold).
    pub fn check(&self, current_etag: &str) -> Result<(), ApiError> {
        let if_match = match &self.if_match {
            None => true,
            Some(tags) => tags.iter().any(|t| t == "*" || t == current_etag),
        };
        if !if_match || self.if_none_match.matches(current_etag) {
            return Err(ApiError::PreconditionFailed);
        }
        Ok(())
    }
}

/// The ETags a conditional `GET` names in `If-None-Match`, taken from the request so they can
/// travel to the database thread.
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch(Option<Vec<String>>);

impl IfNoneMatch {
    pub fn of(req: &HttpRequest) -> Self {
        Self(header_lists(req, header::IF_NONE_MATCH))
    }

    /// Whether the client's copy is the representation with this ETag (`*`, or the tag,
    /// weak or strong).
    pub fn matches(&self, etag: &str) -> bool {
        self.0.as_ref().is_some_and(|tags| {
            tags.iter()
                .any(|t| t == "*" || t.trim_start_matches("W/") == etag)
        })
    }
}

/// A response whose body has the ETag `etag`; 304 for a `GET` or `HEAD` whose `If-None-Match`
/// names it (a write's `If-None-Match` is one of its [`Preconditions`]).
pub fn with_etag(
    req: &HttpRequest,
    status: StatusCode,
    body: impl actix_web::body::MessageBody + 'static,
    etag: &str,
) -> HttpResponse {
    with_etag_as(req, status, body, etag, "application/json")
}

/// [`with_etag`] for a body of another media type.
pub fn with_etag_as(
    req: &HttpRequest,
    status: StatusCode,
    body: impl actix_web::body::MessageBody + 'static,
    etag: &str,
    content_type: &'static str,
) -> HttpResponse {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if status == StatusCode::OK && safe && IfNoneMatch::of(req).matches(etag) {
        return not_modified(etag);
    }
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag.to_owned()))
        .content_type(content_type)
        .body(body)
}

/// 304, naming the current ETag.
pub fn not_modified(etag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, etag.to_owned()))
        .finish()
}

/// A collection response (no ETag: lists change with every write anywhere).
pub fn collection(value: &impl Serialize) -> HttpResponse {
    match serde_json::to_vec(value) {
        Ok(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        Err(e) => actix_web::ResponseError::error_response(&ApiError::internal(e)),
    }
}

/// Adds `Accept` to `Vary` (once).
pub fn vary_on_accept(headers: &mut header::HeaderMap) {
    let vary = match headers.get(header::VARY).and_then(|v| v.to_str().ok()) {
        Some(vary)
            if vary
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("accept")) =>
        {
            return;
        }
        Some(vary) => format!("{vary}, Accept"),
        None => "Accept".to_owned(),
    };
    if let Ok(value) = header::HeaderValue::from_str(&vary) {
        headers.insert(header::VARY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_depth_is_measured() {
        let deep: serde_json::Value =
            serde_json::from_str(&format!("{}1{}", "[".repeat(40), "]".repeat(40)))
                .unwrap_or_default();
        assert_eq!(depth(&deep), 40);
        assert_eq!(depth(&serde_json::json!({"a": [1]})), 2);
    }
}
