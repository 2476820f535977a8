//! Comments on events: anyone posts, editors moderate, approved ones are shown to everyone;
//! the commenter's email and address are for admins only and erased after the retention;
//! floods are refused; the body is plain text.

use std::process::Command;

use awc::http::Method;
use chrono::{Duration, Utc};
use meeting_registry::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestResponse, event_body, item_fields};
use crate::on_both_backends;

const BINARY: &str = env!("CARGO_BIN_EXE_meeting-registry");

/// The 4th IISG Board Meeting, public.
async fn board_meeting(app: &TestApp) {
    let mut body = event_body("4th IISG Board Meeting", "2019-11-18");
    body["slug"] = json!("iisg-board-4");
    body["location"] = json!({"city": "Skopje", "country_code": "MK"});
    app.create("/api/v1/events", body).await;
}

/// Posts `body` as a comment on `event` without a token.
async fn post_comment(app: &TestApp, event: &str, body: &Value) -> TestResponse {
    app.request(
        Method::POST,
        &format!("/api/v1/events/{event}/comments"),
        &[],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

fn comment(author: &str, text: &str) -> Value {
    json!({"author_name": author, "email": "ana.kovac@example.org", "body": text})
}

/// Posts a comment and returns its id.
async fn posted(app: &TestApp, text: &str) -> String {
    let created = post_comment(app, "iisg-board-4", &comment("Ana Kovač", text))
        .await
        .expect(201)
        .json();
    created["id"].as_str().expect("an id").to_owned()
}

async fn moderate(app: &TestApp, id: &str, status: &str) -> Value {
    app.patch(
        &format!("/api/v1/comments/{id}"),
        &json!({"status": status}),
    )
    .await
    .expect(200)
    .json()
}

async fn anyone_comments_and_only_approved_comments_are_shown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    board_meeting(&app).await;
    let response = post_comment(
        &app,
        "iisg-board-4",
        &comment("Ana Kovač", "Will the conclusions be published?"),
    )
    .await
    .expect(201);
    let location = response.header("location").expect("a Location");
    let etag = response.header("etag").expect("an ETag");
    let created = response.json();
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(location, format!("/api/v1/comments/{id}"));
    assert_eq!(created["status"], "pending");
    assert_eq!(created["author_name"], "Ana Kovač");
    assert_eq!(created["event"]["slug"], "iisg-board-4");
    assert_eq!(created["event"]["title"], "4th IISG Board Meeting");
    assert_eq!(created["moderated_at"], Value::Null);
    let text = String::from_utf8_lossy(&response_body(&created)).into_owned();
    assert!(
        !text.contains("ana.kovac") && !text.contains("127.0.0.1"),
        "{text}"
    );

    // Pending: shown to no one but editors and admins.
    let listed = app
        .get("/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200)
        .json();
    assert_eq!(listed, json!({"items": [], "next_cursor": null}));
    let as_editor = app
        .get_as(&app.editor, "/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200)
        .json();
    assert_eq!(as_editor["items"], json!([]));
    app.get(&location).await.problem(404);
    app.get_as(&app.reader, &location).await.problem(404);
    let for_editor = app.get_as(&app.editor, &location).await.expect(200);
    assert_eq!(for_editor.header("etag").as_deref(), Some(etag.as_str()));
    assert!(for_editor.json().get("contact").is_none());
    let for_admin = app.get_as(&app.admin, &location).await.expect(200);
    assert_eq!(for_admin.header("etag").as_deref(), Some(etag.as_str()));
    assert_eq!(
        for_admin.json()["contact"],
        json!({"email": "ana.kovac@example.org", "client_ip": "127.0.0.1"})
    );

    // The moderation queue: editors and admins; contact details for admins only.
    app.get("/api/v1/comments?status=pending")
        .await
        .problem(401);
    app.get_as(&app.reader, "/api/v1/comments?status=pending")
        .await
        .problem(403);
    let queue = app
        .get_as(&app.editor, "/api/v1/comments?status=pending")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&queue, "id"), [id.as_str()]);
    assert!(queue["items"][0].get("contact").is_none());
    let queue = app
        .get_as(
            &app.admin,
            "/api/v1/comments?status=pending&event=iisg-board-4",
        )
        .await
        .expect(200)
        .json();
    assert_eq!(
        queue["items"][0]["contact"]["email"],
        "ana.kovac@example.org"
    );

    // Approval, guarded by the ETag the editor read.
    let approved = app
        .write(
            Method::PATCH,
            &location,
            &[("if-match", &etag)],
            Some((
                "application/merge-patch+json",
                br#"{"status": "approved"}"#.to_vec(),
            )),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["version"], 2);
    assert!(approved["moderated_at"].is_string());
    app.write(
        Method::PATCH,
        &location,
        &[("if-match", &etag)],
        Some((
            "application/merge-patch+json",
            br#"{"status": "rejected"}"#.to_vec(),
        )),
    )
    .await
    .problem(412);
    let listed = app
        .get("/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&listed, "id"), [id.as_str()]);
    assert!(listed["items"][0].get("contact").is_none());
    let public = app.get(&location).await.expect(200).json();
    assert_eq!(public["body"], "Will the conclusions be published?");
    assert!(public.get("contact").is_none());
    assert_eq!(
        item_fields(
            &app.get_as(&app.editor, "/api/v1/comments?status=pending")
                .await
                .expect(200)
                .json(),
            "id"
        ),
        Vec::<String>::new()
    );

    // A rejected comment disappears again; a deleted one is gone.
    let other = posted(&app, "Spam spam spam").await;
    moderate(&app, &other, "rejected").await;
    let listed = app
        .get("/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&listed, "id"), [id.as_str()]);
    let rejected = app
        .get_as(&app.editor, "/api/v1/comments?status=rejected")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&rejected, "id"), [other.as_str()]);
    app.delete(&format!("/api/v1/comments/{other}"))
        .await
        .expect(204);
    app.get_as(&app.editor, &format!("/api/v1/comments/{other}"))
        .await
        .problem(404);

    // Every moderation is in the audit log: who, and what changed.
    let audit = app
        .get_as(
            &app.admin,
            &format!("/api/v1/audit?resource=comment&id={id}&limit=200"),
        )
        .await
        .expect(200)
        .json();
    let entries = audit["items"].as_array().cloned().unwrap_or_default();
    let created_entry = entries
        .iter()
        .find(|e| e["action"] == "create")
        .expect("its posting");
    assert_eq!(created_entry["actor"], "anonymous");
    assert!(!created_entry["changes"].to_string().contains("ana.kovac"));
    let update = entries
        .iter()
        .find(|e| e["action"] == "update")
        .expect("its approval");
    assert_eq!(update["actor"], "test-editor");
    assert_eq!(
        update["changes"],
        json!({"status": {"from": "pending", "to": "approved"}})
    );
    let audit = app
        .get_as(
            &app.admin,
            &format!("/api/v1/audit?resource=comment&id={other}&limit=200"),
        )
        .await
        .expect(200)
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for action in ["create", "update", "delete"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
}

fn response_body(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

async fn the_body_is_plain_text_returned_byte_for_byte(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    board_meeting(&app).await;
    let text = "  <script>alert('x')</script>\n<b>Tiranë</b> & \"Bećirević\" \t</textarea>  ";
    let id = posted(&app, text).await;
    moderate(&app, &id, "approved").await;
    let response = app.get(&format!("/api/v1/comments/{id}")).await.expect(200);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        response.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(response.json()["body"], text);
    let listed = app
        .get("/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["items"][0]["body"], text);
    // Comments are not part of the event's calendar or its linked data.
    let calendar = app.get("/api/v1/events/iisg-board-4.ics").await.expect(200);
    assert!(!String::from_utf8_lossy(&calendar.body).contains("script"));
    let linked = app
        .request(
            Method::GET,
            "/api/v1/events/iisg-board-4",
            &[("accept", "application/ld+json")],
            None,
        )
        .await
        .expect(200);
    assert!(!String::from_utf8_lossy(&linked.body).contains("script"));
}

async fn hostile_comments_are_refused_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    board_meeting(&app).await;
    let mut internal = event_body("Internal briefing", "2019-11-17");
    internal["slug"] = json!("briefing");
    internal["visibility"] = json!("internal");
    app.create("/api/v1/events", internal).await;

    let raw = |bytes: &'static [u8], content_type: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/events/iisg-board-4/comments",
                &[],
                Some((content_type, bytes.to_vec())),
            )
            .await
        }
    };
    raw(b"{\"author_name\": ", "application/json")
        .await
        .problem(400);
    raw(b"author_name=Ana", "application/x-www-form-urlencoded")
        .await
        .problem(415);
    raw(b"[]", "application/json").await.problem(422);

    let long = "x".repeat(5001);
    for (body, field) in [
        (json!({"body": "Hello"}), "author_name"),
        (json!({"author_name": "Ana"}), "body"),
        (json!({"author_name": "Ana", "body": "   "}), "body"),
        (json!({"author_name": "Ana", "body": long}), "body"),
        (
            json!({"author_name": "Ana", "body": "a\u{1b}[31mred"}),
            "body",
        ),
        (
            json!({"author_name": "A\u{0}na", "body": "Hello"}),
            "author_name",
        ),
        (
            json!({"author_name": "x".repeat(201), "body": "Hello"}),
            "author_name",
        ),
        (
            json!({"author_name": "Ana", "body": "Hello", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"author_name": "Ana", "body": "Hello", "status": "approved"}),
            "status",
        ),
        (json!({"author_name": 7, "body": "Hello"}), "author_name"),
    ] {
        let problem = post_comment(&app, "iisg-board-4", &body).await.problem(422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "{body}: {problem}");
    }
    // 5000 characters is the most, and it is kept whole.
    let longest = "é".repeat(5000);
    let created = post_comment(&app, "iisg-board-4", &comment("Ana", &longest))
        .await
        .expect(201)
        .json();
    assert_eq!(
        created["body"].as_str().map(|b| b.chars().count()),
        Some(5000)
    );

    // No such event, or one the public may not see: 404; a token holder hears why.
    post_comment(&app, "no-such-event", &comment("Ana", "Hello"))
        .await
        .problem(404);
    post_comment(&app, "briefing", &comment("Ana", "Hello"))
        .await
        .problem(404);
    let refused = app
        .request(
            Method::POST,
            "/api/v1/events/briefing/comments",
            &[("authorization", &format!("Bearer {}", app.reader))],
            Some((
                "application/json",
                comment("Ana", "Hi").to_string().into_bytes(),
            )),
        )
        .await
        .problem(409);
    assert_eq!(
        refused["violations"][0]["rule"],
        "comments_on_public_events"
    );
    app.get("/api/v1/events/briefing/comments")
        .await
        .problem(404);
    app.get("/api/v1/events/no-such-event/comments")
        .await
        .problem(404);

    // Moderation: editors only, status only, a real status.
    let id = posted(&app, "Hello").await;
    let path = format!("/api/v1/comments/{id}");
    app.request(
        Method::PATCH,
        &path,
        &[],
        Some(("application/json", br#"{"status": "approved"}"#.to_vec())),
    )
    .await
    .problem(401);
    app.request(
        Method::PATCH,
        &path,
        &[("authorization", &format!("Bearer {}", app.reader))],
        Some(("application/json", br#"{"status": "approved"}"#.to_vec())),
    )
    .await
    .problem(403);
    app.request(
        Method::PATCH,
        &path,
        &[("authorization", "Bearer not-a-token")],
        Some(("application/json", br#"{"status": "approved"}"#.to_vec())),
    )
    .await
    .problem(401);
    let problem = app
        .patch(&path, &json!({"status": "published"}))
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "status");
    let problem = app
        .patch(&path, &json!({"body": "Edited"}))
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "body");
    app.patch(&path, &json!({"status": null}))
        .await
        .problem(422);
    app.request(Method::DELETE, &path, &[], None)
        .await
        .problem(401);
    for unknown in [
        "/api/v1/comments/0190a0a0-0000-7000-8000-000000000000",
        "/api/v1/comments/not-an-id",
    ] {
        app.get_as(&app.admin, unknown).await.problem(404);
        app.patch(unknown, &json!({"status": "approved"}))
            .await
            .problem(404);
    }
    for query in [
        "status=published",
        "limit=0",
        "limit=201",
        "cursor=xyz",
        "sort=new",
    ] {
        app.get_as(&app.editor, &format!("/api/v1/comments?{query}"))
            .await
            .problem(400);
    }
    let problem = app
        .get_as(&app.editor, "/api/v1/comments?event=no-such-event")
        .await
        .problem(422);
    assert_eq!(problem["errors"][0]["field"], "event");
}

async fn a_flood_of_comments_is_refused(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.comment_rate_limit = 3).await;
    board_meeting(&app).await;
    for i in 0..3 {
        post_comment(
            &app,
            "iisg-board-4",
            &comment("Bot", &format!("Buy now {i}")),
        )
        .await
        .expect(201);
    }
    for _ in 0..20 {
        let refused = post_comment(&app, "iisg-board-4", &comment("Bot", "Buy now")).await;
        let retry_after = refused.header("retry-after").expect("a Retry-After");
        assert!(
            retry_after.parse::<u64>().is_ok_and(|s| s >= 1),
            "{retry_after}"
        );
        let problem = refused.problem(429);
        assert_eq!(problem["status"], 429);
    }
    // Reads are not comments: they go on.
    app.get("/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200);
    let queue = app
        .get_as(&app.editor, "/api/v1/comments?status=pending&limit=200")
        .await
        .expect(200)
        .json();
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(3));
}

/// Posts `body` as a comment on `event`, as relayed by a proxy that says it came from
/// `forwarded_for`.
async fn post_forwarded(app: &TestApp, forwarded_for: &str, text: &str) -> TestResponse {
    app.request(
        Method::POST,
        "/api/v1/events/iisg-board-4/comments",
        &[("x-forwarded-for", forwarded_for)],
        Some((
            "application/json",
            comment("Ana Kovač", text).to_string().into_bytes(),
        )),
    )
    .await
}

/// The address a comment keeps, as admins see it.
async fn kept_address(app: &TestApp, created: TestResponse) -> Value {
    let id = created.expect(201).json()["id"].clone();
    let id = id.as_str().unwrap_or_default();
    app.get_as(&app.admin, &format!("/api/v1/comments/{id}"))
        .await
        .expect(200)
        .json()["contact"]["client_ip"]
        .clone()
}

/// Behind a trusted proxy (`REGISTRY_TRUSTED_PROXIES`), each client has its own comment limit
/// and its own address on its comments; a forged `X-Forwarded-For` changes neither, and a
/// server that trusts no proxy ignores the header.
async fn a_trusted_proxy_names_each_commenter(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.comment_rate_limit = 2;
        s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
    })
    .await;
    board_meeting(&app).await;
    let first = post_forwarded(&app, "203.0.113.7", "One").await;
    assert_eq!(kept_address(&app, first).await, "203.0.113.7");
    // The client forged the left entry; the proxy appended the address it saw.
    let forged = post_forwarded(&app, "198.51.100.1, 203.0.113.7", "Two").await;
    assert_eq!(kept_address(&app, forged).await, "203.0.113.7");
    post_forwarded(&app, "203.0.113.7", "Three")
        .await
        .problem(429);
    post_forwarded(&app, "198.51.100.1, 203.0.113.7", "Four")
        .await
        .problem(429);
    // Another client behind the same proxy is not held back.
    let other = post_forwarded(&app, "[2001:db8::5]:443", "Five").await;
    assert_eq!(kept_address(&app, other).await, "2001:db8::5");
    // Garbage is no client: the proxy itself is.
    let garbage = post_forwarded(&app, "'; DROP TABLE comments; --", "Six").await;
    assert_eq!(kept_address(&app, garbage).await, "127.0.0.1");

    // Trusting no proxy, the header is ignored: one bucket, the peer's address.
    let plain = TestApp::spawn_with(backend, |s| s.comment_rate_limit = 2).await;
    board_meeting(&plain).await;
    let first = post_forwarded(&plain, "203.0.113.7", "One").await;
    assert_eq!(kept_address(&plain, first).await, "127.0.0.1");
    post_forwarded(&plain, "203.0.113.8", "Two")
        .await
        .expect(201);
    post_forwarded(&plain, "203.0.113.9", "Three")
        .await
        .problem(429);
}

/// Anonymous commenters do not share `Idempotency-Key`s: the same key from another client
/// (another address behind a trusted proxy) is that client's own, not a replay of the first
/// client's comment nor a 422 for "another body".
async fn anonymous_idempotency_keys_are_per_client(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
    })
    .await;
    board_meeting(&app).await;
    let post = |client: &'static str, text: &'static str| {
        let app = &app;
        async move {
            app.request(
                Method::POST,
                "/api/v1/events/iisg-board-4/comments",
                &[
                    ("x-forwarded-for", client),
                    ("idempotency-key", "comment-1"),
                ],
                Some((
                    "application/json",
                    comment("Ana Kovač", text).to_string().into_bytes(),
                )),
            )
            .await
        }
    };
    let first = post("203.0.113.7", "Same words").await.expect(201);
    // The same client retrying gets its first answer again.
    let retried = post("203.0.113.7", "Same words").await.expect(201);
    assert_eq!(retried.header("location"), first.header("location"));
    // Another client, same key: its own comment, with the same words or others.
    let same_words = post("198.51.100.1", "Same words").await.expect(201);
    assert_ne!(same_words.header("location"), first.header("location"));
    post("198.51.100.2", "Other words").await.expect(201);
}

