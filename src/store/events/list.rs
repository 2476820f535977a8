//! `GET /events`: filters, sorts and the planner that reads one page of keys.

use std::sync::Arc;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::{event_organisers, event_participants, event_topics, events};
use crate::db::sql_types::PortableUuid;
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{EventKind, EventStatus, Visibility};
use crate::domain::text::fold;
use crate::error::ApiError;
use crate::ids::{ChainId, EventId, NetworkId, OrganisationId, PersonId};
use crate::store::pagination::{Cursor, split_page};
use crate::store::party_walk::{Party, PartyWalk};
use crate::store::{Viewer, lookup};

use super::{rows::*, search::*, window::*};

/// How a list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSort {
    Start,
    StartDescending,
    Updated,
}

impl EventSort {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "start" => Some(Self::Start),
            "-start" => Some(Self::StartDescending),
            "updated" => Some(Self::Updated),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::StartDescending => "-start",
            Self::Updated => "updated",
        }
    }
}

/// The filters of `GET /events`, parsed.
#[derive(Debug, Clone)]
pub struct EventFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub kinds: Vec<EventKind>,
    pub statuses: Vec<EventStatus>,
    pub topic: Option<String>,
    pub q: Option<String>,
    pub updated_since: Option<Timestamp>,
    pub network: Option<String>,
    pub organisation: Option<String>,
    pub person: Option<String>,
    pub chain: Option<String>,
    pub sort: EventSort,
    pub cursor: Option<String>,
    pub limit: i64,
}

/// Whether a span's text search walks the text index in start order: every list ordered by
/// start, except the span of long events when they are few enough to name.
pub(super) fn walks_index(sort: EventSort, span: Span, long_ids: &[EventId]) -> bool {
    sort != EventSort::Updated && (span != Span::Long || long_ids.is_empty())
}

/// Orders a page's keys as the list is ordered, drops repeats and keeps the first `want`.
pub(super) fn order_page(rows: &mut Vec<PageKey>, sort: EventSort, want: i64) {
    rows.sort_by_key(PageKey::key);
    rows.dedup_by_key(|row| row.id);
    if sort == EventSort::StartDescending {
        rows.reverse();
    }
    rows.truncate(usize::try_from(want).unwrap_or(usize::MAX));
}

/// The most candidates a party's walk reads from an index in one step.
pub(super) const PARTY_BATCH_MAX: i64 = 4096;

/// The rows of one page of events matching `filter`, the cursor of the next page, and the
/// registry's generation they were read at.
pub struct ListedRows {
    pub rows: Vec<PageKey>,
    pub next_cursor: Option<String>,
    pub generation: i64,
}

/// The current generation, as a column of a page's query: a list costs one statement less
/// than asking for it apart. An expression of its own, like [`LongSpan`], so the statement
/// stays prepared; both backends compute the subquery once per statement.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub(super) struct ReadAt;

impl diesel::expression::Expression for ReadAt {
    type SqlType = diesel::sql_types::BigInt;
}

impl<QS> diesel::expression::AppearsOnTable<QS> for ReadAt {}

impl<QS> diesel::expression::SelectableExpression<QS> for ReadAt {}

impl diesel::expression::ValidGrouping<()> for ReadAt {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl diesel::query_builder::QueryFragment<crate::db::MultiBackend> for ReadAt {
    fn walk_ast<'b>(
        &'b self,
        mut pass: diesel::query_builder::AstPass<'_, 'b, crate::db::MultiBackend>,
    ) -> QueryResult<()> {
        pass.push_sql("(SELECT generation FROM registry_state WHERE id = 1)");
        Ok(())
    }
}

/// Everything a page's queries filter by, resolved.
pub(super) struct PageQuery<'a> {
    filter: &'a EventFilter,
    viewer: Viewer,
    text: Text,
    cursor: Option<(Timestamp, EventId)>,
    network: Option<Option<NetworkId>>,
    chain: Option<Option<ChainId>>,
    organisation: Option<Option<OrganisationId>>,
    person: Option<Option<PersonId>>,
}

