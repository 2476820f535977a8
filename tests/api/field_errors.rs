//! Every problem of a request at once, in plain words; filters that name nothing are refused.

use std::collections::BTreeMap;

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

/// Rust's and serde's wording, which no user should read.
const RUST_WORDING: [&str; 8] = [
    "expected i32",
    "invalid type",
    "invalid value",
    "unknown variant",
    "unknown field",
    "missing field",
    "deserialize",
    "`",
];

#[track_caller]
fn assert_plain(problem: &Value) {
    let text = problem.to_string();
    for rust in RUST_WORDING {
        assert!(!text.contains(rust), "{rust:?} in {problem}");
    }
}

/// The problem's errors as field → message; each field named once.
#[track_caller]
fn errors_by_field(problem: &Value) -> BTreeMap<String, String> {
    let errors = problem["errors"].as_array().cloned().unwrap_or_default();
    let by_field: BTreeMap<String, String> = errors
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["message"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        by_field.len(),
        errors.len(),
        "a field named twice: {problem}"
    );
    by_field
}

#[track_caller]
fn assert_fields(errors: &BTreeMap<String, String>, expected: &[&str]) {
    let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(fields, expected, "{errors:?}");
}

async fn a_body_with_several_problems_gets_them_all_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A bad enum value, an impossible date, a wrong type, a missing required field, an
    // unknown field and a broken rule (the slug), all in one body.
    let body = json!({
        "title": "4th IISG Board Meeting",
        "kind": "party",
        "start_date": "2019-02-30",
        "end_date": "2019-03-05",
        "series_number": "four",
        "slug": "Not A Slug",
        "location": {"citty": "Tirana", "country_code": "AL"},
    });
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    assert_plain(&problem);
    let errors = errors_by_field(&problem);
    assert_fields(
        &errors,
        &[
            "kind",
            "start_date",
            "series_number",
            "timezone",
            "location.citty",
            "slug",
        ],
    );
    assert!(
        errors["kind"].starts_with("must be one of: meeting, board_meeting, network_meeting"),
        "{errors:?}"
    );
    assert!(
        errors["start_date"].contains("not a real date"),
        "{errors:?}"
    );
    assert_eq!(errors["series_number"], "must be a whole number");
    assert!(
        errors["timezone"].starts_with("is required for an event with dates"),
        "{errors:?}"
    );
    assert!(
        errors["location.citty"].contains("did you mean city?"),
        "{errors:?}"
    );
    assert_eq!(problem["detail"], "6 fields are not valid");
    let page = app.get("/api/v1/events").await.expect(200).json();
    assert_eq!(page["items"], json!([]));
}

async fn wrong_types_are_told_in_plain_words(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({
        "title": 5,
        "kind": "meeting",
        "start_date": 20190101,
        "start_time": 930,
        "timezone": "UTC",
        "topics": ["p-cve", 7],
        "organisers": [{"organisation_id": "rcc", "role": "boss"}, "rcc"],
        "links": {"title": "Agenda"},
        "location": "Tirana",
    });
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    assert_plain(&problem);
    let errors = errors_by_field(&problem);
    assert_fields(
        &errors,
        &[
            "title",
            "start_date",
            "start_time",
            "topics[1]",
            "organisers[0].role",
            "organisers[1]",
            "links",
            "location",
        ],
    );
    assert_eq!(errors["title"], "must be a string");
    assert_eq!(errors["start_date"], "must be a date written YYYY-MM-DD");
    assert_eq!(errors["start_time"], "must be a time of day written HH:MM");
    assert_eq!(errors["topics[1]"], "must be a string");
    assert!(errors["organisers[0].role"].starts_with("must be one of: organiser, co_organiser"));
    assert_eq!(errors["organisers[1]"], "must be an object");
    assert_eq!(errors["links"], "must be a list");
    assert_eq!(errors["location"], "must be an object");
}

async fn patches_report_every_problem_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", event_body("Board meeting", "2019-04-24"))
        .await;
    let patch = json!({
        "kind": "Board_Meeting",
        "timezone": null,
        "end_date": "2019-04-23",
        "status": 3,
        "visibility": "secret",
    });
    let problem = app
        .patch("/api/v1/events/board-meeting", &patch)
        .await
        .problem(422);
    assert_plain(&problem);
    let errors = errors_by_field(&problem);
    assert_fields(
        &errors,
        &["kind", "timezone", "end_date", "status", "visibility"],
    );
    assert!(
        errors["kind"].contains("did you mean board_meeting?"),
        "{errors:?}"
    );
    assert!(
        errors["timezone"].starts_with("is required for an event with dates"),
        "{errors:?}"
    );
    assert!(
        errors["end_date"].contains("before start_date"),
        "{errors:?}"
    );
    let event = app
        .get("/api/v1/events/board-meeting")
        .await
        .expect(200)
        .json();
    assert_eq!(event["kind"], "meeting");
}

