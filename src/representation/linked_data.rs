//! schema.org JSON-LD (`Accept: application/ld+json`) for events, organisations, people,
//! networks, chains and their lists. Built from the JSON representation clients already get,
//! so the two never disagree about a record.
//!
//! The mapping, also stated in the OpenAPI document:
//! - an event is an `Event` (`EducationEvent` for a workshop or training) with `startDate` and
//!   `endDate` as instants with the offset of the event's time zone (an all-day event runs from
//!   local midnight to the midnight after its last day), `eventStatus` (a `tentative` event
//!   has none: schema.org has no such status), `eventAttendanceMode`, `location` as a `Place`
//!   with a `PostalAddress`, `organizer` (organisers, co-organisers and hosts), `funder`,
//!   `sponsor` (supporters), `contributor` (implementing partners), `performer` (chairs,
//!   co-chairs, speakers), `attendee` (everyone else taking part) and `superEvent` (the event
//!   it is a session of, and its chain as an `EventSeries`);
//! - an organisation and a network are an `Organization` (`NGO`, `GovernmentOrganization` or
//!   `EducationalOrganization` where the kind says so), a network with its `member`s and an
//!   organisation with what it is `memberOf`, each as an `OrganizationRole` carrying the role
//!   and dates; a person is a `Person` with `worksFor` and `memberOf`;
//! - a chain is an `EventSeries` whose `subEvent`s are its events, in order;
//! - a list is an `ItemList` of `ListItem`s.

use chrono::{DateTime, SecondsFormat};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

/// The media type.
pub const CONTENT_TYPE: &str = "application/ld+json";
const CONTEXT: &str = "https://schema.org";
const SCHEMA: &str = "https://schema.org/";

/// What a JSON-LD document describes (the schema of the OpenAPI document; its fields are the
/// ones every document has, the rest depend on `@type`).
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedData {
    /// Always `https://schema.org`.
    #[serde(rename = "@context")]
    #[schema(example = "https://schema.org")]
    pub context: String,
    /// The schema.org type: `Event`, `EducationEvent`, `EventSeries`, `Organization`, `NGO`,
    /// `GovernmentOrganization`, `EducationalOrganization`, `Person` or, for a list,
    /// `ItemList`.
    #[serde(rename = "@type")]
    #[schema(example = "Event")]
    pub kind: String,
    /// The record's URL in this registry (its API URL under `REGISTRY_PUBLIC_URL`); absent
    /// for a list.
    #[serde(rename = "@id")]
    pub id: Option<String>,
}

/// The kinds of record a document or a list is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Event,
    Organisation,
    Person,
    Network,
    Chain,
}

/// What the registry knows besides the record's JSON: the memberships of a network (its
/// members) or of an organisation or person (what it is a member of), as the JSON of
/// `/networks/{id}/members` gives them.
#[derive(Debug, Clone, Default)]
pub struct Related {
    pub memberships: Vec<Value>,
}

/// Builds schema.org documents for records under `base` (`REGISTRY_PUBLIC_URL`).
pub struct LinkedDataWriter<'a> {
    base: &'a str,
}

impl<'a> LinkedDataWriter<'a> {
    pub fn new(base: &'a str) -> Self {
        Self { base }
    }

    /// The document of one record, with `@context`.
    pub fn record(&self, kind: Kind, record: &Value, related: &Related) -> Value {
        let mut document = match kind {
            Kind::Event => self.event(record),
            Kind::Organisation => self.organisation(record, related),
            Kind::Person => self.person(record, related),
            Kind::Network => self.network(record, related),
            Kind::Chain => self.chain(record),
        };
        with_context(&mut document);
        document
    }

