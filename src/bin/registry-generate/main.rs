//! `registry-generate`: fills a registry with realistic, rule-abiding records for benchmarks.
//!
//! ```text
//! cargo run --release --bin registry-generate -- --database-url bench.db --events 100000 --seed 7
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench target/release/registry-generate --events 1000000
//! ```
//!
//! It writes ~200 organisations (some with parents), ~2,000 people, ~30 networks with members,
//! ~40 programmes (funding programmes and the projects and actions under them), and N events over 2006–2026: Western Balkan and EU cities with their IANA zones and country
//! codes, 1–3 organisers and 0–5 participants each (20 regulars chair 30% of the meetings a
//! person chairs), topics, network series whose numbers rise with their dates, sessions inside
//! forums, chains of 2–3 back-to-back events in one city, ~5% internal and ~3% cancelled, ~20%
//! implemented under a programme whose period covers them; then a publication per 50 events and
//! 1–3 outcomes for ~35% of them (`documents`).
//!
//! Organisations, people, networks and memberships go through the store's own `create`
//! functions, so they are exactly what the API would write. Events go in bulk: each one is
//! built as an `EventInput` and checked by the API's own `validate()`; its rows are the ones
//! `store::events::rows::event_rows` derives for the store's own writes, and its slug is chosen
//! by the store's `TitleSlugs` (the title's slug, then `-2`, `-3` …). They are written with
//! multi-row `INSERT`s on the concrete backend connection, in large transactions. Chains are
//! checked with the API's own chain rules before they are written; chain members get the
//! version the API gives an event when a chain takes it in.
//!
//! Modules: `graph` (organisations, people, networks), `planner` and `text` (what events to
//! write), `writer` (their rows), `vocabulary` and `organisations` (the data), `rng`.
//!
//! The data is deterministic for a given `--seed` except ids and timestamps, which are
//! generated as the API generates them (UUIDv7, now). It can run again on a filled database:
//! new records get fresh slugs.

mod documents;
mod graph;
mod organisations;
mod planner;
mod rng;
mod text;
mod vocabulary;
mod writer;

use std::time::Instant as Clock;

use clap::Parser;
use meeting_registry::db::{AnyConnection, Database, write_transaction};

use crate::graph::build_graph;
use crate::planner::Planner;
use crate::rng::Rng;
use crate::writer::{Batch, EventWriter};

#[derive(Debug, Parser)]
#[command(
    name = "registry-generate",
    about = "Fill a meeting registry with realistic records (for benchmarks)"
)]
pub struct Cli {
    /// `postgres://…` for PostgreSQL; anything else is a SQLite file path.
    #[arg(long, env = "DATABASE_URL", default_value = "registry.db")]
    pub database_url: String,
    /// Number of events to write.
    #[arg(long, default_value_t = 10_000)]
    pub events: usize,
    /// Seed of the pseudo-random choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of organisations.
    #[arg(long, default_value_t = 200)]
    pub organisations: usize,
    /// Number of people.
    #[arg(long, default_value_t = 2_000)]
    pub people: usize,
    /// Number of networks.
    #[arg(long, default_value_t = 30)]
    pub networks: usize,
    /// Number of programmes (a quarter of them top-level programmes, the rest their projects
    /// and actions); about a fifth of the events are implemented under one.
    #[arg(long, default_value_t = 40)]
    pub programmes: usize,
    /// Events per committed transaction.
    #[arg(long, default_value_t = 20_000)]
    pub transaction_size: usize,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("registry-generate: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let started = Clock::now();
    let db = Database::connect(&cli.database_url, 1)?;
    let applied = db.migrate()?;
    eprintln!(
        "registry-generate: {} ({:?}), {applied} migration(s) applied",
        redact(&cli.database_url),
        db.backend()
    );
    let mut rng = Rng::new(cli.seed);
    db.with_connection(|conn| {
        if let AnyConnection::Sqlite(c) = conn {
            // A bigger page cache for the index-heavy bulk load; durability settings stay.
            diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA cache_size = -262144; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY")
                .map_err(|e| e.to_string())?;
        }
        let graph = write_transaction(conn, |conn| build_graph(conn, cli, &mut rng))
            .map_err(|e| e.to_string())?;
        eprintln!(
            "  {} organisations, {} people, {} networks ({} memberships), {} programmes in {:.1}s",
            graph.organisations.len(),
            graph.people.len(),
            graph.networks.len(),
            graph.memberships,
            graph.programmes.len(),
            started.elapsed().as_secs_f64()
        );
        let mut writer = EventWriter::new(conn)?;
        let mut planner = Planner::new(&graph, cli.events, cli.seed, &mut rng);
        let events_started = Clock::now();
        let mut transaction = Batch::default();
        while let Some(group) = planner.next_group(&mut rng) {
            writer.add_group(group, &mut transaction)?;
            if transaction.len() >= cli.transaction_size {
                writer.commit(conn, std::mem::take(&mut transaction))?;
                let done = writer.written;
                let secs = events_started.elapsed().as_secs_f64();
                eprintln!(
                    "  {done:>9} / {} events  {:>7.0} events/s  {secs:>6.1}s",
                    cli.events,
                    done as f64 / secs.max(0.001)
                );
            }
        }
        if !transaction.is_empty() {
            writer.commit(conn, transaction)?;
        }
        let secs = events_started.elapsed().as_secs_f64();
        eprintln!(
            "  {} events ({} in {} chains, {} network series meetings, {} sessions, {} internal, {} cancelled) in {secs:.1}s ({:.0} events/s)",
            writer.written,
            writer.chained,
            writer.chains,
            writer.series,
            writer.sessions,
            writer.internal,
            writer.cancelled,
            writer.written as f64 / secs.max(0.001)
        );
        let documents_started = Clock::now();
        let documents = documents::write(conn, &graph, &mut rng).map_err(|e| e.to_string())?;
        eprintln!(
            "  {} publications, {} outcomes ({} open) in {:.1}s",
            documents.publications,
            documents.outcomes,
            documents.open,
            documents_started.elapsed().as_secs_f64()
        );
        if let AnyConnection::Postgresql(c) = conn {
            // VACUUM marks the loaded pages all-visible, as autovacuum would in time: index-only
            // scans (a list page) then skip the table from the start.
            diesel::connection::SimpleConnection::batch_execute(c, "VACUUM ANALYZE")
                .map_err(|e| e.to_string())?;
        } else if let AnyConnection::Sqlite(c) = conn {
            // A bulk load leaves the text index in many segments, each read by every search
            // until they are merged into one.
            diesel::connection::SimpleConnection::batch_execute(
                c,
                "INSERT INTO events_search (events_search) VALUES ('optimize'); \
                 ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    println!(
        "registry-generate: wrote {} events in {:.1}s",
        cli.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.rsplit_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:…@{host}");
    }
    url.to_owned()
}
