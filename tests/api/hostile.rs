//! A battery of hostile input against every write and list endpoint: every answer is a 4xx
//! problem (never a 5xx, never HTML), and the registry is unchanged afterwards.

use awc::http::Method;
use meeting_registry::bulk;
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

fn snapshot(app: &TestApp) -> Value {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    serde_json::from_str(&bulk::export_json(&db).expect("export")).expect("json")
}

fn hostile_bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let wide_object = format!(
        "{{{}}}",
        (0..5000)
            .map(|i| format!("\"k{i}\": {i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    vec![
        ("invalid UTF-8", b"{\"title\": \"\xff\xfe\xfd\"}".to_vec()),
        ("NUL bytes", b"\x00\x00\x00\x00".to_vec()),
        ("NUL in a string", br#"{"title": "a\u0000b", "name": "a\u0000b", "full_name": "a\u0000b", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC"}"#.to_vec()),
        ("deep nesting", deep.into_bytes()),
        ("wide object", wide_object.into_bytes()),
        ("10 MB", vec![b' '; 10 * 1024 * 1024]),
        ("huge float", br#"{"title": 1e999}"#.to_vec()),
        ("huge integer", br#"{"title": "x", "name": "x", "full_name": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "series_number": 99999999999999999999999, "max_gap_days": 99999999999999999999}"#.to_vec()),
        ("negative numbers", br#"{"title": "x", "name": "x", "full_name": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "series_number": -1, "network_id": "x", "max_gap_days": -5}"#.to_vec()),
        ("invalid date", br#"{"title": "x", "name": "x", "full_name": "x", "kind": "meeting", "start_date": "2019-02-30", "timezone": "UTC", "established_on": "2019-02-30", "since": "2019-02-30", "role": "member", "person_id": "p"}"#.to_vec()),
        ("year 0", br#"{"title": "x", "name": "x", "full_name": "x", "kind": "meeting", "start_date": "0000-01-01", "timezone": "UTC", "established_on": "0000-00-00"}"#.to_vec()),
        ("unknown zone", br#"{"title": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "../../etc/passwd", "name": "x", "full_name": "x", "email": "'; DROP TABLE people; --"}"#.to_vec()),
        ("SQL in references", br#"{"title": "x", "name": "x", "full_name": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "network_id": "' OR 1=1 --", "parent_id": "' OR 1=1 --", "organisation_id": "' OR '1'='1", "coordinator_id": "x' --", "event_ids": ["' OR 1=1 --"], "role": "member", "event_id": "' OR 1=1; --"}"#.to_vec()),
        ("overlong text", format!(r#"{{"title": "{0}", "name": "{0}", "full_name": "{0}", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "role": "member", "person_id": "{0}", "event_id": "{0}"}}"#, "x".repeat(100_000)).into_bytes()),
        ("too many items", format!(r#"{{"title": "x", "name": "x", "full_name": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "topics": [{0}], "supporter_ids": [{0}], "event_ids": [{0}]}}"#, vec!["\"t\""; 1000].join(",")).into_bytes()),
        ("wrong shape", br#"[{"title": "x"}]"#.to_vec()),
        ("javascript URL", br#"{"title": "x", "name": "x", "kind": "ngo", "start_date": "2019-01-01", "timezone": "UTC", "website": "javascript:alert(1)", "links": [{"title": "x", "url": "javascript:alert(1)"}]}"#.to_vec()),
    ]
}

async fn hostile_bodies_get_4xx_problems_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Org", "kind": "ngo", "slug": "org"}),
    )
    .await;
    app.create("/api/v1/networks", json!({"name": "Net", "slug": "net"}))
        .await;
    let mut body = event_body("Event", "2019-04-23");
    body["slug"] = json!("event");
    app.create("/api/v1/events", body).await;
    app.create("/api/v1/chains", json!({"title": "Chain", "slug": "chain"}))
        .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Person", "slug": "person"}),
    )
    .await;
    let before = snapshot(&app);
    let endpoints = [
        (Method::POST, "/api/v1/events"),
        (Method::POST, "/api/v1/organisations"),
        (Method::POST, "/api/v1/people"),
        (Method::POST, "/api/v1/networks"),
        (Method::POST, "/api/v1/chains"),
        (Method::POST, "/api/v1/networks/net/members"),
        (Method::POST, "/api/v1/chains/chain/events"),
        (Method::PATCH, "/api/v1/events/event"),
        (Method::PATCH, "/api/v1/organisations/org"),
        (Method::PATCH, "/api/v1/people/person"),
        (Method::PATCH, "/api/v1/networks/net"),
        (Method::PATCH, "/api/v1/chains/chain"),
    ];
    for (method, path) in &endpoints {
        for (label, body) in hostile_bodies() {
            let content_type = if *method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            let response = app
                .write(method.clone(), path, &[], Some((content_type, body)))
                .await;
            let status = response.status.as_u16();
            assert!(
                (400..500).contains(&status),
                "{label} {method} {path}: {status} {}",
                String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
            );
            assert_eq!(
                response.header("content-type").as_deref(),
                Some("application/problem+json"),
                "{label} {method} {path}"
            );
        }
    }
    assert_eq!(snapshot(&app), before);
}

async fn hostile_paths_queries_and_headers_are_refused_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("Event", "2019-04-23");
    body["slug"] = json!("event");
    app.create("/api/v1/events", body).await;
    let before = snapshot(&app);
    let long = "a".repeat(10_000);
    let paths = [
        "/api/v1/events/%00".to_owned(),
        "/api/v1/events/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/api/v1/events/%27%20OR%201%3D1%20--".to_owned(),
        format!("/api/v1/events/{long}"),
        "/api/v1/events?q=%27%3B%20DROP%20TABLE%20events%3B%20--".to_owned(),
        "/api/v1/events?q=%00".to_owned(),
        "/api/v1/events?q=%25%25%25_".to_owned(),
        format!("/api/v1/events?q={long}"),
        "/api/v1/events?limit=-1".to_owned(),
        "/api/v1/events?limit=99999999999999999999999".to_owned(),
        "/api/v1/events?from=0000-00-00".to_owned(),
        "/api/v1/events?from=2019-02-30".to_owned(),
        "/api/v1/events?cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_owned(),
        format!("/api/v1/events?cursor={long}"),
        "/api/v1/events?kind=meeting&kind=conference".to_owned(),
        "/api/v1/events?updated_since=9999-99-99T99:99:99Z".to_owned(),
        "/api/v1/organisations?country=%F0%9F%92%A9".to_owned(),
        "/api/v1/networks/%00/members?as_of=never".to_owned(),
        "/api/v1/networks/x/members/not-a-uuid".to_owned(),
        "/api/v1/conflicts?from=1800-01-01&to=2200-01-01".to_owned(),
        "/api/v1/audit?since=%00".to_owned(),
    ];
    for path in &paths {
        let response = app.get(path).await;
        let status = response.status.as_u16();
        assert!(status < 500, "{path}: {status}");
        if status >= 400 {
            assert_eq!(
                response.header("content-type").as_deref(),
                Some("application/problem+json"),
                "{path}"
            );
        }
    }
    let auth_headers = [
        format!("Bearer {long}"),
        "Bearer \t".to_owned(),
        "Bearer a b c".to_owned(),
        "bearer".to_owned(),
        "Token abc".to_owned(),
    ];
    for value in &auth_headers {
        let response = app
            .request(
                Method::GET,
                "/api/v1/events",
                &[("authorization", value)],
                None,
            )
            .await;
        assert_eq!(response.status.as_u16(), 401, "{value:.40}");
    }
    let weird_headers = [
        ("if-match", "\"\\\\\""),
        ("if-none-match", "*, \"a\", W/\"b\""),
        ("idempotency-key", &long[..300]),
    ];
    for (name, value) in weird_headers {
        let response = app
            .write(
                Method::POST,
                "/api/v1/events",
                &[(name, value)],
                Some((
                    "application/json",
                    event_body("x", "2019-01-01").to_string().into_bytes(),
                )),
            )
            .await;
        assert!(
            response.status.as_u16() < 500,
            "{name}: {}",
            response.status
        );
    }
    let after = snapshot(&app);
    // Only the one well-formed create with a weird but valid If-Match/If-None-Match may land.
    assert!(
        after["events"].as_array().map(Vec::len).unwrap_or(0)
            <= before["events"].as_array().map(Vec::len).unwrap_or(0) + 2
    );
    assert_eq!(
        app.get("/api/v1/events/event").await.expect(200).json()["title"],
        "Event"
    );
}

on_both_backends!(
    hostile_bodies_get_4xx_problems_and_change_nothing,
    hostile_paths_queries_and_headers_are_refused_cleanly,
);
