//! The representation cache must never show a client something older than the last committed
//! write: not after a change to a record an event only embeds, not for another viewer, not
//! after a write through another server process on the same database.

use awc::http::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp, TestResponse, event_body, item_fields};
use crate::on_both_backends;

async fn embedded_records_are_current_after_their_own_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create(
        "/api/v1/organisations",
        json!({"name": "IISG Support Group", "kind": "programme", "slug": "iisg-support-group"}),
    )
    .await;
    let mut body = event_body("4th IISG Board Meeting", "2019-11-18");
    body["organisers"] = json!([{"organisation_id": "iisg-support-group", "role": "organiser"}]);
    let event = app.create("/api/v1/events", body).await;
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap_or(""));

    // Read twice, so the second answer comes from the cache.
    app.get(&path).await.expect(200);
    let before = app.get(&path).await.expect(200);
    let old_etag = before.header("etag").unwrap_or_default();
    app.get("/api/v1/events?limit=5").await.expect(200);

    app.patch(
        "/api/v1/organisations/iisg-support-group",
        &json!({"name": "IISG Support Group Secretariat"}),
    )
    .await
    .expect(200);

    let after = app.get(&path).await.expect(200);
    assert_eq!(
        after.json()["organisers"][0]["organisation"]["name"],
        "IISG Support Group Secretariat"
    );
    assert_ne!(after.header("etag").unwrap_or_default(), old_etag);
    let page = app.get("/api/v1/events?limit=5").await.expect(200).json();
    assert_eq!(
        page["items"][0]["organisers"][0]["organisation"]["name"],
        "IISG Support Group Secretariat"
    );
    // The old ETag no longer matches: a conditional GET gets the new body, not 304.
    let conditional = app
        .request(Method::GET, &path, &[("if-none-match", &old_etag)], None)
        .await;
    assert_eq!(conditional.status, 200);
}

async fn each_viewer_gets_its_own_representation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = event_body("Closed preparatory meeting", "2019-04-23");
    body["visibility"] = json!("internal");
    let event = app.create("/api/v1/events", body).await;
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap_or(""));

    // A token holder fills the cache first; anonymous readers must still not see the event.
    app.get_as(&app.reader, &path).await.expect(200);
    app.get_as(&app.reader, &path).await.expect(200);
    app.get(&path).await.problem(404);
    let internal = app.get_as(&app.reader, "/api/v1/events").await.expect(200);
    assert_eq!(
        item_fields(&internal.json(), "title"),
        ["Closed preparatory meeting"]
    );
    let public = app.get("/api/v1/events").await.expect(200).json();
    assert_eq!(item_fields(&public, "title"), Vec::<String>::new());
}

async fn a_replica_sees_writes_made_through_another_server(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let replica = app.replica().await;
    let event = app
        .create("/api/v1/events", event_body("RNNC meeting", "2019-04-24"))
        .await;
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap_or(""));
    let slug_path = format!("/api/v1/events/{}", event["slug"].as_str().unwrap_or(""));
    for p in [&path, &slug_path, &"/api/v1/events".to_owned()] {
        app.get(p).await.expect(200);
        app.get(p).await.expect(200);
    }

    // Read back with the write's position, as any client reading through another server
    // does (without it, another server answers from the newest write it has been told of).
    let patched = replica
        .patch(&path, &json!({"title": "3rd RNNC meeting"}))
        .await
        .expect(200);
    assert_eq!(
        app.get_after(&path, &patched).await.expect(200).json()["title"],
        "3rd RNNC meeting"
    );
    assert_eq!(
        app.get_after(&slug_path, &patched).await.expect(200).json()["title"],
        "3rd RNNC meeting"
    );
    let page = app
        .get_after("/api/v1/events", &patched)
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&page, "title"), ["3rd RNNC meeting"]);

    let deleted = replica.delete(&path).await.expect(204);
    app.get_after(&path, &deleted).await.problem(404);
    let page = app
        .get_after("/api/v1/events", &deleted)
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&page, "title"), Vec::<String>::new());
}

async fn titles(server: &TestApp, path: &str) -> Vec<String> {
    item_fields(&server.get(path).await.expect(200).json(), "title")
}

