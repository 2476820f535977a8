//! Networks (standing bodies); their memberships are in [`crate::store::memberships`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{events, network_supporters, networks, organisations};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{EventStatus, Visibility};
use crate::domain::organisation::{Cadence, NetworkInput, ValidNetwork};
use crate::domain::text::{fold, like_pattern};
use crate::error::{ApiError, FieldError};
use crate::ids::{EventId, NetworkId, OrganisationId};
use crate::store::events::EventSummary;
use crate::store::events::rows::UNDATED_DAY;
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource, TopLevel};
use crate::store::{
    Summary, Viewer, choose_slug, lookup, organisations as organisation_store, refuse_if_referenced,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = networks)]
struct NetworkRow {
    id: NetworkId,
    slug: String,
    sort_key: String,
    name: String,
    acronym: Option<String>,
    description: Option<String>,
    established_on: Option<NaiveDate>,
    coordinator_id: Option<OrganisationId>,
    website: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
    cadence_months: Option<i32>,
    cadence_note: Option<String>,
}

impl NetworkRow {
    fn cadence(&self) -> Option<Cadence> {
        self.cadence_months.map(|every_months| Cadence {
            every_months,
            note: self.cadence_note.clone(),
        })
    }
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = networks, treat_none_as_null = true)]
struct NetworkColumns {
    slug: String,
    sort_key: String,
    name: String,
    acronym: Option<String>,
    description: Option<String>,
    established_on: Option<NaiveDate>,
    coordinator_id: Option<OrganisationId>,
    website: Option<String>,
    search_text: String,
    updated_at: Timestamp,
    cadence_months: Option<i32>,
    cadence_note: Option<String>,
}

crate::db::same_sql_for_any_value!(NetworkColumns, network_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = networks)]
struct NewNetwork {
    id: NetworkId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: NetworkColumns,
}

/// A standing body or network, with its coordinator and supporters summarised.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NetworkResponse {
    /// The network's id; read-only.
    pub id: NetworkId,
    /// Unique among networks; usable wherever the id is.
    #[schema(example = "rnnc")]
    pub slug: String,
    /// The full name.
    #[schema(
        example = "Regional Network of the National P-CVE Coordinators of the Western Balkans"
    )]
    pub name: String,
    /// The short name; `null` when it has none.
    #[schema(example = "RNNC")]
    pub acronym: Option<String>,
    /// Free text; `null` when there is none.
    pub description: Option<String>,
    /// The day it was established (`YYYY-MM-DD`); `null` when not known.
    pub established_on: Option<NaiveDate>,
    /// The organisation that coordinates it; `null` when none is recorded.
    pub coordinator_id: Option<OrganisationId>,
    /// That organisation, summarised; `null` with `coordinator_id`.
    pub coordinator: Option<Summary>,
    /// The organisations that support it.
    pub supporter_ids: Vec<OrganisationId>,
    /// Those organisations, summarised, in the same order.
    pub supporters: Vec<Summary>,
    /// Its web site; `null` when not known.
    pub website: Option<String>,
    /// How often it intends to meet; `null` when it has not said.
    pub cadence: Option<Cadence>,
    /// Its last meeting held: of its meetings (events with its `network_id`) that are not
    /// `cancelled` or `postponed` and whose dates are known, the latest that started on or
    /// before today (UTC). Without a token, only public meetings count. `null` when none.
    pub last_meeting: Option<EventSummary>,
    /// Its next meeting: the first such meeting that starts after today; `null` when none is
    /// scheduled.
    pub next_meeting: Option<EventSummary>,
    /// The day by which it should meet again under its `cadence`: `cadence.every_months` after
    /// the start of `last_meeting` (after `established_on` when it has held none). `null`
    /// without a cadence, or with neither date.
    #[schema(example = "2018-03-14")]
    pub due_by: Option<NaiveDate>,
    /// Whether `due_by` has passed (today, UTC, is after it): the network has not met within
    /// its cadence. `null` when `due_by` is.
    pub overdue: Option<bool>,
    /// When the network was created (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of networks.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkPage {
    /// The networks of this page, by name.
    pub items: Vec<NetworkResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    pub q: Option<String>,
    /// Only networks whose `overdue` is this (networks without a cadence have neither).
    pub overdue: Option<bool>,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// Where a network stands against its cadence on a day.
#[derive(Debug, Clone, Default)]
struct Schedule {
    last: Option<EventSummary>,
    next: Option<EventSummary>,
    due_by: Option<NaiveDate>,
    overdue: Option<bool>,
}

