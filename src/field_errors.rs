//! Every problem of a request body at once, in plain words.
//!
//! serde stops at the first problem of a body. To report them all in one response, the body is
//! read again after each problem with that problem taken out: an unknown field is dropped, a
//! bad value is dropped (or, where the field is required or sits in a list, replaced with a
//! stand-in of the type the published schema gives it), until the body reads. The shape read
//! with its stand-ins is then checked by the resource's own rules, so that rule problems come
//! in the same response; a rule problem that a stand-in caused is left out.
//!
//! serde's own wording ("invalid type: string, expected i32") is turned into what a user
//! expects to read ("must be a whole number").

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::FieldError;

/// At most this many problems are reported for one body; each costs one more reading of it.
const MOST_PROBLEMS: usize = 50;

/// One step of a location in a body: a member of an object or an item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A location written as the API writes it everywhere: `location.country_code`, `links[1].url`.
fn dotted(path: &[Step]) -> String {
    let mut text = String::new();
    for step in path {
        match step {
            Step::Key(key) => {
                if !text.is_empty() {
                    text.push('.');
                }
                text.push_str(key);
            }
            Step::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// The result of reading a body: the shape (unless a problem could not be taken out), every
/// problem found, and where a stand-in took the place of what was sent.
pub struct Read<T> {
    input: Option<T>,
    errors: Vec<FieldError>,
    stand_ins: Vec<Vec<Step>>,
}

/// Reads `T` from `value`, reporting every problem of the body rather than the first.
pub fn read_all<T: DeserializeOwned + utoipa::ToSchema>(mut value: Value) -> Read<T> {
    let mut errors = Vec::new();
    let mut stand_ins: Vec<Vec<Step>> = Vec::new();
    // Where a stand-in was put: a second problem there means the stand-in does not fit.
    let mut filled: Vec<Vec<Step>> = Vec::new();
    let mut schema: Option<Schema> = None;
    for _ in 0..2 * MOST_PROBLEMS {
        let error = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(input) => {
                return Read {
                    input: Some(input),
                    errors,
                    stand_ins,
                };
            }
            Err(error) => error,
        };
        let message = error.inner().to_string();
        let Some(mut at) = steps(error.path()) else {
            errors.push(FieldError::new(error.path().to_string(), plain(&message)));
            break;
        };
        let (message, fix) = match Problem::of(&message) {
            Problem::Missing(name) => {
                push_name(&mut at, name);
                ("is required".to_owned(), Fix::StandIn)
            }
            Problem::Unknown(name, known) => {
                let message = unknown_name("field", &name, &known);
                push_name(&mut at, name);
                (message, Fix::Drop)
            }
            Problem::Value => {
                // A value that was sent stands in as a value of its type where the schema gives
                // one (else it is dropped), so the rules that depend on its being there (a
                // start date needs a time zone) still apply to the rest.
                let fix = Fix::StandIn;
                // A closed vocabulary is named in full whatever was sent (serde says "expected
                // string or map" for a number where a vocabulary's name belongs).
                let vocabulary = schema.get_or_insert_with(Schema::of::<T>).vocabulary(&at);
                let message = match vocabulary {
                    Some(names) => {
                        let given = container_of(&mut value, &at)
                            .and_then(|v| v.as_str().map(str::to_owned));
                        one_of(given.as_deref(), &names)
                    }
                    None => plain(&message),
                };
                (message, fix)
            }
        };
        let caused_by_stand_in = stand_ins.iter().any(|s| at.starts_with(s));
        if !caused_by_stand_in {
            errors.push(FieldError::new(dotted(&at), message));
        }
        if errors.len() >= MOST_PROBLEMS || at.is_empty() {
            break;
        }
        let fixed = match fix {
            Fix::Drop => drop_at(&mut value, &at),
            Fix::StandIn => {
                let stand_in = if filled.contains(&at) {
                    None
                } else {
                    filled.push(at.clone());
                    schema.get_or_insert_with(Schema::of::<T>).stand_in(&at)
                };
                match stand_in {
                    Some(stand_in) => put_at(&mut value, &at, stand_in),
                    // A list item is never dropped (the items after it would move); a missing
                    // field has nothing to drop.
                    None => drop_at(&mut value, &at),
                }
            }
        };
        if !fixed {
            break;
        }
        if !stand_ins.contains(&at) {
            stand_ins.push(at);
        }
    }
    if errors.is_empty() {
        errors.push(FieldError::new("", "the body could not be read"));
    }
    Read {
        input: None,
        errors,
        stand_ins,
    }
}

impl<T> Read<T> {
    /// The shape checked by `validate`; its problems are reported with those of reading.
    pub fn validated<V>(
        self,
        validate: impl FnOnce(T) -> Result<V, Vec<FieldError>>,
    ) -> Result<V, Vec<FieldError>> {
        let Read {
            input,
            mut errors,
            stand_ins,
        } = self;
        let Some(input) = input else {
            return Err(errors);
        };
        match validate(input) {
            Ok(valid) if errors.is_empty() => Ok(valid),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(
                    more.into_iter()
                        .filter(|e| !stand_ins.iter().any(|s| caused_by(e, s))),
                );
                Err(errors)
            }
        }
    }
}

/// Whether a rule problem is about a stand-in: it is at or under it, or names its field (a
/// rule comparing two fields, such as `end_date` against `start_date`).
fn caused_by(error: &FieldError, stand_in: &[Step]) -> bool {
    let place = dotted(stand_in);
    let under = error.field == place
        || error.field.starts_with(&format!("{place}."))
        || error.field.starts_with(&format!("{place}["));
    let named = match stand_in.last() {
        Some(Step::Key(name)) => mentions(&error.message, name),
        _ => false,
    };
    under || named
}

fn mentions(text: &str, word: &str) -> bool {
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char)
    })
}

