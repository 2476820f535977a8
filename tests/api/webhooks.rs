//! Webhooks: registration and its hostile input, signed deliveries to a local receiver (every
//! signature verified), retries with the same `webhook-id`, a dead receiver that delays no
//! other, filters, internal events, the delivery log and redelivery.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use awc::http::Method;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{Backend, TestApp, TestResponse, event_body};
use crate::on_both_backends;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    content_type: String,
    raw: Vec<u8>,
}

impl Received {
    fn body(&self) -> Value {
        serde_json::from_slice(&self.raw).expect("a delivery's body is JSON")
    }

    /// Checks the Standard Webhooks signature as a receiver does, with the secret it was
    /// given.
    #[track_caller]
    fn verify(&self, secret: &str) {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
            .expect("base64 secret");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("key");
        mac.update(format!("{}.{}.", self.id, self.timestamp).as_bytes());
        mac.update(&self.raw);
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        assert!(
            self.signature.split(' ').any(|s| s == expected),
            "bad signature {} for delivery {}",
            self.signature,
            self.id
        );
        let sent: i64 = self.timestamp.parse().expect("unix seconds");
        assert!((chrono::Utc::now().timestamp() - sent).abs() < 300);
        assert_eq!(self.content_type, "application/json");
    }
}

/// How a receiver answers its `n`th request (from 0): a status, after a delay.
type Behaviour = Arc<dyn Fn(usize) -> (u16, Duration) + Send + Sync>;

/// An HTTP server on 127.0.0.1 that keeps what it is sent.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<(Arc<Mutex<Vec<Received>>>, Behaviour)>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let n = {
        let mut got = state.0.lock().expect("lock");
        got.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            content_type: header("content-type"),
            raw: body.to_vec(),
        });
        got.len() - 1
    };
    let (status, delay) = (state.1)(n);
    if !delay.is_zero() {
        actix_web::rt::time::sleep(delay).await;
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
        .body(format!("answer {status}\nwith a body"))
}

fn receiver(behaviour: impl Fn(usize) -> (u16, Duration) + Send + Sync + 'static) -> Receiver {
    let got = Arc::new(Mutex::new(Vec::new()));
    let behaviour: Behaviour = Arc::new(behaviour);
    let state = web::Data::new((got.clone(), behaviour));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .default_service(web::to(receive))
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind the receiver");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        got,
        handle,
    }
}

fn ok_receiver() -> Receiver {
    receiver(|_| (200, Duration::ZERO))
}

impl Receiver {
    fn received(&self) -> Vec<Received> {
        self.got.lock().expect("lock").clone()
    }

    /// What arrived once at least `n` requests have, failing after `within`.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} deliveries, got {}: {:?}",
                got.len(),
                got.iter().map(Received::body).collect::<Vec<_>>()
            );
            actix_web::rt::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A server whose dispatcher looks often, retries soon and may deliver to 127.0.0.1.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.webhook_allow_private = true;
        s.webhook_poll_ms = 50;
        s.webhook_first_retry_ms = 300;
    })
    .await
}

