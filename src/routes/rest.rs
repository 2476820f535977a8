//! The HTTP mechanics of create / read / merge-patch / delete, once for every [`Resource`].
//! Resource modules keep thin handlers that carry the OpenAPI annotations and call these.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::cache::{Pages, Representations};
use crate::clock::Clock;
use crate::db::{self, AnyConnection, Database};
use crate::domain::enums::Role;
use crate::error::ApiError;
use crate::http;
use crate::representation;
use crate::routes::{Caller, PREFIX};
use crate::store::Viewer;
use crate::store::audit;
use crate::store::audit::Actor;
use crate::store::idempotency::{self, IdempotentRequest, StoredResponse};
use crate::store::resource::{Before, Resource, TopLevel, Versioned};

fn json_of(value: &impl serde::Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

/// Runs the work of a POST once per `Idempotency-Key`: a retry with the same key and body gets
/// the first response again; the key is stored in the write's own transaction.
pub async fn post_once<F>(
    req: &HttpRequest,
    db: &Database,
    caller: &Caller,
    body: &[u8],
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<StoredResponse, ApiError> + Send + 'static,
{
    post_once_shown_once(req, db, caller, body, move |conn| {
        let response = work(conn)?;
        Ok((response.clone(), response))
    })
    .await
}

/// The two answers of a credential's create: 201 with `created` (its secret shown this once)
/// at `location`, and what a retry with the same key gets instead, 409 naming the credential
/// (its `Location` too), as its secret is not kept.
pub fn shown_once(
    what: &str,
    location: String,
    created: &impl serde::Serialize,
) -> Result<(StoredResponse, StoredResponse), ApiError> {
    let problem = ApiError::conflict(format!(
        "this Idempotency-Key already created {what} {location}; its secret was shown only in \
         that response and is not kept: if the response was lost, revoke it (DELETE {location}) \
         and create another"
    ))
    .problem();
    let retried = StoredResponse {
        status: 409,
        location: Some(location.clone()),
        etag: None,
        body: serde_json::to_string(&problem).map_err(ApiError::internal)?,
    };
    let response = StoredResponse {
        status: 201,
        location: Some(location),
        etag: None,
        body: serde_json::to_string(created).map_err(ApiError::internal)?,
    };
    Ok((response, retried))
}

/// [`post_once`] for a create whose response holds a secret shown only once (a token, a feed
/// key): `work` returns the response and what a retry with the same key gets instead
/// ([`shown_once`]), so no secret is ever kept.
pub async fn post_once_shown_once<F>(
    req: &HttpRequest,
    db: &Database,
    caller: &Caller,
    body: &[u8],
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<(StoredResponse, StoredResponse), ApiError>
        + Send
        + 'static,
{
    let request = match req.headers().get("idempotency-key") {
        None => None,
        Some(value) => Some(IdempotentRequest::new(
            caller.key_space(crate::client_ip::of(req)),
            value.to_str().unwrap_or(""),
            &format!("{} {}", req.method(), req.path()),
            body,
        )?),
    };
    let (response, replayed) = db
        .write(move |conn| {
            if let Some(request) = &request
                && let Some(stored) = idempotency::replay(conn, request)?
            {
                return Ok((stored, true));
            }
            let (response, kept) = work(conn)?;
            if let Some(request) = &request {
                idempotency::remember(conn, request, &kept)?;
            }
            Ok((response, false))
        })
        .await?;
    Ok(stored_response(response, replayed))
}

fn stored_response(response: StoredResponse, replayed: bool) -> HttpResponse {
    let mut builder =
        HttpResponse::build(StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK));
    builder.content_type(if response.status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    });
    if let Some(location) = &response.location {
        builder.insert_header((header::LOCATION, location.as_str()));
    }
    if let Some(etag) = &response.etag {
        builder.insert_header((header::ETAG, etag.as_str()));
    }
    if replayed {
        builder.insert_header(("Idempotent-Replayed", HeaderValue::from_static("true")));
    }
    builder.body(response.body)
}

/// The warnings of a record just written (`written`, as the write read it back), read after
/// its commit so the single writer does not spend its time on them (they are advice about the
/// registry as it now is).
async fn warnings_after_commit<R: Resource>(
    db: &Database,
    written: &R::Response,
) -> Result<Vec<R::Warning>, ApiError> {
    if !R::HAS_WARNINGS {
        return Ok(Vec::new());
    }
    let written = written.clone();
    db.run(move |conn| R::warnings(conn, &written, Viewer::WRITER))
        .await
}

/// Runs a read-modify-write. Its version check fails only when another writer got in between
/// (on PostgreSQL, where transactions interleave); a client that sent no `If-Match` asked for
/// no precondition, so the write is tried again on the new state instead of answering 412.
async fn retry_unconditional<T, F, Fut>(
    if_match: &http::Preconditions,
    mut attempt: F,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(ApiError::PreconditionFailed) if if_match.is_absent() && tries < 10 => tries += 1,
            outcome => return outcome,
        }
    }
}

