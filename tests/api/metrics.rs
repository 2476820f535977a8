//! `/metrics`: what an operator's Prometheus scrapes.

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

async fn requests_are_counted_by_route_without_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let event = app
        .create("/api/v1/events", event_body("Counted", "2020-01-10"))
        .await;
    let id = event["id"].as_str().unwrap_or("").to_owned();
    app.get(&format!("/api/v1/events/{id}")).await.expect(200);
    app.get("/api/v1/events/counted").await.expect(200);
    app.get("/api/v1/events/nope").await.problem(404);
    app.get("/no/such/path").await.problem(404);
    let response = app.get("/metrics").await.expect(200);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        response.header("content-type")
    );
    let text = String::from_utf8_lossy(&response.body).into_owned();
    let count = |labels: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(&format!("registry_http_requests_total{{{labels}}}")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(
        count(r#"method="GET",route="/api/v1/events/{id}",status="2xx""#),
        2,
        "{text}"
    );
    assert_eq!(
        count(r#"method="GET",route="/api/v1/events/{id}",status="4xx""#),
        1,
        "{text}"
    );
    assert_eq!(
        count(r#"method="POST",route="/api/v1/events",status="2xx""#),
        1,
        "{text}"
    );
    assert_eq!(count(r#"method="GET",route="unmatched",status="4xx""#), 1);
    // Ids and slugs never become label values.
    assert!(!text.contains(&id) && !text.contains("counted"), "{text}");
    assert!(text.contains("registry_http_request_duration_seconds_bucket"));
    assert!(text.contains("registry_db_pool_connections "));
    assert!(text.ends_with("# EOF\n"));
}

on_both_backends!(requests_are_counted_by_route_without_ids);
