//! Back-to-back chains, their rules on every write, and scheduling conflicts.

use serde_json::{Value, json};

use crate::cadence::{app_on, noon};
use crate::helpers::{Backend, TestApp, TestResponse, event_body};
use crate::on_both_backends;

/// The Tirana chain of April 2019, by slug.
async fn tirana(app: &TestApp) -> Value {
    for (slug, date) in [
        ("nfp-group-7", "2019-04-23"),
        ("rnnc-3", "2019-04-24"),
        ("coordination-albania-1", "2019-04-25"),
    ] {
        let mut body = event_body(slug, date);
        body["slug"] = json!(slug);
        app.create("/api/v1/events", body).await;
    }
    app.create(
        "/api/v1/chains",
        json!({
            "title": "Tirana, April 2019",
            // Out of order on purpose: members are placed by start.
            "event_ids": ["rnnc-3", "coordination-albania-1", "nfp-group-7"]
        }),
    )
    .await
}

fn member_slugs(chain: &Value) -> Vec<String> {
    chain["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|m| m["slug"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn snapshot(app: &TestApp) -> (Value, Value) {
    (
        app.get("/api/v1/chains/tirana-april-2019")
            .await
            .expect(200)
            .json(),
        app.get("/api/v1/events?limit=200").await.expect(200).json(),
    )
}

async fn a_chain_orders_its_events_by_start(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let chain = tirana(&app).await;
    assert_eq!(chain["slug"], "tirana-april-2019");
    assert_eq!(chain["max_gap_days"], 1);
    assert_eq!(chain["same_city"], true);
    assert_eq!(
        member_slugs(&chain),
        ["nfp-group-7", "rnnc-3", "coordination-albania-1"]
    );
    assert_eq!(chain["events"][1]["city"], "Tirana");
    let rnnc = app.get("/api/v1/events/rnnc-3").await.expect(200).json();
    assert_eq!(rnnc["chain"]["position"], 2);
    assert_eq!(rnnc["chain"]["chain_id"], chain["id"]);
    assert_eq!(rnnc["chain"]["previous_event_id"], chain["events"][0]["id"]);
    assert_eq!(rnnc["chain"]["next_event_id"], chain["events"][2]["id"]);
    let filtered = app
        .get("/api/v1/events?chain=tirana-april-2019&sort=-start")
        .await
        .expect(200)
        .json();
    let titles: Vec<&str> = filtered["items"]
        .as_array()
        .map(|i| i.iter().filter_map(|e| e["slug"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, ["coordination-albania-1", "rnnc-3", "nfp-group-7"]);
}

async fn chain_writes_that_break_a_rule_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    tirana(&app).await;
    let mut far = event_body("far", "2019-04-28");
    far["slug"] = json!("far");
    app.create("/api/v1/events", far).await;
    let mut skopje = event_body("skopje", "2019-04-26");
    skopje["slug"] = json!("skopje");
    skopje["location"] = json!({"city": "Skopje", "country_code": "MK"});
    skopje["timezone"] = json!("Europe/Skopje");
    app.create("/api/v1/events", skopje).await;
    let mut overlapping = event_body("overlapping", "2019-04-24");
    overlapping["slug"] = json!("overlapping");
    overlapping["start_time"] = json!("15:00");
    app.create("/api/v1/events", overlapping).await;
    let before = snapshot(&app).await;

    for (event, rule) in [
        ("far", "chain_max_gap"),
        ("skopje", "chain_same_city"),
        ("overlapping", "chain_no_overlap"),
    ] {
        let problem = app
            .post(
                "/api/v1/chains/tirana-april-2019/events",
                &json!({"event_id": event}),
            )
            .await
            .problem(409);
        assert_eq!(problem["violations"][0]["rule"], rule, "{problem}");
        assert!(
            problem["violations"][0]["records"]
                .as_array()
                .is_some_and(|records| records
                    .iter()
                    .any(|r| r["resource"] == "chain" && r["slug"] == "tirana-april-2019")),
            "{problem}"
        );
        assert!(
            problem["violations"][0]["event_ids"]
                .as_array()
                .is_some_and(|ids| ids.len() >= 2)
        );
        assert_eq!(snapshot(&app).await, before);
    }
    // An event already in the chain is left as it is: the chain as it was, nothing written.
    let etag = app
        .get("/api/v1/chains/tirana-april-2019")
        .await
        .header("etag");
    let again = app
        .post(
            "/api/v1/chains/tirana-april-2019/events",
            &json!({"event_id": "rnnc-3"}),
        )
        .await
        .expect(200);
    assert_eq!(again.header("etag"), etag);
    assert_eq!(snapshot(&app).await, before);
    // Replacing the list is checked the same way.
    app.patch(
        "/api/v1/chains/tirana-april-2019",
        &json!({"event_ids": ["nfp-group-7", "far"]}),
    )
    .await
    .problem(409);
    // Tightening the rules is checked against the members.
    app.patch(
        "/api/v1/chains/tirana-april-2019",
        &json!({"max_gap_days": 0, "event_ids": ["nfp-group-7", "coordination-albania-1"]}),
    )
    .await
    .problem(409);
    assert_eq!(snapshot(&app).await, before);
    // An event is in at most one chain.
    let problem = app
        .post(
            "/api/v1/chains",
            &json!({"title": "Second", "event_ids": ["rnnc-3"]}),
        )
        .await
        .problem(409);
    assert_eq!(problem["violations"][0]["rule"], "chain_single");
    assert_eq!(snapshot(&app).await, before);
    let chains = app.get("/api/v1/chains").await.expect(200).json();
    assert_eq!(chains["items"].as_array().map(Vec::len), Some(1));
}

async fn event_patches_that_break_the_chain_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    tirana(&app).await;
    let before = snapshot(&app).await;
    for patch in [
        json!({"location": {"city": "Skopje", "country_code": "MK"}}),
        json!({"start_date": "2019-05-24", "end_date": "2019-05-24"}),
        json!({"end_date": "2019-04-25"}),
        json!({"timezone": "America/New_York"}),
    ] {
        let problem = app
            .patch("/api/v1/events/rnnc-3", &patch)
            .await
            .problem(409);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or("")
                .contains("tirana-april-2019"),
            "{problem}"
        );
        assert_eq!(snapshot(&app).await, before, "{patch}");
    }
    // A change within the rules is fine, and a cancelled event stays, flagged.
    app.patch(
        "/api/v1/events/rnnc-3",
        &json!({"start_time": "10:00", "end_time": "16:00"}),
    )
    .await
    .expect(200);
    app.patch("/api/v1/events/rnnc-3", &json!({"status": "cancelled"}))
        .await
        .expect(200);
    let chain = app
        .get("/api/v1/chains/tirana-april-2019")
        .await
        .expect(200)
        .json();
    assert_eq!(chain["has_cancelled_events"], true);
    assert_eq!(chain["events"][1]["cancelled"], true);
}

