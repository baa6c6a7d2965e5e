//! Building the outreach list and writing it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::*;
use rayon::prelude::*;
use retain_clv::{ClientValues, Valuation};
use retain_core::{Cutoff, Horizon};
use retain_data::write_table;
use retain_eval::drift::psi;
use retain_features::{FeatureMatrix, History};
use retain_models::{BaseMemo, ChurnModel, ChurnRows, ExplainContext, ValueRows};

use crate::reasons::top_reasons;
use crate::summary::{DriftRow, ModelUsed, RunSummary};
use crate::{ScoreError, Scorer};

/// What orders the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RankBy {
    /// The churn score descending (the default).
    #[default]
    Churn,
    /// `value_at_risk` descending (needs a value model).
    ValueAtRisk,
}

/// The cut points of the churn bands: `low` below `medium`, `medium` from `medium` to below
/// `high`, `high` from `high` (on the churn probability; on the risk percentile for a model
/// without probabilities).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// Lower bound of `medium`.
    pub medium: f64,
    /// Lower bound of `high`.
    pub high: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Self {
            medium: 0.5,
            high: 0.75,
        }
    }
}

/// Clients scored at a time when the caller does not choose ([`ScoreOptions::chunk_clients`]):
/// about 130 MB of feature matrix per 60 features, a small share of what the features of a few
/// million clients take.
pub const DEFAULT_CHUNK_CLIENTS: usize = 1 << 18;

/// How the list is built.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `n_reasons` | 3 | reasons per client | any |
/// | `reasons_for` | `None` (every client) | reasons only for the first N clients of the list; the others' reason columns are empty | any |
/// | `rank_by` | [`RankBy::Churn`] | what orders the list; ties go to the smaller client id | |
/// | `key_share` | 0.8 | `key_client` flags the smallest set of clients whose CLV reaches this share of the total (`retain_eval::key_clients`: CLV descending, ties to the smaller id; a CLV <= 0 is never key) | `(0, 1]` |
/// | `valuation` | undiscounted, margin 1 | how the CLV is valued | |
/// | `bands` | 0.5, 0.75 | churn band cut points | `0 <= medium <= high <= 1` |
/// | `drift_threshold` | 0.25 | PSI above which a feature or the score counts as drifted | `> 0` |
/// | `chunk_clients` | 262,144 | clients scored and explained at a time: the models' matrices and the explanation are held for one chunk, never for every client (the list is the same whatever the chunk) | `>= 1` |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreOptions {
    /// Number of reasons per client.
    pub n_reasons: usize,
    /// Reasons only for the first N clients of the list (`None`: every client). Reasons cost
    /// far more than scores with tree models (Tree SHAP), so a nightly run over millions of
    /// clients explains the ones the team will call.
    pub reasons_for: Option<usize>,
    /// What orders the list.
    pub rank_by: RankBy,
    /// Share of clients flagged as key clients.
    pub key_share: f64,
    /// Discounting and margin of the CLV.
    pub valuation: Valuation,
    /// Churn band cut points.
    pub bands: Bands,
    /// PSI threshold of the drift check.
    pub drift_threshold: f64,
    /// Clients scored and explained at a time (memory, never the result).
    pub chunk_clients: usize,
}

impl ScoreOptions {
    /// Refuses options outside their domain (the table above), naming the value.
    pub fn check(&self) -> Result<(), ScoreError> {
        let options = self;
        if !(options.key_share > 0.0 && options.key_share <= 1.0) {
            return Err(ScoreError::Invalid(format!(
                "key share {} is not in (0, 1]",
                options.key_share
            )));
        }
        let b = options.bands;
        if !(0.0 <= b.medium && b.medium <= b.high && b.high <= 1.0) {
            return Err(ScoreError::Invalid(format!(
                "churn bands {}, {} must satisfy 0 <= medium <= high <= 1",
                b.medium, b.high
            )));
        }
        options
            .valuation
            .check()
            .map_err(|e| ScoreError::Invalid(e.to_string()))?;
        if options.chunk_clients == 0 {
            return Err(ScoreError::Invalid(
                "clients scored at a time must be at least 1".into(),
            ));
        }
        if !(options.drift_threshold > 0.0 && options.drift_threshold.is_finite()) {
            return Err(ScoreError::Invalid(format!(
                "drift threshold {} must be a positive number",
                options.drift_threshold
            )));
        }
        Ok(())
    }
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            n_reasons: 3,
            reasons_for: None,
            rank_by: RankBy::Churn,
            key_share: retain_eval::concentration::DEFAULT_KEY_SHARE,
            valuation: Valuation::default(),
            bands: Bands::default(),
            drift_threshold: 0.25,
            chunk_clients: DEFAULT_CHUNK_CLIENTS,
        }
    }
}

