//! Scoring: the saved models applied to every client at a date, written as the ranked
//! outreach list with a run summary.
//!
//! ```no_run
//! # use std::path::Path;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let tx: retain_data::Transactions = unimplemented!();
//! use retain_score::{ScoreOptions, Scorer};
//! let scorer = Scorer::load(Path::new("models/churn"), Some(Path::new("models/value")))?;
//! let history = retain_features::History::of(&tx)?;
//! let date = "2011-12-09".parse().unwrap();
//! let mut scores = scorer.score(&history, date, &ScoreOptions::default())?;
//! scores.write(Path::new("out/scores"))?;
//! # Ok(()) }
//! ```
//!
//! The list has one row per client with a purchase on or before the date, ranked by churn
//! risk: `risk_rank` (1 = most at risk), `client_id`, `churn_probability` (P(no purchase in
//! the horizon); for a rank ensemble also its `churn_score`), `churn_band`, and with a value
//! model `p_alive`, `expected_purchases`, `expected_next_purchase`, `clv`,
//! `value_at_risk = churn_probability * clv` and `key_client`; then the reasons
//! (`reason_k` codes and `reason_k_text` sentences).

mod list;
mod reasons;
mod summary;

pub use list::{Bands, DEFAULT_CHUNK_CLIENTS, RankBy, ScoreOptions, Scores, list_paths};
pub use summary::{DriftRow, ModelUsed, OutputFile, RunSummary, StageCost};

use std::path::{Path, PathBuf};

use polars::prelude::{DataFrame, PolarsError};
use retain_core::{Artifact, Categorized, Cutoff, ErrorCategory, ModelCard};
use retain_data::DataError;
use retain_features::{History, PartFeatures};
use retain_models::{ChurnModel, DeployedValue, ModelError, load_checked};

