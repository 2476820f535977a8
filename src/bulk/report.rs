//! What an import is asked to do, what it did, and why it refused a file: the words a person
//! at a terminal reads.

use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, FieldError};

/// What happens to a record of the file that already exists (matched by slug).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Create what is missing and leave every existing record as it is, so edits made since
    /// an earlier import survive any number of imports (and `serve --import` restarts).
    #[default]
    KeepExisting,
    /// Make every record of the file match it, saying which fields that overwrites.
    Overwrite,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    pub mode: ImportMode,
    /// Check everything and report what would happen, then write nothing.
    pub dry_run: bool,
}

/// One field whose stored value and the file's differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub stored: Value,
    pub file: Value,
}

/// An existing record that differs from the file: overwritten, or left as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordDifference {
    /// The section of the file: `events`.
    pub section: &'static str,
    pub slug: String,
    pub fields: Vec<FieldChange>,
    /// Why the fields are unknown: the file's version of the record breaks a rule.
    pub note: Option<String>,
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub created: usize,
    /// Existing records already equal to the file's.
    pub unchanged: usize,
    /// Existing records that differ from the file and were left as they are.
    pub kept: Vec<RecordDifference>,
    /// Existing records the file overwrote (only with [`ImportMode::Overwrite`]).
    pub overwritten: Vec<RecordDifference>,
    pub dry_run: bool,
}

impl ImportReport {
    /// Existing records the import did not change.
    pub fn left_as_they_are(&self) -> usize {
        self.unchanged + self.kept.len()
    }

    /// The lines to print: one per differing record and field, then a summary naming `file`.
    pub fn render(&self, file: &str) -> String {
        let mut out = String::new();
        for record in &self.overwritten {
            let verb = if self.dry_run {
                "would overwrite"
            } else {
                "overwrote"
            };
            out.push_str(&format!("{verb} {}/{}:\n", record.section, record.slug));
            render_fields(&mut out, record);
        }
        for record in &self.kept {
            out.push_str(&format!(
                "left {}/{} as it is; the file differs:\n",
                record.section, record.slug
            ));
            render_fields(&mut out, record);
        }
        let (did, created, overwritten) = if self.dry_run {
            ("checked", "to create", "to overwrite")
        } else {
            ("imported", "created", "overwritten")
        };
        let written = if self.dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{did} {file}{written}: {} {created}",
            self.created
        ));
        if !self.overwritten.is_empty() {
            out.push_str(&format!(
                ", {} {overwritten}, {} already as in the file",
                self.overwritten.len(),
                self.unchanged
            ));
        } else if self.left_as_they_are() > 0 {
            out.push_str(&format!(", {} left as they are", self.left_as_they_are()));
            match self.kept.len() {
                0 => {}
                differing => out.push_str(&format!(
                    " ({differing} of them {} from the file; `meeting-registry import \
                     --overwrite --dry-run {file}` shows what --overwrite would change)",
                    if differing == 1 { "differs" } else { "differ" }
                )),
            }
        }
        out.push('\n');
        out
    }
}

fn render_fields(out: &mut String, record: &RecordDifference) {
    if let Some(note) = &record.note {
        out.push_str(&format!("    {note}\n"));
    }
    for change in &record.fields {
        out.push_str(&format!(
            "    {}: {} -> {}\n",
            change.field,
            shown(&change.stored),
            shown(&change.file)
        ));
    }
}

/// A value as compact JSON; `null` reads as "(none)".
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    }
}

/// Everything wrong with one record of the file, from every check at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// `events[3]`
    pub position: String,
    pub slug: Option<String>,
    /// One entry per field (`field` empty for the record as a whole, e.g. a broken rule).
    pub errors: Vec<FieldError>,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.position)?;
        if let Some(slug) = &self.slug {
            write!(f, " ({slug})")?;
        }
        for error in &self.errors {
            if error.field.is_empty() {
                write!(f, "\n    {}", error.message)?;
            } else {
                write!(f, "\n    {}: {}", error.field, error.message)?;
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file is not a bundle at all: every reason, one a line.
    Unreadable(String),
    /// Records that are invalid, refer to nothing or break a rule; nothing was stored.
    Invalid {
        problems: Vec<ImportProblem>,
        /// Records with no problem of their own that could not be checked against the rules,
        /// because they refer to records with problems (`events[4] (rnnc-4)`).
        unchecked: Vec<String>,
    },
    Database(ApiError),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(message) => write!(f, "{message}"),
            Self::Invalid {
                problems,
                unchecked,
            } => {
                let fields: usize = problems.iter().map(|p| p.errors.len()).sum();
                writeln!(
                    f,
                    "{} record(s) with {} problem(s); nothing was imported:",
                    problems.len(),
                    fields
                )?;
                for problem in problems {
                    writeln!(f, "  {problem}")?;
                }
                if !unchecked.is_empty() {
                    writeln!(
                        f,
                        "  not checked against the registry's rules, because they refer to the \
                         records above: {}",
                        unchecked.join(", ")
                    )?;
                }
                Ok(())
            }
            Self::Database(error) => write!(f, "import failed: {}", error.problem().detail),
        }
    }
}

/// The field errors an API error stands for: its fields, else one line per broken rule, else
/// its detail.
pub(super) fn field_errors(error: &ApiError) -> Vec<FieldError> {
    let problem = error.problem();
    if !problem.errors.is_empty() {
        problem.errors
    } else if !problem.violations.is_empty() {
        problem
            .violations
            .into_iter()
            .map(|v| FieldError::new("", format!("breaks rule {}: {}", v.rule, v.detail)))
            .collect()
    } else {
        vec![FieldError::new("", problem.detail)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_shows_one_line_per_field() {
        let problem = ImportProblem {
            position: "events[1]".into(),
            slug: Some("backwards".into()),
            errors: vec![
                FieldError::new("end_date", "must not be before start_date"),
                FieldError::new("", "breaks rule series_order: …"),
            ],
        };
        assert_eq!(
            problem.to_string(),
            "events[1] (backwards)\n    end_date: must not be before start_date\n    breaks rule series_order: …"
        );
    }

    #[test]
    fn a_summary_says_what_was_left_alone() {
        let report = ImportReport {
            created: 2,
            unchanged: 3,
            kept: vec![RecordDifference {
                section: "events",
                slug: "iisg-board-4".into(),
                fields: vec![FieldChange {
                    field: "start_time".into(),
                    stored: Value::from("11:30"),
                    file: Value::Null,
                }],
                note: None,
            }],
            ..Default::default()
        };
        let text = report.render("demo.json");
        assert!(text.starts_with(
            "left events/iisg-board-4 as it is; the file differs:\n    start_time: \"11:30\" -> (none)\n"
        ));
        assert!(
            text.contains("imported demo.json: 2 created, 4 left as they are (1 of them differs")
        );
    }
}
