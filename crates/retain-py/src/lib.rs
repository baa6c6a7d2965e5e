//! retain from Python: the library the command line runs, as the extension module
//! `retain._retain` of one abi3 wheel (`maturin build` in this folder).
//!
//! Tables cross in both directions through Arrow's C stream interface (the PyCapsule
//! protocol, `__arrow_c_stream__`): any object that offers it (a pyarrow Table or
//! RecordBatchReader, a Python polars DataFrame, a DuckDB result) is read without a copy and
//! without tying retain to the caller's polars or pyarrow version; pandas frames go through
//! `pyarrow.Table.from_pandas`. Results come back as pyarrow Tables.
//!
//! Every call is the CLI's own library call: [`retain_data::read_table`] validates and orders
//! the lines as `retain score -i FILE` does, [`retain_train::client_features`],
//! [`retain_train::train`] with [`retain_train::save_trained`], [`retain_score::Scorer`] and
//! [`retain_train::backtest`]; `train` and `evaluate` also take `Frames`, feature frames a
//! distributed run computes ([`frames`], `retain.spark.train`). Errors arrive as `retain.RetainError` (`DataError` for bad
//! input, `ConfigError` for a bad setting or artifact) with the CLI's message, causes included.

mod arrow;
mod convert;
mod frames;
mod partials;

use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use retain_core::{Categorized, Cutoff, ErrorCategory};
use retain_train::tuning::FeatureSet;
use retain_train::{BacktestParams, ChurnChoice, Protocol, TrainParams, ValueChoice};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    _retain,
    RetainError,
    PyException,
    "An error retain reports: the message is the command line's, causes included."
);
create_exception!(
    _retain,
    DataError,
    RetainError,
    "The input data violate what retain needs (a missing column, a bad value, windows the data \
     do not cover)."
);
create_exception!(
    _retain,
    ConfigError,
    RetainError,
    "A setting or a saved model is wrong or does not fit the data."
);

/// The Python exception for a retain error: the class by its category, the message the CLI
/// prints (`error: ...` without the prefix, then each `caused by: ...`).
pub(crate) fn py_err<E>(e: E) -> PyErr
where
    E: std::error::Error + Categorized,
{
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(&format!("\n  caused by: {c}"));
        cause = c.source();
    }
    match e.category() {
        ErrorCategory::Data => DataError::new_err(message),
        ErrorCategory::Config => ConfigError::new_err(message),
        ErrorCategory::Internal => RetainError::new_err(message),
    }
}

/// A setting refused before any work, as the CLI's flag parser refuses it.
pub(crate) fn config_err(message: impl Into<String>) -> PyErr {
    ConfigError::new_err(message.into())
}

/// Validated, cleaned transaction lines in retain's canonical order: what `retain` reads
/// from a file, here from an Arrow table.
#[pyclass(module = "retain._retain", frozen)]
struct Transactions {
    tx: retain_data::Transactions,
}

#[pymethods]
impl Transactions {
    /// Reads `data` (any object with `__arrow_c_stream__`: a pyarrow Table, a polars
    /// DataFrame, a DuckDB result; or a pandas DataFrame) with `layout` (a preset name such as
    /// "online_retail_ii" or "cdnow", or a dict with the keys of retain.toml's `[layout]`).
    /// Lines dated after `as_of` (default: tomorrow, UTC) are refused. `name` stands for the
    /// file in error messages.
    #[classmethod]
    #[pyo3(signature = (data, layout = None, *, as_of = None, name = "<arrow>"))]
    fn from_arrow(
        _cls: &Bound<'_, pyo3::types::PyType>,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        layout: Option<&Bound<'_, PyAny>>,
        as_of: Option<&Bound<'_, PyAny>>,
        name: &str,
    ) -> PyResult<Self> {
        let layout = convert::layout(py, layout)?;
        let latest = match as_of {
            Some(d) => convert::date(d, "as_of")?,
            None => retain_data::tomorrow_utc(),
        };
        let frame = arrow::import(py, data)?;
        let tx = py
            .detach(|| retain_data::read_table(frame, name, &layout, Some(latest)))
            .map_err(py_err)?;
        Ok(Self { tx })
    }

