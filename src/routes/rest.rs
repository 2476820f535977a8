//! The HTTP mechanics of create / read / merge-patch / delete, once for every [`Resource`].
//! Resource modules keep thin handlers that carry the OpenAPI annotations and call these.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::db::Database;
use crate::error::ApiError;
use crate::http;
use crate::routes::Caller;
use crate::store::resource::Resource;

pub async fn create<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.viewer_for_write()?;
    let input: R::Input = http::parse_input(http::json_body(&req, &body)?)?;
    let valid = R::validate(input).map_err(ApiError::Validation)?;
    let created = db
        .write(move |conn| {
            let id = R::create(conn, &valid)?;
            R::get(conn, &id.to_string(), viewer)
        })
        .await?;
    let location = format!("{}/{}", R::COLLECTION, R::id(&created));
    Ok(http::created(&req, &location, &created))
}

pub async fn get<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    key: String,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.viewer();
    let record = db.run(move |conn| R::get(conn, &key, viewer)).await?;
    Ok(http::single(&req, StatusCode::OK, &record))
}

pub async fn update<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    key: String,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.viewer_for_write()?;
    let patch = http::json_body(&req, &body)?;
    let if_match = http::IfMatch::of(&req);
    let updated = db
        .write(move |conn| {
            let current = R::get(conn, &key, viewer)?;
            if_match.check(&http::etag_of_value(&current)?)?;
            let merged = http::merge_patch(&R::as_input(&current), &patch)?;
            let valid = R::validate(http::parse_input(merged)?).map_err(ApiError::Validation)?;
            let id = R::id(&current);
            R::update(conn, id, R::version(&current), &valid)?;
            R::get(conn, &id.to_string(), viewer)
        })
        .await?;
    Ok(http::single(&req, StatusCode::OK, &updated))
}

pub async fn delete<R: Resource>(
    req: HttpRequest,
    db: web::Data<Database>,
    key: String,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let viewer = caller.viewer_for_write()?;
    let if_match = http::IfMatch::of(&req);
    db.write(move |conn| {
        let current = R::get(conn, &key, viewer)?;
        if_match.check(&http::etag_of_value(&current)?)?;
        R::delete(conn, R::id(&current), R::version(&current))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