/// Pages of event lists are cached whole, per path and query, viewer and generation: a page
/// read again after any write, through this server or another, shows that write; an internal
/// event never reaches a public page, whoever read the list first.
async fn a_cached_list_page_follows_every_write(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let other = first.replica().await;
    first
        .create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    let lists = [
        "/api/v1/events?q=pagecache&limit=3",
        "/api/v1/events?country=AL&from=2019-01-01&limit=3",
        "/api/v1/networks/rnnc/meetings?limit=3",
    ];
    let mut expected: Vec<String> = Vec::new();
    for round in 0..4 {
        // Both servers read every list twice, so the second answer is a cached page.
        for server in [&first, &other] {
            for path in lists {
                titles(server, path).await;
                titles(server, path).await;
            }
        }
        let writer = if round % 2 == 0 { &first } else { &other };
        let reader = if round % 2 == 0 { &other } else { &first };
        let title = format!("Pagecache meeting {round}");
        let mut body = event_body(&title, &format!("2019-0{}-10", round + 1));
        body["network_id"] = json!("rnnc");
        let written = writer.post("/api/v1/events", &body).await.expect(201);
        expected.push(title);
        let first_page: Vec<String> = expected.iter().take(3).cloned().collect();
        for path in lists {
            let by_position = reader.get_after(path, &written).await.expect(200).json();
            assert_eq!(item_fields(&by_position, "title"), first_page, "{path}");
            // The writer knows its own write at once.
            assert_eq!(titles(writer, path).await, first_page, "{path}");
        }
    }
    // A rename shows on the cached pages that embed the event.
    let renamed = first
        .patch(
            "/api/v1/events/pagecache-meeting-0",
            &json!({"title": "Pagecache meeting zero"}),
        )
        .await
        .expect(200);
    let page = other.get_after(lists[2], &renamed).await.expect(200).json();
    assert_eq!(item_fields(&page, "title")[0], "Pagecache meeting zero");
    // A delete takes it off them.
    let deleted = other
        .delete("/api/v1/events/pagecache-meeting-0")
        .await
        .expect(204);
    let page = first.get_after(lists[0], &deleted).await.expect(200).json();
    assert!(
        !item_fields(&page, "title").contains(&"Pagecache meeting zero".to_owned()),
        "{page}"
    );

    // An internal event: a token holder fills the cache first; the public page leaves it out.
    let mut body = event_body("Pagecache closed meeting", "2018-12-01");
    body["visibility"] = json!("internal");
    body["network_id"] = json!("rnnc");
    let written = first.post("/api/v1/events", &body).await.expect(201);
    let (internal, public) =
        read_with_then_without_token(&other, &first.reader, lists[2], &written).await;
    for page in internal {
        assert_eq!(item_fields(&page, "title")[0], "Pagecache closed meeting");
    }
    for page in public {
        assert!(
            !item_fields(&page, "title").contains(&"Pagecache closed meeting".to_owned()),
            "{page}"
        );
    }
}

/// `path` read through `server` after `written`: twice with `token` (the first read fills the
/// cache), then twice without; every page, in that order.
async fn read_with_then_without_token(
    server: &TestApp,
    token: &str,
    path: &str,
    written: &TestResponse,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let position = written.header("x-registry-position").unwrap_or_default();
    let auth = format!("Bearer {token}");
    let mut internal = Vec::new();
    for _ in 0..2 {
        let page = server
            .request(
                Method::GET,
                path,
                &[("authorization", &auth), ("x-registry-position", &position)],
                None,
            )
            .await
            .expect(200)
            .json();
        internal.push(page);
    }
    let mut public = Vec::new();
    for _ in 0..2 {
        public.push(server.get_after(path, written).await.expect(200).json());
    }
    (internal, public)
}

