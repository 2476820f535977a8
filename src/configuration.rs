//! The one place settings are read: command-line flags, each with an environment variable.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "meeting-registry",
    version,
    about = "The registry of record for institutional meetings and events"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub server: ServerSettings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API (the default).
    Serve {
        /// Import this bundle (idempotently) before serving, e.g. data/demo.json.
        #[arg(long, value_name = "FILE")]
        import: Option<String>,
    },
    /// Import a bundle of records (the format `export` writes), all or nothing.
    Import {
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// Print the whole registry as a bundle `import` reads.
    Export,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "registry.db",
        global = true
    )]
    pub database_url: String,
    /// Largest number of database connections.
    #[arg(long, env = "REGISTRY_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256), global = true)]
    pub pool_size: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServerSettings {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "REGISTRY_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,
    /// Origins allowed to call the API from a browser, comma-separated (`*` for any); none
    /// by default.
    #[arg(
        long,
        env = "REGISTRY_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "REGISTRY_WORKERS", global = true)]
    pub workers: Option<usize>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cors_origins: Vec::new(),
            workers: None,
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
}
