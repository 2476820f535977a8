//! `Idempotency-Key` on POST: the first response is kept for 24 hours and replayed for a retry
//! with the same key and body; the same key with another body is refused (422). The key is
//! stored in the transaction of the write itself, so a retry can never write twice.

use chrono::Duration;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::schema::idempotency_keys;
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// A response as first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: String,
}

/// The key of one caller's request, and what identifies its body.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub caller: String,
    pub key: String,
    pub request_hash: String,
}

impl IdempotentRequest {
    /// From the header value; 400 when it is not a usable key.
    pub fn new(
        caller: String,
        key: &str,
        method_and_path: &str,
        body: &[u8],
    ) -> Result<Self, ApiError> {
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(ApiError::bad_parameter(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters (a UUID is a good key)",
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(method_and_path.as_bytes());
        hasher.update([0]);
        hasher.update(body);
        Ok(Self {
            caller,
            key: key.to_owned(),
            request_hash: hex::encode(hasher.finalize()),
        })
    }
}

fn cutoff() -> Timestamp {
    Timestamp::from(Timestamp::now().get() - Duration::hours(RETENTION_HOURS))
}

/// The stored response for this key, if a live one exists: `Err(422)` if it was for another
/// body.
pub fn replay(
    conn: &mut AnyConnection,
    request: &IdempotentRequest,
) -> Result<Option<StoredResponse>, ApiError> {
    type Row = (String, i32, Option<String>, Option<String>, String);
    let row: Option<Row> = idempotency_keys::table
        .filter(idempotency_keys::caller.eq(&request.caller))
        .filter(idempotency_keys::key.eq(&request.key))
        .filter(idempotency_keys::created_at.gt(cutoff()))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::location,
            idempotency_keys::etag,
            idempotency_keys::body,
        ))
        .first(conn)
        .optional()?;
    match row {
        None => Ok(None),
        Some((hash, ..)) if hash != request.request_hash => Err(ApiError::invalid(
            "Idempotency-Key",
            "was used for a request with another body or path; use a new key",
        )),
        Some((_, status, location, etag, body)) => Ok(Some(StoredResponse {
            status: u16::try_from(status).unwrap_or(200),
            location,
            etag,
            body,
        })),
    }
}

/// Keeps the response of a first request; expired keys are cleared on the way.
pub fn remember(
    conn: &mut AnyConnection,
    request: &IdempotentRequest,
    response: &StoredResponse,
) -> Result<(), ApiError> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.le(cutoff())))
        .execute(conn)?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::caller.eq(&request.caller),
            idempotency_keys::key.eq(&request.key),
            idempotency_keys::request_hash.eq(&request.request_hash),
            idempotency_keys::status.eq(i32::from(response.status)),
            idempotency_keys::location.eq(&response.location),
            idempotency_keys::etag.eq(&response.etag),
            idempotency_keys::body.eq(&response.body),
            idempotency_keys::created_at.eq(Timestamp::now()),
        ))
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => ApiError::conflict(
                "a request with this Idempotency-Key is in progress; retry it shortly",
            ),
            other => other.into(),
        })?;
    Ok(())
}
