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

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::{DeliveryId, RecordId, WebhookId};
use crate::store::Viewer;
use crate::store::changes::{self, ChangeAction, ChangeCursor};
use crate::store::pagination::{Cursor, split_page};
use crate::store::resource::Resource;

/// Changes read per fan-out transaction.
const FAN_OUT_PAGE: i64 = 500;
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

// ---- Fan-out ----

/// An enabled webhook's position in the change feed.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: WebhookId,
    cursor: String,
    viewer: Viewer,
}

/// The enabled webhooks.
pub fn subscriptions(conn: &mut AnyConnection) -> Result<Vec<Subscription>, ApiError> {
    let rows: Vec<(WebhookId, String, bool)> = webhooks::table
        .filter(webhooks::enabled.eq(true))
        .select((
            webhooks::id,
            webhooks::change_cursor,
            webhooks::include_internal,
        ))
        .order(webhooks::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, cursor, include_internal)| Subscription {
            id,
            cursor,
            viewer: Viewer {
                sees_internal: include_internal,
            },
        })
        .collect())
}

/// Whether the change feed holds a change after the subscription's cursor (a read, so that a
/// registry with nothing new writes nothing).
pub fn has_news(conn: &mut AnyConnection, subscription: &Subscription) -> Result<bool, ApiError> {
    let Some(cursor) = ChangeCursor::parse(&subscription.cursor) else {
        return Err(ApiError::internal(
            "a webhook's stored cursor does not parse",
        ));
    };
    match changes::list(conn, Some(cursor), 1, subscription.viewer) {
        Ok(page) => Ok(!page.items.is_empty()),
        // Behind the retention: fan_out moves it on.
        Err(ApiError::Gone { .. }) => Ok(true),
        Err(error) => Err(error),
    }
}

/// What one fan-out did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FannedOut {
    /// Deliveries queued.
    pub added: usize,
    /// Whether the page of changes was full: there may be more to fan out.
    pub more: bool,
}

/// Inserts a delivery for each change after the webhook's cursor that it asks for and moves
/// the cursor past them. Call inside a write transaction. `None` when there was nothing to
/// read (or the webhook is gone or disabled).
pub fn fan_out(conn: &mut AnyConnection, id: WebhookId) -> Result<Option<FannedOut>, ApiError> {
    let Some(hook) = webhooks::table
        .filter(webhooks::id.eq(id))
        .filter(webhooks::enabled.eq(true))
        .select(WebhookRow::as_select())
        .first::<WebhookRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let viewer = Viewer {
        sees_internal: hook.include_internal,
    };
    let resources = parse_list(&hook.resources, WebhookResource::parse)?;
    let actions = parse_list(&hook.actions, ChangeAction::parse)?;
    let cursor = ChangeCursor::parse(&hook.change_cursor)
        .ok_or_else(|| ApiError::internal("a webhook's stored cursor does not parse"))?;
    let page = match changes::list(conn, Some(cursor), FAN_OUT_PAGE, viewer) {
        Ok(page) => page,
        Err(ApiError::Gone { .. }) => {
            // The changes it missed while disabled are past the retention: go on from now.
            tracing::warn!(webhook = %id, "webhook cursor older than the change feed keeps; skipping to now");
            let now = changes::list(conn, None, 1, viewer)?.next_cursor;
            move_cursor(conn, id, &hook.change_cursor, &now)?;
            return Ok(Some(FannedOut {
                added: 0,
                more: false,
            }));
        }
        Err(error) => return Err(error),
    };
    let Some(last) = page.items.last() else {
        return Ok(None);
    };
    let last = last.cursor.clone();
    let now = Timestamp::now();
    let mut added = 0;
    for change in &page.items {
        let wanted =
            resources.is_empty() || resources.iter().any(|r| r.as_str() == change.resource);
        if !wanted || !(actions.is_empty() || actions.contains(&change.action)) {
            continue;
        }
        let payload = serde_json::to_string(change).map_err(ApiError::internal)?;
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(DeliveryId::generate()),
                webhook_deliveries::webhook_id.eq(id),
                webhook_deliveries::change_cursor.eq(&change.cursor),
                webhook_deliveries::resource.eq(&change.resource),
                webhook_deliveries::record_id.eq(change.id),
                webhook_deliveries::action.eq(change.action.as_str()),
                webhook_deliveries::payload.eq(payload),
                webhook_deliveries::status.eq("pending"),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(Some(now)),
                webhook_deliveries::created_at.eq(now),
            ))
            .execute(conn)?;
        added += 1;
    }
    // The last item's own cursor, not the page's: the generation moves with every write
    // (this one too), and following it would make each fan-out the cause of the next.
    move_cursor(conn, id, &hook.change_cursor, &last)?;
    Ok(Some(FannedOut {
        added,
        more: page.items.len() as i64 >= FAN_OUT_PAGE,
    }))
}