    /// An `ItemList` of a page of records (`items`); a nested event list's items, which wrap
    /// the event with the roles played in it, are the events.
    pub fn list(&self, kind: Kind, page: &Value) -> Value {
        let items: Vec<Value> = page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, item)| {
                let record = if item["event"].is_object() {
                    &item["event"]
                } else {
                    item
                };
                let described = match kind {
                    Kind::Event => self.event(record),
                    Kind::Organisation => self.organisation(record, &Related::default()),
                    Kind::Person => self.person(record, &Related::default()),
                    Kind::Network => self.network(record, &Related::default()),
                    Kind::Chain => self.chain(record),
                };
                json!({"@type": "ListItem", "position": i + 1, "item": described})
            })
            .collect();
        let mut document = json!({
            "@type": "ItemList",
            "numberOfItems": items.len(),
            "itemListElement": items,
        });
        with_context(&mut document);
        document
    }

    fn url(&self, collection: &str, id: &Value) -> Value {
        match id.as_str() {
            Some(id) => Value::String(format!("{}/api/v1/{collection}/{id}", self.base)),
            None => Value::Null,
        }
    }

    fn event(&self, event: &Value) -> Value {
        let kind = match event["kind"].as_str() {
            Some("workshop" | "training") => "EducationEvent",
            _ => "Event",
        };
        let id = self.url("events", &event["id"]);
        let mut out = object([
            ("@type", json!(kind)),
            ("@id", id.clone()),
            ("url", id),
            ("identifier", event["slug"].clone()),
            ("name", event["title"].clone()),
            ("description", event["description"].clone()),
        ]);
        let zone = event["timezone"]
            .as_str()
            .and_then(|z| z.parse::<Tz>().ok());
        put(
            &mut out,
            "startDate",
            local_instant(&event["starts_at"], zone),
        );
        put(&mut out, "endDate", local_instant(&event["ends_at"], zone));
        let status = match event["status"].as_str() {
            Some("scheduled") => Some("EventScheduled"),
            Some("cancelled") => Some("EventCancelled"),
            Some("postponed") => Some("EventPostponed"),
            Some("rescheduled") => Some("EventRescheduled"),
            Some("moved_online") => Some("EventMovedOnline"),
            _ => None,
        };
        put(&mut out, "eventStatus", schema_term(status));
        let mode = match event["attendance_mode"].as_str() {
            Some("in_person") => Some("OfflineEventAttendanceMode"),
            Some("online") => Some("OnlineEventAttendanceMode"),
            Some("hybrid") => Some("MixedEventAttendanceMode"),
            _ => None,
        };
        put(&mut out, "eventAttendanceMode", schema_term(mode));
        put(&mut out, "location", place(&event["location"]));
        let topics: Vec<&str> = event["topics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !topics.is_empty() {
            out.insert("keywords".into(), json!(topics.join(", ")));
        }
        let mut by_property: Vec<(&str, Vec<Value>)> = Vec::new();
        let mut add = |property: &'static str, value: Value| match by_property
            .iter_mut()
            .find(|(p, _)| *p == property)
        {
            Some((_, values)) if !values.contains(&value) => values.push(value),
            Some(_) => {}
            None => by_property.push((property, vec![value])),
        };
        for organiser in event["organisers"].as_array().into_iter().flatten() {
            let property = match organiser["role"].as_str() {
                Some("funder") => "funder",
                Some("supporter") => "sponsor",
                Some("implementing_partner") => "contributor",
                _ => "organizer",
            };
            add(
                property,
                self.summary("organisations", "Organization", &organiser["organisation"]),
            );
        }
        for participant in event["participants"].as_array().into_iter().flatten() {
            let who = if participant["person_id"].is_string() {
                self.summary("people", "Person", &participant["participant"])
            } else {
                self.summary("organisations", "Organization", &participant["participant"])
            };
            let property = match participant["role"].as_str() {
                Some("chair" | "co_chair" | "speaker") => "performer",
                Some("host") => "organizer",
                _ => "attendee",
            };
            add(property, who);
        }
        for (property, values) in by_property {
            out.insert(property.into(), one_or_many(values));
        }
        let mut super_events = Vec::new();
        if event["parent_event"].is_object() {
            super_events.push(self.event_summary(&event["parent_event"]));
        }
        if event["chain"].is_object() {
            let chain = &event["chain"];
            super_events.push(json!({
                "@type": "EventSeries",
                "@id": self.url("chains", &chain["chain_id"]),
                "name": chain["title"],
            }));
        }
        if !super_events.is_empty() {
            out.insert("superEvent".into(), one_or_many(super_events));
        }
        Value::Object(out)
    }

    /// An event as a summary shows it (`id`, `slug`, `title`, `start_date`).
    fn event_summary(&self, event: &Value) -> Value {
        let mut out = object([
            ("@type", json!("Event")),
            ("@id", self.url("events", &event["id"])),
            ("identifier", event["slug"].clone()),
            ("name", event["title"].clone()),
        ]);
        put(&mut out, "startDate", event["start_date"].clone());
        Value::Object(out)
    }

    /// A `Summary` (`id`, `slug`, `name`, `acronym`) as an `Organization` or a `Person`.
    fn summary(&self, collection: &str, kind: &str, summary: &Value) -> Value {
        Value::Object(object([
            ("@type", json!(kind)),
            ("@id", self.url(collection, &summary["id"])),
            ("identifier", summary["slug"].clone()),
            ("name", summary["name"].clone()),
            ("alternateName", summary["acronym"].clone()),
        ]))
    }

    fn organisation(&self, organisation: &Value, related: &Related) -> Value {
        let kind = match organisation["kind"].as_str() {
            Some("ngo") => "NGO",
            Some("government" | "ministry" | "embassy") => "GovernmentOrganization",
            Some("academic") => "EducationalOrganization",
            _ => "Organization",
        };
        let mut out = object([
            ("@type", json!(kind)),
            ("@id", self.url("organisations", &organisation["id"])),
            ("identifier", organisation["slug"].clone()),
            ("name", organisation["name"].clone()),
            ("alternateName", organisation["acronym"].clone()),
            ("description", organisation["description"].clone()),
            ("url", organisation["website"].clone()),
        ]);
        put(&mut out, "address", country(&organisation["country_code"]));
        if organisation["parent"].is_object() {
            out.insert(
                "parentOrganization".into(),
                self.summary("organisations", "Organization", &organisation["parent"]),
            );
        }
        self.member_of(&mut out, related);
        Value::Object(out)
    }

    fn person(&self, person: &Value, related: &Related) -> Value {
        let mut out = object([
            ("@type", json!("Person")),
            ("@id", self.url("people", &person["id"])),
            ("identifier", person["slug"].clone()),
            ("name", person["full_name"].clone()),
            ("honorificPrefix", person["honorific"].clone()),
            ("jobTitle", person["position"].clone()),
        ]);
        if person["organisation"].is_object() {
            out.insert(
                "worksFor".into(),
                self.summary("organisations", "Organization", &person["organisation"]),
            );
        }
        self.member_of(&mut out, related);
        Value::Object(out)
    }

    /// `memberOf`: each membership as an `OrganizationRole` around the network.
    fn member_of(&self, out: &mut Map<String, Value>, related: &Related) {
        let roles: Vec<Value> = related
            .memberships
            .iter()
            .map(|m| {
                let network = self.summary("networks", "Organization", &m["network"]);
                role(m, "memberOf", network)
            })
            .collect();
        if !roles.is_empty() {
            out.insert("memberOf".into(), Value::Array(roles));
        }
    }

    fn network(&self, network: &Value, related: &Related) -> Value {
        let mut out = object([
            ("@type", json!("Organization")),
            ("@id", self.url("networks", &network["id"])),
            ("identifier", network["slug"].clone()),
            ("name", network["name"].clone()),
            ("alternateName", network["acronym"].clone()),
            ("description", network["description"].clone()),
            ("url", network["website"].clone()),
            ("foundingDate", network["established_on"].clone()),
        ]);
        let supporters: Vec<Value> = network["supporters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| self.summary("organisations", "Organization", s))
            .collect();
        if !supporters.is_empty() {
            out.insert("sponsor".into(), one_or_many(supporters));
        }
        let mut members: Vec<Value> = Vec::new();
        if network["coordinator"].is_object() {
            let coordinator =
                self.summary("organisations", "Organization", &network["coordinator"]);
            members.push(json!({
                "@type": "OrganizationRole",
                "roleName": "coordinator",
                "member": coordinator,
            }));
        }
        for m in &related.memberships {
            let who = if m["person_id"].is_string() {
                self.summary("people", "Person", &m["member"])
            } else {
                self.summary("organisations", "Organization", &m["member"])
            };
            members.push(role(m, "member", who));
        }
        if !members.is_empty() {
            out.insert("member".into(), Value::Array(members));
        }
        Value::Object(out)
    }

    fn chain(&self, chain: &Value) -> Value {
        let events: Vec<Value> = chain["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let zone = e["timezone"].as_str().and_then(|z| z.parse::<Tz>().ok());
                let mut out = object([
                    ("@type", json!("Event")),
                    ("@id", self.url("events", &e["id"])),
                    ("identifier", e["slug"].clone()),
                    ("name", e["title"].clone()),
                    ("position", e["position"].clone()),
                ]);
                put(&mut out, "startDate", local_instant(&e["starts_at"], zone));
                put(&mut out, "endDate", local_instant(&e["ends_at"], zone));
                let status = match e["status"].as_str() {
                    Some("cancelled") => Some("EventCancelled"),
                    Some("postponed") => Some("EventPostponed"),
                    Some("rescheduled") => Some("EventRescheduled"),
                    Some("moved_online") => Some("EventMovedOnline"),
                    Some("scheduled") => Some("EventScheduled"),
                    _ => None,
                };
                put(&mut out, "eventStatus", schema_term(status));
                let location = json!({"city": e["city"], "country_code": e["country_code"]});
                put(&mut out, "location", place(&location));
                Value::Object(out)
            })
            .collect();
        let id = self.url("chains", &chain["id"]);
        let mut out = object([
            ("@type", json!("EventSeries")),
            ("@id", id.clone()),
            ("url", id),
            ("identifier", chain["slug"].clone()),
            ("name", chain["title"].clone()),
            ("description", chain["description"].clone()),
        ]);
        let first = events.first().and_then(|e| e.get("startDate")).cloned();
        let last = events.last().and_then(|e| e.get("endDate")).cloned();
        put(&mut out, "startDate", first.unwrap_or(Value::Null));
        put(&mut out, "endDate", last.unwrap_or(Value::Null));
        if !events.is_empty() {
            out.insert("subEvent".into(), Value::Array(events));
        }
        Value::Object(out)
    }
}

