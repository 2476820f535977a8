//! What a first visitor trips over at the edges of the HTTP contract: `HEAD`, trailing slashes,
//! the bare root, instants written one way, the audit log newest first, CORS settings.

use std::io::{Read, Write};

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

async fn head_is_answered_wherever_get_is(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/events",
        event_body("3rd RNNC meeting", "2019-04-23"),
    )
    .await;
    for path in [
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/docs/",
        "/api/v1/events",
        "/api/v1/events/3rd-rnnc-meeting",
        "/api/v1/networks",
    ] {
        let get = app.get(path).await.expect(200);
        let head = app.request(Method::HEAD, path, &[], None).await.expect(200);
        assert!(head.body.is_empty(), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string()),
            "{path}"
        );
        assert_eq!(head.header("content-type"), get.header("content-type"));
        assert_eq!(head.header("etag"), get.header("etag"), "{path}");
    }
    // A conditional HEAD is answered like a conditional GET.
    let etag = app
        .get("/api/v1/events/3rd-rnnc-meeting")
        .await
        .header("etag")
        .unwrap_or_default();
    app.request(
        Method::HEAD,
        "/api/v1/events/3rd-rnnc-meeting",
        &[("if-none-match", &etag)],
        None,
    )
    .await
    .expect(304);
    app.request(Method::HEAD, "/api/v1/events/nothing-here", &[], None)
        .await
        .expect(404);
    // On the wire: the headers and nothing after them.
    let address = app.address.trim_start_matches("http://").to_owned();
    let raw = actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(address)?;
        stream.write_all(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&raw).into_owned())
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default();
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.ends_with("\r\n\r\n"), "a body followed: {raw}");
}

/// The status and `Location` of a request, the redirect not followed.
async fn unfollowed(app: &TestApp, method: Method, path: &str) -> (u16, Option<String>) {
    let client = awc::Client::builder().disable_redirects().finish();
    let response = client
        .request(method, app.url(path))
        .insert_header(("authorization", app.editor_auth()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("request to {path} failed: {e}"));
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), location)
}

async fn trailing_slashes_and_the_root_redirect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/events",
        event_body("3rd RNNC meeting", "2019-04-23"),
    )
    .await;
    let redirect = |to: &str| (308, Some(to.to_owned()));
    assert_eq!(
        unfollowed(&app, Method::GET, "/api/v1/events/3rd-rnnc-meeting/?x=1").await,
        redirect("/api/v1/events/3rd-rnnc-meeting?x=1")
    );
    assert_eq!(
        unfollowed(&app, Method::GET, "/api/v1/events/").await,
        redirect("/api/v1/events")
    );
    // 308 keeps the method: a write can follow it too.
    assert_eq!(
        unfollowed(&app, Method::PATCH, "/api/v1/events/3rd-rnnc-meeting/").await,
        redirect("/api/v1/events/3rd-rnnc-meeting")
    );
    assert_eq!(unfollowed(&app, Method::GET, "/").await, redirect("/docs"));
    // Followed, the slash answers what the path without it answers.
    let followed = app
        .get("/api/v1/events/3rd-rnnc-meeting/")
        .await
        .expect(200);
    assert_eq!(followed.json()["slug"], "3rd-rnnc-meeting");
    // Swagger UI keeps its own trailing slash.
    assert_eq!(unfollowed(&app, Method::GET, "/docs/").await.0, 200);
}

