//! What a process knows of the registry's generation without asking the database, on SQLite:
//! whether any connection, of this process or another, has committed since the generation was
//! last read, seen in the WAL index that SQLite keeps in shared memory (the `-shm` file).
//!
//! In WAL mode every SQLite connection to a file maps the same WAL index, and a commit is made
//! visible to readers by rewriting the index's header: `iChange` counts commits, `mxFrame`
//! moves with every frame appended, the salts change whenever the log starts over. A reader
//! only begins a transaction on a header whose two copies agree, and the writer writes the
//! second copy, then the first, before its commit returns (`walIndexWriteHdr` and
//! `walIndexTryHdr` in SQLite's `wal.c`; the layout is the file format's, shared by every
//! version that opens the same file side by side). So a header unchanged since the generation
//! was read means no commit since, and the generation read then is still the registry's.
//!
//! [`WalIndex`] keeps a connection of its own open for the life of the process (so SQLite's
//! mapping of the index stays in place and the index is never discarded and made anew while
//! the process runs), reads the header copies from that mapping without a system call, and
//! pairs the header it saw with the generation it read right after. A read of a cached
//! representation then costs a comparison of a few words instead of a statement on a pooled
//! connection. Where the index cannot be mapped (a database that is not in WAL mode, an
//! in-memory one, a virtual file system without shared memory) nothing is known and every read
//! asks the file, as before.

use std::ffi::{CString, c_void};
use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering, fence};

use libsqlite3_sys as ffi;

/// The bytes of one copy of the WAL index header, as 32-bit words (`struct WalIndexHdr`).
const HEADER_WORDS: usize = 12;

/// The size of one region of the WAL index, as SQLite maps it (`WALINDEX_PGSZ`).
const REGION_BYTES: i32 = 32 * 1024;

/// The version SQLite writes in the header's first word (`WALINDEX_MAX_VERSION`).
const INDEX_VERSION: u32 = 3_007_000;

type Header = [u32; HEADER_WORDS];

/// The WAL index of one SQLite file, and the generation read at a header seen before it.
pub struct WalIndex {
    connection: *mut ffi::sqlite3,
    /// The first region of the index, as SQLite mapped it for `connection`.
    region: *const u32,
    /// A header, and the generation read after it was seen.
    seen: Mutex<Option<(Header, i64)>>,
    /// The header last seen by [`WalIndex::epoch`], and how often it had changed by then.
    epoch: Mutex<(Header, u64)>,
    /// Generations answered from the index, and read from the file, for `/metrics`.
    unchanged: AtomicU64,
    read: AtomicU64,
}

// SAFETY: `connection` is only closed on drop and otherwise never used after `open`; `region`
// points into shared memory that stays mapped while `connection` is open, and is only read,
// word by word with volatile reads, as SQLite's own readers do.
unsafe impl Send for WalIndex {}
unsafe impl Sync for WalIndex {}

impl Drop for WalIndex {
    fn drop(&mut self) {
        // SAFETY: the handle came from `sqlite3_open_v2` and is closed once.
        unsafe { ffi::sqlite3_close(self.connection) };
    }
}

impl WalIndex {
    /// Maps the WAL index of the SQLite file at `path` (as the pool opens it: a path or a
    /// `file:` URI); `None` when it has none to map.
    pub fn open(path: &str) -> Option<Self> {
        let path = CString::new(path).ok()?;
        let mut connection = ptr::null_mut();
        // SAFETY: plain use of SQLite's C API on a connection this function owns; every
        // pointer handed over is valid for the call.
        unsafe {
            let flags = ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_URI;
            if ffi::sqlite3_open_v2(path.as_ptr(), &mut connection, flags, ptr::null()) != 0 {
                ffi::sqlite3_close(connection);
                return None;
            }
            let mut index = Self {
                connection,
                region: ptr::null(),
                seen: Mutex::new(None),
                epoch: Mutex::new(([0; HEADER_WORDS], 0)),
                unchanged: AtomicU64::new(0),
                read: AtomicU64::new(0),
            };
            // Only a file in WAL mode has an index; a read transaction makes the connection
            // map it.
            let read = c"SELECT count(*) FROM sqlite_schema";
            if !index.in_wal_mode()
                || ffi::sqlite3_exec(
                    connection,
                    read.as_ptr(),
                    None,
                    ptr::null_mut(),
                    ptr::null_mut(),
                ) != 0
            {
                return None;
            }
            let mut file: *mut ffi::sqlite3_file = ptr::null_mut();
            let found = ffi::sqlite3_file_control(
                connection,
                c"main".as_ptr(),
                ffi::SQLITE_FCNTL_FILE_POINTER,
                (&mut file as *mut *mut ffi::sqlite3_file).cast::<c_void>(),
            );
            if found != 0 || file.is_null() || (*file).pMethods.is_null() {
                return None;
            }
            let methods = &*(*file).pMethods;
            let map = if methods.iVersion >= 2 {
                methods.xShmMap?
            } else {
                return None;
            };
            let mut region: *mut c_void = ptr::null_mut();
            // Region 0, not extended: only an index SQLite has already mapped is returned.
            if map(file, 0, REGION_BYTES, 0, &mut region) != 0 || region.is_null() {
                return None;
            }
            index.region = region.cast_const().cast::<u32>();
            // A header SQLite is rewriting this instant reads as `None`; one that never reads
            // whole is not one this code knows how to read.
            for _ in 0..1000 {
                if index.header().is_some() {
                    return Some(index);
                }
                std::thread::yield_now();
            }
            None
        }
    }