async fn every_kind_of_body_reports_every_problem(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Regional Network", "slug": "rnnc"}),
    )
    .await;
    let cases = [
        (
            "/api/v1/organisations",
            json!({"kind": "company", "country_code": 8, "website": ["x"]}),
            vec!["name", "kind", "country_code", "website"],
        ),
        (
            "/api/v1/people",
            json!({"full_name": ["A", "B"], "email": false, "organization_id": "rcc"}),
            vec!["full_name", "email", "organization_id"],
        ),
        (
            "/api/v1/networks",
            json!({"established_on": "2019-13-01", "supporter_ids": "rcc"}),
            vec!["name", "established_on", "supporter_ids"],
        ),
        (
            "/api/v1/networks/rnnc/members",
            json!({"role": "boss", "since": "yesterday", "person_id": 7}),
            vec!["role", "since", "person_id"],
        ),
        (
            "/api/v1/chains",
            json!({"max_gap_days": "one", "same_city": "yes", "event_ids": [1]}),
            vec!["title", "max_gap_days", "same_city", "event_ids[0]"],
        ),
    ];
    for (path, body, fields) in cases {
        let problem = app.post(path, &body).await.problem(422);
        assert_plain(&problem);
        assert_fields(&errors_by_field(&problem), &fields);
    }
    let tokens = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            &[("authorization", &format!("Bearer {}", app.admin))],
            Some((
                "application/json",
                json!({"role": "root", "expires_on": "2019-02-30"})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await
        .problem(422);
    assert_plain(&tokens);
    assert_fields(&errors_by_field(&tokens), &["name", "role", "expires_on"]);
    let chain_event = app
        .post(
            "/api/v1/chains/anything/events",
            &json!({"event": "rnnc-3"}),
        )
        .await
        .problem(422);
    assert_plain(&chain_event);
    let errors = errors_by_field(&chain_event);
    assert_fields(&errors, &["event", "event_id"]);
    assert!(
        errors["event"].contains("did you mean event_id?"),
        "{errors:?}"
    );
}

async fn unknown_query_parameters_name_the_closest_known_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let problem = app.get("/api/v1/events?citty=tirana").await.problem(400);
    assert_plain(&problem);
    assert_eq!(problem["errors"][0]["field"], "citty");
    let message = problem["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("did you mean city?"), "{problem}");
    assert!(
        message.contains("from, to, city, country, kind, status, topic, q"),
        "{problem}"
    );
    let problem = app.get("/api/v1/organisations?knd=ngo").await.problem(400);
    assert_plain(&problem);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("did you mean kind?"),
        "{problem}"
    );
    // Nothing close: the known ones are listed.
    let problem = app.get("/api/v1/chains?colour=red").await.problem(400);
    assert_plain(&problem);
    let message = problem["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        !message.contains("did you mean") && message.contains("q, cursor, limit"),
        "{problem}"
    );
    let problem = app.get("/api/v1/events?q=a&q=b").await.problem(400);
    assert_plain(&problem);
    assert_eq!(problem["errors"][0]["field"], "q");
    // The audit log's resource is a closed list: a misspelt one is not an empty log.
    let problem = app
        .get_as(&app.admin, "/api/v1/audit?resource=evnt")
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "resource");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or("")
            .contains("event, organisation"),
        "{problem}"
    );
}

async fn filters_naming_no_record_are_422_naming_the_parameter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Regional Cooperation Council", "slug": "rcc", "kind": "regional_organisation"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Regional Network", "slug": "rnnc"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Ana Ana", "slug": "ana"}),
    )
    .await;
    let mut meeting = event_body("3rd RNNC meeting", "2019-04-24");
    meeting["network_id"] = json!("rnnc");
    meeting["organisers"] = json!([{"organisation_id": "rcc", "role": "organiser"}]);
    meeting["participants"] = json!([{"person_id": "ana", "role": "chair"}]);
    meeting["topics"] = json!(["p-cve"]);
    app.create("/api/v1/events", meeting).await;

    for (path, parameter) in [
        ("/api/v1/events?network=nope", "network"),
        ("/api/v1/events?organisation=nope", "organisation"),
        ("/api/v1/events?person=nope", "person"),
        ("/api/v1/events?chain=nope", "chain"),
        ("/api/v1/events?network=NOT%20A%20SLUG", "network"),
        (
            "/api/v1/events?network=0190f7c0-0000-7000-8000-000000000000",
            "network",
        ),
        ("/api/v1/networks/rnnc/meetings?person=nope", "person"),
        ("/api/v1/organisations/rcc/events?network=nope", "network"),
        ("/api/v1/organisations?parent=nope", "parent"),
        ("/api/v1/people?organisation=nope", "organisation"),
    ] {
        for token in [None, Some(app.reader.as_str())] {
            let response = match token {
                None => app.get(path).await,
                Some(token) => app.get_as(token, path).await,
            };
            let problem = response.problem(422);
            assert_eq!(
                problem["errors"][0]["field"], parameter,
                "{path}: {problem}"
            );
            assert!(
                problem["detail"].as_str().unwrap_or("").contains("nope") || !path.contains("nope"),
                "{path}: {problem}"
            );
        }
    }
    // Existing records filter as before, for anyone.
    for path in [
        "/api/v1/events?network=rnnc",
        "/api/v1/events?organisation=rcc",
        "/api/v1/events?person=ana",
    ] {
        let anonymous = app.get(path).await.expect(200).json();
        assert_eq!(
            anonymous["items"].as_array().map(Vec::len),
            Some(1),
            "{path}"
        );
        let reader = app.get_as(&app.reader, path).await.expect(200).json();
        assert_eq!(reader["items"], anonymous["items"], "{path}");
    }
    // A topic is free text on events, not a record: one no event has is an empty list.
    let topic = app
        .get("/api/v1/events?topic=nope")
        .await
        .expect(200)
        .json();
    assert_eq!(topic["items"], json!([]));
}

