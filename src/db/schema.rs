//! The one schema for both backends, written by hand: `diesel print-schema` would describe one
//! backend's native types, while these tables use the portable types of `sql_types`.

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    organisations (id) {
        id -> PortableUuid,
        slug -> Text,
        sort_key -> Text,
        name -> Text,
        acronym -> Nullable<Text>,
        kind -> Text,
        country_code -> Nullable<Text>,
        parent_id -> Nullable<PortableUuid>,
        website -> Nullable<Text>,
        description -> Nullable<Text>,
        search_text -> Text,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    people (id) {
        id -> PortableUuid,
        slug -> Text,
        sort_key -> Text,
        full_name -> Text,
        honorific -> Nullable<Text>,
        position -> Nullable<Text>,
        organisation_id -> Nullable<PortableUuid>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        search_text -> Text,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    networks (id) {
        id -> PortableUuid,
        slug -> Text,
        sort_key -> Text,
        name -> Text,
        acronym -> Nullable<Text>,
        description -> Nullable<Text>,
        established_on -> Nullable<Date>,
        coordinator_id -> Nullable<PortableUuid>,
        website -> Nullable<Text>,
        search_text -> Text,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
        cadence_months -> Nullable<Integer>,
        cadence_note -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    network_supporters (network_id, organisation_id) {
        network_id -> PortableUuid,
        organisation_id -> PortableUuid,
        position -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    memberships (id) {
        id -> PortableUuid,
        network_id -> PortableUuid,
        person_id -> Nullable<PortableUuid>,
        organisation_id -> Nullable<PortableUuid>,
        role -> Text,
        country_code -> Nullable<Text>,
        since -> Nullable<Date>,
        until -> Nullable<Date>,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    chains (id) {
        id -> PortableUuid,
        slug -> Text,
        sort_key -> Text,
        title -> Text,
        description -> Nullable<Text>,
        max_gap_days -> Integer,
        same_city -> Bool,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    events (id) {
        id -> PortableUuid,
        slug -> Text,
        title -> Text,
        kind -> Text,
        status -> Text,
        start_date -> Date,
        end_date -> Date,
        start_time -> Nullable<Time>,
        end_time -> Nullable<Time>,
        timezone -> Text,
        starts_at -> PortableInstant,
        ends_at -> PortableInstant,
        venue -> Nullable<Text>,
        city -> Nullable<Text>,
        city_key -> Nullable<Text>,
        country_code -> Nullable<Text>,
        address -> Nullable<Text>,
        attendance_mode -> Text,
        network_id -> Nullable<PortableUuid>,
        series_number -> Nullable<Integer>,
        parent_event_id -> Nullable<PortableUuid>,
        chain_id -> Nullable<PortableUuid>,
        description -> Nullable<Text>,
        topics -> Text,
        links -> Text,
        visibility -> Text,
        search_text -> Text,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
        calendar_sequence -> Integer,
        programme_id -> Nullable<PortableUuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    event_topics (event_id, topic_key) {
        event_id -> PortableUuid,
        topic_key -> Text,
        starts_at -> Nullable<PortableInstant>,
        ends_at -> Nullable<PortableInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    event_organisers (event_id, organisation_id, role) {
        event_id -> PortableUuid,
        organisation_id -> PortableUuid,
        role -> Text,
        position -> Integer,
        starts_at -> Nullable<PortableInstant>,
        ends_at -> Nullable<PortableInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    event_participants (event_id, position) {
        event_id -> PortableUuid,
        position -> Integer,
        person_id -> Nullable<PortableUuid>,
        organisation_id -> Nullable<PortableUuid>,
        role -> Text,
        starts_at -> Nullable<PortableInstant>,
        ends_at -> Nullable<PortableInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    event_relations (event_id, relation, related_event_id) {
        event_id -> PortableUuid,
        relation -> Text,
        related_event_id -> PortableUuid,
        position -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    programmes (id) {
        id -> PortableUuid,
        slug -> Text,
        sort_key -> Text,
        title -> Text,
        kind -> Text,
        status -> Nullable<Text>,
        funding_instrument -> Nullable<Text>,
        parent_id -> Nullable<PortableUuid>,
        start_date -> Nullable<Date>,
        end_date -> Nullable<Date>,
        duration_months -> Nullable<Integer>,
        description -> Nullable<Text>,
        search_text -> Text,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    programme_organisations (programme_id, position) {
        programme_id -> PortableUuid,
        position -> Integer,
        organisation_id -> PortableUuid,
        role -> Text,
        since -> Nullable<Date>,
        until -> Nullable<Date>,
    }
}

diesel::joinable!(people -> organisations (organisation_id));
diesel::joinable!(networks -> organisations (coordinator_id));
diesel::joinable!(network_supporters -> networks (network_id));
diesel::joinable!(network_supporters -> organisations (organisation_id));
diesel::joinable!(memberships -> networks (network_id));
diesel::joinable!(events -> networks (network_id));
diesel::joinable!(events -> chains (chain_id));
diesel::joinable!(event_topics -> events (event_id));
diesel::joinable!(event_organisers -> events (event_id));
diesel::joinable!(event_organisers -> organisations (organisation_id));
diesel::joinable!(event_participants -> events (event_id));
diesel::joinable!(programme_organisations -> organisations (organisation_id));
diesel::joinable!(events -> programmes (programme_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    comments (id) {
        id -> PortableUuid,
        event_id -> PortableUuid,
        author_name -> Text,
        email -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        body -> Text,
        status -> Text,
        moderated_at -> Nullable<PortableInstant>,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::joinable!(comments -> events (event_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    publications (id) {
        id -> PortableUuid,
        slug -> Text,
        sort_key -> Text,
        title -> Text,
        kind -> Text,
        date -> Nullable<Text>,
        language -> Nullable<Text>,
        publisher_id -> Nullable<PortableUuid>,
        url -> Nullable<Text>,
        doi -> Nullable<Text>,
        isbn -> Nullable<Text>,
        description -> Nullable<Text>,
        search_text -> Text,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    publication_authors (publication_id, position) {
        publication_id -> PortableUuid,
        position -> Integer,
        person_id -> PortableUuid,
        affiliation_id -> Nullable<PortableUuid>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    publication_topics (publication_id, position) {
        publication_id -> PortableUuid,
        position -> Integer,
        topic -> Text,
        topic_key -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    publication_events (publication_id, position) {
        publication_id -> PortableUuid,
        position -> Integer,
        event_id -> PortableUuid,
        role -> Text,
    }
}

diesel::joinable!(publication_authors -> publications (publication_id));
diesel::joinable!(publication_topics -> publications (publication_id));
diesel::joinable!(publication_events -> publications (publication_id));
diesel::joinable!(publication_events -> events (event_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    outcomes (id) {
        id -> PortableUuid,
        event_id -> PortableUuid,
        kind -> Text,
        text -> Text,
        owner_organisation_id -> Nullable<PortableUuid>,
        owner_person_id -> Nullable<PortableUuid>,
        due_date -> Nullable<Date>,
        due_key -> Date,
        status -> Text,
        publication_id -> Nullable<PortableUuid>,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
        version -> Integer,
    }
}

diesel::joinable!(outcomes -> events (event_id));

diesel::allow_tables_to_appear_in_same_query!(
    comments,
    organisations,
    people,
    networks,
    network_supporters,
    memberships,
    chains,
    events,
    event_topics,
    event_organisers,
    event_participants,
    event_relations,
    programmes,
    programme_organisations,
    publications,
    publication_authors,
    publication_topics,
    publication_events,
    outcomes,
);

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    tokens (id) {
        id -> PortableUuid,
        name -> Text,
        role -> Text,
        secret_hash -> Text,
        created_at -> PortableInstant,
        expires_at -> Nullable<PortableInstant>,
        revoked_at -> Nullable<PortableInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    feed_keys (id) {
        id -> PortableUuid,
        name -> Text,
        secret_hash -> Text,
        created_at -> PortableInstant,
        expires_at -> Nullable<PortableInstant>,
        revoked_at -> Nullable<PortableInstant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    audit_log (id) {
        id -> PortableUuid,
        at -> PortableInstant,
        token_id -> Nullable<PortableUuid>,
        actor -> Text,
        action -> Text,
        resource -> Text,
        record_id -> Text,
        changes -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        body -> Text,
        created_at -> PortableInstant,
    }
}

diesel::table! {
    registry_state (id) {
        id -> Integer,
        generation -> BigInt,
        changes_dropped_through -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    changes (seq) {
        seq -> BigInt,
        generation -> Nullable<BigInt>,
        at -> Nullable<PortableInstant>,
        resource -> Text,
        record_id -> PortableUuid,
        parent_id -> Nullable<PortableUuid>,
        slug -> Nullable<Text>,
        action -> Text,
        version -> Integer,
        public_before -> Bool,
        public_after -> Bool,
    }
}

diesel::allow_tables_to_appear_in_same_query!(changes, registry_state);

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    webhooks (id) {
        id -> PortableUuid,
        url -> Text,
        description -> Nullable<Text>,
        resources -> Text,
        actions -> Text,
        include_internal -> Bool,
        enabled -> Bool,
        secret -> Text,
        change_cursor -> Text,
        failing_since -> Nullable<PortableInstant>,
        disabled_reason -> Nullable<Text>,
        version -> Integer,
        created_at -> PortableInstant,
        updated_at -> PortableInstant,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::sql_types::*;

    webhook_deliveries (id) {
        id -> PortableUuid,
        webhook_id -> PortableUuid,
        change_cursor -> Text,
        resource -> Text,
        record_id -> PortableUuid,
        action -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<PortableInstant>,
        last_attempt_at -> Nullable<PortableInstant>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> PortableInstant,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries);
