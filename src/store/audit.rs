//! The audit log: who changed what, written in the same transaction as the change.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use std::collections::HashMap;

use crate::db::schema::{audit_log, chains, events, programmes};
use crate::db::{AnyConnection, Timestamp};
use crate::error::ApiError;
use crate::ids::{
    AuditId, ChainId, EventId, NetworkId, OrganisationId, PersonId, ProgrammeId, TokenId,
};
use crate::store::pagination::{Cursor, split_page};
use crate::store::{Summary, networks, organisations, people};

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
    at: Timestamp,
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
    /// The entry's id.
    pub id: AuditId,
    /// When the write was committed (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    pub at: DateTime<Utc>,
    /// Who wrote: the token's name, or `cli:…` for the command-line tools (`cli:import` for
    /// imports).
    #[schema(example = "cli:import")]
    pub actor: String,
    /// The token that wrote; `null` for the command-line tools.
    pub token_id: Option<TokenId>,
    /// What was done: `create`, `update`, `delete`, `add_event` and `remove_event` (chains),
    /// `update_members` (a network's members replaced by an import) or `revoke` (tokens).
    #[schema(example = "create")]
    pub action: String,
    /// The kind of record: `event`, `organisation`, `person`, `network`, `membership`, `chain`,
    /// `token`, `feed_key`, `webhook` or `comment` (a comment's moderation is an `update` of its
    /// `status`).
    #[schema(example = "event")]
    pub resource: String,
    /// The record written, by id (UUID); `update_members` entries name the network as the
    /// import did, usually by slug. The `id` filter matches it exactly.
    pub record_id: String,
    /// The record's summary (`id`, `slug`, `name` or title) while it exists; `null` for
    /// memberships, tokens and comments (which have no slug) and for deleted records.
    pub record: Option<Summary>,
    /// For updates `{field: {"from": …, "to": …}}`; for creates and deletes the record's
    /// fields.
    #[schema(value_type = Object)]
    pub changes: Value,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// The entries of this page, oldest first.
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub resource: Option<String>,
    pub record_id: Option<String>,
    pub since: Option<Timestamp>,
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
        audit_log::at.eq(Timestamp::now()),
        audit_log::token_id.eq(actor.token_id),
        audit_log::actor.eq(&actor.name),
        audit_log::action.eq(action),
        audit_log::resource.eq(resource),
        audit_log::record_id.eq(record_id),
        audit_log::changes.eq(changes.to_string()),
    ));
    crate::db::native!(conn, |c| entry.execute(c))?;
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
    let records = record_summaries(conn, &rows)?;
    let items = rows
        .into_iter()
        .map(|row| AuditEntry {
            record: uuid::Uuid::parse_str(&row.record_id)
                .ok()
                .and_then(|id| records.get(&(row.resource.clone(), id)).cloned()),
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

/// Summaries of the records a page of entries is about, by (resource, id).
fn record_summaries(
    conn: &mut AnyConnection,
    rows: &[AuditRow],
) -> Result<HashMap<(String, uuid::Uuid), Summary>, ApiError> {
    let ids_of = |resource: &str| -> Vec<uuid::Uuid> {
        let mut ids: Vec<uuid::Uuid> = rows
            .iter()
            .filter(|row| row.resource == resource)
            .filter_map(|row| uuid::Uuid::parse_str(&row.record_id).ok())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut found: HashMap<(String, uuid::Uuid), Summary> = HashMap::new();
    let mut keep = |resource: &str, summaries: Vec<Summary>| {
        for summary in summaries {
            found.insert((resource.to_owned(), summary.id), summary);
        }
    };
    let organisation_ids: Vec<OrganisationId> = ids_of("organisation")
        .into_iter()
        .map(OrganisationId)
        .collect();
    keep(
        "organisation",
        organisations::summaries(conn, &organisation_ids)?
            .into_values()
            .collect(),
    );
    let person_ids: Vec<PersonId> = ids_of("person").into_iter().map(PersonId).collect();
    keep(
        "person",
        people::summaries(conn, &person_ids)?
            .into_values()
            .collect(),
    );
    let network_ids: Vec<NetworkId> = ids_of("network").into_iter().map(NetworkId).collect();
    keep(
        "network",
        networks::summaries(conn, &network_ids)?
            .into_values()
            .collect(),
    );
    let event_ids: Vec<EventId> = ids_of("event").into_iter().map(EventId).collect();
    if !event_ids.is_empty() {
        let rows: Vec<(EventId, String, String)> = events::table
            .filter(events::id.eq_any(&event_ids))
            .select((events::id, events::slug, events::title))
            .load(conn)?;
        keep(
            "event",
            rows.into_iter()
                .map(|(id, slug, title)| titled(id.0, slug, title))
                .collect(),
        );
    }
    let chain_ids: Vec<ChainId> = ids_of("chain").into_iter().map(ChainId).collect();
    if !chain_ids.is_empty() {
        let rows: Vec<(ChainId, String, String)> = chains::table
            .filter(chains::id.eq_any(&chain_ids))
            .select((chains::id, chains::slug, chains::title))
            .load(conn)?;
        keep(
            "chain",
            rows.into_iter()
                .map(|(id, slug, title)| titled(id.0, slug, title))
                .collect(),
        );
    }
    let programme_ids: Vec<ProgrammeId> =
        ids_of("programme").into_iter().map(ProgrammeId).collect();
    if !programme_ids.is_empty() {
        let rows: Vec<(ProgrammeId, String, String)> = programmes::table
            .filter(programmes::id.eq_any(&programme_ids))
            .select((programmes::id, programmes::slug, programmes::title))
            .load(conn)?;
        keep(
            "programme",
            rows.into_iter()
                .map(|(id, slug, title)| titled(id.0, slug, title))
                .collect(),
        );
    }
    let publication_ids: Vec<crate::ids::PublicationId> = ids_of("publication")
        .into_iter()
        .map(crate::ids::PublicationId)
        .collect();
    keep(
        "publication",
        crate::store::publications::summaries(conn, &publication_ids)?
            .into_values()
            .collect(),
    );
    Ok(found)
}

fn titled(id: uuid::Uuid, slug: String, title: String) -> Summary {
    Summary {
        id,
        slug,
        name: title,
        acronym: None,
    }
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
