//! The OpenAPI document, generated from the same registration as the router.

use actix_web::App;
use utoipa::OpenApi;
use utoipa::openapi::schema::{ArrayBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa_actix_web::AppExt;

use crate::store::events::Events;
use crate::store::resource::Resource;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "meeting-registry",
        description = "The registry of record for institutional meetings and events: board \
meetings, regional conferences, ministerial forums, meetings of standing networks, the \
organisations and people behind them, and chains of back-to-back events.\n\n\
Errors are RFC 9457 `application/problem+json`. Every `{id}` in a path also accepts the \
record's slug. Lists are keyset-paginated: pass `next_cursor` back as `cursor`. Reads need \
no token (a token also shows `internal` records and contact details); writes need an editor \
token, tokens and the audit log an admin token.\n\n\
Reading your own writes through several servers: every successful write answers \
`X-Registry-Position` (and sets the `registry_position` cookie to the same value); a read \
that sends it back (header, or the cookie a browser returns by itself) is answered from a \
state that includes that write, whichever server and read replica takes it. Send the value \
as it came; one that is not a position is refused with 400 (a cookie that is not one is \
ignored).\n\n\
The examples are records of the demo data (`data/demo.json`: the IISG Board, the RNNC, the \
NFP Group, the Tirana chain of April 2019…), so a server started with \
`meeting-registry serve --import data/demo.json` answers them.\n\n\
Calendars: every event URL a calendar would subscribe to has an iCalendar (`text/calendar`) \
twin ending in `.ics` (`/api/v1/events.ics`, `/api/v1/networks/{id}/meetings.ics`, …), also \
given for `Accept: text/calendar` on the JSON URL. A feed without `from` covers a year back \
and all the future; a feed holds at most 1000 events and is not paginated. Calendar clients, \
which cannot send a token, read internal events with a feed key (`?key=`, see \
`/api/v1/feed-keys`).\n\n\
Linked data: `Accept: application/ld+json` on an event, a network, an organisation, a person, \
a chain or a list of them (the operations that list `application/ld+json`) gives schema.org \
JSON-LD: an `Event` (`EducationEvent` for workshops and trainings) with `startDate`/`endDate` \
in ISO 8601 with the offset of the event's time zone, `eventStatus` (none for a `tentative` \
event), `eventAttendanceMode`, `location` as a `Place` with a `PostalAddress`, `organizer` \
(organisers and hosts), `funder`, `sponsor` (supporters), `contributor` (implementing \
partners), `performer` (chairs and speakers), `attendee` and `superEvent` (the parent event, \
and the chain as an `EventSeries`); networks and organisations as an `Organization` with \
`member` / `memberOf` as `OrganizationRole`s; a `Person` with `worksFor` and `memberOf`; a \
chain as an `EventSeries` of `subEvent`s; a list as an `ItemList`, its next page in a `Link` \
header. `@id` is the record's URL under `REGISTRY_PUBLIC_URL`. It has its own ETag.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::error::RuleViolation,
        crate::error::RecordRef,
        crate::store::conflicts::Conflict,
        crate::store::events::warnings::EventWarning,
        crate::representation::linked_data::LinkedData,
    )),
    tags(
        (name = "events", description = "Meetings and events"),
        (name = "chains", description = "Chains of events organised back to back in one city"),
        (name = "comments", description = "Comments on public events: anyone posts, editors approve or reject, approved ones are shown to everyone"),
        (name = "networks", description = "Standing bodies and networks, their members and meetings"),
        (name = "organisations", description = "Organisers, hosts, funders and partners"),
        (name = "people", description = "Chairs, speakers and coordinators"),
        (name = "programmes", description = "Programmes, actions, projects and plans events are implemented under, with their funders, coordinators and partners"),
        (name = "publications", description = "Reports, studies, terms of reference and conclusions: their authors, publishers and the events they were presented at, endorsed or adopted by (links only, no files)"),
        (name = "outcomes", description = "Outcomes of meetings: decisions, conclusions, endorsements and follow-up actions, with owners, due dates and status"),
        (name = "changes", description = "The change feed: every change to every record, in commit order, for mirrors"),
        (name = "calendar", description = "iCalendar feeds (RFC 5545) and the feed keys calendar clients use"),
        (name = "webhooks", description = "Webhooks: the change feed pushed to partners, signed (Standard Webhooks), retried, logged (admin)"),
        (name = "access", description = "Tokens and the audit log (admin)"),
        (name = "operations", description = "Health and readiness"),
    )
)]
struct ApiDoc;

/// The whole document, as `/openapi.json` serves it and `meeting-registry openapi` prints it.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    // Relative: the paths resolve against wherever the document was fetched from, so one
    // document serves every deployment (and Swagger UI at `/docs`).
    doc.servers = Some(vec![
        ServerBuilder::new()
            .url("/")
            .description(Some("The server this document was fetched from"))
            .build(),
    ]);
    declare_security(&mut doc);
    document_event_warnings(&mut doc);
    document_linked_data(&mut doc);
    if let Some(components) = doc.components.as_mut() {
        for schema in components.schemas.values_mut() {
            hoist_nullable_descriptions(schema);
        }
    }
    doc
}

