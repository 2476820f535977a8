//! The layering ARCHITECTURE.md promises, checked on the source: which top-level module may
//! name which (`crate::x` paths, `use` lines and fully qualified paths alike).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `(module, modules it must not name, why)`.
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "domain",
        &[
            "db",
            "store",
            "routes",
            "http",
            "cache",
            "representation",
            "bulk",
            "cli",
            "startup",
        ],
        "the domain knows no database and no HTTP",
    ),
    (
        "db",
        &[
            "store",
            "routes",
            "http",
            "cache",
            "representation",
            "bulk",
            "cli",
        ],
        "the database layer knows no resource",
    ),
    (
        "store",
        &["routes", "http", "representation", "cli", "startup", "bulk"],
        "the store knows no HTTP",
    ),
    (
        "cache",
        &["store", "routes", "db", "domain"],
        "the cache knows no resource and no backend",
    ),
    (
        "ical",
        &[
            "db",
            "store",
            "domain",
            "routes",
            "http",
            "cache",
            "representation",
            "bulk",
            "cli",
            "startup",
        ],
        "the iCalendar writer knows the format, not the registry",
    ),
    (
        "cli",
        &["routes"],
        "commands share rules through the store and domain",
    ),
    (
        "webhooks",
        &["routes", "http", "representation", "bulk", "cli"],
        "the dispatcher sends what the store holds; it knows no route",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_owned())
}

/// Every `crate::x` a file names outside its `#[cfg(test)]` module.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut named = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `$crate::` in a macro and `meeting_registry::`-style paths count the same.
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            named.insert(name);
        }
    }
    named
}

#[test]
fn each_layer_names_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 20,
        "found the sources under {}",
        src.display()
    );
    let mut broken = Vec::new();
    for file in &files {
        let Some(module) = top_module(&src, file) else {
            continue;
        };
        let Some((_, forbidden, why)) = RULES.iter().find(|(m, _, _)| *m == module) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for named in named_modules(&text) {
            if forbidden.contains(&named.as_str()) {
                broken.push(format!(
                    "{} names crate::{named}: {why}",
                    file.strip_prefix(&src).unwrap_or(file).display()
                ));
            }
        }
    }
    assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
}

#[test]
fn no_route_names_a_backend() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("routes"), &mut files);
    files.push(src.join("http.rs"));
    files.push(src.join("representation.rs"));
    let mut broken = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for backend in [
            "AnyConnection::Sqlite",
            "AnyConnection::Postgresql",
            "diesel::pg",
        ] {
            if text.contains(backend) {
                broken.push(format!("{} names {backend}", file.display()));
            }
        }
    }
    assert!(files.len() > 5);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_a_forbidden_path() {
    let named = named_modules("use crate::db::Timestamp;\nfn f() { crate::store::x(); }");
    assert!(named.contains("db") && named.contains("store"));
    let named =
        named_modules("use crate::ids::EventId;\n#[cfg(test)]\nmod tests { use crate::db; }");
    assert!(!named.contains("db"));
}