/// Errors while scoring.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// A model refused the features.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A saved model could not be loaded.
    #[error("{}: {source}", path.display())]
    Artifact {
        /// The model's folder.
        path: PathBuf,
        /// What was wrong.
        source: ModelError,
    },
    /// Computing the features failed.
    #[error(transparent)]
    Features(#[from] retain_features::FeatureError),
    /// Building the output table failed.
    #[error("building the score table: {0}")]
    Polars(#[from] PolarsError),
    /// Writing an output failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The two models do not belong together.
    #[error("{0}")]
    Pair(String),
    /// Nothing to score.
    #[error("{0}")]
    NoClients(String),
    /// The options do not fit the models (ranking by value without a value model, ...).
    #[error("scoring: {0}")]
    Invalid(String),
    /// Today's data drifted past the threshold and `--fail-on-drift` asked to stop.
    #[error("{0}")]
    Drift(String),
}

impl Categorized for ScoreError {
    fn category(&self) -> ErrorCategory {
        match self {
            Self::Model(e) | Self::Artifact { source: e, .. } => e.category(),
            Self::Features(e) => e.category(),
            Self::Data(e) => e.category(),
            Self::Polars(_) => ErrorCategory::Internal,
            Self::Pair(_) | Self::Invalid(_) => ErrorCategory::Config,
            Self::NoClients(_) | Self::Drift(_) => ErrorCategory::Data,
        }
    }
}

/// The saved models of a scoring run: a churn model and, optionally, a value model trained
/// with it.
#[derive(Debug, Clone)]
pub struct Scorer {
    churn: Artifact<ChurnModel>,
    churn_dir: PathBuf,
    value: Option<(Artifact<DeployedValue>, PathBuf)>,
    /// The feature families the models read beyond the 29, and their horizon.
    families: Option<(retain_features::FeatureFamilies, retain_core::Horizon)>,
}

/// The feature families of a card, checked: known names, a valid horizon.
fn card_families(
    card: &ModelCard,
    dir: &Path,
) -> Result<Option<(retain_features::FeatureFamilies, retain_core::Horizon)>, ScoreError> {
    let Some(f) = &card.families else {
        return Ok(None);
    };
    let bad = |what: String| ScoreError::Artifact {
        path: dir.to_path_buf(),
        source: ModelError::InconsistentArtifact(what),
    };
    let mut set = retain_features::FeatureFamilies::none();
    for name in &f.names {
        let family: retain_features::FeatureFamily =
            name.parse().map_err(|e: retain_features::UnknownFamily| {
                bad(format!("card.json: families: {e}"))
            })?;
        set.insert(family);
    }
    let h = retain_core::Horizon::new(f.horizon_days)
        .map_err(|e| bad(format!("card.json: families: horizon_days: {e}")))?;
    Ok(Some((set, h)))
}

impl Scorer {
    /// Loads the churn model in `churn_dir` and the value model in `value_dir`, refusing
    /// artifacts of another format or kind, impossible saved values, and a pair that was not
    /// trained together (other data, or another cutoff), naming both folders.
    pub fn load(churn_dir: &Path, value_dir: Option<&Path>) -> Result<Self, ScoreError> {
        let at = |path: &Path| {
            let path = path.to_path_buf();
            move |source: ModelError| ScoreError::Artifact { path, source }
        };
        let card = ModelCard::load(churn_dir)
            .map_err(ModelError::from)
            .map_err(at(churn_dir))?;
        let churn: Artifact<ChurnModel> =
            load_checked(churn_dir, &card.features).map_err(at(churn_dir))?;
        let value = match value_dir {
            Some(dir) => {
                let vcard = ModelCard::load(dir)
                    .map_err(ModelError::from)
                    .map_err(at(dir))?;
                let v: Artifact<DeployedValue> =
                    load_checked(dir, &vcard.features).map_err(at(dir))?;
                check_pair(&churn.card, churn_dir, &v.card, dir)?;
                Some((v, dir.to_path_buf()))
            }
            None => None,
        };
        let mut families = card_families(&churn.card, churn_dir)?;
        if let Some((v, dir)) = &value {
            let vf = card_families(&v.card, dir)?;
            families = match (families, vf) {
                (None, x) | (x, None) => x,
                (Some((a, ha)), Some((b, hb))) => {
                    if ha != hb {
                        return Err(ScoreError::Pair(format!(
                            "the churn model in {} computes its feature families over {} days \
                             but the value model in {} over {}: train both with one `retain \
                             train` run",
                            churn_dir.display(),
                            ha.days(),
                            dir.display(),
                            hb.days()
                        )));
                    }
                    let mut u = a;
                    for f in b.iter() {
                        u.insert(f);
                    }
                    Some((u, ha))
                }
            };
        }
        Ok(Self {
            churn,
            churn_dir: churn_dir.to_path_buf(),
            value,
            families,
        })
    }

    /// The churn model's card.
    pub fn churn_card(&self) -> &ModelCard {
        &self.churn.card
    }

    /// The value model's card, if any.
    pub fn value_card(&self) -> Option<&ModelCard> {
        self.value.as_ref().map(|(a, _)| &a.card)
    }

    /// The features this scorer's models read (the 29, and the feature families its cards
    /// name), computed part by part as the input is read: at `date`, or, with `None`, at the
    /// date given to [`PartFeatures::finish`] (the parts' condensed tables are kept until
    /// then). [`Scorer::score_features`] scores them.
    pub fn part_features(&self, date: Option<Cutoff>) -> PartFeatures {
        PartFeatures::new(date, self.families)
    }

    /// [`Scorer::score`] from the features of every client at `date`, as
    /// [`PartFeatures::finish`] gives them, with `ids` to write the ids as read: the same
    /// list bit for bit, without holding the whole history.
    pub fn score_features(
        &self,
        features: DataFrame,
        ids: retain_data::ClientIds,
        date: Cutoff,
        options: &ScoreOptions,
    ) -> Result<Scores, ScoreError> {
        list::score_features(self, features, ids, date, options)
    }

    /// Scores every client with a purchase on or before `date` (module docs).
    pub fn score(
        &self,
        history: &History,
        date: Cutoff,
        options: &ScoreOptions,
    ) -> Result<Scores, ScoreError> {
        list::score(self, history, date, options)
    }
}

fn check_pair(
    churn: &ModelCard,
    churn_dir: &Path,
    value: &ModelCard,
    value_dir: &Path,
) -> Result<(), ScoreError> {
    let trained_at = Cutoff::new(churn.training_cutoff).plus(
        retain_core::Horizon::new(churn.horizon_days)
            .map_err(|e| ScoreError::Pair(format!("{}: {e}", churn_dir.display())))?,
    );
    retain_core::Horizon::new(value.horizon_days)
        .map_err(|e| ScoreError::Pair(format!("{}: {e}", value_dir.display())))?;
    if !churn.data_source.same_data(&value.data_source) {
        return Err(ScoreError::Pair(format!(
            "the churn model in {} and the value model in {} were trained on different data \
             ({} lines, sha256 {}.., against {} lines, sha256 {}..): train both with one \
             `retain train` run",
            churn_dir.display(),
            value_dir.display(),
            churn.data_source.rows,
            short(&churn.data_source.lines_sha256),
            value.data_source.rows,
            short(&value.data_source.lines_sha256),
        )));
    }
    if trained_at.date() != value.training_cutoff {
        return Err(ScoreError::Pair(format!(
            "the churn model in {} was trained for cutoff {trained_at} but the value model in \
             {} at {}: train both with one `retain train` run",
            churn_dir.display(),
            value_dir.display(),
            value.training_cutoff
        )));
    }
    Ok(())
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}
