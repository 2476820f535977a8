//! Saying which database could not be opened, and why, in one line: the URL without its
//! password, the driver's message, and for a SQLite file what is wrong with its folder.

use std::path::Path;

use url::Url;

use super::Backend;

/// The database as it may be shown in a message or a log: a PostgreSQL URL loses its
/// password (in the user part or a `password=` parameter).
pub fn shown(url: &str) -> String {
    if Backend::of(url) == Backend::Sqlite {
        return url.to_owned();
    }
    let Ok(mut parsed) = Url::parse(url) else {
        return format!(
            "{}://… (not a valid URL)",
            url.split("://").next().unwrap_or("postgres")
        );
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(None);
    }
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| key != "password")
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

/// Why `url` could not be opened: the driver's message on one line, and for a SQLite file,
/// what stands in its way when that can be seen from here.
pub fn open_failure(url: &str, path: &str, error: &dyn std::fmt::Display) -> String {
    let message: Vec<String> = error
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    let mut line = format!(
        "cannot open the database {}: {}",
        shown(url),
        message.join(" ")
    );
    if Backend::of(url) == Backend::Sqlite
        && let Some(hint) = sqlite_hint(Path::new(path))
    {
        line.push_str(&format!(" ({hint})"));
    }
    line
}

fn sqlite_hint(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some(format!("{} is a folder, not a file", path.display()));
    }
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Some(format!("the folder {} does not exist", folder.display()));
    }
    if !writable(folder) {
        return Some(format!(
            "the folder {} is not writable by this user; SQLite keeps its journal beside the file",
            folder.display()
        ));
    }
    None
}

/// Whether a file can be created in `folder`, found by creating one: permission bits do not
/// tell (ACLs, read-only mounts, a container's user mapping).
fn writable(folder: &Path) -> bool {
    let probe = folder.join(format!(".meeting-registry-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(e) => e.kind() == std::io::ErrorKind::AlreadyExists,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            shown("postgres://app:s3cret@db:5432/registry?sslmode=disable"),
            "postgres://app@db:5432/registry?sslmode=disable"
        );
        assert_eq!(
            shown("postgresql://db/registry?password=s3cret"),
            "postgresql://db/registry"
        );
        assert_eq!(shown("/data/registry.db"), "/data/registry.db");
        assert!(!shown("postgres://a:s3cret@[bad/x").contains("s3cret"));
    }

    #[test]
    fn a_sqlite_failure_names_the_file_and_its_folder() {
        let line = open_failure(
            "/no/such/folder/registry.db",
            "/no/such/folder/registry.db",
            &"unable to open database file",
        );
        assert_eq!(
            line,
            "cannot open the database /no/such/folder/registry.db: unable to open database \
             file (the folder /no/such/folder does not exist)"
        );
    }

    #[test]
    fn a_driver_message_is_one_line() {
        let line = open_failure(
            "postgres://u:pw@127.0.0.1:1/x",
            "",
            &"connection refused\n\tIs the server running?\n",
        );
        assert_eq!(
            line,
            "cannot open the database postgres://u@127.0.0.1:1/x: connection refused Is the \
             server running?"
        );
    }
}
