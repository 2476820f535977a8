//! The records a page of events refers to by id, summarised: networks and parent events.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{events, networks};
use crate::domain::enums::Visibility;
use crate::error::ApiError;
use crate::ids::{EventId, NetworkId};
use crate::store::events::response::EventSummary;
use crate::store::events::rows::EventRow;
use crate::store::{Summary, Viewer};

/// A network, as a summary reads it.
#[derive(Queryable)]
struct NetworkRow {
    id: NetworkId,
    slug: String,
    name: String,
    acronym: Option<String>,
}

/// The networks `rows` belong to, by network id (one query, none when no row has a network).
pub(super) fn networks(
    conn: &mut AnyConnection,
    rows: &[EventRow],
) -> Result<HashMap<NetworkId, Summary>, ApiError> {
    let network_ids: Vec<NetworkId> = rows.iter().filter_map(|r| r.network_id).collect();
    if network_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<NetworkRow> = crate::db::native!(conn, |c| by_ids!(
        networks::table.into_boxed(),
        networks::id,
        network_ids.as_slice()
    )
    .select((
        networks::id,
        networks::slug,
        networks::name,
        networks::acronym,
    ))
    .load(c))?;
    Ok(found
        .into_iter()
        .map(|row| {
            let summary = Summary {
                id: row.id.0,
                slug: row.slug,
                name: row.name,
                acronym: row.acronym,
            };
            (row.id, summary)
        })
        .collect())
}

/// The parent events of `rows` that `viewer` may see, by parent id (one query, none when no
/// row is a session).
pub(super) fn parents(
    conn: &mut AnyConnection,
    rows: &[EventRow],
    viewer: Viewer,
) -> Result<HashMap<EventId, EventSummary>, ApiError> {
    let parent_ids: Vec<EventId> = rows.iter().filter_map(|r| r.parent_event_id).collect();
    if parent_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found: Vec<EventSummary> = crate::db::native!(conn, |c| {
        let mut query = by_ids!(
            events::table.into_boxed(),
            events::id,
            parent_ids.as_slice()
        )
        .select((events::id, events::slug, events::title, events::start_date));
        if !viewer.sees_internal {
            query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
        }
        query.load(c)
    })?;
    Ok(found
        .into_iter()
        .map(|parent| (parent.id, parent))
        .collect())
}
