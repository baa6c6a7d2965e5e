//! How the results of the shared steps are shown: aligned tables for the terminal (an
//! evaluation, a backtest, a training run's selection, the head of the outreach list, drift)
//! and their views in the JSON documents of `--format json`.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::{AnyValue, DataFrame};
use retain_core::{Cutoff, ModelCard};
use retain_eval::{Interval, MeanStd};
use retain_score::{RunSummary, Scores};
use retain_train::backtest::{Backtest, ChurnSummary, Intervals};
use retain_train::{Evaluation, Protocol, Selection, Trained};
use serde::Serialize;
use serde_json::Value;

use super::common::Ui;
use crate::table::{Align, Table, fixed, money, percent, thousands};

fn marked(name: &str, selected: Option<&str>) -> String {
    if selected == Some(name) {
        format!("{name} *")
    } else {
        name.to_string()
    }
}

fn count(n: usize) -> String {
    thousands(n as i64)
}

fn f3(v: f64) -> String {
    fixed(Some(v).filter(|v| v.is_finite()), 3)
}

/// Appends a table's lines.
fn push_table(out: &mut Vec<String>, t: &Table) {
    out.extend(t.lines());
}

/// The evaluation as readable lines, the selected churn and value models marked with `*`.
pub fn evaluation_lines_marked(
    e: &Evaluation,
    churn_selected: Option<&str>,
    value_selected: Option<&str>,
) -> Vec<String> {
    let mut out = vec![
        format!(
            "evaluation: features at {}, holdout {} days after; trained on features at {} with \
             labels up to {}",
            e.protocol.cutoff, e.protocol.horizon, e.train_cutoff, e.protocol.cutoff
        ),
        format!(
            "clients: {} evaluated (churn rate {}), {} in training (churn rate {}); {} features \
             used",
            count(e.population_eval),
            percent(Some(e.churn_rate_eval)),
            count(e.population_train),
            percent(Some(e.churn_rate_train)),
            e.features_used.len()
        ),
        String::new(),
    ];
    let mut t = Table::new(&[
        "churn model",
        "ROC AUC",
        "PR AUC",
        "lift@10%",
        "Brier",
        "log loss",
    ])
    .align(0, Align::Left);
    for (name, m) in &e.churn {
        t.row(vec![
            marked(name, churn_selected),
            f3(m.roc_auc),
            f3(m.pr_auc),
            fixed(Some(m.top_decile_lift), 2),
            fixed(m.brier, 3),
            fixed(m.log_loss, 3),
        ]);
    }
    push_table(&mut out, &t);
    out.push(String::new());
    let mut t = Table::new(&[
        "value model",
        "Spearman",
        "Gini",
        "MAE",
        "RMSE",
        "top-10% share",
    ])
    .align(0, Align::Left);
    for (name, m) in &e.value {
        t.row(vec![
            marked(name, value_selected),
            f3(m.spearman),
            f3(m.normalized_gini),
            money(m.mae),
            money(m.rmse),
            percent(Some(m.top_decile_revenue_share)),
        ]);
    }
    push_table(&mut out, &t);
    out
}

fn ci(i: Option<&Interval>) -> String {
    i.map(|i| format!("[{:.3}, {:.3}]", i.lower, i.upper))
        .unwrap_or_else(|| "-".into())
}

/// A difference's estimate and interval, signed: `+0.008 [+0.002, +0.014]`.
fn ci_signed(i: Option<&Interval>) -> String {
    i.map(|i| format!("{:+.3} [{:+.3}, {:+.3}]", i.estimate, i.lower, i.upper))
        .unwrap_or_else(|| "-".into())
}

fn ms(m: &MeanStd) -> String {
    if m.std.is_finite() {
        format!("{:.3} ± {:.3}", m.mean, m.std)
    } else {
        format!("{:.3}", m.mean)
    }
}

/// A table whose first column is a name and every other column right-aligned.
fn named_table(headers: &[&str]) -> Table {
    (1..headers.len()).fold(Table::new(headers).align(0, Align::Left), |t, c| {
        t.align(c, Align::Right)
    })
}

