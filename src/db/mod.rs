//! The database layer: one connection type over SQLite and PostgreSQL, its pool, migrations and
//! the write-transaction discipline.

pub(crate) mod kept_update;
pub mod listen;
pub mod location;
pub mod position;
pub mod replicas;
pub mod schema;
pub mod sql_types;
mod transactions;
pub mod wal_index;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;
use position::Position;

pub(crate) use kept_update::same_sql_for_any_value;
pub use kept_update::{ByColumns, ByExpression, KeptUpdate, SameSqlForAnyValue};
pub use sql_types::Timestamp;
pub use transactions::{generation, undo_if_unchanged, write_transaction};
use transactions::{in_transaction, transaction};

/// Runs a diesel query on the backend's own connection instead of through [`AnyConnection`]:
/// `db::native!(conn, |c| query.load(c))`.
///
/// `AnyConnection` (diesel's derived multi-connection) hands every query to the backend inside
/// a wrapper whose every walk of the query builds its whole SQL text: once to ask whether it
/// may be kept prepared, once to collect its binds, and once more as the cache key unless the
/// query's type names it. A query run on the backend's connection is found in its statement
/// cache by type and only walked for its binds. Used where it shows: the generation read
/// before every cached answer (a large share of a worker's time for an event by id went to
/// that one-row read), and the statements of a single write.
///
/// Sound because `AnyConnection` is only an enum over the two connections and keeps no state
/// of its own: its transaction manager delegates to the inner connection's (so the statement
/// runs in whatever transaction the caller opened on the `AnyConnection`), and the statement
/// cache is the inner connection's either way. The body is compiled once per backend, so the
/// query must be one diesel can build for both (a query of one backend only fails to
/// compile, it cannot run on the wrong one).
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::AnyConnection::Sqlite($c) => $body,
            $crate::db::AnyConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use native;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl AnyConnection {
    /// Whether another writer's transaction can run between this one's reads and writes. On
    /// PostgreSQL they can, so a read-modify-write first takes its row's lock. A SQLite write
    /// transaction holds the database's one write lock from its start (`BEGIN IMMEDIATE`, or
    /// the writer's batch): nothing can come between.
    pub fn interleaves_writes(&self) -> bool {
        match self {
            AnyConnection::Postgresql(_) => true,
            AnyConnection::Sqlite(_) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection talks to.
    pub fn of_connection(conn: &AnyConnection) -> Self {
        match conn {
            AnyConnection::Sqlite(_) => Self::Sqlite,
            AnyConnection::Postgresql(_) => Self::Postgres,
        }
    }

    /// PostgreSQL for `postgres://` and `postgresql://` URLs; anything else is a SQLite path
    /// (an optional `sqlite://` prefix is removed).
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres
        } else {
            Self::Sqlite
        }
    }
}

/// Opens connections for the pool, dispatching on the URL scheme itself so a failure reports
/// its real cause (diesel's derived `establish` only says the URL was not accepted).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Self {
        let backend = Backend::of(url);
        let url = match backend {
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_owned(),
            Backend::Postgres => url.to_owned(),
        };
        Self { url, backend }
    }

    pub fn establish(&self) -> Result<AnyConnection, ConnectionError> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.url)?;
                // Every statement is prepared once per connection (diesel's statement cache).
                // PostgreSQL's default would plan one again on every run whose generic plan
                // looks dearer than a custom one, which with a bound `LIMIT` (costed as 10%
                // of the rows) is every list page and every `.first()`: planning was a
                // larger part of a page than running it. The generic plans are the index
                // walks the queries are written for; a `q` page is planned for its pattern
                // (store::events::postgres::search_text_like). A generic plan costs a
                // bound `LIMIT` as a tenth of the table, so it also started parallel workers
                // for a 50-item page, and waiting for their first row was most of the page:
                // a page reads too few rows for workers to pay.
                conn.batch_execute(
                    "SET plan_cache_mode = force_generic_plan; \
                     SET max_parallel_workers_per_gather = 0",
                )
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(AnyConnection::Postgresql(conn))
            }
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url)?;
                // busy_timeout comes first, so every later statement (and every query this
                // connection runs) waits for a lock instead of failing with "database is
                // locked"; FULL sync means an acknowledged write survives power loss. The
                // journal mode is not set here: it is a property of the file, set once by
                // `Database::connect` before the pool opens (switching it takes an exclusive
                // lock, and connections opening side by side then refused each other).
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| {
                    ConnectionError::BadConnection(format!("configuring the connection: {e}"))
                })?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<AnyConnection, ConnectionError> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    /// Whether a connection handed back to the pool has been closed under it (PostgreSQL
    /// restarted, a failover, `pg_terminate_backend`): libpq reads what the socket holds,
    /// without a round trip, and fails on a closed one. Such a connection is dropped, and
    /// the pool opens a new one, instead of failing the next request too.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        match conn {
            AnyConnection::Postgresql(c) => c.notifications_iter().any(|n| n.is_err()),
            AnyConnection::Sqlite(_) => false,
        }
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// Logs a connection the pool failed to open in the background (r2d2's own handler logs the
/// bare error, which says neither what failed nor that the pool retries).
#[derive(Debug)]
struct LogConnectionError;

