//! The select every query of a page shares: each event's key and the generation read.

use diesel::prelude::*;

use crate::db::MultiBackend;
use crate::db::schema::events;

/// The current generation, as a column of a page's query (or of a list's name lookup, see
/// `lookup::person_id_at`): a list costs one statement less than asking for it apart. An expression of its own, like [`super::LongSpan`], so the
/// statement stays prepared; both backends compute the subquery once per statement.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(crate) struct ReadAt;

impl diesel::expression::Expression for ReadAt {
    type SqlType = diesel::sql_types::BigInt;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for ReadAt {}

impl<QS> diesel::expression::SelectableExpression<QS> for ReadAt {}

impl diesel::expression::ValidGrouping<()> for ReadAt {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<MultiBackend> for ReadAt {
    fn walk_ast<'b>(
        &'b self,
        mut pass: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        pass.push_sql("(SELECT generation FROM registry_state WHERE id = 1)");
        Ok(())
    }
}

/// A page's query: the key of each event (its id and the instant the list is ordered by) and
/// the generation it was read at.
pub(super) type Page<'a> = diesel::helper_types::IntoBoxed<
    'a,
    diesel::helper_types::Select<events::table, ((events::id, events::starts_at), ReadAt)>,
    MultiBackend,
>;
