//! The committed OpenAPI document is the one the code generates, and the server serves it.

use crate::helpers::{Backend, TestApp};

#[test]
fn committed_openapi_document_is_current() {
    let generated = meeting_registry::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` \
         (or UPDATE_OPENAPI=1 cargo test committed_openapi)"
    );
}

#[actix_web::test]
async fn the_document_and_swagger_ui_are_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let served = app.get("/openapi.json").await.expect(200).json();
    let generated: serde_json::Value =
        serde_json::from_str(&meeting_registry::openapi::document_json()).unwrap_or_default();
    assert_eq!(served, generated);
    // `/docs` redirects to `/docs/` (the client follows it).
    for path in ["/docs", "/docs/"] {
        let page = app.get(path).await.expect(200);
        assert!(String::from_utf8_lossy(&page.body).contains("swagger-ui"));
    }
}
