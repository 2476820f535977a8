//! Representations already serialised, kept for reuse while the registry does not change.
//!
//! Every entry remembers the registry's generation (see [`crate::db::generation`]) it was built
//! at. A read uses an entry only if it matches the current generation, which the process
//! mostly knows without asking: on PostgreSQL from the notification every write sends (see
//! [`crate::db::listen`]), on SQLite from the file's WAL index, which shows whether anything was
//! committed since the generation was last read (see [`crate::db::wal_index`]). It asks the
//! database (one primary-key lookup) when it does not know, or the request names a later
//! position. So a write by this process, by another server process on the same database, or by
//! the command line, makes every older entry stale: nothing has to know which representations
//! embed which record (an event embeds the names of its
//! network, organisers, participants, parent and chain). Stale entries are replaced on their
//! next read; the least useful ones are evicted when the byte budget is reached.
//!
//! [`Derived`] keeps small answers computed from many rows (a store keeps its own, e.g. the long
//! events of a date window) under the same rule: for one generation only.

use std::sync::Arc;

use actix_web::web::Bytes;

/// One representation: the exact body a `GET` returns and its ETag.
#[derive(Debug)]
pub struct Entry {
    pub generation: i64,
    pub body: Bytes,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    resource: &'static str,
    key: Box<str>,
    sees_internal: bool,
}

#[derive(Clone)]
struct ByteWeighter;

impl quick_cache::Weighter<Key, Arc<Entry>> for ByteWeighter {
    fn weight(&self, key: &Key, entry: &Arc<Entry>) -> u64 {
        (key.key.len() + entry.body.len() + entry.etag.len() + 96) as u64
    }
}

/// The representation cache; `None` inside when it is turned off (a budget of 0).
pub struct Representations {
    entries: Option<quick_cache::sync::Cache<Key, Arc<Entry>, ByteWeighter>>,
}

impl Representations {
    /// A cache holding at most about `budget_bytes` of representations.
    pub fn new(budget_bytes: u64) -> Self {
        let entries = (budget_bytes > 0).then(|| {
            // Representations are 1–3 KB; the estimate only sizes the hash table.
            let estimated_items = usize::try_from(budget_bytes / 2048)
                .unwrap_or(usize::MAX)
                .max(16);
            quick_cache::sync::Cache::with_weighter(estimated_items, budget_bytes, ByteWeighter)
        });
        Self { entries }
    }

    /// The representation of `resource` `key` (an id or slug, as requested) for readers who see
    /// internal records or for those who do not (`sees_internal`), if it was built at
    /// `generation`.
    pub fn get(
        &self,
        resource: &'static str,
        key: &str,
        sees_internal: bool,
        generation: i64,
    ) -> Option<Arc<Entry>> {
        let entries = self.entries.as_ref()?;
        let entry = entries.get(&Key {
            resource,
            key: key.into(),
            sees_internal,
        })?;
        (entry.generation == generation).then_some(entry)
    }

    /// Keeps a representation built at `generation`, and returns it.
    pub fn insert(
        &self,
        resource: &'static str,
        key: &str,
        sees_internal: bool,
        entry: Entry,
    ) -> Arc<Entry> {
        let entry = Arc::new(entry);
        if let Some(entries) = &self.entries {
            entries.insert(
                Key {
                    resource,
                    key: key.into(),
                    sees_internal,
                },
                entry.clone(),
            );
        }
        entry
    }
}

/// Whole pages of event lists, as [`Representations`] keeps records: each under the path and
/// query it answered (so `?limit=50&q=x` and `?q=x&limit=50` are two entries) and the reader's
/// visibility, for the generation it was read at. A list polled by many clients then costs what
/// a cached record costs; the first request after a write reads the page again.
pub struct Pages(Representations);

impl Pages {
    /// Room for about `budget_bytes` of pages (0 turns page caching off).
    pub fn new(budget_bytes: u64) -> Self {
        Self(Representations::new(budget_bytes))
    }

    /// The page answering `path_and_query` for this visibility, if it was read at `generation`.
    pub fn get(&self, path_and_query: &str, sees_internal: bool, generation: i64) -> Option<Bytes> {
        self.0
            .get("page", path_and_query, sees_internal, generation)
            .map(|entry| entry.body.clone())
    }

    /// Keeps a page read at `generation`.
    pub fn insert(&self, path_and_query: &str, sees_internal: bool, generation: i64, body: Bytes) {
        self.0.insert(
            "page",
            path_and_query,
            sees_internal,
            Entry {
                generation,
                body,
                etag: String::new(),
            },
        );
    }
}

/// Small answers derived from the registry, each with the generation it was read at: a reader
/// uses one only once it knows the registry is still at that generation.
pub struct Derived<K, V> {
    answers: quick_cache::sync::Cache<K, (i64, Arc<V>)>,
}

impl<K: Eq + std::hash::Hash + Clone, V> Derived<K, V> {
    /// Room for `capacity` answers; the least used go first.
    pub fn new(capacity: usize) -> Self {
        Self {
            answers: quick_cache::sync::Cache::new(capacity),
        }
    }

    /// The answer for `key`, and the generation it was read at.
    pub fn get(&self, key: &K) -> Option<(i64, Arc<V>)> {
        self.answers.get(key)
    }

    /// Keeps `answer`, read at `generation` (or later), and returns it.
    pub fn insert(&self, key: K, generation: i64, answer: V) -> Arc<V> {
        let answer = Arc::new(answer);
        self.answers.insert(key, (generation, answer.clone()));
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(generation: i64, body: &'static str) -> Entry {
        Entry {
            generation,
            body: Bytes::from_static(body.as_bytes()),
            etag: "\"e\"".into(),
        }
    }

    #[test]
    fn an_entry_serves_only_its_generation_and_viewer() {
        let cache = Representations::new(1 << 20);
        let public = false;
        let internal = true;
        cache.insert("event", "a", public, entry(7, "{}"));
        assert!(cache.get("event", "a", public, 7).is_some());
        assert!(cache.get("event", "a", public, 8).is_none());
        assert!(cache.get("event", "a", internal, 7).is_none());
        assert!(cache.get("network", "a", public, 7).is_none());
    }

    #[test]
    fn a_zero_budget_turns_the_cache_off() {
        let cache = Representations::new(0);
        let inserted = cache.insert("event", "a", true, entry(1, "{}"));
        assert_eq!(&inserted.body[..], b"{}");
        assert!(cache.get("event", "a", true, 1).is_none());
    }

    #[test]
    fn a_page_serves_only_its_query_generation_and_viewer() {
        let pages = Pages::new(1 << 20);
        let page = Bytes::from_static(b"{\"items\":[]}");
        pages.insert("/api/v1/events?q=x", false, 3, page.clone());
        assert_eq!(pages.get("/api/v1/events?q=x", false, 3), Some(page));
        assert_eq!(pages.get("/api/v1/events?q=x", false, 4), None);
        assert_eq!(pages.get("/api/v1/events?q=x", true, 3), None);
        assert_eq!(pages.get("/api/v1/events?q=y", false, 3), None);
        let off = Pages::new(0);
        off.insert("/api/v1/events", false, 1, Bytes::from_static(b"{}"));
        assert_eq!(off.get("/api/v1/events", false, 1), None);
    }

    #[test]
    fn a_derived_answer_remembers_its_generation() {
        let derived: Derived<u32, &str> = Derived::new(4);
        derived.insert(1, 7, "seven");
        derived.insert(1, 8, "eight");
        let (at, answer) = derived.get(&1).expect("kept");
        assert_eq!((at, *answer), (8, "eight"));
        assert!(derived.get(&2).is_none());
    }
}
