//! Outcomes of events: decisions, conclusions, endorsements and follow-up actions, each with an
//! owner, a due date, a status and the publication it concerns. An outcome belongs to its event
//! (created inside it, deleted with it) and is as visible as the event is.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{events, outcomes};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{OutcomeKind, OutcomeStatus, Visibility};
use crate::domain::outcome::{OutcomeInput, OwnerRef, ValidOutcome};
use crate::error::{ApiError, FieldError, RecordRef};
use crate::ids::{EventId, NetworkId, OrganisationId, OutcomeId, PersonId, PublicationId};
use crate::store::events::EventSummary;
use crate::store::events::rows::UNDATED_DAY;
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource};
use crate::store::{Summary, Viewer, lookup, organisations, people, publications};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outcomes)]
struct OutcomeRow {
    id: OutcomeId,
    event_id: EventId,
    kind: String,
    text: String,
    owner_organisation_id: Option<OrganisationId>,
    owner_person_id: Option<PersonId>,
    due_date: Option<NaiveDate>,
    due_key: NaiveDate,
    status: String,
    publication_id: Option<PublicationId>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

/// What a write of an outcome stores (its event never changes).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = outcomes, treat_none_as_null = true)]
struct OutcomeColumns {
    kind: String,
    text: String,
    owner_organisation_id: Option<OrganisationId>,
    owner_person_id: Option<PersonId>,
    due_date: Option<NaiveDate>,
    due_key: NaiveDate,
    status: String,
    publication_id: Option<PublicationId>,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(OutcomeColumns, outcome_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = outcomes)]
struct NewOutcome {
    id: OutcomeId,
    event_id: EventId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: OutcomeColumns,
}

/// A decision, conclusion, endorsement or follow-up action of an event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OutcomeResponse {
    /// The outcome's id; read-only.
    pub id: OutcomeId,
    /// The event it is an outcome of.
    pub event_id: EventId,
    /// That event, summarised.
    pub event: EventSummary,
    /// What kind of outcome it is.
    pub kind: OutcomeKind,
    /// What was decided or is to be done.
    #[schema(example = "The ministers' endorsement of the new IISG Terms of Reference (IISG ToR)")]
    pub text: String,
    /// Where it stands.
    pub status: OutcomeStatus,
    /// The organisation that is to act on it; `null` when none, or a person, is named.
    pub owner_organisation_id: Option<OrganisationId>,
    /// The person who is to act on it; `null` when none, or an organisation, is named.
    pub owner_person_id: Option<PersonId>,
    /// The owner, summarised; `null` when there is none.
    pub owner: Option<Summary>,
    /// When it is due (`YYYY-MM-DD`); `null` when no day is set.
    pub due_date: Option<NaiveDate>,
    /// The publication it concerns; `null` when none.
    pub publication_id: Option<PublicationId>,
    /// That publication, summarised (`name` is its title); `null` with `publication_id`.
    pub publication: Option<Summary>,
    /// When the outcome was recorded (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when recorded, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of outcomes.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomePage {
    /// The outcomes of this page, in due order (those without a due date last).
    pub items: Vec<OutcomeResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What a list of outcomes asks for; references are ids or slugs.
#[derive(Debug, Clone, Default)]
pub struct OutcomeFilter {
    pub status: Option<OutcomeStatus>,
    pub kind: Option<OutcomeKind>,
    /// An organisation or a person.
    pub owner: Option<String>,
    /// Due strictly before this day (so never an outcome without a due date).
    pub due_before: Option<NaiveDate>,
    pub event: Option<String>,
    pub network: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "due";

fn responses(
    conn: &mut AnyConnection,
    rows: Vec<OutcomeRow>,
) -> Result<Vec<OutcomeResponse>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut event_ids: Vec<EventId> = rows.iter().map(|r| r.event_id).collect();
    event_ids.sort();
    event_ids.dedup();
    // The rows were read as the viewer may see them: their events are summarised whole.
    let events = publications::events_by_id(conn, &event_ids, Viewer::WRITER)?;
    let person_ids: Vec<PersonId> = rows.iter().filter_map(|r| r.owner_person_id).collect();
    let persons = people::summaries(conn, &person_ids)?;
    let organisation_ids: Vec<OrganisationId> = rows
        .iter()
        .filter_map(|r| r.owner_organisation_id)
        .collect();
    let orgs = organisations::summaries(conn, &organisation_ids)?;
    let publication_ids: Vec<PublicationId> =
        rows.iter().filter_map(|r| r.publication_id).collect();
    let pubs = publications::summaries(conn, &publication_ids)?;
    rows.into_iter()
        .map(|row| {
            let owner = match (row.owner_organisation_id, row.owner_person_id) {
                (Some(o), _) => orgs.get(&o).cloned(),
                (None, Some(p)) => persons.get(&p).cloned(),
                (None, None) => None,
            };
            Ok(OutcomeResponse {
                id: row.id,
                event_id: row.event_id,
                event: events
                    .get(&row.event_id)
                    .cloned()
                    .ok_or_else(|| ApiError::internal("outcome of a missing event"))?,
                kind: OutcomeKind::parse(&row.kind).ok_or_else(|| {
                    ApiError::internal(format!("stored outcome kind {:?}", row.kind))
                })?,
                text: row.text,
                status: OutcomeStatus::parse(&row.status).ok_or_else(|| {
                    ApiError::internal(format!("stored outcome status {:?}", row.status))
                })?,
                owner_organisation_id: row.owner_organisation_id,
                owner_person_id: row.owner_person_id,
                owner,
                due_date: row.due_date,
                publication: row.publication_id.and_then(|p| pubs.get(&p).cloned()),
                publication_id: row.publication_id,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            })
        })
        .collect()
}

fn filter_target<Id>(
    conn: &mut AnyConnection,
    parameter: &str,
    resource: &str,
    key: Option<&str>,
    find: impl Fn(&mut AnyConnection, &str) -> Result<Option<Id>, ApiError>,
) -> Result<Option<Id>, ApiError> {
    key.map(|key| {
        let found = find(conn, key)?;
        lookup::filter_target(parameter, resource, key, found)
    })
    .transpose()
}

/// One page of outcomes across every event `viewer` may see, in due order (undated last).
pub fn list(
    conn: &mut AnyConnection,
    filter: &OutcomeFilter,
    viewer: Viewer,
) -> Result<OutcomePage, ApiError> {
    let event = filter_target(
        conn,
        "event",
        "event",
        filter.event.as_deref(),
        |conn, key| lookup::visible_event_id(conn, key, viewer),
    )?;
    let network: Option<NetworkId> = filter_target(
        conn,
        "network",
        "network",
        filter.network.as_deref(),
        lookup::network_id,
    )?;
    let owner = match filter.owner.as_deref() {
        None => None,
        Some(key) => {
            let organisation = lookup::organisation_id(conn, key)?;
            let person = lookup::person_id(conn, key)?;
            if organisation.is_none() && person.is_none() {
                return Err(ApiError::invalid(
                    "owner",
                    format!("no organisation or person has the id or slug {key:?}"),
                ));
            }
            Some((organisation, person))
        }
    };
    let mut query = outcomes::table
        .inner_join(events::table)
        .select(OutcomeRow::as_select())
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(outcomes::status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(outcomes::kind.eq(kind.as_str()));
    }
    match owner {
        Some((Some(organisation), Some(person))) => {
            query = query.filter(
                outcomes::owner_organisation_id
                    .eq(organisation)
                    .or(outcomes::owner_person_id.eq(person)),
            );
        }
        Some((Some(organisation), None)) => {
            query = query.filter(outcomes::owner_organisation_id.eq(organisation));
        }
        Some((None, Some(person))) => {
            query = query.filter(outcomes::owner_person_id.eq(person));
        }
        _ => {}
    }
    if let Some(day) = filter.due_before {
        query = query.filter(outcomes::due_key.lt(day));
    }
    if let Some(event) = event {
        query = query.filter(outcomes::event_id.eq(event));
    }
    if let Some(network) = network {
        query = query.filter(events::network_id.eq(network));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<NaiveDate>::decode(text, SORT)?;
        let id = OutcomeId(cursor.id);
        query = after_cursor!(query, outcomes::due_key, outcomes::id, cursor.key, id);
    }
    let rows: Vec<OutcomeRow> = query
        .order((outcomes::due_key.asc(), outcomes::id.asc()))
        .limit(filter.limit + 1)
        .load(conn)?;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: SORT.to_owned(),
            key: row.due_key,
            id: row.id.0,
        }
        .encode()
    });
    Ok(OutcomePage {
        items: responses(conn, rows)?,
        next_cursor,
    })
}

