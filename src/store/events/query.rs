//! One span's filtered query: every filter of an event list but its order and limit, as the
//! planner ([`super::list::page_rows`]) reads a page with it.

use std::cell::Cell;

use diesel::prelude::*;

use crate::db::schema::{event_organisers, event_participants, event_topics, events};
use crate::db::sql_types::PortableUuid;
use crate::db::{AnyConnection, Backend, Timestamp};
use crate::domain::enums::Visibility;
use crate::domain::text::{fold, like_pattern};
use crate::error::ApiError;
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId, ProgrammeId};
use crate::store::Viewer;

use super::filter::{EventFilter, EventSort};
use super::page::{Page, ReadAt};
use super::postgres;
use super::rows::{PageKey, undated_at};
use super::sqlite;
use super::window::{Span, span_end, span_start};

/// How `q` is matched.
pub(super) enum Text {
    /// No `q` (or one that folds to nothing).
    Any,
    /// A LIKE pattern on SQLite, for one or two characters.
    Like(String),
    /// A LIKE pattern on PostgreSQL (its trigram index serves it), planned for its value.
    Pattern(String),
    /// An FTS5 phrase for SQLite's trigram index, which finds the substring.
    Indexed(String),
}

impl Text {
    pub(super) fn of(backend: Backend, q: &str) -> Self {
        let folded = fold(q);
        if folded.is_empty() {
            Self::Any
        } else if backend == Backend::Postgres {
            Self::Pattern(like_pattern(&folded))
        } else if folded.chars().count() >= 3 {
            Self::Indexed(sqlite::phrase(&folded))
        } else {
            Self::Like(like_pattern(&folded))
        }
    }
}

/// The party whose index a list walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Party<'a> {
    /// Events the person takes part in.
    Person(PersonId),
    /// Events the organisation organises or takes part in: two indexes, merged.
    Organisation(OrganisationId),
    /// Events with the topic (its folded key).
    Topic(&'a str),
}

/// Whether a span's walk of an index (the text index, a party's) reads it in start order:
/// every list ordered by start, except the span of long events when they are few enough to
/// name.
pub(super) fn walks_index(sort: EventSort, span: Span, long_ids: &[EventId]) -> bool {
    sort != EventSort::Updated && (span != Span::Long || long_ids.is_empty())
}

/// Everything a page's queries filter by, resolved.
pub(super) struct PageQuery<'a> {
    pub(super) filter: &'a EventFilter,
    pub(super) viewer: Viewer,
    pub(super) text: Text,
    pub(super) cursor: Option<(Timestamp, EventId)>,
    pub(super) network: Option<Option<NetworkId>>,
    pub(super) chain: Option<Option<ChainId>>,
    pub(super) programme: Option<Option<ProgrammeId>>,
    pub(super) organisation: Option<Option<OrganisationId>>,
    pub(super) person: Option<Option<PersonId>>,
}

