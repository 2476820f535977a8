//! `meeting-registry migrate-data --from URL --to URL`: a whole registry moved into an empty
//! database of either backend (SQLite → PostgreSQL for those who outgrow the embedded
//! default, or back), ids, slugs, versions, timestamps, tokens (hashes), feed keys and audit
//! included, in one transaction on the target, then verified table by table.
//!
//! Rows travel as JSON: each source row is read as one JSON object whose values are written
//! the way the target stores them (instants as SQLite keeps them, booleans as 0/1 for SQLite),
//! and inserted in batches with `json_populate_recordset` (PostgreSQL) or `json_each`
//! (SQLite). Column names and kinds come from the target's catalog, so a new column needs no
//! change here; a new *table* is added to [`TABLES`].
//!
//! Not moved, on purpose: the change feed's history (the target's feed starts after the
//! source's last change, so a mirror's old cursor gets 410 and it resyncs; webhooks, moved
//! with their delivery logs, follow the target's feed from there) and stored idempotency keys
//! (they expire within a day).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use diesel::connection::TransactionManager;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::{AnyConnection, Backend, Database};
use crate::error::ApiError;

/// `(table, its key columns, columns written after every row exists)`, in an order where every
/// row's references already exist; the deferred columns point into their own table.
const TABLES: &[(&str, &str, &[&str])] = &[
    ("organisations", "id", &["parent_id"]),
    ("people", "id", &[]),
    ("networks", "id", &[]),
    ("network_supporters", "network_id, organisation_id", &[]),
    ("memberships", "id", &[]),
    ("programmes", "id", &["parent_id"]),
    ("programme_organisations", "programme_id, position", &[]),
    ("chains", "id", &[]),
    ("events", "id", &["parent_event_id"]),
    ("event_topics", "event_id, topic_key", &[]),
    ("event_organisers", "event_id, organisation_id, role", &[]),
    ("event_participants", "event_id, position", &[]),
    (
        "event_relations",
        "event_id, relation, related_event_id",
        &[],
    ),
    ("comments", "id", &[]),
    ("publications", "id", &[]),
    ("publication_authors", "publication_id, position", &[]),
    ("publication_topics", "publication_id, position", &[]),
    ("publication_events", "publication_id, position", &[]),
    ("outcomes", "id", &[]),
    ("tokens", "id", &[]),
    ("feed_keys", "id", &[]),
    ("audit_log", "id", &[]),
    ("webhooks", "id", &[]),
    ("webhook_deliveries", "id", &[]),
];

/// Columns each backend derives for itself, never copied: SQLite's key into its text index
/// (its insert trigger assigns one).
const DERIVED: &[&str] = &["search_key"];

/// Rows per INSERT statement.
const BATCH: i64 = 500;

/// How a column's values are written, by the kind of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Instant,
    Bool,
    Other,
}

/// What was moved: rows per table, each verified.
#[derive(Debug, Default)]
pub struct MoveReport {
    pub tables: Vec<(String, usize)>,
}

impl std::fmt::Display for MoveReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: usize = self.tables.iter().map(|(_, n)| n).sum();
        writeln!(f, "{:<20} {:>10}  verified", "table", "rows")?;
        for (table, rows) in &self.tables {
            writeln!(f, "{table:<20} {rows:>10}  count and checksum match")?;
        }
        writeln!(f, "moved {total} rows in {} tables", self.tables.len())
    }
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    row: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
}

/// Moves everything from `from` into `to`, which must hold no records; verifies every table.
pub fn move_registry(from: &Database, to: &Database) -> Result<MoveReport, String> {
    from.with_connection(|source| {
        to.with_connection(|target| move_between(source, from.backend(), target, to.backend()))
    })
}

fn move_between(
    source: &mut AnyConnection,
    source_backend: Backend,
    target: &mut AnyConnection,
    target_backend: Backend,
) -> Result<MoveReport, String> {
    // One snapshot of the source for the whole move.
    begin_snapshot(source).map_err(|e| format!("reading the source: {e}"))?;
    let moved = move_snapshot(source, source_backend, target, target_backend);
    let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(source);
    moved
}

fn begin_snapshot(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    use diesel::connection::AnsiTransactionManager;
    match conn {
        AnyConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN"),
        AnyConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        ),
    }
}

