//! The change feed: every change in commit order, tombstones, what a caller without a token
//! may see, retention (410), long polling, and no change skipped or repeated while writers on
//! three replicas commit at once.

use std::collections::{HashMap, HashSet};

use futures_util::future::join_all;
use meeting_registry::db::Database;
use meeting_registry::store::changes;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

/// `(resource, slug, action, version)` of each item.
fn summary(page: &Value) -> Vec<(String, String, String, i64)> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|c| {
                    (
                        c["resource"].as_str().unwrap_or("").to_owned(),
                        c["slug"].as_str().unwrap_or("").to_owned(),
                        c["action"].as_str().unwrap_or("").to_owned(),
                        c["version"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn row(resource: &str, slug: &str, action: &str, version: i64) -> (String, String, String, i64) {
    (resource.into(), slug.into(), action.into(), version)
}

async fn now_cursor(app: &TestApp) -> String {
    let start = app.get("/api/v1/changes").await.expect(200).json();
    assert_eq!(start["items"], json!([]), "{start}");
    assert!(
        start["full_state"]
            .as_array()
            .is_some_and(|l| l.contains(&json!("/api/v1/events"))),
        "{start}"
    );
    start["next_cursor"].as_str().unwrap_or("").to_owned()
}

async fn every_write_is_listed_in_order_with_tombstones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let start = now_cursor(&app).await;
    let event = app
        .create("/api/v1/events", event_body("Board", "2020-01-10"))
        .await;
    app.patch("/api/v1/events/board", &json!({"title": "Board meeting"}))
        .await
        .expect(200);
    // A patch that changes nothing is no change.
    app.patch("/api/v1/events/board", &json!({"title": "Board meeting"}))
        .await
        .expect(200);
    app.create(
        "/api/v1/organisations",
        json!({"name": "RCC", "slug": "rcc", "kind": "regional_organisation"}),
    )
    .await;
    app.create("/api/v1/networks", json!({"name": "NFP", "slug": "nfp"}))
        .await;
    let member = app
        .create(
            "/api/v1/networks/nfp/members",
            json!({"organisation_id": "rcc", "role": "member"}),
        )
        .await;
    app.delete("/api/v1/events/board").await.expect(204);

    let page = app
        .get(&format!("/api/v1/changes?since={start}"))
        .await
        .expect(200)
        .json();
    assert_eq!(
        summary(&page),
        [
            row("event", "board", "created", 1),
            row("event", "board", "updated", 2),
            row("organisation", "rcc", "created", 1),
            row("network", "nfp", "created", 1),
            row("membership", "", "created", 1),
            row("event", "board", "deleted", 2),
        ],
        "{page}"
    );
    let items = page["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items[0]["id"], event["id"]);
    assert_eq!(
        items[0]["url"],
        format!("/api/v1/events/{}", event["id"].as_str().unwrap_or(""))
    );
    // A membership is read under its network.
    let member_url = items[4]["url"].as_str().unwrap_or("");
    assert!(
        member_url.ends_with(&format!("/members/{}", member["id"].as_str().unwrap_or(""))),
        "{member_url}"
    );
    app.get(member_url).await.expect(200);

    // Paging by two gives the same changes, and the end gives nothing new.
    let mut paged = Vec::new();
    let mut cursor = start.clone();
    for _ in 0..10 {
        let page = app
            .get(&format!("/api/v1/changes?since={cursor}&limit=2"))
            .await
            .expect(200)
            .json();
        let got = summary(&page);
        if got.len() == 2 {
            // A full page ends at its last item: the next one starts right after it.
            assert_eq!(page["next_cursor"], page["items"][1]["cursor"], "{page}");
        }
        cursor = page["next_cursor"].as_str().unwrap_or("").to_owned();
        if got.is_empty() {
            break;
        }
        paged.extend(got);
    }
    assert_eq!(paged, summary(&page));
    let end = app
        .get(&format!("/api/v1/changes?since={cursor}"))
        .await
        .expect(200)
        .json();
    assert_eq!(end["items"], json!([]));
    assert_eq!(end["next_cursor"], cursor.as_str());
}

async fn internal_events_are_created_and_deleted_for_the_public(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let start = now_cursor(&app).await;
    let mut hidden = event_body("Hidden", "2020-01-10");
    hidden["visibility"] = json!("internal");
    app.create("/api/v1/events", hidden).await;
    app.patch("/api/v1/events/hidden", &json!({"title": "Hidden still"}))
        .await
        .expect(200);
    app.patch("/api/v1/events/hidden", &json!({"visibility": "public"}))
        .await
        .expect(200);
    app.patch("/api/v1/events/hidden", &json!({"title": "Open"}))
        .await
        .expect(200);
    app.patch("/api/v1/events/hidden", &json!({"visibility": "internal"}))
        .await
        .expect(200);
    app.delete("/api/v1/events/hidden").await.expect(204);

    let public = app
        .get(&format!("/api/v1/changes?since={start}"))
        .await
        .expect(200)
        .json();
    assert_eq!(
        summary(&public),
        [
            row("event", "hidden", "created", 3),
            row("event", "hidden", "updated", 4),
            row("event", "hidden", "deleted", 5),
        ],
        "{public}"
    );
    let reader = app.reader.clone();
    let full = app
        .get_as(&reader, &format!("/api/v1/changes?since={start}"))
        .await
        .expect(200)
        .json();
    let actions: Vec<String> = summary(&full).into_iter().map(|c| c.2).collect();
    assert_eq!(
        actions,
        [
            "created", "updated", "updated", "updated", "updated", "deleted"
        ],
        "{full}"
    );
    // The public's cursor passes the changes it may not see.
    assert_eq!(public["next_cursor"], full["next_cursor"]);
}

async fn bad_parameters_are_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (query, status, field) in [
        ("since=yesterday", 422, "since"),
        ("since=1.2.3", 422, "since"),
        ("since=999999.0", 422, "since"),
        ("since=-1.0", 422, "since"),
        ("limit=0", 400, "limit"),
        ("limit=1001", 400, "limit"),
        ("limit=ten", 400, "limit"),
        ("wait=61", 400, "wait"),
        ("wait=-1", 400, "wait"),
        ("sinse=1.0", 400, "sinse"),
    ] {
        let problem = app
            .get(&format!("/api/v1/changes?{query}"))
            .await
            .problem(status);
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
}

async fn a_cursor_older_than_the_retention_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let start = now_cursor(&app).await;
    app.create("/api/v1/events", event_body("Old", "2020-01-10"))
        .await;
    let after_old = app
        .get(&format!("/api/v1/changes?since={start}"))
        .await
        .expect(200)
        .json()["next_cursor"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let dropped = db
        .with_connection(|conn| {
            meeting_registry::db::write_transaction(conn, |conn| {
                changes::drop_older_than(
                    conn,
                    chrono::Duration::days(90),
                    chrono::Utc::now() + chrono::Duration::days(91),
                )
            })
            .map_err(|e| e.to_string())
        })
        .expect("drop");
    assert_eq!(dropped, 1);
    let problem = app
        .get(&format!("/api/v1/changes?since={start}"))
        .await
        .problem(410);
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("resync"),
        "{problem}"
    );
    // A cursor past what was dropped still works, and so does a new start.
    app.create("/api/v1/events", event_body("New", "2020-01-10"))
        .await;
    let page = app
        .get(&format!("/api/v1/changes?since={after_old}"))
        .await
        .expect(200)
        .json();
    assert_eq!(summary(&page), [row("event", "new", "created", 1)]);
    now_cursor(&app).await;
}

async fn a_long_poll_answers_when_a_change_arrives(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let start = now_cursor(&app).await;
    let path = format!("/api/v1/changes?since={start}&wait=20");
    let poll = app.get(&path);
    let write = async {
        actix_rt::time::sleep(std::time::Duration::from_millis(300)).await;
        app.create("/api/v1/events", event_body("Later", "2020-01-10"))
            .await
    };
    let (page, _) = futures_util::future::join(poll, write).await;
    let page = page.expect(200).json();
    // Without waiting, the poll would have answered at once, before the write.
    assert_eq!(summary(&page), [row("event", "later", "created", 1)]);
}

/// Writers on three replicas commit at once while a poller follows the feed through another:
/// every acknowledged write is seen exactly once, each record's versions in order.
async fn concurrent_writers_on_three_replicas_skip_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let replicas = [
        app.replica().await,
        app.replica().await,
        app.replica().await,
    ];
    let start = now_cursor(&app).await;
    let done = std::cell::Cell::new(false);
    let writers = replicas.iter().enumerate().map(|(r, replica)| async move {
        let mut written = Vec::new();
        for i in 0..12 {
            let slug = format!("r{r}-e{i}");
            let mut body = event_body(&slug, "2020-01-10");
            body["slug"] = json!(slug);
            let created = replica.create("/api/v1/events", body).await;
            written.push((created["id"].as_str().unwrap_or("").to_owned(), 1));
            let patched = replica
                .patch(
                    &format!("/api/v1/events/{slug}"),
                    &json!({"description": "changed"}),
                )
                .await
                .expect(200)
                .json();
            written.push((created["id"].as_str().unwrap_or("").to_owned(), 2));
            assert_eq!(patched["version"], 2);
        }
        written
    });
    let poller = async {
        let mut seen: Vec<(String, i64)> = Vec::new();
        let mut cursor = start.clone();
        let mut last_round = false;
        loop {
            let page = app
                .get(&format!("/api/v1/changes?since={cursor}&limit=7"))
                .await
                .expect(200)
                .json();
            for change in page["items"].as_array().into_iter().flatten() {
                seen.push((
                    change["id"].as_str().unwrap_or("").to_owned(),
                    change["version"].as_i64().unwrap_or(0),
                ));
            }
            cursor = page["next_cursor"].as_str().unwrap_or("").to_owned();
            let empty = page["items"].as_array().is_none_or(Vec::is_empty);
            if empty && last_round {
                return seen;
            }
            // One more full read once the writers are done.
            last_round = done.get();
            if empty {
                actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        }
    };
    let writing = async {
        let written: Vec<(String, i64)> = join_all(writers).await.into_iter().flatten().collect();
        done.set(true);
        written
    };
    let (written, seen) = futures_util::future::join(writing, poller).await;
    assert_eq!(written.len(), 72);
    let unique: HashSet<&(String, i64)> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a change was listed twice");
    let expected: HashSet<&(String, i64)> = written.iter().collect();
    assert_eq!(unique, expected, "the feed and the writes differ");
    // Each record's changes come in version order.
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (id, version) in &seen {
        let before = last.insert(id.as_str(), *version).unwrap_or(0);
        assert!(before < *version, "{id}: version {version} after {before}");
    }
}

/// An import commits many changes at one generation: pages that end inside it go on from the
/// change after their last, whichever page size, and every page holds what the whole feed
/// holds at its place.
async fn pages_that_end_inside_one_commit_skip_and_repeat_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let start = now_cursor(&app).await;
    let db = Database::connect(&app.database_url, 1).expect("connect");
    db.with_connection(|conn| {
        Ok(meeting_registry::bulk::import(
            conn,
            include_str!("../../data/demo.json"),
            meeting_registry::bulk::ImportOptions::default(),
        ))
    })
    .expect("connection")
    .expect("the demo imports");
    let whole = app
        .get(&format!("/api/v1/changes?since={start}&limit=1000"))
        .await
        .expect(200)
        .json();
    let all = summary(&whole);
    let cursors: Vec<String> = whole["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|c| c["cursor"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    let generation = |cursor: &str| cursor.split('.').next().unwrap_or("").to_owned();
    assert!(all.len() > 20, "the demo import lists its records: {whole}");
    assert!(
        cursors
            .windows(2)
            .any(|pair| generation(&pair[0]) == generation(&pair[1])),
        "one commit holds several changes: {cursors:?}"
    );
    for size in [1, 3, 7] {
        let mut paged = Vec::new();
        let mut cursor = start.clone();
        for _ in 0..=all.len() {
            let page = app
                .get(&format!("/api/v1/changes?since={cursor}&limit={size}"))
                .await
                .expect(200)
                .json();
            let got = summary(&page);
            if got.is_empty() {
                break;
            }
            assert_eq!(
                got,
                all[paged.len()..(paged.len() + got.len()).min(all.len())],
                "page of {size} after {cursor}"
            );
            paged.extend(got);
            cursor = page["next_cursor"].as_str().unwrap_or("").to_owned();
        }
        assert_eq!(paged, all, "pages of {size}");
    }
}

on_both_backends!(
    every_write_is_listed_in_order_with_tombstones,
    internal_events_are_created_and_deleted_for_the_public,
    bad_parameters_are_named,
    a_cursor_older_than_the_retention_is_gone,
    a_long_poll_answers_when_a_change_arrives,
    concurrent_writers_on_three_replicas_skip_nothing,
    pages_that_end_inside_one_commit_skip_and_repeat_nothing,
);
