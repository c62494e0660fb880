//! Atlassian Document Format (Jira Cloud v3 rich text) to plain text: what analysts search and
//! read. Unknown node types contribute their children's text; nothing panics on odd input.

use serde_json::Value;

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
    }
}
