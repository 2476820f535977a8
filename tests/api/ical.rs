//! iCalendar feeds: what a calendar client (and its user) notices — the media type, folded
//! CRLF lines, time zones, a SEQUENCE that grows only with changes a calendar shows, cancelled
//! events kept, internal events behind a feed key, conditional requests, filters.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestResponse, event_body};
use crate::on_both_backends;

/// A feed's lines with folding undone.
fn unfolded(response: &TestResponse) -> Vec<String> {
    String::from_utf8_lossy(&response.body)
        .replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The unfolded lines of the VEVENT whose UID starts with `id`, if the calendar has it.
fn vevent(response: &TestResponse, id: &str) -> Option<Vec<String>> {
    let lines = unfolded(response);
    let mut events = lines.split(|l| l == "BEGIN:VEVENT").skip(1);
    events
        .find(|e| e.iter().any(|l| l.starts_with(&format!("UID:{id}@"))))
        .map(|e| {
            e.iter()
                .take_while(|l| *l != "END:VEVENT")
                .cloned()
                .collect()
        })
}

/// The value of `property` (with any parameters) in an event's lines.
fn property(lines: &[String], property: &str) -> Option<String> {
    lines
        .iter()
        .find(|l| {
            l.strip_prefix(property)
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(';'))
        })
        .cloned()
}

async fn calendar(app: &TestApp, path: &str) -> TestResponse {
    let response = app.get(path).await.expect(200);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    response
}

fn id_of(record: &Value) -> String {
    record["id"].as_str().unwrap_or_default().to_owned()
}

async fn a_feed_is_well_formed_icalendar_with_its_time_zones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Regional Cooperation Council; Sarajevo", "kind": "regional_organisation", "slug": "rcc"}),
    )
    .await;
    let mut timed = event_body(
        "Ministerial Forum of the EU and the Western Balkans on Justice and Home Affairs, Tiranë — 老虎 😀",
        "2019-10-22",
    );
    timed["end_date"] = json!("2019-10-23");
    timed["start_time"] = json!("09:30");
    timed["end_time"] = json!("13:00");
    timed["description"] = json!("Line one; with, separators\\\nLine two");
    timed["organisers"] = json!([{"organisation_id": "rcc", "role": "organiser"}]);
    timed["topics"] = json!(["p-cve", "justice, home affairs"]);
    let timed = app.create("/api/v1/events", timed).await;
    let mut washington = event_body("Donor coordination call", "2019-03-12");
    washington["timezone"] = json!("America/New_York");
    washington["start_time"] = json!("10:00");
    washington["location"] = json!({"city": "Washington", "country_code": "US"});
    let washington = app.create("/api/v1/events", washington).await;
    let mut all_day = event_body("3rd Meeting of the RNNC", "2019-04-24");
    all_day["end_date"] = json!("2019-04-25");
    let all_day = app.create("/api/v1/events", all_day).await;

    let feed = calendar(&app, "/api/v1/events.ics?from=2019-01-01").await;
    let text = String::from_utf8_lossy(&feed.body).into_owned();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(text.ends_with("END:VCALENDAR\r\n"), "{text}");
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "a bare CR or LF: {text}"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let lines = unfolded(&feed);
    assert!(
        lines.iter().any(|l| l.starts_with("X-WR-CALNAME:")),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("NAME:")), "{text}");

    // Every TZID used has its VTIMEZONE.
    let used: Vec<String> = lines
        .iter()
        .filter_map(|l| l.split_once(";TZID=").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once(':').map(|(zone, _)| zone.to_owned()))
        .collect();
    assert!(used.contains(&"Europe/Tirane".to_owned()), "{text}");
    assert!(used.contains(&"America/New_York".to_owned()), "{text}");
    for zone in &used {
        let at = lines.iter().position(|l| *l == format!("TZID:{zone}"));
        assert!(
            at.is_some_and(|i| i > 0 && lines[i - 1] == "BEGIN:VTIMEZONE"),
            "no VTIMEZONE for {zone}: {text}"
        );
    }

    let event = vevent(&feed, &id_of(&timed)).expect("the timed event");
    assert_eq!(
        property(&event, "DTSTART").as_deref(),
        Some("DTSTART;TZID=Europe/Tirane:20191022T093000")
    );
    assert_eq!(
        property(&event, "DTEND").as_deref(),
        Some("DTEND;TZID=Europe/Tirane:20191023T130000")
    );
    assert!(
        property(&event, "SUMMARY").is_some_and(|s| s.ends_with("Tiranë — 老虎 😀")),
        "{event:?}"
    );
    let description = property(&event, "DESCRIPTION").unwrap_or_default();
    assert!(
        description.starts_with("DESCRIPTION:Line one\\; with\\, separators\\\\\\nLine two"),
        "{description}"
    );
    assert_eq!(
        property(&event, "CATEGORIES").as_deref(),
        Some("CATEGORIES:Meeting,p-cve,justice\\, home affairs")
    );
    assert!(
        property(&event, "ORGANIZER").is_some_and(
            |o| o.starts_with("ORGANIZER;CN=\"Regional Cooperation Council; Sarajevo\":")
        ),
        "{event:?}"
    );
    assert_eq!(
        property(&event, "STATUS").as_deref(),
        Some("STATUS:CONFIRMED")
    );
    assert_eq!(
        property(&event, "LOCATION").as_deref(),
        Some("LOCATION:Tirana\\, Albania")
    );
    let washington = vevent(&feed, &id_of(&washington)).expect("the Washington call");
    // No end time: it runs to the end of its day.
    assert_eq!(
        property(&washington, "DTEND").as_deref(),
        Some("DTEND;TZID=America/New_York:20190313T000000")
    );
    let all_day = vevent(&feed, &id_of(&all_day)).expect("the all-day event");
    assert_eq!(
        property(&all_day, "DTSTART").as_deref(),
        Some("DTSTART;VALUE=DATE:20190424")
    );
    // DTEND of a DATE event is exclusive: the day after the last.
    assert_eq!(
        property(&all_day, "DTEND").as_deref(),
        Some("DTEND;VALUE=DATE:20190426")
    );

    // HEAD answers as GET does, without the body.
    let head = app
        .request(
            Method::HEAD,
            "/api/v1/events.ics?from=2019-01-01",
            &[],
            None,
        )
        .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), feed.header("etag"));
    assert_eq!(head.header("content-type"), feed.header("content-type"));
}

