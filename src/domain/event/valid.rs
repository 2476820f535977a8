//! An event that passed validation, with what the store derives from it for search.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::domain::enums::{
    AttendanceMode, EventKind, EventStatus, OrganiserRole, ParticipantRole, Visibility,
};
use crate::domain::text::fold;
use crate::domain::time::LocalTime;
use crate::domain::{CountryCode, Slug};

use super::Link;

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
    /// `None` (with `end_date`, the times and the span) while the dates are not known.
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub start_time: Option<LocalTime>,
    pub end_time: Option<LocalTime>,
    /// Always given with dates; may be given without.
    pub timezone: Option<Tz>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub location: ValidLocation,
    pub attendance_mode: AttendanceMode,
    pub network: Option<String>,
    pub series_number: Option<i32>,
    pub parent_event: Option<String>,
    pub programme: Option<String>,
    /// The events this one precedes, as keys in the order written.
    pub precedes: Vec<String>,
    pub organisers: Vec<(String, OrganiserRole)>,
    pub participants: Vec<(ParticipantRef, ParticipantRole)>,
    pub topics: Vec<String>,
    pub description: Option<String>,
    pub links: Vec<Link>,
    pub visibility: Visibility,
}

impl ValidEvent {
    /// When the event takes place, in UTC; `None` while its dates are not known.
    pub fn span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.starts_at.zip(self.ends_at)
    }

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
