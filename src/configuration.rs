//! The one place settings are read: command-line flags, each with an environment variable.
//!
//! Every command declares only the flags it uses, so its `--help` is honest and a setting of
//! another command (`REGISTRY_BIND` in a container's environment, say) is never parsed by it.

use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};

use chrono::{NaiveDate, Utc};
use clap::builder::TypedValueParser;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::domain::enums::Role;
use crate::domain::text;
use crate::domain::time::parse_date;

#[derive(Debug, Parser)]
#[command(
    name = "meeting-registry",
    version,
    about = "The registry of record for institutional meetings and events",
    override_usage = "meeting-registry [COMMAND] [OPTIONS]",
    after_help = "Without a command, `serve` runs: `meeting-registry serve --help` lists its flags.\n\
                  Each command takes its own flags; one written before the command is passed to it."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API (the default).
    Serve(Box<ServeArgs>),
    /// Import a bundle of records (the format `export` writes), all or nothing: creates the
    /// records that are missing and leaves existing ones (matched by slug) as they are.
    Import(ImportArgs),
    /// Print the whole registry as a bundle `import` reads.
    Export(DatabaseLocation),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage calendar feed keys (`?key=` on the .ics feeds).
    #[command(subcommand)]
    FeedKey(FeedKeyCommand),
    /// Apply pending migrations and exit.
    Migrate(DatabaseLocation),
    /// Erase the email and IP address of comments older than the retention period now (a
    /// running server also does it hourly).
    PurgeComments(PurgeCommentsArgs),
    /// Move a whole registry into an empty database, e.g. from SQLite to PostgreSQL: ids,
    /// slugs, versions, tokens, feed keys and the audit log, in one transaction, verified
    /// table by table (row count and checksum). Stop the servers that write to the source
    /// first; the target must hold no records.
    MigrateData(MigrateDataArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Ask a running server whether it is ready (GET /readyz); exit 0 if so, 1 if not.
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PurgeCommentsArgs {
    #[command(flatten)]
    pub database: DatabaseLocation,
    /// Days a commenter's email and IP address are kept.
    #[arg(long, env = "REGISTRY_COMMENT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub comment_retention_days: u32,
}

#[derive(Debug, Clone, Args)]
pub struct MigrateDataArgs {
    /// The registry to copy: `postgres://…`, or a SQLite file path.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The empty database to fill: `postgres://…`, or a SQLite file path (created if missing).
    #[arg(long, value_name = "URL")]
    pub to: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseSettings,
    #[command(flatten)]
    pub server: ServerSettings,
    /// Import this bundle before serving, e.g. data/demo.json: creates the records that are
    /// missing and leaves existing ones as they are, so edits survive restarts.
    #[arg(long, value_name = "FILE")]
    pub import: Option<String>,
}

impl ServeArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            database: self.database.clone(),
            server: self.server.clone(),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub database: DatabaseLocation,
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Make existing records match the file, listing every field this overwrites.
    #[arg(long)]
    pub overwrite: bool,
    /// Check the file and show what the import would do, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only this once).
    Create(CreateTokenArgs),
    /// List tokens (never their secrets).
    List(DatabaseLocation),
    /// Revoke a token by id.
    Revoke(RevokeTokenArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CreateTokenArgs {
    #[command(flatten)]
    pub database: DatabaseLocation,
    /// What it may do: `reader` also sees internal records, `editor` also writes, `admin` also
    /// manages tokens and reads the audit log.
    #[arg(
        long,
        value_parser = clap::builder::PossibleValuesParser::new(["admin", "editor", "reader"])
            .try_map(|role: String| Role::parse(&role).ok_or_else(Role::expected))
    )]
    pub role: Role,
    /// Who or what uses it; shown in the audit log.
    #[arg(long, value_parser = token_name)]
    pub name: String,
    /// Last day the token works (YYYY-MM-DD, UTC; today or later); without it, it never
    /// expires.
    #[arg(long, value_name = "DATE", value_parser = last_day)]
    pub expires: Option<NaiveDate>,
}

