//! `/metrics`: Prometheus (OpenMetrics) text. Requests by route pattern, method and status
//! class, their latency, and the database pool at the time of the scrape.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The media type of the text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route pattern (`/api/v1/events/{id}`), so that ids do not multiply the series;
    /// `unmatched` for a path no route takes.
    route: String,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StandbyLabels {
    /// `host:port/database`.
    standby: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AnsweredFrom {
    /// `memory` (the WAL index showed no commit since the last read) or `database`.
    answered_from: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CredentialLabels {
    /// `token` or `feed_key`.
    kind: String,
    /// `memory` (kept by the process) or `database`.
    answered_from: String,
}

/// What the scrape reports of the database beside the pool.
#[derive(Debug, Default)]
pub struct DatabaseState {
    /// Connections in the pool and how many are idle.
    pub pool: (u32, u32),
    /// On PostgreSQL: whether the process listens for writes, notifications received and
    /// sessions opened again.
    pub listening: Option<(bool, u64, u64)>,
    /// Each standby: its name, whether it serves reads, and its lag in milliseconds.
    pub standbys: Vec<(String, bool, Option<u64>)>,
    /// Tokens and feed keys checked: the kind, how many from memory, how many by the database.
    pub credential_checks: Vec<(&'static str, u64, u64)>,
    /// On SQLite with its WAL index watched: generations known from the index, and read.
    pub generation_checks: Option<(u64, u64)>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    pool_connections: Gauge,
    pool_idle: Gauge,
    listening: Gauge,
    notifications: Gauge,
    listen_reconnects: Gauge,
    standby_serving: Family<StandbyLabels, Gauge>,
    standby_lag: Family<StandbyLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    credential_checks: Family<CredentialLabels, Gauge>,
    generation_checks: Family<AnsweredFrom, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("registry");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status class",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 0.1 ms to about 3 s.
            Histogram::new(exponential_buckets(0.0001, 2.5, 12))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response, by method and route pattern",
            durations.clone(),
        );
        let pool_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections the pool holds (at the scrape)",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections idle in the pool (at the scrape)",
            pool_idle.clone(),
        );
        let listening = Gauge::default();
        registry.register(
            "db_listening",
            "1 while the process listens for writes (PostgreSQL) and cached reads need no \
             round trip; 0 while reads ask the database",
            listening.clone(),
        );
        let notifications = Gauge::default();
        registry.register(
            "db_notifications_received",
            "Write notifications received since start (PostgreSQL)",
            notifications.clone(),
        );
        let listen_reconnects = Gauge::default();
        registry.register(
            "db_listen_reconnects",
            "Times the listening session was opened again after being lost",
            listen_reconnects.clone(),
        );
        let standby_serving = Family::<StandbyLabels, Gauge>::default();
        registry.register(
            "db_standby_serving",
            "1 while a read replica serves reads; 0 while it is skipped (down, lagging or promoted)",
            standby_serving.clone(),
        );
        let standby_lag =
            Family::<StandbyLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "db_standby_lag_seconds",
            "How far a read replica is behind the primary (as of the monitor's last look)",
            standby_lag.clone(),
        );
        let credential_checks = Family::<CredentialLabels, Gauge>::default();
        registry.register(
            "credential_checks",
            "Tokens and feed keys checked since start, by kind and by what answered: `memory` \
             (kept by the process) or `database`",
            credential_checks.clone(),
        );
        let generation_checks = Family::<AnsweredFrom, Gauge>::default();
        registry.register(
            "generation_checks",
            "Cached reads' checks of the registry's generation since start (SQLite), by what \
             answered: `memory` (the file's WAL index showed no commit since the last read, so \
             no statement ran) or `database`",
            generation_checks.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            pool_connections,
            pool_idle,
            listening,
            notifications,
            listen_reconnects,
            standby_serving,
            standby_lag,
            credential_checks,
            generation_checks,
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: format!("{}xx", status / 100),
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The text a scrape gets, with the pool's state `(connections, idle)` as of now.
    pub fn render(&self, db: DatabaseState) -> String {
        let pool = db.pool;
        self.pool_connections.set(i64::from(pool.0));
        self.pool_idle.set(i64::from(pool.1));
        if let Some((listening, notifications, reconnects)) = db.listening {
            self.listening.set(i64::from(listening));
            self.notifications
                .set(i64::try_from(notifications).unwrap_or(i64::MAX));
            self.listen_reconnects
                .set(i64::try_from(reconnects).unwrap_or(i64::MAX));
        }
        for (standby, serving, lag_ms) in db.standbys {
            let labels = StandbyLabels { standby };
            self.standby_serving
                .get_or_create(&labels)
                .set(i64::from(serving));
            match lag_ms {
                Some(lag_ms) => {
                    self.standby_lag
                        .get_or_create(&labels)
                        .set(lag_ms as f64 / 1000.0);
                }
                None => {
                    self.standby_lag.remove(&labels);
                }
            }
        }
        for (kind, from_memory, from_database) in db.credential_checks {
            for (answered_from, count) in [("memory", from_memory), ("database", from_database)] {
                self.credential_checks
                    .get_or_create(&CredentialLabels {
                        kind: kind.to_owned(),
                        answered_from: answered_from.to_owned(),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        if let Some((from_memory, from_database)) = db.generation_checks {
            for (answered_from, count) in [("memory", from_memory), ("database", from_database)] {
                self.generation_checks
                    .get_or_create(&AnsweredFrom {
                        answered_from: answered_from.to_owned(),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// The middleware: counts every request and times it, by the route that answered it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let res = next.call(req).await?;
    if let Some(metrics) = metrics {
        let request = res.request();
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        metrics.observe(
            request.method().as_str(),
            &route,
            res.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status_class() {
        let metrics = Metrics::new();
        metrics.observe("GET", "/api/v1/events/{id}", 200, 0.002);
        metrics.observe("GET", "/api/v1/events/{id}", 404, 0.001);
        metrics.observe("GET", "/api/v1/events/{id}", 200, 0.003);
        let text = metrics.render(DatabaseState {
            pool: (4, 3),
            ..DatabaseState::default()
        });
        assert!(
            text.contains(
                r#"registry_http_requests_total{method="GET",route="/api/v1/events/{id}",status="2xx"} 2"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"status="4xx"} 1"#), "{text}");
        assert!(
            text.contains("registry_db_pool_idle_connections 3"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn standbys_are_reported_by_name_and_a_down_one_has_no_lag() {
        let metrics = Metrics::new();
        let text = metrics.render(DatabaseState {
            pool: (4, 3),
            listening: Some((true, 12, 1)),
            standbys: vec![
                ("db2:5432/registry".into(), true, Some(250)),
                ("db3:5432/registry".into(), false, None),
            ],
            credential_checks: vec![("token", 40, 2), ("feed_key", 0, 3)],
            generation_checks: Some((900, 7)),
        });
        for line in [
            "registry_db_listening 1",
            "registry_db_notifications_received 12",
            r#"registry_db_standby_serving{standby="db2:5432/registry"} 1"#,
            r#"registry_db_standby_serving{standby="db3:5432/registry"} 0"#,
            r#"registry_db_standby_lag_seconds{standby="db2:5432/registry"} 0.25"#,
            r#"registry_credential_checks{kind="token",answered_from="memory"} 40"#,
            r#"registry_generation_checks{answered_from="database"} 7"#,
            r#"registry_credential_checks{kind="feed_key",answered_from="database"} 3"#,
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        assert!(!text.contains(r#"lag_seconds{standby="db3"#), "{text}");
    }
}