/// An organisation's and a person's events (`/organisations/{id}/events`,
/// `/people/{id}/events`) are cached pages like every event list: read again after a write
/// through this server or another, they show it, with the roles and the names as written; an
/// internal event never reaches a public page, whoever read it first.
async fn a_cached_page_of_someones_events_follows_every_write(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let other = first.replica().await;
    first
        .create(
            "/api/v1/organisations",
            json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
        )
        .await;
    first
        .create(
            "/api/v1/people",
            json!({"full_name": "Vlado Azinović", "slug": "azinovic"}),
        )
        .await;
    let lists = [
        "/api/v1/people/azinovic/events?limit=3",
        "/api/v1/organisations/dcaf/events?limit=3",
    ];
    let titles_of = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|item| item["event"]["title"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut expected: Vec<String> = Vec::new();
    for round in 0..4 {
        // Both servers read both lists twice, so the second answer is a kept page.
        for server in [&first, &other] {
            for path in lists {
                for _ in 0..2 {
                    let page = server.get(path).await.expect(200).json();
                    assert_eq!(
                        titles_of(&page),
                        expected.iter().take(3).cloned().collect::<Vec<_>>(),
                        "{path}"
                    );
                }
            }
        }
        let writer = if round % 2 == 0 { &first } else { &other };
        let reader = if round % 2 == 0 { &other } else { &first };
        let title = format!("Azinovic meeting {round}");
        let mut body = event_body(&title, &format!("2019-0{}-10", round + 1));
        body["organisers"] = json!([{"organisation_id": "dcaf", "role": "host"}]);
        body["participants"] = json!([{"person_id": "azinovic", "role": "chair"}]);
        let written = writer.post("/api/v1/events", &body).await.expect(201);
        expected.push(title);
        let first_page: Vec<String> = expected.iter().take(3).cloned().collect();
        for (path, role) in lists.into_iter().zip(["chair", "host"]) {
            let page = reader.get_after(path, &written).await.expect(200).json();
            assert_eq!(titles_of(&page), first_page, "{path}");
            assert_eq!(page["items"][0]["roles"], json!([role]), "{path}: {page}");
            // The writer knows its own write at once.
            let page = writer.get(path).await.expect(200).json();
            assert_eq!(titles_of(&page), first_page, "{path}");
        }
    }
    // The person renamed: the kept pages that embed them show the new name.
    let renamed = other
        .patch(
            "/api/v1/people/azinovic",
            &json!({"full_name": "Vlado Azinovic"}),
        )
        .await
        .expect(200);
    let page = first.get_after(lists[1], &renamed).await.expect(200).json();
    assert_eq!(
        page["items"][0]["event"]["participants"][0]["participant"]["name"], "Vlado Azinovic",
        "{page}"
    );

    // An internal event: a token holder fills the cache first; the public page leaves it out.
    let mut body = event_body("Azinovic closed meeting", "2018-12-01");
    body["visibility"] = json!("internal");
    body["participants"] = json!([{"person_id": "azinovic", "role": "participant"}]);
    let written = first.post("/api/v1/events", &body).await.expect(201);
    let (internal, public) =
        read_with_then_without_token(&other, &first.reader, lists[0], &written).await;
    for page in internal {
        assert_eq!(titles_of(&page)[0], "Azinovic closed meeting");
    }
    for page in public {
        assert!(
            !titles_of(&page).contains(&"Azinovic closed meeting".to_owned()),
            "{page}"
        );
    }
}

/// The other public collections (organisations, people, programmes, publications, chains, and
/// the per-record lists of programmes and publications) are kept pages too: read again after a
/// write through this server or another, each shows it, however often it was read before.
async fn a_cached_collection_follows_every_write(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let other = first.replica().await;
    first
        .create(
            "/api/v1/organisations",
            json!({"name": "DCAF Ljubljana", "kind": "ngo", "slug": "dcaf"}),
        )
        .await;
    first
        .create(
            "/api/v1/people",
            json!({"full_name": "Anes Rizvo", "slug": "rizvo"}),
        )
        .await;
    first
        .create(
            "/api/v1/programmes",
            json!({"title": "Support to P/CVE", "slug": "pcve", "kind": "action",
                   "organisations": [{"organisation_id": "dcaf", "role": "coordinator"}]}),
        )
        .await;
    first
        .create(
            "/api/v1/publications",
            json!({"title": "Report", "slug": "report", "kind": "report",
                   "authors": [{"person_id": "rizvo", "affiliation_id": "dcaf"}]}),
        )
        .await;
    first
        .create("/api/v1/chains", json!({"title": "Chain", "slug": "chain"}))
        .await;
    first
        .create("/api/v1/networks", json!({"name": "RNNC", "slug": "rnnc"}))
        .await;
    let membership = first
        .create(
            "/api/v1/networks/rnnc/members",
            json!({"person_id": "rizvo", "role": "member"}),
        )
        .await;
    // Each list, the field its items are named by, the record renamed, and that field's key
    // in the record.
    let lists = [
        (
            "/api/v1/organisations",
            "name",
            "/api/v1/organisations/dcaf",
        ),
        ("/api/v1/people", "full_name", "/api/v1/people/rizvo"),
        ("/api/v1/programmes", "title", "/api/v1/programmes/pcve"),
        (
            "/api/v1/organisations/dcaf/programmes",
            "title",
            "/api/v1/programmes/pcve",
        ),
        (
            "/api/v1/publications",
            "title",
            "/api/v1/publications/report",
        ),
        (
            "/api/v1/people/rizvo/publications",
            "title",
            "/api/v1/publications/report",
        ),
        (
            "/api/v1/organisations/dcaf/publications",
            "title",
            "/api/v1/publications/report",
        ),
        ("/api/v1/chains", "title", "/api/v1/chains/chain"),
        ("/api/v1/networks", "name", "/api/v1/networks/rnnc"),
    ];
    for (round, (path, field, record)) in lists.into_iter().enumerate() {
        // Both servers read the list twice, so the second answer is a kept page.
        for server in [&first, &other] {
            for _ in 0..2 {
                let page = server.get(path).await.expect(200).json();
                assert_eq!(item_fields(&page, field).len(), 1, "{path}: {page}");
            }
        }
        let name = format!("Renamed {round}");
        let (writer, reader) = if round % 2 == 0 {
            (&other, &first)
        } else {
            (&first, &other)
        };
        let renamed = writer
            .patch(record, &json!({ field: name }))
            .await
            .expect(200);
        let page = reader.get_after(path, &renamed).await.expect(200).json();
        assert_eq!(item_fields(&page, field), [name.as_str()], "{path}");
        // The writer knows its own write at once.
        let page = writer.get(path).await.expect(200).json();
        assert_eq!(item_fields(&page, field), [name], "{path}");
    }
    // A network's members: a membership's role changed through one server shows on the
    // other's kept page.
    let members = "/api/v1/networks/rnnc/members";
    for server in [&first, &other] {
        for _ in 0..2 {
            let page = server.get(members).await.expect(200).json();
            assert_eq!(item_fields(&page, "role"), ["member"], "{page}");
        }
    }
    let id = membership["id"].as_str().expect("a membership id");
    let changed = other
        .patch(&format!("{members}/{id}"), &json!({"role": "chair"}))
        .await
        .expect(200);
    let page = first.get_after(members, &changed).await.expect(200).json();
    assert_eq!(item_fields(&page, "role"), ["chair"], "{page}");
    // A record created through one server is on the other's kept first page.
    let created = other
        .post(
            "/api/v1/organisations",
            &json!({"name": "Another organisation", "kind": "ngo"}),
        )
        .await
        .expect(201);
    let page = first
        .get_after("/api/v1/organisations", &created)
        .await
        .expect(200)
        .json();
    assert_eq!(item_fields(&page, "name").len(), 2, "{page}");
}

/// Lists keep the ids their filters name (`person=`, a network's meetings) between requests:
/// a slug that moves to another record, and a network deleted, show on the next list through
/// this server and through another, however often the old answer was read.
async fn a_kept_filter_name_follows_renames_and_deletes(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let other = first.replica().await;
    first
        .create(
            "/api/v1/people",
            json!({"full_name": "Anes Rizvo", "slug": "rizvo"}),
        )
        .await;
    for (name, slug) in [("RNNC", "rnnc"), ("NFP Group", "nfp-group")] {
        first
            .create("/api/v1/networks", json!({"name": name, "slug": slug}))
            .await;
    }
    let mut body = event_body("Kept name meeting", "2019-05-10");
    body["participants"] = json!([{"person_id": "rizvo", "role": "chair"}]);
    body["network_id"] = json!("rnnc");
    first.post("/api/v1/events", &body).await.expect(201);
    let lists = [
        "/api/v1/events?person=rizvo&limit=5",
        "/api/v1/networks/rnnc/meetings?limit=5",
        "/api/v1/events?network=rnnc&limit=5",
    ];
    for server in [&first, &other] {
        for path in lists {
            for _ in 0..2 {
                assert_eq!(titles(server, path).await, ["Kept name meeting"], "{path}");
            }
        }
        for _ in 0..2 {
            assert!(
                titles(server, "/api/v1/networks/nfp-group/meetings")
                    .await
                    .is_empty()
            );
        }
    }

    // The slug moves to the person's new name, and another person takes the old one.
    first
        .patch("/api/v1/people/rizvo", &json!({"slug": "anes-rizvo"}))
        .await
        .expect(200);
    let taken = first
        .post(
            "/api/v1/people",
            &json!({"full_name": "Rizvo Namesake", "slug": "rizvo"}),
        )
        .await
        .expect(201);
    for server in [&first, &other] {
        let old_name = server.get_after(lists[0], &taken).await.expect(200).json();
        assert!(item_fields(&old_name, "title").is_empty(), "{old_name}");
        let new_name = server
            .get_after("/api/v1/events?person=anes-rizvo&limit=5", &taken)
            .await
            .expect(200)
            .json();
        assert_eq!(item_fields(&new_name, "title"), ["Kept name meeting"]);
    }

    // A network deleted: its meetings are a 404, a filter naming it a 422.
    let deleted = first.delete("/api/v1/networks/nfp-group").await.expect(204);
    for server in [&first, &other] {
        let problem = server
            .get_after("/api/v1/networks/nfp-group/meetings", &deleted)
            .await
            .problem(404);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap_or("")
                .contains("nfp-group"),
            "{problem}"
        );
        server
            .get_after("/api/v1/events?network=nfp-group", &deleted)
            .await
            .problem(422);
    }
}

