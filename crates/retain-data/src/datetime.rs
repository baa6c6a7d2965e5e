//! Date-time texts with an optional UTC offset, read to seconds since 1970-01-01 UTC.
//!
//! polars reads an offset (`%z`) only with its time-zone feature, which this workspace does
//! not build, so the offset is split off here, and the local part read in the same pass: by
//! a small reader of fixed-width numeric formats (`%Y-%m-%d %H:%M:%S` and the like), which
//! costs a tenth of a general `strptime`, and by chrono for anything it does not take.

use chrono::{NaiveDate, NaiveDateTime};

/// Splits a date-time text into its local part (trimmed) and its UTC offset in seconds:
/// a trailing `Z`, `+HH:MM` or `+HHMM` (either sign, a blank before it allowed). The offset
/// is 0 without one, `None` when malformed (hours above 18, minutes above 59, not digits).
/// Only a text whose local part has a time (a `:`) carries an offset: `15-01-2024` is a
/// date, not `15-01` at -20:24.
pub(crate) fn split_offset(s: &str) -> (&str, Option<i64>) {
    let t = s.trim();
    let b = t.as_bytes();
    let n = b.len();
    let two = |x: &[u8]| {
        (x.len() == 2 && x.iter().all(u8::is_ascii_digit))
            .then(|| i64::from(x[0] - b'0') * 10 + i64::from(x[1] - b'0'))
    };
    let hhmm = |sign: u8, h: &[u8], m: &[u8]| -> Option<i64> {
        let (h, m) = (two(h)?, two(m)?);
        (h <= 18 && m < 60).then(|| {
            let v = h * 3600 + m * 60;
            if sign == b'-' { -v } else { v }
        })
    };
    let (cut, offset) = if t.ends_with(['Z', 'z']) {
        (1, Some(0))
    } else if n >= 6 && matches!(b[n - 6], b'+' | b'-') && b[n - 3] == b':' {
        (6, hhmm(b[n - 6], &b[n - 5..n - 3], &b[n - 2..]))
    } else if n >= 5 && matches!(b[n - 5], b'+' | b'-') {
        (5, hhmm(b[n - 5], &b[n - 4..n - 2], &b[n - 2..]))
    } else {
        return (t, Some(0));
    };
    let local = t[..n - cut].trim_end();
    if local.contains(':') {
        (local, offset)
    } else {
        (t, Some(0))
    }
}

/// One piece of a compiled format.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece {
    Literal(u8),
    /// Four digits.
    Year,
    /// Two digits each.
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `%.f`: an optional dot and digits (dropped: instants are whole seconds).
    Fraction,
}

/// A chrono format, read by a fast path when it is made only of zero-padded numeric fields
/// and literal characters, and by chrono otherwise (and for any text the fast path refuses,
/// so the two always agree).
#[derive(Debug, Clone)]
pub(crate) struct DateTimeFormat {
    format: String,
    has_time: bool,
    pieces: Option<Vec<Piece>>,
}

impl DateTimeFormat {
    /// Compiles `format` (a chrono format without an offset).
    pub(crate) fn new(format: &str) -> Self {
        let has_time = crate::read::has_time(format);
        let mut pieces = Vec::new();
        let mut bytes = format.bytes();
        let mut fast = true;
        while let Some(b) = bytes.next() {
            if b != b'%' {
                pieces.push(Piece::Literal(b));
                continue;
            }
            pieces.push(match bytes.next() {
                Some(b'Y') => Piece::Year,
                Some(b'm') => Piece::Month,
                Some(b'd') => Piece::Day,
                Some(b'H') => Piece::Hour,
                Some(b'M') => Piece::Minute,
                Some(b'S') => Piece::Second,
                Some(b'.') if bytes.next() == Some(b'f') => Piece::Fraction,
                _ => {
                    fast = false;
                    break;
                }
            });
        }
        let complete = [Piece::Year, Piece::Month, Piece::Day]
            .iter()
            .all(|p| pieces.contains(p));
        Self {
            format: format.to_string(),
            has_time,
            pieces: (fast && complete && format.is_ascii()).then_some(pieces),
        }
    }

    /// Seconds since 1970-01-01 of the local text `s` read as UTC; `None` when it does not
    /// match the format or is not a real date and time.
    pub(crate) fn seconds(&self, s: &str) -> Option<i64> {
        if let Some(v) = self.pieces.as_ref().and_then(|p| fast(p, s.as_bytes())) {
            return Some(v);
        }
        if self.has_time {
            NaiveDateTime::parse_from_str(s, &self.format)
                .ok()
                .map(|t| t.and_utc().timestamp())
        } else {
            NaiveDate::parse_from_str(s, &self.format)
                .ok()
                .map(|d| i64::from(retain_core::day_number(d)) * 86_400)
        }
    }
}

