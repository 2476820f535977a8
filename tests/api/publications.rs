//! Publications: authors in order with their affiliation, the publisher, links to events, the
//! lists per person, organisation and event, and the input they refuse.

use awc::http::Method;
use meeting_registry::bulk;
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
use crate::on_both_backends;

/// The records "A Waiting Game" refers to, and two events to link publications to.
async fn seed(app: &TestApp) {
    app.create(
        "/api/v1/organisations",
        json!({"name": "Regional Cooperation Council", "acronym": "RCC", "kind": "regional_organisation", "slug": "rcc"}),
    )
    .await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "University of Sarajevo", "kind": "academic", "slug": "university-of-sarajevo"}),
    )
    .await;
    for (slug, name) in [
        ("vlado-azinovic", "Vlado Azinović"),
        ("edina-becirevic", "Edina Bećirević"),
    ] {
        app.create(
            "/api/v1/people",
            json!({"full_name": name, "slug": slug, "honorific": "Dr"}),
        )
        .await;
    }
    let mut board = event_body("4th IISG Board Meeting", "2019-11-18");
    board["slug"] = json!("iisg-board-4");
    app.create("/api/v1/events", board).await;
    let mut internal = event_body("Closed preparatory meeting", "2019-11-17");
    internal["slug"] = json!("closed-prep");
    internal["visibility"] = json!("internal");
    app.create("/api/v1/events", internal).await;
}

fn waiting_game() -> Value {
    json!({
        "title": "A Waiting Game: Assessing and Responding to the Threat from Returning Foreign Fighters in the Western Balkans",
        "slug": "a-waiting-game",
        "kind": "report",
        "date": "2017-11",
        "language": "en",
        "authors": [
            {"person_id": "vlado-azinovic", "affiliation_id": "university-of-sarajevo"},
            {"person_id": "edina-becirevic", "affiliation_id": "university-of-sarajevo"}
        ],
        "publisher_id": "rcc",
        "url": "https://www.rcc.int/pubs/a-waiting-game",
        "doi": "https://doi.org/10.1000/waiting.game",
        "isbn": "978-0-306-40615-7",
        "topics": ["Foreign fighters"],
        "events": [{"event_id": "iisg-board-4", "role": "presented"}]
    })
}

