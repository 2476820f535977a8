//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Database};
use crate::error::{ApiError, responses};

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = HealthResponse)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// The database answers.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, body = HealthResponse), responses::Unavailable)
)]
#[get("/readyz")]
pub async fn readyz(db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    db.run(db::ping).await.map_err(|e| ApiError::Unavailable {
        cause: e.to_string(),
    })?;
    Ok(HttpResponse::Ok().json(HealthResponse { status: "ok" }))
}
