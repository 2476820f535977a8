//! Publications: reports, studies, terms of reference… with their authors (people, in order,
//! with their affiliation at the time), publisher, topics and the events they were presented
//! at, endorsed or adopted by.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{
    events, publication_authors, publication_events, publication_topics, publications,
};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::enums::{PublicationKind, PublicationRole, Visibility};
use crate::domain::publication::{AuthorInput, EventLinkInput, PublicationInput, ValidPublication};
use crate::domain::text::{fold, like_pattern};
use crate::error::{ApiError, FieldError, RecordRef};
use crate::ids::{EventId, OrganisationId, PersonId, PublicationId};
use crate::store::events::EventSummary;
use crate::store::events::rows::known_day;
use crate::store::pagination::{Cursor, split_page};
use crate::store::resource::{NoWarning, Resource, TopLevel};
use crate::store::{Summary, Viewer, choose_slug, lookup, organisations, people};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = publications)]
struct PublicationRow {
    id: PublicationId,
    slug: String,
    sort_key: String,
    title: String,
    kind: String,
    date: Option<String>,
    language: Option<String>,
    publisher_id: Option<OrganisationId>,
    url: Option<String>,
    doi: Option<String>,
    isbn: Option<String>,
    description: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    version: i32,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = publications, treat_none_as_null = true)]
struct PublicationColumns {
    slug: String,
    sort_key: String,
    title: String,
    kind: String,
    date: Option<String>,
    language: Option<String>,
    publisher_id: Option<OrganisationId>,
    url: Option<String>,
    doi: Option<String>,
    isbn: Option<String>,
    description: Option<String>,
    search_text: String,
    updated_at: Timestamp,
}

crate::db::same_sql_for_any_value!(PublicationColumns, publication_columns_have_one_sql_text);

#[derive(Insertable)]
#[diesel(table_name = publications)]
struct NewPublication {
    id: PublicationId,
    created_at: Timestamp,
    #[diesel(embed)]
    columns: PublicationColumns,
}

/// One author of a publication.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuthorResponse {
    /// The author's id.
    pub person_id: PersonId,
    /// The author, summarised.
    pub person: Summary,
    /// The organisation the author wrote it as part of; `null` when not recorded.
    pub affiliation_id: Option<OrganisationId>,
    /// That organisation, summarised; `null` with `affiliation_id`.
    pub affiliation: Option<Summary>,
}

/// A publication's link to an event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EventLinkResponse {
    /// The event's id.
    pub event_id: EventId,
    /// What happened to the publication there.
    pub role: PublicationRole,
    /// The event, summarised.
    pub event: EventSummary,
}

/// A publication: its description and a link, never the file.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicationResponse {
    /// The publication's id; read-only.
    pub id: PublicationId,
    /// Unique among publications; usable wherever the id is.
    #[schema(example = "a-waiting-game")]
    pub slug: String,
    /// The title.
    #[schema(example = "New IISG Terms of Reference")]
    pub title: String,
    /// What kind of publication it is.
    pub kind: PublicationKind,
    /// When it was published, as precisely as known (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`);
    /// `null` when not known.
    #[schema(example = "2017-11")]
    pub date: Option<String>,
    /// Its language (BCP 47); `null` when not recorded.
    pub language: Option<String>,
    /// The authors, in the order the publication names them.
    pub authors: Vec<AuthorResponse>,
    /// The organisation that published it; `null` when not recorded.
    pub publisher_id: Option<OrganisationId>,
    /// That organisation, summarised; `null` with `publisher_id`.
    pub publisher: Option<Summary>,
    /// Where it can be read; `null` when not known.
    pub url: Option<String>,
    /// Its DOI (`10.NNNN/suffix`); `null` when it has none.
    pub doi: Option<String>,
    /// Its ISBN, digits only; `null` when it has none.
    pub isbn: Option<String>,
    /// What it is about.
    #[schema(example = json!(["foreign-fighters"]))]
    pub topics: Vec<String>,
    /// The events it is linked to, in the order written; an `internal` event is left out for
    /// callers without a token.
    pub events: Vec<EventLinkResponse>,
    /// Free text; `null` when there is none.
    pub description: Option<String>,
    /// When the publication was recorded (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub created_at: DateTime<Utc>,
    /// When it last changed (RFC 3339, UTC); read-only.
    #[serde(with = "crate::domain::time::instant")]
    pub updated_at: DateTime<Utc>,
    /// Read-only: 1 when created, incremented by every change. Send the `ETag` in `If-Match`
    /// to guard a write.
    pub version: i32,
}

