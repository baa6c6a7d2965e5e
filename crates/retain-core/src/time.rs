use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The unit in which the customer-base models measure time.
///
/// Recency and age are counted in whole days by the features; a model converts them with
/// [`TimeUnit::days`]. BENCHMARK.md fits BG/NBD in weeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// One calendar day.
    Days,
    /// Seven days (the unit of the BG/NBD paper).
    #[default]
    Weeks,
}

impl TimeUnit {
    /// Length of one unit in days.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }
}

/// The last calibration day, inclusive: features see days `<= cutoff`, labels `(cutoff, cutoff + H]`.
///
/// A calendar date with the arithmetic the windows need; parsed from `YYYY-MM-DD` on the command
/// line and serialised as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cutoff(NaiveDate);

impl Cutoff {
    /// The cutoff on `date`.
    pub const fn new(date: NaiveDate) -> Self {
        Self(date)
    }

    /// The date.
    pub const fn date(self) -> NaiveDate {
        self.0
    }

    /// The day number ([`day_number`]) the feature builders take.
    pub fn day(self) -> i32 {
        day_number(self.0)
    }

    /// The cutoff at day number `day`.
    pub fn from_day(day: i32) -> Self {
        Self(from_day_number(day))
    }

    /// The cutoff `h` days earlier: the training cutoff of a model judged on `h` days after
    /// `self` (features at `self - h`, labels from `(self - h, self]`).
    pub fn minus(self, h: Horizon) -> Self {
        Self::from_day(self.day() - h.days() as i32)
    }

    /// The last day of the window of `h` days after the cutoff.
    pub fn plus(self, h: Horizon) -> Self {
        Self::from_day(self.day() + h.days() as i32)
    }

    /// The cutoff `days` days earlier (a spacing between windows; later for negative days).
    pub fn days_before(self, days: i64) -> Self {
        Self::from_day((i64::from(self.day()) - days) as i32)
    }
}

impl From<NaiveDate> for Cutoff {
    fn from(d: NaiveDate) -> Self {
        Self(d)
    }
}

impl From<Cutoff> for NaiveDate {
    fn from(c: Cutoff) -> Self {
        c.0
    }
}

impl std::fmt::Display for Cutoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Cutoff {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Self)
            .map_err(|e| format!("`{s}` is not a date in the form YYYY-MM-DD ({e})"))
    }
}

/// The longest horizon accepted: 100 years of days (a longer window is a typo, and day
/// arithmetic on it would overflow the calendar).
pub const MAX_HORIZON_DAYS: u32 = 36_525;

/// A window length in days, at least 1 and at most [`MAX_HORIZON_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Horizon(u32);

impl Horizon {
    /// A horizon of `days`, refusing 0 and anything above [`MAX_HORIZON_DAYS`].
    pub fn new(days: u32) -> std::result::Result<Self, String> {
        if (1..=MAX_HORIZON_DAYS).contains(&days) {
            Ok(Self(days))
        } else {
            Err(format!(
                "a horizon of {days} days is not allowed: it must be between 1 and \
                 {MAX_HORIZON_DAYS} days"
            ))
        }
    }

    /// The length in days.
    pub const fn days(self) -> u32 {
        self.0
    }

    /// The length in weeks (the customer-base models' unit).
    pub fn weeks(self) -> f64 {
        self.0 as f64 / TimeUnit::Weeks.days()
    }
}

impl TryFrom<u32> for Horizon {
    type Error = String;
    fn try_from(d: u32) -> std::result::Result<Self, String> {
        Self::new(d)
    }
}

impl From<Horizon> for u32 {
    fn from(h: Horizon) -> u32 {
        h.0
    }
}

impl std::fmt::Display for Horizon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::str::FromStr for Horizon {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let d: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not a number of days (a whole number from 1)"))?;
        Self::new(d)
    }
}

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();

/// Days since 1970-01-01 (the integer `day` of BENCHMARK.md).
pub fn day_number(date: NaiveDate) -> i32 {
    (date - EPOCH).num_days() as i32
}

/// The date of a day number (inverse of [`day_number`]).
pub fn from_day_number(day: i32) -> NaiveDate {
    EPOCH + chrono::TimeDelta::days(day as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn horizons_and_cutoffs() {
        assert!(Horizon::new(0).is_err());
        assert!("0".parse::<Horizon>().is_err());
        assert!("4294967295".parse::<Horizon>().is_err());
        assert!("-5".parse::<Horizon>().is_err());
        let h: Horizon = "91".parse().unwrap();
        let c: Cutoff = "2011-09-09".parse().unwrap();
        assert_eq!(c.minus(h).to_string(), "2011-06-10");
        assert_eq!(c.plus(h).to_string(), "2011-12-09");
        assert_eq!(c.days_before(9).to_string(), "2011-08-31");
        assert_eq!(c.days_before(-1).to_string(), "2011-09-10");
        assert!("2011-02-31".parse::<Cutoff>().is_err());
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"2011-09-09\"");
        assert!(serde_json::from_str::<Horizon>("0").is_err());
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(2011, 9, 9).unwrap();
        assert_eq!(day_number(d), 15226);
        assert_eq!(from_day_number(15226), d);
        assert_eq!(day_number(EPOCH), 0);
        assert_eq!(
            from_day_number(-1),
            NaiveDate::from_ymd_opt(1969, 12, 31).unwrap()
        );
    }
}
