//! A small JSON writer for generated objects: pages of 100 pull requests are written straight
//! into one `String` (shared pieces such as users and repositories are spliced in pre-rendered),
//! which keeps a page well under a millisecond. Also GitHub's timestamp and HTTP-date formats
//! and the ETag hash.

use std::fmt::{self, Write};

use crate::time::civil_from_days;

pub(crate) const DAY: i64 = 86_400;

/// JSON text under construction. After every value `comma` is set, so the next key or array
/// element knows to write a separator; opening a container clears it.
pub(crate) struct Json {
    pub(crate) buf: String,
    comma: bool,
}

impl Json {
    pub(crate) fn with_capacity(capacity: usize) -> Json {
        Json {
            buf: String::with_capacity(capacity),
            comma: false,
        }
    }

    pub(crate) fn into_string(self) -> String {
        self.buf
    }

    fn sep(&mut self) {
        if self.comma {
            self.buf.push(',');
        }
    }

    /// An object as the next value; `fill` writes its fields.
    pub(crate) fn obj(&mut self, fill: impl FnOnce(&mut Json)) {
        self.sep();
        self.buf.push('{');
        self.comma = false;
        fill(self);
        self.buf.push('}');
        self.comma = true;
    }

    /// An array as the next value; `fill` writes its elements.
    pub(crate) fn arr(&mut self, fill: impl FnOnce(&mut Json)) {
        self.sep();
        self.buf.push('[');
        self.comma = false;
        fill(self);
        self.buf.push(']');
        self.comma = true;
    }

    /// Starts a field; the next value written is its value. Keys are plain ASCII constants.
    pub(crate) fn key(&mut self, key: &str) -> &mut Json {
        self.sep();
        self.buf.push('"');
        self.buf.push_str(key);
        self.buf.push_str("\":");
        self.comma = false;
        self
    }

    pub(crate) fn str(&mut self, value: &str) {
        self.sep();
        self.buf.push('"');
        escape_into(&mut self.buf, value);
        self.buf.push('"');
        self.comma = true;
    }

    /// A string value built from format arguments, escaped as it is written.
    pub(crate) fn fmt(&mut self, args: fmt::Arguments<'_>) {
        self.sep();
        self.buf.push('"');
        // writing to a String cannot fail
        let _ = Escaper(&mut self.buf).write_fmt(args);
        self.buf.push('"');
        self.comma = true;
    }

    /// A string value made of `parts`, each escaped.
    pub(crate) fn concat(&mut self, parts: &[&str]) {
        self.sep();
        self.buf.push('"');
        for part in parts {
            escape_into(&mut self.buf, part);
        }
        self.buf.push('"');
        self.comma = true;
    }

    pub(crate) fn int(&mut self, value: i64) {
        self.sep();
        if value < 0 {
            self.buf.push('-');
        }
        push_digits(&mut self.buf, value.unsigned_abs(), 1);
        self.comma = true;
    }

    pub(crate) fn uint(&mut self, value: u64) {
        self.sep();
        push_digits(&mut self.buf, value, 1);
        self.comma = true;
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.sep();
        self.buf.push_str(if value { "true" } else { "false" });
        self.comma = true;
    }

    pub(crate) fn null(&mut self) {
        self.sep();
        self.buf.push_str("null");
        self.comma = true;
    }

    /// Already-serialised JSON as the next value.
    pub(crate) fn raw(&mut self, json: &str) {
        self.sep();
        self.buf.push_str(json);
        self.comma = true;
    }

    /// GitHub's timestamp: `2024-03-05T14:22:31Z`.
    pub(crate) fn time(&mut self, epoch_secs: i64) {
        self.sep();
        self.buf.push('"');
        write_timestamp(&mut self.buf, epoch_secs);
        self.buf.push('"');
        self.comma = true;
    }

    // Field shorthands.

    pub(crate) fn s(&mut self, key: &str, value: &str) {
        self.key(key).str(value);
    }

    pub(crate) fn f(&mut self, key: &str, args: fmt::Arguments<'_>) {
        self.key(key).fmt(args);
    }

    pub(crate) fn cat(&mut self, key: &str, parts: &[&str]) {
        self.key(key).concat(parts);
    }

    pub(crate) fn i(&mut self, key: &str, value: i64) {
        self.key(key).int(value);
    }