/// The backtest's extra tables: profit and intervals at the last cutoff, metrics across
/// cutoffs, and the selection.
pub fn backtest_lines(b: &Backtest) -> Vec<String> {
    let Some(last) = b.cutoffs.last() else {
        return Vec::new();
    };
    let s = &b.settings;
    let mut out = vec![
        String::new(),
        format!(
            "training: {} window(s) per cutoff, {} days apart (features at {}); hybrid \
             customer-base features: {}; calibration: {}",
            s.train_windows,
            s.train_spacing,
            last.train_cutoffs
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if s.hybrid { "yes (+cb)" } else { "no" },
            match s.calibration {
                Some(m) => format!("{m:?}").to_lowercase(),
                None => "none".into(),
            }
        ),
        String::new(),
    ];
    let sel = last.selection.as_ref();
    let mut t = named_table(&[
        "churn model",
        "EMPC",
        "targeted",
        "profit/client",
        "ROC AUC 95% CI",
        "lift 95% CI",
    ]);
    for (name, r) in &last.churn {
        let iv = b.churn_intervals.get(name);
        t.row(vec![
            marked(name, sel.map(|s| s.churn_model.as_str())),
            f3(r.empc.empc),
            percent(Some(r.empc.fraction_targeted)),
            r.empc_individual
                .map(|e| money(e.profit_per_client))
                .unwrap_or_else(|| "-".into()),
            ci(iv.and_then(|m| m.get("roc_auc"))),
            ci(iv.and_then(|m| m.get("top_decile_lift"))),
        ]);
    }
    push_table(&mut out, &t);
    out.push(String::new());
    let mut t = named_table(&["value model", "Spearman 95% CI", "Gini 95% CI"]);
    for name in last.value.keys() {
        let iv = b.value_intervals.get(name);
        t.row(vec![
            marked(name, sel.map(|s| s.value_model.as_str())),
            ci(iv.and_then(|m| m.get("spearman"))),
            ci(iv.and_then(|m| m.get("normalized_gini"))),
        ]);
    }
    push_table(&mut out, &t);
    if let (Some(s), false) = (sel, b.selected_vs_baselines.is_empty()) {
        out.push(String::new());
        let mut t = named_table(&[
            &format!("{} minus", s.churn_model),
            "ROC AUC difference 95% CI",
            "lift difference 95% CI",
        ]);
        for (base, m) in &b.selected_vs_baselines {
            t.row(vec![
                base.clone(),
                ci_signed(m.get("roc_auc")),
                ci_signed(m.get("top_decile_lift")),
            ]);
        }
        push_table(&mut out, &t);
        out.push(
            "(paired bootstrap: each difference on the same resample; an interval above 0 \
             means the selected model is better)"
                .into(),
        );
    }
    if b.cutoffs.len() > 1 {
        out.push(String::new());
        out.push(format!(
            "across {} cutoffs ({}), mean ± std:",
            b.cutoffs.len(),
            b.cutoffs
                .iter()
                .map(|c| c.cutoff.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut t = named_table(&[
            "churn model",
            "ROC AUC",
            "PR AUC",
            "lift@10%",
            "Brier",
            "EMPC",
        ]);
        let mut rows: Vec<(String, &ChurnSummary)> = b
            .churn_summary
            .iter()
            .map(|(k, v)| (k.clone(), v))
            .collect();
        if let Some(selected) = &b.selected_churn_summary {
            rows.push(("(selected at each cutoff)".into(), selected));
        }
        for (name, m) in rows {
            t.row(vec![
                name,
                ms(&m.metrics.roc_auc),
                ms(&m.metrics.pr_auc),
                ms(&m.metrics.top_decile_lift),
                m.metrics
                    .brier
                    .as_ref()
                    .map(ms)
                    .unwrap_or_else(|| "-".into()),
                ms(&m.empc),
            ]);
        }
        push_table(&mut out, &t);
        out.push(String::new());
        let mut t = named_table(&["value model", "Spearman", "Gini", "top-10% share"]);
        for (name, m) in &b.value_summary {
            t.row(vec![
                name.clone(),
                ms(&m.spearman),
                ms(&m.normalized_gini),
                ms(&m.top_decile_revenue_share),
            ]);
        }
        push_table(&mut out, &t);
    }
    out.push(String::new());
    match sel {
        Some(s) => out.push(format!(
            "* selected by {} before the cutoff: churn {} ({:.3}), value {} (Spearman {:.3})",
            s.describe(),
            s.churn_model,
            s.churn_validation
                .get(&s.churn_model)
                .copied()
                .unwrap_or(f64::NAN),
            s.value_model,
            s.value_validation
                .get(&s.value_model)
                .copied()
                .unwrap_or(f64::NAN),
        )),
        None => out.push(format!(
            "no model selected: {}",
            last.no_selection.as_deref().unwrap_or(
                "the data are too short for a validation window before the training windows"
            )
        )),
    }
    out
}

/// A churn model's expected profit at the last cutoff.
#[derive(Debug, Serialize)]
pub struct ProfitView {
    /// Expected maximum profit per client (EMPC).
    pub empc: f64,
    /// Share of clients targeted at the EMPC optimum.
    pub fraction_targeted: f64,
    /// Campaign profit per client with each client's CLV, if known.
    pub profit_per_client: Option<f64>,
}

/// The metrics across cutoffs (mean and std), when the backtest has more than one.
#[derive(Debug, Serialize)]
pub struct AcrossCutoffs<'a> {
    /// Churn models.
    pub churn: &'a BTreeMap<String, ChurnSummary>,
    /// The model selected at each cutoff.
    pub selected: Option<&'a ChurnSummary>,
    /// Value models.
    pub value: &'a BTreeMap<String, retain_eval::ValueMetricsSummary>,
}

/// A backtest in the JSON documents: the last cutoff's evaluation (the metrics tables), the
/// selection, profit and intervals there, and the metrics across cutoffs.
#[derive(Debug, Serialize)]
pub struct BacktestView<'a> {
    /// The last cutoff in the shape of the evaluation JSON: `protocol`, `train_cutoff`,
    /// populations and churn rates, `features_used`, `churn` and `value` metrics by model,
    /// `customer_base`.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// The models selected on the training windows, with every candidate's validation score.
    pub selection: Option<&'a Selection>,
    /// Each churn model's expected profit.
    pub profit: BTreeMap<&'a str, ProfitView>,
    /// Bootstrap 95% intervals of the churn metrics.
    pub churn_intervals: &'a BTreeMap<String, Intervals>,
    /// Bootstrap 95% intervals of the value metrics.
    pub value_intervals: &'a BTreeMap<String, Intervals>,
    /// Paired bootstrap 95% intervals of the selected churn model's ROC AUC and lift minus
    /// each baseline's, by baseline.
    pub selected_vs_baselines: &'a BTreeMap<String, Intervals>,
    /// The evaluation cutoffs, oldest first.
    pub cutoffs: Vec<Cutoff>,
    /// Mean and std across the cutoffs (absent with a single cutoff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub across_cutoffs: Option<AcrossCutoffs<'a>>,
}

/// The JSON view of a backtest.
pub fn backtest_view(b: &Backtest) -> BacktestView<'_> {
    let last = b.cutoffs.last();
    BacktestView {
        evaluation: b.last_evaluation(),
        selection: last.and_then(|c| c.selection.as_ref()),
        profit: last
            .map(|c| {
                c.churn
                    .iter()
                    .map(|(k, r)| {
                        (
                            k.as_str(),
                            ProfitView {
                                empc: r.empc.empc,
                                fraction_targeted: r.empc.fraction_targeted,
                                profit_per_client: r.empc_individual.map(|e| e.profit_per_client),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        churn_intervals: &b.churn_intervals,
        value_intervals: &b.value_intervals,
        selected_vs_baselines: &b.selected_vs_baselines,
        cutoffs: b.cutoffs.iter().map(|c| c.cutoff).collect(),
        across_cutoffs: (b.cutoffs.len() > 1).then_some(AcrossCutoffs {
            churn: &b.churn_summary,
            selected: b.selected_churn_summary.as_ref(),
            value: &b.value_summary,
        }),
    }
}

/// A saved model in the JSON documents.
#[derive(Debug, Serialize)]
pub struct ModelView<'a> {
    /// The model's kind (`logistic_regression`, `bgnbd_gg_clv`, ...).
    pub kind: &'a str,
    /// The evaluation's name of the model, with a tuned candidate's strength and feature
    /// families (`rank_ensemble(C=0.003,leaves=4,min_leaf=50,trees=100)+all`); the kind for
    /// a model saved before there were tuned candidates.
    pub candidate: &'a str,
    /// The feature families it reads beyond the 29.
    pub families: Vec<&'a str>,
    /// The folder it is saved in.
    pub path: &'a Path,
    /// Cutoff of the features it learnt from.
    pub training_cutoff: chrono::NaiveDate,
    /// The horizon it predicts, in days.
    pub horizon_days: u32,
    /// Clients in its training data.
    pub training_clients: u64,
    /// Number of input features.
    pub features: usize,
    /// The card's metrics (out-of-time ROC AUC, log-likelihood, ...).
    pub metrics: &'a BTreeMap<String, f64>,
}

/// The evaluation's name of a saved model (its card's `candidate`), else its kind.
pub fn card_candidate(card: &ModelCard) -> &str {
    card.hyperparameters
        .get("candidate")
        .and_then(|v| v.as_str())
        .unwrap_or(&card.kind)
}

impl<'a> ModelView<'a> {
    fn of(card: &'a ModelCard, path: &'a Path) -> Self {
        Self {
            kind: &card.kind,
            candidate: card_candidate(card),
            families: card
                .families
                .as_ref()
                .map(|f| f.names.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            path,
            training_cutoff: card.training_cutoff,
            horizon_days: card.horizon_days,
            training_clients: card.data_source.clients,
            features: card.features.len(),
            metrics: &card.metrics,
        }
    }
}

/// A training run in the JSON documents: both models, the customer-base model under the value
/// model, and the selection with every candidate's validation score.
#[derive(Debug, Serialize)]
pub struct TrainView<'a> {
    /// The windows of the training run.
    pub protocol: Protocol,
    /// The churn model.
    pub churn_model: ModelView<'a>,
    /// The value model.
    pub value_model: ModelView<'a>,
    /// The customer-base model saved with the value model (`bgnbd`, `pareto_nbd`, ...).
    pub customer_base_model: String,
    /// Clients the customer-base model was fitted on.
    pub customer_base_clients: u64,
    /// The selection, when a choice was `auto` and the data allowed one.
    pub selection: Option<&'a Selection>,
}

/// The JSON view of a training run saved in `churn_dir` and `value_dir`.
pub fn train_view<'a>(
    t: &'a Trained,
    protocol: Protocol,
    churn_dir: &'a Path,
    value_dir: &'a Path,
) -> TrainView<'a> {
    let cb = &t.value.model.customer_base.model;
    TrainView {
        protocol,
        churn_model: ModelView::of(&t.churn.card, churn_dir),
        value_model: ModelView::of(&t.value.card, value_dir),
        customer_base_model: cb.kind().to_string(),
        customer_base_clients: cb.purchases.n_clients().round() as u64,
        selection: t.selection.as_ref(),
    }
}

/// The candidates' validation scores of a selection, best first, the winners marked with `*`:
/// one table for the churn models (by the selection metric), one for the value models (by
/// Spearman).
pub fn selection_lines(s: &Selection) -> Vec<String> {
    /// Rows shown per table; the rest are in the card's (or the evaluation's) selection.
    const SHOWN: usize = 10;
    fn ranked(m: &BTreeMap<String, f64>, higher: bool) -> Vec<(&String, f64)> {
        let mut v: Vec<(&String, f64)> = m.iter().map(|(k, v)| (k, *v)).collect();
        v.sort_by(|a, b| {
            let o = a.1.total_cmp(&b.1);
            if higher { o.reverse() } else { o }
        });
        v
    }
    fn table(
        out: &mut Vec<String>,
        head: [&str; 2],
        m: &BTreeMap<String, f64>,
        higher: bool,
        chosen: &str,
    ) {
        let all = ranked(m, higher);
        let mut t = named_table(&head);
        for (i, (name, v)) in all.iter().enumerate() {
            if i < SHOWN || name.as_str() == chosen {
                t.row(vec![marked(name, Some(chosen)), f3(*v)]);
            }
        }
        push_table(out, &t);
        if all.len() > SHOWN {
            out.push(format!(
                "({} more candidates; every one in the selection record)",
                all.len() - SHOWN
            ));
        }
    }
    let mut out = Vec::new();
    let metric = format!("mean {}", s.metric.name());
    table(
        &mut out,
        ["churn model", &metric],
        &s.churn_validation,
        s.metric.higher_is_better(),
        &s.churn_model,
    );
    out.push(String::new());
    table(
        &mut out,
        ["value model", "mean Spearman"],
        &s.value_validation,
        true,
        &s.value_model,
    );
    out
}

/// Prints the features and score whose distribution moved past the threshold (a warning on
/// stderr), or the largest shift; with `--verbose`, the five largest shifts as a table.
pub fn report_drift(ui: &Ui, scores: &Scores) {
    let s = &scores.summary;
    let drifted = s.drifted();
    if drifted.is_empty() {
        let top = s.drift.first();
        ui.say(format!(
            "drift: none above PSI {}{}",
            s.drift_threshold,
            top.map(|d| format!(" (largest: {} {:.3})", d.feature, d.psi))
                .unwrap_or_default()
        ));
    } else {
        ui.warn(format!(
            "{} distribution(s) drifted from the training data (PSI > {}): {}",
            drifted.len(),
            s.drift_threshold,
            drifted
                .iter()
                .map(|d| format!("{} {:.3}", d.feature, d.psi))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if ui.verbose() && !s.drift.is_empty() {
        let mut t = named_table(&["feature", "PSI", "drifted"]);
        for d in s.drift.iter().take(5) {
            t.row(vec![
                d.feature.clone(),
                f3(d.psi),
                if d.drifted { "yes" } else { "no" }.into(),
            ]);
        }
        ui.table(&t, 2);
    }
}

/// The columns of the head of the list shown on the terminal, with their headers.
const HEAD_COLUMNS: [(&str, &str); 8] = [
    ("risk_rank", "rank"),
    ("client_id", "client"),
    ("churn_probability", "churn probability"),
    ("churn_band", "band"),
    ("clv", "CLV"),
    ("value_at_risk", "value at risk"),
    ("key_client", "key"),
    ("reason_1_text", "top reason"),
];

/// The first `n` rows of the list as a table with headers: ranks and money right-aligned,
/// money with 2 decimals.
pub fn head_table(t: &DataFrame, n: usize) -> Table {
    let cols: Vec<(&str, &str)> = HEAD_COLUMNS
        .into_iter()
        .filter(|(c, _)| t.column(c).is_ok())
        .collect();
    let headers: Vec<&str> = cols.iter().map(|c| c.1).collect();
    let mut table = Table::new(&headers);
    for (j, (c, _)) in cols.iter().enumerate() {
        let a = match *c {
            "churn_band" | "key_client" | "reason_1_text" => Align::Left,
            _ => Align::Right,
        };
        table = table.align(j, a);
    }
    for i in 0..t.height().min(n) {
        table.row(
            cols.iter()
                .map(|(c, _)| {
                    let v = t.column(c).ok().and_then(|s| s.get(i).ok());
                    match (*c, v) {
                        (_, None | Some(AnyValue::Null)) => "-".into(),
                        ("clv" | "value_at_risk", Some(v)) => {
                            v.extract::<f64>().map(money).unwrap_or_default()
                        }
                        ("churn_probability", Some(v)) => fixed(v.extract::<f64>(), 3),
                        ("risk_rank", Some(v)) => {
                            v.extract::<i64>().map(thousands).unwrap_or_default()
                        }
                        ("key_client", Some(AnyValue::Boolean(b))) => {
                            if b { "yes" } else { "" }.into()
                        }
                        (_, Some(v)) => cell_text(&v),
                    }
                })
                .collect(),
        );
    }
    table
}

fn cell_text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        v => v.to_string().trim_matches('"').to_string(),
    }
}

/// A cell of the list as JSON: numbers, booleans and text as themselves, dates as
/// `YYYY-MM-DD`, missing as null.
fn cell_json(v: AnyValue) -> Value {
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::Float32(_) | AnyValue::Float64(_) => v
            .extract::<f64>()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        AnyValue::Int8(_)
        | AnyValue::Int16(_)
        | AnyValue::Int32(_)
        | AnyValue::Int64(_)
        | AnyValue::UInt8(_)
        | AnyValue::UInt16(_)
        | AnyValue::UInt32(_)
        | AnyValue::UInt64(_) => v.extract::<i64>().map_or(Value::Null, Value::from),
        v => Value::String(cell_text(&v)),
    }
}

/// A row of the list as a JSON object, its columns in the list's order.
#[derive(Debug)]
pub struct Row(Vec<(String, Value)>);

impl Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The first `n` rows of a frame as JSON objects, every column by name.
pub fn head_json(t: &DataFrame, n: usize) -> Vec<Row> {
    (0..t.height().min(n))
        .map(|i| {
            Row(t
                .columns()
                .iter()
                .map(|c| {
                    let v = c.get(i).map_or(Value::Null, cell_json);
                    (c.name().to_string(), v)
                })
                .collect())
        })
        .collect()
}

/// A scoring run in the JSON documents: the run summary (as in `summary.json`) and the head
/// of the list.
#[derive(Debug, Serialize)]
pub struct ScoresView<'a> {
    /// The run summary: date, clients, models, drift, bands, totals.
    pub summary: &'a RunSummary,
    /// The first rows of the list, every column.
    pub head: Vec<Row>,
}

/// The JSON view of a scoring run, with the first `n` rows of the list.
pub fn scores_view(scores: &Scores, n: usize) -> ScoresView<'_> {
    ScoresView {
        summary: &scores.summary,
        head: head_json(&scores.table, n),
    }
}

/// Prints the run's counts and the head of the list as a table with headers.
pub fn summarize(ui: &Ui, scores: &Scores, date: Cutoff, n: usize) {
    let s = &scores.summary;
    ui.say(format!(
        "{} clients scored as of {date}: {} high, {} medium, {} low risk{}",
        count(scores.table.height()),
        count(s.bands[2]),
        count(s.bands[1]),
        count(s.bands[0]),
        s.total_value_at_risk
            .map(|v| format!("; value at risk {}", money(v)))
            .unwrap_or_default()
    ));
    let shown = scores.table.height().min(n);
    ui.say(format!("the {shown} most at risk:"));
    ui.table(&head_table(&scores.table, n), 2);
}

/// The plan on the terminal: what it contacts on each channel, what it expects, what one more
/// contact would be worth, and the same capacity filled by ranking instead.
pub fn plan_lines(ui: &Ui, scores: &Scores) {
    let Some(p) = &scores.summary.plan else {
        return;
    };
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    ui.say(format!(
        "plan from {} for {} days: {} contacts to {} eligible clients ({} held out); expected \
         profit {} (value saved {}, incentives {}, contact costs {})",
        p.get("start").and_then(Value::as_str).unwrap_or("-"),
        num(p, "days"),
        thousands(num(p, "planned") as i64),
        thousands(num(p, "eligible") as i64),
        thousands(num(p, "holdout") as i64),
        money(num(p, "expected_profit")),
        money(num(p, "expected_saved_value")),
        money(num(p, "expected_incentives")),
        money(num(p, "contact_costs")),
    ));
    let mut t = Table::new(&[
        "channel",
        "per day",
        "planned",
        "response",
        "one more contact",
    ]);
    if let Some(chs) = p.get("channels").and_then(Value::as_object) {
        for (name, c) in chs {
            t.row(vec![
                name.clone(),
                thousands(num(c, "capacity_per_day") as i64),
                thousands(num(c, "planned") as i64),
                percent(Some(num(c, "population_response"))),
                money(num(c, "marginal_value")),
            ]);
        }
    }
    ui.table(&t, 2);
    let base = |k: &str| -> (f64, f64) {
        p.get(k).map_or((f64::NAN, f64::NAN), |b| {
            (num(b, "contacts"), num(b, "expected_profit"))
        })
    };
    let (cc, cp) = base("by_churn_probability");
    let (vc, vp) = base("by_value_at_risk");
    ui.say(format!(
        "the same capacity by churn probability: {} contacts, expected profit {}; by value at \
         risk: {} contacts, {}",
        thousands(cc as i64),
        money(cp),
        thousands(vc as i64),
        money(vp)
    ));
}
