//! An event as clients write it ([`EventInput`]), the rules that need no database
//! ([`EventInput::validate`]), and what passes them ([`ValidEvent`]).

mod input;
mod valid;
mod validate;

pub use input::{EventInput, Link, LocationInput, OrganiserInput, ParticipantInput};
pub use valid::{ParticipantRef, ValidEvent, ValidLocation};

pub const MAX_TITLE: usize = 300;
pub const MAX_DESCRIPTION: usize = 20_000;
pub const MAX_TOPICS: usize = 50;
pub const MAX_LINKS: usize = 50;
pub const MAX_ORGANISERS: usize = 100;
pub const MAX_PARTICIPANTS: usize = 500;
/// How many events one event may say it precedes.
pub const MAX_PRECEDES: usize = 50;
/// The longest an event may last, in days. Bounding it keeps every "what overlaps these dates"
/// question an index range scan instead of a scan of all earlier events.
pub const MAX_DURATION_DAYS: i64 = 366;
pub const EARLIEST_YEAR: i32 = 1800;
pub const LATEST_YEAR: i32 = 2200;
