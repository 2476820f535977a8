//! Programmes (programmes, actions, projects and plans) as clients write them, and their
//! validation: the period, and the organisations with their dated roles.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Slug;
use crate::domain::enums::{ProgrammeKind, ProgrammeRole, ProgrammeStatus};
use crate::domain::organisation::reference;
use crate::domain::text::{self, fold};
use crate::domain::time::date_serde;
use crate::error::FieldError;

pub const MAX_TITLE: usize = 300;
pub const MAX_FUNDING_INSTRUMENT: usize = 200;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_ORGANISATIONS: usize = 100;
/// The longest period a duration may give: fifty years.
pub const MAX_DURATION_MONTHS: i32 = 600;

/// An organisation's dated part in a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"organisation_id": "dcaf-ljubljana", "role": "coordinator"}))]
pub struct ProgrammeOrganisationInput {
    /// The organisation (id or slug); it must exist.
    #[schema(example = "dcaf-ljubljana")]
    pub organisation_id: String,
    /// Its part in the programme.
    pub role: ProgrammeRole,
    /// First day of that part (`YYYY-MM-DD`), if known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub since: Option<NaiveDate>,
    /// Last day of that part (`YYYY-MM-DD`, inclusive), not before `since`; absent while it
    /// lasts or when not known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub until: Option<NaiveDate>,
}

/// A programme, action, project or plan, as written by clients (`POST`, the result of a
/// `PATCH` merge, and import). References (`parent_id`, `organisations[].organisation_id`)
/// take an id or a slug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "support-to-pcve-western-balkans",
    "title": "Support to Prevention and Countering Violent Extremism (P/CVE) in the Western Balkans",
    "kind": "action",
    "funding_instrument": "IPA II 2016",
    "organisations": [
        {"organisation_id": "european-union", "role": "funder"},
        {"organisation_id": "dcaf-ljubljana", "role": "coordinator"},
        {"organisation_id": "rcc", "role": "implementing_partner"},
        {"organisation_id": "undp", "role": "implementing_partner"},
        {"organisation_id": "iom", "role": "implementing_partner"}
    ]
}))]
pub struct ProgrammeInput {
    /// The programme's name, one line of at most 300 characters.
    #[schema(example = "Horizontal Facility II Programme for Western Balkans and Turkey")]
    pub title: String,
    /// Unique among programmes: lowercase letters and digits in groups joined by single
    /// hyphens, at most 100 characters. Generated from the title when absent. Any `{id}` in a
    /// path accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "horizontal-facility-ii")]
    pub slug: Option<String>,
    /// What kind of undertaking it is.
    pub kind: ProgrammeKind,
    /// Where it stands; absent when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProgrammeStatus>,
    /// The instrument that funds it, as its funder names it, one line of at most 200
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "IPA II 2016")]
    pub funding_instrument: Option<String>,
    /// The programme this one is part of (id or slug), e.g. the programme a project is
    /// implemented under; it must exist, and parents may not form a cycle (409
    /// `parent_cycle`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "horizontal-facility-ii")]
    pub parent_id: Option<String>,
    /// The first day (`YYYY-MM-DD`), if known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    #[schema(example = "2019-10-22")]
    pub start_date: Option<NaiveDate>,
    /// The last day (`YYYY-MM-DD`, inclusive), if known; not before `start_date`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub end_date: Option<NaiveDate>,
    /// How long it runs, in months (1 to 600), when that is what is known. With `start_date`
    /// and no `end_date` it gives `effective_end_date`; with both it must agree with them:
    /// `end_date` falls in the last of those months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 600, example = 36)]
    pub duration_months: Option<i32>,
    /// Free text (line breaks allowed), at most 20000 characters; searched by `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The organisations that fund, coordinate, implement, benefit from or lead it, each with
    /// its role and optional dates; at most 100, one organisation once per role and start. A
    /// write replaces the whole list.
    #[serde(default)]
    pub organisations: Vec<ProgrammeOrganisationInput>,
}

