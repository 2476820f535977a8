//! Typed ids: an organisation id cannot be passed where an event id is expected.
//!
//! Every id is a UUIDv7 (time-ordered, so new rows land at the end of the primary-key index),
//! stored as a native `uuid` on PostgreSQL and as text on SQLite.

macro_rules! id_type {
    ($name:ident, $what:literal) => {
        #[doc = concat!("The id of ", $what, ".")]
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = crate::db::sql_types::PortableUuid)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(text).map(Self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Uuid,
                    )))
                    .description(Some(concat!(
                        "The id of ",
                        $what,
                        ": a UUID (v7, time-ordered) the registry assigns; read-only."
                    )))
                    .examples(["01936f6e-6c2a-7cc1-9a51-3f4b1c2d9e10"])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl diesel::serialize::ToSql<crate::db::sql_types::PortableUuid, diesel::pg::Pg>
            for $name
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                crate::db::sql_types::uuid_to_pg(&self.0, out)
            }
        }

        impl diesel::deserialize::FromSql<crate::db::sql_types::PortableUuid, diesel::pg::Pg>
            for $name
        {
            fn from_sql(
                bytes: <diesel::pg::Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                crate::db::sql_types::uuid_from_pg(bytes).map(Self)
            }
        }

        impl diesel::serialize::ToSql<crate::db::sql_types::PortableUuid, diesel::sqlite::Sqlite>
            for $name
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(self.to_string());
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl
            diesel::deserialize::FromSql<crate::db::sql_types::PortableUuid, diesel::sqlite::Sqlite>
            for $name
        {
            fn from_sql(
                bytes: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                crate::db::sql_types::uuid_from_sqlite(bytes).map(Self)
            }
        }

        impl diesel::serialize::ToSql<crate::db::sql_types::PortableUuid, crate::db::MultiBackend>
            for $name
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((crate::db::sql_types::PortableUuid, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl
            diesel::deserialize::FromSql<
                crate::db::sql_types::PortableUuid,
                crate::db::MultiBackend,
            > for $name
        {
            fn from_sql(
                bytes: <crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                bytes.from_sql::<Self, crate::db::sql_types::PortableUuid>()
            }
        }
    };
}

id_type!(EventId, "an event");
id_type!(OrganisationId, "an organisation");
id_type!(PersonId, "a person");
id_type!(NetworkId, "a network");
id_type!(ChainId, "a chain of back-to-back events");
id_type!(MembershipId, "a network membership");
id_type!(ProgrammeId, "a programme, action, project or plan");
id_type!(TokenId, "an API token (not its secret)");
id_type!(FeedKeyId, "a calendar feed key (not its secret)");
id_type!(AuditId, "an audit log entry");
id_type!(RecordId, "any record of the registry (in the change feed)");
id_type!(WebhookId, "a webhook");
id_type!(CommentId, "a comment on an event");
id_type!(PublicationId, "a publication");
id_type!(OutcomeId, "an outcome of an event");
id_type!(
    DeliveryId,
    "a webhook delivery (also its `webhook-id` header)"
);
