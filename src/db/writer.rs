//! Group commit for SQLite: one thread owns the write connection and commits the writes that
//! queued up while the previous commit was running in one transaction.
//!
//! SQLite has a single writer, and every commit with `synchronous = FULL` waits for the disk
//! and flushes the full-text index's pending segment. Run one write per transaction and those
//! costs are paid per request; run the queue in one transaction, each write inside its own
//! savepoint, and they are paid once per batch. A write that fails rolls back to its savepoint
//! (the others are unaffected) and gets its error; a write that succeeded gets its result only
//! after the `COMMIT` returned, so a 2xx still means "on disk". When nothing else is queued a
//! batch is one write: no timer, no added latency.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};

use super::{AnyConnection, ConnectionManager, advance_generation};
use crate::error::ApiError;

/// The most writes committed together.
const MAX_BATCH: usize = 64;

/// What a queued write leaves for after the commit: it hands its result (or the commit's
/// failure) to the waiting request.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A queued write: runs on the writer's connection and says whether it succeeded.
type Job = Box<dyn FnOnce(&mut AnyConnection) -> (bool, Finish) + Send>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the write connection and starts the thread that owns it.
    pub fn start(manager: &ConnectionManager) -> Result<Self, String> {
        let mut conn = manager
            .establish()
            .map_err(|e| format!("cannot open the write connection: {e}"))?;
        // Every write walks a dozen indexes: a larger page cache for the one writer keeps
        // their upper levels in memory (readers keep SQLite's default).
        conn.batch_execute("PRAGMA cache_size = -16384")
            .map_err(|e| format!("cannot configure the write connection: {e}"))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&mut conn, &queue))
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Self { jobs })
    }

    /// Queues `work` and waits for it to be committed (or refused).
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<T, ApiError>>();
        let job: Job = Box::new(move |conn| match work(conn) {
            Ok(value) => (
                true,
                Box::new(move |committed: Result<(), String>| {
                    let _ = reply.send(match committed {
                        Ok(()) => Ok(value),
                        Err(cause) => Err(ApiError::Unavailable { cause }),
                    });
                }),
            ),
            Err(error) => (
                false,
                Box::new(move |_| {
                    let _ = reply.send(Err(error));
                }),
            ),
        });
        self.jobs
            .send(job)
            .map_err(|_| ApiError::internal("the SQLite writer thread has stopped"))?;
        answer.await.map_err(|_| ApiError::Unavailable {
            cause: "the write was not carried out".into(),
        })?
    }
}

fn run(conn: &mut AnyConnection, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let size = batch.len();
        let started = std::time::Instant::now();
        commit_batch(conn, batch);
        tracing::debug!(
            size,
            elapsed_us = started.elapsed().as_micros() as u64,
            "write batch"
        );
    }
}

fn commit_batch(conn: &mut AnyConnection, batch: Vec<Job>) {
    let AnyConnection::Sqlite(sqlite) = conn else {
        return;
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        // Dropping the jobs unrun answers each waiting request with 503.
        tracing::warn!(error = %e, writes = batch.len(), "write batch not started");
        return;
    }
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut any_succeeded = false;
    for job in batch {
        if let Err(e) = <AnyConnection as Connection>::TransactionManager::begin_transaction(conn) {
            tracing::error!(error = %e, "cannot open a savepoint");
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| job(conn))) {
            Ok((true, finish)) => {
                let released =
                    <AnyConnection as Connection>::TransactionManager::commit_transaction(conn);
                match released {
                    Ok(()) => {
                        any_succeeded = true;
                        finishes.push(finish);
                    }
                    Err(e) => finish(Err(format!("the write could not be kept: {e}"))),
                }
            }
            Ok((false, finish)) => {
                rollback_savepoint(conn);
                finishes.push(finish);
            }
            Err(_) => {
                // The job panicked: its request learns it from the dropped reply channel.
                rollback_savepoint(conn);
            }
        }
    }
    let commit_started = std::time::Instant::now();
    let committed = if any_succeeded {
        advance_generation(conn)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)
                    .map_err(|e| e.to_string())
            })
    } else {
        <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)
            .map_err(|e| e.to_string())
    };
    if let Err(cause) = &committed {
        tracing::error!(%cause, "a write batch did not commit");
        let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn);
    }
    tracing::debug!(
        commit_us = commit_started.elapsed().as_micros() as u64,
        "write batch committed"
    );
    for finish in finishes {
        finish(committed.clone());
    }
}

fn rollback_savepoint(conn: &mut AnyConnection) {
    if let Err(e) = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn) {
        tracing::error!(error = %e, "cannot roll back to a savepoint");
    }
}
