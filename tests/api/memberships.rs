//! Memberships on the shared write path: `If-Match` guards them against lost updates on both
//! backends, they carry a version like every other record, and their nested path names the
//! network they belong to.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestResponse};
use crate::on_both_backends;

/// Rounds of each race: one round can miss the interleaving that loses an update.
const ROUNDS: usize = 5;
/// Writers racing in one round.
const WRITERS: usize = 6;

/// A network `nfp` with the organisation `rcc` as a member; the membership's path.
async fn seed_membership(app: &TestApp) -> String {
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
            json!({"organisation_id": "rcc", "role": "member", "since": "2018-01-01"}),
        )
        .await;
    format!(
        "/api/v1/networks/nfp/members/{}",
        member["id"].as_str().unwrap_or("")
    )
}

/// The current ETag of `path`.
async fn etag_of(app: &TestApp, path: &str) -> String {
    app.get(path)
        .await
        .expect(200)
        .header("etag")
        .unwrap_or_default()
}

async fn guarded_patch(app: &TestApp, path: &str, etag: &str, patch: &Value) -> TestResponse {
    app.write(
        Method::PATCH,
        path,
        &[("if-match", etag)],
        Some((
            "application/merge-patch+json",
            patch.to_string().into_bytes(),
        )),
    )
    .await
}

/// How many audit entries record an update of the membership at `path`.
async fn audited_updates(app: &TestApp, path: &str) -> usize {
    let id = path.rsplit('/').next().unwrap_or("");
    let page = app
        .get_as(
            &app.admin,
            &format!("/api/v1/audit?resource=membership&id={id}&limit=200"),
        )
        .await
        .expect(200)
        .json();
    page["items"].as_array().map_or(0, |items| {
        items.iter().filter(|e| e["action"] == "update").count()
    })
}

/// Several PATCHes sent at once with the same `If-Match`: exactly one applies, every other is
/// refused as stale (412), and the membership is then what the winner's response said.
async fn racing_patches_with_one_etag_update_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = seed_membership(&app).await;
    for round in 0..ROUNDS {
        let etag = etag_of(&app, &path).await;
        let audited = audited_updates(&app, &path).await;
        let patches = (0..WRITERS).map(|writer| {
            let patch = json!({"until": format!("202{round}-01-{:02}", writer + 1)});
            let (app, path, etag) = (&app, &path, &etag);
            async move { guarded_patch(app, path, etag, &patch).await }
        });
        let responses = futures_util::future::join_all(patches).await;
        let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
        let winners: Vec<&TestResponse> = responses.iter().filter(|r| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}: statuses {statuses:?}");
        for loser in responses.iter().filter(|r| r.status != 200) {
            assert_eq!(loser.status, 412, "round {round}: statuses {statuses:?}");
        }
        let winner = winners[0];
        let now = app.get(&path).await.expect(200);
        assert_eq!(now.json(), winner.json(), "round {round}");
        assert_eq!(now.header("etag"), winner.header("etag"), "round {round}");
        assert_eq!(
            audited_updates(&app, &path).await,
            audited + 1,
            "round {round}: one change, one audit entry"
        );
    }
}

/// A PATCH and a DELETE sent at once with the same `If-Match`: one of them applies, the other
/// is refused (412, or 404 when the DELETE committed before the PATCH read), never both.
async fn racing_patch_and_delete_with_one_etag_apply_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    seed_membership(&app).await;
    for round in 0..ROUNDS {
        // A first day of its own each round: the chair each round leaves is another fact.
        let since = format!("201{round}-01-01");
        let member = app
            .create(
                "/api/v1/networks/nfp/members",
                json!({"organisation_id": "rcc", "role": "observer", "since": since}),
            )
            .await;
        let path = format!(
            "/api/v1/networks/nfp/members/{}",
            member["id"].as_str().unwrap_or("")
        );
        let etag = etag_of(&app, &path).await;
        let to_chair = json!({"role": "chair"});
        let if_match = [("if-match", etag.as_str())];
        let patch = guarded_patch(&app, &path, &etag, &to_chair);
        let delete = app.write(Method::DELETE, &path, &if_match, None);
        let (patched, deleted) = futures_util::future::join(patch, delete).await;
        let outcome = (patched.status.as_u16(), deleted.status.as_u16());
        match outcome {
            (200, 412) => {
                let now = app.get(&path).await.expect(200);
                assert_eq!(now.json(), patched.json(), "round {round}");
                assert_eq!(now.json()["role"], "chair");
            }
            (412 | 404, 204) => {
                app.get(&path).await.problem(404);
            }
            _ => panic!("round {round}: PATCH and DELETE answered {outcome:?}"),
        }
    }
}

