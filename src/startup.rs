//! Building and running the server; shared by `main.rs` and the tests.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive, Protocol};
use actix_server::Server as ServerBuilder;
use actix_service::{ServiceFactoryExt, fn_service, map_config};
use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::AppConfig;
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Condition, DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::cache::{Pages, Representations};
use crate::configuration::Settings;
use crate::db::Database;
use crate::error::ApiError;
use crate::field_errors;
use crate::http::BODY_LIMIT;
use crate::openapi;
use crate::rate_limit::{self, RateLimit};
use crate::representation::calendar::CalendarTags;
use crate::request_line::EscapedRequestLines;
use crate::routes::{self, RouteTable};
use crate::shutdown::Draining;
use crate::store::events::ListsKept;

pub struct Application {
    server: Server,
    port: u16,
}

impl Application {
    /// Connects to the database, applies migrations and binds the listener.
    pub fn build(settings: Settings) -> Result<Self, String> {
        // A bad setting is reported before the database is touched.
        browser_origins(&settings.server.cors_origins)?;
        let db = Database::connect(&settings.database.database_url, settings.database.pool_size)?;
        db.migrate()?;
        let listener = TcpListener::bind(settings.server.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.server.bind))?;
        Self::with_listener(settings, db, listener)
    }

    pub fn with_listener(
        settings: Settings,
        mut db: Database,
        listener: TcpListener,
    ) -> Result<Self, String> {
        db.start_writer()?;
        let read_urls: Vec<String> = settings
            .server
            .read_database_urls
            .iter()
            .map(|url| url.trim().to_owned())
            .filter(|url| !url.is_empty())
            .collect();
        db.start_standbys(
            &read_urls,
            settings.database.pool_size,
            Duration::from_millis(settings.server.read_max_lag_ms),
        )?;
        db.start_listening(settings.server.listen_database_url.as_deref())?;
        if let Some(secret) = &settings.server.admin_token {
            crate::cli::bootstrap_admin(&db, secret)?;
        }
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let doc = openapi::document();
        let routes = RouteTable::from_openapi(&doc);
        let cors_origins = browser_origins(&settings.server.cors_origins)?;
        let rate_limit = web::Data::new(RateLimit::new(settings.server.rate_limit));
        let db = web::Data::new(db);
        drop_old_changes(
            std::sync::Arc::downgrade(&db.clone().into_inner()),
            settings.server.changes_retention_days,
        );
        purge_comment_contacts(
            std::sync::Arc::downgrade(&db.clone().into_inner()),
            settings.server.comment_retention_days,
            settings.server.clock.clone(),
        );
        let comment_limit = web::Data::new(crate::rate_limit::CommentRateLimit::new(
            settings.server.comment_rate_limit,
        ));
        let webhook_settings = crate::webhooks::WebhookSettings::of(&settings.server);
        crate::webhooks::spawn(
            std::sync::Arc::downgrade(&db.clone().into_inner()),
            webhook_settings.clone(),
        );
        let webhook_settings = web::Data::new(webhook_settings);
        let cache = web::Data::new(Representations::new(
            settings.server.cache_mb.saturating_mul(1 << 20),
        ));
        let pages = web::Data::new(Pages::new(
            settings.server.page_cache_mb.saturating_mul(1 << 20),
        ));
        let trusted_proxies = web::Data::new(crate::client_ip::TrustedProxies::new(
            settings.server.trusted_proxies.clone(),
        ));
        let lists_kept = web::Data::new(ListsKept::new());
        let calendar_tags = web::Data::new(CalendarTags::new());
        let public_url = web::Data::new(settings.server.public_url.clone());
        let clock = web::Data::new(settings.server.clock.clone());
        let routes = web::Data::new(routes);
        let metrics = web::Data::new(crate::metrics::Metrics::new());
        let draining = web::Data::new(Draining::default());
        let verified_tokens = web::Data::new(crate::store::tokens::VerifiedTokens::default());
        let verified_feed_keys =
            web::Data::new(crate::store::feed_keys::VerifiedFeedKeys::default());
        let drain = crate::shutdown::drained(
            draining.clone().into_inner(),
            Duration::from_secs(settings.server.drain_seconds),
        );
        let doc = Arc::new(doc);
        let app = move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(routes::configure)
                .split_for_parts();
            app.app_data(db.clone())
                .app_data(cache.clone())
                .app_data(pages.clone())
                .app_data(trusted_proxies.clone())
                .app_data(lists_kept.clone())
                .app_data(calendar_tags.clone())
                .app_data(public_url.clone())
                .app_data(clock.clone())
                .app_data(comment_limit.clone())
                .app_data(webhook_settings.clone())
                .app_data(rate_limit.clone())
                .app_data(routes.clone())
                .app_data(metrics.clone())
                .app_data(draining.clone())
                .app_data(verified_tokens.clone())
                .app_data(verified_feed_keys.clone())
                .app_data(web::PayloadConfig::new(BODY_LIMIT))
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|error, _| field_errors::query_problem(&error).into()),
                )
                .app_data(web::PathConfig::default().error_handler(|error, _| {
                    ApiError::bad_request(format!("bad path: {error}")).into()
                }))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", (*doc).clone()))
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header((header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .default_service(web::to(no_route))
                .wrap(ErrorHandlers::new().default_handler(problem_for_framework_errors))
                .wrap(actix_web::middleware::from_fn(routes::access::authenticate))
                .wrap(actix_web::middleware::from_fn(
                    crate::db::position::middleware,
                ))
                .wrap(actix_web::middleware::from_fn(rate_limit::limit))
                .wrap(actix_web::middleware::from_fn(cache_headers))
                .wrap(
                    DefaultHeaders::new()
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY"))
                        .add(("Referrer-Policy", "no-referrer")),
                )
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                .wrap(actix_web::middleware::from_fn(
                    routes::linked_data::negotiate,
                ))
                .wrap(actix_web::middleware::from_fn(
                    crate::canonical::canonical_request,
                ))
                .wrap(actix_web::middleware::from_fn(request_id_header))
                .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
                .wrap(actix_web::middleware::from_fn(crate::metrics::observe))
        };
        let workers = settings
            .server
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        // As many blocking threads as connections: more would only queue on the pool's lock
        // and switch contexts.
        let blocking = (settings.database.pool_size as usize)
            .div_ceil(workers)
            .max(1);
        // actix-web's HttpServer with one addition: each connection's bytes pass through
        // EscapedRequestLines first (see crate::request_line).
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let builder = ServerBuilder::build()
            .workers(workers)
            .worker_max_blocking_threads(blocking)
            .shutdown_timeout(20)
            // SIGTERM and SIGINT drain first (crate::shutdown), then stop gracefully.
            .shutdown_signal(drain);
        // What HttpServer sets: on shutdown idle keep-alive connections close at once, and the
        // timeouts are its defaults.
        let shutdown = builder.graceful_shutdown_signal();
        let server = builder
            .listen("meeting-registry", listener, move || {
                let app = app();
                let shutdown = shutdown.clone();
                let http = HttpService::build()
                    .graceful_shutdown_signal(move || {
                        let shutdown = shutdown.clone();
                        async move { shutdown.notified().await }
                    })
                    .keep_alive(KeepAlive::default())
                    .client_request_timeout(Duration::from_secs(5))
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .local_addr(local)
                    .finish(map_config(app, |_| AppConfig::default()));
                fn_service(|io: actix_rt::net::TcpStream| async move {
                    let peer = io.peer_addr().ok();
                    // As actix-web does: responses are written as soon as they are ready.
                    let _ = io.set_nodelay(true);
                    Ok::<_, DispatchError>((EscapedRequestLines::new(io), Protocol::Http1, peer))
                })
                .and_then(http)
            })
            .map_err(|e| e.to_string())?
            .run();
        Ok(Self { server, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, drains (see crate::shutdown), then finishes in-flight
    /// requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

/// The CORS origins, each `*` or a browser origin (`scheme://host[:port]`, as a browser sends
/// it in `Origin`); anything else stops start-up, since it would never match a request.
/// Empty entries (`REGISTRY_CORS_ORIGINS=`, a trailing comma) are left out.
fn browser_origins(origins: &[String]) -> Result<Vec<String>, String> {
    let mut checked = Vec::new();
    for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        if origin != "*" && !is_origin(origin) {
            return Err(format!(
                "CORS origin `{origin}` (REGISTRY_CORS_ORIGINS or --cors-origins) is not an \
                 origin: write scheme://host[:port] with nothing after it, e.g. \
                 http://localhost:3000, or `*` for any"
            ));
        }
        checked.push(origin.to_owned());
    }
    Ok(checked)
}

/// `http://host[:port]` or `https://host[:port]` exactly as a browser serialises it in `Origin`
/// (no path, query or user; no default port), the only form that can match a request.
fn is_origin(origin: &str) -> bool {
    url::Url::parse(origin).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url
                .origin()
                .ascii_serialization()
                .eq_ignore_ascii_case(origin)
    })
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static(crate::db::position::HEADER),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static(crate::db::position::HEADER),
        ])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// Requests no route took: 405 with `Allow` when the path exists, else 404.
