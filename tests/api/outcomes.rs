//! Outcomes of meetings: recorded inside an event, changed at their own URL, and listed across
//! all meetings (what is still open, whose, due when), as visible as their event.

use awc::http::Method;
use meeting_registry::bulk;
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

/// A board with two meetings (one internal), an owner of each kind and a publication.
async fn seed(app: &TestApp) {
    app.create(
        "/api/v1/organisations",
        json!({"name": "Ministry of Security of Bosnia and Herzegovina", "kind": "ministry", "slug": "ministry-of-security-bih"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Rajko Kozmelj", "slug": "rajko-kozmelj"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "IISG Board", "slug": "iisg-board"}),
    )
    .await;
    let mut board = event_body("4th IISG Board Meeting", "2019-11-18");
    board["slug"] = json!("iisg-board-4");
    board["network_id"] = json!("iisg-board");
    board["series_number"] = json!(4);
    app.create("/api/v1/events", board).await;
    let mut other = event_body("Coordination meeting", "2019-09-14");
    other["slug"] = json!("coordination");
    app.create("/api/v1/events", other).await;
    let mut internal = event_body("Closed session", "2019-11-19");
    internal["slug"] = json!("closed-session");
    internal["visibility"] = json!("internal");
    app.create("/api/v1/events", internal).await;
    app.create(
        "/api/v1/publications",
        json!({"title": "New IISG Terms of Reference", "slug": "iisg-tor", "kind": "terms_of_reference"}),
    )
    .await;
}

fn texts(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| o["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn outcomes_are_recorded_changed_and_removed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let created = app
        .post(
            "/api/v1/events/iisg-board-4/outcomes",
            &json!({"kind": "endorsement", "text": "Ministers endorse the new IISG ToR", "publication_id": "iisg-tor"}),
        )
        .await
        .expect(201);
    let location = created.header("location").unwrap_or_default();
    let outcome = created.json();
    assert_eq!(
        location,
        format!("/api/v1/outcomes/{}", outcome["id"].as_str().unwrap_or(""))
    );
    // Summaries of the event and the publication; an endorsement is done unless told.
    assert_eq!(outcome["event"]["slug"], "iisg-board-4");
    assert_eq!(
        outcome["publication"]["name"],
        "New IISG Terms of Reference"
    );
    assert_eq!(outcome["status"], "done");
    assert_eq!(outcome["owner"], Value::Null);

    let follow_up = app
        .create(
            "/api/v1/events/iisg-board-4/outcomes",
            json!({"kind": "follow_up", "text": "Establish the P-R-A Mechanism",
                   "owner_organisation_id": "ministry-of-security-bih", "due_date": "2020-06-30"}),
        )
        .await;
    assert_eq!(follow_up["status"], "open");
    assert_eq!(follow_up["owner"]["slug"], "ministry-of-security-bih");
    let path = format!(
        "/api/v1/outcomes/{}",
        follow_up["id"].as_str().unwrap_or("")
    );

    // Read with an ETag, changed by merge patch, guarded by If-Match.
    let read = app.get(&path).await.expect(200);
    let etag = read.header("etag").unwrap_or_default();
    let done = app
        .write(
            Method::PATCH,
            &path,
            &[("if-match", &etag)],
            Some((
                "application/merge-patch+json",
                br#"{"status": "done"}"#.to_vec(),
            )),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        (done["status"].as_str(), done["version"].as_i64()),
        (Some("done"), Some(2))
    );
    assert_eq!(done["due_date"], "2020-06-30");
    app.write(
        Method::PATCH,
        &path,
        &[("if-match", &etag)],
        Some((
            "application/merge-patch+json",
            br#"{"status": "open"}"#.to_vec(),
        )),
    )
    .await
    .problem(412);
    // The owner moves from an organisation to a person: the other owner is cleared.
    let moved = app
        .patch(
            &path,
            &json!({"owner_organisation_id": null, "owner_person_id": "rajko-kozmelj"}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(moved["owner"]["name"], "Rajko Kozmelj");
    assert_eq!(moved["owner_organisation_id"], Value::Null);

    // Audited: create, two updates.
    let id = follow_up["id"].as_str().unwrap_or("");
    let audit = app
        .get_as(
            &app.admin,
            &format!("/api/v1/audit?resource=outcome&id={id}"),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(3), "{audit}");

    // The publication cannot go while an outcome names it; the owner cannot either.
    let refused = app
        .delete("/api/v1/publications/iisg-tor")
        .await
        .problem(409);
    assert!(
        refused.to_string().contains("still_referenced"),
        "{refused}"
    );
    app.delete("/api/v1/people/rajko-kozmelj")
        .await
        .problem(409);

    app.delete(&path).await.expect(204);
    app.get(&path).await.problem(404);
    app.delete("/api/v1/people/rajko-kozmelj").await.expect(204);
    // The event's outcomes go with it.
    let event = app
        .get("/api/v1/events/iisg-board-4")
        .await
        .expect(200)
        .json();
    assert!(event["id"].is_string());
    let outcome_path = format!("/api/v1/outcomes/{}", outcome["id"].as_str().unwrap_or(""));
    app.delete("/api/v1/events/iisg-board-4").await.expect(204);
    app.get(&outcome_path).await.problem(404);
    app.delete("/api/v1/publications/iisg-tor")
        .await
        .expect(204);
}

async fn what_is_still_open_across_meetings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    for (event, body) in [
        (
            "iisg-board-4",
            json!({"kind": "follow_up", "text": "Undated board follow-up"}),
        ),
        (
            "iisg-board-4",
            json!({"kind": "follow_up", "text": "Board follow-up due in May", "due_date": "2020-05-01",
                   "owner_organisation_id": "ministry-of-security-bih"}),
        ),
        (
            "iisg-board-4",
            json!({"kind": "follow_up", "text": "Board follow-up due in March", "due_date": "2020-03-01",
                   "owner_person_id": "rajko-kozmelj"}),
        ),
        (
            "iisg-board-4",
            json!({"kind": "decision", "text": "Board decision"}),
        ),
        (
            "coordination",
            json!({"kind": "follow_up", "text": "Coordination follow-up", "due_date": "2020-01-15",
                   "owner_organisation_id": "ministry-of-security-bih"}),
        ),
        (
            "coordination",
            json!({"kind": "follow_up", "text": "Dropped follow-up", "status": "dropped"}),
        ),
        (
            "closed-session",
            json!({"kind": "follow_up", "text": "Internal follow-up", "due_date": "2019-12-01"}),
        ),
    ] {
        app.create(&format!("/api/v1/events/{event}/outcomes"), body)
            .await;
    }
    let list = |path: String| {
        let app = &app;
        async move { texts(&app.get(&path).await.expect(200).json()) }
    };
    // In due order, the undated last; the internal meeting's only with a token.
    assert_eq!(
        list("/api/v1/outcomes?status=open".into()).await,
        [
            "Coordination follow-up",
            "Board follow-up due in March",
            "Board follow-up due in May",
            "Undated board follow-up"
        ]
    );
    let with_token = app
        .get_as(&app.reader, "/api/v1/outcomes?status=open")
        .await
        .expect(200)
        .json();
    assert_eq!(texts(&with_token)[0], "Internal follow-up");
    // What is still open from the IISG Board?
    assert_eq!(
        list("/api/v1/outcomes?status=open&network=iisg-board".into()).await,
        [
            "Board follow-up due in March",
            "Board follow-up due in May",
            "Undated board follow-up"
        ]
    );
    assert_eq!(
        list("/api/v1/outcomes?status=open&owner=ministry-of-security-bih".into()).await,
        ["Coordination follow-up", "Board follow-up due in May"]
    );
    assert_eq!(
        list("/api/v1/outcomes?owner=rajko-kozmelj".into()).await,
        ["Board follow-up due in March"]
    );
    assert_eq!(
        list("/api/v1/outcomes?status=open&due_before=2020-04-01".into()).await,
        ["Coordination follow-up", "Board follow-up due in March"]
    );
    assert_eq!(
        list("/api/v1/outcomes?kind=decision".into()).await,
        ["Board decision"]
    );
    assert_eq!(
        list("/api/v1/events/coordination/outcomes".into()).await,
        ["Coordination follow-up", "Dropped follow-up"]
    );
    // Keyset pages over the due order, the undated included.
    let first = app
        .get("/api/v1/outcomes?status=open&limit=3")
        .await
        .expect(200)
        .json();
    assert_eq!(texts(&first).len(), 3);
    let cursor = first["next_cursor"].as_str().unwrap_or("");
    let second = app
        .get(&format!(
            "/api/v1/outcomes?status=open&limit=3&cursor={cursor}"
        ))
        .await
        .expect(200)
        .json();
    assert_eq!(texts(&second), ["Undated board follow-up"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // An internal meeting and its outcomes do not exist for the public.
    app.get("/api/v1/events/closed-session/outcomes")
        .await
        .problem(404);
    let internal = app
        .get_as(&app.reader, "/api/v1/events/closed-session/outcomes")
        .await
        .expect(200)
        .json();
    let id = internal["items"][0]["id"].as_str().unwrap_or("").to_owned();
    app.get(&format!("/api/v1/outcomes/{id}"))
        .await
        .problem(404);
    app.get_as(&app.reader, &format!("/api/v1/outcomes/{id}"))
        .await
        .expect(200);
    // Nor in the public change feed.
    let feed = app
        .get("/api/v1/changes?since=0&limit=1000")
        .await
        .expect(200)
        .json();
    let outcome_changes: Vec<&Value> = feed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["resource"] == "outcome")
        .collect();
    assert_eq!(outcome_changes.len(), 6, "{feed}");
    assert!(
        outcome_changes.iter().all(|c| c["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("/api/v1/outcomes/"))),
        "{feed}"
    );

    // Filters naming nothing are 422 naming them; malformed ones 400.
    for (query, field) in [
        ("owner=nobody", "owner"),
        ("network=nothing", "network"),
        ("event=nothing", "event"),
    ] {
        let problem = app
            .get(&format!("/api/v1/outcomes?{query}"))
            .await
            .problem(422);
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    for query in [
        "status=pending",
        "kind=wish",
        "due_before=soon",
        "limit=500",
        "cursor=nonsense",
        "colour=red",
    ] {
        app.get(&format!("/api/v1/outcomes?{query}"))
            .await
            .problem(400);
    }
}

async fn hostile_outcomes_are_refused_with_the_field_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let fields = |problem: &Value| -> Vec<String> {
        problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["field"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"kind": "follow_up", "text": ""}), &["text"]),
        (
            json!({"kind": "follow_up", "text": "x".repeat(5001)}),
            &["text"],
        ),
        (json!({"kind": "wish", "text": "x"}), &["kind"]),
        (
            json!({"kind": "follow_up", "text": "x", "status": "pending"}),
            &["status"],
        ),
        (
            json!({"kind": "follow_up", "text": "x", "due_date": "2020-02-30"}),
            &["due_date"],
        ),
        (
            json!({"kind": "follow_up", "text": "x", "colour": "red"}),
            &["colour"],
        ),
        (
            json!({"kind": "follow_up", "text": "x", "owner_organisation_id": "ministry-of-security-bih", "owner_person_id": "rajko-kozmelj"}),
            &["owner_person_id"],
        ),
        (
            json!({"kind": "follow_up", "text": "x", "owner_organisation_id": "nobody", "publication_id": "nothing"}),
            &["owner_organisation_id", "publication_id"],
        ),
        (
            json!({"kind": "follow_up", "text": "x", "owner_person_id": "nobody"}),
            &["owner_person_id"],
        ),
        // So late it would sort after the outcomes with no due date.
        (
            json!({"kind": "follow_up", "text": "x", "due_date": "9999-12-31"}),
            &["due_date"],
        ),
    ];
    for (body, expected) in cases {
        let problem = app
            .post("/api/v1/events/iisg-board-4/outcomes", &body)
            .await
            .problem(422);
        assert_eq!(fields(&problem), expected, "{body}: {problem}");
    }
    let auth = app.editor_auth();
    app.request(
        Method::POST,
        "/api/v1/events/iisg-board-4/outcomes",
        &[("authorization", &auth)],
        Some(("application/json", b"{\"kind\": ".to_vec())),
    )
    .await
    .problem(400);
    let body = json!({"kind": "decision", "text": "x"})
        .to_string()
        .into_bytes();
    app.request(
        Method::POST,
        "/api/v1/events/iisg-board-4/outcomes",
        &[],
        Some(("application/json", body.clone())),
    )
    .await
    .problem(401);
    let reader = format!("Bearer {}", app.reader);
    app.request(
        Method::POST,
        "/api/v1/events/iisg-board-4/outcomes",
        &[("authorization", &reader)],
        Some(("application/json", body)),
    )
    .await
    .problem(403);
    app.post(
        "/api/v1/events/no-such-event/outcomes",
        &json!({"kind": "decision", "text": "x"}),
    )
    .await
    .problem(404);
    app.get("/api/v1/outcomes/not-a-uuid").await.problem(404);
    app.get("/api/v1/outcomes/01936f6e-6c2a-7cc1-9a51-3f4b1c2d9e10")
        .await
        .problem(404);
    // A patch that breaks a rule changes nothing.
    let outcome = app
        .create(
            "/api/v1/events/iisg-board-4/outcomes",
            json!({"kind": "decision", "text": "x"}),
        )
        .await;
    let path = format!("/api/v1/outcomes/{}", outcome["id"].as_str().unwrap_or(""));
    let problem = app
        .patch(&path, &json!({"owner_person_id": "nobody"}))
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["owner_person_id"]);
    let unchanged = app.get(&path).await.expect(200).json();
    assert_eq!(unchanged["version"], 1);
}

/// The README's question: what is still open from the IISG Board? And the endorsed ToR is the
/// outcome of the 4th Board meeting.
async fn the_demo_outcomes_answer_their_questions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    bulk::import_file(&db, demo, bulk::ImportOptions::default()).expect("demo imports");
    let board = app
        .get("/api/v1/events/iisg-board-4/outcomes")
        .await
        .expect(200)
        .json();
    let endorsement = board["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["kind"] == "endorsement")
        .cloned()
        .unwrap_or_default();
    assert_eq!(endorsement["publication"]["slug"], "iisg-tor", "{board}");
    let open = app
        .get("/api/v1/outcomes?status=open&network=iisg-board")
        .await
        .expect(200)
        .json();
    assert!(!texts(&open).is_empty(), "{open}");
    // Nothing invented: no due date anywhere, the page gives none.
    let all = app
        .get("/api/v1/outcomes?limit=200")
        .await
        .expect(200)
        .json();
    assert!(
        all["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|o| o["due_date"].is_null())),
        "{all}"
    );
}

fn import(
    app: &TestApp,
    bundle: &Value,
    mode: bulk::ImportMode,
) -> Result<bulk::ImportReport, bulk::ImportError> {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    db.with_connection(|conn| {
        Ok(bulk::import(
            conn,
            &bundle.to_string(),
            bulk::ImportOptions {
                mode,
                dry_run: false,
            },
        ))
    })
    .expect("connection")
}

/// The `outcomes` section: checked whole, keyed by event, kept or overwritten as asked.
async fn outcomes_import_keyed_by_their_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let broken = json!({"outcomes": [
        {"event_id": "never-held", "kind": "decision", "text": "x"},
        {"event_id": "iisg-board-4", "kind": "wish", "text": "x"},
        {"kind": "decision", "text": "x", "publication_id": "nothing"},
    ]});
    let Err(bulk::ImportError::Invalid { problems, .. }) =
        import(&app, &broken, bulk::ImportMode::KeepExisting)
    else {
        panic!("a broken outcomes section imported");
    };
    let found: Vec<(String, Vec<String>)> = problems
        .iter()
        .map(|p| {
            let mut fields: Vec<String> = p.errors.iter().map(|e| e.field.clone()).collect();
            fields.sort();
            (p.position.clone(), fields)
        })
        .collect();
    assert_eq!(
        found,
        [
            ("outcomes[0]".to_owned(), vec!["event_id".to_owned()]),
            ("outcomes[1]".to_owned(), vec!["kind".to_owned()]),
            (
                "outcomes[2]".to_owned(),
                vec!["event_id".to_owned(), "publication_id".to_owned()]
            ),
        ]
    );
    let file = json!({"outcomes": [
        {"event_id": "iisg-board-4", "kind": "endorsement", "text": "ToR endorsed", "publication_id": "iisg-tor"},
        {"event_id": "iisg-board-4", "kind": "follow_up", "text": "Report back", "owner_person_id": "rajko-kozmelj"},
    ]});
    let report = import(&app, &file, bulk::ImportMode::KeepExisting).expect("imports");
    assert_eq!(report.created, 2);
    let again = import(&app, &file, bulk::ImportMode::KeepExisting).expect("imports");
    assert_eq!((again.created, again.unchanged), (0, 2));
    // An outcome changed since is kept, and reported, unless the import overwrites.
    let listed = app
        .get("/api/v1/events/iisg-board-4/outcomes?kind=follow_up")
        .await
        .expect(200)
        .json();
    let path = format!(
        "/api/v1/outcomes/{}",
        listed["items"][0]["id"].as_str().unwrap_or("")
    );
    app.patch(&path, &json!({"status": "done"}))
        .await
        .expect(200);
    let kept = import(&app, &file, bulk::ImportMode::KeepExisting).expect("imports");
    assert_eq!(kept.kept.len(), 1, "{kept:?}");
    assert_eq!(app.get(&path).await.expect(200).json()["status"], "done");
    let overwritten = import(&app, &file, bulk::ImportMode::Overwrite).expect("imports");
    assert_eq!(overwritten.overwritten.len(), 1, "{overwritten:?}");
    let open = app
        .get("/api/v1/outcomes?status=open&network=iisg-board")
        .await
        .expect(200)
        .json();
    assert_eq!(texts(&open), ["Report back"]);
}

on_both_backends!(
    outcomes_import_keyed_by_their_event,
    outcomes_are_recorded_changed_and_removed,
    what_is_still_open_across_meetings,
    hostile_outcomes_are_refused_with_the_field_named,
    the_demo_outcomes_answer_their_questions,
);
