//! `Accept: application/ld+json`: schema.org JSON-LD for events, networks, organisations,
//! people, chains and lists, on the demo data.

use meeting_registry::bulk;
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestResponse, event_body};
use crate::on_both_backends;

const LD: &str = "application/ld+json";

async fn with_demo(backend: Backend) -> TestApp {
    let app = TestApp::spawn(backend).await;
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    let db = Database::connect(&app.database_url, 1).expect("connect");
    bulk::import_file(&db, demo, bulk::ImportOptions::default()).expect("demo imports");
    app
}

async fn ld(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut all = vec![("accept", LD)];
    all.extend_from_slice(headers);
    app.request(awc::http::Method::GET, path, &all, None).await
}

fn names(value: &Value) -> Vec<String> {
    let list = match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    list.iter()
        .map(|v| v["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn an_event_is_a_schema_org_event(backend: Backend) {
    let app = with_demo(backend).await;
    let response = ld(&app, "/api/v1/events/iisg-board-4", &[])
        .await
        .expect(200);
    assert_eq!(response.header("content-type").as_deref(), Some(LD));
    assert!(
        response
            .header("vary")
            .is_some_and(|v| v.contains("Accept")),
        "{:?}",
        response.header("vary")
    );
    // The weights decide between the API's other types too, not only against JSON.
    for (accept, wanted) in [
        ("text/calendar;q=0.1, application/ld+json;q=0.9", LD),
        (
            "application/ld+json;q=0.1, text/calendar;q=0.9",
            "text/calendar",
        ),
    ] {
        let answer = app
            .request(
                awc::http::Method::GET,
                "/api/v1/events/iisg-board-4",
                &[("accept", accept)],
                None,
            )
            .await
            .expect(200);
        let got = answer.header("content-type").unwrap_or_default();
        assert!(got.starts_with(wanted), "{accept}: {got}");
    }
    let etag = response.header("etag").unwrap_or_default();
    let doc = response.json();
    assert_eq!(doc["@context"], "https://schema.org");
    assert_eq!(doc["@type"], "Event");
    let json = app.get("/api/v1/events/iisg-board-4").await.expect(200);
    let json_etag = json.header("etag").unwrap_or_default();
    let json = json.json();
    assert_eq!(
        doc["@id"],
        format!(
            "http://localhost:8080/api/v1/events/{}",
            json["id"].as_str().unwrap_or("")
        )
    );
    assert_eq!(doc["name"], "4th IISG Board Meeting");
    // Skopje in November: UTC+1, an all-day event from local midnight.
    assert_eq!(doc["startDate"], "2019-11-18T00:00:00+01:00");
    assert_eq!(doc["endDate"], "2019-11-19T00:00:00+01:00");
    assert_eq!(doc["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(
        doc["eventAttendanceMode"],
        "https://schema.org/OfflineEventAttendanceMode"
    );
    assert_eq!(doc["location"]["@type"], "Place");
    assert_eq!(doc["location"]["address"]["@type"], "PostalAddress");
    assert_eq!(doc["location"]["address"]["addressLocality"], "Skopje");
    assert_eq!(doc["location"]["address"]["addressCountry"], "MK");
    assert_eq!(names(&doc["organizer"]), ["IISG Support Group"]);
    assert!(
        names(&doc["performer"]).contains(&"Maciej Popowski".to_owned()),
        "{doc}"
    );
    // Its own ETag, and a conditional GET of it.
    assert_ne!(etag, json_etag);
    let again = ld(
        &app,
        "/api/v1/events/iisg-board-4",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status.as_u16(), 304);
    // JSON stays the default, and its ETag is not satisfied by the JSON-LD one.
    let plain = app
        .request(
            awc::http::Method::GET,
            "/api/v1/events/iisg-board-4",
            &[("if-none-match", &etag)],
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        plain.header("content-type").as_deref(),
        Some("application/json")
    );
}

async fn statuses_and_sessions_map_to_schema_org(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut forum = event_body("Forum", "2020-03-01");
    forum["slug"] = json!("forum");
    forum["end_date"] = json!("2020-03-02");
    app.create("/api/v1/events", forum).await;
    let mut session = event_body("Session", "2020-03-02");
    session["slug"] = json!("session");
    session["parent_event_id"] = json!("forum");
    session["start_time"] = json!("09:30");
    session["end_time"] = json!("11:00");
    session["status"] = json!("moved_online");
    session["attendance_mode"] = json!("online");
    session["kind"] = json!("workshop");
    app.create("/api/v1/events", session).await;
    let doc = ld(&app, "/api/v1/events/session", &[])
        .await
        .expect(200)
        .json();
    assert_eq!(doc["@type"], "EducationEvent");
    assert_eq!(doc["startDate"], "2020-03-02T09:30:00+01:00");
    assert_eq!(doc["endDate"], "2020-03-02T11:00:00+01:00");
    assert_eq!(doc["eventStatus"], "https://schema.org/EventMovedOnline");
    assert_eq!(
        doc["eventAttendanceMode"],
        "https://schema.org/OnlineEventAttendanceMode"
    );
    assert_eq!(doc["superEvent"]["@type"], "Event");
    assert_eq!(doc["superEvent"]["name"], "Forum");
    for (status, term) in [
        ("cancelled", Some("EventCancelled")),
        ("postponed", Some("EventPostponed")),
        ("rescheduled", Some("EventRescheduled")),
        ("tentative", None),
    ] {
        app.patch("/api/v1/events/forum", &json!({"status": status}))
            .await
            .expect(200);
        let doc = ld(&app, "/api/v1/events/forum", &[])
            .await
            .expect(200)
            .json();
        let expected = term.map_or(Value::Null, |t| json!(format!("https://schema.org/{t}")));
        assert_eq!(doc["eventStatus"], expected, "{status}");
    }
}

async fn networks_organisations_and_people_say_who_belongs_where(backend: Backend) {
    let app = with_demo(backend).await;
    let wbcti = ld(&app, "/api/v1/networks/wbcti", &[])
        .await
        .expect(200)
        .json();
    assert_eq!(wbcti["@type"], "Organization");
    let members = wbcti["member"].as_array().cloned().unwrap_or_default();
    assert!(!members.is_empty(), "{wbcti}");
    assert!(members.iter().all(|m| m["@type"] == "OrganizationRole"));
    assert!(
        members
            .iter()
            .any(|m| m["roleName"] == "lead_partner" && m["member"]["name"] == "DCAF Ljubljana"),
        "{wbcti}"
    );
    let dcaf = ld(&app, "/api/v1/organisations/dcaf-ljubljana", &[])
        .await
        .expect(200)
        .json();
    assert_eq!(dcaf["memberOf"][0]["memberOf"]["name"], "WBCTi", "{dcaf}");
    assert_eq!(dcaf["address"]["addressCountry"], "SI");
    let person = ld(&app, "/api/v1/people/maciej-popowski", &[])
        .await
        .expect(200)
        .json();
    assert_eq!(person["@type"], "Person");
    assert_eq!(person["name"], "Maciej Popowski");
    assert_eq!(person["worksFor"]["alternateName"], "DG NEAR");
}

async fn lists_and_chains_are_item_lists_and_series(backend: Backend) {
    let app = with_demo(backend).await;
    let response = ld(&app, "/api/v1/networks/rnnc/meetings?limit=1", &[])
        .await
        .expect(200);
    let list = response.json();
    assert_eq!(list["@type"], "ItemList");
    assert_eq!(list["itemListElement"][0]["position"], 1);
    assert_eq!(list["itemListElement"][0]["item"]["identifier"], "rnnc-3");
    let page = ld(&app, "/api/v1/events?limit=2&city=tirana", &[])
        .await
        .expect(200);
    let link = page.header("link").unwrap_or_default();
    assert!(
        link.contains("city=tirana") && link.contains("cursor=") && link.ends_with("rel=\"next\""),
        "{link}"
    );
    let dcaf = ld(&app, "/api/v1/organisations/dcaf-ljubljana/events", &[])
        .await
        .expect(200)
        .json();
    assert!(
        dcaf["itemListElement"][0]["item"]["@type"]
            .as_str()
            .is_some_and(|t| t.ends_with("Event")),
        "{dcaf}"
    );
    let chain = ld(&app, "/api/v1/chains/tirana-april-2019", &[])
        .await
        .expect(200)
        .json();
    assert_eq!(chain["@type"], "EventSeries");
    let order: Vec<&str> = chain["subEvent"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["identifier"].as_str())
        .collect();
    assert_eq!(
        order,
        [
            "nfp-group-7",
            "rnnc-3",
            "iisg-national-pcve-coordination-albania-1"
        ]
    );
    assert_eq!(chain["startDate"], "2019-04-23T00:00:00+02:00");
}

async fn problems_stay_problems_and_internal_events_stay_hidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut hidden = event_body("Hidden", "2020-03-01");
    hidden["visibility"] = json!("internal");
    app.create("/api/v1/events", hidden).await;
    let missing = ld(&app, "/api/v1/events/hidden", &[]).await;
    assert_eq!(missing.status.as_u16(), 404);
    assert_eq!(
        missing.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let list = ld(&app, "/api/v1/events", &[]).await.expect(200).json();
    assert_eq!(list["numberOfItems"], 0, "{list}");
    let reader = app.reader.clone();
    let seen = app
        .request(
            awc::http::Method::GET,
            "/api/v1/events/hidden",
            &[
                ("accept", LD),
                ("authorization", &format!("Bearer {reader}")),
            ],
            None,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(seen["name"], "Hidden");
    let problem = ld(&app, "/api/v1/events?from=yesterday", &[]).await;
    assert_eq!(problem.status.as_u16(), 400);
    // Paths without a schema.org form answer JSON whatever Accept says.
    let changes = ld(&app, "/api/v1/changes", &[]).await.expect(200);
    assert_eq!(
        changes.header("content-type").as_deref(),
        Some("application/json")
    );
}

on_both_backends!(
    an_event_is_a_schema_org_event,
    statuses_and_sessions_map_to_schema_org,
    networks_organisations_and_people_say_who_belongs_where,
    lists_and_chains_are_item_lists_and_series,
    problems_stay_problems_and_internal_events_stay_hidden,
);
