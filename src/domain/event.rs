//! An event as clients write it, and the validation that turns it into a [`ValidEvent`].

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::text::{self, fold};
use crate::domain::time::{LocalTime, date_serde, event_span, parse_time_zone};
use crate::domain::{CountryCode, Slug};
use crate::error::FieldError;

pub const MAX_TITLE: usize = 300;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_TOPICS: usize = 50;
pub const MAX_LINKS: usize = 50;
pub const MAX_ORGANISERS: usize = 100;
pub const MAX_PARTICIPANTS: usize = 500;
/// The longest an event may last, in days. Bounding it keeps every "what overlaps these dates"
/// question an index range scan instead of a scan of all earlier events.
pub const MAX_DURATION_DAYS: i64 = 366;
pub const EARLIEST_YEAR: i32 = 1800;
pub const LATEST_YEAR: i32 = 2200;

/// Where an event takes place. Every field is optional; an empty string counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// The building or room, one line of at most 300 characters; two overlapping events at the
    /// same venue in the same city are reported as a conflict.
    #[serde(default)]
    #[schema(example = "EU House")]
    pub venue: Option<String>,
    /// The city as commonly written in English, at most 200 characters. Chains compare cities
    /// and the `city` filter matches them case- and accent-insensitively.
    #[serde(default)]
    #[schema(example = "Tirana")]
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 code, any case (stored upper case); `XK` for Kosovo.
    #[serde(default)]
    #[schema(example = "AL")]
    pub country_code: Option<String>,
    /// The street address, one line of at most 500 characters.
    #[serde(default)]
    pub address: Option<String>,
}

/// A link about an event: its page, an agenda, a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// What the link leads to, one line of at most 200 characters.
    pub title: String,
    /// An absolute `http` or `https` URL, at most 2000 characters.
    #[schema(format = "uri")]
    pub url: String,
}

/// An organisation's part in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganiserInput {
    /// The organisation's id or slug; it must exist.
    #[schema(example = "iisg-support-group")]
    pub organisation_id: String,
    /// Its part; one organisation may be listed once per role.
    pub role: OrganiserRole,
}

/// A person's or an organisation's part in an event: exactly one of `person_id` and
/// `organisation_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantInput {
    /// The person's id or slug, when a person takes part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "maciej-popowski")]
    pub person_id: Option<String>,
    /// The organisation's id or slug, when an organisation takes part as a whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "european-commission")]
    pub organisation_id: Option<String>,
    /// The part they play.
    pub role: ParticipantRole,
}