fn move_snapshot(
    source: &mut AnyConnection,
    source_backend: Backend,
    target: &mut AnyConnection,
    target_backend: Backend,
) -> Result<MoveReport, String> {
    for (table, _, _) in TABLES {
        let n = count(target, table)?;
        if n > 0 {
            return Err(format!(
                "the target is not empty: {table} holds {n} rows; migrate-data only fills an empty registry"
            ));
        }
    }
    // The columns both sides have (less those each derives), kinds from PostgreSQL's types
    // where one side is PostgreSQL (they say more than SQLite's).
    let mut columns: BTreeMap<&str, Vec<(String, ColumnKind)>> = BTreeMap::new();
    for (table, _, _) in TABLES {
        let in_source = table_columns(source, source_backend, table)?;
        let in_target = table_columns(target, target_backend, table)?;
        let typed = if source_backend == Backend::Postgres {
            &in_source
        } else {
            &in_target
        };
        let shared: Vec<(String, ColumnKind)> = typed
            .iter()
            .filter(|(name, _)| !DERIVED.contains(&name.as_str()))
            .filter(|(name, _)| in_source.iter().any(|(n, _)| n == name))
            .filter(|(name, _)| in_target.iter().any(|(n, _)| n == name))
            .cloned()
            .collect();
        columns.insert(table, shared);
    }
    // Key columns as each side types them (PostgreSQL casts the values a page starts after).
    let mut keys: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut target_keys: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for (table, key, _) in TABLES {
        keys.insert(table, key_columns(source, source_backend, table, key)?);
        target_keys.insert(table, key_columns(target, target_backend, table, key)?);
    }
    let generation: i64 =
        diesel::sql_query("SELECT generation AS n FROM registry_state WHERE id = 1")
            .get_result::<Count>(source)
            .map_err(|e| format!("reading the source's generation: {e}"))?
            .n;

    let mut report = MoveReport::default();
    crate::db::write_transaction(target, |target| {
        for (table, key, deferred) in TABLES {
            let cols = &columns[table];
            let table_keys = &keys[table];
            let mut after = None;
            loop {
                let rows = read_rows(
                    source,
                    source_backend,
                    target_backend,
                    table,
                    table_keys,
                    cols,
                    &after,
                )?;
                let Some(last) = rows.last() else {
                    break;
                };
                after = Some(key_of(last, table_keys));
                let batch: Vec<Value> = rows
                    .iter()
                    .map(|row| without(row, deferred))
                    .collect::<Result<_, _>>()?;
                insert(target, target_backend, table, cols, deferred, &batch)?;
            }
            for column in deferred.iter() {
                restore(source, target, source_backend, target_backend, table, key, column)?;
            }
        }
        // The target's feed starts after the source's last change: older cursors get 410.
        diesel::sql_query("DELETE FROM changes").execute(target)?;
        diesel::sql_query(format!(
            "UPDATE registry_state SET generation = {generation}, changes_dropped_through = {generation} WHERE id = 1"
        ))
        .execute(target)?;
        // Verified before the commit: a difference undoes everything.
        for (table, _, _) in TABLES {
            let cols = &columns[table];
            let (n_source, sum_source) =
                checksum(source, source_backend, table, &keys[table], cols)?;
            let (n_target, sum_target) =
                checksum(target, target_backend, table, &target_keys[table], cols)?;
            if n_source != n_target || sum_source != sum_target {
                return Err(ApiError::internal(format!(
                    "{table} differs after the copy: {n_source} rows (checksum {sum_source}) in the source, {n_target} ({sum_target}) in the target; nothing was kept"
                )));
            }
            report.tables.push(((*table).to_owned(), n_target));
        }
        // Webhooks follow the target's feed from where it starts (their deliveries, pending
        // ones included, moved with them).
        diesel::sql_query(format!("UPDATE webhooks SET change_cursor = '{generation}'"))
            .execute(target)?;
        Ok(())
    })
    .map_err(|e| match e {
        ApiError::Internal { cause, .. } => cause,
        other => other.to_string(),
    })?;
    Ok(report)
}

fn count(conn: &mut AnyConnection, table: &str) -> Result<i64, String> {
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
        .get_result::<Count>(conn)
        .map(|c| c.n)
        .map_err(|e| format!("counting {table}: {e}"))
}