/// Moves a webhook's cursor if no other process moved it first (else the transaction is
/// rolled back: that process fanned these changes out).
fn move_cursor(
    conn: &mut AnyConnection,
    id: WebhookId,
    from: &str,
    to: &str,
) -> Result<(), ApiError> {
    let moved = diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::change_cursor.eq(from)),
    )
    .set(webhooks::change_cursor.eq(to))
    .execute(conn)?;
    if moved == 0 {
        return Err(ApiError::conflict(
            "another process fanned these changes out",
        ));
    }
    Ok(())
}

// ---- Sending ----

/// A delivery that is due.
#[derive(Debug, Clone, Queryable)]
pub struct Due {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    next_attempt_at: Option<Timestamp>,
}

/// The enabled webhooks that have a delivery due at `now`.
pub fn due_webhooks(conn: &mut AnyConnection, now: Timestamp) -> Result<Vec<WebhookId>, ApiError> {
    Ok(webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(webhooks::enabled.eq(true))
        .select(webhook_deliveries::webhook_id)
        .distinct()
        .load(conn)?)
}

/// A webhook's deliveries due at `now`, oldest due first, at most `limit`.
pub fn due(
    conn: &mut AnyConnection,
    webhook: WebhookId,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Due>, ApiError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .order(webhook_deliveries::next_attempt_at.asc())
        .select((
            webhook_deliveries::id,
            webhook_deliveries::webhook_id,
            webhook_deliveries::next_attempt_at,
        ))
        .limit(limit)
        .load(conn)?)
}

/// A delivery claimed for one attempt: what to send, where, signed with what.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub url: String,
    pub secret: String,
    /// The change-feed item, as JSON.
    pub payload: String,
    pub resource: String,
    pub record_id: RecordId,
    pub action: String,
    pub viewer: Viewer,
    /// Attempts made, this one included.
    pub attempts: i32,
}

/// Claims the deliveries (those no other process claimed since they were read) until
/// `lease_until`, counting the attempt. Call inside a write transaction.
pub fn claim(
    conn: &mut AnyConnection,
    due: &[Due],
    lease_until: Timestamp,
) -> Result<Vec<Claimed>, ApiError> {
    let mut claimed = Vec::new();
    for delivery in due {
        let taken = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(delivery.id))
                .filter(webhook_deliveries::status.eq("pending"))
                .filter(webhook_deliveries::next_attempt_at.eq(delivery.next_attempt_at)),
        )
        .set((
            webhook_deliveries::next_attempt_at.eq(Some(lease_until)),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        ))
        .execute(conn)?;
        if taken == 0 {
            continue;
        }
        let (url, secret, include_internal, payload, resource, record_id, action, attempts): (
            String,
            String,
            bool,
            String,
            String,
            RecordId,
            String,
            i32,
        ) = webhook_deliveries::table
            .inner_join(webhooks::table)
            .filter(webhook_deliveries::id.eq(delivery.id))
            .select((
                webhooks::url,
                webhooks::secret,
                webhooks::include_internal,
                webhook_deliveries::payload,
                webhook_deliveries::resource,
                webhook_deliveries::record_id,
                webhook_deliveries::action,
                webhook_deliveries::attempts,
            ))
            .first(conn)?;
        claimed.push(Claimed {
            id: delivery.id,
            webhook_id: delivery.webhook_id,
            url,
            secret,
            payload,
            resource,
            record_id,
            action,
            viewer: Viewer {
                sees_internal: include_internal,
            },
            attempts,
        });
    }
    Ok(claimed)
}

