//! `import` and `export`: the whole registry as one JSON document in the API's own shapes,
//! references written as slugs.
//!
//! Import is keyed by slug and all-or-nothing (one transaction). By default it only creates
//! what is missing: a record that exists is left as it is however it differs from the file, so
//! edits made through the API survive `serve --import` at every start. [`ImportMode::Overwrite`]
//! makes existing records match the file and reports each field it overwrites. A record already
//! equal to the file is never written (no version bump, no audit entry).
//!
//! A file with problems is reported whole: every record and field, whether it fails to parse,
//! refers to nothing, or breaks a registry rule, and nothing is stored.

mod export;
pub mod move_data;
mod outcomes;
mod parse;
mod references;
mod report;

use std::collections::{HashMap, HashSet};

use actix_web::ResponseError;
use diesel::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::db::{AnyConnection, Database, write_transaction};
use crate::domain::organisation::ValidMembership;
use crate::error::{ApiError, FieldError};
use crate::store::Viewer;
use crate::store::audit::{self, Actor};
use crate::store::chains::Chains;
use crate::store::comments::{self, CommentRecord};
use crate::store::events::Events;
use crate::store::memberships;
use crate::store::networks::Networks;
use crate::store::organisations::Organisations;
use crate::store::people::People;
use crate::store::programmes::Programmes;
use crate::store::publications::Publications;
use crate::store::resource::{Resource, TopLevel, Versioned};

use export::all_members;
pub use export::{export, export_json};
use parse::{Item, Problems, mark_duplicates, parse_section};
use references::{references, singular, stored};
use report::field_errors;
pub use report::{
    FieldChange, ImportError, ImportMode, ImportOptions, ImportProblem, ImportReport,
    RecordDifference,
};

/// The sections of a bundle, in the order they are stored (each refers only to earlier ones).
/// Publications refer to organisations, people and events; outcomes (keyed by their event)
/// to publications too.
pub const SECTIONS: [&str; 8] = [
    "organisations",
    "people",
    "networks",
    "programmes",
    "events",
    "chains",
    "publications",
    "outcomes",
];

