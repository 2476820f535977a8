//! Read-your-writes across servers: a write's response names the position the registry
//! reached (`X-Registry-Position`, and the `registry_position` cookie), and a read through any
//! server that sends it back sees that write. On PostgreSQL each server learns of other
//! servers' writes by LISTEN/NOTIFY and answers cached reads without asking the database.

use awc::http::Method;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, event_body};
use crate::on_both_backends;

async fn readyz(app: &TestApp) -> Value {
    app.get("/readyz").await.expect(200).json()
}

/// Three servers on one database: every write through one is read back, at once, through
/// another that had the record cached, with the position the write answered.
async fn a_write_is_read_back_through_any_server_with_its_position(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let servers = [first.replica().await, first.replica().await, first];
    let event = servers[0]
        .create("/api/v1/events", event_body("RNNC meeting", "2019-04-24"))
        .await;
    let path = format!("/api/v1/events/{}", event["slug"].as_str().unwrap_or(""));
    for server in &servers {
        server.get(&path).await.expect(200);
        server.get(&path).await.expect(200);
    }
    for round in 0..30 {
        let title = format!("RNNC meeting, take {round}");
        let writer = &servers[round % 3];
        let written = writer
            .patch(&path, &json!({"title": title}))
            .await
            .expect(200);
        let position = written
            .header("x-registry-position")
            .expect("a write names its position");
        let cookie = written
            .header("set-cookie")
            .expect("and sets it as a cookie");
        assert!(
            cookie.starts_with(&format!("registry_position={position};")),
            "{cookie}"
        );
        // The next server, by header; the one after, by the cookie a browser sends back.
        let by_header = servers[(round + 1) % 3].get_after(&path, &written).await;
        assert_eq!(by_header.expect(200).json()["title"], title.as_str());
        let by_cookie = servers[(round + 2) % 3]
            .request(
                Method::GET,
                &path,
                &[(
                    "cookie",
                    &format!("theme=dark; registry_position={position}"),
                )],
                None,
            )
            .await;
        assert_eq!(by_cookie.expect(200).json()["title"], title.as_str());
    }
    // A read never makes a position of its own.
    assert_eq!(
        servers[1].get(&path).await.header("x-registry-position"),
        None
    );
}

/// Writes through two servers and reads through a third run at once: each read that carries
/// the newest position acknowledged so far sees at least that write.
async fn concurrent_writes_and_reads_never_go_back(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let servers = [first.replica().await, first.replica().await, first];
    let event = servers[0]
        .create("/api/v1/events", event_body("Board meeting", "2019-04-24"))
        .await;
    let path = format!("/api/v1/events/{}", event["slug"].as_str().unwrap_or(""));
    let acknowledged = std::cell::RefCell::new((0_i64, None::<crate::helpers::TestResponse>));
    let writers_done = std::cell::Cell::new(0);
    let writer = |server: &'static str, which: usize| {
        let (servers, path, acknowledged, writers_done) =
            (&servers, &path, &acknowledged, &writers_done);
        async move {
            for i in 0..15 {
                let written = servers[which]
                    .patch(path, &json!({"description": format!("{server} {i}")}))
                    .await
                    .expect(200);
                let version = written.json()["version"].as_i64().unwrap_or(0);
                let mut newest = acknowledged.borrow_mut();
                if version > newest.0 {
                    *newest = (version, Some(written));
                }
            }
            writers_done.set(writers_done.get() + 1);
        }
    };
    let reader = async {
        let mut reads = 0;
        while writers_done.get() < 2 {
            let (version, written) = {
                let newest = acknowledged.borrow();
                match &newest.1 {
                    Some(written) => (newest.0, written.header("x-registry-position")),
                    None => (0, None),
                }
            };
            let Some(position) = written else {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
                continue;
            };
            let read = servers[2]
                .request(
                    Method::GET,
                    &path,
                    &[("x-registry-position", &position)],
                    None,
                )
                .await
                .expect(200)
                .json();
            assert!(
                read["version"].as_i64().unwrap_or(0) >= version,
                "read version {} after version {version} was acknowledged",
                read["version"]
            );
            reads += 1;
        }
        reads
    };
    let ((), (), reads) = futures_util::future::join3(writer("a", 0), writer("b", 1), reader).await;
    assert!(
        reads >= 5,
        "the reader read while the writers wrote ({reads} reads)"
    );
}