/// An organisation's part, before its key is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProgrammeOrganisation {
    pub organisation: String,
    pub role: ProgrammeRole,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// A programme that passed every rule that needs no database.
#[derive(Debug, Clone)]
pub struct ValidProgramme {
    pub title: String,
    pub slug: Option<Slug>,
    pub kind: ProgrammeKind,
    pub status: Option<ProgrammeStatus>,
    pub funding_instrument: Option<String>,
    pub parent: Option<String>,
    pub period: Period,
    pub description: Option<String>,
    pub organisations: Vec<ValidProgrammeOrganisation>,
}

impl ValidProgramme {
    /// Folded text that `q` searches.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.title];
        parts.extend(self.funding_instrument.as_deref());
        parts.extend(self.description.as_deref());
        fold(&parts.join(" \u{1f} "))
    }
}

/// A programme's period as written: any of its start, its end and its length in months.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub duration_months: Option<i32>,
}

impl Period {
    /// The last day: `end_date`, else the day before `start_date` plus `duration_months`;
    /// `None` when neither is known.
    pub fn effective_end(&self) -> Option<NaiveDate> {
        self.end_date.or_else(|| {
            let (start, months) = (self.start_date?, self.duration_months?);
            months_after(start, months)?.pred_opt()
        })
    }

    /// Whether `day` falls outside the period (a bound not known does not bound it).
    pub fn excludes(&self, day: NaiveDate) -> bool {
        self.start_date.is_some_and(|start| day < start)
            || self.effective_end().is_some_and(|end| day > end)
    }

    /// The period in words, for messages: `2019-10-22 to 2022-10-21`.
    pub fn describe(&self) -> String {
        let day = |d: Option<NaiveDate>| d.map_or("?".to_owned(), |d| d.to_string());
        format!("{} to {}", day(self.start_date), day(self.effective_end()))
    }
}

fn months_after(day: NaiveDate, months: i32) -> Option<NaiveDate> {
    day.checked_add_months(Months::new(u32::try_from(months).ok()?))
}

/// Checks the period's parts and that they agree.
fn period(input: &ProgrammeInput, errors: &mut Vec<FieldError>) -> Period {
    let period = Period {
        start_date: input.start_date,
        end_date: input.end_date,
        duration_months: input.duration_months,
    };
    if let (Some(start), Some(end)) = (period.start_date, period.end_date)
        && end < start
    {
        errors.push(FieldError::new(
            "end_date",
            format!("must not be before start_date ({start})"),
        ));
        return period;
    }
    let Some(months) = period.duration_months else {
        return period;
    };
    if !(1..=MAX_DURATION_MONTHS).contains(&months) {
        errors.push(FieldError::new(
            "duration_months",
            format!("must be between 1 and {MAX_DURATION_MONTHS}"),
        ));
        return period;
    }
    if let (Some(start), Some(end)) = (period.start_date, period.end_date) {
        // The end falls in the last month of the duration: on or after the day `months - 1`
        // months on, and before the day `months` months on.
        let earliest = months_after(start, months - 1);
        let latest = months_after(start, months).and_then(|d| d.pred_opt());
        if let (Some(earliest), Some(latest)) = (earliest, latest)
            && !(earliest..=latest).contains(&end)
        {
            errors.push(FieldError::new(
                "duration_months",
                format!(
                    "does not agree with start_date and end_date: {months} months from {start} \
                     end between {earliest} and {latest}"
                ),
            ));
        }
    }
    period
}

fn organisations(
    input: &[ProgrammeOrganisationInput],
    errors: &mut Vec<FieldError>,
) -> Vec<ValidProgrammeOrganisation> {
    if input.len() > MAX_ORGANISATIONS {
        errors.push(FieldError::new(
            "organisations",
            format!("must have at most {MAX_ORGANISATIONS} items"),
        ));
    }
    let mut valid: Vec<ValidProgrammeOrganisation> = Vec::new();
    for (i, item) in input.iter().enumerate() {
        let field = format!("organisations[{i}].organisation_id");
        let Some(organisation) = reference(&field, Some(&item.organisation_id), errors) else {
            continue;
        };
        if let (Some(since), Some(until)) = (item.since, item.until)
            && until < since
        {
            errors.push(FieldError::new(
                format!("organisations[{i}].until"),
                format!("must not be before since ({since})"),
            ));
        }
        let part = ValidProgrammeOrganisation {
            organisation,
            role: item.role,
            since: item.since,
            until: item.until,
        };
        if valid.iter().any(|other| same_part(other, &part)) {
            errors.push(FieldError::new(
                field,
                "is listed twice with the same role and since",
            ));
        }
        valid.push(part);
    }
    valid
}