    /// What reading did: lines read and kept, returns, lines without a client, free lines
    /// dropped, clients, first and last day (the CLI's `read` summary).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, self.tx.stats())
    }

    /// The lines of a seeded sample of the clients, about `fraction` of them (in (0, 1]):
    /// a client is kept by a hash of its id and `seed`, so every worker of a distributed run
    /// keeps the clients this keeps (`retain.spark.train(..., sample=)`).
    #[pyo3(signature = (fraction, *, seed = 0))]
    fn sample_clients(&self, py: Python<'_>, fraction: f64, seed: u64) -> PyResult<Self> {
        let tx = py
            .detach(|| self.tx.sample_clients(fraction, seed))
            .map_err(py_err)?;
        Ok(Self { tx })
    }

    /// Number of lines kept.
    fn __len__(&self) -> usize {
        self.tx.frame().height()
    }

    /// The fingerprint of the lines recorded in model cards (each client's client, day,
    /// amount and quantity hashed in canonical order, the clients' SHA-256 digests added:
    /// the same however the lines were ordered or split).
    fn lines_sha256(&self) -> String {
        self.tx.lines_sha256()
    }

    /// The lines' fingerprint before it is finished, as text: what a worker holding some of
    /// the clients hands on, for `Frames(stats={"digests": [...]})` to add up.
    fn lines_digest(&self) -> String {
        self.tx.lines_digest().state()
    }

    /// The clean line table (canonical columns; client ids as retain codes them).
    fn to_arrow<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        arrow::export(py, self.tx.frame().clone())
    }

    fn __repr__(&self) -> String {
        let s = self.tx.stats();
        let day = |d: Option<NaiveDate>| d.map_or_else(|| "-".to_string(), |d| d.to_string());
        format!(
            "Transactions({} lines, {} clients, {} .. {})",
            s.lines,
            s.clients,
            day(s.first_day),
            day(s.last_day)
        )
    }
}

impl Transactions {
    fn last_day(&self) -> PyResult<Cutoff> {
        self.tx.stats().last_day.map(Cutoff::new).ok_or_else(|| {
            DataError::new_err("the input has no transaction lines with a client id")
        })
    }
}

/// Every client's features at `cutoff` (default: the data's last day; with `labels`, that
/// many days before it): the protocol's 29, then the feature `families` (a list of names,
/// "all" or "none"); with `labels` (days), the churn label and the revenue of the days after
/// the cutoff. The table `retain features` writes.
#[pyfunction]
#[pyo3(signature = (tx, cutoff = None, *, labels = None, families = None))]
fn features<'py>(
    py: Python<'py>,
    tx: &Transactions,
    cutoff: Option<&Bound<'py, PyAny>>,
    labels: Option<u32>,
    families: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let last = tx.last_day()?;
    let labels = labels.map(convert::horizon).transpose()?;
    let cutoff = match (cutoff, labels) {
        (Some(c), _) => Cutoff::new(convert::date(c, "cutoff")?),
        (None, Some(h)) => last.minus(h),
        (None, None) => last,
    };
    let families = match families {
        Some(f) => convert::families(f)?,
        None => FeatureSet::none(),
    };
    let df = py
        .detach(|| -> Result<DataFrame, retain_train::TrainError> {
            let history = retain_features::History::of(&tx.tx)?;
            retain_train::client_features(&history, last, cutoff, labels, families)
        })
        .map_err(py_err)?;
    arrow::export(py, df)
}

/// A builder of every client's features at `date` (the 29, and the feature `families` over
/// `horizon` days) from lines pushed in parts of whole clients: one worker's share of a
/// distributed run ([`FeatureParts`]). With `labels` (days), the labels of the days after
/// `date` too (a training window's rows; the lines pushed must reach that far); with
/// `sample`, only the clients of `Transactions.sample_clients(sample, seed=seed)`. `layout`,
/// `as_of` and `name` as in `Transactions.from_arrow`.
#[pyfunction]
#[pyo3(signature = (
    date, *, families = None, horizon = 91, labels = None, sample = None, seed = 0,
    layout = None, as_of = None, name = "<arrow>"
))]
#[allow(clippy::too_many_arguments)]
fn features_builder(
    py: Python<'_>,
    date: &Bound<'_, PyAny>,
    families: Option<&Bound<'_, PyAny>>,
    horizon: u32,
    labels: Option<u32>,
    sample: Option<f64>,
    seed: u64,
    layout: Option<&Bound<'_, PyAny>>,
    as_of: Option<&Bound<'_, PyAny>>,
    name: &str,
) -> PyResult<FeatureParts> {
    let date = Cutoff::new(convert::date(date, "date")?);
    let families = match families {
        Some(f) => convert::families(f)?.families,
        None => retain_features::FeatureFamilies::default(),
    };
    let mut parts = retain_features::PartFeatures::new(
        Some(date),
        Some((families, convert::horizon(horizon)?)),
    );
    if let Some(h) = labels {
        parts = parts.with_labels(convert::horizon(h)?);
    }
    if let Some(f) = sample
        && !(f > 0.0 && f <= 1.0)
    {
        return Err(config_err(format!(
            "sample = {f}: the fraction of clients must be above 0 and at most 1"
        )));
    }
    let mut builder = FeatureParts::new(py, parts, date, layout, as_of, name)?;
    builder.sample = sample.map(|f| (f, seed));
    Ok(builder)
}

