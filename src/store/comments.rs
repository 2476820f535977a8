//! Comments on public events: posted by anyone, `pending` until an editor approves or rejects
//! them. Who sees what: an approved comment on an event the caller may see is shown to
//! everyone; pending and rejected ones only to editors and admins (the moderators); the
//! commenter's email and address only to admins, and to no one once the retention period has
//! passed ([`purge_contacts`]).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{comments, events};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::comment::{CommentModeration, ValidComment};
use crate::domain::enums::{CommentStatus, Visibility};
use crate::error::{ApiError, FieldError};
use crate::ids::{CommentId, EventId};
use crate::store::events::EventSummary;
use crate::store::events::rows::known_day;
use crate::store::pagination::{Cursor, after_cursor, split_page};
use crate::store::resource::{NoWarning, Resource};
use crate::store::{Viewer, lookup};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
struct CommentRow {
    id: CommentId,
    event_id: EventId,
    author_name: String,
    email: Option<String>,
    client_ip: Option<String>,
    body: String,
    status: String,
    moderated_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

/// What moderation writes.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = comments, treat_none_as_null = true)]
struct ModerationColumns {
    status: String,
    moderated_at: Option<Timestamp>,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(ModerationColumns, moderation_columns_have_one_sql_text);

/// A comment on an event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommentResponse {
    /// The comment's id; read-only.
    pub id: CommentId,
    /// The event commented on.
    pub event_id: EventId,
    /// That event, summarised.
    pub event: EventSummary,
    /// The name the commenter gave.
    #[schema(example = "Ana Kovač")]
    pub author_name: String,
    /// The comment, plain text exactly as sent (never HTML: escape it when showing it in a
    /// page).
    #[schema(example = "Will the conclusions of the 4th IISG Board Meeting be published?")]
    pub body: String,
    /// `pending` until an editor approves or rejects it. Only `approved` comments are shown
    /// to callers other than editors and admins.
    pub status: CommentStatus,
    /// When an editor last set its status (RFC 3339, UTC); `null` while it was never
    /// moderated.
    #[serde(with = "crate::domain::time::instant::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub moderated_at: Option<DateTime<Utc>>,
    /// When it was posted (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC).
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// 1 when posted, incremented by every change (moderation, the purge of its contact
    /// details). Send the `ETag` in `If-Match` to guard a change.
    pub version: i32,
    /// Only for admin tokens (absent for everyone else): how to reach the commenter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<CommentContact>,
}

/// How to reach a commenter: shown to admins only, and erased (`null`) once the comment is
/// older than the retention period (`REGISTRY_COMMENT_RETENTION_DAYS`, 90 days by default).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommentContact {
    /// The email address the commenter gave; `null` when none, or erased.
    #[schema(example = "ana.kovac@example.org")]
    pub email: Option<String>,
    /// The address the comment was posted from; `null` once erased.
    #[schema(example = "192.0.2.10")]
    pub client_ip: Option<String>,
}

/// A page of comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentPage {
    /// The comments of this page, oldest first.
    pub items: Vec<CommentResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Who reads comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentReader {
    /// Whether internal events (and so comments on them) exist for the caller.
    pub viewer: Viewer,
    /// Editors and admins: they also see pending and rejected comments.
    pub moderator: bool,
    /// Admins: they also see the commenter's contact details.
    pub admin: bool,
}

impl CommentReader {
    /// The caller of the shared write path: a moderator (who is not shown contact details).
    pub const MODERATOR: CommentReader = CommentReader {
        viewer: Viewer::WRITER,
        moderator: true,
        admin: false,
    };

    fn sees(&self, status: &str, event_public: bool) -> bool {
        (self.moderator || status == CommentStatus::Approved.as_str())
            && (self.viewer.sees_internal || event_public)
    }
}

