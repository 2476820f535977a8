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
        /// Import this bundle before serving, e.g. data/demo.json: creates the records that
        /// are missing and leaves existing ones as they are, so edits survive restarts.
        #[arg(long, value_name = "FILE")]
        import: Option<String>,
    },
    /// Import a bundle of records (the format `export` writes), all or nothing: creates the
    /// records that are missing and leaves existing ones (matched by slug) as they are.
    Import {
        #[arg(value_name = "FILE")]
        file: String,
        /// Make existing records match the file, listing every field this overwrites.
        #[arg(long)]
        overwrite: bool,
        /// Check the file and show what the import would do, writing nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the whole registry as a bundle `import` reads.
    Export,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only this once).
    Create {
        #[arg(long, value_parser = ["admin", "editor", "reader"])]
        role: String,
        /// Who or what uses it; shown in the audit log.
        #[arg(long)]
        name: String,
        /// Last day the token works (YYYY-MM-DD, UTC).
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke {
        #[arg(value_name = "ID")]
        id: String,
    },
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
    /// Requests per second per client (token, else IP), bursts of twice that; 0 turns
    /// limiting off.
    #[arg(long, env = "REGISTRY_RATE_LIMIT", default_value_t = 50, global = true)]
    pub rate_limit: u32,
    /// Memory for cached representations, in MiB (0 turns the cache off). Entries are checked
    /// against the database's generation on every read, so the cache never serves a record
    /// older than the last committed write.
    #[arg(long, env = "REGISTRY_CACHE_MB", default_value_t = 16, value_parser = clap::value_parser!(u64).range(0..=65536), global = true)]
    pub cache_mb: u64,
    /// An admin token to create on start if it does not exist (at least 32 characters), so a
    /// container can be administered without exec-ing into it.
    #[arg(
        long,
        env = "REGISTRY_ADMIN_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cors_origins: Vec::new(),
            workers: None,
            rate_limit: 50,
            cache_mb: 16,
            admin_token: None,
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
}
