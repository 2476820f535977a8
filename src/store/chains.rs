//! Chains of back-to-back events. Membership lives in `events.chain_id`, so an event is in at
//! most one chain by construction; the order is always by start.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{chains, events};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::chain::{ChainInput, ChainMember, ValidChain, check};
use crate::domain::enums::{EventStatus, Visibility};
use crate::domain::text::{fold, like_pattern};
use crate::domain::time::LocalTime;
use crate::error::{ApiError, FieldError, RecordRef};
use crate::ids::{ChainId, EventId};
use crate::store::events::rows::known_at;
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource, TopLevel};
use crate::store::{Viewer, choose_slug, lookup};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = chains)]
struct ChainRow {
    id: ChainId,
    slug: String,
    sort_key: String,
    title: String,
    description: Option<String>,
    max_gap_days: i32,
    same_city: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

/// The columns a chain's write sets. Inserted, `None` is bound as `NULL` (no column has another
/// default), so many rows go in one statement (the benchmark generator's).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(
    table_name = chains,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub struct ChainColumns {
    slug: String,
    sort_key: String,
    title: String,
    description: Option<String>,
    max_gap_days: i32,
    same_city: bool,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(ChainColumns, chain_columns_have_one_sql_text);

/// A new chain's row; its version is the column's default (1).
#[derive(Insertable)]
#[diesel(table_name = chains, treat_none_as_default_value = false)]
pub struct NewChain {
    pub id: ChainId,
    pub created_at: Timestamp,
    #[diesel(embed)]
    pub columns: ChainColumns,
}

impl NewChain {
    /// The row of a new chain `id` with `slug`, created `now`.
    pub fn new(id: ChainId, valid: &ValidChain, slug: String, now: Timestamp) -> Self {
        Self {
            id,
            created_at: now,
            columns: chain_columns(valid, slug, now),
        }
    }
}

/// A chain's columns, given its slug: the derivation every write of a chain uses (the sort key
/// is the folded title).
pub fn chain_columns(valid: &ValidChain, slug: String, now: Timestamp) -> ChainColumns {
    ChainColumns {
        slug,
        sort_key: fold(&valid.title),
        title: valid.title.clone(),
        description: valid.description.clone(),
        max_gap_days: valid.max_gap_days,
        same_city: valid.same_city,
        updated_at: now,
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
struct MemberRow {
    id: EventId,
    slug: String,
    title: String,
    status: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    start_time: Option<NaiveTime>,
    end_time: Option<NaiveTime>,
    timezone: String,
    starts_at: Timestamp,
    ends_at: Timestamp,
    city: Option<String>,
    country_code: Option<String>,
    chain_id: Option<ChainId>,
}

/// An event of a chain, with what a chain page shows.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChainEvent {
    /// The event's place in the chain, 1-based, by start.
    #[schema(example = 2)]
    pub position: i32,
    /// The event's id.
    pub id: EventId,
    /// The event's slug; usable wherever its id is.
    #[schema(example = "rnnc-3")]
    pub slug: String,
    /// The event's title.
    pub title: String,
    /// Where the event stands.
    pub status: EventStatus,
    /// Whether the event is cancelled (it stays in the chain, and a page can strike it out).
    pub cancelled: bool,
    /// The first day (`YYYY-MM-DD`), local to `timezone`.
    #[schema(example = "2019-04-24")]
    pub start_date: NaiveDate,
    /// The last day (`YYYY-MM-DD`, inclusive), local to `timezone`.
    #[schema(example = "2019-04-24")]
    pub end_date: NaiveDate,
    /// The local start time (`HH:MM`); `null` for an all-day event.
    pub start_time: Option<LocalTime>,
    /// The local end time (`HH:MM`); `null` when it runs to the end of its last day.
    pub end_time: Option<LocalTime>,
    /// The IANA time zone of the dates and times.
    #[schema(example = "Europe/Tirane")]
    pub timezone: String,
    /// The start as an RFC 3339 UTC instant (derived).
    #[serde(with = "crate::domain::time::instant")]
    pub starts_at: DateTime<Utc>,
    /// The end as an RFC 3339 UTC instant (derived; the local midnight after the last day
    /// when there is no end time).
    #[serde(with = "crate::domain::time::instant")]
    pub ends_at: DateTime<Utc>,
    /// The event's city; `null` when not known.
    #[schema(example = "Tirana")]
    pub city: Option<String>,
    /// The event's country (ISO 3166-1 alpha-2; `XK` for Kosovo); `null` when not known.
    #[schema(example = "AL")]
    pub country_code: Option<String>,
}

/// A chain of events organised back to back, with its events in order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChainResponse {
    /// The chain's id; read-only.
    pub id: ChainId,
    /// Unique among chains; usable wherever the id is.
    #[schema(example = "tirana-april-2019")]
    pub slug: String,
    /// What the chain is.
    #[schema(example = "Back-to-back P-CVE meetings, Tirana, April 2019")]
    pub title: String,
    /// Free text; `null` when there is none.
    pub description: Option<String>,
    /// The longest gap allowed between one event's end and the next one's start, in days.
    #[schema(example = 1)]
    pub max_gap_days: i32,
    /// Whether every event must be in the same city.
    #[schema(example = true)]
    pub same_city: bool,
    /// The events, in start order.
    pub events: Vec<ChainEvent>,
    /// Whether any event of the chain is cancelled.
    pub has_cancelled_events: bool,
    /// When the chain was created (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When the chain last changed (RFC 3339, UTC), its list of events included; read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of chains.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainPage {
    /// The chains of this page, by title.
    pub items: Vec<ChainResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ChainFilter {
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "title";

fn member_rows(
    conn: &mut AnyConnection,
    chain_ids: &[ChainId],
    viewer: Viewer,
) -> Result<Vec<MemberRow>, ApiError> {
    let mut query = events::table
        .filter(events::chain_id.eq_any(chain_ids.iter().map(|c| Some(*c)).collect::<Vec<_>>()))
        .order((events::starts_at.asc(), events::id.asc()))
        .select(MemberRow::as_select())
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    Ok(query.load(conn)?)
}

fn respond(
    conn: &mut AnyConnection,
    rows: Vec<ChainRow>,
    viewer: Viewer,
) -> Result<Vec<ChainResponse>, ApiError> {
    let ids: Vec<ChainId> = rows.iter().map(|r| r.id).collect();
    let members = if ids.is_empty() {
        Vec::new()
    } else {
        member_rows(conn, &ids, viewer)?
    };
    rows.into_iter()
        .map(|row| {
            let events: Vec<ChainEvent> = members
                .iter()
                .filter(|m| m.chain_id == Some(row.id))
                .enumerate()
                .map(|(i, m)| {
                    let status = EventStatus::parse(&m.status).ok_or_else(|| {
                        ApiError::internal(format!("stored status {:?}", m.status))
                    })?;
                    Ok(ChainEvent {
                        position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                        id: m.id,
                        slug: m.slug.clone(),
                        title: m.title.clone(),
                        status,
                        cancelled: status == EventStatus::Cancelled,
                        start_date: m.start_date,
                        end_date: m.end_date,
                        start_time: m.start_time.map(LocalTime::from),
                        end_time: m.end_time.map(LocalTime::from),
                        timezone: m.timezone.clone(),
                        starts_at: m.starts_at.get(),
                        ends_at: m.ends_at.get(),
                        city: m.city.clone(),
                        country_code: m.country_code.clone(),
                    })
                })
                .collect::<Result<_, ApiError>>()?;
            Ok(ChainResponse {
                id: row.id,
                has_cancelled_events: events.iter().any(|e| e.cancelled),
                events,
                slug: row.slug,
                title: row.title,
                description: row.description,
                max_gap_days: row.max_gap_days,
                same_city: row.same_city,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            })
        })
        .collect()
}

fn find_id(conn: &mut AnyConnection, key: &str) -> Result<ChainId, ApiError> {
    lookup::chain_id(conn, key)?.ok_or_else(|| ApiError::not_found("chain", key))
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &ChainFilter,
    viewer: Viewer,
) -> Result<ChainPage, ApiError> {
    let mut query = chains::table.select(ChainRow::as_select()).into_boxed();
    if let Some(q) = filter.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        query = query.filter(chains::sort_key.like(like_pattern(&q)).escape('\\'));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let id = ChainId(cursor.id);
        query = after_cursor!(query, chains::sort_key, chains::id, cursor.key, id);
    }
    let rows: Vec<ChainRow> = query
        .order((chains::sort_key.asc(), chains::id.asc()))
        .limit(filter.limit + 1)
        .load(conn)?;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: SORT.to_owned(),
            key: row.sort_key.clone(),
            id: row.id.0,
        }
        .encode()
    });
    Ok(ChainPage {
        items: respond(conn, rows, viewer)?,
        next_cursor,
    })
}