/// The moderation queue's filters.
#[derive(Debug, Clone, Default)]
pub struct CommentFilter {
    pub status: Option<CommentStatus>,
    pub event: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "created";

/// Summaries of these events, and whether each is public.
fn event_summaries(
    conn: &mut AnyConnection,
    ids: &[EventId],
) -> Result<std::collections::HashMap<EventId, (EventSummary, bool)>, ApiError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(EventId, String, String, NaiveDate, String)> = events::table
        .filter(events::id.eq_any(ids))
        .select((
            events::id,
            events::slug,
            events::title,
            events::start_date,
            events::visibility,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, title, start_date, visibility)| {
            let summary = EventSummary {
                id,
                slug,
                title,
                start_date: known_day(start_date),
            };
            (id, (summary, visibility == Visibility::Public.as_str()))
        })
        .collect())
}

/// The rows `reader` may see, as responses, in the order given.
fn respond(
    conn: &mut AnyConnection,
    rows: Vec<CommentRow>,
    reader: CommentReader,
) -> Result<Vec<CommentResponse>, ApiError> {
    let mut event_ids: Vec<EventId> = rows.iter().map(|r| r.event_id).collect();
    event_ids.sort();
    event_ids.dedup();
    let events = event_summaries(conn, &event_ids)?;
    let mut responses = Vec::with_capacity(rows.len());
    for row in rows {
        let Some((event, public)) = events.get(&row.event_id) else {
            continue;
        };
        if !reader.sees(&row.status, *public) {
            continue;
        }
        let status = CommentStatus::parse(&row.status)
            .ok_or_else(|| ApiError::internal(format!("stored comment status {:?}", row.status)))?;
        responses.push(CommentResponse {
            id: row.id,
            event_id: row.event_id,
            event: event.clone(),
            author_name: row.author_name,
            body: row.body,
            status,
            moderated_at: row.moderated_at.map(Timestamp::get),
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
            version: row.version,
            contact: reader.admin.then_some(CommentContact {
                email: row.email,
                client_ip: row.client_ip,
            }),
        });
    }
    Ok(responses)
}

fn comment_id(key: &str) -> Option<CommentId> {
    uuid::Uuid::parse_str(key).ok().map(CommentId)
}

/// The comment `key` (its id) names, as `reader` may see it (404 otherwise).
pub fn read(
    conn: &mut AnyConnection,
    key: &str,
    reader: CommentReader,
) -> Result<CommentResponse, ApiError> {
    let not_found = || ApiError::not_found("comment", key);
    let id = comment_id(key).ok_or_else(not_found)?;
    let row = comments::table
        .filter(comments::id.eq(id))
        .select(CommentRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(not_found)?;
    respond(conn, vec![row], reader)?
        .pop()
        .ok_or_else(not_found)
}

/// The event `key` names, if `viewer` may see it and it takes comments (public events only).
fn commentable_event(
    conn: &mut AnyConnection,
    key: &str,
    viewer: Viewer,
) -> Result<EventId, ApiError> {
    let not_found = || ApiError::not_found("event", key);
    let id = lookup::event_id(conn, key)?.ok_or_else(not_found)?;
    let visibility: String = events::table
        .filter(events::id.eq(id))
        .select(events::visibility)
        .first(conn)?;
    if visibility == Visibility::Public.as_str() {
        return Ok(id);
    }
    if !viewer.sees_internal {
        return Err(not_found());
    }
    Err(ApiError::rule(
        "comments_on_public_events",
        lookup::event_refs(conn, &[id])?,
        "only public events take comments; this one is internal",
    ))
}

/// Stores a new pending comment on the event `event_key` names, posted from `client_ip` at
/// `now`. 404 when the event does not exist or `viewer` may not see it; 409 for an internal
/// event a token holder can see.
pub fn create(
    conn: &mut AnyConnection,
    event_key: &str,
    valid: &ValidComment,
    client_ip: Option<String>,
    now: DateTime<Utc>,
    viewer: Viewer,
) -> Result<CommentResponse, ApiError> {
    let event_id = commentable_event(conn, event_key, viewer)?;
    let id = CommentId::generate();
    let at = Timestamp::from(now);
    diesel::insert_into(comments::table)
        .values((
            comments::id.eq(id),
            comments::event_id.eq(event_id),
            comments::author_name.eq(&valid.author_name),
            comments::email.eq(&valid.email),
            comments::client_ip.eq(client_ip),
            comments::body.eq(&valid.body),
            comments::status.eq(CommentStatus::Pending.as_str()),
            comments::created_at.eq(at),
            comments::updated_at.eq(at),
        ))
        .execute(conn)?;
    read(conn, &id.to_string(), CommentReader::MODERATOR)
}

/// A comment as `export` writes it and `import` reads it back: the commenter's contact
/// details are left out (see [`crate::bulk`]).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentRecord {
    /// Kept, so importing the same bundle again finds the comment instead of doubling it.
    pub id: uuid::Uuid,
    pub author_name: String,
    pub body: String,
    #[serde(default = "pending")]
    pub status: CommentStatus,
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
}