/// An event as written by clients (`POST`, the result of a `PATCH` merge, and import).
/// References (`network_id`, `parent_event_id`, organisers, participants) take an id or a slug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "4th IISG Board Meeting",
    "slug": "iisg-board-4",
    "kind": "board_meeting",
    "start_date": "2019-11-18",
    "timezone": "Europe/Skopje",
    "location": {"city": "Skopje", "country_code": "MK"},
    "network_id": "iisg-board",
    "series_number": 4,
    "organisers": [{"organisation_id": "iisg-support-group", "role": "organiser"}],
    "participants": [{"person_id": "maciej-popowski", "role": "chair"}],
    "topics": ["iisg"]
}))]
pub struct EventInput {
    /// The event's name, one line of at most 300 characters.
    #[schema(example = "4th IISG Board Meeting")]
    pub title: String,
    /// Unique among events: lowercase letters and digits in groups joined by single hyphens,
    /// at most 100 characters. Generated from the title when absent. Any `{id}` in a path
    /// accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "iisg-board-4")]
    pub slug: Option<String>,
    /// What kind of event this is.
    pub kind: EventKind,
    /// Where the event stands; `scheduled` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EventStatus>,
    /// The first day (`YYYY-MM-DD`), in the event's `timezone`; a real date between 1800 and
    /// 2200.
    #[schema(example = "2019-11-18")]
    #[serde(deserialize_with = "date_serde::required")]
    pub start_date: NaiveDate,
    /// The last day (`YYYY-MM-DD`), inclusive: a one-day event has `end_date` equal to
    /// `start_date`, its default. Not before `start_date`; an event lasts at most 366 days.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    #[schema(example = "2019-11-18")]
    pub end_date: Option<NaiveDate>,
    /// The local time the event starts on `start_date` (`HH:MM`, 24-hour, in `timezone`).
    /// Absent: it starts at local midnight (an all-day event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<LocalTime>,
    /// The local time the event ends on `end_date` (`HH:MM`, 24-hour, in `timezone`); needs
    /// `start_time`. Absent: it runs to the end of `end_date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<LocalTime>,
    /// The IANA time zone the dates and times are local to, e.g. `Europe/Skopje`.
    #[schema(example = "Europe/Skopje")]
    pub timezone: String,
    /// Where the event takes place; absent or `{}` when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationInput>,
    /// How people attend; `in_person` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attendance_mode: Option<AttendanceMode>,
    /// The network whose meeting this is (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "iisg-board")]
    pub network_id: Option<String>,
    /// The meeting's number in its network's series (`4` for the "4th meeting"), 1 to 100000;
    /// needs `network_id`. Unique within the network (409 `series_unique`) and rising with
    /// start dates (409 `series_order`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100000, example = 4)]
    pub series_number: Option<i32>,
    /// The event this one is a session of (id or slug), e.g. a session inside a forum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_event_id: Option<String>,
    /// The organisations that organise, host, fund or support it; at most 100.
    #[serde(default)]
    pub organisers: Vec<OrganiserInput>,
    /// The people and organisations taking part, with their parts; at most 500.
    #[serde(default)]
    pub participants: Vec<ParticipantInput>,
    /// Free keywords, at most 50 of at most 100 characters each; the `topic` filter matches
    /// them case- and accent-insensitively.
    #[serde(default)]
    #[schema(example = json!(["iisg", "terms-of-reference"]))]
    pub topics: Vec<String>,
    /// Free text (line breaks allowed), at most 20000 characters; searched by `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Links about the event (its page, an agenda, a report); at most 50.
    #[serde(default)]
    pub links: Vec<Link>,
    /// Who may see it; `public` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

/// A participant reference, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParticipantRef {
    Person(String),
    Organisation(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidLocation {
    pub venue: Option<String>,
    pub city: Option<String>,
    pub country_code: Option<CountryCode>,
    pub address: Option<String>,
}

/// An event that passed every rule that needs no database. References are still keys (id or
/// slug) that the store resolves.
#[derive(Debug, Clone)]
pub struct ValidEvent {
    pub slug: Option<Slug>,
    pub title: String,
    pub kind: EventKind,
    pub status: EventStatus,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub start_time: Option<LocalTime>,
    pub end_time: Option<LocalTime>,
    pub timezone: Tz,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub location: ValidLocation,
    pub attendance_mode: AttendanceMode,
    pub network: Option<String>,
    pub series_number: Option<i32>,
    pub parent_event: Option<String>,
    pub organisers: Vec<(String, OrganiserRole)>,
    pub participants: Vec<(ParticipantRef, ParticipantRole)>,
    pub topics: Vec<String>,
    pub description: Option<String>,
    pub links: Vec<Link>,
    pub visibility: Visibility,
}

impl ValidEvent {
    /// Folded text that `q` searches.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.title];
        parts.extend(self.location.venue.as_deref());
        parts.extend(self.location.city.as_deref());
        parts.extend(self.location.address.as_deref());
        parts.extend(self.topics.iter().map(String::as_str));
        parts.extend(self.description.as_deref());
        fold(&parts.join(" \u{1f} "))
    }

    pub fn city_key(&self) -> Option<String> {
        self.location.city.as_deref().map(fold)
    }

    /// Topics as the filter matches them: folded, without duplicates.
    pub fn topic_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.topics.iter().map(|t| fold(t)).collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

fn check_date(field: &str, date: NaiveDate, errors: &mut Vec<FieldError>) {
    if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&date.year()) {
        errors.push(FieldError::new(
            field,
            format!("must be between {EARLIEST_YEAR}-01-01 and {LATEST_YEAR}-12-31"),
        ));
    }
}

fn reference(field: &str, key: &str, errors: &mut Vec<FieldError>) -> String {
    let key = key.trim();
    if key.is_empty() || key.len() > 100 {
        errors.push(FieldError::new(field, "must be an id or a slug"));
    }
    key.to_owned()
}

impl EventInput {
    /// Checks every rule that needs no database and reports every broken one.
    pub fn validate(self) -> Result<ValidEvent, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text::required_line("title", &self.title, MAX_TITLE, &mut errors);
        let slug = self.slug.as_deref().and_then(|s| match Slug::parse(s) {
            Ok(slug) => Some(slug),
            Err(e) => {
                errors.push(FieldError::new("slug", e));
                None
            }
        });

