//! retain's shared vocabulary.
//!
//! The types every other crate speaks: client ids, time units, probabilities, the ordered
//! feature schema (with its hash), the model card saved beside every artifact, and the
//! atomic-write helper used for every output. No polars and no data I/O live here.

pub mod activity;
mod artifact;
mod cpu;
mod error;
pub mod kinds;
mod schema;
mod time;

pub use artifact::{
    ARTIFACT_FORMAT, Artifact, BinnedDistribution, DataSource, FamilyInputs, ModelCard, build_id,
    file_sha256, remove_stale_temps, set_build_id, write_atomic,
};
pub use cpu::process_cpu_seconds;
pub use error::{Categorized, CoreError, ErrorCategory, Result};
pub use schema::FeatureSchema;
pub use time::{Cutoff, Horizon, MAX_HORIZON_DAYS, TimeUnit, day_number, from_day_number};

/// A client identifier, as read from the transaction file's client-id column.
pub type ClientId = i64;

/// The retain version written into every model card.
pub const RETAIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A probability in `[0, 1]`, checked on construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Probability(f64);

impl Probability {
    /// Wraps `p`, refusing NaN and values outside `[0, 1]`.
    pub fn new(p: f64) -> Result<Self> {
        if (0.0..=1.0).contains(&p) {
            Ok(Self(p))
        } else {
            Err(CoreError::InvalidProbability(p))
        }
    }

    /// The wrapped value.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Probability {
    type Error = CoreError;
    fn try_from(p: f64) -> Result<Self> {
        Self::new(p)
    }
}

impl From<Probability> for f64 {
    fn from(p: Probability) -> f64 {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_rejects_out_of_range() {
        assert!(Probability::new(0.5).is_ok());
        assert!(Probability::new(0.0).is_ok());
        assert!(Probability::new(1.0).is_ok());
        assert!(Probability::new(1.0 + 1e-12).is_err());
        assert!(Probability::new(-0.1).is_err());
        assert!(Probability::new(f64::NAN).is_err());
        let p: std::result::Result<Probability, _> = serde_json::from_str("1.5");
        assert!(p.is_err());
    }
}
