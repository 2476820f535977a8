//! A merge patch that changes nothing writes nothing: no new version, no new `updated_at`, the
//! same ETag, no audit entry.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body, item_fields};
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

/// What an event refers to, as a client reads it: its network and number, programme, parent,
/// the events it precedes, its organisers and its participants, by id and role.
fn references(event: &Value) -> Value {
    let pick = |list: &Value, fields: &[&str]| -> Value {
        list.as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|item| fields.iter().map(|f| item[*f].clone()).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            })
            .map_or(Value::Null, |items| json!(items))
    };
    json!({
        "network_id": event["network_id"],
        "series_number": event["series_number"],
        "programme_id": event["programme_id"],
        "parent_event_id": event["parent_event_id"],
        "precedes": pick(&event["precedes"], &["id"]),
        "organisers": pick(&event["organisers"], &["organisation_id", "role"]),
        "participants": pick(&event["participants"], &["person_id", "organisation_id", "role"]),
    })
}

/// A patch that leaves an event's references as they were keeps every one of them (an update
/// takes them from the event as read instead of looking them up again), whether it changes a
/// field no relation carries or the dates every relation row carries; and the rules about
/// them are still checked once what they depend on changes.
async fn a_patch_keeps_the_references_it_does_not_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (name, slug) in [("DCAF", "dcaf"), ("Hedayah", "hedayah")] {
        app.create(
            "/api/v1/organisations",
            json!({"name": name, "kind": "ngo", "slug": slug}),
        )
        .await;
    }
    app.create(
        "/api/v1/people",
        json!({"full_name": "Anes Rizvo", "slug": "rizvo"}),
    )
    .await;
    app.create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    app.create(
        "/api/v1/programmes",
        json!({"title": "Support to P/CVE", "slug": "pcve", "kind": "action"}),
    )
    .await;
    let mut conference = event_body("Regional conference", "2019-04-22");
    conference["slug"] = json!("conference");
    conference["end_date"] = json!("2019-04-26");
    app.create("/api/v1/events", conference).await;
    let mut later = event_body("Follow-up workshop", "2019-06-10");
    later["slug"] = json!("follow-up");
    app.create("/api/v1/events", later).await;

    let mut body = event_body("3rd RNNC meeting", "2019-04-23");
    body["network_id"] = json!("rnnc");
    body["series_number"] = json!(3);
    body["programme_id"] = json!("pcve");
    body["parent_event_id"] = json!("conference");
    body["precedes"] = json!(["follow-up"]);
    body["organisers"] = json!([
        {"organisation_id": "hedayah", "role": "organiser"},
        {"organisation_id": "dcaf", "role": "host"},
    ]);
    body["participants"] = json!([
        {"person_id": "rizvo", "role": "chair"},
        {"organisation_id": "dcaf", "role": "participant"},
    ]);
    let event = app.create("/api/v1/events", body).await;
    let expected = references(&event);
    assert_eq!(expected["organisers"].as_array().map(Vec::len), Some(2));
    assert_eq!(expected["participants"].as_array().map(Vec::len), Some(2));
    assert!(expected["network_id"].is_string() && expected["parent_event_id"].is_string());
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap_or(""));

    for patch in [
        json!({"description": "Agenda to follow."}),
        json!({"start_date": "2019-04-24", "end_date": "2019-04-25"}),
    ] {
        let patched = app.patch(&path, &patch).await.expect(200).json();
        assert_eq!(references(&patched), expected, "response to {patch}");
        let read = app.get(&path).await.expect(200).json();
        assert_eq!(references(&read), expected, "read after {patch}");
    }
    // The relation rows were rewritten with the new dates: the lists that read them find it.
    for filter in ["organisation=hedayah", "person=rizvo", "organisation=dcaf"] {
        let page = app
            .get(&format!(
                "/api/v1/events?{filter}&from=2019-04-24&to=2019-04-24"
            ))
            .await
            .expect(200)
            .json();
        let slugs = item_fields(&page, "slug");
        assert!(
            slugs.iter().any(|s| s == "3rd-rnnc-meeting"),
            "{filter}: {slugs:?}"
        );
    }
    // Moving the start past the event it precedes breaks a rule the references carry.
    let refused = app
        .patch(
            &path,
            &json!({"start_date": "2019-06-20", "end_date": "2019-06-20"}),
        )
        .await
        .expect(409)
        .json();
    assert_eq!(
        refused["violations"][0]["rule"], "precedes_order",
        "{refused}"
    );
    assert_eq!(references(&app.get(&path).await.json()), expected);
}

on_both_backends!(
    no_op_patches_of_an_event_change_nothing,
    no_op_patches_of_a_membership_change_nothing,
    a_patch_keeps_the_references_it_does_not_name,
);