/// `2019-04-23T07:00:00.000000Z`: UTC, six fractional digits, `Z`.
fn is_fixed_instant(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    bytes.len() == 27
        && digits(0..4)
        && bytes[4] == b'-'
        && bytes[10] == b'T'
        && bytes[19] == b'.'
        && digits(20..26)
        && bytes[26] == b'Z'
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Every member named `*_at` or `at`, anywhere in `value`.
fn instants(value: &Value, found: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(fields) => {
            for (name, member) in fields {
                if (name == "at" || name.ends_with("_at")) && !member.is_null() {
                    found.push((name.clone(), member.clone()));
                }
                instants(member, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| instants(item, found)),
        _ => {}
    }
}

async fn every_instant_is_written_one_way(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Regional Cooperation Council", "kind": "regional_organisation", "slug": "rcc"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "NFP Group", "slug": "nfp"}),
    )
    .await;
    app.create(
        "/api/v1/networks/nfp/members",
        json!({"organisation_id": "rcc", "role": "secretariat"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Jane Doe", "slug": "jane"}),
    )
    .await;
    let mut timed = event_body("Timed", "2019-04-23");
    timed["start_time"] = json!("09:30");
    app.create("/api/v1/events", timed).await;
    app.create("/api/v1/events", event_body("All day", "2019-04-24"))
        .await;
    app.create(
        "/api/v1/chains",
        json!({"title": "Tirana", "slug": "tirana", "event_ids": ["timed", "all-day"]}),
    )
    .await;
    let admin = format!("Bearer {}", app.admin);
    app.request(
        Method::POST,
        "/api/v1/tokens",
        &[("authorization", &admin)],
        Some((
            "application/json",
            br#"{"name": "partner", "role": "reader", "expires_on": "2030-01-31"}"#.to_vec(),
        )),
    )
    .await
    .expect(201);
    let mut found = Vec::new();
    for path in [
        "/api/v1/events",
        "/api/v1/events/timed",
        "/api/v1/organisations/rcc",
        "/api/v1/networks/nfp",
        "/api/v1/networks/nfp/members",
        "/api/v1/people/jane",
        "/api/v1/chains/tirana",
        "/api/v1/tokens",
        "/api/v1/audit",
    ] {
        let body = app.get_as(&app.admin, path).await.expect(200).json();
        instants(&body, &mut found);
    }
    let names: std::collections::BTreeSet<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "at",
        "created_at",
        "updated_at",
        "starts_at",
        "ends_at",
        "expires_at",
    ] {
        assert!(names.contains(name), "no {name} among {names:?}");
    }
    for (name, value) in &found {
        assert!(is_fixed_instant(value), "{name}: {value}");
    }
}

async fn the_audit_log_lists_newest_first_page_by_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for n in 1..=5 {
        app.create(
            "/api/v1/networks",
            json!({"name": format!("Network {n}"), "slug": format!("n{n}")}),
        )
        .await;
    }
    let walk = |sort: &'static str| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = app
                    .get_as(
                        &app.admin,
                        &format!("/api/v1/audit?resource=network&sort={sort}&limit=2{cursor}"),
                    )
                    .await
                    .expect(200)
                    .json();
                for entry in page["items"].as_array().into_iter().flatten() {
                    seen.push(entry["changes"]["slug"].as_str().unwrap_or("").to_owned());
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => return seen,
                }
            }
        }
    };
    assert_eq!(walk("at").await, ["n1", "n2", "n3", "n4", "n5"]);
    assert_eq!(walk("-at").await, ["n5", "n4", "n3", "n2", "n1"]);
    let first = app
        .get_as(&app.admin, "/api/v1/audit?sort=-at&limit=1")
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap_or("").to_owned();
    app.get_as(
        &app.admin,
        &format!("/api/v1/audit?sort=at&cursor={cursor}"),
    )
    .await
    .problem(400);
    app.get_as(&app.admin, "/api/v1/audit?sort=newest")
        .await
        .problem(400);
}

/// One request written by hand on a fresh connection; the raw response.
async fn raw_exchange(app: &TestApp, request: Vec<u8>) -> String {
    let address = app.address.trim_start_matches("http://").to_owned();
    actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(address)?;
        stream.write_all(&request)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&raw).into_owned())
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or_default()
}

