//! HTTP routes, one module per resource. Every handler is registered once, in [`configure`],
//! and that one registration yields both the router and the OpenAPI document.

pub mod access;
pub mod calendar;
pub mod chains;
pub mod changes;
pub mod comments;
pub mod events;
pub mod feed_keys;
pub mod health;
pub mod linked_data;
pub mod networks;
pub mod organisations;
pub mod outcomes;
pub mod params;
pub mod programmes;
pub mod publications;
pub mod rest;
pub mod webhooks;

use actix_web::http::Method;

pub use access::Caller;

/// The path every resource's routes live under.
pub const PREFIX: &str = "/api/v1";

/// Registers every documented route.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(utoipa_actix_web::scope::scope(PREFIX).configure(|api| {
            // Before the JSON routes, whose `{id}` would take `rnnc-3.ics`.
            calendar::configure(api);
            events::configure(api);
            organisations::configure(api);
            networks::configure(api);
            programmes::configure(api);
            chains::configure(api);
            comments::configure(api);
            publications::configure(api);
            outcomes::configure(api);
            changes::configure(api);
            access::configure(api);
            feed_keys::configure(api);
            webhooks::configure(api);
        }));
}

/// Which methods each documented path answers; tells 405 from 404 for requests no route took.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(actix_router::ResourceDef, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                let operations = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                for (method, present) in operations {
                    if present {
                        methods.push(method);
                    }
                }
                if methods.contains(&Method::GET) {
                    methods.push(Method::HEAD);
                }
                (actix_router::ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods allowed at `path`, if any route has that shape.
    pub fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.routes
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}