/// Fits the customer-base model (`kind`: "bgnbd", "pareto" or "mbgnbd", with Gamma-Gamma for
/// the spend) on every client's features at `cutoff` (default: the data's last day), as the
/// value model's CLV is fitted. Returns its parameters by name and the number of clients.
#[pyfunction]
#[pyo3(signature = (tx, cutoff = None, *, kind = "bgnbd"))]
fn fit_customer_base<'py>(
    py: Python<'py>,
    tx: &Transactions,
    cutoff: Option<&Bound<'py, PyAny>>,
    kind: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let kind = convert::rfm_kind(kind)?;
    let last = tx.last_day()?;
    let cutoff = match cutoff {
        Some(c) => Cutoff::new(convert::date(c, "cutoff")?),
        None => last,
    };
    let model = py
        .detach(|| -> Result<_, retain_train::TrainError> {
            let history = retain_features::History::of(&tx.tx)?;
            let df =
                retain_train::client_features(&history, last, cutoff, None, FeatureSet::none())?;
            let [f, r, t, m] = partials::rfm_columns(&df)?;
            Ok(retain_clv::ClvModel::fit(
                kind,
                &retain_clv::RfmRows::new(&f, &r, &t, &m)?,
            )?)
        })
        .map_err(py_err)?;
    customer_base_out(py, &model)
}

/// [`fit_customer_base`] from counts: `distinct` holds the clients' distinct `frequency`,
/// `recency_lt` and `T` (days, as the features) with `count`, the number of clients sharing
/// each row (a distributed run aggregates them); `clients` holds every client's `frequency`
/// and `monetary`, in client order, for the spend model. The same model, bit for bit.
#[pyfunction]
#[pyo3(signature = (distinct, clients, *, kind = "bgnbd"))]
fn fit_customer_base_counts<'py>(
    py: Python<'py>,
    distinct: &Bound<'py, PyAny>,
    clients: &Bound<'py, PyAny>,
    kind: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let kind = convert::rfm_kind(kind)?;
    let distinct = arrow::import(py, distinct)?;
    let clients = arrow::import(py, clients)?;
    let model = py
        .detach(|| -> Result<_, retain_train::TrainError> {
            let c = |df: &DataFrame, name: &str| partials::column_f64(df, name);
            let (f, r, t, w) = (
                c(&distinct, "frequency")?,
                c(&distinct, "recency_lt")?,
                c(&distinct, "T")?,
                c(&distinct, "count")?,
            );
            let (x, m) = (c(&clients, "frequency")?, c(&clients, "monetary")?);
            Ok(retain_clv::ClvModel::fit_counts(
                kind,
                (&f, &r, &t),
                &w,
                (&x, &m),
            )?)
        })
        .map_err(py_err)?;
    customer_base_out(py, &model)
}

fn customer_base_out<'py>(
    py: Python<'py>,
    model: &retain_clv::ClvModel,
) -> PyResult<Bound<'py, PyAny>> {
    let out = PyDict::new(py);
    out.set_item("parameters", convert::to_python(py, &model.parameters())?)?;
    out.set_item("clients", model.purchases.n_clients())?;
    Ok(out.into_any())
}

/// The layout `layout` names (a preset name, a dict of retain.toml's `[layout]` keys, or None
/// for Online Retail II's), as a dict: which column holds what.
#[pyfunction]
#[pyo3(signature = (layout = None))]
fn layout_of<'py>(
    py: Python<'py>,
    layout: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    convert::to_python(py, &convert::layout(py, layout)?)
}

