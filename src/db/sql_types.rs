//! Portable SQL types: native `uuid` and `timestamptz` on PostgreSQL, text on SQLite.
//!
//! diesel's `MultiConnection` only knows the SQL types every backend shares, so these two get
//! hand-written `ToSql`/`FromSql` per backend plus the `MultiBackend` glue the derive documents.
//! On SQLite instants are stored as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts as text in time
//! order; ids as lowercase hyphenated UUID text.

use std::io::Write;

use chrono::{DateTime, SubsecRound, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{HasSqlType, SqlType};
use diesel::sqlite::Sqlite;

use super::MultiBackend;

/// A UUID column: `uuid` on PostgreSQL, `TEXT` on SQLite.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Text"))]
pub struct PortableUuid;

/// An instant column: `timestamptz` on PostgreSQL, fixed-format UTC `TEXT` on SQLite.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct PortableInstant;

impl HasSqlType<PortableUuid> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<PortableUuid>(lookup)
    }
}

impl HasSqlType<PortableInstant> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<PortableInstant>(lookup)
    }
}

/// A point in time, kept to microseconds (PostgreSQL's precision) so that a value read back
/// compares equal to the value written, on both backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = PortableInstant)]
pub struct Timestamp(DateTime<Utc>);

const SQLITE_INSTANT_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

impl Timestamp {
    pub fn now() -> Self {
        Self::from(Utc::now())
    }

    pub fn get(self) -> DateTime<Utc> {
        self.0
    }

    /// The text form used on SQLite; also a stable, sortable form for cursors.
    pub fn to_sortable_string(self) -> String {
        self.0.format(SQLITE_INSTANT_FORMAT).to_string()
    }

    pub fn parse_sortable(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Self::from(t.with_timezone(&Utc)))
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value.trunc_subsecs(6))
    }
}

impl ToSql<PortableInstant, Pg> for Timestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(
            &self.0,
            &mut out.reborrow(),
        )
    }
}

impl FromSql<PortableInstant, Pg> for Timestamp {
    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(bytes)
            .map(Self::from)
    }
}

impl ToSql<PortableInstant, Sqlite> for Timestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.to_sortable_string());
        Ok(IsNull::No)
    }
}

impl FromSql<PortableInstant, Sqlite> for Timestamp {
    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
        Self::parse_sortable(&text).ok_or_else(|| format!("not an instant: {text:?}").into())
    }
}

impl ToSql<PortableInstant, MultiBackend> for Timestamp {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((PortableInstant, self));
        Ok(IsNull::No)
    }
}

impl FromSql<PortableInstant, MultiBackend> for Timestamp {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, PortableInstant>()
    }
}

/// Encoding of UUIDs for the id newtypes that `crate::ids` generates.
pub fn uuid_to_pg(id: &uuid::Uuid, out: &mut Output<'_, '_, Pg>) -> serialize::Result {
    out.write_all(id.as_bytes())?;
    Ok(IsNull::No)
}

pub fn uuid_from_pg(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<uuid::Uuid> {
    Ok(uuid::Uuid::from_slice(bytes.as_bytes())?)
}

pub fn uuid_from_sqlite(
    bytes: <Sqlite as Backend>::RawValue<'_>,
) -> deserialize::Result<uuid::Uuid> {
    let text = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(bytes)?;
    Ok(uuid::Uuid::parse_str(&text)?)
}
