//! The command-line tools, run as a user runs them: the built binary, with only the
//! environment each test gives it, against the test's database.

use std::process::{Command, Output};

use chrono::{Duration, Utc};

use crate::helpers::{Backend, TestApp};
use crate::move_data::EmptyPostgres;
use crate::on_both_backends;

const BINARY: &str = env!("CARGO_BIN_EXE_meeting-registry");

/// The settings a developer's shell or a container may have set, cleared so each test says
/// what it gives.
const SETTINGS: [&str; 9] = [
    "DATABASE_URL",
    "REGISTRY_BIND",
    "REGISTRY_POOL_SIZE",
    "REGISTRY_WORKERS",
    "REGISTRY_RATE_LIMIT",
    "REGISTRY_CORS_ORIGINS",
    "REGISTRY_CACHE_MB",
    "REGISTRY_ADMIN_TOKEN",
    "RUST_LOG",
];

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the binary off the test's runtime (the test server answers on that runtime's
/// threads).
async fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(BINARY);
    command.args(args);
    for name in SETTINGS {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output: Output = actix_web::rt::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .expect("the binary runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `token list` on the test's database: the rows below the header.
async fn token_rows(app: &TestApp) -> Vec<String> {
    let listed = run(&["token", "list", "--database-url", &app.database_url], &[]).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    listed.stdout.lines().skip(1).map(str::to_owned).collect()
}

#[actix_web::test]
async fn each_command_lists_only_the_flags_it_uses() {
    let help = |args: &'static [&'static str]| run(args, &[]);
    for args in [
        &["token", "create", "--help"][..],
        &["token", "list", "--help"],
        &["import", "--help"],
        &["export", "--help"],
        &["migrate", "--help"],
    ] {
        let shown = help(args).await;
        assert_eq!(shown.code, Some(0), "{args:?}: {}", shown.stderr);
        assert!(
            shown.stdout.contains("--database-url"),
            "{args:?}: {}",
            shown.stdout
        );
        for server_flag in [
            "--bind",
            "--workers",
            "--rate-limit",
            "--cors-origins",
            "--cache-mb",
            "--admin-token",
        ] {
            assert!(
                !shown.stdout.contains(server_flag),
                "{args:?} lists {server_flag}:\n{}",
                shown.stdout
            );
        }
    }
    let serve = help(&["serve", "--help"]).await.stdout;
    for flag in [
        "--bind",
        "--workers",
        "--pool-size",
        "--database-url",
        "--import",
    ] {
        assert!(serve.contains(flag), "serve --help lacks {flag}:\n{serve}");
    }
    let top = help(&["--help"]).await.stdout;
    assert!(top.contains("Without a command, `serve` runs"), "{top}");
}

#[actix_web::test]
async fn output_ends_quietly_when_its_reader_stops_and_says_when_it_cannot_be_written() {
    // `meeting-registry openapi | head -c 100`: the document is far larger than a pipe holds,
    // so the command is still writing when its reader goes away.
    let stopped = actix_web::rt::task::spawn_blocking(|| {
        use std::io::Read;
        let mut command = Command::new(BINARY);
        command
            .arg("openapi")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("the binary runs");
        let mut head = [0u8; 100];
        child
            .stdout
            .take()
            .expect("its output")
            .read_exact(&mut head)
            .expect("the start of the document");
        let output = child.wait_with_output().expect("the command ends");
        (head, output)
    })
    .await
    .expect("the command's thread");
    let (head, output) = stopped;
    assert!(String::from_utf8_lossy(&head).contains("openapi"));
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    // A full disk is a failure, said in one line.
    let full = actix_web::rt::task::spawn_blocking(|| {
        Command::new(BINARY)
            .arg("openapi")
            .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
            .output()
    })
    .await
    .expect("the command's thread")
    .expect("the binary runs");
    assert_eq!(full.status.code(), Some(1));
    let said = String::from_utf8_lossy(&full.stderr);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("meeting-registry: cannot write the output: "),
        "{said}"
    );
}

async fn token_commands_ignore_the_server_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let garbage = [
        ("REGISTRY_BIND", "nonsense"),
        ("REGISTRY_WORKERS", "many"),
        ("REGISTRY_POOL_SIZE", "0"),
    ];
    let listed = run(
        &[
            "--bind",
            "nonsense",
            "token",
            "list",
            "--database-url",
            &app.database_url,
        ],
        &garbage,
    )
    .await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    assert_eq!(
        listed.stderr.trim(),
        "meeting-registry: --bind is not a flag of `token list`: ignored"
    );
    assert!(listed.stdout.contains("test-admin"), "{}", listed.stdout);
    // A database flag written before the command is the command's own.
    let before = run(
        &["--database-url", &app.database_url, "token", "list"],
        &garbage,
    )
    .await;
    assert_eq!(before.code, Some(0), "{}", before.stderr);
    assert_eq!(before.stdout, listed.stdout);
}

