//! What a process knows of the registry's generation without asking the database, on
//! PostgreSQL: every write transaction ends with `pg_notify('registry_generation', …)` (see
//! [`super::advance_generation`]), which PostgreSQL delivers to every listening session when
//! the transaction commits, in commit order. One thread per process keeps a session that
//! `LISTEN`s and records the highest generation it has heard of; a cached read then compares
//! its entry with that number instead of reading the generation (a round trip per read).
//!
//! While the session is down (PostgreSQL restarted, the network dropped it) the process does
//! not know: [`KnownGeneration::get`] answers `None` and every read asks the database, as it did
//! before. The thread reconnects with a growing pause; once `LISTEN` is in place again it reads
//! the generation through an ordinary connection (so no commit falls between the two) and
//! reports again. A session that has heard nothing for a while is asked a `SELECT 1`, so a
//! connection that died silently is noticed within [`PROBE_EVERY`] plus the socket's timeout.
//!
//! The same session listens on [`CREDENTIALS_CHANNEL`], which triggers on the `tokens` and
//! `feed_keys` tables notify whenever a token or feed key is created, revoked or removed, by
//! whichever process: each such notification, and each loss or return of the session, moves
//! [`KnownGeneration::credentials_epoch`], and the credentials a process keeps verified in
//! memory are trusted only at the epoch they were read at (see `store::tokens::KeptCredentials`).
//!
//! The session is libpq's own (through `pq-sys`, which diesel links already), because diesel
//! can only poll for notifications: here the thread sleeps in `poll(2)` on the session's socket
//! and wakes when a notification arrives.

use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pq_sys as pq;

/// The channel every write notifies.
pub const CHANNEL: &str = "registry_generation";

/// The channel the triggers of `tokens` and `feed_keys` notify when a credential changes.
pub const CREDENTIALS_CHANNEL: &str = "registry_credentials";

/// How long the session may stay silent before it is asked whether it is still there.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// The generation this process has heard of, and whether it is listening.
#[derive(Debug, Default)]
pub struct KnownGeneration {
    generation: AtomicI64,
    listening: AtomicBool,
    /// Notifications received and reconnections made, for `/metrics`.
    notifications: AtomicU64,
    reconnects: AtomicU64,
    /// Moves whenever a credential may have changed: a notification on [`CREDENTIALS_CHANNEL`],
    /// and the session lost or back (what happened while it was down was not heard).
    credentials_epoch: AtomicU64,
}

impl KnownGeneration {
    /// The generation every write committed so far has reached, as far as this process knows
    /// without asking; `None` while it is not listening (then a reader must ask the database).
    pub fn get(&self) -> Option<i64> {
        // Read `listening` after the generation: a session that was lost in between makes the
        // answer `None` rather than a number it no longer vouches for.
        let generation = self.generation.load(Ordering::Acquire);
        self.listening.load(Ordering::Acquire).then_some(generation)
    }

    /// Records that the registry has reached `generation` (a notification, or a write of this
    /// process that committed it).
    pub fn reached(&self, generation: i64) {
        self.generation.fetch_max(generation, Ordering::AcqRel);
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Notifications received and sessions opened again since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.notifications.load(Ordering::Relaxed),
            self.reconnects.load(Ordering::Relaxed),
        )
    }

    /// The credentials epoch (see [`KnownGeneration::credentials_epoch`]): a token or feed key
    /// read while it stays the same needs no second look; `None` while not listening (then
    /// ask the database).
    pub fn credentials_epoch(&self) -> Option<u64> {
        // As in `get`: the epoch first, so a session lost in between answers `None`.
        let epoch = self.credentials_epoch.load(Ordering::Acquire);
        self.listening.load(Ordering::Acquire).then_some(epoch)
    }

    /// Forgets every credential read so far (one changed, or may have).
    pub fn credentials_changed(&self) {
        self.credentials_epoch.fetch_add(1, Ordering::AcqRel);
    }

    fn lost(&self) {
        self.listening.store(false, Ordering::Release);
        self.credentials_changed();
    }

    /// The session is listening again: what changed while it was not is unknown.
    fn listening_again(&self) {
        self.credentials_changed();
        self.listening.store(true, Ordering::Release);
    }
}