/// A page of publications.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicationPage {
    /// The publications of this page, by title.
    pub items: Vec<PublicationResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A publication as linked to one event: `GET /events/{id}/documents`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDocument {
    /// What happened to the publication at this event.
    pub role: PublicationRole,
    /// The publication.
    pub publication: PublicationResponse,
}

/// A page of an event's documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDocumentPage {
    /// The event's documents, by title; a publication linked in two roles comes twice.
    pub items: Vec<EventDocument>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What a list of publications asks for. References are ids or slugs; one naming nothing is
/// refused (422) by [`list`].
#[derive(Debug, Clone, Default)]
pub struct PublicationFilter {
    pub q: Option<String>,
    pub kind: Option<PublicationKind>,
    pub topic: Option<String>,
    /// Written by this person.
    pub author: Option<String>,
    /// Published by this organisation, or written by an author affiliated with it.
    pub organisation: Option<String>,
    /// Published by this organisation.
    pub publisher: Option<String>,
    /// Linked to this event.
    pub event: Option<String>,
    pub role: Option<PublicationRole>,
    pub cursor: Option<String>,
    pub limit: i64,
}

const SORT: &str = "title";

/// The publications `key` (an id or a slug) names, if any.
pub fn find_id(conn: &mut AnyConnection, key: &str) -> Result<PublicationId, ApiError> {
    lookup::publication_id(conn, key)?.ok_or_else(|| ApiError::not_found("publication", key))
}

/// Events by id as `viewer` may see them.
fn event_summaries(
    conn: &mut AnyConnection,
    ids: &[EventId],
    viewer: Viewer,
) -> Result<HashMap<EventId, EventSummary>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = events::table
        .filter(events::id.eq_any(ids))
        .select((events::id, events::slug, events::title, events::start_date))
        .into_boxed();
    if !viewer.sees_internal {
        query = query.filter(events::visibility.eq(Visibility::Public.as_str()));
    }
    let rows: Vec<(EventId, String, String, NaiveDate)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, title, start)| {
            (
                id,
                EventSummary {
                    id,
                    slug,
                    title,
                    start_date: known_day(start),
                },
            )
        })
        .collect())
}

/// Event summaries for other modules (outcomes), as `viewer` may see them.
pub fn events_by_id(
    conn: &mut AnyConnection,
    ids: &[EventId],
    viewer: Viewer,
) -> Result<HashMap<EventId, EventSummary>, ApiError> {
    event_summaries(conn, ids, viewer)
}

