//! A client's time zone: a fixed UTC offset or an IANA zone (daylight saving time included).

use std::fmt;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

/// The longest offset accepted, in minutes: real offsets run from -12:00 to +14:00; 18 hours
/// is chrono's own bound and leaves room for odd historical values.
const MAX_OFFSET_MINUTES: i32 = 18 * 60;

/// A time zone as written in a client file: an IANA name (`Europe/Berlin`, matched without
/// regard to case, daylight saving time applied by the tz database bundled with `chrono-tz`)
/// or a fixed offset from UTC.
///
/// Accepted offset spellings (with `+` or `-`, an optional `UTC` or `GMT` prefix, and hours
/// of one or two digits): `Z`, `UTC`, `GMT`, `+01:00`, `-0500`, `+05`, `+5:30`, `UTC+2`,
/// `GMT-03:30`. The sign is the ISO 8601 one: `UTC+2` is two hours *ahead* of UTC (the
/// POSIX-style `Etc/GMT+2` IANA name keeps its own, inverted, meaning). Offsets beyond 18
/// hours or with 60 minutes or more are refused.
///
/// The default is UTC: the zone of a client with no time zone on record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneSpec(Zone);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Zone {
    /// Minutes east of UTC.
    Fixed(i32),
    Iana(Tz),
}

/// A time zone text that is neither an IANA name nor a UTC offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is neither an IANA time zone name (such as Europe/Berlin) nor a UTC offset (such as +01:00, -0500, UTC+2)"
)]
pub struct TimeZoneError(pub String);

impl Default for TimeZoneSpec {
    fn default() -> Self {
        Self::UTC
    }
}

impl TimeZoneSpec {
    /// UTC (offset zero).
    pub const UTC: Self = Self(Zone::Fixed(0));

    /// A fixed offset of `minutes` east of UTC; `None` beyond 18 hours either way.
    pub fn fixed(minutes: i32) -> Option<Self> {
        (minutes.abs() <= MAX_OFFSET_MINUTES).then_some(Self(Zone::Fixed(minutes)))
    }

    /// Parses an IANA name or a UTC offset (see the type's documentation); surrounding blanks
    /// are ignored.
    pub fn parse(text: &str) -> Result<Self, TimeZoneError> {
        let t = text.trim();
        let err = || TimeZoneError(text.to_string());
        if t.is_empty() {
            return Err(err());
        }
        if let Some(m) = parse_offset(t) {
            return Self::fixed(m).ok_or_else(err);
        }
        if let Ok(tz) = t.parse::<Tz>() {
            return Ok(Self(Zone::Iana(tz)));
        }
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(t))
            .map(|tz| Self(Zone::Iana(*tz)))
            .ok_or_else(err)
    }

    /// The offset from UTC, in minutes east, in force at the instant `utc_secs` (seconds
    /// since 1970-01-01 UTC): constant for a fixed offset, with daylight saving time for an
    /// IANA zone.
    pub fn offset_minutes_at(&self, utc_secs: i64) -> i32 {
        match self.0 {
            Zone::Fixed(m) => m,
            Zone::Iana(tz) => {
                // Instants beyond chrono's range (about 262,000 years) take the nearest end.
                let at = DateTime::from_timestamp(utc_secs, 0).unwrap_or(if utc_secs < 0 {
                    DateTime::<chrono::Utc>::MIN_UTC
                } else {
                    DateTime::<chrono::Utc>::MAX_UTC
                });
                tz.offset_from_utc_datetime(&at.naive_utc())
                    .fix()
                    .local_minus_utc()
                    / 60
            }
        }
    }

    /// The local wall-clock time at `utc_secs`, as seconds since 1970-01-01 on that clock
    /// (`utc_secs` plus the offset in force).
    pub fn local_secs(&self, utc_secs: i64) -> i64 {
        utc_secs + 60 * i64::from(self.offset_minutes_at(utc_secs))
    }

    /// Whether this is a fixed offset (no daylight saving time).
    pub fn is_fixed(&self) -> bool {
        matches!(self.0, Zone::Fixed(_))
    }
}

/// The normalised spelling: the IANA name as the tz database writes it (`Europe/Berlin`),
/// or a fixed offset as `+HH:MM` (`+00:00` for UTC, `Z` and `GMT`).
impl fmt::Display for TimeZoneSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Zone::Fixed(m) => {
                let sign = if m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            Zone::Iana(tz) => f.write_str(tz.name()),
        }
    }
}

