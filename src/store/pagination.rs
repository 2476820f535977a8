//! Keyset pagination: rows are ordered by `(sort key, id)`; the cursor is an opaque base64url
//! of the last row's key, so a page never skips or repeats a row however the data changes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor<K> {
    /// The sort the cursor belongs to; a cursor is refused under another sort.
    #[serde(rename = "s")]
    pub sort: String,
    #[serde(rename = "k")]
    pub key: K,
    #[serde(rename = "i")]
    pub id: uuid::Uuid,
}

impl<K: Serialize + DeserializeOwned> Cursor<K> {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str, sort: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_parameter("cursor", "is not a cursor this list issued");
        if text.len() > 512 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.sort != sort {
            return Err(ApiError::bad_parameter(
                "cursor",
                format!("was issued for sort={}, not sort={sort}", cursor.sort),
            ));
        }
        Ok(cursor)
    }
}

/// `query` narrowed to the rows after the keyset cursor `(key, id)` in ascending
/// `(key_column, id_column)` order. The plain bound `key_column >= key` is implied by the exact
/// one; it lets the index seek to the cursor instead of reading every earlier row (a page would
/// otherwise cost more the further it is).
macro_rules! after_cursor {
    ($query:expr, $key_column:expr, $id_column:expr, $key:expr, $id:expr) => {{
        let key = $key;
        $query.filter($key_column.ge(key.clone())).filter(
            $key_column
                .gt(key.clone())
                .or($key_column.eq(key).and($id_column.gt($id))),
        )
    }};
}
pub(crate) use after_cursor;

/// `limit` from the query: default 50, 1..=200.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_parameter(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Splits the `limit + 1` rows a query fetched into the page and the cursor of the next page.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: i64,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(&cursor_of);
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_sort() {
        let cursor = Cursor {
            sort: "start".to_owned(),
            key: "2019-04-24T00:00:00.000000Z".to_owned(),
            id: uuid::Uuid::nil(),
        };
        let text = cursor.encode();
        assert_eq!(Cursor::<String>::decode(&text, "start").ok(), Some(cursor));
        assert!(Cursor::<String>::decode(&text, "-start").is_err());
        assert!(Cursor::<String>::decode("!!!", "start").is_err());
        assert!(Cursor::<String>::decode("e30", "start").is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).ok(), Some(50));
        assert_eq!(limit(Some(200)).ok(), Some(200));
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
    }

    #[test]
    fn a_full_page_has_a_next_cursor() {
        let (page, next) = split_page(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!((page, next), (vec![1, 2], Some("2".to_owned())));
        let (page, next) = split_page(vec![1, 2], 2, |n| n.to_string());
        assert_eq!((page, next), (vec![1, 2], None));
    }
}
