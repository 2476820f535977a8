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
//!
//! The writer keeps to writing. Copying the WAL back into the database file (the checkpoint)
//! runs on a thread of its own, with its own connection, after commits; waking the requests a
//! batch answered runs on another. Both would otherwise hold up the next batch.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::{Connection, RunQueryDsl};

use super::transactions::advance_generation;
use super::{AnyConnection, ConnectionManager};
use crate::error::ApiError;

/// The most writes committed together.
const MAX_BATCH: usize = 64;

/// WAL frames (pages) past which the writer checkpoints between two batches itself. The
/// checkpointer has already copied nearly all of them, so this costs the writer little, and
/// it lets the next batch start the log afresh (a WAL is only restarted by a writer that
/// finds it fully copied). SQLite's own automatic checkpoint starts much earlier; this bound
/// keeps the WAL's size steady under sustained creates without making the writer copy pages
/// the checkpointer would copy anyway.
const WAL_FRAMES_RESTART: i64 = 16_000;

/// What a queued write leaves for after the commit: it hands its result (or the commit's
/// failure) to the waiting request.
type Finish = Box<dyn FnOnce(Result<Option<i64>, String>) + Send>;
/// A queued write: runs on the writer's connection and says whether it succeeded.
type Work = Box<dyn FnOnce(&mut AnyConnection) -> (bool, Finish) + Send>;

