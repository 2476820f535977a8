//! Programmes: CRUD on the shared write path, the period and parent rules, the organisations
//! with their roles, the events implemented under a programme (with the out-of-period
//! warning), the lists that filter by them, and hostile input.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
use crate::on_both_backends;

const DEMO: &str = include_str!("../../data/demo.json");

/// The organisations the programmes below name.
async fn seed_organisations(app: &TestApp) {
    for (slug, name, kind) in [
        ("european-union", "European Union", "eu_institution"),
        (
            "dcaf-ljubljana",
            "DCAF Ljubljana",
            "international_organisation",
        ),
        (
            "rcc",
            "Regional Cooperation Council",
            "regional_organisation",
        ),
        (
            "undp",
            "United Nations Development Programme",
            "international_organisation",
        ),
    ] {
        app.create(
            "/api/v1/organisations",
            json!({"slug": slug, "name": name, "kind": kind}),
        )
        .await;
    }
}

fn pcve_action() -> Value {
    json!({
        "slug": "support-to-pcve",
        "title": "Support to Prevention and Countering Violent Extremism (P/CVE) in the Western Balkans",
        "kind": "action",
        "funding_instrument": "IPA II 2016",
        "organisations": [
            {"organisation_id": "european-union", "role": "funder"},
            {"organisation_id": "dcaf-ljubljana", "role": "coordinator", "since": "2017-01-01"},
            {"organisation_id": "rcc", "role": "implementing_partner"},
            {"organisation_id": "undp", "role": "implementing_partner"}
        ]
    })
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn rule(problem: &Value) -> String {
    problem["violations"][0]["rule"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

async fn a_programme_is_created_read_changed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_organisations(&app).await;
    let created = app
        .post("/api/v1/programmes", &pcve_action())
        .await
        .expect(201);
    assert_eq!(
        created.header("location").as_deref(),
        Some(
            format!(
                "/api/v1/programmes/{}",
                created.json()["id"].as_str().unwrap_or("")
            )
            .as_str()
        )
    );
    let body = created.json();
    assert_eq!(body["funding_instrument"], "IPA II 2016");
    assert_eq!(body["version"], 1);
    let roles: Vec<(String, String)> = body["organisations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["organisation"]["slug"].as_str().unwrap_or("").to_owned(),
                o["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("european-union".into(), "funder".into()),
            ("dcaf-ljubljana".into(), "coordinator".into()),
            ("rcc".into(), "implementing_partner".into()),
            ("undp".into(), "implementing_partner".into()),
        ]
    );
    assert_eq!(body["organisations"][1]["since"], "2017-01-01");
    assert_eq!(
        body["organisations"][1]["organisation"]["name"],
        "DCAF Ljubljana"
    );

    // By slug and by id, with an ETag that answers 304.
    let by_slug = app
        .get("/api/v1/programmes/support-to-pcve")
        .await
        .expect(200);
    let etag = by_slug.header("etag").unwrap_or_default();
    let id = body["id"].as_str().unwrap_or("").to_owned();
    app.get(&format!("/api/v1/programmes/{id}"))
        .await
        .expect(200);
    app.request(
        Method::GET,
        "/api/v1/programmes/support-to-pcve",
        &[("if-none-match", &etag)],
        None,
    )
    .await
    .expect(304);

    // A merge patch replaces the organisations whole and leaves the rest.
    let patched = app
        .patch(
            "/api/v1/programmes/support-to-pcve",
            &json!({"status": "active", "organisations": [{"organisation_id": "dcaf-ljubljana", "role": "coordinator"}]}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(patched["status"], "active");
    assert_eq!(patched["funding_instrument"], "IPA II 2016");
    assert_eq!(patched["organisations"].as_array().map(Vec::len), Some(1));
    assert_eq!(patched["version"], 2);

    // The ETag read before the change is stale now.
    app.write(
        Method::PATCH,
        "/api/v1/programmes/support-to-pcve",
        &[("if-match", &etag)],
        Some((
            "application/merge-patch+json",
            json!({"status": "completed"}).to_string().into_bytes(),
        )),
    )
    .await
    .problem(412);

    // The audit log names both writes.
    let audit = app
        .get_as(
            &app.admin,
            &format!("/api/v1/audit?resource=programme&id={id}"),
        )
        .await
        .expect(200)
        .json();
    let actions: Vec<String> = item_fields(&audit, "action");
    assert!(
        actions.contains(&"create".to_owned()) && actions.contains(&"update".to_owned()),
        "{audit}"
    );

    // The change feed lists it with its URL.
    let changes = app
        .get("/api/v1/changes?since=0&limit=200")
        .await
        .expect(200)
        .json();
    assert!(
        changes["items"].as_array().into_iter().flatten().any(|c| c["resource"] == "programme"
            && c["url"] == format!("/api/v1/programmes/{id}")),
        "{changes}"
    );

    app.delete("/api/v1/programmes/support-to-pcve")
        .await
        .expect(204);
    app.get("/api/v1/programmes/support-to-pcve")
        .await
        .problem(404);
}

async fn lists_filter_by_kind_status_organisation_role_parent_and_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_organisations(&app).await;
    app.create("/api/v1/programmes", pcve_action()).await;
    app.create(
        "/api/v1/programmes",
        json!({"slug": "hf-ii", "title": "Horizontal Facility II", "kind": "programme", "status": "active",
               "organisations": [{"organisation_id": "european-union", "role": "funder"}]}),
    )
    .await;
    app.create(
        "/api/v1/programmes",
        json!({"slug": "prisons", "title": "Radicalisation in prisons", "kind": "project", "parent_id": "hf-ii",
               "start_date": "2019-10-22", "duration_months": 36}),
    )
    .await;
    let slugs = |page: Value| item_fields(&page, "slug");
    let get = |query: &str| {
        let url = format!("/api/v1/programmes{query}");
        let app = &app;
        async move { app.get(&url).await.expect(200).json() }
    };
    assert_eq!(
        slugs(get("").await),
        ["hf-ii", "prisons", "support-to-pcve"]
    );
    assert_eq!(slugs(get("?kind=project").await), ["prisons"]);
    assert_eq!(slugs(get("?status=active").await), ["hf-ii"]);
    assert_eq!(
        slugs(get("?organisation=european-union").await),
        ["hf-ii", "support-to-pcve"]
    );
    assert_eq!(
        slugs(get("?organisation=rcc&role=funder").await),
        Vec::<String>::new()
    );
    assert_eq!(slugs(get("?role=coordinator").await), ["support-to-pcve"]);
    assert_eq!(slugs(get("?parent=hf-ii").await), ["prisons"]);
    assert_eq!(slugs(get("?q=ipa%20ii").await), ["support-to-pcve"]);
    // Pages follow one another without repeats.
    let first = get("?limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap_or("").to_owned();
    let second = get(&format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(slugs(second.clone()), ["support-to-pcve"]);
    assert!(second["next_cursor"].is_null());

    // The organisation's own list.
    let own = app
        .get("/api/v1/organisations/european-union/programmes?role=funder")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(own), ["hf-ii", "support-to-pcve"]);
    app.get("/api/v1/organisations/nobody/programmes")
        .await
        .problem(404);

    // The project's summary of its parent, and the derived end of its period.
    let project = get("?parent=hf-ii").await;
    assert_eq!(project["items"][0]["parent"]["slug"], "hf-ii");
    assert_eq!(
        project["items"][0]["parent"]["title"],
        "Horizontal Facility II"
    );
    assert_eq!(project["items"][0]["effective_end_date"], "2022-10-21");
    assert!(project["items"][0]["end_date"].is_null());

    // Filters that cannot hold: 400 for a malformed one, 422 for one naming nothing.
    app.get("/api/v1/programmes?kind=fund").await.problem(400);
    app.get("/api/v1/programmes?role=sponsor")
        .await
        .problem(400);
    app.get("/api/v1/programmes?limit=0").await.problem(400);
    app.get("/api/v1/programmes?colour=red").await.problem(400);
    let problem = app
        .get("/api/v1/programmes?parent=nothing-here")
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["parent"]);
    let problem = app
        .get("/api/v1/programmes?organisation=nobody")
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["organisation"]);
}

async fn periods_must_hold_together(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let post = |body: Value| {
        let app = &app;
        async move { app.post("/api/v1/programmes", &body).await }
    };
    let problem = post(
        json!({"title": "A", "kind": "plan", "start_date": "2019-01-01", "end_date": "2018-12-31"}),
    )
    .await
    .problem(422);
    assert_eq!(fields(&problem), ["end_date"]);
    let problem = post(json!({"title": "A", "kind": "plan", "start_date": "2019-01-01", "end_date": "2019-06-30", "duration_months": 36}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["duration_months"]);
    for months in [0, 601, -3] {
        let problem = post(json!({"title": "A", "kind": "plan", "duration_months": months}))
            .await
            .problem(422);
        assert_eq!(fields(&problem), ["duration_months"], "{months}");
    }
    let problem = post(json!({"title": "A", "kind": "plan", "start_date": "2019-02-30"}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["start_date"]);
    // A duration that agrees with both dates, and one with a start alone.
    let agreeing = post(json!({"title": "B", "kind": "action", "start_date": "2019-01-01", "end_date": "2021-12-20", "duration_months": 36}))
        .await
        .expect(201)
        .json();
    assert_eq!(agreeing["effective_end_date"], "2021-12-20");
    let open = post(json!({"title": "C", "kind": "action", "duration_months": 24}))
        .await
        .expect(201)
        .json();
    assert!(open["effective_end_date"].is_null());
    // A patch that leaves the period broken is refused like a new record.
    let problem = app
        .patch("/api/v1/programmes/b", &json!({"end_date": "2018-01-01"}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["end_date"]);
}

async fn parent_cycles_and_dangling_references_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_organisations(&app).await;
    app.create(
        "/api/v1/programmes",
        json!({"slug": "a", "title": "A", "kind": "programme"}),
    )
    .await;
    app.create(
        "/api/v1/programmes",
        json!({"slug": "b", "title": "B", "kind": "action", "parent_id": "a"}),
    )
    .await;
    app.create(
        "/api/v1/programmes",
        json!({"slug": "c", "title": "C", "kind": "project", "parent_id": "b"}),
    )
    .await;
    let problem = app
        .patch("/api/v1/programmes/a", &json!({"parent_id": "c"}))
        .await
        .problem(409);
    assert_eq!(rule(&problem), "parent_cycle");
    let problem = app
        .patch("/api/v1/programmes/a", &json!({"parent_id": "a"}))
        .await
        .problem(409);
    assert_eq!(rule(&problem), "parent_cycle");
    // The refused writes changed nothing.
    let a = app.get("/api/v1/programmes/a").await.expect(200).json();
    assert!(a["parent_id"].is_null() && a["version"] == 1, "{a}");

    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "D", "kind": "project", "parent_id": "nothing-here",
                    "organisations": [{"organisation_id": "rcc", "role": "beneficiary"},
                                      {"organisation_id": "no-such-organisation", "role": "funder"}]}),
        )
        .await
        .problem(422);
    assert!(
        fields(&problem).contains(&"organisations[1].organisation_id".to_owned()),
        "{problem}"
    );
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "D", "kind": "project", "parent_id": "nothing-here"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["parent_id"]);

    // The same organisation twice in one role, by slug and by id.
    let rcc = app
        .get("/api/v1/organisations/rcc")
        .await
        .expect(200)
        .json();
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "E", "kind": "plan", "organisations": [
                {"organisation_id": "rcc", "role": "funder"},
                {"organisation_id": rcc["id"], "role": "funder"}
            ]}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["organisations[1].organisation_id"]);

    // A taken slug.
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"slug": "a", "title": "Another A", "kind": "plan"}),
        )
        .await
        .problem(409);
    assert_eq!(rule(&problem), "slug_unique");

    // Deleting what others refer to.
    let problem = app.delete("/api/v1/programmes/a").await.problem(409);
    assert_eq!(rule(&problem), "still_referenced");
    app.create(
        "/api/v1/programmes",
        json!({"slug": "f", "title": "F", "kind": "plan", "organisations": [{"organisation_id": "undp", "role": "lead_partner"}]}),
    )
    .await;
    let problem = app.delete("/api/v1/organisations/undp").await.problem(409);
    assert_eq!(rule(&problem), "still_referenced");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("programmes")),
        "{problem}"
    );
}