async fn token_create_refuses_an_empty_name_and_a_past_date(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database_url.as_str();
    let before = token_rows(&app).await;
    let yesterday = (Utc::now().date_naive() - Duration::days(1)).to_string();
    let refusals = [
        (
            vec!["--role", "editor", "--name", ""],
            "'--name <NAME>': must not be empty",
        ),
        (
            vec!["--role", "editor", "--name", "   "],
            "'--name <NAME>': must not be empty",
        ),
        (
            vec!["--role", "editor", "--name", "ci", "--expires", &yesterday],
            "is in the past",
        ),
        (
            vec![
                "--role",
                "editor",
                "--name",
                "ci",
                "--expires",
                "2030-02-30",
            ],
            "is not a real date",
        ),
        (
            vec!["--role", "owner", "--name", "ci"],
            "invalid value 'owner' for '--role <ROLE>'",
        ),
    ];
    for (flags, said) in refusals {
        let mut args = vec!["token", "create", "--database-url", url];
        args.extend(flags.iter().copied());
        let refused = run(&args, &[]).await;
        assert_eq!(
            refused.code,
            Some(2),
            "{args:?} was accepted: {}",
            refused.stdout
        );
        let first = refused.stderr.lines().next().unwrap_or_default();
        assert!(first.contains(said), "{args:?}: {}", refused.stderr);
        assert!(refused.stdout.is_empty(), "{args:?} printed a secret");
    }
    assert_eq!(token_rows(&app).await, before, "a refused token was stored");
}

