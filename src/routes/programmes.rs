//! `/api/v1/programmes`: the programmes, actions, projects and plans events are implemented
//! under, with the organisations that fund, coordinate and implement them.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cache::Representations;
use crate::db::Database;
use crate::domain::enums::{ProgrammeKind, ProgrammeRole, ProgrammeStatus};
use crate::domain::programme::ProgrammeInput;
use crate::error::{ApiError, responses};
use crate::representation;
use crate::routes::events::EventListQuery;
use crate::routes::{Caller, params, rest};
use crate::store::events::{EventPage, ListsKept};
use crate::store::programmes::{
    self as store, ProgrammeFilter, ProgrammePage, ProgrammeResponse, Programmes,
};
use crate::store::{Viewer, lookup};

/// Programmes are the same for every caller (none is internal): one kept page for all.
const EVERYONE: Viewer = Viewer {
    sees_internal: false,
};

rest::crud_handlers! {
    resource: Programmes,
    tag: "programmes",
    collection: "/programmes",
    item: "/programmes/{id}",
    input: ProgrammeInput,
    response: ProgrammeResponse,
    summaries: ["Create a programme, action, project or plan", "One programme, by id or slug", "Change a programme", "Delete a programme nothing refers to"],
    descriptions: [
        "`parent_id` and each `organisations[].organisation_id` take an id or a slug and must exist (422 otherwise, naming the field). The period is any of `start_date`, `end_date` and `duration_months`: `end_date` not before `start_date`, and a duration given with both dates must agree with them (422). Refused with 409 for a taken slug (`slug_unique`) or a parent that would make the programme part of itself (`parent_cycle`).",
        "The programme with its parent and organisations summarised, and `effective_end_date` derived from its period. Its events are listed at `/programmes/{id}/events`.",
        "`organisations`, when present, replaces the whole list. Refused with 409 when the new parent would make the programme part of itself, directly or through its parts (`parent_cycle`).",
        "Refused with 409 (`still_referenced`) while events are implemented under it or other programmes are part of it; its organisations' parts go with it.",
    ],
    id_example: "support-to-pcve-western-balkans",
    handlers: [create_programme, get_programme, update_programme, delete_programme],
}

/// Filters and paging of the programme list (ordered by title).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgrammeListQuery {
    /// Free text over title, funding instrument and description; case- and
    /// accent-insensitive. At most 200 characters.
    #[param(example = "ipa")]
    q: Option<String>,
    /// Programmes of this kind (one value).
    #[param(value_type = Option<ProgrammeKind>, example = "action")]
    kind: Option<String>,
    /// Programmes with this status (one value).
    #[param(value_type = Option<ProgrammeStatus>, example = "drafting")]
    status: Option<String>,
    /// Programmes this organisation (id or slug) has a part in; with `role`, that part.
    #[param(example = "dcaf-ljubljana")]
    organisation: Option<String>,
    /// Programmes where an organisation (the one `organisation` names, if given) has this
    /// part (one value).
    #[param(value_type = Option<ProgrammeRole>, example = "coordinator")]
    role: Option<String>,
    /// The direct parts of this programme (id or slug), e.g. the projects under it.
    #[param(example = "horizontal-facility-ii")]
    parent: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

impl ProgrammeListQuery {
    fn into_filter(self) -> Result<ProgrammeFilter, ApiError> {
        Ok(ProgrammeFilter {
            q: params::text("q", self.q)?,
            kind: params::one(
                "kind",
                self.kind,
                ProgrammeKind::parse,
                ProgrammeKind::expected(),
            )?,
            status: params::one(
                "status",
                self.status,
                ProgrammeStatus::parse,
                ProgrammeStatus::expected(),
            )?,
            organisation: params::text("organisation", self.organisation)?,
            role: params::one(
                "role",
                self.role,
                ProgrammeRole::parse,
                ProgrammeRole::expected(),
            )?,
            parent: params::text("parent", self.parent)?,
            cursor: self.cursor,
            limit: params::limit(self.limit)?,
        })
    }
}

