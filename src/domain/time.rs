//! Local wall-clock times (`HH:MM`) and the UTC instants derived from dates, times and zones.

use std::fmt;

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The one written form of an instant in every response: RFC 3339 in UTC with exactly six
/// fractional digits and `Z` (`2019-04-23T07:00:00.000000Z`), the precision both backends
/// store. A fixed width lets clients compare instants as text and keeps ETags stable.
pub fn rfc3339_micros(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The latest year a token or a feed key may name as its last day: the instants after it stay
/// within the four-digit years RFC 3339 and the stored form can write.
pub const LATEST_EXPIRY_YEAR: i32 = 2200;

/// When a credential that works through `day` (UTC) stops: the following midnight. The
/// error is the message for the field: a day after [`LATEST_EXPIRY_YEAR`] is refused (leave
/// the expiry out for a credential that does not expire).
pub fn expiry(day: NaiveDate) -> Result<DateTime<Utc>, String> {
    use chrono::Datelike;
    let too_far =
        || format!("must be on or before {LATEST_EXPIRY_YEAR}-12-31 (leave it out for no expiry)");
    if day.year() > LATEST_EXPIRY_YEAR {
        return Err(too_far());
    }
    end_of_day(day).ok_or_else(too_far)
}

/// The first instant after `day` (UTC): when something that lasts through `day` ends (a token
/// that works through its last day). `None` past the last date chrono knows.
pub fn end_of_day(day: NaiveDate) -> Option<DateTime<Utc>> {
    let next = day.succ_opt()?;
    Utc.from_local_datetime(&next.and_time(NaiveTime::MIN))
        .single()
}

/// `#[serde(with = "crate::domain::time::instant")]` on a `DateTime<Utc>` response field.
pub mod instant {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::rfc3339_micros(*value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(deserializer)
    }

    /// The same for an `Option<DateTime<Utc>>` field (`null` when absent).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            value: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(instant) => serializer.serialize_str(&super::super::rfc3339_micros(*instant)),
                None => serializer.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<DateTime<Utc>>::deserialize(deserializer)
        }
    }
}

/// A local time of day written `HH:MM` (24-hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    pub fn parse(text: &str) -> Result<Self, String> {
        let well_formed = text.len() == 5 && text.as_bytes()[2] == b':';
        match NaiveTime::parse_from_str(text, "%H:%M") {
            Ok(time) if well_formed => Ok(Self(time)),
            _ => Err(format!("{text:?} is not a time of day written HH:MM")),
        }
    }

    pub fn get(self) -> NaiveTime {
        self.0
    }
}

impl From<NaiveTime> for LocalTime {
    fn from(time: NaiveTime) -> Self {
        Self(time)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl Serialize for LocalTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor {
            expecting: "a time of day written HH:MM",
            parse: Self::parse,
        })
    }
}

/// Reads a string with `parse`; `expecting` is what a wrong type is told it must be, in the
/// words the API uses (serde would say "a string").
struct TextVisitor<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
}

impl<T> serde::de::Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(E::custom)
    }
}

impl utoipa::PartialSchema for LocalTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$"))
            .description(Some(
                "A local time of day, `HH:MM` (24-hour, `00:00` to `23:59`), in the event's \
                 `timezone`. A time a daylight-saving change skips is refused; a repeated one \
                 means its first occurrence.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for LocalTime {}

/// Reads a `YYYY-MM-DD` date with an error that says what a date must look like
/// (`2019-02-30` is "not a real date", not chrono's "input is out of range").
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !well_formed {
        return Err(format!("{text:?} is not a date written YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{text:?} is not a real date"))
}

/// serde adapters for dates with [`parse_date`]'s messages.
pub mod date_serde {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer};

    struct Date(NaiveDate);

    impl<'de> Deserialize<'de> for Date {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer
                .deserialize_str(super::TextVisitor {
                    expecting: "a date written YYYY-MM-DD",
                    parse: super::parse_date,
                })
                .map(Date)
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        Date::deserialize(deserializer).map(|date| date.0)
    }

    pub fn optional<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        Option::<Date>::deserialize(deserializer).map(|date| date.map(|d| d.0))
    }
}