/// A ranked outreach list and its run summary.
#[derive(Debug, Clone)]
pub struct Scores {
    /// The list, sorted by rank (module docs of the crate for the columns).
    pub table: DataFrame,
    /// The run summary.
    pub summary: RunSummary,
    /// The features the clients were scored on (`client_id` and the 29, by client id): what
    /// the planner reads next (usual purchase time, RFM, the uplift models' inputs).
    pub features: DataFrame,
    /// The text of the ids read as text: [`Scores::write`] writes the ids as read, while
    /// `table` and `features` keep the `i64` codes every join uses.
    pub ids: retain_data::ClientIds,
}

pub(crate) fn score(
    scorer: &Scorer,
    history: &History,
    date: Cutoff,
    options: &ScoreOptions,
) -> Result<Scores, ScoreError> {
    options.check()?;
    let countries = history.country_table(date)?;
    let df = match &scorer.families {
        Some((families, h)) => history
            .features_with_families_at(date, *h, &countries, families)
            .collect()?,
        None => history.features_at(date, &countries).collect()?,
    };
    score_features(scorer, df, history.ids().clone(), date, options)
}

/// [`score`] from the clients' features at `date` (`client_id`, then every column the
/// models read, sorted by client id), with `ids` to write the ids as read.
pub(crate) fn score_features(
    scorer: &Scorer,
    df: DataFrame,
    ids: retain_data::ClientIds,
    date: Cutoff,
    options: &ScoreOptions,
) -> Result<Scores, ScoreError> {
    options.check()?;
    let n = df.height();
    if n == 0 {
        return Err(ScoreError::NoClients(format!(
            "no client has a purchase on or before {date}: nothing to score (is the date \
             before the data start?)"
        )));
    }
    let card = &scorer.churn.card;
    let names = card.features.names().to_vec();
    let model = &scorer.churn.model;
    let chunk = options.chunk_clients.max(1);

    // The scores, chunk by chunk of clients: each chunk's matrices are dropped before the
    // next; what reads every client (a rank ensemble's ranks) is done once after the last.
    let value_side = match &scorer.value {
        Some((a, _)) => Some((
            a,
            Horizon::new(a.card.horizon_days).map_err(ScoreError::Invalid)?,
        )),
        None => None,
    };
    let mut clients: Vec<i64> = Vec::with_capacity(n);
    let mut churn_rows: Option<ChurnRows> = None;
    let mut value_rows: Option<(ValueRows, ClientValues)> = None;
    for start in (0..n).step_by(chunk) {
        let part = df.slice(start as i64, chunk.min(n - start));
        let m = FeatureMatrix::from_frame(&part, &names)?;
        let rows = model.predict_rows(m.x.view())?;
        match &mut churn_rows {
            Some(c) => c.append(rows),
            None => churn_rows = Some(rows),
        }
        clients.extend_from_slice(&m.clients);
        drop(m);
        if let Some((a, h)) = &value_side {
            let vm = FeatureMatrix::from_frame(&part, a.card.features.names())?;
            // the value model's customer-base parts and the list's P(alive) share their
            // outputs where they are the same model over the same horizon
            let mut memo = BaseMemo::new(vm.x.view());
            let amount = a
                .model
                .value
                .predict_rows_in(&mut memo, *h, &options.valuation)?;
            let cb = a
                .model
                .customer_base
                .values_in(&mut memo, *h, &options.valuation)?;
            drop(memo);
            let cb = std::rc::Rc::unwrap_or_clone(cb);
            match &mut value_rows {
                Some((v, c)) => {
                    v.append(amount);
                    c.append(cb);
                }
                None => value_rows = Some((amount, cb)),
            }
        }
    }
    let pred = churn_rows.expect("at least one client").finish();
    let value = value_rows.map(|(v, cb)| (v.finish().amount, cb));
    let clients = &clients;
    check_predictions(
        scorer,
        clients,
        &pred,
        value.as_ref().map(|(a, _)| a.as_slice()),
    )?;
    let var: Option<Vec<f64>> = match (&value, &pred.probability) {
        (Some((clv, _)), Some(p)) => Some((0..n).map(|i| p[i] * clv[i]).collect()),
        _ => None,
    };
    let rank_score: Vec<f64> = match (options.rank_by, &var) {
        (RankBy::Churn, _) => pred.score.clone(),
        (RankBy::ValueAtRisk, Some(v)) => v.clone(),
        (RankBy::ValueAtRisk, None) => {
            return Err(ScoreError::Invalid(
                "ranking by value at risk needs a value model and a churn model that gives \
                 probabilities"
                    .into(),
            ));
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        rank_score[b]
            .total_cmp(&rank_score[a])
            .then(clients[a].cmp(&clients[b]))
    });

    // Reasons for the first `reasons_for` clients of the list, as columns in list order.
    let explained = options.reasons_for.unwrap_or(n).min(n);
    let reasons = if options.n_reasons > 0 && explained > 0 {
        Some(reason_columns(
            scorer, &df, &names, &order, explained, chunk, options,
        )?)
    } else {
        None
    };

    // Bands: on the probability, else on the risk percentile.
    let band_of = |v: f64| -> &'static str {
        if v >= options.bands.high {
            "high"
        } else if v >= options.bands.medium {
            "medium"
        } else {
            "low"
        }
    };
    let mut bands: Vec<&'static str> = vec!["low"; n];
    match &pred.probability {
        Some(p) => {
            for i in 0..n {
                bands[i] = band_of(p[i]);
            }
        }
        None => {
            for (r, &i) in order.iter().enumerate() {
                bands[i] = band_of(1.0 - r as f64 / n as f64);
            }
        }
    }

    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let mut cols: Vec<Column> = vec![
        Column::new("risk_rank".into(), (1..=n as u32).collect::<Vec<_>>()),
        Column::new(
            "client_id".into(),
            order.iter().map(|&i| clients[i]).collect::<Vec<_>>(),
        ),
    ];
    if let Some(p) = &pred.probability {
        cols.push(Column::new("churn_probability".into(), pick(p)));
    }
    if !pred.score_is_probability {
        cols.push(Column::new("churn_score".into(), pick(&pred.score)));
    }
    cols.push(Column::new(
        "churn_band".into(),
        order.iter().map(|&i| bands[i]).collect::<Vec<_>>(),
    ));
    let mut key_count = None;
    if let Some((clv, cb)) = &value {
        let key = retain_eval::key_clients(clv, clients, options.key_share)
            .map_err(|e| ScoreError::Invalid(format!("key clients: {e}")))?
            .flags;
        key_count = Some(key.iter().filter(|&&k| k).count());
        cols.push(Column::new("p_alive".into(), pick(&cb.p_alive)));
        cols.push(Column::new(
            "expected_purchases".into(),
            pick(&cb.expected_purchases),
        ));
        let next: Vec<Option<i32>> = order
            .iter()
            .map(|&i| {
                let d = cb.days_to_next_purchase[i];
                (d.is_finite() && d < 36_525.0).then(|| date.day() + d.round() as i32)
            })
            .collect();
        cols.push(Column::new("expected_next_purchase".into(), next).cast(&DataType::Date)?);
        cols.push(Column::new("clv".into(), pick(clv)));
        if let Some(var) = &var {
            cols.push(Column::new("value_at_risk".into(), pick(var)));
        }
        cols.push(Column::new(
            "key_client".into(),
            order.iter().map(|&i| key[i]).collect::<Vec<bool>>(),
        ));
    }
    if let Some(r) = reasons {
        cols.extend(r);
    }
    let table = DataFrame::new_infer_height(cols)?;

    // Drift of today's features and score against the training rows.
    // (features side by side on rayon's threads, the rows in feature order)
    let mut drift: Vec<DriftRow> = names
        .par_iter()
        .filter_map(|name| card.profile.get(name).map(|r| (name, r)))
        .map(|(name, r)| -> Result<DriftRow, ScoreError> {
            // the column as the models read it (finite: every value went through a matrix)
            let v = retain_features::feature_values(&df, name)?;
            Ok(drift_row(name, psi(&r.edges, &r.shares, &v), options))
        })
        .collect::<Result<_, _>>()?;
    if let Some(r) = card.profile.get("score") {
        drift.push(drift_row(
            "score",
            psi(&r.edges, &r.shares, &pred.score),
            options,
        ));
    }
    drift.sort_by(|a, b| b.psi.total_cmp(&a.psi).then(a.feature.cmp(&b.feature)));
    let band_counts = ["low", "medium", "high"].map(|b| bands.iter().filter(|&&x| x == b).count());
    let summary = RunSummary {
        date,
        clients: n,
        churn_model: ModelUsed::of(&scorer.churn_dir, card),
        value_model: scorer
            .value
            .as_ref()
            .map(|(a, p)| ModelUsed::of(p, &a.card)),
        drift_threshold: options.drift_threshold,
        drift,
        bands: band_counts,
        mean_churn_probability: pred
            .probability
            .as_ref()
            .map(|p| p.iter().sum::<f64>() / n as f64),
        total_value_at_risk: var.as_ref().map(|v| v.iter().sum()),
        total_clv: value.as_ref().map(|(c, _)| c.iter().sum()),
        key_clients: key_count,
        plan: None,
        files: Vec::new(),
    };
    Ok(Scores {
        table,
        summary,
        features: df,
        ids,
    })
}

