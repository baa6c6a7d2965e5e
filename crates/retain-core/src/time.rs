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
pub type Cutoff = NaiveDate;

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
