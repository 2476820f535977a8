//! What an iCalendar feed needs beyond the event read model: each event's `SEQUENCE`, the
//! first event of each chain, and the name of the record a feed belongs to.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{events, networks, organisations, people};
use crate::domain::enums::Visibility;
use crate::error::ApiError;
use crate::ids::{ChainId, EventId};
use crate::store::Viewer;
use crate::store::lookup::Key;

/// Each event's calendar sequence: how many times a change a calendar shows (title, status,
/// dates, times, time zone, place, attendance) was made to it. Kept by a trigger of
/// migration 000016, whatever writes the row.
pub fn sequences(
    conn: &mut AnyConnection,
    ids: &[EventId],
) -> Result<HashMap<EventId, i32>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(EventId, i32)> = by_ids!(events::table.into_boxed(), events::id, ids)
        .select((events::id, events::calendar_sequence))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The first event of each of `chains` that `viewer` may see (a chain is ordered by start).
pub fn chain_firsts(
    conn: &mut AnyConnection,
    chains: &[ChainId],
    viewer: Viewer,
) -> Result<HashMap<ChainId, EventId>, ApiError> {
    if chains.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<Option<ChainId>> = chains.iter().map(|c| Some(*c)).collect();
    let mut query = by_ids!(
        events::table.into_boxed(),
        events::chain_id,
        keys.as_slice()
    )
    .order((events::starts_at.asc(), events::id.asc()))
    .select((events::chain_id, events::id));
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    let members: Vec<(Option<ChainId>, EventId)> = query.load(conn)?;
    let mut firsts = HashMap::new();
    for (chain, event) in members {
        if let Some(chain) = chain {
            firsts.entry(chain).or_insert(event);
        }
    }
    Ok(firsts)
}

/// The kind of record a feed of events belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Network,
    Organisation,
    Person,
}

/// The id and name (a person's full name) of the record of kind `owner` with this id or slug;
/// 404 when there is none.
pub fn owner(
    conn: &mut AnyConnection,
    owner: Owner,
    key: &str,
) -> Result<(uuid::Uuid, String), ApiError> {
    macro_rules! find {
        ($table:ident, $name:ident, $resource:ident) => {{
            let found: Option<(uuid::Uuid, String)> = match Key::parse(key) {
                Key::Id(id) => $table::table
                    .filter($table::id.eq(crate::ids::$resource(id)))
                    .select(($table::id, $table::$name))
                    .first::<(crate::ids::$resource, String)>(conn)
                    .optional()?
                    .map(|(id, name)| (id.0, name)),
                Key::Slug(slug) => $table::table
                    .filter($table::slug.eq(slug))
                    .select(($table::id, $table::$name))
                    .first::<(crate::ids::$resource, String)>(conn)
                    .optional()?
                    .map(|(id, name)| (id.0, name)),
                Key::Nothing => None,
            };
            found
        }};
    }
    let (found, resource) = match owner {
        Owner::Network => (find!(networks, name, NetworkId), "network"),
        Owner::Organisation => (find!(organisations, name, OrganisationId), "organisation"),
        Owner::Person => (find!(people, full_name, PersonId), "person"),
    };
    found.ok_or_else(|| ApiError::not_found(resource, key))
}
