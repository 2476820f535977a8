//! Read replicas: PostgreSQL standbys (`DATABASE_READ_URLS`) that answer reads.
//!
//! A monitor thread asks the primary for its WAL position and each standby for how far it
//! has replayed, four times a second. A standby is used while it answers, is still in
//! recovery (a promoted standby has left the primary's timeline and is not used) and lags by
//! at most the configured bound; otherwise it is skipped, and used again once it qualifies.
//!
//! Lag is measured against the primary's own history: the monitor keeps the primary's WAL
//! position of the last minute, sampled at each round; a standby that has replayed what the
//! primary had at time `t` (and not what it had after) lags by `now - t`. A standby that has
//! replayed everything the primary has written lags by nothing, however long ago the last
//! write was.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::r2d2;
use diesel::sql_types::{BigInt, Bool};

use super::{AnyConnection, ConnectionManager, LogConnectionError, Pool};

/// How often the monitor looks.
const ROUND: Duration = Duration::from_millis(250);
/// How much of the primary's history is kept to measure lag (lag beyond it reads as this).
const HISTORY: Duration = Duration::from_secs(60);

/// What `/readyz` and `/metrics` say of one standby.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct StandbyHealth {
    /// The standby's host, port and database (no user or password), e.g.
    /// `10.0.0.12:5432/registry`.
    pub name: String,
    /// `ok` (serving reads), `lagging` (beyond the bound), `down` (not answering),
    /// `not_in_recovery` (promoted: no longer a standby of the primary) or `starting` (not
    /// asked yet).
    #[schema(example = "ok")]
    pub state: &'static str,
    /// How far behind the primary it is, in milliseconds (as of the monitor's last round).
    pub lag_ms: Option<u64>,
    /// Why it is not used, when it is not.
    pub detail: Option<String>,
    /// Reads it has answered for this process since start.
    pub reads: u64,
}

struct Standby {
    name: String,
    pool: Pool,
    /// Set by the monitor; read on every routed request.
    usable: AtomicBool,
    replayed: AtomicU64,
    lag_ms: AtomicU64,
    reads: AtomicU64,
    state: Mutex<(&'static str, Option<String>)>,
}

/// The standbys of one process and what the monitor last saw of them.
pub struct Standbys {
    standbys: Vec<Standby>,
    max_lag: Duration,
    next: AtomicUsize,
}

impl Standbys {
    /// Pools for each standby URL (opened lazily: a standby that is down at start is only
    /// skipped) and the monitor thread, which ends when the process's last reference goes.
    pub fn start(
        urls: &[String],
        pool_size: u32,
        max_lag: Duration,
        primary: Pool,
    ) -> Result<Arc<Self>, String> {
        let mut standbys = Vec::new();
        for url in urls {
            if super::Backend::of(url) != super::Backend::Postgres {
                return Err(format!(
                    "read replica `{}` (DATABASE_READ_URLS) is not a postgres:// URL: read \
                     replicas are PostgreSQL standbys",
                    redacted(url)
                ));
            }
            let pool = r2d2::Pool::builder()
                .max_size(pool_size)
                .min_idle(Some(0))
                .connection_timeout(Duration::from_secs(1))
                .test_on_check_out(false)
                .error_handler(Box::new(LogConnectionError))
                .build_unchecked(ConnectionManager::new(url));
            standbys.push(Standby {
                name: redacted(url),
                pool,
                usable: AtomicBool::new(false),
                replayed: AtomicU64::new(0),
                lag_ms: AtomicU64::new(0),
                reads: AtomicU64::new(0),
                state: Mutex::new(("starting", None)),
            });
        }
        let this = Arc::new(Self {
            standbys,
            max_lag,
            next: AtomicUsize::new(0),
        });
        let weak = Arc::downgrade(&this);
        std::thread::Builder::new()
            .name("registry-standbys".into())
            .spawn(move || {
                let mut history: VecDeque<(Instant, u64)> = VecDeque::new();
                loop {
                    let Some(this) = weak.upgrade() else { return };
                    this.round(&primary, &mut history);
                    drop(this);
                    std::thread::sleep(ROUND);
                }
            })
            .map_err(|e| format!("cannot start the standby monitor: {e}"))?;
        Ok(this)
    }

    pub fn is_empty(&self) -> bool {
        self.standbys.is_empty()
    }

    /// A standby for a read that must see at least `lsn` (when given), taken in turn among
    /// those usable; `None` when none qualifies (the primary answers).
    pub fn choose(&self, lsn: Option<u64>) -> Option<usize> {
        let count = self.standbys.len();
        if count == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..count).map(|i| (start + i) % count).find(|&i| {
            let standby = &self.standbys[i];
            standby.usable.load(Ordering::Acquire)
                && lsn.is_none_or(|lsn| standby.replayed.load(Ordering::Acquire) >= lsn)
        })
    }

    pub fn pool(&self, index: usize) -> &Pool {
        &self.standbys[index].pool
    }

    /// A read was answered by standby `index`.
    pub fn served(&self, index: usize) {
        self.standbys[index].reads.fetch_add(1, Ordering::Relaxed);
    }