async fn times_count_in_each_events_own_zone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut first = event_body("Board", "2019-11-18");
    first["slug"] = json!("board");
    first["timezone"] = json!("Europe/Skopje");
    first["location"] = json!({"city": "Skopje", "country_code": "MK"});
    first["start_time"] = json!("14:00");
    first["end_time"] = json!("18:00");
    app.create("/api/v1/events", first).await;
    let mut second = first_day_after();
    second["start_time"] = json!("09:00");
    app.create("/api/v1/events", second).await;
    // 18:00 to 09:00 the next day is 15 hours: within one day, outside zero days.
    app.post(
        "/api/v1/chains",
        &json!({"title": "Strict", "max_gap_days": 0, "event_ids": ["board", "forum"]}),
    )
    .await
    .problem(409);
    let chain = app
        .create(
            "/api/v1/chains",
            json!({"title": "Skopje", "event_ids": ["board", "forum"]}),
        )
        .await;
    assert_eq!(member_slugs(&chain), ["board", "forum"]);
    // Removing keeps both events; deleting the chain too.
    app.delete("/api/v1/chains/skopje/events/forum")
        .await
        .expect(204);
    assert_eq!(
        member_slugs(&app.get("/api/v1/chains/skopje").await.json()),
        ["board"]
    );
    app.delete("/api/v1/chains/skopje/events/forum")
        .await
        .problem(404);
    app.delete("/api/v1/chains/skopje").await.expect(204);
    assert_eq!(
        app.get("/api/v1/events/board").await.expect(200).json()["chain"],
        Value::Null
    );

    fn first_day_after() -> Value {
        let mut body = event_body("Forum", "2019-11-19");
        body["slug"] = json!("forum");
        body["timezone"] = json!("Europe/Skopje");
        body["location"] = json!({"city": "Skopje", "country_code": "MK"});
        body
    }
}

async fn events_in_a_chain_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    tirana(&app).await;
    let problem = app.delete("/api/v1/events/rnnc-3").await.problem(409);
    assert_eq!(problem["violations"][0]["rule"], "still_referenced");
    app.get("/api/v1/events/rnnc-3").await.expect(200);
}

