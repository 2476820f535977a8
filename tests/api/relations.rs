//! `precedes`: an event that comes before another and leads into it, shown both ways
//! (`precedes` and the read-only `preceded_by`), with its order, cycle and delete rules.

use meeting_registry::bulk::{self, ImportOptions};
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

fn slugs(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["slug"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn dated(slug: &str, date: &str) -> Value {
    let mut body = event_body(slug, date);
    body["slug"] = json!(slug);
    body
}

/// The Home Affairs session, whose date the seed does not give.
fn undated(slug: &str) -> Value {
    json!({"title": slug, "slug": slug, "kind": "meeting", "status": "tentative"})
}

async fn both_ends_show_the_relation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let session = app.create("/api/v1/events", undated("home-affairs")).await;
    let mut board = dated("board", "2019-11-18");
    // Ids and slugs are both accepted; responses give both.
    board["precedes"] = json!([session["id"]]);
    let board = app.create("/api/v1/events", board).await;
    assert_eq!(slugs(&board["precedes"]), ["home-affairs"], "{board}");
    assert_eq!(board["precedes"][0]["id"], session["id"]);
    assert_eq!(board["precedes"][0]["start_date"], Value::Null);
    assert_eq!(board["preceded_by"], json!([]));

    let session = app
        .get("/api/v1/events/home-affairs")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&session["preceded_by"]), ["board"], "{session}");
    assert_eq!(session["preceded_by"][0]["start_date"], "2019-11-18");
    assert_eq!(session["precedes"], json!([]));

    // Lists carry them too, and a no-op patch keeps the relation (and the version).
    let page = app.get("/api/v1/events?q=board").await.expect(200).json();
    assert_eq!(slugs(&page["items"][0]["precedes"]), ["home-affairs"]);
    let same = app
        .patch("/api/v1/events/board", &json!({"title": "board"}))
        .await
        .expect(200)
        .json();
    assert_eq!(same["version"], board["version"]);
    assert_eq!(slugs(&same["precedes"]), ["home-affairs"]);

    // Taking it back empties both ends.
    let board = app
        .patch("/api/v1/events/board", &json!({"precedes": []}))
        .await
        .expect(200)
        .json();
    assert_eq!(board["precedes"], json!([]));
    let session = app
        .get("/api/v1/events/home-affairs")
        .await
        .expect(200)
        .json();
    assert_eq!(session["preceded_by"], json!([]));
}

async fn references_that_cannot_be_are_refused_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app
        .create("/api/v1/events", dated("first", "2020-01-10"))
        .await;
    app.create("/api/v1/events", dated("second", "2020-02-10"))
        .await;
    let mut body = dated("third", "2020-01-01");
    body["precedes"] = json!(["second", "nope", "second", "", 7]);
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&"precedes[4]"), "{problem}");

    body["precedes"] = json!(["second", "nope", "second", ""]);
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["precedes[2]", "precedes[3]"], "{problem}");

    // Existence is checked once the shape is right: every missing one at once.
    body["precedes"] = json!(["second", "nope", "nada"]);
    let problem = app.post("/api/v1/events", &body).await.problem(422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["precedes[1]", "precedes[2]"], "{problem}");

    // The same event under its id and its slug, and the event itself.
    let problem = app
        .patch(
            "/api/v1/events/first",
            &json!({"precedes": ["second", "first"]}),
        )
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "precedes[1]", "{problem}");
    let problem = app
        .patch(
            "/api/v1/events/first",
            &json!({"precedes": [first["id"], "first"]}),
        )
        .await
        .problem(422);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("itself"),
        "{problem}"
    );
    let too_many: Vec<String> = (0..51).map(|i| format!("e{i}")).collect();
    let problem = app
        .patch("/api/v1/events/first", &json!({"precedes": too_many}))
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "precedes", "{problem}");
    // Nothing was written.
    let first = app.get("/api/v1/events/first").await.expect(200).json();
    assert_eq!(first["version"], 1);
    assert_eq!(first["precedes"], json!([]));
}

