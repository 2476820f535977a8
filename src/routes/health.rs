//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Database};
use crate::error::{ApiError, responses};
use crate::shutdown::Draining;

/// The answer of the health checks.
#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok` (a failing check answers 503 with a problem document instead).
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The process is up
///
/// For liveness probes: answers 200 as long as the process serves HTTP, without touching the
/// database. Needs no token.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process is up", body = HealthResponse))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(HealthResponse { status: "ok" })
}

/// The database answers
///
/// For readiness probes: answers 200 when a pooled database connection answers a query, 503
/// otherwise. Also 503 (`unavailable`, its detail saying so) from the moment the process is
/// told to stop (SIGTERM or SIGINT) while it keeps serving everything else for
/// `REGISTRY_DRAIN_SECONDS`, so a load balancer takes it out of rotation before it stops.
/// Needs no token.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = HealthResponse),
        responses::Unavailable,
    )
)]
#[get("/readyz")]
pub async fn readyz(
    db: web::Data<Database>,
    draining: web::Data<Draining>,
) -> Result<HttpResponse, ApiError> {
    if draining.is_draining() {
        return Err(ApiError::Draining);
    }
    db.run(db::ping).await.map_err(|e| ApiError::Unavailable {
        cause: e.to_string(),
    })?;
    Ok(HttpResponse::Ok().json(HealthResponse { status: "ok" }))
}

/// Metrics for Prometheus
///
/// OpenMetrics text (which Prometheus reads): HTTP requests by method, route pattern and status
/// class (`registry_http_requests_total`), their latency
/// (`registry_http_request_duration_seconds`), and the database pool as of the scrape
/// (`registry_db_pool_connections`, `registry_db_pool_idle_connections`). Counters start at
/// zero when the process starts; each process has its own. Needs no token.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The metrics, as OpenMetrics text", body = String,
         content_type = "application/openmetrics-text"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    db: web::Data<Database>,
    metrics: web::Data<crate::metrics::Metrics>,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(metrics.render(db.pool_state()))
}
