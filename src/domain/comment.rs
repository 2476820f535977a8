//! Comments as commenters write them, and the one thing editors change on them: their status.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::enums::CommentStatus;
use crate::domain::text;
use crate::error::FieldError;

/// The longest comment body, in characters.
pub const MAX_BODY_CHARS: usize = 5000;

/// A comment on a public event, as anyone may post it. It is plain text: the registry stores
/// and returns it exactly as sent, never as markup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "author_name": "Ana Kovač",
    "email": "ana.kovac@example.org",
    "body": "Will the conclusions of the 4th IISG Board Meeting be published?"
}))]
pub struct CommentInput {
    /// The name to show with the comment, one line of at most 200 characters.
    #[schema(example = "Ana Kovač")]
    pub author_name: String,
    /// An email address (`local@domain.tld`, at most 254 characters) for the editors to reply
    /// to; optional. Never shown: only admins read it, and it is erased after the retention
    /// period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Email, example = "ana.kovac@example.org")]
    pub email: Option<String>,
    /// The comment: plain text of 1 to 5000 characters (line breaks and tabs allowed, no other
    /// control characters), kept exactly as sent. Never interpreted as HTML.
    #[schema(example = "Will the conclusions of the 4th IISG Board Meeting be published?")]
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ValidComment {
    pub author_name: String,
    pub email: Option<String>,
    pub body: String,
}

impl CommentInput {
    pub fn validate(self) -> Result<ValidComment, Vec<FieldError>> {
        let mut errors = Vec::new();
        let valid = ValidComment {
            author_name: text::required_line("author_name", &self.author_name, 200, &mut errors),
            email: text::optional_email("email", self.email.as_deref(), &mut errors),
            body: text::required_verbatim("body", &self.body, MAX_BODY_CHARS, &mut errors),
        };
        if errors.is_empty() {
            Ok(valid)
        } else {
            Err(errors)
        }
    }
}

/// What an editor changes on a comment: approve it (shown to everyone) or reject it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "approved"}))]
pub struct CommentModeration {
    /// `approved` shows the comment to everyone; `rejected` hides it (it is kept for the
    /// record); `pending` puts it back in the queue.
    pub status: CommentStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(input: serde_json::Value) -> Vec<String> {
        let input: CommentInput = serde_json::from_value(input).expect("shape");
        input
            .validate()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_comment_needs_a_name_and_a_body_of_plain_text() {
        assert_eq!(
            fields(serde_json::json!({"author_name": " ", "body": " \n "})),
            ["author_name", "body"]
        );
        assert_eq!(
            fields(serde_json::json!({
                "author_name": "A", "email": "nobody", "body": "x".repeat(5001)
            })),
            ["email", "body"]
        );
        assert_eq!(
            fields(serde_json::json!({"author_name": "A", "body": "a\u{0}b"})),
            ["body"]
        );
    }

    #[test]
    fn a_body_is_kept_exactly_as_sent() {
        let body = "  <script>alert(1)</script>\n\tLine two  ";
        let input = CommentInput {
            author_name: " Ana ".into(),
            email: None,
            body: body.into(),
        };
        let valid = input.validate().expect("valid");
        assert_eq!(valid.body, body);
        assert_eq!(valid.author_name, "Ana");
    }
}
