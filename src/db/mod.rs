//! The database layer: one connection type over SQLite and PostgreSQL, its pool, migrations and
//! the write-transaction discipline.

pub(crate) mod kept_update;
pub mod location;
pub mod schema;
pub mod sql_types;
mod writer;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::ApiError;

pub(crate) use kept_update::same_sql_for_any_value;
pub use kept_update::{ByColumns, ByExpression, KeptUpdate, SameSqlForAnyValue};
pub use sql_types::Timestamp;

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
                // (store::events::postgres::planned_for_values).
                conn.batch_execute("SET plan_cache_mode = force_generic_plan")
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

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
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
        })
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
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
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
            Some(writer) => writer.write(work).await,
            None => {
                self.blocking(move |conn| write_transaction(conn, work))
                    .await
            }
        }
    }

    async fn blocking<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }
}

/// A transaction for work that reads and then writes. On SQLite it starts with
/// `BEGIN IMMEDIATE`, taking the write lock up front: a deferred transaction that upgrades to
/// a writer fails with SQLITE_BUSY under contention instead of waiting.
pub fn write_transaction<T, F>(conn: &mut AnyConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match work(conn).and_then(|value| {
        advance_generation(conn)?;
        Ok(value)
    }) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// Runs `write` in a savepoint. When it answers `None` (it stored nothing that differs from
/// what was there) the savepoint is rolled back, so neither the version nor `updated_at`
/// moves; `Some` is kept.
pub fn undo_if_unchanged<T>(
    conn: &mut AnyConnection,
    write: impl FnOnce(&mut AnyConnection) -> Result<Option<T>, ApiError>,
) -> Result<Option<T>, ApiError> {
    enum Stop {
        Unchanged,
        Failed(ApiError),
    }
    impl From<diesel::result::Error> for Stop {
        fn from(error: diesel::result::Error) -> Self {
            Stop::Failed(error.into())
        }
    }
    let outcome = diesel::Connection::transaction(conn, |conn| match write(conn) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(Stop::Unchanged),
        Err(error) => Err(Stop::Failed(error)),
    });
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(Stop::Unchanged) => Ok(None),
        Err(Stop::Failed(error)) => Err(error),
    }
}

/// Moves the registry's generation: the last statement of every write transaction, so the row
/// lock it takes on PostgreSQL is held only while the transaction commits (taking it earlier
/// would order it before the transaction's other locks and invite deadlocks).
///
/// The change rows the transaction's writes left (the triggers of the `changes` table) are
/// stamped with the new generation under that lock, which committing writers take one after
/// the other: so generations are handed out in commit order, and a reader that sees one sees
/// every lower one (the change feed never skips a change committed late).
fn advance_generation(conn: &mut AnyConnection) -> Result<(), ApiError> {
    use schema::{changes, registry_state};
    KeptUpdate::new(
        registry_state::table,
        registry_state::generation.eq(registry_state::generation + 1),
        registry_state::id.eq(1),
    )
    .execute(conn)?;
    let current = registry_state::table
        .filter(registry_state::id.eq(1))
        .select(registry_state::generation)
        .single_value();
    let stamp = diesel::update(changes::table.filter(changes::generation.is_null())).set((
        changes::generation.eq(current),
        changes::at.eq(Timestamp::now()),
    ));
    native!(conn, |c| stamp.execute(c))?;
    Ok(())
}

/// The registry's generation: it changes whenever any process commits a write, so a
/// representation built at one generation is current for as long as it is read back.
pub fn generation(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    use schema::registry_state::dsl::*;
    let query = registry_state.filter(id.eq(1)).select(generation);
    Ok(native!(conn, |c| query.first(c))?)
}

/// Whether the database answers; for `/readyz`.
pub fn ping(conn: &mut AnyConnection) -> Result<(), ApiError> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}
