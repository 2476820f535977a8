//! An event as clients write it: the body of `POST`, the result of a `PATCH` merge, and
//! import.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::time::{LocalTime, date_serde};

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
/// References (`network_id`, `parent_event_id`, `programme_id`, `precedes`, organisers,
/// participants) take an id or a slug.
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
    /// 2200. Absent or `null` only while the dates are not known, which `status` must then say
    /// (`tentative`, `postponed` or `cancelled`); `end_date`, `start_time` and `end_time` are
    /// then absent too.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "date_serde::optional"
    )]
    #[schema(example = "2019-11-18")]
    pub start_date: Option<NaiveDate>,
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
    /// The IANA time zone the dates and times are local to, e.g. `Europe/Skopje`. Required
    /// with `start_date`; may be absent while the dates are not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "Europe/Skopje")]
    pub timezone: Option<String>,
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
    /// The programme, action, project or plan the event is implemented under (id or slug); it
    /// must exist. An event outside the programme's period is not refused: the response lists
    /// it in `warnings` (`outside_programme_period`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "radicalisation-in-prisons-wb")]
    pub programme_id: Option<String>,
    /// The events this one comes before and leads into (ids or slugs; at most 50, each once,
    /// never the event itself), e.g. a Board meeting held ahead of a ministerial session. An
    /// event that precedes another does not start after it (409 `precedes_order`, checked when
    /// both have dates) and the relation has no cycles (409 `precedes_cycle`). The other
    /// event shows the relation as `preceded_by`.
    #[serde(default)]
    #[schema(example = json!(["eu-wb-jha-ministerial-forum-2019-home-affairs"]))]
    pub precedes: Vec<String>,
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