async fn token_list_is_a_table_with_expiry_and_state(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = app.database_url.as_str();
    let last_day = (Utc::now().date_naive() + Duration::days(30)).to_string();
    let created = run(
        &[
            "token",
            "create",
            "--database-url",
            url,
            "--role",
            "admin",
            "--name",
            "  partner sync ",
            "--expires",
            &last_day,
        ],
        &[],
    )
    .await;
    assert_eq!(created.code, Some(0), "{}", created.stderr);
    let secret = created.stdout.trim();
    assert!(
        secret.starts_with("mr_") && !secret.contains(char::is_whitespace),
        "{secret}"
    );
    assert!(
        created
            .stderr
            .contains(&format!("works through {last_day}")),
        "{}",
        created.stderr
    );
    // The secret works, with the role and name given.
    let tokens = app
        .get_as(secret, "/api/v1/tokens")
        .await
        .expect(200)
        .json();
    let listed = tokens["items"].as_array().cloned().unwrap_or_default();
    let mine = listed
        .iter()
        .find(|t| t["name"] == "partner sync")
        .unwrap_or_else(|| panic!("the new token is not listed: {tokens}"));
    let id = mine["id"].as_str().unwrap_or_default().to_owned();
    for _ in 0..2 {
        app.get_as(secret, "/api/v1/tokens").await.expect(200);
    }
    let revoked = run(&["token", "revoke", "--database-url", url, &id], &[]).await;
    assert_eq!(revoked.code, Some(0), "{}", revoked.stderr);
    // The server kept the token it checked above; the command, another process, revoked it:
    // refused at once on SQLite (the file's WAL index shows the commit), once the trigger's
    // notification has arrived on PostgreSQL.
    let mut status = 0;
    for _ in 0..100 {
        status = app.get_as(secret, "/api/v1/tokens").await.status.as_u16();
        if status == 401 || backend == Backend::Sqlite {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, 401, "a revoked token still works");

    let table = run(&["token", "list", "--database-url", url], &[]).await;
    assert_eq!(table.code, Some(0), "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    let header: Vec<&str> = lines[0]
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        ["ID", "NAME", "ROLE", "CREATED (UTC)", "LAST DAY", "STATE"]
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("no row for {id}:\n{}", table.stdout));
    assert!(
        row.contains("partner sync") && row.contains(" admin "),
        "{row}"
    );
    assert!(row.contains(&last_day) && row.contains("revoked "), "{row}");
    let editor = lines
        .iter()
        .find(|l| l.contains("test-editor"))
        .unwrap_or_else(|| panic!("no test-editor row:\n{}", table.stdout));
    assert!(
        editor.contains(" never ") && editor.ends_with("active"),
        "{editor}"
    );
    // The columns line up under the header.
    let state_column = lines[0].find("STATE");
    assert_eq!(row.find("revoked"), state_column, "\n{}", table.stdout);
}

async fn a_database_that_cannot_be_opened_is_named(backend: Backend) {
    let (url, shown, why) = match backend {
        Backend::Sqlite => (
            "/no/such/folder/registry.db".to_owned(),
            "/no/such/folder/registry.db".to_owned(),
            "the folder /no/such/folder does not exist",
        ),
        Backend::Postgres => {
            // A port nothing listens on.
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            (
                format!("postgres://registry:hunter2@127.0.0.1:{port}/registry"),
                format!("postgres://registry@127.0.0.1:{port}/registry"),
                "Connection refused",
            )
        }
    };
    for args in [
        vec!["token", "list", "--database-url", &url],
        vec!["migrate", "--database-url", &url],
        vec!["export", "--database-url", &url],
    ] {
        let failed = run(&args, &[]).await;
        assert_eq!(failed.code, Some(1), "{args:?}");
        let said = failed.stderr.trim_end();
        assert!(
            !said.contains('\n'),
            "{args:?} said more than one line: {said}"
        );
        assert!(
            said.starts_with(&format!(
                "meeting-registry: cannot open the database {shown}: "
            )),
            "{args:?}: {said}"
        );
        assert!(said.contains(why), "{args:?}: {said}");
        assert!(
            !said.contains("hunter2"),
            "{args:?} showed the password: {said}"
        );
    }
}

async fn healthcheck_says_whether_the_server_is_ready(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ready = run(&["healthcheck", "--url", &app.url("/readyz")], &[]).await;
    assert_eq!(ready.code, Some(0), "{}", ready.stderr);
    assert!(ready.stdout.contains("200"), "{}", ready.stdout);
    // Without --url it asks /readyz on REGISTRY_BIND, an unspecified address on loopback.
    let port = app.address.rsplit(':').next().unwrap_or_default();
    let bind = format!("0.0.0.0:{port}");
    let from_bind = run(&["healthcheck"], &[("REGISTRY_BIND", &bind)]).await;
    assert_eq!(from_bind.code, Some(0), "{}", from_bind.stderr);

    let missing = run(&["healthcheck", "--url", &app.url("/no-such-page")], &[]).await;
    assert_eq!(missing.code, Some(1));
    assert!(missing.stderr.contains("404"), "{}", missing.stderr);

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let refused = run(&["healthcheck", "--bind", &closed.to_string()], &[]).await;
    assert_eq!(refused.code, Some(1));
    let said = refused.stderr.trim_end();
    assert!(!said.contains('\n'), "{said}");
    assert!(
        said.starts_with(&format!(
            "meeting-registry: healthcheck http://{closed}/readyz: cannot connect"
        )),
        "{said}"
    );
}

/// `export` and `migrate-data --from` read a registry: a mistyped SQLite path or a database
/// the registry was never migrated into is refused, and nothing is made there (before, both
/// created an empty registry and "moved" or exported its nothing, exit code 0).
async fn a_command_that_reads_a_registry_does_not_make_one(backend: Backend) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let target = dir.path().join("target.db");
    let target = target.to_str().expect("a UTF-8 path");
    let empty_postgres;
    let (source, why) = match backend {
        Backend::Sqlite => (
            dir.path()
                .join("mistyped.db")
                .to_str()
                .expect("a UTF-8 path")
                .to_owned(),
            "no such file",
        ),
        Backend::Postgres => {
            empty_postgres = EmptyPostgres::new();
            (empty_postgres.url.clone(), "holds no registry")
        }
    };
    for args in [
        vec!["export", "--database-url", &source],
        vec!["migrate-data", "--from", &source, "--to", target],
    ] {
        let failed = run(&args, &[]).await;
        assert_eq!(failed.code, Some(1), "{args:?}: {}", failed.stdout);
        assert_eq!(failed.stdout, "", "{args:?}");
        let said = failed.stderr.trim_end();
        assert!(
            !said.contains('\n'),
            "{args:?} said more than one line: {said}"
        );
        assert!(said.contains(why), "{args:?}: {said}");
    }
    assert!(!std::path::Path::new(target).exists(), "a target was made");
    match backend {
        Backend::Sqlite => assert!(
            !std::path::Path::new(&source).exists(),
            "a file was made at the mistyped path"
        ),
        Backend::Postgres => {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Tables {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let mut conn = diesel::PgConnection::establish(&source).expect("the empty database");
            let tables = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'",
            )
            .get_result::<Tables>(&mut conn)
            .expect("count tables");
            assert_eq!(tables.n, 0, "tables were made in the empty database");
        }
    }
}

on_both_backends!(
    token_commands_ignore_the_server_settings,
    token_create_refuses_an_empty_name_and_a_past_date,
    token_list_is_a_table_with_expiry_and_state,
    a_database_that_cannot_be_opened_is_named,
    healthcheck_says_whether_the_server_is_ready,
    a_command_that_reads_a_registry_does_not_make_one,
);