/// An `OrganizationRole` around `target` under `property`, with the membership's role and
/// dates.
fn role(membership: &Value, property: &str, target: Value) -> Value {
    let mut out = object([
        ("@type", json!("OrganizationRole")),
        ("roleName", membership["role"].clone()),
        ("startDate", membership["since"].clone()),
        ("endDate", membership["until"].clone()),
    ]);
    out.insert(property.into(), target);
    Value::Object(out)
}

/// A `Place` with a `PostalAddress` from a location (`venue`, `city`, `country_code`,
/// `address`); `null` when nothing is known.
fn place(location: &Value) -> Value {
    let address = object([
        ("@type", json!("PostalAddress")),
        ("streetAddress", location["address"].clone()),
        ("addressLocality", location["city"].clone()),
        ("addressCountry", location["country_code"].clone()),
    ]);
    if address.len() == 1 && location["venue"].is_null() {
        return Value::Null;
    }
    let mut out = object([
        ("@type", json!("Place")),
        ("name", location["venue"].clone()),
    ]);
    if address.len() > 1 {
        out.insert("address".into(), Value::Object(address));
    }
    Value::Object(out)
}

fn country(code: &Value) -> Value {
    if code.is_null() {
        return Value::Null;
    }
    json!({"@type": "PostalAddress", "addressCountry": code})
}