/// The read models of `rows`, in their order: one query per relation.
fn respond(
    conn: &mut AnyConnection,
    rows: Vec<PublicationRow>,
    viewer: Viewer,
) -> Result<Vec<PublicationResponse>, ApiError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<PublicationId> = rows.iter().map(|r| r.id).collect();
    let authors: Vec<(PublicationId, PersonId, Option<OrganisationId>)> =
        publication_authors::table
            .filter(publication_authors::publication_id.eq_any(&ids))
            .order((
                publication_authors::publication_id,
                publication_authors::position,
            ))
            .select((
                publication_authors::publication_id,
                publication_authors::person_id,
                publication_authors::affiliation_id,
            ))
            .load(conn)?;
    let topics: Vec<(PublicationId, String)> = publication_topics::table
        .filter(publication_topics::publication_id.eq_any(&ids))
        .order((
            publication_topics::publication_id,
            publication_topics::position,
        ))
        .select((
            publication_topics::publication_id,
            publication_topics::topic,
        ))
        .load(conn)?;
    let links: Vec<(PublicationId, EventId, String)> = publication_events::table
        .filter(publication_events::publication_id.eq_any(&ids))
        .order((
            publication_events::publication_id,
            publication_events::position,
        ))
        .select((
            publication_events::publication_id,
            publication_events::event_id,
            publication_events::role,
        ))
        .load(conn)?;
    let person_ids: Vec<PersonId> = authors.iter().map(|a| a.1).collect();
    let persons = people::summaries(conn, &person_ids)?;
    let mut organisation_ids: Vec<OrganisationId> = authors.iter().filter_map(|a| a.2).collect();
    organisation_ids.extend(rows.iter().filter_map(|r| r.publisher_id));
    organisation_ids.sort();
    organisation_ids.dedup();
    let orgs = organisations::summaries(conn, &organisation_ids)?;
    let mut event_ids: Vec<EventId> = links.iter().map(|l| l.1).collect();
    event_ids.sort();
    event_ids.dedup();
    let event_summaries = event_summaries(conn, &event_ids, viewer)?;

    let mut authors_of: HashMap<PublicationId, Vec<AuthorResponse>> = HashMap::new();
    for (publication, person_id, affiliation_id) in authors {
        let person = persons
            .get(&person_id)
            .cloned()
            .ok_or_else(|| ApiError::internal("publication author is missing"))?;
        authors_of
            .entry(publication)
            .or_default()
            .push(AuthorResponse {
                person_id,
                person,
                affiliation_id,
                affiliation: affiliation_id.and_then(|o| orgs.get(&o).cloned()),
            });
    }
    let mut topics_of: HashMap<PublicationId, Vec<String>> = HashMap::new();
    for (publication, topic) in topics {
        topics_of.entry(publication).or_default().push(topic);
    }
    let mut links_of: HashMap<PublicationId, Vec<EventLinkResponse>> = HashMap::new();
    for (publication, event_id, role) in links {
        // An internal event is left out for those who may not see it.
        let Some(event) = event_summaries.get(&event_id) else {
            continue;
        };
        let role = PublicationRole::parse(&role)
            .ok_or_else(|| ApiError::internal(format!("stored publication role {role:?}")))?;
        links_of
            .entry(publication)
            .or_default()
            .push(EventLinkResponse {
                event_id,
                role,
                event: event.clone(),
            });
    }
    rows.into_iter()
        .map(|row| {
            Ok(PublicationResponse {
                id: row.id,
                kind: PublicationKind::parse(&row.kind).ok_or_else(|| {
                    ApiError::internal(format!("stored publication kind {:?}", row.kind))
                })?,
                slug: row.slug,
                title: row.title,
                date: row.date,
                language: row.language,
                authors: authors_of.remove(&row.id).unwrap_or_default(),
                publisher: row.publisher_id.and_then(|o| orgs.get(&o).cloned()),
                publisher_id: row.publisher_id,
                url: row.url,
                doi: row.doi,
                isbn: row.isbn,
                topics: topics_of.remove(&row.id).unwrap_or_default(),
                events: links_of.remove(&row.id).unwrap_or_default(),
                description: row.description,
                created_at: row.created_at.get(),
                updated_at: row.updated_at.get(),
                version: row.version,
            })
        })
        .collect()
}

/// The ids a filter names: 422 naming the parameter when one names nothing.
fn resolve<Id>(
    conn: &mut AnyConnection,
    parameter: &str,
    resource: &str,
    key: Option<&str>,
    find: impl Fn(&mut AnyConnection, &str) -> Result<Option<Id>, ApiError>,
) -> Result<Option<Id>, ApiError> {
    key.map(|key| {
        let found = find(conn, key)?;
        lookup::filter_target(parameter, resource, key, found)
    })
    .transpose()
}

mod list;

pub use list::{event_documents, list};

fn resolve_person(conn: &mut AnyConnection, field: &str, key: &str) -> Result<PersonId, ApiError> {
    lookup::person_id(conn, key)?.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(field, format!("no person {key:?}"))])
    })
}

fn resolve_organisation(
    conn: &mut AnyConnection,
    field: &str,
    key: &str,
) -> Result<OrganisationId, ApiError> {
    lookup::organisation_id(conn, key)?.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(
            field,
            format!("no organisation {key:?}"),
        )])
    })
}

fn resolve_event(conn: &mut AnyConnection, field: &str, key: &str) -> Result<EventId, ApiError> {
    lookup::event_id(conn, key)?.ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new(field, format!("no event {key:?}"))])
    })
}

/// A publication's rows as resolved: every reference checked, all problems at once (422).
struct Resolved {
    columns: PublicationColumns,
    authors: Vec<(PersonId, Option<OrganisationId>)>,
    events: Vec<(EventId, PublicationRole)>,
}