        let end_date = self.end_date.unwrap_or(self.start_date);
        check_date("start_date", self.start_date, &mut errors);
        check_date("end_date", end_date, &mut errors);
        if (end_date - self.start_date).num_days() > MAX_DURATION_DAYS {
            errors.push(FieldError::new(
                "end_date",
                format!(
                    "must be at most {MAX_DURATION_DAYS} days after start_date (an event \
                     lasts at most that long)"
                ),
            ));
        }
        if end_date < self.start_date {
            errors.push(FieldError::new(
                "end_date",
                format!("must not be before start_date ({})", self.start_date),
            ));
        }
        if self.end_time.is_some() && self.start_time.is_none() {
            errors.push(FieldError::new(
                "start_time",
                "is required when end_time is given",
            ));
        }
        let timezone = match parse_time_zone(&self.timezone) {
            Ok(tz) => Some(tz),
            Err(e) => {
                errors.push(FieldError::new("timezone", e));
                None
            }
        };
        let mut span = None;
        if let Some(tz) = timezone
            && errors.is_empty()
        {
            match event_span(
                tz,
                self.start_date,
                self.start_time,
                end_date,
                self.end_time,
            ) {
                Ok((starts_at, ends_at)) if ends_at < starts_at => errors.push(FieldError::new(
                    "end_time",
                    "the event must not end before it starts",
                )),
                Ok((starts_at, ends_at)) => span = Some((starts_at, ends_at)),
                Err((field, message)) => errors.push(FieldError::new(field, message)),
            }
        }

        let location = self.location.unwrap_or_default();
        let location = ValidLocation {
            venue: text::optional_line(
                "location.venue",
                location.venue.as_deref(),
                300,
                &mut errors,
            ),
            city: text::optional_line("location.city", location.city.as_deref(), 200, &mut errors),
            country_code: location
                .country_code
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .and_then(|c| match CountryCode::parse(c) {
                    Ok(code) => Some(code),
                    Err(e) => {
                        errors.push(FieldError::new("location.country_code", e));
                        None
                    }
                }),
            address: text::optional_line(
                "location.address",
                location.address.as_deref(),
                500,
                &mut errors,
            ),
        };

        let network = self
            .network_id
            .as_deref()
            .map(|key| reference("network_id", key, &mut errors));
        if let Some(number) = self.series_number {
            if !(1..=100_000).contains(&number) {
                errors.push(FieldError::new(
                    "series_number",
                    "must be between 1 and 100000",
                ));
            }
            if network.is_none() {
                errors.push(FieldError::new("series_number", "needs network_id"));
            }
        }
        let parent_event = self
            .parent_event_id
            .as_deref()
            .map(|key| reference("parent_event_id", key, &mut errors));

        if self.organisers.len() > MAX_ORGANISERS {
            errors.push(FieldError::new(
                "organisers",
                format!("must have at most {MAX_ORGANISERS} items"),
            ));
        }
        let mut organisers: Vec<(String, OrganiserRole)> = Vec::new();
        for (i, organiser) in self.organisers.iter().enumerate() {
            let field = format!("organisers[{i}].organisation_id");
            let key = reference(&field, &organiser.organisation_id, &mut errors);
            if organisers
                .iter()
                .any(|(k, r)| *k == key && *r == organiser.role)
            {
                errors.push(FieldError::new(field, "is listed twice with the same role"));
            }
            organisers.push((key, organiser.role));
        }

        if self.participants.len() > MAX_PARTICIPANTS {
            errors.push(FieldError::new(
                "participants",
                format!("must have at most {MAX_PARTICIPANTS} items"),
            ));
        }
        let mut participants = Vec::new();
        for (i, participant) in self.participants.iter().enumerate() {
            let field = format!("participants[{i}]");
            let who = match (&participant.person_id, &participant.organisation_id) {
                (Some(person), None) => ParticipantRef::Person(reference(
                    &format!("{field}.person_id"),
                    person,
                    &mut errors,
                )),
                (None, Some(organisation)) => ParticipantRef::Organisation(reference(
                    &format!("{field}.organisation_id"),
                    organisation,
                    &mut errors,
                )),
                _ => {
                    errors.push(FieldError::new(
                        field,
                        "needs exactly one of person_id and organisation_id",
                    ));
                    continue;
                }
            };
            participants.push((who, participant.role));
        }

