//! API tokens: random secrets shown once, stored only as SHA-256 hashes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::db::schema::tokens;
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::Role;
use crate::error::ApiError;
use crate::ids::TokenId;
use crate::store::pagination::{Cursor, split_page};

/// Secrets shorter than this are refused (also for the bootstrap token).
pub const MIN_SECRET_LENGTH: usize = 32;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tokens)]
struct TokenRow {
    id: TokenId,
    name: String,
    role: String,
    secret_hash: String,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The token's id (not its secret); `DELETE /api/v1/tokens/{id}` revokes it.
    pub id: TokenId,
    /// Who or what uses it, as given at creation; the audit log names writers by it.
    #[schema(example = "partner-sync")]
    pub name: String,
    /// What the token may do.
    pub role: Role,
    /// When it was created (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// The instant it stops working (RFC 3339, UTC: the midnight after its last day); `null`
    /// when it does not expire.
    #[serde(with = "crate::domain::time::instant::option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked (RFC 3339, UTC); `null` while not revoked.
    #[serde(with = "crate::domain::time::instant::option")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether it works now: not revoked and not expired.
    pub active: bool,
}

/// A new token: the only response that carries the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenResponse,
    /// The secret, shown once: send it as `Authorization: Bearer <token>`.
    #[schema(example = "mr_3q2-7wVt0bX0Ayr6xk3pYb6o7c2VvQGm3n5sEw9dJ1Q")]
    pub secret: String,
}

/// A page of tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPage {
    /// The tokens of this page, oldest first.
    pub items: Vec<TokenResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub id: TokenId,
    pub name: String,
    pub role: Role,
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked,
}

/// How a secret is stored (tokens and feed keys alike): its SHA-256, hex.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether a stored secret, found by `presented` (the hash of what the caller sent), works
/// at `now` (tokens and feed keys alike). The lookup was by hash; the hashes are compared again
/// without an early exit all the same.
pub(super) fn check_stored(
    stored: &str,
    presented: &str,
    revoked_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), Refusal> {
    if !bool::from(stored.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(Refusal::Unknown);
    }
    if revoked_at.is_some() {
        return Err(Refusal::Revoked);
    }
    if !is_active(revoked_at, expires_at, now) {
        return Err(Refusal::Expired);
    }
    Ok(())
}

