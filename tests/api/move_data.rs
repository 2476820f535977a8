//! `migrate-data`: a whole registry moved into an empty database of the other backend, and back,
//! with nothing lost or changed: the same export, the same ETags, working tokens, the audit log,
//! and a refusal to fill a database that holds records.

use diesel::prelude::*;
use diesel::{Connection, PgConnection};
use meeting_registry::bulk::{self, move_data};
use meeting_registry::db::Database;
use meeting_registry::store::tokens;
use serde_json::json;

use crate::helpers::{Backend, TestApp, test_database_url};
use crate::on_both_backends;

/// An empty PostgreSQL database, dropped with the guard.
pub(crate) struct EmptyPostgres {
    admin_url: String,
    name: String,
    pub(crate) url: String,
}

impl EmptyPostgres {
    pub(crate) fn new() -> Self {
        let admin_url = test_database_url();
        let name = format!("registry_move_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url).expect("PostgreSQL");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create database");
        let url = match admin_url.rfind('/') {
            Some(i) => format!("{}/{name}", &admin_url[..i]),
            None => panic!("TEST_DATABASE_URL has no database name"),
        };
        Self {
            admin_url,
            name,
            url,
        }
    }
}

impl Drop for EmptyPostgres {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

fn open(url: &str) -> Database {
    let db = Database::connect(url, 2).expect("connect");
    db.migrate().expect("migrate");
    db
}

/// The registry of `app`, moved to the other backend and back: every step keeps the export,
/// the tokens and the audit log.
async fn a_registry_moves_to_the_other_backend_and_back(backend: Backend) {
    if !Backend::Postgres.runs() || !Backend::Sqlite.runs() {
        return;
    }
    let app = TestApp::spawn_with(backend, |s| s.webhook_allow_private = true).await;
    let admin = app.admin.clone();
    let hook = app
        .request(
            awc::http::Method::POST,
            "/api/v1/webhooks",
            &[("authorization", &format!("Bearer {admin}"))],
            Some((
                "application/json",
                json!({"url": "http://127.0.0.1:9/hook", "enabled": false})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await
        .expect(201)
        .json();
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    let source = open(&app.database_url);
    bulk::import_file(&source, demo, bulk::ImportOptions::default()).expect("demo imports");
    // Versions past 1, a session, a chain change, a membership: all must survive.
    app.patch(
        "/api/v1/events/iisg-board-4",
        &json!({"start_time": "14:00", "end_time": "17:00"}),
    )
    .await
    .expect(200);
    let etag = app
        .get("/api/v1/events/iisg-board-4")
        .await
        .expect(200)
        .header("etag");
    // A comment, with the contact details an export leaves out and a move keeps.
    let comment = app
        .request(
            awc::http::Method::POST,
            "/api/v1/events/iisg-board-4/comments",
            &[],
            Some((
                "application/json",
                json!({"author_name": "Ana", "email": "ana@example.org", "body": "<b>Hi</b>"})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await
        .expect(201)
        .json();
    let comment = comment["id"].as_str().unwrap_or("").to_owned();
    let exported = bulk::export_json(&source).expect("export");

    let postgres = EmptyPostgres::new();
    let dir = tempfile::tempdir().expect("temporary folder");
    let sqlite = dir.path().join("moved.db").display().to_string();
    // Through the other backend and back to this one's kind.
    let (first, second) = match backend {
        Backend::Sqlite => (postgres.url.clone(), sqlite.clone()),
        Backend::Postgres => (sqlite.clone(), postgres.url.clone()),
    };
    let first_db = open(&first);
    let report = move_data::move_registry(&source, &first_db).expect("moves");
    let events = report.tables.iter().find(|(t, _)| t == "events");
    assert_eq!(events.map(|(_, n)| *n), Some(8), "{report}");
    let webhooks = report.tables.iter().find(|(t, _)| t == "webhooks");
    assert_eq!(webhooks.map(|(_, n)| *n), Some(1), "{report}");
    assert!(hook["id"].is_string());
    assert_eq!(bulk::export_json(&first_db).expect("export"), exported);
    let comments = report.tables.iter().find(|(t, _)| t == "comments");
    assert_eq!(comments.map(|(_, n)| *n), Some(1), "{report}");
    let moved = first_db
        .with_connection(|conn| {
            let admin = meeting_registry::store::comments::CommentReader {
                viewer: meeting_registry::store::Viewer::WRITER,
                moderator: true,
                admin: true,
            };
            meeting_registry::store::comments::read(conn, &comment, admin)
                .map_err(|e| e.to_string())
        })
        .expect("the moved comment");
    assert_eq!(
        moved.contact.and_then(|c| c.email).as_deref(),
        Some("ana@example.org")
    );

    // The editor token of the source works on the target: its hash moved.
    let editor = app.editor_auth();
    let secret = editor.trim_start_matches("Bearer ");
    let verified = first_db
        .with_connection(|conn| tokens::verify(conn, secret).map_err(|e| e.to_string()))
        .expect("verify");
    assert!(verified.is_ok(), "the moved token is refused");

    let second_db = match backend {
        // The second hop goes into a fresh database of this backend's kind.
        Backend::Sqlite => open(&second),
        Backend::Postgres => {
            drop(postgres);
            let again = EmptyPostgres::new();
            let db = open(&again.url);
            move_data::move_registry(&first_db, &db).expect("moves back");
            assert_eq!(bulk::export_json(&db).expect("export"), exported);
            return check_served(&again.url, etag).await;
        }
    };
    move_data::move_registry(&first_db, &second_db).expect("moves back");
    assert_eq!(bulk::export_json(&second_db).expect("export"), exported);
    check_served(&second, etag).await;
}

/// A server on the moved registry answers the event with the ETag the source gave.
async fn check_served(url: &str, etag: Option<String>) {
    let db = open(url);
    let event = db
        .with_connection(|conn| {
            meeting_registry::store::events::get(
                conn,
                "iisg-board-4",
                meeting_registry::store::Viewer::WRITER,
            )
            .map_err(|e| e.to_string())
        })
        .expect("the moved event");
    let moved = meeting_registry::representation::etag_of_value(&event).expect("etag");
    assert_eq!(Some(moved), etag);
    assert_eq!(event.version, 2);
    assert_eq!(event.precedes.len(), 1);
}

async fn a_database_with_records_is_not_filled(backend: Backend) {
    if !Backend::Postgres.runs() || !Backend::Sqlite.runs() {
        return;
    }
    // Both hold tokens: TestApp makes three.
    let source = TestApp::spawn(backend).await;
    let other = match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    let target = TestApp::spawn(other).await;
    let before = bulk::export_json(&open(&target.database_url)).expect("export");
    let refused =
        move_data::move_registry(&open(&source.database_url), &open(&target.database_url))
            .expect_err("refused");
    assert!(
        refused.contains("not empty") && refused.contains("tokens"),
        "{refused}"
    );
    assert_eq!(
        bulk::export_json(&open(&target.database_url)).expect("export"),
        before
    );
}

on_both_backends!(
    a_registry_moves_to_the_other_backend_and_back,
    a_database_with_records_is_not_filled,
);
