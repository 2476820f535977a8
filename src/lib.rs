//! meeting-registry: the registry of record for institutional meetings and events.

pub mod bulk;
pub mod cache;
pub mod canonical;
pub mod cli;
pub mod client_ip;
pub mod clock;
pub mod configuration;
pub mod db;
pub mod domain;
pub mod error;
pub mod field_errors;
pub mod healthcheck;
pub mod http;
pub mod ical;
pub mod ids;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod representation;
pub mod request_line;
pub mod routes;
pub mod shutdown;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod webhooks;
