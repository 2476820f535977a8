//! [`EventInput::validate`]: every rule that needs no database, in parts (the schedule, the
//! location, the references, the text). Each part pushes what it finds broken onto one list, and
//! the parts run in a fixed order, so errors come out in the order clients and tests read them:
//! title, slug, dates and times, time zone, location, network and series, parent, precedes, organisers,
//! participants, topics, links, description.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::enums::{
    AttendanceMode, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::text;
use crate::domain::time::{LocalTime, event_span, parse_time_zone};
use crate::domain::{CountryCode, Slug};
use crate::error::FieldError;

use super::{
    EARLIEST_YEAR, EventInput, LATEST_YEAR, Link, LocationInput, MAX_DESCRIPTION,
    MAX_DURATION_DAYS, MAX_LINKS, MAX_ORGANISERS, MAX_PARTICIPANTS, MAX_PRECEDES, MAX_TITLE,
    MAX_TOPICS, OrganiserInput, ParticipantInput, ParticipantRef, ValidEvent, ValidLocation,
};

impl EventInput {
    /// Checks every rule that needs no database and reports every broken one.
    pub fn validate(self) -> Result<ValidEvent, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text::required_line("title", &self.title, MAX_TITLE, &mut errors);
        let slug = slug(self.slug.as_deref(), &mut errors);
        let schedule = schedule(&self, &mut errors);
        let location = location(self.location.as_ref(), &mut errors);
        let references = references(&self, &mut errors);
        let topics = topics(&self.topics, &mut errors);
        let links = links(&self.links, &mut errors);
        let description = text::optional_block(
            "description",
            self.description.as_deref(),
            MAX_DESCRIPTION,
            &mut errors,
        );

        match (errors.is_empty(), schedule) {
            (true, Some(schedule)) => Ok(ValidEvent {
                slug,
                title,
                kind: self.kind,
                status: self.status.unwrap_or(EventStatus::Scheduled),
                start_date: schedule.start_date,
                end_date: schedule.end_date,
                start_time: self.start_time,
                end_time: self.end_time,
                timezone: schedule.timezone,
                starts_at: schedule.starts_at,
                ends_at: schedule.ends_at,
                location,
                attendance_mode: self.attendance_mode.unwrap_or(AttendanceMode::InPerson),
                network: references.network,
                series_number: self.series_number,
                parent_event: references.parent_event,
                programme: references.programme,
                precedes: references.precedes,
                organisers: references.organisers,
                participants: references.participants,
                topics,
                description,
                links,
                visibility: self.visibility.unwrap_or(Visibility::Public),
            }),
            _ => Err(errors),
        }
    }
}

fn slug(slug: Option<&str>, errors: &mut Vec<FieldError>) -> Option<Slug> {
    slug.and_then(|s| match Slug::parse(s) {
        Ok(slug) => Some(slug),
        Err(e) => {
            errors.push(FieldError::new("slug", e));
            None
        }
    })
}

/// When the event takes place: its dates, its time zone, and the UTC span they give; every
/// date and the span are `None` while the dates are not known.
struct Schedule {
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    timezone: Option<Tz>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
}

/// The statuses that may stand without dates: the dates are not confirmed, moved to dates not
/// yet known, or the event will not take place.
const UNDATED_STATUSES: [EventStatus; 3] = [
    EventStatus::Tentative,
    EventStatus::Postponed,
    EventStatus::Cancelled,
];

