//! Organisations: organisers, hosts, funders and partners.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{
    event_organisers, event_participants, memberships, network_supporters, networks, organisations,
    people, programme_organisations,
};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::OrganisationKind;
use crate::domain::organisation::{OrganisationInput, ValidOrganisation};
use crate::domain::text::{fold, like_pattern};
use crate::error::{ApiError, FieldError};
use crate::ids::OrganisationId;
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource, TopLevel};
use crate::store::{Summary, Viewer, choose_slug, lookup, refuse_if_referenced};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisations)]
struct OrganisationRow {
    id: OrganisationId,
    slug: String,
    sort_key: String,
    name: String,
    acronym: Option<String>,
    kind: String,
    country_code: Option<String>,
    parent_id: Option<OrganisationId>,
    website: Option<String>,
    description: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
struct OrganisationColumns {
    slug: String,
    sort_key: String,
    name: String,
    acronym: Option<String>,
    kind: &'static str,
    country_code: Option<String>,
    parent_id: Option<OrganisationId>,
    website: Option<String>,
    description: Option<String>,
    search_text: String,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(OrganisationColumns, organisation_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = organisations)]
struct NewOrganisation {
    id: OrganisationId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: OrganisationColumns,
}

/// An organiser, host, funder or partner.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OrganisationResponse {
    /// The organisation's id; read-only.
    pub id: OrganisationId,
    /// Unique among organisations; usable wherever the id is.
    #[schema(example = "dg-near")]
    pub slug: String,
    /// The full name.
    #[schema(example = "DG for European Neighbourhood Policy and Enlargement Negotiations")]
    pub name: String,
    /// The short name; `null` when it has none.
    #[schema(example = "DG NEAR")]
    pub acronym: Option<String>,
    /// What kind of organisation this is.
    pub kind: OrganisationKind,
    /// Where it is based (ISO 3166-1 alpha-2, upper case; `XK` for Kosovo); `null` when it
    /// belongs to no one country or it is not known.
    #[schema(example = "BA")]
    pub country_code: Option<String>,
    /// The organisation this one is part of; `null` for a top-level organisation.
    pub parent_id: Option<OrganisationId>,
    /// That organisation, summarised; `null` with `parent_id`.
    pub parent: Option<Summary>,
    /// Its web site; `null` when not known.
    pub website: Option<String>,
    /// Free text; `null` when there is none.
    pub description: Option<String>,
    /// When the organisation was created (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationPage {
    /// The organisations of this page, by name.
    pub items: Vec<OrganisationResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    pub q: Option<String>,
    pub kind: Option<OrganisationKind>,
    pub country: Option<String>,
    pub parent: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "name";

pub fn summaries(
    conn: &mut AnyConnection,
    ids: &[OrganisationId],
) -> Result<crate::store::Summaries<OrganisationId>, ApiError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(organisations::table
        .filter(organisations::id.eq_any(ids))
        .select((
            organisations::id,
            organisations::slug,
            organisations::name,
            organisations::acronym,
        ))
        .load::<(OrganisationId, String, String, Option<String>)>(conn)?
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

fn respond(
    conn: &mut AnyConnection,
    rows: Vec<OrganisationRow>,
) -> Result<Vec<OrganisationResponse>, ApiError> {
    let parent_ids: Vec<OrganisationId> = rows.iter().filter_map(|r| r.parent_id).collect();
    let parents = summaries(conn, &parent_ids)?;
    rows.into_iter()
        .map(|row| {
            Ok(OrganisationResponse {
                id: row.id,
                kind: OrganisationKind::parse(&row.kind)
                    .ok_or_else(|| ApiError::internal(format!("stored kind {:?}", row.kind)))?,
                parent: row.parent_id.and_then(|p| parents.get(&p).cloned()),
                parent_id: row.parent_id,
                slug: row.slug,
                name: row.name,
                acronym: row.acronym,
                country_code: row.country_code,
                website: row.website,
                description: row.description,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            })
        })
        .collect()
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &OrganisationFilter,
) -> Result<OrganisationPage, ApiError> {
    let mut query = organisations::table
        .select(OrganisationRow::as_select())
        .into_boxed();
    if let Some(q) = filter.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        query = query.filter(
            organisations::search_text
                .like(like_pattern(&q))
                .escape('\\'),
        );
    }
    if let Some(kind) = filter.kind {
        query = query.filter(organisations::kind.eq(kind.as_str()));
    }
    if let Some(country) = &filter.country {
        query = query.filter(organisations::country_code.eq(country.clone()));
    }
    if let Some(key) = &filter.parent {
        let parent = lookup::filter_target(
            "parent",
            "organisation",
            key,
            lookup::organisation_id(conn, key)?,
        )?;
        query = query.filter(organisations::parent_id.eq(parent));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let id = OrganisationId(cursor.id);
        query = after_cursor!(
            query,
            organisations::sort_key,
            organisations::id,
            cursor.key,
            id
        );
    }
    let rows: Vec<OrganisationRow> = query
        .order((organisations::sort_key.asc(), organisations::id.asc()))
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
    Ok(OrganisationPage {
        items: respond(conn, rows)?,
        next_cursor,
    })
}

fn columns(
    conn: &mut AnyConnection,
    id: OrganisationId,
    valid: &ValidOrganisation,
) -> Result<OrganisationColumns, ApiError> {
    let parent_id = match &valid.parent {
        Some(key) => {
            let parent = lookup::organisation_id(conn, key)?.ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new(
                    "parent_id",
                    format!("no organisation {key:?}"),
                )])
            })?;
            check_parent(conn, id, parent)?;
            Some(parent)
        }
        None => None,
    };
    let title = valid.acronym.as_deref().unwrap_or(&valid.name);
    let slug = choose_slug(
        conn,
        "organisation",
        valid.slug.as_ref(),
        title,
        |conn, slug| {
            Ok(diesel::select(diesel::dsl::exists(
                organisations::table
                    .filter(organisations::slug.eq(slug))
                    .filter(organisations::id.ne(id)),
            ))
            .get_result(conn)?)
        },
    )?;
    Ok(OrganisationColumns {
        slug,
        sort_key: fold(&valid.name),
        name: valid.name.clone(),
        acronym: valid.acronym.clone(),
        kind: valid.kind.as_str(),
        country_code: valid.country_code.as_ref().map(|c| c.to_string()),
        parent_id,
        website: valid.website.clone(),
        description: valid.description.clone(),
        search_text: valid.search_text(),
        updated_at: Timestamp::now(),
    })
}