async fn a_publication_names_its_authors_publisher_and_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let created = app
        .post("/api/v1/publications", &waiting_game())
        .await
        .expect(201);
    assert!(
        created
            .header("location")
            .is_some_and(|l| l.starts_with("/api/v1/publications/"))
    );
    let report = created.json();
    // Authors in order, each with the affiliation of the day, summarised.
    let authors: Vec<(&str, &str)> = report["authors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["person"]["name"].as_str().unwrap_or(""),
                a["affiliation"]["slug"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        authors,
        [
            ("Vlado Azinović", "university-of-sarajevo"),
            ("Edina Bećirević", "university-of-sarajevo")
        ]
    );
    assert_eq!(report["publisher"]["acronym"], "RCC");
    // "November 2017": the month, and no day made up.
    assert_eq!(report["date"], "2017-11");
    // The DOI without its resolver, the ISBN as digits.
    assert_eq!(report["doi"], "10.1000/waiting.game");
    assert_eq!(report["isbn"], "9780306406157");
    assert_eq!(report["events"][0]["role"], "presented");
    assert_eq!(
        report["events"][0]["event"]["title"],
        "4th IISG Board Meeting"
    );
    assert_eq!(report["events"][0]["event"]["start_date"], "2019-11-18");

    // Read by slug with an ETag; 304 while unchanged.
    let read = app
        .get("/api/v1/publications/a-waiting-game")
        .await
        .expect(200);
    let etag = read.header("etag").unwrap_or_default();
    let again = app
        .request(
            Method::GET,
            "/api/v1/publications/a-waiting-game",
            &[("if-none-match", &etag)],
            None,
        )
        .await;
    assert_eq!(again.status.as_u16(), 304);

    // A merge patch: a new link, the rest stays; a stale If-Match is 412.
    let patched = app
        .patch(
            "/api/v1/publications/a-waiting-game",
            &json!({"events": [{"event_id": "iisg-board-4", "role": "presented"}, {"event_id": "closed-prep", "role": "prepared_for"}], "isbn": null}),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["isbn"], Value::Null);
    assert_eq!(patched["authors"].as_array().map(Vec::len), Some(2));
    let stale = app
        .write(
            Method::PATCH,
            "/api/v1/publications/a-waiting-game",
            &[("if-match", &etag)],
            Some((
                "application/merge-patch+json",
                b"{\"title\":\"X\"}".to_vec(),
            )),
        )
        .await;
    stale.problem(412);

    // The link to an internal event exists only for those with a token.
    let public = app
        .get("/api/v1/publications/a-waiting-game")
        .await
        .expect(200)
        .json();
    assert_eq!(
        public["events"].as_array().map(Vec::len),
        Some(1),
        "{public}"
    );
    let reader = app
        .get_as(&app.reader, "/api/v1/publications/a-waiting-game")
        .await
        .expect(200)
        .json();
    assert_eq!(
        reader["events"].as_array().map(Vec::len),
        Some(2),
        "{reader}"
    );
    app.get("/api/v1/events/closed-prep/documents")
        .await
        .problem(404);
    let closed = app
        .get_as(&app.reader, "/api/v1/events/closed-prep/documents")
        .await
        .expect(200)
        .json();
    assert_eq!(closed["items"][0]["role"], "prepared_for");

    // Every write is audited.
    let id = report["id"].as_str().unwrap_or("");
    let audit = app
        .get_as(
            &app.admin,
            &format!("/api/v1/audit?resource=publication&id={id}"),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");

    // The change feed names it with its URL.
    let changes = app
        .get_as(&app.reader, "/api/v1/changes?since=0")
        .await
        .expect(200)
        .json();
    assert!(
        changes["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["resource"] == "publication"
                && c["url"] == format!("/api/v1/publications/{id}")),
        "{changes}"
    );
}

async fn publications_are_listed_by_person_organisation_and_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.create("/api/v1/publications", waiting_game()).await;
    app.create(
        "/api/v1/publications",
        json!({"title": "New IISG Terms of Reference", "slug": "iisg-tor", "kind": "terms_of_reference",
               "events": [{"event_id": "iisg-board-4", "role": "endorsed"}, {"event_id": "iisg-board-4", "role": "prepared_for"}]}),
    )
    .await;
    app.create(
        "/api/v1/publications",
        json!({"title": "Annual Report", "kind": "report", "publisher_id": "university-of-sarajevo", "date": "2018"}),
    )
    .await;

    let slugs = |page: &Value| item_fields(page, "slug");
    let list = |path: String| {
        let app = &app;
        async move { app.get(&path).await.expect(200).json() }
    };
    assert_eq!(
        slugs(&list("/api/v1/publications".into()).await),
        ["a-waiting-game", "annual-report", "iisg-tor"]
    );
    assert_eq!(
        slugs(&list("/api/v1/publications?kind=report".into()).await),
        ["a-waiting-game", "annual-report"]
    );
    assert_eq!(
        slugs(&list("/api/v1/publications?q=returning%20foreign".into()).await),
        ["a-waiting-game"]
    );
    assert_eq!(
        slugs(&list("/api/v1/publications?topic=foreign%20FIGHTERS".into()).await),
        ["a-waiting-game"]
    );
    // What did she write?
    assert_eq!(
        slugs(&list("/api/v1/people/edina-becirevic/publications".into()).await),
        ["a-waiting-game"]
    );
    // The university: what it published, and what its people wrote as part of it.
    assert_eq!(
        slugs(&list("/api/v1/organisations/university-of-sarajevo/publications".into()).await),
        ["a-waiting-game", "annual-report"]
    );
    assert_eq!(
        slugs(&list("/api/v1/publications?publisher=university-of-sarajevo".into()).await),
        ["annual-report"]
    );
    // What did the RCC publish?
    assert_eq!(
        slugs(&list("/api/v1/organisations/rcc/publications".into()).await),
        ["a-waiting-game"]
    );
    // The event's documents, one item per link, with its role.
    let documents = list("/api/v1/events/iisg-board-4/documents".into()).await;
    let roles: Vec<(String, String)> = documents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["publication"]["slug"].as_str().unwrap_or("").to_owned(),
                d["role"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("a-waiting-game".to_owned(), "presented".to_owned()),
            ("iisg-tor".to_owned(), "endorsed".to_owned()),
            ("iisg-tor".to_owned(), "prepared_for".to_owned()),
        ]
    );
    let endorsed = list("/api/v1/events/iisg-board-4/documents?role=endorsed".into()).await;
    assert_eq!(endorsed["items"].as_array().map(Vec::len), Some(1));
    // Keyset pages: two of one, then the last.
    let first = list("/api/v1/publications?limit=2".into()).await;
    assert_eq!(slugs(&first), ["a-waiting-game", "annual-report"]);
    let cursor = first["next_cursor"].as_str().unwrap_or("");
    let second = list(format!("/api/v1/publications?limit=2&cursor={cursor}")).await;
    assert_eq!(slugs(&second), ["iisg-tor"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // Unknown records in a path are 404, in a filter 422 naming it; bad values 400.
    app.get("/api/v1/people/nobody/publications")
        .await
        .problem(404);
    app.get("/api/v1/organisations/nobody/publications")
        .await
        .problem(404);
    app.get("/api/v1/events/nothing/documents")
        .await
        .problem(404);
    let problem = app
        .get("/api/v1/publications?author=nobody")
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "author");
    app.get("/api/v1/publications?kind=novel")
        .await
        .problem(400);
    app.get("/api/v1/publications?limit=0").await.problem(400);
    app.get("/api/v1/publications?cursor=garbage")
        .await
        .problem(400);
    app.get("/api/v1/publications?colour=red")
        .await
        .problem(400);
}

