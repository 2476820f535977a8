//! Network cadence: how often a network means to meet, its last and next meeting, and whether
//! it is overdue, as of the server's day (a clock the test sets and moves).

use chrono::{DateTime, NaiveDate, Utc};
use meeting_registry::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
use crate::on_both_backends;

/// Noon (UTC) of `day`.
pub(crate) fn noon(day: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .expect("a day")
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc()
}

/// A server whose clock stands at noon (UTC) of `day`, and that clock, to move.
pub(crate) async fn app_on(backend: Backend, day: &str) -> (TestApp, Clock) {
    let clock = Clock::set_at(noon(day));
    let set = clock.clone();
    let app = TestApp::spawn_with(backend, move |s| s.clock = set).await;
    (app, clock)
}

/// The WBCTi partners, who agreed to meet twice a year.
async fn wbcti(app: &TestApp) -> Value {
    app.create(
        "/api/v1/networks",
        json!({
            "name": "WBCTi", "slug": "wbcti",
            "cadence": {"every_months": 6, "note": "twice per year or more often"},
        }),
    )
    .await
}

/// A meeting of `network` on `day`, with `extra` fields.
async fn meeting(app: &TestApp, network: &str, slug: &str, day: &str, extra: Value) -> Value {
    let mut body = event_body(slug, day);
    body["slug"] = json!(slug);
    body["network_id"] = json!(network);
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.create("/api/v1/events", body).await
}

async fn a_network_shows_its_last_and_next_meeting_and_due_day(backend: Backend) {
    let (app, _clock) = app_on(backend, "2018-02-10").await;
    let created = wbcti(&app).await;
    assert_eq!(
        created["cadence"],
        json!({"every_months": 6, "note": "twice per year or more often"})
    );
    meeting(&app, "wbcti", "wbcti-1", "2017-09-14", json!({})).await;
    // None of these is a meeting held: internal (for the public), cancelled, postponed, undated.
    meeting(
        &app,
        "wbcti",
        "wbcti-internal",
        "2018-01-20",
        json!({"visibility": "internal"}),
    )
    .await;
    meeting(
        &app,
        "wbcti",
        "wbcti-cancelled",
        "2018-02-01",
        json!({"status": "cancelled"}),
    )
    .await;
    meeting(
        &app,
        "wbcti",
        "wbcti-postponed",
        "2018-02-02",
        json!({"status": "postponed"}),
    )
    .await;
    app.create(
        "/api/v1/events",
        json!({"title": "WBCTi, date to come", "slug": "wbcti-undated", "kind": "meeting",
               "status": "tentative", "network_id": "wbcti"}),
    )
    .await;
    meeting(&app, "wbcti", "wbcti-2", "2018-04-05", json!({})).await;
    meeting(&app, "wbcti", "wbcti-3", "2018-10-05", json!({})).await;

    let public = app.get("/api/v1/networks/wbcti").await.expect(200).json();
    assert_eq!(public["last_meeting"]["slug"], "wbcti-1", "{public}");
    assert_eq!(public["last_meeting"]["start_date"], "2017-09-14");
    assert_eq!(public["last_meeting"]["title"], "wbcti-1");
    assert_eq!(public["next_meeting"]["slug"], "wbcti-2");
    assert_eq!(public["due_by"], "2018-03-14");
    assert_eq!(public["overdue"], false);

    // A reader also counts the internal meeting: the public never learns of it.
    let reader = app
        .get_as(&app.reader, "/api/v1/networks/wbcti")
        .await
        .expect(200)
        .json();
    assert_eq!(reader["last_meeting"]["slug"], "wbcti-internal");
    assert_eq!(reader["due_by"], "2018-07-20");
    let listed = app.get("/api/v1/networks").await.expect(200).json();
    assert_eq!(listed["items"][0]["last_meeting"]["slug"], "wbcti-1");

    // Without a cadence there is nothing to be overdue against; the meetings still show.
    let cleared = app
        .patch("/api/v1/networks/wbcti", &json!({"cadence": null}))
        .await
        .expect(200)
        .json();
    assert_eq!(cleared["cadence"], Value::Null);
    let public = app.get("/api/v1/networks/wbcti").await.expect(200).json();
    assert_eq!(public["overdue"], Value::Null);
    assert_eq!(public["due_by"], Value::Null);
    assert_eq!(public["last_meeting"]["slug"], "wbcti-1");
}

