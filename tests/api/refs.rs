//! References in responses: every record a body or a rule violation names is given by both its
//! id and its slug, never one in place of the other; and the participant roles that let an
//! event say who hosted and who holds the chairmanship.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

fn is_uuid(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|text| uuid::Uuid::parse_str(text).is_ok())
}

/// `(resource, slug)` of each record a violation names, after checking that every one also
/// carries its id, and that `event_ids` and `ids` are those ids and nothing else.
fn named_records(violation: &Value) -> Vec<(String, String)> {
    let records = violation["records"].as_array().cloned().unwrap_or_default();
    assert!(!records.is_empty(), "no records in {violation}");
    let ids_of = |events: bool| -> Vec<Value> {
        records
            .iter()
            .filter(|r| (r["resource"] == "event") == events)
            .map(|r| r["id"].clone())
            .collect()
    };
    for (list, events) in [("event_ids", true), ("ids", false)] {
        let listed = violation[list].as_array().cloned().unwrap_or_default();
        assert!(
            listed.iter().all(is_uuid),
            "{list} is not all ids: {violation}"
        );
        assert_eq!(listed, ids_of(events), "{list} of {violation}");
    }
    records
        .iter()
        .map(|r| {
            assert!(is_uuid(&r["id"]), "{r}");
            (
                r["resource"].as_str().unwrap_or("").to_owned(),
                r["slug"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(r, s)| ((*r).to_owned(), (*s).to_owned()))
        .collect()
}

async fn tirana_chain(app: &TestApp) {
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
        json!({"title": "Tirana, April 2019", "slug": "tirana-april-2019",
               "event_ids": ["nfp-group-7", "rnnc-3", "coordination-albania-1"]}),
    )
    .await;
}

async fn rule_violations_name_each_record_by_id_and_slug(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    tirana_chain(&app).await;

    // A chain rule: the events and the chain, each with id and slug; no slug among the ids.
    let problem = app
        .patch(
            "/api/v1/events/rnnc-3",
            &json!({"location": {"city": "Skopje", "country_code": "MK"}}),
        )
        .await
        .problem(409);
    let violation = &problem["violations"][0];
    assert_eq!(violation["rule"], "chain_same_city", "{problem}");
    assert_eq!(
        named_records(violation),
        pairs(&[
            ("event", "nfp-group-7"),
            ("event", "rnnc-3"),
            ("chain", "tirana-april-2019")
        ])
    );
    let chain = app
        .get("/api/v1/chains/tirana-april-2019")
        .await
        .expect(200)
        .json();
    assert_eq!(violation["ids"], json!([chain["id"]]));

    // An event is in at most one chain: the event and the chain it is in.
    let problem = app
        .post(
            "/api/v1/chains",
            &json!({"title": "Second", "event_ids": ["rnnc-3"]}),
        )
        .await
        .problem(409);
    assert_eq!(
        named_records(&problem["violations"][0]),
        pairs(&[("event", "rnnc-3"), ("chain", "tirana-april-2019")])
    );

    // A slug already taken: the record that has it.
    let mut twin = event_body("Twin", "2019-05-01");
    twin["slug"] = json!("rnnc-3");
    let problem = app.post("/api/v1/events", &twin).await.problem(409);
    assert_eq!(problem["violations"][0]["rule"], "slug_unique");
    assert_eq!(
        named_records(&problem["violations"][0]),
        pairs(&[("event", "rnnc-3")])
    );

    // Still referenced: the referring records, of several kinds.
    app.create(
        "/api/v1/organisations",
        json!({"name": "European Commission", "kind": "eu_institution", "slug": "european-commission"}),
    )
    .await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "DG NEAR", "kind": "eu_institution", "slug": "dg-near",
               "parent_id": "european-commission"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "organisation_id": "european-commission"}),
    )
    .await;
    app.patch(
        "/api/v1/events/nfp-group-7",
        &json!({"organisers": [{"organisation_id": "european-commission", "role": "organiser"}]}),
    )
    .await
    .expect(200);
    let problem = app
        .delete("/api/v1/organisations/european-commission")
        .await
        .problem(409);
    assert_eq!(problem["violations"][0]["rule"], "still_referenced");
    assert_eq!(
        named_records(&problem["violations"][0]),
        pairs(&[
            ("organisation", "dg-near"),
            ("person", "maciej-popowski"),
            ("event", "nfp-group-7")
        ])
    );

    // A series number taken: the event that has it.
    app.create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    app.patch(
        "/api/v1/events/rnnc-3",
        &json!({"network_id": "rnnc", "series_number": 3}),
    )
    .await
    .expect(200);
    let mut again = event_body("Another third", "2019-06-01");
    again["network_id"] = json!("rnnc");
    again["series_number"] = json!(3);
    let problem = app.post("/api/v1/events", &again).await.problem(409);
    assert_eq!(problem["violations"][0]["rule"], "series_unique");
    assert_eq!(
        named_records(&problem["violations"][0]),
        pairs(&[("event", "rnnc-3")])
    );
}

