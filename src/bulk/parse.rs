//! Reading a bundle's records: every record parsed and validated in full, every problem kept
//! with the record and field it belongs to.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::SECTIONS;
use super::report::{ImportProblem, field_errors};
use crate::domain::Slug;
use crate::domain::organisation::{MembershipInput, ValidMembership};
use crate::error::FieldError;
use crate::http::parse_input;
use crate::store::comments::CommentRecord;
use crate::store::resource::Resource;

/// Where a record is in the file.
#[derive(Debug, Clone)]
pub(super) struct Place {
    /// Index into [`SECTIONS`], so problems sort in file order.
    pub(super) section_index: usize,
    pub(super) section: &'static str,
    pub(super) index: usize,
    pub(super) slug: Option<String>,
}

impl Place {
    pub(super) fn position(&self) -> String {
        format!("{}[{}]", self.section, self.index)
    }

    pub(super) fn named(&self) -> String {
        match &self.slug {
            Some(slug) => format!("{} ({slug})", self.position()),
            None => self.position(),
        }
    }
}

/// Everything found wrong so far, per record.
#[derive(Debug, Default)]
pub(super) struct Problems {
    by_record: BTreeMap<(usize, usize), ImportProblem>,
}

impl Problems {
    pub(super) fn add(&mut self, place: &Place, errors: Vec<FieldError>) {
        let problem = self
            .by_record
            .entry((place.section_index, place.index))
            .or_insert_with(|| ImportProblem {
                position: place.position(),
                slug: place.slug.clone(),
                errors: Vec::new(),
            });
        for error in errors {
            if !problem.errors.contains(&error) {
                problem.errors.push(error);
            }
        }
    }

    pub(super) fn has(&self, place: &Place) -> bool {
        self.by_record
            .contains_key(&(place.section_index, place.index))
    }

    pub(super) fn has_field(&self, place: &Place, field: &str) -> bool {
        self.by_record
            .get(&(place.section_index, place.index))
            .is_some_and(|p| p.errors.iter().any(|e| e.field == field))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_record.is_empty()
    }

    pub(super) fn into_list(self) -> Vec<ImportProblem> {
        self.by_record.into_values().collect()
    }
}