async fn a_cached_network_turns_overdue_when_its_day_passes(backend: Backend) {
    let (app, clock) = app_on(backend, "2018-03-14").await;
    wbcti(&app).await;
    meeting(&app, "wbcti", "wbcti-1", "2017-09-14", json!({})).await;
    let on_the_day = app.get("/api/v1/networks/wbcti").await.expect(200);
    let etag = on_the_day.header("etag").expect("an ETag");
    assert_eq!(on_the_day.json()["overdue"], false);
    // Read again on the same day with no write between: the cached answer, unchanged.
    let again = app
        .request(
            awc::http::Method::GET,
            "/api/v1/networks/wbcti",
            &[("if-none-match", &etag)],
            None,
        )
        .await;
    again.expect(304);
    // The lists, read twice on the day so the second answer is a kept page.
    for _ in 0..2 {
        let overdue = app
            .get("/api/v1/networks?overdue=true")
            .await
            .expect(200)
            .json();
        assert_eq!(item_fields(&overdue, "slug"), Vec::<String>::new());
        let every = app.get("/api/v1/networks").await.expect(200).json();
        assert_eq!(every["items"][0]["overdue"], false, "{every}");
    }

    clock.set(noon("2018-03-15"));
    let next_day = app
        .request(
            awc::http::Method::GET,
            "/api/v1/networks/wbcti",
            &[("if-none-match", &etag)],
            None,
        )
        .await
        .expect(200);
    assert_ne!(next_day.header("etag"), Some(etag));
    let body = next_day.json();
    assert_eq!(body["overdue"], true, "{body}");
    assert_eq!(body["due_by"], "2018-03-14");
    let overdue = app
        .get("/api/v1/networks?overdue=true")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&overdue, "slug"), ["wbcti"]);
    let every = app.get("/api/v1/networks").await.expect(200).json();
    assert_eq!(every["items"][0]["overdue"], true, "{every}");

    // A meeting held brings it back within its cadence.
    meeting(&app, "wbcti", "wbcti-2", "2018-03-15", json!({})).await;
    let body = app.get("/api/v1/networks/wbcti").await.expect(200).json();
    assert_eq!(body["overdue"], false);
    assert_eq!(body["due_by"], "2018-09-15");
}

async fn the_list_filters_overdue_networks(backend: Backend) {
    let (app, _clock) = app_on(backend, "2019-06-01").await;
    let every = |months: i32| json!({"every_months": months});
    app.create(
        "/api/v1/networks",
        json!({"name": "IISG Board", "slug": "iisg-board", "cadence": every(6)}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "NFP Group", "slug": "nfp-group", "cadence": every(12)}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "RNNC", "slug": "rnnc", "established_on": "2018-06-01", "cadence": every(6)}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "No cadence", "slug": "no-cadence"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Never met", "slug": "never-met", "cadence": every(3)}),
    )
    .await;
    meeting(&app, "iisg-board", "iisg-board-3", "2018-09-08", json!({})).await;
    meeting(&app, "nfp-group", "nfp-group-7", "2019-04-23", json!({})).await;
    meeting(&app, "no-cadence", "old", "2001-01-01", json!({})).await;

    let slugs = |query: &'static str| {
        let app = &app;
        async move {
            let page = app
                .get(&format!("/api/v1/networks?{query}"))
                .await
                .expect(200)
                .json();
            item_fields(&page, "slug")
        }
    };
    // RNNC, established 2018-06-01 with no meeting since: due 2018-12-01.
    assert_eq!(slugs("overdue=true").await, ["iisg-board", "rnnc"]);
    assert_eq!(slugs("overdue=false").await, ["nfp-group"]);
    assert_eq!(slugs("overdue=true&q=rnnc").await, ["rnnc"]);
    assert_eq!(slugs("").await.len(), 5);
    let first = app
        .get("/api/v1/networks?overdue=true&limit=1")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&first, "slug"), ["iisg-board"]);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get(&format!(
            "/api/v1/networks?overdue=true&limit=1&cursor={cursor}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&second, "slug"), ["rnnc"]);
    assert_eq!(second["next_cursor"], Value::Null);

    let never = app
        .get("/api/v1/networks/never-met")
        .await
        .expect(200)
        .json();
    assert_eq!(
        never["overdue"],
        Value::Null,
        "no date to count from: {never}"
    );
    assert_eq!(never["last_meeting"], Value::Null);
    let problem = app.get("/api/v1/networks?overdue=yes").await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "overdue");
}