/// The events that count as a network's meetings when its cadence is checked: its own, with
/// known dates, neither cancelled nor postponed, and visible to `viewer`.
macro_rules! counted_meetings {
    ($ids:expr, $viewer:expr) => {
        events::table
            .filter(events::network_id.eq_any($ids))
            .filter(events::start_date.lt(UNDATED_DAY))
            .filter(diesel::dsl::not(events::status.eq_any([
                EventStatus::Cancelled.as_str(),
                EventStatus::Postponed.as_str(),
            ])))
            .filter(events::visibility.eq_any(visible_to($viewer)))
    };
}

/// The visibilities `viewer` may see.
fn visible_to(viewer: Viewer) -> Vec<&'static str> {
    if viewer.sees_internal {
        vec![Visibility::Public.as_str(), Visibility::Internal.as_str()]
    } else {
        vec![Visibility::Public.as_str()]
    }
}

/// The last and next meeting of each of `rows` as `viewer` sees them on `today`, and where
/// each stands against its cadence.
fn schedules(
    conn: &mut AnyConnection,
    rows: &[NetworkRow],
    viewer: Viewer,
    today: NaiveDate,
) -> Result<HashMap<NetworkId, Schedule>, ApiError> {
    let ids: Vec<Option<NetworkId>> = rows.iter().map(|r| Some(r.id)).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let last_days: Vec<(Option<NetworkId>, Option<NaiveDate>)> = counted_meetings!(&ids, viewer)
        .filter(events::start_date.le(today))
        .group_by(events::network_id)
        .select((events::network_id, diesel::dsl::max(events::start_date)))
        .load(conn)?;
    let next_days: Vec<(Option<NetworkId>, Option<NaiveDate>)> = counted_meetings!(&ids, viewer)
        .filter(events::start_date.gt(today))
        .group_by(events::network_id)
        .select((events::network_id, diesel::dsl::min(events::start_date)))
        .load(conn)?;
    let wanted: HashMap<(NetworkId, NaiveDate), bool> = last_days
        .iter()
        .map(|row| (row, true))
        .chain(next_days.iter().map(|row| (row, false)))
        .filter_map(|((id, day), last)| Some(((id.as_ref().copied()?, (*day)?), last)))
        .collect();
    let days: Vec<NaiveDate> = wanted.keys().map(|(_, day)| *day).collect();
    let mut found: HashMap<NetworkId, Schedule> = HashMap::new();
    if !days.is_empty() {
        // A day may hold more than one meeting of a network (a session and its plenary): the
        // one with the lowest series number, then the first created, speaks for it.
        let meetings: Vec<(Option<NetworkId>, EventId, String, String, NaiveDate)> =
            counted_meetings!(&ids, viewer)
                .filter(events::start_date.eq_any(&days))
                .order((
                    events::start_date,
                    events::series_number.is_null(),
                    events::series_number,
                    events::id,
                ))
                .select((
                    events::network_id,
                    events::id,
                    events::slug,
                    events::title,
                    events::start_date,
                ))
                .load(conn)?;
        for (network, id, slug, title, day) in meetings {
            let Some(network) = network else { continue };
            let Some(&last) = wanted.get(&(network, day)) else {
                continue;
            };
            let schedule = found.entry(network).or_default();
            let slot = if last {
                &mut schedule.last
            } else {
                &mut schedule.next
            };
            if slot.is_none() {
                *slot = Some(EventSummary {
                    id,
                    slug,
                    title,
                    start_date: Some(day),
                });
            }
        }
    }
    for row in rows {
        let schedule = found.entry(row.id).or_default();
        if let Some(cadence) = row.cadence() {
            let since = schedule
                .last
                .as_ref()
                .and_then(|m| m.start_date)
                .or(row.established_on);
            schedule.due_by = since.and_then(|day| cadence.due_after(day));
            schedule.overdue = schedule.due_by.map(|due| today > due);
        }
    }
    Ok(found)
}

const SORT: &str = "name";

fn respond(
    conn: &mut AnyConnection,
    rows: Vec<NetworkRow>,
    mut schedules: HashMap<NetworkId, Schedule>,
) -> Result<Vec<NetworkResponse>, ApiError> {
    let ids: Vec<NetworkId> = rows.iter().map(|r| r.id).collect();
    let mut supporters: HashMap<NetworkId, Vec<(OrganisationId, Summary)>> = HashMap::new();
    if !ids.is_empty() {
        let supporter_rows: Vec<(NetworkId, OrganisationId, String, String, Option<String>)> =
            network_supporters::table
                .inner_join(organisations::table)
                .filter(network_supporters::network_id.eq_any(&ids))
                .order((network_supporters::network_id, network_supporters::position))
                .select((
                    network_supporters::network_id,
                    organisations::id,
                    organisations::slug,
                    organisations::name,
                    organisations::acronym,
                ))
                .load(conn)?;
        for (network_id, id, slug, name, acronym) in supporter_rows {
            supporters.entry(network_id).or_default().push((
                id,
                Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            ));
        }
    }
    let coordinator_ids: Vec<OrganisationId> =
        rows.iter().filter_map(|r| r.coordinator_id).collect();
    let coordinators = organisation_store::summaries(conn, &coordinator_ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (supporter_ids, supporters) = supporters
                .remove(&row.id)
                .unwrap_or_default()
                .into_iter()
                .unzip();
            let schedule = schedules.remove(&row.id).unwrap_or_default();
            NetworkResponse {
                cadence: row.cadence(),
                last_meeting: schedule.last,
                next_meeting: schedule.next,
                due_by: schedule.due_by,
                overdue: schedule.overdue,
                id: row.id,
                slug: row.slug,
                name: row.name,
                acronym: row.acronym,
                description: row.description,
                established_on: row.established_on,
                coordinator: row
                    .coordinator_id
                    .and_then(|c| coordinators.get(&c).cloned()),
                coordinator_id: row.coordinator_id,
                supporter_ids,
                supporters,
                website: row.website,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            }
        })
        .collect())
}

