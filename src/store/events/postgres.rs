//! PostgreSQL's side of the event list: the `q` condition, written so that PostgreSQL plans
//! it for its pattern, and the condition of the partial index of long events as PostgreSQL
//! spells it.

use diesel::expression::SqlLiteral;
use diesel::sql_types::Bool;

/// `events_long_idx`'s condition (see [`super::LongSpan`]).
pub(super) const LONG_SPAN: &str = "events.end_date - events.start_date > 14";

/// `events.search_text LIKE <pattern>`, with the pattern written into the statement rather
/// than bound.
///
/// Connections keep generic plans (`db::ConnectionManager`): a plan per statement, not per
/// run. But how many events a `q` pattern matches decides between the trigram index (a rare
/// term) and a walk in start order (a frequent one), and a plan made without the pattern
/// picks one of them for every pattern. Written into the statement, the pattern is planned
/// for; and a statement with literal SQL is never kept in diesel's statement cache, so each
/// pattern is sent unnamed, parsed, planned and run in one round trip.
pub(super) fn search_text_like(pattern: &str) -> SqlLiteral<Bool> {
    diesel::dsl::sql::<Bool>(&format!(
        "events.search_text LIKE {} ESCAPE '\\'",
        literal(pattern)
    ))
}

/// `text` as a PostgreSQL string constant, as libpq's `PQescapeLiteral` writes one: quotes
/// doubled and, when it holds a backslash, an `E''` constant with backslashes doubled, which
/// reads the same whatever `standard_conforming_strings` says. A NUL (which no PostgreSQL
/// text holds, and which `q` refuses as a control character) is left out.
fn literal(text: &str) -> String {
    let backslash = text.contains('\\');
    let mut out = String::with_capacity(text.len() + 4);
    if backslash {
        out.push('E');
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn a_pattern_is_written_as_a_constant_that_reads_back_as_itself() {
        assert_eq!(literal("%becirevic%"), "'%becirevic%'");
        assert_eq!(literal("%o'brien%"), "'%o''brien%'");
        assert_eq!(literal(r"%100\%%"), r"E'%100\\%%'");
        assert_eq!(
            literal("%x'); DROP TABLE events; --%"),
            "'%x''); DROP TABLE events; --%'"
        );
        assert_eq!(literal("a\0b"), "'ab'");
    }
}
