use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
use crate::on_both_backends;

async fn titles(app: &TestApp, query: &str) -> Vec<String> {
    let page = app
        .get(&format!("/api/v1/events?{query}"))
        .await
        .expect(200)
        .json();
    item_fields(&page, "title")
}

async fn create_returns_the_event_with_location_and_etag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("4th IISG Board Meeting", "2019-11-18");
    body["kind"] = json!("board_meeting");
    body["timezone"] = json!("Europe/Skopje");
    body["start_time"] = json!("14:00");
    body["end_time"] = json!("18:00");
    body["location"] =
        json!({"city": "Skopje", "country_code": "mk", "venue": "Government building"});
    body["topics"] = json!(["IISG", "Terms of Reference"]);
    body["links"] = json!([{"title": "IISG", "url": "https://wbcti.wb-iisg.com/"}]);
    let response = app.post("/api/v1/events", &body).await.expect(201);
    let created = response.json();
    let location = response.header("location").expect("Location header");
    assert_eq!(
        location,
        format!("/api/v1/events/{}", created["id"].as_str().unwrap_or(""))
    );
    assert!(response.header("etag").is_some());
    assert_eq!(created["slug"], "4th-iisg-board-meeting");
    assert_eq!(created["location"]["country_code"], "MK");
    assert_eq!(created["status"], "scheduled");
    assert_eq!(created["attendance_mode"], "in_person");
    assert_eq!(created["visibility"], "public");
    assert_eq!(created["starts_at"], "2019-11-18T13:00:00.000000Z");
    assert_eq!(created["ends_at"], "2019-11-18T17:00:00.000000Z");
    assert_eq!(created["start_time"], "14:00");
    assert_eq!(created["version"], 1);
    assert_eq!(created["chain"], Value::Null);

    let fetched = app.get(&location).await.expect(200);
    assert_eq!(fetched.json(), created);
    assert_eq!(fetched.header("etag"), response.header("etag"));
    let by_slug = app
        .get("/api/v1/events/4th-iisg-board-meeting")
        .await
        .expect(200);
    assert_eq!(by_slug.json()["id"], created["id"]);
}

async fn date_only_events_span_their_local_days(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body(
        "Regional conference on radicalisation in prisons",
        "2019-10-22",
    );
    body["end_date"] = json!("2019-10-23");
    body["timezone"] = json!("Europe/Sarajevo");
    let created = app.create("/api/v1/events", body).await;
    assert_eq!(created["starts_at"], "2019-10-21T22:00:00.000000Z");
    assert_eq!(created["ends_at"], "2019-10-23T22:00:00.000000Z");
}

async fn invalid_events_name_every_field_and_store_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({
        "title": "",
        "kind": "meeting",
        "start_date": "2019-10-22",
        "end_date": "2019-10-21",
        "timezone": "Europe/Atlantis",
        "location": {"country_code": "QQ"},
        "slug": "Not A Slug",
        "links": [{"title": "x", "url": "javascript:alert(1)"}],
    });
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    fields.sort();
    assert_eq!(
        fields,
        [
            "end_date",
            "links[0].url",
            "location.country_code",
            "slug",
            "timezone",
            "title"
        ]
    );
    assert!(titles(&app, "").await.is_empty());
}

async fn json_type_errors_name_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (body, field) in [
        (
            json!({"title": 5, "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC"}),
            "title",
        ),
        (
            json!({"title": "x", "kind": "party", "start_date": "2019-01-01", "timezone": "UTC"}),
            "kind",
        ),
        (
            json!({"title": "x", "kind": "meeting", "start_date": "2019-02-30", "timezone": "UTC"}),
            "start_date",
        ),
        (
            json!({"title": "x", "kind": "meeting", "timezone": "UTC"}),
            "start_date",
        ),
        (
            json!({"title": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "titel": "y"}),
            "titel",
        ),
        (
            json!({"title": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "start_time": "9am"}),
            "start_time",
        ),
        (
            json!({"title": "x", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC", "location": {"town": "Tirana"}}),
            "location.town",
        ),
    ] {
        let problem = app.post("/api/v1/events", &body).await.problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert!(titles(&app, "").await.is_empty());
}

async fn events_last_at_most_366_days(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut year = event_body("A year-long programme", "2019-01-01");
    year["end_date"] = json!("2020-01-01");
    app.create("/api/v1/events", year).await;
    let mut longer = event_body("Too long", "2019-01-01");
    longer["end_date"] = json!("2020-01-03");
    let problem = app.post("/api/v1/events", &longer).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "end_date");
    // The year-long event is found from its last day.
    assert_eq!(
        titles(&app, "from=2020-01-01").await,
        ["A year-long programme"]
    );
}

async fn skipped_local_times_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("Night meeting", "2019-03-31");
    body["timezone"] = json!("Europe/Vienna");
    body["start_time"] = json!("02:30");
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "start_time");
}

