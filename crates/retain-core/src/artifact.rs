//! Versioned model artifacts: `models/<name>/card.json` (the model card) beside
//! `models/<name>/model.json` (the fitted parameters), both plain JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{CoreError, FeatureSchema, Result, TimeUnit};

/// Version of the on-disk artifact layout; bumped when it changes incompatibly.
pub const ARTIFACT_FORMAT: u32 = 1;

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DataSource {
    /// The input path (file, glob or folder) as given.
    pub path: String,
    /// Column-mapping preset or config used to read it.
    pub layout: String,
    /// Clean transaction lines read.
    pub rows: u64,
    /// Clients in the training population.
    pub clients: u64,
}

/// What is known about a saved model: enough to reproduce, audit and safely reuse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Artifact layout version ([`ARTIFACT_FORMAT`]).
    pub format: u32,
    /// Model kind, e.g. `logistic_regression`.
    pub kind: String,
    /// The retain version that trained it.
    pub retain_version: String,
    /// Features were computed at this date (inclusive).
    pub training_cutoff: NaiveDate,
    /// Label window length in days: `churned` means no purchase in `(cutoff, cutoff + horizon]`.
    pub horizon_days: u32,
    /// Time unit of the model's own parameters (customer-base models), if any.
    pub time_unit: Option<TimeUnit>,
    /// The ordered features the model consumes.
    pub features: FeatureSchema,
    /// The training data.
    pub data_source: DataSource,
    /// Hyper-parameters as given, for the record.
    pub hyperparameters: BTreeMap<String, serde_json::Value>,
    /// Evaluation metrics (out of time), by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A model with its card, saved to and loaded from a directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact<M> {
    /// The model card.
    pub card: ModelCard,
    /// The fitted model.
    pub model: M,
}

impl<M: Serialize + DeserializeOwned> Artifact<M> {
    /// Writes `card.json` and `model.json` into `dir` (created if needed), each atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| CoreError::Io {
            action: "creating",
            path: dir.to_path_buf(),
            source,
        })?;
        write_json(&dir.join("model.json"), &self.model)?;
        write_json(&dir.join("card.json"), &self.card)
    }

    /// Reads an artifact of kind `kind` from `dir`, refusing another kind or format.
    pub fn load(dir: &Path, kind: &str) -> Result<Self> {
        let card: ModelCard = read_json(&dir.join("card.json"))?;
        if card.format != ARTIFACT_FORMAT {
            return Err(CoreError::FormatVersion {
                path: dir.to_path_buf(),
                expected: ARTIFACT_FORMAT,
                found: card.format,
            });
        }
        if card.kind != kind {
            return Err(CoreError::WrongKind {
                path: dir.to_path_buf(),
                expected: kind.to_string(),
                found: card.kind,
            });
        }
        let model = read_json(&dir.join("model.json"))?;
        Ok(Self { card, model })
    }
}

impl ModelCard {
    /// Reads only the card of the artifact in `dir` (to learn its kind).
    pub fn load(dir: &Path) -> Result<Self> {
        read_json(&dir.join("card.json"))
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| CoreError::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CoreError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a file atomically: `write` fills a temporary file in the same directory, which is
/// flushed and renamed over `path` only if `write` succeeds. A failed run never leaves a
/// half-written `path` behind (and leaves an existing one untouched).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let io_err = |action, source| CoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| io_err("creating the folder of", e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("writing", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        ModelCard {
            format: ARTIFACT_FORMAT,
            kind: "toy".into(),
            retain_version: crate::RETAIN_VERSION.into(),
            training_cutoff: NaiveDate::from_ymd_opt(2011, 6, 10).unwrap(),
            horizon_days: 91,
            time_unit: None,
            features: FeatureSchema::new(["a", "b"]),
            data_source: DataSource::default(),
            hyperparameters: BTreeMap::new(),
            metrics: BTreeMap::from([("roc_auc".to_string(), 0.8)]),
        }
    }

    #[test]
    fn artifact_round_trips_and_refuses_wrong_kind() {
        let dir = tempfile::tempdir().unwrap();
        let a = Artifact {
            card: card(),
            model: vec![1.5_f64, -2.0],
        };
        a.save(dir.path()).unwrap();
        let b: Artifact<Vec<f64>> = Artifact::load(dir.path(), "toy").unwrap();
        assert_eq!(a, b);
        let e = Artifact::<Vec<f64>>::load(dir.path(), "other").unwrap_err();
        assert!(e.to_string().contains("holds a `toy` model"), "{e}");
    }

    #[test]
    fn failed_write_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        std::fs::write(&p, "old").unwrap();
        let r = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
