//! `GET /events`: filters, sorts and the planner that reads one page of keys.
//!
//! A page is read span by span (see [`Span`]): each span's rows come from one filtered query
//! ([`Planner::filtered`]), from a walk of the text index ([`search::walk_text_index`]), or
//! from a walk of a party's index ([`party_walk::walk_party`]), and [`page_rows`] chooses.

use std::sync::Arc;

use crate::cache::Derived;
use crate::db::{AnyConnection, Backend, Timestamp};
use crate::error::ApiError;
use crate::ids::EventId;
use crate::store::pagination::{Cursor, split_page};
use crate::store::{Viewer, lookup};

use super::filter::{EventFilter, order_page};
use super::party_walk::walk_party;
use super::query::{PageQuery, Planner, Text, walks_index};
use super::rows::PageKey;
use super::search;
use super::window::{LongEvents, LongEventsKept, Span, overlap_start};

/// The rows of one page of events matching `filter`, the cursor of the next page, and the
/// registry's generation they were read at.
pub struct ListedRows {
    pub rows: Vec<PageKey>,
    pub next_cursor: Option<String>,
    pub generation: i64,
}

/// What event lists keep between requests, each answer with the generation it was read at: the
/// long events of each `from` window, and the ids the reference filters (`network=`, …) name.
/// A list uses them and then checks them against the generation its page was read at (a
/// column of the page's query): a page of a network's meetings then costs one statement, not
/// one more per name to look up.
pub struct ListsKept {
    long: LongEventsKept,
    references: Derived<(&'static str, String), uuid::Uuid>,
}

impl ListsKept {
    /// Names kept at once; the least used go first.
    const REFERENCES: usize = 4096;

    pub fn new() -> Self {
        Self {
            long: LongEventsKept::new(),
            references: Derived::new(Self::REFERENCES),
        }
    }
}

impl Default for ListsKept {
    fn default() -> Self {
        Self::new()
    }
}

/// A lookup of an id or slug that also answers the generation it was read at.
type FindAt<Id> = fn(&mut AnyConnection, &str) -> Result<Option<(Id, i64)>, ApiError>;

/// Where a list's reference filters are resolved: from what is kept (noting the generation
/// of each kept id used), or from the database.
struct References<'k> {
    kept: Option<&'k ListsKept>,
    reuse: bool,
    used: Vec<i64>,
}

impl<'k> References<'k> {
    /// Names resolved through `kept`; from what it holds only if `reuse`.
    fn new(kept: Option<&'k ListsKept>, reuse: bool) -> Self {
        Self {
            kept,
            reuse,
            used: Vec::new(),
        }
    }

    /// The id a reference filter names, if the list has it; one naming nothing is a 422.
    /// (`Some(Some(id))`: the filters bind a nullable id.)
    fn resolve<Id: Copy + From<uuid::Uuid> + Into<uuid::Uuid>>(
        &mut self,
        conn: &mut AnyConnection,
        parameter: &'static str,
        key: Option<&str>,
        find: FindAt<Id>,
    ) -> Result<Option<Option<Id>>, ApiError> {
        let Some(key) = key else { return Ok(None) };
        let name = (parameter, key.to_owned());
        if self.reuse
            && let Some((at, id)) = self.kept.and_then(|kept| kept.references.get(&name))
        {
            self.used.push(at);
            return Ok(Some(Some(Id::from(*id))));
        }
        let found = find(conn, key)?;
        if let (Some(kept), Some((id, at))) = (self.kept, found) {
            kept.references.insert(name, at, id.into());
        }
        Ok(Some(Some(lookup::filter_target(
            parameter,
            parameter,
            key,
            found.map(|(id, _)| id),
        )?)))
    }

    /// Whether every kept id used was read at `generation`.
    fn all_read_at(&self, generation: i64) -> bool {
        self.used.iter().all(|&at| at == generation)
    }
}

/// Everything `filter` names, resolved once: reference filters to ids, the cursor to its key.
fn resolve<'a>(
    conn: &mut AnyConnection,
    filter: &'a EventFilter,
    viewer: Viewer,
    references: &mut References<'_>,
) -> Result<PageQuery<'a>, ApiError> {
    let network = references.resolve(
        conn,
        "network",
        filter.network.as_deref(),
        lookup::network_id_at,
    )?;
    let chain = references.resolve(conn, "chain", filter.chain.as_deref(), lookup::chain_id_at)?;
    let programme = references.resolve(
        conn,
        "programme",
        filter.programme.as_deref(),
        lookup::programme_id_at,
    )?;
    let organisation = references.resolve(
        conn,
        "organisation",
        filter.organisation.as_deref(),
        lookup::organisation_id_at,
    )?;
    let person = references.resolve(
        conn,
        "person",
        filter.person.as_deref(),
        lookup::person_id_at,
    )?;
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
        Some(q) => Text::of(Backend::of_connection(conn), q),
        None => Text::Any,
    };
    Ok(PageQuery {
        filter,
        viewer,
        text,
        cursor,
        network,
        chain,
        programme,
        organisation,
        person,
    })
}

