//! Text rules shared by every resource: trimming, length limits and search folding.

use crate::error::FieldError;

/// Folds text for search: accents removed (`Bećirević` → `becirevic`, `Tiranë` → `tirane`),
/// lower case, runs of white space collapsed. Done in Rust so both backends match alike.
pub fn fold(text: &str) -> String {
    // Split first: deunicode drops some white space (tabs) that separates words.
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| deunicode::deunicode(word).to_lowercase())
        .collect();
    words
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes `LIKE` wildcards in folded search text; pair with `ESCAPE '\'`.
pub fn like_pattern(folded: &str) -> String {
    let mut pattern = String::with_capacity(folded.len() + 2);
    pattern.push('%');
    for c in folded.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A required single-line text: trimmed, not empty, at most `max` characters, no control
/// characters.
pub fn required_line(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let trimmed = value.trim();
    if trimmed.chars().all(invisible) {
        errors.push(FieldError::new(field, "must not be empty"));
    } else {
        check_text(field, trimmed, max, false, errors);
    }
    trimmed.to_owned()
}

/// An optional single-line text; empty becomes absent.
pub fn optional_line(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let trimmed = value?.trim();
    if trimmed.chars().all(invisible) {
        return None;
    }
    check_text(field, trimmed, max, false, errors);
    Some(trimmed.to_owned())
}

/// Characters that show nothing and take no room, which `trim` keeps (they are not white
/// space): zero-width spaces and joiners, direction marks and controls, the word joiner and
/// invisible operators, the byte-order mark, the soft hyphen. A name of only these is blank.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// An optional multi-line text (descriptions); empty becomes absent.
pub fn optional_block(
    field: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let trimmed = value?.trim();
    if trimmed.is_empty() {
        return None;
    }
    check_text(field, trimmed, max, true, errors);
    Some(trimmed.to_owned())
}

/// A required multi-line text kept exactly as written (not trimmed): not blank, at most `max`
/// characters, no control characters but line breaks and tabs.
pub fn required_verbatim(
    field: &str,
    value: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    if value.trim().is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else {
        check_text(field, value, max, true, errors);
    }
    value.to_owned()
}

fn check_text(field: &str, value: &str, max: usize, multiline: bool, errors: &mut Vec<FieldError>) {
    let length = value.chars().count();
    if length > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters (got {length})"),
        ));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
}

/// An optional email address (`local@domain.tld`), one line of at most 254 characters; empty
/// becomes absent.
pub fn optional_email(
    field: &str,
    value: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let email = optional_line(field, value, 254, errors)?;
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace)
    });
    if !well_formed {
        errors.push(FieldError::new(field, "is not an email address"));
    }
    Some(email)
}

/// An absolute `http`/`https` URL.
pub fn url(field: &str, value: &str, errors: &mut Vec<FieldError>) -> String {
    let trimmed = value.trim();
    if trimmed.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
        return trimmed.to_owned();
    }
    if trimmed.chars().count() > 2000 {
        errors.push(FieldError::new(field, "must be at most 2000 characters"));
        return trimmed.to_owned();
    }
    match url::Url::parse(trimmed) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => {}
        Ok(_) => errors.push(FieldError::new(field, "must be an http or https URL")),
        Err(e) => errors.push(FieldError::new(field, format!("is not a URL: {e}"))),
    }
    trimmed.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_accents_and_case() {
        assert_eq!(fold("Bećirević"), "becirevic");
        assert_eq!(fold("  Tiranë\tALBANIA "), "tirane albania");
        assert_eq!(fold("Šćepanović Đurić"), "scepanovic duric");
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn lines_are_trimmed_and_limited() {
        let mut errors = Vec::new();
        assert_eq!(
            required_line("title", "  Board  ", 10, &mut errors),
            "Board"
        );
        assert!(errors.is_empty());
        required_line("title", "   ", 10, &mut errors);
        required_line("title", "eleven chars", 10, &mut errors);
        required_line("title", "a\u{0}b", 10, &mut errors);
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn urls_must_be_web_urls() {
        let mut errors = Vec::new();
        url("links[0].url", "https://www.rcc.int/", &mut errors);
        assert!(errors.is_empty());
        url("links[0].url", "javascript:alert(1)", &mut errors);
        url("links[0].url", "not a url", &mut errors);
        assert_eq!(errors.len(), 2);
    }
}