/// A position that is not one is refused, naming the header; a cookie that is not one (a
/// browser may keep an old one) is ignored; a position beyond anything written is answered
/// from the newest state.
async fn a_bad_position_is_refused_and_a_bad_cookie_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", event_body("RNNC meeting", "2019-04-24"))
        .await;
    for bad in ["bogus", "-3", "12-0/", "12-XYZ/1", "1.5", ""] {
        let problem = app
            .request(
                Method::GET,
                "/api/v1/events",
                &[("x-registry-position", bad)],
                None,
            )
            .await
            .problem(400);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("X-Registry-Position")),
            "{problem}"
        );
    }
    let page = app
        .request(
            Method::GET,
            "/api/v1/events",
            &[("cookie", "registry_position=not-a-position")],
            None,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let ahead = app
        .request(
            Method::GET,
            "/api/v1/events/rnnc-meeting",
            &[("x-registry-position", "999999999")],
            None,
        )
        .await;
    assert_eq!(ahead.expect(200).json()["title"], "RNNC meeting");
}

/// On PostgreSQL the server listens for writes (`/readyz`, `/metrics`); when its listening
/// session is killed it reconnects, and reads stay right meanwhile. SQLite asks the file on
/// every read and says nothing of listening.
async fn a_lost_listening_session_is_opened_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.replica().await;
    let ready = readyz(&app).await;
    if backend == Backend::Sqlite {
        assert_eq!(ready, json!({"status": "ok"}));
        return;
    }
    assert_eq!(ready["listening"], true, "{ready}");
    let event = app
        .create("/api/v1/events", event_body("IISG Board", "2019-04-24"))
        .await;
    let path = format!("/api/v1/events/{}", event["slug"].as_str().unwrap_or(""));
    app.get(&path).await.expect(200);

    // Kill every listening session on this test's database (both servers').
    let database = app.database_url.rsplit('/').next().unwrap_or("").to_owned();
    let mut admin = diesel::PgConnection::establish(&crate::helpers::test_database_url())
        .expect("admin connection");
    #[derive(QueryableByName)]
    struct Killed {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        killed: bool,
    }
    let killed: Vec<Killed> = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = 'meeting-registry listen'",
    )
    .bind::<diesel::sql_types::Text, _>(&database)
    .load(&mut admin)
    .expect("terminate");
    assert_eq!(killed.len(), 2, "one listening session per server");
    assert!(killed.iter().all(|k| k.killed));

    // Reads are right at every moment: while the session is down they ask the database.
    for i in 0..20 {
        let title = format!("IISG Board {i}");
        let written = other
            .patch(&path, &json!({"title": title}))
            .await
            .expect(200);
        let read = app.get_after(&path, &written).await.expect(200).json();
        assert_eq!(read["title"], title.as_str());
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = String::from_utf8_lossy(&app.get("/metrics").await.expect(200).body).into();
        if metrics.contains("registry_db_listen_reconnects 1") {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        metrics.contains("registry_db_listen_reconnects 1"),
        "{metrics}"
    );
    assert!(metrics.contains("registry_db_listening 1"), "{metrics}");
    assert_eq!(readyz(&app).await["listening"], true);

    // Listening again, it hears the other server's writes.
    let written = other
        .patch(&path, &json!({"title": "IISG Board, after"}))
        .await
        .expect(200);
    let read = app.get_after(&path, &written).await.expect(200).json();
    assert_eq!(read["title"], "IISG Board, after");
}

/// When PostgreSQL ends every session of the registry (a restart, a failover), the pool
/// drops the dead connections instead of handing them out again: a request may be refused
/// with 503 while that happens, never with 500, and the server answers again at once.
async fn the_pool_replaces_connections_the_server_closed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create("/api/v1/events", event_body("IISG Board", "2019-04-24"))
        .await;
    if backend == Backend::Sqlite {
        return;
    }
    for _ in 0..8 {
        app.get("/api/v1/events?q=board").await.expect(200);
    }
    let database = app.database_url.rsplit('/').next().unwrap_or("").to_owned();
    let mut admin = diesel::PgConnection::establish(&crate::helpers::test_database_url())
        .expect("admin connection");
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::Text, _>(&database)
    .execute(&mut admin)
    .expect("terminate");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app.get("/api/v1/events?q=board").await;
        statuses.push(response.status.as_u16());
        if response.status.as_u16() != 200 {
            response.problem(503);
        }
    }
    assert!(
        statuses.ends_with(&[200, 200, 200, 200]),
        "the server did not recover: {statuses:?}"
    );
    assert!(
        statuses.iter().filter(|s| **s != 200).count() <= 4,
        "{statuses:?}"
    );
}

on_both_backends!(
    the_pool_replaces_connections_the_server_closed,
    a_write_is_read_back_through_any_server_with_its_position,
    concurrent_writes_and_reads_never_go_back,
    a_bad_position_is_refused_and_a_bad_cookie_ignored,
    a_lost_listening_session_is_opened_again,
);