/// The key columns of `table` with their types on `backend`.
fn key_columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    key: &str,
) -> Result<Vec<(String, String)>, String> {
    let raw = raw_columns(conn, backend, table)?;
    key.split(", ")
        .map(|name| {
            raw.iter()
                .find(|c| c.name == name)
                .map(|c| (c.name.clone(), c.kind.clone()))
                .ok_or_else(|| format!("{table} has no column {name}"))
        })
        .collect()
}

fn raw_columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<Vec<Column>, String> {
    let sql = match backend {
        Backend::Postgres => format!(
            "SELECT column_name::text AS name, data_type::text AS kind FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
        ),
        Backend::Sqlite => {
            format!("SELECT name, type AS kind FROM pragma_table_info('{table}') ORDER BY cid")
        }
    };
    let found: Vec<Column> = diesel::sql_query(sql)
        .load(conn)
        .map_err(|e| format!("reading the columns of {table}: {e}"))?;
    if found.is_empty() {
        return Err(format!("table {table} is missing"));
    }
    Ok(found)
}

fn table_columns(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<Vec<(String, ColumnKind)>, String> {
    Ok(raw_columns(conn, backend, table)?
        .into_iter()
        .map(|c| {
            let kind = c.kind.to_ascii_lowercase();
            let kind = if kind.starts_with("timestamp") {
                ColumnKind::Instant
            } else if kind == "boolean" {
                ColumnKind::Bool
            } else {
                ColumnKind::Other
            };
            (c.name, kind)
        })
        .collect())
}

/// One page of `table`'s rows in key order after the key values `after` (a keyset walk of the
/// primary key, so every page costs the same), each a JSON object written as `target` stores
/// it.
fn read_rows(
    conn: &mut AnyConnection,
    backend: Backend,
    target: Backend,
    table: &str,
    keys: &[(String, String)],
    cols: &[(String, ColumnKind)],
    after: &Option<Vec<String>>,
) -> Result<Vec<Value>, ApiError> {
    let select = row_json(backend, target, cols);
    // Byte order for text keys on PostgreSQL too, as SQLite orders them: both sides hash the
    // rows in one order.
    let names: Vec<String> = keys
        .iter()
        .map(|(name, kind)| match backend {
            Backend::Postgres if kind == "text" => format!("{name} COLLATE \"C\""),
            _ => name.clone(),
        })
        .collect();
    let order = names.join(", ");
    let mut sql = format!("SELECT {select} AS row FROM {table}");
    if after.is_some() {
        let params: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| match backend {
                Backend::Postgres => format!("CAST(${} AS {kind})", i + 1),
                Backend::Sqlite => format!("?{}", i + 1),
            })
            .collect();
        let _ = write!(sql, " WHERE ({order}) > ({})", params.join(", "));
    }
    let _ = write!(sql, " ORDER BY {order} LIMIT {BATCH}");
    let mut query = diesel::sql_query(sql).into_boxed();
    for value in after.iter().flatten() {
        query = query.bind::<Text, _>(value.clone());
    }
    let rows: Vec<JsonRow> = query.load(conn)?;
    rows.into_iter()
        .map(|r| serde_json::from_str(&r.row).map_err(ApiError::internal))
        .collect()
}