async fn slugs_are_unique_and_generated_without_clashes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .create("/api/v1/events", event_body("RNNC meeting", "2019-04-24"))
        .await;
    let second = app
        .create("/api/v1/events", event_body("RNNC meeting", "2019-09-24"))
        .await;
    assert_eq!(first["slug"], "rnnc-meeting");
    assert_eq!(second["slug"], "rnnc-meeting-2");

    let mut taken = event_body("Another", "2019-05-01");
    taken["slug"] = json!("rnnc-meeting");
    let problem = app.post("/api/v1/events", &taken).await.problem(409);
    assert_eq!(problem["violations"][0]["rule"], "slug_unique");
    let conflict = app
        .patch(
            &format!("/api/v1/events/{}", second["id"].as_str().unwrap_or("")),
            &json!({"slug": "rnnc-meeting"}),
        )
        .await;
    conflict.problem(409);
    assert_eq!(titles(&app, "").await, ["RNNC meeting", "RNNC meeting"]);
    assert_eq!(
        app.get("/api/v1/events/rnnc-meeting-2")
            .await
            .expect(200)
            .json(),
        second
    );
}

async fn merge_patch_changes_only_what_it_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("7th NFP Group meeting", "2019-04-23");
    body["start_time"] = json!("09:00");
    body["end_time"] = json!("17:00");
    body["location"]["venue"] = json!("Hotel Tirana International");
    body["topics"] = json!(["p-cve"]);
    let created = app.post("/api/v1/events", &body).await.expect(201);
    let etag = created.header("etag").unwrap_or_default();
    let id = created.json()["id"].as_str().unwrap_or("").to_owned();

    let patched = app
        .patch(
            &format!("/api/v1/events/{id}"),
            &json!({"status": "postponed", "start_time": null, "end_time": null, "location": {"venue": null}}),
        )
        .await
        .expect(200);
    assert_ne!(patched.header("etag").unwrap_or_default(), etag);
    let event = patched.json();
    assert_eq!(event["status"], "postponed");
    assert_eq!(event["start_time"], Value::Null);
    assert_eq!(event["location"]["venue"], Value::Null);
    assert_eq!(event["location"]["city"], "Tirana");
    assert_eq!(event["topics"], json!(["p-cve"]));
    assert_eq!(event["title"], "7th NFP Group meeting");
    assert_eq!(event["version"], 2);
    assert_eq!(event["starts_at"], "2019-04-22T22:00:00.000000Z");
    assert_eq!(event["created_at"], created.json()["created_at"]);

    // application/json is accepted for merge patches too.
    let plain = app
        .write(
            Method::PATCH,
            &format!("/api/v1/events/{id}"),
            &[],
            Some((
                "application/json",
                br#"{"title": "7th Meeting of the NFP Group"}"#.to_vec(),
            )),
        )
        .await
        .expect(200);
    assert_eq!(plain.json()["title"], "7th Meeting of the NFP Group");
    assert_eq!(plain.json()["slug"], event["slug"]);
}

async fn a_patch_that_breaks_a_rule_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .create("/api/v1/events", event_body("Workshop", "2019-04-23"))
        .await;
    let path = format!("/api/v1/events/{}", created["slug"].as_str().unwrap_or(""));
    for patch in [
        json!({"end_date": "2019-04-01"}),
        json!({"title": null}),
        json!({"timezone": "Nowhere/Town"}),
        json!({"id": "01936f6e-6c2a-7cc1-9a51-3f4b1c2d9e10"}),
        json!({"location": {"country_code": "ZZ"}}),
    ] {
        app.patch(&path, &patch).await.problem(422);
    }
    app.patch(&path, &json!(["not", "an", "object"]))
        .await
        .problem(422);
    assert_eq!(app.get(&path).await.expect(200).json(), created);
}

async fn conditional_requests_use_the_etag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .post("/api/v1/events", &event_body("Board", "2019-11-18"))
        .await
        .expect(201);
    let etag = created.header("etag").unwrap_or_default();
    let path = created.header("location").unwrap_or_default();

    let not_modified = app
        .request(Method::GET, &path, &[("if-none-match", &etag)], None)
        .await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert!(not_modified.body.is_empty());

    let patch = br#"{"title": "Board meeting"}"#.to_vec();
    let stale = app
        .write(
            Method::PATCH,
            &path,
            &[("if-match", "\"stale\"")],
            Some(("application/json", patch.clone())),
        )
        .await;
    stale.problem(412);
    assert_eq!(app.get(&path).await.json()["title"], "Board");
    // A write whose If-None-Match names the record (its ETag, or `*`), or whose If-Match names
    // no entity tag at all, is refused and changes nothing: never a 304 for a write made.
    for header in [
        ("if-none-match", "*"),
        ("if-none-match", etag.as_str()),
        ("if-match", ","),
    ] {
        for method in [Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| ("application/json", patch.clone()));
            app.write(method.clone(), &path, &[header], body)
                .await
                .problem(412);
        }
    }
    let unchanged = app.get(&path).await.expect(200);
    assert_eq!(unchanged.header("etag"), Some(etag.clone()));

    let fresh = app
        .write(
            Method::PATCH,
            &path,
            &[("if-match", &etag)],
            Some(("application/json", patch)),
        )
        .await
        .expect(200);
    let new_etag = fresh.header("etag").unwrap_or_default();
    // The old ETag is now stale for DELETE too.
    app.write(Method::DELETE, &path, &[("if-match", &etag)], None)
        .await
        .problem(412);
    app.get(&path).await.expect(200);
    app.write(Method::DELETE, &path, &[("if-match", &new_etag)], None)
        .await
        .expect(204);
    app.get(&path).await.problem(404);
}

