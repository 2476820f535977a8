//! The administrative commands that are not the server: tokens and calendar feed keys
//! (import and export live in `bulk`).

use chrono::{DateTime, Utc};

use crate::configuration::{CreateFeedKeyArgs, CreateTokenArgs, FeedKeyCommand, TokenCommand};
use crate::db::{Database, Timestamp, write_transaction};
use crate::domain::enums::Role;
use crate::domain::time::expiry;
use crate::store::audit::{self, Actor};
use crate::store::feed_keys::{self, FeedKeyResponse};
use crate::store::tokens::{self, TokenResponse};

/// The database a `token` command works on.
pub fn token_database(command: &TokenCommand) -> &str {
    match command {
        TokenCommand::Create(args) => &args.database.database_url,
        TokenCommand::List(database) => &database.database_url,
        TokenCommand::Revoke(args) => &args.database.database_url,
    }
}

/// Runs a `token` command; returns what to print on standard output and, for a new token,
/// a line about it for standard error (so `TOKEN=$(…)` captures only the secret).
pub fn token(db: &Database, command: TokenCommand) -> Result<(String, Option<String>), String> {
    let problem = |e: crate::error::ApiError| e.problem().detail;
    db.with_connection(|conn| match command {
        TokenCommand::Create(CreateTokenArgs {
            role,
            name,
            expires,
            ..
        }) => {
            let expires_at = match expires {
                Some(day) => Some(Timestamp::from(
                    expiry(day).map_err(|message| format!("--expires {message}"))?,
                )),
                None => None,
            };
            let created = write_transaction(conn, |conn| {
                let created = tokens::create(conn, &name, role, expires_at)?;
                audit::record(
                    conn,
                    &Actor::command("token"),
                    "create",
                    "token",
                    &created.token.id.to_string(),
                    &serde_json::json!({"name": name, "role": role, "expires_at": created.token.expires_at.map(crate::domain::time::rfc3339_micros)}),
                )?;
                Ok(created)
            })
            .map_err(problem)?;
            let lifetime = match expires {
                Some(day) => format!("works through {day} (UTC)"),
                None => "does not expire".to_owned(),
            };
            let about = format!(
                "created token {} ({}, {}); it {lifetime}; the secret is shown only now",
                created.token.id,
                created.token.name,
                created.token.role.as_str()
            );
            Ok((format!("{}\n", created.secret), Some(about)))
        }
        TokenCommand::List(_) => {
            let mut all = Vec::new();
            let mut cursor = None;
            loop {
                let page = tokens::list(conn, cursor.as_deref(), 200).map_err(problem)?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            Ok((token_table(&all), None))
        }
        TokenCommand::Revoke(args) => {
            let id = args.id;
            let token = write_transaction(conn, |conn| {
                let token = tokens::revoke(conn, &id)?;
                audit::record(conn, &Actor::command("token"), "revoke", "token", &id, &serde_json::json!({"name": token.name}))?;
                Ok(token)
            })
            .map_err(problem)?;
            Ok((format!("revoked {} ({})\n", token.id, token.name), None))
        }
    })
}

/// The database a `feed-key` command works on.
pub fn feed_key_database(command: &FeedKeyCommand) -> &str {
    match command {
        FeedKeyCommand::Create(args) => &args.database.database_url,
        FeedKeyCommand::List(database) => &database.database_url,
        FeedKeyCommand::Revoke(args) => &args.database.database_url,
    }
}

/// Runs a `feed-key` command, as [`token`] runs a `token` command.
pub fn feed_key(
    db: &Database,
    command: FeedKeyCommand,
) -> Result<(String, Option<String>), String> {
    let problem = |e: crate::error::ApiError| e.problem().detail;
    db.with_connection(|conn| match command {
        FeedKeyCommand::Create(CreateFeedKeyArgs { name, expires, .. }) => {
            let expires_at = match expires {
                Some(day) => Some(Timestamp::from(
                    expiry(day).map_err(|message| format!("--expires {message}"))?,
                )),
                None => None,
            };
            let created = write_transaction(conn, |conn| {
                let created = feed_keys::create(conn, &name, expires_at)?;
                audit::record(
                    conn,
                    &Actor::command("feed-key"),
                    "create",
                    "feed_key",
                    &created.key.id.to_string(),
                    &serde_json::json!({"name": name, "expires_at": created.key.expires_at.map(crate::domain::time::rfc3339_micros)}),
                )?;
                Ok(created)
            })
            .map_err(problem)?;
            let lifetime = match expires {
                Some(day) => format!("works through {day} (UTC)"),
                None => "does not expire".to_owned(),
            };
            let about = format!(
                "created feed key {} ({}); it {lifetime}; add ?key=<secret> to a feed URL; \
                 the secret is shown only now",
                created.key.id, created.key.name
            );
            Ok((format!("{}\n", created.secret), Some(about)))
        }
        FeedKeyCommand::List(_) => {
            let mut all = Vec::new();
            let mut cursor = None;
            loop {
                let page = feed_keys::list(conn, cursor.as_deref(), 200).map_err(problem)?;
                all.extend(page.items);
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            Ok((feed_key_table(&all), None))
        }
        FeedKeyCommand::Revoke(args) => {
            let id = args.id;
            let key = write_transaction(conn, |conn| {
                let key = feed_keys::revoke(conn, &id)?;
                audit::record(conn, &Actor::command("feed-key"), "revoke", "feed_key", &id, &serde_json::json!({"name": key.name}))?;
                Ok(key)
            })
            .map_err(problem)?;
            Ok((format!("revoked feed key {} ({})\n", key.id, key.name), None))
        }
    })
}

/// Feed keys as a table, as [`token_table`] lists tokens (without a role: a key only reads
/// feeds).
fn feed_key_table(keys: &[FeedKeyResponse]) -> String {
    let header = ["ID", "NAME", "CREATED (UTC)", "LAST DAY", "STATE"].map(str::to_owned);
    let rows: Vec<[String; 5]> = keys
        .iter()
        .map(|k| {
            [
                k.id.to_string(),
                k.name.clone(),
                k.created_at.format("%Y-%m-%d %H:%M").to_string(),
                k.expires_at.map_or_else(|| "never".to_owned(), last_day),
                lifecycle(k.revoked_at, k.active),
            ]
        })
        .collect();
    table(header, &rows)
}

/// Tokens as a table with a header, columns aligned; times are UTC.
fn token_table(tokens: &[TokenResponse]) -> String {
    let header = ["ID", "NAME", "ROLE", "CREATED (UTC)", "LAST DAY", "STATE"].map(str::to_owned);
    let rows: Vec<[String; 6]> = tokens
        .iter()
        .map(|t| {
            [
                t.id.to_string(),
                t.name.clone(),
                t.role.as_str().to_owned(),
                t.created_at.format("%Y-%m-%d %H:%M").to_string(),
                t.expires_at.map_or_else(|| "never".to_owned(), last_day),
                lifecycle(t.revoked_at, t.active),
            ]
        })
        .collect();
    table(header, &rows)
}

/// Rows under a header, columns aligned.
fn table<const N: usize>(header: [String; N], rows: &[[String; N]]) -> String {
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The day a token stored as expiring at `instant` (the midnight after its last day) last
/// works: what `--expires` was given.
fn last_day(instant: DateTime<Utc>) -> String {
    let moment = instant - chrono::Duration::nanoseconds(1);
    moment.date_naive().to_string()
}

/// A token's or feed key's state: revoked (when), active or expired.
fn lifecycle(revoked_at: Option<DateTime<Utc>>, active: bool) -> String {
    match (revoked_at, active) {
        (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
        (None, true) => "active".to_owned(),
        (None, false) => "expired".to_owned(),
    }
}

/// Erases the email and IP address of comments posted more than `retention_days` before
/// `now`; returns how many comments it touched.
pub fn purge_comment_contacts(
    conn: &mut crate::db::AnyConnection,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<usize, crate::error::ApiError> {
    let cutoff = now - chrono::Duration::days(i64::from(retention_days));
    if !crate::store::comments::any_contacts_before(conn, cutoff)? {
        return Ok(0);
    }
    write_transaction(conn, |conn| {
        crate::store::comments::purge_contacts(conn, cutoff)
    })
}

/// Creates the bootstrap admin token from `REGISTRY_ADMIN_TOKEN` unless it exists.
pub fn bootstrap_admin(db: &Database, secret: &str) -> Result<(), String> {
    db.with_connection(|conn| {
        write_transaction(conn, |conn| {
            if let Some(token) = tokens::create_with_secret(conn, "bootstrap-admin", Role::Admin, None, secret)? {
                audit::record(conn, &Actor::command("bootstrap"), "create", "token", &token.id.to_string(), &serde_json::json!({"name": token.name, "role": token.role}))?;
                tracing::info!(token_id = %token.id, "bootstrap admin token created from REGISTRY_ADMIN_TOKEN");
            }
            Ok(())
        })
        .map_err(|e| format!("REGISTRY_ADMIN_TOKEN: {}", e.problem().detail))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TokenId;

    fn token(name: &str, expires_at: Option<DateTime<Utc>>, active: bool) -> TokenResponse {
        TokenResponse {
            id: TokenId(uuid::Uuid::nil()),
            name: name.to_owned(),
            role: Role::Editor,
            created_at: DateTime::UNIX_EPOCH,
            expires_at,
            revoked_at: None,
            active,
        }
    }

    #[test]
    fn the_token_table_has_a_header_and_aligned_columns() {
        let midnight = crate::domain::time::end_of_day(
            chrono::NaiveDate::from_ymd_opt(2027, 1, 31).unwrap_or_default(),
        );
        let table = token_table(&[
            token("ci", midnight, true),
            token("a longer name", None, false),
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(
            lines[0].starts_with("ID") && lines[0].contains("LAST DAY"),
            "{table}"
        );
        assert!(lines[1].contains("  2027-01-31  active"), "{table}");
        assert!(lines[2].contains("  never       expired"), "{table}");
        let name_column = lines[0].find("NAME");
        assert_eq!(lines[1].find("ci"), name_column, "{table}");
        assert_eq!(lines[2].find("a longer name"), name_column, "{table}");
    }
}
