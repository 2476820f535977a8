//! Data access, one module per resource. Functions take a connection and run inside whatever
//! transaction the caller opened; handlers never build SQL.

pub mod events;
pub mod lookup;
pub mod pagination;
pub mod resource;

use serde::Serialize;
use utoipa::ToSchema;

/// A short summary of a record another record refers to, embedded so a page needs one request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    pub id: uuid::Uuid,
    #[schema(example = "rnnc")]
    pub slug: String,
    #[schema(example = "Regional Network of National P-CVE Coordinators")]
    pub name: String,
    #[schema(example = "RNNC")]
    pub acronym: Option<String>,
}

/// Who is asking: decides whether `internal` records and contact fields exist for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewer {
    pub sees_internal: bool,
}
