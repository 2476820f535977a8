//! `/api/v1/organisations` and `/api/v1/people`: the records events and networks point to.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::Database;
use crate::domain::enums::OrganisationKind;
use crate::domain::organisation::{OrganisationInput, PersonInput};
use crate::error::{ApiError, responses};
use crate::routes::events::EventListQuery;
use crate::routes::{Caller, params, rest};
use crate::store::events::{self as event_store, EventResponse};
use crate::store::organisations::{
    self as store, OrganisationFilter, OrganisationPage, OrganisationResponse, Organisations,
};
use crate::store::people::{
    self as people_store, People, PersonFilter, PersonPage, PersonResponse,
};
use crate::store::{Viewer, lookup};

rest::crud_handlers! {
    resource: Organisations,
    tag: "organisations",
    collection: "/organisations",
    item: "/organisations/{id}",
    input: OrganisationInput,
    response: OrganisationResponse,
    summaries: ["Create an organisation", "One organisation, by id or slug", "Change an organisation", "Delete an organisation nothing refers to"],
    descriptions: [
        "`parent_id` takes an id or a slug and must exist (422 otherwise). Refused with 409 for a taken slug (`slug_unique`).",
        "The organisation, with the organisation it is part of summarised (`parent`).",
        "Refused with 409 when the new parent would make the organisation part of itself (`parent_cycle`).",
        "Refused with 409 (`still_referenced`) while events, people, networks, memberships, programmes or other organisations refer to it.",
    ],
    id_example: "dcaf-ljubljana",
    handlers: [create_organisation, get_organisation, update_organisation, delete_organisation],
}

rest::crud_handlers! {
    resource: People,
    tag: "people",
    collection: "/people",
    item: "/people/{id}",
    input: PersonInput,
    response: PersonResponse,
    summaries: ["Create a person", "One person, by id or slug", "Change a person", "Delete a person nothing refers to"],
    descriptions: [
        "`organisation_id` takes an id or a slug and must exist (422 otherwise). Refused with 409 for a taken slug (`slug_unique`).",
        "The person, with their organisation summarised. `email` and `phone` appear only for callers with a token.",
        "To remove a contact detail, set it to `null`.",
        "Refused with 409 (`still_referenced`) while events or network memberships name the person.",
    ],
    id_example: "maciej-popowski",
    handlers: [create_person, get_person, update_person, delete_person],
}

/// Filters and paging of the organisation list (ordered by name).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationListQuery {
    /// Free text over name, acronym and description; case- and accent-insensitive. At most 200
    /// characters.
    #[param(example = "council")]
    q: Option<String>,
    /// Organisations of this kind (one value).
    #[param(value_type = Option<OrganisationKind>, example = "government")]
    kind: Option<String>,
    /// Organisations based in this country: ISO 3166-1 alpha-2, any case (`XK` for Kosovo).
    #[param(example = "BA")]
    country: Option<String>,
    /// The direct parts of this organisation (id or slug).
    #[param(example = "european-commission")]
    parent: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// List organisations by name
