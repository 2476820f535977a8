//! Webhooks and their deliveries: the outbox the dispatcher (`crate::webhooks`) sends from.
//!
//! A webhook holds its position in the change feed (`change_cursor`). Fanning out reads the
//! changes after it as the webhook's viewer sees them, inserts one delivery per change the
//! webhook asks for and moves the cursor, all in one write transaction: a change committed is
//! fanned out exactly once, whatever crashes. A delivery is claimed for sending with a lease
//! (its `next_attempt_at` moved past the send's timeout), so several processes never send it
//! at once, and one killed mid-send leaves it to be sent again when the lease runs out.
//!
//! The secret is stored as given, not hashed: every delivery is signed with it.

//!
//! This module holds the webhooks themselves; `outbox` is the dispatcher's side (fan-out,
//! claims, outcomes) and `deliveries` the delivery log clients read.

mod deliveries;
mod outbox;

pub use deliveries::{DeliveryPage, DeliveryResponse, deliveries, redeliver};
pub use outbox::{
    Claimed, Due, FannedOut, Outcome, Subscription, claim, current_data, due, due_webhooks,
    excerpt, fan_out, has_news, record, subscriptions,
};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::WebhookId;
use crate::store::Viewer;
use crate::store::changes::{self, ChangeAction};
use crate::store::pagination::{Cursor, split_page};

/// The longest `last_error` kept.
pub const ERROR_EXCERPT_CHARS: usize = 200;

/// A kind of record a webhook can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookResource {
    Organisation,
    Person,
    Network,
    Membership,
    Event,
    Chain,
    Programme,
    Comment,
    Publication,
    Outcome,
}

impl WebhookResource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Person => "person",
            Self::Network => "network",
            Self::Membership => "membership",
            Self::Event => "event",
            Self::Chain => "chain",
            Self::Programme => "programme",
            Self::Comment => "comment",
            Self::Publication => "publication",
            Self::Outcome => "outcome",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Organisation,
            Self::Person,
            Self::Network,
            Self::Membership,
            Self::Event,
            Self::Chain,
            Self::Programme,
            Self::Comment,
            Self::Publication,
            Self::Outcome,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }
}

/// A webhook as checked by the route: what is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidWebhook {
    pub url: String,
    pub description: Option<String>,
    pub resources: Vec<WebhookResource>,
    pub actions: Vec<ChangeAction>,
    pub include_internal: bool,
    pub enabled: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    id: WebhookId,
    url: String,
    description: Option<String>,
    resources: String,
    actions: String,
    include_internal: bool,
    enabled: bool,
    change_cursor: String,
    failing_since: Option<Timestamp>,
    disabled_reason: Option<String>,
    version: i32,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// A webhook: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WebhookResponse {
    /// The webhook's id.
    pub id: WebhookId,
    /// Where deliveries are POSTed (http or https).
    #[schema(example = "https://partner.example.org/hooks/registry")]
    pub url: String,
    /// What the webhook is for, in a line; `null` when not given.
    #[schema(example = "Partner site: rebuild event pages")]
    pub description: Option<String>,
    /// The kinds of record whose changes are delivered; empty for all.
    pub resources: Vec<WebhookResource>,
    /// The actions delivered (as the webhook's viewer sees them, see `include_internal`);
    /// empty for all.
    pub actions: Vec<ChangeAction>,
    /// Whether changes to `internal` events are delivered, with their data. When `false` the
    /// public view of the change feed applies: internal events are left out, an event that
    /// becomes internal is delivered as `deleted` and one that becomes public as `created`.
    pub include_internal: bool,
    /// Whether changes are delivered. A disabled webhook's deliveries wait; when it is
    /// enabled again it goes on from where it stopped.
    pub enabled: bool,
    /// Why the registry disabled the webhook (after a day of failed deliveries); `null`
    /// otherwise. Enabling it again clears this.
    #[schema(example = "disabled after failing for 24 hours: HTTP 503")]
    pub disabled_reason: Option<String>,
    /// Since when every delivery attempt has failed (RFC 3339, UTC); `null` while the last
    /// attempt succeeded. After a day the webhook is disabled.
    #[serde(with = "crate::domain::time::instant::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<DateTime<Utc>>,
    /// Grows with every change made through the API (the ETag changes with it).
    #[schema(example = 1)]
    pub version: i32,
    /// When it was created (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

/// A new webhook, or one whose secret was rotated: the only responses that show the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookResponse,
    /// The signing secret, shown once (Standard Webhooks form: `whsec_` and the base64 of 32
    /// random bytes). Verify each delivery's `webhook-signature` with it.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// A page of webhooks.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    /// The webhooks of this page, oldest first.
    pub items: Vec<WebhookResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn list_text<T: Copy>(items: &[T], name: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| name(*i)).collect::<Vec<_>>().join(",")
}

fn parse_list<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, ApiError> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).ok_or_else(|| ApiError::internal(format!("stored webhook filter {s:?}"))))
        .collect()
}