/// The windows and the backtest's settings shared by `train` and `evaluate`.
fn backtest_params(
    cutoff: Cutoff,
    horizon: u32,
    train_horizon: Option<u32>,
    families: Option<&Bound<'_, PyAny>>,
    validation_targets: usize,
    selection_clients: u64,
) -> PyResult<BacktestParams> {
    let horizon = convert::horizon(horizon)?;
    let protocol = Protocol {
        cutoff,
        horizon,
        train_horizon: train_horizon
            .map(convert::horizon)
            .transpose()?
            .unwrap_or(horizon),
    };
    let mut params = BacktestParams::new(protocol);
    if let Some(f) = families {
        params.families = convert::families(f)?;
    }
    if !(1..=12).contains(&validation_targets) {
        return Err(config_err(format!(
            "validation_targets = {validation_targets}: expected 1 to 12"
        )));
    }
    params.validation_targets = validation_targets;
    params.selection_clients = selection_clients;
    Ok(params)
}

/// The last day of `data` (`Transactions` or `Frames`).
fn data_last_day(data: &Bound<'_, PyAny>) -> PyResult<Cutoff> {
    if let Ok(tx) = data.cast::<Transactions>() {
        return tx.borrow().last_day();
    }
    match data.cast::<frames::Frames>() {
        Ok(f) => f.get().source.last_day.map(Cutoff::new).ok_or_else(|| {
            DataError::new_err("the input has no transaction lines with a client id")
        }),
        Err(_) => Err(not_data(data)),
    }
}

fn not_data(data: &Bound<'_, PyAny>) -> PyErr {
    pyo3::exceptions::PyTypeError::new_err(format!(
        "expected retain.Transactions or retain.Frames, not {}",
        data.get_type()
            .name()
            .map_or_else(|_| "?".to_string(), |n| n.to_string())
    ))
}

/// Runs `f` on the feature frames of `data`: the history of `Transactions` (condensed once),
/// or the frames a `Frames` computes; with the data source its cards record. An error the
/// frames' `compute` raised is raised as it was.
fn run_on<R: Send>(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    f: impl FnOnce(
        &dyn retain_train::ClientFrames,
        &retain_core::DataSource,
    ) -> Result<R, retain_train::TrainError>
    + Send,
) -> PyResult<R> {
    if let Ok(tx) = data.cast::<Transactions>() {
        let tx = tx.borrow();
        let tx: &Transactions = &tx;
        return py
            .detach(|| {
                let frames = retain_train::HistoryFrames::of(&tx.tx)?;
                f(&frames, &retain_train::data_source(&tx.tx))
            })
            .map_err(py_err);
    }
    let Ok(frames) = data.cast::<frames::Frames>() else {
        return Err(not_data(data));
    };
    let frames = frames.get();
    let out = py.detach(|| f(frames, &frames.source));
    match frames.take_error() {
        Some(e) => Err(e),
        None => out.map_err(py_err),
    }
}