/// The reason columns (`reason_k`, `reason_k_text`) of the list in `order`: the first
/// `explained` clients of the list explained, the others' reasons empty. The explanation is
/// taken `chunk` clients at a time, each chunk's matrices and reasons' text dropped once its
/// columns are built: every client in client order (the features' rows), else the first of
/// the list in list order, within the context of the whole explained set (the rows are the
/// one-piece explanation's, bit for bit).
fn reason_columns(
    scorer: &Scorer,
    df: &DataFrame,
    names: &[String],
    order: &[usize],
    explained: usize,
    chunk: usize,
    options: &ScoreOptions,
) -> Result<Vec<Column>, ScoreError> {
    let n = order.len();
    let every = explained == n;
    let model = &scorer.churn.model;
    let card = &scorer.churn.card;
    // the features' rows explained, in the order explained
    let rows: Vec<usize> = if every {
        (0..n).collect()
    } else {
        order[..explained].to_vec()
    };
    let matrix = |rows: &[usize]| -> Result<FeatureMatrix, ScoreError> {
        let part = if every {
            df.slice(rows[0] as i64, rows.len())
        } else {
            let idx = IdxCa::from_vec("rows".into(), rows.iter().map(|&i| i as IdxSize).collect());
            df.take(&idx)?
        };
        Ok(FeatureMatrix::from_frame(&part, names)?)
    };
    let context = if rows.len() > chunk && model.explains_against_the_set() {
        let mut context = ExplainContext::default();
        for c in rows.chunks(chunk) {
            model.gather_context(matrix(c)?.x.view(), &mut context)?;
        }
        Some(context.finish())
    } else {
        None
    };
    let expl_names = ChurnModel::explanation_names(names);
    let h = Horizon::new(card.horizon_days.max(1)).unwrap_or(Horizon::new(1).expect("1 day"));
    let k = options.n_reasons;
    let mut columns: Vec<Option<Series>> = vec![None; 2 * k];
    // the features' columns a sentence may read beside the model's own, each cast to
    // numbers the first time a sentence reads it
    let other: HashMap<&str, OnceLock<Option<Float64Chunked>>> = df
        .get_column_names()
        .into_iter()
        .map(|c| (c.as_str(), OnceLock::new()))
        .collect();
    // each feature's column in the matrix (the first, as a search would find)
    let mut position: HashMap<&str, usize> = HashMap::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        position.entry(name.as_str()).or_insert(j);
    }
    for c in rows.chunks(chunk) {
        let m = matrix(c)?;
        let e = model.explain_within(m.x.view(), context.as_ref())?;
        let hybrid = model
            .customer_base()
            .map(|b| b.hybrid_columns(m.x.view(), h))
            .transpose()?;
        let lookup = |r: usize, f: &str| -> Option<f64> {
            if let Some(&j) = position.get(f) {
                return Some(m.x[[r, j]]);
            }
            if let Some(k) = retain_models::deploy::HYBRID_FEATURES
                .iter()
                .position(|x| *x == f)
            {
                return hybrid.as_ref().filter(|h| k < h.ncols()).map(|h| h[[r, k]]);
            }
            // another column of the features, cast once for the whole list
            other
                .get(f)
                .and_then(|col| col.get_or_init(|| as_numbers(df, f)).as_ref())
                .and_then(|col| col.get(c[r]))
        };
        let reasons = top_reasons(&e.values, &expl_names, k, &lookup);
        drop(e);
        // (the text borrowed from `reasons`, then copied once into the columns)
        for j in 0..k {
            let (codes, texts): (Vec<&str>, Vec<&str>) = reasons
                .iter()
                .map(|r| r.get(j).map_or(("", ""), |(c, t)| (c.as_str(), t.as_str())))
                .unzip();
            for (slot, (name, v)) in columns[2 * j..2 * j + 2].iter_mut().zip([
                (format!("reason_{}", j + 1), codes),
                (format!("reason_{}_text", j + 1), texts),
            ]) {
                let s = Series::new(name.into(), v);
                match slot {
                    Some(acc) => {
                        acc.append(&s)?;
                    }
                    None => *slot = Some(s),
                }
            }
        }
    }
    // into list order: every client by its list position; else the first of the list, then
    // empty reasons
    let idx = every.then(|| {
        IdxCa::from_vec(
            "order".into(),
            order.iter().map(|&i| i as IdxSize).collect(),
        )
    });
    columns
        .into_iter()
        .map(|s| {
            let s = s.expect("every reason column is built");
            let s = match &idx {
                // (one chunk first: a take from the chunks built above copied every
                // string, 0.9 s for the reasons of 563,000 clients against 0.05 s)
                Some(idx) => s.rechunk().take(idx)?,
                None => {
                    let mut s = s;
                    s.append(&Series::new(s.name().clone(), vec![""; n - explained]))?;
                    s.rechunk()
                }
            };
            Ok(s.into_column())
        })
        .collect()
}