/// serde names a missing or unknown field at its parent, or at the field itself.
fn push_name(at: &mut Vec<Step>, name: String) {
    if at.last() != Some(&Step::Key(name.clone())) {
        at.push(Step::Key(name));
    }
}

enum Fix {
    Drop,
    StandIn,
}

/// The steps of a location serde reported; `None` when it passes through something that is
/// not an object member or a list item.
fn steps(path: &serde_path_to_error::Path) -> Option<Vec<Step>> {
    path.iter()
        .map(|segment| match segment {
            serde_path_to_error::Segment::Map { key } => Some(Step::Key(key.clone())),
            serde_path_to_error::Segment::Seq { index } => Some(Step::Index(*index)),
            _ => None,
        })
        .collect()
}

fn container_of<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |current, step| match step {
        Step::Key(key) => current.as_object_mut()?.get_mut(key),
        Step::Index(index) => current.as_array_mut()?.get_mut(*index),
    })
}

fn drop_at(value: &mut Value, at: &[Step]) -> bool {
    let Some((Step::Key(key), parent)) = at.split_last() else {
        return false;
    };
    container_of(value, parent)
        .and_then(Value::as_object_mut)
        .and_then(|object| object.remove(key))
        .is_some()
}

fn put_at(value: &mut Value, at: &[Step], stand_in: Value) -> bool {
    let Some((last, parent)) = at.split_last() else {
        return false;
    };
    let Some(container) = container_of(value, parent) else {
        return false;
    };
    match (last, container) {
        (Step::Key(key), Value::Object(object)) => {
            object.insert(key.clone(), stand_in);
            true
        }
        (Step::Index(index), Value::Array(items)) if *index < items.len() => {
            items[*index] = stand_in;
            true
        }
        _ => false,
    }
}

/// The published schema of a request shape, as JSON, with the schemas it refers to.
struct Schema {
    root: Value,
    components: HashMap<String, Value>,
}