/// An organisation cannot be part of itself, directly or through its parents.
fn check_parent(
    conn: &mut AnyConnection,
    this: OrganisationId,
    parent: OrganisationId,
) -> Result<(), ApiError> {
    let mut current = Some(parent);
    for _ in 0..64 {
        let Some(id) = current else {
            return Ok(());
        };
        if id == this {
            return Err(ApiError::rule(
                "parent_cycle",
                lookup::organisation_refs(conn, &[this, parent])?,
                "an organisation cannot be part of itself or of one of its own parts",
            ));
        }
        current = organisations::table
            .filter(organisations::id.eq(id))
            .select(organisations::parent_id)
            .first::<Option<OrganisationId>>(conn)
            .optional()?
            .flatten();
    }
    Err(ApiError::rule(
        "parent_depth",
        lookup::organisation_refs(conn, &[parent])?,
        "organisations nest at most 64 levels deep",
    ))
}

versioned_rows!(
    organisations,
    OrganisationId,
    OrganisationColumns,
    OrganisationResponse
);

/// Organisations as a [`Resource`].
pub struct Organisations;

impl Resource for Organisations {
    const NAME: &'static str = "organisation";
    type Id = OrganisationId;
    type Input = OrganisationInput;
    type Valid = ValidOrganisation;
    type Response = OrganisationResponse;
    type Warning = NoWarning;

    fn validate(input: OrganisationInput) -> Result<ValidOrganisation, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<OrganisationId>, ApiError> {
        lookup::organisation_id(conn, key)
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        _viewer: Viewer,
    ) -> Result<OrganisationResponse, ApiError> {
        let id = Self::find(conn, key)?.ok_or_else(|| ApiError::not_found("organisation", key))?;
        let row = organisations::table
            .filter(organisations::id.eq(id))
            .select(OrganisationRow::as_select())
            .first(conn)?;
        respond(conn, vec![row])?
            .pop()
            .ok_or_else(|| ApiError::not_found("organisation", key))
    }

