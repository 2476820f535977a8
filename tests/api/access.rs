//! Who may do what: the whole matrix of endpoints and credentials, visibility of internal
//! records, the audit log, idempotent POSTs, rate limits and headers.

use std::collections::BTreeSet;

use awc::http::Method;
use meeting_registry::bulk;
use meeting_registry::db::{Database, Timestamp};
use meeting_registry::domain::enums::Role;
use meeting_registry::store::{feed_keys, tokens, webhooks};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestResponse, event_body, item_fields};
use crate::on_both_backends;

/// What the registry holds, tokens and audit entries included: a refused write changes none
/// of it.
async fn state(app: &TestApp) -> (Value, Value, usize) {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let export = serde_json::from_str(&bulk::export_json(&db).expect("export")).expect("json");
    let token_list = app
        .get_as(&app.admin, "/api/v1/tokens?limit=200")
        .await
        .expect(200)
        .json();
    let mut audit_entries = 0;
    let mut cursor = String::new();
    loop {
        let page = app
            .get_as(&app.admin, &format!("/api/v1/audit?limit=200{cursor}"))
            .await
            .expect(200)
            .json();
        audit_entries += page["items"].as_array().map(Vec::len).unwrap_or(0);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    (export, token_list, audit_entries)
}

/// Two webhooks (one to delete) on a closed port, and a delivery of the first once the seed's
/// writes have been fanned out to it.
struct SeededWebhooks {
    webhook: String,
    victim: String,
    delivery: String,
}

fn seed_webhooks(app: &TestApp) -> (String, String) {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let make = |description: &str| {
        let valid = webhooks::ValidWebhook {
            url: "http://127.0.0.1:9/hook".to_owned(),
            description: Some(description.to_owned()),
            resources: Vec::new(),
            actions: Vec::new(),
            include_internal: false,
            enabled: true,
        };
        db.with_connection(|conn| {
            webhooks::create(conn, &valid)
                .map(|w| w.webhook.id.to_string())
                .map_err(|e| e.to_string())
        })
        .expect("webhook")
    };
    (make("seeded"), make("victim"))
}

async fn first_delivery(app: &TestApp, webhook: &str) -> String {
    let db = Database::connect(&app.database_url, 1).expect("connect");
    for _ in 0..200 {
        let page = db
            .with_connection(|conn| {
                webhooks::deliveries(conn, webhook, None, 1).map_err(|e| e.to_string())
            })
            .expect("deliveries");
        if let Some(delivery) = page.items.first() {
            return delivery.id.to_string();
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the seed's writes were not fanned out to the webhook");
}

async fn seed(app: &TestApp) -> (String, String, String) {
    app.create(
        "/api/v1/organisations",
        json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
    )
    .await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Throwaway", "kind": "other", "slug": "throwaway-org"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Anes Rizvo", "slug": "rizvo", "email": "a.rizvo@example.ba"}),
    )
    .await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Throwaway", "slug": "throwaway-person"}),
    )
    .await;
    app.create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Throwaway", "slug": "throwaway-network"}),
    )
    .await;
    let member = app
        .create(
            "/api/v1/networks/rnnc/members",
            json!({"person_id": "rizvo", "role": "member"}),
        )
        .await;
    for (slug, date) in [
        ("first", "2019-04-23"),
        ("second", "2019-04-24"),
        ("loose", "2019-04-25"),
        ("throwaway-event", "2019-05-01"),
    ] {
        let mut body = event_body(slug, date);
        body["slug"] = json!(slug);
        app.create("/api/v1/events", body).await;
    }
    app.create(
        "/api/v1/chains",
        json!({"title": "Chain", "slug": "chain", "event_ids": ["first", "second"]}),
    )
    .await;
    app.create(
        "/api/v1/programmes",
        json!({"title": "Support to P/CVE", "slug": "pcve", "kind": "action",
               "organisations": [{"organisation_id": "dcaf", "role": "coordinator"}]}),
    )
    .await;
    app.create(
        "/api/v1/programmes",
        json!({"title": "Throwaway", "slug": "throwaway-programme", "kind": "plan"}),
    )
    .await;
    app.create(
        "/api/v1/chains",
        json!({"title": "Throwaway", "slug": "throwaway-chain"}),
    )
    .await;
    app.create(
        "/api/v1/publications",
        json!({"title": "Report", "slug": "report", "kind": "report",
               "authors": [{"person_id": "rizvo", "affiliation_id": "dcaf"}],
               "events": [{"event_id": "first", "role": "presented"}]}),
    )
    .await;
    app.create(
        "/api/v1/publications",
        json!({"title": "Throwaway", "slug": "throwaway-publication", "kind": "minutes"}),
    )
    .await;
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let victim = db
        .with_connection(|conn| {
            tokens::create(conn, "victim", Role::Reader, None).map_err(|e| e.to_string())
        })
        .expect("token");
    let key_victim = db
        .with_connection(|conn| feed_keys::create(conn, "victim", None).map_err(|e| e.to_string()))
        .expect("feed key");
    (
        member["id"].as_str().unwrap_or("").to_owned(),
        victim.token.id.to_string(),
        key_victim.key.id.to_string(),
    )
}

/// One endpoint of the matrix: how to call it, and the weakest role that may.
struct Call {
    method: Method,
    path: String,
    /// The documented path, to check the matrix covers the whole OpenAPI document.
    template: &'static str,
    body: Option<Value>,
    needs: Option<Role>,
}

fn call(
    method: Method,
    template: &'static str,
    path: &str,
    body: Option<Value>,
    needs: Option<Role>,
) -> Call {
    Call {
        method,
        path: path.to_owned(),
        template,
        body,
        needs,
    }
}

