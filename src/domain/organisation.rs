//! Organisations, people and networks as clients write them, and their validation.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::enums::{MembershipRole, OrganisationKind};
use crate::domain::text::{self, fold};
use crate::domain::time::date_serde;
use crate::domain::{CountryCode, Slug};
use crate::error::FieldError;

/// An organiser, host, funder or partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "dg-near",
    "name": "DG for European Neighbourhood Policy and Enlargement Negotiations",
    "acronym": "DG NEAR",
    "kind": "eu_institution",
    "parent_id": "european-commission"
}))]
pub struct OrganisationInput {
    /// The full name, one line of at most 300 characters.
    #[schema(example = "Regional Cooperation Council")]
    pub name: String,
    /// Unique among organisations: lowercase letters and digits in groups joined by single
    /// hyphens, at most 100 characters. Generated from the acronym (else the name) when
    /// absent. Any `{id}` in a path accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "rcc")]
    pub slug: Option<String>,
    /// The short name, at most 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "RCC")]
    pub acronym: Option<String>,
    /// What kind of organisation this is.
    pub kind: OrganisationKind,
    /// Where it is based: ISO 3166-1 alpha-2, any case (stored upper case); `XK` for Kosovo.
    /// Absent for organisations of no one country (the EU, UNDP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "BA")]
    pub country_code: Option<String>,
    /// The organisation this one is part of (id or slug), e.g. a directorate-general's
    /// commission; it must exist, and parts may not form a cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "european-commission")]
    pub parent_id: Option<String>,
    /// Its web site: an absolute `http` or `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub website: Option<String>,
    /// Free text (line breaks allowed), at most 20000 characters; searched by `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidOrganisation {
    pub name: String,
    pub slug: Option<Slug>,
    pub acronym: Option<String>,
    pub kind: OrganisationKind,
    pub country_code: Option<CountryCode>,
    pub parent: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
}

impl ValidOrganisation {
    pub fn search_text(&self) -> String {
        let parts = [
            Some(self.name.as_str()),
            self.acronym.as_deref(),
            self.description.as_deref(),
        ];
        fold(
            &parts
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" \u{1f} "),
        )
    }
}

/// A chair, speaker or coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "mario-janecek",
    "full_name": "Mario Janeček",
    "honorific": "Mr",
    "position": "CT Adviser, Ministry of Security BiH",
    "organisation_id": "ministry-of-security-bih"
}))]
pub struct PersonInput {
    /// The name as the person writes it, accents included, one line of at most 200
    /// characters; search by `q` ignores case and accents.
    #[schema(example = "Mario Janeček")]
    pub full_name: String,
    /// Unique among people: lowercase letters and digits in groups joined by single hyphens,
    /// at most 100 characters. Generated from the name when absent. Any `{id}` in a path
    /// accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "mario-janecek")]
    pub slug: Option<String>,
    /// How the person is addressed (`Mr`, `Dr`…), at most 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Mr")]
    pub honorific: Option<String>,
    /// Job title and office, one line of at most 300 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "CT Adviser, Ministry of Security BiH")]
    pub position: Option<String>,
    /// The organisation the person works for (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "ministry-of-security-bih")]
    pub organisation_id: Option<String>,
    /// An email address (`local@domain.tld`), at most 254 characters. Contact details are
    /// shown only to callers with a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Email)]
    pub email: Option<String>,
    /// A telephone number: digits, spaces and `+ - ( ) . /`, at most 50 characters. Shown only
    /// to callers with a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidPerson {
    pub full_name: String,
    pub slug: Option<Slug>,
    pub honorific: Option<String>,
    pub position: Option<String>,
    pub organisation: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ValidPerson {
    pub fn search_text(&self) -> String {
        let parts = [Some(self.full_name.as_str()), self.position.as_deref()];
        fold(
            &parts
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" \u{1f} "),
        )
    }
}