///
/// Anyone may list organisations. Filters are optional and combine with AND. Keyset-paginated:
/// when `next_cursor` is not `null`, pass it as `cursor` for the next page. A malformed
/// parameter is 400 naming it.
#[utoipa::path(
    tag = "organisations",
    params(OrganisationListQuery),
    responses(
        (status = 200, description = "A page of organisations", body = OrganisationPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    req: HttpRequest,
    db: web::Data<Database>,
    query: web::Query<OrganisationListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = OrganisationFilter {
        q: params::text("q", query.q)?,
        kind: params::one(
            "kind",
            query.kind,
            OrganisationKind::parse,
            OrganisationKind::expected(),
        )?,
        country: params::country("country", query.country)?,
        parent: params::text("parent", query.parent)?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    // Every caller sees the same list: one kept page for all.
    let viewer = Viewer {
        sees_internal: false,
    };
    rest::cached_list(&req, &db, viewer, move |conn| store::list(conn, &filter)).await
}

/// Filters and paging of the people list (ordered by name).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonListQuery {
    /// Free text over name and position; case- and accent-insensitive (`becirevic` finds
    /// Edina Bećirević). At most 200 characters.
    #[param(example = "becirevic")]
    q: Option<String>,
    /// People who work for this organisation (id or slug).
    #[param(example = "ministry-of-security-bih")]
    organisation: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// List people by name
///
/// Anyone may list people; `email` and `phone` appear only for callers with a token. Filters
/// are optional and combine with AND. Keyset-paginated: when `next_cursor` is not `null`, pass
/// it as `cursor` for the next page.
#[utoipa::path(
    tag = "people",
    params(PersonListQuery),
    responses(
        (status = 200, description = "A page of people", body = PersonPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/people")]
pub async fn list_people(
    req: HttpRequest,
    db: web::Data<Database>,
    query: web::Query<PersonListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = PersonFilter {
        q: params::text("q", query.q)?,
        organisation: params::text("organisation", query.organisation)?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    let viewer = caller.viewer();
    rest::cached_list(&req, &db, viewer, move |conn| {
        people_store::list(conn, &filter, viewer)
    })
    .await
}

/// An event with the parts one organisation or person plays in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInEvent {
    /// Every part the organisation or person plays in the event: organiser roles
    /// (`OrganiserRole`) first, then participant roles (`ParticipantRole`).
    #[schema(example = json!(["organiser"]))]
    pub roles: Vec<String>,
    /// The event, as `GET /api/v1/events/{id}` gives it.
    pub event: EventResponse,
}

/// A page of events with the roles one organisation or person plays in them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInEventPage {
    /// The events of this page, in the order asked for.
    pub items: Vec<RoleInEvent>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Events of one organisation or person, with the roles; 404 when the record does not exist.
async fn events_of(
    req: HttpRequest,
    db: web::Data<Database>,
    query: EventListQuery,
    caller: Caller,
    who: Who,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.into_filter()?;
    let viewer = caller.viewer();
    // Kept as every event list is (see `rest::cached_page`): a person's page that clients poll
    // is read from the database once per write. The lookup is the page's first statement, so
    // the generation it was read at is one the whole page is at least as new as.
    rest::cached_page(&req, &db, viewer, move |conn, read_before| {
        let (id, read_at) = match &who {
            Who::Organisation(key) => lookup::organisation_id_at(conn, key)?
                .map(|(id, at)| (id.0, at))
                .ok_or_else(|| ApiError::not_found("organisation", key))?,
            Who::Person(key) => lookup::person_id_at(conn, key)?
                .map(|(id, at)| (id.0, at))
                .ok_or_else(|| ApiError::not_found("person", key))?,
        };
        match &who {
            Who::Organisation(_) => filter.organisation = Some(id.to_string()),
            Who::Person(_) => filter.person = Some(id.to_string()),
        }
        let page = event_store::list(conn, &filter, viewer)?;
        let items = page
            .items
            .into_iter()
            .map(|event| {
                let organiser_roles = event
                    .organisers
                    .iter()
                    .filter(|o| o.organisation_id.0 == id)
                    .map(|o| o.role.as_str().to_owned());
                let participant_roles = event
                    .participants
                    .iter()
                    .filter(|p| p.participant.id == id)
                    .map(|p| p.role.as_str().to_owned());
                RoleInEvent {
                    roles: organiser_roles.chain(participant_roles).collect(),
                    event,
                }
            })
            .collect();
        let body = serde_json::to_vec(&RoleInEventPage {
            items,
            next_cursor: page.next_cursor,
        })
        .map_err(ApiError::internal)?;
        Ok((body, read_before.unwrap_or(read_at)))
    })
    .await
}

#[derive(Clone)]
enum Who {
    Organisation(String),
    Person(String),
}

/// Events an organisation organises, hosts, funds or takes part in, with its roles
///
/// Each item gives the event and the organisation's roles in it. Takes the filters, order and
/// paging of `GET /api/v1/events` (`organisation` is set by the path). 404 when no
/// organisation has this id or slug.
#[utoipa::path(
    tag = "organisations",
    params(("id" = String, Path, description = "The organisation's id (UUID) or slug", example = "dcaf-ljubljana"), EventListQuery),
    responses(
        (status = 200, description = "A page of the organisation's events", body = RoleInEventPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/organisations/{id}/events")]
pub async fn organisation_events(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    events_of(
        req,
        db,
        query.into_inner(),
        caller,
        Who::Organisation(path.into_inner()),
    )
    .await
}

/// Events a person takes part in (chair, speaker…), with the roles
///
/// Each item gives the event and the person's roles in it. Takes the filters, order and
/// paging of `GET /api/v1/events` (`person` is set by the path). 404 when no person has this
/// id or slug.
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path, description = "The person's id (UUID) or slug", example = "maciej-popowski"), EventListQuery),
    responses(
        (status = 200, description = "A page of the person's events", body = RoleInEventPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/people/{id}/events")]
pub async fn person_events(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    events_of(
        req,
        db,
        query.into_inner(),
        caller,
        Who::Person(path.into_inner()),
    )
    .await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_organisations)
        .service(create_organisation)
        .service(get_organisation)
        .service(update_organisation)
        .service(delete_organisation)
        .service(organisation_events)
        .service(list_people)
        .service(create_person)
        .service(get_person)
        .service(update_person)
        .service(delete_person)
        .service(person_events);
}
