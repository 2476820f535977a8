//! Programmes, actions, projects and plans: their period, their parent programme and the
//! organisations with dated roles in them. Events point to the programme they are implemented
//! under (`events.programme_id`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{events, programme_organisations, programmes};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{ProgrammeKind, ProgrammeRole, ProgrammeStatus};
use crate::domain::programme::{
    Period, ProgrammeInput, ProgrammeOrganisationInput, ValidProgramme, ValidProgrammeOrganisation,
};
use crate::domain::text::{fold, like_pattern};
use crate::error::{ApiError, FieldError};
use crate::ids::{EventId, OrganisationId, ProgrammeId};
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource, TopLevel};
use crate::store::{
    Summary, Viewer, choose_slug, lookup, organisations as organisation_store, refuse_if_referenced,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = programmes)]
struct ProgrammeRow {
    id: ProgrammeId,
    slug: String,
    sort_key: String,
    title: String,
    kind: String,
    status: Option<String>,
    funding_instrument: Option<String>,
    parent_id: Option<ProgrammeId>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    duration_months: Option<i32>,
    description: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = programmes, treat_none_as_null = true)]
struct ProgrammeColumns {
    slug: String,
    sort_key: String,
    title: String,
    kind: &'static str,
    status: Option<&'static str>,
    funding_instrument: Option<String>,
    parent_id: Option<ProgrammeId>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    duration_months: Option<i32>,
    description: Option<String>,
    search_text: String,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(ProgrammeColumns, programme_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = programmes)]
struct NewProgramme {
    id: ProgrammeId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: ProgrammeColumns,
}

/// A programme, embedded in the records that refer to it (events, other programmes).
/// Read-only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, Queryable)]
pub struct ProgrammeSummary {
    /// The programme's id.
    pub id: ProgrammeId,
    /// Its slug; usable wherever its id is.
    #[schema(example = "horizontal-facility-ii")]
    pub slug: String,
    /// Its name.
    #[schema(example = "Horizontal Facility II Programme for Western Balkans and Turkey")]
    pub title: String,
    /// What kind of undertaking it is.
    pub kind: ProgrammeKind,
}

/// An organisation's dated part in a programme.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgrammeOrganisationResponse {
    /// The organisation's id.
    pub organisation_id: OrganisationId,
    /// The organisation, summarised.
    pub organisation: Summary,
    /// Its part in the programme.
    pub role: ProgrammeRole,
    /// First day of that part; `null` when not known.
    pub since: Option<NaiveDate>,
    /// Last day of that part (inclusive); `null` while it lasts or when not known.
    pub until: Option<NaiveDate>,
}

/// A programme, action, project or plan, with its parent and organisations summarised.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgrammeResponse {
    /// The programme's id; read-only.
    pub id: ProgrammeId,
    /// Unique among programmes; usable wherever the id is.
    #[schema(example = "support-to-pcve-western-balkans")]
    pub slug: String,
    /// The programme's name.
    #[schema(
        example = "Support to Prevention and Countering Violent Extremism (P/CVE) in the Western Balkans"
    )]
    pub title: String,
    /// What kind of undertaking it is.
    pub kind: ProgrammeKind,
    /// Where it stands; `null` when not known.
    pub status: Option<ProgrammeStatus>,
    /// The instrument that funds it; `null` when not known.
    #[schema(example = "IPA II 2016")]
    pub funding_instrument: Option<String>,
    /// The programme this one is part of; `null` for a top-level programme.
    pub parent_id: Option<ProgrammeId>,
    /// That programme, summarised; `null` with `parent_id`.
    pub parent: Option<ProgrammeSummary>,
    /// The first day; `null` when not known.
    pub start_date: Option<NaiveDate>,
    /// The last day (inclusive) as written; `null` when not given.
    pub end_date: Option<NaiveDate>,
    /// How long it runs, in months, as written; `null` when not given.
    pub duration_months: Option<i32>,
    /// Read-only: the last day, `end_date`, else derived from `start_date` and
    /// `duration_months`; `null` when neither is known. Events outside the period from
    /// `start_date` to this day are reported in `warnings` when written.
    #[schema(example = "2022-10-21")]
    pub effective_end_date: Option<NaiveDate>,
    /// Free text; `null` when there is none.
    pub description: Option<String>,
    /// The organisations with a part in it, in the order written.
    pub organisations: Vec<ProgrammeOrganisationResponse>,
    /// When the programme was created (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of programmes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammePage {
    /// The programmes of this page, by title.
    pub items: Vec<ProgrammeResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The filters of a programme list, parsed.