/// Checks the rules of `chain_id` against its current members. Takes the chain's row lock
/// first, so concurrent writes to events of one chain are checked one after the other (on
/// PostgreSQL; SQLite writers are serialised anyway).
pub fn enforce(conn: &mut AnyConnection, chain_id: ChainId) -> Result<(), ApiError> {
    let locked = diesel::update(chains::table.filter(chains::id.eq(chain_id)))
        .set(chains::version.eq(chains::version))
        .execute(conn)?;
    if locked == 0 {
        return Ok(());
    }
    let (slug, max_gap_days, same_city): (String, i32, bool) = chains::table
        .filter(chains::id.eq(chain_id))
        .select((chains::slug, chains::max_gap_days, chains::same_city))
        .first(conn)?;
    let members: Vec<ChainMember> = member_rows(conn, &[chain_id], Viewer::WRITER)?
        .into_iter()
        .map(|m| ChainMember {
            id: m.id.to_string(),
            slug: m.slug,
            starts_at: known_at(m.starts_at),
            ends_at: known_at(m.ends_at),
            city: m.city,
        })
        .collect();
    let violations = check(&slug, max_gap_days, same_city, &members);
    if violations.is_empty() {
        return Ok(());
    }
    let chain = RecordRef::new("chain", chain_id, slug.as_str());
    Err(ApiError::violations(
        violations
            .into_iter()
            .map(|violation| violation.involving(chain.clone()))
            .collect(),
    ))
}