/// Writers that send no `If-Match` ask for no precondition: racing PATCHes all apply, none is
/// refused as stale.
async fn concurrent_unconditional_patches_all_apply(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .create("/api/v1/events", event_body("Busy", "2019-04-23"))
        .await;
    let path = format!("/api/v1/events/{}", created["id"].as_str().unwrap_or(""));
    let patches = (0..8).map(|i| {
        let body = json!({"description": format!("writer {i}")});
        let path = path.clone();
        let app = &app;
        async move { app.patch(&path, &body).await }
    });
    let responses = futures_util::future::join_all(patches).await;
    for response in responses {
        response.expect(200);
    }
    assert_eq!(app.get(&path).await.json()["version"], 9);
}

/// A patch that leaves an event's organisers, participants and topics alone keeps them; one
/// that moves the event moves them with it (a participant's other events are found by date).
async fn patches_keep_or_move_an_events_relations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Anes Rizvo", "slug": "rizvo"}),
    )
    .await;
    let mut forum = event_body("Spring forum", "2020-05-12");
    forum["organisers"] = json!([{"organisation_id": "dcaf", "role": "host"}]);
    forum["participants"] = json!([{"person_id": "rizvo", "role": "chair"}]);
    forum["topics"] = json!(["p-cve", "prisons"]);
    let forum = app.create("/api/v1/events", forum).await;
    let path = format!("/api/v1/events/{}", forum["id"].as_str().unwrap_or(""));
    let mut workshop = event_body("Autumn workshop", "2020-09-15");
    workshop["participants"] = json!([{"person_id": "rizvo", "role": "speaker"}]);
    let workshop = app.create("/api/v1/events", workshop).await;
    let workshop = format!("/api/v1/events/{}", workshop["id"].as_str().unwrap_or(""));

    let described = app
        .patch(&path, &json!({"description": "Agenda to follow."}))
        .await
        .expect(200)
        .json();
    for field in ["organisers", "participants", "topics"] {
        assert_eq!(
            described[field], forum[field],
            "{field} after a description patch"
        );
    }
    assert_eq!(described["description"], "Agenda to follow.");
    assert!(
        described["warnings"].as_array().is_none_or(Vec::is_empty),
        "{described}"
    );

    let moved = app
        .patch(
            &path,
            &json!({"start_date": "2020-09-15", "end_date": "2020-09-15"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(moved["participants"], forum["participants"]);
    assert_eq!(moved["warnings"][0]["kind"], "person", "{moved}");
    // The workshop's chair now finds the forum on its new date.
    let touched = app
        .patch(&workshop, &json!({"description": "Room 2."}))
        .await
        .expect(200)
        .json();
    assert_eq!(touched["warnings"][0]["kind"], "person", "{touched}");

    let renamed = app
        .patch(&path, &json!({"topics": ["p-cve"], "organisers": []}))
        .await
        .expect(200)
        .json();
    assert_eq!(renamed["topics"], json!(["p-cve"]));
    assert_eq!(renamed["organisers"], json!([]));
    assert_eq!(
        app.get(&path).await.json()["participants"],
        forum["participants"]
    );
}

/// An update that changes only text (written without touching the row's index entries) and
/// one that changes what lists filter and order by both leave every list and the text search
/// answering from the new state.
async fn text_and_key_patches_keep_lists_and_search_current(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("Regional forum", "2021-03-10");
    body["description"] = json!("Opening by the minister.");
    let forum = app.create("/api/v1/events", body).await;
    let path = format!("/api/v1/events/{}", forum["id"].as_str().unwrap_or(""));
    app.create("/api/v1/events", event_body("Later workshop", "2021-06-01"))
        .await;

    let described = app
        .patch(&path, &json!({"description": "Closing by the rapporteur."}))
        .await
        .expect(200)
        .json();
    assert_eq!(described["version"], 2);
    assert_eq!(titles(&app, "q=rapporteur").await, ["Regional forum"]);
    assert!(titles(&app, "q=minister").await.is_empty());
    assert_eq!(
        titles(&app, "country=AL&kind=meeting&from=2021-01-01").await,
        ["Regional forum", "Later workshop"]
    );
    // Oldest change first (a sync's order): the forum changed last.
    assert_eq!(
        titles(&app, "sort=updated").await,
        ["Later workshop", "Regional forum"]
    );

    let moved = app
        .patch(
            &path,
            &json!({"start_date": "2021-09-01", "end_date": "2021-09-01", "kind": "conference",
                    "status": "cancelled", "location": {"country_code": "MK", "city": "Skopje"}}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(moved["version"], 3);
    assert_eq!(
        titles(&app, "from=2021-01-01").await,
        ["Later workshop", "Regional forum"]
    );
    assert_eq!(
        titles(&app, "country=MK&kind=conference").await,
        ["Regional forum"]
    );
    assert!(
        titles(&app, "country=AL&kind=meeting&q=forum")
            .await
            .is_empty()
    );
    assert_eq!(titles(&app, "status=cancelled").await, ["Regional forum"]);
    assert_eq!(
        titles(&app, "city=skopje&q=rapporteur").await,
        ["Regional forum"]
    );
}

async fn deleting_an_event_removes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app
        .create("/api/v1/events", event_body("Forum", "2018-10-04"))
        .await;
    let path = format!("/api/v1/events/{}", created["id"].as_str().unwrap_or(""));
    app.delete(&path).await.expect(204);
    app.get(&path).await.problem(404);
    app.delete(&path).await.problem(404);
    assert!(titles(&app, "").await.is_empty());
}

async fn unknown_events_are_404_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/api/v1/events/01936f6e-6c2a-7cc1-9a51-3f4b1c2d9e10")
        .await
        .problem(404);
    app.get("/api/v1/events/no-such-slug").await.problem(404);
    app.patch("/api/v1/events/no-such-slug", &json!({"title": "x"}))
        .await
        .problem(404);
}

async fn date_filters_find_overlapping_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut conference = event_body("Prisons conference", "2019-10-22");
    conference["end_date"] = json!("2019-10-23");
    app.create("/api/v1/events", conference).await;
    app.create("/api/v1/events", event_body("Board", "2019-11-18"))
        .await;
    app.create("/api/v1/events", event_body("Forum", "2018-10-04"))
        .await;

    assert_eq!(
        titles(&app, "from=2019-10-23").await,
        ["Prisons conference", "Board"]
    );
    assert_eq!(
        titles(&app, "to=2019-10-22").await,
        ["Forum", "Prisons conference"]
    );
    assert_eq!(
        titles(&app, "from=2019-10-24&to=2019-11-17").await,
        Vec::<String>::new()
    );
    assert_eq!(
        titles(&app, "from=2019-01-01&to=2019-12-31&sort=-start").await,
        ["Board", "Prisons conference"]
    );
}

async fn field_filters_select_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut tirana = event_body("3rd RNNC meeting", "2019-04-24");
    tirana["kind"] = json!("network_meeting");
    tirana["topics"] = json!(["P-CVE", "strategies"]);
    tirana["location"] = json!({"city": "Tiranë", "country_code": "AL"});
    app.create("/api/v1/events", tirana).await;
    let mut sarajevo = event_body("Prisons conference", "2019-10-22");
    sarajevo["kind"] = json!("conference");
    sarajevo["status"] = json!("cancelled");
    sarajevo["timezone"] = json!("Europe/Sarajevo");
    sarajevo["location"] = json!({"city": "Sarajevo", "country_code": "BA"});
    sarajevo["description"] = json!("Opened by Prof. Bećirević of the University of Sarajevo.");
    app.create("/api/v1/events", sarajevo).await;
    let mut pristina = event_body("Coordination meeting", "2019-05-10");
    pristina["location"] = json!({"city": "Pristina", "country_code": "XK"});
    pristina["description"] = json!(r"Hosted by O'Brien \ Partners; 100% of seats taken.");
    app.create("/api/v1/events", pristina).await;

    assert_eq!(titles(&app, "city=tirane").await, ["3rd RNNC meeting"]);
    assert_eq!(titles(&app, "city=SARAJEVO").await, ["Prisons conference"]);
    assert_eq!(titles(&app, "country=ba").await, ["Prisons conference"]);
    assert_eq!(titles(&app, "country=XK").await, ["Coordination meeting"]);
    assert_eq!(
        titles(&app, "kind=conference,network_meeting").await,
        ["3rd RNNC meeting", "Prisons conference"]
    );
    assert_eq!(
        titles(&app, "status=cancelled").await,
        ["Prisons conference"]
    );
    assert_eq!(titles(&app, "topic=p-cve").await, ["3rd RNNC meeting"]);
    assert_eq!(titles(&app, "q=becirevic").await, ["Prisons conference"]);
    assert_eq!(titles(&app, "q=tirane").await, ["3rd RNNC meeting"]);
    assert_eq!(titles(&app, "q=TIRAN%C3%8B").await, ["3rd RNNC meeting"]);
    // `%` is a character to find, not a wildcard: only the event whose text has one.
    assert_eq!(titles(&app, "q=%25").await, ["Coordination meeting"]);
    // Quotes, backslashes and wildcards are text to find, on both backends.
    for q in ["o%27brien", "brien%20%5C%20partners", "100%25%20of", "%5C"] {
        assert_eq!(
            titles(&app, &format!("q={q}")).await,
            ["Coordination meeting"],
            "{q}"
        );
    }
    for q in [
        "o%27%27brien",
        "x%27%20OR%20%271%27%3D%271",
        "%5C%5C",
        "100%25%25",
    ] {
        assert_eq!(
            titles(&app, &format!("q={q}")).await,
            Vec::<String>::new(),
            "{q}"
        );
    }
    assert_eq!(
        titles(&app, "q=rnnc&kind=conference").await,
        Vec::<String>::new()
    );
}

