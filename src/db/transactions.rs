//! Write transactions and the registry's generation: how a write is opened, committed (on
//! PostgreSQL with the generation moved and every listening process notified in the same
//! round trip) and answered with the position it reached.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;

use super::position::Position;
use super::{AnyConnection, KeptUpdate, Timestamp, listen, native, schema};
use crate::error::ApiError;

/// A transaction for work that reads and then writes. On SQLite it starts with
/// `BEGIN IMMEDIATE`, taking the write lock up front: a deferred transaction that upgrades to
/// a writer fails with SQLITE_BUSY under contention instead of waiting.
pub fn write_transaction<T, F>(conn: &mut AnyConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    transaction(conn, work, false).map(|(value, _)| value)
}

/// [`write_transaction`], also answering the position the write committed at: on SQLite the
/// write's own generation; on PostgreSQL the generation read just after the commit, which is
/// the write's own or a later one (either way one the registry has reached, and one that holds
/// the write), and with `with_wal` the primary's WAL position, read in the same statement.
pub(super) fn transaction<T, F>(
    conn: &mut AnyConnection,
    work: F,
    with_wal: bool,
) -> Result<(T, Position), ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    match conn {
        AnyConnection::Sqlite(_) => in_transaction(conn, |conn| {
            let value = work(conn)?;
            Ok((value, Position::generation(advance_generation(conn)?)))
        }),
        AnyConnection::Postgresql(_) => {
            let value = run_transaction(conn, work, commit_advancing)?;
            let position = if with_wal {
                generation_and_wal_position(conn)?
            } else {
                Position::generation(generation(conn)?)
            };
            Ok((value, position))
        }
    }
}

/// Runs `work` in a transaction (on SQLite `BEGIN IMMEDIATE`), committed if it succeeds.
pub(super) fn in_transaction<T, F>(conn: &mut AnyConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
{
    run_transaction(conn, work, |conn| {
        Ok(<AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?)
    })
}

/// Runs `work` in a transaction and ends it with `commit` if it succeeds; rolls back if
/// either fails (a failed commit may already have ended the transaction).
fn run_transaction<T, F, C>(conn: &mut AnyConnection, work: F, commit: C) -> Result<T, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, ApiError>,
    C: FnOnce(&mut AnyConnection) -> Result<(), ApiError>,
{
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    let outcome = work(conn).and_then(|value| commit(conn).map(|()| value));
    if outcome.is_err() {
        match <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::NotInTransaction) => {}
            Err(error) => return Err(error.into()),
        }
    }
    outcome
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

/// Moves the registry's generation: the last statement of every write transaction, so the lock
/// on its row is held only while the transaction commits (taking it earlier would order it
/// before the transaction's other locks and invite deadlocks).
///
/// The change rows the transaction's writes left (the triggers of the `changes` table) are
/// stamped with the new generation under that lock, which committing writers take one after
/// the other: so generations are handed out in commit order, and a reader that sees one sees
/// every lower one (the change feed never skips a change committed late).
///
/// This is SQLite's (answering the new generation); PostgreSQL's is [`commit_advancing`].
pub(super) fn advance_generation(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    use schema::{changes, registry_state};
    let AnyConnection::Sqlite(c) = conn else {
        return Err(ApiError::internal(
            "advance_generation is SQLite's; PostgreSQL commits with commit_advancing",
        ));
    };
    RunQueryDsl::execute(
        KeptUpdate::new(
            registry_state::table,
            registry_state::generation.eq(registry_state::generation + 1),
            registry_state::id.eq(1),
        ),
        c,
    )?;
    let current = registry_state::table
        .filter(registry_state::id.eq(1))
        .select(registry_state::generation)
        .single_value();
    diesel::update(changes::table.filter(changes::generation.is_null()))
        .set((
            changes::generation.eq(current),
            changes::at.eq(Timestamp::now()),
        ))
        .execute(c)?;
    Ok(registry_state::table
        .filter(registry_state::id.eq(1))
        .select(registry_state::generation)
        .first(c)?)
}

/// [`advance_generation`] on PostgreSQL, sent with the `COMMIT` in one round trip: the
/// generation moved, the transaction's change rows stamped with it, and [`listen::CHANNEL`]
/// notified (PostgreSQL delivers it to every listening process when the transaction commits,
/// in commit order).
///
/// The row lock the update takes orders committing writers, so every moment it is held is one
/// every other writer waits for. Sent apart from the `COMMIT`, it was held across a round trip
/// to this process, and on a busy machine across the wait for this thread to be scheduled
/// again; sent together, it is held only while PostgreSQL commits. The generation the write
/// reached is read after the commit (see [`transaction`]).
fn commit_advancing(conn: &mut AnyConnection) -> Result<(), ApiError> {
    // The instant is this process's own clock, written as a literal (a simple query carries no
    // parameters): digits and separators only.
    let at = Timestamp::now().to_sortable_string();
    conn.batch_execute(&format!(
        "WITH s AS (UPDATE registry_state SET generation = generation + 1 \
         WHERE id = 1 RETURNING generation), \
         c AS (UPDATE changes SET generation = (SELECT generation FROM s), \
         at = '{at}'::timestamptz WHERE generation IS NULL) \
         SELECT pg_notify('{channel}', s.generation::text) FROM s; \
         COMMIT",
        channel = listen::CHANNEL,
    ))?;
    Ok(())
}

/// The registry's generation and the primary's WAL position once a write has committed, in
/// one statement: a standby that has replayed to that position holds the write.
fn generation_and_wal_position(conn: &mut AnyConnection) -> Result<Position, ApiError> {
    use diesel::sql_types::BigInt;
    let query = schema::registry_state::table
        .filter(schema::registry_state::id.eq(1))
        .select((
            schema::registry_state::generation,
            diesel::dsl::sql::<BigInt>("(pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"),
        ));
    let (generation, lsn): (i64, i64) = native!(conn, |c| query.first(c))?;
    Ok(Position {
        generation,
        lsn: Some(lsn.max(0) as u64),
    })
}

/// The registry's generation: it changes whenever any process commits a write, so a
/// representation built at one generation is current for as long as it is read back.
pub fn generation(conn: &mut AnyConnection) -> Result<i64, ApiError> {
    use schema::registry_state::dsl::*;
    let query = registry_state.filter(id.eq(1)).select(generation);
    Ok(native!(conn, |c| query.first(c))?)
}
