//! The run summary written beside the list (`summary.json`): what was scored with which
//! models, the drift of today's features and scores from the training data, and the list's
//! totals.

use chrono::NaiveDate;
use retain_core::{Cutoff, ModelCard};
use serde::Serialize;

/// A model a run used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUsed {
    /// Its folder.
    pub path: String,
    /// Its kind (the backtest's name).
    pub kind: String,
    /// The retain version and build that trained it.
    pub retain_version: String,
    /// The build id that trained it.
    pub build_id: String,
    /// Its training cutoff.
    pub training_cutoff: NaiveDate,
    /// The training data's fingerprint.
    pub data_sha256: String,
}

impl ModelUsed {
    /// The record of the model in `path` with card `card`.
    pub fn of(path: &std::path::Path, card: &ModelCard) -> Self {
        Self {
            path: path.display().to_string(),
            kind: card.kind.clone(),
            retain_version: card.retain_version.clone(),
            build_id: card.build_id.clone(),
            training_cutoff: card.training_cutoff,
            data_sha256: card.data_source.lines_sha256.clone(),
        }
    }
}

/// The population stability index of one feature (or of the score).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftRow {
    /// The feature, or `score`.
    pub feature: String,
    /// PSI of today's values against the training rows' (see `retain_eval::drift`).
    pub psi: f64,
    /// True when `psi` is above the run's threshold.
    pub drifted: bool,
}

/// What a scoring run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// The scoring date.
    pub date: Cutoff,
    /// Clients scored.
    pub clients: usize,
    /// The churn model.
    pub churn_model: ModelUsed,
    /// The value model, if any.
    pub value_model: Option<ModelUsed>,
    /// The drift threshold on the PSI.
    pub drift_threshold: f64,
    /// PSI per feature, then `score`, largest first.
    pub drift: Vec<DriftRow>,
    /// Clients per churn band (low, medium, high).
    pub bands: [usize; 3],
    /// Mean churn probability (when the model gives one).
    pub mean_churn_probability: Option<f64>,
    /// Sum of the value at risk (with a value model).
    pub total_value_at_risk: Option<f64>,
    /// Sum of the CLV (with a value model).
    pub total_clv: Option<f64>,
    /// Key clients flagged.
    pub key_clients: Option<usize>,
    /// The plan's summary, when the run planned the contacts (`retain score --plan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    /// The manifest: the files this run wrote beside `summary.json`, with their sizes and
    /// SHA-256. `summary.json` is renamed into place last, after the old one was removed
    /// before the first rename, so a reader knows the files are one complete run when
    /// `summary.json` exists and every file listed matches it (empty until written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<OutputFile>,
}

/// The wall time and peak memory of one stage of a run: what `retain score --format json`
/// prints under `stages` (never in `summary.json`, which the same inputs make the same, byte
/// for byte).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageCost {
    /// The stage: `read`, `score`, `plan`, `write` (the output files).
    pub stage: String,
    /// Wall time, in seconds (to the millisecond).
    pub seconds: f64,
    /// CPU time of every thread of the process during the stage, user and system, in
    /// seconds (to the millisecond): up to `seconds` times the cores, when the stage keeps
    /// them all busy.
    pub cpu_seconds: f64,
    /// The most bytes the process held during the stage (heap allocations).
    pub peak_bytes: u64,
}

/// One file of a run's outputs, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputFile {
    /// The file's name, in the folder of `summary.json`.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The hex SHA-256 of its bytes.
    pub sha256: String,
}

impl RunSummary {
    /// The features (and `score`) that drifted past the threshold.
    pub fn drifted(&self) -> Vec<&DriftRow> {
        self.drift.iter().filter(|d| d.drifted).collect()
    }
}
