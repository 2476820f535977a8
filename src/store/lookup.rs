//! "Id or slug": every `{id}` in a path, and every reference in a body, accepts either.

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{chains, events, networks, organisations, people};
use crate::error::ApiError;
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId};

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
                Key::Id(id) => $crate::native!(conn, |c| $table::table
                    .filter($table::id.eq($id(id)))
                    .select($table::id)
                    .first::<$id>(c)
                    .optional())?,
                Key::Slug(slug) => $crate::native!(conn, |c| $table::table
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
resolver!(organisation_id, organisations, OrganisationId);
resolver!(person_id, people, PersonId);
resolver!(network_id, networks, NetworkId);
resolver!(chain_id, chains, ChainId);