/// An RFC 3339 UTC instant as ISO 8601 with the offset of `zone` (UTC when unknown).
fn local_instant(instant: &Value, zone: Option<Tz>) -> Value {
    let Some(parsed) = instant
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    else {
        return Value::Null;
    };
    let text = match zone {
        Some(zone) => parsed
            .with_timezone(&zone)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        None => parsed.to_rfc3339_opts(SecondsFormat::Secs, true),
    };
    Value::String(text)
}

fn schema_term(term: Option<&str>) -> Value {
    term.map_or(Value::Null, |t| Value::String(format!("{SCHEMA}{t}")))
}

/// An object of the pairs whose value is not `null`.
fn object<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn put(out: &mut Map<String, Value>, key: &str, value: Value) {
    if !value.is_null() {
        out.insert(key.to_owned(), value);
    }
}

fn one_or_many(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        values.remove(0)
    } else {
        Value::Array(values)
    }
}

fn with_context(document: &mut Value) {
    if let Value::Object(fields) = document {
        let mut ordered = Map::new();
        ordered.insert("@context".into(), json!(CONTEXT));
        ordered.append(fields);
        *fields = ordered;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_carry_the_offset_of_the_event_zone() {
        let zone: Tz = "Europe/Tirane".parse().expect("zone");
        assert_eq!(
            local_instant(&json!("2019-04-23T22:00:00.000000Z"), Some(zone)),
            json!("2019-04-24T00:00:00+02:00")
        );
        assert_eq!(local_instant(&Value::Null, Some(zone)), Value::Null);
    }

    #[test]
    fn an_event_says_what_schema_org_asks_for() {
        let writer = LinkedDataWriter::new("https://registry.example.org");
        let event = json!({
            "id": "e1", "slug": "rnnc-3", "title": "3rd RNNC meeting", "kind": "workshop",
            "status": "cancelled", "attendance_mode": "hybrid", "timezone": "Europe/Tirane",
            "starts_at": "2019-04-23T22:00:00.000000Z", "ends_at": "2019-04-24T22:00:00.000000Z",
            "location": {"venue": null, "city": "Tirana", "country_code": "AL", "address": null},
            "organisers": [{"role": "funder", "organisation": {"id": "o1", "slug": "eu", "name": "EU", "acronym": null}}],
            "participants": [{"person_id": "p1", "role": "chair", "participant": {"id": "p1", "slug": "mp", "name": "M P", "acronym": null}}],
            "topics": ["p-cve"], "parent_event": {"id": "f1", "slug": "forum", "title": "Forum", "start_date": "2019-04-23"},
        });
        let doc = writer.record(Kind::Event, &event, &Related::default());
        assert_eq!(doc["@context"], "https://schema.org");
        assert_eq!(doc["@type"], "EducationEvent");
        assert_eq!(doc["@id"], "https://registry.example.org/api/v1/events/e1");
        assert_eq!(doc["eventStatus"], "https://schema.org/EventCancelled");
        assert_eq!(
            doc["eventAttendanceMode"],
            "https://schema.org/MixedEventAttendanceMode"
        );
        assert_eq!(doc["location"]["address"]["addressLocality"], "Tirana");
        assert_eq!(doc["location"].get("name"), None);
        assert_eq!(doc["funder"]["name"], "EU");
        assert_eq!(doc["performer"]["@type"], "Person");
        assert_eq!(doc["superEvent"]["name"], "Forum");
        assert_eq!(doc["keywords"], "p-cve");
        assert_eq!(doc.get("description"), None);
    }
}