    /// Whether the file is in WAL mode, asked on the connection of `open`.
    ///
    /// # Safety
    /// Only while `open` owns the connection.
    unsafe fn in_wal_mode(&self) -> bool {
        // SAFETY: the statement is prepared, stepped and finalised on this function's own
        // connection; the column text is copied before the statement is finalised.
        unsafe {
            let busy = c"PRAGMA busy_timeout = 10000";
            if ffi::sqlite3_exec(
                self.connection,
                busy.as_ptr(),
                None,
                ptr::null_mut(),
                ptr::null_mut(),
            ) != 0
            {
                return false;
            }
            let mut statement = ptr::null_mut();
            let sql = c"PRAGMA journal_mode";
            if ffi::sqlite3_prepare_v2(
                self.connection,
                sql.as_ptr(),
                -1,
                &mut statement,
                ptr::null_mut(),
            ) != 0
            {
                return false;
            }
            let wal = ffi::sqlite3_step(statement) == ffi::SQLITE_ROW && {
                let text = ffi::sqlite3_column_text(statement, 0);
                !text.is_null()
                    && std::ffi::CStr::from_ptr(text.cast())
                        .to_bytes()
                        .eq_ignore_ascii_case(b"wal")
            };
            ffi::sqlite3_finalize(statement);
            wal
        }
    }

    /// The header as the index holds it now, or `None` while it is being rewritten (its two
    /// copies differ) or was never written.
    fn header(&self) -> Option<Header> {
        let mut first = [0u32; HEADER_WORDS];
        let mut second = [0u32; HEADER_WORDS];
        // SAFETY: the region is at least two headers long and stays mapped (see above). The
        // first copy is read before the second, the reverse of the order SQLite writes them.
        unsafe {
            for (word, slot) in first.iter_mut().enumerate() {
                *slot = ptr::read_volatile(self.region.add(word));
            }
            fence(Ordering::Acquire);
            for (word, slot) in second.iter_mut().enumerate() {
                *slot = ptr::read_volatile(self.region.add(HEADER_WORDS + word));
            }
        }
        fence(Ordering::Acquire);
        (first == second && first[0] == INDEX_VERSION).then_some(first)
    }

    /// The registry's generation if no commit has happened since it was last read; else
    /// `read` is asked for it (on a connection of the caller's), and its answer is paired
    /// with the header seen before asking. `None`: not known, ask the database.
    pub fn generation(&self, read: impl FnOnce() -> Option<i64>) -> Option<i64> {
        let header = self.header()?;
        if let Some((seen, generation)) = *self.seen.lock().ok()?
            && seen == header
        {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Some(generation);
        }
        // Read after the header was seen: a commit in between makes the generation newer than
        // the header says, and the header then differs at the next look, so it is read again.
        let generation = read()?;
        self.read.fetch_add(1, Ordering::Relaxed);
        *self.seen.lock().ok()? = Some((header, generation));
        Some(generation)
    }

    /// A number that stays the same exactly as long as nothing is committed: it moves when the
    /// header is seen to differ from the one seen before. The credentials a process keeps are
    /// trusted at the epoch they were read at (`store::tokens::KeptCredentials`), so any
    /// commit, a token's revocation among them, makes them read again. `None` while the
    /// header is being rewritten.
    pub fn epoch(&self) -> Option<u64> {
        let header = self.header()?;
        let mut epoch = self.epoch.lock().ok()?;
        if epoch.0 != header {
            *epoch = (header, epoch.1 + 1);
        }
        Some(epoch.1)
    }

