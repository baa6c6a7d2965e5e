//! Saving and loading models as [`retain_core::Artifact`]s (`card.json` + `model.json`),
//! refusing any card whose feature schema differs from the features at hand.

use std::path::Path;

use retain_core::{Artifact, CoreError, FeatureSchema, ModelCard};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    AnyClassifier, AnyRegressor, ChurnClassifier, ModelError, RecencyBaseline, RevenueRateBaseline,
    ValueRegressor,
};

/// A model type that can be saved as an artifact: it knows its kind(s) and its width.
pub trait SavedModel: Serialize + DeserializeOwned {
    /// The card kinds this type loads (one for a concrete model, several for an enum); types
    /// whose kinds are composed (`rank_ensemble+cb`) override [`SavedModel::accepts_kind`].
    const KINDS: &'static [&'static str];

    /// Whether a card of `kind` holds this type.
    fn accepts_kind(kind: &str) -> bool {
        Self::KINDS.contains(&kind)
    }

    /// The kind of this value, written in its card.
    fn model_kind(&self) -> String;

    /// Number of feature columns it consumes.
    fn width(&self) -> usize;

    /// True when the model reads every column of its card (a composite may read fewer: its
    /// parts share one feature list).
    fn reads_every_column() -> bool {
        true
    }

    /// Checks the saved numbers are usable (finite, inside their domains), naming the first
    /// that is not. The default accepts everything.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }
}

impl SavedModel for AnyClassifier {
    const KINDS: &'static [&'static str] = AnyClassifier::KINDS;
    fn model_kind(&self) -> String {
        self.kind().to_string()
    }
    fn width(&self) -> usize {
        self.n_features()
    }
}

impl SavedModel for AnyRegressor {
    const KINDS: &'static [&'static str] = AnyRegressor::KINDS;
    fn model_kind(&self) -> String {
        self.kind().to_string()
    }
    fn width(&self) -> usize {
        self.n_features()
    }
}

impl SavedModel for RecencyBaseline {
    const KINDS: &'static [&'static str] = &[RecencyBaseline::KIND];
    fn model_kind(&self) -> String {
        Self::KIND.to_string()
    }
    fn width(&self) -> usize {
        self.n_features()
    }
}

impl SavedModel for RevenueRateBaseline {
    const KINDS: &'static [&'static str] = &[RevenueRateBaseline::KIND];
    fn model_kind(&self) -> String {
        Self::KIND.to_string()
    }
    fn width(&self) -> usize {
        self.n_features()
    }
}

impl SavedModel for retain_clv::ClvModel {
    const KINDS: &'static [&'static str] = &retain_clv::ClvModel::KINDS;
    fn model_kind(&self) -> String {
        self.kind().to_string()
    }
    fn width(&self) -> usize {
        retain_clv::CLV_FEATURES.len()
    }
    fn validate(&self) -> Result<(), String> {
        retain_clv::ClvModel::validate(self)
    }
}

fn consistency<M: SavedModel>(card: &ModelCard, model: &M) -> Result<(), ModelError> {
    if card.kind != model.model_kind() {
        return Err(ModelError::InconsistentArtifact(format!(
            "the card says `{}` but the model is `{}`",
            card.kind,
            model.model_kind()
        )));
    }
    let width = model.width();
    if width > card.features.len() || (M::reads_every_column() && width != card.features.len()) {
        return Err(ModelError::InconsistentArtifact(format!(
            "the card lists {} features but the model takes {}",
            card.features.len(),
            model.width()
        )));
    }
    Ok(())
}

/// Writes `dir/card.json` and `dir/model.json` (each atomically), after checking that the
/// card's kind and feature count match the model.
pub fn save_checked<M: SavedModel>(dir: &Path, artifact: &Artifact<M>) -> Result<(), ModelError> {
    consistency(&artifact.card, &artifact.model)?;
    artifact.save(dir)?;
    Ok(())
}

