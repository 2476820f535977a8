//! What every resource provides, so the HTTP mechanics of create / read / merge-patch / delete
//! (and import) are written once: [`Resource`] for reading, changing and deleting a record
//! (memberships included), [`TopLevel`] for the resources with a collection of their own.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::AnyConnection;
use crate::error::{ApiError, FieldError};
use crate::store::Viewer;

/// A versioned record the shared write path reads, merge-patches, validates, claims at the
/// version read, audits and deletes.
pub trait Resource: 'static {
    /// Singular name, for messages and the audit log: `event`.
    const NAME: &'static str;
    /// The record's typed id ([`crate::ids`]): its text form is the id in URLs and the audit log.
    type Id: Copy + std::fmt::Display + std::str::FromStr + Send + 'static;
    /// The shape clients write (and export/import use).
    type Input: DeserializeOwned + Serialize + utoipa::ToSchema + Send + 'static;
    /// An input that passed every rule needing no database.
    type Valid: Send + 'static;
    /// The read model.
    type Response: Serialize + Send + 'static;

    fn validate(input: Self::Input) -> Result<Self::Valid, Vec<FieldError>>;
    /// Takes the record's row lock for the rest of the transaction (a no-op write), so a
    /// read-modify-write on PostgreSQL reads the latest committed version instead of losing a
    /// race. Unknown keys are left to the read that follows.
    fn lock(conn: &mut AnyConnection, key: &str) -> Result<(), ApiError>;
    /// Takes the row lock of record `id` if it is still at `version` (else 412): a write based
    /// on a version read outside its transaction starts with this.
    fn claim(conn: &mut AnyConnection, id: Self::Id, version: i32) -> Result<(), ApiError>;
    fn get(conn: &mut AnyConnection, key: &str, viewer: Viewer)
    -> Result<Self::Response, ApiError>;
    /// Replaces a record if it is still at `version` (else 412). `before` is the record as it
    /// was at `version`, when known: what did not change need not be written again.
    fn update(
        conn: &mut AnyConnection,
        id: Self::Id,
        version: i32,
        valid: &Self::Valid,
        before: Option<&Self::Valid>,
    ) -> Result<(), ApiError>;
    /// Deletes a record nothing refers to (else 409), if still at `version` (else 412).
    fn delete(conn: &mut AnyConnection, id: Self::Id, version: i32) -> Result<(), ApiError>;
    /// The record in the shape clients write, with references as slugs: the base of a merge
    /// patch, and the export format.
    fn as_input(response: &Self::Response) -> Self::Input;
    /// Whether create and update responses can carry [`Resource::warnings`].
    const HAS_WARNINGS: bool = false;
    /// Warnings a create or update response carries (e.g. scheduling conflicts); none by default.
    fn warnings(
        _conn: &mut AnyConnection,
        _id: Self::Id,
        _viewer: Viewer,
    ) -> Result<Vec<serde_json::Value>, ApiError> {
        Ok(Vec::new())
    }
    fn id(response: &Self::Response) -> Self::Id;
    fn version(response: &Self::Response) -> i32;
}

/// A resource with a collection of its own (`/api/v1/events`): created there by a POST of its
/// input alone, and named by a slug. (A membership is created inside its network instead.)
pub trait TopLevel: Resource {
    /// Collection path: `/api/v1/events`.
    const COLLECTION: &'static str;
    /// Stores a new record; returns its id. Runs inside a write transaction.
    fn create(conn: &mut AnyConnection, valid: &Self::Valid) -> Result<Self::Id, ApiError>;
    fn slug(response: &Self::Response) -> &str;
}
