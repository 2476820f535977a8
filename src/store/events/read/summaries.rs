//! The records a page of events refers to by id, summarised: networks, parent events, and the
//! events each precedes or is preceded by.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{event_relations, events, networks};
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

/// The events each of a page's events precedes (in the order written) and is preceded by (in
/// start order), as `viewer` may see them.
#[derive(Default)]
pub(super) struct Precedence {
    pub precedes: HashMap<EventId, Vec<EventSummary>>,
    pub preceded_by: HashMap<EventId, Vec<EventSummary>>,
}

/// [`Precedence`] for `ids`: one query, and one more when any of them has such a relation.
pub(super) fn precedence(
    conn: &mut AnyConnection,
    ids: &[EventId],
    viewer: Viewer,
) -> Result<Precedence, ApiError> {
    let mut relations: Vec<(EventId, EventId, i32)> = event_relations::table
        .filter(event_relations::relation.eq("precedes"))
        .filter(
            event_relations::event_id
                .eq_any(ids)
                .or(event_relations::related_event_id.eq_any(ids)),
        )
        .select((
            event_relations::event_id,
            event_relations::related_event_id,
            event_relations::position,
        ))
        .load(conn)?;
    if relations.is_empty() {
        return Ok(Precedence::default());
    }
    relations.sort_by_key(|&(from, _, position)| (from, position));
    let mut others: Vec<EventId> = relations.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    others.sort();
    others.dedup();
    let mut query = events::table
        .filter(events::id.eq_any(&others))
        .select((events::id, events::slug, events::title, events::start_date))
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    let visible: HashMap<EventId, EventSummary> = query
        .load::<EventSummary>(conn)?
        .into_iter()
        .map(|summary| (summary.id, summary))
        .collect();
    let mut found = Precedence::default();
    for (from, to, _) in relations {
        if ids.contains(&from)
            && let Some(summary) = visible.get(&to)
        {
            found
                .precedes
                .entry(from)
                .or_default()
                .push(summary.clone());
        }
        if ids.contains(&to)
            && let Some(summary) = visible.get(&from)
        {
            found
                .preceded_by
                .entry(to)
                .or_default()
                .push(summary.clone());
        }
    }
    for list in found.preceded_by.values_mut() {
        // Undated events (no start date) come last, as in lists.
        list.sort_by(|a, b| {
            (a.start_date.is_none(), a.start_date, &a.slug).cmp(&(
                b.start_date.is_none(),
                b.start_date,
                &b.slug,
            ))
        });
    }
    Ok(found)
}