async fn updated_since_and_sort_updated_support_sync(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .create("/api/v1/events", event_body("First", "2019-01-01"))
        .await;
    let second = app
        .create("/api/v1/events", event_body("Second", "2018-01-01"))
        .await;
    let since = second["updated_at"].as_str().unwrap_or("").to_owned();
    assert_eq!(
        titles(&app, &format!("updated_since={since}&sort=updated")).await,
        ["Second"]
    );
    app.patch(
        &format!("/api/v1/events/{}", first["id"].as_str().unwrap_or("")),
        &json!({"description": "changed"}),
    )
    .await
    .expect(200);
    assert_eq!(
        titles(&app, &format!("updated_since={since}&sort=updated")).await,
        ["Second", "First"]
    );
    assert_eq!(titles(&app, "sort=updated").await, ["Second", "First"]);
}

async fn cursors_walk_every_event_once_in_a_stable_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        // Equal start dates: the id breaks the tie.
        let date = if i < 5 { "2019-04-24" } else { "2019-04-25" };
        let created = app
            .create("/api/v1/events", event_body(&format!("Event {i}"), date))
            .await;
        expected.push(created["id"].as_str().unwrap_or("").to_owned());
    }
    for (sort, reverse) in [("start", false), ("-start", true)] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/events?limit=3&sort={sort}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(&path).await.expect(200).json();
            pages += 1;
            for item in page["items"].as_array().into_iter().flatten() {
                seen.push(item["id"].as_str().unwrap_or("").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            // A row written behind the cursor must not shift the pages.
            if pages == 1 {
                app.create("/api/v1/events", event_body("Late", "2000-01-01"))
                    .await;
            }
            assert!(pages < 10, "pagination does not end");
        }
        let mut wanted = expected.clone();
        if reverse {
            wanted.reverse();
        }
        seen.retain(|id| wanted.contains(id));
        assert_eq!(seen, wanted, "sort={sort}");
    }
    let problem = app.get("/api/v1/events?sort=-start&cursor=eyJzIjoic3RhcnQiLCJrIjoieCIsImkiOiIwMTkzNmY2ZS02YzJhLTdjYzEtOWE1MS0zZjRiMWMyZDllMTAifQ").await.problem(400);
    assert_eq!(problem["errors"][0]["field"], "cursor");
}

