//! Dated memberships of networks: who (a person or an organisation) belonged to which network,
//! in what role, from when to when.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::memberships;
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::MembershipRole;
use crate::domain::organisation::{MemberRef, MembershipInput, ValidMembership};
use crate::error::{ApiError, FieldError};
use crate::ids::{MembershipId, NetworkId, OrganisationId, PersonId};
use crate::store::networks::{self, resolve_organisation, summaries as network_summaries};
use crate::store::pagination::{Cursor, split_page};
use crate::store::resource::{NoWarning, Resource};
use crate::store::{Summary, Viewer, lookup, organisations as organisation_store};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
struct MembershipRow {
    id: MembershipId,
    network_id: NetworkId,
    person_id: Option<PersonId>,
    organisation_id: Option<OrganisationId>,
    role: String,
    country_code: Option<String>,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

/// What a write of a membership stores (its network never changes).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = memberships, treat_none_as_null = true)]
struct MembershipColumns {
    person_id: Option<PersonId>,
    organisation_id: Option<OrganisationId>,
    role: String,
    country_code: Option<String>,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(MembershipColumns, membership_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = memberships)]
struct NewMembership {
    id: MembershipId,
    network_id: NetworkId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: MembershipColumns,
}

/// A dated membership of a network.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MembershipResponse {
    /// The membership's id; read-only.
    pub id: MembershipId,
    /// The network.
    pub network_id: NetworkId,
    /// The network this is a membership of, summarised.
    pub network: Summary,
    /// The member's id when a person, else `null`.
    pub person_id: Option<PersonId>,
    /// The member's id when an organisation, else `null`.
    pub organisation_id: Option<OrganisationId>,
    /// The person or organisation that is a member, summarised.
    pub member: Summary,
    /// The member's part in the network.
    pub role: MembershipRole,
    /// The country the member represents (ISO 3166-1 alpha-2; `XK` for Kosovo); `null` when
    /// not recorded.
    #[schema(example = "AT")]
    pub country_code: Option<String>,
    /// First day of the membership (`YYYY-MM-DD`); `null` when not known.
    pub since: Option<NaiveDate>,
    /// Last day of the membership (`YYYY-MM-DD`, inclusive); `null` while it lasts.
    pub until: Option<NaiveDate>,
    /// When the membership was recorded (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when added, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of memberships.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipPage {
    /// The memberships of this page.
    pub items: Vec<MembershipResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MembershipFilter {
    pub as_of: Option<NaiveDate>,
    pub role: Option<MembershipRole>,
    pub cursor: Option<String>,
    pub limit: i64,
}

fn membership_responses(
    conn: &mut AnyConnection,
    rows: Vec<MembershipRow>,
) -> Result<Vec<MembershipResponse>, ApiError> {
    let person_ids: Vec<PersonId> = rows.iter().filter_map(|r| r.person_id).collect();
    let persons = crate::store::people::summaries(conn, &person_ids)?;
    let organisation_ids: Vec<OrganisationId> =
        rows.iter().filter_map(|r| r.organisation_id).collect();
    let organisations = organisation_store::summaries(conn, &organisation_ids)?;
    let mut network_ids: Vec<NetworkId> = rows.iter().map(|r| r.network_id).collect();
    network_ids.sort();
    network_ids.dedup();
    let networks = network_summaries(conn, &network_ids)?;
    rows.into_iter()
        .map(|row| {
            let network = networks
                .get(&row.network_id)
                .cloned()
                .ok_or_else(|| ApiError::internal("membership of a missing network"))?;
            let member = match (row.person_id, row.organisation_id) {
                (Some(p), _) => persons.get(&p).cloned(),
                (None, Some(o)) => organisations.get(&o).cloned(),
                (None, None) => None,
            }
            .ok_or_else(|| ApiError::internal("membership without a member"))?;
            Ok(MembershipResponse {
                id: row.id,
                network_id: row.network_id,
                network,
                person_id: row.person_id,
                organisation_id: row.organisation_id,
                member,
                role: MembershipRole::parse(&row.role)
                    .ok_or_else(|| ApiError::internal(format!("stored role {:?}", row.role)))?,
                country_code: row.country_code,
                since: row.since,
                until: row.until,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            })
        })
        .collect()
}

/// A network's members, optionally those whose membership covers `as_of`.
pub fn list_members(
    conn: &mut AnyConnection,
    network_key: &str,
    filter: &MembershipFilter,
) -> Result<MembershipPage, ApiError> {
    let network_id = networks::find_id(conn, network_key)?;
    let mut query = memberships::table
        .filter(memberships::network_id.eq(network_id))
        .select(MembershipRow::as_select())
        .into_boxed();
    if let Some(day) = filter.as_of {
        query = query
            .filter(memberships::since.is_null().or(memberships::since.le(day)))
            .filter(memberships::until.is_null().or(memberships::until.ge(day)));
    }
    if let Some(role) = filter.role {
        query = query.filter(memberships::role.eq(role.as_str()));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, "created")?;
        query = query.filter(memberships::id.gt(MembershipId(cursor.id)));
    }
    let rows: Vec<MembershipRow> = query
        .order(memberships::id.asc())
        .limit(filter.limit + 1)
        .load(conn)?;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: "created".to_owned(),
            key: String::new(),
            id: row.id.0,
        }
        .encode()
    });
    Ok(MembershipPage {
        items: membership_responses(conn, rows)?,
        next_cursor,
    })
}