/// The record's representation as `viewer` would GET it now; `None` when it is gone or not
/// visible to them.
pub fn current_data(
    conn: &mut AnyConnection,
    resource: &str,
    id: RecordId,
    viewer: Viewer,
) -> Result<Option<serde_json::Value>, ApiError> {
    fn read<R: Resource>(
        conn: &mut AnyConnection,
        id: RecordId,
        viewer: Viewer,
    ) -> Result<Option<serde_json::Value>, ApiError> {
        match R::get(conn, &id.to_string(), viewer) {
            Ok(record) => Ok(Some(
                serde_json::to_value(&record).map_err(ApiError::internal)?,
            )),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
    use crate::store::{chains, events, memberships, networks, organisations, people};
    match resource {
        "organisation" => read::<organisations::Organisations>(conn, id, viewer),
        "person" => read::<people::People>(conn, id, viewer),
        "network" => read::<networks::Networks>(conn, id, viewer),
        "membership" => read::<memberships::Memberships>(conn, id, viewer),
        "event" => read::<events::Events>(conn, id, viewer),
        "chain" => read::<chains::Chains>(conn, id, viewer),
        other => Err(ApiError::internal(format!("a delivery of {other:?}"))),
    }
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// Anything else; retried at `retry_at`.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Timestamp,
    },
}

/// Records an attempt's outcome. A failure keeps the delivery pending until `retry_at`; when
/// the webhook's deliveries have all failed for `disable_after`, the webhook is disabled and
/// its pending deliveries are marked failed. Returns whether it was disabled. Call inside a
/// write transaction.
pub fn record(
    conn: &mut AnyConnection,
    delivery: DeliveryId,
    webhook: WebhookId,
    outcome: &Outcome,
    disable_after: chrono::Duration,
) -> Result<bool, ApiError> {
    let now = Timestamp::now();
    let target = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(delivery))
        .filter(webhook_deliveries::status.eq("pending"));
    match outcome {
        Outcome::Delivered { status } => {
            diesel::update(target)
                .set((
                    webhook_deliveries::status.eq("succeeded"),
                    webhook_deliveries::next_attempt_at.eq(None::<Timestamp>),
                    webhook_deliveries::last_attempt_at.eq(Some(now)),
                    webhook_deliveries::last_status_code.eq(Some(i32::from(*status))),
                    webhook_deliveries::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
            diesel::update(
                webhooks::table
                    .filter(webhooks::id.eq(webhook))
                    .filter(webhooks::failing_since.is_not_null()),
            )
            .set(webhooks::failing_since.eq(None::<Timestamp>))
            .execute(conn)?;
            Ok(false)
        }
        Outcome::Failed {
            status,
            error,
            retry_at,
        } => {
            let error = excerpt(error);
            diesel::update(target)
                .set((
                    webhook_deliveries::next_attempt_at.eq(Some(*retry_at)),
                    webhook_deliveries::last_attempt_at.eq(Some(now)),
                    webhook_deliveries::last_status_code.eq(status.map(i32::from)),
                    webhook_deliveries::last_error.eq(Some(&error)),
                ))
                .execute(conn)?;
            let Some((failing_since, enabled, version)) = webhooks::table
                .filter(webhooks::id.eq(webhook))
                .select((
                    webhooks::failing_since,
                    webhooks::enabled,
                    webhooks::version,
                ))
                .first::<(Option<Timestamp>, bool, i32)>(conn)
                .optional()?
            else {
                return Ok(false);
            };
            let Some(since) = failing_since else {
                diesel::update(webhooks::table.filter(webhooks::id.eq(webhook)))
                    .set(webhooks::failing_since.eq(Some(now)))
                    .execute(conn)?;
                return Ok(false);
            };
            if !enabled || now.get() - since.get() < disable_after {
                return Ok(false);
            }
            let hours = disable_after.num_minutes() as f64 / 60.0;
            diesel::update(webhooks::table.filter(webhooks::id.eq(webhook)))
                .set((
                    webhooks::enabled.eq(false),
                    webhooks::disabled_reason.eq(Some(format!(
                        "disabled after failing for {hours} hours: {error}"
                    ))),
                    webhooks::version.eq(version + 1),
                    webhooks::updated_at.eq(now),
                ))
                .execute(conn)?;
            diesel::update(
                webhook_deliveries::table
                    .filter(webhook_deliveries::webhook_id.eq(webhook))
                    .filter(webhook_deliveries::status.eq("pending")),
            )
            .set((
                webhook_deliveries::status.eq("failed"),
                webhook_deliveries::next_attempt_at.eq(None::<Timestamp>),
            ))
            .execute(conn)?;
            Ok(true)
        }
    }
}

/// At most [`ERROR_EXCERPT_CHARS`] characters of `text`, on one line.
pub fn excerpt(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    match line.char_indices().nth(ERROR_EXCERPT_CHARS - 1) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

// ---- The delivery log ----

/// One delivery of one change to a webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// The delivery's id: also the `webhook-id` header of every attempt, the same on retries
    /// (receivers deduplicate on it).
    pub id: DeliveryId,
    /// `pending` (not sent yet, or to be retried at `next_attempt_at`), `succeeded` (the
    /// receiver answered 2xx) or `failed` (given up: the webhook was disabled after a day of
    /// failures; redeliver to try again).
    #[schema(example = "succeeded")]
    pub status: String,
    /// Attempts made so far.
    #[schema(example = 1)]
    pub attempts: i32,
    /// The HTTP status of the last attempt; `null` before any, or when no response came.
    #[schema(example = 200)]
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed (at most 200 characters: the start of the response body,
    /// or the connection error); `null` after a success.
    #[schema(example = "HTTP 503: upstream unavailable")]
    pub last_error: Option<String>,
    /// When it will be attempted (RFC 3339, UTC); `null` once it succeeded or failed.
    #[serde(with = "crate::domain::time::instant::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was last attempted (RFC 3339, UTC); `null` before any attempt.
    #[serde(with = "crate::domain::time::instant::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the change was queued for this webhook (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The change's position in the change feed (its `cursor`).
    #[schema(example = "1042.1187")]
    pub change_cursor: String,
    /// The kind of record that changed.
    #[schema(example = "event")]
    pub resource: String,
    /// The record's id.
    #[schema(value_type = String, format = Uuid)]
    pub record_id: RecordId,
    /// What happened to it, as the webhook sees it.
    pub action: ChangeAction,
}

/// A page of a webhook's deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// The deliveries of this page, newest first.
    pub items: Vec<DeliveryResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    id: DeliveryId,
    change_cursor: String,
    resource: String,
    record_id: RecordId,
    action: String,
    status: String,
    attempts: i32,
    next_attempt_at: Option<Timestamp>,
    last_attempt_at: Option<Timestamp>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    created_at: Timestamp,
}

fn delivery_response(row: DeliveryRow) -> Result<DeliveryResponse, ApiError> {
    let action = ChangeAction::parse(&row.action)
        .ok_or_else(|| ApiError::internal(format!("stored delivery action {:?}", row.action)))?;
    Ok(DeliveryResponse {
        id: row.id,
        status: row.status,
        attempts: row.attempts,
        last_status_code: row.last_status_code,
        last_error: row.last_error,
        next_attempt_at: row.next_attempt_at.map(Timestamp::get),
        last_attempt_at: row.last_attempt_at.map(Timestamp::get),
        created_at: row.created_at.get(),
        change_cursor: row.change_cursor,
        resource: row.resource,
        record_id: row.record_id,
        action,
    })
}

/// A page of a webhook's deliveries, newest first.
pub fn deliveries(
    conn: &mut AnyConnection,
    key: &str,
    cursor: Option<&str>,
    limit: i64,
) -> Result<DeliveryPage, ApiError> {
    let webhook = row(conn, parse_id(key)?)?.id;
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .select(DeliveryRow::as_select())
        .into_boxed();
    if let Some(text) = cursor {
        let cursor = Cursor::<String>::decode(text, "newest")?;
        query = query.filter(webhook_deliveries::id.lt(DeliveryId(cursor.id)));
    }
    let rows: Vec<DeliveryRow> = query
        .order(webhook_deliveries::id.desc())
        .limit(limit + 1)
        .load(conn)?;
    let (rows, next_cursor) = split_page(rows, limit, |row| {
        Cursor {
            sort: "newest".to_owned(),
            key: String::new(),
            id: row.id.0,
        }
        .encode()
    });
    Ok(DeliveryPage {
        items: rows
            .into_iter()
            .map(delivery_response)
            .collect::<Result<_, _>>()?,
        next_cursor,
    })
}

/// Schedules a delivery to be sent again now, whatever became of it. 409 while its webhook is
/// disabled (it would not be sent).
pub fn redeliver(
    conn: &mut AnyConnection,
    key: &str,
    delivery: &str,
) -> Result<DeliveryResponse, ApiError> {
    let webhook = row(conn, parse_id(key)?)?;
    let delivery_id = delivery
        .parse::<DeliveryId>()
        .map_err(|_| ApiError::not_found("delivery", delivery))?;
    if !webhook.enabled {
        return Err(ApiError::conflict(
            "the webhook is disabled: enable it (PATCH {\"enabled\": true}) to redeliver",
        ));
    }
    let scheduled = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(delivery_id))
            .filter(webhook_deliveries::webhook_id.eq(webhook.id)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(Some(Timestamp::now())),
    ))
    .execute(conn)?;
    if scheduled == 0 {
        return Err(ApiError::not_found("delivery", delivery));
    }
    let row = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(delivery_id))
        .select(DeliveryRow::as_select())
        .first(conn)?;
    delivery_response(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("  a\nb  "), "a b");
        let long = "é".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), ERROR_EXCERPT_CHARS);
    }

    #[test]
    fn secrets_follow_standard_webhooks() {
        let secret = new_secret().expect("random");
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("prefix"))
            .expect("base64");
        assert_eq!(key.len(), 32);
    }
}