/// One page of events. `long_events_kept` keeps the long events of each `from` window for
/// the generation they were read at: a list then trusts the last answer, and the generation
/// its page is read at (a column of the page's query) says whether that was right; only
/// after a write does it ask again.
pub fn list_rows(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    viewer: Viewer,
    long_events_kept: Option<&LongEventsKept>,
) -> Result<ListedRows, ApiError> {
    // Each reference filter is resolved once, here; one naming nothing is a 422.
    let network = match &filter.network {
        Some(key) => Some(Some(lookup::filter_target(
            "network",
            "network",
            key,
            lookup::network_id(conn, key)?,
        )?)),
        None => None,
    };
    let chain = match &filter.chain {
        Some(key) => Some(Some(lookup::filter_target(
            "chain",
            "chain",
            key,
            lookup::chain_id(conn, key)?,
        )?)),
        None => None,
    };
    let organisation = match &filter.organisation {
        Some(key) => Some(Some(lookup::filter_target(
            "organisation",
            "organisation",
            key,
            lookup::organisation_id(conn, key)?,
        )?)),
        None => None,
    };
    let person = match &filter.person {
        Some(key) => Some(Some(lookup::filter_target(
            "person",
            "person",
            key,
            lookup::person_id(conn, key)?,
        )?)),
        None => None,
    };
    let cursor = match &filter.cursor {
        Some(text) => {
            let cursor = Cursor::<String>::decode(text, filter.sort.name())?;
            let key = Timestamp::parse_sortable(&cursor.key).ok_or_else(|| {
                ApiError::bad_parameter("cursor", "is not a cursor this list issued")
            })?;
            Some((key, EventId(cursor.id)))
        }
        None => None,
    };
    let text = match &filter.q {
        Some(q) => Text::of(conn, q),
        None => Text::Any,
    };
    let query = PageQuery {
        filter,
        viewer,
        text,
        cursor,
        network,
        chain,
        organisation,
        person,
    };
    // With a `from` date, events that end on or after it started at most their own length
    // before it: short events in a window two weeks wide, long ones through their index.
    let earliest = filter.from.map(overlap_start);
    if let (Some(earliest), Some(kept)) = (earliest, long_events_kept)
        && let Some((kept_at, long)) = kept.get(earliest)
    {
        let (rows, read_at) = page_rows_planned(conn, &query, Some(&long))?;
        // Generations only grow: a page read at the generation the long events were read at
        // saw the registry they describe.
        let read_at = match read_at {
            Some(read_at) => read_at,
            None => crate::db::generation(conn)?,
        };
        if read_at == kept_at {
            return Ok(finish_page(filter, rows, read_at));
        }
    }
    let (long, read_before) = match earliest {
        None => (None, None),
        Some(earliest) => {
            // Read before the long events, so they are at least as new as it says.
            let read_before = crate::db::generation(conn)?;
            let long = long_events(conn, earliest, None)?;
            let long = match long_events_kept {
                Some(kept) => kept.insert(earliest, read_before, long),
                None => Arc::new(long),
            };
            (Some(long), Some(read_before))
        }
    };
    let (rows, read_at) = page_rows_planned(conn, &query, long.as_deref())?;
    let generation = match read_before.or(read_at) {
        Some(generation) => generation,
        None => crate::db::generation(conn)?,
    };
    Ok(finish_page(filter, rows, generation))
}

pub(super) fn finish_page(filter: &EventFilter, rows: Vec<PageKey>, generation: i64) -> ListedRows {
    let sort = filter.sort;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: sort.name().to_owned(),
            key: row.at.to_sortable_string(),
            id: row.id.0,
        }
        .encode()
    });
    ListedRows {
        rows,
        next_cursor,
        generation,
    }
}