async fn sequence_grows_with_a_new_date_but_not_a_new_description(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let event = app
        .create(
            "/api/v1/events",
            event_body("7th NFP Group meeting", "2019-04-23"),
        )
        .await;
    let id = id_of(&event);
    let path = format!("/api/v1/events/{id}.ics");
    let sequence =
        |response: &TestResponse| vevent(response, &id).and_then(|e| property(&e, "SEQUENCE"));
    let first = calendar(&app, &path).await;
    assert_eq!(sequence(&first).as_deref(), Some("SEQUENCE:0"));

    app.patch(
        &format!("/api/v1/events/{id}"),
        &json!({"description": "Agenda attached."}),
    )
    .await
    .expect(200);
    let described = calendar(&app, &path).await;
    assert_eq!(sequence(&described).as_deref(), Some("SEQUENCE:0"));
    let description = vevent(&described, &id).and_then(|e| property(&e, "DESCRIPTION"));
    assert_eq!(description.as_deref(), Some("DESCRIPTION:Agenda attached."));

    app.patch(
        &format!("/api/v1/events/{id}"),
        &json!({"start_date": "2019-04-22", "end_date": "2019-04-22"}),
    )
    .await
    .expect(200);
    let moved = calendar(&app, &path).await;
    assert_eq!(sequence(&moved).as_deref(), Some("SEQUENCE:1"));
    app.patch(
        &format!("/api/v1/events/{id}"),
        &json!({"location": {"city": "Durrës", "country_code": "AL"}}),
    )
    .await
    .expect(200);
    let feed = calendar(&app, "/api/v1/events.ics?from=2019-01-01").await;
    assert_eq!(sequence(&feed).as_deref(), Some("SEQUENCE:2"));
}

async fn cancelled_events_stay_in_the_feed_as_cancelled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let event = app
        .create(
            "/api/v1/events",
            event_body("WBCTi coordination meeting", "2019-10-01"),
        )
        .await;
    let id = id_of(&event);
    app.patch(
        &format!("/api/v1/events/{id}"),
        &json!({"status": "cancelled"}),
    )
    .await
    .expect(200);
    let feed = calendar(&app, "/api/v1/events.ics?from=2019-01-01").await;
    let cancelled = vevent(&feed, &id).expect("still in the feed");
    assert_eq!(
        property(&cancelled, "STATUS").as_deref(),
        Some("STATUS:CANCELLED")
    );
    assert_eq!(
        property(&cancelled, "SEQUENCE").as_deref(),
        Some("SEQUENCE:1")
    );
    let postponed = app
        .create("/api/v1/events", {
            let mut body = event_body("Postponed workshop", "2019-11-01");
            body["status"] = json!("postponed");
            body
        })
        .await;
    let feed = calendar(&app, "/api/v1/events.ics?from=2019-01-01").await;
    let postponed = vevent(&feed, &id_of(&postponed)).expect("postponed");
    assert_eq!(
        property(&postponed, "STATUS").as_deref(),
        Some("STATUS:TENTATIVE")
    );
    assert_eq!(
        property(&postponed, "X-REGISTRY-STATUS").as_deref(),
        Some("X-REGISTRY-STATUS:postponed")
    );
}