/// Column `name` of `df` as one chunk of numbers, if it is one.
fn as_numbers(df: &DataFrame, name: &str) -> Option<Float64Chunked> {
    let col = df.column(name).ok()?.cast(&DataType::Float64).ok()?;
    Some(col.f64().ok()?.rechunk().into_owned())
}

fn drift_row(feature: &str, psi: f64, options: &ScoreOptions) -> DriftRow {
    DriftRow {
        feature: feature.to_string(),
        psi,
        drifted: psi > options.drift_threshold,
    }
}

/// Refuses predictions no trained model gives: a score or value that is not finite, or a
/// probability outside [0, 1]. Loading checks each saved number's domain; this catches what
/// only shows in combination (an edited coefficient of 1e308 times a feature of 0).
fn check_predictions(
    scorer: &Scorer,
    clients: &[i64],
    pred: &retain_models::ChurnPrediction,
    value: Option<&[f64]>,
) -> Result<(), ScoreError> {
    let bad = |what: &str, dir: &Path, i: usize, v: f64| {
        ScoreError::Invalid(format!(
            "the {what} of {} is {v} for client {}: no trained model gives that (an edited \
             or corrupt artifact?); retrain it",
            dir.display(),
            clients[i]
        ))
    };
    let dir = &scorer.churn_dir;
    if let Some(i) = pred.score.iter().position(|v| !v.is_finite()) {
        return Err(bad("churn score", dir, i, pred.score[i]));
    }
    if let Some(p) = &pred.probability
        && let Some(i) = p.iter().position(|v| !(0.0..=1.0).contains(v))
    {
        return Err(bad("churn probability", dir, i, p[i]));
    }
    if let (Some(v), Some((_, dir))) = (value, &scorer.value)
        && let Some(i) = v.iter().position(|v| !v.is_finite())
    {
        return Err(bad("lifetime value", dir, i, v[i]));
    }
    Ok(())
}

