//! Writing events: the rows `store::events` derives for them ([`event_rows`]), inserted many to
//! a statement on the concrete backend connection, in large transactions.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;

use diesel::prelude::*;
use meeting_registry::db::schema::{
    chains, event_organisers, event_participants, event_topics, events,
};
use meeting_registry::db::{AnyConnection, Timestamp, write_transaction};
use meeting_registry::domain::Slug;
use meeting_registry::domain::chain::{ChainMember, ValidChain, check as check_chain};
use meeting_registry::domain::enums::{EventStatus, Visibility};
use meeting_registry::domain::event::ValidEvent;
use meeting_registry::error::ApiError;
use meeting_registry::ids::ChainId;
use meeting_registry::store::TitleSlugs;
use meeting_registry::store::chains::NewChain;
use meeting_registry::store::events::rows::{
    NewEventRow, OrganiserRow, ParticipantRow, TopicRow, event_rows,
};

use crate::planner::{Group, Planned};

/// An event's row as it stands once its chain took it in: `store::chains` does that with an
/// `UPDATE` that sets `chain_id` and adds one to the version (SQL, so there is no Rust rule
/// to call). The API cannot create an event inside a chain, so only the generator inserts
/// this.
#[derive(Insertable)]
#[diesel(table_name = events, treat_none_as_default_value = false)]
struct ChainedEventRow {
    #[diesel(embed)]
    row: NewEventRow,
    chain_id: Option<ChainId>,
    version: i32,
}

/// The version of an event row as created: the column's default, which the store leaves to
/// the database.
const CREATED_VERSION: i32 = 1;

/// The rules of every generated chain, given both to the chain check and to the chain's row.
const CHAIN_MAX_GAP_DAYS: i32 = 1;
const CHAIN_SAME_CITY: bool = true;

/// The rows of one transaction.
#[derive(Default)]
pub struct Batch {
    chains: Vec<NewChain>,
    events: Vec<ChainedEventRow>,
    topics: Vec<TopicRow>,
    organisers: Vec<OrganiserRow>,
    participants: Vec<ParticipantRow>,
}

impl Batch {
    /// The number of events in the batch.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Slugs as the store picks them ([`TitleSlugs`]), checked against the slugs in the database
/// and those given so far. A given slug that is taken is not refused here, as the API would:
/// the record gets its title's slug instead, so the generator can run again on a filled
/// database.
#[derive(Default)]
struct Slugs {
    taken: HashSet<String>,
    /// The candidates of each title whose own slug is taken: the next record with that title
    /// goes on from the last one given, which is the same answer as starting over, since what
    /// is taken stays taken.
    by_base: HashMap<String, TitleSlugs>,
}

impl Slugs {
    fn new(taken: HashSet<String>) -> Self {
        Self {
            taken,
            by_base: HashMap::new(),
        }
    }