async fn comments_reach_the_change_feed_only_once_approved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    board_meeting(&app).await;
    let start = app.get("/api/v1/changes").await.expect(200).json()["next_cursor"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let id = posted(&app, "Pending for now").await;
    let comment_changes = |token: Option<String>| {
        let app = &app;
        let start = start.clone();
        async move {
            let path = format!("/api/v1/changes?since={start}");
            let page = match token {
                Some(token) => app.get_as(&token, &path).await,
                None => app.get(&path).await,
            }
            .expect(200)
            .json();
            page["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter(|c| c["resource"] == "comment")
                        .map(|c| {
                            (
                                c["action"].as_str().unwrap_or("").to_owned(),
                                c["url"].as_str().unwrap_or("").to_owned(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert_eq!(comment_changes(None).await, []);
    assert_eq!(comment_changes(Some(app.reader.clone())).await, []);
    moderate(&app, &id, "approved").await;
    let url = format!("/api/v1/comments/{id}");
    assert_eq!(
        comment_changes(None).await,
        [("created".to_owned(), url.clone())]
    );
    moderate(&app, &id, "rejected").await;
    assert_eq!(
        comment_changes(None).await,
        [
            ("created".to_owned(), url.clone()),
            ("deleted".to_owned(), url.clone())
        ]
    );
    // Its event's deletion takes it along.
    moderate(&app, &id, "approved").await;
    app.delete("/api/v1/events/iisg-board-4").await.expect(204);
    app.get_as(&app.editor, &url).await.problem(404);
    let changes = comment_changes(None).await;
    assert_eq!(changes.last().map(|c| c.0.as_str()), Some("deleted"));
}

/// A server whose clock stands `days_ago` days before now.
async fn app_days_ago(backend: Backend, days_ago: i64) -> (TestApp, Clock) {
    let clock = Clock::set_at(Utc::now() - Duration::days(days_ago));
    let set = clock.clone();
    let app = TestApp::spawn_with(backend, move |s| s.clock = set).await;
    (app, clock)
}

async fn contact(app: &TestApp, id: &str) -> Value {
    app.get_as(&app.admin, &format!("/api/v1/comments/{id}"))
        .await
        .expect(200)
        .json()["contact"]
        .clone()
}

async fn contact_details_are_erased_after_the_retention(backend: Backend) {
    let (app, clock) = app_days_ago(backend, 100).await;
    board_meeting(&app).await;
    let old = posted(&app, "Posted a hundred days ago").await;
    clock.set(Utc::now() - Duration::days(10));
    let recent = posted(&app, "Posted ten days ago").await;
    assert_eq!(contact(&app, &old).await["email"], "ana.kovac@example.org");

    // The command, with the retention its setting gives.
    let url = app.database_url.clone();
    let run = move |days: &'static str| {
        let url = url.clone();
        actix_web::rt::task::spawn_blocking(move || {
            Command::new(BINARY)
                .args(["purge-comments", "--database-url", &url])
                .env_remove("DATABASE_URL")
                .env("REGISTRY_COMMENT_RETENTION_DAYS", days)
                .output()
                .expect("the binary runs")
        })
    };
    let kept = run("365").await.expect("the command's thread");
    assert!(
        kept.status.success(),
        "{}",
        String::from_utf8_lossy(&kept.stderr)
    );
    assert_eq!(contact(&app, &old).await["email"], "ana.kovac@example.org");
    let purged = run("90").await.expect("the command's thread");
    assert!(
        purged.status.success(),
        "{}",
        String::from_utf8_lossy(&purged.stderr)
    );
    assert!(String::from_utf8_lossy(&purged.stdout).contains("of 1 comments"));
    assert_eq!(
        contact(&app, &old).await,
        json!({"email": null, "client_ip": null})
    );
    assert_eq!(
        contact(&app, &recent).await["email"],
        "ana.kovac@example.org"
    );
    let old_comment = app
        .get_as(&app.admin, &format!("/api/v1/comments/{old}"))
        .await
        .expect(200)
        .json();
    assert_eq!(old_comment["version"], 2, "the erasure is a change");
    assert_eq!(old_comment["body"], "Posted a hundred days ago");

    // A server erases them too, at start (and hourly), by its own clock and setting.
    let (second, _clock) = app_days_ago(backend, 100).await;
    board_meeting(&second).await;
    let id = posted(&second, "Old").await;
    let fresh = second.replica().await;
    let mut erased = Value::Null;
    for _ in 0..100 {
        erased = contact(&fresh, &id).await;
        if erased["email"].is_null() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(erased, json!({"email": null, "client_ip": null}));
}

async fn comments_travel_in_export_and_import_without_contact_details(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    board_meeting(&app).await;
    let approved = posted(&app, "<b>Approved</b>").await;
    moderate(&app, &approved, "approved").await;
    let pending = posted(&app, "Still pending").await;
    let db = meeting_registry::db::Database::connect(&app.database_url, 1).expect("connect");
    let exported = meeting_registry::bulk::export_json(&db).expect("export");
    assert!(!exported.contains("ana.kovac") && !exported.contains("127.0.0.1"));
    let bundle: Value = serde_json::from_str(&exported).expect("JSON");
    let comments = &bundle["events"][0]["comments"];
    assert_eq!(comments.as_array().map(Vec::len), Some(2), "{bundle}");
    assert_eq!(comments[0]["id"], approved.as_str());
    assert_eq!(comments[0]["status"], "approved");
    assert_eq!(comments[1]["id"], pending.as_str());

    let second = TestApp::spawn(backend).await;
    let target = meeting_registry::db::Database::connect(&second.database_url, 1).expect("connect");
    let report = target
        .with_connection(|conn| {
            meeting_registry::bulk::import(conn, &exported, Default::default())
                .map_err(|e| e.to_string())
        })
        .expect("imports");
    assert_eq!(report.created, 3, "the event and its two comments");
    let again = meeting_registry::bulk::export_json(&target).expect("export");
    assert_eq!(
        serde_json::from_str::<Value>(&again).expect("JSON"),
        bundle,
        "the round trip changes nothing"
    );
    let listed = second
        .get("/api/v1/events/iisg-board-4/comments")
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&listed, "body"), ["<b>Approved</b>"]);
    // Importing the same bundle again finds every comment.
    let report = target
        .with_connection(|conn| {
            meeting_registry::bulk::import(conn, &exported, Default::default())
                .map_err(|e| e.to_string())
        })
        .expect("imports");
    assert_eq!(report.created, 0);

    // A bad comment in a bundle is reported with its place, and nothing is stored.
    let mut broken = bundle.clone();
    broken["events"][0]["slug"] = json!("other-event");
    broken["events"][0]["comments"][0]["body"] = json!("");
    broken["events"][0]["comments"][1]["email"] = json!("x@y.z");
    let outcome = target.with_connection(|conn| {
        Ok(meeting_registry::bulk::import(
            conn,
            &broken.to_string(),
            Default::default(),
        ))
    });
    let message = match outcome.expect("runs") {
        Ok(report) => panic!("imported a broken bundle: {report:?}"),
        Err(error) => error.to_string(),
    };
    assert!(message.contains("comments[0].body"), "{message}");
    assert!(message.contains("comments[1].email"), "{message}");
}

on_both_backends!(
    anyone_comments_and_only_approved_comments_are_shown,
    the_body_is_plain_text_returned_byte_for_byte,
    hostile_comments_are_refused_naming_the_field,
    a_flood_of_comments_is_refused,
    a_trusted_proxy_names_each_commenter,
    anonymous_idempotency_keys_are_per_client,
    comments_reach_the_change_feed_only_once_approved,
    contact_details_are_erased_after_the_retention,
    comments_travel_in_export_and_import_without_contact_details,
);