/// Reports every reference that names neither a record of the file nor one of the registry.
fn check_references<R: Resource>(
    conn: &mut AnyConnection,
    items: &[Item<R>],
    in_file: &HashSet<(&'static str, String)>,
    known: &mut HashMap<(&'static str, String), bool>,
    problems: &mut Problems,
) -> Result<(), ApiError> {
    for item in items {
        check_record(conn, &item.place, &item.raw, in_file, known, problems)?;
    }
    Ok(())
}

/// [`check_references`] for one record as written.
fn check_record(
    conn: &mut AnyConnection,
    place: &parse::Place,
    raw: &serde_json::Map<String, Value>,
    in_file: &HashSet<(&'static str, String)>,
    known: &mut HashMap<(&'static str, String), bool>,
    problems: &mut Problems,
) -> Result<(), ApiError> {
    for reference in references(place.section, raw) {
        let target = (reference.section, reference.key.clone());
        if in_file.contains(&target) {
            continue;
        }
        let exists = match known.get(&target) {
            Some(exists) => *exists,
            None => {
                let exists = stored(conn, reference.section, &reference.key)?;
                known.insert(target, exists);
                exists
            }
        };
        // A malformed key is already reported by the parser for that field.
        if !exists && !problems.has_field(place, &reference.field) {
            problems.add(
                place,
                vec![FieldError::new(
                    reference.field,
                    format!(
                        "no {} {:?} in the file or the registry",
                        singular(reference.section),
                        reference.key
                    ),
                )],
            );
        }
    }
    Ok(())
}

/// Representation without what changes on every write.
fn comparable(value: &impl Serialize) -> Value {
    let mut value = serde_json::to_value(value).unwrap_or(Value::Null);
    strip_volatile(&mut value);
    value
}

fn strip_volatile(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in ["version", "updated_at", "created_at", "id"] {
                map.remove(key);
            }
            map.values_mut().for_each(strip_volatile);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

/// Why a savepoint's changes are undone.
#[derive(Debug)]
enum Attempt {
    Failed(ApiError),
    /// The stored record already equals the file's.
    Unchanged,
    /// The record differs from the file and is to be left as it is.
    Kept(RecordDifference),
}

impl From<diesel::result::Error> for Attempt {
    fn from(error: diesel::result::Error) -> Self {
        Attempt::Failed(error.into())
    }
}

impl From<ApiError> for Attempt {
    fn from(error: ApiError) -> Self {
        Attempt::Failed(error)
    }
}

/// What became of one record of the file.
enum Stored {
    Created,
    Unchanged,
    Overwritten(RecordDifference),
    Kept(RecordDifference),
}

fn input_json<R: Resource>(response: &R::Response) -> Result<Value, ApiError> {
    serde_json::to_value(R::as_input(response)).map_err(ApiError::internal)
}

/// Per field of the record's input shape, what is stored and what the file says.
fn field_changes(stored: &Value, file: &Value) -> Vec<FieldChange> {
    let Value::Object(changes) = audit::diff(stored, file) else {
        return Vec::new();
    };
    changes
        .into_iter()
        .map(|(field, change)| FieldChange {
            field,
            stored: change.get("from").cloned().unwrap_or(Value::Null),
            file: change.get("to").cloned().unwrap_or(Value::Null),
        })
        .collect()
}

/// A network's memberships become exactly the file's, in a savepoint undone when that changes
/// nothing (so unchanged memberships keep their ids).
fn reconcile_members(
    conn: &mut AnyConnection,
    network_id: &str,
    network: &str,
    members: Option<&[ValidMembership]>,
) -> Result<Option<FieldChange>, Attempt> {
    let Some(members) = members else {
        return Ok(None);
    };
    let outcome = conn.transaction::<FieldChange, Attempt, _>(|conn| {
        let before = all_members(conn, network)?;
        for member in &before {
            memberships::remove_member(conn, network, &member.id.to_string())?;
        }
        for (i, member) in members.iter().enumerate() {
            memberships::add_member(conn, network, member).map_err(|e| {
                let errors = field_errors(&e)
                    .into_iter()
                    .map(|f| match f.field.as_str() {
                        "" => FieldError::new(format!("members[{i}]"), f.message),
                        field => FieldError::new(format!("members[{i}].{field}"), f.message),
                    })
                    .collect();
                ApiError::Validation(errors)
            })?;
        }
        let after = all_members(conn, network)?;
        if comparable(&after) == comparable(&before) {
            return Err(Attempt::Unchanged);
        }
        let as_inputs = |members: &[memberships::MembershipResponse]| {
            serde_json::to_value(
                members
                    .iter()
                    .map(memberships::member_as_input)
                    .collect::<Vec<_>>(),
            )
            .map_err(ApiError::internal)
        };
        Ok(FieldChange {
            field: "members".to_owned(),
            stored: as_inputs(&before)?,
            file: as_inputs(&after)?,
        })
    });
    match outcome {
        Ok(change) => {
            let changes =
                serde_json::json!({"members": {"from": change.stored, "to": change.file}});
            audit::record(
                conn,
                &Actor::command("import"),
                "update_members",
                "network",
                network_id,
                &changes,
            )?;
            Ok(Some(change))
        }
        Err(Attempt::Unchanged) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Creates the record, or compares the stored one with the file's and overwrites it or leaves
/// it as `mode` says; each in a savepoint, so a record that fails leaves no trace.
fn store_record<R: TopLevel>(
    conn: &mut AnyConnection,
    item: &Item<R>,
    key: &str,
    valid: &R::Valid,
    mode: ImportMode,
) -> Result<Stored, ApiError> {
    let actor = Actor::command("import");
    let existing = match R::get(conn, key, Viewer::WRITER) {
        Ok(existing) => Some(existing),
        Err(ApiError::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let outcome = conn.transaction::<Stored, Attempt, _>(|conn| {
        let Some(existing) = &existing else {
            let id = R::create(conn, valid)?;
            let created = R::get(conn, &id.to_string(), Viewer::WRITER)?;
            let fields = input_json::<R>(&created)?;
            audit::record(conn, &actor, "create", R::NAME, &id.to_string(), &fields)?;
            reconcile_members(conn, &id.to_string(), key, item.members.as_deref())?;
            return Ok(Stored::Created);
        };
        let id = existing.id();
        R::update(conn, id, existing.version(), valid, None)?;
        let after = R::get(conn, key, Viewer::WRITER)?;
        let record_changed = comparable(&after) != comparable(existing);
        let (stored_fields, file_fields) = (input_json::<R>(existing)?, input_json::<R>(&after)?);
        let mut fields = if record_changed {
            field_changes(&stored_fields, &file_fields)
        } else {
            Vec::new()
        };
        if record_changed {
            let changes = audit::diff(&stored_fields, &file_fields);
            audit::record(conn, &actor, "update", R::NAME, &id.to_string(), &changes)?;
        }
        let members = reconcile_members(conn, &id.to_string(), key, item.members.as_deref())?;
        if !record_changed && members.is_none() {
            return Err(Attempt::Unchanged);
        }
        fields.extend(members);
        let difference = RecordDifference {
            section: item.place.section,
            slug: key.to_owned(),
            fields,
            note: None,
        };
        match mode {
            ImportMode::Overwrite => Ok(Stored::Overwritten(difference)),
            ImportMode::KeepExisting => Err(Attempt::Kept(difference)),
        }
    });
    match outcome {
        Ok(stored) => Ok(stored),
        Err(Attempt::Unchanged) => Ok(Stored::Unchanged),
        Err(Attempt::Kept(difference)) => Ok(Stored::Kept(difference)),
        // The file's version of a record that is kept need not be storable.
        Err(Attempt::Failed(e))
            if mode == ImportMode::KeepExisting
                && existing.is_some()
                && !e.status_code().is_server_error() =>
        {
            let reasons: Vec<String> = field_errors(&e)
                .into_iter()
                .map(|f| match f.field.as_str() {
                    "" => f.message,
                    field => format!("{field}: {}", f.message),
                })
                .collect();
            Ok(Stored::Kept(RecordDifference {
                section: item.place.section,
                slug: key.to_owned(),
                fields: Vec::new(),
                note: Some(format!(
                    "the file's version could not be stored here: {}",
                    reasons.join("; ")
                )),
            }))
        }
        Err(Attempt::Failed(e)) => Err(e),
    }
}

/// Stores the comments of the event `key` that the registry does not hold yet (matched by id:
/// a comment is never changed by an import); returns how many were created.
fn store_comments(
    conn: &mut AnyConnection,
    key: &str,
    records: &[CommentRecord],
) -> Result<usize, ApiError> {
    let Some(event_id) = crate::store::lookup::event_id(conn, key)? else {
        return Ok(0);
    };
    let mut created = 0;
    for record in records {
        if comments::import(conn, event_id, record)? {
            let fields = serde_json::json!({
                "event_id": key,
                "author_name": record.author_name,
                "body": record.body,
                "status": record.status,
            });
            audit::record(
                conn,
                &Actor::command("import"),
                "create",
                "comment",
                &record.id.to_string(),
                &fields,
            )?;
            created += 1;
        }
    }
    Ok(created)
}

/// The state of one import run.
struct Run {
    mode: ImportMode,
    report: ImportReport,
    problems: Problems,
    /// Records of the file that will not exist: those with problems and those referring to
    /// them.
    unavailable: HashSet<(&'static str, String)>,
    unchecked: Vec<String>,
}

/// Stores a section in order; a record with problems, or referring to one, is skipped (and
/// what refers to it in turn). Errors only for the database failing.
fn store_section<R: TopLevel>(
    conn: &mut AnyConnection,
    items: &[Item<R>],
    run: &mut Run,
) -> Result<(), ApiError> {
    for item in items {
        let section = item.place.section;
        let (key, valid) = match (&item.key, &item.valid) {
            (Some(key), Some(valid)) if !run.problems.has(&item.place) => (key, valid),
            _ => {
                if let (Some(key), false) = (&item.key, item.duplicate) {
                    run.unavailable.insert((section, key.clone()));
                }
                continue;
            }
        };
        let refers_to_unavailable = references(section, &item.raw)
            .into_iter()
            .any(|r| run.unavailable.contains(&(r.section, r.key)));
        if refers_to_unavailable {
            run.unavailable.insert((section, key.clone()));
            run.unchecked.push(item.place.named());
            continue;
        }
        match store_record::<R>(conn, item, key, valid, run.mode) {
            Ok(Stored::Created) => run.report.created += 1,
            Ok(Stored::Unchanged) => run.report.unchanged += 1,
            Ok(Stored::Overwritten(difference)) => run.report.overwritten.push(difference),
            Ok(Stored::Kept(difference)) => run.report.kept.push(difference),
            Err(e) if e.status_code().is_server_error() => return Err(e),
            Err(e) => {
                run.problems.add(&item.place, field_errors(&e));
                run.unavailable.insert((section, key.clone()));
                continue;
            }
        }
        if let Some(comments) = &item.comments {
            run.report.created += store_comments(conn, key, comments)?;
        }
    }
    Ok(())
}

/// Keys of every record of the file, by section.
fn keys_of<R: Resource>(items: &[Item<R>], keys: &mut HashSet<(&'static str, String)>) {
    for item in items {
        if let Some(key) = &item.key {
            keys.insert((item.place.section, key.clone()));
        }
    }
}

/// Imports a bundle (the text of a file) in one transaction.
pub fn import(
    conn: &mut AnyConnection,
    text: &str,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let document: Value = serde_json::from_str(text)
        .map_err(|e| ImportError::Unreadable(format!("not valid JSON: {e}")))?;
    let Value::Object(mut sections) = document else {
        return Err(ImportError::Unreadable(format!(
            "the bundle must be a JSON object of sections ({})",
            SECTIONS.join(", ")
        )));
    };
    let mut unreadable: Vec<String> = sections
        .keys()
        .filter(|k| !SECTIONS.contains(&k.as_str()))
        .map(|k| {
            format!(
                "unknown section {k:?}; sections are {}",
                SECTIONS.join(", ")
            )
        })
        .collect();
    let mut take = |name: &str| -> Vec<Value> {
        match sections.remove(name) {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                unreadable.push(format!("section {name:?} must be an array of records"));
                Vec::new()
            }
        }
    };
    let values = SECTIONS.map(&mut take);
    if !unreadable.is_empty() {
        return Err(ImportError::Unreadable(unreadable.join("\n")));
    }
    let [
        organisations,
        people,
        networks,
        programmes,
        events,
        chains,
        publications,
        outcome_values,
    ] = values;
    let mut problems = Problems::default();
    let mut organisations =
        parse_section::<Organisations>(0, organisations, "name", &["parent_id"], &mut problems);
    let mut people = parse_section::<People>(1, people, "full_name", &[], &mut problems);
    let mut networks = parse_section::<Networks>(2, networks, "name", &[], &mut problems);
    let mut programmes =
        parse_section::<Programmes>(3, programmes, "title", &["parent_id"], &mut problems);
    let mut events = parse_section::<Events>(
        4,
        events,
        "title",
        &["parent_event_id", "precedes"],
        &mut problems,
    );
    let mut chains = parse_section::<Chains>(5, chains, "title", &[], &mut problems);
    let mut publications =
        parse_section::<Publications>(6, publications, "title", &[], &mut problems);
    let outcome_items = outcomes::parse(outcome_values, &mut problems);
    mark_duplicates(&mut organisations, &mut problems);
    mark_duplicates(&mut people, &mut problems);
    mark_duplicates(&mut networks, &mut problems);
    mark_duplicates(&mut programmes, &mut problems);
    mark_duplicates(&mut events, &mut problems);
    mark_duplicates(&mut chains, &mut problems);
    mark_duplicates(&mut publications, &mut problems);
    let mut in_file = HashSet::new();
    keys_of(&organisations, &mut in_file);
    keys_of(&people, &mut in_file);
    keys_of(&networks, &mut in_file);
    keys_of(&programmes, &mut in_file);
    keys_of(&events, &mut in_file);
    keys_of(&chains, &mut in_file);
    keys_of(&publications, &mut in_file);

    let mut run = Run {
        mode: options.mode,
        report: ImportReport {
            dry_run: options.dry_run,
            ..Default::default()
        },
        problems,
        unavailable: HashSet::new(),
        unchecked: Vec::new(),
    };
    let mut undone_on_purpose = false;
    let outcome = write_transaction(conn, |conn| {
        let mut known = HashMap::new();
        let problems = &mut run.problems;
        check_references(conn, &organisations, &in_file, &mut known, problems)?;
        check_references(conn, &people, &in_file, &mut known, problems)?;
        check_references(conn, &networks, &in_file, &mut known, problems)?;
        check_references(conn, &programmes, &in_file, &mut known, problems)?;
        check_references(conn, &events, &in_file, &mut known, problems)?;
        check_references(conn, &chains, &in_file, &mut known, problems)?;
        check_references(conn, &publications, &in_file, &mut known, problems)?;
        for item in &outcome_items {
            check_record(conn, &item.place, &item.raw, &in_file, &mut known, problems)?;
        }
        store_section(conn, &organisations, &mut run)?;
        store_section(conn, &people, &mut run)?;
        store_section(conn, &networks, &mut run)?;
        store_section(conn, &programmes, &mut run)?;
        store_section(conn, &events, &mut run)?;
        store_section(conn, &chains, &mut run)?;
        store_section(conn, &publications, &mut run)?;
        outcomes::store(conn, &outcome_items, &mut run)?;
        let wrote = run.report.created > 0 || !run.report.overwritten.is_empty();
        if run.problems.is_empty() && wrote && !options.dry_run {
            Ok(())
        } else {
            // Nothing to keep: undo the savepoints' work and leave the registry's generation
            // (and so every cached representation) as it was.
            undone_on_purpose = true;
            Err(ApiError::conflict("import undone"))
        }
    });
    match outcome {
        Ok(()) => Ok(run.report),
        Err(_) if undone_on_purpose && !run.problems.is_empty() => Err(ImportError::Invalid {
            problems: run.problems.into_list(),
            unchecked: run.unchecked,
        }),
        Err(_) if undone_on_purpose => Ok(run.report),
        Err(e) => Err(ImportError::Database(e)),
    }
}

/// `meeting-registry import FILE` and `serve --import FILE`.
pub fn import_file(
    db: &Database,
    path: &str,
    options: ImportOptions,
) -> Result<ImportReport, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    db.with_connection(|conn| import(conn, &text, options).map_err(|e| format!("{path}: {e}")))
}