/// Whose memberships [`related`] reads: a network's members, or the networks a person or an
/// organisation belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Related {
    MembersOf(NetworkId),
    OfPerson(PersonId),
    OfOrganisation(OrganisationId),
}

/// At most `limit` memberships of one network or one member, oldest first (for the
/// schema.org `member` and `memberOf` of a record).
pub fn related(
    conn: &mut AnyConnection,
    whose: Related,
    limit: i64,
) -> Result<Vec<MembershipResponse>, ApiError> {
    let query = memberships::table
        .select(MembershipRow::as_select())
        .order(memberships::id.asc())
        .limit(limit)
        .into_boxed();
    let query = match whose {
        Related::MembersOf(network) => query.filter(memberships::network_id.eq(network)),
        Related::OfPerson(person) => query.filter(memberships::person_id.eq(person)),
        Related::OfOrganisation(organisation) => {
            query.filter(memberships::organisation_id.eq(organisation))
        }
    };
    let rows: Vec<MembershipRow> = query.load(conn)?;
    membership_responses(conn, rows)
}

/// The id of membership `id` of the network `network_key`: 404 when the network does not
/// exist, or has no such membership (another network's included).
pub fn membership_id(
    conn: &mut AnyConnection,
    network_key: &str,
    id: &str,
) -> Result<MembershipId, ApiError> {
    let network_id = networks::find_id(conn, network_key)?;
    let id = parse_membership_id(id)?;
    let belongs: bool = diesel::select(diesel::dsl::exists(
        memberships::table
            .filter(memberships::id.eq(id))
            .filter(memberships::network_id.eq(network_id)),
    ))
    .get_result(conn)?;
    if !belongs {
        return Err(ApiError::not_found("membership", id.to_string()));
    }
    Ok(id)
}

fn parse_membership_id(id: &str) -> Result<MembershipId, ApiError> {
    uuid::Uuid::parse_str(id)
        .map(MembershipId)
        .map_err(|_| ApiError::not_found("membership", id))
}

/// Membership `id`, whatever its network (the nested path checks that with
/// [`membership_id`]).
fn member_by_id(
    conn: &mut AnyConnection,
    id: MembershipId,
) -> Result<MembershipResponse, ApiError> {
    let row = memberships::table
        .filter(memberships::id.eq(id))
        .select(MembershipRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("membership", id.to_string()))?;
    membership_responses(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::not_found("membership", id.to_string()))
}

fn member_ids(
    conn: &mut AnyConnection,
    valid: &ValidMembership,
) -> Result<(Option<PersonId>, Option<OrganisationId>), ApiError> {
    match &valid.member {
        MemberRef::Person(key) => Ok((
            Some(lookup::person_id(conn, key)?.ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new(
                    "person_id",
                    format!("no person {key:?}"),
                )])
            })?),
            None,
        )),
        MemberRef::Organisation(key) => Ok((
            None,
            Some(resolve_organisation(conn, "organisation_id", key)?),
        )),
    }
}

fn membership_columns(
    conn: &mut AnyConnection,
    valid: &ValidMembership,
) -> Result<MembershipColumns, ApiError> {
    let (person_id, organisation_id) = member_ids(conn, valid)?;
    Ok(MembershipColumns {
        person_id,
        organisation_id,
        role: valid.role.as_str().to_owned(),
        country_code: valid.country_code.as_ref().map(|c| c.to_string()),
        since: valid.since,
        until: valid.until,
        updated_at: Timestamp::now(),
    })
}

