//! Slugs: the readable, unique key every top-level record has besides its id.

use std::fmt;

use crate::domain::text::fold;

const MAX_LENGTH: usize = 100;

/// `[a-z0-9]+(-[a-z0-9]+)*`, at most 100 characters, and never shaped like a UUID (a path
/// segment that parses as a UUID is always taken as an id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if value.len() > MAX_LENGTH {
            return Err(format!("must be at most {MAX_LENGTH} characters"));
        }
        let well_formed = value.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !well_formed {
            return Err(
                "must be lowercase letters and digits in groups joined by single hyphens ([a-z0-9-])"
                    .to_owned(),
            );
        }
        if uuid::Uuid::parse_str(value).is_ok() {
            return Err("must not be a UUID".to_owned());
        }
        Ok(Self(value.to_owned()))
    }

    /// A slug made from a name or title: `4th IISG Board Meeting` → `4th-iisg-board-meeting`.
    pub fn from_title(title: &str) -> Self {
        let folded = fold(title);
        let mut slug = String::with_capacity(folded.len());
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug = slug.trim_end_matches('-').to_owned();
        if slug.len() > 80 {
            slug.truncate(80);
            slug = slug.trim_end_matches('-').to_owned();
        }
        if slug.is_empty() {
            slug.push_str("untitled");
        }
        if uuid::Uuid::parse_str(&slug).is_ok() {
            // A title written like a UUID: its slug would be taken for an id, and name
            // another record, so it gets a suffix no generated one has (they count from 2).
            slug.push_str("-1");
        }
        Self(slug)
    }

    /// The next candidate when this slug is taken: `x` → `x-2` → `x-3`.
    pub fn with_suffix(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_slugs() {
        assert!(Slug::parse("rnnc-3").is_ok());
        assert!(Slug::parse("2019").is_ok());
    }

    #[test]
    fn refuses_malformed_slugs() {
        for bad in ["", "RNNC", "a--b", "-a", "a-", "a b", "tiranë", "a_b"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Slug::parse(&"a".repeat(101)).is_err());
        assert!(Slug::parse("01936f6e-6c2a-7cc1-9a51-3f4b1c2d9e10").is_err());
    }

    #[test]
    fn generates_from_titles() {
        assert_eq!(
            Slug::from_title("4th IISG Board Meeting").as_str(),
            "4th-iisg-board-meeting"
        );
        assert_eq!(
            Slug::from_title("Conférence régionale — Tiranë, 2019!").as_str(),
            "conference-regionale-tirane-2019"
        );
        assert_eq!(Slug::from_title("???").as_str(), "untitled");
        assert!(Slug::parse(Slug::from_title(&"word ".repeat(50)).as_str()).is_ok());
    }
}
