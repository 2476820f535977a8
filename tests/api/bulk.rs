//! Import and export, and the demo data answering the questions it exists for.

use meeting_registry::bulk::{self, ImportError};
use meeting_registry::db::Database;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

const DEMO: &str = include_str!("../../data/demo.json");

fn import(app: &TestApp, text: &str) -> Result<bulk::ImportReport, ImportError> {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    db.with_connection(|conn| Ok(bulk::import(conn, text)))
        .expect("connection")
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
    let demo: Value = serde_json::from_str(DEMO).expect("demo is JSON");
    let records: usize = ["organisations", "people", "networks", "events", "chains"]
        .iter()
        .map(|s| demo[s].as_array().map(Vec::len).unwrap_or(0))
        .sum();
    assert_eq!(report.created, records);

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
    assert_eq!((report.created, report.updated), (0, 0));
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

async fn an_invalid_bundle_reports_every_record_and_imports_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let bundle = json!({
        "organisations": [
            {"slug": "ok", "name": "Fine", "kind": "ngo"},
            {"slug": "bad-country", "name": "Bad", "kind": "ngo", "country_code": "QQ"}
        ],
        "events": [
            {"slug": "good", "title": "Good", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC"},
            {"slug": "backwards", "title": "Backwards", "kind": "meeting", "start_date": "2019-01-02", "end_date": "2019-01-01", "timezone": "UTC"},
            {"slug": "ghost-ref", "title": "Ghost", "kind": "meeting", "start_date": "2019-01-03", "timezone": "UTC", "network_id": "ghost"}
        ]
    });
    let Err(ImportError::Invalid(problems)) = import(&app, &bundle.to_string()) else {
        panic!("an invalid bundle was accepted");
    };
    let positions: Vec<&str> = problems.iter().map(|p| p.position.as_str()).collect();
    assert_eq!(positions, ["organisations[1]", "events[1]"]);
    assert_eq!(problems[0].errors[0].field, "country_code");

    // Once the file is valid on its face, database rules are reported the same way.
    let bundle = json!({"events": [
        {"slug": "good", "title": "Good", "kind": "meeting", "start_date": "2019-01-01", "timezone": "UTC"},
        {"slug": "ghost-ref", "title": "Ghost", "kind": "meeting", "start_date": "2019-01-03", "timezone": "UTC", "network_id": "ghost"}
    ]});
    let Err(ImportError::Invalid(problems)) = import(&app, &bundle.to_string()) else {
        panic!("a bundle with a dangling reference was accepted");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].position, "events[1]");
    assert_eq!(problems[0].errors[0].field, "network_id");
    let events = app.get("/api/v1/events").await.expect(200).json();
    assert_eq!(
        events["items"],
        json!([]),
        "a failed import stored something"
    );
    assert!(matches!(
        import(&app, "{\"meetings\": []}"),
        Err(ImportError::Unreadable(_))
    ));
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
    an_invalid_bundle_reports_every_record_and_imports_nothing,
);
