//! What a delivery sends: the event's JSON as it is (a webhook, signed) or a Slack message
//! made from it, and the one-line summary the delivery log shows.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the `X-Sluice-Signature` of a
/// webhook delivery sent with `X-Sluice-Timestamp: <timestamp>` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + digest.len() * 2);
    hex.push_str("sha256=");
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// Text for Slack's mrkdwn: `&`, `<` and `>` are control characters there (links, mentions
/// such as `<!channel>`), so text from a source or an error message is escaped.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn text<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn number(payload: &Value, key: &str) -> i64 {
    payload.get(key).and_then(Value::as_i64).unwrap_or_default()
}

/// At most `limit` characters, with an ellipsis when cut.
fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let mut clipped: String = text.chars().take(limit.saturating_sub(1)).collect();
        clipped.push('…');
        clipped
    }
}

/// The headline of an event, plain text.
fn headline(payload: &Value) -> String {
    let job = text(payload, "job_name");
    match text(payload, "event") {
        "RUN_FAILED" => format!("Run of {job} failed"),
        "JOB_GAVE_UP" => format!(
            "{job} gave up after {} retries",
            number(payload, "max_retries")
        ),
        "JOB_SKIPPED" => format!("{job} skipped"),
        "DEAD_LETTERS_OVER_THRESHOLD" => format!(
            "{} dead letters, over the threshold of {}",
            number(payload, "dead_letters"),
            number(payload, "threshold")
        ),
        "TEST" => format!("Test notification to {}", text(payload, "channel_name")),
        other => other.to_string(),
    }
}

/// What happened beyond the headline (the error, the alert), plain text.
fn detail(payload: &Value) -> &str {
    match text(payload, "event") {
        "RUN_FAILED" | "JOB_GAVE_UP" => text(payload, "error_message"),
        "JOB_SKIPPED" => text(payload, "alert"),
        "DEAD_LETTERS_OVER_THRESHOLD" => text(payload, "latest_reason"),
        _ => text(payload, "message"),
    }
}

/// One line for the delivery log.
pub fn summary(payload: &Value) -> String {
    let detail = detail(payload);
    let line = if detail.is_empty() {
        headline(payload)
    } else {
        format!("{}: {detail}", headline(payload))
    };
    clip(&line.replace('\n', " "), 300)
}

/// A Slack incoming-webhook message: `text` (the notification's fallback) and blocks — a
/// section with the headline and detail, a section of fields, and a context line with the
/// ids. Every value is escaped; a section's text stays within Slack's 3,000 characters.
pub fn slack_message(payload: &Value) -> Value {
    let emoji = match text(payload, "event") {
        "RUN_FAILED" => ":x:",
        "JOB_GAVE_UP" => ":octagonal_sign:",
        "JOB_SKIPPED" => ":fast_forward:",
        "DEAD_LETTERS_OVER_THRESHOLD" => ":warning:",
        _ => ":bell:",
    };
    let headline = slack_escape(&headline(payload));
    let detail = slack_escape(&clip(detail(payload), 2500));
    let main = if detail.is_empty() {
        format!("{emoji} *{headline}*")
    } else {
        format!("{emoji} *{headline}*\n{detail}")
    };
    let mut blocks = vec![json!({"type": "section", "text": {"type": "mrkdwn", "text": main}})];
    let mut fields = Vec::new();
    for (label, key) in [
        ("Integration", "integration_name"),
        ("Job", "job_name"),
        ("Status", "status"),
    ] {
        let value = text(payload, key);
        if !value.is_empty() {
            fields.push(json!({
                "type": "mrkdwn",
                "text": format!("*{label}*\n{}", slack_escape(&clip(value, 500)))
            }));
        }
    }
    if payload.get("max_retries").is_some() {
        fields.push(json!({
            "type": "mrkdwn",
            "text": format!(
                "*Retries*\n{} of {}",
                number(payload, "retry_count"),
                number(payload, "max_retries")
            )
        }));
    }
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    let ids: Vec<String> = [("run", "run_id"), ("trace", "trace_id"), ("job", "job_id")]
        .into_iter()
        .filter(|(_, key)| !text(payload, key).is_empty())
        .map(|(label, key)| format!("{label} `{}`", slack_escape(text(payload, key))))
        .chain(
            Some(text(payload, "occurred_at"))
                .filter(|at| !at.is_empty())
                .map(slack_escape),
        )
        .collect();
    if !ids.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": ids.join(" · ")}]
        }));
    }
    json!({"text": format!("Sluice: {headline}"), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let signed = signature("Jefe", 0, b"what do ya want for nothing?");
        assert_eq!(signed.len(), 7 + 64);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"0.what do ya want for nothing?");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(signed, format!("sha256={expected}"));
        assert_ne!(signature("Jefe", 1, b"x"), signature("Jefe", 2, b"x"));
        // As the README's Python receiver computes it (hmac.new(secret, b"0." + body, sha256)).
        assert_eq!(
            signed,
            "sha256=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
    }

    #[test]
    fn slack_messages_escape_and_fit() {
        let payload = json!({
            "event": "RUN_FAILED",
            "job_name": "jira <issues> & co",
            "integration_name": "acme",
            "status": "FAILED",
            "error_message": format!("<!channel> HTTP 500 & more {}", "x".repeat(5000)),
            "retry_count": 1,
            "max_retries": 3,
            "run_id": "r1",
            "trace_id": "t1",
        });
        let message = slack_message(&payload);
        let main = message["blocks"][0]["text"]["text"].as_str().unwrap();
        assert_eq!(message["blocks"][0]["text"]["type"], "mrkdwn");
        assert!(main.contains("jira &lt;issues&gt; &amp; co"), "{main}");
        assert!(main.contains("&lt;!channel&gt;") && !main.contains("<!channel>"));
        assert!(main.chars().count() <= 3000);
        assert_eq!(
            message["text"].as_str().unwrap(),
            "Sluice: Run of jira &lt;issues&gt; &amp; co failed"
        );
        let fields = message["blocks"][1]["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["text"] == "*Retries*\n1 of 3"));
        assert!(summary(&payload).chars().count() <= 300);
    }
}