/// The queries of one page: its filters, the long events of its window named by id (if
/// any), and the rows it wants (one more than its size).
pub(super) struct Planner<'a> {
    pub(super) page: &'a PageQuery<'a>,
    long_ids: &'a [EventId],
    topic_key: Option<String>,
    pub(super) want: i64,
    /// The generation the page's first rows were read at.
    read_at: Cell<Option<i64>>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(page: &'a PageQuery<'a>, long_ids: &'a [EventId], want: i64) -> Self {
        Self {
            page,
            long_ids,
            topic_key: page.filter.topic.as_deref().map(fold),
            want,
            read_at: Cell::new(None),
        }
    }

    pub(super) fn sort(&self) -> EventSort {
        self.page.filter.sort
    }

    /// The generation the first rows [`Self::load`] read were read at.
    pub(super) fn first_read_at(&self) -> Option<i64> {
        self.read_at.get()
    }

    /// The party whose index a list by start filtered by one walks (see
    /// [`super::party_walk`]): the person, else the organisation, else the topic.
    pub(super) fn walked_party(&self) -> Option<Party<'_>> {
        let page = self.page;
        match self.sort() {
            EventSort::Updated => None,
            // A name that matches nothing (`None`) is left to the filter, which matches
            // nothing.
            EventSort::Start | EventSort::StartDescending => page
                .person
                .flatten()
                .map(Party::Person)
                .or(page.organisation.flatten().map(Party::Organisation))
                .or(self.topic_key.as_deref().map(Party::Topic)),
        }
    }

    /// Whether `span` is the long events named by id.
    fn names_long(&self, span: Span) -> bool {
        span == Span::Long && !self.long_ids.is_empty()
    }

    /// Reads at most the page's rows of `query`.
    pub(super) fn load(
        &self,
        conn: &mut AnyConnection,
        query: Page<'_>,
    ) -> Result<Vec<PageKey>, ApiError> {
        let found = query.limit(self.want).load::<(PageKey, i64)>(conn)?;
        if let Some(&(_, at)) = found.first() {
            self.read_at.set(self.read_at.get().or(Some(at)));
        }
        Ok(found.into_iter().map(|(key, _)| key).collect())
    }

    /// Every filter but the limit, in the list's order, for one span; but for the party
    /// whose index the span walks, if it does. (The order of the filters is the order of
    /// the SQL text, which the prepared statements and their plans are kept under.)
    pub(super) fn filtered(&self, span: Span, walked: Option<Party<'_>>) -> Page<'_> {
        // Where the page's rows are a few named ones (the candidates of a walk, the long
        // events named by id), each is checked against a party's index; else the party's
        // events are read once.
        let few_rows = walked.is_some() || self.names_long(span);
        let query = self.by_columns(self.selected(), span, walked.is_some());
        let query = self.by_topic(query, walked, few_rows);
        let query = self.by_text(query, span);
        let query = self.by_references(query, walked, few_rows);
        self.after_cursor_in_order(query, walked.is_some())
    }

    fn selected(&self) -> Page<'_> {
        match self.sort() {
            EventSort::Start | EventSort::StartDescending => events::table
                .select(((events::id, events::starts_at), ReadAt))
                .into_boxed(),
            EventSort::Updated => events::table
                .select(((events::id, events::updated_at), ReadAt))
                .into_boxed(),
        }
    }

    /// Visibility, the date window, place, kind and status: the events table's own columns.
    ///
    /// The bounds on the start instant are left out of a walk's check (`walked`): its
    /// candidates were read between the same bounds from the party's index
    /// ([`super::party_walk`]), and PostgreSQL, planning a bound it cannot see (a generic
    /// plan) as a narrow range, would read the candidates out of the events' start index
    /// instead of looking each up by id.
    fn by_columns<'q>(&'q self, mut query: Page<'q>, span: Span, walked: bool) -> Page<'q> {
        let filter = self.page.filter;
        if !self.page.viewer.sees_internal {
            query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
        }
        if let Some(from) = filter.from {
            // An event that ends on or after `from` started at most its own length before it;
            // two more days cover every UTC offset.
            query = query.filter(events::end_date.ge(from));
            if !walked {
                query = query.filter(events::starts_at.ge(span_start(from, span)));
            }
            if self.names_long(span) {
                query = query.filter(events::id.eq_any(self.long_ids.to_vec()));
            }
            // An event whose dates are not known is in no date window (`to` leaves it out
            // by itself).
            if filter.to.is_none() && !walked {
                query = query.filter(events::starts_at.lt(undated_at()));
            }
        }
        if let Some(to) = filter.to {
            query = query.filter(events::start_date.le(to));
            if !walked {
                query = query.filter(events::starts_at.lt(span_end(to)));
            }
        }
        if let Some(city) = &filter.city {
            query = query.filter(events::city_key.eq(fold(city)));
        }
        if let Some(country) = &filter.country {
            query = query.filter(events::country_code.eq(country.clone()));
        }
        // One value is an equality, which PostgreSQL checks inside the index (an `= ANY`
        // on a later index column it checks on the row).
        match filter.kinds.as_slice() {
            [] => {}
            [kind] => query = query.filter(events::kind.eq(kind.as_str())),
            kinds => {
                let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
                query = query.filter(events::kind.eq_any(kinds));
            }
        }
        match filter.statuses.as_slice() {
            [] => {}
            [status] => query = query.filter(events::status.eq(status.as_str())),
            statuses => {
                let statuses: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
                query = query.filter(events::status.eq_any(statuses));
            }
        }
        query
    }

    fn by_topic<'q>(&'q self, query: Page<'q>, walked: Option<Party<'_>>, few: bool) -> Page<'q> {
        let Some(topic) = self.topic_key.as_deref() else {
            return query;
        };
        if walked == Some(Party::Topic(topic)) {
            return query;
        }
        if few {
            query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "EXISTS (SELECT 1 FROM event_topics \
                     WHERE event_topics.event_id = events.id AND event_topics.topic_key = ",
                )
                .bind::<diesel::sql_types::Text, _>(topic.to_owned())
                .sql(")"),
            )
        } else {
            query.filter(
                events::id.eq_any(
                    event_topics::table
                        .filter(event_topics::topic_key.eq(topic))
                        .select(event_topics::event_id),
                ),
            )
        }
    }

    fn by_text<'q>(&'q self, query: Page<'q>, span: Span) -> Page<'q> {
        match &self.page.text {
            Text::Any => query,
            Text::Like(pattern) => {
                query.filter(events::search_text.like(pattern.clone()).escape('\\'))
            }
            Text::Pattern(pattern) => query.filter(postgres::search_text_like(pattern)),
            // The text index is walked in start order (see `search`), except for the few
            // long events named by id, each checked against it, and for `sort=updated`,
            // which reads all matches first.
            Text::Indexed(_) if walks_index(self.sort(), span, self.long_ids) => query,
            Text::Indexed(phrase) if span == Span::Long => sqlite::each_matching(query, phrase),
            Text::Indexed(phrase) => sqlite::all_matching(query, phrase),
        }
    }

    /// `updated_since` and the filters naming other records.
    fn by_references<'q>(
        &'q self,
        mut query: Page<'q>,
        walked: Option<Party<'_>>,
        few: bool,
    ) -> Page<'q> {
        let page = self.page;
        if let Some(since) = page.filter.updated_since {
            query = query.filter(events::updated_at.ge(since));
        }
        if let Some(id) = page.network {
            query = query.filter(events::network_id.eq(id));
        }
        if let Some(id) = page.chain {
            query = query.filter(events::chain_id.eq(id));
        }
        if let Some(id) = page.programme {
            query = query.filter(events::programme_id.eq(id));
        }
        // The walked party needs no filter: its index gave the candidates.
        let organisation = page
            .organisation
            .filter(|id| id.is_none() || walked != id.map(Party::Organisation));
        let person = page
            .person
            .filter(|id| id.is_none() || walked != id.map(Party::Person));
        if let Some(id) = organisation {
            query = by_organisation(query, id, few);
        }
        if let Some(id) = person {
            query = by_person(query, id, few);
        }
        query
    }

    /// The rows after the page's cursor, in the list's order. A walk's candidates start at
    /// the cursor or after it (before it, descending), so its check has only the exact bound.
    fn after_cursor_in_order<'q>(&'q self, mut query: Page<'q>, walked: bool) -> Page<'q> {
        if let Some((key, id)) = self.page.cursor {
            // The plain bound is implied by the exact one; it lets the index seek to the
            // cursor instead of reading every earlier event (a walk's check has no use for it).
            query = match self.sort() {
                EventSort::Start => {
                    if !walked {
                        query = query.filter(events::starts_at.ge(key));
                    }
                    query.filter(
                        events::starts_at
                            .gt(key)
                            .or(events::starts_at.eq(key).and(events::id.gt(id))),
                    )
                }
                EventSort::StartDescending => {
                    if !walked {
                        query = query.filter(events::starts_at.le(key));
                    }
                    query.filter(
                        events::starts_at
                            .lt(key)
                            .or(events::starts_at.eq(key).and(events::id.lt(id))),
                    )
                }
                EventSort::Updated => query.filter(events::updated_at.ge(key)).filter(
                    events::updated_at
                        .gt(key)
                        .or(events::updated_at.eq(key).and(events::id.gt(id))),
                ),
            };
        }
        match self.sort() {
            EventSort::Start => query.order((events::starts_at.asc(), events::id.asc())),
            EventSort::StartDescending => {
                query.order((events::starts_at.desc(), events::id.desc()))
            }
            EventSort::Updated => query.order((events::updated_at.asc(), events::id.asc())),
        }
    }
}

