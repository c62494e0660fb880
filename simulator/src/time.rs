//! Jira's timestamp formats without a date crate: the simulator only needs UTC civil dates,
//! and formatting them by hand keeps issue generation cheap.

use std::fmt::Write;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) const MINUTE: i64 = 60_000;
pub(crate) const HOUR: i64 = 60 * MINUTE;
pub(crate) const DAY: i64 = 24 * HOUR;

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // both are small by construction
    (year, month as u32, day as u32)
}

/// Epoch milliseconds of a UTC civil date and time.
pub(crate) fn utc_ms(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> i64 {
    days_from_civil(year, month, day) * DAY
        + i64::from(hour) * HOUR
        + i64::from(minute) * MINUTE
        + i64::from(second) * 1000
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
}

fn parts(ms: i64) -> Parts {
    let days = ms.div_euclid(DAY);
    let rest = ms.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    Parts {
        year,
        month,
        day,
        hour: rest / HOUR,
        minute: rest % HOUR / MINUTE,
        second: rest % MINUTE / 1000,
        millis: rest % 1000,
    }
}

/// `X-RateLimit-Reset` of a 429: now plus `seconds`, to the minute, as Jira writes it
/// (`yyyy-MM-ddTHH:mmZ`).
pub(crate) fn format_reset(seconds: u64) -> String {
    let p = parts(now_ms() + seconds as i64 * 1000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}Z",
        p.year, p.month, p.day, p.hour, p.minute
    )
}

/// Jira's issue timestamp: `2024-03-05T14:22:31.123+0000`.
pub(crate) fn jira(ms: i64) -> String {
    let mut out = String::with_capacity(28);
    write_stamp(&mut out, ms, "+0000");
    out
}

/// The Agile API's ISO form, used inside sprint objects: `2024-03-05T14:22:31.123Z`.
pub(crate) fn iso_z(ms: i64) -> String {
    let mut out = String::with_capacity(24);
    write_stamp(&mut out, ms, "Z");
    out
}

fn write_stamp(out: &mut String, ms: i64, zone: &str) {
    let p = parts(ms);
    // writing to a String cannot fail
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{zone}",
        p.year, p.month, p.day, p.hour, p.minute, p.second, p.millis
    );
}

/// A date-picker value: `2024-03-05`.
pub(crate) fn date(ms: i64) -> String {
    let p = parts(ms);
    format!("{:04}-{:02}-{:02}", p.year, p.month, p.day)
}

/// Parses the timestamps Jira and its exporters write: `2022-06-09T16:29:31.871-0700`,
/// `...+00:00`, `...Z`, with or without fractional seconds; also a bare date.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let (day, rest) = match text.find('T') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => return parse_day(text),
    };
    let day = parse_day(day)?;
    let zone_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut fields = hms.split(':');
    let hour = number(fields.next()?, 0, 23)?;
    let minute = number(fields.next()?, 0, 59)?;
    let second = fields.next().map_or(Some(0), |s| number(s, 0, 60))?;
    if fields.next().is_some() {
        return None;
    }
    let millis = if fraction.is_empty() {
        0
    } else {
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = fraction.chars().chain("000".chars()).take(3).collect();
        digits.parse::<i64>().ok()?
    };
    let offset = zone_offset(zone)?;
    Some(day + hour * HOUR + minute * MINUTE + second * 1000 + millis - offset)
}

/// `yyyy-MM-dd` or `yyyy/MM/dd` to epoch milliseconds at midnight UTC.
fn parse_day(text: &str) -> Option<i64> {
    let sep = if text.contains('/') { '/' } else { '-' };
    let mut fields = text.split(sep);
    let year: i64 = fields.next()?.parse().ok()?;
    let month = u32::try_from(number(fields.next()?, 1, 12)?).ok()?;
    let day = u32::try_from(number(fields.next()?, 1, 31)?).ok()?;
    if fields.next().is_some() || !(1..=9999).contains(&year) {
        return None;
    }
    Some(days_from_civil(year, month, day) * DAY)
}

fn number(text: &str, min: i64, max: i64) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|n| (min..=max).contains(n))
}

