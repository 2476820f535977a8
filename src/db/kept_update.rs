//! `UPDATE` statements kept prepared by type, and the property of their changesets that makes
//! that sound.

use diesel::prelude::*;
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};

use super::AnyConnection;

/// `UPDATE table SET changeset WHERE filter`, kept prepared by the connection.
///
/// Diesel prepares every `UPDATE` it builds anew: one changeset type can give several SQL texts
/// (a `None` field may leave its column out), so its statement calls itself unsafe to cache.
/// On SQLite, preparing an `UPDATE` of `events` also compiles the table's triggers, a cost that
/// showed in the writer's profile under patches.
///
/// Here the statement is kept under its type, as diesel keeps its own static queries: finding
/// it in the connection's cache then neither builds its SQL text nor walks it. That is sound
/// only while the type fixes the text, so [`KeptUpdate::new`] takes only changesets that are
/// [`SameSqlForAnyValue`] and filters whose type names their SQL (diesel's
/// `QueryId::HAS_STATIC_QUERY_ID`; not an `eq_any` list or an SQL literal), checked when the
/// call is compiled.
pub struct KeptUpdate<S, C, F> {
    /// The table, as its `FROM` clause.
    from: S,
    changeset: C,
    filter: F,
}

impl<S, C, F> KeptUpdate<S, C, F> {
    pub fn new<T, V, How>(table: T, values: V, filter: F) -> Self
    where
        T: diesel::Table + diesel::QuerySource<FromClause = S>,
        V: AsChangeset<Target = T, Changeset = C> + SameSqlForAnyValue<How>,
        F: diesel::AppearsOnTable<T>
            + diesel::Expression<SqlType = diesel::sql_types::Bool>
            + QueryId,
    {
        const {
            assert!(
                <V as SameSqlForAnyValue<How>>::SAME_SQL,
                "a KeptUpdate's changeset must have one SQL text for every value"
            );
            assert!(
                F::HAS_STATIC_QUERY_ID,
                "a KeptUpdate's filter must have one SQL text for every value"
            );
        }
        Self {
            from: table.from_clause(),
            changeset: values.as_changeset(),
            filter,
        }
    }

    /// Runs the statement on the backend's own connection (see [`super::native!`]); the
    /// number of rows it changed.
    pub fn execute(self, conn: &mut AnyConnection) -> QueryResult<usize>
    where
        Self: QueryFragment<diesel::sqlite::Sqlite> + QueryFragment<diesel::pg::Pg> + QueryId,
    {
        super::native!(conn, |c| RunQueryDsl::execute(self, c))
    }
}

impl<S: 'static, C: 'static, F: 'static> QueryId for KeptUpdate<S, C, F> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB, S, C, F> QueryFragment<DB> for KeptUpdate<S, C, F>
where
    DB: diesel::backend::Backend,
    S: QueryFragment<DB>,
    C: QueryFragment<DB>,
    F: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changeset.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        Ok(())
    }

    /// Always: the text is fixed by the type (see above), so there is nothing to walk.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<S, C, F, Conn> RunQueryDsl<Conn> for KeptUpdate<S, C, F> {}

/// A changeset whose SQL text is the same whatever its values: what lets a [`KeptUpdate`] be
/// kept under its type. `How` only keeps the three kinds of implementation apart:
///
/// - [`ByColumns`]: a struct derived with `AsChangeset` and `treat_none_as_null = true` (a
///   `None` field is `column = NULL`; without it the column is left out of the `SET` list, and
///   a statement kept by type would run with the wrong columns). Implemented only through
///   [`same_sql_for_any_value!`], which also generates the test that checks it.
/// - [`ByExpression`]: `column.eq(expression)`, when diesel says the expression's type names
///   its SQL (`QueryId::HAS_STATIC_QUERY_ID`, false for an SQL literal).
/// - A pair of those, e.g. `(columns, version.eq(version + 1))`.
pub trait SameSqlForAnyValue<How>: AsChangeset {
    /// Whether the text is fixed by the type; [`KeptUpdate::new`] fails to build when not.
    const SAME_SQL: bool;
}

/// See [`SameSqlForAnyValue`].
pub enum ByColumns {}

/// See [`SameSqlForAnyValue`].
pub enum ByExpression {}