/// utoipa puts the doc comment of an `Option<T>` field whose `T` is a component on the `$ref`
/// inside `oneOf: [null, $ref]`; tools show a property's own description, so it moves there.
fn hoist_nullable_descriptions(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) => {
            for property in object.properties.values_mut() {
                if let RefOr::T(Schema::OneOf(one_of)) = property
                    && one_of.description.is_none()
                {
                    let moved = one_of.items.iter_mut().find_map(|item| match item {
                        RefOr::Ref(reference) if !reference.description.is_empty() => {
                            Some(std::mem::take(&mut reference.description))
                        }
                        _ => None,
                    });
                    one_of.description = moved;
                }
                hoist_nullable_descriptions(property);
            }
        }
        RefOr::T(Schema::AllOf(all_of)) => all_of
            .items
            .iter_mut()
            .for_each(hoist_nullable_descriptions),
        _ => {}
    }
}

/// What a create or update response of an event lists in `warnings`.
const EVENT_WARNINGS: &str = "Only in create and update responses: dates outside the period of \
the event's\nprogramme (`outside_programme_period`), then the scheduling conflicts the event now \
has (at most\n20, earliest first): warnings, not refusals. Absent when there are none.";

/// A create or update response of an event is the event followed by `warnings`, the
/// [`Resource::Warning`]s of the write (see [`crate::representation::written`]). The read model
/// has no such member, so the event's one schema, which documents both responses, gets it
/// here: after `chain`, nullable, as clients have always read it.
fn document_event_warnings(doc: &mut utoipa::openapi::OpenApi) {
    let Some(RefOr::T(Schema::Object(event))) = doc
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("EventResponse"))
    else {
        return;
    };
    let warning = <<Events as Resource>::Warning as utoipa::ToSchema>::name();
    let warnings = ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(Ref::from_schema_name(warning))
        .description(Some(EVENT_WARNINGS))
        .build();
    let at = event
        .properties
        .get_index_of("chain")
        .map_or(event.properties.len(), |chain| chain + 1);
    event
        .properties
        .shift_insert(at, "warnings".to_owned(), warnings.into());
}

/// `application/ld+json` beside JSON on the answer of every `GET` that has a schema.org form.
fn document_linked_data(doc: &mut utoipa::openapi::OpenApi) {
    use crate::representation::linked_data::CONTENT_TYPE;
    for (path, item) in doc.paths.paths.iter_mut() {
        if crate::routes::linked_data::document_at(path).is_none() {
            continue;
        }
        let Some(get) = item.get.as_mut() else {
            continue;
        };
        if let Some(RefOr::T(response)) = get.responses.responses.get_mut("200") {
            response.content.insert(
                CONTENT_TYPE.to_owned(),
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("LinkedData")))
                    .build(),
            );
        }
        let note = "With `Accept: application/ld+json`: the schema.org JSON-LD form (see the \
                    document's description), with its own ETag.";
        get.description = Some(match get.description.take() {
            Some(text) => format!("{text}\n\n{note}"),
            None => note.to_owned(),
        });
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}

/// The bearer scheme, and every operation's requirement: reads work without a token (a token
/// shows internal records), everything else needs one.
fn declare_security(doc: &mut utoipa::openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut scheme = Http::new(HttpAuthScheme::Bearer);
    scheme.description = Some(
        "An API token: `Authorization: Bearer <token>`. Roles: reader (also sees internal \
         records and contact fields), editor (also writes), admin (also tokens and audit)."
            .to_owned(),
    );
    components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = !path.starts_with("/api/v1/tokens") && !path.starts_with("/api/v1/audit");
        let operations = [
            (&mut item.get, public),
            (&mut item.post, false),
            (&mut item.put, false),
            (&mut item.patch, false),
            (&mut item.delete, false),
        ];
        for (operation, anonymous_allowed) in operations {
            let Some(operation) = operation else { continue };
            if path == "/healthz" || path == "/readyz" {
                continue;
            }
            // Any request may present a bad token or exceed the rate limit; a request that needs
            // a role may present too weak a one.
            let mut common = vec![
                (
                    "401",
                    "No token, or a malformed, unknown, expired or revoked one",
                ),
                ("429", "Rate limited; see `Retry-After`"),
                ("503", "The database is unreachable or busy"),
            ];
            if !anonymous_allowed {
                common.push(("403", "The token's role may not do this"));
            }
            for (status, description) in common {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| problem_response(description));
            }
            if operation.security.is_some() {
                continue;
            }
            let bearer = SecurityRequirement::new("bearer", Vec::<String>::new());
            operation.security = Some(if anonymous_allowed {
                vec![SecurityRequirement::default(), bearer]
            } else {
                vec![bearer]
            });
        }
    }
}

fn problem_response(description: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build(),
    )
}