/// The fast path: fixed-width fields, every value range-checked.
fn fast(pieces: &[Piece], s: &[u8]) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut sec) = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let mut i = 0;
    let digits = |i: usize, n: usize| -> Option<i64> {
        let part = s.get(i..i + n)?;
        part.iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    for p in pieces {
        match p {
            Piece::Literal(c) => {
                if s.get(i) != Some(c) {
                    return None;
                }
                i += 1;
            }
            Piece::Year => {
                y = digits(i, 4)?;
                i += 4;
            }
            Piece::Fraction => {
                if s.get(i) == Some(&b'.') {
                    let n = s[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    if n == 0 || n > 9 {
                        return None;
                    }
                    i += 1 + n;
                }
            }
            field => {
                let v = digits(i, 2)?;
                i += 2;
                match field {
                    Piece::Month => mo = v,
                    Piece::Day => d = v,
                    Piece::Hour => h = v,
                    Piece::Minute => mi = v,
                    _ => sec = v,
                }
            }
        }
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = i == s.len()
        && (1..=12).contains(&mo)
        && d >= 1
        && d <= month_days[(mo - 1) as usize]
        && h < 24
        && mi < 60
        && sec < 60;
    valid.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn the_fast_path_agrees_with_chrono() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let formats = [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%d/%m/%Y %H:%M",
            "%Y%m%d",
            "%Y-%m-%d",
        ];
        for f in formats {
            let fmt = DateTimeFormat::new(f);
            assert!(fmt.pieces.is_some(), "{f}");
            for _ in 0..2000 {
                let secs = rng.random_range(-4_000_000_000i64..8_000_000_000);
                let t = chrono::DateTime::from_timestamp(secs, rng.random_range(0..1_000_000_000))
                    .unwrap()
                    .naive_utc();
                let text = t.format(f).to_string();
                let want = if crate::read::has_time(f) {
                    NaiveDateTime::parse_from_str(&text, f).map(|t| t.and_utc().timestamp())
                } else {
                    NaiveDate::parse_from_str(&text, f)
                        .map(|d| i64::from(retain_core::day_number(d)) * 86_400)
                }
                .unwrap();
                assert_eq!(
                    fast(fmt.pieces.as_ref().unwrap(), text.as_bytes()),
                    Some(want),
                    "{text} as {f}"
                );
            }
        }
    }

    #[test]
    fn impossible_dates_and_stray_text_are_refused() {
        let fmt = DateTimeFormat::new("%Y-%m-%d %H:%M:%S");
        for bad in [
            "2023-02-29 10:00:00",
            "2024-13-01 10:00:00",
            "2024-04-31 10:00:00",
            "2024-01-15 24:00:00",
            "2024-01-15 10:60:00",
            "2024-01-15 10:00:00x",
            "2024-01-15 10:00",
            "",
        ] {
            assert_eq!(fmt.seconds(bad), None, "{bad}");
        }
        assert_eq!(fmt.seconds("2024-02-29 00:00:00"), Some(1_709_164_800));
        // chrono takes a month without its zero, as the format detection does
        assert!(fast(fmt.pieces.as_ref().unwrap(), b"2024-1-15 10:00:00").is_none());
        assert_eq!(fmt.seconds("2024-1-15 10:00:00"), Some(1_705_312_800));
        // a leap second is left to chrono, which reads it as the second before
        assert_eq!(fmt.seconds("2016-12-31 23:59:60"), Some(1_483_228_799));
        // formats the fast path does not take are read by chrono
        let named = DateTimeFormat::new("%d %b %Y %H:%M");
        assert!(named.pieces.is_none());
        assert_eq!(named.seconds("15 Jan 2024 10:30"), Some(1_705_314_600));
    }

    #[test]
    fn offsets_are_split_only_after_a_time() {
        assert_eq!(
            split_offset(" 2024-01-15T10:00:00Z "),
            ("2024-01-15T10:00:00", Some(0))
        );
        assert_eq!(
            split_offset("2024-01-15T10:00:00+01:00"),
            ("2024-01-15T10:00:00", Some(3600))
        );
        assert_eq!(
            split_offset("2024-01-15 10:00:00 -0530"),
            ("2024-01-15 10:00:00", Some(-19_800))
        );
        assert_eq!(split_offset("2024-01-15T10:00:00+19:00").1, None);
        assert_eq!(split_offset("2024-01-15T10:00:00+01:75").1, None);
        assert_eq!(split_offset("2024-01-15T10:00:00+ab:cd").1, None);
        assert_eq!(split_offset("15-01-2024"), ("15-01-2024", Some(0)));
        assert_eq!(split_offset("2024-01-15"), ("2024-01-15", Some(0)));
        assert_eq!(
            split_offset("2024-01-15 10:00"),
            ("2024-01-15 10:00", Some(0))
        );
    }
}
