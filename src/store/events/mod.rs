//! Events: storage, the rules that need the database, and the read model a page needs.

pub mod conflicts;
mod filter;
mod list;
mod page;
mod party_walk;
mod postgres;
mod query;
mod read;
mod response;
pub mod rows;
mod search;
mod sqlite;
pub mod warnings;
mod window;
mod write;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::events;
use crate::domain::event::{
    EventInput, LocationInput, OrganiserInput, ParticipantInput, ValidEvent,
};
use crate::error::{ApiError, FieldError};
use crate::ids::EventId;
use crate::store::resource::{Before, Resource, TopLevel};
use crate::store::{Viewer, lookup};

pub use filter::{EventFilter, EventSort};
pub use list::{ListedRows, ListsKept, list_rows};
pub(crate) use page::ReadAt;
pub use read::{get, list, load_details, rows_by_id};
pub use response::{
    ChainPosition, EventPage, EventResponse, EventSummary, Location, OrganiserResponse,
    ParticipantResponse,
};
use rows::EventColumns;
pub use rows::{EventRow, PageKey};
pub use window::{LongEvents, LongSpan, SHORT_SPAN_DAYS, long_events, overlap_start, span_end};
pub use write::{create, delete, update};

versioned_rows!(events, EventId, EventColumns, EventResponse);

/// Events as a [`Resource`].
pub struct Events;

impl Resource for Events {
    const NAME: &'static str = "event";
    type Id = EventId;
    type Input = EventInput;
    type Valid = ValidEvent;
    type Response = EventResponse;
    type Warning = warnings::EventWarning;

    fn validate(input: EventInput) -> Result<ValidEvent, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<EventId>, ApiError> {
        lookup::event_id(conn, key)
    }

    fn get(conn: &mut AnyConnection, key: &str, viewer: Viewer) -> Result<EventResponse, ApiError> {
        get(conn, key, viewer)
    }

    fn update(
        conn: &mut AnyConnection,
        id: EventId,
        version: i32,
        valid: &ValidEvent,
        before: Option<Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        update(conn, id, version, valid, before)
    }

    fn delete(conn: &mut AnyConnection, id: EventId, version: i32) -> Result<(), ApiError> {
        delete(conn, id, version)
    }

    fn as_input(response: &EventResponse) -> EventInput {
        as_input(response)
    }

    const HAS_WARNINGS: bool = true;

    /// The scheduling conflicts the event now has.
    fn warnings(
        conn: &mut AnyConnection,
        written: &EventResponse,
        viewer: Viewer,
    ) -> Result<Vec<warnings::EventWarning>, ApiError> {
        warnings::for_event(conn, written, viewer)
    }
}

impl TopLevel for Events {
    fn create(conn: &mut AnyConnection, valid: &ValidEvent) -> Result<EventId, ApiError> {
        create(conn, valid)
    }

    fn slug(response: &EventResponse) -> &str {
        &response.slug
    }
}

/// The current state of an event in the shape clients write, the base a merge patch applies to.
pub fn as_input(event: &EventResponse) -> EventInput {
    EventInput {
        title: event.title.clone(),
        slug: Some(event.slug.clone()),
        kind: event.kind,
        status: Some(event.status),
        start_date: event.start_date,
        end_date: event.end_date,
        start_time: event.start_time,
        end_time: event.end_time,
        timezone: event.timezone.clone(),
        location: Some(LocationInput {
            venue: event.location.venue.clone(),
            city: event.location.city.clone(),
            country_code: event.location.country_code.clone(),
            address: event.location.address.clone(),
        }),
        attendance_mode: Some(event.attendance_mode),
        network_id: event.network.as_ref().map(|n| n.slug.clone()),
        series_number: event.series_number,
        parent_event_id: event.parent_event.as_ref().map(|p| p.slug.clone()),
        programme_id: event.programme.as_ref().map(|p| p.slug.clone()),
        precedes: event.precedes.iter().map(|p| p.slug.clone()).collect(),
        organisers: event
            .organisers
            .iter()
            .map(|o| OrganiserInput {
                organisation_id: o.organisation.slug.clone(),
                role: o.role,
            })
            .collect(),
        participants: event
            .participants
            .iter()
            .map(|p| ParticipantInput {
                person_id: p.person_id.map(|_| p.participant.slug.clone()),
                organisation_id: p.organisation_id.map(|_| p.participant.slug.clone()),
                role: p.role,
            })
            .collect(),
        topics: event.topics.clone(),
        description: event.description.clone(),
        links: event.links.clone(),
        visibility: Some(event.visibility),
    }
}
