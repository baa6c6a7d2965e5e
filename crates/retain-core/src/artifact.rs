//! Versioned model artifacts: `models/<name>/card.json` (the model card) beside
//! `models/<name>/model.json` (the fitted parameters), both plain JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{CoreError, FeatureSchema, Result, TimeUnit};

/// Version of the on-disk artifact layout; bumped when it changes incompatibly.
///
/// Format 2 (retain 0.2): cards carry the build id, the training data's fingerprint and the
/// drift profile; model kinds are the evaluation's names ([`crate::kinds`]); churn and value
/// models are saved as deployable (possibly composite) models.
pub const ARTIFACT_FORMAT: u32 = 2;

static BUILD_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records the id of the exact source this program was built from (the retain binary passes
/// the first 16 hex digits of the SHA-256 of every source file and manifest of the workspace,
/// computed by its build.rs without git). Cards written afterwards carry it; the first call wins.
pub fn set_build_id(id: &str) {
    let _ = BUILD_ID.set(id.to_string());
}

/// The build id recorded by [`set_build_id`], or `"library"` when none was set.
pub fn build_id() -> &'static str {
    BUILD_ID.get().map(String::as_str).unwrap_or("library")
}

/// Where the training data came from, and its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DataSource {
    /// The input path (file, glob or folder) as given.
    pub path: String,
    /// Column-mapping preset or config used to read it.
    pub layout: String,
    /// Clean transaction lines read.
    pub rows: u64,
    /// Clients in the training population.
    pub clients: u64,
    /// First day of the clean lines.
    #[serde(default)]
    pub first_day: Option<NaiveDate>,
    /// Last day of the clean lines.
    #[serde(default)]
    pub last_day: Option<NaiveDate>,
    /// Hex SHA-256 of the clean lines in canonical order (client, day, amount, and the invoice,
    /// product and category codes where present): equal for the same data however it was
    /// stored.
    #[serde(default)]
    pub lines_sha256: String,
}

impl DataSource {
    /// True when `other` describes the same training data (same fingerprint and date range).
    pub fn same_data(&self, other: &DataSource) -> bool {
        self.lines_sha256 == other.lines_sha256
            && self.rows == other.rows
            && self.first_day == other.first_day
            && self.last_day == other.last_day
    }
}

/// A feature's (or a score's) distribution on the training data, for drift checks: the inner
/// cut points of up to ten quantile bins and the share of rows in each bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinnedDistribution {
    /// Increasing inner cut points; bin `k` holds values in `(edges[k-1], edges[k]]`.
    pub edges: Vec<f64>,
    /// Share of the training rows in each of the `edges.len() + 1` bins (summing to 1).
    pub shares: Vec<f64>,
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
    /// The source id of the retain that trained it ([`build_id`]).
    #[serde(default)]
    pub build_id: String,
    /// Distribution of each feature and of the score (`"score"`) over the clients at the
    /// training data's cutoff (the population the model was built to score): the reference of
    /// the nightly drift check.
    #[serde(default)]
    pub profile: BTreeMap<String, BinnedDistribution>,
    /// The feature families beyond the protocol's 29 among `features`, and the horizon
    /// their `last_year` windows were computed with: scoring computes the same columns.
    /// Absent when the model reads none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub families: Option<FamilyInputs>,
}

/// The feature families a model reads ([`ModelCard::families`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyInputs {
    /// The families, by name (`windows`, `decayed`, `last_year`, `gap_recency`).
    pub names: Vec<String>,
    /// The label window their `last_year` columns assume (the training horizon), in days.
    pub horizon_days: u32,
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
        let card = ModelCard::load(dir)?;
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
    /// Reads only the card of the artifact in `dir` (to learn its kind), refusing a card of
    /// another artifact format (newer or older), naming both versions and what to do.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("card.json");
        let value: serde_json::Value = read_json(&path)?;
        let found = value.get("format").and_then(|f| f.as_u64());
        match found {
            Some(f) if f == ARTIFACT_FORMAT as u64 => {}
            _ => {
                let written_by = value
                    .get("retain_version")
                    .and_then(|v| v.as_str())
                    .unwrap_or("an unknown version")
                    .to_string();
                return Err(CoreError::FormatVersion {
                    path: dir.to_path_buf(),
                    expected: ARTIFACT_FORMAT,
                    found: found.map(|f| f.min(u32::MAX as u64) as u32).unwrap_or(0),
                    written_by,
                });
            }
        }
        serde_json::from_value(value).map_err(|_| {
            // parsed again from the text, for the line at fault
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            match serde_json::from_str::<Self>(&text) {
                Err(source) => json_error(&path, &text, source),
                Ok(_) => CoreError::Json {
                    path: path.clone(),
                    source: serde_json::Error::io(std::io::Error::other("invalid card")),
                    near: String::new(),
                },
            }
        })
    }

    /// A card of this build's format, version and build id, with empty metrics and profile.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: impl Into<String>,
        training_cutoff: NaiveDate,
        horizon_days: u32,
        time_unit: Option<TimeUnit>,
        features: FeatureSchema,
        data_source: DataSource,
        hyperparameters: BTreeMap<String, serde_json::Value>,
    ) -> Self {
        Self {
            format: ARTIFACT_FORMAT,
            kind: kind.into(),
            retain_version: crate::RETAIN_VERSION.to_string(),
            training_cutoff,
            horizon_days,
            time_unit,
            features,
            data_source,
            hyperparameters,
            metrics: BTreeMap::new(),
            build_id: build_id().to_string(),
            profile: BTreeMap::new(),
            families: None,
        }
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
    serde_json::from_str(&text).map_err(|source| json_error(path, &text, source))
}

