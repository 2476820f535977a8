//! Integration tests: real HTTP against a real server, each test body run on SQLite and on
//! PostgreSQL.

mod helpers;

mod access;
mod bulk;
mod cache;
mod cadence;
mod chains;
mod changes;
mod cli;
mod comments;
mod edges;
mod errors;
mod events;
mod field_errors;
mod graph;
mod hostile;
mod ical;
mod linked_data;
mod memberships;
mod metrics;
mod move_data;
mod openapi;
mod outcomes;
mod positions;
mod programmes;
mod publications;
mod refs;
mod relations;
mod shutdown;
mod unchanged;
mod undated;
mod webhooks;