/// A standing body or network: the IISG Board, the RNNC, the NFP Group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "nfp-group",
    "name": "RCC Group of National Focal Points for Prevention and Countering Violent Extremism in South East Europe",
    "acronym": "NFP Group",
    "coordinator_id": "rcc"
}))]
pub struct NetworkInput {
    /// The full name, one line of at most 300 characters.
    #[schema(example = "IISG Board")]
    pub name: String,
    /// Unique among networks: lowercase letters and digits in groups joined by single hyphens,
    /// at most 100 characters. Generated from the acronym (else the name) when absent. Any
    /// `{id}` in a path accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "iisg-board")]
    pub slug: Option<String>,
    /// The short name, at most 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "RNNC")]
    pub acronym: Option<String>,
    /// Free text (line breaks allowed), at most 20000 characters; searched by `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The day it was established (`YYYY-MM-DD`), if known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub established_on: Option<NaiveDate>,
    /// The organisation that coordinates it (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "rcc")]
    pub coordinator_id: Option<String>,
    /// The organisations that support it (ids or slugs); each must exist. A write replaces the
    /// whole list.
    #[serde(default)]
    #[schema(example = json!(["european-union"]))]
    pub supporter_ids: Vec<String>,
    /// Its web site: an absolute `http` or `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub website: Option<String>,
    /// How often it intends to meet; absent (or `null`) when it has not said. Its meetings
    /// are then checked against it: see `overdue` on the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cadence: Option<Cadence>,
}

/// How often a network intends to meet: at most `every_months` months from one meeting to the
/// next ("twice a year" is 6), and the intention in its own words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"every_months": 6, "note": "twice per year or more often"}))]
pub struct Cadence {
    /// The longest the network means to go from one meeting to the next, in whole months, 1
    /// to 120. A meeting is due this many months after the start of the last one held.
    #[schema(minimum = 1, maximum = 120, example = 6)]
    pub every_months: i32,
    /// The intention as the network states it, one line of at most 300 characters; `null`
    /// when not given.
    #[serde(default)]
    #[schema(example = "twice per year or more often")]
    pub note: Option<String>,
}

impl Cadence {
    /// The longest gap the registry accepts: ten years.
    pub const MAX_MONTHS: i32 = 120;

    fn validate(&self, errors: &mut Vec<FieldError>) -> Cadence {
        if !(1..=Self::MAX_MONTHS).contains(&self.every_months) {
            errors.push(FieldError::new(
                "cadence.every_months",
                format!(
                    "must be a whole number of months from 1 to {}",
                    Self::MAX_MONTHS
                ),
            ));
        }
        Cadence {
            every_months: self.every_months,
            note: text::optional_line("cadence.note", self.note.as_deref(), 300, errors),
        }
    }

    /// The day a meeting is due when the last one started on `last`: `every_months` later (the
    /// last day of the month when that month is shorter).
    pub fn due_after(&self, last: NaiveDate) -> Option<NaiveDate> {
        let months = u32::try_from(self.every_months).ok()?;
        last.checked_add_months(chrono::Months::new(months))
    }
}

#[derive(Debug, Clone)]
pub struct ValidNetwork {
    pub name: String,
    pub slug: Option<Slug>,
    pub acronym: Option<String>,
    pub description: Option<String>,
    pub established_on: Option<NaiveDate>,
    pub coordinator: Option<String>,
    pub supporters: Vec<String>,
    pub website: Option<String>,
    pub cadence: Option<Cadence>,
}

impl ValidNetwork {
    pub fn search_text(&self) -> String {
        let parts = [
            Some(self.name.as_str()),
            self.acronym.as_deref(),
            self.description.as_deref(),
        ];
        fold(
            &parts
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" \u{1f} "),
        )
    }
}