/// The id of the network `key` (id or slug) names; 404 when there is none (unlike
/// [`lookup::network_id`], which answers `None`).
pub fn find_id(conn: &mut AnyConnection, key: &str) -> Result<NetworkId, ApiError> {
    lookup::network_id(conn, key)?.ok_or_else(|| ApiError::not_found("network", key))
}

/// A page of networks as `viewer` sees them on `today`.
pub fn list(
    conn: &mut AnyConnection,
    filter: &NetworkFilter,
    viewer: Viewer,
    today: NaiveDate,
) -> Result<NetworkPage, ApiError> {
    let mut query = networks::table.select(NetworkRow::as_select()).into_boxed();
    if filter.overdue.is_some() {
        query = query.filter(networks::cadence_months.is_not_null());
    }
    if let Some(q) = filter.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        query = query.filter(networks::search_text.like(like_pattern(&q)).escape('\\'));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let id = NetworkId(cursor.id);
        query = after_cursor!(query, networks::sort_key, networks::id, cursor.key, id);
    }
    let query = query.order((networks::sort_key.asc(), networks::id.asc()));
    let (rows, mut schedules) = match filter.overdue {
        None => {
            let rows: Vec<NetworkRow> = query.limit(filter.limit + 1).load(conn)?;
            let schedules = schedules(conn, &rows, viewer, today)?;
            (rows, schedules)
        }
        Some(wanted) => {
            // Whether a network is overdue depends on its meetings and the day, so the rows
            // with a cadence (a registry holds tens of networks, not thousands) are checked
            // in name order until the page is full.
            let rows: Vec<NetworkRow> = query.load(conn)?;
            let schedules = schedules(conn, &rows, viewer, today)?;
            let rows = rows
                .into_iter()
                .filter(|row| schedules.get(&row.id).and_then(|s| s.overdue) == Some(wanted))
                .take(usize::try_from(filter.limit + 1).unwrap_or(usize::MAX))
                .collect();
            (rows, schedules)
        }
    };
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: SORT.to_owned(),
            key: row.sort_key.clone(),
            id: row.id.0,
        }
        .encode()
    });
    let schedules = rows
        .iter()
        .filter_map(|row| Some((row.id, schedules.remove(&row.id)?)))
        .collect();
    Ok(NetworkPage {
        items: respond(conn, rows, schedules)?,
        next_cursor,
    })
}

pub(super) fn resolve_organisation(
    conn: &mut AnyConnection,
    field: &str,
    key: &str,
) -> Result<OrganisationId, ApiError> {
    lookup::organisation_id(conn, key)?.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            field,
            format!("no organisation {key:?}"),
        )])
    })
}

fn write(
    conn: &mut AnyConnection,
    id: NetworkId,
    valid: &ValidNetwork,
) -> Result<NetworkColumns, ApiError> {
    let coordinator_id = match &valid.coordinator {
        Some(key) => Some(resolve_organisation(conn, "coordinator_id", key)?),
        None => None,
    };
    let mut supporters = Vec::new();
    for (i, key) in valid.supporters.iter().enumerate() {
        let supporter = resolve_organisation(conn, &format!("supporter_ids[{i}]"), key)?;
        if supporters.contains(&supporter) {
            return Err(ApiError::invalid(
                format!("supporter_ids[{i}]"),
                "is listed twice",
            ));
        }
        supporters.push(supporter);
    }
    let title = valid.acronym.as_deref().unwrap_or(&valid.name);
    let slug = choose_slug(conn, "network", valid.slug.as_ref(), title, |conn, slug| {
        Ok(diesel::select(diesel::dsl::exists(
            networks::table
                .filter(networks::slug.eq(slug))
                .filter(networks::id.ne(id)),
        ))
        .get_result(conn)?)
    })?;
    let columns = NetworkColumns {
        slug,
        sort_key: fold(&valid.name),
        name: valid.name.clone(),
        acronym: valid.acronym.clone(),
        description: valid.description.clone(),
        established_on: valid.established_on,
        coordinator_id,
        website: valid.website.clone(),
        search_text: valid.search_text(),
        updated_at: Timestamp::now(),
        cadence_months: valid.cadence.as_ref().map(|c| c.every_months),
        cadence_note: valid.cadence.as_ref().and_then(|c| c.note.clone()),
    };
    Ok(columns)
}