async fn bad_query_parameters_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, field) in [
        ("from=2019-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2019-05-01&to=2019-04-01", "to"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("sort=title", "sort"),
        ("cursor=%21%21", "cursor"),
        ("country=XX", "country"),
        ("kind=party", "kind"),
        ("status=done", "status"),
        ("updated_since=2019-13-01", "updated_since"),
    ] {
        let problem = app
            .get(&format!("/api/v1/events?{query}"))
            .await
            .problem(400);
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let long = "a".repeat(201);
    app.get(&format!("/api/v1/events?q={long}"))
        .await
        .problem(400);
    let problem = app.get("/api/v1/events?form=2019-01-01").await.problem(400);
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("form"),
        "{problem}"
    );
}

async fn internal_events_are_hidden_from_anonymous_readers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("Closed preparatory meeting", "2019-04-22");
    body["visibility"] = json!("internal");
    let created = app.create("/api/v1/events", body).await;
    app.create("/api/v1/events", event_body("Open meeting", "2019-04-23"))
        .await;
    app.get(&format!(
        "/api/v1/events/{}",
        created["id"].as_str().unwrap_or("")
    ))
    .await
    .problem(404);
    assert_eq!(titles(&app, "").await, ["Open meeting"]);
    assert_eq!(titles(&app, "q=preparatory").await, Vec::<String>::new());
}

/// Writes committed together reach the text index whatever order their events start in:
/// after concurrent creates (the latest first) and concurrent edits of them, some of which move
/// the event to another year, `q` finds every event by its title and its new description, in
/// start order, and none by the description edited away.
async fn text_search_follows_concurrent_writes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let creates = (0..24).map(|n| {
        let body = event_body(
            &format!("Session {n:02} zebrafinch"),
            &format!("{}-05-{:02}", 2024 - n, 1 + n),
        );
        app.create("/api/v1/events", body)
    });
    let ids: Vec<String> = futures_util::future::join_all(creates)
        .await
        .iter()
        .map(|created| created["id"].as_str().unwrap_or("").to_owned())
        .collect();
    let edits = ids.iter().enumerate().map(|(n, id)| {
        let app = &app;
        async move {
            let path = format!("/api/v1/events/{id}");
            app.patch(&path, &json!({"description": "osprey"}))
                .await
                .expect(200);
            let mut last = json!({"description": "kestrel"});
            if n % 2 == 0 {
                let moved = format!("{}-09-{:02}", 2030 - n, 1 + n);
                last["start_date"] = json!(moved);
                last["end_date"] = json!(moved);
            }
            app.patch(&path, &last).await.expect(200);
        }
    });
    futures_util::future::join_all(edits).await;
    let everything = all_titles(&app, "limit=200").await;
    assert_eq!(everything.len(), 24);
    assert_eq!(all_titles(&app, "q=zebrafinch&limit=7").await, everything);
    assert_eq!(all_titles(&app, "q=kestrel&limit=5").await, everything);
    assert_eq!(all_titles(&app, "q=osprey").await, Vec::<String>::new());
}

/// Every page of a list, following `next_cursor`: the titles in order.
async fn all_titles(app: &TestApp, query: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/events?{query}&cursor={c}"),
            None => format!("/api/v1/events?{query}"),
        };
        let page = app.get(&path).await.expect(200).json();
        titles.extend(item_fields(&page, "title"));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return titles,
        }
    }
    panic!("more than 100 pages for {query}");
}