async fn conflicts_name_the_shared_person_or_venue(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "slug": "popowski"}),
    )
    .await;
    let mut skopje = event_body("Board in Skopje", "2019-11-18");
    skopje["timezone"] = json!("Europe/Skopje");
    skopje["location"] =
        json!({"city": "Skopje", "country_code": "MK", "venue": "Government Hall"});
    skopje["participants"] = json!([{"person_id": "popowski", "role": "chair"}]);
    let first = app.post("/api/v1/events", &skopje).await.expect(201).json();
    assert!(first.get("warnings").is_none());
    let mut brussels = event_body("Meeting in Brussels", "2019-11-18");
    brussels["timezone"] = json!("Europe/Brussels");
    brussels["location"] = json!({"city": "Brussels", "country_code": "BE"});
    brussels["participants"] = json!([{"person_id": "popowski", "role": "speaker"}]);
    let response = app.post("/api/v1/events", &brussels).await.expect(201);
    let second = response.json();
    assert_eq!(second["warnings"][0]["kind"], "person");
    assert_eq!(second["warnings"][0]["person"]["slug"], "popowski");
    // The ETag is that of the event as GET returns it.
    let fetched = app
        .get(&response.header("location").unwrap_or_default())
        .await;
    assert_eq!(fetched.header("etag"), response.header("etag"));
    assert!(fetched.json().get("warnings").is_none());

    let mut same_hall = event_body("Other meeting", "2019-11-18");
    same_hall["timezone"] = json!("Europe/Skopje");
    same_hall["location"] =
        json!({"city": "skopje", "country_code": "MK", "venue": "government hall"});
    let third = app.create("/api/v1/events", same_hall).await;
    assert_eq!(third["warnings"][0]["kind"], "venue");

    let conflicts = app
        .get("/api/v1/conflicts?from=2019-11-01&to=2019-11-30")
        .await
        .expect(200)
        .json();
    let kinds: Vec<&str> = conflicts["items"]
        .as_array()
        .map(|i| i.iter().filter_map(|c| c["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds.len(), 2, "{conflicts}");
    assert!(kinds.contains(&"person") && kinds.contains(&"venue"));
    let none = app
        .get("/api/v1/conflicts?from=2019-12-01&to=2019-12-31")
        .await
        .expect(200)
        .json();
    assert_eq!(none["items"], json!([]));
    app.get("/api/v1/conflicts?from=2019-01-01&to=2021-01-01")
        .await
        .problem(400);
    // A cancelled event no longer conflicts.
    app.patch(
        &format!("/api/v1/events/{}", second["slug"].as_str().unwrap_or("")),
        &json!({"status": "cancelled"}),
    )
    .await
    .expect(200);
    let after = app
        .get("/api/v1/conflicts?from=2019-11-01&to=2019-11-30")
        .await
        .expect(200)
        .json();
    assert_eq!(after["items"].as_array().map(Vec::len), Some(1));

    // On the window's last day late in Honolulu: the next day in UTC, still in the window.
    for title in ["Late call", "Later call"] {
        let mut late = event_body(title, "2019-12-31");
        late["timezone"] = json!("Pacific/Honolulu");
        late["start_time"] = json!("22:00");
        late["end_time"] = json!("23:30");
        late["participants"] = json!([{"person_id": "popowski", "role": "chair"}]);
        app.create("/api/v1/events", late).await;
    }
    let late = app
        .get("/api/v1/conflicts?from=2019-12-31&to=2019-12-31")
        .await
        .expect(200)
        .json();
    assert_eq!(late["items"][0]["kind"], "person", "{late}");
    assert_eq!(late["items"].as_array().map(Vec::len), Some(1), "{late}");
}

/// Without `from`, the conflicts are those from the server's day on: the list follows the day
/// even when nothing is written and its page was kept.
async fn conflicts_from_today_follow_the_day(backend: Backend) {
    let (app, clock) = app_on(backend, "2019-11-17").await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "slug": "popowski"}),
    )
    .await;
    for title in ["Board in Tirana", "Call from Tirana"] {
        let mut body = event_body(title, "2019-11-18");
        body["participants"] = json!([{"person_id": "popowski", "role": "chair"}]);
        app.create("/api/v1/events", body).await;
    }
    for _ in 0..2 {
        let page = app.get("/api/v1/conflicts").await.expect(200).json();
        assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    }
    clock.set(noon("2019-11-19"));
    let page = app.get("/api/v1/conflicts").await.expect(200).json();
    assert_eq!(page["items"], json!([]), "the day has passed: {page}");
}

