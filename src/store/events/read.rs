//! Reading events: one by id or slug, rows by id, and the read model of a page of rows.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    chains, event_organisers, event_participants, events, networks, organisations, people,
};
use crate::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::time::LocalTime;
use crate::error::ApiError;
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId};
use crate::store::{Summary, Viewer, lookup};

use super::{list::*, response::*, rows::*};

/// The event with this id or slug, as `viewer` may see it.
pub fn get(conn: &mut AnyConnection, key: &str, viewer: Viewer) -> Result<EventResponse, ApiError> {
    let row = find_row(conn, key, viewer)?;
    let mut details = load_details(conn, vec![row], viewer)?;
    details
        .pop()
        .ok_or_else(|| ApiError::not_found("event", key))
}

pub(super) fn find_row(
    conn: &mut AnyConnection,
    key: &str,
    viewer: Viewer,
) -> Result<EventRow, ApiError> {
    // Static (not boxed) queries, so diesel keeps them prepared.
    let row: Option<EventRow> = match lookup::Key::parse(key) {
        lookup::Key::Id(id) => crate::db::native!(conn, |c| events::table
            .filter(events::id.eq(EventId(id)))
            .select(EventRow::as_select())
            .first(c)
            .optional())?,
        lookup::Key::Slug(slug) => crate::db::native!(conn, |c| events::table
            .filter(events::slug.eq(slug))
            .select(EventRow::as_select())
            .first(c)
            .optional())?,
        lookup::Key::Nothing => None,
    };
    row.filter(|row| viewer.sees_internal || row.visibility == Visibility::Public.as_str())
        .ok_or_else(|| ApiError::not_found("event", key))
}

/// One page of events matching `filter`.
pub fn list(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    viewer: Viewer,
) -> Result<EventPage, ApiError> {
    let ListedRows {
        rows: keys,
        next_cursor,
        ..
    } = list_rows(conn, filter, viewer, None)?;
    let ids: Vec<EventId> = keys.iter().map(|k| k.id).collect();
    let rows = rows_by_id(conn, &ids)?;
    let items = load_details(conn, rows, viewer)?;
    Ok(EventPage { items, next_cursor })
}

