use std::process::ExitCode;

use clap::Parser;
use meeting_registry::configuration::{Cli, Command, Settings};
use meeting_registry::db::Database;
use meeting_registry::startup::Application;
use meeting_registry::{openapi, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Openapi => {
            print!("{}", openapi::document_json());
            Ok(())
        }
        Command::Migrate => {
            telemetry::init(false);
            Database::connect(&cli.database.database_url, cli.database.pool_size)
                .and_then(|db| db.migrate())
                .map(|applied| tracing::info!(applied, "migrations applied"))
        }
        Command::Serve => {
            telemetry::init(false);
            serve(Settings {
                database: cli.database,
                server: cli.server,
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("meeting-registry: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let bind = settings.server.bind;
        let app = Application::build(settings)?;
        tracing::info!(%bind, "meeting-registry listening");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}