async fn as_admin(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> TestResponse {
    let auth = format!("Bearer {}", app.admin);
    app.request(
        method,
        path,
        &[("authorization", &auth)],
        body.map(|b| ("application/json", b.to_string().into_bytes())),
    )
    .await
}

/// Registers a webhook; its representation and secret.
async fn register(app: &TestApp, body: Value) -> (Value, String) {
    let created = as_admin(app, Method::POST, "/api/v1/webhooks", Some(body))
        .await
        .expect(201)
        .json();
    let secret = created["secret"].as_str().unwrap_or("").to_owned();
    (created, secret)
}

fn summary(got: &[Received]) -> Vec<(String, String, bool)> {
    got.iter()
        .map(|r| {
            let body = r.body();
            (
                body["resource"].as_str().unwrap_or("").to_owned(),
                body["action"].as_str().unwrap_or("").to_owned(),
                body["data"].is_object(),
            )
        })
        .collect()
}

async fn webhooks_are_managed_by_admins_only_and_refuse_bad_input(backend: Backend) {
    let app = spawn(backend).await;
    let target = ok_receiver();
    let body = json!({"url": target.url});
    // Not without an admin token.
    app.request(
        Method::POST,
        "/api/v1/webhooks",
        &[],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
    .problem(401);
    app.post("/api/v1/webhooks", &body).await.problem(403);
    app.get_as(&app.reader, "/api/v1/webhooks")
        .await
        .problem(403);
    // Hostile input: every problem named by its field.
    for (bad, field) in [
        (json!({"url": "ftp://example.org/hook"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "https://user:pw@example.org/"}), "url"),
        (json!({"url": ""}), "url"),
        (json!({}), "url"),
        (json!({"url": target.url, "secret": "mine"}), "secret"),
        (
            json!({"url": target.url, "resources": ["widget"]}),
            "resources",
        ),
        (
            json!({"url": target.url, "actions": ["touched"]}),
            "actions",
        ),
        (json!({"url": target.url, "enabled": "yes"}), "enabled"),
    ] {
        let problem = as_admin(&app, Method::POST, "/api/v1/webhooks", Some(bad.clone()))
            .await
            .problem(422);
        let fields: Vec<&str> = problem["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{bad}: {problem}"
        );
    }

    let (created, secret) = register(
        &app,
        json!({"url": target.url, "description": "Partner site", "resources": ["event"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap_or("").to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    assert_eq!(
        STANDARD
            .decode(&secret["whsec_".len()..])
            .map(|k| k.len())
            .unwrap_or(0),
        32
    );
    assert_eq!(created["enabled"], true);
    assert_eq!(created["include_internal"], false);
    assert_eq!(created["actions"], json!([]));
    // The secret is shown once: never read back, listed or audited.
    let path = format!("/api/v1/webhooks/{id}");
    let read = app.get_as(&app.admin, &path).await.expect(200);
    let etag = read.header("etag").expect("etag");
    for body in [
        read.body.clone(),
        app.get_as(&app.admin, "/api/v1/webhooks")
            .await
            .expect(200)
            .body,
        app.get_as(&app.admin, "/api/v1/audit?resource=webhook")
            .await
            .expect(200)
            .body,
    ] {
        let text = String::from_utf8_lossy(&body).into_owned();
        assert!(!text.contains(&secret["whsec_".len()..]), "{text}");
        assert!(!text.contains("\"secret\""), "{text}");
    }

    // Merge patch with If-Match.
    let auth = format!("Bearer {}", app.admin);
    let patch = |body: Value, if_match: &str| {
        let headers = [
            ("authorization".to_owned(), auth.clone()),
            ("if-match".to_owned(), if_match.to_owned()),
        ];
        let path = path.clone();
        let app = &app;
        async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            app.request(
                Method::PATCH,
                &path,
                &headers,
                Some((
                    "application/merge-patch+json",
                    body.to_string().into_bytes(),
                )),
            )
            .await
        }
    };
    let patched = patch(json!({"actions": ["deleted"], "description": null}), &etag)
        .await
        .expect(200);
    let new_etag = patched.header("etag").expect("etag");
    let patched = patched.json();
    assert_eq!(patched["actions"], json!(["deleted"]));
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["resources"], json!(["event"]));
    patch(json!({"enabled": false}), &etag).await.problem(412);
    let problem = patch(json!({"secret": "x"}), &new_etag).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "secret", "{problem}");
    patch(json!({"url": "gopher://x"}), &new_etag)
        .await
        .problem(422);

    // A new secret, shown once again.
    let rotated = as_admin(
        &app,
        Method::POST,
        &format!("/api/v1/webhooks/{id}/rotate-secret"),
        None,
    )
    .await
    .expect(200)
    .json();
    assert!(rotated["secret"].as_str().is_some_and(|s| s != secret));

    as_admin(&app, Method::DELETE, &path, None)
        .await
        .expect(204);
    app.get_as(&app.admin, &path).await.problem(404);
    app.get_as(&app.admin, "/api/v1/webhooks/not-an-id")
        .await
        .problem(404);
}

async fn private_targets_are_refused_without_the_flag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
    ] {
        let problem = as_admin(
            &app,
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url})),
        )
        .await
        .problem(422);
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
    }
}

