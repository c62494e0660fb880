//! Text PostgreSQL can store. Jira and GitHub accept U+0000 in summaries, descriptions,
//! comments and custom fields, and send it as the JSON escape `\u0000`; PostgreSQL's `text`
//! rejects the character and `jsonb` rejects the escape, so one such issue would fail every
//! load of its page. The raw page keeps it (stored byte for byte); the rows get the text
//! without it: each `\u0000` escape is removed from the page before it is parsed.
//!
//! Only real escapes are removed: in `\\u0000` the backslash is itself escaped and the rest
//! is plain text. An unescaped NUL byte cannot occur in valid JSON.

use std::borrow::Cow;

/// The page without `\u0000` escapes (borrowed, untouched, when it has none).
pub fn without_nul_escapes(body: &[u8]) -> Cow<'_, [u8]> {
    const ESCAPE: &[u8] = b"\\u0000";
    let Some(first) = find(body, 0) else {
        return Cow::Borrowed(body);
    };
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    let mut at = Some(first);
    while let Some(position) = at {
        // The escape is real when an even number of backslashes precede its own.
        let preceding = body[..position]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if preceding % 2 == 0 {
            out.extend_from_slice(&body[copied..position]);
            copied = position + ESCAPE.len();
        }
        at = find(body, position + ESCAPE.len());
    }
    out.extend_from_slice(&body[copied..]);
    Cow::Owned(out)
}

/// The next `\u0000` (or `\U0000`) at or after `from`: backslashes are found with memchr
/// (a page is mostly other bytes), then the five bytes after each are compared.
fn find(body: &[u8], from: usize) -> Option<usize> {
    let rest = body.get(from..)?;
    memchr::memchr_iter(b'\\', rest)
        .find(|&at| {
            rest.get(at + 1..at + 6)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"u0000"))
        })
        .map(|at| at + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(text: &str) -> String {
        String::from_utf8(without_nul_escapes(text.as_bytes()).into_owned()).unwrap()
    }

    #[test]
    fn nul_escapes_are_removed_and_nothing_else_is() {
        assert_eq!(clean(r#"{"s":"a\u0000b"}"#), r#"{"s":"ab"}"#);
        assert_eq!(clean(r#"{"s":"\u0000\u0000"}"#), r#"{"s":""}"#);
        assert_eq!(clean(r#"{"s":"\U0000x"}"#), r#"{"s":"x"}"#);
        // An escaped backslash followed by the text u0000 is not a NUL.
        assert_eq!(clean(r#"{"s":"\\u0000"}"#), r#"{"s":"\\u0000"}"#);
        assert_eq!(clean(r#"{"s":"\\\u0000"}"#), r#"{"s":"\\"}"#);
        assert!(matches!(
            without_nul_escapes(br#"{"s":"\u0001"}"#),
            Cow::Borrowed(_)
        ));
        let parsed: serde_json::Value =
            serde_json::from_slice(&without_nul_escapes(br#"{"s":"x\u0000y","t":"\\u0000"}"#))
                .unwrap();
        assert_eq!(parsed["s"], "xy");
        assert_eq!(parsed["t"], "\\u0000");
    }
}