/// Trains the churn and value models at `cutoff` (default: the data's last day) and saves
/// them to `model_dir` and `value_model_dir`, as `retain train` does: `model` is "auto"
/// (chosen on validation targets before the cutoff), "logistic", "tree", "forest", "gbdt" or
/// "ensemble"; `value_model` "auto", "clv", "two_part", "gbdt" or "ensemble"; `rfm_model`
/// "bgnbd", "pareto" or "mbgnbd". `tx` is `Transactions`, or `Frames` (features computed
/// elsewhere: the same models). Beyond `selection_clients` clients the selection reads a
/// seeded sample of about that many (0: every client), as `--selection-clients`. Returns the
/// two model cards and the selection as dicts.
#[pyfunction]
#[pyo3(signature = (
    tx, model_dir, value_model_dir, *, cutoff = None, horizon = 91, train_horizon = None,
    model = "auto", value_model = "auto", rfm_model = "bgnbd", families = None,
    validation_targets = 2, selection_clients = 100_000
))]
#[allow(clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    tx: &Bound<'py, PyAny>,
    model_dir: PathBuf,
    value_model_dir: PathBuf,
    cutoff: Option<&Bound<'py, PyAny>>,
    horizon: u32,
    train_horizon: Option<u32>,
    model: &str,
    value_model: &str,
    rfm_model: &str,
    families: Option<&Bound<'py, PyAny>>,
    validation_targets: usize,
    selection_clients: u64,
) -> PyResult<Bound<'py, PyAny>> {
    if model_dir == value_model_dir {
        return Err(config_err(format!(
            "model_dir and value_model_dir are both {}: the two models need two folders",
            model_dir.display()
        )));
    }
    let cutoff = match cutoff {
        Some(c) => Cutoff::new(convert::date(c, "cutoff")?),
        None => data_last_day(tx)?,
    };
    let params = TrainParams {
        backtest: backtest_params(
            cutoff,
            horizon,
            train_horizon,
            families,
            validation_targets,
            selection_clients,
        )?,
        churn: match model {
            "auto" => ChurnChoice::Auto,
            "logistic" => ChurnChoice::Logistic,
            "tree" => ChurnChoice::Tree,
            "forest" => ChurnChoice::Forest,
            "gbdt" => ChurnChoice::Gbdt,
            "ensemble" => ChurnChoice::Ensemble,
            m => {
                return Err(config_err(format!(
                    "model = {m:?}: expected auto, logistic, tree, forest, gbdt or ensemble"
                )));
            }
        },
        value: match value_model {
            "auto" => ValueChoice::Auto,
            "clv" => ValueChoice::Clv,
            "two_part" | "two-part" => ValueChoice::TwoPart,
            "gbdt" => ValueChoice::Gbdt,
            "ensemble" => ValueChoice::Ensemble,
            m => {
                return Err(config_err(format!(
                    "value_model = {m:?}: expected auto, clv, two_part, gbdt or ensemble"
                )));
            }
        },
        rfm: convert::rfm_kind(rfm_model)?,
    };
    let trained = run_on(py, tx, |frames, source| {
        let trained = retain_train::train_on(frames, &params, source)?;
        retain_train::save_trained(&trained, &model_dir, &value_model_dir, None)?;
        Ok(trained)
    })?;
    let out = PyDict::new(py);
    out.set_item("churn", convert::to_python(py, &trained.churn.card)?)?;
    out.set_item("value", convert::to_python(py, &trained.value.card)?)?;
    out.set_item("selection", convert::to_python(py, &trained.selection)?)?;
    Ok(out.into_any())
}

/// Runs the out-of-time evaluation `retain evaluate` runs: every model and baseline trained
/// before `cutoff` (default: `horizon` days before the data's last day) and judged on the
/// `horizon` days after it, at `cutoffs` successive cutoffs, with `bootstrap` resamples for
/// the intervals (0: none); `tx` as in `train`. Returns what `evaluation.json` holds, as
/// Python objects.
#[pyfunction]
#[pyo3(signature = (
    tx, *, cutoff = None, horizon = 91, train_horizon = None, cutoffs = 1, bootstrap = 200,
    families = None, validation_targets = 2, selection_clients = 100_000
))]
#[allow(clippy::too_many_arguments)]
fn evaluate<'py>(
    py: Python<'py>,
    tx: &Bound<'py, PyAny>,
    cutoff: Option<&Bound<'py, PyAny>>,
    horizon: u32,
    train_horizon: Option<u32>,
    cutoffs: usize,
    bootstrap: usize,
    families: Option<&Bound<'py, PyAny>>,
    validation_targets: usize,
    selection_clients: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let h = convert::horizon(horizon)?;
    let cutoff = match cutoff {
        Some(c) => Cutoff::new(convert::date(c, "cutoff")?),
        None => data_last_day(tx)?.minus(h),
    };
    if cutoffs == 0 {
        return Err(config_err("cutoffs = 0: expected at least 1"));
    }
    let mut params = backtest_params(
        cutoff,
        horizon,
        train_horizon,
        families,
        validation_targets,
        selection_clients,
    )?;
    params.cutoffs = cutoffs;
    params.bootstrap_resamples = bootstrap;
    let b = run_on(py, tx, |frames, _| {
        retain_train::backtest_on(frames, &params)
    })?;
    // the shape of `retain evaluate`'s file: the last cutoff's evaluation, and the backtest
    let mut json = serde_json::to_value(b.last_evaluation())
        .map_err(|e| RetainError::new_err(format!("converting the evaluation: {e}")))?;
    if let serde_json::Value::Object(map) = &mut json {
        map.insert(
            "backtest".into(),
            serde_json::to_value(&b)
                .map_err(|e| RetainError::new_err(format!("converting the backtest: {e}")))?,
        );
    }
    convert::to_python(py, &json)
}