/// Lists of outcomes are kept whole too: a follow-up closed through another server leaves the
/// open list read through this one, however often it was read before.
async fn a_cached_outcome_list_follows_every_write(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let other = first.replica().await;
    first
        .create("/api/v1/events", event_body("Board", "2019-11-18"))
        .await;
    let outcome = first
        .create(
            "/api/v1/events/board/outcomes",
            json!({"text": "Lay out a new phase", "kind": "follow_up"}),
        )
        .await;
    let lists = [
        "/api/v1/outcomes?status=open",
        "/api/v1/events/board/outcomes?status=open",
    ];
    let texts = |page: &serde_json::Value| item_fields(page, "text");
    for path in lists {
        for _ in 0..2 {
            let page = first.get(path).await.expect(200).json();
            assert_eq!(texts(&page), ["Lay out a new phase"], "{path}");
        }
    }
    let closed = other
        .patch(
            &format!("/api/v1/outcomes/{}", outcome["id"].as_str().unwrap_or("")),
            &json!({"status": "done"}),
        )
        .await
        .expect(200);
    for path in lists {
        let page = first.get_after(path, &closed).await.expect(200).json();
        assert!(texts(&page).is_empty(), "{path}: {page}");
    }
}

/// A read that sends no position sees a write made through another server on the same
/// database: on SQLite at once (the file's WAL index shows the commit, and the generation is
/// read again), on PostgreSQL once the write's notification has arrived (within a second here).
/// On SQLite the reads of an unchanged registry make no statement.
async fn a_read_without_a_position_sees_another_servers_write(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let other = first.replica().await;
    let event = first
        .create("/api/v1/events", event_body("RNNC meeting", "2019-04-24"))
        .await;
    let path = format!("/api/v1/events/{}", event["id"].as_str().unwrap_or(""));
    let list = "/api/v1/events?limit=5";
    async fn title(server: &TestApp, path: &str) -> String {
        let body = server.get(path).await.expect(200).json();
        body["title"].as_str().unwrap_or_default().to_owned()
    }
    for round in 0..10 {
        let (writer, reader) = if round % 2 == 0 {
            (&other, &first)
        } else {
            (&first, &other)
        };
        // Both servers answer from their caches: every path is read more than once.
        for server in [&first, &other] {
            for _ in 0..3 {
                title(server, &path).await;
                titles(server, list).await;
            }
        }
        let renamed = format!("RNNC meeting, round {round}");
        writer
            .patch(&path, &json!({ "title": renamed }))
            .await
            .expect(200);
        if backend == Backend::Sqlite {
            assert_eq!(title(reader, &path).await, renamed, "round {round}");
        } else {
            let mut seen = String::new();
            for _ in 0..100 {
                seen = title(reader, &path).await;
                if seen == renamed {
                    break;
                }
                actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            assert_eq!(seen, renamed, "round {round}");
        }
        assert_eq!(titles(reader, list).await, [renamed], "round {round}");
    }
    if backend == Backend::Sqlite {
        for server in [&first, &other] {
            let series =
                |from: &str| format!(r#"registry_generation_checks{{answered_from="{from}"}}"#);
            // Each round reads six times through each server before its write: only the first
            // read after a commit asks the file.
            let memory = server.metric(&series("memory")).await;
            let database = server.metric(&series("database")).await;
            assert!(memory >= 40, "{memory} {database}");
            assert!(database >= 10, "{memory} {database}");
        }
    }
}

on_both_backends!(
    a_read_without_a_position_sees_another_servers_write,
    a_cached_list_page_follows_every_write,
    a_cached_outcome_list_follows_every_write,
    a_cached_page_of_someones_events_follows_every_write,
    a_cached_collection_follows_every_write,
    a_kept_filter_name_follows_renames_and_deletes,
    embedded_records_are_current_after_their_own_change,
    each_viewer_gets_its_own_representation,
    a_replica_sees_writes_made_through_another_server,
);