async fn internal_events_need_a_feed_key_that_works_only_on_feeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let public = app
        .create(
            "/api/v1/events",
            event_body("Public board meeting", "2019-11-18"),
        )
        .await;
    let mut closed = event_body("Closed preparatory meeting", "2019-11-17");
    closed["visibility"] = json!("internal");
    let closed = app.create("/api/v1/events", closed).await;
    let feed_path = "/api/v1/events.ics?from=2019-01-01";

    let anonymous = calendar(&app, feed_path).await;
    assert!(vevent(&anonymous, &id_of(&public)).is_some());
    assert!(vevent(&anonymous, &id_of(&closed)).is_none());
    app.get(&format!("/api/v1/events/{}.ics", id_of(&closed)))
        .await
        .problem(404);

    // Only an admin makes feed keys.
    let body = json!({"name": "secretariat-outlook"});
    let auth = app.editor_auth();
    app.request(
        Method::POST,
        "/api/v1/feed-keys",
        &[("authorization", &auth)],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
    .problem(403);
    let admin = format!("Bearer {}", app.admin);
    let created = app
        .request(
            Method::POST,
            "/api/v1/feed-keys",
            &[("authorization", &admin)],
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
        .expect(201)
        .json();
    let secret = created["secret"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("mrf_"), "{created}");

    let keyed = calendar(&app, &format!("{feed_path}&key={secret}")).await;
    assert!(vevent(&keyed, &id_of(&closed)).is_some());
    assert!(
        keyed
            .header("cache-control")
            .is_some_and(|c| c.starts_with("private"))
    );
    calendar(
        &app,
        &format!("/api/v1/events/{}.ics?key={secret}", id_of(&closed)),
    )
    .await;

    // A feed key is no bearer token, and no JSON endpoint takes it.
    app.get_as(&secret, "/api/v1/events").await.problem(401);
    app.get(&format!("/api/v1/events?key={secret}"))
        .await
        .problem(400);
    app.get(&format!("/api/v1/events/{}?key={secret}", id_of(&closed)))
        .await
        .problem(404);

    let listed = app
        .get_as(&app.admin, "/api/v1/feed-keys")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["items"][0]["name"], "secretariat-outlook");
    assert!(listed["items"][0].get("secret").is_none(), "{listed}");
    app.request(
        Method::DELETE,
        &format!(
            "/api/v1/feed-keys/{}",
            created["id"].as_str().unwrap_or_default()
        ),
        &[("authorization", &admin)],
        None,
    )
    .await
    .expect(204);
    let problem = app
        .get(&format!("{feed_path}&key={secret}"))
        .await
        .problem(401);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("revoked")),
        "{problem}"
    );
    app.get(&format!("{feed_path}&key=mrf_not-a-key"))
        .await
        .problem(401);
}

async fn an_unchanged_feed_is_304_until_a_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let event = app
        .create(
            "/api/v1/events",
            event_body("4th IISG Board Meeting", "2019-11-18"),
        )
        .await;
    let path = "/api/v1/events.ics?from=2019-01-01";
    let first = calendar(&app, path).await;
    let etag = first.header("etag").expect("an ETag");
    assert!(
        first
            .header("cache-control")
            .is_some_and(|c| c.contains("max-age="))
    );
    for _ in 0..2 {
        let again = app
            .request(Method::GET, path, &[("if-none-match", &etag)], None)
            .await;
        assert_eq!(again.status, 304);
        assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
        assert!(again.body.is_empty());
    }
    app.patch(
        &format!("/api/v1/events/{}", id_of(&event)),
        &json!({"title": "4th IISG Board meeting"}),
    )
    .await
    .expect(200);
    let changed = app
        .request(Method::GET, path, &[("if-none-match", &etag)], None)
        .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(etag));
}