/// Creates a record posted to `collection` (its path below [`PREFIX`]: `/events`).
pub async fn create<R: TopLevel>(
    req: HttpRequest,
    db: web::Data<Database>,
    body: web::Bytes,
    caller: Caller,
    collection: &'static str,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let valid = http::parse_valid(http::json_body(&req, &body)?, R::validate)?;
    let location = move |id: R::Id| format!("{PREFIX}{collection}/{id}");
    if req.headers().contains_key("idempotency-key") {
        // A replayed response must be the first one, warnings included: with an
        // Idempotency-Key the warnings are part of the stored response, read inside the write.
        return post_once(&req, &db, &caller, &body, move |conn| {
            let created = insert::<R>(conn, &valid, &actor)?;
            let id = created.id();
            let warnings = R::warnings(conn, &created, Viewer::WRITER)?;
            let (body, etag) = representation::written(&created, &warnings)?;
            Ok(StoredResponse {
                status: 201,
                location: Some(location(id)),
                etag: Some(etag),
                body,
            })
        })
        .await;
    }
    let created = db
        .write(move |conn| insert::<R>(conn, &valid, &actor))
        .await?;
    let warnings = warnings_after_commit::<R>(&db, &created).await?;
    let (body, etag) = representation::written(&created, &warnings)?;
    let response = StoredResponse {
        status: 201,
        location: Some(location(created.id())),
        etag: Some(etag),
        body,
    };
    Ok(stored_response(response, false))
}

/// Stores a new record and audits its creation; returns it as read back.
fn insert<R: TopLevel>(
    conn: &mut AnyConnection,
    valid: &R::Valid,
    actor: &Actor,
) -> Result<R::Response, ApiError> {
    let id = R::create(conn, valid)?;
    let created = R::get(conn, &id.to_string(), Viewer::WRITER)?;
    let fields = json_of(&R::as_input(&created))?;
    audit::record(conn, actor, "create", R::NAME, &id.to_string(), &fields)?;
    Ok(created)
}

pub async fn get<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<Representations>,
    clock: web::Data<Clock>,
    key: String,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let entry = cached::<R>(&db, cache, key, caller.viewer(), clock.today()).await?;
    Ok(http::with_etag(
        &req,
        StatusCode::OK,
        entry.body.clone(),
        &entry.etag,
    ))
}

/// The representation of the record `key` names: from the cache with no database round trip
/// when the process knows the registry's generation (PostgreSQL, listening), else as
/// [`representation::cached_on`] reads it.
pub async fn cached<R: Resource>(
    db: &Database,
    cache: web::Data<Representations>,
    key: String,
    viewer: Viewer,
    today: chrono::NaiveDate,
) -> Result<std::sync::Arc<crate::cache::Entry>, ApiError> {
    let known = db.known_generation().and_then(|generation| {
        representation::cached_at::<R>(&cache, &key, viewer, today, generation)
    });
    match known {
        Some(entry) => Ok(entry),
        None => {
            db.run(move |conn| representation::cached_on::<R>(conn, &cache, &key, viewer, today))
                .await
        }
    }
}

/// A page of a list: from the page cache when the registry is still at the generation the page
/// was read at, else read by `read` (which returns the body and that generation) and kept.
/// `read` is handed the generation when it was just read on the same connection (so a page read
/// after it is at least that new), `None` otherwise. The
/// cache key is the request's path and query, so `read` must depend on nothing else but the
/// viewer's visibility. With a listening PostgreSQL connection a hit makes no round trip; else
/// (SQLite, or a request asking for a later position) it reads the generation first.
pub async fn cached_page<F>(
    req: &HttpRequest,
    db: &Database,
    viewer: Viewer,
    read: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection, Option<i64>) -> Result<(Vec<u8>, i64), ApiError>
        + Clone
        + Send
        + 'static,
{
    cached_page_at(req, db, viewer, page_key(req), read).await
}