    pub(crate) fn u(&mut self, key: &str, value: u64) {
        self.key(key).uint(value);
    }

    pub(crate) fn b(&mut self, key: &str, value: bool) {
        self.key(key).bool(value);
    }

    pub(crate) fn n(&mut self, key: &str) {
        self.key(key).null();
    }

    pub(crate) fn r(&mut self, key: &str, json: &str) {
        self.key(key).raw(json);
    }

    pub(crate) fn t(&mut self, key: &str, epoch_secs: i64) {
        self.key(key).time(epoch_secs);
    }

    pub(crate) fn opt_s(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.s(key, v),
            None => self.n(key),
        }
    }

    pub(crate) fn opt_t(&mut self, key: &str, epoch_secs: Option<i64>) {
        match epoch_secs {
            Some(t) => self.t(key, t),
            None => self.n(key),
        }
    }

    pub(crate) fn o(&mut self, key: &str, fill: impl FnOnce(&mut Json)) {
        self.key(key).obj(fill);
    }

    pub(crate) fn a(&mut self, key: &str, fill: impl FnOnce(&mut Json)) {
        self.key(key).arr(fill);
    }
}

/// Escapes what JSON requires (quote, backslash, control characters), nothing else: like
/// GitHub, non-ASCII text stays as UTF-8. Text is scanned eight bytes at a time.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !needs_escape(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(bytes.len());
        while i < end {
            let b = bytes[i];
            let escaped = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1F => "",
                _ => {
                    i += 1;
                    continue;
                }
            };
            // `i` is at an ASCII byte, so both slices end on character boundaries
            out.push_str(&text[start..i]);
            if escaped.is_empty() {
                let _ = write!(out, "\\u{b:04x}");
            } else {
                out.push_str(escaped);
            }
            i += 1;
            start = i;
        }
    }
    out.push_str(&text[start..]);
}

/// Whether any byte of `word` is a control character, a quote or a backslash (the classic
/// "has a byte less than n" and "has a zero byte" tests, exact for existence).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote & HIGHS;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash & HIGHS;
    below_space | quote | backslash != 0
}

