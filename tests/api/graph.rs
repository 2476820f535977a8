//! Organisations, people, networks and the references between them and events.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
use crate::on_both_backends;

async fn seed_graph(app: &TestApp) {
    app.create("/api/v1/organisations", json!({"name": "European Commission", "kind": "eu_institution", "slug": "european-commission"})).await;
    app.create(
        "/api/v1/organisations",
        json!({
            "name": "Directorate-General for Neighbourhood and Enlargement Negotiations",
            "acronym": "DG NEAR", "kind": "eu_institution", "parent_id": "european-commission"
        }),
    )
    .await;
    app.create("/api/v1/organisations", json!({"name": "DCAF Ljubljana", "kind": "ngo", "country_code": "SI", "slug": "dcaf-ljubljana"})).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "IISG Support Group", "kind": "programme", "slug": "iisg-support-group"}),
    )
    .await;
    app.create("/api/v1/people", json!({
        "full_name": "Maciej Popowski", "honorific": "Mr", "position": "Deputy Director-General",
        "organisation_id": "dg-near", "email": "m.popowski@example.eu"
    })).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Vlado Azinović", "honorific": "Dr"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({
            "name": "Regional Network of National P-CVE Coordinators", "acronym": "RNNC",
            "established_on": "2018-06-01", "coordinator_id": "iisg-support-group",
            "supporter_ids": ["european-commission", "dcaf-ljubljana"]
        }),
    )
    .await;
}

async fn organisations_nest_and_embed_their_parent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_graph(&app).await;
    let near = app
        .get("/api/v1/organisations/dg-near")
        .await
        .expect(200)
        .json();
    assert_eq!(near["parent"]["slug"], "european-commission");
    assert_eq!(near["acronym"], "DG NEAR");
    let parts = app
        .get("/api/v1/organisations?parent=european-commission")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&parts, "slug"), ["dg-near"]);
    let eu = app
        .get("/api/v1/organisations?kind=eu_institution")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&eu, "slug"), ["dg-near", "european-commission"]);
    let slovenian = app
        .get("/api/v1/organisations?country=si")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&slovenian, "slug"), ["dcaf-ljubljana"]);
    let found = app
        .get("/api/v1/organisations?q=neighbourhood")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&found, "slug"), ["dg-near"]);

    // A cycle through the parents is refused and changes nothing.
    let problem = app
        .patch(
            "/api/v1/organisations/european-commission",
            &json!({"parent_id": "dg-near"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["violations"][0]["rule"], "parent_cycle");
    assert_eq!(
        app.get("/api/v1/organisations/european-commission")
            .await
            .json()["parent_id"],
        Value::Null
    );
    let problem = app
        .post(
            "/api/v1/organisations",
            &json!({"name": "X", "kind": "other", "parent_id": "nobody"}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "parent_id");
}

async fn people_show_contact_fields_only_to_token_holders(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_graph(&app).await;
    let person = app
        .get("/api/v1/people/maciej-popowski")
        .await
        .expect(200)
        .json();
    assert_eq!(person["organisation"]["slug"], "dg-near");
    assert!(person.get("email").is_none(), "{person}");
    let found = app
        .get("/api/v1/people?q=azinovic")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&found, "full_name"), ["Vlado Azinović"]);
    let affiliated = app
        .get("/api/v1/people?organisation=dg-near")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&affiliated, "slug"), ["maciej-popowski"]);
    let problem = app
        .post(
            "/api/v1/people",
            &json!({"full_name": "X", "email": "nope"}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "email");
}