/// A JSON error with the text of the line at fault, so the message shows the value.
fn json_error(path: &Path, text: &str, source: serde_json::Error) -> CoreError {
    let near = text
        .lines()
        .nth(source.line().saturating_sub(1))
        .map(|l| {
            let l: String = l.trim().chars().take(120).collect();
            if l.is_empty() {
                String::new()
            } else {
                format!(", at: {l}")
            }
        })
        .unwrap_or_default();
    CoreError::Json {
        path: path.to_path_buf(),
        source,
        near,
    }
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
    remove_stale_temps(&dir);
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

/// The process id in the name of a temporary file retain writes (`.<name>.<pid>.tmp` by
/// [`write_atomic`], `.<name>.<pid>.part.<ext>` by the outreach list), if it is one.
fn temp_owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?;
    let stem = match rest.strip_suffix(".tmp") {
        Some(s) => s,
        None => {
            let (stem, _ext) = rest.rsplit_once('.')?;
            stem.strip_suffix(".part")?
        }
    };
    let (_, pid) = stem.rsplit_once('.')?;
    pid.parse().ok()
}

/// Removes the temporary files (and folders: a spill's, `.retain-spill.<pid>.tmp`) a killed
/// retain process left in `dir` (`kill -9` or a power cut leaves no chance to clean up):
/// those whose process is no longer running. Every
/// output's writing calls it first, so a leftover lives until the next run writes there.
/// Only where running processes can be told (Linux `/proc`); elsewhere nothing is removed.
pub fn remove_stale_temps(dir: &Path) {
    let proc = Path::new("/proc/self");
    if !proc.exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = temp_owner(&name.to_string_lossy()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let path = e.path();
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(path);
            } else {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// The size and hex SHA-256 of a file's bytes (a run's manifest).
pub fn file_sha256(path: &Path) -> Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let err = |source| CoreError::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf).map_err(err)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((n, h.finalize().iter().map(|b| format!("{b:02x}")).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_are_told_by_name_and_stale_ones_removed() {
        assert_eq!(temp_owner(".scores.csv.123.tmp"), Some(123));
        assert_eq!(temp_owner(".scores.123.part.parquet"), Some(123));
        assert_eq!(temp_owner("scores.csv"), None);
        assert_eq!(temp_owner(".hidden"), None);
        assert_eq!(temp_owner(".scores.csv.tmp"), None);
        let dir = tempfile::tempdir().unwrap();
        // a process id above the kernel's maximum (2^22) never runs
        let dead = dir.path().join(".scores.csv.4999999.tmp");
        let mine = dir
            .path()
            .join(format!(".scores.{}.part.csv", std::process::id()));
        let user = dir.path().join(".notes.tmp");
        for p in [&dead, &mine, &user] {
            std::fs::write(p, "x").unwrap();
        }
        remove_stale_temps(dir.path());
        assert!(!dead.exists() && mine.exists() && user.exists());
    }

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
            build_id: build_id().into(),
            profile: BTreeMap::new(),
            families: None,
        }
    }

    #[test]
    fn refuses_newer_and_older_formats_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let a = Artifact {
            card: card(),
            model: vec![1.0_f64],
        };
        a.save(dir.path()).unwrap();
        let path = dir.path().join("card.json");
        let text = std::fs::read_to_string(&path).unwrap();
        for (format, hint) in [(ARTIFACT_FORMAT + 1, "upgrade"), (1, "retrain")] {
            let edited = text
                .replace(
                    &format!("\"format\": {ARTIFACT_FORMAT}"),
                    &format!("\"format\": {format}"),
                )
                .replace(crate::RETAIN_VERSION, "9.9.9");
            std::fs::write(&path, edited).unwrap();
            let e = ModelCard::load(dir.path()).unwrap_err().to_string();
            assert!(
                e.contains(&format!("format {format}"))
                    && e.contains(&format!("format {ARTIFACT_FORMAT}"))
                    && e.contains("9.9.9")
                    && e.contains(hint),
                "{e}"
            );
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
