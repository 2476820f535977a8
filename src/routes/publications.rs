//! `/api/v1/publications`: reports, studies, terms of reference…, and the lists of them per
//! person, organisation and event.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::db::Database;
use crate::domain::enums::{PublicationKind, PublicationRole};
use crate::domain::publication::PublicationInput;
use crate::error::{ApiError, responses};
use crate::routes::{Caller, params, rest};
use crate::store::lookup;
use crate::store::publications::{
    self as store, EventDocumentPage, PublicationFilter, PublicationPage, PublicationResponse,
    Publications,
};

rest::crud_handlers! {
    resource: Publications,
    tag: "publications",
    collection: "/publications",
    item: "/publications/{id}",
    input: PublicationInput,
    response: PublicationResponse,
    summaries: ["Record a publication", "One publication, by id or slug", "Change a publication", "Delete a publication no outcome names"],
    descriptions: [
        "Only the publication's description and a link are stored, never its file. `authors[].person_id`, `authors[].affiliation_id`, `publisher_id` and `events[].event_id` take ids or slugs and must exist (422 naming the field otherwise). `doi` must have the form of a DOI, `isbn` a correct check digit, `url` be `http(s)`, `date` be `YYYY`, `YYYY-MM` or `YYYY-MM-DD` and `language` a BCP 47 tag (422 otherwise). Refused with 409 for a taken slug (`slug_unique`).",
        "The publication, with its authors, their affiliations, its publisher and the events it is linked to summarised. Links to `internal` events are left out for callers without a token.",
        "`authors`, `topics` and `events`, when present, replace the whole list.",
        "Refused with 409 (`still_referenced`) while an outcome of an event names it; its authors, topics and event links go with it.",
    ],
    id_example: "a-waiting-game",
    handlers: [create_publication, get_publication, update_publication, delete_publication],
}

/// Filters and paging of a list of publications (ordered by title).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PublicationListQuery {
    /// Free text over title, topics and description; case- and accent-insensitive. At most
    /// 200 characters.
    #[param(example = "foreign fighters")]
    q: Option<String>,
    /// Publications of this kind (one value).
    #[param(value_type = Option<PublicationKind>, example = "report")]
    kind: Option<String>,
    /// Publications with this topic (case- and accent-insensitive, the whole topic).
    #[param(example = "foreign-fighters")]
    topic: Option<String>,
    /// Publications this person wrote (id or slug).
    #[param(example = "edina-becirevic")]
    author: Option<String>,
    /// Publications this organisation published or an author affiliated with it wrote (id or
    /// slug).
    #[param(example = "university-of-sarajevo")]
    organisation: Option<String>,
    /// Publications this organisation published (id or slug).
    #[param(example = "rcc")]
    publisher: Option<String>,
    /// Publications linked to this event (id or slug).
    #[param(example = "iisg-board-4")]
    event: Option<String>,
    /// Publications linked to an event in this role (with `event`: to that event).
    #[param(value_type = Option<PublicationRole>, example = "endorsed")]
    role: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

impl PublicationListQuery {
    fn into_filter(self) -> Result<PublicationFilter, ApiError> {
        Ok(PublicationFilter {
            q: params::text("q", self.q)?,
            kind: params::one(
                "kind",
                self.kind,
                PublicationKind::parse,
                PublicationKind::expected(),
            )?,
            topic: params::text("topic", self.topic)?,
            author: params::text("author", self.author)?,
            organisation: params::text("organisation", self.organisation)?,
            publisher: params::text("publisher", self.publisher)?,
            event: params::text("event", self.event)?,
            role: params::one(
                "role",
                self.role,
                PublicationRole::parse,
                PublicationRole::expected(),
            )?,
            cursor: self.cursor,
            limit: params::limit(self.limit)?,
        })
    }
}

/// List publications by title
///
/// Anyone may list publications. Filters are optional and combine with AND; one naming no
/// record is 422 naming it. Keyset-paginated: when `next_cursor` is not `null`, pass it as
/// `cursor` for the next page. A malformed parameter is 400 naming it.
#[utoipa::path(
    tag = "publications",
    params(PublicationListQuery),
    responses(
        (status = 200, description = "A page of publications", body = PublicationPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/publications")]
pub async fn list_publications(
    req: HttpRequest,
    db: web::Data<Database>,
    query: web::Query<PublicationListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        store::list(conn, &filter, viewer)
    })
    .await
}

/// What a person wrote
///
/// The publications the person is an author of, by title, with the filters and paging of
/// `GET /api/v1/publications` (`author` is set by the path). 404 when no person has this id or
/// slug.
#[utoipa::path(
    tag = "publications",
    params(("id" = String, Path, description = "The person's id (UUID) or slug", example = "vlado-azinovic"), PublicationListQuery),
    responses(
        (status = 200, description = "A page of publications", body = PublicationPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/people/{id}/publications")]
pub async fn person_publications(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<PublicationListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.into_inner().into_filter()?;
    let key = path.into_inner();
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        let id = lookup::person_id(conn, &key)?
            .ok_or_else(|| ApiError::not_found("person", key.clone()))?;
        filter.author = Some(id.to_string());
        store::list(conn, &filter, viewer)
    })
    .await
}

/// What an organisation published, or its people wrote
///
/// The publications the organisation published, together with those an author wrote as
/// part of it (their `affiliation_id`), by title; `publisher=` on `GET /api/v1/publications`
/// gives the first kind alone. Takes the filters and paging of that list (`organisation` is
/// set by the path). 404 when no organisation has this id or slug.
#[utoipa::path(
    tag = "publications",
    params(("id" = String, Path, description = "The organisation's id (UUID) or slug", example = "rcc"), PublicationListQuery),
    responses(
        (status = 200, description = "A page of publications", body = PublicationPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/organisations/{id}/publications")]
pub async fn organisation_publications(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<PublicationListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.into_inner().into_filter()?;
    let key = path.into_inner();
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        let id = lookup::organisation_id(conn, &key)?
            .ok_or_else(|| ApiError::not_found("organisation", key.clone()))?;
        filter.organisation = Some(id.to_string());
        store::list(conn, &filter, viewer)
    })
    .await
}

/// An event's documents
///
/// The publications linked to the event, by title, each with the role of its link (a
/// publication linked in two roles comes twice). Takes the filters and paging of
/// `GET /api/v1/publications`; `role` keeps the links of that role. 404 when no event has
/// this id or slug, or it is `internal` and the request carries no token.
#[utoipa::path(
    tag = "publications",
    params(("id" = String, Path, description = "The event's id (UUID) or slug", example = "iisg-board-4"), PublicationListQuery),
    responses(
        (status = 200, description = "A page of the event's documents", body = EventDocumentPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events/{id}/documents")]
pub async fn event_documents(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<PublicationListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let key = path.into_inner();
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        store::event_documents(conn, &key, &filter, viewer)
    })
    .await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_publications)
        .service(create_publication)
        .service(get_publication)
        .service(update_publication)
        .service(delete_publication)
        .service(person_publications)
        .service(organisation_publications)
        .service(event_documents);
}