struct Escaper<'a>(&'a mut String);

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// Decimal digits of `value`, zero-padded to `width` (without the formatting machinery:
/// generated pages write thousands of numbers).
fn push_digits(out: &mut String, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    let at = at.min(digits.len() - width.min(digits.len()));
    // ASCII digits only
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// `2024-03-05T14:22:31Z`.
pub(crate) fn write_timestamp(out: &mut String, epoch_secs: i64) {
    let (year, month, day) = civil_from_days(epoch_secs.div_euclid(DAY));
    let rest = epoch_secs.rem_euclid(DAY) as u64;
    push_digits(out, u64::try_from(year).unwrap_or(0), 4);
    out.push('-');
    push_digits(out, u64::from(month), 2);
    out.push('-');
    push_digits(out, u64::from(day), 2);
    out.push('T');
    push_digits(out, rest / 3600, 2);
    out.push(':');
    push_digits(out, rest % 3600 / 60, 2);
    out.push(':');
    push_digits(out, rest % 60, 2);
    out.push('Z');
}

pub(crate) fn timestamp(epoch_secs: i64) -> String {
    let mut out = String::with_capacity(20);
    write_timestamp(&mut out, epoch_secs);
    out
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An HTTP date (`Last-Modified`): `Tue, 10 Oct 2017 16:00:00 GMT`.
pub(crate) fn http_date(epoch_secs: i64) -> String {
    let days = epoch_secs.div_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    let rest = epoch_secs.rem_euclid(DAY);
    // 1970-01-01 was a Thursday
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    let month = MONTHS[(month as usize).saturating_sub(1) % 12];
    format!(
        "{weekday}, {day:02} {month} {year:04} {:02}:{:02}:{:02} GMT",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Parses an HTTP date in the form [`http_date`] writes (the only one HTTP/1.1 senders use).
pub(crate) fn parse_http_date(text: &str) -> Option<i64> {
    let mut fields = text.split_whitespace().skip(1);
    let day: u32 = fields.next()?.parse().ok()?;
    let month = fields.next()?;
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as u32 + 1;
    let year: i64 = fields.next()?.parse().ok()?;
    let clock: Vec<i64> = fields
        .next()?
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [hour, minute, second] = clock[..] else {
        return None;
    };
    let days = crate::time::days_from_civil(year, month, day);
    Some(days * DAY + hour * 3600 + minute * 60 + second)
}

/// A strong ETag for a body: 128 bits of a fast hash (four independent multiply-rotate
/// lanes over 32-byte blocks, folded), quoted.
pub(crate) fn etag(body: &[u8]) -> String {
    const K: [u64; 4] = [
        0x9E37_79B9_7F4A_7C15,
        0xC2B2_AE3D_27D4_EB4F,
        0x1656_67B1_9E37_79F9,
        0x27D4_EB2F_1656_67C5,
    ];
    let mut lanes = [
        0x243F_6A88_85A3_08D3_u64,
        0x1319_8A2E_0370_7344,
        0xA409_3822_299F_31D0,
        0x082E_FA98_EC4E_6C89,
    ];
    let word = |bytes: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(bytes);
        u64::from_le_bytes(w)
    };
    let mut blocks = body.chunks_exact(32);
    for block in &mut blocks {
        for (lane, (h, k)) in lanes.iter_mut().zip(K).enumerate() {
            let w = word(&block[lane * 8..lane * 8 + 8]);
            *h = (*h ^ w).wrapping_mul(k).rotate_left(31);
        }
    }
    let mut tail = [0u8; 32];
    let rest = blocks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    for (lane, (h, k)) in lanes.iter_mut().zip(K).enumerate() {
        let w = word(&tail[lane * 8..lane * 8 + 8]);
        *h = crate::rng::mix((*h ^ w).wrapping_mul(k) ^ body.len() as u64);
    }
    let h1 = crate::rng::mix(lanes[0] ^ lanes[1].rotate_left(17) ^ lanes[2].rotate_left(41));
    let h2 = crate::rng::mix(lanes[3] ^ lanes[2] ^ lanes[1].rotate_left(23) ^ h1);
    format!("\"{h1:016x}{h2:016x}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_valid_json() {
        let mut j = Json::with_capacity(64);
        j.obj(|j| {
            j.s("a", "quote \" back \\ nl \n tab \t bell \u{7} ünï 😀");
            j.i("b", -3);
            j.a("c", |j| {
                j.null();
                j.bool(true);
                j.raw("{\"x\":1}");
                j.obj(|_| {});
            });
            j.f("d", format_args!("{}/{}", "x\"y", 2));
            j.t("e", 0);
            j.opt_t("g", None);
            j.i("h", i64::MIN);
            j.u("k", u64::MAX);
            j.i("l", 0);
        });
        let text = j.into_string();
        let value: serde_json::Value = serde_json::from_str(&text).expect(&text);
        assert_eq!(
            value["a"],
            "quote \" back \\ nl \n tab \t bell \u{7} ünï 😀"
        );
        assert_eq!(value["c"][2]["x"], 1);
        assert_eq!(value["d"], "x\"y/2");
        assert_eq!(value["e"], "1970-01-01T00:00:00Z");
        assert!(value["g"].is_null());
        for text in [
            "plain ascii text that is long enough",
            "ünïcödé and emoji 😀😀 with a \" quote after sixteen bytes",
            "0123456789abcdef\\",
            "0123456789abcde\u{1}",
            "\u{7f}\u{80}\u{ff} and ÿ",
        ] {
            let mut out = String::new();
            escape_into(&mut out, text);
            assert_eq!(
                format!("\"{out}\""),
                serde_json::to_string(text).unwrap_or_default()
            );
        }
        assert_eq!(value["h"], i64::MIN);
        assert_eq!(value["k"], u64::MAX);
        assert_eq!(value["l"], 0);
    }

    #[test]
    fn dates_and_etags() {
        let t = 1_507_651_200; // 2017-10-10T16:00:00Z
        assert_eq!(timestamp(t), "2017-10-10T16:00:00Z");
        assert_eq!(timestamp(t + 9 * 3600 + 5 * 60 + 7), "2017-10-11T01:05:07Z");
        assert_eq!(http_date(t), "Tue, 10 Oct 2017 16:00:00 GMT");
        assert_eq!(parse_http_date(&http_date(t)), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(etag(b"abc"), etag(b"abc"));
        assert_ne!(etag(b"abc"), etag(b"abd"));
        assert_ne!(etag(b""), etag(b"\0"));
        assert_eq!(etag(b"x").len(), 34);
    }
}
