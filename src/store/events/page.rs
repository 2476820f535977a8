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

/// `events.id` among the ids a subquery selects (at most a batch of them, see
/// [`super::party_walk`]), spelled on each backend so that it runs as lookups by id.
///
/// PostgreSQL plans `IN (subquery)` as a semi-join and, with a generic plan, may drive it
/// from `events` (every event the page's other conditions let through, each compared with
/// the subquery's rows); `= ANY (ARRAY (subquery))` is one array, computed once, that can
/// only be probed for in the primary key. SQLite runs `IN (subquery)` as lookups by id.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(super) struct IdAmong<S>(pub S);

impl<S> diesel::expression::Expression for IdAmong<S> {
    type SqlType = diesel::sql_types::Bool;
}

impl<S, QS> diesel::expression::AppearsOnTable<QS> for IdAmong<S> {}

impl<S, QS> diesel::expression::SelectableExpression<QS> for IdAmong<S> {}

impl<S> diesel::expression::ValidGrouping<()> for IdAmong<S> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<S> diesel::query_builder::QueryFragment<MultiBackend> for IdAmong<S>
where
    S: diesel::query_builder::QueryFragment<MultiBackend>,
{
    fn walk_ast<'b>(
        &'b self,
        mut pass: diesel::query_builder::AstPass<'_, 'b, MultiBackend>,
    ) -> QueryResult<()> {
        let (open, close) = match pass.backend() {
            MultiBackend::Sqlite(_) => ("events.id IN (", ")"),
            MultiBackend::Postgresql(_) => ("events.id = ANY (ARRAY (", "))"),
        };
        pass.push_sql(open);
        self.0.walk_ast(pass.reborrow())?;
        pass.push_sql(close);
        Ok(())
    }
}
