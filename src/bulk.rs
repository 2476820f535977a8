//! `import` and `export`: the whole registry as one JSON document in the API's own shapes,
//! references written as slugs.
//!
//! Import is all-or-nothing (one transaction), idempotent (records are keyed by slug and a
//! record whose representation would not change is left alone), and reports every invalid
//! record with its position before touching anything it cannot store.

mod export;

use std::collections::HashMap;

use diesel::Connection;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::db::{AnyConnection, Database, write_transaction};
use crate::domain::Slug;
use crate::domain::organisation::MembershipInput;
use crate::error::{ApiError, FieldError};
use crate::http::parse_input;
use crate::store::Viewer;
use crate::store::audit::{self, Actor};
use crate::store::chains::Chains;
use crate::store::events::Events;
use crate::store::networks::{self, Networks};
use crate::store::organisations::Organisations;
use crate::store::people::People;
use crate::store::resource::Resource;

use export::all_members;
pub use export::{export, export_json};

/// The sections of a bundle, in the order they are stored (each refers only to earlier ones).
pub const SECTIONS: [&str; 5] = ["organisations", "people", "networks", "events", "chains"];

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// One record that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// `events[3]`
    pub position: String,
    pub slug: Option<String>,
    pub errors: Vec<FieldError>,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.position)?;
        if let Some(slug) = &self.slug {
            write!(f, " ({slug})")?;
        }
        let details: Vec<String> = self
            .errors
            .iter()
            .map(|e| {
                if e.field.is_empty() {
                    e.message.clone()
                } else {
                    format!("{}: {}", e.field, e.message)
                }
            })
            .collect();
        write!(f, ": {}", details.join("; "))
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file is not a bundle at all.
    Unreadable(String),
    /// Records that are invalid or break a rule; nothing was stored.
    Invalid(Vec<ImportProblem>),
    Database(ApiError),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(message) => write!(f, "{message}"),
            Self::Invalid(problems) => {
                writeln!(
                    f,
                    "{} invalid record(s); nothing was imported:",
                    problems.len()
                )?;
                for problem in problems {
                    writeln!(f, "  {problem}")?;
                }
                Ok(())
            }
            Self::Database(error) => write!(f, "import failed: {}", error.problem().detail),
        }
    }
}

fn problem_of(position: String, slug: Option<String>, error: ApiError) -> ImportProblem {
    let problem = error.problem();
    let errors = if !problem.errors.is_empty() {
        problem.errors
    } else {
        vec![FieldError::new("", problem.detail)]
    };
    ImportProblem {
        position,
        slug,
        errors,
    }
}

/// A parsed record of one section, with the slug it is keyed by.
struct Item<R: Resource> {
    position: String,
    key: String,
    valid: R::Valid,
    /// Slugs of records of the same section this one refers to (parents).
    depends_on: Option<String>,
    members: Vec<(String, MembershipInput)>,
}

fn key_of(object: &Map<String, Value>, name_field: &str) -> Option<String> {
    match object.get("slug").and_then(Value::as_str) {
        Some(slug) => Some(slug.to_owned()),
        None => object
            .get(name_field)
            .and_then(Value::as_str)
            .map(|title| Slug::from_title(title).into_string()),
    }
}