impl std::str::FromStr for TimeZoneSpec {
    type Err = TimeZoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Minutes east of UTC of an offset spelling, or `None` when `t` is not one. The range is
/// checked by the caller.
fn parse_offset(t: &str) -> Option<i32> {
    let upper = t.to_ascii_uppercase();
    if upper == "Z" {
        return Some(0);
    }
    let rest = ["UTC", "GMT"]
        .iter()
        .find_map(|p| upper.strip_prefix(p))
        .unwrap_or(&upper);
    if rest.is_empty() {
        return Some(0); // `UTC` or `GMT` alone
    }
    let (sign, body) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let (h, m) = match body.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 && digits(h) && digits(m) => {
            (h, m)
        }
        Some(_) => return None,
        None if (1..=2).contains(&body.len()) && digits(body) => (body, "0"),
        None if body.len() == 4 && digits(body) => (&body[..2], &body[2..]),
        None => return None,
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    // beyond 18 hours is refused by `TimeZoneSpec::fixed`, naming the text
    (m < 60).then_some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(t: &str) -> i32 {
        TimeZoneSpec::parse(t)
            .unwrap_or_else(|e| panic!("{e}"))
            .offset_minutes_at(0)
    }

    #[test]
    fn every_offset_spelling() {
        for (t, m) in [
            ("Z", 0),
            ("z", 0),
            ("UTC", 0),
            ("GMT", 0),
            ("+00:00", 0),
            ("-00:00", 0),
            ("+01:00", 60),
            ("+0100", 60),
            ("+01", 60),
            ("+1", 60),
            ("-0500", -300),
            ("-05:00", -300),
            ("-5", -300),
            ("UTC+2", 120),
            ("utc+2", 120),
            ("UTC-03:30", -210),
            ("GMT+1", 60),
            ("+5:30", 330),
            ("+05:45", 345),
            (" +14:00 ", 840),
            ("-12:00", -720),
        ] {
            assert_eq!(minutes(t), m, "{t}");
            let spec = TimeZoneSpec::parse(t).unwrap();
            assert!(spec.is_fixed(), "{t}");
            // the normalised spelling reads back to the same offset
            assert_eq!(minutes(&spec.to_string()), m, "{t} -> {spec}");
        }
        assert_eq!(TimeZoneSpec::parse("+5:30").unwrap().to_string(), "+05:30");
        assert_eq!(TimeZoneSpec::parse("-0500").unwrap().to_string(), "-05:00");
        assert_eq!(TimeZoneSpec::parse("Z").unwrap().to_string(), "+00:00");
        assert_eq!(TimeZoneSpec::default().offset_minutes_at(1_700_000_000), 0);
    }

    #[test]
    fn iana_zones_follow_daylight_saving_time() {
        // 2024-01-15 12:00 UTC and 2024-07-15 12:00 UTC
        let (jan, jul) = (1_705_320_000, 1_721_044_800);
        let london = TimeZoneSpec::parse("Europe/London").unwrap();
        assert_eq!(london.offset_minutes_at(jan), 0);
        assert_eq!(london.offset_minutes_at(jul), 60);
        let berlin = TimeZoneSpec::parse("europe/berlin").unwrap();
        assert_eq!(berlin.to_string(), "Europe/Berlin");
        assert_eq!(
            (berlin.offset_minutes_at(jan), berlin.offset_minutes_at(jul)),
            (60, 120)
        );
        let ny = TimeZoneSpec::parse("America/New_York").unwrap();
        assert_eq!(
            (ny.offset_minutes_at(jan), ny.offset_minutes_at(jul)),
            (-300, -240)
        );
        // southern hemisphere: summer time in January
        let sydney = TimeZoneSpec::parse("Australia/Sydney").unwrap();
        assert_eq!(
            (sydney.offset_minutes_at(jan), sydney.offset_minutes_at(jul)),
            (660, 600)
        );
        assert_eq!(
            TimeZoneSpec::parse("Asia/Kolkata")
                .unwrap()
                .offset_minutes_at(jan),
            330
        );
        // the switch itself: London goes to BST at 2024-03-31 01:00 UTC
        let switch = 1_711_846_800;
        assert_eq!(london.offset_minutes_at(switch - 1), 0);
        assert_eq!(london.offset_minutes_at(switch), 60);
        assert_eq!(london.local_secs(switch), switch + 3600);
        // POSIX-style names keep their inverted sign
        assert_eq!(
            TimeZoneSpec::parse("Etc/GMT+2")
                .unwrap()
                .offset_minutes_at(jan),
            -120
        );
        assert!(!london.is_fixed());
        // far instants do not panic
        let _ = london.offset_minutes_at(i64::MAX);
        let _ = london.offset_minutes_at(i64::MIN);
    }

    #[test]
    fn invalid_values_are_refused_with_the_text() {
        for t in [
            "",
            "   ",
            "Europe/Atlantis",
            "Berlin",
            "+25:00",
            "+19",
            "+01:60",
            "+1:5",
            "+012",
            "+01:00:00",
            "UTC+",
            "++1",
            "1",
            "0100",
            "UTC 2",
            "CET+1",
        ] {
            let e = TimeZoneSpec::parse(t).unwrap_err();
            assert_eq!(e.0, t);
            assert!(e.to_string().contains("IANA"), "{e}");
        }
        assert!(TimeZoneSpec::fixed(18 * 60).is_some());
        assert!(TimeZoneSpec::fixed(-18 * 60 - 1).is_none());
    }
}