impl r2d2::HandleError<ConnectionError> for LogConnectionError {
    fn handle_error(&self, error: ConnectionError) {
        tracing::error!(%error, "opening a pooled database connection failed (the pool retries)");
    }
}

#[derive(Clone)]
pub struct Database {
    pool: Pool,
    backend: Backend,
    manager: ConnectionManager,
    /// SQLite's group-committing writer (see [`writer`]); PostgreSQL writes run side by side.
    writer: Option<writer::Writer>,
    /// On PostgreSQL, once the server listens for writes: the generation it knows of without
    /// asking (see [`listen`]).
    known: Option<Arc<listen::KnownGeneration>>,
    /// On SQLite, once the server watches the file's WAL index: whether anything was committed
    /// since the generation was last read (see [`wal_index`]).
    wal_index: Option<Arc<wal_index::WalIndex>>,
    /// PostgreSQL standbys that answer reads (see [`replicas`]).
    standbys: Option<Arc<replicas::Standbys>>,
}

impl Database {
    /// The pool's connections and how many of them are idle, for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Connects (checking the URL with one real connection first, so start-up fails with the
    /// database's own message) and builds the pool.
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, String> {
        let manager = ConnectionManager::new(url);
        let backend = manager.backend;
        let writer_manager = manager.clone();
        let mut first = manager
            .establish()
            .map_err(|e| location::open_failure(url, &manager.url, &e))?;
        if backend == Backend::Sqlite {
            // WAL lets readers run beside the one writer. Set on this one connection, before
            // any other is open: the pool opens its connections on several threads at once.
            first
                .batch_execute("PRAGMA journal_mode = WAL")
                .map_err(|e| format!("cannot switch the SQLite file to WAL: {e}"))?;
        }
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(5))
            .test_on_check_out(false)
            .error_handler(Box::new(LogConnectionError))
            .build(manager)
            .map_err(|e| format!("cannot build the connection pool: {e}"))?;
        Ok(Self {
            pool,
            backend,
            manager: writer_manager,
            writer: None,
            known: None,
            wal_index: None,
            standbys: None,
        })
    }

    /// [`Database::connect`] for a command that reads a registry and must not make one: a
    /// SQLite path that names no file is refused rather than created (a mistyped path would
    /// otherwise leave an empty file behind and read an empty registry from it), and so is a
    /// database, of either backend, that the registry's migrations were never applied to.
    pub fn connect_existing(url: &str, pool_size: u32) -> Result<Self, String> {
        let manager = ConnectionManager::new(url);
        if manager.backend == Backend::Sqlite
            && !manager.url.starts_with("file:")
            && !std::path::Path::new(&manager.url).is_file()
        {
            return Err(location::open_failure(
                url,
                &manager.url,
                &"no such file; this command reads an existing registry and does not create one",
            ));
        }
        let db = Self::connect(url, pool_size)?;
        let holds_registry = db.with_connection(|conn| {
            let query = match conn {
                AnyConnection::Sqlite(_) => {
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master \
                     WHERE type = 'table' AND name = '__diesel_schema_migrations') AS found"
                }
                AnyConnection::Postgresql(_) => {
                    "SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS found"
                }
            };
            diesel::sql_query(query)
                .get_result::<Found>(conn)
                .map(|row| row.found)
                .map_err(|e| location::open_failure(url, &manager.url, &e))
        })?;
        if holds_registry {
            Ok(db)
        } else {
            Err(format!(
                "{} holds no registry (its migrations were never applied to it); this command reads \
                 an existing registry",
                location::shown(url)
            ))
        }
    }

    /// On PostgreSQL, starts listening for writes (on `listen_url`, else the primary's URL), so
    /// a cached read needs no round trip (see [`listen`]). On SQLite, watches the file's WAL
    /// index, so a cached read needs no statement while nothing is committed (see
    /// [`wal_index`]); a file whose index cannot be watched is asked on every read, as before.
    pub fn start_listening(&mut self, listen_url: Option<&str>) -> Result<(), String> {
        if self.backend == Backend::Sqlite {
            if self.wal_index.is_none() {
                self.wal_index = wal_index::WalIndex::open(&self.manager.url).map(Arc::new);
                if self.wal_index.is_none() {
                    tracing::warn!(
                        "the SQLite file's WAL index cannot be watched: every cached read \
                         reads the generation from the file"
                    );
                }
            }
            return Ok(());
        }
        if self.known.is_some() {
            return Ok(());
        }
        let url = listen_url.unwrap_or(&self.manager.url).to_owned();
        if Backend::of(&url) != Backend::Postgres {
            return Err(format!(
                "DATABASE_LISTEN_URL `{}` is not a postgres:// URL",
                replicas::redacted(&url)
            ));
        }
        let pool = self.pool.clone();
        self.known = Some(listen::start(&url, move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            generation(&mut conn).map_err(|e| e.to_string())
        })?);
        Ok(())
    }

    /// Sends reads to these PostgreSQL standbys (see [`replicas`]), each with a pool of
    /// `pool_size`; a standby more than `max_lag` behind is skipped.
    pub fn start_standbys(
        &mut self,
        urls: &[String],
        pool_size: u32,
        max_lag: Duration,
    ) -> Result<(), String> {
        if urls.is_empty() {
            return Ok(());
        }
        if self.backend != Backend::Postgres {
            return Err(
                "DATABASE_READ_URLS names read replicas, which are PostgreSQL standbys: \
                 DATABASE_URL must be a postgres:// URL too"
                    .into(),
            );
        }
        self.standbys = Some(replicas::Standbys::start(
            urls,
            pool_size,
            max_lag,
            self.pool.clone(),
        )?);
        Ok(())
    }

    /// The generation a cached read of this request may trust without asking the database:
    /// on PostgreSQL the one this process has heard of, when it is listening; on SQLite the
    /// one last read, while the WAL index shows no commit since (read again once it does);
    /// either only if the request asks for no later position. `None`: ask.
    pub fn known_generation(&self) -> Option<i64> {
        let known = match (&self.known, &self.wal_index) {
            (Some(known), _) => known.get()?,
            (None, Some(wal_index)) => wal_index.generation(|| {
                let mut conn = self.pool.try_get()?;
                generation(&mut conn).ok()
            })?,
            (None, None) => return None,
        };
        let wants = position::with_request(|reads| reads.wants).flatten();
        match wants {
            Some(wants) if wants.generation > known => None,
            _ => Some(known),
        }
    }

    /// The credentials epoch this process has reached: on PostgreSQL it moves with every
    /// change to a token or feed key the process hears of (see
    /// [`listen::KnownGeneration::credentials_epoch`]), on SQLite with every commit the WAL
    /// index shows (see [`wal_index::WalIndex::epoch`]). `None` while the process cannot tell
    /// (not listening; the index unwatched): then every check reads the database.
    pub fn credentials_epoch(&self) -> Option<u64> {
        match (&self.known, &self.wal_index) {
            (Some(known), _) => known.credentials_epoch(),
            (None, Some(wal_index)) => wal_index.epoch(),
            (None, None) => None,
        }
    }

    /// Forgets the tokens and feed keys this process has verified: it has just changed one,
    /// and must not wait for its own notification to refuse it.
    pub fn credentials_changed(&self) {
        if let Some(known) = &self.known {
            known.credentials_changed();
        }
    }

    /// Whether this process listens for writes (`None` on SQLite), and the notifications
    /// and reconnections it has seen; for `/readyz` and `/metrics`.
    pub fn listening(&self) -> Option<(bool, u64, u64)> {
        let known = self.known.as_ref()?;
        let (notifications, reconnects) = known.counts();
        Some((known.is_listening(), notifications, reconnects))
    }

    /// On SQLite with its WAL index watched: the generations a cached read took from the
    /// index (nothing committed since the last read) and those read from the file.
    pub fn generation_checks(&self) -> Option<(u64, u64)> {
        self.wal_index.as_ref().map(|index| index.counts())
    }

    /// What the standby monitor last saw, for `/readyz` and `/metrics` (empty without
    /// standbys).
    pub fn standby_health(&self) -> Vec<replicas::StandbyHealth> {
        self.standbys
            .as_ref()
            .map(|standbys| standbys.health())
            .unwrap_or_default()
    }

    /// The standby this request's reads go to, if any: chosen once per request, among those
    /// the monitor finds usable and, when the request sent a position, replayed past it.
    fn read_route(&self) -> Option<usize> {
        let standbys = self.standbys.as_ref()?;
        position::with_request(|reads| {
            if !reads.may_use_standby {
                return None;
            }
            match reads.route.get() {
                Some(position::Route::Standby(index)) => Some(index),
                Some(position::Route::Primary) => None,
                None => {
                    let wants = reads.wants;
                    let chosen = match wants {
                        // A position without a WAL position cannot be matched on a standby.
                        Some(Position { lsn: None, .. }) => None,
                        _ => standbys.choose(wants.and_then(|w| w.lsn)),
                    };
                    reads.route.set(Some(match chosen {
                        Some(index) => position::Route::Standby(index),
                        None => position::Route::Primary,
                    }));
                    chosen
                }
            }
        })
        .flatten()
    }

    /// Starts SQLite's group-committing writer (the server does; the command-line tools write
    /// with [`write_transaction`] on a pooled connection). A no-op on PostgreSQL.
    pub fn start_writer(&mut self) -> Result<(), String> {
        if self.backend == Backend::Sqlite && self.writer.is_none() {
            self.writer = Some(writer::Writer::start(&self.manager)?);
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn migrate(&self) -> Result<usize, String> {
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        let applied = match &mut *conn {
            AnyConnection::Sqlite(c) => {
                c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len())
            }
            AnyConnection::Postgresql(c) => c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len()),
        };
        applied.map_err(|e| format!("migration failed: {e}"))
    }

    /// Runs work on one connection, on this thread (for the command-line tools).
    pub fn with_connection<T>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, String>,
    ) -> Result<T, String> {
        let mut conn = self.pool.get().map_err(|e| e.to_string())?;
        work(&mut conn)
    }

    /// Runs read-only database work. On SQLite a read is a few microseconds of CPU against the
    /// page cache, less than handing it to a blocking thread and back costs, so it runs right
    /// here when a connection is free; PostgreSQL reads wait on the network and go to the
    /// blocking pool.
    ///
    /// With read replicas, the reads of a `GET` or `HEAD` request go to a standby (see
    /// [`Database::read_route`]); if the standby fails them for a reason of its own, they are
    /// run again on the primary, so a standby going down fails no request.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Clone + Send + 'static,
    {
        if let Some(index) = self.read_route()
            && let Some(standbys) = &self.standbys
        {
            let pool = standbys.pool(index).clone();
            let again = work.clone();
            match Self::blocking_on(pool, work).await {
                Err(error) if error.is_the_servers() => {
                    standbys.failed(index, &error.to_string());
                    position::with_request(|reads| reads.route.set(Some(position::Route::Primary)));
                    return self.run_fresh(again).await;
                }
                outcome => {
                    standbys.served(index);
                    return outcome;
                }
            }
        }
        self.run_fresh(work).await
    }

    /// [`Database::run`] on the primary, whatever the request: for reads that must see every
    /// committed write (a token's check, the state a write starts from).
    pub async fn run_fresh<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            return work(&mut conn);
        }
        self.blocking(work).await
    }

    /// Runs `work` in a write transaction (see [`write_transaction`]), off the async workers:
    /// a writer may wait for the database's write lock.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => {
                let (value, generation) = writer.write(work, true).await?;
                if let Some(generation) = generation {
                    position::wrote(Position::generation(generation));
                }
                Ok(value)
            }
            None => {
                let with_position = self.standbys.is_some();
                let (value, reached) = self
                    .blocking(move |conn| transaction(conn, work, with_position))
                    .await?;
                if let Some(known) = &self.known {
                    known.reached(reached.generation);
                }
                position::wrote(reached);
                Ok(value)
            }
        }
    }

    /// Runs `work` in a write transaction that leaves the registry's generation where it is:
    /// for bookkeeping no cached representation shows and no client reads back by position
    /// (webhook deliveries' queue and outcomes), on PostgreSQL with an asynchronous commit.
    /// Moving the generation would make every cached record and page stale, notify every
    /// process, and queue behind the row lock every client's write takes, once per delivery.
    pub async fn write_bookkeeping<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => Ok(writer.write(work, false).await?.0),
            // Nor does its commit wait for the disk: a delivery's queue, claim or outcome lost
            // in a crash means a delivery made again, which webhooks promise anyway (at least
            // once, by `webhook-id`).
            None => {
                self.blocking(move |conn| {
                    in_transaction(conn, |conn| {
                        if let AnyConnection::Postgresql(c) = conn {
                            c.batch_execute("SET LOCAL synchronous_commit = off")?;
                        }
                        work(conn)
                    })
                })
                .await
            }
        }
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        Self::blocking_on(self.pool.clone(), work).await
    }

    async fn blocking_on<T, F>(pool: Pool, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

/// Whether the database answers; for `/readyz`.
pub fn ping(conn: &mut AnyConnection) -> Result<(), ApiError> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// The answer of [`Database::connect_existing`]'s look for the migrations table.
#[derive(diesel::QueryableByName)]
struct Found {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    found: bool,
}
