//! A real server per test, over a fresh database: a SQLite file in a temporary folder, or a
//! new PostgreSQL database (dropped when the test ends) on `TEST_DATABASE_URL`.

use std::net::TcpListener;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use awc::Client;
use awc::http::{Method, StatusCode};
use diesel::{Connection, PgConnection, RunQueryDsl};
use meeting_registry::configuration::{DatabaseSettings, ServerSettings, Settings};
use meeting_registry::db::Database;
use meeting_registry::domain::enums::Role;
use meeting_registry::startup::Application;
use meeting_registry::store::tokens;
use serde_json::Value;

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The body-running test functions, generated once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    if $crate::helpers::Backend::Sqlite.runs() {
                        super::$name($crate::helpers::Backend::Sqlite).await
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if $crate::helpers::Backend::Postgres.runs() {
                        super::$name($crate::helpers::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether this backend's half of the tests runs: the backends `TEST_BACKENDS` names
    /// (comma-separated, default both). PostgreSQL's half needs a server; when none answers,
    /// the first PostgreSQL test fails with one line saying how to start one or skip them, and
    /// the others are skipped instead of each failing with the same error.
    pub fn runs(self) -> bool {
        let chosen = std::env::var("TEST_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
        if !chosen.split(',').any(|b| b.trim() == self.name()) {
            return false;
        }
        if self == Backend::Sqlite {
            return true;
        }
        static REACHABLE: OnceLock<Result<(), String>> = OnceLock::new();
        static REPORTED: AtomicBool = AtomicBool::new(false);
        let reachable = REACHABLE.get_or_init(|| {
            let url = test_database_url();
            PgConnection::establish(&url).map(drop).map_err(|e| {
                format!(
                    "PostgreSQL does not answer at {url} ({}). Start it (`scripts/ensure-postgres`, \
                     or `pg_ctlcluster 15 main start`), or set TEST_DATABASE_URL to a server \
                     that answers, or run only the SQLite half: `TEST_BACKENDS=sqlite cargo test`",
                    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
                )
            })
        });
        match reachable {
            Ok(()) => true,
            Err(message) if !REPORTED.swap(true, Ordering::SeqCst) => panic!("{message}"),
            Err(_) => false,
        }
    }
}

/// What a test owns: the server and its database. Dropping it stops both.
pub struct TestApp {
    pub address: String,
    /// Secrets of tokens with each role.
    pub admin: String,
    pub editor: String,
    pub reader: String,
    pub client: Client,
    #[allow(dead_code)]
    pub database_url: String,
    handle: actix_web::dev::ServerHandle,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status and returns it.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        let this = self.expect(status);
        assert_eq!(
            this.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let problem = this.json();
        assert_eq!(problem["status"], status);
        assert!(problem["title"].is_string() && problem["detail"].is_string());
        problem
    }
}

pub fn test_database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// Starts a server on a free port; its address and handle.
fn start_server(settings: Settings, db: Database) -> (String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::with_listener(settings, db, listener).expect("build app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    actix_web::rt::spawn(app.into_server());
    (address, handle)
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    /// A server with adjusted settings (rate limit, CORS, bootstrap token…).
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut ServerSettings)) -> Self {
        if std::env::var("TEST_LOG").is_ok() {
            meeting_registry::telemetry::init(false);
        }
        let (database_url, dir, postgres) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                let url = dir.path().join("registry.db").display().to_string();
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let admin_url = test_database_url();
                let name = format!("registry_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin_url} is needed for the postgres tests: {e}")
                });
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                let url = match admin_url.rfind('/') {
                    Some(i) => format!("{}/{name}", &admin_url[..i]),
                    None => panic!("TEST_DATABASE_URL has no database name: {admin_url}"),
                };
                (url, None, Some((admin_url, name)))
            }
        };
        let mut server = ServerSettings {
            workers: Some(1),
            rate_limit: 0,
            comment_rate_limit: 0,
            ..ServerSettings::default()
        };
        adjust(&mut server);
        let settings = Settings {
            database: DatabaseSettings {
                database_url: database_url.clone(),
                pool_size: 4,
            },
            server,
        };
        let db = Database::connect(&database_url, 4).expect("connect");
        db.migrate().expect("migrate");
        let token = |role: Role| {
            db.with_connection(|conn| {
                tokens::create(conn, &format!("test-{}", role.as_str()), role, None)
                    .map(|t| t.secret)
                    .map_err(|e| e.to_string())
            })
            .expect("create token")
        };
        let (admin, editor, reader) =
            (token(Role::Admin), token(Role::Editor), token(Role::Reader));
        let (address, handle) = start_server(settings, db);
        Self {
            address,
            admin,
            editor,
            reader,
            client: Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
            database_url,
            handle,
            _dir: dir,
            postgres,
        }
    }

    /// A second server process's worth of state (its own pool and cache) on this test's
    /// database, as a second replica behind a load balancer would be.
    #[allow(dead_code)]
    pub async fn replica(&self) -> TestApp {
        let settings = Settings {
            database: DatabaseSettings {
                database_url: self.database_url.clone(),
                pool_size: 4,
            },
            server: ServerSettings {
                workers: Some(1),
                rate_limit: 0,
                comment_rate_limit: 0,
                ..ServerSettings::default()
            },
        };
        let db = Database::connect(&self.database_url, 4).expect("connect");
        let (address, handle) = start_server(settings, db);
        Self {
            address,
            admin: self.admin.clone(),
            editor: self.editor.clone(),
            reader: self.reader.clone(),
            client: self.client.clone(),
            database_url: self.database_url.clone(),
            handle,
            _dir: None,
            postgres: None,
        }
    }

    /// The value of one series of this server's `/metrics`, named whole with its labels
    /// (`registry_generation_checks{answered_from="memory"}`).
    #[allow(dead_code)]
    pub async fn metric(&self, series: &str) -> u64 {
        let metrics = self.get("/metrics").await.expect(200);
        let text = String::from_utf8_lossy(&metrics.body).into_owned();
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {series} in {text}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Any request; `body` is sent as `content_type` when given.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        let sent = match body {
            Some((content_type, bytes)) => {
                request
                    .insert_header(("content-type", content_type))
                    .send_body(bytes)
                    .await
            }
            None => request.send().await,
        };
        let mut response = sent.unwrap_or_else(|e| panic!("request to {path} failed: {e}"));
        let body = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .unwrap_or_else(|e| panic!("reading {path}: {e}"));
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: body.to_vec(),
        }
    }

    /// An anonymous GET.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, &[], None).await
    }

    /// A GET that sends back the `X-Registry-Position` of `after` (a write's response), as a
    /// client that wants to read its own write through any server does.
    #[allow(dead_code)]
    pub async fn get_after(&self, path: &str, after: &TestResponse) -> TestResponse {
        let position = after
            .header("x-registry-position")
            .unwrap_or_else(|| panic!("the write (status {}) names no position", after.status));
        self.request(
            Method::GET,
            path,
            &[("x-registry-position", &position)],
            None,
        )
        .await
    }

    /// A GET with a token.
    pub async fn get_as(&self, token: &str, path: &str) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.request(Method::GET, path, &[("authorization", &auth)], None)
            .await
    }

    /// The `Authorization` header of the editor token, which the write helpers send.
    pub fn editor_auth(&self) -> String {
        format!("Bearer {}", self.editor)
    }

    /// Any request with the editor token (besides `headers`).
    pub async fn write(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let auth = self.editor_auth();
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.request(method, path, &all, body).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        let auth = self.editor_auth();
        self.request(
            Method::POST,
            path,
            &[("authorization", &auth)],
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        let auth = self.editor_auth();
        self.request(
            Method::PATCH,
            path,
            &[("authorization", &auth)],
            Some((
                "application/merge-patch+json",
                body.to_string().into_bytes(),
            )),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        let auth = self.editor_auth();
        self.request(Method::DELETE, path, &[("authorization", &auth)], None)
            .await
    }

    /// Creates a record and returns its body, failing the test unless it was created.
    pub async fn create(&self, path: &str, body: Value) -> Value {
        self.post(path, &body).await.expect(201).json()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting connections; the database goes with FORCE below.
        drop(self.handle.stop(false));
        if let Some((admin_url, name)) = self.postgres.take()
            && let Ok(mut admin) = PgConnection::establish(&admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// The string `field` of every item of a page.
#[allow(dead_code)]
pub fn item_fields(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i[field].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A valid event body to start from.
pub fn event_body(title: &str, start_date: &str) -> Value {
    serde_json::json!({
        "title": title,
        "kind": "meeting",
        "start_date": start_date,
        "timezone": "Europe/Tirane",
        "location": {"city": "Tirana", "country_code": "AL"},
    })
}