#[derive(Debug, Clone, Default)]
pub struct ProgrammeFilter {
    pub q: Option<String>,
    pub kind: Option<ProgrammeKind>,
    pub status: Option<ProgrammeStatus>,
    /// An organisation's id or slug: programmes it has a part in.
    pub organisation: Option<String>,
    /// Programmes where an organisation (the one named, if any) has this part.
    pub role: Option<ProgrammeRole>,
    /// A programme's id or slug: its direct parts.
    pub parent: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "title";

fn kind_of(stored: &str) -> Result<ProgrammeKind, ApiError> {
    ProgrammeKind::parse(stored)
        .ok_or_else(|| ApiError::internal(format!("stored programme kind {stored:?}")))
}

/// Summaries of these programmes, for embedding.
pub fn summaries(
    conn: &mut AnyConnection,
    ids: &[ProgrammeId],
) -> Result<HashMap<ProgrammeId, ProgrammeSummary>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(ProgrammeId, String, String, String)> = crate::db::native!(conn, |c| by_ids!(
        programmes::table.into_boxed(),
        programmes::id,
        ids
    )
    .select((
        programmes::id,
        programmes::slug,
        programmes::title,
        programmes::kind
    ))
    .load(c))?;
    rows.into_iter()
        .map(|(id, slug, title, kind)| {
            Ok((
                id,
                ProgrammeSummary {
                    id,
                    slug,
                    title,
                    kind: kind_of(&kind)?,
                },
            ))
        })
        .collect()
}

/// The programme `id`, summarised, with its period; `None` when it does not exist.
pub fn period_of(
    conn: &mut AnyConnection,
    id: ProgrammeId,
) -> Result<Option<(ProgrammeSummary, Period)>, ApiError> {
    type Found = (
        String,
        String,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<i32>,
    );
    let found: Option<Found> = programmes::table
        .filter(programmes::id.eq(id))
        .select((
            programmes::slug,
            programmes::title,
            programmes::kind,
            programmes::start_date,
            programmes::end_date,
            programmes::duration_months,
        ))
        .first(conn)
        .optional()?;
    let Some((slug, title, kind, start_date, end_date, duration_months)) = found else {
        return Ok(None);
    };
    Ok(Some((
        ProgrammeSummary {
            id,
            slug,
            title,
            kind: kind_of(&kind)?,
        },
        Period {
            start_date,
            end_date,
            duration_months,
        },
    )))
}