impl Schema {
    fn of<T: utoipa::ToSchema>() -> Self {
        let mut referred = Vec::new();
        T::schemas(&mut referred);
        let components = referred
            .into_iter()
            .filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?)))
            .collect();
        Self {
            root: serde_json::to_value(T::schema()).unwrap_or(Value::Null),
            components,
        }
    }

    /// Follows references and picks the non-null branch of an optional value.
    fn resolve<'s>(&'s self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..8 {
            if let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.rsplit('/').next())
                && let Some(target) = self.components.get(name)
            {
                schema = target;
                continue;
            }
            let branches = ["oneOf", "anyOf", "allOf"]
                .iter()
                .find_map(|k| schema.get(*k).and_then(Value::as_array));
            if let Some(branch) = branches.and_then(|b| {
                b.iter()
                    .find(|s| s.get("type").and_then(Value::as_str) != Some("null"))
            }) {
                schema = branch;
                continue;
            }
            break;
        }
        schema
    }

    fn at(&self, path: &[Step]) -> Option<&Value> {
        path.iter()
            .try_fold(self.resolve(&self.root), |schema, step| {
                let next = match step {
                    Step::Key(key) => schema.get("properties")?.get(key)?,
                    Step::Index(_) => schema.get("items")?,
                };
                Some(self.resolve(next))
            })
    }

    /// The names of the closed vocabulary the schema gives `at`, if it gives one.
    fn vocabulary(&self, at: &[Step]) -> Option<Vec<String>> {
        let names: Vec<String> = self
            .at(at)?
            .get("enum")?
            .as_array()?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        (!names.is_empty()).then_some(names)
    }

    /// A value of the type the schema gives `at`, to read the rest of a body past it.
    fn stand_in(&self, at: &[Step]) -> Option<Value> {
        let schema = self.at(at)?;
        if let Some(first) = schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|values| values.iter().find(|v| !v.is_null()))
        {
            return Some(first.clone());
        }
        let kind = match schema.get("type")? {
            Value::String(kind) => kind.as_str(),
            Value::Array(kinds) => kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|k| *k != "null")?,
            _ => return None,
        };
        Some(match kind {
            "string" if schema.get("format").and_then(Value::as_str) == Some("date") => {
                Value::from("2000-01-01")
            }
            "string" => Value::from(""),
            "integer" | "number" => Value::from(0),
            "boolean" => Value::from(false),
            "array" => Value::Array(Vec::new()),
            "object" => Value::Object(serde_json::Map::new()),
            _ => return None,
        })
    }
}

/// What kind of problem serde reported.
enum Problem {
    Missing(String),
    Unknown(String, Vec<String>),
    Value,
}

impl Problem {
    fn of(message: &str) -> Self {
        if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            return Problem::Missing(name.to_owned());
        }
        if let Some(rest) = message.strip_prefix("unknown field `")
            && let Some((name, expected)) = rest.split_once('`')
        {
            return Problem::Unknown(name.to_owned(), quoted(expected));
        }
        Problem::Value
    }
}

/// The names serde lists between backquotes ("expected one of `a`, `b`").
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// "is not a known field (did you mean `city`?); the known fields are: …" for a name that is
/// not one of `known`.
pub fn unknown_name(what: &str, name: &str, known: &[String]) -> String {
    if known.is_empty() {
        return format!("is not a known {what}: this takes none");
    }
    let list = known.join(", ");
    match closest(name, known) {
        Some(close) => {
            format!("is not a known {what}; did you mean {close}? The known {what}s are: {list}")
        }
        None => format!("is not a known {what}; the known {what}s are: {list}"),
    }
}

/// The known name nearest `name`, when it is near enough to be a slip of the keyboard.
pub fn closest<'k>(name: &str, known: &'k [String]) -> Option<&'k str> {
    let name = name.to_lowercase();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(&name, &k.to_lowercase()), k))
        .filter(|(distance, k)| *distance <= (k.chars().count() / 3).max(1) + 1)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.as_str())
}