/// `q` with many matches: pages follow one another in start order with nothing lost or
/// repeated, also among events that start at the same moment, in both directions, beside
/// other filters, and after edits move or unmatch an event.
async fn text_search_pages_through_many_matches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for n in 0..36 {
        // Three events a day (all starting at local midnight), on twelve days; every third
        // one a conference.
        let date = format!("{}-03-05", 2010 + n / 3);
        let mut body = event_body(&format!("Lecture {n:02} by Bećirević"), &date);
        if n % 3 == 0 {
            body["kind"] = json!("conference");
        }
        ids.push(app.create("/api/v1/events", body).await["id"].clone());
        let other = event_body(&format!("Other meeting {n:02}"), &date);
        app.create("/api/v1/events", other).await;
    }
    let everything = all_titles(&app, "limit=200").await;
    let lectures: Vec<String> = everything
        .iter()
        .filter(|t| t.starts_with("Lecture"))
        .cloned()
        .collect();
    assert_eq!(lectures.len(), 36);
    assert_eq!(all_titles(&app, "q=becirevic&limit=4").await, lectures);
    let mut backwards = lectures.clone();
    backwards.reverse();
    assert_eq!(
        all_titles(&app, "q=becirevic&limit=5&sort=-start").await,
        backwards
    );
    let conferences: Vec<String> = all_titles(&app, "kind=conference&limit=200").await;
    assert_eq!(conferences.len(), 12);
    assert_eq!(
        all_titles(&app, "q=BECIREVIC&kind=conference&limit=3").await,
        conferences
    );
    let from_2016: Vec<String> = all_titles(&app, "from=2016-01-01&limit=200")
        .await
        .into_iter()
        .filter(|t| t.starts_with("Lecture"))
        .collect();
    assert_eq!(from_2016.len(), 18);
    assert_eq!(
        all_titles(&app, "q=becirevic&from=2016-01-01&limit=7").await,
        from_2016
    );

    // The first lecture joins three later ones at their start: it is last to be indexed but
    // first of the four in the list's order (start, then id). Every page size must still agree.
    let id = |i: usize| ids[i].as_str().unwrap_or("").to_owned();
    app.patch(
        &format!("/api/v1/events/{}", id(0)),
        &json!({"start_date": "2015-03-05", "end_date": "2015-03-05"}),
    )
    .await
    .expect(200);
    let lectures: Vec<String> = all_titles(&app, "limit=200")
        .await
        .into_iter()
        .filter(|t| t.starts_with("Lecture"))
        .collect();
    let mut backwards = lectures.clone();
    backwards.reverse();
    for limit in 1..=6 {
        let forwards = all_titles(&app, &format!("q=becirevic&limit={limit}")).await;
        assert_eq!(forwards, lectures, "limit={limit}");
        let reversed = all_titles(&app, &format!("q=becirevic&limit={limit}&sort=-start")).await;
        assert_eq!(reversed, backwards, "limit={limit}, sort=-start");
    }

    // Moved to the front, taken out of the matches, deleted.
    app.patch(
        &format!("/api/v1/events/{}", id(30)),
        &json!({"start_date": "2009-06-01", "end_date": "2009-06-01"}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/v1/events/{}", id(1)),
        &json!({"title": "Lecture 01, speaker to be confirmed"}),
    )
    .await
    .expect(200);
    app.delete(&format!("/api/v1/events/{}", id(2)))
        .await
        .expect(204);
    let now = all_titles(&app, "q=becirevic&limit=4").await;
    assert_eq!(now.len(), 34);
    assert_eq!(now[0], "Lecture 30 by Bećirević");
    assert!(
        !now.iter()
            .any(|t| t.starts_with("Lecture 01") || t.starts_with("Lecture 02"))
    );
    assert_eq!(
        titles(&app, "q=confirmed").await,
        ["Lecture 01, speaker to be confirmed"]
    );

    // A three-week course that began before a window still matches in it (long events are
    // looked up apart), and `q` also pages by last update.
    let mut course = event_body("Winter course with Bećirević", "2015-12-20");
    course["end_date"] = json!("2016-01-08");
    app.create("/api/v1/events", course).await;
    assert_eq!(
        titles(&app, "q=becirevic&from=2016-01-01&to=2016-01-31").await,
        ["Winter course with Bećirević"]
    );
    let by_update = all_titles(&app, "q=becirevic&sort=updated&limit=6").await;
    assert_eq!(by_update.len(), 35);
    assert_eq!(by_update[34], "Winter course with Bećirević");
    assert_eq!(by_update[33], "Lecture 30 by Bećirević");
}

