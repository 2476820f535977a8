//! Reading events: one by id or slug, rows by id, and the read model of a page of rows,
//! assembled from one read per relation (the modules below).

mod chains;
mod organisers;
mod participants;
mod summaries;

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::events;
use crate::domain::enums::{AttendanceMode, EventKind, EventStatus, Visibility};
use crate::domain::time::LocalTime;
use crate::error::ApiError;
use crate::ids::{EventId, ProgrammeId};
use crate::store::{Viewer, lookup};

use super::filter::EventFilter;
use super::list::{ListedRows, list_rows};
use super::response::{EventPage, EventResponse, Location};
use super::rows::{EventRow, known_at, known_day, known_zone};

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

/// Fills the read model of `rows` with a fixed number of queries, whatever the page size: one
/// per relation (organisers, people and organisations taking part, networks, parent events,
/// chains and their members, and `precedes` both ways), each read for the whole page and matched by id.
pub fn load_details(
    conn: &mut AnyConnection,
    rows: Vec<EventRow>,
    viewer: Viewer,
) -> Result<Vec<EventResponse>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<EventId> = rows.iter().map(|r| r.id).collect();
    let mut organisers = organisers::organisers(conn, &ids)?;
    let mut participants = participants::participants(conn, &ids)?;
    let networks = summaries::networks(conn, &rows)?;
    let programme_ids: Vec<ProgrammeId> = rows.iter().filter_map(|r| r.programme_id).collect();
    let programmes = crate::store::programmes::summaries(conn, &programme_ids)?;
    let parents = summaries::parents(conn, &rows, viewer)?;
    let chain_positions = chains::chain_positions(conn, &rows, viewer)?;
    let mut precedence = summaries::precedence(conn, &ids, viewer)?;

    rows.into_iter()
        .map(|row| {
            let id = row.id;
            let parent_event = row.parent_event_id.and_then(|p| parents.get(&p).cloned());
            Ok(EventResponse {
                id,
                kind: EventKind::parse(&row.kind).ok_or_else(|| stored("kind", &row.kind))?,
                status: EventStatus::parse(&row.status)
                    .ok_or_else(|| stored("status", &row.status))?,
                start_time: row.start_time.map(LocalTime::from),
                end_time: row.end_time.map(LocalTime::from),
                starts_at: known_at(row.starts_at),
                ends_at: known_at(row.ends_at),
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
                programme: row.programme_id.and_then(|p| programmes.get(&p).cloned()),
                programme_id: row.programme_id,
                // An internal parent does not exist for those who may not see it.
                parent_event_id: parent_event.as_ref().map(|p| p.id),
                parent_event,
                precedes: precedence.precedes.remove(&id).unwrap_or_default(),
                preceded_by: precedence.preceded_by.remove(&id).unwrap_or_default(),
                organisers: organisers.remove(&id).unwrap_or_default(),
                participants: participants.take(id),
                topics: serde_json::from_str(&row.topics).map_err(ApiError::internal)?,
                description: row.description,
                links: serde_json::from_str(&row.links).map_err(ApiError::internal)?,
                visibility: Visibility::parse(&row.visibility)
                    .ok_or_else(|| stored("visibility", &row.visibility))?,
                chain: chain_positions.get(&id).cloned(),
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
                slug: row.slug,
                title: row.title,
                start_date: known_day(row.start_date),
                end_date: known_day(row.end_date),
                timezone: known_zone(row.timezone),
            })
        })
        .collect()
}

/// A stored value the code does not know: the database holds what no write could have put.
#[track_caller]
fn stored(what: &str, value: &str) -> ApiError {
    ApiError::internal(format!("stored {what} {value:?} is not known"))
}
