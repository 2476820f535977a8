//! ISO 3166-1 alpha-2 country codes, plus `XK` for Kosovo (a user-assigned code the EU and
//! the Western Balkans use).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountryCode(String);

impl CountryCode {
    /// Accepts any case (`al`, `AL`) and stores upper case.
    pub fn parse(value: &str) -> Result<Self, String> {
        let code = value.trim().to_ascii_uppercase();
        if code == "XK" || rust_iso3166::from_alpha2(&code).is_some() {
            Ok(Self(code))
        } else {
            Err(format!(
                "{value:?} is not an ISO 3166-1 alpha-2 country code"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_codes_and_kosovo() {
        for code in ["AL", "ba", "MK", "RS", "ME", "XK", "AT", "BE"] {
            assert!(CountryCode::parse(code).is_ok(), "{code} refused");
        }
        assert_eq!(
            CountryCode::parse("mk").map(|c| c.into_string()),
            Ok("MK".to_owned())
        );
    }

    #[test]
    fn refuses_unknown_codes() {
        for code in ["XX", "ZZ", "ALB", "", "A", "EU", "1A"] {
            assert!(CountryCode::parse(code).is_err(), "{code} accepted");
        }
    }
}
