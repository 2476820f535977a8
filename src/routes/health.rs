//! Liveness and readiness.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{self, Database};
use crate::error::{ApiError, responses};
use crate::shutdown::Draining;
use crate::store::feed_keys::VerifiedFeedKeys;
use crate::store::tokens::VerifiedTokens;

/// The answer of the health checks.
#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok` (a failing check answers 503 with a problem document instead).
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `/readyz` on PostgreSQL: whether the process listens for writes, so cached reads need
    /// no round trip (`false`: it is reconnecting, and every read asks the database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listening: Option<bool>,
    /// `/readyz` with read replicas: each standby as the monitor last saw it. A standby that
    /// is down or lagging is skipped (reads go to the primary); the process stays ready.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub standbys: Vec<db::replicas::StandbyHealth>,
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
    HttpResponse::Ok().json(HealthResponse {
        status: "ok",
        listening: None,
        standbys: Vec::new(),
    })
}

/// The database answers
///
/// For readiness probes: answers 200 when a pooled connection to the primary database answers
/// a query, 503 otherwise. Also 503 (`unavailable`, its detail saying so) from the moment the
/// process is told to stop (SIGTERM or SIGINT) while it keeps serving everything else for
/// `REGISTRY_DRAIN_SECONDS`, so a load balancer takes it out of rotation before it stops. On
/// PostgreSQL it also says whether the process listens for writes and, with read replicas,
/// each standby's state and lag (a standby that is down or lags is skipped, and does not make
/// the process unready). Needs no token.
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
    db.run_fresh(db::ping)
        .await
        .map_err(|e| ApiError::Unavailable {
            cause: e.to_string(),
        })?;
    Ok(HttpResponse::Ok().json(HealthResponse {
        status: "ok",
        listening: db.listening().map(|(listening, _, _)| listening),
        standbys: db.standby_health(),
    }))
}

/// Metrics for Prometheus
///
/// OpenMetrics text (which Prometheus reads): HTTP requests by method, route pattern and status
/// class (`registry_http_requests_total`), their latency
/// (`registry_http_request_duration_seconds`), and the database pool as of the scrape
/// (`registry_db_pool_connections`, `registry_db_pool_idle_connections`), and the tokens and
/// feed keys checked, by what answered (`registry_credential_checks`: `memory` or
/// `database`), and on SQLite the cached reads' checks of the registry's generation, by what
/// answered (`registry_generation_checks`: `memory` when the file's WAL index showed no commit
/// since the last read, else `database`). Counters start at zero when the process starts;
/// each process has its own. Needs no token.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The metrics, as OpenMetrics text", body = String,
         content_type = "application/openmetrics-text"),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    db: web::Data<Database>,
    metrics: web::Data<crate::metrics::Metrics>,
) -> HttpResponse {
    let mut credential_checks = Vec::new();
    if let Some(tokens) = req.app_data::<web::Data<VerifiedTokens>>() {
        let (from_memory, from_database) = tokens.counts();
        credential_checks.push(("token", from_memory, from_database));
    }
    if let Some(keys) = req.app_data::<web::Data<VerifiedFeedKeys>>() {
        let (from_memory, from_database) = keys.counts();
        credential_checks.push(("feed_key", from_memory, from_database));
    }
    HttpResponse::Ok()
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(
            metrics.render(crate::metrics::DatabaseState {
                pool: db.pool_state(),
                listening: db.listening(),
                standbys: db
                    .standby_health()
                    .into_iter()
                    .map(|standby| (standby.name, standby.state == "ok", standby.lag_ms))
                    .collect(),
                credential_checks,
                generation_checks: db.generation_checks(),
            }),
        )
}
