//! `/api/v1/events`: meetings and events.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cache::Representations;
use crate::db::{Database, Timestamp};
use crate::domain::enums::{EventKind, EventStatus};
use crate::domain::event::EventInput;
use crate::error::{ApiError, responses};
use crate::representation;
use crate::routes::{Caller, params, rest};
use crate::store::events::ListsKept;
use crate::store::events::{EventFilter, EventPage, EventResponse, EventSort, Events};

/// Filters and paging of the event list. Dates are local to each event. Filters combine with
/// AND; those that name a record (network, organisation, person, chain, programme) take its id or
/// slug.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventListQuery {
    /// Events that end on or after this day (`YYYY-MM-DD`, compared with each event's local
    /// dates): an event running 22–23 October 2019 is found by `from=2019-10-23`.
    #[param(value_type = Option<String>, format = Date, example = "2019-01-01")]
    from: Option<String>,
    /// Events that start on or before this day (`YYYY-MM-DD`, inclusive, compared with each
    /// event's local dates); not before `from`.
    #[param(value_type = Option<String>, format = Date, example = "2019-12-31")]
    to: Option<String>,
    /// Events in this city: the whole name, case- and accent-insensitive (`tirana` finds
    /// `Tirana`).
    #[param(example = "Tirana")]
    city: Option<String>,
    /// Events in this country: ISO 3166-1 alpha-2, any case (`XK` for Kosovo).
    #[param(example = "AL")]
    country: Option<String>,
    /// Events of this kind; several kinds comma-separated (any of them matches). Values as in
    /// `EventKind`.
    #[param(example = "network_meeting,board_meeting")]
    kind: Option<String>,
    /// Events with this status; several comma-separated (any of them matches). Values as in
    /// `EventStatus`.
    #[param(example = "scheduled")]
    status: Option<String>,
    /// Events with this topic: the whole topic, case- and accent-insensitive.
    #[param(example = "p-cve")]
    topic: Option<String>,
    /// Free text over title, description, venue, city, address and topics; case- and
    /// accent-insensitive (`janecek` finds the meeting whose description names Mario Janeček).
    /// At most 200 characters.
    #[param(example = "janecek")]
    q: Option<String>,
    /// Only events changed at or after this instant (RFC 3339, e.g. `2019-11-18T00:00:00Z`):
    /// with `sort=updated`, what a client that syncs needs.
    #[param(value_type = Option<String>, format = DateTime)]
    updated_since: Option<String>,
    /// Meetings of this network (id or slug).
    #[param(example = "rnnc")]
    network: Option<String>,
    /// Events this organisation (id or slug) organises, hosts, funds, supports or takes part
    /// in.
    #[param(example = "iisg-support-group")]
    organisation: Option<String>,
    /// Events this person (id or slug) takes part in, in any role.
    #[param(example = "maciej-popowski")]
    person: Option<String>,
    /// Events of this chain (id or slug).
    #[param(example = "tirana-april-2019")]
    chain: Option<String>,
    /// Events implemented under this programme (id or slug); not those of its parts.
    #[param(example = "radicalisation-in-prisons-wb")]
    programme: Option<String>,
    /// The order: `start` (the default: earliest start first), `-start` (latest first) or
    /// `updated` (least recently changed first, for syncing).
    #[param(value_type = Option<String>, pattern = "^(start|-start|updated)$", example = "-start")]
    sort: Option<String>,
    /// The `next_cursor` of the previous page, as given (opaque); absent for the first page.
    /// Keep the other parameters the same from page to page.
    cursor: Option<String>,
    /// The page size: 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200, example = 20)]
    limit: Option<String>,
}