#[derive(Debug, Subcommand)]
pub enum FeedKeyCommand {
    /// Create a feed key and print its secret (shown only this once).
    Create(CreateFeedKeyArgs),
    /// List feed keys (never their secrets).
    List(DatabaseLocation),
    /// Revoke a feed key by id.
    Revoke(RevokeTokenArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CreateFeedKeyArgs {
    #[command(flatten)]
    pub database: DatabaseLocation,
    /// Who or what uses it (whose calendar); shown in the audit log.
    #[arg(long, value_parser = token_name)]
    pub name: String,
    /// Last day the key works (YYYY-MM-DD, UTC; today or later); without it, it never
    /// expires.
    #[arg(long, value_name = "DATE", value_parser = last_day)]
    pub expires: Option<NaiveDate>,
}

#[derive(Debug, Clone, Args)]
pub struct RevokeTokenArgs {
    #[command(flatten)]
    pub database: DatabaseLocation,
    #[arg(value_name = "ID")]
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The URL to GET [default: /readyz on the address of --bind]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The server's listen address, used when --url is not given (0.0.0.0 and :: are asked
    /// on the loopback address).
    #[arg(
        long,
        env = "REGISTRY_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDRESS"
    )]
    pub bind: String,
}

impl HealthcheckArgs {
    pub fn url(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => crate::healthcheck::readiness_url(&self.bind),
        }
    }
}

