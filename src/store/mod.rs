//! Data access, one module per resource. Functions take a connection and run inside whatever
//! transaction the caller opened; handlers never build SQL.

/// Filters a boxed query to rows whose `column` is one of `ids`: `column = ?` for a single id
/// (a statement the connection keeps prepared) and `column IN (…)` otherwise (which SQLite
/// must prepare anew for every length).
macro_rules! by_ids {
    ($query:expr, $column:expr, $ids:expr) => {{
        let ids = $ids;
        match ids {
            [one] => $query.filter($column.eq(*one)),
            many => $query.filter($column.eq_any(many)),
        }
    }};
}

/// The optimistic-concurrency statements every versioned table shares: `update_row` and
/// `delete_row` (412 when the row is no longer at the version the caller read), for the
/// module's own writes; and, for the shared write path, the table's id as a
/// [`VersionedRow`](crate::store::resource::VersionedRow) (its lock and claim: no-op writes
/// that take the row lock for the transaction) and its read model `$response` as
/// [`Versioned`](crate::store::resource::Versioned) (by its `id` and `version` fields). The
/// updates are [`KeptUpdate`](crate::db::KeptUpdate)s: prepared once per connection.
macro_rules! versioned_rows {
    ($table:ident, $id:ty, $columns:ty, $response:ty) => {
        /// Writes `columns` if the row is still at `version`, bumping it (else 412).
        fn update_row(
            conn: &mut AnyConnection,
            id: $id,
            version: i32,
            columns: $columns,
        ) -> Result<(), ApiError> {
            let changed = $crate::db::KeptUpdate::new(
                $table::table,
                (columns, $table::version.eq($table::version + 1)),
                $table::id.eq(id).and($table::version.eq(version)),
            )
            .execute(conn)?;
            if changed == 0 {
                return Err(ApiError::PreconditionFailed);
            }
            Ok(())
        }

        fn delete_row(conn: &mut AnyConnection, id: $id, version: i32) -> Result<(), ApiError> {
            let deleted = diesel::delete(
                $table::table
                    .filter($table::id.eq(id))
                    .filter($table::version.eq(version)),
            )
            .execute(conn)?;
            if deleted == 0 {
                return Err(ApiError::PreconditionFailed);
            }
            Ok(())
        }

        impl $crate::store::resource::VersionedRow for $id {
            fn lock_row(self, conn: &mut AnyConnection) -> Result<(), ApiError> {
                $crate::db::KeptUpdate::new(
                    $table::table,
                    $table::version.eq($table::version),
                    $table::id.eq(self),
                )
                .execute(conn)?;
                Ok(())
            }

            /// The first statement of a write based on a version read before the transaction.
            fn claim_row(self, conn: &mut AnyConnection, version: i32) -> Result<(), ApiError> {
                let claimed = $crate::db::KeptUpdate::new(
                    $table::table,
                    $table::version.eq($table::version),
                    $table::id.eq(self).and($table::version.eq(version)),
                )
                .execute(conn)?;
                if claimed == 0 {
                    return Err(ApiError::PreconditionFailed);
                }
                Ok(())
            }
        }

        impl $crate::store::resource::Versioned for $response {
            type Id = $id;

            fn id(&self) -> $id {
                self.id
            }

            fn version(&self) -> i32 {
                self.version
            }
        }
    };
}

pub mod audit;
pub mod calendar;
pub mod chains;
pub mod changes;
pub mod comments;
pub mod events;
pub mod feed_keys;
pub use events::conflicts;
pub mod idempotency;
pub mod lookup;
pub mod memberships;
pub mod networks;
pub mod organisations;
pub mod outcomes;
pub mod pagination;
pub mod people;
pub mod programmes;
pub mod publications;
pub mod resource;
pub mod tokens;
pub mod webhooks;

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::AnyConnection;
use crate::domain::Slug;
use crate::error::{ApiError, RecordRef};

/// A short summary of a record another record refers to (an organisation, a person or a
/// network), embedded so a page needs one request. Read-only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    /// The record's id (UUID).
    pub id: uuid::Uuid,
    /// The record's slug; usable wherever its id is.
    #[schema(example = "rnnc")]
    pub slug: String,
    /// The organisation's or network's name, or the person's full name.
    #[schema(
        example = "Regional Network of the National P-CVE Coordinators of the Western Balkans"
    )]
    pub name: String,
    /// The organisation's or network's short name; `null` when it has none, and for people.
    #[schema(example = "RNNC")]
    pub acronym: Option<String>,
}

