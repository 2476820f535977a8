//! Each event's position in its chain of back-to-back events.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{chains, events};
use crate::domain::enums::Visibility;
use crate::error::ApiError;
use crate::ids::{ChainId, EventId};
use crate::store::Viewer;
use crate::store::events::response::{ChainPosition, EventSummary};
use crate::store::events::rows::EventRow;

/// A chain, as a position names it.
#[derive(Queryable)]
struct ChainRow {
    id: ChainId,
    slug: String,
    title: String,
}

/// One member of a chain, summarised.
#[derive(Queryable)]
struct MemberRow {
    chain_id: Option<ChainId>,
    id: EventId,
    slug: String,
    title: String,
    start_date: NaiveDate,
}

/// Each event's position in its chain, by event id, computed from the chain's members (those
/// `viewer` may see) in start order: two queries, none when no row is in a chain. Holds every
/// member of those chains, not only `rows`.
pub(super) fn chain_positions(
    conn: &mut AnyConnection,
    rows: &[EventRow],
    viewer: Viewer,
) -> Result<HashMap<EventId, ChainPosition>, ApiError> {
    let chain_ids: Vec<ChainId> = rows.iter().filter_map(|r| r.chain_id).collect();
    if chain_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let chain_rows: Vec<ChainRow> = crate::db::native!(conn, |c| by_ids!(
        chains::table.into_boxed(),
        chains::id,
        chain_ids.as_slice()
    )
    .select((chains::id, chains::slug, chains::title))
    .load(c))?;
    let chain_info: HashMap<ChainId, ChainRow> =
        chain_rows.into_iter().map(|row| (row.id, row)).collect();
    let chain_keys: Vec<Option<ChainId>> = chain_ids.iter().map(|c| Some(*c)).collect();
    let members: Vec<MemberRow> = crate::db::native!(conn, |c| {
        let mut query = by_ids!(
            events::table.into_boxed(),
            events::chain_id,
            chain_keys.as_slice()
        )
        .order((events::starts_at.asc(), events::id.asc()))
        .select((
            events::chain_id,
            events::id,
            events::slug,
            events::title,
            events::start_date,
        ));
        if !viewer.sees_internal {
            query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
        }
        query.load(c)
    })?;
    let mut by_chain: HashMap<ChainId, Vec<EventSummary>> = HashMap::new();
    for member in members {
        if let Some(chain_id) = member.chain_id {
            by_chain.entry(chain_id).or_default().push(EventSummary {
                id: member.id,
                slug: member.slug,
                title: member.title,
                start_date: crate::store::events::rows::known_day(member.start_date),
            });
        }
    }
    let mut positions = HashMap::new();
    for (chain_id, members) in by_chain {
        let Some(chain) = chain_info.get(&chain_id) else {
            continue;
        };
        for (i, event) in members.iter().enumerate() {
            let previous = i.checked_sub(1).and_then(|p| members.get(p));
            let next = members.get(i + 1);
            positions.insert(
                event.id,
                ChainPosition {
                    chain_id,
                    slug: chain.slug.clone(),
                    title: chain.title.clone(),
                    position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                    previous_event_id: previous.map(|e| e.id),
                    previous_event: previous.cloned(),
                    next_event_id: next.map(|e| e.id),
                    next_event: next.cloned(),
                },
            );
        }
    }
    Ok(positions)
}
