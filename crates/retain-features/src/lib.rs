//! Per-client features and labels at a cutoff, as lazy polars plans.
//!
//! Implements sections 1-4 of the benchmark protocol (../shared/BENCHMARK.md): purchase days
//! aggregated per (client, day), the calibration/holdout split, the population (clients with at
//! least one purchase day by the cutoff), the labels `churned`, `holdout_purchases`,
//! `holdout_value`, and the 29 candidate features. Every builder takes a polars `LazyFrame` of the
//! canonical line table and returns a new plan; nothing runs until it is collected.
//! [`History`] condenses the lines into per-(client, day) tables that keep each row's day, and
//! every feature at a cutoff starts from those tables filtered on `day <= cutoff`, so no
//! feature reads a line after the cutoff. When the tables are collected in client order (as
//! [`History::of`] and the readers' parts give them), the features, categories and labels at a
//! cutoff are computed at once in one pass over them, bit for bit what the plans give, and the
//! plan returned only reads the result (the `kernel` module).
//!
//! [`FeatureMatrix::from_frame`] is the one place data leaves polars for the models.
//! [`describe`] words a feature as a client's reason ([`Reason`]: a code from
//! [`REASON_CODES`] and a sentence from the client's values).

mod builder;
mod condense;
mod describe;
mod families;
mod kernel;
mod matrix;
mod runs;
mod stream;

pub use builder::{
    Condenser, CountryTable, FEATURES, History, LABELS, PART_LINES, country_table, features_at,
    labelled_set, labels_at,
};
pub use describe::{REASON_CODES, Reason, describe};
pub use families::{
    FeatureFamilies, FeatureFamily, HALF_LIVES, UnknownFamily, WINDOW_DAYS, YEAR_DAYS,
    family_columns,
};
pub use matrix::{FeatureMatrix, feature_values, non_constant};
pub use stream::{PARTIAL_ROW_KIND, PartFeatures, PartialFeatures};

/// Errors building features.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// An error from the query engine.
    #[error("computing features: {0}")]
    Polars(#[from] polars::error::PolarsError),
    /// The population at a cutoff is empty.
    #[error("no client has a purchase on or before {0}: is the cutoff before the data starts?")]
    EmptyPopulation(chrono::NaiveDate),
    /// A feature holds a value the models cannot use.
    #[error("feature `{feature}` is {value} for client {client}")]
    NonFinite {
        /// The feature.
        feature: String,
        /// The client.
        client: i64,
        /// The value.
        value: f64,
    },
}

impl retain_core::Categorized for FeatureError {
    fn category(&self) -> retain_core::ErrorCategory {
        match self {
            Self::Polars(_) => retain_core::ErrorCategory::Internal,
            _ => retain_core::ErrorCategory::Data,
        }
    }
}