/// The page cache's key of the list `req` asks for: its path and query.
fn page_key(req: &HttpRequest) -> String {
    match req.query_string() {
        "" => req.path().to_owned(),
        query => format!("{}?{query}", req.path()),
    }
}

/// [`cached_page`] under `key`.
async fn cached_page_at<F>(
    req: &HttpRequest,
    db: &Database,
    viewer: Viewer,
    key: String,
    read: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection, Option<i64>) -> Result<(Vec<u8>, i64), ApiError>
        + Clone
        + Send
        + 'static,
{
    let pages = req
        .app_data::<web::Data<Pages>>()
        .cloned()
        .unwrap_or_else(|| web::Data::new(Pages::new(0)));
    let known = db.known_generation();
    let hit = known.and_then(|generation| pages.get(&key, viewer.sees_internal, generation));
    let body = match hit {
        Some(body) => body,
        None => {
            db.run(move |conn| {
                let read_before = match known {
                    Some(_) => None,
                    None => {
                        let generation = db::generation(conn)?;
                        if let Some(body) = pages.get(&key, viewer.sees_internal, generation) {
                            return Ok(body);
                        }
                        Some(generation)
                    }
                };
                let (body, generation) = read(conn, read_before)?;
                let body = web::Bytes::from(body);
                pages.insert(&key, viewer.sees_internal, generation, body.clone());
                Ok(body)
            })
            .await?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// [`cached_page`] for a list `read` answers in one go: the generation is read first (unless
/// [`cached_page`] just did), so the page is at least as new as the generation it is kept
/// under. For lists whose representation does not change with the day.
pub async fn cached_list<T, F>(
    req: &HttpRequest,
    db: &Database,
    viewer: Viewer,
    read: F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Clone + Send + 'static,
{
    cached_page_at(req, db, viewer, page_key(req), list_read(read)).await
}

/// [`cached_list`] for a list whose representation also changes with the day (UTC) it is read
/// on, `today`: a network's last and next meeting and whether it is overdue, conflicts from
/// today on. Its pages are kept per day as well as per generation.
pub async fn cached_list_on<T, F>(
    req: &HttpRequest,
    db: &Database,
    viewer: Viewer,
    today: chrono::NaiveDate,
    read: F,
) -> Result<HttpResponse, ApiError>
where
    T: serde::Serialize,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Clone + Send + 'static,
{
    // The day, always ten characters, comes last: distinct (list, day) pairs get distinct keys.
    let key = format!("{}#{today}", page_key(req));
    cached_page_at(req, db, viewer, key, list_read(read)).await
}

/// The read of a [`cached_list`]: the generation first (unless [`cached_page`] just read it),
/// so the page is at least as new as the generation it is kept under.
fn list_read<T, F>(
    read: F,
) -> impl FnOnce(&mut AnyConnection, Option<i64>) -> Result<(Vec<u8>, i64), ApiError>
+ Clone
+ Send
+ 'static
where
    T: serde::Serialize,
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Clone + Send + 'static,
{
    move |conn, read_before| {
        let generation = match read_before {
            Some(generation) => generation,
            None => db::generation(conn)?,
        };
        let page = read(conn)?;
        Ok((
            serde_json::to_vec(&page).map_err(ApiError::internal)?,
            generation,
        ))
    }
}

/// The response to a write of `record`, with its warnings.
fn written(
    req: &HttpRequest,
    record: &impl serde::Serialize,
    warnings: &[impl serde::Serialize],
) -> Result<HttpResponse, ApiError> {
    let (body, etag) = representation::written(record, warnings)?;
    Ok(http::with_etag(req, StatusCode::OK, body, &etag))
}

/// Where a merge patch starts from: the record as read before the write (the single writer
/// then only checks that it is still at that version), or nothing, and the write reads it under
/// the row lock.
enum Base<R: Resource> {
    ReadBefore(Merged<R>),
    ReadInside,
}

pub async fn update<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    key: String,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let patch = http::json_body(&req, &body)?;
    let if_match = http::Preconditions::of(&req);
    // Reading, merging and validating on a pooled connection keeps that work off the single
    // SQLite writer; the write then claims the record at the version read. Only when another
    // write got in between, and the client asked for no precondition, is it done again with
    // the read inside the write.
    let read_key = key.clone();
    let current = db
        .run(move |conn| R::get(conn, &read_key, Viewer::WRITER))
        .await?;
    if_match.check(&representation::etag_of_value(&current)?)?;
    let merged = Merged::<R>::of(current, &patch)?;
    if merged.changes_nothing {
        // Nothing to write: no new version, no audit entry, the ETag the client has.
        let warnings = warnings_after_commit::<R>(&db, &merged.current).await?;
        return written(&req, &merged.current, &warnings);
    }
    let first = patch_record::<R>(
        &db,
        Base::ReadBefore(merged),
        key.clone(),
        patch.clone(),
        if_match.clone(),
        actor.clone(),
    )
    .await;
    let updated = match first {
        Err(ApiError::PreconditionFailed) if if_match.is_absent() => {
            retry_unconditional(&if_match, || {
                patch_record::<R>(
                    &db,
                    Base::ReadInside,
                    key.clone(),
                    patch.clone(),
                    if_match.clone(),
                    actor.clone(),
                )
            })
            .await?
        }
        outcome => outcome?,
    };
    let warnings = warnings_after_commit::<R>(&db, &updated).await?;
    written(&req, &updated, &warnings)
}

/// One write of a merge patch onto `base`; 412 when the record moved on since `base` was read.
async fn patch_record<R: Resource>(
    db: &Database,
    base: Base<R>,
    key: String,
    patch: serde_json::Value,
    if_match: http::Preconditions,
    actor: Actor,
) -> Result<R::Response, ApiError> {
    let read_before = match base {
        Base::ReadBefore(merged) => Some(merged),
        Base::ReadInside => None,
    };
    db.write(move |conn| {
        let merged = match read_before {
            Some(merged) => {
                // A stale base answers 412 here, before any rule is checked against it.
                R::claim(conn, merged.id, merged.version)?;
                merged
            }
            None => {
                R::lock(conn, &key)?;
                let current = R::get(conn, &key, Viewer::WRITER)?;
                if_match.check(&representation::etag_of_value(&current)?)?;
                Merged::<R>::of(current, &patch)?
            }
        };
        let Merged {
            id,
            version,
            current,
            before,
            valid,
            unchanged,
            changes_nothing,
        } = merged;
        if changes_nothing {
            return Ok(current);
        }
        // A patch can differ from the record and still change nothing stored (a reference by
        // id where the record reads as slug, a time written another way): what the write
        // stored decides, and a write that stored the same is undone, version and all.
        let written = db::undo_if_unchanged(conn, |conn| {
            let was = unchanged.as_ref().map(|valid| Before {
                valid,
                current: &current,
            });
            R::update(conn, id, version, &valid, was)?;
            let updated = R::get(conn, &id.to_string(), Viewer::WRITER)?;
            let changes = audit::diff(&json_of(&before)?, &json_of(&R::as_input(&updated))?);
            if audit::records_no_change(&changes) {
                return Ok(None);
            }
            audit::record(conn, &actor, "update", R::NAME, &id.to_string(), &changes)?;
            Ok(Some(updated))
        })?;
        Ok(written.unwrap_or(current))
    })
    .await
}

/// `value` with every `null` member left out: in a written shape an absent field and a `null`
/// one mean the same.
fn without_nulls(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(fields) => fields
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), without_nulls(v)))
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(without_nulls).collect(),
        other => other.clone(),
    }
}