/// A queued write, and whether it moves the registry's generation (see
/// [`super::Database::write_bookkeeping`] for writes that do not).
struct Job {
    work: Work,
    versioned: bool,
}

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
        // Checkpoints are the checkpointer's: none in the middle of a batch. Each write runs
        // in a savepoint, which copies every page it first changes to a sub-journal: in
        // memory, not a temporary file.
        conn.batch_execute(
            "PRAGMA cache_size = -16384; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA temp_store = MEMORY",
        )
        .map_err(|e| format!("cannot configure the write connection: {e}"))?;
        let mut checkpoint_conn = manager
            .establish()
            .map_err(|e| format!("cannot open the checkpoint connection: {e}"))?;
        let (committed, checkpoint_requests) = mpsc::sync_channel::<()>(1);
        let wal_frames = Arc::new(AtomicI64::new(0));
        let seen = Arc::clone(&wal_frames);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint(&mut checkpoint_conn, &checkpoint_requests, &seen))
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
        let (answers, answer_queue) = mpsc::channel::<(Vec<Finish>, Result<Option<i64>, String>)>();
        std::thread::Builder::new()
            .name("sqlite-answers".into())
            .spawn(move || {
                while let Ok((finishes, committed)) = answer_queue.recv() {
                    for finish in finishes {
                        finish(committed.clone());
                    }
                }
            })
            .map_err(|e| format!("cannot start the answering thread: {e}"))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                let wal = Wal {
                    committed,
                    frames: wal_frames,
                };
                run(&mut conn, &queue, &wal, &answers)
            })
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(Self { jobs })
    }

    /// Queues `work` and waits for it to be committed (or refused); answers its value and the
    /// generation its batch committed. A write that is not `versioned` does not move the
    /// generation by itself (its batch may, for the others).
    pub async fn write<T, F>(&self, work: F, versioned: bool) -> Result<(T, Option<i64>), ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel::<Result<(T, Option<i64>), ApiError>>();
        let work: Work = Box::new(move |conn| match work(conn) {
            Ok(value) => (
                true,
                Box::new(move |committed: Result<Option<i64>, String>| {
                    let _ = reply.send(match committed {
                        Ok(generation) => Ok((value, generation)),
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
            .send(Job { work, versioned })
            .map_err(|_| ApiError::internal("the SQLite writer thread has stopped"))?;
        answer.await.map_err(|_| ApiError::Unavailable {
            cause: "the write was not carried out".into(),
        })?
    }
}

/// The answers of a batch, and whether it committed.
type Answers = mpsc::Sender<(Vec<Finish>, Result<Option<i64>, String>)>;

/// The writer's side of the checkpointing: it reports commits, and reads how long the WAL
/// was at the checkpointer's last pass.
struct Wal {
    committed: mpsc::SyncSender<()>,
    frames: Arc<AtomicI64>,
}

impl Wal {
    /// After a commit: wakes the checkpointer, and restarts a long log (see
    /// [`WAL_FRAMES_RESTART`]).
    fn after_commit(&self, conn: &mut AnyConnection) {
        // A request already pending is enough: the checkpointer reads the WAL as it is then.
        let _ = self.committed.try_send(());
        if self.frames.load(Ordering::Relaxed) < WAL_FRAMES_RESTART {
            return;
        }
        // Busy while the checkpointer is at work: then the next batch tries again.
        if let Ok(outcome) = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result::<CheckpointOutcome>(conn)
            && outcome.busy == 0
        {
            self.frames.store(0, Ordering::Relaxed);
        }
    }
}

#[derive(diesel::QueryableByName)]
struct CheckpointOutcome {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}

fn run(conn: &mut AnyConnection, queue: &mpsc::Receiver<Job>, wal: &Wal, answers: &Answers) {
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
        let (finishes, outcome) = commit_batch(conn, batch);
        let committed = outcome.is_ok();
        if let Err(mpsc::SendError((finishes, outcome))) = answers.send((finishes, outcome)) {
            for finish in finishes {
                finish(outcome.clone());
            }
        }
        if committed {
            wal.after_commit(conn);
        }
        tracing::debug!(
            size,
            elapsed_us = started.elapsed().as_micros() as u64,
            "write batch"
        );
    }
}

/// Runs a batch in one transaction: the answers to hand out, and whether the batch committed.
fn commit_batch(
    conn: &mut AnyConnection,
    batch: Vec<Job>,
) -> (Vec<Finish>, Result<Option<i64>, String>) {
    let AnyConnection::Sqlite(sqlite) = conn else {
        return (Vec::new(), Err("not a SQLite connection".into()));
    };
    if let Err(e) = AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE") {
        // Dropping the jobs unrun answers each waiting request with 503.
        tracing::warn!(error = %e, writes = batch.len(), "write batch not started");
        return (Vec::new(), Err(e.to_string()));
    }
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut any_versioned = false;
    for Job {
        work: job,
        versioned,
    } in batch
    {
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
                        any_versioned |= versioned;
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
    let committed = if any_versioned {
        advance_generation(conn)
            .map_err(|e| e.to_string())
            .and_then(|generation| {
                <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)
                    .map(|()| Some(generation))
                    .map_err(|e| e.to_string())
            })
    } else {
        <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)
            .map(|()| None)
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
    (finishes, committed)
}

/// Copies committed pages from the WAL back into the database file whenever the writer
/// reports a commit, with a passive checkpoint: it never waits for the writer or for readers.
/// It publishes the WAL's length for the writer (see [`Wal::after_commit`]).
fn checkpoint(conn: &mut AnyConnection, requests: &mpsc::Receiver<()>, frames: &AtomicI64) {
    while requests.recv().is_ok() {
        let started = std::time::Instant::now();
        match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result::<CheckpointOutcome>(conn)
        {
            Ok(outcome) => {
                tracing::debug!(
                    busy = outcome.busy,
                    log = outcome.log,
                    checkpointed = outcome.checkpointed,
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "checkpoint"
                );
                frames.store(outcome.log, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
        }
        // Let commits gather: one checkpoint copies many batches' pages and syncs the database
        // file once, and every sync competes with the writer's own for the disk, so a shorter
        // pause made the writer's commits slower, not the WAL shorter.
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn rollback_savepoint(conn: &mut AnyConnection) {
    if let Err(e) = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn) {
        tracing::error!(error = %e, "cannot roll back to a savepoint");
    }
}
