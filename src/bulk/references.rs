//! The references a record of a bundle makes, read from its JSON as written, so they can be
//! checked for every record at once (even one whose other fields do not parse) before anything
//! is stored.

use serde_json::{Map, Value};

use crate::db::AnyConnection;
use crate::error::ApiError;
use crate::store::lookup;

/// `(section, path, section referred to)`; `[]` steps into every element of an array.
const REFERENCE_FIELDS: &[(&str, &str, &str)] = &[
    ("organisations", "parent_id", "organisations"),
    ("people", "organisation_id", "organisations"),
    ("networks", "coordinator_id", "organisations"),
    ("networks", "supporter_ids[]", "organisations"),
    ("networks", "members[].person_id", "people"),
    ("networks", "members[].organisation_id", "organisations"),
    ("programmes", "parent_id", "programmes"),
    (
        "programmes",
        "organisations[].organisation_id",
        "organisations",
    ),
    ("events", "network_id", "networks"),
    ("events", "programme_id", "programmes"),
    ("events", "parent_event_id", "events"),
    ("events", "precedes[]", "events"),
    ("events", "organisers[].organisation_id", "organisations"),
    ("events", "participants[].person_id", "people"),
    ("events", "participants[].organisation_id", "organisations"),
    ("chains", "event_ids[]", "events"),
    ("publications", "authors[].person_id", "people"),
    ("publications", "authors[].affiliation_id", "organisations"),
    ("publications", "publisher_id", "organisations"),
    ("publications", "events[].event_id", "events"),
    ("outcomes", "event_id", "events"),
    ("outcomes", "owner_organisation_id", "organisations"),
    ("outcomes", "owner_person_id", "people"),
    ("outcomes", "publication_id", "publications"),
];

/// One reference of a record: `organisers[1].organisation_id` names organisation `rcc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reference {
    pub field: String,
    pub section: &'static str,
    pub key: String,
}

/// Every reference `record` of `section` makes (values that are not strings are left to the
/// parser, which reports them).
pub(super) fn references(section: &str, record: &Map<String, Value>) -> Vec<Reference> {
    let mut found = Vec::new();
    for (owner, path, target) in REFERENCE_FIELDS {
        if *owner != section {
            continue;
        }
        let steps: Vec<&str> = path.split('.').collect();
        walk(record, &steps, String::new(), target, &mut found);
    }
    found
}

fn walk(
    object: &Map<String, Value>,
    steps: &[&str],
    prefix: String,
    target: &'static str,
    found: &mut Vec<Reference>,
) {
    let Some((step, rest)) = steps.split_first() else {
        return;
    };
    let (name, each) = match step.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (*step, false),
    };
    let Some(value) = object.get(name) else {
        return;
    };
    let field = format!("{prefix}{name}");
    let mut visit = |value: &Value, field: String| match value {
        Value::String(key) if rest.is_empty() => found.push(Reference {
            field,
            section: target,
            key: key.clone(),
        }),
        Value::Object(inner) => walk(inner, rest, format!("{field}."), target, found),
        _ => {}
    };
    match (each, value) {
        (true, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                visit(item, format!("{field}[{i}]"));
            }
        }
        (false, value) => visit(value, field),
        (true, _) => {}
    }
}

/// Whether the registry holds a record of `section` with this id or slug.
pub(super) fn stored(conn: &mut AnyConnection, section: &str, key: &str) -> Result<bool, ApiError> {
    Ok(match section {
        "organisations" => lookup::organisation_id(conn, key)?.is_some(),
        "people" => lookup::person_id(conn, key)?.is_some(),
        "networks" => lookup::network_id(conn, key)?.is_some(),
        "events" => lookup::event_id(conn, key)?.is_some(),
        "chains" => lookup::chain_id(conn, key)?.is_some(),
        "programmes" => lookup::programme_id(conn, key)?.is_some(),
        "publications" => lookup::publication_id(conn, key)?.is_some(),
        _ => false,
    })
}

/// `organisations` → `organisation`, for messages.
pub(super) fn singular(section: &str) -> &str {
    match section {
        "people" => "person",
        other => other.strip_suffix('s').unwrap_or(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_reference_of_an_event_is_found_with_its_field() {
        let Value::Object(event) = json!({
            "network_id": "rnnc",
            "organisers": [{"organisation_id": "rcc"}, {"organisation_id": 7}],
            "participants": [{"person_id": "ana"}, {"organisation_id": "dcaf"}],
            "title": "x"
        }) else {
            unreachable!()
        };
        let fields: Vec<(String, &str, String)> = references("events", &event)
            .into_iter()
            .map(|r| (r.field, r.section, r.key))
            .collect();
        assert_eq!(
            fields,
            [
                ("network_id".into(), "networks", "rnnc".into()),
                (
                    "organisers[0].organisation_id".into(),
                    "organisations",
                    "rcc".into()
                ),
                ("participants[0].person_id".into(), "people", "ana".into()),
                (
                    "participants[1].organisation_id".into(),
                    "organisations",
                    "dcaf".into()
                ),
            ]
        );
    }

    #[test]
    fn a_chain_refers_to_each_listed_event() {
        let Value::Object(chain) = json!({"event_ids": ["a", "b"]}) else {
            unreachable!()
        };
        let fields: Vec<String> = references("chains", &chain)
            .into_iter()
            .map(|r| r.field)
            .collect();
        assert_eq!(fields, ["event_ids[0]", "event_ids[1]"]);
    }
}
