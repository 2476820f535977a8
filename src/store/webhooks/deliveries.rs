//! The delivery log a webhook's owner reads (`GET /webhooks/{id}/deliveries`), and
//! redelivery.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::webhook_deliveries;
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::{DeliveryId, RecordId};
use crate::store::changes::ChangeAction;
use crate::store::pagination::{Cursor, split_page};

use super::{parse_id, row};

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