/// Two comments on the event `first`: one approved (to read and moderate), one to delete.
async fn seed_comments(app: &TestApp) -> (String, String) {
    let mut ids = Vec::new();
    for text in ["Approved", "Victim"] {
        let body = json!({"author_name": "Ana", "email": "ana@example.org", "body": text});
        let created = app
            .request(
                Method::POST,
                "/api/v1/events/first/comments",
                &[],
                Some(("application/json", body.to_string().into_bytes())),
            )
            .await
            .expect(201)
            .json();
        ids.push(created["id"].as_str().unwrap_or("").to_owned());
    }
    app.patch(
        &format!("/api/v1/comments/{}", ids[0]),
        &json!({"status": "approved"}),
    )
    .await
    .expect(200);
    (ids[0].clone(), ids[1].clone())
}

fn calls(
    member: &str,
    victim: &str,
    key_victim: &str,
    hooks: &SeededWebhooks,
    (comment, comment_victim): &(String, String),
    (outcome, outcome_victim): &(String, String),
) -> Vec<Call> {
    use Method as M;
    let editor = Some(Role::Editor);
    let admin = Some(Role::Admin);
    let member_path = format!("/api/v1/networks/rnnc/members/{member}");
    vec![
        call(M::GET, "/api/v1/events", "/api/v1/events", None, None),
        call(
            M::GET,
            "/api/v1/events/{id}",
            "/api/v1/events/first",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/organisations",
            "/api/v1/organisations",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/organisations/{id}",
            "/api/v1/organisations/dcaf",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/organisations/{id}/events",
            "/api/v1/organisations/dcaf/events",
            None,
            None,
        ),
        call(M::GET, "/api/v1/people", "/api/v1/people", None, None),
        call(
            M::GET,
            "/api/v1/people/{id}",
            "/api/v1/people/rizvo",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/people/{id}/events",
            "/api/v1/people/rizvo/events",
            None,
            None,
        ),
        call(M::GET, "/api/v1/networks", "/api/v1/networks", None, None),
        call(
            M::GET,
            "/api/v1/networks/{id}",
            "/api/v1/networks/rnnc",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/networks/{id}/meetings",
            "/api/v1/networks/rnnc/meetings",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/networks/{id}/members",
            "/api/v1/networks/rnnc/members",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/networks/{id}/members/{membership_id}",
            &member_path,
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/programmes",
            "/api/v1/programmes",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/programmes/{id}",
            "/api/v1/programmes/pcve",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/programmes/{id}/events",
            "/api/v1/programmes/pcve/events",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/organisations/{id}/programmes",
            "/api/v1/organisations/dcaf/programmes",
            None,
            None,
        ),
        call(M::GET, "/api/v1/chains", "/api/v1/chains", None, None),
        call(
            M::GET,
            "/api/v1/chains/{id}",
            "/api/v1/chains/chain",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/publications",
            "/api/v1/publications",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/publications/{id}",
            "/api/v1/publications/report",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/people/{id}/publications",
            "/api/v1/people/rizvo/publications",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/organisations/{id}/publications",
            "/api/v1/organisations/dcaf/publications",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/events/{id}/documents",
            "/api/v1/events/first/documents",
            None,
            None,
        ),
        call(M::GET, "/api/v1/outcomes", "/api/v1/outcomes", None, None),
        call(
            M::GET,
            "/api/v1/outcomes/{id}",
            &format!("/api/v1/outcomes/{outcome}"),
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/events/{id}/outcomes",
            "/api/v1/events/first/outcomes",
            None,
            None,
        ),
        call(
            M::POST,
            "/api/v1/events/{id}/outcomes",
            "/api/v1/events/first/outcomes",
            Some(json!({"kind": "decision", "text": "Meet again"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/outcomes/{id}",
            &format!("/api/v1/outcomes/{outcome}"),
            Some(json!({"status": "done"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/outcomes/{id}",
            &format!("/api/v1/outcomes/{outcome_victim}"),
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/publications",
            "/api/v1/publications",
            Some(json!({"title": "New report", "kind": "report"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/publications/{id}",
            "/api/v1/publications/report",
            Some(json!({"date": "2019"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/publications/{id}",
            "/api/v1/publications/throwaway-publication",
            None,
            editor,
        ),
        call(
            M::GET,
            "/api/v1/conflicts",
            "/api/v1/conflicts?from=2019-01-01&to=2019-12-31",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/changes",
            "/api/v1/changes?since=0",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/events.ics",
            "/api/v1/events.ics",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/events/{id}.ics",
            "/api/v1/events/first.ics",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/networks/{id}/meetings.ics",
            "/api/v1/networks/rnnc/meetings.ics",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/organisations/{id}/events.ics",
            "/api/v1/organisations/dcaf/events.ics",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/people/{id}/events.ics",
            "/api/v1/people/rizvo/events.ics",
            None,
            None,
        ),
        call(
            M::GET,
            "/api/v1/feed-keys",
            "/api/v1/feed-keys",
            None,
            admin,
        ),
        call(M::GET, "/api/v1/tokens", "/api/v1/tokens", None, admin),
        call(M::GET, "/api/v1/audit", "/api/v1/audit", None, admin),
        call(
            M::POST,
            "/api/v1/events",
            "/api/v1/events",
            Some(event_body("New event", "2019-06-01")),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/events/{id}",
            "/api/v1/events/loose",
            Some(json!({"description": "changed"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/events/{id}",
            "/api/v1/events/throwaway-event",
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/organisations",
            "/api/v1/organisations",
            Some(json!({"name": "New", "kind": "ngo"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/organisations/{id}",
            "/api/v1/organisations/dcaf",
            Some(json!({"acronym": "DCAF"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/organisations/{id}",
            "/api/v1/organisations/throwaway-org",
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/people",
            "/api/v1/people",
            Some(json!({"full_name": "New Person"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/people/{id}",
            "/api/v1/people/rizvo",
            Some(json!({"position": "Assistant Minister"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/people/{id}",
            "/api/v1/people/throwaway-person",
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/networks",
            "/api/v1/networks",
            Some(json!({"name": "New network"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/networks/{id}",
            "/api/v1/networks/rnnc",
            Some(json!({"acronym": "RNNC"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/networks/{id}",
            "/api/v1/networks/throwaway-network",
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/networks/{id}/members",
            "/api/v1/networks/rnnc/members",
            Some(json!({"organisation_id": "dcaf", "role": "observer"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/networks/{id}/members/{membership_id}",
            &member_path,
            Some(json!({"role": "chair"})),
            editor,
        ),
        call(
            M::POST,
            "/api/v1/programmes",
            "/api/v1/programmes",
            Some(json!({"title": "New programme", "kind": "project"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/programmes/{id}",
            "/api/v1/programmes/pcve",
            Some(json!({"funding_instrument": "IPA II 2016"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/programmes/{id}",
            "/api/v1/programmes/throwaway-programme",
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/chains",
            "/api/v1/chains",
            Some(json!({"title": "New chain"})),
            editor,
        ),
        call(
            M::PATCH,
            "/api/v1/chains/{id}",
            "/api/v1/chains/chain",
            Some(json!({"description": "changed"})),
            editor,
        ),
        call(
            M::POST,
            "/api/v1/chains/{id}/events",
            "/api/v1/chains/chain/events",
            Some(json!({"event_id": "loose"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/chains/{id}/events/{event_id}",
            "/api/v1/chains/chain/events/loose",
            None,
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/chains/{id}",
            "/api/v1/chains/throwaway-chain",
            None,
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/networks/{id}/members/{membership_id}",
            &member_path,
            None,
            editor,
        ),
        call(
            M::POST,
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(json!({"name": "partner", "role": "reader"})),
            admin,
        ),
        call(
            M::DELETE,
            "/api/v1/tokens/{id}",
            &format!("/api/v1/tokens/{victim}"),
            None,
            admin,
        ),
        call(
            M::POST,
            "/api/v1/feed-keys",
            "/api/v1/feed-keys",
            Some(json!({"name": "partner-calendar"})),
            admin,
        ),
        call(
            M::DELETE,
            "/api/v1/feed-keys/{id}",
            &format!("/api/v1/feed-keys/{key_victim}"),
            None,
            admin,
        ),
        call(
            M::GET,
            "/api/v1/events/{id}/comments",
            "/api/v1/events/first/comments",
            None,
            None,
        ),
        call(
            M::POST,
            "/api/v1/events/{id}/comments",
            "/api/v1/events/first/comments",
            Some(json!({"author_name": "Ana", "body": "A question"})),
            None,
        ),
        call(M::GET, "/api/v1/comments", "/api/v1/comments", None, editor),
        call(
            M::GET,
            "/api/v1/comments/{id}",
            &format!("/api/v1/comments/{comment}"),
            None,
            None,
        ),
        call(
            M::PATCH,
            "/api/v1/comments/{id}",
            &format!("/api/v1/comments/{comment}"),
            Some(json!({"status": "rejected"})),
            editor,
        ),
        call(
            M::DELETE,
            "/api/v1/comments/{id}",
            &format!("/api/v1/comments/{comment_victim}"),
            None,
            editor,
        ),
        call(M::GET, "/api/v1/webhooks", "/api/v1/webhooks", None, admin),
        call(
            M::GET,
            "/api/v1/webhooks/{id}",
            &format!("/api/v1/webhooks/{}", hooks.webhook),
            None,
            admin,
        ),
        call(
            M::GET,
            "/api/v1/webhooks/{id}/deliveries",
            &format!("/api/v1/webhooks/{}/deliveries", hooks.webhook),
            None,
            admin,
        ),
        call(
            M::POST,
            "/api/v1/webhooks",
            "/api/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/other"})),
            admin,
        ),
        call(
            M::PATCH,
            "/api/v1/webhooks/{id}",
            &format!("/api/v1/webhooks/{}", hooks.webhook),
            Some(json!({"description": "patched"})),
            admin,
        ),
        call(
            M::POST,
            "/api/v1/webhooks/{id}/rotate-secret",
            &format!("/api/v1/webhooks/{}/rotate-secret", hooks.webhook),
            None,
            admin,
        ),
        call(
            M::POST,
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            &format!(
                "/api/v1/webhooks/{}/deliveries/{}/redeliver",
                hooks.webhook, hooks.delivery
            ),
            None,
            admin,
        ),
        call(
            M::DELETE,
            "/api/v1/webhooks/{id}",
            &format!("/api/v1/webhooks/{}", hooks.victim),
            None,
            admin,
        ),
    ]
}

async fn send(app: &TestApp, call: &Call, authorization: Option<&str>) -> TestResponse {
    let mut headers = Vec::new();
    if let Some(value) = authorization {
        headers.push(("authorization", value));
    }
    let body = call.body.as_ref().map(|b| {
        let content_type = if call.method == Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        (content_type, b.to_string().into_bytes())
    });
    app.request(call.method.clone(), &call.path, &headers, body)
        .await
}

async fn every_endpoint_answers_every_credential_as_it_should(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.webhook_allow_private = true;
        s.webhook_poll_ms = 50;
    })
    .await;
    let (webhook, webhook_victim) = seed_webhooks(&app);
    let (member, victim, key_victim) = seed(&app).await;
    let outcome = app
        .create(
            "/api/v1/events/first/outcomes",
            json!({"kind": "follow_up", "text": "Report back", "owner_person_id": "rizvo"}),
        )
        .await;
    let outcome_victim = app
        .create(
            "/api/v1/events/first/outcomes",
            json!({"kind": "decision", "text": "Throwaway"}),
        )
        .await;
    let outcomes = (
        outcome["id"].as_str().unwrap_or("").to_owned(),
        outcome_victim["id"].as_str().unwrap_or("").to_owned(),
    );
    let hooks = SeededWebhooks {
        delivery: first_delivery(&app, &webhook).await,
        webhook,
        victim: webhook_victim,
    };
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let make = |name: &str, role: Role, expires_at: Option<Timestamp>| {
        db.with_connection(|conn| {
            tokens::create(conn, name, role, expires_at)
                .map(|t| t.secret)
                .map_err(|e| e.to_string())
        })
        .expect("token")
    };
    let expired = make(
        "expired",
        Role::Admin,
        Some(Timestamp::from(
            chrono::Utc::now() - chrono::Duration::days(1),
        )),
    );
    let revoked = make("revoked", Role::Admin, None);
    db.with_connection(|conn| {
        let id = tokens::list(conn, None, 200)
            .map_err(|e| e.to_string())?
            .items
            .into_iter()
            .find(|t| t.name == "revoked")
            .map(|t| t.id.to_string())
            .unwrap_or_default();
        tokens::revoke(conn, &id).map_err(|e| e.to_string())
    })
    .expect("revoke");

    let comments = seed_comments(&app).await;
    let calls = calls(&member, &victim, &key_victim, &hooks, &comments, &outcomes);
    // The matrix covers every documented operation.
    let documented: BTreeSet<(String, String)> = {
        let doc = app.get("/openapi.json").await.expect(200).json();
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "post", "patch", "delete", "put"] {
                if item.get(method).is_some() && path.starts_with("/api/") {
                    ops.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        ops
    };
    let covered: BTreeSet<(String, String)> = calls
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_owned()))
        .collect();
    assert_eq!(
        covered, documented,
        "the matrix and the OpenAPI document differ"
    );

    let bearer = |secret: &str| format!("Bearer {secret}");
    let bad_credentials = [
        ("expired", bearer(&expired)),
        ("revoked", bearer(&revoked)),
        (
            "unknown",
            bearer("mr_this-token-was-never-issued-by-this-registry"),
        ),
        ("malformed", "Basic dXNlcjpwYXNz".to_owned()),
        ("empty bearer", "Bearer ".to_owned()),
    ];
    for call in &calls {
        let before = state(&app).await;
        for (label, value) in &bad_credentials {
            let response = send(&app, call, Some(value)).await;
            assert_eq!(
                response.status.as_u16(),
                401,
                "{label} {} {}",
                call.method,
                call.path
            );
            assert!(
                response
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer"))
            );
        }
        let roles = [
            (None, "anonymous"),
            (Some(Role::Reader), "reader"),
            (Some(Role::Editor), "editor"),
            (Some(Role::Admin), "admin"),
        ];
        let secret = |role: Role| match role {
            Role::Reader => bearer(&app.reader),
            Role::Editor => bearer(&app.editor),
            Role::Admin => bearer(&app.admin),
        };
        let allowed = |role: Option<Role>| match (call.needs, role) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(needed), Some(role)) => role.includes(needed),
        };
        for (role, label) in roles.iter().filter(|(role, _)| !allowed(*role)) {
            let authorization = role.map(secret);
            let response = send(&app, call, authorization.as_deref()).await;
            let expected = if role.is_none() { 401 } else { 403 };
            assert_eq!(
                response.status.as_u16(),
                expected,
                "{label} {} {}: {}",
                call.method,
                call.path,
                String::from_utf8_lossy(&response.body)
            );
        }
        assert_eq!(
            state(&app).await,
            before,
            "a refused {} {} changed something",
            call.method,
            call.path
        );
        // The weakest role allowed succeeds.
        let weakest = roles
            .iter()
            .find(|(role, _)| allowed(*role))
            .map(|(role, _)| *role)
            .unwrap_or(None);
        let response = send(&app, call, weakest.map(secret).as_deref()).await;
        assert!(
            response.status.is_success(),
            "{:?} {} {}: {} {}",
            weakest,
            call.method,
            call.path,
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
}

async fn internal_records_never_leak(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/people",
        json!({"full_name": "Secret Chair", "slug": "chair"}),
    )
    .await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Host", "kind": "ngo", "slug": "host"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Network", "slug": "net"}),
    )
    .await;
    let mut hidden = event_body("Closed preparatory meeting", "2019-04-23");
    hidden["slug"] = json!("hidden");
    hidden["visibility"] = json!("internal");
    hidden["network_id"] = json!("net");
    hidden["series_number"] = json!(1);
    hidden["organisers"] = json!([{"organisation_id": "host", "role": "host"}]);
    hidden["participants"] = json!([{"person_id": "chair", "role": "chair"}]);
    app.create("/api/v1/events", hidden).await;
    let mut open = event_body("Open meeting", "2019-04-24");
    open["slug"] = json!("open");
    open["network_id"] = json!("net");
    open["series_number"] = json!(2);
    app.create("/api/v1/events", open).await;
    let mut session = event_body("Public session", "2019-04-23");
    session["slug"] = json!("session");
    session["parent_event_id"] = json!("hidden");
    session["participants"] = json!([{"person_id": "chair", "role": "speaker"}]);
    app.create("/api/v1/events", session).await;
    app.create(
        "/api/v1/chains",
        json!({"title": "Chain", "slug": "chain", "event_ids": ["hidden", "open"]}),
    )
    .await;
    // The chair is in a public event at the same time as the hidden one.
    let mut clash = event_body("Clashing meeting", "2019-04-23");
    clash["location"] = json!({"city": "Skopje", "country_code": "MK"});
    clash["participants"] = json!([{"person_id": "chair", "role": "speaker"}]);
    app.create("/api/v1/events", clash).await;

    let anonymous: Vec<Value> = {
        let mut bodies = Vec::new();
        for path in [
            "/api/v1/events",
            "/api/v1/events?q=preparatory",
            "/api/v1/events?network=net",
            "/api/v1/events?organisation=host",
            "/api/v1/events?person=chair",
            "/api/v1/events?chain=chain",
            "/api/v1/networks/net/meetings",
            "/api/v1/organisations/host/events",
            "/api/v1/people/chair/events",
            "/api/v1/chains",
            "/api/v1/chains/chain",
            "/api/v1/events/open",
            "/api/v1/events/session",
            "/api/v1/conflicts?from=2019-01-01&to=2019-12-31",
            "/api/v1/changes?since=0&limit=1000",
        ] {
            bodies.push(app.get(path).await.expect(200).json());
        }
        bodies
    };
    let hidden_id = app
        .get_as(&app.reader, "/api/v1/events/hidden")
        .await
        .expect(200)
        .json()["id"]
        .clone();
    for body in &anonymous {
        let text = body.to_string();
        assert!(
            !text.contains("preparatory") && !text.contains(hidden_id.as_str().unwrap_or("-")),
            "leak: {text}"
        );
    }
    app.get("/api/v1/events/hidden").await.problem(404);
    let session = app.get("/api/v1/events/session").await.json();
    assert_eq!(session["parent_event"], Value::Null);
    assert_eq!(session["parent_event_id"], Value::Null);
    let open = app.get("/api/v1/events/open").await.json();
    assert_eq!(open["chain"]["position"], 1);
    assert_eq!(open["chain"]["previous_event_id"], Value::Null);

    // A filter naming the hidden event answers as one naming no event: it tells nothing of it.
    for path in ["/api/v1/publications", "/api/v1/outcomes"] {
        let unknown = app
            .get(&format!("{path}?event=no-such-event"))
            .await
            .problem(422);
        assert_eq!(unknown["errors"][0]["field"], "event");
        for key in ["hidden", hidden_id.as_str().unwrap_or("-")] {
            let problem = app.get(&format!("{path}?event={key}")).await.problem(422);
            assert_eq!(problem["errors"][0]["field"], "event", "{problem}");
            app.get_as(&app.reader, &format!("{path}?event={key}"))
                .await
                .expect(200);
        }
    }

    // Token holders see everything, and contact fields.
    let listed = app
        .get_as(&app.reader, "/api/v1/events?q=preparatory")
        .await
        .expect(200)
        .json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    let open = app.get_as(&app.reader, "/api/v1/events/open").await.json();
    assert_eq!(open["chain"]["position"], 2);
    let conflicts = app
        .get_as(
            &app.reader,
            "/api/v1/conflicts?from=2019-01-01&to=2019-12-31",
        )
        .await
        .json();
    assert!(
        conflicts
            .to_string()
            .contains(hidden_id.as_str().unwrap_or("-")),
        "{conflicts}"
    );
}

async fn the_audit_log_records_every_write(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "RCC", "kind": "regional_organisation", "slug": "rcc"}),
    )
    .await;
    let event = app
        .create("/api/v1/events", event_body("NFP meeting", "2019-04-23"))
        .await;
    let id = event["id"].as_str().unwrap_or("").to_owned();
    app.patch(
        &format!("/api/v1/events/{id}"),
        &json!({"title": "7th NFP meeting"}),
    )
    .await
    .expect(200);
    app.create(
        "/api/v1/networks",
        json!({"name": "NFP Group", "slug": "nfp"}),
    )
    .await;
    app.create(
        "/api/v1/networks/nfp/members",
        json!({"organisation_id": "rcc", "role": "secretariat"}),
    )
    .await;
    app.create("/api/v1/chains", json!({"title": "Chain", "slug": "c"}))
        .await;
    app.post("/api/v1/chains/c/events", &json!({"event_id": id}))
        .await
        .expect(200);
    app.delete(&format!("/api/v1/chains/c/events/{id}"))
        .await
        .expect(204);
    app.delete(&format!("/api/v1/events/{id}"))
        .await
        .expect(204);
    let token = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            &[("authorization", &format!("Bearer {}", app.admin))],
            Some((
                "application/json",
                br#"{"name": "partner", "role": "reader"}"#.to_vec(),
            )),
        )
        .await
        .expect(201)
        .json();
    app.request(
        Method::DELETE,
        &format!("/api/v1/tokens/{}", token["id"].as_str().unwrap_or("")),
        &[("authorization", &format!("Bearer {}", app.admin))],
        None,
    )
    .await
    .expect(204);

    let log = app
        .get_as(&app.admin, "/api/v1/audit")
        .await
        .expect(200)
        .json();
    let entries: Vec<(String, String, String)> = log["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or("").to_owned(),
                e["action"].as_str().unwrap_or("").to_owned(),
                e["resource"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected = [
        ("test-editor", "create", "organisation"),
        ("test-editor", "create", "event"),
        ("test-editor", "update", "event"),
        ("test-editor", "create", "network"),
        ("test-editor", "create", "membership"),
        ("test-editor", "create", "chain"),
        ("test-editor", "add_event", "chain"),
        ("test-editor", "remove_event", "chain"),
        ("test-editor", "delete", "event"),
        ("test-admin", "create", "token"),
        ("test-admin", "revoke", "token"),
    ];
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(entries, expected);
    let history = app
        .get_as(&app.admin, &format!("/api/v1/audit?resource=event&id={id}"))
        .await
        .expect(200)
        .json();
    assert_eq!(history["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        history["items"][1]["changes"],
        json!({"title": {"from": "NFP meeting", "to": "7th NFP meeting"}})
    );
    let since = history["items"][2]["at"].as_str().unwrap_or("").to_owned();
    let later = app
        .get_as(&app.admin, &format!("/api/v1/audit?since={since}"))
        .await
        .expect(200)
        .json();
    assert_eq!(later["items"].as_array().map(Vec::len), Some(3));
    app.get_as(&app.admin, "/api/v1/audit?since=yesterday")
        .await
        .problem(400);
}

/// A token's or a feed key's secret is shown once and never kept, not even for a retry with
/// the same `Idempotency-Key`: the retry creates nothing and gets 409 naming the credential the
/// first request made, and no stored answer holds the secret.
async fn a_retried_credential_create_names_it_without_its_secret(backend: Backend) {
    use diesel::prelude::*;
    use meeting_registry::db::schema::idempotency_keys;

    let app = TestApp::spawn(backend).await;
    let admin = format!("Bearer {}", app.admin);
    let mut secrets = Vec::new();
    for (path, body, key) in [
        (
            "/api/v1/tokens",
            r#"{"name": "retried", "role": "reader"}"#,
            "retry-1",
        ),
        ("/api/v1/feed-keys", r#"{"name": "retried"}"#, "retry-2"),
    ] {
        let headers = [("authorization", admin.as_str()), ("idempotency-key", key)];
        let post = || {
            app.request(
                Method::POST,
                path,
                &headers,
                Some(("application/json", body.as_bytes().to_vec())),
            )
        };
        let first = post().await.expect(201);
        let secret = first.json()["secret"].as_str().unwrap_or("").to_owned();
        assert!(secret.len() >= 40, "{path}");
        let retried = post().await;
        assert_eq!(
            retried.header("location"),
            first.header("location"),
            "{path}"
        );
        let problem = retried.problem(409);
        assert!(!problem.to_string().contains(&secret), "{problem}");
        let location = first.header("location").unwrap_or_default();
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&location)),
            "{problem}"
        );
        let listed = app.get_as(&app.admin, path).await.expect(200).json();
        let named: Vec<String> = item_fields(&listed, "name")
            .into_iter()
            .filter(|n| n == "retried")
            .collect();
        assert_eq!(named.len(), 1, "one {path} made: {listed}");
        secrets.push(secret);
    }
    let db = Database::connect(&app.database_url, 1).expect("connect");
    let kept: Vec<String> = db
        .with_connection(|conn| {
            idempotency_keys::table
                .select(idempotency_keys::body)
                .load(conn)
                .map_err(|e| e.to_string())
        })
        .expect("the kept answers");
    assert_eq!(kept.len(), 2, "{kept:?}");
    for secret in &secrets {
        assert!(kept.iter().all(|body| !body.contains(secret.as_str())));
    }
}

async fn idempotency_keys_replay_the_first_response(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = event_body("Retried create", "2019-04-23")
        .to_string()
        .into_bytes();
    async fn post_keyed(app: &TestApp, auth: &str, key: &str, body: Vec<u8>) -> TestResponse {
        app.request(
            Method::POST,
            "/api/v1/events",
            &[("authorization", auth), ("idempotency-key", key)],
            Some(("application/json", body)),
        )
        .await
    }
    let editor = app.editor_auth();
    let first = post_keyed(&app, &editor, "key-1", body.clone())
        .await
        .expect(201);
    let second = post_keyed(&app, &editor, "key-1", body.clone())
        .await
        .expect(201);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(
        second.header("idempotent-replayed").as_deref(),
        Some("true")
    );
    let page = app.get("/api/v1/events").await.json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));

    let other = event_body("Another body", "2019-04-23")
        .to_string()
        .into_bytes();
    let problem = post_keyed(&app, &editor, "key-1", other).await.problem(422);
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    // Another key creates another record.
    post_keyed(&app, &editor, "key-2", body.clone())
        .await
        .expect(201);
    // The same key from another caller is another key.
    let admin = format!("Bearer {}", app.admin);
    post_keyed(&app, &editor, "key with spaces", body.clone())
        .await
        .problem(400);
    post_keyed(&app, &admin, "key-1", body).await.expect(201);
    let page = app.get("/api/v1/events").await.json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(3));
}

async fn tokens_are_managed_over_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = format!("Bearer {}", app.admin);
    async fn post(app: &TestApp, body: &[u8]) -> TestResponse {
        let admin = format!("Bearer {}", app.admin);
        app.request(
            Method::POST,
            "/api/v1/tokens",
            &[("authorization", &admin)],
            Some(("application/json", body.to_vec())),
        )
        .await
    }
    let created = post(
        &app,
        br#"{"name": "partner-sync", "role": "editor", "expires_on": "2099-12-31"}"#,
    )
    .await
    .expect(201)
    .json();
    let secret = created["secret"].as_str().unwrap_or("").to_owned();
    assert!(secret.len() >= 40);
    assert_eq!(created["role"], "editor");
    assert_eq!(created["expires_at"], "2100-01-01T00:00:00.000000Z");
    // The new token works, with its role.
    let response = app
        .request(
            Method::POST,
            "/api/v1/organisations",
            &[("authorization", &format!("Bearer {secret}"))],
            Some((
                "application/json",
                br#"{"name": "Partner", "kind": "ngo"}"#.to_vec(),
            )),
        )
        .await;
    response.expect(201);
    // Listing never shows a secret.
    let listed = app.get_as(&app.admin, "/api/v1/tokens").await.expect(200);
    assert!(!String::from_utf8_lossy(&listed.body).contains(&secret));
    assert!(
        listed.json()["items"]
            .as_array()
            .is_some_and(|t| t.iter().all(|t| t.get("secret").is_none()))
    );
    post(
        &app,
        br#"{"name": "old", "role": "reader", "expires_on": "2001-01-01"}"#,
    )
    .await
    .problem(422);
    post(&app, br#"{"name": "x", "role": "root"}"#)
        .await
        .problem(422);
    post(&app, br#"{"name": " ", "role": "reader"}"#)
        .await
        .problem(422);
    app.request(
        Method::DELETE,
        &format!("/api/v1/tokens/{}", created["id"].as_str().unwrap_or("")),
        &[("authorization", &admin)],
        None,
    )
    .await
    .expect(204);
    let refused = app.get_as(&secret, "/api/v1/events").await;
    assert!(
        refused.problem(401)["detail"]
            .as_str()
            .unwrap_or("")
            .contains("revoked")
    );
    app.request(
        Method::DELETE,
        "/api/v1/tokens/not-a-token",
        &[("authorization", &admin)],
        None,
    )
    .await
    .problem(404);
}

async fn a_bootstrap_admin_token_comes_from_the_environment(backend: Backend) {
    let secret = "bootstrap-secret-for-containers-0123456789";
    let app = TestApp::spawn_with(backend, |s| s.admin_token = Some(secret.to_owned())).await;
    app.get_as(secret, "/api/v1/tokens").await.expect(200);
    let listed = app.get_as(secret, "/api/v1/tokens").await.json();
    let names: Vec<&str> = listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"bootstrap-admin"));
}

async fn clients_over_the_rate_limit_get_429(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.rate_limit = 2).await;
    let mut limited = None;
    for _ in 0..20 {
        let response = app.get("/api/v1/events").await;
        if response.status.as_u16() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("20 quick requests at 2/s were never limited");
    let retry_after: u64 = response
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(retry_after >= 1);
    response.problem(429);
    // Another client (another token) has its own budget.
    app.get_as(&app.reader, "/api/v1/events").await.expect(200);
}

async fn cors_and_caching_headers_follow_the_configuration(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.cors_origins = vec!["https://calendar.example.org".to_owned()]
    })
    .await;
    let allowed = app
        .request(
            Method::GET,
            "/api/v1/events",
            &[("origin", "https://calendar.example.org")],
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        allowed.header("access-control-allow-origin").as_deref(),
        Some("https://calendar.example.org")
    );
    let other = app
        .request(
            Method::GET,
            "/api/v1/events",
            &[("origin", "https://evil.example.com")],
            None,
        )
        .await;
    assert!(other.header("access-control-allow-origin").is_none());
    let authorised = app.get_as(&app.reader, "/api/v1/events").await;
    assert!(
        authorised
            .header("cache-control")
            .is_some_and(|v| v.contains("private"))
    );
    assert!(
        authorised
            .header("vary")
            .is_some_and(|v| v.contains("Authorization"))
    );
    let anonymous = app.get("/api/v1/events").await;
    assert!(
        anonymous
            .header("cache-control")
            .is_some_and(|v| !v.contains("private"))
    );
}

/// Every server refuses a revoked token or feed key: revoked through one server's API, or in
/// the database by another process (the `token revoke` command), it is refused by every server
/// that had accepted it, the server that revoked it at once. A secret refused as unknown works
/// as soon as its token exists. Credentials nobody changed keep working everywhere.
async fn a_revoked_credential_is_refused_by_every_server(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let servers = [first.replica().await, first.replica().await, first];
    let db = Database::connect(&servers[2].database_url, 1).expect("connect");
    let make = |name: &str| {
        db.with_connection(|conn| {
            tokens::create(conn, name, Role::Reader, None)
                .map(|t| (t.token.id.to_string(), t.secret))
                .map_err(|e| e.to_string())
        })
        .expect("token")
    };
    let (by_api, by_api_secret) = make("revoked-over-the-api");
    let (by_command, by_command_secret) = make("revoked-by-the-command");
    let late_secret = "a-token-that-exists-only-later-0123456789".to_owned();
    async fn status(server: &TestApp, secret: &str) -> u16 {
        server
            .get_as(secret, "/api/v1/events")
            .await
            .status
            .as_u16()
    }
    // The status a request answers once it is 401, or the last one after a second of asking
    // (the notification's way).
    async fn once_refused<F: std::future::Future<Output = u16>>(ask: impl Fn() -> F) -> u16 {
        let mut answered = 0;
        for _ in 0..100 {
            answered = ask().await;
            if answered == 401 {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        answered
    }
    // Accepted by every server, more than once (a server that keeps tokens has them kept).
    for server in &servers {
        for secret in [&by_api_secret, &by_command_secret, &servers[2].editor] {
            for _ in 0..3 {
                assert_eq!(status(server, secret).await, 200);
            }
        }
        assert_eq!(status(server, &late_secret).await, 401);
    }
    // The repeated checks were answered from memory (on PostgreSQL the notifications of the
    // two tokens' creation may cost a second read each; on SQLite any commit does).
    for server in &servers {
        let series = |from: &str| {
            format!(r#"registry_credential_checks{{kind="token",answered_from="{from}"}}"#)
        };
        let memory = server.metric(&series("memory")).await;
        let database = server.metric(&series("database")).await;
        assert!(memory >= 3 && database >= 3, "{memory} {database}");
    }
    // Refused by every server within a second (the notification's way), then for good.
    async fn refused_everywhere(servers: &[TestApp], secret: &str) {
        for server in servers {
            let answered = once_refused(|| status(server, secret)).await;
            assert_eq!(
                answered, 401,
                "{} still accepts a revoked token",
                server.address
            );
            for _ in 0..3 {
                assert_eq!(status(server, secret).await, 401);
            }
        }
    }

    servers[0]
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{by_api}"),
            &[("authorization", &format!("Bearer {}", servers[0].admin))],
            None,
        )
        .await
        .expect(204);
    let refused = servers[0].get_as(&by_api_secret, "/api/v1/events").await;
    assert!(
        refused.problem(401)["detail"]
            .as_str()
            .unwrap_or("")
            .contains("revoked"),
        "the revoking server refuses it at once"
    );
    refused_everywhere(&servers, &by_api_secret).await;

    db.with_connection(|conn| tokens::revoke(conn, &by_command).map_err(|e| e.to_string()))
        .expect("revoke");
    refused_everywhere(&servers, &by_command_secret).await;

    // A feed key, revoked over the API: every calendar feed refuses it.
    let (key_id, key) = db
        .with_connection(|conn| {
            feed_keys::create(conn, "secretariat-outlook", None)
                .map(|k| (k.key.id.to_string(), k.secret))
                .map_err(|e| e.to_string())
        })
        .expect("feed key");
    let feed = format!("/api/v1/events.ics?key={key}");
    for server in &servers {
        server.get(&feed).await.expect(200);
        server.get(&feed).await.expect(200);
    }
    servers[1]
        .request(
            Method::DELETE,
            &format!("/api/v1/feed-keys/{key_id}"),
            &[("authorization", &format!("Bearer {}", servers[1].admin))],
            None,
        )
        .await
        .expect(204);
    for server in &servers {
        let answered = once_refused(|| async { server.get(&feed).await.status.as_u16() }).await;
        assert_eq!(
            answered, 401,
            "{} still takes a revoked feed key",
            server.address
        );
        let refused = server.get(&feed).await.problem(401);
        assert!(
            refused["detail"].as_str().unwrap_or("").contains("revoked"),
            "{refused}"
        );
    }

    db.with_connection(|conn| {
        tokens::create_with_secret(conn, "late", Role::Reader, None, &late_secret)
            .map_err(|e| e.to_string())
    })
    .expect("late token");
    for server in &servers {
        assert_eq!(
            status(server, &late_secret).await,
            200,
            "{}",
            server.address
        );
        assert_eq!(status(server, &servers[2].editor).await, 200);
    }
}

/// A token or a feed key may work through 2200-12-31 at the latest: a later last day (which
/// once stored an instant no list could read back, so every list and every request with it
/// failed) is refused with the field named, and the latest allowed one works.
async fn credentials_expire_by_2200_at_the_latest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = format!("Bearer {}", app.admin);
    let headers = [("authorization", admin.as_str())];
    for (path, extra) in [
        ("/api/v1/tokens", r#", "role": "reader""#),
        ("/api/v1/feed-keys", ""),
    ] {
        let post = |day: &str| {
            let body = format!(r#"{{"name": "far"{extra}, "expires_on": "{day}"}}"#);
            app.request(
                Method::POST,
                path,
                &headers,
                Some(("application/json", body.into_bytes())),
            )
        };
        for day in ["9999-12-31", "2201-01-01"] {
            let problem = post(day).await.problem(422);
            assert_eq!(problem["errors"][0]["field"], "expires_on", "{problem}");
            assert!(
                problem["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("2200-12-31")),
                "{problem}"
            );
        }
        let created = post("2200-12-31").await.expect(201).json();
        assert_eq!(created["expires_at"], "2201-01-01T00:00:00.000000Z");
        let listed = app.get_as(&app.admin, path).await.expect(200).json();
        assert!(
            item_fields(&listed, "name").contains(&"far".to_owned()),
            "{listed}"
        );
    }
    let token = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            &[("authorization", &admin)],
            Some((
                "application/json",
                br#"{"name": "last", "role": "reader", "expires_on": "2200-12-31"}"#.to_vec(),
            )),
        )
        .await
        .expect(201)
        .json();
    let secret = token["secret"].as_str().unwrap_or("");
    app.get_as(secret, "/api/v1/events").await.expect(200);
}

on_both_backends!(
    credentials_expire_by_2200_at_the_latest,
    a_retried_credential_create_names_it_without_its_secret,
    every_endpoint_answers_every_credential_as_it_should,
    internal_records_never_leak,
    the_audit_log_records_every_write,
    idempotency_keys_replay_the_first_response,
    tokens_are_managed_over_the_api,
    a_revoked_credential_is_refused_by_every_server,
    a_bootstrap_admin_token_comes_from_the_environment,
    clients_over_the_rate_limit_get_429,
    cors_and_caching_headers_follow_the_configuration,
);