/// List programmes by title
///
/// Anyone may list programmes. Filters are optional and combine with AND. Keyset-paginated:
/// when `next_cursor` is not `null`, pass it as `cursor` for the next page. A malformed
/// parameter is 400 naming it; a filter naming no record is 422.
#[utoipa::path(
    tag = "programmes",
    params(ProgrammeListQuery),
    responses(
        (status = 200, description = "A page of programmes", body = ProgrammePage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/programmes")]
pub async fn list_programmes(
    req: HttpRequest,
    db: web::Data<Database>,
    query: web::Query<ProgrammeListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    rest::cached_list(&req, &db, EVERYONE, move |conn| store::list(conn, &filter)).await
}

/// The events implemented under a programme
///
/// Takes the filters, order and paging of `GET /api/v1/events` (`programme` is set by the
/// path); earliest start first by default. Events of the programme's parts are not included:
/// list those through their own path. 404 when no programme has this id or slug.
#[utoipa::path(
    tag = "programmes",
    params(("id" = String, Path, description = "The programme's id (UUID) or slug", example = "radicalisation-in-prisons-wb"), EventListQuery),
    responses(
        (status = 200, description = "A page of the programme's events", body = EventPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/programmes/{id}/events")]
pub async fn programme_events(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<Representations>,
    lists_kept: web::Data<ListsKept>,
    path: web::Path<String>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let mut filter = query.into_inner().into_filter()?;
    let key = path.into_inner();
    let viewer = caller.viewer();
    filter.programme = Some(key.clone());
    rest::cached_page(&req, &db, viewer, move |conn, _| {
        representation::event_page(conn, &cache, &lists_kept, &filter, viewer)
            .map_err(|error| error.or_not_found("programme", "programme", &key))
    })
    .await
}

/// Filters and paging of an organisation's programmes (ordered by title).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrganisationProgrammesQuery {
    /// Only programmes where the organisation has this part (one value).
    #[param(value_type = Option<ProgrammeRole>, example = "coordinator")]
    role: Option<String>,
    /// Programmes of this kind (one value).
    #[param(value_type = Option<ProgrammeKind>, example = "action")]
    kind: Option<String>,
    /// Programmes with this status (one value).
    #[param(value_type = Option<ProgrammeStatus>, example = "drafting")]
    status: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// Programmes an organisation funds, coordinates, implements, benefits from or leads
///
/// Each programme lists its organisations with their roles and dates. Anyone may list them.
/// 404 when no organisation has this id or slug. Keyset-paginated: when `next_cursor` is not
/// `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "organisations",
    params(("id" = String, Path, description = "The organisation's id (UUID) or slug", example = "dcaf-ljubljana"), OrganisationProgrammesQuery),
    responses(
        (status = 200, description = "A page of the organisation's programmes", body = ProgrammePage),
        responses::BadRequest,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/organisations/{id}/programmes")]
pub async fn organisation_programmes(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<OrganisationProgrammesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let mut filter = ProgrammeFilter {
        role: params::one(
            "role",
            query.role,
            ProgrammeRole::parse,
            ProgrammeRole::expected(),
        )?,
        kind: params::one(
            "kind",
            query.kind,
            ProgrammeKind::parse,
            ProgrammeKind::expected(),
        )?,
        status: params::one(
            "status",
            query.status,
            ProgrammeStatus::parse,
            ProgrammeStatus::expected(),
        )?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
        ..Default::default()
    };
    let key = path.into_inner();
    rest::cached_list(&req, &db, EVERYONE, move |conn| {
        let id = lookup::organisation_id(conn, &key)?
            .ok_or_else(|| ApiError::not_found("organisation", &key))?;
        filter.organisation = Some(id.to_string());
        store::list(conn, &filter)
    })
    .await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_programmes)
        .service(create_programme)
        .service(get_programme)
        .service(update_programme)
        .service(delete_programme)
        .service(programme_events)
        .service(organisation_programmes);
}
