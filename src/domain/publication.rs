//! Publications as clients write them, and their validation: partial dates, DOIs, ISBNs (with
//! their check digit) and language tags.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Slug;
use crate::domain::enums::{PublicationKind, PublicationRole};
use crate::domain::organisation::reference;
use crate::domain::text::{self, fold};
use crate::error::FieldError;

/// The most authors, topics or event links one publication lists.
pub const MAX_ITEMS: usize = 100;

/// A report, study, terms of reference… Only its description and a link are kept, never the
/// file itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "slug": "a-waiting-game",
    "title": "A Waiting Game: Assessing and Responding to the Threat from Returning Foreign Fighters in the Western Balkans",
    "kind": "report",
    "date": "2017-11",
    "authors": [
        {"person_id": "vlado-azinovic", "affiliation_id": "university-of-sarajevo"},
        {"person_id": "edina-becirevic", "affiliation_id": "university-of-sarajevo"}
    ],
    "publisher_id": "rcc"
}))]
pub struct PublicationInput {
    /// The title, one line of at most 500 characters.
    #[schema(example = "New IISG Terms of Reference")]
    pub title: String,
    /// Unique among publications: lowercase letters and digits in groups joined by single
    /// hyphens, at most 100 characters. Generated from the title when absent. Any `{id}` in a
    /// path accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "iisg-tor")]
    pub slug: Option<String>,
    /// What kind of publication it is.
    pub kind: PublicationKind,
    /// When it was published, as precisely as known: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a
    /// report of "November 2017" is `2017-11`; no day is made up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "2017-11")]
    pub date: Option<String>,
    /// Its language: a BCP 47 tag such as `en`, `sr-Latn` or `sq` (stored as written, checked
    /// to be well-formed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The authors in the order the publication names them, each a person (id or slug) and
    /// optionally the organisation they wrote it as part of. At most 100; a write replaces
    /// the whole list.
    #[serde(default)]
    pub authors: Vec<AuthorInput>,
    /// The organisation that published it (id or slug); it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "rcc")]
    pub publisher_id: Option<String>,
    /// Where it can be read: an absolute `http` or `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri")]
    pub url: Option<String>,
    /// Its DOI, `10.` then a registrant code of 4 to 9 digits, `/` and a suffix
    /// (`10.1000/xyz123`); a `https://doi.org/` or `doi:` prefix is taken off. DOIs carry no
    /// check digit, so only their form is checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    /// Its ISBN-10 or ISBN-13, hyphens and spaces allowed, with a correct check digit; stored
    /// as digits only (and a final `X` for an ISBN-10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    /// What it is about, each one line of at most 100 characters; at most 100.
    #[serde(default)]
    #[schema(example = json!(["foreign-fighters"]))]
    pub topics: Vec<String>,
    /// The events it was presented at, endorsed or adopted by, or prepared for, each an event
    /// (id or slug) and the role. At most 100; a write replaces the whole list.
    #[serde(default)]
    pub events: Vec<EventLinkInput>,
    /// Free text (line breaks allowed), at most 20000 characters; searched by `q`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One author of a publication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"person_id": "vlado-azinovic", "affiliation_id": "university-of-sarajevo"}))]
pub struct AuthorInput {
    /// The author (id or slug); the person must exist.
    #[schema(example = "vlado-azinovic")]
    pub person_id: String,
    /// The organisation the author belonged to when writing it (id or slug), which may
    /// differ from the person's organisation today; it must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "university-of-sarajevo")]
    pub affiliation_id: Option<String>,
}

/// A publication's link to an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_id": "iisg-board-4", "role": "endorsed"}))]
pub struct EventLinkInput {
    /// The event (id or slug); it must exist.
    #[schema(example = "iisg-board-4")]
    pub event_id: String,
    /// What happened to the publication there.
    pub role: PublicationRole,
}

/// A date of the precision known: a year, a month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartialDate {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

impl PartialDate {
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real date, year 1000 to 9999.
    pub fn parse(text: &str) -> Result<Self, String> {
        const EXPECTED: &str = "must be YYYY, YYYY-MM or YYYY-MM-DD";
        let parts: Vec<&str> = text.split('-').collect();
        let number = |part: &str, digits: usize| {
            (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
        };
        let (year, month, day) = match parts.as_slice() {
            [y] => (number(y, 4), None, None),
            [y, m] => (number(y, 4), Some(number(m, 2)), None),
            [y, m, d] => (number(y, 4), Some(number(m, 2)), Some(number(d, 2))),
            _ => return Err(EXPECTED.to_owned()),
        };
        let year = year
            .filter(|y| *y >= 1000)
            .ok_or_else(|| EXPECTED.to_owned())?;
        let month = month.map(|m| m.ok_or_else(|| EXPECTED.to_owned()));
        let month = month.transpose()?;
        let day = day
            .map(|d| d.ok_or_else(|| EXPECTED.to_owned()))
            .transpose()?;
        let year = i32::try_from(year).map_err(|_| EXPECTED.to_owned())?;
        if let Some(m) = month
            && !(1..=12).contains(&m)
        {
            return Err(format!("{text:?} has no month {m}"));
        }
        if let (Some(m), Some(d)) = (month, day)
            && chrono::NaiveDate::from_ymd_opt(year, m, d).is_none()
        {
            return Err(format!("{text:?} is not a day of the calendar"));
        }
        Ok(Self { year, month, day })
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

/// A DOI in its bare form (`10.1000/xyz123`): a resolver URL or `doi:` prefix taken off.
pub fn parse_doi(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let bare = [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ]
    .iter()
    .find(|prefix| lower.starts_with(*prefix))
    .map_or(trimmed, |prefix| trimmed[prefix.len()..].trim_start());
    let well_formed = bare.split_once('/').is_some_and(|(prefix, suffix)| {
        prefix.strip_prefix("10.").is_some_and(|registrant| {
            let code = registrant.split('.').next().unwrap_or("");
            (4..=9).contains(&code.len())
                && registrant.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        }) && !suffix.is_empty()
            && !suffix.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    if !well_formed {
        return Err("is not a DOI (10.NNNN/suffix, e.g. 10.1000/xyz123)".to_owned());
    }
    if bare.chars().count() > 300 {
        return Err("must be at most 300 characters".to_owned());
    }
    Ok(bare.to_owned())
}

/// An ISBN-10 or ISBN-13 with a correct check digit, hyphens and spaces (and an `ISBN`
/// label) allowed; answered as its digits (an ISBN-10 may end in `X`).
pub fn parse_isbn(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let unlabelled = trimmed
        .strip_prefix("ISBN-13:")
        .or_else(|| trimmed.strip_prefix("ISBN-10:"))
        .or_else(|| trimmed.strip_prefix("ISBN:"))
        .or_else(|| trimmed.strip_prefix("ISBN"))
        .unwrap_or(trimmed);
    let mut symbols = Vec::new();
    for c in unlabelled.chars() {
        match c {
            '-' | ' ' => {}
            '0'..='9' => symbols.push(c.to_digit(10).unwrap_or(0)),
            'X' | 'x' => symbols.push(10),
            _ => return Err("may hold only digits, hyphens and spaces".to_owned()),
        }
    }
    let x_only_last = symbols
        .iter()
        .enumerate()
        .all(|(i, &s)| s < 10 || (symbols.len() == 10 && i == 9));
    if !x_only_last {
        return Err("may end in X only as an ISBN-10".to_owned());
    }
    let valid = match symbols.len() {
        10 => {
            let sum: u32 = symbols
                .iter()
                .zip((1..=10).rev())
                .map(|(s, weight)| s * weight)
                .sum();
            sum.is_multiple_of(11)
        }
        13 => {
            let sum: u32 = symbols
                .iter()
                .enumerate()
                .map(|(i, s)| if i % 2 == 0 { *s } else { s * 3 })
                .sum();
            sum.is_multiple_of(10)
        }
        n => return Err(format!("must have 10 or 13 digits (has {n})")),
    };
    if !valid {
        return Err("has a wrong check digit".to_owned());
    }
    Ok(symbols
        .iter()
        .map(|&s| {
            if s == 10 {
                'X'
            } else {
                char::from(b'0' + s as u8)
            }
        })
        .collect())
}

/// A well-formed BCP 47 language tag, at most 35 characters.
pub fn parse_language(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.len() > 35 {
        return Err("must be at most 35 characters".to_owned());
    }
    match language_tags::LanguageTag::parse(trimmed) {
        Ok(tag) if tag.primary_language().len() <= 3 => Ok(trimmed.to_owned()),
        _ => Err("is not a language tag (BCP 47, e.g. en, sr-Latn)".to_owned()),
    }
}

#[derive(Debug, Clone)]
pub struct ValidAuthor {
    pub person: String,
    pub affiliation: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ValidEventLink {
    pub event: String,
    pub role: PublicationRole,
}

#[derive(Debug, Clone)]
pub struct ValidPublication {
    pub title: String,
    pub slug: Option<Slug>,
    pub kind: PublicationKind,
    pub date: Option<PartialDate>,
    pub language: Option<String>,
    pub authors: Vec<ValidAuthor>,
    pub publisher: Option<String>,
    pub url: Option<String>,
    pub doi: Option<String>,
    pub isbn: Option<String>,
    pub topics: Vec<String>,
    pub events: Vec<ValidEventLink>,
    pub description: Option<String>,
}

impl ValidPublication {
    pub fn search_text(&self) -> String {
        let mut parts = vec![self.title.as_str()];
        parts.extend(self.topics.iter().map(String::as_str));
        parts.extend(self.description.as_deref());
        fold(&parts.join(" \u{1f} "))
    }
}

fn optional<T>(
    field: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let value = value.filter(|v| !v.trim().is_empty())?;
    match parse(value.trim()) {
        Ok(parsed) => Some(parsed),
        Err(message) => {
            errors.push(FieldError::new(field, message));
            None
        }
    }
}

fn too_many(field: &str, len: usize, errors: &mut Vec<FieldError>) {
    if len > MAX_ITEMS {
        errors.push(FieldError::new(
            field,
            format!("must have at most {MAX_ITEMS} items"),
        ));
    }
}

impl PublicationInput {
    pub fn validate(self) -> Result<ValidPublication, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = text::required_line("title", &self.title, 500, &mut errors);
        let slug = optional("slug", self.slug.as_deref(), Slug::parse, &mut errors);
        let date = optional(
            "date",
            self.date.as_deref(),
            PartialDate::parse,
            &mut errors,
        );
        let language = optional(
            "language",
            self.language.as_deref(),
            parse_language,
            &mut errors,
        );
        too_many("authors", self.authors.len(), &mut errors);
        let mut authors = Vec::new();
        for (i, author) in self.authors.iter().enumerate() {
            let person = reference(
                &format!("authors[{i}].person_id"),
                Some(&author.person_id),
                &mut errors,
            )
            .unwrap_or_default();
            let affiliation = reference(
                &format!("authors[{i}].affiliation_id"),
                author.affiliation_id.as_deref(),
                &mut errors,
            );
            if authors.iter().any(|a: &ValidAuthor| a.person == person) {
                errors.push(FieldError::new(
                    format!("authors[{i}].person_id"),
                    "is listed twice",
                ));
            }
            authors.push(ValidAuthor {
                person,
                affiliation,
            });
        }
        let publisher = reference("publisher_id", self.publisher_id.as_deref(), &mut errors);
        let url = self
            .url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .map(|u| text::url("url", u, &mut errors));
        let doi = optional("doi", self.doi.as_deref(), parse_doi, &mut errors);
        let isbn = optional("isbn", self.isbn.as_deref(), parse_isbn, &mut errors);
        too_many("topics", self.topics.len(), &mut errors);
        let mut topics: Vec<String> = Vec::new();
        for (i, topic) in self.topics.iter().enumerate() {
            let field = format!("topics[{i}]");
            let topic = text::required_line(&field, topic, 100, &mut errors);
            if topics.iter().any(|t| fold(t) == fold(&topic)) {
                errors.push(FieldError::new(field, "is listed twice"));
            }
            topics.push(topic);
        }
        too_many("events", self.events.len(), &mut errors);
        let mut events: Vec<ValidEventLink> = Vec::new();
        for (i, link) in self.events.iter().enumerate() {
            let field = format!("events[{i}].event_id");
            let event = reference(&field, Some(&link.event_id), &mut errors).unwrap_or_default();
            if events
                .iter()
                .any(|e| e.event == event && e.role == link.role)
            {
                errors.push(FieldError::new(field, "is listed twice with this role"));
            }
            events.push(ValidEventLink {
                event,
                role: link.role,
            });
        }
        let description = text::optional_block(
            "description",
            self.description.as_deref(),
            20_000,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidPublication {
            title,
            slug,
            kind: self.kind,
            date,
            language,
            authors,
            publisher,
            url,
            doi,
            isbn,
            topics,
            events,
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_the_precision_given() {
        assert_eq!(
            PartialDate::parse("2017-11").map(|d| d.to_string()),
            Ok("2017-11".into())
        );
        assert_eq!(
            PartialDate::parse("2017").map(|d| d.to_string()),
            Ok("2017".into())
        );
        assert_eq!(
            PartialDate::parse("2017-09-08").map(|d| d.to_string()),
            Ok("2017-09-08".into())
        );
        for bad in [
            "2017-13",
            "2017-02-30",
            "17-11",
            "2017-1",
            "November 2017",
            "",
            "2017-11-",
        ] {
            assert!(PartialDate::parse(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn isbns_need_their_check_digit() {
        assert_eq!(parse_isbn("978-0-306-40615-7"), Ok("9780306406157".into()));
        assert_eq!(parse_isbn("ISBN 0-306-40615-2"), Ok("0306406152".into()));
        assert_eq!(parse_isbn("0-8044-2957-x"), Ok("080442957X".into()));
        assert!(parse_isbn("978-0-306-40615-8").is_err());
        assert!(parse_isbn("0-306-40615-3").is_err());
        assert!(parse_isbn("978030640615X").is_err());
        assert!(parse_isbn("12345").is_err());
        assert!(parse_isbn("978-0-306-4O615-7").is_err());
    }

    #[test]
    fn dois_lose_their_resolver_prefix() {
        assert_eq!(
            parse_doi("https://doi.org/10.1000/xyz123"),
            Ok("10.1000/xyz123".into())
        );
        assert_eq!(parse_doi("doi:10.12345/ab.c"), Ok("10.12345/ab.c".into()));
        for bad in [
            "10.1/x",
            "11.1000/x",
            "10.1000/",
            "10.1000",
            "10.1000/a b",
            "x",
        ] {
            assert!(parse_doi(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn languages_are_bcp47_tags() {
        assert_eq!(parse_language("en"), Ok("en".into()));
        assert_eq!(parse_language("sr-Latn"), Ok("sr-Latn".into()));
        assert!(parse_language("english language").is_err());
        assert!(parse_language("e").is_err());
    }
}
