//! Import and export, and the demo data answering the questions it exists for.

use meeting_registry::bulk::{self, ImportError, ImportMode, ImportOptions, ImportReport};
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

const DEMO: &str = include_str!("../../data/demo.json");
const DEMO_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");

/// The default import: `import FILE` and `serve --import FILE`.
fn import(app: &TestApp, text: &str) -> Result<ImportReport, ImportError> {
    import_with(app, text, ImportOptions::default())
}

fn import_with(
    app: &TestApp,
    text: &str,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    db.with_connection(|conn| Ok(bulk::import(conn, text, options)))
        .expect("connection")
}

fn demo_records() -> usize {
    let demo: Value = serde_json::from_str(DEMO).expect("demo is JSON");
    bulk::SECTIONS
        .iter()
        .map(|s| demo[s].as_array().map(Vec::len).unwrap_or(0))
        .sum()
}

fn export(app: &TestApp) -> Value {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let text = bulk::export_json(&db).expect("export");
    serde_json::from_str(&text).expect("export is JSON")
}

fn slugs(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|i| {
            i.iter()
                .map(|e| e["slug"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn the_demo_data_answers_its_questions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let report = import(&app, DEMO).expect("demo imports");
    assert_eq!(report.created, demo_records());

    // Which meetings of the RNNC are there, in order?
    let rnnc = app
        .get("/api/v1/networks/rnnc/meetings")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&rnnc), ["rnnc-3"]);
    assert_eq!(rnnc["items"][0]["series_number"], 3);
    // What happened in Tirana in April 2019?
    let tirana = app
        .get("/api/v1/events?city=tirana&from=2019-04-01&to=2019-04-30")
        .await
        .expect(200)
        .json();
    assert_eq!(
        slugs(&tirana),
        [
            "nfp-group-7",
            "rnnc-3",
            "iisg-national-pcve-coordination-albania-1"
        ]
    );
    assert_eq!(tirana["items"][1]["chain"]["position"], 2);
    // What did DCAF Ljubljana take part in, and how?
    let dcaf = app
        .get("/api/v1/organisations/dcaf-ljubljana/events")
        .await
        .expect(200)
        .json();
    assert!(
        dcaf["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        "{dcaf}"
    );
    assert!(
        dcaf["items"][0]["roles"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
    );
    // Who chairs the IISG Board meeting?
    let board = app
        .get("/api/v1/events/iisg-board-4")
        .await
        .expect(200)
        .json();
    let chairs: Vec<&str> = board["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["role"] == "chair")
        .filter_map(|p| p["participant"]["name"].as_str())
        .collect();
    assert_eq!(
        chairs,
        [
            "Maciej Popowski",
            "European Commission",
            "DG for European Neighbourhood Policy and Enlargement Negotiations",
            "DG HOME"
        ]
    );
    assert_eq!(board["location"]["city"], "Skopje");
    assert_eq!(board["start_date"], "2019-11-18");
    // What does it precede? The Home Affairs session, whose date the page does not give.
    let home_affairs = "eu-wb-jha-ministerial-forum-2019-home-affairs";
    assert_eq!(board["precedes"][0]["slug"], home_affairs, "{board}");
    let session = app
        .get(&format!("/api/v1/events/{home_affairs}"))
        .await
        .expect(200)
        .json();
    assert_eq!(session["preceded_by"][0]["slug"], "iisg-board-4");
    assert_eq!(session["start_date"], Value::Null);
    assert_eq!(session["status"], "tentative");
    // The Tirana chain was built from the demo's events.
    let chain = app
        .get("/api/v1/chains/tirana-april-2019")
        .await
        .expect(200)
        .json();
    assert_eq!(chain["events"].as_array().map(Vec::len), Some(3));
}

/// Every value of the demo data is one the IISG news page states: who hosted, who holds the
/// chairmanship, and nothing the page leaves unsaid (a date, a city, a founding day).
async fn the_demo_data_says_only_what_the_page_says(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app, DEMO).expect("demo imports");
    let roles = |event: &Value| -> Vec<(String, String)> {
        event["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["participant"]["slug"].as_str().unwrap_or("").to_owned(),
                    p["role"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    // "Mr Filip de Ceuninck ... hosted a CT and P/CVE coordination meeting".
    let wbcti = app
        .get("/api/v1/events/wbcti-coordination-1")
        .await
        .expect(200)
        .json();
    assert!(
        roles(&wbcti).contains(&("filip-de-ceuninck".to_owned(), "host".to_owned())),
        "{wbcti}"
    );
    // "IISG Chairmanship – European Commission, DG NEAR and DG HOME".
    let board = app
        .get("/api/v1/events/iisg-board-4")
        .await
        .expect(200)
        .json();
    for chair in ["european-commission", "dg-near", "dg-home"] {
        assert!(
            roles(&board).contains(&(chair.to_owned(), "chair".to_owned())),
            "{chair}: {board}"
        );
    }
    assert!(
        board["description"]
            .as_str()
            .is_some_and(|d| d.contains("IISG Partners and Observers are also invited")),
        "{board}"
    );
    // The Home Affairs session has no date or city on the page, so no event says one.
    let skopje = app
        .get("/api/v1/events?city=skopje")
        .await
        .expect(200)
        .json();
    assert_eq!(slugs(&skopje), ["iisg-board-4"]);
    // "established in June 2018": no day, so no date.
    let rnnc = app.get("/api/v1/networks/rnnc").await.expect(200).json();
    assert!(rnnc["established_on"].is_null(), "{rnnc}");
    // No clock time anywhere: the page gives none.
    let all = app.get("/api/v1/events?limit=200").await.expect(200).json();
    assert!(
        all["items"]
            .as_array()
            .is_some_and(|items| items.iter().all(|e| e["start_time"].is_null())),
        "{all}"
    );
}

async fn importing_twice_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app, DEMO).expect("first import");
    let before = export(&app);
    let event = app.get("/api/v1/events/rnnc-3").await.expect(200);
    let report = import(&app, DEMO).expect("second import");
    assert_eq!(report.created, 0);
    assert_eq!(report.unchanged, demo_records());
    assert_eq!(report.kept, []);
    let report = import_with(
        &app,
        DEMO,
        ImportOptions {
            mode: ImportMode::Overwrite,
            dry_run: false,
        },
    )
    .expect("overwriting import");
    assert_eq!((report.created, report.overwritten.len()), (0, 0));
    assert_eq!(export(&app), before);
    let again = app.get("/api/v1/events/rnnc-3").await.expect(200);
    assert_eq!(again.header("etag"), event.header("etag"));
}

async fn an_export_imports_into_an_empty_registry_unchanged(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    import(&first, DEMO).expect("demo");
    let exported = export(&first);
    let second = TestApp::spawn(backend).await;
    import(&second, &exported.to_string()).expect("export imports");
    assert_eq!(export(&second), exported);
}

/// Runs the built `meeting-registry` binary against the test's database.
fn run_cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_meeting-registry"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("meeting-registry runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const BOARD: &str = "/api/v1/events/iisg-board-4";

async fn an_edited_demo_record_survives_every_later_import(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app, DEMO).expect("demo");
    let edited = app
        .patch(BOARD, &json!({"start_time": "10:00", "end_time": "12:30"}))
        .await
        .expect(200)
        .json();
    assert_eq!(edited["start_time"], "10:00");

    // Importing again, and the import `serve --import` does at every start, leave the edit.
    let report = import(&app, DEMO).expect("second import");
    assert_eq!(report.created, 0);
    assert_eq!(report.left_as_they_are(), demo_records());
    assert_eq!(report.kept.len(), 1, "{report:?}");
    assert_eq!(
        (report.kept[0].section, report.kept[0].slug.as_str()),
        ("events", "iisg-board-4")
    );
    let fields: Vec<&str> = report.kept[0]
        .fields
        .iter()
        .map(|f| f.field.as_str())
        .collect();
    assert_eq!(fields, ["end_time", "start_time"]);
    assert!(
        report
            .render("demo.json")
            .contains("left events/iisg-board-4 as it is"),
        "{}",
        report.render("demo.json")
    );
    for _restart in 0..2 {
        let db = Database::connect(&app.database_url, 1).expect("connect");
        let report =
            bulk::import_file(&db, DEMO_PATH, ImportOptions::default()).expect("start-up import");
        assert_eq!(report.created, 0);
    }
    let (ok, out, err) = run_cli(&app, &["import", DEMO_PATH]);
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "0 created, {} left as they are (1 of them differs",
            demo_records()
        )),
        "{out}"
    );
    let after = app.get(BOARD).await.expect(200);
    let board = after.json();
    assert_eq!(board["start_time"], "10:00");
    assert_eq!(board["end_time"], "12:30");
    assert_eq!(
        board["version"], edited["version"],
        "an import wrote the record"
    );
}