/// Events of more than two weeks are looked up apart from the short ones: a date window must
/// still find them, in start order among the others, and they must still raise conflicts.
async fn long_events_are_found_by_windows_and_conflicts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Vlado Azinović", "slug": "azinovic"}),
    )
    .await;
    let mut programme = event_body("Six-month training programme", "2019-01-07");
    programme["end_date"] = json!("2019-06-28");
    programme["participants"] = json!([{"person_id": "azinovic", "role": "speaker"}]);
    app.create("/api/v1/events", programme).await;
    let mut month = event_body("Three-week course", "2019-02-25");
    month["end_date"] = json!("2019-03-15");
    app.create("/api/v1/events", month).await;
    app.create("/api/v1/events", event_body("Ended before", "2019-02-20"))
        .await;
    app.create("/api/v1/events", event_body("Spring meeting", "2019-03-04"))
        .await;
    app.create("/api/v1/events", event_body("Summer meeting", "2019-07-01"))
        .await;

    assert_eq!(
        titles(&app, "from=2019-03-01").await,
        [
            "Six-month training programme",
            "Three-week course",
            "Spring meeting",
            "Summer meeting"
        ]
    );
    assert_eq!(
        titles(&app, "from=2019-03-01&sort=-start").await,
        [
            "Summer meeting",
            "Spring meeting",
            "Three-week course",
            "Six-month training programme"
        ]
    );
    assert_eq!(
        titles(&app, "from=2019-05-01&to=2019-05-31").await,
        ["Six-month training programme"]
    );
    // Pages of one walk the same order.
    let mut seen = Vec::new();
    let mut query = "from=2019-03-01&limit=1".to_owned();
    loop {
        let page = app
            .get(&format!("/api/v1/events?{query}"))
            .await
            .expect(200)
            .json();
        seen.extend(
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["title"].as_str().map(str::to_owned)),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("from=2019-03-01&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, titles(&app, "from=2019-03-01").await);

    // A window's long events are named once per state of the registry: a long event created,
    // shortened or moved after the window was listed shows in its next answer.
    let mut exhibition = event_body("Two-month exhibition", "2019-02-04");
    exhibition["end_date"] = json!("2019-03-29");
    let exhibition = app.create("/api/v1/events", exhibition).await;
    assert_eq!(
        titles(&app, "from=2019-03-01").await,
        [
            "Six-month training programme",
            "Two-month exhibition",
            "Three-week course",
            "Spring meeting",
            "Summer meeting"
        ]
    );
    let exhibition = format!("/api/v1/events/{}", exhibition["id"].as_str().unwrap_or(""));
    app.patch(&exhibition, &json!({"end_date": "2019-02-27"}))
        .await
        .expect(200);
    assert_eq!(
        titles(&app, "from=2019-03-01&sort=-start").await,
        [
            "Summer meeting",
            "Spring meeting",
            "Three-week course",
            "Six-month training programme"
        ]
    );

    // A meeting in May shares its speaker with the programme that began in January.
    let mut may = event_body("May workshop", "2019-05-15");
    may["participants"] = json!([{"person_id": "azinovic", "role": "chair"}]);
    let created = app.post("/api/v1/events", &may).await.expect(201).json();
    assert_eq!(created["warnings"][0]["kind"], "person", "{created}");
}

/// Lists filtered by an organisation, a person or a topic walk that party's events in start
/// order: every page size, both directions and other filters give the events of the full list
/// that the party has, in its order; also when the party has an event twice (two roles), for
/// an event that ends on the `from` date only in its own time zone, and after a patch moves an
/// event or drops the party.
async fn party_filters_page_in_start_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Anes Rizvo", "slug": "rizvo"}),
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..24_u32 {
        // Two meetings a year on the same day (the id orders them), 2010-2021.
        let date = format!("{}-04-24", 2010 + n / 2);
        let mut body = event_body(&format!("Meeting {n:02}"), &date);
        let mut organisers = Vec::new();
        if n.is_multiple_of(3) {
            organisers.push(json!({"organisation_id": "dcaf", "role": "host"}));
        }
        if n.is_multiple_of(6) {
            organisers.push(json!({"organisation_id": "dcaf", "role": "funder"}));
        }
        let mut participants = Vec::new();
        if n % 4 == 1 {
            participants.push(json!({"organisation_id": "dcaf", "role": "observer"}));
        }
        if n.is_multiple_of(2) {
            participants.push(json!({"person_id": "rizvo", "role": "chair"}));
        }
        if n.is_multiple_of(8) {
            participants.push(json!({"person_id": "rizvo", "role": "speaker"}));
        }
        body["organisers"] = json!(organisers);
        body["participants"] = json!(participants);
        if !n.is_multiple_of(5) {
            body["topics"] = json!(["P-CVE"]);
        }
        if n.is_multiple_of(4) {
            body["kind"] = json!("conference");
        }
        ids.push(app.create("/api/v1/events", body).await["id"].clone());
        app.create(
            "/api/v1/events",
            event_body(&format!("Other {n:02}"), &date),
        )
        .await;
    }
    // A long programme across the new year, found for `from` by its own index; a long one of
    // the spring before, which ended before it.
    for (title, start, end) in [
        ("Long programme", "2014-11-20", "2015-02-10"),
        ("Spring programme", "2014-03-01", "2014-04-15"),
    ] {
        let mut long = event_body(title, start);
        long["end_date"] = json!(end);
        long["organisers"] = json!([{"organisation_id": "dcaf", "role": "host"}]);
        long["participants"] = json!([{"organisation_id": "dcaf", "role": "observer"}]);
        long["topics"] = json!(["p-cve"]);
        app.create("/api/v1/events", long).await;
    }
    // Ends at midnight starting 1 January in UTC+14: 10:00 on 31 December in UTC, still in
    // `from=2015-01-01`.
    let mut new_year = event_body("New year workshop", "2014-12-29");
    new_year["end_date"] = json!("2015-01-01");
    new_year["start_time"] = json!("09:00");
    new_year["end_time"] = json!("00:00");
    new_year["timezone"] = json!("Pacific/Kiritimati");
    new_year["organisers"] = json!([{"organisation_id": "dcaf", "role": "host"}]);
    new_year["participants"] = json!([{"person_id": "rizvo", "role": "chair"}]);
    new_year["topics"] = json!(["p-cve"]);
    app.create("/api/v1/events", new_year).await;

    check_party_lists(&app, None).await;

    // Meeting 00 moves after every other one; Meeting 03 loses its organiser.
    let path = |n: usize| format!("/api/v1/events/{}", ids[n].as_str().unwrap_or(""));
    app.patch(
        &path(0),
        &json!({"start_date": "2022-01-10", "end_date": "2022-01-10"}),
    )
    .await
    .expect(200);
    app.patch(&path(3), &json!({"organisers": []}))
        .await
        .expect(200);
    let everything = all_titles(&app, "limit=200").await;
    assert_eq!(
        everything
            .iter()
            .rev()
            .find(|t| t.starts_with("Meeting"))
            .map(String::as_str),
        Some("Meeting 00")
    );
    let organised = all_titles(&app, "organisation=dcaf&limit=2").await;
    assert_eq!(organised.last().map(String::as_str), Some("Meeting 00"));
    assert!(
        !organised.iter().any(|t| t == "Meeting 03"),
        "{organised:?}"
    );
    check_party_lists(&app, Some(3)).await;

    // More long events in the year before `from` than a list names one by one: a party's
    // list then reads two weeks of its index, and its long events from an index of their own
    // (found there: the long programme, which starts five weeks before `from`).
    for chunk in 0..11 {
        let creates = (0..50).map(|n| {
            let n = chunk * 50 + n;
            let mut body = event_body(
                &format!("Crowd {n:03}"),
                &format!("2014-{:02}-{:02}", 1 + n % 11, 1 + n % 28),
            );
            body["end_date"] = json!(format!("2014-{:02}-{:02}", 2 + n % 11, 1 + n % 28));
            app.create("/api/v1/events", body)
        });
        futures_util::future::join_all(creates).await;
    }
    check_party_lists(&app, Some(3)).await;
}