/// [`page_rows`], planned for its values where that matters. PostgreSQL connections keep
/// generic plans (db::ConnectionManager), but how many events a `q` pattern matches decides
/// between the trigram index (a rare term) and a walk in start order (a frequent one), and a
/// generic plan picks one of them for every pattern, so a `q` page is planned for its pattern,
/// in a transaction of its own that says so.
pub(super) fn page_rows_planned(
    conn: &mut AnyConnection,
    query: &PageQuery<'_>,
    long: Option<&LongEvents>,
) -> Result<(Vec<PageKey>, Option<i64>), ApiError> {
    match (&*conn, &query.text) {
        (AnyConnection::Postgresql(_), Text::Like(_)) => conn.transaction(|conn| {
            diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
            page_rows(conn, query, long)
        }),
        _ => page_rows(conn, query, long),
    }
}

/// The rows of a page (one more than its size, when there are more), given the long events
/// of its window (for a list with `from`), and the generation the first rows were read at.
pub(super) fn page_rows(
    conn: &mut AnyConnection,
    query: &PageQuery<'_>,
    long: Option<&LongEvents>,
) -> Result<(Vec<PageKey>, Option<i64>), ApiError> {
    let PageQuery {
        filter,
        viewer,
        ref text,
        cursor,
        network,
        chain,
        organisation,
        person,
    } = *query;
    let sort = filter.sort;
    let mut spans = vec![Span::Any];
    let mut long_ids: Vec<EventId> = Vec::new();
    match long {
        None => {}
        // Long events are few: their ids first, then (if any) a query for just those. Handing
        // the planner a subquery instead lets it scan a filter's index for a year.
        Some(LongEvents::TooMany) => spans = vec![Span::Long],
        Some(LongEvents::Named(ids)) if ids.is_empty() => spans = vec![Span::Short],
        Some(LongEvents::Named(ids)) => {
            long_ids = ids.clone();
            spans = vec![Span::Short, Span::Long];
        }
    }
    let topic_key = filter.topic.as_deref().map(fold);
    // A list by start filtered by a party walks that party's index (see `party_walk`): the
    // person's, else the organisation's, else the topic's.
    let party = match sort {
        EventSort::Updated => None,
        // A name that matches nothing (`None`) is left to the filter, which matches nothing.
        EventSort::Start | EventSort::StartDescending => person
            .flatten()
            .map(Party::Person)
            .or(organisation.flatten().map(Party::Organisation))
            .or(topic_key.as_deref().map(Party::Topic)),
    };
    let mut read_at: Option<i64> = None;
    let mut keys_of = |found: Vec<(PageKey, i64)>| -> Vec<PageKey> {
        if let Some(&(_, at)) = found.first() {
            read_at.get_or_insert(at);
        }
        found.into_iter().map(|(key, _)| key).collect()
    };
    // Every filter but the order and the limit, for one span; but for the party whose index
    // the span walks, if it does.
    let build = |span: Span, walked: Option<Party<'_>>| {
        let mut query = match sort {
            EventSort::Start | EventSort::StartDescending => events::table
                .select(((events::id, events::starts_at), ReadAt))
                .into_boxed(),
            EventSort::Updated => events::table
                .select(((events::id, events::updated_at), ReadAt))
                .into_boxed(),
        };
        if !viewer.sees_internal {
            query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
        }
        if let Some(from) = filter.from {
            // An event that ends on or after `from` started at most its own length before it;
            // two more days cover every UTC offset.
            query = query
                .filter(events::end_date.ge(from))
                .filter(events::starts_at.ge(span_start(from, span)));
            if span == Span::Long && !long_ids.is_empty() {
                query = query.filter(events::id.eq_any(long_ids.clone()));
            }
        }
        if let Some(to) = filter.to {
            query = query
                .filter(events::start_date.le(to))
                .filter(events::starts_at.lt(span_end(to)));
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
        // Where the page's rows are a few named ones (the candidates of a walk, the long
        // events named by id), each is checked against a party's index; else the party's
        // events are read once.
        let few_rows = walked.is_some() || (span == Span::Long && !long_ids.is_empty());
        if let Some(topic) = topic_key.as_deref()
            && walked != Some(Party::Topic(topic))
        {
            query = if few_rows {
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
            };
        }
        match text {
            Text::Any => {}
            Text::Like(pattern) => {
                query = query.filter(events::search_text.like(pattern.clone()).escape('\\'));
            }
            // The text index is walked in start order (see below), except for the few long
            // events named by id, each checked against it, and for `sort=updated`, which
            // reads all matches first.
            Text::Indexed(_) if walks_index(sort, span, &long_ids) => {}
            Text::Indexed(phrase) if span == Span::Long => {
                query = query.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "EXISTS (SELECT 1 FROM events_search WHERE events_search MATCH ",
                    )
                    .bind::<diesel::sql_types::Text, _>(phrase.clone())
                    .sql(" AND events_search.rowid = events.search_key)"),
                );
            }
            Text::Indexed(phrase) => {
                query = query.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "events.search_key IN (SELECT rowid FROM events_search \
                         WHERE events_search MATCH ",
                    )
                    .bind::<diesel::sql_types::Text, _>(phrase.clone())
                    .sql(")"),
                );
            }
        }
        if let Some(since) = filter.updated_since {
            query = query.filter(events::updated_at.ge(since));
        }
        if let Some(id) = network {
            query = query.filter(events::network_id.eq(id));
        }
        if let Some(id) = chain {
            query = query.filter(events::chain_id.eq(id));
        }
        // The walked party needs no filter: its index gave the candidates.
        let organisation =
            organisation.filter(|id| id.is_none() || walked != id.map(Party::Organisation));
        let person = person.filter(|id| id.is_none() || walked != id.map(Party::Person));
        if let Some(id) = organisation
            && few_rows
        {
            query = query.filter(
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
            );
        } else if let Some(id) = organisation {
            query = query.filter(
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
            );
        }
        if let Some(id) = person
            && few_rows
        {
            query = query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "EXISTS (SELECT 1 FROM event_participants \
                     WHERE event_participants.event_id = events.id \
                     AND event_participants.person_id = ",
                )
                .bind::<diesel::sql_types::Nullable<PortableUuid>, _>(id)
                .sql(")"),
            );
        } else if let Some(id) = person {
            query = query.filter(
                events::id.eq_any(
                    event_participants::table
                        .filter(event_participants::person_id.eq(id))
                        .select(event_participants::event_id),
                ),
            );
        }
        if let Some((key, id)) = cursor {
            // The plain bound is implied by the exact one; it lets the index seek to the
            // cursor instead of reading every earlier event.
            query = match sort {
                EventSort::Start => query.filter(events::starts_at.ge(key)).filter(
                    events::starts_at
                        .gt(key)
                        .or(events::starts_at.eq(key).and(events::id.gt(id))),
                ),
                EventSort::StartDescending => query.filter(events::starts_at.le(key)).filter(
                    events::starts_at
                        .lt(key)
                        .or(events::starts_at.eq(key).and(events::id.lt(id))),
                ),
                EventSort::Updated => query.filter(events::updated_at.ge(key)).filter(
                    events::updated_at
                        .gt(key)
                        .or(events::updated_at.eq(key).and(events::id.gt(id))),
                ),
            };
        }
        match sort {
            EventSort::Start => query.order((events::starts_at.asc(), events::id.asc())),
            EventSort::StartDescending => {
                query.order((events::starts_at.desc(), events::id.desc()))
            }
            EventSort::Updated => query.order((events::updated_at.asc(), events::id.asc())),
        }
    };
    let want = filter.limit + 1;
    let mut rows: Vec<PageKey> = Vec::new();
    for &span in &spans {
        match &text {
            Text::Indexed(phrase) if walks_index(sort, span, &long_ids) => {
                // Matches come from the text index in start order, a batch at a time; each
                // batch is checked against the other filters, until a page is full.
                let mut range = KeyRange::of(filter, span, cursor.map(|(key, _)| key));
                let mut batch = want;
                let mut found: Vec<PageKey> = Vec::new();
                let mut last_round = false;
                loop {
                    let keys = range.next_matches(conn, phrase, sort, batch)?;
                    let Some(&last) = keys.last() else { break };
                    let keys = serde_json::to_string(&keys).map_err(ApiError::internal)?;
                    found.extend(keys_of(
                        build(span, None)
                            .filter(
                                diesel::dsl::sql::<diesel::sql_types::Bool>(
                                    "events.search_key IN (SELECT value FROM json_each(",
                                )
                                .bind::<diesel::sql_types::Text, _>(keys)
                                .sql("))"),
                            )
                            .limit(want)
                            .load::<(PageKey, i64)>(conn)?,
                    ));
                    order_page(&mut found, sort, want);
                    if last_round || range.is_empty() {
                        break;
                    }
                    if found.len() as i64 >= want {
                        // Events of the second the last match starts in may still come
                        // before the page's last one (keys order seconds, not ids): read them
                        // all, then stop.
                        range.end_with_second_of(last, sort);
                        batch = i64::MAX;
                        last_round = true;
                    } else {
                        batch = (batch * 2).min(TEXT_BATCH_MAX);
                    }
                }
                rows.extend(found);
            }
            // A party walks its index, as the text index is walked: in every span but one of
            // long events named by id, which reads just those.
            _ if let Some(party) = party
                && walks_index(sort, span, &long_ids) =>
            {
                let cursor_at = cursor.map(|(key, _)| key);
                // An event that ends on or after `from` (a local date) ends at or after
                // midnight of `from` in the easternmost time zone (UTC+14): the tightest bound
                // its end instant gives. Events that end on the day before `from` in the
                // zones west of it still pass it, and the page's query leaves them out.
                let mut walk = PartyWalk::new(
                    party,
                    sort == EventSort::StartDescending,
                    (
                        filter.from.map(|from| span_start(from, span)),
                        filter.to.map(span_end),
                    ),
                    filter.from.map(|from| {
                        Timestamp::from(
                            utc_midnight(from).get()
                                - chrono::Duration::hours(MAX_UTC_OFFSET_HOURS),
                        )
                    }),
                    cursor_at,
                );
                // A little more than a page: a few candidates that fail the other filters (an
                // internal event, say) cost no second step, and every candidate costs a row.
                let mut batch = (want + want / 8 + 2).min(PARTY_BATCH_MAX);
                let mut found: Vec<PageKey> = Vec::new();
                let mut read = 0;
                while !walk.is_done() {
                    let ids = walk.next_batch(conn, batch)?;
                    read += ids.len() as i64;
                    if !ids.is_empty() {
                        found.extend(keys_of(
                            build(span, Some(party))
                                .filter(events::id.eq_any(ids))
                                .limit(want)
                                .load::<(PageKey, i64)>(conn)?,
                        ));
                        order_page(&mut found, sort, want);
                    }
                    // Every event of the party up to the last candidate has been checked, and
                    // the rest come after it.
                    let have = found.len() as i64;
                    if have >= want {
                        break;
                    }
                    // The next step reads what the rest of the page needs at the share of
                    // candidates that passed so far, with a quarter more; at most twice the
                    // last step. Candidates that fail come mostly first (those that ended
                    // just before `from`), so a page that came out a few short rarely needs
                    // the doubled step.
                    batch = if have > 0 {
                        let needed = read.saturating_mul(want - have) / have;
                        (needed + needed / 4 + 2).min(batch * 2)
                    } else {
                        batch * 2
                    }
                    .min(PARTY_BATCH_MAX);
                }
                rows.extend(found);
            }
            _ => rows.extend(keys_of(
                build(span, None).limit(want).load::<(PageKey, i64)>(conn)?,
            )),
        }
    }
    if spans.len() > 1 {
        // A long event may be in both answers.
        order_page(&mut rows, sort, want);
    }
    Ok((rows, read_at))
}