        if self.topics.len() > MAX_TOPICS {
            errors.push(FieldError::new(
                "topics",
                format!("must have at most {MAX_TOPICS} items"),
            ));
        }
        let topics = self
            .topics
            .iter()
            .enumerate()
            .map(|(i, topic)| text::required_line(&format!("topics[{i}]"), topic, 100, &mut errors))
            .collect();

        if self.links.len() > MAX_LINKS {
            errors.push(FieldError::new(
                "links",
                format!("must have at most {MAX_LINKS} items"),
            ));
        }
        let links = self
            .links
            .iter()
            .enumerate()
            .map(|(i, link)| Link {
                title: text::required_line(
                    &format!("links[{i}].title"),
                    &link.title,
                    200,
                    &mut errors,
                ),
                url: text::url(&format!("links[{i}].url"), &link.url, &mut errors),
            })
            .collect();
        let description = text::optional_block(
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION,
            &mut errors,
        );

        match (errors.is_empty(), timezone, span) {
            (true, Some(timezone), Some((starts_at, ends_at))) => Ok(ValidEvent {
                slug,
                title,
                kind: self.kind,
                status: self.status.unwrap_or(EventStatus::Scheduled),
                start_date: self.start_date,
                end_date,
                start_time: self.start_time,
                end_time: self.end_time,
                timezone,
                starts_at,
                ends_at,
                location,
                attendance_mode: self.attendance_mode.unwrap_or(AttendanceMode::InPerson),
                network,
                series_number: self.series_number,
                parent_event,
                organisers,
                participants,
                topics,
                description,
                links,
                visibility: self.visibility.unwrap_or(Visibility::Public),
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> EventInput {
        serde_json::from_value(serde_json::json!({
            "title": "Regional conference on radicalisation in prisons",
            "kind": "conference",
            "start_date": "2019-10-22",
            "end_date": "2019-10-23",
            "timezone": "Europe/Sarajevo",
            "location": {"city": "Sarajevo", "country_code": "ba"}
        }))
        .expect("valid input")
    }

    fn fields(result: Result<ValidEvent, Vec<FieldError>>) -> Vec<String> {
        match result {
            Ok(_) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.field).collect(),
        }
    }

    #[test]
    fn a_valid_event_gets_defaults_and_a_utc_span() {
        let event = input().validate().expect("valid");
        assert_eq!(event.status, EventStatus::Scheduled);
        assert_eq!(event.attendance_mode, AttendanceMode::InPerson);
        assert_eq!(
            event.location.country_code.map(|c| c.into_string()),
            Some("BA".into())
        );
        assert_eq!(event.starts_at.to_rfc3339(), "2019-10-21T22:00:00+00:00");
        assert_eq!(event.ends_at.to_rfc3339(), "2019-10-23T22:00:00+00:00");
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_field() {
        let mut bad = input();
        bad.title = " ".into();
        bad.end_date = NaiveDate::from_ymd_opt(2019, 10, 1);
        bad.timezone = "Mars/Olympus".into();
        bad.location = Some(LocationInput {
            country_code: Some("XX".into()),
            ..Default::default()
        });
        bad.links = vec![Link {
            title: "x".into(),
            url: "ftp://example.org".into(),
        }];
        bad.series_number = Some(3);
        assert_eq!(
            fields(bad.validate()),
            [
                "title",
                "end_date",
                "timezone",
                "location.country_code",
                "series_number",
                "links[0].url"
            ]
        );
    }

    #[test]
    fn end_time_before_start_time_on_the_same_day_is_refused() {
        let mut bad = input();
        bad.end_date = None;
        bad.start_time = LocalTime::parse("14:00").ok();
        bad.end_time = LocalTime::parse("09:00").ok();
        assert_eq!(fields(bad.validate()), ["end_time"]);
    }

    #[test]
    fn participants_name_exactly_one_party() {
        let mut bad = input();
        bad.participants = vec![ParticipantInput {
            person_id: Some("a".into()),
            organisation_id: Some("b".into()),
            role: ParticipantRole::Chair,
        }];
        assert_eq!(fields(bad.validate()), ["participants[0]"]);
    }

    #[test]
    fn search_text_is_folded() {
        let mut event = input();
        event.title = "Sastanak u Tiranë".into();
        event.description = Some("Chaired by Bećirević".into());
        let text = event
            .validate()
            .map(|e| e.search_text())
            .unwrap_or_default();
        assert!(
            text.contains("tirane") && text.contains("becirevic"),
            "{text}"
        );
    }
}
