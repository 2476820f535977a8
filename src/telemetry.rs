//! Structured logs: one line per request (with its request id) when the request span closes.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Installs the global subscriber, writing to standard error as each line is made; `RUST_LOG`
/// filters (default `info`). `json` selects JSON lines for log collectors.
pub fn init(json: bool) {
    install(json, std::io::stderr);
}

/// [`init`] for the server, whose request log is a line per request: the lines are written to
/// standard error by a thread of their own, through a buffer written out whenever no line is
/// waiting. A worker answering requests then neither makes a `write(2)` per line nor waits for
/// another worker's, and under load many lines go out in one write. No line is dropped: were
/// 128k lines ever waiting, the workers would wait. The guard writes out what is left when
/// dropped, so it is kept for as long as the server runs.
pub fn init_server(json: bool) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("registry-log")
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stderr(),
        ));
    install(json, writer);
    guard
}

fn install<W>(json: bool, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    // A second init (tests start many servers in one process) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// A request target as logged: a calendar feed key (`key=…`) is a secret, and is replaced by
/// `key=REDACTED`.
fn without_secrets(target: &str) -> std::borrow::Cow<'_, str> {
    let Some((path, query)) = target.split_once('?') else {
        return target.into();
    };
    if !query.split('&').any(|p| p.starts_with("key=")) {
        return target.into();
    }
    let query: Vec<&str> = query
        .split('&')
        .map(|p| {
            if p.starts_with("key=") {
                "key=REDACTED"
            } else {
                p
            }
        })
        .collect();
    format!("{path}?{}", query.join("&")).into()
}

/// The request span, whose closing is the request's log line: what an operator reads (method,
/// route, target, client, user agent, request id, status, and the error's message), without
/// the OpenTelemetry fields of `tracing-actix-web`'s default (`otel.*`, flavor, scheme, host,
/// the error's `Debug` form). The default span, built and formatted, was about a fifth of a
/// worker's samples for an event by id.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .copied();
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        // Not `realip_remote_addr`, which believes a forwarded address from anyone.
        let client_ip = crate::client_ip::of_service(request)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = request.match_pattern().as_deref().unwrap_or("default"),
            http.target = %without_secrets(request.uri().path_and_query().map_or("", |p| p.as_str())),
            http.client_ip = client_ip.as_str(),
            http.user_agent = user_agent,
            request_id = request_id.map(tracing::field::display),
            http.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        span.record("http.status_code", status.as_u16());
        if let Some(error) = error {
            // Quoted and escaped, as the other text fields: the message can quote the request.
            span.record("exception.message", error.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_secrets;

    #[test]
    fn feed_keys_are_not_logged() {
        assert_eq!(
            without_secrets("/api/v1/events.ics?from=2019-01-01&key=mrf_secret"),
            "/api/v1/events.ics?from=2019-01-01&key=REDACTED"
        );
        assert_eq!(
            without_secrets("/api/v1/events?monkey=1"),
            "/api/v1/events?monkey=1"
        );
        assert_eq!(without_secrets("/api/v1/events"), "/api/v1/events");
    }
}