async fn references_in_bodies_embed_a_summary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    tirana_chain(&app).await;

    // The neighbours in a chain, not only their ids.
    let rnnc = app.get("/api/v1/events/rnnc-3").await.expect(200).json();
    let position = &rnnc["chain"];
    assert_eq!(position["previous_event"]["slug"], "nfp-group-7", "{rnnc}");
    assert_eq!(
        position["previous_event"]["id"], position["previous_event_id"],
        "{rnnc}"
    );
    assert_eq!(position["next_event"]["slug"], "coordination-albania-1");
    assert_eq!(position["next_event"]["start_date"], "2019-04-25");
    let first = app
        .get("/api/v1/events/nfp-group-7")
        .await
        .expect(200)
        .json();
    assert!(first["chain"]["previous_event"].is_null(), "{first}");

    // A membership names its network.
    app.create(
        "/api/v1/networks",
        json!({"name": "Regional Network", "acronym": "RNNC", "slug": "rnnc"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Maciej Popowski", "slug": "maciej-popowski"}),
    )
    .await;
    let membership = app
        .create(
            "/api/v1/networks/rnnc/members",
            json!({"person_id": "maciej-popowski", "role": "chair"}),
        )
        .await;
    assert_eq!(membership["network"]["slug"], "rnnc", "{membership}");
    assert_eq!(membership["network"]["id"], membership["network_id"]);
    let members = app
        .get("/api/v1/networks/rnnc/members")
        .await
        .expect(200)
        .json();
    assert_eq!(members["items"][0]["network"]["acronym"], "RNNC");

    // An audit entry names the record it is about, while the record exists.
    let audit = app
        .get_as(&app.admin, "/api/v1/audit?resource=event&limit=200")
        .await
        .expect(200)
        .json();
    let entry = audit["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["record_id"] == rnnc["id"]))
        .cloned()
        .unwrap_or_default();
    assert_eq!(entry["record"]["slug"], "rnnc-3", "{audit}");
    assert_eq!(entry["record"]["id"], rnnc["id"]);
    let mut gone = event_body("Gone", "2019-07-01");
    gone["slug"] = json!("gone");
    let gone = app.create("/api/v1/events", gone).await;
    app.delete("/api/v1/events/gone").await.expect(204);
    let audit = app
        .get_as(&app.admin, "/api/v1/audit?resource=event&limit=200")
        .await
        .expect(200)
        .json();
    let entries: Vec<&Value> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["record_id"] == gone["id"])
        .collect();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(entries.iter().all(|e| e["record"].is_null()), "{audit}");
}

async fn a_person_hosts_and_organisations_hold_the_chair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (slug, name) in [
        ("european-commission", "European Commission"),
        ("dg-home", "DG HOME"),
    ] {
        app.create(
            "/api/v1/organisations",
            json!({"name": name, "kind": "eu_institution", "slug": slug}),
        )
        .await;
    }
    app.create(
        "/api/v1/people",
        json!({"full_name": "Filip de Ceuninck", "slug": "filip-de-ceuninck"}),
    )
    .await;
    let mut body = event_body("Coordination meeting", "2017-09-14");
    body["participants"] = json!([
        {"person_id": "filip-de-ceuninck", "role": "host"},
        {"organisation_id": "european-commission", "role": "chair"},
        {"organisation_id": "dg-home", "role": "chair"}
    ]);
    let event = app.create("/api/v1/events", body).await;
    let roles: Vec<(String, String)> = event["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["participant"]["slug"].as_str().unwrap_or("").to_owned(),
                p["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        pairs(&[
            ("filip-de-ceuninck", "host"),
            ("european-commission", "chair"),
            ("dg-home", "chair")
        ])
    );
    let hosted = app
        .get("/api/v1/people/filip-de-ceuninck/events")
        .await
        .expect(200)
        .json();
    assert_eq!(hosted["items"][0]["roles"], json!(["host"]), "{hosted}");
    // An unknown role is still refused, naming the field.
    let mut bad = event_body("Bad role", "2017-09-15");
    bad["participants"] = json!([{"person_id": "filip-de-ceuninck", "role": "landlord"}]);
    let problem = app.post("/api/v1/events", &bad).await.problem(422);
    assert!(problem.to_string().contains("participants"), "{problem}");
}

on_both_backends!(
    rule_violations_name_each_record_by_id_and_slug,
    references_in_bodies_embed_a_summary,
    a_person_hosts_and_organisations_hold_the_chair,
);
