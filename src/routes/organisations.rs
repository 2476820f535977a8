//! `/api/v1/organisations` and `/api/v1/people`: the records events and networks point to.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::Database;
use crate::domain::enums::OrganisationKind;
use crate::domain::organisation::{OrganisationInput, PersonInput};
use crate::error::{ApiError, responses};
use crate::http;
use crate::routes::events::EventListQuery;
use crate::routes::{Caller, params, rest};
use crate::store::events::{self as event_store, EventResponse};
use crate::store::lookup;
use crate::store::organisations::{
    self as store, OrganisationFilter, OrganisationPage, OrganisationResponse, Organisations,
};
use crate::store::people::{
    self as people_store, People, PersonFilter, PersonPage, PersonResponse,
};

rest::crud_handlers! {
    resource: Organisations,
    tag: "organisations",
    collection: "/organisations",
    item: "/organisations/{id}",
    input: OrganisationInput,
    response: OrganisationResponse,
    summaries: ["Create an organisation", "One organisation, by id or slug", "Change an organisation", "Delete an organisation nothing refers to"],
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
    handlers: [create_person, get_person, update_person, delete_person],
}

/// Filters and paging of the organisation list (ordered by name).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationListQuery {
    /// Free text over name, acronym and description; case- and accent-insensitive.
    q: Option<String>,
    #[param(value_type = Option<OrganisationKind>)]
    kind: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    country: Option<String>,
    /// Parent organisation (id or slug): its direct parts.
    parent: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// List organisations by name.
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
    let page = db.run(move |conn| store::list(conn, &filter)).await?;
    Ok(http::collection(&page))
}

/// Filters and paging of the people list (ordered by name).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PersonListQuery {
    /// Free text over name and position; case- and accent-insensitive (`becirevic` finds
    /// `Bećirević`).
    q: Option<String>,
    /// Affiliation (organisation id or slug).
    organisation: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

/// List people by name.
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
    let page = db
        .run(move |conn| people_store::list(conn, &filter, viewer))
        .await?;
    Ok(http::collection(&page))
}

/// An event with the parts one organisation or person plays in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInEvent {
    /// `organiser`, `host`, `chair`… (organiser roles first, then participant roles).
    pub roles: Vec<String>,
    pub event: EventResponse,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleInEventPage {
    pub items: Vec<RoleInEvent>,
    pub next_cursor: Option<String>,
}

/// Events of one organisation or person, with the roles; 404 when the record does not exist.
async fn events_of(
    db: web::Data<Database>,
    query: EventListQuery,
    caller: Caller,
    who: Who,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.into_filter()?;
    let viewer = caller.viewer();
    let page = db
        .run(move |conn| {
            let id = match &who {
                Who::Organisation(key) => lookup::organisation_id(conn, key)?
                    .map(|id| id.0)
                    .ok_or_else(|| ApiError::not_found("organisation", key))?,
                Who::Person(key) => lookup::person_id(conn, key)?
                    .map(|id| id.0)
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
            Ok(RoleInEventPage {
                items,
                next_cursor: page.next_cursor,
            })
        })
        .await?;
    Ok(http::collection(&page))
}

enum Who {
    Organisation(String),
    Person(String),
}

/// Events an organisation organises, hosts, funds or takes part in, with its roles.
#[utoipa::path(
    tag = "organisations",
    params(("id" = String, Path, description = "Organisation id or slug"), EventListQuery),
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
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    events_of(
        db,
        query.into_inner(),
        caller,
        Who::Organisation(path.into_inner()),
    )
    .await
}

/// Events a person takes part in (chair, speaker…), with the roles.
#[utoipa::path(
    tag = "people",
    params(("id" = String, Path, description = "Person id or slug"), EventListQuery),
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
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    events_of(
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