/// A record of one section as read from the file.
pub(super) struct Item<R: Resource> {
    pub(super) place: Place,
    /// The slug it is keyed by (given, or made from its name or title).
    pub(super) key: Option<String>,
    /// The record as written, for its references.
    pub(super) raw: Map<String, Value>,
    /// `None` when it does not parse or breaks a rule needing no database.
    pub(super) valid: Option<R::Valid>,
    /// A network's memberships; `None` when the file does not list them (they are left alone).
    pub(super) members: Option<Vec<ValidMembership>>,
    /// An event's comments (with their ids, as `export` writes them).
    pub(super) comments: Option<Vec<CommentRecord>>,
    /// The slugs of records of the same section this one refers to (a parent, the events it
    /// precedes).
    depends_on: Vec<String>,
    /// A later record with a slug an earlier one has.
    pub(super) duplicate: bool,
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

/// Every field error of a network's `members`, each named `members[i].field`.
fn parse_members(value: Value, errors: &mut Vec<FieldError>) -> Vec<ValidMembership> {
    let Value::Array(list) = value else {
        errors.push(FieldError::new("members", "must be an array"));
        return Vec::new();
    };
    let mut members = Vec::new();
    for (i, member) in list.into_iter().enumerate() {
        let parsed = parse_input::<MembershipInput>(member)
            .map_err(|e| field_errors(&e))
            .and_then(MembershipInput::validate);
        match parsed {
            Ok(valid) => members.push(valid),
            Err(member_errors) => errors.extend(member_errors.into_iter().map(|e| {
                let field = if e.field.is_empty() {
                    format!("members[{i}]")
                } else {
                    format!("members[{i}].{}", e.field)
                };
                FieldError::new(field, e.message)
            })),
        }
    }
    members
}

/// Parses and validates one section, every record in full; every record gets its slug fixed
/// so imports are keyed.
fn parse_comments(value: Value, errors: &mut Vec<FieldError>) -> Vec<CommentRecord> {
    let Value::Array(list) = value else {
        errors.push(FieldError::new("comments", "must be an array"));
        return Vec::new();
    };
    let mut comments = Vec::new();
    for (i, comment) in list.into_iter().enumerate() {
        let parsed = parse_input::<CommentRecord>(comment).map_err(|e| field_errors(&e));
        let problems = match &parsed {
            Ok(record) => record.validate(),
            Err(problems) => problems.clone(),
        };
        errors.extend(problems.into_iter().map(|e| {
            let field = if e.field.is_empty() {
                format!("comments[{i}]")
            } else {
                format!("comments[{i}].{}", e.field)
            };
            FieldError::new(field, e.message)
        }));
        if let Ok(record) = parsed {
            comments.push(record);
        }
    }
    comments
}

pub(super) fn parse_section<R: Resource>(
    section_index: usize,
    values: Vec<Value>,
    name_field: &str,
    same_section_fields: &[&str],
    problems: &mut Problems,
) -> Vec<Item<R>> {
    let section = SECTIONS[section_index];
    let mut items = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        let mut place = Place {
            section_index,
            section,
            index,
            slug: None,
        };
        let Value::Object(mut object) = value else {
            problems.add(&place, vec![FieldError::new("", "must be a JSON object")]);
            continue;
        };
        let key = key_of(&object, name_field);
        place.slug = key.clone();
        let raw = object.clone();
        let mut errors = Vec::new();
        let members = match section {
            "networks" => object
                .remove("members")
                .map(|value| parse_members(value, &mut errors)),
            _ => None,
        };
        let comments = match section {
            "events" => object
                .remove("comments")
                .map(|value| parse_comments(value, &mut errors)),
            _ => None,
        };
        if let Some(key) = &key {
            object.insert("slug".to_owned(), Value::String(key.clone()));
        }
        let depends_on: Vec<String> = same_section_fields
            .iter()
            .filter_map(|f| object.get(*f))
            .flat_map(|value| match value {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            })
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let valid = match parse_input::<R::Input>(Value::Object(object)) {
            Ok(input) => match R::validate(input) {
                Ok(valid) => Some(valid),
                Err(invalid) => {
                    errors.extend(invalid);
                    None
                }
            },
            Err(e) => {
                errors.extend(field_errors(&e));
                None
            }
        };
        if key.is_none() && valid.is_some() {
            errors.push(FieldError::new("slug", "is required"));
        }
        if !errors.is_empty() {
            problems.add(&place, errors);
        }
        items.push(Item {
            place,
            key,
            raw,
            valid,
            members,
            comments,
            depends_on,
            duplicate: false,
        });
    }
    parents_first(items)
}

/// A record that refers to others of the same section (a parent, the events it precedes)
/// comes after them.
fn parents_first<R: Resource>(items: Vec<Item<R>>) -> Vec<Item<R>> {
    let mut ordered: Vec<Item<R>> = Vec::with_capacity(items.len());
    let mut pending = items;
    while !pending.is_empty() {
        let placed: Vec<Option<String>> = ordered.iter().map(|i| i.key.clone()).collect();
        let in_section: Vec<Option<String>> = pending.iter().map(|i| i.key.clone()).collect();
        let (ready, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|item| {
            item.depends_on.iter().all(|other| {
                let other = Some(other.clone());
                placed.contains(&other) || !in_section.contains(&other) || other == item.key
            })
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

/// Marks every record whose slug an earlier record of its section has.
pub(super) fn mark_duplicates<R: Resource>(items: &mut [Item<R>], problems: &mut Problems) {
    let mut first: HashMap<String, (usize, String)> = HashMap::new();
    let mut by_file_order: Vec<&mut Item<R>> = items.iter_mut().collect();
    by_file_order.sort_by_key(|item| item.place.index);
    for item in by_file_order {
        let Some(key) = item.key.clone() else {
            continue;
        };
        match first.get(&key) {
            Some((_, position)) => {
                problems.add(
                    &item.place,
                    vec![FieldError::new(
                        "slug",
                        format!("is used by {position} too"),
                    )],
                );
                item.duplicate = true;
            }
            None => {
                first.insert(key, (item.place.index, item.place.position()));
            }
        }
    }
}
