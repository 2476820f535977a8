use std::process::ExitCode;

use meeting_registry::bulk::{ImportMode, ImportOptions};
use meeting_registry::configuration::{Cli, Command, Settings};
use meeting_registry::db::Database;
use meeting_registry::startup::Application;
use meeting_registry::{bulk, healthcheck, openapi, telemetry};

fn main() -> ExitCode {
    keep_freed_memory();
    let (cli, notes) = match Cli::parse_arguments(std::env::args_os()) {
        Ok(parsed) => parsed,
        Err(error) => error.exit(),
    };
    for note in notes {
        eprintln!("meeting-registry: {note}");
    }
    let result = match cli.command {
        Command::Openapi => write_out(&openapi::document_json()),
        Command::Healthcheck(args) => {
            healthcheck::check(&args.url()).and_then(|ok| write_out(&format!("{ok}\n")))
        }
        Command::Migrate(database) => {
            telemetry::init(false);
            Database::connect(&database.database_url, 1)
                .and_then(|db| db.migrate())
                .map(|applied| tracing::info!(applied, "migrations applied"))
        }
        Command::Serve(args) => {
            // Writes out the log lines still waiting when the server has stopped.
            let _log = telemetry::init_server(false);
            let settings = args.settings();
            match args.import {
                Some(file) => {
                    // Never overwrites: edits made since the last start survive.
                    import_then(
                        &settings.database.database_url,
                        &file,
                        ImportOptions::default(),
                    )
                    .map(|report| eprint!("{report}"))
                    .and_then(|()| serve(settings))
                }
                None => serve(settings),
            }
        }
        Command::Import(args) => {
            telemetry::init(false);
            let mode = if args.overwrite {
                ImportMode::Overwrite
            } else {
                ImportMode::KeepExisting
            };
            let options = ImportOptions {
                mode,
                dry_run: args.dry_run,
            };
            import_then(&args.database.database_url, &args.file, options)
                .and_then(|report| write_out(&report))
        }
        Command::Token(command) => open(meeting_registry::cli::token_database(&command))
            .and_then(|db| meeting_registry::cli::token(&db, command))
            .and_then(|(output, about)| {
                if let Some(about) = about {
                    eprintln!("{about}");
                }
                write_out(&output)
            }),
        Command::FeedKey(command) => open(meeting_registry::cli::feed_key_database(&command))
            .and_then(|db| meeting_registry::cli::feed_key(&db, command))
            .and_then(|(output, about)| {
                if let Some(about) = about {
                    eprintln!("{about}");
                }
                write_out(&output)
            }),
        Command::MigrateData(args) => {
            if args.from == args.to {
                Err("--from and --to name the same database".to_owned())
            } else {
                open_existing(&args.from).and_then(|from| {
                    open(&args.to).and_then(|to| {
                        bulk::move_data::move_registry(&from, &to)
                            .and_then(|report| write_out(&report.to_string()))
                    })
                })
            }
        }
        Command::PurgeComments(args) => open(&args.database.database_url)
            .and_then(|db| {
                db.with_connection(|conn| {
                    meeting_registry::cli::purge_comment_contacts(
                        conn,
                        args.comment_retention_days,
                        chrono::Utc::now(),
                    )
                    .map_err(|e| e.problem().detail)
                })
            })
            .and_then(|purged| {
                write_out(&format!(
                    "erased the contact details of {purged} comments older than {} days\n",
                    args.comment_retention_days
                ))
            }),
        Command::Export(database) => open_existing(&database.database_url)
            .and_then(|db| bulk::export_json(&db))
            .and_then(|json| write_out(&json)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("meeting-registry: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Writes a command's output to standard output. A reader that stops reading early
/// (`meeting-registry openapi | head`) ends the output quietly, as it ends other tools'; any
/// other failure to write (a full disk) fails the command with a message, never a panic.
fn write_out(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write the output: {e}")),
    }
}

/// A connection for a command-line tool, the schema brought up to date.
fn open(url: &str) -> Result<Database, String> {
    let db = Database::connect(url, 1)?;
    db.migrate()?;
    Ok(db)
}

/// [`open`] for a command that reads a registry: one that is not there is an error, not a new
/// empty database (see [`Database::connect_existing`]).
fn open_existing(url: &str) -> Result<Database, String> {
    let db = Database::connect_existing(url, 1)?;
    db.migrate()?;
    Ok(db)
}

/// Imports `file`; returns the report to print.
fn import_then(database_url: &str, file: &str, options: ImportOptions) -> Result<String, String> {
    let db = open(database_url)?;
    let report = bulk::import_file(&db, file, options)?;
    Ok(report.render(file))
}

fn serve(settings: Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let bind = settings.server.bind;
        let app = Application::build(settings)?;
        tracing::info!(%bind, "meeting-registry listening");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

/// Keeps memory the process freed for its next use instead of handing it back to the kernel
/// at once. A list page's body is large: with glibc's defaults each one was carved out of pages
/// the previous request had just returned, so every page of every body was faulted in and
/// zeroed again (BENCHMARKS.md has the measurement). Freed memory past the trim threshold at
/// the top of a heap is still returned, and blocks past the mmap threshold are still mapped
/// apart.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; it runs before any thread is started.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 8 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}