/// The rows of `ids`, in that order (ids no longer there are left out).
pub fn rows_by_id(conn: &mut AnyConnection, ids: &[EventId]) -> Result<Vec<EventRow>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<EventId, EventRow> = crate::db::native!(conn, |c| by_ids!(
        events::table.into_boxed(),
        events::id,
        ids
    )
    .select(EventRow::as_select())
    .load::<EventRow>(c))?
    .into_iter()
    .map(|row| (row.id, row))
    .collect();
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Fills the read model of `rows` with a fixed number of queries, whatever the page size.
pub fn load_details(
    conn: &mut AnyConnection,
    rows: Vec<EventRow>,
    viewer: Viewer,
) -> Result<Vec<EventResponse>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<EventId> = rows.iter().map(|r| r.id).collect();

    let mut organisers: HashMap<EventId, Vec<OrganiserResponse>> = HashMap::new();
    let organiser_rows: Vec<(
        EventId,
        String,
        OrganisationId,
        String,
        String,
        Option<String>,
    )> = crate::db::native!(conn, |c| by_ids!(
        event_organisers::table
            .inner_join(organisations::table)
            .into_boxed(),
        event_organisers::event_id,
        ids.as_slice()
    )
    .order((event_organisers::event_id, event_organisers::position))
    .select((
        event_organisers::event_id,
        event_organisers::role,
        organisations::id,
        organisations::slug,
        organisations::name,
        organisations::acronym,
    ))
    .load(c))?;
    for (event_id, role, id, slug, name, acronym) in organiser_rows {
        organisers
            .entry(event_id)
            .or_default()
            .push(OrganiserResponse {
                organisation_id: id,
                role: OrganiserRole::parse(&role).ok_or_else(|| stored("organiser role", &role))?,
                organisation: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            });
    }

    let mut participants: HashMap<EventId, Vec<(i32, ParticipantResponse)>> = HashMap::new();
    let person_rows: Vec<(EventId, i32, String, PersonId, String, String)> =
        crate::db::native!(conn, |c| by_ids!(
            event_participants::table
                .inner_join(
                    people::table.on(event_participants::person_id.eq(people::id.nullable()))
                )
                .into_boxed(),
            event_participants::event_id,
            ids.as_slice()
        )
        .select((
            event_participants::event_id,
            event_participants::position,
            event_participants::role,
            people::id,
            people::slug,
            people::full_name,
        ))
        .load(c))?;
    for (event_id, position, role, id, slug, name) in person_rows {
        let role =
            ParticipantRole::parse(&role).ok_or_else(|| stored("participant role", &role))?;
        participants.entry(event_id).or_default().push((
            position,
            ParticipantResponse {
                person_id: Some(id),
                organisation_id: None,
                role,
                participant: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym: None,
                },
            },
        ));
    }
    type OrganisationParticipantRow = (
        EventId,
        i32,
        String,
        OrganisationId,
        String,
        String,
        Option<String>,
    );
    let organisation_rows: Vec<OrganisationParticipantRow> =
        crate::db::native!(conn, |c| by_ids!(
            event_participants::table
                .inner_join(
                    organisations::table
                        .on(event_participants::organisation_id.eq(organisations::id.nullable())),
                )
                .into_boxed(),
            event_participants::event_id,
            ids.as_slice()
        )
        .select((
            event_participants::event_id,
            event_participants::position,
            event_participants::role,
            organisations::id,
            organisations::slug,
            organisations::name,
            organisations::acronym,
        ))
        .load(c))?;
    for (event_id, position, role, id, slug, name, acronym) in organisation_rows {
        let role =
            ParticipantRole::parse(&role).ok_or_else(|| stored("participant role", &role))?;
        participants.entry(event_id).or_default().push((
            position,
            ParticipantResponse {
                person_id: None,
                organisation_id: Some(id),
                role,
                participant: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            },
        ));
    }

    let network_ids: Vec<NetworkId> = rows.iter().filter_map(|r| r.network_id).collect();
    let networks: HashMap<NetworkId, Summary> = if network_ids.is_empty() {
        HashMap::new()
    } else {
        crate::db::native!(conn, |c| by_ids!(
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
        .load::<(NetworkId, String, String, Option<String>)>(c))?
        .into_iter()
        .map(|(id, slug, name, acronym)| {
            (
                id,
                Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            )
        })
        .collect()
    };

    let parent_ids: Vec<EventId> = rows.iter().filter_map(|r| r.parent_event_id).collect();
    let parents: HashMap<EventId, EventSummary> = if parent_ids.is_empty() {
        HashMap::new()
    } else {
        crate::db::native!(conn, |c| {
            let mut query = by_ids!(
                events::table.into_boxed(),
                events::id,
                parent_ids.as_slice()
            )
            .select((events::id, events::slug, events::title, events::start_date));
            if !viewer.sees_internal {
                query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
            }
            query.load::<(EventId, String, String, NaiveDate)>(c)
        })?
        .into_iter()
        .map(|(id, slug, title, start_date)| {
            (
                id,
                EventSummary {
                    id,
                    slug,
                    title,
                    start_date,
                },
            )
        })
        .collect()
    };

    let chain_positions = chain_positions(conn, &rows, viewer)?;

    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let mut these_participants = participants.remove(&id).unwrap_or_default();
            these_participants.sort_by_key(|(position, _)| *position);
            let parent_event = row.parent_event_id.and_then(|p| parents.get(&p).cloned());
            Ok(EventResponse {
                id,
                kind: EventKind::parse(&row.kind).ok_or_else(|| stored("kind", &row.kind))?,
                status: EventStatus::parse(&row.status)
                    .ok_or_else(|| stored("status", &row.status))?,
                start_time: row.start_time.map(LocalTime::from),
                end_time: row.end_time.map(LocalTime::from),
                starts_at: row.starts_at.get(),
                ends_at: row.ends_at.get(),
                location: Location {
                    venue: row.venue,
                    city: row.city,
                    country_code: row.country_code,
                    address: row.address,
                },
                attendance_mode: AttendanceMode::parse(&row.attendance_mode)
                    .ok_or_else(|| stored("attendance mode", &row.attendance_mode))?,
                network: row.network_id.and_then(|n| networks.get(&n).cloned()),
                network_id: row.network_id,
                series_number: row.series_number,
                // An internal parent does not exist for those who may not see it.
                parent_event_id: parent_event.as_ref().map(|p| p.id),
                parent_event,
                organisers: organisers.remove(&id).unwrap_or_default(),
                participants: these_participants.into_iter().map(|(_, p)| p).collect(),
                topics: serde_json::from_str(&row.topics).map_err(ApiError::internal)?,
                description: row.description,
                links: serde_json::from_str(&row.links).map_err(ApiError::internal)?,
                visibility: Visibility::parse(&row.visibility)
                    .ok_or_else(|| stored("visibility", &row.visibility))?,
                chain: chain_positions.get(&id).cloned(),
                warnings: None,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
                slug: row.slug,
                title: row.title,
                start_date: row.start_date,
                end_date: row.end_date,
                timezone: row.timezone,
            })
        })
        .collect()
}

/// Each event's position in its chain, computed from the chain's members in start order.
pub(super) fn chain_positions(
    conn: &mut AnyConnection,
    rows: &[EventRow],
    viewer: Viewer,
) -> Result<HashMap<EventId, ChainPosition>, ApiError> {
    let chain_ids: Vec<ChainId> = rows.iter().filter_map(|r| r.chain_id).collect();
    if chain_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let chain_info: HashMap<ChainId, (String, String)> = crate::db::native!(conn, |c| by_ids!(
        chains::table.into_boxed(),
        chains::id,
        chain_ids.as_slice()
    )
    .select((chains::id, chains::slug, chains::title))
    .load::<(ChainId, String, String)>(c))?
    .into_iter()
    .map(|(id, slug, title)| (id, (slug, title)))
    .collect();
    let chain_keys: Vec<Option<ChainId>> = chain_ids.iter().map(|c| Some(*c)).collect();
    let members: Vec<(Option<ChainId>, EventId, String, String, NaiveDate)> =
        crate::db::native!(conn, |c| {
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
    for (chain_id, id, slug, title, start_date) in members {
        if let Some(chain_id) = chain_id {
            by_chain.entry(chain_id).or_default().push(EventSummary {
                id,
                slug,
                title,
                start_date,
            });
        }
    }
    let mut positions = HashMap::new();
    for (chain_id, members) in by_chain {
        let Some((slug, title)) = chain_info.get(&chain_id) else {
            continue;
        };
        for (i, event) in members.iter().enumerate() {
            let previous = i.checked_sub(1).and_then(|p| members.get(p));
            let next = members.get(i + 1);
            positions.insert(
                event.id,
                ChainPosition {
                    chain_id,
                    slug: slug.clone(),
                    title: title.clone(),
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

#[track_caller]
pub(super) fn stored(what: &str, value: &str) -> ApiError {
    ApiError::internal(format!("stored {what} {value:?} is not known"))
}