    /// Generations answered with no statement (nothing committed since the last read), and
    /// read from the file, since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.unchanged.load(Ordering::Relaxed),
            self.read.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::WalIndex;

    fn connection(path: &str) -> SqliteConnection {
        let mut conn = SqliteConnection::establish(path).expect("open");
        conn.batch_execute("PRAGMA busy_timeout = 10000")
            .expect("busy");
        conn
    }

    /// A file in WAL mode with a table `t`, its folder, and a connection that writes to it.
    fn wal_file() -> (tempfile::TempDir, String, SqliteConnection) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("registry.db").display().to_string();
        let mut writer = connection(&path);
        writer
            .batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER);")
            .expect("set up");
        (dir, path, writer)
    }

    #[test]
    fn the_generation_is_read_again_after_every_commit_and_only_then() {
        let (_dir, path, mut writer) = wal_file();
        writer
            .batch_execute("INSERT INTO t VALUES (1)")
            .expect("commit");
        let index = WalIndex::open(&path).expect("a WAL file's index is mapped");
        let reads = Cell::new(0);
        let ask = |answer: i64| {
            index.generation(|| {
                reads.set(reads.get() + 1);
                Some(answer)
            })
        };
        assert_eq!(ask(1), Some(1));
        assert_eq!(
            ask(99),
            Some(1),
            "nothing committed: the answer read before"
        );
        assert_eq!(reads.get(), 1);
        for n in 2..6 {
            writer
                .batch_execute(&format!("INSERT INTO t VALUES ({n})"))
                .expect("commit");
            assert_eq!(ask(n), Some(n), "a commit makes it read again");
            assert_eq!(ask(99), Some(n));
        }
        // A commit through a connection of another kind (here: in a transaction of several
        // statements), and a checkpoint that starts the log over, are seen too.
        writer
            .batch_execute(
                "PRAGMA wal_checkpoint(TRUNCATE); BEGIN; INSERT INTO t VALUES (7); \
                 UPDATE t SET n = n + 1; COMMIT;",
            )
            .expect("commit");
        assert_eq!(ask(7), Some(7));
        // A transaction rolled back changes nothing a reader could see.
        writer
            .batch_execute("BEGIN; INSERT INTO t VALUES (8); ROLLBACK;")
            .expect("rollback");
        assert_eq!(ask(99), Some(7));
        assert_eq!(reads.get(), 6);
        assert_eq!(index.counts(), (6, 6));
        // No answer to the read: nothing known, and nothing kept.
        writer
            .batch_execute("INSERT INTO t VALUES (9)")
            .expect("commit");
        assert_eq!(index.generation(|| None), None);
        assert_eq!(ask(9), Some(9));
    }

    #[test]
    fn the_epoch_moves_with_every_commit_and_only_then() {
        let (_dir, path, mut writer) = wal_file();
        let index = WalIndex::open(&path).expect("watched");
        let first = index.epoch().expect("epoch");
        assert_eq!(index.epoch(), Some(first));
        writer
            .batch_execute("BEGIN; INSERT INTO t VALUES (1); ROLLBACK;")
            .expect("rollback");
        assert_eq!(index.epoch(), Some(first), "nothing committed");
        let mut seen = vec![first];
        for n in 0..4 {
            writer
                .batch_execute(&format!("INSERT INTO t VALUES ({n})"))
                .expect("commit");
            if n == 2 {
                // Two commits before the next look move it once; it never comes back.
                writer
                    .batch_execute("PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t VALUES (9)")
                    .expect("commit");
            }
            let now = index.epoch().expect("epoch");
            assert!(!seen.contains(&now), "{seen:?} {now}");
            assert_eq!(index.epoch(), Some(now));
            seen.push(now);
        }
    }

    #[test]
    fn a_file_without_a_wal_index_is_not_watched() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("rollback.db").display().to_string();
        connection(&path)
            .batch_execute("CREATE TABLE t (n INTEGER)")
            .expect("set up");
        assert!(WalIndex::open(&path).is_none());
        assert!(
            !dir.path().join("rollback.db-shm").exists(),
            "watching leaves no index behind"
        );
        assert!(WalIndex::open(":memory:").is_none());
        assert!(WalIndex::open(&dir.path().join("missing.db").display().to_string()).is_none());
    }
}
