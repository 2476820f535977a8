//! What a list of events asks for: its filters and its order.

use chrono::NaiveDate;

use crate::db::Timestamp;
use crate::domain::enums::{EventKind, EventStatus};
use crate::store::pagination::DEFAULT_LIMIT;

use super::rows::PageKey;

/// How a list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventSort {
    #[default]
    Start,
    StartDescending,
    Updated,
}

impl EventSort {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "start" => Some(Self::Start),
            "-start" => Some(Self::StartDescending),
            "updated" => Some(Self::Updated),
            _ => None,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::StartDescending => "-start",
            Self::Updated => "updated",
        }
    }
}

/// The filters of `GET /events`, parsed. The default is the first page of every event by
/// start, of the default size: name the filters that differ and add `..Default::default()`.
#[derive(Debug, Clone)]
pub struct EventFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub kinds: Vec<EventKind>,
    pub statuses: Vec<EventStatus>,
    pub topic: Option<String>,
    pub q: Option<String>,
    pub updated_since: Option<Timestamp>,
    pub network: Option<String>,
    pub organisation: Option<String>,
    pub person: Option<String>,
    pub chain: Option<String>,
    pub programme: Option<String>,
    pub sort: EventSort,
    pub cursor: Option<String>,
    pub limit: i64,
}

impl Default for EventFilter {
    fn default() -> Self {
        Self {
            from: None,
            to: None,
            city: None,
            country: None,
            kinds: Vec::new(),
            statuses: Vec::new(),
            topic: None,
            q: None,
            updated_since: None,
            network: None,
            organisation: None,
            person: None,
            chain: None,
            programme: None,
            sort: EventSort::Start,
            cursor: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// Orders a page's keys as the list is ordered, drops repeats and keeps the first `want`.
pub(super) fn order_page(rows: &mut Vec<PageKey>, sort: EventSort, want: i64) {
    rows.sort_by_key(PageKey::key);
    rows.dedup_by_key(|row| row.id);
    if sort == EventSort::StartDescending {
        rows.reverse();
    }
    rows.truncate(usize::try_from(want).unwrap_or(usize::MAX));
}