    /// A read on standby `index` failed for a reason of the server's: skip it until the
    /// monitor sees it answer again.
    pub fn failed(&self, index: usize, error: &str) {
        let standby = &self.standbys[index];
        if standby.usable.swap(false, Ordering::AcqRel) {
            tracing::warn!(standby = %standby.name, %error, "a read on a standby failed; it is skipped");
            *standby.state.lock().unwrap_or_else(|e| e.into_inner()) =
                ("down", Some(error.to_owned()));
        }
    }

    pub fn health(&self) -> Vec<StandbyHealth> {
        self.standbys
            .iter()
            .map(|standby| {
                let (state, detail) = standby
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                StandbyHealth {
                    name: standby.name.clone(),
                    state,
                    lag_ms: matches!(state, "ok" | "lagging")
                        .then(|| standby.lag_ms.load(Ordering::Relaxed)),
                    detail,
                    reads: standby.reads.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    fn round(&self, primary: &Pool, history: &mut VecDeque<(Instant, u64)>) {
        let now = Instant::now();
        let written = primary
            .get_timeout(Duration::from_secs(1))
            .ok()
            .and_then(|mut conn| {
                diesel::select(diesel::dsl::sql::<BigInt>(
                    "(pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint",
                ))
                .get_result::<i64>(&mut *conn)
                .ok()
            });
        if let Some(written) = written {
            history.push_back((now, written as u64));
            while history
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > HISTORY)
            {
                history.pop_front();
            }
        }
        for standby in &self.standbys {
            let (state, detail, lag) = match ask(standby) {
                Err(error) => ("down", Some(error), None),
                Ok((false, _)) => (
                    "not_in_recovery",
                    Some("the server is not a standby (promoted?): it is not used".to_owned()),
                    None,
                ),
                Ok((true, replayed)) => {
                    standby.replayed.store(replayed, Ordering::Release);
                    let lag = lag_of(history, replayed, now);
                    standby
                        .lag_ms
                        .store(lag.as_millis() as u64, Ordering::Relaxed);
                    if lag > self.max_lag {
                        let detail = format!(
                            "{} ms behind the primary, more than the bound of {} ms",
                            lag.as_millis(),
                            self.max_lag.as_millis()
                        );
                        ("lagging", Some(detail), Some(lag))
                    } else {
                        ("ok", None, Some(lag))
                    }
                }
            };
            let usable = state == "ok";
            let was = standby.usable.swap(usable, Ordering::AcqRel);
            if was != usable {
                match &detail {
                    Some(detail) => {
                        tracing::warn!(standby = %standby.name, state, %detail, "standby skipped")
                    }
                    None => {
                        tracing::info!(standby = %standby.name, lag_ms = ?lag.map(|l| l.as_millis()), "standby serving reads")
                    }
                }
            }
            *standby.state.lock().unwrap_or_else(|e| e.into_inner()) = (state, detail);
        }
    }
}

/// Whether the standby is in recovery, and how far it has replayed.
fn ask(standby: &Standby) -> Result<(bool, u64), String> {
    let mut conn = standby
        .pool
        .get_timeout(Duration::from_secs(1))
        .map_err(|e| e.to_string())?;
    let conn: &mut AnyConnection = &mut conn;
    diesel::select((
        diesel::dsl::sql::<Bool>("pg_is_in_recovery()"),
        diesel::dsl::sql::<BigInt>(
            "(coalesce(pg_last_wal_replay_lsn(), '0/0'::pg_lsn) - '0/0'::pg_lsn)::bigint",
        ),
    ))
    .get_result::<(bool, i64)>(conn)
    .map(|(in_recovery, replayed)| (in_recovery, replayed.max(0) as u64))
    .map_err(|e| e.to_string())
}

/// How long ago the primary was at the position a standby has replayed to.
fn lag_of(history: &VecDeque<(Instant, u64)>, replayed: u64, now: Instant) -> Duration {
    match history.back() {
        None => Duration::ZERO,
        Some((_, latest)) if replayed >= *latest => Duration::ZERO,
        Some(_) => {
            // The first sample the standby has not reached: it has everything before it.
            match history.iter().find(|(_, written)| *written > replayed) {
                Some((at, _)) => now.duration_since(*at),
                None => Duration::ZERO,
            }
        }
    }
}

/// `host:port/database` of a PostgreSQL URL, without user or password.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => format!(
            "{}:{}{}",
            url.host_str().unwrap_or("localhost"),
            url.port().unwrap_or(5432),
            url.path()
        ),
        Err(_) => "(a URL that does not parse)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_the_age_of_the_first_write_not_replayed() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let history: VecDeque<_> = [(at(0), 100), (at(250), 100), (at(500), 180), (at(750), 200)]
            .into_iter()
            .collect();
        let now = at(1000);
        assert_eq!(lag_of(&history, 200, now), Duration::ZERO, "caught up");
        assert_eq!(
            lag_of(&history, 250, now),
            Duration::ZERO,
            "ahead of the sample"
        );
        assert_eq!(lag_of(&history, 180, now), Duration::from_millis(250));
        assert_eq!(lag_of(&history, 100, now), Duration::from_millis(500));
        assert_eq!(lag_of(&history, 50, now), Duration::from_millis(1000));
    }

    #[test]
    fn a_url_is_named_without_its_password() {
        assert_eq!(
            redacted("postgres://app:secret@db2.example:5433/registry?sslmode=require"),
            "db2.example:5433/registry"
        );
    }
}
