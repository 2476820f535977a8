//! Chains of back-to-back events, and the rules a chain keeps.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Slug;
use crate::domain::organisation::reference;
use crate::domain::text::{self, fold};
use crate::error::{FieldError, RecordRef, RuleViolation};

pub const MAX_EVENTS: usize = 100;

/// A chain as clients write it: `event_ids` (ids or slugs) are placed in start order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "tirana-april-2019",
    "title": "Back-to-back P-CVE meetings, Tirana, April 2019",
    "max_gap_days": 1,
    "same_city": true,
    "event_ids": ["nfp-group-7", "rnnc-3", "iisg-national-pcve-coordination-albania-1"]
}))]
pub struct ChainInput {
    /// What the chain is, one line of at most 300 characters.
    #[schema(example = "Back-to-back P-CVE meetings, Tirana, April 2019")]
    pub title: String,
    /// Unique among chains: lowercase letters and digits in groups joined by single hyphens, at
    /// most 100 characters. Generated from the title when absent. Any `{id}` in a path accepts
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "tirana-april-2019")]
    pub slug: Option<String>,
    /// Free text (line breaks allowed), at most 20000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The longest gap allowed between one event's end and the next one's start, in whole days
    /// (24 hours, measured between the UTC instants), 0 to 31; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 31, example = 1)]
    pub max_gap_days: Option<i32>,
    /// Whether every event must be in the same city (compared case- and accent-insensitively);
    /// true when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = true)]
    pub same_city: Option<bool>,
    /// The chain's events (ids or slugs), in any order: the chain orders them by start. At most
    /// 100; each must exist and be in no other chain, and together they must keep the chain's
    /// rules (no overlap, gaps, city), else 409. A write replaces the whole list.
    #[serde(default)]
    #[schema(example = json!(["nfp-group-7", "rnnc-3", "iisg-national-pcve-coordination-albania-1"]))]
    pub event_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ValidChain {
    pub title: String,
    pub slug: Option<Slug>,
    pub description: Option<String>,
    pub max_gap_days: i32,
    pub same_city: bool,
    pub events: Vec<String>,
}

impl ChainInput {
    pub fn validate(self) -> Result<ValidChain, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text::required_line("title", &self.title, 300, &mut errors);
        let slug = self.slug.as_deref().and_then(|s| match Slug::parse(s) {
            Ok(slug) => Some(slug),
            Err(e) => {
                errors.push(FieldError::new("slug", e));
                None
            }
        });
        let description = text::optional_block(
            "description",
            self.description.as_deref(),
            20_000,
            &mut errors,
        );
        let max_gap_days = self.max_gap_days.unwrap_or(1);
        if !(0..=31).contains(&max_gap_days) {
            errors.push(FieldError::new("max_gap_days", "must be between 0 and 31"));
        }
        if self.event_ids.len() > MAX_EVENTS {
            errors.push(FieldError::new(
                "event_ids",
                format!("must have at most {MAX_EVENTS} items"),
            ));
        }
        let mut events: Vec<String> = Vec::new();
        for (i, key) in self.event_ids.iter().enumerate() {
            let field = format!("event_ids[{i}]");
            if let Some(key) = reference(&field, Some(key), &mut errors) {
                if events.contains(&key) {
                    errors.push(FieldError::new(field, "is listed twice"));
                }
                events.push(key);
            }
        }
        if errors.is_empty() {
            Ok(ValidChain {
                title,
                slug,
                description,
                max_gap_days,
                same_city: self.same_city.unwrap_or(true),
                events,
            })
        } else {
            Err(errors)
        }
    }
}

/// What the rules need to know of a member event.
#[derive(Debug, Clone)]
pub struct ChainMember {
    pub id: String,
    pub slug: String,
    /// `None` (with `ends_at`) while the event's dates are not known.
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub city: Option<String>,
}

impl ChainMember {
    fn record(&self) -> RecordRef {
        RecordRef::new("event", &self.id, self.slug.as_str())
    }
}