async fn deliveries_are_signed_and_carry_the_record(backend: Backend) {
    let app = spawn(backend).await;
    let target = ok_receiver();
    let (_, secret) = register(&app, json!({"url": target.url})).await;
    let organisation = app
        .create(
            "/api/v1/organisations",
            json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
        )
        .await;
    app.create("/api/v1/events", event_body("Board", "2020-01-10"))
        .await;
    app.patch("/api/v1/events/board", &json!({"title": "Board meeting"}))
        .await
        .expect(200);
    // The data is the record as it is when sent: delete only once the others arrived.
    target.wait_for(3, Duration::from_secs(20)).await;
    app.delete("/api/v1/events/board").await.expect(204);

    let got = target.wait_for(4, Duration::from_secs(20)).await;
    for delivery in &got {
        delivery.verify(&secret);
    }
    let mut ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4, "one webhook-id per change");
    let mut seen = summary(&got);
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("event".into(), "created".into(), true),
            ("event".into(), "deleted".into(), false),
            ("event".into(), "updated".into(), true),
            ("organisation".into(), "created".into(), true),
        ]
    );
    let org = got
        .iter()
        .map(Received::body)
        .find(|b| b["resource"] == "organisation")
        .expect("organisation delivery");
    // The change-feed item, and the record as GET gives it.
    assert_eq!(org["id"], organisation["id"]);
    assert_eq!(org["slug"], "dcaf");
    assert_eq!(org["version"], 1);
    assert!(org["cursor"].is_string() && org["at"].is_string());
    assert_eq!(org["data"], organisation, "{org}");
    let deleted = got
        .iter()
        .map(Received::body)
        .find(|b| b["action"] == "deleted")
        .expect("deletion");
    assert_eq!(deleted["data"], Value::Null);
}

async fn a_failed_delivery_is_retried_with_the_same_id(backend: Backend) {
    let app = spawn(backend).await;
    let target = receiver(|n| (if n == 0 { 500 } else { 200 }, Duration::ZERO));
    let (created, secret) = register(&app, json!({"url": target.url})).await;
    app.create("/api/v1/events", event_body("Board", "2020-01-10"))
        .await;
    let got = target.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(got[0].id, got[1].id, "a retry keeps its webhook-id");
    assert_eq!(got[0].raw, got[1].raw);
    got[0].verify(&secret);
    got[1].verify(&secret);

    let log_path = format!(
        "/api/v1/webhooks/{}/deliveries",
        created["id"].as_str().unwrap_or("")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivery = loop {
        let log = app.get_as(&app.admin, &log_path).await.expect(200).json();
        let first = log["items"][0].clone();
        if first["status"] == "succeeded" || Instant::now() > deadline {
            break first;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivery["status"], "succeeded", "{delivery}");
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["last_status_code"], 200);
    assert_eq!(delivery["id"].as_str(), Some(got[0].id.as_str()));
    let webhook = app
        .get_as(
            &app.admin,
            &format!("/api/v1/webhooks/{}", created["id"].as_str().unwrap_or("")),
        )
        .await
        .expect(200)
        .json();
    assert_eq!(webhook["failing_since"], Value::Null, "{webhook}");
}

async fn a_dead_receiver_does_not_delay_another_webhook(backend: Backend) {
    let app = spawn(backend).await;
    // Accepts every request and never answers in time.
    let dead = receiver(|_| (200, Duration::from_secs(60)));
    let live = ok_receiver();
    register(&app, json!({"url": dead.url})).await;
    let (_, secret) = register(&app, json!({"url": live.url})).await;
    let started = Instant::now();
    for n in 0..12 {
        app.create(
            "/api/v1/organisations",
            json!({"name": format!("Organisation {n}"), "kind": "ngo"}),
        )
        .await;
    }
    let got = live.wait_for(12, Duration::from_secs(8)).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the live webhook waited for the dead one"
    );
    for delivery in &got {
        delivery.verify(&secret);
    }
    // The dead receiver holds at most its share of attempts at once.
    assert!(dead.received().len() <= 8, "{}", dead.received().len());
    // And the API answers meanwhile.
    let asked = Instant::now();
    app.get("/api/v1/organisations").await.expect(200);
    assert!(asked.elapsed() < Duration::from_secs(2));
}

async fn filters_pick_resources_and_actions(backend: Backend) {
    let app = spawn(backend).await;
    let everything = ok_receiver();
    let deletions = ok_receiver();
    register(&app, json!({"url": everything.url})).await;
    register(
        &app,
        json!({"url": deletions.url, "resources": ["event"], "actions": ["deleted"]}),
    )
    .await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
    )
    .await;
    app.create("/api/v1/events", event_body("Board", "2020-01-10"))
        .await;
    app.delete("/api/v1/events/board").await.expect(204);
    app.delete("/api/v1/organisations/dcaf").await.expect(204);
    everything.wait_for(4, Duration::from_secs(20)).await;
    let got = deletions.wait_for(1, Duration::from_secs(5)).await;
    // Fan-out is in change order, and the unfiltered webhook has all four.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        summary(&deletions.received()),
        vec![("event".into(), "deleted".into(), false)],
        "{:?}",
        got.iter().map(Received::body).collect::<Vec<_>>()
    );
}