async fn overwrite_shows_and_restores_the_files_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    import(&app, DEMO).expect("demo");
    let edited = app
        .patch(
            BOARD,
            &json!({"start_time": "10:00", "status": "postponed"}),
        )
        .await
        .expect(200)
        .json();
    let members = "/api/v1/networks/iisg-board/members";
    let listed = app.get(members).await.expect(200).json();
    let member_count = listed["items"].as_array().map(Vec::len).unwrap_or(0);
    let first = listed["items"][0]["id"]
        .as_str()
        .expect("a member")
        .to_owned();
    app.delete(&format!("{members}/{first}")).await.expect(204);

    // A dry run lists what would be overwritten and writes nothing.
    let (ok, out, err) = run_cli(&app, &["import", "--overwrite", "--dry-run", DEMO_PATH]);
    assert!(ok, "{err}");
    assert!(
        out.contains("would overwrite events/iisg-board-4:\n"),
        "{out}"
    );
    assert!(
        out.contains("    start_time: \"10:00\" -> (none)\n"),
        "{out}"
    );
    assert!(
        out.contains("    status: \"postponed\" -> \"scheduled\"\n"),
        "{out}"
    );
    assert!(
        out.contains("would overwrite networks/iisg-board:\n    members: ["),
        "{out}"
    );
    assert!(out.contains("dry run: nothing was written"), "{out}");
    let board = app.get(BOARD).await.expect(200).json();
    assert_eq!(board["version"], edited["version"]);
    assert_eq!(board["start_time"], "10:00");

    let report = import_with(
        &app,
        DEMO,
        ImportOptions {
            mode: ImportMode::Overwrite,
            dry_run: false,
        },
    )
    .expect("overwrite");
    let overwritten: Vec<(&str, &str)> = report
        .overwritten
        .iter()
        .map(|r| (r.section, r.slug.as_str()))
        .collect();
    assert_eq!(
        overwritten,
        [("networks", "iisg-board"), ("events", "iisg-board-4")]
    );
    let changes: Vec<(&str, Value, Value)> = report.overwritten[1]
        .fields
        .iter()
        .map(|f| (f.field.as_str(), f.stored.clone(), f.file.clone()))
        .collect();
    assert_eq!(
        changes,
        [
            ("start_time", json!("10:00"), Value::Null),
            ("status", json!("postponed"), json!("scheduled"))
        ]
    );
    assert_eq!(report.unchanged, demo_records() - 2);
    let listed = app.get(members).await.expect(200).json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(member_count));
    let board = app.get(BOARD).await.expect(200).json();
    assert_eq!(board["start_time"], Value::Null);
    assert_eq!(board["status"], "scheduled");
    let version = board["version"].clone();
    assert_ne!(version, edited["version"]);
    let audit = app
        .get_as(&app.admin, "/api/v1/audit?resource=event&limit=200")
        .await
        .expect(200)
        .json();
    let overwrites: Vec<&Value> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["actor"] == "cli:import" && e["action"] == "update")
        .collect();
    assert_eq!(overwrites.len(), 1, "{audit}");
    assert_eq!(overwrites[0]["changes"]["status"]["to"], "scheduled");

    // Once the registry matches the file, overwriting writes nothing.
    let report = import_with(
        &app,
        DEMO,
        ImportOptions {
            mode: ImportMode::Overwrite,
            dry_run: false,
        },
    )
    .expect("second overwrite");
    assert_eq!(report.overwritten, []);
    let again = app.get(BOARD).await.expect(200).json();
    assert_eq!(again["version"], version);
}

