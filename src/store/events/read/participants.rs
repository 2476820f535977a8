//! Each event's participants: people and organisations, read apart and put back in their
//! stored order.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{event_participants, organisations, people};
use crate::domain::enums::ParticipantRole;
use crate::error::ApiError;
use crate::ids::{EventId, OrganisationId, PersonId};
use crate::store::Summary;
use crate::store::events::response::ParticipantResponse;

use super::stored;

/// A person taking part in one event.
#[derive(Queryable)]
struct PersonRow {
    event_id: EventId,
    position: i32,
    role: String,
    person_id: PersonId,
    slug: String,
    full_name: String,
}

/// An organisation taking part, as a whole, in one event.
#[derive(Queryable)]
struct OrganisationRow {
    event_id: EventId,
    position: i32,
    role: String,
    organisation_id: OrganisationId,
    slug: String,
    name: String,
    acronym: Option<String>,
}

/// The participants of a page of events, by event, each with its stored position.
#[derive(Default)]
pub(super) struct Participants(HashMap<EventId, Vec<(i32, ParticipantResponse)>>);

impl Participants {
    /// Takes the participants of `event` out, in their stored order (none when it has none).
    pub(super) fn take(&mut self, event: EventId) -> Vec<ParticipantResponse> {
        let mut these = self.0.remove(&event).unwrap_or_default();
        these.sort_by_key(|(position, _)| *position);
        these.into_iter().map(|(_, p)| p).collect()
    }

    fn push(&mut self, event: EventId, position: i32, participant: ParticipantResponse) {
        self.0
            .entry(event)
            .or_default()
            .push((position, participant));
    }
}

/// The participants of each of `ids`: two queries, people then organisations.
pub(super) fn participants(
    conn: &mut AnyConnection,
    ids: &[EventId],
) -> Result<Participants, ApiError> {
    let mut participants = Participants::default();
    let person_rows: Vec<PersonRow> = crate::db::native!(conn, |c| by_ids!(
        event_participants::table
            .inner_join(people::table.on(event_participants::person_id.eq(people::id.nullable())))
            .into_boxed(),
        event_participants::event_id,
        ids
    )
    .select((
        event_participants::event_id,
        event_participants::position,
        event_participants::role,
        people::id,
        people::slug,
        people::full_name,
    ))
    .load(c))?;
    for row in person_rows {
        let participant = ParticipantResponse {
            person_id: Some(row.person_id),
            organisation_id: None,
            role: role(&row.role)?,
            participant: Summary {
                id: row.person_id.0,
                slug: row.slug,
                name: row.full_name,
                acronym: None,
            },
        };
        participants.push(row.event_id, row.position, participant);
    }

    let organisation_rows: Vec<OrganisationRow> = crate::db::native!(conn, |c| by_ids!(
        event_participants::table
            .inner_join(
                organisations::table
                    .on(event_participants::organisation_id.eq(organisations::id.nullable())),
            )
            .into_boxed(),
        event_participants::event_id,
        ids
    )
    .select((
        event_participants::event_id,
        event_participants::position,
        event_participants::role,
        organisations::id,
        organisations::slug,
        organisations::name,
        organisations::acronym,
    ))
    .load(c))?;
    for row in organisation_rows {
        let participant = ParticipantResponse {
            person_id: None,
            organisation_id: Some(row.organisation_id),
            role: role(&row.role)?,
            participant: Summary {
                id: row.organisation_id.0,
                slug: row.slug,
                name: row.name,
                acronym: row.acronym,
            },
        };
        participants.push(row.event_id, row.position, participant);
    }
    Ok(participants)
}

fn role(stored_role: &str) -> Result<ParticipantRole, ApiError> {
    ParticipantRole::parse(stored_role).ok_or_else(|| stored("participant role", stored_role))
}