/// A dated membership of a network: exactly one of `person_id` and `organisation_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organisation_id": "austria",
    "role": "lead_partner",
    "country_code": "AT"
}))]
pub struct MembershipInput {
    /// The member, when a person (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "maciej-popowski")]
    pub person_id: Option<String>,
    /// The member, when an organisation (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "dcaf-ljubljana")]
    pub organisation_id: Option<String>,
    /// The member's part in the network.
    pub role: MembershipRole,
    /// The country the member represents: ISO 3166-1 alpha-2, any case (stored upper case);
    /// `XK` for Kosovo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "AT")]
    pub country_code: Option<String>,
    /// First day of the membership (`YYYY-MM-DD`), if known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub since: Option<NaiveDate>,
    /// Last day of the membership (`YYYY-MM-DD`, inclusive), not before `since`; absent while
    /// it lasts.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone)]
pub enum MemberRef {
    Person(String),
    Organisation(String),
}

#[derive(Debug, Clone)]
pub struct ValidMembership {
    pub member: MemberRef,
    pub role: MembershipRole,
    pub country_code: Option<CountryCode>,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

fn slug(value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<Slug> {
    value.and_then(|s| match Slug::parse(s) {
        Ok(slug) => Some(slug),
        Err(e) => {
            errors.push(FieldError::new("slug", e));
            None
        }
    })
}

pub fn country(
    field: &str,
    value: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<CountryCode> {
    value
        .filter(|c| !c.trim().is_empty())
        .and_then(|c| match CountryCode::parse(c) {
            Ok(code) => Some(code),
            Err(e) => {
                errors.push(FieldError::new(field, e));
                None
            }
        })
}

pub fn reference(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let key = value?.trim();
    if key.is_empty() || key.len() > 100 {
        errors.push(FieldError::new(field, "must be an id or a slug"));
    }
    Some(key.to_owned())
}

fn website(value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    value
        .filter(|w| !w.trim().is_empty())
        .map(|w| text::url("website", w, errors))
}

fn finish<T>(value: T, errors: Vec<FieldError>) -> Result<T, Vec<FieldError>> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

impl OrganisationInput {
    pub fn validate(self) -> Result<ValidOrganisation, Vec<FieldError>> {
        let mut errors = Vec::new();
        let valid = ValidOrganisation {
            name: text::required_line("name", &self.name, 300, &mut errors),
            slug: slug(self.slug.as_deref(), &mut errors),
            acronym: text::optional_line("acronym", self.acronym.as_deref(), 50, &mut errors),
            kind: self.kind,
            country_code: country("country_code", self.country_code.as_deref(), &mut errors),
            parent: reference("parent_id", self.parent_id.as_deref(), &mut errors),
            website: website(self.website.as_deref(), &mut errors),
            description: text::optional_block(
                "description",
                self.description.as_deref(),
                20_000,
                &mut errors,
            ),
        };
        finish(valid, errors)
    }
}

impl PersonInput {
    pub fn validate(self) -> Result<ValidPerson, Vec<FieldError>> {
        let mut errors = Vec::new();
        let email = text::optional_email("email", self.email.as_deref(), &mut errors);
        let phone = text::optional_line("phone", self.phone.as_deref(), 50, &mut errors);
        if let Some(phone) = &phone
            && !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()./".contains(c))
        {
            errors.push(FieldError::new(
                "phone",
                "may hold only digits, spaces and + - ( ) . /",
            ));
        }
        let valid = ValidPerson {
            full_name: text::required_line("full_name", &self.full_name, 200, &mut errors),
            slug: slug(self.slug.as_deref(), &mut errors),
            honorific: text::optional_line("honorific", self.honorific.as_deref(), 50, &mut errors),
            position: text::optional_line("position", self.position.as_deref(), 300, &mut errors),
            organisation: reference(
                "organisation_id",
                self.organisation_id.as_deref(),
                &mut errors,
            ),
            email,
            phone,
        };
        finish(valid, errors)
    }
}

impl NetworkInput {
    pub fn validate(self) -> Result<ValidNetwork, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.supporter_ids.len() > 100 {
            errors.push(FieldError::new(
                "supporter_ids",
                "must have at most 100 items",
            ));
        }
        let mut supporters: Vec<String> = Vec::new();
        for (i, key) in self.supporter_ids.iter().enumerate() {
            let field = format!("supporter_ids[{i}]");
            if let Some(key) = reference(&field, Some(key), &mut errors) {
                if supporters.contains(&key) {
                    errors.push(FieldError::new(field, "is listed twice"));
                }
                supporters.push(key);
            }
        }
        let valid = ValidNetwork {
            name: text::required_line("name", &self.name, 300, &mut errors),
            slug: slug(self.slug.as_deref(), &mut errors),
            acronym: text::optional_line("acronym", self.acronym.as_deref(), 50, &mut errors),
            description: text::optional_block(
                "description",
                self.description.as_deref(),
                20_000,
                &mut errors,
            ),
            established_on: self.established_on,
            coordinator: reference(
                "coordinator_id",
                self.coordinator_id.as_deref(),
                &mut errors,
            ),
            supporters,
            website: website(self.website.as_deref(), &mut errors),
            cadence: self.cadence.as_ref().map(|c| c.validate(&mut errors)),
        };
        finish(valid, errors)
    }
}

impl MembershipInput {
    pub fn validate(self) -> Result<ValidMembership, Vec<FieldError>> {
        let mut errors = Vec::new();
        let member = match (
            reference("person_id", self.person_id.as_deref(), &mut errors),
            reference(
                "organisation_id",
                self.organisation_id.as_deref(),
                &mut errors,
            ),
        ) {
            (Some(person), None) => Some(MemberRef::Person(person)),
            (None, Some(organisation)) => Some(MemberRef::Organisation(organisation)),
            _ => {
                errors.push(FieldError::new(
                    "person_id",
                    "exactly one of person_id and organisation_id is required",
                ));
                None
            }
        };
        if let (Some(since), Some(until)) = (self.since, self.until)
            && until < since
        {
            errors.push(FieldError::new(
                "until",
                format!("must not be before since ({since})"),
            ));
        }
        let country_code = country("country_code", self.country_code.as_deref(), &mut errors);
        match member {
            Some(member) if errors.is_empty() => Ok(ValidMembership {
                member,
                role: self.role,
                country_code,
                since: self.since,
                until: self.until,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_need_a_name_and_real_country() {
        let input: OrganisationInput = serde_json::from_value(serde_json::json!({
            "name": " ", "kind": "ngo", "country_code": "QQ", "website": "mailto:x@y.z"
        }))
        .expect("shape");
        let fields: Vec<String> = input
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "country_code", "website"]);
    }

    #[test]
    fn people_contact_fields_are_checked() {
        let input: PersonInput = serde_json::from_value(serde_json::json!({
            "full_name": "Anes Rizvo", "email": "not-an-email", "phone": "call me"
        }))
        .expect("shape");
        let fields: Vec<String> = input
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["email", "phone"]);
    }

    #[test]
    fn a_cadence_is_whole_months_and_a_short_note() {
        let input: NetworkInput = serde_json::from_value(serde_json::json!({
            "name": "WBCTi", "cadence": {"every_months": 0, "note": "x".repeat(301)}
        }))
        .expect("shape");
        let fields: Vec<String> = input
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["cadence.every_months", "cadence.note"]);
        let twice_a_year = Cadence {
            every_months: 6,
            note: None,
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a day");
        assert_eq!(
            twice_a_year.due_after(day(2017, 9, 14)),
            Some(day(2018, 3, 14))
        );
        assert_eq!(
            twice_a_year.due_after(day(2019, 8, 31)),
            Some(day(2020, 2, 29))
        );
    }

    #[test]
    fn memberships_name_exactly_one_member_and_ordered_dates() {
        let both: MembershipInput = serde_json::from_value(serde_json::json!({
            "person_id": "a", "organisation_id": "b", "role": "member"
        }))
        .expect("shape");
        assert!(both.validate().is_err());
        let backwards: MembershipInput = serde_json::from_value(serde_json::json!({
            "person_id": "a", "role": "member", "since": "2019-01-01", "until": "2018-01-01"
        }))
        .expect("shape");
        let fields: Vec<String> = backwards
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["until"]);
    }
}
