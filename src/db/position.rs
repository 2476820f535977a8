//! Read-your-writes across processes and standbys: a write's response names the point the
//! registry reached with it (`X-Registry-Position`, also set as the `registry_position`
//! cookie), and a read that sends it back is answered from a state at least that new.
//!
//! A position is the registry's generation after the write and, with read replicas, the
//! primary's WAL position after its commit: `1042-0/16B3748` (generation, then the LSN as
//! PostgreSQL writes it). Clients treat it as opaque.
//!
//! Each request runs inside a [`RequestReads`] (a task-local set by [`middleware`]): what it
//! asks for, which database its reads were routed to, and the position its writes reached.

use std::cell::Cell;
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue, SET_COOKIE};
use actix_web::middleware::Next;

use crate::error::ApiError;

pub const HEADER: &str = "x-registry-position";
pub const COOKIE: &str = "registry_position";
/// How long a browser keeps the position cookie: far longer than any standby may lag before
/// it is skipped.
const COOKIE_SECONDS: u32 = 300;

/// A point the registry has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub generation: i64,
    /// The primary's WAL position (bytes) after the commit, when read replicas are in use.
    pub lsn: Option<u64>,
}

impl Position {
    /// A generation alone, with no WAL position (SQLite, or no read replicas).
    pub fn generation(generation: i64) -> Self {
        Self {
            generation,
            lsn: None,
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (generation, lsn) = match text.split_once('-') {
            Some((generation, lsn)) => (generation, Some(lsn)),
            None => (text, None),
        };
        let generation = generation
            .parse::<i64>()
            .ok()
            .filter(|g| *g >= 0)
            .ok_or_else(|| format!("`{text}` is not a position"))?;
        let lsn = match lsn {
            None => None,
            Some(lsn) => Some(parse_lsn(lsn).ok_or_else(|| format!("`{text}` is not a position"))?),
        };
        Ok(Self { generation, lsn })
    }

    /// The later of two positions of the same registry.
    pub fn max(self, other: Self) -> Self {
        Self {
            generation: self.generation.max(other.generation),
            lsn: match (self.lsn, other.lsn) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.generation)?;
        if let Some(lsn) = self.lsn {
            write!(f, "-{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)?;
        }
        Ok(())
    }
}

/// PostgreSQL's text form of an LSN, `16/B374D848`.
fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    let valid = |part: &str| !part.is_empty() && part.len() <= 8;
    if !valid(high) || !valid(low) {
        return None;
    }
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    Some(high << 32 | low)
}

/// Where one request's reads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Primary,
    Standby(usize),
}

/// What one request asks of its reads, and what its writes reached.
#[derive(Debug, Default)]
pub struct RequestReads {
    /// The position the client sent back: reads must be at least this new.
    pub wants: Option<Position>,
    /// Whether the request only reads (`GET`, `HEAD`): only those may go to a standby; a
    /// write, and the reads it makes before writing, go to the primary.
    pub may_use_standby: bool,
    /// The database this request's reads were sent to, once chosen.
    pub route: Cell<Option<Route>>,
    /// The position the request's writes reached.
    pub written: Cell<Option<Position>>,
}

tokio::task_local! {
    static REQUEST: Rc<RequestReads>;
}

/// Calls `f` with the current request's reads, if this runs inside a request.
pub fn with_request<T>(f: impl FnOnce(&RequestReads) -> T) -> Option<T> {
    REQUEST.try_with(|reads| f(reads)).ok()
}

/// Records that a write of this request reached `position`.
pub fn wrote(position: Position) {
    with_request(|reads| {
        let reached = match reads.written.get() {
            Some(earlier) => earlier.max(position),
            None => position,
        };
        reads.written.set(Some(reached));
    });
}

/// Reads the position a request sends back and runs it inside its [`RequestReads`]; answers a
/// write with the position it reached.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let header = match req.headers().get(HEADER) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| "not text".to_owned())
                .and_then(Position::parse)
                .map_err(|problem| {
                    ApiError::bad_request(format!(
                        "X-Registry-Position: {problem}; send back the value of the \
                         X-Registry-Position header of a write's response as it came, e.g. \
                         `1042-0/16B3748`"
                    ))
                })?,
        ),
    };
    // A cookie is sent by a browser on its own, possibly long after: one that does not parse
    // (an older format, a mangled value) is ignored rather than refused.
    let cookie = req
        .headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .and_then(|(_, value)| Position::parse(value).ok());
    let wants = match (header, cookie) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let reads = Rc::new(RequestReads {
        wants,
        may_use_standby: matches!(*req.method(), Method::GET | Method::HEAD),
        ..RequestReads::default()
    });
    let mut response = REQUEST.scope(reads.clone(), next.call(req)).await?;
    if let Some(position) = reads.written.get()
        && response.status().is_success()
    {
        let text = position.to_string();
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&text) {
            headers.insert(HeaderName::from_static(HEADER), value);
        }
        let cookie =
            format!("{COOKIE}={text}; Path=/; Max-Age={COOKIE_SECONDS}; HttpOnly; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(SET_COOKIE, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_reads_back_as_written() {
        for text in ["0", "1042", "1042-0/16B3748", "7-16/B374D848"] {
            assert_eq!(Position::parse(text).unwrap().to_string(), text);
        }
        let position = Position::parse("1042-16/B374D848").unwrap();
        assert_eq!(position.generation, 1042);
        assert_eq!(position.lsn, Some(0x16_B374_D848));
    }

    #[test]
    fn what_is_not_a_position_is_refused() {
        for text in [
            "",
            "-1",
            "x",
            "12-",
            "12-0",
            "12-/1",
            "12-0/",
            "12-0/G",
            "12-123456789/0",
            "1.5",
        ] {
            assert!(Position::parse(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn the_later_of_two_positions_takes_each_part() {
        let a = Position::parse("5-0/10").unwrap();
        let b = Position::parse("7").unwrap();
        assert_eq!(a.max(b), Position::parse("7-0/10").unwrap());
    }
}