/// A merge patch applied to a record as read.
struct Merged<R: Resource> {
    id: R::Id,
    version: i32,
    /// The record as read.
    current: R::Response,
    /// The record's writable shape as read (the base of the audit entry's diff).
    before: R::Input,
    /// That shape with the patch merged in, validated.
    valid: R::Valid,
    /// The record as read, validated too (unless rules have tightened since it was stored),
    /// so the update can tell what changed.
    unchanged: Option<R::Valid>,
    /// The patch leaves the writable shape as it was (`{}`, or every value the current one).
    changes_nothing: bool,
}

impl<R: Resource> Merged<R> {
    fn of(current: R::Response, patch: &serde_json::Value) -> Result<Self, ApiError> {
        let before = R::as_input(&current);
        let merged = http::merge_patch(&before, patch)?;
        let changes_nothing = without_nulls(&merged) == without_nulls(&json_of(&before)?);
        let valid = http::parse_valid(merged, R::validate)?;
        Ok(Self {
            id: current.id(),
            version: current.version(),
            unchanged: R::validate(R::as_input(&current)).ok(),
            current,
            before,
            valid,
            changes_nothing,
        })
    }
}

pub async fn delete<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    key: String,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let if_match = http::Preconditions::of(&req);
    retry_unconditional(&if_match, || {
        let (key, if_match, actor) = (key.clone(), if_match.clone(), actor.clone());
        db.write(move |conn| {
            R::lock(conn, &key)?;
            let current = R::get(conn, &key, Viewer::WRITER)?;
            if_match.check(&representation::etag_of_value(&current)?)?;
            let id = current.id();
            R::delete(conn, id, current.version())?;
            let fields = json_of(&R::as_input(&current))?;
            audit::record(conn, &actor, "delete", R::NAME, &id.to_string(), &fields)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The four thin handlers of a resource (create, get, merge-patch, delete), each carrying its
/// OpenAPI annotation and calling the shared mechanics above. The caller imports actix's
/// `get`, `post`, `patch` and `delete` route macros (utoipa recognises them by name).
/// `descriptions` say what is particular to the resource; the macro adds what every resource
/// shares (roles, status codes, headers). `id_example` names a record of the demo data.
macro_rules! crud_handlers {
    (
        resource: $resource:ty,
        tag: $tag:literal,
        collection: $collection:literal,
        item: $item:literal,
        input: $input:ty,
        response: $response:ty,
        summaries: [$create_summary:literal, $get_summary:literal, $update_summary:literal, $delete_summary:literal],
        descriptions: [$create_description:literal, $get_description:literal, $update_description:literal, $delete_description:literal $(,)?],
        id_example: $id_example:literal,
        handlers: [$create:ident, $get:ident, $update:ident, $delete:ident] $(,)?
    ) => {
        #[utoipa::path(
            tag = $tag,
            summary = $create_summary,
            description = concat!(
                $create_description,
                "\n\nNeeds a token with role editor or admin. Answers 201 with the new record, \
                 its `Location` and its `ETag`. A body that is not JSON is 400 (415 when not \
                 sent as `application/json`); 422 lists every invalid field in `errors`; 409 \
                 names each broken rule in `violations`. With an `Idempotency-Key`, a retry \
                 within 24 hours gets the first response again (marked \
                 `Idempotent-Replayed: true`); the same key with another body is 422."
            ),
            security(("bearer" = [])),
            params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token.")),
            request_body(content = $input, description = "The new record; fields not listed are refused (422).", content_type = "application/json"),
            responses(
                (status = 201, description = "Created; `Location` names the new record", body = $response,
                 headers(
                     ("Location" = String, description = "The new record's URL: the collection's path and its UUID"),
                     ("ETag" = String, description = "The representation's entity tag, for `If-Match` and `If-None-Match`"),
                 )),
                $crate::error::responses::BadRequest,
                $crate::error::responses::Unauthorized,
                $crate::error::responses::Forbidden,
                $crate::error::responses::Conflict,
                $crate::error::responses::PayloadTooLarge,
                $crate::error::responses::UnsupportedMediaType,
                $crate::error::responses::Unprocessable,
                $crate::error::responses::TooManyRequests,
                $crate::error::responses::Unavailable,
            )
        )]
        #[post($collection)]
        pub async fn $create(
            req: actix_web::HttpRequest,
            db: actix_web::web::Data<$crate::db::Database>,
            body: actix_web::web::Bytes,
            caller: $crate::routes::Caller,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::rest::create::<$resource>(req, db, body, caller, $collection).await
        }

        #[utoipa::path(
            tag = $tag,
            summary = $get_summary,
            description = concat!(
                $get_description,
                "\n\nNeeds no token for public records; an `internal` record is 404 unless the \
                 request carries a token. Answers with an `ETag`: send it back in \
                 `If-None-Match` to get 304 while the record is unchanged."
            ),
            params(("id" = String, Path, description = "The record's id (UUID) or slug", example = $id_example)),
            security((), ("bearer" = [])),
            responses(
                (status = 200, description = "The record", body = $response, headers(
                    ("ETag" = String, description = "The representation's entity tag, for `If-Match` and `If-None-Match`"),
                )),
                (status = 304, description = "Not modified (`If-None-Match`)"),
                $crate::error::responses::Unauthorized,
                $crate::error::responses::NotFound,
                $crate::error::responses::TooManyRequests,
                $crate::error::responses::Unavailable,
            )
        )]
        #[get($item)]
        pub async fn $get(
            req: actix_web::HttpRequest,
            db: actix_web::web::Data<$crate::db::Database>,
            cache: actix_web::web::Data<$crate::cache::Representations>,
            clock: actix_web::web::Data<$crate::clock::Clock>,
            path: actix_web::web::Path<String>,
            caller: $crate::routes::Caller,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::rest::get::<$resource>(req, db, cache, clock, path.into_inner(), caller).await
        }

        #[utoipa::path(
            tag = $tag,
            summary = $update_summary,
            security(("bearer" = [])),
            description = concat!(
                $update_description,
                "\n\nThe body is a JSON Merge Patch (RFC 7396) of the record's writable fields, \
                 sent as `application/merge-patch+json` or `application/json`: fields present \
                 replace, `null` clears (or restores the default), lists are replaced whole, \
                 fields absent stay. The merged record must pass the same rules as a new one \
                 (422, 409). Needs a token with role editor or admin. With `If-Match`, the \
                 change applies only to the version whose `ETag` was read (else 412)."
            ),
            params(
                ("id" = String, Path, description = "The record's id (UUID) or slug", example = $id_example),
                ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on; 412 when the record has changed since"),
            ),
            request_body(content = serde_json::Value, description = "A merge patch of the record's writable fields (those of the create body)",
                content_type = "application/merge-patch+json"),
            responses(
                (status = 200, description = "The changed record", body = $response, headers(
                    ("ETag" = String, description = "The new representation's entity tag"),
                )),
                $crate::error::responses::BadRequest,
                $crate::error::responses::Unauthorized,
                $crate::error::responses::Forbidden,
                $crate::error::responses::NotFound,
                $crate::error::responses::Conflict,
                $crate::error::responses::PreconditionFailed,
                $crate::error::responses::PayloadTooLarge,
                $crate::error::responses::UnsupportedMediaType,
                $crate::error::responses::Unprocessable,
                $crate::error::responses::TooManyRequests,
                $crate::error::responses::Unavailable,
            )
        )]
        #[patch($item)]
        pub async fn $update(
            req: actix_web::HttpRequest,
            db: actix_web::web::Data<$crate::db::Database>,
            path: actix_web::web::Path<String>,
            body: actix_web::web::Bytes,
            caller: $crate::routes::Caller,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::rest::update::<$resource>(req, db, path.into_inner(), body, caller).await
        }

        #[utoipa::path(
            tag = $tag,
            summary = $delete_summary,
            description = concat!(
                $delete_description,
                "\n\nNeeds a token with role editor or admin. Answers 204 with no body. With \
                 `If-Match`, deletes only the version whose `ETag` was read (else 412)."
            ),
            security(("bearer" = [])),
            params(
                ("id" = String, Path, description = "The record's id (UUID) or slug", example = $id_example),
                ("If-Match" = Option<String>, Header, description = "The `ETag` the deletion is based on; 412 when the record has changed since"),
            ),
            responses(
                (status = 204, description = "Deleted"),
                $crate::error::responses::Unauthorized,
                $crate::error::responses::Forbidden,
                $crate::error::responses::NotFound,
                $crate::error::responses::Conflict,
                $crate::error::responses::PreconditionFailed,
                $crate::error::responses::TooManyRequests,
                $crate::error::responses::Unavailable,
            )
        )]
        #[delete($item)]
        pub async fn $delete(
            req: actix_web::HttpRequest,
            db: actix_web::web::Data<$crate::db::Database>,
            path: actix_web::web::Path<String>,
            caller: $crate::routes::Caller,
        ) -> Result<actix_web::HttpResponse, $crate::error::ApiError> {
            $crate::routes::rest::delete::<$resource>(req, db, path.into_inner(), caller).await
        }
    };
}

pub(crate) use crud_handlers;