fn write_supporters(
    conn: &mut AnyConnection,
    id: NetworkId,
    valid: &ValidNetwork,
) -> Result<(), ApiError> {
    diesel::delete(network_supporters::table.filter(network_supporters::network_id.eq(id)))
        .execute(conn)?;
    for (position, key) in valid.supporters.iter().enumerate() {
        let supporter = resolve_organisation(conn, &format!("supporter_ids[{position}]"), key)?;
        diesel::insert_into(network_supporters::table)
            .values((
                network_supporters::network_id.eq(id),
                network_supporters::organisation_id.eq(supporter),
                network_supporters::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

versioned_rows!(networks, NetworkId, NetworkColumns, NetworkResponse);

/// Networks as a [`Resource`].
pub struct Networks;

impl Resource for Networks {
    const NAME: &'static str = "network";
    type Id = NetworkId;
    type Input = NetworkInput;
    type Valid = ValidNetwork;
    type Response = NetworkResponse;
    type Warning = NoWarning;

    fn validate(input: NetworkInput) -> Result<ValidNetwork, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<NetworkId>, ApiError> {
        lookup::network_id(conn, key)
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        viewer: Viewer,
    ) -> Result<NetworkResponse, ApiError> {
        Self::get_on(conn, key, viewer, Utc::now().date_naive())
    }

    const CHANGES_WITH_THE_DAY: bool = true;

    fn get_on(
        conn: &mut AnyConnection,
        key: &str,
        viewer: Viewer,
        today: NaiveDate,
    ) -> Result<NetworkResponse, ApiError> {
        let id = find_id(conn, key)?;
        let row = networks::table
            .filter(networks::id.eq(id))
            .select(NetworkRow::as_select())
            .first(conn)?;
        let rows = vec![row];
        let schedules = schedules(conn, &rows, viewer, today)?;
        respond(conn, rows, schedules)?
            .pop()
            .ok_or_else(|| ApiError::not_found("network", key))
    }

    fn update(
        conn: &mut AnyConnection,
        id: NetworkId,
        version: i32,
        valid: &ValidNetwork,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let columns = write(conn, id, valid)?;
        update_row(conn, id, version, columns)?;
        write_supporters(conn, id, valid)
    }

    fn delete(conn: &mut AnyConnection, id: NetworkId, version: i32) -> Result<(), ApiError> {
        let meetings: Vec<EventId> = events::table
            .filter(events::network_id.eq(Some(id)))
            .select(events::id)
            .limit(20)
            .load(conn)?;
        refuse_if_referenced(
            "network",
            vec![(
                "events (its meetings)",
                lookup::event_refs(conn, &meetings)?,
            )],
        )?;
        // Memberships and supporter links belong to the network and go with it.
        delete_row(conn, id, version)
    }

    fn as_input(response: &NetworkResponse) -> NetworkInput {
        NetworkInput {
            name: response.name.clone(),
            slug: Some(response.slug.clone()),
            acronym: response.acronym.clone(),
            description: response.description.clone(),
            established_on: response.established_on,
            coordinator_id: response.coordinator.as_ref().map(|c| c.slug.clone()),
            supporter_ids: response.supporters.iter().map(|s| s.slug.clone()).collect(),
            website: response.website.clone(),
            cadence: response.cadence.clone(),
        }
    }
}

impl TopLevel for Networks {
    fn create(conn: &mut AnyConnection, valid: &ValidNetwork) -> Result<NetworkId, ApiError> {
        let id = NetworkId::generate();
        let columns = write(conn, id, valid)?;
        diesel::insert_into(networks::table)
            .values(NewNetwork {
                id,
                created_at: columns.updated_at,
                columns,
            })
            .execute(conn)?;
        write_supporters(conn, id, valid)?;
        Ok(id)
    }

    fn slug(response: &NetworkResponse) -> &str {
        &response.slug
    }
}

/// Summaries of these networks, for embedding.
pub fn summaries(
    conn: &mut AnyConnection,
    ids: &[NetworkId],
) -> Result<crate::store::Summaries<NetworkId>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(NetworkId, String, String, Option<String>)> = networks::table
        .filter(networks::id.eq_any(ids))
        .select((
            networks::id,
            networks::slug,
            networks::name,
            networks::acronym,
        ))
        .load(conn)?;
    Ok(rows
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
        .collect())
}
