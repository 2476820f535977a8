//! Representations: the JSON a record is answered with, assembled in one place for every route.
//! A record is serialised once and kept in the [cache](crate::cache) with its ETag; a page of
//! events is the cached bodies of its items, reused byte for byte; a write's response is the
//! record followed by its warnings, under the ETag of the record alone.

pub mod calendar;
pub mod linked_data;

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cache::{Entry, Representations};
use crate::db::{self, AnyConnection};
use crate::error::ApiError;
use crate::store::Viewer;
use crate::store::events::{self as event_store, EventFilter, EventResponse, Events, ListsKept};
use crate::store::resource::Resource;

/// A strong ETag over the exact representation.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..12]))
}

/// The ETag of a record's representation, for `If-Match` checks before a write.
pub fn etag_of_value(record: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_vec(record)
        .map(|body| etag_of(&body))
        .map_err(ApiError::internal)
}

/// A record's representation and its ETag.
pub fn of(record: &impl Serialize) -> Result<(String, String), ApiError> {
    written(record, &[] as &[crate::store::resource::NoWarning])
}

/// The response to a write of `record`: its representation with `warnings` as the last member
/// (left out when there are none), and the ETag of the representation alone, as a later `GET`
/// returns it.
pub fn written<W: Serialize>(
    record: &impl Serialize,
    warnings: &[W],
) -> Result<(String, String), ApiError> {
    let alone = serde_json::to_string(record).map_err(ApiError::internal)?;
    let etag = etag_of(alone.as_bytes());
    if warnings.is_empty() {
        return Ok((alone, etag));
    }
    let body =
        serde_json::to_string(&WithWarnings { record, warnings }).map_err(ApiError::internal)?;
    Ok((body, etag))
}

/// A record's members, then `warnings`. Serialising a flattened member writes its fields
/// straight into the outer object (only reading one back buffers), so the body is the record's
/// own with one member more.
#[derive(Serialize)]
struct WithWarnings<'a, T, W> {
    #[serde(flatten)]
    record: &'a T,
    warnings: &'a [W],
}

/// The representation of the record `key` names, from the cache while the registry has not
/// changed since it was built, else read and kept.
pub fn cached<R: Resource>(
    conn: &mut AnyConnection,
    cache: &Representations,
    key: &str,
    viewer: Viewer,
) -> Result<Arc<Entry>, ApiError> {
    cached_on::<R>(conn, cache, key, viewer, chrono::Utc::now().date_naive())
}

/// [`cached`] as read on `today`: a representation that changes with the day
/// ([`Resource::CHANGES_WITH_THE_DAY`]) is kept under the day as well, so it is built again
/// the first time it is read on a new day even when the registry has not changed.
pub fn cached_on<R: Resource>(
    conn: &mut AnyConnection,
    cache: &Representations,
    key: &str,
    viewer: Viewer,
    today: chrono::NaiveDate,
) -> Result<Arc<Entry>, ApiError> {
    let cache_key = cache_key::<R>(key, today);
    // The generation is read before the record: an entry is never older than its generation.
    let generation = db::generation(conn)?;
    if let Some(entry) = cache.get(R::NAME, &cache_key, viewer.sees_internal, generation) {
        return Ok(entry);
    }
    let record = R::get_on(conn, key, viewer, today)?;
    keep(cache, R::NAME, &cache_key, viewer, generation, &record)
}

/// The representation [`cached_on`] would answer, if it is in the cache at `generation` (the
/// one the process knows without asking, [`crate::db::Database::known_generation`]): a read
/// that needs no database connection at all.
pub fn cached_at<R: Resource>(
    cache: &Representations,
    key: &str,
    viewer: Viewer,
    today: chrono::NaiveDate,
    generation: i64,
) -> Option<Arc<Entry>> {
    cache.get(
        R::NAME,
        &cache_key::<R>(key, today),
        viewer.sees_internal,
        generation,
    )
}