/// Checks a chain's members (in any order) against its rules; every broken rule is reported
/// with the events involved.
pub fn check(
    chain: &str,
    max_gap_days: i32,
    same_city: bool,
    members: &[ChainMember],
) -> Vec<RuleViolation> {
    let mut violations = Vec::new();
    let undated: Vec<&ChainMember> = members.iter().filter(|m| m.starts_at.is_none()).collect();
    if !undated.is_empty() {
        violations.push(RuleViolation::new(
            "chain_dates_known",
            undated.iter().map(|m| m.record()).collect(),
            format!(
                "chain {chain:?} orders events by their dates, and {} not known yet",
                undated
                    .iter()
                    .map(|m| format!("the dates of {:?} are", m.slug))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>, &ChainMember)> = members
        .iter()
        .filter_map(|m| Some((m.starts_at?, m.ends_at?, m)))
        .collect();
    spans.sort_by(|a, b| (a.0, &a.2.id).cmp(&(b.0, &b.2.id)));
    let max_gap = Duration::days(i64::from(max_gap_days));
    for pair in spans.windows(2) {
        let ((_, before_ends, before), (after_starts, _, after)) = (pair[0], pair[1]);
        let records = vec![before.record(), after.record()];
        if after_starts < before_ends {
            violations.push(RuleViolation::new(
                "chain_no_overlap",
                records,
                format!(
                    "in chain {chain:?}, {:?} starts before {:?} ends",
                    after.slug, before.slug
                ),
            ));
        } else if after_starts - before_ends > max_gap {
            let gap = after_starts - before_ends;
            violations.push(RuleViolation::new(
                "chain_max_gap",
                records,
                format!(
                    "in chain {chain:?}, {:?} starts {} h after {:?} ends; the chain allows at most {max_gap_days} day(s)",
                    after.slug,
                    gap.num_hours(),
                    before.slug
                ),
            ));
        }
    }
    // The city is the earliest event's.
    let earliest = spans.first().map(|(_, _, m)| *m).or(members.first());
    if same_city && let Some(first) = earliest {
        let city = first.city.as_deref().map(fold);
        let elsewhere: Vec<&ChainMember> = members
            .iter()
            .filter(|m| m.city.as_deref().map(fold) != city)
            .collect();
        if !elsewhere.is_empty() {
            let mut records = vec![first.record()];
            records.extend(elsewhere.iter().map(|m| m.record()));
            violations.push(RuleViolation::new(
                "chain_same_city",
                records,
                format!(
                    "chain {chain:?} keeps to one city ({}), but {} {} elsewhere",
                    first.city.as_deref().unwrap_or("no city"),
                    elsewhere
                        .iter()
                        .map(|m| format!("{:?}", m.slug))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if elsewhere.len() == 1 { "is" } else { "are" }
                ),
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn member(id: &str, start: (u32, u32), end: (u32, u32), city: &str) -> ChainMember {
        let at = |(day, hour): (u32, u32)| {
            Utc.with_ymd_and_hms(2019, 4, day, hour, 0, 0)
                .single()
                .unwrap_or_default()
        };
        ChainMember {
            id: id.to_owned(),
            slug: id.to_owned(),
            starts_at: Some(at(start)),
            ends_at: Some(at(end)),
            city: Some(city.to_owned()),
        }
    }

    fn rules(violations: Vec<RuleViolation>) -> Vec<String> {
        violations.into_iter().map(|v| v.rule).collect()
    }

    #[test]
    fn back_to_back_days_in_one_city_pass() {
        let members = [
            member("nfp", (22, 22), (23, 22), "Tirana"),
            member("rnnc", (23, 22), (24, 22), "tirana"),
            member("coordination", (24, 22), (25, 22), "Tirana"),
        ];
        assert!(check("tirana", 1, true, &members).is_empty());
    }

    #[test]
    fn an_event_whose_dates_are_not_known_cannot_be_ordered_in_a_chain() {
        let mut undated = member("later", (25, 9), (25, 12), "Tirana");
        (undated.starts_at, undated.ends_at) = (None, None);
        let members = [member("a", (23, 9), (23, 18), "Tirana"), undated];
        let violations = check("c", 1, true, &members);
        assert_eq!(rules(violations.clone()), ["chain_dates_known"]);
        assert!(violations[0].detail.contains("\"later\""), "{violations:?}");
    }

    #[test]
    fn a_gap_is_measured_between_instants() {
        // Ends 18:00, next starts 09:00 the next day: 15 hours.
        let members = [
            member("a", (23, 9), (23, 18), "Tirana"),
            member("b", (24, 9), (24, 12), "Tirana"),
        ];
        assert!(check("c", 1, true, &members).is_empty());
        assert_eq!(rules(check("c", 0, true, &members)), ["chain_max_gap"]);
        let far = [
            member("a", (20, 9), (20, 18), "Tirana"),
            member("b", (23, 9), (23, 12), "Tirana"),
        ];
        assert_eq!(rules(check("c", 1, true, &far)), ["chain_max_gap"]);
    }

    #[test]
    fn overlaps_and_other_cities_are_violations() {
        let members = [
            member("a", (23, 9), (23, 18), "Tirana"),
            member("b", (23, 17), (23, 20), "Skopje"),
        ];
        assert_eq!(
            rules(check("c", 1, true, &members)),
            ["chain_no_overlap", "chain_same_city"]
        );
        assert_eq!(rules(check("c", 1, false, &members)), ["chain_no_overlap"]);
    }
}