/// Where the database is, for the commands other than `serve` (which also sizes its pool).
#[derive(Debug, Clone, Args)]
pub struct DatabaseLocation {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(long, env = "DATABASE_URL", default_value = "registry.db")]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(long, env = "DATABASE_URL", default_value = "registry.db")]
    pub database_url: String,
    /// Largest number of database connections.
    #[arg(long, env = "REGISTRY_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub pool_size: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServerSettings {
    /// Address and port to listen on (a host name such as localhost:8080 is resolved).
    #[arg(
        long,
        env = "REGISTRY_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDRESS",
        value_parser = listen_address
    )]
    pub bind: SocketAddr,
    /// Origins allowed to call the API from a browser, comma-separated (`*` for any); none
    /// by default.
    #[arg(long, env = "REGISTRY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "REGISTRY_WORKERS", value_parser = worker_count)]
    pub workers: Option<usize>,
    /// Requests per second per client (token, else IP), bursts of twice that; 0 turns
    /// limiting off.
    #[arg(long, env = "REGISTRY_RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,
    /// Memory for cached representations, in MiB (0 turns the cache off). Entries are checked
    /// against the registry's generation on every read (on PostgreSQL as notified by each
    /// write, on SQLite as the file's WAL index shows), so the cache serves no record older
    /// than the writes the process knows of, nor than the position a request sends back.
    #[arg(long, env = "REGISTRY_CACHE_MB", default_value_t = 16, value_parser = clap::value_parser!(u64).range(0..=65536))]
    pub cache_mb: u64,
    /// Memory for whole pages of lists (events, outcomes, organisations, people, programmes,
    /// publications, chains, networks, members, conflicts), in MiB (0 turns page caching off).
    /// A page is kept under its path and query (and the day, where the list changes with it) and
    /// checked against the registry's generation as a record is, so a list polled by many
    /// clients is read once per write.
    #[arg(long, env = "REGISTRY_PAGE_CACHE_MB", default_value_t = 8, value_parser = clap::value_parser!(u64).range(0..=65536))]
    pub page_cache_mb: u64,
    /// An admin token to create on start if it does not exist (at least 32 characters), so a
    /// container can be administered without exec-ing into it.
    #[arg(long, env = "REGISTRY_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Days the change feed (`/api/v1/changes`) keeps a change; a cursor older than that gets
    /// 410 and the client resyncs. Older changes are dropped at start and every hour.
    #[arg(long, env = "REGISTRY_CHANGES_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub changes_retention_days: u32,
    /// The registry's public base URL (http or https, no query): calendar feeds link each
    /// event under it, and its host makes each event's calendar UID unique
    /// (`<event id>@<host>`). Set it before calendars subscribe: a new host gives every event
    /// a new UID.
    #[arg(
        long,
        env = "REGISTRY_PUBLIC_URL",
        default_value = PublicUrl::DEFAULT,
        value_name = "URL",
        value_parser = PublicUrl::parse
    )]
    pub public_url: PublicUrl,
    /// Allow webhook targets on private, loopback, link-local, unspecified or multicast
    /// addresses (refused by default: a registry inside a network must not be made to reach
    /// into it). For tests and closed networks.
    #[arg(
        long,
        env = "REGISTRY_WEBHOOK_ALLOW_PRIVATE",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub webhook_allow_private: bool,
    /// How often the webhook dispatcher looks for new changes and due deliveries, in
    /// milliseconds.
    #[arg(long, env = "REGISTRY_WEBHOOK_POLL_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub webhook_poll_ms: u64,
    /// The wait before a failed webhook delivery's first retry, in milliseconds; each later
    /// retry waits twice as long (with jitter), up to 10 hours.
    #[arg(long, env = "REGISTRY_WEBHOOK_FIRST_RETRY_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_first_retry_ms: u64,
    /// A webhook whose deliveries have all failed for this many seconds is disabled.
    #[arg(long, env = "REGISTRY_WEBHOOK_DISABLE_AFTER_SECONDS", default_value_t = 86400, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub webhook_disable_after_seconds: u64,
    /// Comments one client (token, else IP address) may post per minute, all at once at most;
    /// more are refused with 429. 0 turns this limit off.
    #[arg(long, env = "REGISTRY_COMMENT_RATE_LIMIT", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub comment_rate_limit: u32,
    /// Days a commenter's email and IP address are kept; older ones are erased at start and
    /// hourly (the comment itself stays).
    #[arg(long, env = "REGISTRY_COMMENT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub comment_retention_days: u32,
    /// PostgreSQL standbys that answer reads, comma-separated `postgres://` URLs (the flag
    /// may be repeated). Writes, and reads that must be fresh, go to DATABASE_URL; a standby
    /// that is down or lags beyond REGISTRY_READ_MAX_LAG_MS is skipped until it recovers.
    #[arg(
        long = "read-database-url",
        env = "DATABASE_READ_URLS",
        value_delimiter = ',',
        value_name = "URL",
        hide_env_values = true
    )]
    pub read_database_urls: Vec<String>,
    /// Proxies (IP addresses or networks such as `10.0.0.0/8`, comma-separated; the flag may
    /// be repeated) whose `X-Forwarded-For` names the client: a request from one of them counts
    /// against the client's comment limit and request limit, and the client's address is the
    /// one a comment keeps and the request log shows. The header is read from the right, past
    /// every trusted proxy. None by default: the peer is the client and the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "REGISTRY_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "IP|CIDR",
        value_parser = crate::client_ip::parse_proxy
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The largest lag, in milliseconds, at which a standby still answers reads.
    #[arg(long, env = "REGISTRY_READ_MAX_LAG_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub read_max_lag_ms: u64,
    /// Where each process LISTENs for writes on PostgreSQL (default: DATABASE_URL). Set it to
    /// a direct connection to the primary when DATABASE_URL goes through a pooler in
    /// transaction mode, which cannot keep a LISTEN.
    #[arg(
        long = "listen-database-url",
        env = "DATABASE_LISTEN_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub listen_database_url: Option<String>,
    /// Seconds the server keeps serving after SIGTERM or SIGINT while `/readyz` answers 503,
    /// so a load balancer takes it out of rotation first; then in-flight requests finish and it
    /// stops. 0 stops at once.
    #[arg(long, env = "REGISTRY_DRAIN_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub drain_seconds: u64,
    /// The server's clock: the system's, unless a test set one.
    #[arg(skip)]
    pub clock: crate::clock::Clock,
}

/// Where clients reach the registry (`REGISTRY_PUBLIC_URL`), checked at start: `http` or
/// `https`, a host, no user, query or fragment; kept without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    base: String,
    host: String,
}