/// The files of the list written at `stem`: `<stem>.csv`, `<stem>.parquet`, `summary.json`
/// beside them and `<stem>.jsonl`. `-o out/` (or an existing folder) means `out/scores.*`;
/// `-o out/scores.2024.01` keeps its dots: the extensions are appended, never substituted.
pub fn list_paths(stem: &Path) -> [PathBuf; 4] {
    let (dir, name) = retain_data::output_stem(stem, "scores");
    [
        dir.join(format!("{name}.csv")),
        dir.join(format!("{name}.parquet")),
        dir.join("summary.json"),
        dir.join(format!("{name}.jsonl")),
    ]
}

impl Scores {
    /// The list as the files hold it: [`Scores::table`] with the client ids as read.
    pub fn list(&self) -> Result<DataFrame, ScoreError> {
        let mut table = self.table.clone();
        self.ids
            .decode(&mut table, "client_id")
            .map_err(|e| ScoreError::Invalid(format!("client ids: {e}")))?;
        Ok(table)
    }

    /// Writes `<stem>.csv`, `<stem>.parquet` and `summary.json` beside them. Each is written
    /// to a temporary file first; the files are renamed into place only when all are written,
    /// so a failed run leaves the previous outputs as they were. `summary.json` is the
    /// manifest (`RunSummary::files`): the old one is removed before the first rename and the
    /// new one renamed last, so a run killed between the renames leaves no summary.json, and
    /// a reader never takes a mixed set for a complete run. Returns the paths.
    pub fn write(&mut self, stem: &Path) -> Result<[PathBuf; 3], ScoreError> {
        let [csv, parquet, summary, _] = self.write_with(stem, false)?;
        Ok([csv, parquet, summary])
    }