/// Milliseconds east of UTC for `Z`, `+hhmm`, `-hh:mm`, or nothing (UTC).
fn zone_offset(zone: &str) -> Option<i64> {
    if zone.is_empty() || zone == "Z" {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let hours = number(&digits[..2], 0, 23)?;
    let minutes = number(&digits[2..], 0, 59)?;
    Some(sign * (hours * HOUR + minutes * MINUTE))
}

/// A JQL date value, interpreted in UTC: `yyyy-MM-dd HH:mm`, `yyyy/MM/dd HH:mm`, a bare date,
/// or a period relative to `now` such as `-5d`, `-2w 3d`, `-90m`.
/// A JQL date value as epoch milliseconds. Like Jira, a bare number is an instant in epoch
/// milliseconds, and a date written as text is read in the searching user's time zone
/// (`zone_offset_ms` east of UTC), not in UTC.
pub(crate) fn parse_jql_date(text: &str, now: i64, zone_offset_ms: i64) -> Option<i64> {
    let text = text.trim();
    if text.len() >= 5 && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    if let Some(relative) = parse_period(text) {
        return Some(now + relative);
    }
    let local = match text.split_once(' ') {
        Some((day, clock)) => {
            let day = parse_day(day.trim())?;
            let (hour, minute) = clock.trim().split_once(':')?;
            day + number(hour, 0, 23)? * HOUR + number(minute, 0, 59)? * MINUTE
        }
        None => parse_day(text)?,
    };
    Some(local - zone_offset_ms)
}

/// `-5d`, `+1h`, `-2w 3d`, `4w2d` (sign applies to the whole period).
fn parse_period(text: &str) -> Option<i64> {
    let (sign, body) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let mut total = 0i64;
    let mut digits = String::new();
    let mut any = false;
    for c in body.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' if digits.is_empty() => {}
            'w' | 'd' | 'h' | 'm' if !digits.is_empty() => {
                let n: i64 = digits.parse().ok()?;
                let unit = match c {
                    'w' => 7 * DAY,
                    'd' => DAY,
                    'h' => HOUR,
                    _ => MINUTE,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
                digits.clear();
                any = true;
            }
            _ => return None,
        }
    }
    (any && digits.is_empty()).then_some(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 19_000, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn formats_like_jira() {
        let ms = utc_ms(2024, 3, 5, 14, 22, 31) + 123;
        assert_eq!(jira(ms), "2024-03-05T14:22:31.123+0000");
        assert_eq!(iso_z(ms), "2024-03-05T14:22:31.123Z");
        assert_eq!(date(ms), "2024-03-05");
        assert_eq!(parse_timestamp(&jira(ms)), Some(ms));
    }

    #[test]
    fn parses_offsets_and_jql_dates() {
        let pacific = parse_timestamp("2022-06-09T16:29:31.871-0700");
        assert_eq!(pacific, Some(utc_ms(2022, 6, 9, 23, 29, 31) + 871));
        assert_eq!(
            parse_timestamp("2022-06-09T16:29:31+05:30"),
            Some(utc_ms(2022, 6, 9, 10, 59, 31))
        );
        assert_eq!(
            parse_timestamp("2022-06-09T16:29Z"),
            Some(utc_ms(2022, 6, 9, 16, 29, 0))
        );
        assert_eq!(parse_timestamp("1"), None);
        assert_eq!(parse_timestamp("2022-13-01T00:00:00Z"), None);
        let now = utc_ms(2025, 1, 10, 0, 0, 0);
        assert_eq!(
            parse_jql_date("2024-03-05 14:22", now, 0),
            Some(utc_ms(2024, 3, 5, 14, 22, 0))
        );
        assert_eq!(
            parse_jql_date("2024/03/05", now, 0),
            Some(utc_ms(2024, 3, 5, 0, 0, 0))
        );
        assert_eq!(parse_jql_date("-1d", now, 0), Some(now - DAY));
        assert_eq!(parse_jql_date("-1w 2d", now, 0), Some(now - 9 * DAY));
        assert_eq!(parse_jql_date("yesterday", now, 0), None);
        assert_eq!(parse_jql_date("2024-03-05 25:00", now, 0), None);
        // Text is read in the user's zone; epoch milliseconds are an instant in any zone.
        let pacific = -8 * HOUR;
        assert_eq!(
            parse_jql_date("2024-03-05 14:22", now, pacific),
            Some(utc_ms(2024, 3, 5, 22, 22, 0))
        );
        assert_eq!(
            parse_jql_date("1709681459123", now, pacific),
            Some(1_709_681_459_123)
        );
    }
}