/// 409 when network `network_id` already has a membership other than `except` with the same
/// member, role and first day as `columns`: one fact recorded twice would be counted twice.
fn refuse_duplicate(
    conn: &mut AnyConnection,
    network_id: NetworkId,
    columns: &MembershipColumns,
    except: Option<MembershipId>,
) -> Result<(), ApiError> {
    let mut query = memberships::table
        .filter(memberships::network_id.eq(network_id))
        .filter(memberships::role.eq(columns.role.clone()))
        .select(memberships::id)
        .into_boxed();
    query = match columns.person_id {
        Some(person) => query.filter(memberships::person_id.eq(person)),
        None => query.filter(memberships::person_id.is_null()),
    };
    query = match columns.organisation_id {
        Some(organisation) => query.filter(memberships::organisation_id.eq(organisation)),
        None => query.filter(memberships::organisation_id.is_null()),
    };
    query = match columns.since {
        Some(since) => query.filter(memberships::since.eq(since)),
        None => query.filter(memberships::since.is_null()),
    };
    if let Some(except) = except {
        query = query.filter(memberships::id.ne(except));
    }
    match query.first::<MembershipId>(conn).optional()? {
        None => Ok(()),
        Some(existing) => Err(ApiError::conflict(format!(
            "the network already has this member in the role {} from the same first day: \
             membership {existing} (change that one instead)",
            columns.role
        ))),
    }
}

/// Adds a membership; call inside a write transaction.
pub fn add_member(
    conn: &mut AnyConnection,
    network_key: &str,
    valid: &ValidMembership,
) -> Result<MembershipResponse, ApiError> {
    let network_id = networks::find_id(conn, network_key)?;
    let columns = membership_columns(conn, valid)?;
    refuse_duplicate(conn, network_id, &columns, None)?;
    let id = MembershipId::generate();
    diesel::insert_into(memberships::table)
        .values(NewMembership {
            id,
            network_id,
            created_at: columns.updated_at,
            columns,
        })
        .execute(conn)?;
    member_by_id(conn, id)
}

/// The membership in the shape clients write, with references as slugs.
pub fn member_as_input(membership: &MembershipResponse) -> MembershipInput {
    MembershipInput {
        person_id: membership.person_id.map(|_| membership.member.slug.clone()),
        organisation_id: membership
            .organisation_id
            .map(|_| membership.member.slug.clone()),
        role: membership.role,
        country_code: membership.country_code.clone(),
        since: membership.since,
        until: membership.until,
    }
}

/// Removes a membership of the network whatever its version (an import making the network's
/// members those of its file); call inside a write transaction.
pub fn remove_member(
    conn: &mut AnyConnection,
    network_key: &str,
    id: &str,
) -> Result<(), ApiError> {
    let id = membership_id(conn, network_key, id)?;
    diesel::delete(memberships::table.filter(memberships::id.eq(id))).execute(conn)?;
    Ok(())
}

versioned_rows!(
    memberships,
    MembershipId,
    MembershipColumns,
    MembershipResponse
);

/// Memberships as a [`Resource`]: changed and removed through the shared write path. A key is
/// the membership's id (they have no slug); the nested path's handlers first check that the
/// membership belongs to the network named (see [`membership_id`]). They are created inside
/// their network ([`add_member`]), so they are no
/// [`TopLevel`](crate::store::resource::TopLevel) resource.
pub struct Memberships;

impl Resource for Memberships {
    const NAME: &'static str = "membership";
    type Id = MembershipId;
    type Input = MembershipInput;
    type Valid = ValidMembership;
    type Response = MembershipResponse;
    type Warning = NoWarning;

    fn validate(input: MembershipInput) -> Result<ValidMembership, Vec<FieldError>> {
        input.validate()
    }

    fn find(_conn: &mut AnyConnection, key: &str) -> Result<Option<MembershipId>, ApiError> {
        Ok(parse_membership_id(key).ok())
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        _viewer: Viewer,
    ) -> Result<MembershipResponse, ApiError> {
        let id = parse_membership_id(key)?;
        member_by_id(conn, id)
    }

    fn update(
        conn: &mut AnyConnection,
        id: MembershipId,
        version: i32,
        valid: &ValidMembership,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let columns = membership_columns(conn, valid)?;
        let network_id: Option<NetworkId> = memberships::table
            .filter(memberships::id.eq(id))
            .select(memberships::network_id)
            .first(conn)
            .optional()?;
        if let Some(network_id) = network_id {
            refuse_duplicate(conn, network_id, &columns, Some(id))?;
        }
        update_row(conn, id, version, columns)
    }

    fn delete(conn: &mut AnyConnection, id: MembershipId, version: i32) -> Result<(), ApiError> {
        // Nothing refers to a membership.
        delete_row(conn, id, version)
    }

    fn as_input(response: &MembershipResponse) -> MembershipInput {
        member_as_input(response)
    }
}