/// Loads the artifact in `dir`, refusing: another artifact format, a kind `M` cannot hold,
/// a card whose features differ from `features` (the error names the first differing
/// feature), and a model that disagrees with its own card.
pub fn load_checked<M: SavedModel>(
    dir: &Path,
    features: &FeatureSchema,
) -> Result<Artifact<M>, ModelError> {
    let card = ModelCard::load(dir)?;
    if !M::accepts_kind(&card.kind) {
        return Err(CoreError::WrongKind {
            path: dir.to_path_buf(),
            expected: if M::KINDS.is_empty() {
                "a churn or value model".to_string()
            } else {
                M::KINDS.join("` or `")
            },
            found: card.kind,
        }
        .into());
    }
    card.features.check(features)?;
    let artifact = Artifact::<M>::load(dir, &card.kind)?;
    consistency(&artifact.card, &artifact.model)?;
    artifact
        .model
        .validate()
        .map_err(|what| CoreError::InvalidArtifact {
            path: dir.join("model.json"),
            what,
        })?;
    Ok(artifact)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use ndarray::{Array2, array};
    use retain_core::{ARTIFACT_FORMAT, DataSource, RETAIN_VERSION};

    use super::*;
    use crate::{ChurnScorer, LogisticParams};

    pub(crate) fn card(kind: &str, features: &FeatureSchema) -> ModelCard {
        ModelCard {
            build_id: String::new(),
            profile: BTreeMap::new(),
            families: None,
            format: ARTIFACT_FORMAT,
            kind: kind.into(),
            retain_version: RETAIN_VERSION.into(),
            training_cutoff: chrono::NaiveDate::from_ymd_opt(2011, 6, 10).unwrap(),
            horizon_days: 91,
            time_unit: None,
            features: features.clone(),
            data_source: DataSource::default(),
            hyperparameters: BTreeMap::new(),
            metrics: BTreeMap::new(),
        }
    }

    pub(crate) fn toy() -> (FeatureSchema, Array2<f64>, Vec<bool>) {
        let schema = FeatureSchema::new(["days_since_last", "net_revenue", "T"]);
        let x = array![
            [1.0, 120.5, 30.0],
            [40.0, 10.25, 300.0],
            [3.0, 99.0, 31.0],
            [200.0, 0.1, 200.0],
            [17.0, 1e3, 400.0],
            [90.0, 12.0, 91.0],
            [5.0, 300.0, 20.0],
            [150.0, 3.3, 160.0]
        ];
        let y = vec![false, true, false, true, false, true, true, false];
        (schema, x, y)
    }

    /// Saves, reloads with the same schema, and checks predictions bit for bit.
    pub(crate) fn round_trip<M: SavedModel + ChurnScorer + std::fmt::Debug>(
        model: M,
        schema: &FeatureSchema,
    ) {
        let (_, x, _) = toy();
        let dir = tempfile::tempdir().unwrap();
        let kind = model.model_kind();
        let a = Artifact {
            card: card(&kind, schema),
            model,
        };
        save_checked(dir.path(), &a).unwrap();
        let b: Artifact<M> = load_checked(dir.path(), schema).unwrap();
        assert_eq!(a.card, b.card);
        let (pa, pb) = (
            a.model.churn_score(x.view()).unwrap(),
            b.model.churn_score(x.view()).unwrap(),
        );
        for (u, v) in pa.iter().zip(&pb) {
            assert_eq!(u.to_bits(), v.to_bits(), "{kind}: {u} vs {v}");
        }
        // Another schema is refused, naming the feature.
        let other = FeatureSchema::new(["days_since_last", "gross_revenue", "T"]);
        let e = load_checked::<M>(dir.path(), &other)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`net_revenue`") && e.contains("feature 2"),
            "{e}"
        );
    }

    #[test]
    fn every_kind_round_trips_bit_for_bit() {
        let (schema, x, y) = toy();
        let m = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        round_trip(AnyClassifier::from(m), &schema);
        round_trip(RecencyBaseline::new(&schema).unwrap(), &schema);
        let dt = crate::DecisionTreeParams::new()
            .min_weight_leaf(1.0)
            .min_weight_split(2.0)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!(dt.n_nodes() > 1);
        round_trip(AnyClassifier::from(dt), &schema);
        let rf = crate::RandomForestParams::new()
            .n_trees(7)
            .fit(x.view(), &y, None)
            .unwrap();
        round_trip(AnyClassifier::from(rf), &schema);
        let gb = crate::GradientBoostingParams::new()
            .n_trees(10)
            .min_leaf_weight(0.0)
            .fit(x.view(), &y, None)
            .unwrap();
        round_trip(AnyClassifier::from(gb), &schema);
    }

    #[test]
    fn value_baseline_round_trips() {
        let (schema, x, _) = toy();
        let dir = tempfile::tempdir().unwrap();
        let a = Artifact {
            card: card(RevenueRateBaseline::KIND, &schema),
            model: RevenueRateBaseline::new(&schema, 91).unwrap(),
        };
        save_checked(dir.path(), &a).unwrap();
        let b: Artifact<RevenueRateBaseline> = load_checked(dir.path(), &schema).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.model.predict(x.view()).unwrap(),
            b.model.predict(x.view()).unwrap()
        );
    }

    #[test]
    fn refuses_wrong_kind_and_inconsistent_cards() {
        let (schema, x, y) = toy();
        let dir = tempfile::tempdir().unwrap();
        let model = AnyClassifier::from(LogisticParams::new().fit(x.view(), &y, None).unwrap());
        // Card kind differs from the model.
        let bad = Artifact {
            card: card("random_forest", &schema),
            model: model.clone(),
        };
        let e = save_checked(dir.path(), &bad).unwrap_err();
        assert!(matches!(e, ModelError::InconsistentArtifact(_)), "{e}");
        // Card lists fewer features than the model takes.
        let short = FeatureSchema::new(["days_since_last", "net_revenue"]);
        let bad = Artifact {
            card: card(crate::LogisticModel::KIND, &short),
            model: model.clone(),
        };
        assert!(save_checked(dir.path(), &bad).is_err());
        // A baseline artifact is not a classifier.
        let a = Artifact {
            card: card(RecencyBaseline::KIND, &schema),
            model: RecencyBaseline::new(&schema).unwrap(),
        };
        save_checked(dir.path(), &a).unwrap();
        let e = load_checked::<AnyClassifier>(dir.path(), &schema).unwrap_err();
        assert!(e.to_string().contains("baseline_days_since_last"), "{e}");
    }
}
