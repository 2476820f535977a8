//! People: chairs, speakers, coordinators. Contact fields exist only for token holders.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{event_participants, memberships, people};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::organisation::{PersonInput, ValidPerson};
use crate::domain::text::{fold, like_pattern};
use crate::error::{ApiError, FieldError};
use crate::ids::{EventId, NetworkId, OrganisationId, PersonId};
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource, TopLevel};
use crate::store::{Summary, Viewer, choose_slug, lookup, organisations, refuse_if_referenced};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = people)]
struct PersonRow {
    id: PersonId,
    slug: String,
    sort_key: String,
    full_name: String,
    honorific: Option<String>,
    position: Option<String>,
    organisation_id: Option<OrganisationId>,
    email: Option<String>,
    phone: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true)]
struct PersonColumns {
    slug: String,
    sort_key: String,
    full_name: String,
    honorific: Option<String>,
    position: Option<String>,
    organisation_id: Option<OrganisationId>,
    email: Option<String>,
    phone: Option<String>,
    search_text: String,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(PersonColumns, person_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = people)]
struct NewPerson {
    id: PersonId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: PersonColumns,
}

/// A chair, speaker or coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PersonResponse {
    /// The person's id; read-only.
    pub id: PersonId,
    /// Unique among people; usable wherever the id is.
    #[schema(example = "maciej-popowski")]
    pub slug: String,
    /// The name as the person writes it, accents included.
    #[schema(example = "Maciej Popowski")]
    pub full_name: String,
    /// How the person is addressed (`Mr`, `Dr`…); `null` when not known.
    #[schema(example = "Mr")]
    pub honorific: Option<String>,
    /// Job title and office; `null` when not known.
    pub position: Option<String>,
    /// The organisation the person works for; `null` when not known.
    pub organisation_id: Option<OrganisationId>,
    /// That organisation, summarised; `null` with `organisation_id`.
    pub organisation: Option<Summary>,
    /// Only for callers with a token, and only when recorded; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = Email)]
    pub email: Option<String>,
    /// Only for callers with a token, and only when recorded; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// When the person was created (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When the record last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonPage {
    /// The people of this page, by name.
    pub items: Vec<PersonResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub q: Option<String>,
    pub organisation: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "name";

/// One summary per person id, for embedding.
pub fn summaries(
    conn: &mut AnyConnection,
    ids: &[PersonId],
) -> Result<crate::store::Summaries<PersonId>, ApiError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(people::table
        .filter(people::id.eq_any(ids))
        .select((people::id, people::slug, people::full_name))
        .load::<(PersonId, String, String)>(conn)?
        .into_iter()
        .map(|(id, slug, name)| {
            let summary = Summary {
                id: id.0,
                slug,
                name,
                acronym: None,
            };
            (id, summary)
        })
        .collect())
}

fn respond(
    conn: &mut AnyConnection,
    rows: Vec<PersonRow>,
    viewer: Viewer,
) -> Result<Vec<PersonResponse>, ApiError> {
    let organisation_ids: Vec<OrganisationId> =
        rows.iter().filter_map(|r| r.organisation_id).collect();
    let organisations = organisations::summaries(conn, &organisation_ids)?;
    Ok(rows
        .into_iter()
        .map(|row| PersonResponse {
            id: row.id,
            slug: row.slug,
            full_name: row.full_name,
            honorific: row.honorific,
            position: row.position,
            organisation: row
                .organisation_id
                .and_then(|o| organisations.get(&o).cloned()),
            organisation_id: row.organisation_id,
            email: row.email.filter(|_| viewer.sees_internal),
            phone: row.phone.filter(|_| viewer.sees_internal),
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
            version: row.version,
        })
        .collect())
}

pub fn list(
    conn: &mut AnyConnection,
    filter: &PersonFilter,
    viewer: Viewer,
) -> Result<PersonPage, ApiError> {
    let mut query = people::table.select(PersonRow::as_select()).into_boxed();
    if let Some(q) = filter.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        query = query.filter(people::search_text.like(like_pattern(&q)).escape('\\'));
    }
    if let Some(key) = &filter.organisation {
        let organisation = lookup::filter_target(
            "organisation",
            "organisation",
            key,
            lookup::organisation_id(conn, key)?,
        )?;
        query = query.filter(people::organisation_id.eq(organisation));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let id = PersonId(cursor.id);
        query = after_cursor!(query, people::sort_key, people::id, cursor.key, id);
    }
    let rows: Vec<PersonRow> = query
        .order((people::sort_key.asc(), people::id.asc()))
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
    Ok(PersonPage {
        items: respond(conn, rows, viewer)?,
        next_cursor,
    })
}