/// serde's wording of a problem, in the words a user expects. Messages that are already
/// plain (the registry's own) pass unchanged.
pub fn plain(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((_, expected)) = rest.rsplit_once(", expected ")
    {
        return format!("must be {}", expected_in_words(expected));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((_, expected)) = rest.rsplit_once(", expected ")
    {
        return match whole_number_range(expected) {
            Some((low, high)) => format!("must be a whole number from {low} to {high}"),
            None => format!("must be {}", expected_in_words(expected)),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((value, expected)) = rest.split_once('`')
    {
        return one_of(Some(value), &quoted(expected));
    }
    if let Some(rest) = message.strip_prefix("invalid length ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return format!("must be {}", expected_in_words(expected));
    }
    if let Some(name) = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split('`').next())
    {
        return format!("is given more than once ({name})");
    }
    if message.starts_with("missing field `") {
        return "is required".to_owned();
    }
    message.to_owned()
}

/// "must be one of: …", with the nearest name when `given` looks like a slip.
fn one_of(given: Option<&str>, names: &[String]) -> String {
    let list = names.join(", ");
    match given.and_then(|given| closest(given, names)) {
        Some(close) => format!("must be one of: {list} (did you mean {close}?)"),
        None => format!("must be one of: {list}"),
    }
}

fn whole_number_range(expected: &str) -> Option<(i128, i128)> {
    Some(match expected {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" | "usize" => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// What serde's `expected` names, in plain words: Rust's type names become what a JSON
/// writer knows; the registry's own descriptions ("a date written YYYY-MM-DD") stay.
fn expected_in_words(expected: &str) -> String {
    if whole_number_range(expected).is_some() || expected == "i128" || expected == "u128" {
        return "a whole number".to_owned();
    }
    match expected {
        "f32" | "f64" => "a number".to_owned(),
        "a string" | "a borrowed string" | "string" => "a string".to_owned(),
        "a boolean" | "bool" => "true or false".to_owned(),
        "a character" | "char" => "a single character".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        "unit" => "null".to_owned(),
        other if other.starts_with("struct ") || other.starts_with("a map") => {
            "an object".to_owned()
        }
        other if other.starts_with("a sequence") || other.starts_with("an array") => {
            "a list".to_owned()
        }
        other if other.starts_with("enum ") || other.starts_with("variant ") => {
            "one of the listed values".to_owned()
        }
        other => other.to_owned(),
    }
}

/// The problem of a query string that does not fit its list's parameters (400, as every bad
/// parameter): an unknown parameter is named with the closest known one and the known list.
pub fn query_problem(error: &actix_web::error::QueryPayloadError) -> crate::error::ApiError {
    let message = match error {
        actix_web::error::QueryPayloadError::Deserialize(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let (field, message) = match Problem::of(&message) {
        Problem::Unknown(name, known) => {
            let message = unknown_name("parameter", &name, &known);
            (name, message)
        }
        Problem::Missing(name) => (name, "is required".to_owned()),
        Problem::Value => match message
            .strip_prefix("duplicate field `")
            .and_then(|rest| rest.split('`').next())
        {
            Some(name) => (name.to_owned(), "is given more than once".to_owned()),
            None => {
                return crate::error::ApiError::bad_request(format!(
                    "the query string could not be read: {}",
                    plain(&message)
                ));
            }
        },
    };
    crate::error::ApiError::bad_parameter(&field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_wording_becomes_plain() {
        assert_eq!(
            plain("invalid type: string \"x\", expected i32"),
            "must be a whole number"
        );
        assert_eq!(
            plain("invalid value: integer `10000000000`, expected i32"),
            "must be a whole number from -2147483648 to 2147483647"
        );
        assert_eq!(
            plain("unknown variant `party`, expected one of `meeting`, `board_meeting`"),
            "must be one of: meeting, board_meeting"
        );
        assert_eq!(
            plain("unknown variant `Meeting`, expected `meeting` or `forum`"),
            "must be one of: meeting, forum (did you mean meeting?)"
        );
        assert_eq!(
            plain("invalid type: integer `5`, expected a date written YYYY-MM-DD"),
            "must be a date written YYYY-MM-DD"
        );
        assert_eq!(
            plain("invalid type: map, expected a sequence"),
            "must be a list"
        );
        assert_eq!(
            plain("\"2019-02-30\" is not a real date"),
            "\"2019-02-30\" is not a real date"
        );
    }

    #[test]
    fn unknown_names_suggest_the_closest_known_one() {
        let known: Vec<String> = ["city", "country", "from", "to"].map(String::from).to_vec();
        assert_eq!(closest("citty", &known), Some("city"));
        assert_eq!(closest("Country", &known), Some("country"));
        assert_eq!(closest("organisation", &known), None);
        let message = unknown_name("parameter", "citty", &known);
        assert!(message.contains("did you mean city?"), "{message}");
        assert!(message.contains("city, country, from, to"), "{message}");
    }

    #[test]
    fn a_rule_naming_a_stand_in_is_left_out() {
        let stand_in = [Step::Key("start_date".into())];
        let rule = FieldError::new("end_date", "must not be before start_date (2000-01-01)");
        assert!(caused_by(&rule, &stand_in));
        let other = FieldError::new("end_date", "must be between 1800-01-01 and 2200-12-31");
        assert!(!caused_by(&other, &stand_in));
        assert!(!mentions("restart_date", "start_date"));
    }
}