    fn choose(&mut self, given: Option<&str>, title: &str) -> String {
        if let Some(given) = given
            && Slug::parse(given).is_ok()
            && !self.taken.contains(given)
        {
            self.taken.insert(given.to_owned());
            return given.to_owned();
        }
        let base = Slug::from_title(title);
        let mut candidates = self
            .by_base
            .remove(base.as_str())
            .unwrap_or_else(|| TitleSlugs::from_base(base));
        let taken = &self.taken;
        let Ok(slug) = candidates.first_free(|slug| Ok::<_, Infallible>(taken.contains(slug)));
        if slug != *candidates.base() {
            self.by_base
                .insert(candidates.base().as_str().to_owned(), candidates);
        }
        self.taken.insert(slug.as_str().to_owned());
        slug.into_string()
    }
}

/// Turns planned groups into rows, and counts what it wrote.
pub struct EventWriter {
    event_slugs: Slugs,
    chain_slugs: Slugs,
    pub written: usize,
    pub chained: usize,
    pub chains: usize,
    pub series: usize,
    pub sessions: usize,
    pub internal: usize,
    pub cancelled: usize,
}

impl EventWriter {
    pub fn new(conn: &mut AnyConnection) -> Result<Self, String> {
        let event_slugs = events::table
            .select(events::slug)
            .load::<String>(conn)
            .map_err(|e| e.to_string())?;
        let chain_slugs = chains::table
            .select(chains::slug)
            .load::<String>(conn)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            event_slugs: Slugs::new(event_slugs.into_iter().collect()),
            chain_slugs: Slugs::new(chain_slugs.into_iter().collect()),
            written: 0,
            chained: 0,
            chains: 0,
            series: 0,
            sessions: 0,
            internal: 0,
            cancelled: 0,
        })
    }

    /// Validates `group`'s events with the API's own `validate()` and checks a chain with the
    /// API's chain rules, then adds their rows to `batch`.
    pub fn add_group(&mut self, group: Group, batch: &mut Batch) -> Result<(), String> {
        let now = Timestamp::now();
        let mut valid_events = Vec::new();
        for planned in group.events {
            let valid = planned.input.clone().validate().map_err(|e| {
                format!(
                    "generated event {:?} is invalid: {e:?}",
                    planned.input.title
                )
            })?;
            valid_events.push((planned, valid));
        }
        let chain_id = match &group.chain {
            Some(title) => Some(self.add_chain(title, &valid_events, now, batch)?),
            None => None,
        };
        for (planned, valid) in valid_events {
            self.push_event(planned, &valid, chain_id, now, batch);
        }
        Ok(())
    }

    fn add_chain(
        &mut self,
        title: &str,
        events: &[(Planned, ValidEvent)],
        now: Timestamp,
        batch: &mut Batch,
    ) -> Result<ChainId, String> {
        let members: Vec<ChainMember> = events
            .iter()
            .map(|(p, v)| ChainMember {
                id: p.id.to_string(),
                slug: p.id.to_string(),
                starts_at: v.starts_at,
                ends_at: v.ends_at,
                city: v.location.city.clone(),
            })
            .collect();
        let violations = check_chain(title, CHAIN_MAX_GAP_DAYS, CHAIN_SAME_CITY, &members);
        if !violations.is_empty() {
            return Err(format!(
                "generated chain {title:?} breaks the rules: {violations:?}"
            ));
        }
        let id = ChainId::generate();
        let chain = ValidChain {
            title: title.to_owned(),
            slug: None,
            description: Some(format!(
                "{} events organised back to back in one city.",
                members.len()
            )),
            max_gap_days: CHAIN_MAX_GAP_DAYS,
            same_city: CHAIN_SAME_CITY,
            events: Vec::new(),
        };
        let slug = self.chain_slugs.choose(None, title);
        batch.chains.push(NewChain::new(id, &chain, slug, now));
        self.chains += 1;
        self.chained += members.len();
        Ok(id)
    }

    fn push_event(
        &mut self,
        planned: Planned,
        event: &ValidEvent,
        chain_id: Option<ChainId>,
        now: Timestamp,
        batch: &mut Batch,
    ) {
        let slug = self
            .event_slugs
            .choose(planned.slug.as_deref(), &event.title);
        let rows = event_rows(planned.id, event, &planned.refs, slug, now);
        batch.topics.extend(rows.relations.topics());
        batch.organisers.extend(rows.relations.organisers());
        batch.participants.extend(rows.relations.participants());
        batch.events.push(ChainedEventRow {
            row: rows.event,
            chain_id,
            version: CREATED_VERSION + i32::from(chain_id.is_some()),
        });
        self.written += 1;
        self.series += usize::from(planned.series);
        self.sessions += usize::from(planned.refs.parent_event_id.is_some());
        self.internal += usize::from(event.visibility == Visibility::Internal);
        self.cancelled += usize::from(event.status == EventStatus::Cancelled);
    }

    /// Writes `batch` in one transaction.
    pub fn commit(&mut self, conn: &mut AnyConnection, batch: Batch) -> Result<(), String> {
        write_transaction(conn, |conn| {
            macro_rules! insert_all {
                ($c:expr) => {{
                    // Bind-parameter limits: SQLite 32766, PostgreSQL 65535 per statement.
                    for rows in batch.chains.chunks(2_000) {
                        diesel::insert_into(chains::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.events.chunks(1_000) {
                        diesel::insert_into(events::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.topics.chunks(8_000) {
                        diesel::insert_into(event_topics::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.organisers.chunks(5_000) {
                        diesel::insert_into(event_organisers::table)
                            .values(rows)
                            .execute($c)?;
                    }
                    for rows in batch.participants.chunks(4_000) {
                        diesel::insert_into(event_participants::table)
                            .values(rows)
                            .execute($c)?;
                    }
                }};
            }
            match conn {
                AnyConnection::Sqlite(c) => insert_all!(c),
                AnyConnection::Postgresql(c) => insert_all!(c),
            }
            Ok::<_, ApiError>(())
        })
        .map_err(|e| e.to_string())
    }
}
