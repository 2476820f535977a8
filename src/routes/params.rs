//! Query-string parameters: parsed here so every error names its parameter (400).

use chrono::NaiveDate;

use crate::domain::CountryCode;
use crate::error::ApiError;

/// The longest free-text parameter accepted.
pub const MAX_QUERY_TEXT: usize = 200;

/// Free text, trimmed; empty means absent.
pub fn text(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_QUERY_TEXT => Err(ApiError::bad_parameter(
            name,
            format!("must be at most {MAX_QUERY_TEXT} characters"),
        )),
        Some(v) if v.chars().any(char::is_control) => Err(ApiError::bad_parameter(
            name,
            "must not contain control characters",
        )),
        // The query decoder puts U+FFFD where percent-escapes were not UTF-8 (`%FF`).
        Some(v) if v.contains(char::REPLACEMENT_CHARACTER) => Err(ApiError::bad_parameter(
            name,
            "is not UTF-8 once percent-decoded (write Ë as %C3%8B)",
        )),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => Ok(Some(v.trim().to_owned())),
        None => Ok(None),
    }
}

pub fn date(name: &str, value: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .map(|v| crate::domain::time::parse_date(&v).map_err(|e| ApiError::bad_parameter(name, e)))
        .transpose()
}

pub fn country(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    value
        .map(|c| {
            CountryCode::parse(&c)
                .map(CountryCode::into_string)
                .map_err(|e| ApiError::bad_parameter(name, e))
        })
        .transpose()
}

/// One value or several, comma-separated.
pub fn list<T: Copy>(
    name: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
    expected: String,
) -> Result<Vec<T>, ApiError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .take(20)
        .map(|v| {
            parse(v)
                .ok_or_else(|| ApiError::bad_parameter(name, format!("{v:?} is not {expected}")))
        })
        .collect()
}

/// One value of a closed vocabulary.
pub fn one<T: Copy>(
    name: &str,
    value: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
    expected: String,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            parse(&v)
                .ok_or_else(|| ApiError::bad_parameter(name, format!("{v:?} is not {expected}")))
        })
        .transpose()
}

/// `limit`, default 50, 1–200.
pub fn limit(value: Option<String>) -> Result<i64, ApiError> {
    let requested = value
        .map(|l| {
            l.parse::<i64>()
                .map_err(|_| ApiError::bad_parameter("limit", "must be a whole number"))
        })
        .transpose()?;
    crate::store::pagination::limit(requested)
}

/// `true` or `false`.
pub fn boolean(name: &str, value: Option<String>) -> Result<Option<bool>, ApiError> {
    value
        .map(|v| match v.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ApiError::bad_parameter(
                name,
                format!("{v:?} is not true or false"),
            )),
        })
        .transpose()
}
