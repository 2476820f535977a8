//! Stopping a server process as an orchestrator does (SIGTERM): it drains first — `/readyz`
//! says 503 at once while everything else is still served — so a load balancer takes it out
//! of rotation before it stops accepting connections.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp, TestResponse};
use crate::on_both_backends;

const BINARY: &str = env!("CARGO_BIN_EXE_meeting-registry");

/// A `meeting-registry serve` process on the test's database; killed if the test fails.
struct ServerProcess {
    child: Child,
    address: String,
}

impl ServerProcess {
    async fn start(app: &TestApp, drain_seconds: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(BINARY)
            .arg("serve")
            .env_clear()
            .env("DATABASE_URL", &app.database_url)
            .env("REGISTRY_BIND", format!("127.0.0.1:{port}"))
            .env("REGISTRY_DRAIN_SECONDS", drain_seconds)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let mut server = Self {
            child,
            address: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if let Some(ready) = server.get(app, "/readyz").await
                && ready.status == 200
            {
                return server;
            }
            assert!(
                server.child.try_wait().expect("the process").is_none(),
                "the server exited at start"
            );
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server was not ready in 60 s"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A GET, or None when the server does not accept the connection.
    async fn get(&self, app: &TestApp, path: &str) -> Option<TestResponse> {
        let mut response = app
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .ok()?;
        let body = response.body().await.ok()?;
        Some(TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        })
    }

    fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM was not sent");
    }

    async fn exited_within(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("the process") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "the server still runs {limit:?} after SIGTERM"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn a_terminated_server_drains_then_stops(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut server = ServerProcess::start(&app, "3").await;

    server.terminate();
    let signalled = Instant::now();
    let mut readiness = None;
    while signalled.elapsed() < Duration::from_secs(2) {
        readiness = server.get(&app, "/readyz").await;
        if readiness.as_ref().is_some_and(|r| r.status == 503) {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let problem = readiness
        .expect("the draining server still answers")
        .problem(503);
    assert_eq!(problem["type"], "/problems/unavailable");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("draining")),
        "{problem}"
    );

    // Everything but readiness is still served while it drains.
    let events = server
        .get(&app, "/api/v1/events")
        .await
        .expect("served while draining");
    assert_eq!(events.status, 200);
    assert_eq!(
        server.get(&app, "/healthz").await.map(|r| r.status),
        Some(actix_web::http::StatusCode::OK)
    );

    let status = server.exited_within(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() >= Duration::from_millis(2500),
        "stopped after {:?}, before the drain period of 3 s",
        signalled.elapsed()
    );

    // REGISTRY_DRAIN_SECONDS=0 stops at once, without the default drain of 5 s.
    let mut quick = ServerProcess::start(&app, "0").await;
    quick.terminate();
    let signalled = Instant::now();
    let status = quick.exited_within(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "took {:?}",
        signalled.elapsed()
    );

    // A second signal ends a drain early.
    let mut impatient = ServerProcess::start(&app, "60").await;
    impatient.terminate();
    let signalled = Instant::now();
    while impatient
        .get(&app, "/readyz")
        .await
        .is_some_and(|r| r.status == 200)
    {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    impatient.terminate();
    let status = impatient.exited_within(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < Duration::from_secs(20),
        "took {:?}: the second signal did not end the drain of 60 s",
        signalled.elapsed()
    );
}

on_both_backends!(a_terminated_server_drains_then_stops);