/// Starts the listening thread for the PostgreSQL database at `url`; `current` reads the
/// generation through an ordinary connection. The thread ends when `known` is the last
/// reference left (the server has stopped).
pub fn start(
    url: &str,
    current: impl Fn() -> Result<i64, String> + Send + 'static,
) -> Result<Arc<KnownGeneration>, String> {
    let url = CString::new(url).map_err(|_| "the database URL contains a NUL byte".to_owned())?;
    let known = Arc::new(KnownGeneration::default());
    let weak = Arc::downgrade(&known);
    std::thread::Builder::new()
        .name("registry-listen".into())
        .spawn(move || {
            let mut pause = Duration::from_millis(50);
            let mut first = true;
            loop {
                let Some(known) = weak.upgrade() else { return };
                match Session::open(&url) {
                    Ok(session) => match current() {
                        Ok(generation) => {
                            known.reached(generation);
                            known.listening_again();
                            if !first {
                                known.reconnects.fetch_add(1, Ordering::Relaxed);
                                tracing::info!("listening for writes again");
                            }
                            first = false;
                            pause = Duration::from_millis(50);
                            drop(known);
                            let error = session.serve(&weak);
                            if let Some(known) = weak.upgrade() {
                                known.lost();
                                tracing::warn!(
                                    %error,
                                    "the session listening for writes was lost; reads check \
                                     the database until it is back"
                                );
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "reading the generation after LISTEN failed")
                        }
                    },
                    Err(error) => {
                        if first {
                            tracing::warn!(%error, "cannot listen for writes yet; retrying");
                        }
                        first = false;
                    }
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        })
        .map_err(|e| format!("cannot start the listening thread: {e}"))?;
    Ok(known)
}

/// One libpq session that has run `LISTEN`.
struct Session {
    conn: *mut pq::PGconn,
}

// The session is used by one thread only; the pointer is libpq's handle, which may move
// between threads when not used concurrently.
unsafe impl Send for Session {}

impl Drop for Session {
    fn drop(&mut self) {
        // SAFETY: `conn` came from PQconnectdb and is finished exactly once.
        unsafe { pq::PQfinish(self.conn) }
    }
}

impl Session {
    fn open(url: &CStr) -> Result<Self, String> {
        // SAFETY: `url` is a valid C string; PQconnectdb returns a handle (possibly of a
        // failed connection) that `Session` finishes.
        let session = Session {
            conn: unsafe { pq::PQconnectdb(url.as_ptr()) },
        };
        if session.conn.is_null() {
            return Err("libpq could not allocate a connection".into());
        }
        // SAFETY: a live handle.
        if unsafe { pq::PQstatus(session.conn) } != pq::ConnStatusType::CONNECTION_OK {
            return Err(session.error());
        }
        // Named, so an operator can tell it from the pool's sessions in pg_stat_activity.
        session.execute("SET application_name = 'meeting-registry listen'")?;
        session.execute(&format!("LISTEN {CHANNEL}"))?;
        session.execute(&format!("LISTEN {CREDENTIALS_CHANNEL}"))?;
        Ok(session)
    }

    /// libpq's message for the last failure, on one line.
    fn error(&self) -> String {
        // SAFETY: a live handle; the message is owned by it and copied here.
        let message = unsafe { CStr::from_ptr(pq::PQerrorMessage(self.conn)) };
        message.to_string_lossy().trim().replace('\n', " ")
    }

    /// Runs a statement that returns no rows or only rows to ignore.
    fn execute(&self, sql: &str) -> Result<(), String> {
        let sql = CString::new(sql).map_err(|e| e.to_string())?;
        // SAFETY: a live handle and a valid C string; the result is cleared here.
        unsafe {
            let result = pq::PQexec(self.conn, sql.as_ptr());
            let status = pq::PQresultStatus(result);
            pq::PQclear(result);
            match status {
                pq::ExecStatusType::PGRES_COMMAND_OK | pq::ExecStatusType::PGRES_TUPLES_OK => {
                    Ok(())
                }
                _ => Err(self.error()),
            }
        }
    }

    /// Hands every notification to `known` until the session fails or the server stops;
    /// returns why it stopped.
    fn serve(&self, weak: &std::sync::Weak<KnownGeneration>) -> String {
        // SAFETY: a live handle.
        let fd = unsafe { pq::PQsocket(self.conn) };
        if fd < 0 {
            return "the session has no socket".into();
        }
        let mut last_heard = Instant::now();
        loop {
            let Some(known) = weak.upgrade() else {
                return "the server stopped".into();
            };
            let mut poll = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd; a timeout so the thread notices the server stopping.
            let ready = unsafe { libc::poll(&mut poll, 1, 500) };
            if ready < 0 {
                let error = std::io::Error::last_os_error();
                if error.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return format!("poll: {error}");
            }
            if ready == 0 {
                if last_heard.elapsed() >= PROBE_EVERY {
                    if let Err(error) = self.execute("SELECT 1") {
                        return error;
                    }
                    last_heard = Instant::now();
                    // A probe's reply may carry notifications too.
                    self.drain(&known);
                }
                continue;
            }
            // SAFETY: a live handle.
            if unsafe { pq::PQconsumeInput(self.conn) } == 0 {
                return self.error();
            }
            last_heard = Instant::now();
            self.drain(&known);
        }
    }

    /// Takes every notification libpq has read.
    fn drain(&self, known: &KnownGeneration) {
        loop {
            // SAFETY: a live handle; a notification is freed with PQfreemem after its payload
            // is read.
            let notification = unsafe { pq::PQnotifies(self.conn) };
            if notification.is_null() {
                return;
            }
            let credentials = unsafe { CStr::from_ptr((*notification).relname) }
                .to_bytes()
                .eq(CREDENTIALS_CHANNEL.as_bytes());
            // A credentials notification's payload (the table's name) says nothing more.
            let payload = (!credentials)
                .then(|| {
                    unsafe { CStr::from_ptr((*notification).extra) }
                        .to_str()
                        .ok()
                })
                .flatten()
                .and_then(|text| text.parse::<i64>().ok());
            unsafe { pq::PQfreemem(notification.cast()) };
            known.notifications.fetch_add(1, Ordering::Relaxed);
            if credentials {
                known.credentials_changed();
                continue;
            }
            match payload {
                Some(generation) => known.reached(generation),
                // Not one of ours: someone else notified the channel. Say so and keep
                // listening; the number is only ever raised by a payload that parses.
                None => tracing::warn!(channel = CHANNEL, "a notification without a generation"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_known_generation_only_grows_and_is_unknown_while_not_listening() {
        let known = KnownGeneration::default();
        known.reached(5);
        assert_eq!(known.get(), None, "not listening yet");
        known.listening.store(true, Ordering::Release);
        assert_eq!(known.get(), Some(5));
        known.reached(3);
        assert_eq!(
            known.get(),
            Some(5),
            "an older notification changes nothing"
        );
        known.reached(9);
        assert_eq!(known.get(), Some(9));
        known.lost();
        assert_eq!(known.get(), None);
    }

    #[test]
    fn the_credentials_epoch_moves_on_every_change_and_every_loss_or_return() {
        let known = KnownGeneration::default();
        assert_eq!(known.credentials_epoch(), None, "not listening yet");
        known.listening_again();
        let first = known.credentials_epoch().expect("listening");
        known.credentials_changed();
        let second = known.credentials_epoch().expect("listening");
        assert_ne!(first, second);
        known.lost();
        assert_eq!(known.credentials_epoch(), None);
        known.listening_again();
        let third = known.credentials_epoch().expect("listening again");
        assert!(
            third != first && third != second,
            "{first} {second} {third}"
        );
    }
}