/// The outcomes of event `key` (404 when `viewer` may not see it), in due order.
pub fn of_event(
    conn: &mut AnyConnection,
    key: &str,
    filter: &OutcomeFilter,
    viewer: Viewer,
) -> Result<OutcomePage, ApiError> {
    let event = crate::store::events::get(conn, key, viewer)?;
    let filter = OutcomeFilter {
        event: Some(event.id.to_string()),
        ..filter.clone()
    };
    list(conn, &filter, viewer)
}

fn parse_outcome_id(key: &str) -> Result<OutcomeId, ApiError> {
    uuid::Uuid::parse_str(key)
        .map(OutcomeId)
        .map_err(|_| ApiError::not_found("outcome", key))
}

/// Outcome `id` as `viewer` may see it (404 for an outcome of an internal event without a
/// token).
fn by_id(
    conn: &mut AnyConnection,
    id: OutcomeId,
    viewer: Viewer,
) -> Result<OutcomeResponse, ApiError> {
    let mut query = outcomes::table
        .inner_join(events::table)
        .filter(outcomes::id.eq(id))
        .select(OutcomeRow::as_select())
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    let row = query
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("outcome", id.to_string()))?;
    responses(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::not_found("outcome", id.to_string()))
}

/// Every reference of an outcome resolved, every dangling one named at once (422).
fn columns(conn: &mut AnyConnection, valid: &ValidOutcome) -> Result<OutcomeColumns, ApiError> {
    let mut errors = Vec::new();
    let (mut owner_organisation_id, mut owner_person_id) = (None, None);
    match &valid.owner {
        Some(OwnerRef::Organisation(key)) => {
            owner_organisation_id = lookup::organisation_id(conn, key)?;
            if owner_organisation_id.is_none() {
                errors.push(FieldError::new(
                    "owner_organisation_id",
                    format!("no organisation {key:?}"),
                ));
            }
        }
        Some(OwnerRef::Person(key)) => {
            owner_person_id = lookup::person_id(conn, key)?;
            if owner_person_id.is_none() {
                errors.push(FieldError::new(
                    "owner_person_id",
                    format!("no person {key:?}"),
                ));
            }
        }
        None => {}
    }
    let publication_id = match &valid.publication {
        Some(key) => {
            let found = lookup::publication_id(conn, key)?;
            if found.is_none() {
                errors.push(FieldError::new(
                    "publication_id",
                    format!("no publication {key:?}"),
                ));
            }
            found
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(OutcomeColumns {
        kind: valid.kind.as_str().to_owned(),
        text: valid.text.clone(),
        owner_organisation_id,
        owner_person_id,
        due_date: valid.due_date,
        due_key: valid.due_date.unwrap_or(UNDATED_DAY),
        status: valid.status.as_str().to_owned(),
        publication_id,
        updated_at: Timestamp::now(),
    })
}

/// Records an outcome of event `event_key`; call inside a write transaction.
pub fn add(
    conn: &mut AnyConnection,
    event_key: &str,
    valid: &ValidOutcome,
) -> Result<OutcomeResponse, ApiError> {
    let event_id = lookup::event_id(conn, event_key)?
        .ok_or_else(|| ApiError::not_found("event", event_key))?;
    let columns = columns(conn, valid)?;
    let id = OutcomeId::generate();
    diesel::insert_into(outcomes::table)
        .values(NewOutcome {
            id,
            event_id,
            created_at: columns.updated_at,
            columns,
        })
        .execute(conn)?;
    by_id(conn, id, Viewer::WRITER)
}

/// An outcome as `registry-generate` writes it: references already resolved.
#[derive(Debug, Clone)]
pub struct GeneratedOutcome {
    pub event_id: EventId,
    pub kind: OutcomeKind,
    pub text: String,
    pub status: OutcomeStatus,
    pub owner_organisation_id: Option<OrganisationId>,
    pub owner_person_id: Option<PersonId>,
    pub due_date: Option<NaiveDate>,
    pub publication_id: Option<PublicationId>,
}

/// Writes generated outcomes (benchmark data) as the API stores them, without reading each
/// back; call inside a write transaction.
pub fn insert_generated(
    conn: &mut AnyConnection,
    generated: &[GeneratedOutcome],
) -> Result<(), ApiError> {
    let now = Timestamp::now();
    for outcome in generated {
        diesel::insert_into(outcomes::table)
            .values(NewOutcome {
                id: OutcomeId::generate(),
                event_id: outcome.event_id,
                created_at: now,
                columns: OutcomeColumns {
                    kind: outcome.kind.as_str().to_owned(),
                    text: outcome.text.clone(),
                    owner_organisation_id: outcome.owner_organisation_id,
                    owner_person_id: outcome.owner_person_id,
                    due_date: outcome.due_date,
                    due_key: outcome.due_date.unwrap_or(UNDATED_DAY),
                    status: outcome.status.as_str().to_owned(),
                    publication_id: outcome.publication_id,
                    updated_at: now,
                },
            })
            .execute(conn)?;
    }
    Ok(())
}

/// Every outcome of the event, whatever its status, oldest first (import and export).
pub fn all_of_event(
    conn: &mut AnyConnection,
    event: EventId,
) -> Result<Vec<OutcomeResponse>, ApiError> {
    let rows: Vec<OutcomeRow> = outcomes::table
        .filter(outcomes::event_id.eq(event))
        .order(outcomes::id.asc())
        .select(OutcomeRow::as_select())
        .load(conn)?;
    responses(conn, rows)
}

/// The events that have outcomes, in the order their first outcome was recorded (export).
pub fn events_with_outcomes(conn: &mut AnyConnection) -> Result<Vec<EventId>, ApiError> {
    let mut rows: Vec<(EventId, OutcomeId)> = outcomes::table
        .select((outcomes::event_id, outcomes::id))
        .order(outcomes::id.asc())
        .load(conn)?;
    let mut seen = Vec::new();
    for (event, _) in rows.drain(..) {
        if !seen.contains(&event) {
            seen.push(event);
        }
    }
    Ok(seen)
}

/// Removes every outcome of the event (an import making them those of its file).
pub fn remove_all_of_event(conn: &mut AnyConnection, event: EventId) -> Result<(), ApiError> {
    diesel::delete(outcomes::table.filter(outcomes::event_id.eq(event))).execute(conn)?;
    Ok(())
}

/// Events whose outcomes name the record, for a `still_referenced` refusal (at most 20).
fn referring_events(
    conn: &mut AnyConnection,
    events_of: Vec<EventId>,
) -> Result<Vec<RecordRef>, ApiError> {
    let mut events_of = events_of;
    events_of.sort();
    events_of.dedup();
    lookup::event_refs(conn, &events_of)
}

pub fn naming_publication(
    conn: &mut AnyConnection,
    publication: PublicationId,
) -> Result<Vec<RecordRef>, ApiError> {
    let found = outcomes::table
        .filter(outcomes::publication_id.eq(publication))
        .select(outcomes::event_id)
        .limit(20)
        .load(conn)?;
    referring_events(conn, found)
}

pub fn naming_person(
    conn: &mut AnyConnection,
    person: PersonId,
) -> Result<Vec<RecordRef>, ApiError> {
    let found = outcomes::table
        .filter(outcomes::owner_person_id.eq(person))
        .select(outcomes::event_id)
        .limit(20)
        .load(conn)?;
    referring_events(conn, found)
}

pub fn naming_organisation(
    conn: &mut AnyConnection,
    organisation: OrganisationId,
) -> Result<Vec<RecordRef>, ApiError> {
    let found = outcomes::table
        .filter(outcomes::owner_organisation_id.eq(organisation))
        .select(outcomes::event_id)
        .limit(20)
        .load(conn)?;
    referring_events(conn, found)
}

/// The outcome in the shape clients write, with references as slugs.
pub fn outcome_as_input(outcome: &OutcomeResponse) -> OutcomeInput {
    let owner_slug = outcome.owner.as_ref().map(|o| o.slug.clone());
    OutcomeInput {
        text: outcome.text.clone(),
        kind: outcome.kind,
        status: Some(outcome.status),
        owner_organisation_id: outcome.owner_organisation_id.and(owner_slug.clone()),
        owner_person_id: outcome.owner_person_id.and(owner_slug),
        due_date: outcome.due_date,
        publication_id: outcome.publication.as_ref().map(|p| p.slug.clone()),
    }
}

versioned_rows!(outcomes, OutcomeId, OutcomeColumns, OutcomeResponse);

/// Outcomes as a [`Resource`]: read, changed and removed through the shared write path at
/// `/api/v1/outcomes/{id}` (they have no slug); created inside their event ([`add`]).
pub struct Outcomes;

impl Resource for Outcomes {
    const NAME: &'static str = "outcome";
    type Id = OutcomeId;
    type Input = OutcomeInput;
    type Valid = ValidOutcome;
    type Response = OutcomeResponse;
    type Warning = NoWarning;

    fn validate(input: OutcomeInput) -> Result<ValidOutcome, Vec<FieldError>> {
        input.validate()
    }

    fn find(_conn: &mut AnyConnection, key: &str) -> Result<Option<OutcomeId>, ApiError> {
        Ok(parse_outcome_id(key).ok())
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        viewer: Viewer,
    ) -> Result<OutcomeResponse, ApiError> {
        by_id(conn, parse_outcome_id(key)?, viewer)
    }

    fn update(
        conn: &mut AnyConnection,
        id: OutcomeId,
        version: i32,
        valid: &ValidOutcome,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let columns = columns(conn, valid)?;
        update_row(conn, id, version, columns)
    }

    fn delete(conn: &mut AnyConnection, id: OutcomeId, version: i32) -> Result<(), ApiError> {
        // Nothing refers to an outcome.
        delete_row(conn, id, version)
    }

    fn as_input(response: &OutcomeResponse) -> OutcomeInput {
        outcome_as_input(response)
    }
}