fn respond(
    conn: &mut AnyConnection,
    rows: Vec<ProgrammeRow>,
) -> Result<Vec<ProgrammeResponse>, ApiError> {
    let ids: Vec<ProgrammeId> = rows.iter().map(|r| r.id).collect();
    let mut parts: HashMap<ProgrammeId, Vec<ProgrammeOrganisationResponse>> = HashMap::new();
    if !ids.is_empty() {
        type Part = (
            ProgrammeId,
            OrganisationId,
            String,
            Option<NaiveDate>,
            Option<NaiveDate>,
        );
        let found: Vec<Part> = programme_organisations::table
            .filter(programme_organisations::programme_id.eq_any(&ids))
            .order((
                programme_organisations::programme_id,
                programme_organisations::position,
            ))
            .select((
                programme_organisations::programme_id,
                programme_organisations::organisation_id,
                programme_organisations::role,
                programme_organisations::since,
                programme_organisations::until,
            ))
            .load(conn)?;
        let mut organisation_ids: Vec<OrganisationId> = found.iter().map(|p| p.1).collect();
        organisation_ids.sort();
        organisation_ids.dedup();
        let summaries = organisation_store::summaries(conn, &organisation_ids)?;
        for (programme_id, organisation_id, role, since, until) in found {
            let organisation = summaries.get(&organisation_id).cloned().ok_or_else(|| {
                ApiError::internal(format!("organisation {organisation_id} of a programme"))
            })?;
            parts
                .entry(programme_id)
                .or_default()
                .push(ProgrammeOrganisationResponse {
                    organisation_id,
                    organisation,
                    role: ProgrammeRole::parse(&role).ok_or_else(|| {
                        ApiError::internal(format!("stored programme role {role:?}"))
                    })?,
                    since,
                    until,
                });
        }
    }
    let parent_ids: Vec<ProgrammeId> = rows.iter().filter_map(|r| r.parent_id).collect();
    let parents = summaries(conn, &parent_ids)?;
    rows.into_iter()
        .map(|row| {
            let period = Period {
                start_date: row.start_date,
                end_date: row.end_date,
                duration_months: row.duration_months,
            };
            Ok(ProgrammeResponse {
                id: row.id,
                kind: kind_of(&row.kind)?,
                status: match row.status.as_deref() {
                    None => None,
                    Some(status) => Some(ProgrammeStatus::parse(status).ok_or_else(|| {
                        ApiError::internal(format!("stored programme status {status:?}"))
                    })?),
                },
                parent: row.parent_id.and_then(|p| parents.get(&p).cloned()),
                parent_id: row.parent_id,
                organisations: parts.remove(&row.id).unwrap_or_default(),
                slug: row.slug,
                title: row.title,
                funding_instrument: row.funding_instrument,
                start_date: row.start_date,
                end_date: row.end_date,
                duration_months: row.duration_months,
                effective_end_date: period.effective_end(),
                description: row.description,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            })
        })
        .collect()
}

/// The id of the programme `key` (id or slug) names; 404 when there is none.
pub fn find_id(conn: &mut AnyConnection, key: &str) -> Result<ProgrammeId, ApiError> {
    lookup::programme_id(conn, key)?.ok_or_else(|| ApiError::not_found("programme", key))
}

/// One page of programmes matching `filter`, by title.
pub fn list(conn: &mut AnyConnection, filter: &ProgrammeFilter) -> Result<ProgrammePage, ApiError> {
    let mut query = programmes::table
        .select(ProgrammeRow::as_select())
        .into_boxed();
    if let Some(q) = filter.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        query = query.filter(programmes::search_text.like(like_pattern(&q)).escape('\\'));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(programmes::kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(programmes::status.eq(status.as_str()));
    }
    if let Some(key) = &filter.parent {
        let parent =
            lookup::filter_target("parent", "programme", key, lookup::programme_id(conn, key)?)?;
        query = query.filter(programmes::parent_id.eq(parent));
    }
    let organisation = match &filter.organisation {
        Some(key) => Some(lookup::filter_target(
            "organisation",
            "organisation",
            key,
            lookup::organisation_id(conn, key)?,
        )?),
        None => None,
    };
    let parts = programme_organisations::table.select(programme_organisations::programme_id);
    match (organisation, filter.role) {
        (None, None) => {}
        (Some(id), None) => {
            query = query.filter(
                programmes::id
                    .eq_any(parts.filter(programme_organisations::organisation_id.eq(id))),
            );
        }
        (None, Some(role)) => {
            query = query.filter(
                programmes::id
                    .eq_any(parts.filter(programme_organisations::role.eq(role.as_str()))),
            );
        }
        (Some(id), Some(role)) => {
            query = query.filter(
                programmes::id.eq_any(
                    parts
                        .filter(programme_organisations::organisation_id.eq(id))
                        .filter(programme_organisations::role.eq(role.as_str())),
                ),
            );
        }
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let id = ProgrammeId(cursor.id);
        query = after_cursor!(query, programmes::sort_key, programmes::id, cursor.key, id);
    }
    let rows: Vec<ProgrammeRow> = query
        .order((programmes::sort_key.asc(), programmes::id.asc()))
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
    Ok(ProgrammePage {
        items: respond(conn, rows)?,
        next_cursor,
    })
}