fn resolve_events(conn: &mut AnyConnection, keys: &[String]) -> Result<Vec<EventId>, ApiError> {
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match lookup::event_id(conn, key)? {
            Some(id) if ids.contains(&id) => errors.push(FieldError::new(
                format!("event_ids[{i}]"),
                "is listed twice",
            )),
            Some(id) => ids.push(id),
            None => errors.push(FieldError::new(
                format!("event_ids[{i}]"),
                format!("no event {key:?}"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Puts `event` into `chain`: 409 when it is in another chain.
fn attach(conn: &mut AnyConnection, chain_id: ChainId, event: EventId) -> Result<(), ApiError> {
    let changed = diesel::update(
        events::table
            .filter(events::id.eq(event))
            .filter(events::chain_id.is_null().or(events::chain_id.eq(chain_id))),
    )
    .set((
        events::chain_id.eq(chain_id),
        events::updated_at.eq(Timestamp::now()),
        events::version.eq(events::version + 1),
    ))
    .execute(conn)?;
    if changed == 0 {
        let (slug, other): (String, Option<ChainId>) = events::table
            .filter(events::id.eq(event))
            .select((events::slug, events::chain_id))
            .first(conn)?;
        let mut records = vec![RecordRef::new("event", event, slug.as_str())];
        if let Some(other) = other {
            records.extend(lookup::chain_refs(conn, &[other])?);
        }
        return Err(ApiError::rule(
            "chain_single",
            records,
            format!("event {slug:?} is already in another chain; an event is in at most one chain"),
        ));
    }
    Ok(())
}

fn detach(conn: &mut AnyConnection, chain_id: ChainId, event: EventId) -> Result<usize, ApiError> {
    Ok(diesel::update(
        events::table
            .filter(events::id.eq(event))
            .filter(events::chain_id.eq(chain_id)),
    )
    .set((
        events::chain_id.eq(None::<ChainId>),
        events::updated_at.eq(Timestamp::now()),
        events::version.eq(events::version + 1),
    ))
    .execute(conn)?)
}

/// Makes `wanted` the chain's members, then checks its rules.
fn set_members(
    conn: &mut AnyConnection,
    chain_id: ChainId,
    wanted: &[EventId],
) -> Result<(), ApiError> {
    let current: Vec<EventId> = events::table
        .filter(events::chain_id.eq(chain_id))
        .select(events::id)
        .load(conn)?;
    for event in current.iter().filter(|e| !wanted.contains(e)) {
        detach(conn, chain_id, *event)?;
    }
    for event in wanted.iter().filter(|e| !current.contains(e)) {
        attach(conn, chain_id, *event)?;
    }
    enforce(conn, chain_id)
}

/// `POST /chains/{id}/events`: adds one event, placed by its start. Whether it was added:
/// an event already in the chain is left as it is (nothing written, no new version).
pub fn add_event(
    conn: &mut AnyConnection,
    chain_key: &str,
    event_key: &str,
) -> Result<(EventId, bool), ApiError> {
    let chain_id = find_id(conn, chain_key)?;
    let event = lookup::event_id(conn, event_key)?
        .ok_or_else(|| ApiError::invalid("event_id", format!("no event {event_key:?}")))?;
    let already: bool = diesel::select(diesel::dsl::exists(
        events::table
            .filter(events::id.eq(event))
            .filter(events::chain_id.eq(chain_id)),
    ))
    .get_result(conn)?;
    if already {
        return Ok((event, false));
    }
    attach(conn, chain_id, event)?;
    enforce(conn, chain_id)?;
    touch(conn, chain_id)?;
    Ok((event, true))
}

/// `DELETE /chains/{id}/events/{event_id}`: the event leaves the chain (and stays).
pub fn remove_event(
    conn: &mut AnyConnection,
    chain_key: &str,
    event_key: &str,
) -> Result<(ChainId, EventId), ApiError> {
    let chain_id = find_id(conn, chain_key)?;
    let event = lookup::event_id(conn, event_key)?
        .ok_or_else(|| ApiError::not_found("event", event_key))?;
    if detach(conn, chain_id, event)? == 0 {
        return Err(ApiError::not_found("event in this chain", event_key));
    }
    enforce(conn, chain_id)?;
    touch(conn, chain_id)?;
    Ok((chain_id, event))
}

fn touch(conn: &mut AnyConnection, chain_id: ChainId) -> Result<(), ApiError> {
    diesel::update(chains::table.filter(chains::id.eq(chain_id)))
        .set((
            chains::updated_at.eq(Timestamp::now()),
            chains::version.eq(chains::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

fn columns(
    conn: &mut AnyConnection,
    id: ChainId,
    valid: &ValidChain,
) -> Result<ChainColumns, ApiError> {
    let slug = choose_slug(
        conn,
        "chain",
        valid.slug.as_ref(),
        &valid.title,
        |conn, slug| {
            Ok(diesel::select(diesel::dsl::exists(
                chains::table
                    .filter(chains::slug.eq(slug))
                    .filter(chains::id.ne(id)),
            ))
            .get_result(conn)?)
        },
    )?;
    Ok(chain_columns(valid, slug, Timestamp::now()))
}

versioned_rows!(chains, ChainId, ChainColumns, ChainResponse);

/// Chains as a [`Resource`].
pub struct Chains;

impl Resource for Chains {
    const NAME: &'static str = "chain";
    type Id = ChainId;
    type Input = ChainInput;
    type Valid = ValidChain;
    type Response = ChainResponse;
    type Warning = NoWarning;

    fn validate(input: ChainInput) -> Result<ValidChain, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<ChainId>, ApiError> {
        lookup::chain_id(conn, key)
    }

    fn get(conn: &mut AnyConnection, key: &str, viewer: Viewer) -> Result<ChainResponse, ApiError> {
        let id = find_id(conn, key)?;
        let row = chains::table
            .filter(chains::id.eq(id))
            .select(ChainRow::as_select())
            .first(conn)?;
        respond(conn, vec![row], viewer)?
            .pop()
            .ok_or_else(|| ApiError::not_found("chain", key))
    }

    fn update(
        conn: &mut AnyConnection,
        id: ChainId,
        version: i32,
        valid: &ValidChain,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let wanted = resolve_events(conn, &valid.events)?;
        let columns = columns(conn, id, valid)?;
        update_row(conn, id, version, columns)?;
        set_members(conn, id, &wanted)
    }

    fn delete(conn: &mut AnyConnection, id: ChainId, version: i32) -> Result<(), ApiError> {
        let members: Vec<EventId> = events::table
            .filter(events::chain_id.eq(id))
            .select(events::id)
            .load(conn)?;
        for event in members {
            detach(conn, id, event)?;
        }
        delete_row(conn, id, version)
    }

    fn as_input(response: &ChainResponse) -> ChainInput {
        ChainInput {
            title: response.title.clone(),
            slug: Some(response.slug.clone()),
            description: response.description.clone(),
            max_gap_days: Some(response.max_gap_days),
            same_city: Some(response.same_city),
            event_ids: response.events.iter().map(|e| e.slug.clone()).collect(),
        }
    }
}

impl TopLevel for Chains {
    fn create(conn: &mut AnyConnection, valid: &ValidChain) -> Result<ChainId, ApiError> {
        let id = ChainId::generate();
        let wanted = resolve_events(conn, &valid.events)?;
        let columns = columns(conn, id, valid)?;
        diesel::insert_into(chains::table)
            .values(NewChain {
                id,
                created_at: columns.updated_at,
                columns,
            })
            .execute(conn)?;
        set_members(conn, id, &wanted)?;
        Ok(id)
    }

    fn slug(response: &ChainResponse) -> &str {
        &response.slug
    }
}
