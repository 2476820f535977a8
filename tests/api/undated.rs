//! Events whose dates are not known yet: tentative, postponed or cancelled, with every date,
//! time and instant empty; where lists, filters, conflicts, chains and series put them.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
use crate::on_both_backends;

/// The Home Affairs session of the 2019 Ministerial Forum, as the seed gives it: no date, no
/// city.
fn home_affairs() -> Value {
    json!({
        "title": "Home Affairs session, EU-Western Balkans Ministerial Forum 2019",
        "slug": "home-affairs-2019",
        "kind": "meeting",
        "status": "tentative",
    })
}

async fn titles(app: &TestApp, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("/api/v1/events?{query}"))
        .await
        .expect(200)
        .json();
    item_fields(&page, "slug")
}

async fn an_event_without_dates_shows_them_empty(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create("/api/v1/events", home_affairs()).await;
    for field in [
        "start_date",
        "end_date",
        "start_time",
        "end_time",
        "starts_at",
        "ends_at",
        "timezone",
    ] {
        assert_eq!(created[field], Value::Null, "{field}: {created}");
    }
    assert_eq!(created["status"], "tentative");
    assert_eq!(created["location"]["city"], Value::Null);
    let fetched = app
        .get("/api/v1/events/home-affairs-2019")
        .await
        .expect(200)
        .json();
    assert_eq!(fetched, created);

    // A time zone may be known before the day is.
    let mut zoned = home_affairs();
    zoned["slug"] = json!("zoned");
    zoned["timezone"] = json!("Europe/Brussels");
    let zoned = app.create("/api/v1/events", zoned).await;
    assert_eq!(zoned["timezone"], "Europe/Brussels");
    assert_eq!(zoned["start_date"], Value::Null);
}

async fn dates_are_left_out_only_when_the_status_says_so(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut scheduled = home_affairs();
    scheduled["status"] = json!("scheduled");
    let problem = app.post("/api/v1/events", &scheduled).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "start_date", "{problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.contains("tentative"), "{problem}");

    let mut half = home_affairs();
    half["end_date"] = json!("2019-11-19");
    half["start_time"] = json!("09:00");
    let problem = app.post("/api/v1/events", &half).await.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["end_date", "start_time"], "{problem}");

    let mut no_zone = event_body("Dated but zoneless", "2019-11-19");
    no_zone["timezone"] = Value::Null;
    let problem = app.post("/api/v1/events", &no_zone).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "timezone", "{problem}");
    assert_eq!(titles(&app, "").await, Vec::<String>::new());
}