async fn networks_list_members_as_of_a_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_graph(&app).await;
    let network = app.get("/api/v1/networks/rnnc").await.expect(200).json();
    assert_eq!(network["coordinator"]["slug"], "iisg-support-group");
    assert_eq!(network["supporters"].as_array().map(Vec::len), Some(2));
    assert_eq!(network["supporters"][1]["slug"], "dcaf-ljubljana");

    let chair = app.create("/api/v1/networks/rnnc/members", json!({
        "person_id": "maciej-popowski", "role": "chair", "since": "2018-06-01", "until": "2019-06-30"
    })).await;
    app.create("/api/v1/networks/rnnc/members", json!({
        "organisation_id": "dcaf-ljubljana", "role": "lead_partner", "country_code": "SI", "since": "2019-07-01"
    })).await;
    app.create(
        "/api/v1/networks/rnnc/members",
        json!({"person_id": "vlado-azinovic", "role": "member"}),
    )
    .await;
    let member_slugs = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|i| {
                i.iter()
                    .map(|m| m["member"]["slug"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let in_2019 = app
        .get("/api/v1/networks/rnnc/members?as_of=2019-04-24")
        .await
        .expect(200)
        .json();
    assert_eq!(member_slugs(in_2019), ["maciej-popowski", "vlado-azinovic"]);
    let in_2020 = app
        .get("/api/v1/networks/rnnc/members?as_of=2020-01-01")
        .await
        .expect(200)
        .json();
    assert_eq!(member_slugs(in_2020), ["dcaf-ljubljana", "vlado-azinovic"]);
    let chairs = app
        .get("/api/v1/networks/rnnc/members?role=chair")
        .await
        .expect(200)
        .json();
    assert_eq!(member_slugs(chairs), ["maciej-popowski"]);

    let path = format!(
        "/api/v1/networks/rnnc/members/{}",
        chair["id"].as_str().unwrap_or("")
    );
    let patched = app
        .patch(&path, &json!({"until": "2019-12-31"}))
        .await
        .expect(200)
        .json();
    assert_eq!(patched["until"], "2019-12-31");
    app.patch(&path, &json!({"until": "2017-01-01"}))
        .await
        .problem(422);
    app.post(
        "/api/v1/networks/rnnc/members",
        &json!({"person_id": "nobody", "role": "member"}),
    )
    .await
    .problem(422);
    app.post(
        "/api/v1/networks/nowhere/members",
        &json!({"person_id": "vlado-azinovic", "role": "member"}),
    )
    .await
    .problem(404);
    app.delete(&path).await.expect(204);
    app.get(&path).await.problem(404);
    app.get("/api/v1/networks/rnnc/members?as_of=2019-02-30")
        .await
        .problem(400);
}

async fn events_embed_what_they_refer_to(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_graph(&app).await;
    let mut body = event_body("3rd RNNC meeting", "2019-04-24");
    body["network_id"] = json!("rnnc");
    body["series_number"] = json!(3);
    body["organisers"] = json!([{"organisation_id": "iisg-support-group", "role": "organiser"}, {"organisation_id": "dcaf-ljubljana", "role": "funder"}]);
    body["participants"] = json!([{"person_id": "maciej-popowski", "role": "chair"}, {"organisation_id": "dg-near", "role": "observer"}]);
    let event = app.create("/api/v1/events", body).await;
    assert_eq!(event["network"]["acronym"], "RNNC");
    assert_eq!(
        event["organisers"][1]["organisation"]["slug"],
        "dcaf-ljubljana"
    );
    assert_eq!(event["organisers"][1]["role"], "funder");
    assert_eq!(
        event["participants"][0]["participant"]["name"],
        "Maciej Popowski"
    );
    assert_eq!(event["participants"][0]["role"], "chair");
    assert_eq!(
        event["participants"][1]["organisation_id"],
        app.get("/api/v1/organisations/dg-near").await.json()["id"]
    );

    let mut session = event_body("Home affairs session", "2019-04-24");
    session["parent_event_id"] = event["slug"].clone();
    let session = app.create("/api/v1/events", session).await;
    assert_eq!(session["parent_event"]["slug"], event["slug"]);

    let by_person = app
        .get("/api/v1/events?person=maciej-popowski")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&by_person, "title"), ["3rd RNNC meeting"]);
    let by_org = app
        .get("/api/v1/events?organisation=dg-near")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&by_org, "title"), ["3rd RNNC meeting"]);
    let roles = app
        .get("/api/v1/organisations/dcaf-ljubljana/events")
        .await
        .expect(200)
        .json();
    assert_eq!(roles["items"][0]["roles"], json!(["funder"]));
    let chaired = app
        .get("/api/v1/people/maciej-popowski/events")
        .await
        .expect(200)
        .json();
    assert_eq!(chaired["items"][0]["roles"], json!(["chair"]));
    app.get("/api/v1/people/nobody/events").await.problem(404);

    // Unknown references are 422 naming the field; nothing is stored.
    let mut bad = event_body("Bad", "2019-05-01");
    bad["organisers"] = json!([{"organisation_id": "ghost", "role": "host"}]);
    bad["participants"] = json!([{"person_id": "ghost", "role": "chair"}]);
    bad["network_id"] = json!("ghost");
    let problem = app.post("/api/v1/events", &bad).await.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        [
            "network_id",
            "organisers[0].organisation_id",
            "participants[0].person_id"
        ]
    );
    let all = app.get("/api/v1/events").await.json();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));

    // A session cannot contain its own parent.
    let problem = app
        .patch(
            &format!("/api/v1/events/{}", event["slug"].as_str().unwrap_or("")),
            &json!({"parent_event_id": session["slug"]}),
        )
        .await
        .problem(409);
    assert_eq!(problem["violations"][0]["rule"], "parent_cycle");
}

