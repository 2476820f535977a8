//! iCalendar (RFC 5545) text, and nothing of the registry: content lines folded at 75 octets
//! on character boundaries, CRLF line ends, TEXT values and parameter values escaped, and
//! VTIMEZONE components computed from chrono-tz's copy of the tz database.
//!
//! Written here rather than with a crate: the `icalendar` crate keeps parameters in a
//! `HashMap` (so the same event could be written in two orders, and its ETag would differ
//! from process to process) and writes no VTIMEZONE. What a feed needs is small; the unit
//! tests below and `scripts/ical-check` (two independent parsers) hold it to the RFC.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

/// The longest content line, in octets, without its CRLF (RFC 5545 section 3.1).
const LINE_OCTETS: usize = 75;

/// An iCalendar object being written, line by line.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn begin(&mut self, component: &str) {
        self.raw("BEGIN", &[], component);
    }

    pub fn end(&mut self, component: &str) {
        self.raw("END", &[], component);
    }

    /// A property whose value is written as given: dates, numbers, URIs, UIDs, enumerations.
    /// Control characters (which no value type allows) are dropped.
    pub fn raw(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        let mut line = String::with_capacity(name.len() + value.len() + 16);
        line.push_str(name);
        for (key, param) in params {
            line.push(';');
            line.push_str(key);
            line.push('=');
            push_param_value(&mut line, param);
        }
        line.push(':');
        line.extend(value.chars().filter(|c| !c.is_control()));
        fold_into(&mut self.out, &line);
    }

    /// A property of type TEXT, escaped.
    pub fn text(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        self.raw(name, params, &escape_text(value));
    }

    /// A property holding a list of TEXT values (CATEGORIES), each escaped.
    pub fn texts(&mut self, name: &str, values: &[&str]) {
        let joined: Vec<String> = values.iter().map(|v| escape_text(v)).collect();
        self.raw(name, &[], &joined.join(","));
    }

    /// The object written so far.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes a TEXT value (RFC 5545 section 3.3.11): backslash, semicolon, comma and line
/// breaks; other control characters (not allowed in a value) are dropped.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            // TEXT allows tabs (WSP is among its safe characters).
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value: quoted when it holds `:`, `;` or `,`; a double quote (which no
/// parameter value may hold) becomes a single one, control characters are dropped.
fn push_param_value(line: &mut String, value: &str) {
    let clean: String = value
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' { '\'' } else { c })
        .collect();
    if clean.contains([':', ';', ',']) {
        line.push('"');
        line.push_str(&clean);
        line.push('"');
    } else {
        line.push_str(&clean);
    }
}

/// Appends `line` folded: at most 75 octets per physical line (a continuation's leading space
/// included), never inside a UTF-8 character, each ended by CRLF.
fn fold_into(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = LINE_OCTETS - 1;
    }
}