fn pending() -> CommentStatus {
    CommentStatus::Pending
}

impl CommentRecord {
    pub fn of(response: &CommentResponse) -> Self {
        Self {
            id: response.id.0,
            author_name: response.author_name.clone(),
            body: response.body.clone(),
            status: response.status,
            created_at: response.created_at,
        }
    }

    /// The rules of a posted comment (no email is carried, so none is checked).
    pub fn validate(&self) -> Vec<FieldError> {
        crate::domain::comment::CommentInput {
            author_name: self.author_name.clone(),
            email: None,
            body: self.body.clone(),
        }
        .validate()
        .err()
        .unwrap_or_default()
    }
}

/// Stores an imported comment on `event_id` unless a comment with its id exists; whether it
/// was created.
pub fn import(
    conn: &mut AnyConnection,
    event_id: EventId,
    record: &CommentRecord,
) -> Result<bool, ApiError> {
    let id = CommentId(record.id);
    let exists: bool = diesel::select(diesel::dsl::exists(
        comments::table.filter(comments::id.eq(id)),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(false);
    }
    let at = Timestamp::from(record.created_at);
    let moderated = (record.status != CommentStatus::Pending).then(Timestamp::now);
    diesel::insert_into(comments::table)
        .values((
            comments::id.eq(id),
            comments::event_id.eq(event_id),
            comments::author_name.eq(record.author_name.trim()),
            comments::body.eq(&record.body),
            comments::status.eq(record.status.as_str()),
            comments::moderated_at.eq(moderated),
            comments::created_at.eq(at),
            comments::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Every comment on the event `event_id`, any status, oldest first (for export).
pub fn all_on_event(
    conn: &mut AnyConnection,
    event_id: EventId,
) -> Result<Vec<CommentResponse>, ApiError> {
    let rows: Vec<CommentRow> = comments::table
        .filter(comments::event_id.eq(event_id))
        .order((comments::created_at.asc(), comments::id.asc()))
        .select(CommentRow::as_select())
        .load(conn)?;
    respond(conn, rows, CommentReader::MODERATOR)
}

/// A page of comments, oldest first: the moderation queue (`filter.status`, `filter.event`)
/// as `reader` may see it.
pub fn list(
    conn: &mut AnyConnection,
    filter: &CommentFilter,
    reader: CommentReader,
) -> Result<CommentPage, ApiError> {
    let mut query = comments::table.select(CommentRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(comments::status.eq(status.as_str()));
    }
    if let Some(event) = &filter.event {
        let id = lookup::filter_target("event", "event", event, lookup::event_id(conn, event)?)?;
        query = query.filter(comments::event_id.eq(id));
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let at = DateTime::parse_from_rfc3339(&cursor.key)
            .map(|at| Timestamp::from(at.with_timezone(&Utc)))
            .map_err(|_| ApiError::bad_parameter("cursor", "is not a cursor this list issued"))?;
        let id = CommentId(cursor.id);
        query = after_cursor!(query, comments::created_at, comments::id, at, id);
    }
    let rows: Vec<CommentRow> = query
        .order((comments::created_at.asc(), comments::id.asc()))
        .limit(filter.limit + 1)
        .load(conn)?;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: SORT.to_owned(),
            key: crate::domain::time::rfc3339_micros(row.created_at.get()),
            id: row.id.0,
        }
        .encode()
    });
    Ok(CommentPage {
        items: respond(conn, rows, reader)?,
        next_cursor,
    })
}

/// The approved comments on the event `event_key` names, oldest first; 404 when the event
/// does not exist or `viewer` may not see it.
pub fn list_on_event(
    conn: &mut AnyConnection,
    event_key: &str,
    viewer: Viewer,
    cursor: Option<String>,
    limit: i64,
) -> Result<CommentPage, ApiError> {
    let not_found = || ApiError::not_found("event", event_key);
    let id = lookup::event_id(conn, event_key)?.ok_or_else(not_found)?;
    let visibility: String = events::table
        .filter(events::id.eq(id))
        .select(events::visibility)
        .first(conn)?;
    if !viewer.sees_internal && visibility != Visibility::Public.as_str() {
        return Err(not_found());
    }
    let filter = CommentFilter {
        status: Some(CommentStatus::Approved),
        event: Some(id.to_string()),
        cursor,
        limit,
    };
    let reader = CommentReader {
        viewer,
        moderator: false,
        admin: false,
    };
    list(conn, &filter, reader)
}

/// Whether any comment posted before `cutoff` still holds contact details (a read, so that
/// finding none writes nothing).
pub fn any_contacts_before(
    conn: &mut AnyConnection,
    cutoff: DateTime<Utc>,
) -> Result<bool, ApiError> {
    Ok(diesel::select(diesel::dsl::exists(
        comments::table
            .filter(comments::created_at.lt(Timestamp::from(cutoff)))
            .filter(
                comments::email
                    .is_not_null()
                    .or(comments::client_ip.is_not_null()),
            ),
    ))
    .get_result(conn)?)
}

/// Erases the email and address of every comment posted before `cutoff`, as a change of each
/// (its version moves, so a cached or mirrored copy is refreshed). Returns how many. Call
/// inside a write transaction.
pub fn purge_contacts(conn: &mut AnyConnection, cutoff: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::update(
        comments::table
            .filter(comments::created_at.lt(Timestamp::from(cutoff)))
            .filter(
                comments::email
                    .is_not_null()
                    .or(comments::client_ip.is_not_null()),
            ),
    )
    .set((
        comments::email.eq(None::<String>),
        comments::client_ip.eq(None::<String>),
        comments::updated_at.eq(Timestamp::now()),
        comments::version.eq(comments::version + 1),
    ))
    .execute(conn)?)
}