/// Checks the dates, the times and the time zone. The UTC span is computed only when nothing
/// is broken so far (the fields before included), so a broken date is reported once, not again
/// as a span that cannot be computed; `None` when anything here is broken.
fn schedule(input: &EventInput, errors: &mut Vec<FieldError>) -> Option<Schedule> {
    let Some(start_date) = input.start_date else {
        return undated(input, errors);
    };
    let end_date = input.end_date.unwrap_or(start_date);
    check_dates(start_date, end_date, errors);
    if input.end_time.is_some() && input.start_time.is_none() {
        errors.push(FieldError::new(
            "start_time",
            "is required when end_time is given",
        ));
    }
    let timezone = match input.timezone.as_deref().map(parse_time_zone) {
        Some(Ok(tz)) => tz,
        Some(Err(e)) => {
            errors.push(FieldError::new("timezone", e));
            return None;
        }
        None => {
            errors.push(FieldError::new(
                "timezone",
                "is required for an event with dates: the IANA time zone they are local \
                 to, e.g. Europe/Tirane",
            ));
            return None;
        }
    };
    if !errors.is_empty() {
        return None;
    }
    let (starts_at, ends_at) = span(
        timezone,
        (start_date, input.start_time),
        (end_date, input.end_time),
        errors,
    )?;
    Some(Schedule {
        start_date: Some(start_date),
        end_date: Some(end_date),
        timezone: Some(timezone),
        starts_at: Some(starts_at),
        ends_at: Some(ends_at),
    })
}

/// An event without a `start_date`: its status must say the dates are not known, and no other
/// date or time may be given. A time zone may be (the place can be known before the day).
fn undated(input: &EventInput, errors: &mut Vec<FieldError>) -> Option<Schedule> {
    let status = input.status.unwrap_or(EventStatus::Scheduled);
    if !UNDATED_STATUSES.contains(&status) {
        errors.push(FieldError::new(
            "start_date",
            format!(
                "is required for a {} event; leave it out only while the dates are not known, \
                 with status tentative, postponed or cancelled",
                status.as_str()
            ),
        ));
    }
    let given = [
        ("end_date", input.end_date.is_some()),
        ("start_time", input.start_time.is_some()),
        ("end_time", input.end_time.is_some()),
    ];
    for (field, _) in given.iter().filter(|(_, given)| *given) {
        errors.push(FieldError::new(*field, "needs start_date"));
    }
    let timezone = match input.timezone.as_deref().map(parse_time_zone) {
        Some(Ok(tz)) => Some(tz),
        Some(Err(e)) => {
            errors.push(FieldError::new("timezone", e));
            return None;
        }
        None => None,
    };
    Some(Schedule {
        start_date: None,
        end_date: None,
        timezone,
        starts_at: None,
        ends_at: None,
    })
}