/// Parses and validates one section; every record gets its slug fixed so imports are keyed.
fn parse_section<R: Resource>(
    section: &str,
    values: Vec<Value>,
    name_field: &str,
    parent_field: Option<&str>,
    problems: &mut Vec<ImportProblem>,
) -> Vec<Item<R>> {
    let mut items = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        let position = format!("{section}[{i}]");
        let Value::Object(mut object) = value else {
            problems.push(ImportProblem {
                position,
                slug: None,
                errors: vec![FieldError::new("", "must be a JSON object")],
            });
            continue;
        };
        let key = key_of(&object, name_field);
        let members = object.remove("members").filter(|_| section == "networks");
        let mut member_inputs = Vec::new();
        if let Some(members) = members {
            match members {
                Value::Array(list) => {
                    for (j, member) in list.into_iter().enumerate() {
                        match parse_input::<MembershipInput>(member) {
                            Ok(input) => {
                                member_inputs.push((format!("{position}.members[{j}]"), input))
                            }
                            Err(e) => problems.push(problem_of(
                                format!("{position}.members[{j}]"),
                                key.clone(),
                                e,
                            )),
                        }
                    }
                }
                _ => problems.push(ImportProblem {
                    position: position.clone(),
                    slug: key.clone(),
                    errors: vec![FieldError::new("members", "must be an array")],
                }),
            }
        }
        if let Some(key) = &key {
            object.insert("slug".to_owned(), Value::String(key.clone()));
        }
        let depends_on = parent_field
            .and_then(|f| object.get(f))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let parsed = parse_input::<R::Input>(Value::Object(object))
            .and_then(|input| R::validate(input).map_err(ApiError::Validation));
        match (parsed, key) {
            (Ok(valid), Some(key)) => items.push(Item {
                position,
                key,
                valid,
                depends_on,
                members: member_inputs,
            }),
            (Ok(_), None) => problems.push(ImportProblem {
                position,
                slug: None,
                errors: vec![FieldError::new("slug", "is required")],
            }),
            (Err(e), key) => problems.push(problem_of(position, key, e)),
        }
    }
    // Parents first: a record that refers to another of the same section comes after it.
    let mut ordered: Vec<Item<R>> = Vec::with_capacity(items.len());
    let mut pending = items;
    while !pending.is_empty() {
        let placed: Vec<String> = ordered.iter().map(|i| i.key.clone()).collect();
        let in_section: Vec<String> = pending.iter().map(|i| i.key.clone()).collect();
        let (ready, rest): (Vec<_>, Vec<_>) =
            pending
                .into_iter()
                .partition(|item| match &item.depends_on {
                    Some(parent) => {
                        placed.contains(parent)
                            || !in_section.contains(parent)
                            || *parent == item.key
                    }
                    None => true,
                });
        if ready.is_empty() {
            // A cycle: store in file order and let the rules refuse it.
            ordered.extend(rest);
            break;
        }
        ordered.extend(ready);
        pending = rest;
    }
    ordered
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

