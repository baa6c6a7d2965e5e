//! Training: the protocol run, the honest backtest and its model selection, and the training
//! of whichever model is chosen as a deployable artifact.
//!
//! - [`protocol`]: the windows of a run (BENCHMARK.md section 2) and the labelled sets.
//! - [`backtest`]: every churn and value model at one or more cutoffs, each trained strictly
//!   before its cutoff, with metrics, intervals and the selection on the training windows. The
//!   single-cutoff protocol run is the backtest with one cutoff.
//! - [`train`]: fits the model a user names, or the one the selection picks (`auto`), on the
//!   most recent windows, as the same deployable model the backtest measured
//!   ([`retain_models::ChurnModel`], [`retain_models::DeployedValue`]), with its card.
//! - [`frames`]: what training reads of the data (the feature frames of its windows), on one
//!   machine or from a distributed run's workers.
//! - [`tuning`]: the feature sets (the 29 plus feature families), the grid of each tuned
//!   model's strength, and the names that say both; the selection tunes on validation targets.
//! - [`uplift`]: the uplift of each action of a contacts log (two models per action, judged
//!   by the Qini coefficient on held-out clients), for next best contact.

pub mod backtest;
mod candidates;
mod features;
pub mod frames;
pub mod progress;
pub mod protocol;
pub mod train;
pub mod tuning;
pub mod uplift;

pub use backtest::{Backtest, BacktestParams, SelectMetric, Selection, backtest, backtest_on};
pub use candidates::with_customer_base;
pub use features::client_features;
pub use frames::{ClientFrames, HistoryFrames};
pub use progress::{Progress, ProgressEvent};
pub use protocol::{Evaluation, Protocol, ProtocolSets};
pub use train::{
    ChurnChoice, TrainParams, Trained, ValueChoice, data_source, data_source_of, fit_selected,
    save_trained, select_models, train, train_on,
};
pub use uplift::{UpliftLearner, UpliftParams, UpliftRows, train_uplift, uplift_rows};

use retain_core::{Categorized, ErrorCategory};

/// Errors of training and evaluation.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The data do not cover the windows asked for.
    #[error("{0}")]
    Window(String),
    /// A setting is out of range or names nothing.
    #[error("{0}")]
    Config(String),
    /// A query failed.
    #[error("computing features: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    /// Building the feature matrix failed.
    #[error(transparent)]
    Features(#[from] retain_features::FeatureError),
    /// A churn model failed.
    #[error(transparent)]
    Model(#[from] retain_models::ModelError),
    /// A customer-base model failed.
    #[error("customer-base model: {0}")]
    Clv(#[from] retain_clv::ClvError),
    /// A metric could not be computed.
    #[error("metrics: {0}")]
    Eval(#[from] retain_eval::EvalError),
    /// Saving the models failed (a folder could not be written or replaced).
    #[error("saving the models to {}: {source}", path.display())]
    Save {
        /// The folder.
        path: std::path::PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A candidate that should have been fitted was not (a defect of retain).
    #[error("internal error, please report it: {0}")]
    Internal(String),
}

impl Categorized for TrainError {
    fn category(&self) -> ErrorCategory {
        match self {
            Self::Window(_) | Self::Clv(_) => ErrorCategory::Data,
            Self::Config(_) | Self::Save { .. } => ErrorCategory::Config,
            Self::Internal(_) => ErrorCategory::Internal,
            Self::Features(e) => e.category(),
            Self::Model(e) => e.category(),
            // a score or value that overflowed came from the data (a line value of 1e9)
            Self::Eval(
                retain_eval::EvalError::NonFinite { .. }
                | retain_eval::EvalError::SingleClass { .. },
            ) => ErrorCategory::Data,
            Self::Polars(_) | Self::Eval(_) => ErrorCategory::Internal,
        }
    }
}