/// The dates' own rules: each within the years the registry holds, the end neither too long
/// after the start nor before it.
fn check_dates(start_date: NaiveDate, end_date: NaiveDate, errors: &mut Vec<FieldError>) {
    check_date("start_date", start_date, errors);
    check_date("end_date", end_date, errors);
    if (end_date - start_date).num_days() > MAX_DURATION_DAYS {
        errors.push(FieldError::new(
            "end_date",
            format!(
                "must be at most {MAX_DURATION_DAYS} days after start_date (an event \
                 lasts at most that long)"
            ),
        ));
    }
    if end_date < start_date {
        errors.push(FieldError::new(
            "end_date",
            format!("must not be before start_date ({start_date})"),
        ));
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

/// The UTC instants of the local start and end in `tz`, or the error that they do not exist
/// there or end before they start.
fn span(
    tz: Tz,
    (start_date, start_time): (NaiveDate, Option<LocalTime>),
    (end_date, end_time): (NaiveDate, Option<LocalTime>),
    errors: &mut Vec<FieldError>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    match event_span(tz, start_date, start_time, end_date, end_time) {
        Ok((starts_at, ends_at)) if ends_at < starts_at => {
            errors.push(FieldError::new(
                "end_time",
                "the event must not end before it starts",
            ));
            None
        }
        Ok(span) => Some(span),
        Err((field, message)) => {
            errors.push(FieldError::new(field, message));
            None
        }
    }
}

/// The location's lines and country; an absent location is an empty one.
fn location(input: Option<&LocationInput>, errors: &mut Vec<FieldError>) -> ValidLocation {
    let empty = LocationInput::default();
    let location = input.unwrap_or(&empty);
    ValidLocation {
        venue: text::optional_line("location.venue", location.venue.as_deref(), 300, errors),
        city: text::optional_line("location.city", location.city.as_deref(), 200, errors),
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
        address: text::optional_line("location.address", location.address.as_deref(), 500, errors),
    }
}

/// The records an event refers to, as keys (id or slug) the store resolves.
struct References {
    network: Option<String>,
    parent_event: Option<String>,
    programme: Option<String>,
    precedes: Vec<String>,
    organisers: Vec<(String, OrganiserRole)>,
    participants: Vec<(ParticipantRef, ParticipantRole)>,
}

/// Checks the references' shape (the store checks that they exist) and the series number,
/// which needs a network.
fn references(input: &EventInput, errors: &mut Vec<FieldError>) -> References {
    let network = input
        .network_id
        .as_deref()
        .map(|key| reference("network_id", key, errors));
    if let Some(number) = input.series_number {
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
    let parent_event = input
        .parent_event_id
        .as_deref()
        .map(|key| reference("parent_event_id", key, errors));
    let programme = input
        .programme_id
        .as_deref()
        .map(|key| reference("programme_id", key, errors));
    References {
        network,
        parent_event,
        programme,
        precedes: precedes(&input.precedes, errors),
        organisers: organisers(&input.organisers, errors),
        participants: participants(&input.participants, errors),
    }
}

/// At most [`MAX_PRECEDES`] keys, each once (the store checks that they exist, that none is
/// the event itself under its other key, and the order).
fn precedes(input: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if input.len() > MAX_PRECEDES {
        errors.push(FieldError::new(
            "precedes",
            format!("must have at most {MAX_PRECEDES} items"),
        ));
    }
    let mut keys: Vec<String> = Vec::new();
    for (i, key) in input.iter().enumerate() {
        let field = format!("precedes[{i}]");
        let key = reference(&field, key, errors);
        if keys.contains(&key) {
            errors.push(FieldError::new(field, "is listed twice"));
        }
        keys.push(key);
    }
    keys
}

fn reference(field: &str, key: &str, errors: &mut Vec<FieldError>) -> String {
    let key = key.trim();
    if key.is_empty() || key.len() > 100 {
        errors.push(FieldError::new(field, "must be an id or a slug"));
    }
    key.to_owned()
}

/// At most [`MAX_ORGANISERS`], each organisation once per role.
fn organisers(
    input: &[OrganiserInput],
    errors: &mut Vec<FieldError>,
) -> Vec<(String, OrganiserRole)> {
    if input.len() > MAX_ORGANISERS {
        errors.push(FieldError::new(
            "organisers",
            format!("must have at most {MAX_ORGANISERS} items"),
        ));
    }
    let mut organisers: Vec<(String, OrganiserRole)> = Vec::new();
    for (i, organiser) in input.iter().enumerate() {
        let field = format!("organisers[{i}].organisation_id");
        let key = reference(&field, &organiser.organisation_id, errors);
        if organisers
            .iter()
            .any(|(k, r)| *k == key && *r == organiser.role)
        {
            errors.push(FieldError::new(field, "is listed twice with the same role"));
        }
        organisers.push((key, organiser.role));
    }
    organisers
}

/// At most [`MAX_PARTICIPANTS`], each naming exactly one person or organisation.
fn participants(
    input: &[ParticipantInput],
    errors: &mut Vec<FieldError>,
) -> Vec<(ParticipantRef, ParticipantRole)> {
    if input.len() > MAX_PARTICIPANTS {
        errors.push(FieldError::new(
            "participants",
            format!("must have at most {MAX_PARTICIPANTS} items"),
        ));
    }
    let mut participants = Vec::new();
    for (i, participant) in input.iter().enumerate() {
        let field = format!("participants[{i}]");
        let who = match (&participant.person_id, &participant.organisation_id) {
            (Some(person), None) => {
                ParticipantRef::Person(reference(&format!("{field}.person_id"), person, errors))
            }
            (None, Some(organisation)) => ParticipantRef::Organisation(reference(
                &format!("{field}.organisation_id"),
                organisation,
                errors,
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
    participants
}

/// At most [`MAX_TOPICS`], each one line of at most 100 characters.
fn topics(input: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if input.len() > MAX_TOPICS {
        errors.push(FieldError::new(
            "topics",
            format!("must have at most {MAX_TOPICS} items"),
        ));
    }
    input
        .iter()
        .enumerate()
        .map(|(i, topic)| text::required_line(&format!("topics[{i}]"), topic, 100, errors))
        .collect()
}

/// At most [`MAX_LINKS`], each with a one-line title and an `http(s)` URL.
fn links(input: &[Link], errors: &mut Vec<FieldError>) -> Vec<Link> {
    if input.len() > MAX_LINKS {
        errors.push(FieldError::new(
            "links",
            format!("must have at most {MAX_LINKS} items"),
        ));
    }
    input
        .iter()
        .enumerate()
        .map(|(i, link)| Link {
            title: text::required_line(&format!("links[{i}].title"), &link.title, 200, errors),
            url: text::url(&format!("links[{i}].url"), &link.url, errors),
        })
        .collect()
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
        let (starts_at, ends_at) = event.span().expect("dated");
        assert_eq!(event.status, EventStatus::Scheduled);
        assert_eq!(event.attendance_mode, AttendanceMode::InPerson);
        assert_eq!(
            event.location.country_code.map(|c| c.into_string()),
            Some("BA".into())
        );
        assert_eq!(starts_at.to_rfc3339(), "2019-10-21T22:00:00+00:00");
        assert_eq!(ends_at.to_rfc3339(), "2019-10-23T22:00:00+00:00");
    }

    #[test]
    fn dates_may_be_left_out_only_while_the_status_says_they_are_not_known() {
        let mut undated = input();
        undated.start_date = None;
        undated.end_date = None;
        undated.timezone = None;
        assert_eq!(fields(undated.clone().validate()), ["start_date"]);
        for status in [
            EventStatus::Tentative,
            EventStatus::Postponed,
            EventStatus::Cancelled,
        ] {
            undated.status = Some(status);
            let event = undated.clone().validate().expect("valid without dates");
            assert_eq!((event.start_date, event.span()), (None, None));
        }
        undated.timezone = Some("Europe/Brussels".into());
        assert_eq!(
            undated.clone().validate().expect("valid").timezone,
            Some(chrono_tz::Europe::Brussels)
        );
        undated.end_date = NaiveDate::from_ymd_opt(2019, 10, 1);
        undated.start_time = Some(LocalTime::parse("10:00").expect("time"));
        assert_eq!(fields(undated.validate()), ["end_date", "start_time"]);
    }

    #[test]
    fn a_dated_event_needs_its_time_zone() {
        let mut bad = input();
        bad.timezone = None;
        assert_eq!(fields(bad.validate()), ["timezone"]);
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_field() {
        let mut bad = input();
        bad.title = " ".into();
        bad.end_date = NaiveDate::from_ymd_opt(2019, 10, 1);
        bad.timezone = Some("Mars/Olympus".into());
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
    fn errors_keep_their_order_across_every_part() {
        let organiser = OrganiserInput {
            organisation_id: "x".into(),
            role: OrganiserRole::Host,
        };
        let mut bad = input();
        bad.title = String::new();
        bad.slug = Some("Not A Slug".into());
        bad.end_time = LocalTime::parse("10:00").ok();
        bad.timezone = Some("Nowhere/Else".into());
        bad.location = Some(LocationInput {
            venue: Some("a\u{7}b".into()),
            ..Default::default()
        });
        bad.network_id = Some(" ".into());
        bad.series_number = Some(0);
        bad.parent_event_id = Some(" ".into());
        bad.organisers = vec![organiser.clone(), organiser];
        bad.participants = vec![ParticipantInput {
            person_id: None,
            organisation_id: None,
            role: ParticipantRole::Chair,
        }];
        bad.topics = vec![" ".into()];
        bad.links = vec![Link {
            title: " ".into(),
            url: "https://example.org".into(),
        }];
        bad.description = Some("x".repeat(MAX_DESCRIPTION + 1));
        assert_eq!(
            fields(bad.validate()),
            [
                "title",
                "slug",
                "start_time",
                "timezone",
                "location.venue",
                "network_id",
                "series_number",
                "parent_event_id",
                "organisers[1].organisation_id",
                "participants[0]",
                "topics[0]",
                "links[0].title",
                "description"
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
