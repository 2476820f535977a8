//! The `outcomes` section of a bundle: each item an outcome with the `event_id` it belongs to.
//! Outcomes have no slug, so they are keyed by their event, as memberships are by their
//! network: the outcomes of an event named in the file become exactly the file's (created when
//! the event has none, left as they are when equal, overwritten or kept as the mode says when
//! they differ).

use actix_web::ResponseError;
use diesel::Connection;
use serde_json::{Map, Value};

use super::parse::{Place, Problems};
use super::report::{FieldChange, RecordDifference, field_errors};
use super::{Attempt, Run, SECTIONS};
use crate::db::AnyConnection;
use crate::domain::outcome::{OutcomeInput, ValidOutcome};
use crate::error::{ApiError, FieldError};
use crate::http::parse_input;
use crate::store::audit::{self, Actor};
use crate::store::lookup;
use crate::store::outcomes::{self, OutcomeResponse};

/// The section's index in [`SECTIONS`].
const INDEX: usize = 7;

/// An outcome as read from the file.
pub(super) struct OutcomeItem {
    pub(super) place: Place,
    /// The event it belongs to (id or slug), as written.
    pub(super) event: Option<String>,
    /// The record as written, for its references.
    pub(super) raw: Map<String, Value>,
    pub(super) valid: Option<ValidOutcome>,
}

/// Parses and validates every outcome of the section.
pub(super) fn parse(values: Vec<Value>, problems: &mut Problems) -> Vec<OutcomeItem> {
    let mut items = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        let place = Place {
            section_index: INDEX,
            section: SECTIONS[INDEX],
            index,
            slug: None,
        };
        let Value::Object(mut object) = value else {
            problems.add(&place, vec![FieldError::new("", "must be a JSON object")]);
            continue;
        };
        let raw = object.clone();
        let mut errors = Vec::new();
        let event = match object.remove("event_id") {
            Some(Value::String(key)) => Some(key),
            _ => {
                errors.push(FieldError::new("event_id", "is required: the event's slug"));
                None
            }
        };
        let valid = match parse_input::<OutcomeInput>(Value::Object(object)) {
            Ok(input) => match input.validate() {
                Ok(valid) => Some(valid),
                Err(invalid) => {
                    errors.extend(invalid);
                    None
                }
            },
            Err(e) => {
                errors.extend(field_errors(&e));
                None
            }
        };
        if !errors.is_empty() {
            problems.add(&place, errors);
        }
        items.push(OutcomeItem {
            place: Place {
                slug: event.clone(),
                ..place
            },
            event,
            raw,
            valid,
        });
    }
    items
}

fn as_inputs(outcomes: &[OutcomeResponse]) -> Result<Value, ApiError> {
    serde_json::to_value(
        outcomes
            .iter()
            .map(outcomes::outcome_as_input)
            .collect::<Vec<_>>(),
    )
    .map_err(ApiError::internal)
}

/// Stores the outcomes per event, in the order the events first appear. A group with a problem
/// anywhere, or referring to a record that will not exist, is not stored. Errors only for the
/// database failing.
pub(super) fn store(
    conn: &mut AnyConnection,
    items: &[OutcomeItem],
    run: &mut Run,
) -> Result<(), ApiError> {
    let mut events: Vec<&str> = Vec::new();
    for item in items {
        if let Some(event) = item.event.as_deref()
            && !events.contains(&event)
        {
            events.push(event);
        }
    }
    for event in events {
        let group: Vec<&OutcomeItem> = items
            .iter()
            .filter(|i| i.event.as_deref() == Some(event))
            .collect();
        let blocked = group.iter().any(|item| {
            run.problems.has(&item.place)
                || super::references::references(item.place.section, &item.raw)
                    .into_iter()
                    .any(|r| run.unavailable.contains(&(r.section, r.key)))
        });
        if blocked {
            for item in &group {
                if !run.problems.has(&item.place) {
                    run.unchecked.push(item.place.named());
                }
            }
            continue;
        }
        let valid: Vec<&ValidOutcome> = group.iter().filter_map(|i| i.valid.as_ref()).collect();
        match store_group(conn, event, &group, &valid, run.mode)? {
            Ok(Stored::Created) => run.report.created += group.len(),
            Ok(Stored::Unchanged) => run.report.unchanged += group.len(),
            Ok(Stored::Overwritten(difference)) => run.report.overwritten.push(difference),
            Ok(Stored::Kept(difference)) => run.report.kept.push(difference),
            Err((place, errors)) => run.problems.add(place, errors),
        }
    }
    Ok(())
}