/// A programme cannot be part of itself, directly or through its parents.
fn check_parent(
    conn: &mut AnyConnection,
    this: ProgrammeId,
    parent: ProgrammeId,
) -> Result<(), ApiError> {
    let mut current = Some(parent);
    for _ in 0..64 {
        let Some(id) = current else {
            return Ok(());
        };
        if id == this {
            return Err(ApiError::rule(
                "parent_cycle",
                lookup::programme_refs(conn, &[this, parent])?,
                "a programme cannot be part of itself or of one of its own parts",
            ));
        }
        current = programmes::table
            .filter(programmes::id.eq(id))
            .select(programmes::parent_id)
            .first::<Option<ProgrammeId>>(conn)
            .optional()?
            .flatten();
    }
    Err(ApiError::rule(
        "parent_depth",
        lookup::programme_refs(conn, &[parent])?,
        "programmes nest at most 64 levels deep",
    ))
}

/// The organisations' keys resolved, in order; every one that names nothing is reported.
fn resolve_organisations<'a>(
    conn: &mut AnyConnection,
    parts: &'a [ValidProgrammeOrganisation],
) -> Result<Vec<(OrganisationId, &'a ValidProgrammeOrganisation)>, ApiError> {
    let mut errors = Vec::new();
    let mut resolved: Vec<(OrganisationId, &ValidProgrammeOrganisation)> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let field = format!("organisations[{i}].organisation_id");
        match lookup::organisation_id(conn, &part.organisation)? {
            None => errors.push(FieldError::new(
                field,
                format!("no organisation {:?}", part.organisation),
            )),
            // The same organisation named once by id and once by slug.
            Some(id)
                if resolved.iter().any(|(other, earlier)| {
                    *other == id && earlier.role == part.role && earlier.since == part.since
                }) =>
            {
                errors.push(FieldError::new(
                    field,
                    "is listed twice with the same role and since",
                ));
            }
            Some(id) => resolved.push((id, part)),
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The columns stored for `valid`, its references resolved and the rules needing the database
/// checked.
fn columns(
    conn: &mut AnyConnection,
    id: ProgrammeId,
    valid: &ValidProgramme,
) -> Result<ProgrammeColumns, ApiError> {
    let parent_id = match &valid.parent {
        Some(key) => {
            let parent = lookup::programme_id(conn, key)?
                .ok_or_else(|| ApiError::invalid("parent_id", format!("no programme {key:?}")))?;
            check_parent(conn, id, parent)?;
            Some(parent)
        }
        None => None,
    };
    let slug = choose_slug(
        conn,
        "programme",
        valid.slug.as_ref(),
        &valid.title,
        |conn, slug| {
            Ok(diesel::select(diesel::dsl::exists(
                programmes::table
                    .filter(programmes::slug.eq(slug))
                    .filter(programmes::id.ne(id)),
            ))
            .get_result(conn)?)
        },
    )?;
    Ok(ProgrammeColumns {
        slug,
        sort_key: fold(&valid.title),
        title: valid.title.clone(),
        kind: valid.kind.as_str(),
        status: valid.status.map(ProgrammeStatus::as_str),
        funding_instrument: valid.funding_instrument.clone(),
        parent_id,
        start_date: valid.period.start_date,
        end_date: valid.period.end_date,
        duration_months: valid.period.duration_months,
        description: valid.description.clone(),
        search_text: valid.search_text(),
        updated_at: Timestamp::now(),
    })
}

/// Replaces the programme's organisations with `parts` (already resolved).
fn write_organisations(
    conn: &mut AnyConnection,
    id: ProgrammeId,
    parts: &[(OrganisationId, &ValidProgrammeOrganisation)],
) -> Result<(), ApiError> {
    diesel::delete(
        programme_organisations::table.filter(programme_organisations::programme_id.eq(id)),
    )
    .execute(conn)?;
    for (position, (organisation_id, part)) in (0i32..).zip(parts) {
        diesel::insert_into(programme_organisations::table)
            .values((
                programme_organisations::programme_id.eq(id),
                programme_organisations::position.eq(position),
                programme_organisations::organisation_id.eq(*organisation_id),
                programme_organisations::role.eq(part.role.as_str()),
                programme_organisations::since.eq(part.since),
                programme_organisations::until.eq(part.until),
            ))
            .execute(conn)?;
    }
    Ok(())
}

versioned_rows!(programmes, ProgrammeId, ProgrammeColumns, ProgrammeResponse);

/// Programmes as a [`Resource`].
pub struct Programmes;

impl Resource for Programmes {
    const NAME: &'static str = "programme";
    type Id = ProgrammeId;
    type Input = ProgrammeInput;
    type Valid = ValidProgramme;
    type Response = ProgrammeResponse;
    type Warning = NoWarning;

    fn validate(input: ProgrammeInput) -> Result<ValidProgramme, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<ProgrammeId>, ApiError> {
        lookup::programme_id(conn, key)
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        _viewer: Viewer,
    ) -> Result<ProgrammeResponse, ApiError> {
        let id = find_id(conn, key)?;
        let row = programmes::table
            .filter(programmes::id.eq(id))
            .select(ProgrammeRow::as_select())
            .first(conn)?;
        respond(conn, vec![row])?
            .pop()
            .ok_or_else(|| ApiError::not_found("programme", key))
    }

    fn update(
        conn: &mut AnyConnection,
        id: ProgrammeId,
        version: i32,
        valid: &ValidProgramme,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let parts = resolve_organisations(conn, &valid.organisations)?;
        let columns = columns(conn, id, valid)?;
        update_row(conn, id, version, columns)?;
        write_organisations(conn, id, &parts)
    }

    fn delete(conn: &mut AnyConnection, id: ProgrammeId, version: i32) -> Result<(), ApiError> {
        let parts: Vec<ProgrammeId> = programmes::table
            .filter(programmes::parent_id.eq(Some(id)))
            .select(programmes::id)
            .limit(20)
            .load(conn)?;
        let implemented: Vec<EventId> = events::table
            .filter(events::programme_id.eq(Some(id)))
            .select(events::id)
            .limit(20)
            .load(conn)?;
        refuse_if_referenced(
            "programme",
            vec![
                (
                    "programmes (parts of it)",
                    lookup::programme_refs(conn, &parts)?,
                ),
                (
                    "events (implemented under it)",
                    lookup::event_refs(conn, &implemented)?,
                ),
            ],
        )?;
        // Its organisations' parts belong to it and go with it.
        delete_row(conn, id, version)
    }

    fn as_input(response: &ProgrammeResponse) -> ProgrammeInput {
        ProgrammeInput {
            title: response.title.clone(),
            slug: Some(response.slug.clone()),
            kind: response.kind,
            status: response.status,
            funding_instrument: response.funding_instrument.clone(),
            parent_id: response.parent.as_ref().map(|p| p.slug.clone()),
            start_date: response.start_date,
            end_date: response.end_date,
            duration_months: response.duration_months,
            description: response.description.clone(),
            organisations: response
                .organisations
                .iter()
                .map(|part| ProgrammeOrganisationInput {
                    organisation_id: part.organisation.slug.clone(),
                    role: part.role,
                    since: part.since,
                    until: part.until,
                })
                .collect(),
        }
    }
}

impl TopLevel for Programmes {
    fn create(conn: &mut AnyConnection, valid: &ValidProgramme) -> Result<ProgrammeId, ApiError> {
        let id = ProgrammeId::generate();
        let parts = resolve_organisations(conn, &valid.organisations)?;
        let columns = columns(conn, id, valid)?;
        diesel::insert_into(programmes::table)
            .values(NewProgramme {
                id,
                created_at: columns.updated_at,
                columns,
            })
            .execute(conn)?;
        write_organisations(conn, id, &parts)?;
        Ok(id)
    }

    fn slug(response: &ProgrammeResponse) -> &str {
        &response.slug
    }
}