impl PublicUrl {
    pub const DEFAULT: &str = "http://localhost:8080";

    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| {
            format!("not a URL ({e}): write the registry's public address, e.g. https://registry.example.org")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the scheme must be http or https, not {}",
                url.scheme()
            ));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err("the URL has no host".to_owned());
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the URL must not hold a user or password".to_owned());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the URL must not have a query or fragment".to_owned());
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let base = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { base, host })
    }

    /// The base, without a trailing slash: `https://registry.example.org`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The host alone: `registry.example.org`.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl Default for PublicUrl {
    fn default() -> Self {
        Self {
            base: Self::DEFAULT.to_owned(),
            host: "localhost".to_owned(),
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cors_origins: Vec::new(),
            workers: None,
            rate_limit: 50,
            cache_mb: 16,
            page_cache_mb: 8,
            admin_token: None,
            changes_retention_days: 90,
            public_url: PublicUrl::default(),
            webhook_allow_private: false,
            webhook_poll_ms: 500,
            webhook_first_retry_ms: 5000,
            webhook_disable_after_seconds: 86400,
            comment_rate_limit: 5,
            comment_retention_days: 90,
            read_database_urls: Vec::new(),
            read_max_lag_ms: 1000,
            trusted_proxies: Vec::new(),
            listen_database_url: None,
            drain_seconds: 5,
            clock: crate::clock::Clock::default(),
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
}

impl Cli {
    /// Parses the command line, with `serve` when no command is named and flags written before
    /// the command moved after it. Returns the notes to print about flags the command does
    /// not take (ignored, since nothing of theirs runs).
    pub fn parse_arguments(
        args: impl IntoIterator<Item = OsString>,
    ) -> Result<(Self, Vec<String>), clap::Error> {
        let (args, notes) = arrange(&Self::command(), args.into_iter().collect());
        let matches = Self::command().try_get_matches_from(args)?;
        Ok((Self::from_arg_matches(&matches)?, notes))
    }
}

/// Rewrites `meeting-registry [FLAGS] [COMMAND [SUBCOMMAND]] [ARGS]` as
/// `meeting-registry COMMAND [SUBCOMMAND] [FLAGS it takes] [ARGS]`, with `serve` as the
/// command when none is named. Anything it does not recognise is left as it was, for clap to
/// explain.
fn arrange(root: &clap::Command, args: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    let Some((program, rest)) = args.split_first() else {
        return (args, Vec::new());
    };
    let mut arranged = vec![program.clone()];
    let mut path = Vec::new();
    let mut leading: Vec<(String, &[OsString])> = Vec::new();
    let mut command = root;
    let mut i = 0;
    loop {
        while let Some(flag) = rest.get(i).and_then(|a| a.to_str()) {
            let Some(name) = flag.strip_prefix("--").filter(|n| !n.is_empty()) else {
                break;
            };
            let name = name.split('=').next().unwrap_or(name);
            let Some(arg) = find_flag(command, name) else {
                return (args, Vec::new());
            };
            let width = if arg.get_action().takes_values() && !flag.contains('=') {
                2
            } else {
                1
            };
            let Some(tokens) = rest.get(i..i + width) else {
                return (args, Vec::new());
            };
            leading.push((name.to_owned(), tokens));
            i += width;
        }
        let named = rest
            .get(i)
            .and_then(|a| a.to_str())
            .and_then(|name| command.find_subcommand(name));
        match named {
            Some(sub) => {
                path.push(sub.get_name().to_owned());
                command = sub;
                i += 1;
                if !command.has_subcommands() {
                    break;
                }
            }
            None if path.is_empty() && i == rest.len() => {
                path.push("serve".to_owned());
                command = match root.find_subcommand("serve") {
                    Some(serve) => serve,
                    None => return (args, Vec::new()),
                };
                break;
            }
            None => return (args, Vec::new()),
        }
    }
    arranged.extend(path.iter().map(OsString::from));
    let mut notes = Vec::new();
    for (name, tokens) in leading {
        if command.get_arguments().any(|a| a.get_long() == Some(&name)) {
            arranged.extend(tokens.iter().cloned());
        } else {
            notes.push(format!(
                "--{name} is not a flag of `{}`: ignored",
                path.join(" ")
            ));
        }
    }
    arranged.extend(rest[i..].iter().cloned());
    (arranged, notes)
}

/// A flag of `command` or of any command below it.
fn find_flag<'a>(command: &'a clap::Command, long: &str) -> Option<&'a clap::Arg> {
    command
        .get_arguments()
        .find(|a| a.get_long() == Some(long))
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub| find_flag(sub, long))
        })
}