/// A membership has a version like every other record: 1 when added, one more per change,
/// the same after a patch that changes nothing; its ETag moves with it.
async fn memberships_carry_a_version(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = seed_membership(&app).await;
    let read = app.get(&path).await.expect(200);
    assert_eq!(read.json()["version"], 1);
    let changed = app
        .patch(&path, &json!({"role": "chair"}))
        .await
        .expect(200);
    assert_eq!(changed.json()["version"], 2);
    assert_ne!(changed.header("etag"), read.header("etag"));
    let same = app
        .patch(&path, &json!({"role": "chair"}))
        .await
        .expect(200);
    assert_eq!(same.json()["version"], 2);
    assert_eq!(same.header("etag"), changed.header("etag"));
    let listed = app.get("/api/v1/networks/nfp/members").await.expect(200);
    assert_eq!(listed.json()["items"][0]["version"], 2);
    // The old ETag is stale for both writes.
    let stale = read.header("etag").unwrap_or_default();
    guarded_patch(&app, &path, &stale, &json!({"role": "member"}))
        .await
        .problem(412);
    app.write(Method::DELETE, &path, &[("if-match", &stale)], None)
        .await
        .problem(412);
    let current = changed.header("etag").unwrap_or_default();
    app.write(Method::DELETE, &path, &[("if-match", &current)], None)
        .await
        .expect(204);
    app.get(&path).await.problem(404);
}

/// A membership is reached only through its own network: through another network's path it
/// is not found, for reading, changing and removing alike, and nothing changes.
async fn a_membership_is_not_found_under_another_network(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = seed_membership(&app).await;
    app.create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    let elsewhere = path.replace("/networks/nfp/", "/networks/rnnc/");
    let nowhere = path.replace("/networks/nfp/", "/networks/no-such-network/");
    for other in [&elsewhere, &nowhere] {
        app.get(other).await.problem(404);
        app.patch(other, &json!({"role": "chair"}))
            .await
            .problem(404);
        app.delete(other).await.problem(404);
    }
    let unknown = format!(
        "/api/v1/networks/nfp/members/{}",
        "01936f6e-6c2a-7cc1-9a51-3f4b1c2d9e10"
    );
    app.patch(&unknown, &json!({"role": "chair"}))
        .await
        .problem(404);
    app.delete(&unknown).await.problem(404);
    app.patch("/api/v1/networks/nfp/members/not-a-uuid", &json!({}))
        .await
        .problem(404);
    let kept = app.get(&path).await.expect(200).json();
    assert_eq!(kept["role"], "member");
    assert_eq!(kept["version"], 1);
}

/// The same member in the same role from the same first day is one fact: recording it twice
/// (by a second POST, or a patch that makes one membership the copy of another) is refused
/// with 409 naming the membership there is, and writes nothing. Another role, another first
/// day or another network is another fact.
async fn the_same_membership_is_recorded_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = seed_membership(&app).await;
    let id = path.rsplit('/').next().unwrap_or("").to_owned();
    let same = json!({"organisation_id": "rcc", "role": "member", "since": "2018-01-01"});
    let problem = app
        .post("/api/v1/networks/nfp/members", &same)
        .await
        .problem(409);
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains(&id)),
        "{problem}"
    );
    let chair = app
        .create(
            "/api/v1/networks/nfp/members",
            json!({"organisation_id": "rcc", "role": "chair", "since": "2018-01-01"}),
        )
        .await;
    app.create(
        "/api/v1/networks/nfp/members",
        json!({"organisation_id": "rcc", "role": "member", "since": "2019-01-01"}),
    )
    .await;
    app.create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    app.create("/api/v1/networks/rnnc/members", same).await;
    // The chair made into a copy of the first membership.
    let chair_path = format!(
        "/api/v1/networks/nfp/members/{}",
        chair["id"].as_str().unwrap_or("")
    );
    app.patch(&chair_path, &json!({"role": "member"}))
        .await
        .problem(409);
    assert_eq!(app.get(&chair_path).await.json()["role"], "chair");
    // A patch of the first membership that keeps it what it is goes through.
    app.patch(&path, &json!({"country_code": "BA"}))
        .await
        .expect(200);
    let members = app
        .get("/api/v1/networks/nfp/members")
        .await
        .expect(200)
        .json();
    assert_eq!(
        members["items"].as_array().map(Vec::len),
        Some(3),
        "{members}"
    );
}

on_both_backends!(
    racing_patches_with_one_etag_update_once,
    racing_patch_and_delete_with_one_etag_apply_once,
    memberships_carry_a_version,
    a_membership_is_not_found_under_another_network,
    the_same_membership_is_recorded_once,
);
