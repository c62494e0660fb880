//! Human-looking text: summaries (some in other scripts, with emoji, quotes or tabs),
//! Atlassian Document Format bodies and labels.

use serde_json::{Value, json};

use super::site::User;
use crate::rng::Rng;

const VERBS: [&str; 8] = [
    "Fix",
    "Investigate",
    "Add",
    "Refactor",
    "Remove",
    "Document",
    "Migrate",
    "Speed up",
];
const OBJECTS: [&str; 9] = [
    "login timeout",
    "CSV export",
    "payment webhook retries",
    "search index rebuild",
    "onboarding email",
    "dark mode toggle",
    "rate limiter",
    "OAuth token refresh",
    "PDF invoice renderer",
];
const QUALIFIERS: [&str; 7] = [
    "on Safari",
    "for EU customers",
    "after upgrade to 2.1",
    "in staging",
    "",
    "(again)",
    "when offline",
];
const ODD_SUMMARIES: [&str; 9] = [
    "🚀 Launch checklist for 3.0",
    "数据库连接超时",
    "خطأ في تسجيل الدخول عبر Google",
    "שגיאה בייצוא CSV",
    "Ünïcödé normalisation turns ß into ss",
    "Emoji in titles 😅 break the exporter",
    "Tab\tseparated and \"quoted\" summary with a \\ backslash",
    "日本語の件名: ログイン画面が真っ白になる",
    "<script>alert('xss')</script> in the name field",
];
const LABELS: [&str; 11] = [
    "backend",
    "frontend",
    "needs-triage",
    "customer-reported",
    "tech-debt",
    "regression",
    "バグ",
    "données",
    "p1",
    "good-first-issue",
    "security",
];

pub(crate) fn summary(rng: &mut Rng) -> String {
    let roll = rng.below(100);
    if roll < 12 {
        return ODD_SUMMARIES[rng.below(ODD_SUMMARIES.len())].to_owned();
    }
    let verb = VERBS[rng.below(VERBS.len())];
    let object = OBJECTS[rng.below(OBJECTS.len())];
    let qualifier = QUALIFIERS[rng.below(QUALIFIERS.len())];
    let mut text = if qualifier.is_empty() {
        format!("{verb} {object}")
    } else {
        format!("{verb} {object} {qualifier}")
    };
    if roll < 14 {
        // Jira allows 255 characters; some people use all of them
        while text.chars().count() < 240 {
            text.push_str(" and then ");
            text.push_str(OBJECTS[rng.below(OBJECTS.len())]);
        }
        text = text.chars().take(255).collect();
    }
    text
}

pub(crate) fn labels(rng: &mut Rng, count: usize) -> Vec<&'static str> {
    let start = rng.below(LABELS.len());
    (0..count.min(LABELS.len()))
        .map(|k| LABELS[(start + k * 3) % LABELS.len()])
        .collect()
}

/// Space-separated label list as changelog items show it.
pub(crate) fn label_string(rng: &mut Rng, count: usize) -> String {
    labels(rng, count).join(" ")
}

fn text_node(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn marked(text: &str, mark: Value) -> Value {
    json!({"type": "text", "text": text, "marks": [mark]})
}

fn paragraph(content: Vec<Value>) -> Value {
    json!({"type": "paragraph", "content": content})
}

fn mention(user: &User) -> Value {
    json!({
        "type": "mention",
        "attrs": {"id": user.account_id, "text": format!("@{}", user.name), "accessLevel": ""},
    })
}

/// An issue description: headings, paragraphs with marks, links and mentions, lists, code.
pub(crate) fn adf_doc(rng: &mut Rng, users: &[User]) -> Value {
    let mut blocks = Vec::new();
    let count = 1 + rng.below(5);
    for b in 0..count {
        let block = match rng.below(7) {
            0 if b == 0 => json!({
                "type": "heading",
                "attrs": {"level": 2 + rng.below(2)},
                "content": [text_node("Steps to reproduce")],
            }),
            0 | 1 => {
                let mut content = vec![text_node("When the user opens the page, ")];
                if let Some(user) = rng.pick(users) {
                    content.push(mention(user));
                    content.push(text_node(" sees "));
                }
                content.push(marked("an empty state", json!({"type": "strong"})));
                content.push(text_node(" instead of the list. See "));
                content.push(marked(
                    "the runbook",
                    json!({"type": "link", "attrs": {"href": "https://example.com/runbook#empty-state"}}),
                ));
                content.push(text_node("."));
                paragraph(content)
            }
            2 => {
                let items: Vec<Value> = (0..2 + rng.below(2))
                    .map(|i| {
                        let text = format!("Check item {} ✅", i + 1);
                        json!({"type": "listItem", "content": [paragraph(vec![text_node(&text)])]})
                    })
                    .collect();
                json!({"type": "bulletList", "content": items})
            }
            3 => {
                let steps: Vec<Value> = ["Log in", "Open Settings → Billing", "Click “Export”"]
                    .iter()
                    .map(
                        |s| json!({"type": "listItem", "content": [paragraph(vec![text_node(s)])]}),
                    )
                    .collect();
                json!({"type": "orderedList", "attrs": {"order": 1}, "content": steps})
            }
            4 => json!({
                "type": "codeBlock",
                "attrs": {"language": if rng.chance(50) { "rust" } else { "json" }},
                "content": [text_node("{\"error\": \"timeout\",\n  \"retry\": true}")],
            }),
            5 => paragraph(vec![
                marked("inline code", json!({"type": "code"})),
                text_node(" and "),
                marked("emphasis", json!({"type": "em"})),
                json!({"type": "hardBreak"}),
                json!({"type": "emoji", "attrs": {"shortName": ":tada:", "id": "1f389", "text": "🎉"}}),
            ]),
            _ => json!({"type": "rule"}),
        };
        blocks.push(block);
    }
    json!({"type": "doc", "version": 1, "content": blocks})
}

/// A one-paragraph document, for textarea custom fields.
pub(crate) fn adf_short(rng: &mut Rng, users: &[User]) -> Value {
    let mut content = vec![text_node(
        "Given a signed-in user, when they export, then the file downloads",
    )];
    if rng.chance(30)
        && let Some(user) = rng.pick(users)
    {
        content.push(text_node(" — cc "));
        content.push(mention(user));
    }
    json!({"type": "doc", "version": 1, "content": [paragraph(content)]})
}

/// The plain rendering changelog items use for description changes.
pub(crate) fn plain_description(rng: &mut Rng) -> &'static str {
    let lines = [
        "h2. Steps to reproduce\n# Log in\n# Open Settings",
        "When the user opens the page they see an empty state.",
        "{code:json}{\"error\": \"timeout\"}{code}",
        "See [the runbook|https://example.com/runbook]",
    ];
    lines[rng.below(lines.len())]
}
