//! What a create or update response of an event lists in `warnings`: what the registry records
//! but a keeper should look at. Scheduling conflicts ([`super::conflicts`]) and an event dated
//! outside the period of the programme it is implemented under.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::store::Viewer;
use crate::store::programmes::{self, ProgrammeSummary};

use super::conflicts::{self, Conflict};
use super::response::EventResponse;

/// One warning of a write: a scheduling conflict (`kind` `person` or `venue`) or an event
/// outside its programme's period (`kind` `outside_programme_period`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventWarning {
    Conflict(Conflict),
    ProgrammePeriod(ProgrammePeriodWarning),
}

/// The one kind of [`ProgrammePeriodWarning`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgrammePeriodKind {
    OutsideProgrammePeriod,
}

/// An event dated outside the period of the programme it is implemented under: recorded, as
/// the registry records what happened, and reported.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgrammePeriodWarning {
    /// Always `outside_programme_period`.
    pub kind: ProgrammePeriodKind,
    /// The programme, summarised.
    pub programme: ProgrammeSummary,
    /// The programme's first day; `null` when not known.
    pub programme_start_date: Option<NaiveDate>,
    /// The programme's last day (its `effective_end_date`); `null` when not known.
    pub programme_end_date: Option<NaiveDate>,
    /// The warning in one sentence, for people.
    pub detail: String,
}

/// The warnings of `event` as just written (and read back by the write): its programme's
/// period first, then its scheduling conflicts.
pub fn for_event(
    conn: &mut AnyConnection,
    event: &EventResponse,
    viewer: Viewer,
) -> Result<Vec<EventWarning>, ApiError> {
    let mut warnings: Vec<EventWarning> = outside_programme_period(conn, event)?
        .into_iter()
        .map(EventWarning::ProgrammePeriod)
        .collect();
    warnings.extend(
        conflicts::for_event(conn, event, viewer)?
            .into_iter()
            .map(EventWarning::Conflict),
    );
    Ok(warnings)
}

/// A warning when `event` starts before its programme or ends after it (an event whose
/// dates are not known, or with no programme, has none).
fn outside_programme_period(
    conn: &mut AnyConnection,
    event: &EventResponse,
) -> Result<Option<ProgrammePeriodWarning>, ApiError> {
    let (Some(programme_id), Some(start), Some(end)) =
        (event.programme_id, event.start_date, event.end_date)
    else {
        return Ok(None);
    };
    let Some((programme, period)) = programmes::period_of(conn, programme_id)? else {
        return Ok(None);
    };
    if !period.excludes(start) && !period.excludes(end) {
        return Ok(None);
    }
    let detail = format!(
        "the event ({start} to {end}) falls outside the period of programme {:?} ({})",
        programme.slug,
        period.describe()
    );
    Ok(Some(ProgrammePeriodWarning {
        kind: ProgrammePeriodKind::OutsideProgrammePeriod,
        programme,
        programme_start_date: period.start_date,
        programme_end_date: period.effective_end(),
        detail,
    }))
}
