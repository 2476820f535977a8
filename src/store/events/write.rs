//! Writing events: resolving references, the rules that need the database, and
//! create / update / delete.

use diesel::prelude::*;

use crate::db::schema::{
    event_organisers, event_participants, event_relations, event_topics, events,
};
use crate::db::{AnyConnection, Timestamp};
use crate::domain::event::{ParticipantRef, ValidEvent};
use crate::error::{ApiError, FieldError, RecordRef, RuleViolation};
use crate::ids::{ChainId, EventId, NetworkId};
use crate::store::{choose_slug, lookup};

use super::rows::{
    EventKeys, EventPayload, Relations, Resolved, columns, event_rows, stored_span, undated_at,
};
use super::{delete_row, update_row};

/// The relation `precedes` as stored in `event_relations`.
const PRECEDES: &str = "precedes";

/// An event as it was at the version an update writes over.
pub(super) type Before<'a> = crate::store::resource::Before<'a, super::Events>;

/// The error of a reference `key` that names no `what`.
fn missing(errors: &mut Vec<FieldError>, field: String, what: &str, key: &str) {
    errors.push(FieldError::new(field, format!("no {what} {key:?}")));
}

/// The references of `event` resolved to ids. Those an update leaves as they were `before` are
/// taken from the event as read instead of looked up again: the version written over holds
/// them, and nothing an event refers to can be deleted while it does.
pub(super) fn resolve(
    conn: &mut AnyConnection,
    this: EventId,
    event: &ValidEvent,
    before: Option<Before<'_>>,
) -> Result<Resolved, ApiError> {
    let mut errors = Vec::new();
    // The event as read, when the part `same` compares is as it was.
    let kept = |same: fn(&ValidEvent, &ValidEvent) -> bool| {
        before
            .filter(|was| same(was.valid, event))
            .map(|was| was.current)
    };
    let network_id = match (&event.network, kept(|a, b| a.network == b.network)) {
        (Some(_), Some(current)) if current.network_id.is_some() => current.network_id,
        (Some(key), _) => {
            let found = lookup::network_id(conn, key)?;
            if found.is_none() {
                missing(&mut errors, "network_id".into(), "network", key);
            }
            found
        }
        (None, _) => None,
    };
    let parent_event_id = match (
        &event.parent_event,
        kept(|a, b| a.parent_event == b.parent_event),
    ) {
        (Some(_), Some(current)) if current.parent_event_id.is_some() => current.parent_event_id,
        (Some(key), _) => {
            let found = lookup::event_id(conn, key)?;
            if found.is_none() {
                missing(&mut errors, "parent_event_id".into(), "event", key);
            }
            found
        }
        (None, _) => None,
    };
    let programme_id = match (&event.programme, kept(|a, b| a.programme == b.programme)) {
        (Some(_), Some(current)) if current.programme_id.is_some() => current.programme_id,
        (Some(key), _) => {
            let found = lookup::programme_id(conn, key)?;
            if found.is_none() {
                missing(&mut errors, "programme_id".into(), "programme", key);
            }
            found
        }
        (None, _) => None,
    };
    let kept_lists = kept(|a, b| {
        a.precedes == b.precedes && a.organisers == b.organisers && a.participants == b.participants
    })
    .filter(|current| {
        current.precedes.len() == event.precedes.len()
            && current.organisers.len() == event.organisers.len()
            && current.participants.len() == event.participants.len()
    });
    let lists = match kept_lists {
        Some(current) => Resolved {
            precedes: current.precedes.iter().map(|p| p.id).collect(),
            organisers: current
                .organisers
                .iter()
                .map(|o| (o.organisation_id, o.role))
                .collect(),
            participants: current
                .participants
                .iter()
                .map(|p| (p.person_id, p.organisation_id, p.role))
                .collect(),
            ..Resolved::default()
        },
        None => look_up_lists(conn, this, event, &mut errors)?,
    };
    if errors.is_empty() {
        Ok(Resolved {
            network_id,
            parent_event_id,
            programme_id,
            ..lists
        })
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The events `event` precedes, its organisers and its participants (the lists of
/// [`Resolved`]), looked up by their keys; what is not found or listed twice goes to `errors`.
fn look_up_lists(
    conn: &mut AnyConnection,
    this: EventId,
    event: &ValidEvent,
    errors: &mut Vec<FieldError>,
) -> Result<Resolved, ApiError> {
    let mut precedes = Vec::new();
    for (i, key) in event.precedes.iter().enumerate() {
        let field = format!("precedes[{i}]");
        match lookup::event_id(conn, key)? {
            Some(id) if id == this => {
                errors.push(FieldError::new(field, "cannot be the event itself"))
            }
            Some(id) if precedes.contains(&id) => {
                errors.push(FieldError::new(field, "is listed twice"))
            }
            Some(id) => precedes.push(id),
            None => missing(errors, field, "event", key),
        }
    }
    let mut organisers = Vec::new();
    for (i, (key, role)) in event.organisers.iter().enumerate() {
        match lookup::organisation_id(conn, key)? {
            Some(id) if organisers.contains(&(id, *role)) => errors.push(FieldError::new(
                format!("organisers[{i}].organisation_id"),
                "is listed twice with the same role",
            )),
            Some(id) => organisers.push((id, *role)),
            None => missing(
                errors,
                format!("organisers[{i}].organisation_id"),
                "organisation",
                key,
            ),
        }
    }
    let mut participants = Vec::new();
    for (i, (who, role)) in event.participants.iter().enumerate() {
        match who {
            ParticipantRef::Person(key) => match lookup::person_id(conn, key)? {
                Some(id) => participants.push((Some(id), None, *role)),
                None => missing(
                    errors,
                    format!("participants[{i}].person_id"),
                    "person",
                    key,
                ),
            },
            ParticipantRef::Organisation(key) => match lookup::organisation_id(conn, key)? {
                Some(id) => participants.push((None, Some(id), *role)),
                None => missing(
                    errors,
                    format!("participants[{i}].organisation_id"),
                    "organisation",
                    key,
                ),
            },
        }
    }
    Ok(Resolved {
        precedes,
        organisers,
        participants,
        ..Resolved::default()
    })
}

/// `(network, series_number)` is unique, and series numbers rise with start dates.
pub(super) fn check_series(
    conn: &mut AnyConnection,
    this: EventId,
    network_id: NetworkId,
    number: i32,
    starts_at: Timestamp,
) -> Result<(), ApiError> {
    // The rule holds for the stored series, so only the neighbours in number need checking:
    // three index lookups on (network_id, series_number) (passing over numbers without dates),
    // however long the series.
    let numbered = || {
        events::table
            .filter(events::network_id.eq(network_id))
            .filter(events::id.ne(this))
            .select((
                events::id,
                events::series_number.assume_not_null(),
                events::starts_at,
                events::slug,
            ))
            .into_boxed()
    };
    let same: Option<(EventId, i32, Timestamp, String)> = numbered()
        .filter(events::series_number.eq(number))
        .first(conn)
        .optional()?;
    if let Some((id, _, _, slug)) = same {
        return Err(ApiError::violations(vec![RuleViolation::new(
            "series_unique",
            vec![RecordRef::new("event", id, slug.as_str())],
            format!("event {slug:?} is already number {number} of this network's series"),
        )]));
    }
    // An event whose dates are not known has a number but no place in the order yet: the
    // neighbours are the nearest numbers with dates, and an undated event has none.
    if starts_at == undated_at() {
        return Ok(());
    }
    let previous: Option<(EventId, i32, Timestamp, String)> = numbered()
        .filter(events::starts_at.ne(undated_at()))
        .filter(events::series_number.lt(number))
        .order(events::series_number.desc())
        .first(conn)
        .optional()?;
    let next: Option<(EventId, i32, Timestamp, String)> = numbered()
        .filter(events::starts_at.ne(undated_at()))
        .filter(events::series_number.gt(number))
        .order(events::series_number.asc())
        .first(conn)
        .optional()?;
    let out_of_order = previous
        .filter(|(_, _, starts, _)| *starts > starts_at)
        .or(next.filter(|(_, _, starts, _)| *starts < starts_at));
    if let Some((id, n, _, slug)) = out_of_order {
        return Err(ApiError::violations(vec![RuleViolation::new(
            "series_order",
            vec![RecordRef::new("event", id, slug.as_str())],
            format!(
                "number {number} would {} number {n} ({slug:?}); series numbers rise with start dates",
                if n < number {
                    "start before"
                } else {
                    "start after"
                }
            ),
        )]));
    }
    Ok(())
}

/// A parent may not be the event itself or one of its own sessions.
pub(super) fn check_parent(
    conn: &mut AnyConnection,
    this: EventId,
    parent: EventId,
) -> Result<(), ApiError> {
    let mut current = Some(parent);
    let mut steps = 0;
    while let Some(id) = current {
        if id == this {
            return Err(ApiError::rule(
                "parent_cycle",
                lookup::event_refs(conn, &[this, parent])?,
                "an event cannot be a session of itself or of one of its own sessions",
            ));
        }
        steps += 1;
        if steps > 64 {
            return Err(ApiError::rule(
                "parent_depth",
                lookup::event_refs(conn, &[parent])?,
                "events nest at most 64 levels deep",
            ));
        }
        current = events::table
            .filter(events::id.eq(id))
            .select(events::parent_event_id)
            .first::<Option<EventId>>(conn)
            .optional()?
            .flatten();
    }
    Ok(())
}

/// An event that precedes another does not start after it (checked where both have dates), for
/// the events `this` will precede and for those that precede it; and `precedes` has no cycle.
/// A `new` event (an id not stored yet) has nothing that precedes it.
pub(super) fn check_precedes(
    conn: &mut AnyConnection,
    this: EventId,
    new: bool,
    starts_at: Timestamp,
    precedes: &[EventId],
) -> Result<(), ApiError> {
    let earlier: Vec<(EventId, String, Timestamp)> = if new {
        Vec::new()
    } else {
        events::table
            .filter(
                events::id.eq_any(
                    event_relations::table
                        .filter(event_relations::related_event_id.eq(this))
                        .filter(event_relations::relation.eq(PRECEDES))
                        .select(event_relations::event_id),
                ),
            )
            .select((events::id, events::slug, events::starts_at))
            .load(conn)?
    };
    if earlier.is_empty() && precedes.is_empty() {
        return Ok(());
    }
    let later: Vec<(EventId, String, Timestamp)> = if precedes.is_empty() {
        Vec::new()
    } else {
        events::table
            .filter(events::id.eq_any(precedes))
            .select((events::id, events::slug, events::starts_at))
            .load(conn)?
    };
    if starts_at != undated_at() {
        let dated = |other: &&(EventId, String, Timestamp)| other.2 != undated_at();
        let mut violations = Vec::new();
        for (id, slug, _) in later.iter().filter(dated).filter(|o| o.2 < starts_at) {
            violations.push(RuleViolation::new(
                "precedes_order",
                lookup::event_refs(conn, &[this, *id])?,
                format!("the event would precede {slug:?}, which starts before it"),
            ));
        }
        for (id, slug, _) in earlier.iter().filter(dated).filter(|o| o.2 > starts_at) {
            violations.push(RuleViolation::new(
                "precedes_order",
                lookup::event_refs(conn, &[*id, this])?,
                format!("{slug:?} precedes the event but would start after it"),
            ));
        }
        if !violations.is_empty() {
            return Err(ApiError::violations(violations));
        }
    }
    // The stored relation has no cycle, so a new one would have to run through `this`: walk
    // forward from the events it will precede, one query per step.
    let mut seen: std::collections::HashSet<EventId> = precedes.iter().copied().collect();
    let mut frontier: Vec<EventId> = precedes.to_vec();
    while !frontier.is_empty() {
        if seen.contains(&this) {
            break;
        }
        let next: Vec<EventId> = event_relations::table
            .filter(event_relations::event_id.eq_any(&frontier))
            .filter(event_relations::relation.eq(PRECEDES))
            .select(event_relations::related_event_id)
            .load(conn)?;
        frontier = next.into_iter().filter(|id| seen.insert(*id)).collect();
    }
    if seen.contains(&this) {
        return Err(ApiError::rule(
            "precedes_cycle",
            lookup::event_refs(conn, &[this])?,
            "the event would come before itself: an event it precedes already precedes it, \
             directly or through others",
        ));
    }
    Ok(())
}

/// Writes the events an event precedes, `replacing` the ones it named before.
fn write_precedes(
    conn: &mut AnyConnection,
    id: EventId,
    precedes: &[EventId],
    replacing: bool,
) -> Result<(), ApiError> {
    if replacing {
        crate::db::native!(conn, |c| diesel::delete(
            event_relations::table
                .filter(event_relations::event_id.eq(id))
                .filter(event_relations::relation.eq(PRECEDES))
        )
        .execute(c))?;
    }
    if precedes.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = (0i32..)
        .zip(precedes)
        .map(|(position, related)| {
            (
                event_relations::event_id.eq(id),
                event_relations::relation.eq(PRECEDES),
                event_relations::related_event_id.eq(*related),
                event_relations::position.eq(position),
            )
        })
        .collect();
    crate::db::native!(conn, |c| diesel::insert_into(event_relations::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

/// How a write stands to the stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stored {
    /// A new event: its id is not stored yet.
    New,
    /// An update that keeps the slug the event has at the version it writes over: the row
    /// holds it (a unique column), so no other event can.
    KeepsSlug,
    /// Any other update.
    Changes,
}

/// The rules a write of event `id` must keep that need the database; answers its references
/// resolved and the slug to store.
///
/// A rule about what an update left as it was `before` holds already: the version written over
/// kept it, and the writes of other events check it against this one.
pub(super) fn check_rules(
    conn: &mut AnyConnection,
    id: EventId,
    stored: Stored,
    event: &ValidEvent,
    before: Option<Before<'_>>,
) -> Result<(Resolved, String), ApiError> {
    let refs = resolve(conn, id, event, before)?;
    let was = before.map(|b| b.valid);
    let same_start = was.is_some_and(|was| stored_span(was).0 == stored_span(event).0);
    let slug = match (stored, &event.slug) {
        (Stored::KeepsSlug, Some(slug)) => slug.to_string(),
        _ => choose_slug(
            conn,
            "event",
            event.slug.as_ref(),
            &event.title,
            |conn, slug| {
                Ok(crate::db::native!(conn, |c| diesel::select(
                    diesel::dsl::exists(
                        events::table
                            .filter(events::slug.eq(slug))
                            .filter(events::id.ne(id)),
                    )
                )
                .get_result(c))?)
            },
        )?,
    };
    let same_series = same_start
        && was.is_some_and(|was| {
            was.network == event.network && was.series_number == event.series_number
        });
    if let (Some(network_id), Some(number), false) =
        (refs.network_id, event.series_number, same_series)
    {
        check_series(conn, id, network_id, number, stored_span(event).0)?;
    }
    let same_parent = was.is_some_and(|was| was.parent_event == event.parent_event);
    if let (Some(parent), false) = (refs.parent_event_id, same_parent) {
        check_parent(conn, id, parent)?;
    }
    let same_precedes = same_start && was.is_some_and(|was| was.precedes == event.precedes);
    if !same_precedes {
        check_precedes(
            conn,
            id,
            stored == Stored::New,
            stored_span(event).0,
            &refs.precedes,
        )?;
    }
    Ok((refs, slug))
}

/// Writes an event's topics, organisers and participants; `replacing` the ones it had (an
/// update), or for a new event, which has none.
pub(super) fn write_relations(
    conn: &mut AnyConnection,
    relations: Relations<'_>,
    replacing: bool,
) -> Result<(), ApiError> {
    let id = relations.event_id();
    if replacing {
        crate::db::native!(conn, |c| diesel::delete(
            event_topics::table.filter(event_topics::event_id.eq(id))
        )
        .execute(c))?;
        crate::db::native!(conn, |c| diesel::delete(
            event_organisers::table.filter(event_organisers::event_id.eq(id))
        )
        .execute(c))?;
        crate::db::native!(conn, |c| diesel::delete(
            event_participants::table.filter(event_participants::event_id.eq(id))
        )
        .execute(c))?;
    }
    insert_rows(conn, event_topics::table, relations.topics().collect())?;
    insert_rows(
        conn,
        event_organisers::table,
        relations.organisers().collect(),
    )?;
    insert_rows(
        conn,
        event_participants::table,
        relations.participants().collect(),
    )?;
    Ok(())
}

/// Inserts `rows` into `table`: one row as a prepared statement diesel keeps (most events name
/// one organiser and one or two participants), several in one multi-row statement (prepared
/// afresh each time, as its shape varies), none without a round trip.
fn insert_rows<T, R>(conn: &mut AnyConnection, table: T, mut rows: Vec<R>) -> Result<(), ApiError>
where
    T: diesel::Table + Copy,
    R: Insertable<T>,
    Vec<R>: Insertable<T>,
    diesel::query_builder::InsertStatement<T, <R as Insertable<T>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<diesel::PgConnection>
            + diesel::query_dsl::methods::ExecuteDsl<diesel::SqliteConnection>,
    diesel::query_builder::InsertStatement<T, <Vec<R> as Insertable<T>>::Values>:
        diesel::query_dsl::methods::ExecuteDsl<diesel::PgConnection>
            + diesel::query_dsl::methods::ExecuteDsl<diesel::SqliteConnection>,
{
    match rows.len() {
        0 => {}
        1 => {
            let row = rows.pop().expect("one row");
            crate::db::native!(conn, |c| diesel::insert_into(table).values(row).execute(c))?;
        }
        _ => {
            crate::db::native!(conn, |c| diesel::insert_into(table).values(rows).execute(c))?;
        }
    }
    Ok(())
}

/// Stores a new event; call inside a write transaction.
pub fn create(conn: &mut AnyConnection, event: &ValidEvent) -> Result<EventId, ApiError> {
    let id = EventId::generate();
    let now = Timestamp::now();
    let (refs, slug) = check_rules(conn, id, Stored::New, event, None)?;
    let rows = event_rows(id, event, &refs, slug, now);
    crate::db::native!(conn, |c| diesel::insert_into(events::table)
        .values(&rows.event)
        .execute(c))?;
    write_relations(conn, rows.relations, false)?;
    write_precedes(conn, id, &refs.precedes, false)?;
    Ok(id)
}

/// Replaces an event's content if it is still at `version`; call inside a write transaction.
/// Given `before` (the event at `version`), its topics, organisers and participants are written
/// only if they changed (their rows carry the event's start and end).
pub fn update(
    conn: &mut AnyConnection,
    id: EventId,
    version: i32,
    event: &ValidEvent,
    was: Option<Before<'_>>,
) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let before = was.map(|b| b.valid);
    let stored = match before {
        Some(before) if before.slug.is_some() && before.slug == event.slug => Stored::KeepsSlug,
        _ => Stored::Changes,
    };
    let (refs, slug) = check_rules(conn, id, stored, event, was)?;
    let columns = columns(event, slug, &refs, now);
    // The row's keys and chain as stored: a missing row fails the versioned update (412).
    let stored: Option<(EventKeys, Option<ChainId>)> = crate::db::native!(conn, |c| events::table
        .filter(events::id.eq(id))
        .select((EventKeys::as_select(), events::chain_id))
        .first(c)
        .optional())?;
    let chain = stored.as_ref().and_then(|(_, chain)| *chain);
    match stored {
        Some((keys, _)) if columns.same_keys(&keys) => {
            update_payload(conn, id, version, columns.payload())?;
        }
        _ => update_row(conn, id, version, columns)?,
    }
    let same_relations = before.is_some_and(|before| {
        before.starts_at == event.starts_at
            && before.ends_at == event.ends_at
            && before.organisers == event.organisers
            && before.participants == event.participants
            && before.topic_keys() == event.topic_keys()
    });
    if !same_relations {
        write_relations(conn, Relations::new(id, event, &refs), true)?;
    }
    if before.is_none_or(|before| before.precedes != event.precedes) {
        write_precedes(conn, id, &refs.precedes, true)?;
    }
    match chain {
        Some(chain_id) => crate::store::chains::enforce(conn, chain_id),
        None => Ok(()),
    }
}

/// Deletes an event nothing refers to; call inside a write transaction.
pub fn delete(conn: &mut AnyConnection, id: EventId, version: i32) -> Result<(), ApiError> {
    let sessions: Vec<(EventId, String)> = events::table
        .filter(events::parent_event_id.eq(id))
        .select((events::id, events::slug))
        .limit(20)
        .load(conn)?;
    if !sessions.is_empty() {
        let slugs: Vec<&str> = sessions.iter().map(|(_, s)| s.as_str()).collect();
        return Err(ApiError::rule(
            "still_referenced",
            sessions
                .iter()
                .map(|(id, slug)| RecordRef::new("event", id, slug.as_str()))
                .collect(),
            format!("sessions of this event refer to it: {}", slugs.join(", ")),
        ));
    }
    let preceding: Vec<EventId> = event_relations::table
        .filter(event_relations::related_event_id.eq(id))
        .filter(event_relations::relation.eq(PRECEDES))
        .select(event_relations::event_id)
        .limit(20)
        .load(conn)?;
    if !preceding.is_empty() {
        let records = lookup::event_refs(conn, &preceding)?;
        let slugs: Vec<&str> = records.iter().map(|r| r.slug.as_str()).collect();
        let detail = format!("events that precede it refer to it: {}", slugs.join(", "));
        return Err(ApiError::rule("still_referenced", records, detail));
    }
    let documents = crate::store::publications::referring_to_event(conn, id)?;
    if !documents.is_empty() {
        let slugs: Vec<&str> = documents.iter().map(|r| r.slug.as_str()).collect();
        let detail = format!("publications are linked to it: {}", slugs.join(", "));
        return Err(ApiError::rule("still_referenced", documents, detail));
    }
    let chain: Option<ChainId> = events::table
        .filter(events::id.eq(id))
        .select(events::chain_id)
        .first(conn)?;
    if let Some(chain_id) = chain {
        return Err(ApiError::rule(
            "still_referenced",
            lookup::chain_refs(conn, &[chain_id])?,
            "the event is in a chain; remove it from the chain first",
        ));
    }
    delete_row(conn, id, version)
}

/// [`update_row`] for an update that leaves the row's [`EventKeys`] as they are.
pub(super) fn update_payload(
    conn: &mut AnyConnection,
    id: EventId,
    version: i32,
    payload: EventPayload,
) -> Result<(), ApiError> {
    let changed = crate::db::KeptUpdate::new(
        events::table,
        (payload, events::version.eq(events::version + 1)),
        events::id.eq(id).and(events::version.eq(version)),
    )
    .execute(conn)?;
    if changed == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    Ok(())
}
