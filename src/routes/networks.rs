//! `/api/v1/networks`: standing bodies, their dated members and their meetings.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cache::Representations;
use crate::clock::Clock;
use crate::db::Database;
use crate::domain::enums::{MembershipRole, Role};
use crate::domain::organisation::{MembershipInput, NetworkInput};
use crate::error::{ApiError, responses};
use crate::http;
use crate::representation;
use crate::routes::events::EventListQuery;
use crate::routes::{Caller, params, rest};
use crate::store::Viewer;
use crate::store::audit;
use crate::store::events::ListsKept;
use crate::store::events::{EventPage, EventSort};
use crate::store::idempotency::StoredResponse;
use crate::store::memberships::{
    self as member_store, MembershipFilter, MembershipPage, MembershipResponse, Memberships,
};
use crate::store::networks::{
    self as store, NetworkFilter, NetworkPage, NetworkResponse, Networks,
};
use crate::store::resource::Resource;

rest::crud_handlers! {
    resource: Networks,
    tag: "networks",
    collection: "/networks",
    item: "/networks/{id}",
    input: NetworkInput,
    response: NetworkResponse,
    summaries: ["Create a network", "One network, by id or slug", "Change a network", "Delete a network with no meetings"],
    descriptions: [
        "`coordinator_id` and `supporter_ids` take ids or slugs and must exist (422 otherwise). Members are added afterwards, through `/networks/{id}/members`. Refused with 409 for a taken slug (`slug_unique`).",
        "The network, with its coordinator and supporters summarised. Its members and meetings are sub-resources: `/networks/{id}/members` and `/networks/{id}/meetings`.",
        "`supporter_ids`, when present, replaces the whole list.",
        "Refused with 409 (`still_referenced`) while events are its meetings; its memberships go with it.",
    ],
    id_example: "rnnc",
    handlers: [create_network, get_network, update_network, delete_network],
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NetworkListQuery {
    /// Free text over name, acronym and description; case- and accent-insensitive. At most
    /// 200 characters.
    #[param(example = "p-cve")]
    q: Option<String>,
    /// `true`: only networks that have not met within their cadence (`overdue` is `true`);
    /// `false`: only networks with a cadence that they keep. Networks without a cadence (or
    /// with no date to count from) are in neither.
    #[param(value_type = Option<bool>, example = true)]
    overdue: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// List networks by name
///
/// Anyone may list networks. Each shows its last and next meeting and whether it is overdue
/// as of today (UTC); without a token only public meetings count. Keyset-paginated: when
/// `next_cursor` is not `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "networks",
    params(NetworkListQuery),
    responses(
        (status = 200, description = "A page of networks", body = NetworkPage),
        responses::BadRequest,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/networks")]
pub async fn list_networks(
    req: HttpRequest,
    db: web::Data<Database>,
    clock: web::Data<Clock>,
    query: web::Query<NetworkListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = NetworkFilter {
        q: params::text("q", query.q)?,
        overdue: params::boolean("overdue", query.overdue)?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    let (viewer, today) = (caller.viewer(), clock.today());
    rest::cached_list_on(&req, &db, viewer, today, move |conn| {
        store::list(conn, &filter, viewer, today)
    })
    .await
}

/// The network's meetings in series order
///
/// Series numbers rise with start dates, so this is start order (`sort=-start` reverses it;
/// `sort=updated` is taken as `start`). Takes the filters and paging of `GET /api/v1/events`
/// (`network` is set by the path). 404 when no network has this id or slug.
#[utoipa::path(
    tag = "networks",
    params(("id" = String, Path, description = "The network's id (UUID) or slug", example = "rnnc"), EventListQuery),
    responses(
        (status = 200, description = "The network's meetings, oldest first", body = EventPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/networks/{id}/meetings")]
pub async fn network_meetings(
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
    filter.network = Some(key.clone());
    if filter.sort == EventSort::Updated {
        filter.sort = EventSort::Start;
    }
    rest::cached_page(&req, &db, viewer, move |conn, _| {
        representation::event_page(conn, &cache, &lists_kept, &filter, viewer)
            .map_err(|error| error.or_not_found("network", "network", &key))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberListQuery {
    /// Only memberships that cover this day (`YYYY-MM-DD`): `since` absent or on or before
    /// it, and `until` absent or on or after it ("who were the members on that day").
    #[param(value_type = Option<String>, format = Date, example = "2019-04-24")]
    as_of: Option<String>,
    /// Only members with this role (one value).
    #[param(value_type = Option<MembershipRole>, example = "chair")]
    role: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

/// The network's members (people and organisations) with their roles and dates
///
/// Anyone may list them. Each membership names its member (`person_id` or `organisation_id`,
/// with a summary), role, country and dates. 404 when no network has this id or slug.
/// Keyset-paginated: when `next_cursor` is not `null`, pass it as `cursor` for the next page.
#[utoipa::path(
    tag = "networks",
    params(("id" = String, Path, description = "The network's id (UUID) or slug", example = "iisg-board"), MemberListQuery),
    responses(
        (status = 200, description = "A page of memberships", body = MembershipPage),
        responses::BadRequest,
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/networks/{id}/members")]
pub async fn list_members(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    query: web::Query<MemberListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let filter = MembershipFilter {
        as_of: params::date("as_of", query.as_of)?,
        role: params::one(
            "role",
            query.role,
            MembershipRole::parse,
            MembershipRole::expected(),
        )?,
        cursor: query.cursor,
        limit: params::limit(query.limit)?,
    };
    let key = path.into_inner();
    // Memberships are public: one page for every caller.
    let viewer = Viewer {
        sees_internal: false,
    };
    rest::cached_list(&req, &db, viewer, move |conn| {
        member_store::list_members(conn, &key, &filter)
    })
    .await
}

/// Add a member
///
/// Needs a token with role editor or admin. Exactly one of `person_id` and `organisation_id`
/// (an id or a slug that must exist); `until` not before `since` (422 otherwise). Answers 201
/// with the membership, its `Location` and `ETag`; 409 when the network already has the same
/// member in the same role from the same first day (the problem names that membership).
/// `Idempotency-Key` works as on the other POSTs.
#[utoipa::path(
    tag = "networks",
    params(
        ("id" = String, Path, description = "The network's id (UUID) or slug", example = "iisg-board"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters, unique per request (a UUID is a good key): makes a retried POST safe, as the first response is replayed for 24 hours. Keys are per token."),
    ),
    request_body(content = MembershipInput, description = "The new membership", content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = MembershipResponse, headers(
            ("Location" = String, description = "The new membership's URL"),
            ("ETag" = String, description = "The representation's entity tag, for `If-Match` and `If-None-Match`"),
        )),
        responses::BadRequest,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[post("/networks/{id}/members")]
pub async fn add_member(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<String>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.require(Role::Editor)?;
    let valid = http::parse_valid(http::json_body(&req, &body)?, MembershipInput::validate)?;
    let key = path.into_inner();
    rest::post_once(&req, &db, &caller, &body, move |conn| {
        let created = member_store::add_member(conn, &key, &valid)?;
        let changes =
            serde_json::to_value(Memberships::as_input(&created)).map_err(ApiError::internal)?;
        audit::record(
            conn,
            &actor,
            "create",
            "membership",
            &created.id.to_string(),
            &changes,
        )?;
        let (body, etag) = representation::of(&created)?;
        Ok(StoredResponse {
            status: 201,
            location: Some(format!(
                "/api/v1/networks/{}/members/{}",
                created.network_id, created.id
            )),
            etag: Some(etag),
            body,
        })
    })
    .await
}

/// One membership
///
/// Anyone may read it. 404 when the network or the membership does not exist, or the
/// membership belongs to another network. Answers with an `ETag` (`If-None-Match` gives 304).
#[utoipa::path(
    tag = "networks",
    params(
        ("id" = String, Path, description = "The network's id (UUID) or slug"),
        ("membership_id" = uuid::Uuid, Path, description = "The membership's id (from the member list or the `Location` of its creation)"),
    ),
    responses(
        (status = 200, description = "The membership", body = MembershipResponse, headers(
            ("ETag" = String, description = "The representation's entity tag, for `If-Match` and `If-None-Match`"),
        )),
        responses::NotFound,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/networks/{id}/members/{membership_id}")]
pub async fn get_member(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<Representations>,
    path: web::Path<(String, String)>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let (network, id) = path.into_inner();
    let viewer = caller.viewer();
    let entry = db
        .run(move |conn| {
            let id = member_store::membership_id(conn, &network, &id)?;
            representation::cached::<Memberships>(conn, &cache, &id.to_string(), viewer)
        })
        .await?;
    Ok(http::with_etag(
        &req,
        StatusCode::OK,
        entry.body.clone(),
        &entry.etag,
    ))
}

/// Change a membership, e.g. set `until` when it ends
///
/// The body is a JSON Merge Patch (RFC 7396) of the membership's fields (those of
/// `MembershipInput`), sent as `application/merge-patch+json` or `application/json`: fields
/// present replace, `null` clears, fields absent stay. Needs a token with role editor or
/// admin. With `If-Match`, the change applies only to the version whose `ETag` was read (else
/// 412). 409 when the change would make it a copy of another membership of the network (the
/// same member, role and first day).
#[utoipa::path(
    tag = "networks",
    params(
        ("id" = String, Path, description = "The network's id (UUID) or slug"),
        ("membership_id" = uuid::Uuid, Path, description = "The membership's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the change is based on; 412 when the membership has changed since"),
    ),
    request_body(content = serde_json::Value, description = "A merge patch of the membership's fields", content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed membership", body = MembershipResponse, headers(
            ("ETag" = String, description = "The new representation's entity tag"),
        )),
        responses::BadRequest,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[patch("/networks/{id}/members/{membership_id}")]
pub async fn update_member(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let id = membership_of(&db, path.into_inner()).await?;
    rest::update::<Memberships>(req, db, id, body, caller).await
}

/// Remove a membership
///
/// For a membership recorded by mistake: to record that one ended, set its `until` instead,
/// so `as_of` lists still show it for the days it lasted. Needs a token with role editor or
/// admin. Answers 204. With `If-Match`, removes only the version whose `ETag` was read (else
/// 412).
#[utoipa::path(
    tag = "networks",
    params(
        ("id" = String, Path, description = "The network's id (UUID) or slug"),
        ("membership_id" = uuid::Uuid, Path, description = "The membership's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` the removal is based on; 412 when the membership has changed since"),
    ),
    responses(
        (status = 204, description = "Removed"),
        responses::NotFound,
        responses::PreconditionFailed,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[delete("/networks/{id}/members/{membership_id}")]
pub async fn remove_member(
    req: HttpRequest,
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let id = membership_of(&db, path.into_inner()).await?;
    rest::delete::<Memberships>(req, db, id, caller).await
}

/// The id of the membership a nested path names, as the shared write path takes it: 404 when
/// the network does not exist or the membership is not one of its own. (A membership never
/// moves to another network, so the check holds for the write that follows.) The handlers check
/// the token before it, so a missing or too weak one is 401/403 without a database read, as on
/// the other resources.
async fn membership_of(db: &Database, (network, id): (String, String)) -> Result<String, ApiError> {
    let id = db
        .run(move |conn| member_store::membership_id(conn, &network, &id))
        .await?;
    Ok(id.to_string())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_networks)
        .service(create_network)
        .service(get_network)
        .service(update_network)
        .service(delete_network)
        .service(network_meetings)
        .service(list_members)
        .service(add_member)
        .service(get_member)
        .service(update_member)
        .service(remove_member);
}
