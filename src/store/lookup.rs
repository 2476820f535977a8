//! "Id or slug": every `{id}` in a path, and every reference in a body, accepts either.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{
    chains, events, networks, organisations, people, programmes, publications,
};
use crate::error::{ApiError, RecordRef};
use crate::ids::{
    ChainId, EventId, NetworkId, OrganisationId, PersonId, ProgrammeId, PublicationId,
};
use crate::store::events::ReadAt;

/// A key from a path or a body: a UUID is an id, a well-formed slug a slug; anything else
/// names nothing (and never reaches the database: PostgreSQL refuses NUL in text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key<'a> {
    Id(uuid::Uuid),
    Slug(&'a str),
    Nothing,
}

impl<'a> Key<'a> {
    pub fn parse(text: &'a str) -> Self {
        if let Ok(id) = uuid::Uuid::parse_str(text) {
            return Key::Id(id);
        }
        match crate::domain::Slug::parse(text) {
            Ok(_) => Key::Slug(text),
            Err(_) => Key::Nothing,
        }
    }
}

macro_rules! resolver {
    ($fn_name:ident, $table:ident, $id:ident) => {
        /// The id of the record with this id or slug, if it exists.
        pub fn $fn_name(conn: &mut AnyConnection, key: &str) -> Result<Option<$id>, ApiError> {
            let found = match Key::parse(key) {
                Key::Id(id) => $crate::db::native!(conn, |c| $table::table
                    .filter($table::id.eq($id(id)))
                    .select($table::id)
                    .first::<$id>(c)
                    .optional())?,
                Key::Slug(slug) => $crate::db::native!(conn, |c| $table::table
                    .filter($table::slug.eq(slug))
                    .select($table::id)
                    .first::<$id>(c)
                    .optional())?,
                Key::Nothing => None,
            };
            Ok(found)
        }
    };
}

/// [`resolver!`], also answering the generation the registry was at when the id was read (in
/// the same statement): for answers kept until the registry changes.
macro_rules! resolver_at {
    ($fn_name:ident, $table:ident, $id:ident) => {
        /// The id of the record with this id or slug, if it exists, and the registry's
        /// generation it was read at.
        pub fn $fn_name(
            conn: &mut AnyConnection,
            key: &str,
        ) -> Result<Option<($id, i64)>, ApiError> {
            let found = match Key::parse(key) {
                Key::Id(id) => $table::table
                    .filter($table::id.eq($id(id)))
                    .select(($table::id, ReadAt))
                    .first::<($id, i64)>(conn)
                    .optional()?,
                Key::Slug(slug) => $table::table
                    .filter($table::slug.eq(slug))
                    .select(($table::id, ReadAt))
                    .first::<($id, i64)>(conn)
                    .optional()?,
                Key::Nothing => None,
            };
            Ok(found)
        }
    };
}

/// The record a list filter names. A filter naming nothing is refused (422, naming the
/// parameter) rather than answered with an empty list: a misspelt slug must not read as "no
/// meetings".
pub fn filter_target<Id>(
    parameter: &str,
    resource: &str,
    key: &str,
    found: Option<Id>,
) -> Result<Id, ApiError> {
    found.ok_or_else(|| {
        ApiError::invalid(
            parameter,
            format!("no {resource} has the id or slug {key:?}"),
        )
    })
}

resolver!(event_id, events, EventId);

/// The id of the event with this id or slug if it exists and `viewer` may see it: a filter that
/// names an internal event, for a caller who may not see it, answers as one naming no event, so
/// it tells nothing of the event.
pub fn visible_event_id(
    conn: &mut AnyConnection,
    key: &str,
    viewer: crate::store::Viewer,
) -> Result<Option<EventId>, ApiError> {
    use crate::domain::enums::Visibility;
    let found: Option<(EventId, String)> = match Key::parse(key) {
        Key::Id(id) => crate::db::native!(conn, |c| events::table
            .filter(events::id.eq(EventId(id)))
            .select((events::id, events::visibility))
            .first(c)
            .optional())?,
        Key::Slug(slug) => crate::db::native!(conn, |c| events::table
            .filter(events::slug.eq(slug))
            .select((events::id, events::visibility))
            .first(c)
            .optional())?,
        Key::Nothing => None,
    };
    Ok(found
        .filter(|(_, visibility)| viewer.sees_internal || visibility == Visibility::Public.as_str())
        .map(|(id, _)| id))
}
resolver!(organisation_id, organisations, OrganisationId);
resolver!(person_id, people, PersonId);
resolver!(network_id, networks, NetworkId);
resolver!(chain_id, chains, ChainId);
resolver!(programme_id, programmes, ProgrammeId);
resolver!(publication_id, publications, PublicationId);

macro_rules! referrer {
    ($fn_name:ident, $table:ident, $id:ident, $resource:literal) => {
        /// These records (those that exist, in the order given) by id and slug, for naming them
        /// in a rule violation.
        pub fn $fn_name(conn: &mut AnyConnection, ids: &[$id]) -> Result<Vec<RecordRef>, ApiError> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let found: Vec<($id, String)> = $table::table
                .filter($table::id.eq_any(ids))
                .select(($table::id, $table::slug))
                .load(conn)?;
            Ok(ids
                .iter()
                .filter_map(|id| found.iter().find(|(found, _)| found == id))
                .map(|(id, slug)| RecordRef::new($resource, id, slug.as_str()))
                .collect())
        }
    };
}

referrer!(event_refs, events, EventId, "event");
referrer!(
    organisation_refs,
    organisations,
    OrganisationId,
    "organisation"
);
referrer!(person_refs, people, PersonId, "person");
referrer!(network_refs, networks, NetworkId, "network");
referrer!(chain_refs, chains, ChainId, "chain");
referrer!(programme_refs, programmes, ProgrammeId, "programme");
referrer!(publication_refs, publications, PublicationId, "publication");

/// The record of `resource` that has `slug`, by id and slug (for a `slug_unique` violation).
pub fn slug_holder(
    conn: &mut AnyConnection,
    resource: &str,
    slug: &str,
) -> Result<Option<RecordRef>, ApiError> {
    let id = match resource {
        "event" => event_id(conn, slug)?.map(|id| id.0),
        "organisation" => organisation_id(conn, slug)?.map(|id| id.0),
        "person" => person_id(conn, slug)?.map(|id| id.0),
        "network" => network_id(conn, slug)?.map(|id| id.0),
        "chain" => chain_id(conn, slug)?.map(|id| id.0),
        "programme" => programme_id(conn, slug)?.map(|id| id.0),
        "publication" => publication_id(conn, slug)?.map(|id| id.0),
        _ => None,
    };
    Ok(id.map(|id| RecordRef::new(resource, id, slug)))
}

resolver_at!(organisation_id_at, organisations, OrganisationId);
resolver_at!(person_id_at, people, PersonId);
resolver_at!(network_id_at, networks, NetworkId);
resolver_at!(chain_id_at, chains, ChainId);
resolver_at!(programme_id_at, programmes, ProgrammeId);