async fn no_route(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    match routes.allowed(req.path()) {
        Some(methods) => {
            let allow: Vec<&str> = methods.iter().map(|m| m.as_str()).collect();
            let mut response = ApiError::MethodNotAllowed.error_response();
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => ApiError::NoRoute.error_response(),
    }
}

/// Turns errors produced by actix itself (payload limits, CORS refusals…) into problem JSON.
fn problem_for_framework_errors<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let detail = res
        .response()
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned());
    let error = match status.as_u16() {
        400 => ApiError::bad_request(detail),
        404 => ApiError::NoRoute,
        405 => ApiError::MethodNotAllowed,
        413 => ApiError::PayloadTooLarge { limit: BODY_LIMIT },
        415 => ApiError::UnsupportedMediaType { detail },
        503 => ApiError::Unavailable { cause: detail },
        s if s >= 500 => ApiError::internal(detail),
        _ => ApiError::bad_request(detail),
    };
    let mut problem = error.error_response();
    *problem.status_mut() = status;
    let (req, _) = res.into_parts();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, problem).map_into_right_body(),
    ))
}

/// Responses may vary with the token; those to a request that carried one must not be kept by
/// shared caches.
async fn cache_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let authorised = req.headers().contains_key(header::AUTHORIZATION);
    let mut res = next
        .call(req)
        .await?
        .map_into_boxed_body()
        .map_into_left_body();
    let headers = res.headers_mut();
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Authorization, Accept-Encoding"),
    );
    if authorised {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    } else if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    Ok(res)
}

