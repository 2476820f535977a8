//! Every error, including actix's own, is problem JSON.

use awc::http::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

async fn malformed_bodies_are_400_and_media_types_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let post = |content_type: &'static str, body: &'static [u8]| {
        app.write(
            Method::POST,
            "/api/v1/events",
            &[],
            Some((content_type, body.to_vec())),
        )
    };
    post("application/json", b"{\"title\": ").await.problem(400);
    post("application/json", b"\xff\xfe not utf-8")
        .await
        .problem(400);
    post("application/json", b"").await.problem(400);
    post("text/plain", b"{}").await.problem(415);
    post("application/x-www-form-urlencoded", b"title=x")
        .await
        .problem(415);
    post("application/merge-patch+json", b"{}")
        .await
        .problem(415);
    app.write(Method::POST, "/api/v1/events", &[], None)
        .await
        .problem(415);
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    app.write(
        Method::POST,
        "/api/v1/events",
        &[],
        Some(("application/json", deep.into_bytes())),
    )
    .await
    .problem(400);
    post("application/json", b"[1, 2]").await.problem(422);
    post("application/json", b"\"text\"").await.problem(422);
    // A body the client says it encoded is not read as JSON: 415, whatever the encoding.
    let valid = event_body("Encoded", "2019-01-01").to_string().into_bytes();
    let encoded = |encoding: &'static str| {
        let (app, valid) = (&app, valid.clone());
        async move {
            app.write(
                Method::POST,
                "/api/v1/events",
                &[("content-encoding", encoding)],
                Some(("application/json", valid)),
            )
            .await
        }
    };
    for encoding in ["gzip", "bogus"] {
        let problem = encoded(encoding).await.problem(415);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains(encoding))
        );
    }
    let page = app.get("/api/v1/events").await.expect(200).json();
    assert_eq!(page["items"], json!([]));
    encoded("identity").await.expect(201);
}

async fn oversized_bodies_are_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("Big", "2019-01-01");
    body["description"] = json!("x".repeat(2 * 1024 * 1024));
    let response = app
        .write(
            Method::POST,
            "/api/v1/events",
            &[],
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await;
    response.problem(413);
    let page = app.get("/api/v1/events").await.expect(200).json();
    assert_eq!(page["items"], json!([]));
}

async fn unknown_routes_are_404_and_wrong_methods_405(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/api/v1/nothing-here").await.problem(404);
    app.get("/nothing-here").await.problem(404);
    let response = app
        .request(Method::PUT, "/api/v1/events/some-slug", &[], None)
        .await;
    assert_eq!(
        response.header("allow").as_deref(),
        Some("GET, PATCH, DELETE, HEAD")
    );
    response.problem(405);
    app.write(Method::DELETE, "/api/v1/events", &[], None)
        .await
        .problem(405);
}

async fn every_response_has_a_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ok = app.get("/healthz").await.expect(200);
    let missing = app.get("/nowhere").await;
    let ids = [ok.header("x-request-id"), missing.header("x-request-id")];
    assert!(
        ids.iter()
            .all(|id| id.as_deref().is_some_and(|id| id.len() == 36))
    );
    assert_ne!(ids[0], ids[1]);
    assert_eq!(
        ok.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

async fn readiness_checks_the_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/readyz").await.expect(200).json()["status"], "ok");
}

on_both_backends!(
    malformed_bodies_are_400_and_media_types_415,
    oversized_bodies_are_413,
    unknown_routes_are_404_and_wrong_methods_405,
    every_response_has_a_request_id,
    readiness_checks_the_database,
);
