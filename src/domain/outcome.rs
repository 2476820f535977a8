//! Outcomes of events as clients write them: decisions, conclusions, endorsements and
//! follow-up actions, with an owner, a due date and a status.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::enums::{OutcomeKind, OutcomeStatus};
use crate::domain::organisation::reference;
use crate::domain::text;
use crate::domain::time::date_serde;
use crate::error::FieldError;

/// What an event decided, concluded or endorsed, or left to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "endorsement",
    "text": "The ministers' endorsement of the new IISG Terms of Reference (IISG ToR)",
    "publication_id": "iisg-tor"
}))]
pub struct OutcomeInput {
    /// What was decided or is to be done, at most 5000 characters (line breaks allowed).
    #[schema(example = "The ministers' endorsement of the new IISG Terms of Reference (IISG ToR)")]
    pub text: String,
    /// What kind of outcome it is.
    pub kind: OutcomeKind,
    /// Where it stands. When absent: `open` for a `follow_up`, `done` for the other kinds
    /// (a decision recorded has been taken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OutcomeStatus>,
    /// Who is to act on it, when an organisation (id or slug); it must exist. At most one of
    /// `owner_organisation_id` and `owner_person_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "ministry-of-security-bih")]
    pub owner_organisation_id: Option<String>,
    /// Who is to act on it, when a person (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_person_id: Option<String>,
    /// When it is due (`YYYY-MM-DD`), if a day is set.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub due_date: Option<NaiveDate>,
    /// The publication it concerns (id or slug), e.g. the terms of reference endorsed; it
    /// must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "iisg-tor")]
    pub publication_id: Option<String>,
}

#[derive(Debug, Clone)]
pub enum OwnerRef {
    Organisation(String),
    Person(String),
}

#[derive(Debug, Clone)]
pub struct ValidOutcome {
    pub text: String,
    pub kind: OutcomeKind,
    pub status: OutcomeStatus,
    pub owner: Option<OwnerRef>,
    pub due_date: Option<NaiveDate>,
    pub publication: Option<String>,
}

impl OutcomeInput {
    pub fn validate(self) -> Result<ValidOutcome, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = match text::optional_block("text", Some(&self.text), 5000, &mut errors) {
            Some(text) => text,
            None => {
                errors.push(FieldError::new("text", "must not be empty"));
                String::new()
            }
        };
        let organisation = reference(
            "owner_organisation_id",
            self.owner_organisation_id.as_deref(),
            &mut errors,
        );
        let person = reference(
            "owner_person_id",
            self.owner_person_id.as_deref(),
            &mut errors,
        );
        let owner = match (organisation, person) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "owner_person_id",
                    "at most one of owner_organisation_id and owner_person_id may be given",
                ));
                None
            }
            (Some(organisation), None) => Some(OwnerRef::Organisation(organisation)),
            (None, Some(person)) => Some(OwnerRef::Person(person)),
            (None, None) => None,
        };
        let publication = reference(
            "publication_id",
            self.publication_id.as_deref(),
            &mut errors,
        );
        if let Some(due) = self.due_date {
            use crate::domain::event::{EARLIEST_YEAR, LATEST_YEAR};
            use chrono::Datelike;
            if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&due.year()) {
                errors.push(FieldError::new(
                    "due_date",
                    format!("must be between {EARLIEST_YEAR}-01-01 and {LATEST_YEAR}-12-31"),
                ));
            }
        }
        let status = self.status.unwrap_or(match self.kind {
            OutcomeKind::FollowUp => OutcomeStatus::Open,
            _ => OutcomeStatus::Done,
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidOutcome {
            text,
            kind: self.kind,
            status,
            owner,
            due_date: self.due_date,
            publication,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: serde_json::Value) -> Vec<String> {
        let input: OutcomeInput = serde_json::from_value(body).expect("shape");
        input
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn an_outcome_has_text_and_at_most_one_owner() {
        assert_eq!(
            fields(serde_json::json!({"text": " ", "kind": "decision"})),
            ["text"]
        );
        assert_eq!(
            fields(serde_json::json!({"text": "x", "kind": "follow_up",
                "owner_organisation_id": "rcc", "owner_person_id": "someone"})),
            ["owner_person_id"]
        );
    }

    #[test]
    fn a_due_date_is_within_the_years_events_take() {
        let due = |day: &str| {
            fields(serde_json::json!({"text": "x", "kind": "follow_up", "due_date": day}))
        };
        assert_eq!(due("9999-12-31"), ["due_date"]);
        assert_eq!(due("1799-12-31"), ["due_date"]);
        assert!(due("2200-12-31").is_empty());
    }

    #[test]
    fn follow_ups_start_open_and_decisions_done() {
        let status = |kind: &str| {
            serde_json::from_value::<OutcomeInput>(serde_json::json!({"text": "x", "kind": kind}))
                .ok()
                .and_then(|i| i.validate().ok())
                .map(|v| v.status)
        };
        assert_eq!(status("follow_up"), Some(OutcomeStatus::Open));
        assert_eq!(status("decision"), Some(OutcomeStatus::Done));
    }
}