async fn request_id_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let request_id = req.extensions().get::<RequestId>().copied();
    let mut res = next
        .call(req)
        .await?
        .map_into_boxed_body()
        .map_into_left_body();
    if let Some(id) = request_id
        && let Ok(value) = HeaderValue::from_str(&id.to_string())
    {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// Drops the change feed's changes older than the retention now and every hour, for as long as
/// the server's database is alive.
fn drop_old_changes(db: std::sync::Weak<Database>, retention_days: u32) {
    const EVERY: Duration = Duration::from_secs(3600);
    let retention = chrono::Duration::days(i64::from(retention_days));
    actix_rt::spawn(async move {
        loop {
            let Some(db) = db.upgrade() else {
                return;
            };
            let due = db
                .run(move |conn| {
                    crate::store::changes::any_older_than(conn, retention, chrono::Utc::now())
                })
                .await;
            let outcome = match due {
                Ok(true) => {
                    db.write(move |conn| {
                        crate::store::changes::drop_older_than(conn, retention, chrono::Utc::now())
                    })
                    .await
                }
                other => other.map(|_| 0),
            };
            match outcome {
                Ok(0) => {}
                Ok(dropped) => tracing::info!(dropped, "dropped changes past the retention"),
                Err(error) => tracing::warn!(%error, "could not drop old changes; will retry"),
            }
            drop(db);
            actix_rt::time::sleep(EVERY).await;
        }
    });
}

/// Erases commenters' email and IP address once older than the retention, now and every
/// hour, for as long as the server's database is alive.
fn purge_comment_contacts(
    db: std::sync::Weak<Database>,
    retention_days: u32,
    clock: crate::clock::Clock,
) {
    const EVERY: Duration = Duration::from_secs(3600);
    let retention = chrono::Duration::days(i64::from(retention_days));
    actix_rt::spawn(async move {
        loop {
            let Some(db) = db.upgrade() else {
                return;
            };
            let cutoff = clock.now() - retention;
            let due = db
                .run(move |conn| crate::store::comments::any_contacts_before(conn, cutoff))
                .await;
            let outcome = match due {
                Ok(true) => {
                    db.write(move |conn| crate::store::comments::purge_contacts(conn, cutoff))
                        .await
                }
                other => other.map(|_| 0),
            };
            match outcome {
                Ok(0) => {}
                Ok(purged) => tracing::info!(
                    purged,
                    "erased commenters' contact details past the retention"
                ),
                Err(error) => {
                    tracing::warn!(%error, "could not erase old commenters' contact details; will retry")
                }
            }
            drop(db);
            actix_rt::time::sleep(EVERY).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::is_origin;

    #[test]
    fn only_browser_origins_are_origins() {
        for good in [
            "http://localhost:3000",
            "https://registry.example.org",
            "http://[::1]:8080",
            "http://[::1]",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "localhost:3000",
            "http://localhost:3000/",
            "https://example.org/app",
            "ftp://example.org",
            "http://",
            "http://localhost:",
            "http://localhost:99999",
            "http://user@example.org",
            "http://example.org:80",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
