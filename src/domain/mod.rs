//! Validated types and the registry's rules: pure, no HTTP and no SQL.

pub mod chain;
pub mod comment;
pub mod country;
pub mod enums;
pub mod event;
pub mod organisation;
pub mod outcome;
pub mod programme;
pub mod publication;
pub mod slug;
pub mod text;
pub mod time;

pub use country::CountryCode;
pub use slug::Slug;
