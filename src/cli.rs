//! The administrative commands that are not the server: tokens (import and export live in
//! `bulk`).

use crate::configuration::TokenCommand;
use crate::db::{Database, write_transaction};
use crate::domain::enums::Role;
use crate::domain::time::parse_date;
use crate::routes::access::end_of_day;
use crate::store::audit::{self, Actor};
use crate::store::tokens;

/// Runs a `token` command; returns what to print.
pub fn token(db: &Database, command: TokenCommand) -> Result<String, String> {
    let problem = |e: crate::error::ApiError| e.problem().detail;
    db.with_connection(|conn| match command {
        TokenCommand::Create { role, name, expires } => {
            let role = Role::parse(&role).ok_or_else(|| format!("unknown role {role:?}"))?;
            let expires_at = expires
                .map(|day| parse_date(&day).map(end_of_day))
                .transpose()?
                .flatten();
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
            Ok(format!("{}\n", created.secret))
        }
        TokenCommand::List => {
            let page = tokens::list(conn, None, 200).map_err(problem)?;
            let mut out = String::new();
            for t in page.items {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\n",
                    t.id,
                    t.role.as_str(),
                    if t.active { "active" } else { "inactive" },
                    t.name
                ));
            }
            Ok(out)
        }
        TokenCommand::Revoke { id } => {
            let token = write_transaction(conn, |conn| {
                let token = tokens::revoke(conn, &id)?;
                audit::record(conn, &Actor::command("token"), "revoke", "token", &id, &serde_json::json!({"name": token.name}))?;
                Ok(token)
            })
            .map_err(problem)?;
            Ok(format!("revoked {} ({})\n", token.id, token.name))
        }
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