versioned_rows!(comments, CommentId, ModerationColumns, CommentResponse);

/// Comments as a [`Resource`]: what the shared write path moderates (PATCH of `status`) and
/// deletes. They are created inside their event instead (`POST /events/{id}/comments`).
pub struct Comments;

impl Resource for Comments {
    const NAME: &'static str = "comment";
    type Id = CommentId;
    type Input = CommentModeration;
    type Valid = CommentModeration;
    type Response = CommentResponse;
    type Warning = NoWarning;

    fn validate(input: CommentModeration) -> Result<CommentModeration, Vec<FieldError>> {
        Ok(input)
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<CommentId>, ApiError> {
        let Some(id) = comment_id(key) else {
            return Ok(None);
        };
        Ok(comments::table
            .filter(comments::id.eq(id))
            .select(comments::id)
            .first(conn)
            .optional()?)
    }

    /// Callers with a token read as moderators here: the routes check the role first.
    fn get(
        conn: &mut AnyConnection,
        key: &str,
        viewer: Viewer,
    ) -> Result<CommentResponse, ApiError> {
        let reader = CommentReader {
            viewer,
            moderator: viewer.sees_internal,
            admin: false,
        };
        read(conn, key, reader)
    }

    fn update(
        conn: &mut AnyConnection,
        id: CommentId,
        version: i32,
        valid: &CommentModeration,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let now = Timestamp::now();
        update_row(
            conn,
            id,
            version,
            ModerationColumns {
                status: valid.status.as_str().to_owned(),
                moderated_at: Some(now),
                updated_at: now,
            },
        )
    }

    fn delete(conn: &mut AnyConnection, id: CommentId, version: i32) -> Result<(), ApiError> {
        delete_row(conn, id, version)
    }

    fn as_input(response: &CommentResponse) -> CommentModeration {
        CommentModeration {
            status: response.status,
        }
    }
}