/// The key values of `row`, as text: the next page starts after them.
fn key_of(row: &Value, keys: &[(String, String)]) -> Vec<String> {
    keys.iter()
        .map(|(name, _)| match &row[name.as_str()] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The SQL of one row as a JSON object, each value in the form `target` stores.
fn row_json(backend: Backend, target: Backend, cols: &[(String, ColumnKind)]) -> String {
    let mut parts = Vec::new();
    for (name, kind) in cols {
        let value = match (backend, target, kind) {
            // SQLite keeps instants as RFC 3339 text with six digits and `Z`, booleans as 0/1.
            (Backend::Postgres, Backend::Sqlite, ColumnKind::Instant) => {
                format!("to_char({name} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
            }
            (Backend::Postgres, Backend::Sqlite, ColumnKind::Bool) => format!("{name}::int"),
            _ => name.clone(),
        };
        parts.push(format!("'{name}', {value}"));
    }
    match backend {
        Backend::Postgres => format!("json_build_object({})::text", parts.join(", ")),
        Backend::Sqlite => format!("json_object({})", parts.join(", ")),
    }
}

/// `row` with the `deferred` columns left empty (they are written once every row exists).
fn without(row: &Value, deferred: &[&str]) -> Result<Value, ApiError> {
    let mut row = row.clone();
    if let Value::Object(fields) = &mut row {
        for column in deferred {
            fields.insert((*column).to_owned(), Value::Null);
        }
    }
    Ok(row)
}

fn insert(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    cols: &[(String, ColumnKind)],
    _deferred: &[&str],
    rows: &[Value],
) -> Result<(), ApiError> {
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let list = names.join(", ");
    let json = Value::Array(rows.to_vec()).to_string();
    let sql = match backend {
        Backend::Postgres => format!(
            "INSERT INTO {table} ({list}) SELECT {list} FROM json_populate_recordset(NULL::{table}, $1::json)"
        ),
        Backend::Sqlite => {
            let values: Vec<String> = names
                .iter()
                .map(|n| format!("json_extract(value, '$.\"{n}\"')"))
                .collect();
            format!(
                "INSERT INTO {table} ({list}) SELECT {} FROM json_each(?1) ORDER BY key",
                values.join(", ")
            )
        }
    };
    diesel::sql_query(sql).bind::<Text, _>(json).execute(conn)?;
    Ok(())
}

/// Writes `column` of `table` in the target from the source, row by row where it is set.
fn restore(
    source: &mut AnyConnection,
    target: &mut AnyConnection,
    source_backend: Backend,
    target_backend: Backend,
    table: &str,
    key: &str,
    column: &str,
) -> Result<(), ApiError> {
    let cols = vec![
        (key.to_owned(), ColumnKind::Other),
        (column.to_owned(), ColumnKind::Other),
    ];
    let select = row_json(source_backend, target_backend, &cols);
    let sql =
        format!("SELECT {select} AS row FROM {table} WHERE {column} IS NOT NULL ORDER BY {key}");
    let rows: Vec<JsonRow> = diesel::sql_query(sql).load(source)?;
    for row in rows {
        let value: Value = serde_json::from_str(&row.row).map_err(ApiError::internal)?;
        let (Some(id), Some(reference)) = (value[key].as_str(), value[column].as_str()) else {
            continue;
        };
        let sql = match target_backend {
            Backend::Postgres => {
                format!("UPDATE {table} SET {column} = $1::uuid WHERE {key} = $2::uuid")
            }
            Backend::Sqlite => format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2"),
        };
        diesel::sql_query(sql)
            .bind::<Text, _>(reference)
            .bind::<Text, _>(id)
            .execute(target)?;
    }
    Ok(())
}

/// Rows and a SHA-256 over every row in key order, each value normalised (an instant as its
/// microseconds, a boolean as true/false), so that both backends give the same for the same
/// registry.
fn checksum(
    conn: &mut AnyConnection,
    backend: Backend,
    table: &str,
    keys: &[(String, String)],
    cols: &[(String, ColumnKind)],
) -> Result<(usize, String), ApiError> {
    let mut hash = Sha256::new();
    let mut n = 0;
    let mut after = None;
    loop {
        // Read in the source form of each backend (no conversion), then normalised here.
        let rows = read_rows(conn, backend, backend, table, keys, cols, &after)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some(key_of(last, keys));
        for row in &rows {
            n += 1;
            let mut line = String::new();
            for (name, kind) in cols {
                let value = &row[name.as_str()];
                let normal = match (kind, value) {
                    (_, Value::Null) => "null".to_owned(),
                    (ColumnKind::Instant, Value::String(text)) => instant_micros(text)
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| text.clone()),
                    (ColumnKind::Bool, Value::Bool(b)) => b.to_string(),
                    (ColumnKind::Bool, Value::Number(n)) => (n.as_i64() != Some(0)).to_string(),
                    (_, Value::String(text)) => text.clone(),
                    (_, other) => other.to_string(),
                };
                let _ = write!(line, "{}\u{1f}", normal.len());
                line.push_str(&normal);
            }
            hash.update(line.as_bytes());
            hash.update(b"\x1e");
        }
    }
    Ok((n, hex::encode(&hash.finalize()[..12])))
}

fn instant_micros(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%:z"))
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
}
