//! Opaque page tokens: base64 of a tag and a few numbers, one of them a hash of the request
//! that produced it, so a token replayed with another query is refused like Jira does.
//! Standard base64 (with `+`, `/`, `=`) on purpose: clients must URL-encode it in GET queries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub(crate) fn encode(tag: &str, numbers: &[u64]) -> String {
    let text: Vec<String> = numbers.iter().map(u64::to_string).collect();
    STANDARD.encode(format!("{tag}:{}", text.join(":")))
}

/// The numbers of a token made by [`encode`] with `tag` and `count` numbers.
pub(crate) fn decode(tag: &str, count: usize, token: &str) -> Option<Vec<u64>> {
    let raw = STANDARD.decode(token.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let rest = text.strip_prefix(tag)?.strip_prefix(':')?;
    let numbers: Vec<u64> = rest
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (numbers.len() == count).then_some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejects() {
        let token = encode("s", &[100, u64::MAX]);
        assert_eq!(decode("s", 2, &token), Some(vec![100, u64::MAX]));
        assert_eq!(decode("b", 2, &token), None);
        assert_eq!(decode("s", 3, &token), None);
        assert_eq!(decode("s", 2, "not base64!"), None);
    }
}