/// Three kinds of check (parsing, references, rules), several records, several fields each.
fn broken_bundle() -> Value {
    let event = |slug: &str, date: &str, city: &str| {
        json!({"slug": slug, "title": slug, "kind": "meeting", "start_date": date,
               "timezone": "Europe/Tirane", "location": {"city": city, "country_code": "AL"}})
    };
    json!({
        "organisations": [
            {"slug": "fine", "name": "Fine", "kind": "ngo"},
            {"slug": "bad-org", "name": "Bad", "kind": "ngo", "country_code": "QQ",
             "parent_id": "ghost-parent", "website": "not a url"}
        ],
        "people": [
            {"slug": "ana", "full_name": "Ana", "email": "nope", "organisation_id": "nowhere"}
        ],
        "networks": [
            {"slug": "net", "name": "Net", "coordinator_id": "ghost-coordinator",
             "members": [{"person_id": "ghost-person", "role": "member"},
                         {"organisation_id": "fine", "role": "boss"}]}
        ],
        "events": [
            event("tirana", "2019-04-01", "Tirana"),
            {"slug": "backwards", "title": "Backwards", "kind": "meeting",
             "start_date": "2019-01-02", "end_date": "2019-01-01", "timezone": "Mars/Olympus",
             "network_id": "ghost"},
            {"slug": "party", "title": "Party", "kind": "party", "start_date": "2019-01-03",
             "timezone": "UTC", "organisers": [{"organisation_id": "ghost-org", "role": "host"}]},
            event("skopje", "2019-04-20", "Skopje"),
            {"slug": "session", "title": "Session", "kind": "workshop",
             "start_date": "2019-01-02", "timezone": "UTC", "parent_event_id": "backwards"}
        ],
        "chains": [
            {"slug": "spread", "title": "Spread", "event_ids": ["tirana", "skopje"]},
            {"slug": "empty-handed", "title": "Empty", "event_ids": ["tirana", "ghost-event"]}
        ]
    })
}