/// One page of events. `long_events_kept` keeps the long events of each `from` window for
/// the generation they were read at: a list then trusts the last answer, and the generation
/// its page is read at (a column of the page's query) says whether that was right; only
/// after a write does it ask again.
pub fn list_rows(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    viewer: Viewer,
    kept: Option<&ListsKept>,
) -> Result<ListedRows, ApiError> {
    let mut references = References::new(kept, true);
    let query = resolve(conn, filter, viewer, &mut references)?;
    let listed = rows_of(conn, filter, &query, kept.map(|kept| &kept.long))?;
    if references.all_read_at(listed.generation) {
        return Ok(listed);
    }
    // A kept id was read before the registry last changed: the names are read again, and
    // the page with them.
    let query = resolve(conn, filter, viewer, &mut References::new(kept, false))?;
    rows_of(conn, filter, &query, kept.map(|kept| &kept.long))
}

/// [`list_rows`] once the names are resolved.
fn rows_of(
    conn: &mut AnyConnection,
    filter: &EventFilter,
    query: &PageQuery<'_>,
    long_events_kept: Option<&LongEventsKept>,
) -> Result<ListedRows, ApiError> {
    // With a `from` date, events that end on or after it started at most their own length
    // before it: short events in a window two weeks wide, long ones through their index.
    let earliest = filter.from.map(overlap_start);
    if let (Some(earliest), Some(kept)) = (earliest, long_events_kept)
        && let Some((kept_at, long)) = kept.get(earliest)
    {
        let (rows, read_at) = page_rows(conn, query, Some(&long))?;
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
            let long = super::window::long_events(conn, earliest, None)?;
            let long = match long_events_kept {
                Some(kept) => kept.insert(earliest, read_before, long),
                None => Arc::new(long),
            };
            (Some(long), Some(read_before))
        }
    };
    let (rows, read_at) = page_rows(conn, query, long.as_deref())?;
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

/// The spans a page is read in, given the long events of its window (for a list with
/// `from`), and the ids of those long events when they are few enough to name.
fn spans(long: Option<&LongEvents>) -> (&'static [Span], &[EventId]) {
    match long {
        None => (&[Span::Any], &[]),
        // Long events are few: their ids first, then (if any) a query for just those. Handing
        // the planner a subquery instead lets it scan a filter's index for a year.
        Some(LongEvents::TooMany) => (&[Span::Long], &[]),
        Some(LongEvents::Named(ids)) if ids.is_empty() => (&[Span::Short], &[]),
        Some(LongEvents::Named(ids)) => (&[Span::Short, Span::Long], ids),
    }
}

/// The rows of a page (one more than its size, when there are more), given the long events
/// of its window (for a list with `from`), and the generation the first rows were read at.
pub(super) fn page_rows(
    conn: &mut AnyConnection,
    query: &PageQuery<'_>,
    long: Option<&LongEvents>,
) -> Result<(Vec<PageKey>, Option<i64>), ApiError> {
    let sort = query.filter.sort;
    let (spans, long_ids) = spans(long);
    let planner = Planner::new(query, long_ids, query.filter.limit + 1);
    let party = planner.walked_party();
    let mut rows: Vec<PageKey> = Vec::new();
    for &span in spans {
        let walks = walks_index(sort, span, long_ids);
        match &query.text {
            Text::Indexed(phrase) if walks => {
                rows.extend(search::walk_text_index(conn, &planner, span, phrase)?);
            }
            // A party walks its index, as the text index is walked: in every span but one of
            // long events named by id, which reads just those.
            _ if let Some(party) = party
                && walks =>
            {
                rows.extend(walk_party(conn, &planner, span, party)?);
            }
            _ => rows.extend(planner.load(conn, planner.filtered(span, None))?),
        }
    }
    if spans.len() > 1 {
        // A long event may be in both answers.
        order_page(&mut rows, sort, planner.want);
    }
    Ok((rows, planner.first_read_at()))
}