async fn lists_put_undated_events_after_dated_ones_and_out_of_date_windows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "slug": "popowski"}),
    )
    .await;
    let chaired = json!([{"person_id": "popowski", "role": "chair"}]);
    let mut session = home_affairs();
    session["participants"] = chaired.clone();
    session["topics"] = json!(["home affairs"]);
    app.create("/api/v1/events", session).await;
    let mut postponed = home_affairs();
    postponed["slug"] = json!("postponed-forum");
    postponed["title"] = json!("Postponed forum on home affairs");
    postponed["status"] = json!("postponed");
    app.create("/api/v1/events", postponed).await;
    for (slug, date) in [("board-2019", "2019-11-18"), ("board-2018", "2018-05-07")] {
        let mut body = event_body(&format!("Board {slug} home affairs"), date);
        body["slug"] = json!(slug);
        body["participants"] = chaired.clone();
        body["topics"] = json!(["home affairs"]);
        app.create("/api/v1/events", body).await;
    }
    let all = [
        "board-2018",
        "board-2019",
        "home-affairs-2019",
        "postponed-forum",
    ];
    assert_eq!(titles(&app, "").await, all);
    let mut backwards = all.to_vec();
    backwards.reverse();
    assert_eq!(titles(&app, "sort=-start").await, backwards);
    // Page by page, each event once, in the same order.
    let mut walked = Vec::new();
    let mut query = "limit=1".to_owned();
    loop {
        let page = app
            .get(&format!("/api/v1/events?{query}"))
            .await
            .expect(200)
            .json();
        walked.extend(item_fields(&page, "slug"));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, all);

    assert_eq!(titles(&app, "from=2019-01-01").await, ["board-2019"]);
    assert_eq!(
        titles(&app, "to=2019-12-31").await,
        ["board-2018", "board-2019"]
    );
    assert_eq!(
        titles(&app, "status=tentative,postponed").await,
        ["home-affairs-2019", "postponed-forum"]
    );
    assert_eq!(
        titles(&app, "person=popowski").await,
        ["board-2018", "board-2019", "home-affairs-2019"]
    );
    assert_eq!(
        titles(&app, "person=popowski&from=2018-01-01").await,
        ["board-2018", "board-2019"]
    );
    assert_eq!(
        titles(&app, "topic=home%20affairs&sort=-start").await,
        ["home-affairs-2019", "board-2019", "board-2018"]
    );
    // A window leaves the undated event out of a topic's pages too, page by page, either way.
    for (order, expected) in [
        ("", ["board-2018", "board-2019"]),
        ("&sort=-start", ["board-2019", "board-2018"]),
    ] {
        let mut walked = Vec::new();
        let first = format!("topic=home%20affairs&from=2018-01-01{order}&limit=1");
        let mut query = first.clone();
        loop {
            let page = app
                .get(&format!("/api/v1/events?{query}"))
                .await
                .expect(200)
                .json();
            walked.extend(item_fields(&page, "slug"));
            match page["next_cursor"].as_str() {
                Some(cursor) => query = format!("{first}&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(walked, expected, "{order}");
    }
    assert_eq!(
        titles(&app, "q=home%20affairs").await,
        all,
        "text search walks undated events too"
    );
    assert_eq!(
        titles(&app, "q=home%20affairs&from=2019-06-01").await,
        ["board-2019"]
    );
}

async fn a_patch_gives_an_event_its_dates_and_takes_them_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", home_affairs()).await;
    let dated = app
        .patch(
            "/api/v1/events/home-affairs-2019",
            &json!({"start_date": "2019-11-19", "timezone": "Europe/Skopje", "status": "scheduled"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(dated["end_date"], "2019-11-19");
    assert_eq!(dated["starts_at"], "2019-11-18T23:00:00.000000Z");
    assert_eq!(titles(&app, "from=2019-11-19").await, ["home-affairs-2019"]);

    // Clearing the start alone leaves an end date without one: named, nothing changed.
    let problem = app
        .patch(
            "/api/v1/events/home-affairs-2019",
            &json!({"start_date": null, "status": "postponed"}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "end_date", "{problem}");
    let undated = app
        .patch(
            "/api/v1/events/home-affairs-2019",
            &json!({"start_date": null, "end_date": null, "status": "postponed"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(undated["start_date"], Value::Null);
    assert_eq!(undated["starts_at"], Value::Null);
    assert_eq!(undated["timezone"], "Europe/Skopje");
    assert_eq!(undated["version"], 3);
    assert_eq!(titles(&app, "from=2019-11-19").await, Vec::<String>::new());
}

async fn undated_events_conflict_with_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "slug": "popowski"}),
    )
    .await;
    let chaired = json!([{"person_id": "popowski", "role": "chair"}]);
    for slug in ["first", "second"] {
        let mut body = home_affairs();
        body["slug"] = json!(slug);
        body["participants"] = chaired.clone();
        body["location"] = json!({"city": "Skopje", "venue": "Government building"});
        let response = app.post("/api/v1/events", &body).await.expect(201).json();
        assert!(response.get("warnings").is_none(), "{response}");
    }
    let mut dated = event_body("Board", "2019-11-18");
    dated["participants"] = chaired;
    let response = app.post("/api/v1/events", &dated).await.expect(201).json();
    assert!(response.get("warnings").is_none(), "{response}");
    let conflicts = app
        .get("/api/v1/conflicts?from=2019-01-01&to=2019-12-31")
        .await
        .expect(200)
        .json();
    assert_eq!(conflicts["items"], json!([]), "{conflicts}");
}

async fn chains_and_series_order_only_dated_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (slug, date) in [("nfp-group-7", "2019-04-23"), ("rnnc-3", "2019-04-24")] {
        let mut body = event_body(slug, date);
        body["slug"] = json!(slug);
        app.create("/api/v1/events", body).await;
    }
    app.create(
        "/api/v1/chains",
        json!({"title": "Tirana, April 2019", "event_ids": ["nfp-group-7", "rnnc-3"]}),
    )
    .await;
    app.create("/api/v1/events", home_affairs()).await;
    let problem = app
        .post(
            "/api/v1/chains/tirana-april-2019/events",
            &json!({"event_id": "home-affairs-2019"}),
        )
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "chain_dates_known",
        "{problem}"
    );
    let before = app.get("/api/v1/events/rnnc-3").await.expect(200).json();
    let problem = app
        .patch(
            "/api/v1/events/rnnc-3",
            &json!({"start_date": null, "end_date": null, "status": "postponed"}),
        )
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "chain_dates_known",
        "{problem}"
    );
    assert_eq!(
        app.get("/api/v1/events/rnnc-3").await.expect(200).json(),
        before
    );

    // A numbered meeting whose date is not known holds its number without an order.
    app.create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    let mut fifth = home_affairs();
    fifth["slug"] = json!("rnnc-5");
    fifth["network_id"] = json!("rnnc");
    fifth["series_number"] = json!(5);
    app.create("/api/v1/events", fifth).await;
    let numbered = |number: i32, date: &str| {
        let mut body = event_body(&format!("RNNC {number}"), date);
        body["network_id"] = json!("rnnc");
        body["series_number"] = json!(number);
        body
    };
    app.create("/api/v1/events", numbered(4, "2020-01-10"))
        .await;
    // 6 is checked against 4, the nearest number with a date.
    let problem = app
        .post("/api/v1/events", &numbered(6, "2019-06-01"))
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "series_order",
        "{problem}"
    );
    assert_eq!(problem["violations"][0]["records"][0]["slug"], "rnnc-4");
    app.create("/api/v1/events", numbered(6, "2020-06-01"))
        .await;
}

on_both_backends!(
    an_event_without_dates_shows_them_empty,
    dates_are_left_out_only_when_the_status_says_so,
    lists_put_undated_events_after_dated_ones_and_out_of_date_windows,
    a_patch_gives_an_event_its_dates_and_takes_them_back,
    undated_events_conflict_with_nothing,
    chains_and_series_order_only_dated_events,
);