/// The fields a 422 names.
fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["field"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn hostile_publications_are_refused_with_the_field_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    let with = |patch: Value| {
        let mut body = waiting_game();
        if let (Some(body), Some(patch)) = (body.as_object_mut(), patch.as_object()) {
            for (k, v) in patch {
                body.insert(k.clone(), v.clone());
            }
        }
        body
    };
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"doi": "10.12/x"}), &["doi"]),
        (json!({"doi": "not a doi"}), &["doi"]),
        (json!({"isbn": "978-0-306-40615-8"}), &["isbn"]),
        (json!({"isbn": "0-306-40615-3"}), &["isbn"]),
        (json!({"url": "javascript:alert(1)"}), &["url"]),
        (json!({"url": "ftp://example.org/report.pdf"}), &["url"]),
        (json!({"date": "November 2017"}), &["date"]),
        (json!({"date": "2017-02-30"}), &["date"]),
        (json!({"language": "english please"}), &["language"]),
        (json!({"title": "x".repeat(501)}), &["title"]),
        (json!({"title": " "}), &["title"]),
        (json!({"kind": "novel"}), &["kind"]),
        (json!({"colour": "red"}), &["colour"]),
        (json!({"topics": ["a", "A"]}), &["topics[1]"]),
        (
            json!({"authors": [{"person_id": "vlado-azinovic"}, {"person_id": "vlado-azinovic"}]}),
            &["authors[1].person_id"],
        ),
        // Dangling references, every one named at once.
        (
            json!({"authors": [{"person_id": "ghost", "affiliation_id": "nowhere"}], "publisher_id": "nobody", "events": [{"event_id": "never-held", "role": "adopted"}]}),
            &[
                "publisher_id",
                "authors[0].person_id",
                "authors[0].affiliation_id",
                "events[0].event_id",
            ],
        ),
        (
            json!({"events": [{"event_id": "iisg-board-4", "role": "applauded"}]}),
            &["events[0].role"],
        ),
    ];
    for (patch, expected) in cases {
        let body = with(patch.clone());
        let problem = app.post("/api/v1/publications", &body).await.problem(422);
        let mut found = fields(&problem);
        found.sort();
        let mut expected: Vec<String> = expected.iter().map(|f| (*f).to_owned()).collect();
        expected.sort();
        assert_eq!(found, expected, "{patch}: {problem}");
    }
    // Malformed JSON, wrong media type, no token, too weak a token.
    let auth = app.editor_auth();
    let malformed = app
        .request(
            Method::POST,
            "/api/v1/publications",
            &[("authorization", &auth)],
            Some(("application/json", b"{\"title\": ".to_vec())),
        )
        .await;
    malformed.problem(400);
    let anonymous = app
        .request(
            Method::POST,
            "/api/v1/publications",
            &[],
            Some(("application/json", waiting_game().to_string().into_bytes())),
        )
        .await;
    anonymous.problem(401);
    let reader = format!("Bearer {}", app.reader);
    let weak = app
        .request(
            Method::POST,
            "/api/v1/publications",
            &[("authorization", &reader)],
            Some(("application/json", waiting_game().to_string().into_bytes())),
        )
        .await;
    weak.problem(403);
    app.get("/api/v1/publications/nothing-here")
        .await
        .problem(404);
    app.delete("/api/v1/publications/nothing-here")
        .await
        .problem(404);
    // A taken slug is 409.
    app.create("/api/v1/publications", waiting_game()).await;
    let taken = app
        .post("/api/v1/publications", &waiting_game())
        .await
        .problem(409);
    assert!(taken.to_string().contains("slug_unique"), "{taken}");
    // A patch that breaks a rule changes nothing.
    let problem = app
        .patch(
            "/api/v1/publications/a-waiting-game",
            &json!({"isbn": "123"}),
        )
        .await
        .problem(422);
    assert_eq!(fields(&problem), ["isbn"]);
}