/// A resolved reference, or `None` with its 422 problems added to `errors`.
fn keep<T>(
    outcome: Result<T, ApiError>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<T>, ApiError> {
    match outcome {
        Ok(value) => Ok(Some(value)),
        Err(ApiError::Validation(found)) => {
            errors.extend(found);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

fn resolve_all(
    conn: &mut AnyConnection,
    id: PublicationId,
    valid: &ValidPublication,
) -> Result<Resolved, ApiError> {
    let mut errors = Vec::new();
    let publisher = match &valid.publisher {
        Some(key) => keep(resolve_organisation(conn, "publisher_id", key), &mut errors)?,
        None => None,
    };
    let mut authors = Vec::new();
    for (i, author) in valid.authors.iter().enumerate() {
        let person = keep(
            resolve_person(conn, &format!("authors[{i}].person_id"), &author.person),
            &mut errors,
        )?;
        let affiliation = match &author.affiliation {
            Some(key) => keep(
                resolve_organisation(conn, &format!("authors[{i}].affiliation_id"), key),
                &mut errors,
            )?,
            None => None,
        };
        if let Some(person) = person {
            if authors.iter().any(|(p, _)| *p == person) {
                errors.push(FieldError::new(
                    format!("authors[{i}].person_id"),
                    "is listed twice",
                ));
            }
            authors.push((person, affiliation));
        }
    }
    let mut links = Vec::new();
    for (i, link) in valid.events.iter().enumerate() {
        let field = format!("events[{i}].event_id");
        if let Some(event) = keep(resolve_event(conn, &field, &link.event), &mut errors)? {
            if links.contains(&(event, link.role)) {
                errors.push(FieldError::new(field, "is listed twice with this role"));
            }
            links.push((event, link.role));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let slug = choose_slug(
        conn,
        "publication",
        valid.slug.as_ref(),
        &valid.title,
        |conn, slug| {
            Ok(diesel::select(diesel::dsl::exists(
                publications::table
                    .filter(publications::slug.eq(slug))
                    .filter(publications::id.ne(id)),
            ))
            .get_result(conn)?)
        },
    )?;
    Ok(Resolved {
        columns: PublicationColumns {
            slug,
            sort_key: fold(&valid.title),
            title: valid.title.clone(),
            kind: valid.kind.as_str().to_owned(),
            date: valid.date.map(|d| d.to_string()),
            language: valid.language.clone(),
            publisher_id: publisher,
            url: valid.url.clone(),
            doi: valid.doi.clone(),
            isbn: valid.isbn.clone(),
            description: valid.description.clone(),
            search_text: valid.search_text(),
            updated_at: Timestamp::now(),
        },
        authors,
        events: links,
    })
}

fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// Replaces the publication's authors, topics and event links.
fn write_lists(
    conn: &mut AnyConnection,
    id: PublicationId,
    valid: &ValidPublication,
    resolved: &Resolved,
) -> Result<(), ApiError> {
    diesel::delete(publication_authors::table.filter(publication_authors::publication_id.eq(id)))
        .execute(conn)?;
    diesel::delete(publication_topics::table.filter(publication_topics::publication_id.eq(id)))
        .execute(conn)?;
    diesel::delete(publication_events::table.filter(publication_events::publication_id.eq(id)))
        .execute(conn)?;
    for (i, (person, affiliation)) in resolved.authors.iter().enumerate() {
        diesel::insert_into(publication_authors::table)
            .values((
                publication_authors::publication_id.eq(id),
                publication_authors::position.eq(position(i)),
                publication_authors::person_id.eq(*person),
                publication_authors::affiliation_id.eq(*affiliation),
            ))
            .execute(conn)?;
    }
    for (i, topic) in valid.topics.iter().enumerate() {
        diesel::insert_into(publication_topics::table)
            .values((
                publication_topics::publication_id.eq(id),
                publication_topics::position.eq(position(i)),
                publication_topics::topic.eq(topic),
                publication_topics::topic_key.eq(fold(topic)),
            ))
            .execute(conn)?;
    }
    for (i, (event, role)) in resolved.events.iter().enumerate() {
        diesel::insert_into(publication_events::table)
            .values((
                publication_events::publication_id.eq(id),
                publication_events::position.eq(position(i)),
                publication_events::event_id.eq(*event),
                publication_events::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Publications that refer to an event, a person or an organisation, for a `still_referenced`
/// refusal of its deletion (at most 20).
pub fn referring_to_event(
    conn: &mut AnyConnection,
    event: EventId,
) -> Result<Vec<RecordRef>, ApiError> {
    let ids: Vec<PublicationId> = publication_events::table
        .filter(publication_events::event_id.eq(event))
        .select(publication_events::publication_id)
        .distinct()
        .limit(20)
        .load(conn)?;
    lookup::publication_refs(conn, &ids)
}

pub fn referring_to_person(
    conn: &mut AnyConnection,
    person: PersonId,
) -> Result<Vec<RecordRef>, ApiError> {
    let ids: Vec<PublicationId> = publication_authors::table
        .filter(publication_authors::person_id.eq(person))
        .select(publication_authors::publication_id)
        .distinct()
        .limit(20)
        .load(conn)?;
    lookup::publication_refs(conn, &ids)
}

pub fn referring_to_organisation(
    conn: &mut AnyConnection,
    organisation: OrganisationId,
) -> Result<Vec<RecordRef>, ApiError> {
    let mut ids: Vec<PublicationId> = publications::table
        .filter(publications::publisher_id.eq(organisation))
        .select(publications::id)
        .limit(20)
        .load(conn)?;
    ids.extend(
        publication_authors::table
            .filter(publication_authors::affiliation_id.eq(organisation))
            .select(publication_authors::publication_id)
            .limit(20)
            .load::<PublicationId>(conn)?,
    );
    ids.sort();
    ids.dedup();
    ids.truncate(20);
    lookup::publication_refs(conn, &ids)
}

/// Summaries of these publications (`name` is the title), for embedding.
pub fn summaries(
    conn: &mut AnyConnection,
    ids: &[PublicationId],
) -> Result<crate::store::Summaries<PublicationId>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(PublicationId, String, String)> = publications::table
        .filter(publications::id.eq_any(ids))
        .select((publications::id, publications::slug, publications::title))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, title)| {
            (
                id,
                Summary {
                    id: id.0,
                    slug,
                    name: title,
                    acronym: None,
                },
            )
        })
        .collect())
}

versioned_rows!(
    publications,
    PublicationId,
    PublicationColumns,
    PublicationResponse
);

/// Publications as a [`Resource`].
pub struct Publications;

impl Resource for Publications {
    const NAME: &'static str = "publication";
    type Id = PublicationId;
    type Input = PublicationInput;
    type Valid = ValidPublication;
    type Response = PublicationResponse;
    type Warning = NoWarning;

    fn validate(input: PublicationInput) -> Result<ValidPublication, Vec<FieldError>> {
        input.validate()
    }

    fn find(conn: &mut AnyConnection, key: &str) -> Result<Option<PublicationId>, ApiError> {
        lookup::publication_id(conn, key)
    }

    fn get(
        conn: &mut AnyConnection,
        key: &str,
        viewer: Viewer,
    ) -> Result<PublicationResponse, ApiError> {
        let id = find_id(conn, key)?;
        let row = publications::table
            .filter(publications::id.eq(id))
            .select(PublicationRow::as_select())
            .first(conn)?;
        respond(conn, vec![row], viewer)?
            .pop()
            .ok_or_else(|| ApiError::not_found("publication", key))
    }

    fn update(
        conn: &mut AnyConnection,
        id: PublicationId,
        version: i32,
        valid: &ValidPublication,
        _before: Option<crate::store::resource::Before<'_, Self>>,
    ) -> Result<(), ApiError> {
        let resolved = resolve_all(conn, id, valid)?;
        update_row(conn, id, version, resolved.columns.clone())?;
        write_lists(conn, id, valid, &resolved)
    }

    fn delete(conn: &mut AnyConnection, id: PublicationId, version: i32) -> Result<(), ApiError> {
        crate::store::refuse_if_referenced(
            "publication",
            vec![(
                "events (outcomes naming it)",
                crate::store::outcomes::naming_publication(conn, id)?,
            )],
        )?;
        // Its authors, topics and event links belong to it and go with it.
        delete_row(conn, id, version)
    }

    fn as_input(response: &PublicationResponse) -> PublicationInput {
        PublicationInput {
            title: response.title.clone(),
            slug: Some(response.slug.clone()),
            kind: response.kind,
            date: response.date.clone(),
            language: response.language.clone(),
            authors: response
                .authors
                .iter()
                .map(|a| AuthorInput {
                    person_id: a.person.slug.clone(),
                    affiliation_id: a.affiliation.as_ref().map(|o| o.slug.clone()),
                })
                .collect(),
            publisher_id: response.publisher.as_ref().map(|o| o.slug.clone()),
            url: response.url.clone(),
            doi: response.doi.clone(),
            isbn: response.isbn.clone(),
            topics: response.topics.clone(),
            events: response
                .events
                .iter()
                .map(|l| EventLinkInput {
                    event_id: l.event.slug.clone(),
                    role: l.role,
                })
                .collect(),
            description: response.description.clone(),
        }
    }
}

impl TopLevel for Publications {
    fn create(
        conn: &mut AnyConnection,
        valid: &ValidPublication,
    ) -> Result<PublicationId, ApiError> {
        let id = PublicationId::generate();
        let resolved = resolve_all(conn, id, valid)?;
        diesel::insert_into(publications::table)
            .values(NewPublication {
                id,
                created_at: resolved.columns.updated_at,
                columns: resolved.columns.clone(),
            })
            .execute(conn)?;
        write_lists(conn, id, valid, &resolved)?;
        Ok(id)
    }

    fn slug(response: &PublicationResponse) -> &str {
        &response.slug
    }
}
