//! Listing publications: the filtered collection and an event's documents.

use super::*;
use crate::store::pagination::after_cursor;

/// One page of publications, by title.
pub fn list(
    conn: &mut AnyConnection,
    filter: &PublicationFilter,
    viewer: Viewer,
) -> Result<PublicationPage, ApiError> {
    let rows = list_rows(conn, filter, viewer)?;
    let (rows, next_cursor) = split_page(rows, filter.limit, |row| {
        Cursor {
            sort: SORT.to_owned(),
            key: row.sort_key.clone(),
            id: row.id.0,
        }
        .encode()
    });
    Ok(PublicationPage {
        items: respond(conn, rows, viewer)?,
        next_cursor,
    })
}

/// `limit + 1` rows of the page a filter asks for.
fn list_rows(
    conn: &mut AnyConnection,
    filter: &PublicationFilter,
    viewer: Viewer,
) -> Result<Vec<PublicationRow>, ApiError> {
    let author = resolve(
        conn,
        "author",
        "person",
        filter.author.as_deref(),
        lookup::person_id,
    )?;
    let organisation = resolve(
        conn,
        "organisation",
        "organisation",
        filter.organisation.as_deref(),
        lookup::organisation_id,
    )?;
    let publisher = resolve(
        conn,
        "publisher",
        "organisation",
        filter.publisher.as_deref(),
        lookup::organisation_id,
    )?;
    let event = resolve(
        conn,
        "event",
        "event",
        filter.event.as_deref(),
        |conn, key| lookup::visible_event_id(conn, key, viewer),
    )?;
    let mut query = publications::table
        .select(PublicationRow::as_select())
        .into_boxed();
    if let Some(q) = filter.q.as_deref().map(fold).filter(|q| !q.is_empty()) {
        query = query.filter(
            publications::search_text
                .like(like_pattern(&q))
                .escape('\\'),
        );
    }
    if let Some(kind) = filter.kind {
        query = query.filter(publications::kind.eq(kind.as_str()));
    }
    if let Some(topic) = filter.topic.as_deref() {
        query = query.filter(
            publications::id.eq_any(
                publication_topics::table
                    .filter(publication_topics::topic_key.eq(fold(topic)))
                    .select(publication_topics::publication_id),
            ),
        );
    }
    if let Some(person) = author {
        query = query.filter(
            publications::id.eq_any(
                publication_authors::table
                    .filter(publication_authors::person_id.eq(person))
                    .select(publication_authors::publication_id),
            ),
        );
    }
    if let Some(organisation) = organisation {
        query = query.filter(
            publications::publisher_id
                .eq(organisation)
                .or(publications::id.eq_any(
                    publication_authors::table
                        .filter(publication_authors::affiliation_id.eq(organisation))
                        .select(publication_authors::publication_id),
                )),
        );
    }
    if let Some(publisher) = publisher {
        query = query.filter(publications::publisher_id.eq(publisher));
    }
    let linked = publication_events::table.select(publication_events::publication_id);
    match (event, filter.role) {
        (Some(event), Some(role)) => {
            query = query.filter(
                publications::id.eq_any(
                    linked
                        .filter(publication_events::event_id.eq(event))
                        .filter(publication_events::role.eq(role.as_str())),
                ),
            );
        }
        (Some(event), None) => {
            query = query.filter(
                publications::id.eq_any(linked.filter(publication_events::event_id.eq(event))),
            );
        }
        (None, Some(role)) => {
            query = query.filter(
                publications::id.eq_any(linked.filter(publication_events::role.eq(role.as_str()))),
            );
        }
        (None, None) => {}
    }
    if let Some(text) = &filter.cursor {
        let cursor = Cursor::<String>::decode(text, SORT)?;
        let id = PublicationId(cursor.id);
        query = after_cursor!(
            query,
            publications::sort_key,
            publications::id,
            cursor.key,
            id
        );
    }
    Ok(query
        .order((publications::sort_key.asc(), publications::id.asc()))
        .limit(filter.limit + 1)
        .load(conn)?)
}

/// The documents of event `key`: its publications by title, each with the role of each link
/// to it (and, when `role` is given, that role only). 404 when `viewer` may not see the event.
pub fn event_documents(
    conn: &mut AnyConnection,
    key: &str,
    filter: &PublicationFilter,
    viewer: Viewer,
) -> Result<EventDocumentPage, ApiError> {
    let event = crate::store::events::get(conn, key, viewer)?;
    let filter = PublicationFilter {
        event: Some(event.id.to_string()),
        ..filter.clone()
    };
    let page = list(conn, &filter, viewer)?;
    let mut items = Vec::new();
    for publication in page.items {
        let roles: Vec<PublicationRole> = publication
            .events
            .iter()
            .filter(|link| link.event_id == event.id)
            .filter(|link| filter.role.is_none_or(|role| role == link.role))
            .map(|link| link.role)
            .collect();
        for role in roles {
            items.push(EventDocument {
                role,
                publication: publication.clone(),
            });
        }
    }
    Ok(EventDocumentPage {
        items,
        next_cursor: page.next_cursor,
    })
}