fn listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse() {
        return Ok(address);
    }
    let resolved = text.to_socket_addrs().map_err(|e| {
        format!("not an address and port such as 127.0.0.1:8080 or localhost:8080 ({e})")
    })?;
    resolved
        .into_iter()
        .next()
        .ok_or_else(|| format!("{text} resolves to no address"))
}

fn worker_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be a whole number of threads, at least 1".to_owned()),
    }
}

/// A token's name: the API's rules (trimmed, not empty, one line of at most 100 characters).
fn token_name(text: &str) -> Result<String, String> {
    let mut errors = Vec::new();
    let name = text::required_line("name", text, 100, &mut errors);
    match errors.into_iter().next() {
        Some(error) => Err(error.message),
        None => Ok(name),
    }
}

/// The last day a token works: a real date, today (UTC) or later.
fn last_day(text: &str) -> Result<NaiveDate, String> {
    let day = parse_date(text)?;
    let today = Utc::now().date_naive();
    if day < today {
        return Err(format!(
            "{day} is in the past (today is {today}, UTC): a token would be expired at once"
        ));
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arranged(line: &str) -> (String, Vec<String>) {
        let args = line.split_whitespace().map(OsString::from).collect();
        let (args, notes) = arrange(&Cli::command(), args);
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        (args.join(" "), notes)
    }

    #[test]
    fn no_command_means_serve() {
        assert_eq!(arranged("mr").0, "mr serve");
        assert_eq!(
            arranged("mr --bind 0.0.0.0:80 --import x.json").0,
            "mr serve --bind 0.0.0.0:80 --import x.json"
        );
    }

    #[test]
    fn flags_before_the_command_are_passed_to_it() {
        assert_eq!(
            arranged("mr --database-url x.db token list").0,
            "mr token list --database-url x.db"
        );
        assert_eq!(
            arranged("mr --database-url=x.db token create --role admin").0,
            "mr token create --database-url=x.db --role admin"
        );
        assert_eq!(
            arranged("mr --bind 0.0.0.0:80 serve --workers 2").0,
            "mr serve --bind 0.0.0.0:80 --workers 2"
        );
    }

    #[test]
    fn flags_the_command_does_not_take_are_ignored_with_a_note() {
        let (args, notes) = arranged("mr --bind nonsense token list");
        assert_eq!(args, "mr token list");
        assert_eq!(notes, ["--bind is not a flag of `token list`: ignored"]);
    }

    #[test]
    fn what_is_not_understood_is_left_to_clap() {
        assert_eq!(
            arranged("mr --bnid x token list").0,
            "mr --bnid x token list"
        );
        assert_eq!(arranged("mr --help").0, "mr --help");
        assert_eq!(arranged("mr tokn list").0, "mr tokn list");
        assert_eq!(arranged("mr token").0, "mr token");
    }

    #[test]
    fn token_flags_are_checked() {
        assert!(token_name("  ").is_err());
        assert_eq!(token_name(" ci ").as_deref(), Ok("ci"));
        assert!(last_day("2001-01-01").is_err_and(|e| e.contains("in the past")));
        assert!(last_day("2001-02-30").is_err());
        let today = Utc::now().date_naive();
        assert_eq!(last_day(&today.to_string()), Ok(today));
    }

    #[test]
    fn public_urls_are_checked() {
        let url = PublicUrl::parse("https://registry.example.org/").expect("valid");
        assert_eq!(url.base(), "https://registry.example.org");
        assert_eq!(url.host(), "registry.example.org");
        assert_eq!(
            PublicUrl::parse(PublicUrl::DEFAULT),
            Ok(PublicUrl::default())
        );
        let under = PublicUrl::parse("http://example.org:8080/registry").expect("valid");
        assert_eq!(under.base(), "http://example.org:8080/registry");
        for bad in [
            "registry.example.org",
            "ftp://x.org",
            "https://x.org/?a=1",
            "http://u@x.org",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
