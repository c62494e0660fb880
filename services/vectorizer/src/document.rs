//! What gets embedded: one documented function per entity builds its text, long texts are
//! split into overlapping chunks that fit the model's token window, and every chunk has a
//! content hash (over the model and the text) so unchanged content is never embedded twice.
//!
//! A work item's document:
//!
//! ```text
//! ENG-12: Retry billing when the card is declined
//! Bug · In Progress · labels: billing, payments · components: api
//!
//! <description as plain text>
//!
//! <mapped text field name>: <value>
//! ```
//!
//! A pull request's: `repository#number: title`, then its body.

use sha2::{Digest, Sha256};

/// The searchable parts of a work item.
#[derive(Debug, Clone, Default)]
pub struct WorkItemContent {
    pub key: String,
    pub summary: String,
    pub description: String,
    pub item_type: String,
    pub status: String,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    /// Mapped text custom fields: (field name, text).
    pub text_fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct PullRequestContent {
    pub repository: String,
    pub number: i64,
    pub title: String,
    pub body: String,
}

pub fn work_item_document(item: &WorkItemContent) -> String {
    let mut out = format!("{}: {}", item.key, item.summary.trim());
    let mut facts: Vec<String> = Vec::new();
    for fact in [&item.item_type, &item.status] {
        if !fact.trim().is_empty() {
            facts.push(fact.trim().to_string());
        }
    }
    if !item.labels.is_empty() {
        facts.push(format!("labels: {}", item.labels.join(", ")));
    }
    if !item.components.is_empty() {
        facts.push(format!("components: {}", item.components.join(", ")));
    }
    if !facts.is_empty() {
        out.push('\n');
        out.push_str(&facts.join(" · "));
    }
    if !item.description.trim().is_empty() {
        out.push_str("\n\n");
        out.push_str(item.description.trim());
    }
    let fields: Vec<String> = item
        .text_fields
        .iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(name, text)| format!("{name}: {}", text.trim()))
        .collect();
    if !fields.is_empty() {
        out.push_str("\n\n");
        out.push_str(&fields.join("\n"));
    }
    out
}

pub fn pull_request_document(pr: &PullRequestContent) -> String {
    let mut out = format!("{}#{}: {}", pr.repository, pr.number, pr.title.trim());
    if !pr.body.trim().is_empty() {
        out.push_str("\n\n");
        out.push_str(pr.body.trim());
    }
    out
}

/// Splits a document into chunks of at most `max_words` words, each overlapping the previous
/// one by `overlap` words. Words, not tokens: the caller picks `max_words` below the model's
/// token window (English averages ~1.3 WordPiece tokens per word), and the encoder truncates
/// anything that still does not fit. A short document is one chunk, unchanged.
pub fn chunks(document: &str, max_words: usize, overlap: usize) -> Vec<String> {
    let max_words = max_words.max(1);
    let overlap = overlap.min(max_words / 2);
    let words: Vec<&str> = document.split_whitespace().collect();
    if words.len() <= max_words {
        return vec![document.to_string()];
    }
    let step = max_words - overlap;
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let end = (start + max_words).min(words.len());
        out.push(words[start..end].join(" "));
        if end == words.len() {
            break;
        }
        start += step;
    }
    out
}

/// Hex SHA-256 of the model name and the chunk text: the same text embedded by another model
/// (or with other dimensions, part of the model name) hashes differently.
pub fn content_hash(model: &str, chunk: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update([0u8]);
    hasher.update(chunk.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_item_document_has_its_key_summary_facts_description_and_fields() {
        let document = work_item_document(&WorkItemContent {
            key: "ENG-12".into(),
            summary: " Retry billing when the card is declined ".into(),
            description: "Customers see a generic error.".into(),
            item_type: "Bug".into(),
            status: "In Progress".into(),
            labels: vec!["billing".into(), "payments".into()],
            components: vec!["api".into()],
            text_fields: vec![
                ("Root cause".into(), "Gateway timeout".into()),
                ("Empty".into(), "  ".into()),
            ],
        });
        assert_eq!(
            document,
            "ENG-12: Retry billing when the card is declined\n\
             Bug · In Progress · labels: billing, payments · components: api\n\n\
             Customers see a generic error.\n\n\
             Root cause: Gateway timeout"
        );
        let bare = work_item_document(&WorkItemContent {
            key: "ENG-1".into(),
            summary: "Only a summary".into(),
            ..Default::default()
        });
        assert_eq!(bare, "ENG-1: Only a summary");
    }

    #[test]
    fn a_pull_request_document_names_its_repository_and_number() {
        assert_eq!(
            pull_request_document(&PullRequestContent {
                repository: "acme/api".into(),
                number: 7,
                title: "Retry declined cards".into(),
                body: "".into(),
            }),
            "acme/api#7: Retry declined cards"
        );
    }

    #[test]
    fn long_documents_become_overlapping_chunks_covering_every_word() {
        let text: Vec<String> = (0..25).map(|i| format!("w{i}")).collect();
        let parts = chunks(&text.join(" "), 10, 3);
        assert_eq!(parts.len(), 4);
        assert!(parts[0].starts_with("w0 ") && parts[0].ends_with(" w9"));
        assert!(
            parts[1].starts_with("w7 "),
            "overlaps by 3 words: {}",
            parts[1]
        );
        assert!(parts.last().unwrap().ends_with(" w24"));
        assert_eq!(chunks("short text", 10, 3), vec!["short text".to_string()]);
    }

    #[test]
    fn hashes_differ_by_model_and_by_text_and_are_stable() {
        let a = content_hash("all-MiniLM-L6-v2", "text");
        assert_eq!(a, content_hash("all-MiniLM-L6-v2", "text"));
        assert_ne!(a, content_hash("other-model", "text"));
        assert_ne!(a, content_hash("all-MiniLM-L6-v2", "text!"));
        assert_eq!(a.len(), 64);
    }
}