/// Who is asking: decides whether `internal` records and contact fields exist for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewer {
    pub sees_internal: bool,
}

impl Viewer {
    /// Writers see every record they change.
    pub const WRITER: Viewer = Viewer {
        sees_internal: true,
    };
}

/// The slug to store: the one given (409 when another record of the kind has it), or the first
/// free one of [`TitleSlugs`].
pub fn choose_slug(
    conn: &mut AnyConnection,
    resource: &str,
    given: Option<&Slug>,
    title: &str,
    taken: impl Fn(&mut AnyConnection, &str) -> Result<bool, ApiError>,
) -> Result<String, ApiError> {
    if let Some(slug) = given {
        if taken(conn, slug.as_str())? {
            let holder = lookup::slug_holder(conn, resource, slug.as_str())?;
            return Err(ApiError::rule(
                "slug_unique",
                holder.into_iter().collect(),
                format!("another {resource} has the slug {:?}", slug.as_str()),
            ));
        }
        return Ok(slug.to_string());
    }
    let slug = TitleSlugs::from_title(title).first_free(|candidate| taken(conn, candidate))?;
    Ok(slug.into_string())
}

/// The slugs a record created without one may get, in the order they are tried: the slug of
/// its title, then that slug with `-2`, `-3` …. [`choose_slug`] takes the first one free;
/// `registry-generate` keeps one per title and goes on where the last one left off.
#[derive(Debug, Clone)]
pub struct TitleSlugs {
    base: Slug,
    /// The next candidate: 1 for `base` itself, else the suffix.
    next: u32,
}

impl TitleSlugs {
    pub fn from_title(title: &str) -> Self {
        Self::from_base(Slug::from_title(title))
    }

    /// The candidates from `base` (the slug of a title) on.
    pub fn from_base(base: Slug) -> Self {
        Self { base, next: 1 }
    }

    /// The slug made from the title alone, the first candidate.
    pub fn base(&self) -> &Slug {
        &self.base
    }

    /// The first candidate not tried yet that `is_taken` says is free. The ones it passes are
    /// not tried again, so calling this again on the same value gives the same slug as starting
    /// over only while what is taken stays taken.
    pub fn first_free<E>(
        &mut self,
        mut is_taken: impl FnMut(&str) -> Result<bool, E>,
    ) -> Result<Slug, E> {
        loop {
            let candidate = match self.next {
                1 => self.base.clone(),
                n => self.base.with_suffix(n),
            };
            self.next += 1;
            if !is_taken(candidate.as_str())? {
                return Ok(candidate);
            }
        }
    }
}

/// 409 when any of `references` (what refers, and some of the referring records) is
/// non-empty.
pub fn refuse_if_referenced(
    resource: &str,
    references: Vec<(&str, Vec<RecordRef>)>,
) -> Result<(), ApiError> {
    let found: Vec<(&str, Vec<RecordRef>)> = references
        .into_iter()
        .filter(|(_, records)| !records.is_empty())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let what: Vec<String> = found
        .iter()
        .map(|(what, records)| format!("{} {what}", records.len()))
        .collect();
    Err(ApiError::rule(
        "still_referenced",
        found.into_iter().flat_map(|(_, records)| records).collect(),
        format!(
            "this {resource} is still referred to by {}",
            what.join(", ")
        ),
    ))
}

/// One summary per id, for embedding.
pub type Summaries<Id> = std::collections::HashMap<Id, Summary>;

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use super::TitleSlugs;

    #[test]
    fn title_slugs_go_on_from_the_last_one_given() {
        let taken = ["4th-iisg-board-meeting", "4th-iisg-board-meeting-2"];
        let mut slugs = TitleSlugs::from_title("4th IISG Board Meeting");
        let first = slugs.first_free(|s| Ok::<_, Infallible>(taken.contains(&s)));
        assert_eq!(
            first.map(|s| s.into_string()),
            Ok("4th-iisg-board-meeting-3".into())
        );
        let next = slugs.first_free(|_| Ok::<_, Infallible>(false));
        assert_eq!(
            next.map(|s| s.into_string()),
            Ok("4th-iisg-board-meeting-4".into())
        );
    }
}