async fn raw_utf8_in_a_url_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("3rd RNNC meeting", "2019-04-23");
    body["location"] = json!({"city": "Tiranë", "country_code": "AL"});
    body["slug"] = json!("tiranë-3");
    let created = app.post("/api/v1/events", &body).await;
    // A slug is [a-z0-9-]: the raw path below still has to reach the API to be refused.
    created.problem(422);
    body["slug"] = json!("rnnc-3");
    app.create("/api/v1/events", body).await;
    let page = raw_exchange(
        &app,
        "GET /api/v1/events?city=TIRANË HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            .as_bytes()
            .to_vec(),
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("\"slug\":\"rnnc-3\""), "{page}");
    // Two requests on one connection, the first with a body holding non-ASCII text: the body
    // arrives unchanged and the second request line is read where it starts.
    let patch = r#"{"description": "Tiranë, Shqipëri"}"#;
    let auth = app.editor_auth();
    let pipelined = format!(
        "PATCH /api/v1/events/rnnc-3 HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{patch}\
         GET /api/v1/events/rnnc-3?ë=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        patch.len()
    );
    let both = raw_exchange(&app, pipelined.into_bytes()).await;
    assert_eq!(both.matches("HTTP/1.1 200").count(), 2, "{both}");
    let event = app.get("/api/v1/events/rnnc-3").await.expect(200).json();
    assert_eq!(event["description"], "Tiranë, Shqipëri");
    let missing = raw_exchange(
        &app,
        "GET /api/v1/events/tiranë HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            .as_bytes()
            .to_vec(),
    )
    .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    assert!(missing.contains("application/problem+json"), "{missing}");
}

async fn percent_encoded_utf8_in_a_query_is_decoded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("3rd RNNC meeting", "2019-04-23");
    body["location"] = json!({"city": "Tiranë", "country_code": "AL"});
    app.create("/api/v1/events", body).await;
    for city in ["TIRAN%C3%8B", "tiran%C3%AB"] {
        let page = app
            .get(&format!("/api/v1/events?city={city}"))
            .await
            .expect(200)
            .json();
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{city}");
    }
    let problem = app.get("/api/v1/events?city=TIRAN%CB").await.problem(400);
    assert!(
        problem.to_string().contains("city"),
        "the problem names the parameter: {problem}"
    );
}

/// A record named like a UUID (of another record, or in the 32-digit form) gets a slug that is
/// not one: a slug shaped like a UUID would be taken for an id, so the record could not be
/// found by its slug, and references to it would name the other record.
async fn a_name_written_like_a_uuid_gets_a_slug_that_is_not_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .create(
            "/api/v1/organisations",
            json!({"name": "Regional Cooperation Council", "kind": "regional_organisation"}),
        )
        .await;
    let id = first["id"].as_str().unwrap_or("").to_owned();
    for name in [id.clone(), id.replace('-', "")] {
        let created = app
            .create(
                "/api/v1/organisations",
                json!({"name": name, "kind": "ministry"}),
            )
            .await;
        let slug = created["slug"].as_str().unwrap_or("").to_owned();
        assert!(uuid::Uuid::parse_str(&slug).is_err(), "{slug}");
        let found = app
            .get(&format!("/api/v1/organisations/{slug}"))
            .await
            .expect(200)
            .json();
        assert_eq!(found["id"], created["id"], "{slug}");
    }
}

on_both_backends!(
    a_name_written_like_a_uuid_gets_a_slug_that_is_not_one,
    raw_utf8_in_a_url_is_accepted,
    percent_encoded_utf8_in_a_query_is_decoded,
    head_is_answered_wherever_get_is,
    trailing_slashes_and_the_root_redirect,
    every_instant_is_written_one_way,
    the_audit_log_lists_newest_first_page_by_page,
);

/// A CORS origin without a scheme never matches a browser's `Origin`: start-up stops with one
/// line naming it, before the database is touched.
#[test]
fn cors_origins_without_a_scheme_stop_start_up() {
    use meeting_registry::configuration::{DatabaseSettings, ServerSettings, Settings};
    use meeting_registry::startup::Application;

    let dir = tempfile::tempdir().expect("temporary folder");
    let database = dir.path().join("registry.db");
    let settings = |origins: &[&str]| Settings {
        database: DatabaseSettings {
            database_url: database.display().to_string(),
            pool_size: 1,
        },
        server: ServerSettings {
            bind: "127.0.0.1:0".parse().expect("address"),
            cors_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            ..ServerSettings::default()
        },
    };
    for bad in ["localhost:3000", "http://localhost:3000/", "example.org"] {
        let error = Application::build(settings(&["https://ok.example.org", bad]))
            .err()
            .unwrap_or_default();
        assert!(
            error.contains(bad) && error.contains("scheme://host"),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
        assert!(!database.exists());
    }
}