/// The saved churn model (and optionally the value model) of `retain train`, ready to score
/// any number of transaction tables.
#[pyclass(module = "retain._retain", frozen)]
struct Scorer {
    scorer: retain_score::Scorer,
}

#[pymethods]
impl Scorer {
    /// Loads the churn model in `model_dir` and the value model in `value_model` (the folders
    /// `train` or `retain train` wrote); a model that does not load, or a pair trained apart,
    /// is refused.
    #[staticmethod]
    #[pyo3(signature = (model_dir, value_model = None))]
    fn load(model_dir: PathBuf, value_model: Option<PathBuf>) -> PyResult<Self> {
        let scorer =
            retain_score::Scorer::load(&model_dir, value_model.as_deref()).map_err(py_err)?;
        Ok(Self { scorer })
    }

    /// The churn model's card.
    #[getter]
    fn churn_card<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, self.scorer.churn_card())
    }

    /// The value model's card, or None.
    #[getter]
    fn value_card<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_python(py, &self.scorer.value_card())
    }

    /// Scores every client of `tx` with a purchase on or before `date` (default: the data's
    /// last day) and returns the ranked list `retain score` writes, as a pyarrow Table.
    /// `options` are the CLI's flags of the same names: `reasons` (3), `reasons_for` (None:
    /// every client), `rank_by` ("churn" or "value_at_risk"), `key_share` (0.8),
    /// `discount_rate` (0), `margin` (1), `bands` ((0.5, 0.75)), `drift_threshold` (0.25).
    #[pyo3(signature = (tx, date = None, **options))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        tx: &Transactions,
        date: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.run(py, tx, date, options)?.0)
    }

    /// [`score`](Scorer::score), and the run summary (`summary.json`: the models, the
    /// counts, the drift check) as a dict: returns `(table, summary)`.
    #[pyo3(signature = (tx, date = None, **options))]
    fn score_with_summary<'py>(
        &self,
        py: Python<'py>,
        tx: &Transactions,
        date: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        self.run(py, tx, date, options)
    }

    /// A builder of the features this scorer's models read at `date`, from lines pushed in
    /// parts of whole clients (one worker of a distributed run: [`FeatureParts`]). `layout`,
    /// `as_of` and `name` as in `Transactions.from_arrow`.
    #[pyo3(signature = (date, *, layout = None, as_of = None, name = "<arrow>"))]
    fn features_builder(
        &self,
        py: Python<'_>,
        date: &Bound<'_, PyAny>,
        layout: Option<&Bound<'_, PyAny>>,
        as_of: Option<&Bound<'_, PyAny>>,
        name: &str,
    ) -> PyResult<FeatureParts> {
        let date = Cutoff::new(convert::date(date, "date")?);
        FeatureParts::new(
            py,
            self.scorer.part_features(Some(date)),
            date,
            layout,
            as_of,
            name,
        )
    }

    /// Scores the clients of the partial feature tables `FeatureParts.finish` gave (stacked,
    /// in any order; every client in exactly one): the list `score` gives for all their
    /// lines at once, bit for bit. The options as in `score`; returns `(table, summary)`.
    #[pyo3(signature = (partials, date, **options))]
    fn score_partials<'py>(
        &self,
        py: Python<'py>,
        partials: &Bound<'py, PyAny>,
        date: &Bound<'py, PyAny>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let date = Cutoff::new(convert::date(date, "date")?);
        let options = convert::score_options(options)?;
        let table = arrow::import(py, partials)?;
        let scores = py.detach(|| -> Result<_, retain_score::ScoreError> {
            let (table, ids) = partials::split_ids(table)?;
            let (features, _) =
                retain_features::PartialFeatures::from_table(table)?.finish(false)?;
            self.scorer.score_features(features, ids, date, &options)
        });
        list_out(py, scores)
    }
}

/// The features of one worker's clients, from lines pushed in parts of whole clients: the
/// first step of scoring in parts ([`Scorer::score_partials`] is the second).
#[pyclass(module = "retain._retain")]
struct FeatureParts {
    features: Option<retain_features::PartFeatures>,
    date: Cutoff,
    layout: retain_data::Layout,
    latest: NaiveDate,
    name: String,
    ids: retain_data::ClientIds,
    sample: Option<(f64, u64)>,
}

