//! `q`: how the text is matched, and the walk of SQLite's text index in start order (the
//! index itself is [`super::sqlite`]'s).

use crate::db::AnyConnection;
use crate::error::ApiError;

use super::filter::order_page;
use super::query::Planner;
use super::rows::PageKey;
use super::sqlite::{self, KeyRange};
use super::window::{Span, span_end, span_start};

/// The most text-index matches read in one step of a walk.
const TEXT_BATCH_MAX: i64 = 4096;

/// A span's rows whose text matches `phrase`: matches come from the text index in start
/// order, a batch at a time; each batch is checked against the other filters, until a page
/// is full.
pub(super) fn walk_text_index(
    conn: &mut AnyConnection,
    planner: &Planner<'_>,
    span: Span,
    phrase: &str,
) -> Result<Vec<PageKey>, ApiError> {
    let (sort, want) = (planner.sort(), planner.want);
    let cursor_at = planner.page.cursor.map(|(key, _)| key);
    let filter = planner.page.filter;
    let mut range = KeyRange::of(
        filter.from.map(|from| span_start(from, span)),
        filter.to.map(span_end),
        cursor_at,
        filter.sort,
    );
    // A little more than a page, so that the matches the other filters leave out (internal
    // events, for the public) seldom cost a second round.
    let mut batch = want + want / 4 + 4;
    let mut found: Vec<PageKey> = Vec::new();
    let mut last_round = false;
    loop {
        let keys = range.next_matches(conn, phrase, sort, batch)?;
        let Some(&last) = keys.last() else { break };
        let query = sqlite::with_search_key_in(planner.filtered(span, None), &keys)?;
        found.extend(planner.load(conn, query)?);
        order_page(&mut found, sort, want);
        if last_round || range.is_empty() {
            break;
        }
        if found.len() as i64 >= want {
            // A page that ends a second or more before the last match's second is settled:
            // every match still unread starts after it.
            if let Some(page_last) = found.last()
                && sqlite::settled_before(page_last.at, last, sort)
            {
                break;
            }
            // Events of the second the last match starts in may still come before the
            // page's last one (keys order seconds, not ids): read them all, then stop.
            range.end_with_second_of(last, sort);
            batch = i64::MAX;
            last_round = true;
        } else {
            batch = (batch * 2).min(TEXT_BATCH_MAX);
        }
    }
    Ok(found)
}