async fn internal_events_go_only_to_webhooks_that_include_them(backend: Backend) {
    let app = spawn(backend).await;
    let public = ok_receiver();
    let internal = ok_receiver();
    register(&app, json!({"url": public.url})).await;
    register(&app, json!({"url": internal.url, "include_internal": true})).await;
    let mut hidden = event_body("Hidden", "2020-02-01");
    hidden["visibility"] = json!("internal");
    app.create("/api/v1/events", hidden).await;
    app.create("/api/v1/events", event_body("Open", "2020-03-01"))
        .await;
    // Made public: a creation for the public view, an update for the internal one.
    app.patch("/api/v1/events/hidden", &json!({"visibility": "public"}))
        .await
        .expect(200);

    let all = internal.wait_for(3, Duration::from_secs(20)).await;
    let seen = public.wait_for(2, Duration::from_secs(20)).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let slugs = |got: &[Received]| {
        got.iter()
            .map(|r| {
                let b = r.body();
                (
                    b["slug"].as_str().unwrap_or("").to_owned(),
                    b["action"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut public_seen = slugs(&public.received());
    public_seen.sort();
    assert_eq!(
        public_seen,
        vec![
            ("hidden".to_owned(), "created".to_owned()),
            ("open".to_owned(), "created".to_owned())
        ],
        "{seen:?}"
    );
    let mut internal_seen = slugs(&all);
    internal_seen.sort();
    assert_eq!(
        internal_seen,
        vec![
            ("hidden".to_owned(), "created".to_owned()),
            ("hidden".to_owned(), "updated".to_owned()),
            ("open".to_owned(), "created".to_owned())
        ]
    );
    let hidden_created = all
        .iter()
        .map(Received::body)
        .find(|b| b["slug"] == "hidden" && b["action"] == "created")
        .expect("hidden");
    // The data is read at send time: the event as the webhook would GET it then.
    assert_eq!(hidden_created["data"]["slug"], "hidden");
}

async fn the_delivery_log_lists_and_redelivers(backend: Backend) {
    let app = spawn(backend).await;
    let target = ok_receiver();
    let (created, secret) = register(&app, json!({"url": target.url})).await;
    let id = created["id"].as_str().unwrap_or("").to_owned();
    app.create("/api/v1/events", event_body("First", "2020-01-10"))
        .await;
    app.create("/api/v1/events", event_body("Second", "2020-01-11"))
        .await;
    target.wait_for(2, Duration::from_secs(20)).await;
    let log_path = format!("/api/v1/webhooks/{id}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = app.get_as(&app.admin, &log_path).await.expect(200).json();
        let done = log["items"]
            .as_array()
            .is_some_and(|i| i.len() == 2 && i.iter().all(|d| d["status"] == "succeeded"));
        if done || Instant::now() > deadline {
            break log;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    };
    let items = log["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{log}");
    // Newest first.
    assert_eq!(items[0]["resource"], "event");
    assert_eq!(items[0]["action"], "created");
    assert!(items[0]["change_cursor"].is_string() && items[0]["record_id"].is_string());
    assert_eq!(items[0]["next_attempt_at"], Value::Null);
    assert_eq!(items[0]["last_error"], Value::Null);
    assert!(items[0]["id"].as_str() > items[1]["id"].as_str());
    // Paged.
    let first = app
        .get_as(&app.admin, &format!("{log_path}?limit=1"))
        .await
        .expect(200)
        .json();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = app
        .get_as(&app.admin, &format!("{log_path}?limit=1&cursor={cursor}"))
        .await
        .expect(200)
        .json();
    assert_eq!(second["items"][0]["id"], items[1]["id"]);

    let delivery = items[1]["id"].as_str().unwrap_or("").to_owned();
    let redeliver = format!("{log_path}/{delivery}/redeliver");
    app.request(
        Method::POST,
        &redeliver,
        &[("authorization", &app.editor_auth())],
        None,
    )
    .await
    .problem(403);
    let scheduled = as_admin(&app, Method::POST, &redeliver, None)
        .await
        .expect(202)
        .json();
    assert_eq!(scheduled["status"], "pending");
    let got = target.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(got[2].id, delivery, "redelivered under the same webhook-id");
    got[2].verify(&secret);
    as_admin(
        &app,
        Method::POST,
        &format!("{log_path}/{}/redeliver", uuid::Uuid::now_v7()),
        None,
    )
    .await
    .problem(404);
    // Disabled: nothing is sent, so redelivery is refused.
    as_admin(
        &app,
        Method::PATCH,
        &format!("/api/v1/webhooks/{id}"),
        Some(json!({"enabled": false})),
    )
    .await
    .expect(200);
    as_admin(&app, Method::POST, &redeliver, None)
        .await
        .problem(409);
}

async fn a_webhook_failing_too_long_is_disabled_and_can_be_enabled_again(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.webhook_allow_private = true;
        s.webhook_poll_ms = 50;
        s.webhook_first_retry_ms = 100;
        s.webhook_disable_after_seconds = 1;
    })
    .await;
    let target = receiver(|_| (503, Duration::ZERO));
    let (created, _) = register(&app, json!({"url": target.url})).await;
    let path = format!("/api/v1/webhooks/{}", created["id"].as_str().unwrap_or(""));
    app.create("/api/v1/events", event_body("Board", "2020-01-10"))
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let webhook = loop {
        let webhook = app.get_as(&app.admin, &path).await.expect(200).json();
        if webhook["enabled"] == false || Instant::now() > deadline {
            break webhook;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(webhook["enabled"], false, "{webhook}");
    assert!(
        webhook["disabled_reason"]
            .as_str()
            .is_some_and(|r| r.contains("HTTP 503")),
        "{webhook}"
    );
    assert!(webhook["failing_since"].is_string());
    let log = app
        .get_as(&app.admin, &format!("{path}/deliveries"))
        .await
        .expect(200)
        .json();
    let delivery = &log["items"][0];
    assert_eq!(delivery["status"], "failed", "{log}");
    assert_eq!(delivery["last_status_code"], 503);
    assert!(
        delivery["last_error"]
            .as_str()
            .is_some_and(|e| e.starts_with("HTTP 503: answer 503 with a body")),
        "{delivery}"
    );
    assert!(delivery["attempts"].as_i64().unwrap_or(0) >= 2);
    // Nothing more is sent while disabled.
    let sent = target.received().len();
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(target.received().len(), sent);
    let enabled = as_admin(&app, Method::PATCH, &path, Some(json!({"enabled": true})))
        .await
        .expect(200)
        .json();
    assert_eq!(enabled["disabled_reason"], Value::Null);
    assert_eq!(enabled["failing_since"], Value::Null);
}

/// Delivering moves no generation: the queue and the outcome of each delivery are the
/// dispatcher's bookkeeping, so telling a partner of a change makes no cached record or page
/// stale, and clients' writes do not queue behind it. The next client write is the very next
/// generation (its position says so).
async fn deliveries_leave_the_registry_generation_alone(backend: Backend) {
    let app = spawn(backend).await;
    let target = ok_receiver();
    let (created, _) = register(&app, json!({"url": target.url})).await;
    let id = created["id"].as_str().unwrap_or("").to_owned();
    let generation = |written: &TestResponse| -> i64 {
        let position = written.header("x-registry-position").unwrap_or_default();
        position
            .split('-')
            .next()
            .and_then(|g| g.parse().ok())
            .unwrap_or_else(|| panic!("no generation in the position {position:?}"))
    };
    let first = app
        .post("/api/v1/events", &event_body("First", "2020-01-10"))
        .await
        .expect(201);
    target.wait_for(1, Duration::from_secs(20)).await;
    // Queued, claimed and answered: all three are written once the log says so.
    let log_path = format!("/api/v1/webhooks/{id}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = app.get_as(&app.admin, &log_path).await.expect(200).json();
        if log["items"][0]["status"] == "succeeded" {
            break;
        }
        assert!(Instant::now() < deadline, "never recorded: {log}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let second = app
        .post("/api/v1/events", &event_body("Second", "2020-01-11"))
        .await
        .expect(201);
    assert_eq!(generation(&second), generation(&first) + 1);
}

on_both_backends!(
    a_webhook_failing_too_long_is_disabled_and_can_be_enabled_again,
    deliveries_leave_the_registry_generation_alone,
    webhooks_are_managed_by_admins_only_and_refuse_bad_input,
    private_targets_are_refused_without_the_flag,
    deliveries_are_signed_and_carry_the_record,
    a_failed_delivery_is_retried_with_the_same_id,
    a_dead_receiver_does_not_delay_another_webhook,
    filters_pick_resources_and_actions,
    internal_events_go_only_to_webhooks_that_include_them,
    the_delivery_log_lists_and_redelivers,
);
