//! Each event's organisers: the organiser rows joined to their organisations.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::AnyConnection;
use crate::db::schema::{event_organisers, organisations};
use crate::domain::enums::OrganiserRole;
use crate::error::ApiError;
use crate::ids::{EventId, OrganisationId};
use crate::store::Summary;
use crate::store::events::response::OrganiserResponse;

use super::stored;

/// One organiser of one event, with its organisation summarised.
#[derive(Queryable)]
struct OrganiserRow {
    event_id: EventId,
    role: String,
    organisation_id: OrganisationId,
    slug: String,
    name: String,
    acronym: Option<String>,
}

/// The organisers of each of `ids` (one query), in their stored order; events without any are
/// left out.
pub(super) fn organisers(
    conn: &mut AnyConnection,
    ids: &[EventId],
) -> Result<HashMap<EventId, Vec<OrganiserResponse>>, ApiError> {
    let rows: Vec<OrganiserRow> = crate::db::native!(conn, |c| by_ids!(
        event_organisers::table
            .inner_join(organisations::table)
            .into_boxed(),
        event_organisers::event_id,
        ids
    )
    .order((event_organisers::event_id, event_organisers::position))
    .select((
        event_organisers::event_id,
        event_organisers::role,
        organisations::id,
        organisations::slug,
        organisations::name,
        organisations::acronym,
    ))
    .load(c))?;
    let mut organisers: HashMap<EventId, Vec<OrganiserResponse>> = HashMap::new();
    for row in rows {
        let role =
            OrganiserRole::parse(&row.role).ok_or_else(|| stored("organiser role", &row.role))?;
        organisers
            .entry(row.event_id)
            .or_default()
            .push(OrganiserResponse {
                organisation_id: row.organisation_id,
                role,
                organisation: Summary {
                    id: row.organisation_id.0,
                    slug: row.slug,
                    name: row.name,
                    acronym: row.acronym,
                },
            });
    }
    Ok(organisers)
}