async fn write_warnings_are_capped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Busy Chair", "slug": "busy"}),
    )
    .await;
    let mut last = Value::Null;
    for i in 0..22 {
        let mut body = event_body(&format!("Parallel session {i}"), "2019-11-18");
        body["participants"] = json!([{"person_id": "busy", "role": "chair"}]);
        last = app.create("/api/v1/events", body).await;
    }
    assert_eq!(last["warnings"].as_array().map(Vec::len), Some(20));
    let all = app
        .get("/api/v1/conflicts?from=2019-11-18&to=2019-11-18")
        .await
        .expect(200)
        .json();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(22 * 21 / 2));
}

/// The warnings are the first 20 conflicts in start order even when many overlapping events
/// are left out (cancelled) and more than 20 are left: a write reads the other events' rows a
/// few at a time, in start order, until it has enough.
async fn write_warnings_are_the_earliest_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Busy Chair", "slug": "busy"}),
    )
    .await;
    let mut slugs = Vec::new();
    for i in 0..40 {
        let mut body = event_body(&format!("Session {i:02}"), "2019-11-18");
        body["start_time"] = json!(format!("{:02}:{:02}", 8 + i / 6, (i % 6) * 10));
        body["end_time"] = json!("23:00");
        body["participants"] = json!([{"person_id": "busy", "role": "chair"}]);
        slugs.push(
            app.create("/api/v1/events", body).await["slug"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Sessions 1 to 16 are called off: of the earliest 32, only 16 still conflict with the
    // last one, and 23 in all.
    for slug in &slugs[1..17] {
        app.patch(
            &format!("/api/v1/events/{slug}"),
            &json!({"status": "cancelled"}),
        )
        .await
        .expect(200);
    }
    let last = app
        .patch(
            &format!("/api/v1/events/{}", slugs[39]),
            &json!({"description": "The last session."}),
        )
        .await
        .expect(200)
        .json();
    let named: Vec<String> = last["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["events"][0]["slug"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = std::iter::once(&slugs[0])
        .chain(&slugs[17..39])
        .take(20)
        .cloned()
        .collect();
    assert_eq!(named, expected, "{last}");
    // The same 20, in the same order, as the conflicts list has them.
    let all = app
        .get("/api/v1/conflicts?from=2019-11-18&to=2019-11-18")
        .await
        .expect(200)
        .json();
    let involving: Vec<&Value> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["events"][1]["slug"] == slugs[39].as_str())
        .take(20)
        .collect();
    assert_eq!(involving.len(), 20, "{all}");
    for (warning, listed) in last["warnings"].as_array().unwrap().iter().zip(&involving) {
        assert_eq!(warning["events"], listed["events"]);
    }
}

/// In a busy city, the event at the same venue is found however many others overlap: a write
/// once looked at the first 20 overlapping events of the city only.
async fn venue_warnings_look_past_a_busy_city(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let at = |title: &str, date: &str, end: &str, venue: &str| {
        let mut body = event_body(title, date);
        body["end_date"] = json!(end);
        body["timezone"] = json!("Europe/Skopje");
        body["location"] = json!({"city": "Skopje", "country_code": "MK", "venue": venue});
        body
    };
    for i in 0..22 {
        let body = at(
            &format!("Workshop {i}"),
            "2019-11-17",
            "2019-11-18",
            &format!("Room {i}"),
        );
        app.create("/api/v1/events", body).await;
    }
    let hall = app
        .create(
            "/api/v1/events",
            at("Board", "2019-11-18", "2019-11-18", "Government Hall"),
        )
        .await;
    let cancelled = app
        .create(
            "/api/v1/events",
            at("Called off", "2019-11-18", "2019-11-18", "Government Hall"),
        )
        .await;
    app.patch(
        &format!(
            "/api/v1/events/{}",
            cancelled["slug"].as_str().unwrap_or("")
        ),
        &json!({"status": "cancelled"}),
    )
    .await
    .expect(200);
    let later = app
        .create(
            "/api/v1/events",
            at("Press day", "2019-11-18", "2019-11-18", "government  hall"),
        )
        .await;
    let warnings = later["warnings"].as_array().cloned().unwrap_or_default();
    assert_eq!(warnings.len(), 1, "{later}");
    assert_eq!(warnings[0]["kind"], "venue");
    assert_eq!(warnings[0]["event_ids"][0], hall["id"], "{later}");
    assert_eq!(warnings[0]["event_ids"][1], later["id"], "{later}");
    // Another venue in the same city, the same days: no warning.
    let elsewhere = app
        .create(
            "/api/v1/events",
            at("Elsewhere", "2019-11-18", "2019-11-18", "Room 40"),
        )
        .await;
    assert!(elsewhere.get("warnings").is_none(), "{elsewhere}");
}

/// Two writers move the two events of a chain at once, each move fine alone, together
/// breaking the gap rule: exactly one must be refused, whatever the interleaving.
async fn concurrent_event_writes_cannot_break_a_chain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (slug, date) in [("a", "2019-04-23"), ("b", "2019-04-24")] {
        let mut body = event_body(slug, date);
        body["slug"] = json!(slug);
        app.create("/api/v1/events", body).await;
    }
    app.create(
        "/api/v1/chains",
        json!({"title": "Race", "event_ids": ["a", "b"]}),
    )
    .await;
    let day = |date: &str| json!({"start_date": date, "end_date": date});
    for round in 0..5 {
        app.patch("/api/v1/events/a", &day("2019-04-23"))
            .await
            .expect(200);
        app.patch("/api/v1/events/b", &day("2019-04-24"))
            .await
            .expect(200);
        // a a day earlier, or b a day later, each leaves a gap of one day; both leave two.
        let (first, second) = futures_util::future::join(
            app.patch("/api/v1/events/a", &day("2019-04-22")),
            app.patch("/api/v1/events/b", &day("2019-04-25")),
        )
        .await;
        let mut statuses = [first.status.as_u16(), second.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
        let chain = app.get("/api/v1/chains/race").await.expect(200).json();
        let gap = |chain: &Value| -> Option<i64> {
            let end: chrono::DateTime<chrono::Utc> =
                chain["events"][0]["ends_at"].as_str()?.parse().ok()?;
            let start: chrono::DateTime<chrono::Utc> =
                chain["events"][1]["starts_at"].as_str()?.parse().ok()?;
            Some((start - end).num_hours())
        };
        assert_eq!(gap(&chain), Some(24), "round {round}: {chain}");
    }
}

/// A write's response is the event exactly as a later GET returns it, with `warnings` added as
/// its last member, under the GET's ETag: for a create, a create with an `Idempotency-Key`
/// (whose warnings are stored with it) and a patch.
async fn write_responses_add_warnings_to_the_representation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "slug": "popowski"}),
    )
    .await;
    let with_chair = |title: &str| {
        let mut body = event_body(title, "2019-11-18");
        body["participants"] = json!([{"person_id": "popowski", "role": "chair"}]);
        body
    };
    app.create("/api/v1/events", with_chair("First")).await;
    let editor = app.editor_auth();
    let keyed = app
        .request(
            awc::http::Method::POST,
            "/api/v1/events",
            &[("authorization", &editor), ("idempotency-key", "warned")],
            Some((
                "application/json",
                with_chair("Keyed").to_string().into_bytes(),
            )),
        )
        .await
        .expect(201);
    let plain = app
        .post("/api/v1/events", &with_chair("Plain"))
        .await
        .expect(201);
    let location = plain.header("location").unwrap_or_default();
    let adds_warnings = |written: &TestResponse, fetched: TestResponse| {
        let fetched = fetched.expect(200);
        assert_eq!(written.header("etag"), fetched.header("etag"));
        let body = String::from_utf8_lossy(&written.body);
        let alone = String::from_utf8_lossy(&fetched.body);
        let warnings = body
            .strip_prefix(alone.trim_end_matches('}'))
            .unwrap_or_else(|| panic!("{body} does not start with {alone}"));
        assert!(
            warnings.starts_with(",\"warnings\":[{\"kind\":\"person\""),
            "{body}"
        );
        assert!(warnings.ends_with("]}"), "{body}");
    };
    adds_warnings(&plain, app.get(&location).await);
    let keyed_location = keyed.header("location").unwrap_or_default();
    adds_warnings(&keyed, app.get(&keyed_location).await);
    let patched = app
        .patch(&location, &json!({"title": "Patched"}))
        .await
        .expect(200);
    adds_warnings(&patched, app.get(&location).await);
}

on_both_backends!(
    write_responses_add_warnings_to_the_representation,
    a_chain_orders_its_events_by_start,
    chain_writes_that_break_a_rule_change_nothing,
    event_patches_that_break_the_chain_are_refused,
    times_count_in_each_events_own_zone,
    events_in_a_chain_cannot_be_deleted,
    conflicts_name_the_shared_person_or_venue,
    conflicts_from_today_follow_the_day,
    concurrent_event_writes_cannot_break_a_chain,
    write_warnings_are_capped,
    write_warnings_are_the_earliest_conflicts,
    venue_warnings_look_past_a_busy_city,
);
