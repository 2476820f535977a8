//! The OpenAPI document, generated from the same registration as the router.

use actix_web::App;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "meeting-registry",
        description = "The registry of record for institutional meetings and events: board \
meetings, regional conferences, ministerial forums, meetings of standing networks, the \
organisations and people behind them, and chains of back-to-back events.\n\n\
Errors are RFC 9457 `application/problem+json`. Every `{id}` in a path also accepts the \
record's slug. Lists are keyset-paginated: pass `next_cursor` back as `cursor`.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    tags(
        (name = "events", description = "Meetings and events"),
        (name = "chains", description = "Chains of events organised back to back in one city"),
        (name = "networks", description = "Standing bodies and networks, their members and meetings"),
        (name = "organisations", description = "Organisers, hosts, funders and partners"),
        (name = "people", description = "Chairs, speakers and coordinators"),
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
    doc
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