impl EventListQuery {
    pub fn into_filter(self) -> Result<EventFilter, ApiError> {
        let from = params::date("from", self.from)?;
        let to = params::date("to", self.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(ApiError::bad_parameter("to", "must not be before from"));
        }
        let country = params::country("country", self.country)?;
        let updated_since = self
            .updated_since
            .map(|v| {
                Timestamp::parse_sortable(&v).ok_or_else(|| {
                    ApiError::bad_parameter(
                        "updated_since",
                        format!("{v:?} is not an RFC 3339 instant"),
                    )
                })
            })
            .transpose()?;
        let sort = match self.sort.as_deref() {
            None => EventSort::Start,
            Some(s) => EventSort::parse(s).ok_or_else(|| {
                ApiError::bad_parameter("sort", "must be start, -start or updated")
            })?,
        };
        Ok(EventFilter {
            from,
            to,
            city: params::text("city", self.city)?,
            country,
            kinds: params::list("kind", self.kind, EventKind::parse, EventKind::expected())?,
            statuses: params::list(
                "status",
                self.status,
                EventStatus::parse,
                EventStatus::expected(),
            )?,
            topic: params::text("topic", self.topic)?,
            q: params::text("q", self.q)?,
            updated_since,
            network: params::text("network", self.network)?,
            organisation: params::text("organisation", self.organisation)?,
            person: params::text("person", self.person)?,
            chain: params::text("chain", self.chain)?,
            programme: params::text("programme", self.programme)?,
            sort,
            cursor: self.cursor,
            limit: params::limit(self.limit)?,
        })
    }
}

/// List events, earliest start first
///
/// Anyone may list public events; callers with a token also see `internal` ones. Every filter
/// is optional and they combine with AND. Keyset-paginated: when `next_cursor` is not `null`,
/// pass it as `cursor` (with the same filters) for the next page. A malformed parameter (a date
/// that is not `YYYY-MM-DD`, an unknown `kind`, `to` before `from`) is 400 naming it.
#[utoipa::path(
    tag = "events",
    params(EventListQuery),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        responses::BadRequest,
        responses::UnknownFilterTarget,
        responses::TooManyRequests,
        responses::Unavailable,
    )
)]
#[get("/events")]
pub async fn list_events(
    req: HttpRequest,
    db: web::Data<Database>,
    cache: web::Data<Representations>,
    lists_kept: web::Data<ListsKept>,
    query: web::Query<EventListQuery>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let filter = query.into_inner().into_filter()?;
    let viewer = caller.viewer();
    rest::cached_page(&req, &db, viewer, move |conn, _| {
        representation::event_page(conn, &cache, &lists_kept, &filter, viewer)
    })
    .await
}

rest::crud_handlers! {
    resource: Events,
    tag: "events",
    collection: "/events",
    item: "/events/{id}",
    input: EventInput,
    response: EventResponse,
    summaries: ["Create an event", "One event, by id or slug", "Change an event", "Delete an event nothing refers to"],
    descriptions: [
        "References (`network_id`, `parent_event_id`, `programme_id`, `precedes`, organisers, participants) take ids or slugs and must exist (422 otherwise). Refused with 409 when it would break a rule: a taken slug (`slug_unique`), a series number already used or out of date order (`series_unique`, `series_order`), a session cycle (`parent_cycle`), an event that would precede one it starts after or that precedes it (`precedes_order`, `precedes_cycle`). Scheduling conflicts (a person or a venue in two overlapping events) and dates outside the programme's period do not refuse the write: the response lists them in `warnings`.",
        "The event with its organisers, participants, network, programme and parent summarised, and its place in a chain (`chain`), so a page needs one request.",
        "A change that would break the event's chain (overlap, gap, city), or move it after an event it precedes or before one that precedes it (`precedes_order`), is refused with 409 naming the records and the rule. The response lists the scheduling conflicts the event now has, and its dates when they fall outside its programme's period, in `warnings`.",
        "Refused with 409 (`still_referenced`) while sessions name it as their parent, while another event names it in `precedes`, or while it is in a chain (remove it from the chain first). The relations it names itself go with it.",
    ],
    id_example: "iisg-board-4",
    handlers: [create_event, get_event, update_event, delete_event],
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_events)
        .service(create_event)
        .service(get_event)
        .service(update_event)
        .service(delete_event);
}