async fn a_bad_cadence_is_refused_naming_its_field(backend: Backend) {
    let (app, _clock) = app_on(backend, "2019-06-01").await;
    for (cadence, field) in [
        (json!({"every_months": 0}), "cadence.every_months"),
        (json!({"every_months": 121}), "cadence.every_months"),
        (json!({"every_months": "six"}), "cadence.every_months"),
        (json!({"every_months": 2.5}), "cadence.every_months"),
        (json!({"note": "twice a year"}), "cadence.every_months"),
        (json!({"every_months": 6, "times": 2}), "cadence.times"),
        (
            json!({"every_months": 6, "note": "x".repeat(301)}),
            "cadence.note",
        ),
        (
            json!({"every_months": 6, "note": "a\u{7}b"}),
            "cadence.note",
        ),
        (json!("twice a year"), "cadence"),
    ] {
        let problem = app
            .post(
                "/api/v1/networks",
                &json!({"name": "WBCTi", "cadence": cadence}),
            )
            .await
            .problem(422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "{cadence}: {problem}");
    }
    wbcti(&app).await;
    let changed = app
        .patch(
            "/api/v1/networks/wbcti",
            &json!({"cadence": {"every_months": 4}}),
        )
        .await
        .expect(200)
        .json();
    // A merge patch merges into the cadence: the note stays.
    assert_eq!(
        changed["cadence"],
        json!({"every_months": 4, "note": "twice per year or more often"})
    );
    app.patch(
        "/api/v1/networks/wbcti",
        &json!({"cadence": {"every_months": -1}}),
    )
    .await
    .problem(422);
}

/// The demo data: the WBCTi partners agreed in September 2017 to meet twice a year, and the
/// page records no meeting after that one.
async fn the_demo_wbcti_is_overdue_since_march_2018(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    let db = meeting_registry::db::Database::connect(&app.database_url, 1).expect("connect");
    meeting_registry::bulk::import_file(&db, demo, Default::default()).expect("imports");
    let wbcti = app.get("/api/v1/networks/wbcti").await.expect(200).json();
    assert_eq!(
        wbcti["cadence"],
        json!({"every_months": 6, "note": "twice per year or more often"})
    );
    assert_eq!(wbcti["last_meeting"]["slug"], "wbcti-coordination-1");
    assert_eq!(wbcti["due_by"], "2018-03-14");
    assert_eq!(wbcti["overdue"], true);
    let overdue = app
        .get("/api/v1/networks?overdue=true")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&overdue, "slug"), ["wbcti"]);
}

on_both_backends!(
    the_demo_wbcti_is_overdue_since_march_2018,
    a_network_shows_its_last_and_next_meeting_and_due_day,
    a_cached_network_turns_overdue_when_its_day_passes,
    the_list_filters_overdue_networks,
    a_bad_cadence_is_refused_naming_its_field,
);
