//! Calendar readings of a timestamp: hour of day and day of week.
//!
//! Accepts epoch seconds (Splunk's `_time`, with or without a fraction, as a
//! number or text) and ISO-8601 / RFC 3339 text as Splunk's CSV export writes
//! it (`2024-03-05T14:07:00.000+01:00`, `2024-03-05 14:07:00Z`). Times are UTC
//! plus the feature's offset; there is no time-zone database (no I/O).

use std::f64::consts::TAU;

use crate::event::Value;

/// Seconds since the Unix epoch, floored; None when unreadable or absurd.
pub(crate) fn epoch_seconds(v: Value<'_>) -> Option<i64> {
    const LIMIT: f64 = 1e13; // ±316,000 years: keeps the arithmetic exact
    match v {
        Value::Number(x) if x.is_finite() && x.abs() < LIMIT => Some(x.floor() as i64),
        Value::NumericText(_, x) => (x.is_finite() && x.abs() < LIMIT).then(|| x.floor() as i64),
        Value::Text(s) => match crate::event::parse_number(s) {
            Some(x) if x.is_finite() && x.abs() < LIMIT => Some(x.floor() as i64),
            Some(_) => None,
            None => parse_iso8601(s.trim()),
        },
        _ => None,
    }
}

/// Seconds since the Unix epoch with their fraction (what Splunk's HTTP Event
/// Collector takes as `time`), from epoch seconds or ISO-8601 text; None when
/// unreadable or absurd. The fraction of ISO text is read to the millisecond
/// digits given (`…:07.250+01:00` → `.25`).
pub fn epoch_time(v: Value<'_>) -> Option<f64> {
    let whole = epoch_seconds(v)?;
    match v {
        Value::Number(x) | Value::NumericText(_, x) => Some(x),
        Value::Text(s) => match crate::event::parse_number(s) {
            Some(x) => Some(x),
            None => {
                // The fraction follows the seconds field: `HH:MM:SS.fff`.
                let b = s.trim().as_bytes();
                let frac = b
                    .iter()
                    .position(|&c| c == b'.')
                    .filter(|&i| i >= 19)
                    .map(|i| {
                        let digits: Vec<u8> = b[i + 1..]
                            .iter()
                            .take_while(|c| c.is_ascii_digit())
                            .copied()
                            .take(9)
                            .collect();
                        let n = digits
                            .iter()
                            .fold(0f64, |a, d| a * 10.0 + f64::from(d - b'0'));
                        n / 10f64.powi(digits.len() as i32)
                    })
                    .unwrap_or(0.0);
                Some(whole as f64 + frac)
            }
        },
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

/// `YYYY-MM-DD[T| ]HH:MM[:SS[.fff]][Z|±HH[:]MM]`; a date alone is midnight UTC.
fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    let mut rest = &b[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    if rest[0] != b'T' && rest[0] != b't' && rest[0] != b' ' {
        return None;
    }
    rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let (hh, mm) = (digits(&rest[0..2])?, digits(&rest[3..5])?);
    let mut ss = 0;
    rest = &rest[5..];
    if rest.first() == Some(&b':') {
        ss = digits(rest.get(1..3)?)?;
        rest = &rest[3..];
        if matches!(rest.first(), Some(b'.') | Some(b',')) {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            rest = &rest[1 + n..];
        }
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    secs += hh * 3600 + mm * 60 + ss;
    match rest {
        [] | [b'Z'] | [b'z'] => Some(secs),
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (oh, om) = match tz {
                [a, b2] => (digits(&[*a, *b2])?, 0),
                [a, b2, b':', c, d2] | [a, b2, c, d2] => (digits(&[*a, *b2])?, digits(&[*c, *d2])?),
                _ => return None,
            };
            let off = oh * 3600 + om * 60;
            Some(if *sign == b'+' {
                secs - off
            } else {
                secs + off
            })
        }
        _ => None,
    }
}

fn write_cyclic(pos: f64, period: f64, cyclic: bool, out: &mut [f64]) {
    if cyclic {
        let a = TAU * pos / period;
        out[0] = libm::sin(a);
        out[1] = libm::cos(a);
    } else {
        out[0] = pos;
    }
}

pub(crate) fn hour_of_day(v: Value<'_>, offset_s: i64, cyclic: bool, out: &mut [f64]) -> bool {
    match epoch_seconds(v) {
        Some(t) => {
            let hour = (t + offset_s).rem_euclid(86_400) / 3600;
            write_cyclic(hour as f64, 24.0, cyclic, out);
            true
        }
        None => {
            out.fill(0.0);
            false
        }
    }
}

pub(crate) fn day_of_week(v: Value<'_>, offset_s: i64, cyclic: bool, out: &mut [f64]) -> bool {
    match epoch_seconds(v) {
        Some(t) => {
            // 1970-01-01 was a Thursday (3 when Monday is 0).
            let dow = ((t + offset_s).div_euclid(86_400) + 3).rem_euclid(7);
            write_cyclic(dow as f64, 7.0, cyclic, out);
            true
        }
        None => {
            out.fill(0.0);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_time_keeps_fractions() {
        assert_eq!(
            epoch_time(Value::Text("1730420088.330")),
            Some(1730420088.330)
        );
        assert_eq!(
            epoch_time(Value::Text("2024-11-01T00:14:48.250+00:00")),
            Some(1730420088.25)
        );
        assert_eq!(
            epoch_time(Value::Text("2024-11-01T00:14:48Z")),
            Some(1730420088.0)
        );
        assert_eq!(epoch_time(Value::Text("yesterday")), None);
        assert_eq!(epoch_time(Value::Missing), None);
    }

    #[test]
    fn epoch_and_iso_agree() {
        // 2023-11-14T22:13:20Z is 1700000000.
        assert_eq!(
            epoch_seconds(Value::Number(1_700_000_000.9)),
            Some(1_700_000_000)
        );
        assert_eq!(
            epoch_seconds(Value::Text("1700000000.000")),
            Some(1_700_000_000)
        );
        assert_eq!(
            epoch_seconds(Value::Text("2023-11-14T22:13:20Z")),
            Some(1_700_000_000)
        );
        assert_eq!(
            epoch_seconds(Value::Text("2023-11-14T23:13:20.123+01:00")),
            Some(1_700_000_000)
        );
        assert_eq!(
            epoch_seconds(Value::Text("2023-11-14 17:13:20-0500")),
            Some(1_700_000_000)
        );
        assert_eq!(epoch_seconds(Value::Text("1970-01-01")), Some(0));
        assert_eq!(epoch_seconds(Value::Text("yesterday")), None);
        assert_eq!(epoch_seconds(Value::Text("2023-13-01")), None);
        assert_eq!(epoch_seconds(Value::Number(1e300)), None);
    }

    #[test]
    fn hour_and_weekday() {
        let mut out = [0.0; 2];
        assert!(hour_of_day(
            Value::Number(1_700_000_000.0),
            0,
            false,
            &mut out
        ));
        assert_eq!(out[0], 22.0);
        assert!(hour_of_day(
            Value::Number(1_700_000_000.0),
            120,
            false,
            &mut out
        ));
        assert_eq!(out[0], 22.0); // +2 min stays in hour 22
        assert!(day_of_week(
            Value::Number(1_700_000_000.0),
            0,
            false,
            &mut out
        ));
        assert_eq!(out[0], 1.0); // a Tuesday
        assert!(day_of_week(Value::Number(-1.0), 0, false, &mut out));
        assert_eq!(out[0], 2.0); // 1969-12-31 was a Wednesday
        assert!(hour_of_day(Value::Number(6.0 * 3600.0), 0, true, &mut out));
        assert!((out[0] - 1.0).abs() < 1e-12 && out[1].abs() < 1e-12);
    }
}