impl FeatureParts {
    fn new(
        py: Python<'_>,
        features: retain_features::PartFeatures,
        date: Cutoff,
        layout: Option<&Bound<'_, PyAny>>,
        as_of: Option<&Bound<'_, PyAny>>,
        name: &str,
    ) -> PyResult<Self> {
        Ok(Self {
            features: Some(features),
            date,
            layout: convert::layout(py, layout)?,
            latest: match as_of {
                Some(d) => convert::date(d, "as_of")?,
                None => retain_data::tomorrow_utc(),
            },
            name: name.to_string(),
            ids: retain_data::ClientIds::default(),
            sample: None,
        })
    }
}

#[pymethods]
impl FeatureParts {
    /// Reads `lines` (as `Transactions.from_arrow` does: validated, cleaned, ordered) and
    /// computes its clients' features. Every client's lines must arrive in one push.
    fn push(&mut self, py: Python<'_>, lines: &Bound<'_, PyAny>) -> PyResult<()> {
        let frame = arrow::import(py, lines)?;
        if frame.height() == 0 {
            return Ok(());
        }
        let Some(features) = self.features.as_mut() else {
            return Err(config_err("the features were already finished"));
        };
        let (name, layout, latest) = (&self.name, &self.layout, self.latest);
        let (ids, sample) = (&mut self.ids, self.sample);
        py.detach(|| -> Result<(), retain_score::ScoreError> {
            let mut tx = retain_data::read_table(frame, name, layout, Some(latest))?;
            if let Some((fraction, seed)) = sample {
                tx = tx.sample_clients(fraction, seed)?;
            }
            ids.merge(tx.ids()).map_err(|e| {
                retain_score::ScoreError::Data(retain_data::DataError::Config(format!(
                    "{name}: two client ids with one code: `{}` and `{}`",
                    e.0, e.1
                )))
            })?;
            features.push(&tx)?;
            Ok(())
        })
        .map_err(py_err)
    }

    /// The partial features of every client pushed, as one table for the wire (a client's
    /// features with the country features still 0, and the clients' countries; the ids read
    /// as text in `__client_text`). Without any push, the table has no rows and the columns
    /// and types any push would give: the schema to declare.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let Some(mut features) = self.features.take() else {
            return Err(config_err("the features were already finished"));
        };
        let (date, ids) = (self.date, &self.ids);
        let empty = retain_data::Transactions::empty(&self.name, self.layout.clone());
        let table = py
            .detach(|| -> Result<DataFrame, retain_score::ScoreError> {
                // an empty part gives the columns their types when nothing else did
                features.push(&empty)?;
                let table = features.partial(date)?.to_table()?;
                Ok(partials::with_ids(table, ids)?)
            })
            .map_err(py_err)?;
        arrow::export(py, table)
    }
}

/// The list and its summary as Python objects.
fn list_out<'py>(
    py: Python<'py>,
    scores: Result<retain_score::Scores, retain_score::ScoreError>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let scores = scores.map_err(py_err)?;
    let list = scores.list().map_err(py_err)?;
    Ok((
        arrow::export(py, list)?,
        convert::to_python(py, &scores.summary)?,
    ))
}

impl Scorer {
    fn run<'py>(
        &self,
        py: Python<'py>,
        tx: &Transactions,
        date: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
        let date = match date {
            Some(d) => Cutoff::new(convert::date(d, "date")?),
            None => tx.last_day()?,
        };
        let options = convert::score_options(options)?;
        let scores = py.detach(|| -> Result<_, retain_score::ScoreError> {
            let history = retain_features::History::of(&tx.tx)?;
            self.scorer.score(&history, date, &options)
        });
        list_out(py, scores)
    }
}

/// The extension module.
#[pymodule]
fn _retain(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // model cards record the source that trained them, as the binary's do
    retain_core::set_build_id(env!("RETAIN_BUILD_ID"));
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("RetainError", py.get_type::<RetainError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("PRESETS", retain_data::PRESETS.to_vec())?;
    m.add_class::<Transactions>()?;
    m.add_class::<Scorer>()?;
    m.add_class::<FeatureParts>()?;
    m.add_class::<frames::Frames>()?;
    m.add_function(wrap_pyfunction!(features, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(layout_of, m)?)?;
    m.add_function(wrap_pyfunction!(features_builder, m)?)?;
    m.add_function(wrap_pyfunction!(fit_customer_base, m)?)?;
    m.add_function(wrap_pyfunction!(fit_customer_base_counts, m)?)?;
    Ok(())
}