/// A body that gives a key twice is refused naming it (where JSON parsers keep one of the two
/// silently), nested or not, spelt the same or with escapes, and writes nothing.
async fn a_key_given_twice_is_refused_naming_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .create(
            "/api/v1/organisations",
            json!({"name": "RCC", "kind": "ngo", "slug": "rcc"}),
        )
        .await;
    let mut event = event_body("Board", "2019-04-23");
    event["slug"] = json!("board");
    let event = app.create("/api/v1/events", event).await;
    let cases: [(Method, &str, &str, &str); 5] = [
        (
            Method::POST,
            "/api/v1/organisations",
            r#"{"name": "Dup", "kind": "ngo", "name": "Dup2"}"#,
            "name",
        ),
        (
            Method::POST,
            "/api/v1/organisations",
            r#"{"name": "Dup", "kind": "ngo", "n\u0061me": "Dup2"}"#,
            "name",
        ),
        (
            Method::POST,
            "/api/v1/events",
            r#"{"title": "T", "kind": "meeting", "start_date": "2019-04-23", "timezone": "Europe/Tirane",
                "organisers": [{"organisation_id": "rcc", "role": "host", "role": "organiser"}]}"#,
            "organisers[0].role",
        ),
        (
            Method::PATCH,
            "/api/v1/organisations/rcc",
            r#"{"description": "One", "description": "Two"}"#,
            "description",
        ),
        (
            Method::PATCH,
            "/api/v1/events/board",
            r#"{"location": {"city": "Sarajevo", "city": "Tirana"}}"#,
            "location.city",
        ),
    ];
    for (method, path, body, field) in cases {
        let problem = app
            .write(
                method,
                path,
                &[],
                Some(("application/json", body.as_bytes().to_vec())),
            )
            .await
            .problem(422);
        let errors = errors_by_field(&problem);
        assert_eq!(
            errors.get(field).map(String::as_str),
            Some("is given more than once"),
            "{body}: {problem}"
        );
    }
    let listed = app.get("/api/v1/organisations").await.expect(200).json();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let board = app.get("/api/v1/events/board").await.json();
    assert_eq!(board, event, "unchanged");
    let events = app.get("/api/v1/events").await.json();
    assert_eq!(
        events["items"].as_array().map(Vec::len),
        Some(1),
        "{events}"
    );
    let rcc = app.get("/api/v1/organisations/rcc").await.json();
    assert_eq!(rcc["version"], created["version"]);
}

/// A name of characters that show nothing (zero-width spaces, a byte-order mark, direction
/// marks) is as blank as one of spaces: refused naming the field, never stored as `untitled`.
async fn a_name_that_shows_nothing_is_blank(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["\u{200b}\u{200b}", " \u{feff} ", "\u{200e}\u{2060}"] {
        let problem = app
            .post(
                "/api/v1/organisations",
                &json!({"name": name, "kind": "ngo"}),
            )
            .await
            .problem(422);
        assert_eq!(
            errors_by_field(&problem).get("name").map(String::as_str),
            Some("must not be empty"),
            "{name:?}: {problem}"
        );
    }
    let listed = app.get("/api/v1/organisations").await.expect(200).json();
    assert_eq!(listed["items"], json!([]));
    // Visible text around them is kept as written.
    let kept = app
        .create(
            "/api/v1/organisations",
            json!({"name": "RCC\u{200b}", "kind": "ngo"}),
        )
        .await;
    assert_eq!(kept["name"], "RCC\u{200b}");
}

on_both_backends!(
    a_name_that_shows_nothing_is_blank,
    a_key_given_twice_is_refused_naming_it,
    a_body_with_several_problems_gets_them_all_at_once,
    wrong_types_are_told_in_plain_words,
    patches_report_every_problem_too,
    every_kind_of_body_reports_every_problem,
    unknown_query_parameters_name_the_closest_known_one,
    filters_naming_no_record_are_422_naming_the_parameter,
);
