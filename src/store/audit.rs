//! The audit log: who changed what, written in the same transaction as the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::db::schema::audit_log;
use crate::db::{AnyConnection, Instant};
use crate::error::ApiError;
use crate::ids::{AuditId, TokenId};
use crate::store::pagination::{Cursor, split_page};

/// Who made a change: a token, or a command-line tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub token_id: Option<TokenId>,
    pub name: String,
}

impl Actor {
    /// Changes made by `meeting-registry` commands (import, token create).
    pub fn command(name: &str) -> Self {
        Self {
            token_id: None,
            name: format!("cli:{name}"),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct AuditRow {
    id: AuditId,
    at: Instant,
    token_id: Option<TokenId>,
    actor: String,
    action: String,
    resource: String,
    record_id: String,
    changes: String,
}

/// One recorded write.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: AuditId,
    #[serde(with = "crate::domain::time::instant")]
    pub at: DateTime<Utc>,
    /// The token's name (or `cli:…` for command-line tools).
    #[schema(example = "partner-sync")]
    pub actor: String,
    pub token_id: Option<TokenId>,
    /// `create`, `update`, `delete`, `add_member`, `add_event`, `revoke`…
    #[schema(example = "update")]
    pub action: String,
    /// `event`, `organisation`, `person`, `network`, `membership`, `chain`, `token`.
    #[schema(example = "event")]
    pub resource: String,
    pub record_id: String,
    /// For updates `{field: {"from": …, "to": …}}`; for creates and deletes the record's
    /// fields.
    #[schema(value_type = Object)]
    pub changes: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub resource: Option<String>,
    pub record_id: Option<String>,
    pub since: Option<Instant>,
    pub order: AuditOrder,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// The order of the audit log: `sort=at` (oldest first, the default) or `sort=-at`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuditOrder {
    #[default]
    OldestFirst,
    NewestFirst,
}

impl AuditOrder {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "at" => Some(Self::OldestFirst),
            "-at" => Some(Self::NewestFirst),
            _ => None,
        }
    }

    /// The `sort` value, as cursors record it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OldestFirst => "at",
            Self::NewestFirst => "-at",
        }
    }
}

pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    resource: &str,
    record_id: &str,
    changes: &Value,
) -> Result<(), ApiError> {
    let entry = diesel::insert_into(audit_log::table).values((
        audit_log::id.eq(AuditId::generate()),
        audit_log::at.eq(Instant::now()),
        audit_log::token_id.eq(actor.token_id),
        audit_log::actor.eq(&actor.name),
        audit_log::action.eq(action),
        audit_log::resource.eq(resource),
        audit_log::record_id.eq(record_id),
        audit_log::changes.eq(changes.to_string()),
    ));
    crate::native!(conn, |c| entry.execute(c))?;
    Ok(())
}

/// The top-level fields that differ, as `{field: {"from": …, "to": …}}`.
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut changes = Map::new();
    for key in before.keys().chain(after.keys()) {
        let (old, new) = (
            before.get(key).unwrap_or(&Value::Null),
            after.get(key).unwrap_or(&Value::Null),
        );
        if old != new && !changes.contains_key(key) {
            changes.insert(key.clone(), serde_json::json!({"from": old, "to": new}));
        }
    }
    Value::Object(changes)
}

/// Whether an audit diff records no change.
pub fn records_no_change(changes: &Value) -> bool {
    changes.as_object().is_some_and(|fields| fields.is_empty())
}

pub fn list(conn: &mut AnyConnection, filter: &AuditFilter) -> Result<AuditPage, ApiError> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(resource) = &filter.resource {
        query = query.filter(audit_log::resource.eq(resource.clone()));
    }
    if let Some(id) = &filter.record_id {
        query = query.filter(audit_log::record_id.eq(id.clone()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::at.ge(since));
    }
    let order = filter.order;
    if let Some(text) = &filter.cursor {
        let after = AuditId(Cursor::<String>::decode(text, order.as_str())?.id);
        query = match order {
            AuditOrder::OldestFirst => query.filter(audit_log::id.gt(after)),
            AuditOrder::NewestFirst => query.filter(audit_log::id.lt(after)),
        };
    }
    // Ids are time-ordered (UUIDv7), so id order is the order of the writes.
    query = match order {
        AuditOrder::OldestFirst => query.order(audit_log::id.asc()),
        AuditOrder::NewestFirst => query.order(audit_log::id.desc()),
    };
    let rows: Vec<AuditRow> = query.limit(filter.limit + 1).load(conn)?;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: order.as_str().to_owned(),
            key: String::new(),
            id: row.id.0,
        }
        .encode()
    });
    let items = rows
        .into_iter()
        .map(|row| AuditEntry {
            id: row.id,
            at: row.at.get(),
            actor: row.actor,
            token_id: row.token_id,
            action: row.action,
            resource: row.resource,
            record_id: row.record_id,
            changes: serde_json::from_str(&row.changes).unwrap_or(Value::Null),
        })
        .collect();
    Ok(AuditPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_names_changed_fields_only() {
        let before = json!({"title": "A", "topics": ["x"], "slug": "a"});
        let after = json!({"title": "B", "topics": ["x"], "slug": "a", "status": "cancelled"});
        assert_eq!(
            diff(&before, &after),
            json!({"title": {"from": "A", "to": "B"}, "status": {"from": null, "to": "cancelled"}})
        );
    }
}