async fn a_broken_file_is_reported_whole_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let outcome = import(&app, &broken_bundle().to_string());
    let Err(ImportError::Invalid {
        problems,
        unchecked,
    }) = &outcome
    else {
        panic!("a broken bundle was accepted: {outcome:?}");
    };
    let found: Vec<(String, Vec<String>)> = problems
        .iter()
        .map(|p| {
            let mut fields: Vec<String> = p.errors.iter().map(|e| e.field.clone()).collect();
            fields.sort();
            (p.position.clone(), fields)
        })
        .collect();
    let expected: Vec<(String, Vec<String>)> = [
        (
            "organisations[1]",
            &["country_code", "parent_id", "website"][..],
        ),
        ("people[0]", &["email", "organisation_id"]),
        (
            "networks[0]",
            &["coordinator_id", "members[0].person_id", "members[1].role"],
        ),
        ("events[1]", &["end_date", "network_id", "timezone"]),
        ("events[2]", &["kind", "organisers[0].organisation_id"]),
        ("chains[0]", &["", ""]),
        ("chains[1]", &["event_ids[1]"]),
    ]
    .iter()
    .map(|(position, fields)| {
        (
            (*position).to_owned(),
            fields.iter().map(|f| (*f).to_owned()).collect(),
        )
    })
    .collect();
    assert_eq!(found, expected, "{}", outcome.as_ref().unwrap_err());
    assert_eq!(unchecked, &["events[4] (session)"]);
    let text = outcome.as_ref().unwrap_err().to_string();
    assert!(text.contains("events[1] (backwards)\n    "), "{text}");
    assert!(text.contains("breaks rule chain_"), "{text}");
    assert!(
        text.contains("no network \"ghost\" in the file or the registry"),
        "{text}"
    );

    // Nothing was stored, not even the valid records.
    for collection in [
        "organisations",
        "people",
        "networks",
        "events",
        "chains",
        "publications",
        "outcomes",
    ] {
        let page = app
            .get_as(&app.reader, &format!("/api/v1/{collection}"))
            .await
            .expect(200)
            .json();
        assert_eq!(page["items"], json!([]), "{collection}");
    }
    // The command says the same, and fails.
    let path = std::env::temp_dir().join(format!("broken-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, broken_bundle().to_string()).expect("write bundle");
    let (ok, _, err) = run_cli(&app, &["import", &path.to_string_lossy()]);
    let _ = std::fs::remove_file(&path);
    assert!(!ok);
    assert!(err.contains("7 record(s) with"), "{err}");
}

async fn a_file_that_is_no_bundle_says_every_reason(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let outcome = import(&app, r#"{"meetings": [], "events": {}, "chain": []}"#);
    let Err(ImportError::Unreadable(reasons)) = outcome else {
        panic!("not a bundle, yet: {outcome:?}");
    };
    assert_eq!(reasons.lines().count(), 3, "{reasons}");
    assert!(reasons.contains("\"meetings\""), "{reasons}");
    assert!(matches!(
        import(&app, "[]"),
        Err(ImportError::Unreadable(_))
    ));
}

on_both_backends!(
    the_demo_data_answers_its_questions,
    the_demo_data_says_only_what_the_page_says,
    importing_twice_changes_nothing,
    an_export_imports_into_an_empty_registry_unchanged,
    an_edited_demo_record_survives_every_later_import,
    overwrite_shows_and_restores_the_files_values,
    a_broken_file_is_reported_whole_and_nothing_is_written,
    a_file_that_is_no_bundle_says_every_reason,
);