impl<V> SameSqlForAnyValue<ByExpression> for V
where
    V: AsChangeset + diesel::Expression + QueryId,
{
    const SAME_SQL: bool = V::HAS_STATIC_QUERY_ID;
}

impl<A, B, HowA, HowB> SameSqlForAnyValue<(HowA, HowB)> for (A, B)
where
    A: SameSqlForAnyValue<HowA>,
    B: SameSqlForAnyValue<HowB>,
    (A, B): AsChangeset,
{
    const SAME_SQL: bool = A::SAME_SQL && B::SAME_SQL;
}

/// Declares that a struct of columns derived with `AsChangeset` has one SQL text for every
/// value ([`SameSqlForAnyValue`]), and generates the test `$test` that checks it (that it was
/// derived with `treat_none_as_null = true`). The only way to implement it for a struct:
///
/// ```ignore
/// crate::db::same_sql_for_any_value!(EventColumns, event_columns_have_one_sql_text);
/// ```
macro_rules! same_sql_for_any_value {
    ($columns:ty, $test:ident) => {
        impl $crate::db::SameSqlForAnyValue<$crate::db::ByColumns> for $columns {
            const SAME_SQL: bool = true;
        }

        #[cfg(test)]
        #[test]
        fn $test() {
            assert!(
                $crate::db::kept_update::one_sql_text::<$columns>(),
                "{} leaves a `None` column out of its SET list: derive it with \
                 `treat_none_as_null = true`",
                stringify!($columns),
            );
        }
    };
}
pub(crate) use same_sql_for_any_value;

/// Whether `V`'s changeset has one SQL text for every value. Its type says: a field whose
/// `None` leaves its column out has a changeset `Option<Assign<…>>` (diesel's `Option`
/// changeset); with `treat_none_as_null` it is an assignment of a nullable value.
/// [`tests::a_changeset_leaving_none_out_is_caught`] keeps this check honest against
/// diesel's type names.
#[cfg(test)]
pub(crate) fn one_sql_text<V: AsChangeset>() -> bool {
    !std::any::type_name::<V::Changeset>().contains("Option<diesel::query_builder::")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::schema::events;

    #[derive(AsChangeset)]
    #[diesel(table_name = events, treat_none_as_null = true)]
    struct NoneIsNull {
        title: String,
        city: Option<String>,
    }

    #[derive(AsChangeset)]
    #[diesel(table_name = events)]
    struct NoneIsLeftOut {
        title: String,
        city: Option<String>,
    }

    /// The SQL text of `UPDATE events SET values`, on both backends, without its binds.
    fn sql_of<V>(values: V) -> [String; 2]
    where
        V: AsChangeset<Target = events::table>,
        V::Changeset: QueryFragment<diesel::sqlite::Sqlite> + QueryFragment<diesel::pg::Pg>,
    {
        let query = diesel::update(events::table).set(values);
        let text = |sql: String| {
            sql.split(" -- binds:")
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        [
            text(diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string()),
            text(diesel::debug_query::<diesel::pg::Pg, _>(&query).to_string()),
        ]
    }

    #[test]
    fn treat_none_as_null_gives_one_sql_text() {
        let none = NoneIsNull {
            title: "t".into(),
            city: None,
        };
        let some = NoneIsNull {
            title: "t".into(),
            city: Some("c".into()),
        };
        assert_eq!(sql_of(none), sql_of(some));
        assert!(one_sql_text::<NoneIsNull>());
    }

    #[test]
    fn a_changeset_leaving_none_out_is_caught() {
        let none = NoneIsLeftOut {
            title: "t".into(),
            city: None,
        };
        let some = NoneIsLeftOut {
            title: "t".into(),
            city: Some("c".into()),
        };
        assert_ne!(sql_of(none), sql_of(some));
        assert!(!one_sql_text::<NoneIsLeftOut>());
        assert!(!one_sql_text::<(NoneIsLeftOut, NoneIsNull)>());
    }

    #[test]
    fn expressions_of_columns_and_values_have_one_sql_text() {
        use crate::db::schema::registry_state::dsl::*;
        fn same<How, V: SameSqlForAnyValue<How>>(_: V) -> bool {
            V::SAME_SQL
        }
        assert!(same(generation.eq(generation + 1)));
        assert!(same(generation.eq(7)));
        let literal = diesel::dsl::sql::<diesel::sql_types::BigInt>("7");
        assert!(!same(generation.eq(literal)));
    }
}