async fn feeds_take_the_list_filters_and_their_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Regional Network of National P-CVE Coordinators", "acronym": "RNNC", "slug": "rnnc"}),
    )
    .await;
    let mut rnnc = event_body("3rd RNNC meeting", "2019-04-24");
    rnnc["kind"] = json!("network_meeting");
    rnnc["network_id"] = json!("rnnc");
    rnnc["series_number"] = json!(3);
    let rnnc = app.create("/api/v1/events", rnnc).await;
    let mut skopje = event_body("Workshop in Skopje", "2019-05-10");
    skopje["location"] = json!({"city": "Skopje", "country_code": "MK"});
    skopje["timezone"] = json!("Europe/Skopje");
    let skopje = app.create("/api/v1/events", skopje).await;
    let undated = app
        .create(
            "/api/v1/events",
            json!({"title": "Home Affairs session", "kind": "meeting", "status": "tentative"}),
        )
        .await;

    let tirana = calendar(&app, "/api/v1/events.ics?from=2019-01-01&city=tirana").await;
    assert!(vevent(&tirana, &id_of(&rnnc)).is_some());
    assert!(vevent(&tirana, &id_of(&skopje)).is_none());
    let network = calendar(&app, "/api/v1/networks/rnnc/meetings.ics?from=2019-01-01").await;
    assert!(vevent(&network, &id_of(&rnnc)).is_some());
    assert!(vevent(&network, &id_of(&skopje)).is_none());
    assert!(
        unfolded(&network)
            .iter()
            .any(|l| l == "X-WR-CALNAME:Regional Network of National P-CVE Coordinators: meetings")
    );
    // Events whose dates are not known yet are left out; asked for alone, a 409 says why.
    let all = calendar(&app, "/api/v1/events.ics?from=2019-01-01").await;
    assert!(vevent(&all, &id_of(&undated)).is_none());
    let problem = app
        .get(&format!("/api/v1/events/{}.ics", id_of(&undated)))
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "calendar_dates_known",
        "{problem}"
    );
    // No `from`: a year back from today, so events of 2019 are out of the window.
    let window = calendar(&app, "/api/v1/events.ics").await;
    assert!(vevent(&window, &id_of(&rnnc)).is_none());
    let window = calendar(&app, "/api/v1/events.ics?to=2019-12-31").await;
    assert!(vevent(&window, &id_of(&rnnc)).is_some());

    let problem = app.get("/api/v1/events.ics?network=rnc").await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "network", "{problem}");
    app.get("/api/v1/events.ics?from=yesterday")
        .await
        .problem(400);
    app.get("/api/v1/events.ics?limit=5").await.problem(400);
    app.get("/api/v1/networks/nope/meetings.ics")
        .await
        .problem(404);
    app.get("/api/v1/people/nobody/events.ics")
        .await
        .problem(404);

    // The JSON URL gives the calendar to a client that asks for one.
    let negotiated = app
        .request(
            Method::GET,
            &format!("/api/v1/events/{}", id_of(&rnnc)),
            &[("accept", "text/calendar")],
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        negotiated.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    assert!(
        negotiated
            .header("vary")
            .is_some_and(|v| v.contains("Accept"))
    );
    assert!(vevent(&negotiated, &id_of(&rnnc)).is_some());
    let json = app
        .get(&format!("/api/v1/events/{}", id_of(&rnnc)))
        .await
        .expect(200);
    assert_eq!(json.json()["id"], rnnc["id"]);
}

async fn sessions_and_chains_are_related(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let forum = app
        .create(
            "/api/v1/events",
            event_body("Ministerial Forum", "2019-04-23"),
        )
        .await;
    let mut session = event_body("Home Affairs session", "2019-04-23");
    session["parent_event_id"] = forum["id"].clone();
    let session = app.create("/api/v1/events", session).await;
    let second = app
        .create("/api/v1/events", event_body("Second meeting", "2019-04-24"))
        .await;
    let third = app
        .create("/api/v1/events", event_body("Third meeting", "2019-04-25"))
        .await;
    app.create(
        "/api/v1/chains",
        json!({"title": "Tirana, April 2019", "slug": "tirana", "event_ids": [forum["id"], second["id"], third["id"]]}),
    )
    .await;
    let feed = calendar(&app, "/api/v1/events.ics?from=2019-01-01").await;
    let uid = |record: &Value| format!("{}@localhost", id_of(record));
    let session = vevent(&feed, &id_of(&session)).expect("session");
    assert_eq!(
        property(&session, "RELATED-TO"),
        Some(format!("RELATED-TO;RELTYPE=PARENT:{}", uid(&forum)))
    );
    let third_lines = vevent(&feed, &id_of(&third)).expect("third");
    assert!(third_lines.contains(&format!("RELATED-TO;RELTYPE=FIRST:{}", uid(&forum))));
    let second_lines = vevent(&feed, &id_of(&second)).expect("second");
    assert!(second_lines.contains(&format!("RELATED-TO;RELTYPE=NEXT:{}", uid(&third))));
    assert!(second_lines.contains(&format!("RELATED-TO;RELTYPE=FIRST:{}", uid(&forum))));
}

on_both_backends!(
    a_feed_is_well_formed_icalendar_with_its_time_zones,
    sequence_grows_with_a_new_date_but_not_a_new_description,
    cancelled_events_stay_in_the_feed_as_cancelled,
    internal_events_need_a_feed_key_that_works_only_on_feeds,
    an_unchanged_feed_is_304_until_a_write,
    feeds_take_the_list_filters_and_their_problems,
    sessions_and_chains_are_related,
);
