//! `export`: the whole registry as one bundle `import` reads, references written as slugs.

use serde_json::Value;

use crate::db::{AnyConnection, Database};
use crate::domain::organisation::MembershipInput;
use crate::error::ApiError;
use crate::store::Viewer;
use crate::store::chains::{self, ChainFilter, Chains};
use crate::store::comments::{self, CommentRecord};
use crate::store::events::{self, EventFilter, EventSort, Events};
use crate::store::memberships::{self, MembershipFilter};
use crate::store::networks::{self, NetworkFilter, Networks};
use crate::store::organisations::{self, OrganisationFilter, Organisations};
use crate::store::people::{self, People, PersonFilter};
use crate::store::programmes::{self, ProgrammeFilter, Programmes};
use crate::store::publications::{self, PublicationFilter, Publications};
use crate::store::resource::Resource;

/// Every membership of a network, all pages.
pub(super) fn all_members(
    conn: &mut AnyConnection,
    network: &str,
) -> Result<Vec<memberships::MembershipResponse>, ApiError> {
    all(|cursor| {
        let page = memberships::list_members(
            conn,
            network,
            &MembershipFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
        )?;
        Ok((page.items, page.next_cursor))
    })
}

/// Every page of a list.
fn all<T>(
    mut page: impl FnMut(Option<String>) -> Result<(Vec<T>, Option<String>), ApiError>,
) -> Result<Vec<T>, ApiError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let (batch, next) = page(cursor)?;
        items.extend(batch);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// The whole registry as a bundle `import` reads.
pub fn export(conn: &mut AnyConnection) -> Result<Value, ApiError> {
    let organisations = all(|cursor| {
        let page = organisations::list(
            conn,
            &OrganisationFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
        )?;
        Ok((page.items, page.next_cursor))
    })?;
    let people = all(|cursor| {
        let page = people::list(
            conn,
            &PersonFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
            Viewer::WRITER,
        )?;
        Ok((page.items, page.next_cursor))
    })?;
    let networks = all(|cursor| {
        let page = networks::list(
            conn,
            &NetworkFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
            Viewer::WRITER,
            chrono::Utc::now().date_naive(),
        )?;
        Ok((page.items, page.next_cursor))
    })?;
    let programmes = all(|cursor| {
        let page = programmes::list(
            conn,
            &ProgrammeFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
        )?;
        Ok((page.items, page.next_cursor))
    })?;
    let events = all(|cursor| {
        let filter = EventFilter {
            sort: EventSort::Start,
            cursor,
            limit: 200,
            ..Default::default()
        };
        let page = events::list(conn, &filter, Viewer::WRITER)?;
        Ok((page.items, page.next_cursor))
    })?;
    let chains = all(|cursor| {
        let page = chains::list(
            conn,
            &ChainFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
            Viewer::WRITER,
        )?;
        Ok((page.items, page.next_cursor))
    })?;
    let publications = all(|cursor| {
        let page = publications::list(
            conn,
            &PublicationFilter {
                cursor,
                limit: 200,
                ..Default::default()
            },
            Viewer::WRITER,
        )?;
        Ok((page.items, page.next_cursor))
    })?;
    let mut network_values = Vec::new();
    for network in &networks {
        let mut value =
            serde_json::to_value(Networks::as_input(network)).map_err(ApiError::internal)?;
        let members: Vec<MembershipInput> = all_members(conn, &network.slug)?
            .iter()
            .map(memberships::member_as_input)
            .collect();
        if let Value::Object(map) = &mut value {
            map.insert(
                "members".into(),
                serde_json::to_value(members).map_err(ApiError::internal)?,
            );
        }
        network_values.push(value);
    }
    let mut event_values = Vec::new();
    for event in &events {
        let mut value =
            serde_json::to_value(Events::as_input(event)).map_err(ApiError::internal)?;
        // Without the commenters' email and address: a bundle travels and outlives the
        // retention period they are kept for.
        let comments: Vec<CommentRecord> = comments::all_on_event(conn, event.id)?
            .iter()
            .map(CommentRecord::of)
            .collect();
        if let (Value::Object(map), false) = (&mut value, comments.is_empty()) {
            map.insert(
                "comments".into(),
                serde_json::to_value(comments).map_err(ApiError::internal)?,
            );
        }
        event_values.push(value);
    }
    let to_values = |inputs: Vec<Value>| Value::Array(inputs);
    Ok(serde_json::json!({
        "organisations": to_values(organisations.iter().map(|o| serde_json::to_value(Organisations::as_input(o)).unwrap_or(Value::Null)).collect()),
        "people": to_values(people.iter().map(|p| serde_json::to_value(People::as_input(p)).unwrap_or(Value::Null)).collect()),
        "networks": Value::Array(network_values),
        "programmes": to_values(programmes.iter().map(|p| serde_json::to_value(Programmes::as_input(p)).unwrap_or(Value::Null)).collect()),
        "events": Value::Array(event_values),
        "chains": to_values(chains.iter().map(|c| serde_json::to_value(Chains::as_input(c)).unwrap_or(Value::Null)).collect()),
        "publications": to_values(publications.iter().map(|p| serde_json::to_value(Publications::as_input(p)).unwrap_or(Value::Null)).collect()),
        "outcomes": Value::Array(super::outcomes::export(conn)?),
    }))
}

/// `meeting-registry export`.
pub fn export_json(db: &Database) -> Result<String, String> {
    db.with_connection(|conn| {
        let bundle = export(conn).map_err(|e| e.problem().detail)?;
        let mut text = serde_json::to_string_pretty(&bundle).map_err(|e| e.to_string())?;
        text.push('\n');
        Ok(text)
    })
}
