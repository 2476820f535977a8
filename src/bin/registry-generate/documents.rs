//! Publications and outcomes of the events already written: one publication per 50 events
//! (through the store's own `create`, so exactly what the API writes), and outcomes for about a
//! third of the events (1–3 each: decisions, conclusions, endorsements, follow-ups with owners
//! and due dates), written row by row as the store writes them.

use chrono::{Days, NaiveDate, Utc};
use diesel::prelude::*;
use meeting_registry::db::schema::events;
use meeting_registry::db::{AnyConnection, write_transaction};
use meeting_registry::domain::enums::{OutcomeKind, OutcomeStatus, PublicationRole};
use meeting_registry::domain::publication::{AuthorInput, EventLinkInput, PublicationInput};
use meeting_registry::error::ApiError;
use meeting_registry::ids::{EventId, PublicationId};
use meeting_registry::store::outcomes::{GeneratedOutcome, insert_generated};
use meeting_registry::store::publications::Publications;
use meeting_registry::store::resource::{Resource, TopLevel};

use crate::graph::Graph;
use crate::rng::Rng;

/// Events read (and their outcomes written) per transaction.
const CHUNK: i64 = 20_000;

const KINDS: [&str; 8] = [
    "report",
    "study",
    "terms_of_reference",
    "conclusions",
    "declaration",
    "agenda",
    "minutes",
    "presentation",
];

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    pub publications: usize,
    pub outcomes: usize,
    pub open: usize,
}

pub fn write(conn: &mut AnyConnection, graph: &Graph, rng: &mut Rng) -> Result<Written, ApiError> {
    let mut written = Written::default();
    let today = Utc::now().date_naive();
    let mut after: Option<EventId> = None;
    loop {
        let mut query = events::table
            .select((events::id, events::start_date))
            .order(events::id.asc())
            .limit(CHUNK)
            .into_boxed();
        if let Some(last) = after {
            query = query.filter(events::id.gt(last));
        }
        let chunk: Vec<(EventId, NaiveDate)> = query.load(conn)?;
        let Some(&(last, _)) = chunk.last() else {
            return Ok(written);
        };
        after = Some(last);
        write_transaction(conn, |conn| {
            let mut outcomes = Vec::new();
            for (i, &(event, start)) in chunk.iter().enumerate() {
                let publication = if i % 50 == 0 {
                    written.publications += 1;
                    Some(publication(conn, graph, event, start, rng)?)
                } else {
                    None
                };
                if !rng.chance(0.35) {
                    continue;
                }
                for _ in 0..rng.range(1, 3) {
                    let outcome = outcome(graph, event, start, today, publication, rng);
                    written.open += usize::from(outcome.status == OutcomeStatus::Open);
                    outcomes.push(outcome);
                }
            }
            written.outcomes += outcomes.len();
            insert_generated(conn, &outcomes)
        })?;
    }
}

fn publication(
    conn: &mut AnyConnection,
    graph: &Graph,
    event: EventId,
    start: NaiveDate,
    rng: &mut Rng,
) -> Result<PublicationId, ApiError> {
    let kind = *rng.pick(&KINDS);
    let topic = *rng.pick(&[
        "countering violent extremism",
        "foreign fighters",
        "border security",
        "radicalisation in prisons",
        "referral mechanisms",
        "regional cooperation",
    ]);
    let authors = (0..rng.range(0, 3))
        .map(|_| AuthorInput {
            person_id: rng.pick(&graph.people).0.to_string(),
            affiliation_id: Some(rng.pick(&graph.organisations).id.to_string()),
        })
        .collect::<Vec<_>>();
    let mut unique = Vec::new();
    for author in authors {
        if !unique
            .iter()
            .any(|a: &AuthorInput| a.person_id == author.person_id)
        {
            unique.push(author);
        }
    }
    let year = start.format("%Y").to_string();
    let input = PublicationInput {
        title: format!("{} on {topic}, {year}", kind.replace('_', " ")),
        slug: Some(format!("publication-{:016x}", rng.next())),
        kind: meeting_registry::domain::enums::PublicationKind::parse(kind)
            .unwrap_or(meeting_registry::domain::enums::PublicationKind::Report),
        date: Some(match rng.below(3) {
            0 => year,
            1 => start.format("%Y-%m").to_string(),
            _ => start.to_string(),
        }),
        language: Some("en".to_owned()),
        authors: unique,
        publisher_id: Some(rng.pick(&graph.organisations).id.to_string()),
        url: None,
        doi: None,
        isbn: None,
        topics: vec![topic.to_owned()],
        events: vec![EventLinkInput {
            event_id: event.to_string(),
            role: *rng.pick(&[
                PublicationRole::Presented,
                PublicationRole::Adopted,
                PublicationRole::Endorsed,
                PublicationRole::PreparedFor,
            ]),
        }],
        description: None,
    };
    let valid = Publications::validate(input)
        .map_err(|e| ApiError::internal(format!("generated publication is invalid: {e:?}")))?;
    Publications::create(conn, &valid)
}

fn outcome(
    graph: &Graph,
    event: EventId,
    start: NaiveDate,
    today: NaiveDate,
    publication: Option<PublicationId>,
    rng: &mut Rng,
) -> GeneratedOutcome {
    let kind = match rng.weighted(&[30, 20, 10, 40]) {
        0 => OutcomeKind::Decision,
        1 => OutcomeKind::Conclusion,
        2 => OutcomeKind::Endorsement,
        _ => OutcomeKind::FollowUp,
    };
    let follow_up = kind == OutcomeKind::FollowUp;
    let due_date = (follow_up && rng.chance(0.8))
        .then(|| start.checked_add_days(Days::new(rng.range(30, 180) as u64)))
        .flatten();
    let status = if !follow_up {
        OutcomeStatus::Done
    } else if start > today {
        OutcomeStatus::Open
    } else {
        match rng.weighted(&[30, 60, 10]) {
            0 => OutcomeStatus::Open,
            1 => OutcomeStatus::Done,
            _ => OutcomeStatus::Dropped,
        }
    };
    let (owner_organisation_id, owner_person_id) = match rng.weighted(&[50, 25, 25]) {
        0 => (Some(rng.pick(&graph.organisations).id), None),
        1 => (None, Some(rng.pick(&graph.people).0)),
        _ => (None, None),
    };
    let text = match kind {
        OutcomeKind::Decision => "The participants agreed to meet again within six months",
        OutcomeKind::Conclusion => {
            "The participants concluded that regional cooperation must go on"
        }
        OutcomeKind::Endorsement => "The participants endorsed the document presented",
        OutcomeKind::FollowUp => "Circulate the draft list of needs to all partners",
    };
    GeneratedOutcome {
        event_id: event,
        kind,
        text: text.to_owned(),
        status,
        owner_organisation_id,
        owner_person_id,
        due_date,
        publication_id: publication.filter(|_| kind == OutcomeKind::Endorsement),
    }
}