/// Events the organisation organises or takes part in: checked per row for a few named rows,
/// else read once from each relation.
fn by_organisation(query: Page<'_>, id: Option<OrganisationId>, few: bool) -> Page<'_> {
    if few {
        query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "(EXISTS (SELECT 1 FROM event_organisers \
                 WHERE event_organisers.event_id = events.id \
                 AND event_organisers.organisation_id = ",
            )
            .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
            .sql(
                ") OR EXISTS (SELECT 1 FROM event_participants \
                 WHERE event_participants.event_id = events.id \
                 AND event_participants.organisation_id = ",
            )
            .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
            .sql("))"),
        )
    } else {
        query.filter(
            events::id
                .eq_any(
                    event_organisers::table
                        .filter(event_organisers::organisation_id.nullable().eq(id))
                        .select(event_organisers::event_id),
                )
                .or(events::id.eq_any(
                    event_participants::table
                        .filter(event_participants::organisation_id.eq(id))
                        .select(event_participants::event_id),
                )),
        )
    }
}

/// Events the person takes part in, as [`by_organisation`].
fn by_person(query: Page<'_>, id: Option<PersonId>, few: bool) -> Page<'_> {
    if few {
        query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "EXISTS (SELECT 1 FROM event_participants \
                 WHERE event_participants.event_id = events.id \
                 AND event_participants.person_id = ",
            )
            .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
            .sql(")"),
        )
    } else {
        query.filter(
            events::id.eq_any(
                event_participants::table
                    .filter(event_participants::person_id.eq(id))
                    .select(event_participants::event_id),
            ),
        )
    }
}
