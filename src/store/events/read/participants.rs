//! Each event's participants: people and organisations, read together and put in their
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

/// One participant of one event: a person or an organisation (the other's columns are null).
#[derive(Queryable)]
struct ParticipantRow {
    event_id: EventId,
    position: i32,
    role: String,
    person: Option<(PersonId, String, String)>,
    organisation: Option<(OrganisationId, String, String, Option<String>)>,
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

/// The participants of each of `ids`, people and organisations, in one query.
pub(super) fn participants(
    conn: &mut AnyConnection,
    ids: &[EventId],
) -> Result<Participants, ApiError> {
    let mut participants = Participants::default();
    let rows: Vec<ParticipantRow> = crate::db::native!(conn, |c| by_ids!(
        event_participants::table
            .left_join(people::table.on(event_participants::person_id.eq(people::id.nullable())))
            .left_join(
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
        (people::id, people::slug, people::full_name).nullable(),
        (
            organisations::id,
            organisations::slug,
            organisations::name,
            organisations::acronym,
        )
            .nullable(),
    ))
    .load(c))?;
    for row in rows {
        let participant = match (row.person, row.organisation) {
            (Some((id, slug, name)), _) => ParticipantResponse {
                person_id: Some(id),
                organisation_id: None,
                role: role(&row.role)?,
                participant: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym: None,
                },
            },
            (None, Some((id, slug, name, acronym))) => ParticipantResponse {
                person_id: None,
                organisation_id: Some(id),
                role: role(&row.role)?,
                participant: Summary {
                    id: id.0,
                    slug,
                    name,
                    acronym,
                },
            },
            (None, None) => {
                return Err(ApiError::internal(
                    "a stored participant is neither a person nor an organisation",
                ));
            }
        };
        participants.push(row.event_id, row.position, participant);
    }
    Ok(participants)
}

fn role(stored_role: &str) -> Result<ParticipantRole, ApiError> {
    ParticipantRole::parse(stored_role).ok_or_else(|| stored("participant role", stored_role))
}