/// Not revoked and not expired at `now`.
pub(super) fn is_active(
    revoked_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> bool {
    revoked_at.is_none() && expires_at.is_none_or(|e| e > now)
}

/// A fresh secret: 256 random bits.
pub fn generate_secret() -> Result<String, ApiError> {
    random_secret("mr_")
}

/// 256 random bits, base64url, after `prefix` (which tells a token from a feed key at a
/// glance).
pub(super) fn random_secret(prefix: &str) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

fn respond(row: TokenRow, now: Timestamp) -> Result<TokenResponse, ApiError> {
    let role = Role::parse(&row.role)
        .ok_or_else(|| ApiError::internal(format!("stored role {:?}", row.role)))?;
    Ok(TokenResponse {
        id: row.id,
        name: row.name,
        role,
        created_at: row.created_at.get(),
        expires_at: row.expires_at.map(Timestamp::get),
        revoked_at: row.revoked_at.map(Timestamp::get),
        active: is_active(row.revoked_at, row.expires_at, now),
    })
}

/// Stores a token with a given secret (for the bootstrap token); returns `None` when a token
/// with that secret exists already.
pub fn create_with_secret(
    conn: &mut AnyConnection,
    name: &str,
    role: Role,
    expires_at: Option<Timestamp>,
    secret: &str,
) -> Result<Option<TokenResponse>, ApiError> {
    if secret.len() < MIN_SECRET_LENGTH {
        return Err(ApiError::invalid(
            "secret",
            format!("must be at least {MIN_SECRET_LENGTH} characters"),
        ));
    }
    let secret_hash = hash(secret);
    let exists: bool = diesel::select(diesel::dsl::exists(
        tokens::table.filter(tokens::secret_hash.eq(&secret_hash)),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(None);
    }
    let now = Timestamp::now();
    let row = TokenRow {
        id: TokenId::generate(),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        secret_hash,
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    diesel::insert_into(tokens::table)
        .values((
            tokens::id.eq(row.id),
            tokens::name.eq(&row.name),
            tokens::role.eq(&row.role),
            tokens::secret_hash.eq(&row.secret_hash),
            tokens::created_at.eq(row.created_at),
            tokens::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    respond(row, now).map(Some)
}

/// A new token with a random secret.
pub fn create(
    conn: &mut AnyConnection,
    name: &str,
    role: Role,
    expires_at: Option<Timestamp>,
) -> Result<CreatedToken, ApiError> {
    let secret = generate_secret()?;
    let token = create_with_secret(conn, name, role, expires_at, &secret)?
        .ok_or_else(|| ApiError::internal("a fresh secret collided"))?;
    Ok(CreatedToken { token, secret })
}

/// A token as stored, found by the hash of a presented secret; [`judge`] says whether it works.
#[derive(Debug, Clone)]
pub struct StoredToken(TokenRow);

/// The token whose secret hashes to `presented` (see [`hash`]), if there is one.
pub fn find(conn: &mut AnyConnection, presented: &str) -> Result<Option<StoredToken>, ApiError> {
    Ok(tokens::table
        .filter(tokens::secret_hash.eq(presented))
        .select(TokenRow::as_select())
        .first::<TokenRow>(conn)
        .optional()?
        .map(StoredToken))
}

/// The owner of a presented secret (`presented`, its hash), if `stored` is its token and that
/// token is valid at `now`.
pub fn judge(
    stored: Option<&StoredToken>,
    presented: &str,
    now: Timestamp,
) -> Result<Result<Authenticated, Refusal>, ApiError> {
    let Some(StoredToken(row)) = stored else {
        return Ok(Err(Refusal::Unknown));
    };
    if let Err(refusal) = check_stored(
        &row.secret_hash,
        presented,
        row.revoked_at,
        row.expires_at,
        now,
    ) {
        return Ok(Err(refusal));
    }
    let role = Role::parse(&row.role)
        .ok_or_else(|| ApiError::internal(format!("stored role {:?}", row.role)))?;
    Ok(Ok(Authenticated {
        id: row.id,
        name: row.name.clone(),
        role,
    }))
}

/// The owner of a presented secret, if the token is valid now (one look at the database).
pub fn verify(
    conn: &mut AnyConnection,
    secret: &str,
) -> Result<Result<Authenticated, Refusal>, ApiError> {
    let presented = hash(secret);
    let stored = find(conn, &presented)?;
    judge(stored.as_ref(), &presented, Timestamp::now())
}

/// Credentials (tokens, feed keys) this process has read, so that a request presenting one
/// needs no round trip to the database (on PostgreSQL, a thread hop and a round trip).
///
/// An entry is trusted only at the credentials epoch it was read at
/// ([`crate::db::Database::credentials_epoch`]). On PostgreSQL the epoch moves when any
/// process changes the `tokens` or `feed_keys` table (a trigger notifies every listening
/// process as the change commits) and whenever the listening session is lost or back; while it
/// is lost there is no epoch and every check asks the database. A credential revoked through
/// another process is therefore refused here as soon as its notification has arrived, as a
/// write is seen by a read without a position (see the README); through this process, at once.
/// On SQLite the epoch moves with any commit to the file, which the process sees in its WAL
/// index before each check: a revocation by any process is refused at once. Expiry is judged
/// afresh at each use. Unknown secrets are not kept: they ask the database every time.
pub struct KeptCredentials<T> {
    entries: quick_cache::sync::Cache<String, (u64, Arc<T>)>,
    /// Checks answered from `entries`, and by the database, for `/metrics`.
    from_memory: AtomicU64,
    from_database: AtomicU64,
}

/// The tokens a process keeps (see [`KeptCredentials`]).
pub type VerifiedTokens = KeptCredentials<StoredToken>;

impl<T> Default for KeptCredentials<T> {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl<T> KeptCredentials<T> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            from_memory: AtomicU64::new(0),
            from_database: AtomicU64::new(0),
        }
    }

    /// Counts a check answered from memory (`true`) or by the database.
    pub fn answered(&self, from_memory: bool) {
        let counter = if from_memory {
            &self.from_memory
        } else {
            &self.from_database
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Checks answered from memory and by the database since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.from_memory.load(Ordering::Relaxed),
            self.from_database.load(Ordering::Relaxed),
        )
    }

    /// The credential read for `presented` (its secret's hash) at `epoch`, if it was.
    pub fn get(&self, presented: &str, epoch: u64) -> Option<Arc<T>> {
        self.entries
            .get(presented)
            .and_then(|(read_at, stored)| (read_at == epoch).then_some(stored))
    }

    /// Keeps `stored`, read for `presented` while the epoch was `epoch`.
    pub fn keep(&self, presented: String, epoch: u64, stored: Arc<T>) {
        self.entries.insert(presented, (epoch, stored));
    }
}

pub fn list(
    conn: &mut AnyConnection,
    cursor: Option<&str>,
    limit: i64,
) -> Result<TokenPage, ApiError> {
    let mut query = tokens::table.select(TokenRow::as_select()).into_boxed();
    if let Some(text) = cursor {
        let cursor = Cursor::<String>::decode(text, "created")?;
        query = query.filter(tokens::id.gt(TokenId(cursor.id)));
    }
    let rows: Vec<TokenRow> = query.order(tokens::id.asc()).limit(limit + 1).load(conn)?;
    let (rows, next_cursor) = split_page(rows, limit, |row| {
        Cursor {
            sort: "created".to_owned(),
            key: String::new(),
            id: row.id.0,
        }
        .encode()
    });
    let now = Timestamp::now();
    Ok(TokenPage {
        items: rows
            .into_iter()
            .map(|r| respond(r, now))
            .collect::<Result<_, _>>()?,
        next_cursor,
    })
}

pub fn get(conn: &mut AnyConnection, id: &str) -> Result<TokenResponse, ApiError> {
    let token_id = uuid::Uuid::parse_str(id)
        .map(TokenId)
        .map_err(|_| ApiError::not_found("token", id))?;
    let row = tokens::table
        .filter(tokens::id.eq(token_id))
        .select(TokenRow::as_select())
        .first::<TokenRow>(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("token", id))?;
    respond(row, Timestamp::now())
}

/// Revokes a token (it stays listed, inactive); revoking twice is harmless.
pub fn revoke(conn: &mut AnyConnection, id: &str) -> Result<TokenResponse, ApiError> {
    let token = get(conn, id)?;
    diesel::update(
        tokens::table
            .filter(tokens::id.eq(token.id))
            .filter(tokens::revoked_at.is_null()),
    )
    .set(tokens::revoked_at.eq(Timestamp::now()))
    .execute(conn)?;
    get(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = generate_secret().unwrap_or_default();
        let b = generate_secret().unwrap_or_default();
        assert!(a.starts_with("mr_") && a.len() >= 40, "{a}");
        assert_ne!(a, b);
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), a);
    }
}
