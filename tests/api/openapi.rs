//! The committed OpenAPI document is the one the code generates, the server serves it, it
//! describes everything a client developer reads in it, and its examples are true of the demo
//! data.

use std::collections::BTreeSet;

use meeting_registry::bulk;
use meeting_registry::db::Database;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

fn document() -> Value {
    serde_json::from_str(&meeting_registry::openapi::document_json()).unwrap_or_default()
}

#[test]
fn committed_openapi_document_is_current() {
    let generated = meeting_registry::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` \
         (or UPDATE_OPENAPI=1 cargo test committed_openapi)"
    );
}

#[actix_web::test]
async fn the_document_and_swagger_ui_are_served() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let served = app.get("/openapi.json").await.expect(200).json();
    assert_eq!(served, document());
    // `/docs` redirects to `/docs/` (the client follows it).
    for path in ["/docs", "/docs/"] {
        let page = app.get(path).await.expect(200);
        assert!(String::from_utf8_lossy(&page.body).contains("swagger-ui"));
    }
}

#[test]
fn the_document_names_a_relative_server() {
    // Relative, so the paths resolve against wherever the document was fetched from.
    let doc = document();
    let urls: Vec<&str> = doc["servers"]
        .as_array()
        .map(|servers| servers.iter().filter_map(|s| s["url"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(urls, ["/"]);
}

fn has_text(value: &Value, field: &str) -> bool {
    value[field]
        .as_str()
        .is_some_and(|text| !text.trim().is_empty())
}

/// Every property of `schema` (`at` names it) and of the objects nested in it that has no
/// description.
fn undescribed_properties(at: &str, schema: &Value, missing: &mut Vec<String>) {
    if !schema.is_object() {
        return;
    }
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            let path = format!("{at}.{name}");
            if !has_text(property, "description") {
                missing.push(format!("property {path}"));
            }
            undescribed_properties(&path, property, missing);
        }
    }
    for nested in ["allOf", "oneOf", "anyOf"] {
        for member in schema[nested].as_array().into_iter().flatten() {
            undescribed_properties(at, member, missing);
        }
    }
    undescribed_properties(&format!("{at}[]"), &schema["items"], missing);
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// What a client developer would find undocumented in `doc`.
fn undescribed(doc: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if !has_text(schema, "description") {
            missing.push(format!("schema {name}"));
        }
        undescribed_properties(name, schema, &mut missing);
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let operation = &item[method];
            if operation.is_null() {
                continue;
            }
            let at = format!("{} {path}", method.to_uppercase());
            match operation["summary"].as_str() {
                Some(summary) if !summary.trim().is_empty() && !summary.contains('\n') => {}
                _ => missing.push(format!("summary (one line) of {at}")),
            }
            if !has_text(operation, "description")
                || operation["description"] == operation["summary"]
            {
                missing.push(format!("description of {at}"));
            }
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if !has_text(parameter, "description") {
                    missing.push(format!("parameter {} of {at}", parameter["name"]));
                }
            }
            let body = &operation["requestBody"];
            if !body.is_null() && !has_text(body, "description") {
                missing.push(format!("request body of {at}"));
            }
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                if !has_text(response, "description") {
                    missing.push(format!("response {status} of {at}"));
                }
                for (header, value) in response["headers"].as_object().into_iter().flatten() {
                    if !has_text(value, "description") {
                        missing.push(format!("header {header} of response {status} of {at}"));
                    }
                }
            }
        }
    }
    missing
}

#[test]
fn every_schema_property_parameter_and_operation_is_described() {
    let missing = undescribed(&document());
    assert!(
        missing.is_empty(),
        "the OpenAPI document leaves {} things undescribed; add doc comments (or \
         `description = …`) for:\n  {}",
        missing.len(),
        missing.join("\n  ")
    );
}

#[test]
fn the_coverage_check_notices_what_is_missing() {
    let mut doc = document();
    doc["components"]["schemas"]["EventResponse"]["properties"]["title"]
        .as_object_mut()
        .map(|title| title.remove("description"));
    doc["paths"]["/api/v1/events"]["get"]
        .as_object_mut()
        .map(|list| list.remove("description"));
    assert_eq!(
        undescribed(&doc),
        [
            "property EventResponse.title",
            "description of GET /api/v1/events"
        ]
    );
}

/// Schemas whose examples are not records of the demo data.
const NOT_DEMO_DATA: [&str; 21] = [
    // Errors: their examples show what a refusal looks like.
    "Problem",
    // Comments: the seed page has none, so the demo data has none (the test posts the one the
    // examples show); a commenter's contact details are their own, erased after the retention.
    "CommentInput",
    "CommentModeration",
    "CommentContact",
    "FieldError",
    "RuleViolation",
    // Tokens: every deployment makes its own, and a secret cannot be an example of a real one.
    "CreateTokenRequest",
    "TokenResponse",
    "CreatedToken",
    // Feed keys, likewise.
    "CreateFeedKeyRequest",
    "FeedKeyResponse",
    "CreatedFeedKey",
    // The change feed: its cursors count the writes of each registry's own history.
    "Change",
    "ChangePage",
    // JSON-LD: its examples are schema.org's vocabulary, not values of the registry.
    "LinkedData",
    // Webhooks: each deployment registers its own targets, and their deliveries count its
    // own history.
    "WebhookInput",
    "WebhookResponse",
    "CreatedWebhook",
    "WebhookPage",
    "DeliveryResponse",
    "DeliveryPage",
];

/// Every scalar in `value`, as JSON text.
fn scalars(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| scalars(item, into)),
        Value::Object(fields) => fields.values().for_each(|field| scalars(field, into)),
        scalar => {
            into.insert(scalar.to_string());
        }
    }
}

/// Whether `part` says nothing that `whole` does not: its fields are fields of `whole`, with
/// the same values, and the items of its lists are parts of items of `whole`'s lists.
fn is_part_of(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(fields), Value::Object(whole)) => fields
            .iter()
            .all(|(name, value)| whole.get(name).is_some_and(|w| is_part_of(value, w))),
        (Value::Array(items), Value::Array(whole)) => items
            .iter()
            .all(|item| whole.iter().any(|w| is_part_of(item, w))),
        _ => part == whole,
    }
}

/// Whether some object anywhere in `data` has `part` as a part.
fn found_in(part: &Value, data: &Value) -> bool {
    is_part_of(part, data)
        || match data {
            Value::Array(items) => items.iter().any(|item| found_in(part, item)),
            Value::Object(fields) => fields.values().any(|field| found_in(part, field)),
            _ => false,
        }
}

/// The examples of `schema` (`at` names it) and of its properties, recursively, with where
/// they are and the schema's `format`.
fn examples_of(at: &str, schema: &Value, into: &mut Vec<(String, Value, String)>) {
    let format = schema["format"].as_str().unwrap_or_default().to_owned();
    if !schema["example"].is_null() {
        into.push((at.to_owned(), schema["example"].clone(), format.clone()));
    }
    for example in schema["examples"].as_array().into_iter().flatten() {
        into.push((at.to_owned(), example.clone(), format.clone()));
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        examples_of(&format!("{at}.{name}"), property, into);
    }
    for nested in ["allOf", "oneOf", "anyOf"] {
        for member in schema[nested].as_array().into_iter().flatten() {
            examples_of(at, member, into);
        }
    }
}

/// A GET of the document with its path parameters filled in from their examples.
struct Read {
    path: String,
    /// Whether the path had parameters: a nested list or a single record.
    nested: bool,
    /// The query parameters' examples.
    query: Vec<(String, String)>,
}

/// Every GET of the document whose path parameters all have examples.
fn runnable_reads(doc: &Value) -> Vec<Read> {
    let mut reads = Vec::new();
    'paths: for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let operation = &item["get"];
        if operation.is_null() {
            continue;
        }
        let mut filled = path.clone();
        let mut query = Vec::new();
        let nested = path.contains('{');
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap_or_default();
            let example = match &parameter["example"] {
                Value::String(text) => Some(text.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            };
            match (parameter["in"].as_str(), example) {
                (Some("path"), Some(example)) => {
                    filled = filled.replace(&format!("{{{name}}}"), &example);
                }
                // A path parameter without an example (a membership's or token's UUID, which
                // differ from one import to the next): not runnable.
                (Some("path"), None) => continue 'paths,
                (Some("query"), Some(example)) => query.push((name.to_owned(), example)),
                _ => {}
            }
        }
        reads.push(Read {
            path: filled,
            nested,
            query,
        });
    }
    reads
}

fn query_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' | b':' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The issue this answers: the document claimed that `tirane` finds `Tiranë`, which no record
/// of the demo data shows. With the demo data imported, every example must hold: a schema's
/// example values are values the demo data has (as imported, or as the API serves it), an
/// object example is part of a demo record, every documented read answers with its path
/// examples, and every query parameter's example, alone, finds something.
async fn examples_are_true_of_the_demo_data(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.webhook_allow_private = true).await;
    let demo_path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
    let db = Database::connect(&app.database_url, 1).expect("connect");
    bulk::import_file(&db, demo_path, bulk::ImportOptions::default())
        .expect("the demo data imports");
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(demo_path).unwrap_or_default())
        .expect("the demo data is JSON");
    let doc = document();
    // A feed key to list (its secret is no example: every deployment makes its own).
    let admin = format!("Bearer {}", app.admin);
    let body = serde_json::json!({"name": "demo-calendar"}).to_string();
    app.request(
        awc::http::Method::POST,
        "/api/v1/feed-keys",
        &[("authorization", &admin)],
        Some(("application/json", body.into_bytes())),
    )
    .await
    .expect(201);
    // A webhook to list (on a closed port: nothing is written after it, so nothing is sent).
    let body = serde_json::json!({"url": "http://127.0.0.1:9/hook"}).to_string();
    app.request(
        awc::http::Method::POST,
        "/api/v1/webhooks",
        &[("authorization", &admin)],
        Some(("application/json", body.into_bytes())),
    )
    .await
    .expect(201);

    // A comment to list: the seed page has none, so the demo data has none either.
    let body = serde_json::json!({
        "author_name": "Ana Kovač",
        "email": "ana.kovac@example.org",
        "body": "Will the conclusions of the 4th IISG Board Meeting be published?",
    })
    .to_string();
    app.request(
        awc::http::Method::POST,
        "/api/v1/events/iisg-board-4/comments",
        &[],
        Some(("application/json", body.into_bytes())),
    )
    .await
    .expect(201);

    let mut wrong = Vec::new();
    let mut served = BTreeSet::new();
    for Read {
        path,
        nested,
        query,
    } in runnable_reads(&doc)
    {
        let response = app.get_as(&app.admin, &path).await;
        if response.status.as_u16() != 200 {
            wrong.push(format!("GET {path} answers {}", response.status));
            continue;
        }
        // A calendar (`.ics`) is not JSON; without `from` it covers the last year only, so
        // its examples are tried from 2017, when the demo data begins.
        let calendar = path.ends_with(".ics");
        if calendar {
            if !response.body.starts_with(b"BEGIN:VCALENDAR\r\n") {
                wrong.push(format!("GET {path} is not a calendar"));
            }
        } else if response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
        {
            scalars(&response.json(), &mut served);
        }
        // Nested lists share their parameters with the top-level lists; each parameter's
        // example is shown to hold there, where it does not depend on a path's record.
        if nested {
            continue;
        }
        for (name, example) in query {
            let example = query_component(&example);
            let url = match calendar && name != "from" {
                true => format!("{path}?from=2017-01-01&{name}={example}"),
                false => format!("{path}?{name}={example}"),
            };
            let response = app.get_as(&app.admin, &url).await;
            if response.status.as_u16() != 200 {
                wrong.push(format!("GET {url} answers {}", response.status));
                continue;
            }
            if calendar {
                if !String::from_utf8_lossy(&response.body).contains("BEGIN:VEVENT") {
                    wrong.push(format!("GET {url} finds nothing"));
                }
                continue;
            }
            let page = response.json();
            if page["items"].as_array().is_some_and(Vec::is_empty) {
                wrong.push(format!("GET {url} finds nothing"));
            } else {
                scalars(&page, &mut served);
            }
        }
    }

    let mut known = served;
    scalars(&demo, &mut known);
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if NOT_DEMO_DATA.contains(&name.as_str()) {
            continue;
        }
        let mut examples = Vec::new();
        examples_of(name, schema, &mut examples);
        for (at, example, format) in examples {
            // Ids and instants are made by the server, different on every import.
            if format == "uuid" || format == "date-time" {
                continue;
            }
            let true_of_demo = match &example {
                Value::Object(_) => found_in(&example, &demo),
                Value::Array(items) => items.iter().all(|item| known.contains(&item.to_string())),
                scalar => known.contains(&scalar.to_string()),
            };
            if !true_of_demo {
                wrong.push(format!(
                    "example of {at} is not in the demo data: {example}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "examples of the OpenAPI document that the demo data does not bear out:\n  {}",
        wrong.join("\n  ")
    );
}

on_both_backends!(examples_are_true_of_the_demo_data);