async fn hostile_input_is_refused_and_never_a_500(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let send = |content_type: &'static str, body: &'static str| {
        let app = &app;
        async move {
            app.write(
                Method::POST,
                "/api/v1/programmes",
                &[],
                Some((content_type, body.as_bytes().to_vec())),
            )
            .await
        }
    };
    send("application/json", "{\"title\": \"A\", ")
        .await
        .problem(400);
    send("application/json", "[1, 2]").await.problem(422);
    send("text/plain", "{}").await.problem(415);
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "A", "kind": "programme", "budget": 5}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["budget"]);
    let problem = app
        .post("/api/v1/programmes", &json!({"title": "A", "kind": "fund"}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["kind"]);
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "A", "kind": "plan", "duration_months": "three years"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["duration_months"]);
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "x".repeat(301), "kind": "plan", "funding_instrument": "y".repeat(201),
                    "description": "z".repeat(20_001), "slug": "Not A Slug"}),
        )
        .await
        .problem(422);
    assert_eq!(
        fields(&problem),
        ["title", "slug", "funding_instrument", "description"]
    );
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "A", "kind": "plan", "organisations": [{"organisation_id": "rcc", "role": "sponsor"}]}),
        )
        .await
        .problem(422);
    assert!(
        fields(&problem)[0].starts_with("organisations"),
        "{problem}"
    );
    let problem = app
        .post(
            "/api/v1/programmes",
            &json!({"title": "A", "kind": "plan", "organisations": [{"organisation_id": "rcc", "role": "funder", "since": "2020-01-01", "until": "2019-01-01"}]}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["organisations[0].until"]);

    // Tokens: none or a bad one is 401, a reader's is 403; reads need none.
    let body = json!({"title": "A", "kind": "plan"}).to_string();
    app.request(
        Method::POST,
        "/api/v1/programmes",
        &[],
        Some(("application/json", body.clone().into_bytes())),
    )
    .await
    .problem(401);
    app.request(
        Method::POST,
        "/api/v1/programmes",
        &[("authorization", "Bearer not-a-token")],
        Some(("application/json", body.clone().into_bytes())),
    )
    .await
    .problem(401);
    let reader = format!("Bearer {}", app.reader);
    app.request(
        Method::POST,
        "/api/v1/programmes",
        &[("authorization", &reader)],
        Some(("application/json", body.into_bytes())),
    )
    .await
    .problem(403);
    app.get("/api/v1/programmes").await.expect(200);

    // Unknown records.
    app.get("/api/v1/programmes/no-such-programme")
        .await
        .problem(404);
    app.get("/api/v1/programmes/0193a7a0-0000-7000-8000-000000000000")
        .await
        .problem(404);
    app.get("/api/v1/programmes/%00%ff").await.problem(404);
    app.patch(
        "/api/v1/programmes/no-such-programme",
        &json!({"title": "B"}),
    )
    .await
    .problem(404);
    app.delete("/api/v1/programmes/no-such-programme")
        .await
        .problem(404);
    app.get("/api/v1/programmes/no-such-programme/events")
        .await
        .problem(404);
}