/// `YYYYMMDD`, a DATE value.
pub fn date(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// `YYYYMMDDTHHMMSS`, a local DATE-TIME value (with a TZID parameter, or floating).
pub fn local_date_time(at: NaiveDateTime) -> String {
    at.format("%Y%m%dT%H%M%S").to_string()
}

/// `YYYYMMDDTHHMMSSZ`, a UTC DATE-TIME value.
pub fn utc_date_time(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A UTC-OFFSET value: `+HHMM`, or `+HHMMSS` when the offset has seconds.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// What is in force in a zone at one instant: the UTC offset, whether it is daylight time,
/// and its abbreviation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observance {
    offset: i32,
    daylight: bool,
    name: Option<String>,
}

fn observance(zone: Tz, at: DateTime<Utc>) -> Observance {
    let offset = zone.offset_from_utc_datetime(&at.naive_utc());
    Observance {
        offset: offset.fix().local_minus_utc(),
        daylight: !offset.dst_offset().is_zero(),
        name: offset.abbreviation().map(str::to_owned),
    }
}

/// How far apart the instants probed for a change of observance are: no zone changes twice
/// within it.
const PROBE_STEP_HOURS: i64 = 6;

/// The instants, from `start` until `end`, at which `zone` changes its observance, each with
/// the observance it changes to; found by probing and bisecting to the second.
fn transitions(
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, Observance)> {
    let mut found = Vec::new();
    let mut at = start;
    let mut current = observance(zone, at);
    while at < end {
        let next = at + Duration::hours(PROBE_STEP_HOURS);
        let then = observance(zone, next);
        if then != current {
            // The change lies in (at, next]: bisect to the first second of the new observance.
            let (mut before, mut after) = (at, next);
            while after - before > Duration::seconds(1) {
                let middle = before + (after - before) / 2;
                if observance(zone, middle) == current {
                    before = middle;
                } else {
                    after = middle;
                }
            }
            found.push((after, observance(zone, after)));
        }
        current = then;
        at = next;
    }
    found
}

/// Writes a VTIMEZONE for `zone` covering `years`, inclusive ranges in ascending order: for
/// each range, the observance in force as it starts (from the December before, so a local
/// time early on 1 January is covered too), then each change until it ends. Only the years
/// asked for are computed, so a calendar of events centuries apart stays small.
pub fn vtimezone(w: &mut Writer, zone: Tz, years: &[(i32, i32)]) {
    w.begin("VTIMEZONE");
    w.raw("TZID", &[], zone.name());
    for &(first_year, last_year) in years {
        let start = NaiveDate::from_ymd_opt(first_year - 1, 12, 1)
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
            .unwrap_or(DateTime::UNIX_EPOCH);
        let end = NaiveDate::from_ymd_opt(last_year + 1, 1, 2)
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
            .unwrap_or(start);
        let first = observance(zone, start);
        write_observance(w, start, &first, &first);
        let mut previous = first;
        for (at, next) in transitions(zone, start, end) {
            write_observance(w, at, &previous, &next);
            previous = next;
        }
    }
    w.end("VTIMEZONE");
}

/// One STANDARD or DAYLIGHT component: `to` begins at `at`, whose local time is given in the
/// offset in force before it (`from`), as RFC 5545 section 3.6.5 asks.
fn write_observance(w: &mut Writer, at: DateTime<Utc>, from: &Observance, to: &Observance) {
    let component = if to.daylight { "DAYLIGHT" } else { "STANDARD" };
    let local = at.naive_utc() + Duration::seconds(i64::from(from.offset));
    w.begin(component);
    w.raw("DTSTART", &[], &local_date_time(local));
    w.raw("TZOFFSETFROM", &[], &utc_offset(from.offset));
    w.raw("TZOFFSETTO", &[], &utc_offset(to.offset));
    if let Some(name) = &to.name {
        w.text("TZNAME", &[], name);
    }
    w.end(component);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<&str> {
        text.split("\r\n").filter(|l| !l.is_empty()).collect()
    }

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape_text("a\\b;c,d\ne\r\nf\rg:h\u{7}"),
            "a\\\\b\\;c\\,d\\ne\\nf\\ng:h"
        );
        assert_eq!(escape_text("x\tTab"), "x\tTab");
    }

    #[test]
    fn long_lines_fold_at_75_octets_on_character_boundaries() {
        let mut w = Writer::new();
        let title = "Tiranë ".repeat(40) + "老虎😀";
        w.text("SUMMARY", &[], &title);
        let out = w.finish();
        assert!(out.ends_with("\r\n"));
        assert!(
            !out.replace("\r\n", "").contains(['\r', '\n']),
            "bare CR or LF"
        );
        for line in lines(&out) {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        assert!(lines(&out).len() > 4);
        assert!(lines(&out)[1..].iter().all(|l| l.starts_with(' ')));
        assert_eq!(unfold(&out), format!("SUMMARY:{title}\r\n"));
    }

    #[test]
    fn a_line_of_exactly_75_octets_is_not_folded() {
        let mut w = Writer::new();
        w.raw("X", &[], &"a".repeat(73));
        let out = w.finish();
        assert_eq!(lines(&out).len(), 1);
        let mut w = Writer::new();
        w.raw("X", &[], &"a".repeat(74));
        assert_eq!(lines(&w.finish()).len(), 2);
    }

    #[test]
    fn parameters_with_separators_are_quoted() {
        let mut w = Writer::new();
        w.raw(
            "ORGANIZER",
            &[("CN", "Regional Cooperation Council; \"RCC\", Sarajevo")],
            "https://example.org/o/1",
        );
        assert_eq!(
            unfold(&w.finish()),
            "ORGANIZER;CN=\"Regional Cooperation Council; 'RCC', Sarajevo\":https://example.org/o/1\r\n"
        );
    }

    #[test]
    fn categories_escape_each_value() {
        let mut w = Writer::new();
        w.texts("CATEGORIES", &["Network meeting", "p-cve, pve"]);
        assert_eq!(w.finish(), "CATEGORIES:Network meeting,p-cve\\, pve\r\n");
    }

    #[test]
    fn offsets_are_formatted() {
        assert_eq!(utc_offset(3600), "+0100");
        assert_eq!(utc_offset(-12600), "-0330");
        assert_eq!(utc_offset(0), "+0000");
        assert_eq!(utc_offset(4961), "+012241");
    }

    #[test]
    fn a_zone_with_daylight_time_lists_its_changes() {
        let mut w = Writer::new();
        vtimezone(&mut w, chrono_tz::Europe::Tirane, &[(2019, 2019)]);
        let out = w.finish();
        let text = unfold(&out);
        assert!(
            text.starts_with("BEGIN:VTIMEZONE\r\nTZID:Europe/Tirane\r\n"),
            "{text}"
        );
        // Summer time began on 31 March 2019 at 02:00 local (01:00 UTC) and ended on
        // 27 October at 03:00 local summer time.
        assert!(
            text.contains(
                "BEGIN:DAYLIGHT\r\nDTSTART:20190331T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "BEGIN:STANDARD\r\nDTSTART:20191027T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD"
            ),
            "{text}"
        );
        assert!(text.ends_with("END:VTIMEZONE\r\n"));
    }

    #[test]
    fn a_zone_without_changes_has_one_observance() {
        let mut w = Writer::new();
        vtimezone(&mut w, chrono_tz::Asia::Tokyo, &[(2019, 2020)]);
        let text = w.finish();
        assert_eq!(text.matches("BEGIN:STANDARD").count(), 1, "{text}");
        assert!(!text.contains("DAYLIGHT"), "{text}");
        assert!(text.contains("TZOFFSETTO:+0900"), "{text}");
    }
}