/// A savepoint whose changes are undone when they turn out to change nothing.
#[derive(Debug)]
enum Attempt {
    Failed(ApiError),
    Unchanged,
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

fn input_json<R: Resource>(response: &R::Response) -> Result<Value, ApiError> {
    serde_json::to_value(R::as_input(response)).map_err(ApiError::internal)
}

fn store_section<R: Resource>(
    conn: &mut AnyConnection,
    items: &[Item<R>],
    report: &mut ImportReport,
    problems: &mut Vec<ImportProblem>,
) {
    let actor = Actor::command("import");
    for item in items {
        let outcome = conn.transaction::<bool, Attempt, _>(|conn| {
            match R::get(conn, &item.key, Viewer::WRITER) {
                Ok(existing) => {
                    let id = R::id(&existing);
                    R::update(conn, id, R::version(&existing), &item.valid, None)?;
                    let after = R::get(conn, &item.key, Viewer::WRITER)?;
                    if comparable(&after) == comparable(&existing) {
                        return Err(Attempt::Unchanged);
                    }
                    let changes =
                        audit::diff(&input_json::<R>(&existing)?, &input_json::<R>(&after)?);
                    audit::record(conn, &actor, "update", R::NAME, &id.to_string(), &changes)?;
                    Ok(false)
                }
                Err(ApiError::NotFound { .. }) => {
                    let id = R::create(conn, &item.valid)?;
                    let created = R::get(conn, &id.to_string(), Viewer::WRITER)?;
                    audit::record(
                        conn,
                        &actor,
                        "create",
                        R::NAME,
                        &id.to_string(),
                        &input_json::<R>(&created)?,
                    )?;
                    Ok(true)
                }
                Err(e) => Err(Attempt::Failed(e)),
            }
        });
        match outcome {
            Ok(true) => report.created += 1,
            Ok(false) => report.updated += 1,
            Err(Attempt::Unchanged) => report.unchanged += 1,
            Err(Attempt::Failed(e)) => {
                problems.push(problem_of(item.position.clone(), Some(item.key.clone()), e))
            }
        }
    }
}

/// A network's memberships become exactly those of the file.
fn store_members(
    conn: &mut AnyConnection,
    items: &[Item<Networks>],
    problems: &mut Vec<ImportProblem>,
) {
    for item in items {
        let outcome = conn.transaction::<(), Attempt, _>(|conn| {
            let before = all_members(conn, &item.key)?;
            for member in &before {
                networks::remove_member(conn, &item.key, &member.id.to_string())?;
            }
            for (position, input) in &item.members {
                let valid = input.clone().validate().map_err(|errors| {
                    Attempt::Failed(ApiError::Validation(
                        errors
                            .into_iter()
                            .map(|e| FieldError::new(format!("{position}.{}", e.field), e.message))
                            .collect(),
                    ))
                })?;
                networks::add_member(conn, &item.key, &valid)?;
            }
            let after = all_members(conn, &item.key)?;
            if comparable(&after) == comparable(&before) {
                return Err(Attempt::Unchanged);
            }
            let as_inputs = |members: &[networks::MembershipResponse]| {
                serde_json::to_value(members.iter().map(networks::member_as_input).collect::<Vec<_>>())
                    .map_err(ApiError::internal)
            };
            let changes = serde_json::json!({"members": {"from": as_inputs(&before)?, "to": as_inputs(&after)?}});
            audit::record(conn, &Actor::command("import"), "update_members", "network", &item.key, &changes)?;
            Ok(())
        });
        if let Err(Attempt::Failed(e)) = outcome {
            problems.push(problem_of(
                format!("{}.members", item.position),
                Some(item.key.clone()),
                e,
            ));
        }
    }
}

/// Imports a bundle (the text of a file) in one transaction.
pub fn import(conn: &mut AnyConnection, text: &str) -> Result<ImportReport, ImportError> {
    let document: Value = serde_json::from_str(text)
        .map_err(|e| ImportError::Unreadable(format!("not valid JSON: {e}")))?;
    let Value::Object(mut sections) = document else {
        return Err(ImportError::Unreadable(
            "the bundle must be a JSON object of sections".into(),
        ));
    };
    if let Some(unknown) = sections.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
        return Err(ImportError::Unreadable(format!(
            "unknown section {unknown:?}; sections are {}",
            SECTIONS.join(", ")
        )));
    }
    let mut take = |name: &str| -> Result<Vec<Value>, ImportError> {
        match sections.remove(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(ImportError::Unreadable(format!(
                "section {name:?} must be an array"
            ))),
        }
    };
    let mut problems = Vec::new();
    let organisations = parse_section::<Organisations>(
        "organisations",
        take("organisations")?,
        "name",
        Some("parent_id"),
        &mut problems,
    );
    let people =
        parse_section::<People>("people", take("people")?, "full_name", None, &mut problems);
    let networks =
        parse_section::<Networks>("networks", take("networks")?, "name", None, &mut problems);
    let events = parse_section::<Events>(
        "events",
        take("events")?,
        "title",
        Some("parent_event_id"),
        &mut problems,
    );
    let chains = parse_section::<Chains>("chains", take("chains")?, "title", None, &mut problems);
    let mut seen: HashMap<(&str, &str), &str> = HashMap::new();
    let keys = organisations
        .iter()
        .map(|i| ("organisations", i.key.as_str(), i.position.as_str()))
        .chain(
            people
                .iter()
                .map(|i| ("people", i.key.as_str(), i.position.as_str())),
        )
        .chain(
            networks
                .iter()
                .map(|i| ("networks", i.key.as_str(), i.position.as_str())),
        )
        .chain(
            events
                .iter()
                .map(|i| ("events", i.key.as_str(), i.position.as_str())),
        )
        .chain(
            chains
                .iter()
                .map(|i| ("chains", i.key.as_str(), i.position.as_str())),
        );
    for (section, key, position) in keys {
        if let Some(first) = seen.insert((section, key), position) {
            problems.push(ImportProblem {
                position: position.to_owned(),
                slug: Some(key.to_owned()),
                errors: vec![FieldError::new("slug", format!("is used by {first} too"))],
            });
        }
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid(problems));
    }
    let mut report = ImportReport::default();
    let outcome = write_transaction(conn, |conn| {
        store_section(conn, &organisations, &mut report, &mut problems);
        store_section(conn, &people, &mut report, &mut problems);
        store_section(conn, &networks, &mut report, &mut problems);
        store_members(conn, &networks, &mut problems);
        store_section(conn, &events, &mut report, &mut problems);
        store_section(conn, &chains, &mut report, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            // Roll everything back.
            Err(ApiError::conflict("invalid records"))
        }
    });
    match outcome {
        Ok(()) => Ok(report),
        Err(_) if !problems.is_empty() => Err(ImportError::Invalid(problems)),
        Err(e) => Err(ImportError::Database(e)),
    }
}
/// `meeting-registry import FILE`.
pub fn import_file(db: &Database, path: &str) -> Result<ImportReport, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    db.with_connection(|conn| import(conn, &text).map_err(|e| e.to_string()))
}