async fn events_are_implemented_under_a_programme(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/programmes",
        json!({"slug": "hf-ii", "title": "Horizontal Facility II", "kind": "programme"}),
    )
    .await;
    let project = app
        .create(
            "/api/v1/programmes",
            json!({"slug": "prisons", "title": "Radicalisation in prisons", "kind": "project",
                   "parent_id": "hf-ii", "start_date": "2019-10-22", "duration_months": 36}),
        )
        .await;
    let mut launch = event_body(
        "Regional conference on radicalisation in prisons",
        "2019-10-22",
    );
    launch["end_date"] = json!("2019-10-23");
    launch["programme_id"] = json!("prisons");
    let created = app.post("/api/v1/events", &launch).await.expect(201).json();
    assert_eq!(created["programme_id"], project["id"]);
    assert_eq!(
        created["programme"],
        json!({"id": project["id"], "slug": "prisons", "title": "Radicalisation in prisons", "kind": "project"})
    );
    assert!(created["warnings"].is_null(), "in its period: {created}");

    // Before the project began: recorded, with a warning.
    let mut early = event_body("Preparatory meeting", "2019-06-01");
    early["programme_id"] = project["id"].clone();
    let early = app.post("/api/v1/events", &early).await.expect(201).json();
    assert_eq!(
        early["warnings"][0]["kind"], "outside_programme_period",
        "{early}"
    );
    assert_eq!(early["warnings"][0]["programme"]["slug"], "prisons");
    assert_eq!(early["warnings"][0]["programme_start_date"], "2019-10-22");
    assert_eq!(early["warnings"][0]["programme_end_date"], "2022-10-21");
    // Moved into the period: no more warning.
    let moved = app
        .patch(
            &format!("/api/v1/events/{}", early["slug"].as_str().unwrap_or("")),
            &json!({"start_date": "2020-03-01", "end_date": "2020-03-01"}),
        )
        .await
        .expect(200)
        .json();
    assert!(moved["warnings"].is_null(), "{moved}");
    // And after it ended.
    let late = app
        .patch(
            &format!("/api/v1/events/{}", early["slug"].as_str().unwrap_or("")),
            &json!({"start_date": "2022-10-22", "end_date": "2022-10-22"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        late["warnings"][0]["kind"], "outside_programme_period",
        "{late}"
    );

    // An event of no programme, and one of the parent programme.
    app.create("/api/v1/events", event_body("Unrelated", "2020-05-05"))
        .await;
    let mut of_parent = event_body("Programme board", "2021-01-10");
    of_parent["programme_id"] = json!("hf-ii");
    app.create("/api/v1/events", of_parent).await;

    let slugs = |page: &Value| item_fields(page, "slug");
    let listed = app
        .get("/api/v1/events?programme=prisons")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&listed).len(), 2, "{listed}");
    let nested = app
        .get("/api/v1/programmes/prisons/events")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&nested), slugs(&listed));
    let by_id = app
        .get(&format!(
            "/api/v1/programmes/{}/events?sort=-start&limit=1",
            project["id"].as_str().unwrap_or("")
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(by_id["items"][0]["start_date"], "2022-10-22");
    assert!(by_id["next_cursor"].is_string());
    let filtered = app
        .get("/api/v1/programmes/prisons/events?from=2019-10-01&to=2019-12-31")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&filtered), [created["slug"].as_str().unwrap_or("")]);
    let of_parent = app
        .get("/api/v1/programmes/hf-ii/events")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&of_parent), ["programme-board"]);
    let problem = app
        .get("/api/v1/events?programme=no-such-programme")
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["programme"]);

    // A dangling programme on an event, and deleting a programme events are under.
    let mut dangling = event_body("Dangling", "2020-01-01");
    dangling["programme_id"] = json!("no-such-programme");
    let problem = app.post("/api/v1/events", &dangling).await.problem(422);
    assert_eq!(fields(&problem), ["programme_id"]);
    dangling["programme_id"] = json!("");
    let problem = app.post("/api/v1/events", &dangling).await.problem(422);
    assert_eq!(fields(&problem), ["programme_id"]);
    let problem = app.delete("/api/v1/programmes/prisons").await.problem(409);
    assert_eq!(rule(&problem), "still_referenced");
    assert!(
        problem["violations"][0]["records"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["resource"] == "event")),
        "{problem}"
    );

    // A renamed programme is renamed in the events under it.
    app.patch(
        "/api/v1/programmes/prisons",
        &json!({"title": "Prisons project"}),
    )
    .await
    .expect(200);
    let event = app
        .get(&format!(
            "/api/v1/events/{}",
            created["slug"].as_str().unwrap_or("")
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(event["programme"]["title"], "Prisons project");

    // Clearing the programme frees it.
    for slug in slugs(&listed) {
        app.patch(
            &format!("/api/v1/events/{slug}"),
            &json!({"programme_id": null}),
        )
        .await
        .expect(200);
    }
    app.delete("/api/v1/programmes/prisons").await.expect(204);
}

async fn the_demo_programmes_say_what_the_page_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = meeting_registry::db::Database::connect(&app.database_url, 1).expect("connect");
    db.with_connection(|conn| {
        meeting_registry::bulk::import(conn, DEMO, Default::default())
            .map(drop)
            .map_err(|e| e.to_string())
    })
    .expect("demo imports");

    // "funded by the EU instrument IPA II 2016 ... coordinated by DCAF Ljubljana, and the
    // implementation partners are RCC, UNDP and IOM".
    let action = app
        .get("/api/v1/programmes/support-to-pcve-western-balkans")
        .await
        .expect(200)
        .json();
    assert_eq!(action["kind"], "action");
    assert_eq!(action["funding_instrument"], "IPA II 2016");
    let partners = app
        .get("/api/v1/programmes?organisation=dcaf-ljubljana&role=coordinator")
        .await
        .expect(200)
        .json();
    assert_eq!(
        item_fields(&partners, "slug"),
        ["support-to-pcve-western-balkans"]
    );
    for partner in ["rcc", "undp", "iom"] {
        let own = app
            .get(&format!(
                "/api/v1/organisations/{partner}/programmes?role=implementing_partner"
            ))
            .await
            .expect(200)
            .json();
        assert_eq!(
            item_fields(&own, "slug"),
            ["support-to-pcve-western-balkans"],
            "{partner}"
        );
    }
    // No dates: the page gives none.
    assert!(action["start_date"].is_null() && action["effective_end_date"].is_null());

    // "funded by the European Union and the Council of Europe, with a duration of 36 months":
    // the project launched at the Sarajevo conference, under HF II; no end date on the page.
    let project = app
        .get("/api/v1/programmes/radicalisation-in-prisons-wb")
        .await
        .expect(200)
        .json();
    assert_eq!(project["parent"]["slug"], "horizontal-facility-ii");
    assert_eq!(project["duration_months"], 36);
    assert!(project["end_date"].is_null());
    let funders = app
        .get("/api/v1/programmes?role=funder&parent=")
        .await
        .expect(200)
        .json();
    assert!(item_fields(&funders, "slug").contains(&"horizontal-facility-ii".to_owned()));
    let launched = app
        .get("/api/v1/programmes/radicalisation-in-prisons-wb/events")
        .await
        .expect(200)
        .json();
    assert_eq!(
        item_fields(&launched, "slug"),
        ["coe-conference-radicalisation-prisons-2019"]
    );
    // The same list as schema.org JSON-LD, as the other event lists.
    let linked = app
        .request(
            Method::GET,
            "/api/v1/programmes/radicalisation-in-prisons-wb/events",
            &[("accept", "application/ld+json")],
            None,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(linked["@type"], "ItemList", "{linked}");
    assert_eq!(
        linked["itemListElement"][0]["item"]["identifier"],
        "coe-conference-radicalisation-prisons-2019"
    );

    // "the first draft iPA 2018-2019": a plan being drafted, no dates.
    let plan = app
        .get("/api/v1/programmes/wbcti-ipa-2018-2019")
        .await
        .expect(200)
        .json();
    assert_eq!(
        (plan["kind"].as_str(), plan["status"].as_str()),
        (Some("plan"), Some("drafting"))
    );
    assert!(plan["start_date"].is_null() && plan["end_date"].is_null());
}

/// A bundle's programmes are checked like its other records: every dangling reference named,
/// and a part may come before the programme it is part of.
async fn programmes_import_and_export(backend: Backend) {
    use meeting_registry::bulk::{self, ImportError};
    let app = TestApp::spawn(backend).await;
    let db = meeting_registry::db::Database::connect(&app.database_url, 1).expect("connect");
    let import = |bundle: Value| {
        db.with_connection(|conn| {
            Ok::<_, String>(bulk::import(conn, &bundle.to_string(), Default::default()))
        })
        .expect("connection")
    };
    let mut event = event_body("Launch", "2019-10-22");
    event["slug"] = json!("launch");
    event["programme_id"] = json!("broken");
    let broken = json!({
        "organisations": [{"slug": "rcc", "name": "Regional Cooperation Council", "kind": "regional_organisation"}],
        "programmes": [
            {"slug": "broken", "title": "Broken", "kind": "plan",
             "organisations": [{"organisation_id": "nobody", "role": "funder"}]},
            {"slug": "orphan", "title": "Orphan", "kind": "project", "parent_id": "no-such-programme"}
        ],
        "events": [event]
    });
    match import(broken) {
        Err(ImportError::Invalid {
            problems,
            unchecked,
        }) => {
            let named: Vec<(String, String)> = problems
                .iter()
                .flat_map(|p| {
                    p.errors
                        .iter()
                        .map(|e| (p.position.clone(), e.field.clone()))
                })
                .collect();
            assert_eq!(
                named,
                [
                    (
                        "programmes[0]".to_owned(),
                        "organisations[0].organisation_id".to_owned()
                    ),
                    ("programmes[1]".to_owned(), "parent_id".to_owned()),
                ]
            );
            assert_eq!(unchecked, ["events[0] (launch)"]);
        }
        other => panic!("expected the bundle to be refused: {other:?}"),
    }
    app.get("/api/v1/organisations/rcc").await.problem(404);

    // A part listed before its programme; an event under the part.
    let mut event = event_body("Launch", "2019-10-22");
    event["slug"] = json!("launch");
    event["programme_id"] = json!("part");
    let bundle = json!({
        "organisations": [{"slug": "rcc", "name": "Regional Cooperation Council", "kind": "regional_organisation"}],
        "programmes": [
            {"slug": "part", "title": "Part", "kind": "project", "parent_id": "whole",
             "start_date": "2019-10-22", "duration_months": 36,
             "organisations": [{"organisation_id": "rcc", "role": "implementing_partner", "since": "2019-10-22"}]},
            {"slug": "whole", "title": "Whole", "kind": "programme"}
        ],
        "events": [event]
    });
    let report = import(bundle).expect("the bundle imports");
    assert_eq!(report.created, 4);
    let part = app.get("/api/v1/programmes/part").await.expect(200).json();
    assert_eq!(part["parent"]["slug"], "whole");
    assert_eq!(part["organisations"][0]["since"], "2019-10-22");
    let exported = bulk::export_json(&db).expect("export");
    let exported: Value = serde_json::from_str(&exported).expect("JSON");
    let part = exported["programmes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["slug"] == "part")
        .cloned()
        .unwrap_or_default();
    assert_eq!(part["parent_id"], "whole");
    assert_eq!(part["organisations"][0]["organisation_id"], "rcc");
    let launch = exported["events"][0].clone();
    assert_eq!(launch["programme_id"], "part");
}

on_both_backends!(
    a_programme_is_created_read_changed_and_deleted,
    lists_filter_by_kind_status_organisation_role_parent_and_text,
    periods_must_hold_together,
    parent_cycles_and_dangling_references_are_refused,
    hostile_input_is_refused_and_never_a_500,
    events_are_implemented_under_a_programme,
    the_demo_programmes_say_what_the_page_says,
    programmes_import_and_export,
);
