//! The dispatcher's side of the outbox: fanning the change feed out into deliveries, claiming
//! due deliveries with a lease, and recording each attempt's outcome.

use diesel::prelude::*;

use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::{DeliveryId, RecordId, WebhookId};
use crate::store::Viewer;
use crate::store::changes::{self, ChangeAction, ChangeCursor};
use crate::store::resource::Resource;

use super::{ERROR_EXCERPT_CHARS, WebhookResource, WebhookRow, parse_list};

/// Changes read per fan-out transaction.
const FAN_OUT_PAGE: i64 = 500;

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
    use crate::store::{
        chains, comments, events, memberships, networks, organisations, outcomes, people,
        programmes, publications,
    };
    match resource {
        "organisation" => read::<organisations::Organisations>(conn, id, viewer),
        "person" => read::<people::People>(conn, id, viewer),
        "network" => read::<networks::Networks>(conn, id, viewer),
        "membership" => read::<memberships::Memberships>(conn, id, viewer),
        "event" => read::<events::Events>(conn, id, viewer),
        "chain" => read::<chains::Chains>(conn, id, viewer),
        "programme" => read::<programmes::Programmes>(conn, id, viewer),
        "comment" => read::<comments::Comments>(conn, id, viewer),
        "publication" => read::<publications::Publications>(conn, id, viewer),
        "outcome" => read::<outcomes::Outcomes>(conn, id, viewer),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_single_lines() {
        assert_eq!(excerpt("  a\nb  "), "a b");
        let long = "é".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), ERROR_EXCERPT_CHARS);
    }
}