/// The lists of `party_filters_page_in_start_order`'s parties: every page size, both
/// directions and other filters give the events of the full list that the party has (the
/// organisation without Meeting `dropped`).
async fn check_party_lists(app: &TestApp, dropped: Option<u32>) {
    let number = |title: &str| {
        title
            .strip_prefix("Meeting ")
            .and_then(|n| n.parse::<u32>().ok())
    };
    let organises = |n: u32| (n.is_multiple_of(3) || n % 4 == 1) && Some(n) != dropped;
    // A filter, which meetings have its party, and whether the long programme has it.
    type Party<'a> = (&'a str, &'a dyn Fn(u32) -> bool, bool);
    let parties: [Party<'_>; 3] = [
        ("organisation=dcaf", &organises, true),
        ("person=rizvo", &|n| n.is_multiple_of(2), false),
        ("topic=p-cve", &|n| !n.is_multiple_of(5), true),
    ];
    for extra in ["", "&from=2015-01-01", "&to=2013-12-31", "&kind=conference"] {
        let all = all_titles(app, &format!("limit=200{extra}")).await;
        for (filter, has, has_long) in &parties {
            let wanted: Vec<String> = all
                .iter()
                .filter(|t| {
                    number(t).is_some_and(has)
                        || (*has_long && (*t == "Long programme" || *t == "Spring programme"))
                        || *t == "New year workshop"
                })
                .cloned()
                .collect();
            assert!(!wanted.is_empty(), "{filter}{extra}");
            for limit in [1, 2, 5] {
                let query = format!("{filter}{extra}&limit={limit}");
                assert_eq!(all_titles(app, &query).await, wanted, "{query}");
            }
            let mut backwards = wanted.clone();
            backwards.reverse();
            let query = format!("{filter}{extra}&limit=3&sort=-start");
            assert_eq!(all_titles(app, &query).await, backwards, "{query}");
        }
    }
}

/// The widest windows the date parameters take (`to=9999-12-31`, `from=0000-01-01`) find every
/// event, in lists with any filter and in calendars, rather than silently none.
async fn the_widest_date_window_finds_every_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Anes Rizvo", "slug": "rizvo"}),
    )
    .await;
    for (title, day) in [("Board", "2019-11-18"), ("Last", "2200-12-31")] {
        let mut body = event_body(title, day);
        body["participants"] = json!([{"person_id": "rizvo", "role": "chair"}]);
        app.create("/api/v1/events", body).await;
    }
    for query in [
        "to=9999-12-31",
        "to=9999-12-30",
        "from=0000-01-01&to=9999-12-31",
        "person=rizvo&to=9999-12-31",
        "q=board&to=9999-12-31",
    ] {
        let page = app
            .get(&format!("/api/v1/events?{query}"))
            .await
            .expect(200)
            .json();
        let expected = if query.starts_with("q=") { 1 } else { 2 };
        assert_eq!(
            item_fields(&page, "title").len(),
            expected,
            "{query}: {page}"
        );
    }
    let calendar = app
        .get("/api/v1/events.ics?from=2000-01-01&to=9999-12-31")
        .await
        .expect(200);
    let text = String::from_utf8_lossy(&calendar.body);
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 2, "{text}");
}

on_both_backends!(
    the_widest_date_window_finds_every_event,
    text_search_pages_through_many_matches,
    text_search_follows_concurrent_writes,
    party_filters_page_in_start_order,
    long_events_are_found_by_windows_and_conflicts,
    create_returns_the_event_with_location_and_etag,
    date_only_events_span_their_local_days,
    invalid_events_name_every_field_and_store_nothing,
    json_type_errors_name_the_field,
    skipped_local_times_are_refused,
    events_last_at_most_366_days,
    slugs_are_unique_and_generated_without_clashes,
    merge_patch_changes_only_what_it_names,
    a_patch_that_breaks_a_rule_changes_nothing,
    conditional_requests_use_the_etag,
    deleting_an_event_removes_it,
    concurrent_unconditional_patches_all_apply,
    patches_keep_or_move_an_events_relations,
    text_and_key_patches_keep_lists_and_search_current,
    unknown_events_are_404_problems,
    date_filters_find_overlapping_events,
    field_filters_select_events,
    updated_since_and_sort_updated_support_sync,
    cursors_walk_every_event_once_in_a_stable_order,
    bad_query_parameters_are_named,
    internal_events_are_hidden_from_anonymous_readers,
);
