//! Calendar feed keys: read-only secrets a calendar client puts in a feed's URL
//! (`?key=…`), since it cannot send an `Authorization` header. A key only lets its holder read
//! the `.ics` feeds with internal events included; it is never a bearer token (it lives in its
//! own table, which the token check never reads). Stored as SHA-256 hashes, as tokens are;
//! created, listed and revoked as tokens are.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::feed_keys;
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::FeedKeyId;
use crate::store::pagination::{Cursor, split_page};
use crate::store::tokens::{
    KeptCredentials, Refusal, check_stored, hash, is_active, random_secret,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = feed_keys)]
struct FeedKeyRow {
    id: FeedKeyId,
    name: String,
    secret_hash: String,
    created_at: Timestamp,
    expires_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
}

/// A feed key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FeedKeyResponse {
    /// The key's id (not its secret); `DELETE /api/v1/feed-keys/{id}` revokes it.
    pub id: FeedKeyId,
    /// Who or what uses it (a person's calendar, a shared mailbox), as given at creation.
    #[schema(example = "secretariat-outlook")]
    pub name: String,
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

/// A new feed key: the only response that carries the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedFeedKey {
    #[serde(flatten)]
    pub key: FeedKeyResponse,
    /// The secret, shown once: add `?key=<secret>` to a feed's URL (`/api/v1/events.ics`,
    /// `/api/v1/networks/{id}/meetings.ics`, …). It works nowhere else.
    #[schema(example = "mrf_Vb0q6Jm3zH1cXy8kTn2pWd5sRf4gLa7eUo9iQw0tE3Y")]
    pub secret: String,
}

/// A page of feed keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedKeyPage {
    /// The keys of this page, oldest first.
    pub items: Vec<FeedKeyResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn respond(row: FeedKeyRow, now: Timestamp) -> FeedKeyResponse {
    FeedKeyResponse {
        id: row.id,
        name: row.name,
        created_at: row.created_at.get(),
        expires_at: row.expires_at.map(Timestamp::get),
        revoked_at: row.revoked_at.map(Timestamp::get),
        active: is_active(row.revoked_at, row.expires_at, now),
    }
}

/// A new feed key with a random secret.
pub fn create(
    conn: &mut AnyConnection,
    name: &str,
    expires_at: Option<Timestamp>,
) -> Result<CreatedFeedKey, ApiError> {
    let secret = random_secret("mrf_")?;
    let now = Timestamp::now();
    let row = FeedKeyRow {
        id: FeedKeyId::generate(),
        name: name.to_owned(),
        secret_hash: hash(&secret),
        created_at: now,
        expires_at,
        revoked_at: None,
    };
    diesel::insert_into(feed_keys::table)
        .values((
            feed_keys::id.eq(row.id),
            feed_keys::name.eq(&row.name),
            feed_keys::secret_hash.eq(&row.secret_hash),
            feed_keys::created_at.eq(row.created_at),
            feed_keys::expires_at.eq(row.expires_at),
        ))
        .execute(conn)?;
    Ok(CreatedFeedKey {
        key: respond(row, now),
        secret,
    })
}

/// A feed key as stored, found by the hash of a presented secret; [`judge`] says whether it
/// works.
#[derive(Debug, Clone)]
pub struct StoredFeedKey(FeedKeyRow);

/// The feed keys a process keeps (see [`KeptCredentials`]).
pub type VerifiedFeedKeys = KeptCredentials<StoredFeedKey>;

/// The feed key whose secret hashes to `presented` (see [`hash`]), if there is one.
pub fn find(conn: &mut AnyConnection, presented: &str) -> Result<Option<StoredFeedKey>, ApiError> {
    Ok(feed_keys::table
        .filter(feed_keys::secret_hash.eq(presented))
        .select(FeedKeyRow::as_select())
        .first::<FeedKeyRow>(conn)
        .optional()?
        .map(StoredFeedKey))
}

/// Whether `stored` is the key of the presented secret (`presented`, its hash) and works at
/// `now`.
pub fn judge(
    stored: Option<&StoredFeedKey>,
    presented: &str,
    now: Timestamp,
) -> Result<(), Refusal> {
    let Some(StoredFeedKey(row)) = stored else {
        return Err(Refusal::Unknown);
    };
    check_stored(
        &row.secret_hash,
        presented,
        row.revoked_at,
        row.expires_at,
        now,
    )
}

pub fn list(
    conn: &mut AnyConnection,
    cursor: Option<&str>,
    limit: i64,
) -> Result<FeedKeyPage, ApiError> {
    let mut query = feed_keys::table
        .select(FeedKeyRow::as_select())
        .into_boxed();
    if let Some(text) = cursor {
        let cursor = Cursor::<String>::decode(text, "created")?;
        query = query.filter(feed_keys::id.gt(FeedKeyId(cursor.id)));
    }
    let rows: Vec<FeedKeyRow> = query
        .order(feed_keys::id.asc())
        .limit(limit + 1)
        .load(conn)?;
    let (rows, next_cursor) = split_page(rows, limit, |row| {
        Cursor {
            sort: "created".to_owned(),
            key: String::new(),
            id: row.id.0,
        }
        .encode()
    });
    let now = Timestamp::now();
    Ok(FeedKeyPage {
        items: rows.into_iter().map(|r| respond(r, now)).collect(),
        next_cursor,
    })
}

pub fn get(conn: &mut AnyConnection, id: &str) -> Result<FeedKeyResponse, ApiError> {
    let key_id = uuid::Uuid::parse_str(id)
        .map(FeedKeyId)
        .map_err(|_| ApiError::not_found("feed key", id))?;
    let row = feed_keys::table
        .filter(feed_keys::id.eq(key_id))
        .select(FeedKeyRow::as_select())
        .first::<FeedKeyRow>(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("feed key", id))?;
    Ok(respond(row, Timestamp::now()))
}

/// Revokes a feed key (it stays listed, inactive); revoking twice is harmless.
pub fn revoke(conn: &mut AnyConnection, id: &str) -> Result<FeedKeyResponse, ApiError> {
    let key = get(conn, id)?;
    diesel::update(
        feed_keys::table
            .filter(feed_keys::id.eq(key.id))
            .filter(feed_keys::revoked_at.is_null()),
    )
    .set(feed_keys::revoked_at.eq(Timestamp::now()))
    .execute(conn)?;
    get(conn, id)
}