async fn series_numbers_are_unique_and_rise_with_dates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_graph(&app).await;
    for (n, date) in [(1, "2018-06-20"), (3, "2019-04-24")] {
        let mut body = event_body(&format!("RNNC meeting {n}"), date);
        body["network_id"] = json!("rnnc");
        body["series_number"] = json!(n);
        app.create("/api/v1/events", body).await;
    }
    let mut duplicate = event_body("Another third", "2019-05-01");
    duplicate["network_id"] = json!("rnnc");
    duplicate["series_number"] = json!(3);
    let problem = app.post("/api/v1/events", &duplicate).await.problem(409);
    assert_eq!(problem["violations"][0]["rule"], "series_unique");
    let mut early_fourth = event_body("Fourth before the third", "2019-01-10");
    early_fourth["network_id"] = json!("rnnc");
    early_fourth["series_number"] = json!(4);
    let problem = app.post("/api/v1/events", &early_fourth).await.problem(409);
    assert_eq!(problem["violations"][0]["rule"], "series_order");
    let mut second = event_body("RNNC meeting 2", "2018-11-15");
    second["network_id"] = json!("rnnc");
    second["series_number"] = json!(2);
    app.create("/api/v1/events", second).await;
    // Moving the 2nd after the 3rd is refused and changes nothing.
    app.patch(
        "/api/v1/events/rnnc-meeting-2",
        &json!({"start_date": "2019-06-01", "end_date": "2019-06-01"}),
    )
    .await
    .problem(409);
    let meetings = app
        .get("/api/v1/networks/rnnc/meetings")
        .await
        .expect(200)
        .json();
    let numbers: Vec<i64> = meetings["items"]
        .as_array()
        .map(|i| {
            i.iter()
                .filter_map(|e| e["series_number"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(meetings["items"][1]["start_date"], "2018-11-15");
    app.get("/api/v1/networks/nowhere/meetings")
        .await
        .problem(404);
}

async fn referenced_records_cannot_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_graph(&app).await;
    let mut body = event_body("RNNC meeting", "2019-04-24");
    body["network_id"] = json!("rnnc");
    body["participants"] = json!([{"person_id": "maciej-popowski", "role": "chair"}]);
    app.create("/api/v1/events", body).await;
    for path in [
        "/api/v1/organisations/european-commission",
        "/api/v1/organisations/dg-near",
        "/api/v1/organisations/dcaf-ljubljana",
        "/api/v1/people/maciej-popowski",
        "/api/v1/networks/rnnc",
    ] {
        let problem = app.delete(path).await.problem(409);
        assert_eq!(
            problem["violations"][0]["rule"], "still_referenced",
            "{path}"
        );
        app.get(path).await.expect(200);
    }
    app.delete("/api/v1/events/rnnc-meeting").await.expect(204);
    app.delete("/api/v1/networks/rnnc").await.expect(204);
    app.delete("/api/v1/people/maciej-popowski")
        .await
        .expect(204);
    app.delete("/api/v1/organisations/dg-near")
        .await
        .expect(204);
    app.delete("/api/v1/organisations/european-commission")
        .await
        .expect(204);
}

async fn slugs_are_unique_per_resource_type(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "RNNC Secretariat", "kind": "other", "slug": "rnnc"}),
    )
    .await;
    // The same slug for a network is fine: slugs are unique per resource type.
    app.create(
        "/api/v1/networks",
        json!({"name": "Regional Network", "slug": "rnnc"}),
    )
    .await;
    let problem = app
        .post(
            "/api/v1/organisations",
            &json!({"name": "Other", "kind": "other", "slug": "rnnc"}),
        )
        .await
        .problem(409);
    assert_eq!(problem["violations"][0]["rule"], "slug_unique");
    let network = app.get("/api/v1/networks/rnnc").await.expect(200);
    let etag = network.header("etag").unwrap_or_default();
    let by_id = app
        .get(&format!(
            "/api/v1/networks/{}",
            network.json()["id"].as_str().unwrap_or("")
        ))
        .await
        .expect(200);
    assert_eq!(by_id.header("etag").unwrap_or_default(), etag);
    let stale = app
        .write(
            Method::PATCH,
            "/api/v1/networks/rnnc",
            &[("if-match", "\"old\"")],
            Some(("application/json", b"{\"name\": \"x\"}".to_vec())),
        )
        .await;
    stale.problem(412);
}

on_both_backends!(
    organisations_nest_and_embed_their_parent,
    people_show_contact_fields_only_to_token_holders,
    networks_list_members_as_of_a_date,
    events_embed_what_they_refer_to,
    series_numbers_are_unique_and_rise_with_dates,
    referenced_records_cannot_be_deleted,
    slugs_are_unique_per_resource_type,
);