/// Two parts that say the same thing: the same organisation in the same role from the same day.
fn same_part(a: &ValidProgrammeOrganisation, b: &ValidProgrammeOrganisation) -> bool {
    a.organisation == b.organisation && a.role == b.role && a.since == b.since
}

impl ProgrammeInput {
    /// Checks every rule that needs no database and reports every broken one.
    pub fn validate(self) -> Result<ValidProgramme, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text::required_line("title", &self.title, MAX_TITLE, &mut errors);
        let slug = self.slug.as_deref().and_then(|s| match Slug::parse(s) {
            Ok(slug) => Some(slug),
            Err(e) => {
                errors.push(FieldError::new("slug", e));
                None
            }
        });
        let funding_instrument = text::optional_line(
            "funding_instrument",
            self.funding_instrument.as_deref(),
            MAX_FUNDING_INSTRUMENT,
            &mut errors,
        );
        let parent = reference("parent_id", self.parent_id.as_deref(), &mut errors);
        let period = period(&self, &mut errors);
        let description = text::optional_block(
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION,
            &mut errors,
        );
        let organisations = organisations(&self.organisations, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidProgramme {
            title,
            slug,
            kind: self.kind,
            status: self.status,
            funding_instrument,
            parent,
            period,
            description,
            organisations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: serde_json::Value) -> ProgrammeInput {
        serde_json::from_value(value).expect("shape")
    }

    fn fields(result: Result<ValidProgramme, Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn a_duration_gives_the_end_from_the_start() {
        let valid = input(serde_json::json!({
            "title": "Prisons project", "kind": "project",
            "start_date": "2019-10-22", "duration_months": 36
        }))
        .validate()
        .expect("valid");
        assert_eq!(valid.period.effective_end(), Some(day("2022-10-21")));
        assert!(valid.period.excludes(day("2019-10-21")));
        assert!(!valid.period.excludes(day("2022-10-21")));
        assert!(valid.period.excludes(day("2022-10-22")));
    }

    #[test]
    fn a_duration_must_agree_with_both_dates() {
        let agreeing = input(serde_json::json!({
            "title": "A", "kind": "action", "start_date": "2019-01-01",
            "end_date": "2021-12-15", "duration_months": 36
        }));
        assert!(agreeing.validate().is_ok());
        let disagreeing = input(serde_json::json!({
            "title": "A", "kind": "action", "start_date": "2019-01-01",
            "end_date": "2020-06-30", "duration_months": 36
        }));
        assert_eq!(fields(disagreeing.validate()), ["duration_months"]);
    }

    #[test]
    fn broken_periods_and_parts_are_named() {
        let broken = input(serde_json::json!({
            "title": " ", "kind": "plan", "start_date": "2019-01-01", "end_date": "2018-01-01",
            "organisations": [
                {"organisation_id": "rcc", "role": "funder", "since": "2019-02-01", "until": "2019-01-01"},
                {"organisation_id": "rcc", "role": "funder", "since": "2019-02-01"},
                {"organisation_id": "", "role": "beneficiary"}
            ]
        }));
        assert_eq!(
            fields(broken.validate()),
            [
                "title",
                "end_date",
                "organisations[0].until",
                "organisations[1].organisation_id",
                "organisations[2].organisation_id"
            ]
        );
        let long = input(serde_json::json!({
            "title": "A", "kind": "plan", "duration_months": 0
        }));
        assert_eq!(fields(long.validate()), ["duration_months"]);
    }
}
