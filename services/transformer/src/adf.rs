//! Atlassian Document Format (Jira Cloud v3 rich text) to plain text: what analysts search and
//! read. Unknown node types contribute their children's text; nothing panics on odd input.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::jira::Text;

/// Plain text of a raw rich-text field: read as typed ADF nodes (borrowed, no JSON tree);
/// a document of a shape those do not cover is read through [`to_text`] instead.
pub fn raw_to_text(raw: Option<&RawValue>) -> String {
    let Some(raw) = raw else {
        return String::new();
    };
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => match serde_json::from_str::<Node>(text) {
            Ok(node) => {
                let mut out = String::new();
                node.walk(&mut out);
                tidy(&out)
            }
            Err(_) => to_text(&serde_json::from_str(text).unwrap_or(Value::Null)),
        },
        Some(b'"') => serde_json::from_str::<String>(text).unwrap_or_default(),
        _ => String::new(),
    }
}

/// An ADF node, as much of it as becomes text.
#[derive(Deserialize)]
struct Node<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Text<'a>,
    #[serde(default, borrow)]
    text: Option<Text<'a>>,
    #[serde(default, borrow)]
    attrs: Option<Attrs<'a>>,
    #[serde(default, borrow)]
    content: Option<Vec<Node<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Attrs<'a> {
    #[serde(default, borrow)]
    text: Option<Text<'a>>,
    #[serde(default, borrow)]
    short_name: Option<Text<'a>>,
    #[serde(default, borrow)]
    url: Option<Text<'a>>,
    #[serde(default, borrow)]
    timestamp: Option<Text<'a>>,
}

impl<'a> Node<'a> {
    fn attr<'s>(&'s self, pick: fn(&'s Attrs<'a>) -> &'s Option<Text<'a>>) -> &'s str {
        self.attrs
            .as_ref()
            .and_then(|a| pick(a).as_deref())
            .unwrap_or_default()
    }

    /// The same rendering as [`walk`] over a JSON tree.
    fn walk(&self, out: &mut String) {
        let attr = |pick| self.attr(pick);
        match self.kind.as_ref() {
            "text" => out.push_str(self.text.as_deref().unwrap_or_default()),
            "hardBreak" => out.push('\n'),
            "mention" => out.push_str(attr(|a| &a.text)),
            "emoji" => out.push_str(if attr(|a| &a.text).is_empty() {
                attr(|a| &a.short_name)
            } else {
                attr(|a| &a.text)
            }),
            "inlineCard" | "blockCard" | "embedCard" => out.push_str(attr(|a| &a.url)),
            "date" => out.push_str(attr(|a| &a.timestamp)),
            "status" => out.push_str(attr(|a| &a.text)),
            "rule" => out.push_str("\n---\n"),
            "listItem" => {
                out.push_str("- ");
                self.children(out);
                ensure_newline(out);
            }
            "tableCell" | "tableHeader" => {
                self.children(out);
                out.push('\t');
            }
            "paragraph" | "heading" | "codeBlock" | "blockquote" | "tableRow" | "panel"
            | "mediaSingle" => {
                self.children(out);
                ensure_newline(out);
            }
            _ => self.children(out),
        }
    }

    fn children(&self, out: &mut String) {
        for child in self.content.iter().flatten() {
            child.walk(out);
        }
    }
}

/// Plain text of an ADF document, or of a plain string (Jira Server / v2 rich text).
pub fn to_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Object(_) => {
            let mut out = String::new();
            walk(value, &mut out);
            tidy(&out)
        }
        _ => String::new(),
    }
}

fn walk(node: &Value, out: &mut String) {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or_default();
    let attrs = node.get("attrs");
    let attr = |name: &str| {
        attrs
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    match kind {
        "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or_default()),
        "hardBreak" => out.push('\n'),
        "mention" => out.push_str(attr("text")),
        "emoji" => out.push_str(if attr("text").is_empty() {
            attr("shortName")
        } else {
            attr("text")
        }),
        "inlineCard" | "blockCard" | "embedCard" => out.push_str(attr("url")),
        "status" | "date" => out.push_str(if kind == "date" {
            attr("timestamp")
        } else {
            attr("text")
        }),
        "rule" => out.push_str("\n---\n"),
        "listItem" => {
            out.push_str("- ");
            children(node, out);
            ensure_newline(out);
        }
        "tableCell" | "tableHeader" => {
            children(node, out);
            out.push('\t');
        }
        "paragraph" | "heading" | "codeBlock" | "blockquote" | "tableRow" | "panel"
        | "mediaSingle" => {
            children(node, out);
            ensure_newline(out);
        }
        _ => children(node, out),
    }
}

fn children(node: &Value, out: &mut String) {
    if let Some(content) = node.get("content").and_then(Value::as_array) {
        for child in content {
            walk(child, out);
        }
    }
}

fn ensure_newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn tidy(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_paragraphs_lists_mentions_and_code() {
        let doc = json!({"type":"doc","version":1,"content":[
            {"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Outage 🔥"}]},
            {"type":"paragraph","content":[{"type":"text","text":"Ping "},{"type":"mention","attrs":{"id":"1","text":"@Ana"}},{"type":"text","text":" now"}]},
            {"type":"bulletList","content":[
                {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"retry"}]}]},
                {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"billing"}]}]}]},
            {"type":"codeBlock","content":[{"type":"text","text":"fn main() {}"}]},
            {"type":"unknownThing","content":[{"type":"text","text":"kept"}]}
        ]});
        assert_eq!(
            to_text(&doc),
            "Outage 🔥\nPing @Ana now\n- retry\n- billing\nfn main() {}\nkept"
        );
        assert_eq!(to_text(&json!("plain v2 text")), "plain v2 text");
        assert_eq!(to_text(&json!(null)), "");
        assert_eq!(to_text(&json!({"type":"doc","content":"not a list"})), "");
        // The typed reading of raw JSON renders the same, and odd shapes fall back.
        let raw = |v: &Value| serde_json::value::to_raw_value(v).expect("raw");
        assert_eq!(raw_to_text(Some(&raw(&doc))), to_text(&doc));
        let odd = json!({"type":"doc","content":[{"type":"date","attrs":{"timestamp":1709648551000u64}},
                                                 {"type":"paragraph","content":[{"type":"text","text":"ok"}]}]});
        assert_eq!(raw_to_text(Some(&raw(&odd))), to_text(&odd));
        assert_eq!(raw_to_text(Some(&raw(&json!("plain")))), "plain");
        assert_eq!(raw_to_text(None), "");
    }
}
