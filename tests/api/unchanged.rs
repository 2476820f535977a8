//! A merge patch that changes nothing writes nothing: no new version, no new `updated_at`, the
//! same ETag, no audit entry.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

/// How many audit entries there are for the record `id`.
async fn audit_entries(app: &TestApp, resource: &str, id: &str) -> usize {
    app.get_as(
        &app.admin,
        &format!("/api/v1/audit?resource={resource}&id={id}"),
    )
    .await
    .expect(200)
    .json()["items"]
        .as_array()
        .map_or(0, Vec::len)
}

/// What a sync client or an `If-Match` user sees move when a record changes.
fn observed(response: &crate::helpers::TestResponse) -> (Value, Value, Option<String>) {
    let body = response.json();
    (
        body["version"].clone(),
        body["updated_at"].clone(),
        response.header("etag"),
    )
}

async fn no_op_patches_of_an_event_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/networks",
        json!({"name": "Regional Network of National Coordinators", "slug": "rnnc"}),
    )
    .await;
    let mut body = event_body("3rd RNNC meeting", "2019-04-23");
    body["network_id"] = json!("rnnc");
    body["topics"] = json!(["P-CVE"]);
    let event = app.create("/api/v1/events", body).await;
    let id = event["id"].as_str().unwrap_or("").to_owned();
    let path = format!("/api/v1/events/{id}");
    let read = app.get(&path).await.expect(200);
    let before = observed(&read);
    let audited = audit_entries(&app, "event", &id).await;

    let network_uuid = read.json()["network_id"].clone();
    let same_values = [
        json!({}),
        json!({"title": "3rd RNNC meeting", "status": "scheduled"}),
        json!({"location": {"city": "Tirana"}, "topics": ["P-CVE"]}),
        // The network by its id, where the record's writable shape names it by slug.
        json!({"network_id": network_uuid}),
    ];
    for patch in same_values {
        let response = app.patch(&path, &patch).await.expect(200);
        assert_eq!(observed(&response), before, "after {patch}");
        assert_eq!(response.json()["title"], "3rd RNNC meeting");
        assert_eq!(app.get(&path).await.header("etag"), before.2, "{patch}");
    }
    assert_eq!(audit_entries(&app, "event", &id).await, audited);

    // A stale If-Match is still refused, even for a patch that would change nothing.
    let etag = before.2.clone().unwrap_or_default();
    app.patch(&path, &json!({"title": "4th RNNC meeting"}))
        .await
        .expect(200);
    app.write(
        Method::PATCH,
        &path,
        &[("if-match", &etag)],
        Some(("application/merge-patch+json", b"{}".to_vec())),
    )
    .await
    .problem(412);
    assert_eq!(audit_entries(&app, "event", &id).await, audited + 1);
}

async fn no_op_patches_of_a_membership_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "Regional Cooperation Council", "kind": "regional_organisation", "slug": "rcc"}),
    )
    .await;
    app.create(
        "/api/v1/networks",
        json!({"name": "NFP Group", "slug": "nfp"}),
    )
    .await;
    let member = app
        .create(
            "/api/v1/networks/nfp/members",
            json!({"organisation_id": "rcc", "role": "secretariat", "since": "2018-01-01"}),
        )
        .await;
    let id = member["id"].as_str().unwrap_or("").to_owned();
    let path = format!("/api/v1/networks/nfp/members/{id}");
    let before = observed(&app.get(&path).await.expect(200));
    let audited = audit_entries(&app, "membership", &id).await;
    for patch in [
        json!({}),
        json!({"role": "secretariat", "since": "2018-01-01", "until": null}),
    ] {
        let response = app.patch(&path, &patch).await.expect(200);
        assert_eq!(observed(&response), before, "after {patch}");
        assert_eq!(app.get(&path).await.header("etag"), before.2, "{patch}");
    }
    assert_eq!(audit_entries(&app, "membership", &id).await, audited);
    let changed = app
        .patch(&path, &json!({"until": "2020-12-31"}))
        .await
        .expect(200);
    assert_ne!(changed.header("etag"), before.2);
    assert_eq!(audit_entries(&app, "membership", &id).await, audited + 1);
}

on_both_backends!(
    no_op_patches_of_an_event_change_nothing,
    no_op_patches_of_a_membership_change_nothing,
);