async fn what_a_publication_names_cannot_be_deleted_under_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed(&app).await;
    app.create("/api/v1/publications", waiting_game()).await;
    for path in [
        "/api/v1/people/vlado-azinovic",
        "/api/v1/organisations/university-of-sarajevo",
        "/api/v1/organisations/rcc",
        "/api/v1/events/iisg-board-4",
    ] {
        let problem = app.delete(path).await.problem(409);
        assert!(
            problem.to_string().contains("still_referenced")
                && problem.to_string().contains("a-waiting-game"),
            "{path}: {problem}"
        );
    }
    app.delete("/api/v1/publications/a-waiting-game")
        .await
        .expect(204);
    app.get("/api/v1/publications/a-waiting-game")
        .await
        .problem(404);
    for path in [
        "/api/v1/people/vlado-azinovic",
        "/api/v1/organisations/rcc",
        "/api/v1/events/iisg-board-4",
    ] {
        app.delete(path).await.expect(204);
    }
}

/// The questions of the README: what did the RCC publish, and who wrote it? Which documents
/// belong to the 4th IISG Board meeting?
async fn the_demo_publications_answer_their_questions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    bulk::import_file(&db, demo, bulk::ImportOptions::default()).expect("demo imports");
    let rcc = app
        .get("/api/v1/organisations/rcc/publications")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&rcc, "slug"), ["a-waiting-game"]);
    let report = &rcc["items"][0];
    assert_eq!(report["date"], "2017-11");
    let authors: Vec<&str> = report["authors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["person"]["name"].as_str())
        .collect();
    assert_eq!(authors, ["Vlado Azinović", "Edina Bećirević"]);
    assert_eq!(
        report["authors"][1]["affiliation"]["name"],
        "University of Sarajevo"
    );
    // Nothing the page does not say: no day, language, link or identifier.
    for field in ["language", "url", "doi", "isbn"] {
        assert!(report[field].is_null(), "{field}: {report}");
    }
    let board = app
        .get("/api/v1/events/iisg-board-4/documents")
        .await
        .expect(200)
        .json();
    assert_eq!(board["items"][0]["publication"]["slug"], "iisg-tor");
    assert_eq!(board["items"][0]["role"], "endorsed");
    assert!(board["items"][0]["publication"]["date"].is_null());
    let conclusions = app
        .get("/api/v1/publications/iisg-board-conclusions-2017")
        .await
        .expect(200)
        .json();
    assert_eq!(conclusions["date"], "2017-09-08");
    assert_eq!(conclusions["kind"], "conclusions");
}

on_both_backends!(
    a_publication_names_its_authors_publisher_and_events,
    publications_are_listed_by_person_organisation_and_event,
    hostile_publications_are_refused_with_the_field_named,
    what_a_publication_names_cannot_be_deleted_under_it,
    the_demo_publications_answer_their_questions,
);