/// A representation that changes with the day ([`Resource::CHANGES_WITH_THE_DAY`]) is kept
/// under the day as well, so it is built again the first time it is read on a new day.
fn cache_key<R: Resource>(key: &str, today: chrono::NaiveDate) -> std::borrow::Cow<'_, str> {
    if R::CHANGES_WITH_THE_DAY {
        std::borrow::Cow::Owned(format!("{key}@{today}"))
    } else {
        std::borrow::Cow::Borrowed(key)
    }
}

/// Serialises `record` and keeps it in the cache as read at `generation`.
pub fn keep(
    cache: &Representations,
    resource: &'static str,
    key: &str,
    viewer: Viewer,
    generation: i64,
    record: &impl Serialize,
) -> Result<Arc<Entry>, ApiError> {
    let (body, etag) = of(record)?;
    let entry = Entry {
        generation,
        body: body.into(),
        etag,
    };
    Ok(cache.insert(resource, key, viewer.sees_internal, entry))
}

/// One page of events, serialised as an [`EventPage`](event_store::EventPage): the rows come
/// from the database, each item's representation from the cache while it is current (the same
/// entry `GET /events/{id}` answers with), the others are read in one batch and kept.
pub fn event_page(
    conn: &mut AnyConnection,
    cache: &Representations,
    lists_kept: &ListsKept,
    filter: &EventFilter,
    viewer: Viewer,
) -> Result<(Vec<u8>, i64), ApiError> {
    let event_store::ListedRows {
        rows,
        next_cursor,
        generation,
    } = event_store::list_rows(conn, filter, viewer, Some(lists_kept))?;
    let keys: Vec<String> = rows.iter().map(|row| row.id.0.to_string()).collect();
    let mut items: Vec<Option<Arc<Entry>>> = keys
        .iter()
        .map(|key| cache.get(Events::NAME, key, viewer.sees_internal, generation))
        .collect();
    let missing: Vec<_> = rows
        .iter()
        .zip(&items)
        .filter(|(_, item)| item.is_none())
        .map(|(row, _)| row.id)
        .collect();
    if !missing.is_empty() {
        let rows = event_store::rows_by_id(conn, &missing)?;
        let mut fresh: HashMap<String, EventResponse> =
            event_store::load_details(conn, rows, viewer)?
                .into_iter()
                .map(|event| (event.id.0.to_string(), event))
                .collect();
        for (slot, key) in items.iter_mut().zip(&keys) {
            // An event deleted since the page's rows were read is left out.
            if slot.is_some() {
                continue;
            }
            let Some(record) = fresh.remove(key) else {
                continue;
            };
            *slot = Some(keep(cache, Events::NAME, key, viewer, generation, &record)?);
        }
    }
    let items: Vec<Arc<Entry>> = items.into_iter().flatten().collect();
    let mut body = Vec::with_capacity(items.iter().map(|e| e.body.len() + 1).sum::<usize>() + 96);
    body.extend_from_slice(b"{\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&item.body);
    }
    body.extend_from_slice(b"],\"next_cursor\":");
    serde_json::to_writer(&mut body, &next_cursor).map_err(ApiError::internal)?;
    body.push(b'}');
    Ok((body, generation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Record {
        id: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'static str>,
        tags: Vec<&'static str>,
    }

    #[derive(Serialize)]
    struct Warning {
        kind: &'static str,
    }

    #[test]
    fn warnings_come_last_and_leave_the_etag_alone() {
        let record = Record {
            id: 7,
            note: None,
            tags: vec!["a"],
        };
        let (alone, etag) = of(&record).expect("serialises");
        assert_eq!(alone, r#"{"id":7,"tags":["a"]}"#);
        assert_eq!(etag, etag_of(alone.as_bytes()));
        let (body, written_etag) =
            written(&record, &[Warning { kind: "person" }]).expect("serialises");
        assert_eq!(
            body,
            r#"{"id":7,"tags":["a"],"warnings":[{"kind":"person"}]}"#
        );
        assert_eq!(written_etag, etag);
        let (none, _) = written::<Warning>(&record, &[]).expect("serialises");
        assert_eq!(none, alone);
    }
}