async fn an_event_does_not_precede_one_it_starts_after(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", dated("early", "2020-01-10"))
        .await;
    app.create("/api/v1/events", dated("late", "2020-03-10"))
        .await;
    let problem = app
        .patch("/api/v1/events/late", &json!({"precedes": ["early"]}))
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "precedes_order",
        "{problem}"
    );
    assert_eq!(
        slugs(&problem["violations"][0]["records"]),
        ["late", "early"],
        "{problem}"
    );

    app.patch("/api/v1/events/early", &json!({"precedes": ["late"]}))
        .await
        .expect(200);
    // Moving either end so that the order breaks is refused, naming the other event.
    let problem = app
        .patch(
            "/api/v1/events/late",
            &json!({"start_date": "2019-12-01", "end_date": null}),
        )
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "precedes_order",
        "{problem}"
    );
    assert_eq!(
        slugs(&problem["violations"][0]["records"]),
        ["early", "late"]
    );
    let problem = app
        .patch(
            "/api/v1/events/early",
            &json!({"start_date": "2020-04-01", "end_date": null}),
        )
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "precedes_order",
        "{problem}"
    );
    // The same day is fine, and so is an event without dates at either end.
    app.patch(
        "/api/v1/events/late",
        &json!({"start_date": "2020-01-10", "end_date": null}),
    )
    .await
    .expect(200);
    app.patch(
        "/api/v1/events/early",
        &json!({"start_date": null, "end_date": null, "status": "postponed"}),
    )
    .await
    .expect(200);
}

async fn the_relation_has_no_cycles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", undated("a")).await;
    let mut b = undated("b");
    b["precedes"] = json!(["a"]);
    app.create("/api/v1/events", b).await;
    let mut c = undated("c");
    c["precedes"] = json!(["b"]);
    app.create("/api/v1/events", c).await;
    let problem = app
        .patch("/api/v1/events/a", &json!({"precedes": ["c"]}))
        .await
        .problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "precedes_cycle",
        "{problem}"
    );
    assert_eq!(slugs(&problem["violations"][0]["records"]), ["a"]);
    let a = app.get("/api/v1/events/a").await.expect(200).json();
    assert_eq!(a["precedes"], json!([]));
}

async fn an_event_another_precedes_is_not_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", undated("target")).await;
    let mut before = dated("before", "2020-01-10");
    before["precedes"] = json!(["target"]);
    app.create("/api/v1/events", before).await;
    let problem = app.delete("/api/v1/events/target").await.problem(409);
    assert_eq!(
        problem["violations"][0]["rule"], "still_referenced",
        "{problem}"
    );
    assert_eq!(slugs(&problem["violations"][0]["records"]), ["before"]);
    // Deleting the event that names it takes the relation along.
    app.delete("/api/v1/events/before").await.expect(204);
    let target = app.get("/api/v1/events/target").await.expect(200).json();
    assert_eq!(target["preceded_by"], json!([]));
    app.delete("/api/v1/events/target").await.expect(204);
}

async fn an_internal_event_is_left_out_for_the_public(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut hidden = undated("hidden");
    hidden["visibility"] = json!("internal");
    app.create("/api/v1/events", hidden).await;
    let mut open = dated("open", "2020-01-10");
    open["precedes"] = json!(["hidden"]);
    app.create("/api/v1/events", open).await;
    let public = app.get("/api/v1/events/open").await.expect(200).json();
    assert_eq!(public["precedes"], json!([]), "{public}");
    let token = app.editor_auth();
    let token = token.trim_start_matches("Bearer ");
    let editor = app
        .get_as(token, "/api/v1/events/open")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&editor["precedes"]), ["hidden"]);
}

async fn an_import_stores_what_is_preceded_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut board = dated("board", "2019-11-18");
    board["precedes"] = json!(["session"]);
    let file = json!({"events": [board, undated("session")]});
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let report = db
        .with_connection(|conn| {
            Ok(bulk::import(
                conn,
                &file.to_string(),
                ImportOptions::default(),
            ))
        })
        .expect("connection")
        .expect("imports");
    assert_eq!(report.created, 2);
    let session = app.get("/api/v1/events/session").await.expect(200).json();
    assert_eq!(slugs(&session["preceded_by"]), ["board"]);

    // A reference to an event neither in the file nor stored is reported by field.
    let mut broken = dated("other", "2019-11-18");
    broken["precedes"] = json!(["nowhere"]);
    let file = json!({"events": [broken]});
    let outcome = db
        .with_connection(|conn| {
            Ok(bulk::import(
                conn,
                &file.to_string(),
                ImportOptions::default(),
            ))
        })
        .expect("connection");
    let error = format!("{:?}", outcome.expect_err("refused"));
    assert!(error.contains("precedes[0]"), "{error}");
}

on_both_backends!(
    both_ends_show_the_relation,
    references_that_cannot_be_are_refused_by_field,
    an_event_does_not_precede_one_it_starts_after,
    the_relation_has_no_cycles,
    an_event_another_precedes_is_not_deleted,
    an_internal_event_is_left_out_for_the_public,
    an_import_stores_what_is_preceded_first,
);