/// A time zone of the tz database, by its IANA name.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("{name:?} is not an IANA time zone (e.g. Europe/Tirane)"))
}

/// The instant a local date and time names in `zone`. A time skipped by a daylight-saving
/// change does not exist and is refused; a repeated one means its first occurrence.
pub fn to_instant(zone: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "{} does not exist in {} (skipped by a daylight-saving change)",
            local.format("%Y-%m-%d %H:%M"),
            zone.name()
        )),
    }
}

/// Start and end of an event in UTC.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The UTC span of an event. A date-only start begins at local midnight; without an end time
/// the event runs to the end of its last local day (the following midnight).
pub fn event_span(
    zone: Tz,
    start_date: NaiveDate,
    start_time: Option<LocalTime>,
    end_date: NaiveDate,
    end_time: Option<LocalTime>,
) -> Result<Span, (&'static str, String)> {
    let starts_at = to_instant(
        zone,
        start_date.and_time(start_time.map(LocalTime::get).unwrap_or(NaiveTime::MIN)),
    )
    .map_err(|e| ("start_time", e))?;
    let ends_at = match end_time {
        Some(time) => to_instant(zone, end_date.and_time(time.get())),
        None => {
            let next_day = end_date
                .checked_add_days(Days::new(1))
                .ok_or_else(|| ("end_date", "is too far in the future".to_owned()))?;
            // Midnight can itself be skipped (e.g. America/Havana); then the day ends at the
            // first instant of the next day.
            to_instant(zone, next_day.and_time(NaiveTime::MIN))
                .or_else(|_| to_instant(zone, next_day.and_hms_opt(1, 0, 0).unwrap_or_default()))
        }
    }
    .map_err(|e| ("end_time", e))?;
    Ok((starts_at, ends_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn local_times_are_hh_mm() {
        assert_eq!(
            LocalTime::parse("09:30").map(|t| t.to_string()),
            Ok("09:30".into())
        );
        for bad in ["9:30", "24:00", "12:60", "12:00:00", "noon", ""] {
            assert!(LocalTime::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn dates_must_be_real_and_well_formed() {
        assert_eq!(parse_date("2019-04-24"), Ok(date(2019, 4, 24)));
        assert_eq!(
            parse_date("2019-02-30"),
            Err("\"2019-02-30\" is not a real date".into())
        );
        for bad in [
            "2019-4-24",
            "24.04.2019",
            "+02019-04-24",
            "2019-04-24T00:00",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn time_zones_come_from_the_tz_database() {
        assert!(parse_time_zone("Europe/Tirane").is_ok());
        assert!(parse_time_zone("Europe/Atlantis").is_err());
        assert!(parse_time_zone("").is_err());
    }

    #[test]
    fn date_only_events_span_their_local_days() {
        let tz = parse_time_zone("Europe/Sarajevo").unwrap_or(Tz::UTC);
        let (start, end) =
            event_span(tz, date(2019, 10, 22), None, date(2019, 10, 23), None).unwrap_or_default();
        assert_eq!(start.to_rfc3339(), "2019-10-21T22:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2019-10-23T22:00:00+00:00");
    }

    #[test]
    fn times_are_read_in_the_events_zone() {
        let tz = parse_time_zone("Europe/Skopje").unwrap_or(Tz::UTC);
        let at = |h, m| LocalTime::parse(&format!("{h:02}:{m:02}")).ok();
        let (start, end) = event_span(
            tz,
            date(2019, 11, 18),
            at(14, 0),
            date(2019, 11, 18),
            at(18, 0),
        )
        .unwrap_or_default();
        assert_eq!(start.to_rfc3339(), "2019-11-18T13:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2019-11-18T17:00:00+00:00");
    }

    #[test]
    fn skipped_local_times_are_refused() {
        let tz = parse_time_zone("Europe/Vienna").unwrap_or(Tz::UTC);
        let skipped = LocalTime::parse("02:30").ok();
        let result = event_span(tz, date(2019, 3, 31), skipped, date(2019, 3, 31), None);
        assert!(matches!(result, Err(("start_time", _))));
    }
}