enum Stored {
    Created,
    Unchanged,
    Overwritten(RecordDifference),
    Kept(RecordDifference),
}

/// The event's outcomes made the file's, in a savepoint undone unless they are kept. The inner
/// error names the outcome whose write was refused.
#[allow(clippy::type_complexity)]
fn store_group<'a>(
    conn: &mut AnyConnection,
    event: &str,
    group: &[&'a OutcomeItem],
    valid: &[&ValidOutcome],
    mode: super::ImportMode,
) -> Result<Result<Stored, (&'a Place, Vec<FieldError>)>, ApiError> {
    let Some(event_id) = lookup::event_id(conn, event)? else {
        // Reported by the reference check.
        return Ok(Ok(Stored::Unchanged));
    };
    let actor = Actor::command("import");
    let mut refused: Option<(usize, ApiError)> = None;
    let outcome = conn.transaction::<Stored, Attempt, _>(|conn| {
        let before = outcomes::all_of_event(conn, event_id)?;
        outcomes::remove_all_of_event(conn, event_id)?;
        let mut created = Vec::new();
        for (i, one) in valid.iter().enumerate() {
            match outcomes::add(conn, event, one) {
                Ok(outcome) => created.push(outcome),
                Err(e) if !e.status_code().is_server_error() => {
                    refused = Some((i, e));
                    return Err(Attempt::Unchanged);
                }
                Err(e) => return Err(e.into()),
            }
        }
        let after = outcomes::all_of_event(conn, event_id)?;
        let (stored, file) = (as_inputs(&before)?, as_inputs(&after)?);
        if stored == file {
            return Err(Attempt::Unchanged);
        }
        if before.is_empty() {
            for outcome in &created {
                let fields = serde_json::to_value(outcomes::outcome_as_input(outcome))
                    .map_err(ApiError::internal)?;
                audit::record(
                    conn,
                    &actor,
                    "create",
                    "outcome",
                    &outcome.id.to_string(),
                    &fields,
                )?;
            }
            return Ok(Stored::Created);
        }
        let difference = RecordDifference {
            section: SECTIONS[INDEX],
            slug: event.to_owned(),
            fields: vec![FieldChange {
                field: "outcomes".to_owned(),
                stored: stored.clone(),
                file: file.clone(),
            }],
            note: None,
        };
        match mode {
            super::ImportMode::KeepExisting => Err(Attempt::Kept(difference)),
            super::ImportMode::Overwrite => {
                audit::record(
                    conn,
                    &actor,
                    "update_outcomes",
                    "event",
                    &event_id.to_string(),
                    &serde_json::json!({"outcomes": {"from": stored, "to": file}}),
                )?;
                Ok(Stored::Overwritten(difference))
            }
        }
    });
    if let Some((i, e)) = refused {
        return Ok(Err((&group[i].place, field_errors(&e))));
    }
    match outcome {
        Ok(stored) => Ok(Ok(stored)),
        Err(Attempt::Unchanged) => Ok(Ok(Stored::Unchanged)),
        Err(Attempt::Kept(difference)) => Ok(Ok(Stored::Kept(difference))),
        Err(Attempt::Failed(e)) => Err(e),
    }
}

/// Every outcome of the registry, grouped by event (in the order each event's first outcome
/// was recorded), each with its `event_id` as a slug.
pub(super) fn export(conn: &mut AnyConnection) -> Result<Vec<Value>, ApiError> {
    let mut values = Vec::new();
    for event in outcomes::events_with_outcomes(conn)? {
        for outcome in outcomes::all_of_event(conn, event)? {
            let mut object = Map::new();
            object.insert(
                "event_id".to_owned(),
                Value::String(outcome.event.slug.clone()),
            );
            if let Value::Object(fields) =
                serde_json::to_value(outcomes::outcome_as_input(&outcome))
                    .map_err(ApiError::internal)?
            {
                object.extend(fields);
            }
            values.push(Value::Object(object));
        }
    }
    Ok(values)
}