fn respond(row: &WebhookRow) -> Result<WebhookResponse, ApiError> {
    Ok(WebhookResponse {
        id: row.id,
        url: row.url.clone(),
        description: row.description.clone(),
        resources: parse_list(&row.resources, WebhookResource::parse)?,
        actions: parse_list(&row.actions, ChangeAction::parse)?,
        include_internal: row.include_internal,
        enabled: row.enabled,
        disabled_reason: row.disabled_reason.clone(),
        failing_since: row.failing_since.map(Timestamp::get),
        version: row.version,
        created_at: row.created_at.get(),
        updated_at: row.updated_at.get(),
    })
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(format!("whsec_{}", STANDARD.encode(bytes)))
}

fn parse_id(key: &str) -> Result<WebhookId, ApiError> {
    key.parse::<WebhookId>()
        .map_err(|_| ApiError::not_found("webhook", key))
}

fn row(conn: &mut AnyConnection, id: WebhookId) -> Result<WebhookRow, ApiError> {
    webhooks::table
        .filter(webhooks::id.eq(id))
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("webhook", id.to_string()))
}

/// A new webhook with a new secret; it hears of the changes committed after it.
pub fn create(conn: &mut AnyConnection, valid: &ValidWebhook) -> Result<CreatedWebhook, ApiError> {
    let now = Timestamp::now();
    let id = WebhookId::generate();
    let secret = new_secret()?;
    // The cursor of now: the webhook starts with the changes committed after this write.
    let start = changes::list(conn, None, 1, Viewer::WRITER)?.next_cursor;
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(id),
            webhooks::url.eq(&valid.url),
            webhooks::description.eq(&valid.description),
            webhooks::resources.eq(list_text(&valid.resources, WebhookResource::as_str)),
            webhooks::actions.eq(list_text(&valid.actions, ChangeAction::as_str)),
            webhooks::include_internal.eq(valid.include_internal),
            webhooks::enabled.eq(valid.enabled),
            webhooks::secret.eq(&secret),
            webhooks::change_cursor.eq(start),
            webhooks::version.eq(1),
            webhooks::created_at.eq(now),
            webhooks::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(CreatedWebhook {
        webhook: respond(&row(conn, id)?)?,
        secret,
    })
}

pub fn get(conn: &mut AnyConnection, key: &str) -> Result<WebhookResponse, ApiError> {
    respond(&row(conn, parse_id(key)?)?)
}

pub fn list(
    conn: &mut AnyConnection,
    cursor: Option<&str>,
    limit: i64,
) -> Result<WebhookPage, ApiError> {
    let mut query = webhooks::table.select(WebhookRow::as_select()).into_boxed();
    if let Some(text) = cursor {
        let cursor = Cursor::<String>::decode(text, "created")?;
        query = query.filter(webhooks::id.gt(WebhookId(cursor.id)));
    }
    let rows: Vec<WebhookRow> = query
        .order(webhooks::id.asc())
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
    Ok(WebhookPage {
        items: rows.iter().map(respond).collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// Replaces a webhook's settings if it is still at `version` (else 412). Enabling a webhook
/// clears why it was disabled.
pub fn update(
    conn: &mut AnyConnection,
    id: WebhookId,
    version: i32,
    valid: &ValidWebhook,
) -> Result<WebhookResponse, ApiError> {
    let before = row(conn, id)?;
    let revived = valid.enabled && !before.enabled;
    let changed = diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::version.eq(version)),
    )
    .set((
        webhooks::url.eq(&valid.url),
        webhooks::description.eq(&valid.description),
        webhooks::resources.eq(list_text(&valid.resources, WebhookResource::as_str)),
        webhooks::actions.eq(list_text(&valid.actions, ChangeAction::as_str)),
        webhooks::include_internal.eq(valid.include_internal),
        webhooks::enabled.eq(valid.enabled),
        webhooks::version.eq(version + 1),
        webhooks::updated_at.eq(Timestamp::now()),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    if revived {
        diesel::update(webhooks::table.filter(webhooks::id.eq(id)))
            .set((
                webhooks::disabled_reason.eq(None::<String>),
                webhooks::failing_since.eq(None::<Timestamp>),
            ))
            .execute(conn)?;
    }
    respond(&row(conn, id)?)
}

/// A new secret for the webhook; the old one stops signing at once.
pub fn rotate_secret(conn: &mut AnyConnection, key: &str) -> Result<CreatedWebhook, ApiError> {
    let id = parse_id(key)?;
    let before = row(conn, id)?;
    let secret = new_secret()?;
    diesel::update(webhooks::table.filter(webhooks::id.eq(id)))
        .set((
            webhooks::secret.eq(&secret),
            webhooks::version.eq(before.version + 1),
            webhooks::updated_at.eq(Timestamp::now()),
        ))
        .execute(conn)?;
    Ok(CreatedWebhook {
        webhook: respond(&row(conn, id)?)?,
        secret,
    })
}

/// Deletes a webhook and its delivery log if still at `version` (else 412).
pub fn delete(conn: &mut AnyConnection, id: WebhookId, version: i32) -> Result<(), ApiError> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    let deleted = diesel::delete(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::version.eq(version)),
    )
    .execute(conn)?;
    if deleted == 0 {
        row(conn, id)?;
        return Err(ApiError::PreconditionFailed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_follow_standard_webhooks() {
        let secret = new_secret().expect("random");
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("prefix"))
            .expect("base64");
        assert_eq!(key.len(), 32);
    }
}