    fn update(
        conn: &mut AnyConnection,
        id: OrganisationId,
        version: i32,
        valid: &ValidOrganisation,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let columns = columns(conn, id, valid)?;
        update_row(conn, id, version, columns)
    }

    fn delete(conn: &mut AnyConnection, id: OrganisationId, version: i32) -> Result<(), ApiError> {
        let opt = Some(id);
        let parts: Vec<OrganisationId> = organisations::table
            .filter(organisations::parent_id.eq(opt))
            .select(organisations::id)
            .limit(20)
            .load(conn)?;
        let affiliated: Vec<crate::ids::PersonId> = people::table
            .filter(people::organisation_id.eq(opt))
            .select(people::id)
            .limit(20)
            .load(conn)?;
        let networks_of: Vec<crate::ids::NetworkId> = networks::table
            .filter(
                networks::coordinator_id.eq(opt).or(networks::id.eq_any(
                    network_supporters::table
                        .filter(network_supporters::organisation_id.eq(id))
                        .select(network_supporters::network_id),
                )),
            )
            .select(networks::id)
            .limit(20)
            .load(conn)?;
        let mut member_of: Vec<crate::ids::NetworkId> = memberships::table
            .filter(memberships::organisation_id.eq(opt))
            .select(memberships::network_id)
            .limit(20)
            .load(conn)?;
        member_of.sort();
        member_of.dedup();
        let mut programmes_of: Vec<crate::ids::ProgrammeId> = programme_organisations::table
            .filter(programme_organisations::organisation_id.eq(id))
            .select(programme_organisations::programme_id)
            .limit(20)
            .load(conn)?;
        programmes_of.sort();
        programmes_of.dedup();
        let mut events_of: Vec<crate::ids::EventId> = event_organisers::table
            .filter(event_organisers::organisation_id.eq(id))
            .select(event_organisers::event_id)
            .limit(20)
            .load(conn)?;
        events_of.extend(
            event_participants::table
                .filter(event_participants::organisation_id.eq(opt))
                .select(event_participants::event_id)
                .limit(20)
                .load::<crate::ids::EventId>(conn)?,
        );
        events_of.sort();
        events_of.dedup();
        refuse_if_referenced(
            "organisation",
            vec![
                (
                    "organisations (parts of it)",
                    lookup::organisation_refs(conn, &parts)?,
                ),
                (
                    "people (affiliated)",
                    lookup::person_refs(conn, &affiliated)?,
                ),
                (
                    "networks (coordinated or supported)",
                    lookup::network_refs(conn, &networks_of)?,
                ),
                (
                    "network memberships",
                    lookup::network_refs(conn, &member_of)?,
                ),
                (
                    "programmes (as funder, coordinator, partner or beneficiary)",
                    lookup::programme_refs(conn, &programmes_of)?,
                ),
                (
                    "events (as organiser or participant)",
                    lookup::event_refs(conn, &events_of)?,
                ),
                (
                    "publications (as publisher or affiliation)",
                    crate::store::publications::referring_to_organisation(conn, id)?,
                ),
                (
                    "events (outcomes it owns)",
                    crate::store::outcomes::naming_organisation(conn, id)?,
                ),
            ],
        )?;
        delete_row(conn, id, version)
    }

    fn as_input(response: &OrganisationResponse) -> OrganisationInput {
        OrganisationInput {
            name: response.name.clone(),
            slug: Some(response.slug.clone()),
            acronym: response.acronym.clone(),
            kind: response.kind,
            country_code: response.country_code.clone(),
            parent_id: response.parent.as_ref().map(|p| p.slug.clone()),
            website: response.website.clone(),
            description: response.description.clone(),
        }
    }
}

impl TopLevel for Organisations {
    fn create(
        conn: &mut AnyConnection,
        valid: &ValidOrganisation,
    ) -> Result<OrganisationId, ApiError> {
        let id = OrganisationId::generate();
        let columns = columns(conn, id, valid)?;
        diesel::insert_into(organisations::table)
            .values(NewOrganisation {
                id,
                created_at: columns.updated_at,
                columns,
            })
            .execute(conn)?;
        Ok(id)
    }

    fn slug(response: &OrganisationResponse) -> &str {
        &response.slug
    }
}