    /// [`Scores::write`], and with `json_lines` also `<stem>.jsonl` (one JSON object per
    /// client, in list order), renamed into place with the others. The fourth path is the
    /// JSON lines file's (its name even when not written).
    pub fn write_with(
        &mut self,
        stem: &Path,
        json_lines: bool,
    ) -> Result<[PathBuf; 4], ScoreError> {
        let [csv, parquet, summary, jsonl] = list_paths(stem);
        let name = csv
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scores".into());
        let tmp = |p: &Path| {
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            p.with_file_name(format!(".{name}.{}.part.{ext}", std::process::id()))
        };
        let (tc, tp, ts, tj) = (tmp(&csv), tmp(&parquet), tmp(&summary), tmp(&jsonl));
        if let Some(dir) = csv.parent() {
            retain_core::remove_stale_temps(dir);
        }
        let mut table = self.list()?;
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| {
                retain_models::ModelError::from(retain_core::CoreError::Io {
                    action,
                    path,
                    source,
                })
            }
        };
        let result = (|| -> Result<(), ScoreError> {
            write_table(&mut table, &tc)?;
            write_table(&mut table, &tp)?;
            let mut written = vec![(&tc, &csv), (&tp, &parquet)];
            if json_lines {
                write_table(&mut table, &tj)?;
                written.push((&tj, &jsonl));
            }
            // The manifest: what summary.json vouches for.
            self.summary.files = written
                .iter()
                .map(|(t, p)| {
                    let (bytes, sha256) =
                        retain_core::file_sha256(t).map_err(retain_models::ModelError::from)?;
                    Ok(crate::OutputFile {
                        name: p
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        bytes,
                        sha256,
                    })
                })
                .collect::<Result<_, ScoreError>>()?;
            let json = serde_json::to_vec_pretty(&self.summary)
                .map_err(|e| ScoreError::Invalid(format!("summary: {e}")))?;
            retain_core::write_atomic(&ts, |w| {
                use std::io::Write;
                w.write_all(&json)?;
                w.write_all(b"\n")
            })
            .map_err(retain_models::ModelError::from)?;
            // The old manifest goes first and the new one comes last: between the two, the
            // folder holds no summary.json, so no reader takes a mixed set for a run.
            match std::fs::remove_file(&summary) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io("replacing", &summary)(e).into());
                }
                _ => {}
            }
            for (t, p) in written {
                std::fs::rename(t, p).map_err(io("writing", p))?;
            }
            std::fs::rename(&ts, &summary).map_err(io("writing", &summary))?;
            Ok(())
        })();
        if result.is_err() {
            for t in [&tc, &tp, &ts, &tj] {
                let _ = std::fs::remove_file(t);
            }
        }
        result?;
        Ok([csv, parquet, summary, jsonl])
    }
}