fn columns(
    conn: &mut AnyConnection,
    id: PersonId,
    valid: &ValidPerson,
) -> Result<PersonColumns, ApiError> {
    let organisation_id = match &valid.organisation {
        Some(key) => Some(lookup::organisation_id(conn, key)?.ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "organisation_id",
                format!("no organisation {key:?}"),
            )])
        })?),
        None => None,
    };
    let slug = choose_slug(
        conn,
        "person",
        valid.slug.as_ref(),
        &valid.full_name,
        |conn, slug| {
            Ok(diesel::select(diesel::dsl::exists(
                people::table
                    .filter(people::slug.eq(slug))
                    .filter(people::id.ne(id)),
            ))
            .get_result(conn)?)
        },
    )?;
    Ok(PersonColumns {
        slug,
        sort_key: fold(&valid.full_name),
        full_name: valid.full_name.clone(),
        honorific: valid.honorific.clone(),
        position: valid.position.clone(),
        organisation_id,
        email: valid.email.clone(),
        phone: valid.phone.clone(),
        search_text: valid.search_text(),
        updated_at: Timestamp::now(),
    })
}

versioned_rows!(people, PersonId, PersonColumns, PersonResponse);

/// People as a [`Resource`].
pub struct People;

impl Resource for People {
    const NAME: &'static str = "person";
    type Id = PersonId;
    type Input = PersonInput;
    type Valid = ValidPerson;
    type Response = PersonResponse;
    type Warning = NoWarning;

    fn validate(input: PersonInput) -> Result<ValidPerson, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<PersonId>, ApiError> {
        lookup::person_id(conn, key)
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        viewer: Viewer,
    ) -> Result<PersonResponse, ApiError> {
        let id = Self::find(conn, key)?.ok_or_else(|| ApiError::not_found("person", key))?;
        let row = people::table
            .filter(people::id.eq(id))
            .select(PersonRow::as_select())
            .first(conn)?;
        respond(conn, vec![row], viewer)?
            .pop()
            .ok_or_else(|| ApiError::not_found("person", key))
    }

    fn update(
        conn: &mut AnyConnection,
        id: PersonId,
        version: i32,
        valid: &ValidPerson,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let columns = columns(conn, id, valid)?;
        update_row(conn, id, version, columns)
    }

    fn delete(conn: &mut AnyConnection, id: PersonId, version: i32) -> Result<(), ApiError> {
        let mut events: Vec<EventId> = event_participants::table
            .filter(event_participants::person_id.eq(Some(id)))
            .select(event_participants::event_id)
            .limit(20)
            .load(conn)?;
        events.sort();
        events.dedup();
        let mut networks: Vec<NetworkId> = memberships::table
            .filter(memberships::person_id.eq(Some(id)))
            .select(memberships::network_id)
            .limit(20)
            .load(conn)?;
        networks.sort();
        networks.dedup();
        refuse_if_referenced(
            "person",
            vec![
                (
                    "events (as participant)",
                    lookup::event_refs(conn, &events)?,
                ),
                (
                    "network memberships",
                    lookup::network_refs(conn, &networks)?,
                ),
                (
                    "publications (as author)",
                    crate::store::publications::referring_to_person(conn, id)?,
                ),
                (
                    "events (outcomes it owns)",
                    crate::store::outcomes::naming_person(conn, id)?,
                ),
            ],
        )?;
        delete_row(conn, id, version)
    }

    fn as_input(response: &PersonResponse) -> PersonInput {
        PersonInput {
            full_name: response.full_name.clone(),
            slug: Some(response.slug.clone()),
            honorific: response.honorific.clone(),
            position: response.position.clone(),
            organisation_id: response.organisation.as_ref().map(|o| o.slug.clone()),
            email: response.email.clone(),
            phone: response.phone.clone(),
        }
    }
}

impl TopLevel for People {
    fn create(conn: &mut AnyConnection, valid: &ValidPerson) -> Result<PersonId, ApiError> {
        let id = PersonId::generate();
        let columns = columns(conn, id, valid)?;
        diesel::insert_into(people::table)
            .values(NewPerson {
                id,
                created_at: columns.updated_at,
                columns,
            })
            .execute(conn)?;
        Ok(id)
    }

    fn slug(response: &PersonResponse) -> &str {
        &response.slug
    }
}
