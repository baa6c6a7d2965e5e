//! What every subcommand shares: reading the input, the windows, scoring, saving the models,
//! the sample data.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use retain_models::save_checked;
use retain_sim::{SimConfig, generate_csv};

use super::report::{backtest_lines, evaluation_lines_marked};
use crate::args::GenerateArgs;
use chrono::NaiveDate;
use retain_core::DataSource;
use retain_data::{DataError, Layout, LoadStats, Transactions, read_transactions};
use serde::{Deserialize, Serialize};

pub use crate::output::Ui;
use crate::output::{per_second, rate};
use crate::table::{duration, thousands};

use crate::args::{CalibrationArg, InputArgs, ModelSettings, SelectMetricArg, WindowArgs};
use retain_core::Cutoff;
use retain_features::History;
use retain_models::CalibrationMethod;
use retain_score::{ScoreOptions, Scorer, Scores};
use retain_train::{BacktestParams, Protocol, SelectMetric};

/// `retain.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    /// Input path, relative to the config file.
    input: Option<PathBuf>,
    /// A layout preset.
    preset: Option<String>,
    /// A full layout.
    layout: Option<Layout>,
}

/// The input and layout from flags, then retain.toml, then `default_input`.
pub fn resolve_input(args: &InputArgs, default_input: Option<&Path>) -> Result<(PathBuf, Layout)> {
    let config_path = match &args.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("retain.toml")).filter(|p| p.exists()),
    };
    let config = match &config_path {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the config file {}", p.display()))?;
            toml::from_str::<ConfigFile>(&text)
                .map_err(|e| DataError::Config(format!("{}: {e}", p.display())))?
        }
        None => ConfigFile::default(),
    };
    let base = config_path
        .as_ref()
        .and_then(|p| p.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let input = match (&args.input, &config.input, default_input) {
        (Some(i), _, _) => i.clone(),
        (None, Some(i), _) => base.join(i),
        (None, None, Some(d)) => d.to_path_buf(),
        _ => bail!(
            "no input: pass --input PATH (a CSV, CSV.gz, Parquet file, glob or folder), or set \
             `input` in retain.toml"
        ),
    };
    let layout = match (&args.layout, config.layout, &config.preset) {
        (Some(p), _, _) => Layout::preset(p)?,
        (None, Some(l), _) => l,
        (None, None, Some(p)) => Layout::preset(p)?,
        (None, None, None) => Layout::online_retail_ii(),
    };
    Ok((input, layout))
}

/// Reads and validates the transactions; prints what was read and kept.
pub fn load(ui: &Ui, input: &Path, layout: &Layout) -> Result<Transactions> {
    let tx = ui.step_counted(
        &format!("reading {}", input.display()),
        || Ok(read_transactions(input, layout)?),
        |tx: &Transactions, d| {
            let n = tx.stats().lines_read;
            format!(
                "read {} lines in {} ({} lines/s)",
                thousands(n as i64),
                duration(d),
                rate(n, d)
            )
        },
    )?;
    let s = tx.stats();
    let n = |v: u64| thousands(v as i64);
    ui.say(format!(
        "read {} lines from {} file(s): {} kept ({} returns), {} without a client, {} free lines \
         dropped; {} clients, {} .. {}",
        n(s.lines_read),
        s.files,
        n(s.lines),
        n(s.return_lines),
        n(s.lines_without_client),
        n(s.free_lines_dropped),
        n(s.clients),
        fmt_date(s.first_day),
        fmt_date(s.last_day),
    ));
    Ok(tx)
}

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

/// What reading the input did, in the JSON documents of `--format json`.
#[derive(Debug, Serialize)]
pub struct ReadSummary<'a> {
    /// The input as given (a file, glob or folder).
    pub input: String,
    /// The column layout's name.
    pub layout: &'a str,
    /// The counts: files, lines read, kept, returns, dropped, clients, first and last day.
    #[serde(flatten)]
    pub stats: &'a LoadStats,
}

/// What reading `tx` did.
pub fn read_summary(tx: &Transactions) -> ReadSummary<'_> {
    ReadSummary {
        input: tx.source().to_string(),
        layout: &tx.layout().name,
        stats: tx.stats(),
    }
}

/// The last day of the data.
pub fn last_day(tx: &Transactions) -> Result<Cutoff> {
    tx.stats()
        .last_day
        .map(Cutoff::new)
        .context("the input has no transaction lines with a client id")
}

/// The data source recorded in model cards, with the lines' fingerprint.
pub fn source(tx: &Transactions) -> DataSource {
    DataSource {
        path: tx.source().to_string(),
        layout: tx.layout().name.clone(),
        rows: tx.stats().lines,
        clients: tx.stats().clients,
        first_day: tx.stats().first_day,
        last_day: tx.stats().last_day,
        lines_sha256: tx.lines_sha256(),
    }
}

/// The windows from the flags; the cutoff defaults to `default_cutoff`.
pub fn protocol(window: &WindowArgs, default_cutoff: Cutoff) -> Protocol {
    Protocol {
        cutoff: window.cutoff.unwrap_or(default_cutoff),
        horizon: window.horizon,
        train_horizon: window.train_horizon.unwrap_or(window.horizon),
    }
}

/// The backtest's settings from the shared model flags.
pub fn backtest_params(protocol: Protocol, s: &ModelSettings) -> BacktestParams {
    let mut p = BacktestParams::new(protocol);
    p.train_windows = s.train_windows as usize;
    if let Some(sp) = s.train_spacing {
        p.train_spacing = sp.days();
    }
    p.hybrid = s.hybrid;
    p.calibration = match s.calibration {
        CalibrationArg::None => None,
        CalibrationArg::Platt => Some(CalibrationMethod::Platt),
        CalibrationArg::Isotonic => Some(CalibrationMethod::Isotonic),
    };
    p.select_metric = match s.select_metric {
        SelectMetricArg::RocAuc => SelectMetric::RocAuc,
        SelectMetricArg::PrAuc => SelectMetric::PrAuc,
        SelectMetricArg::Lift => SelectMetric::Lift,
        SelectMetricArg::Brier => SelectMetric::Brier,
        SelectMetricArg::LogLoss => SelectMetric::LogLoss,
        SelectMetricArg::Empc => SelectMetric::Empc,
        SelectMetricArg::EmpcIndividual => SelectMetric::EmpcIndividual,
    };
    p
}

/// Scores every client at `date` with the loaded models.
pub fn score_all(
    ui: &Ui,
    scorer: &Scorer,
    tx: &retain_data::Transactions,
    date: Cutoff,
    options: &ScoreOptions,
) -> Result<Scores> {
    let c = scorer.churn_card();
    ui.say(format!(
        "churn model {} (trained by retain {} at {}){}",
        c.kind,
        c.retain_version,
        c.training_cutoff,
        scorer
            .value_card()
            .map(|v| format!("; value model {} over {} days", v.kind, v.horizon_days))
            .unwrap_or_default()
    ));
    let history = ui.step("condensing the history", || Ok(History::of(tx)?))?;
    ui.step_counted(
        &format!("scoring the clients at {date}"),
        || Ok(scorer.score(&history, date, options)?),
        |s: &Scores, d| {
            let n = s.summary.clients as u64;
            format!(
                "scored {} clients at {date} in {} ({})",
                thousands(n as i64),
                duration(d),
                per_second(n, d)
            )
        },
    )
}

/// The JSON written by `retain evaluate`: the last cutoff's evaluation in the protocol shape
/// (as before), plus the whole backtest under `backtest`.
#[derive(serde::Serialize)]
struct EvaluationOutput<'a> {
    #[serde(flatten)]
    evaluation: retain_train::Evaluation,
    backtest: &'a retain_train::Backtest,
}

/// Writes the evaluation JSON atomically: the last cutoff in the protocol shape, and the
/// whole backtest under `backtest`.
pub fn write_backtest(b: &retain_train::Backtest, path: &Path) -> Result<()> {
    let e = b.last_evaluation();
    retain_core::write_atomic(path, |w| {
        serde_json::to_writer_pretty(
            &mut *w,
            &EvaluationOutput {
                evaluation: e,
                backtest: b,
            },
        )
        .map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })?;
    Ok(())
}

/// Prints the last cutoff's tables with the selected models marked, then the backtest's.
pub fn print_backtest(ui: &Ui, b: &retain_train::Backtest) {
    let e = b.last_evaluation();
    let sel = b.cutoffs.last().and_then(|c| c.selection.as_ref());
    for line in evaluation_lines_marked(
        &e,
        sel.map(|s| s.churn_model.as_str()),
        sel.map(|s| s.value_model.as_str()),
    ) {
        ui.say(line);
    }
    for line in backtest_lines(b) {
        ui.say(line);
    }
}

/// Saves both artifacts into fresh sibling folders, then swaps them in.
pub fn save_pair(
    trained: &retain_train::Trained,
    churn_dir: &std::path::Path,
    value_dir: &std::path::Path,
) -> Result<()> {
    let staging = |d: &std::path::Path| {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        d.with_file_name(format!(".{name}.{}.new", std::process::id()))
    };
    let (tc, tv) = (staging(churn_dir), staging(value_dir));
    let result = (|| -> Result<()> {
        save_checked(&tc, &trained.churn)?;
        save_checked(&tv, &trained.value)?;
        for (t, d) in [(&tc, churn_dir), (&tv, value_dir)] {
            if d.exists() {
                std::fs::remove_dir_all(d)?;
            }
            std::fs::rename(t, d)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tc);
        let _ = std::fs::remove_dir_all(&tv);
    }
    result
}

/// What `retain generate` (or the demo, for its missing sample) wrote.
#[derive(Debug, Serialize)]
pub struct Generated {
    /// Clients simulated.
    pub clients: usize,
    /// The seed.
    pub seed: u64,
    /// Transaction lines written.
    pub lines: u64,
    /// First day of the history.
    pub first_day: NaiveDate,
    /// Last day of the history.
    pub last_day: NaiveDate,
    /// The files written: `transactions` and `truth`.
    pub outputs: std::collections::BTreeMap<&'static str, PathBuf>,
}

/// Simulates the client base of `args` and writes it with its truth (the `generate` command
/// and the demo's missing sample).
pub fn generate_sample(args: &GenerateArgs, ui: &Ui) -> Result<Generated> {
    let mut config = SimConfig::with_clients(args.clients, args.seed);
    if let Some(start) = args.start {
        config.start_date = start;
    }
    if let Some(days) = args.days {
        config.span_days = days;
    }
    config.check()?;
    let data = args.out.join("transactions.csv.gz");
    let truth = args.out.join("truth.json");
    let rows = ui
        .step_counted(
            &format!("simulating {} clients", thousands(config.n_clients as i64)),
            || {
                let mut rows = 0;
                retain_core::write_atomic(&data, |w| {
                    // mtime 0 and no file name in the gzip header: the same seed gives the same
                    // bytes
                    let mut gz = flate2::GzBuilder::new()
                        .mtime(0)
                        .write(w, Compression::new(6));
                    rows = generate_csv(&config, &mut gz).map_err(std::io::Error::other)?;
                    gz.finish()?.flush()
                })?;
                retain_core::write_atomic(&truth, |w| {
                    serde_json::to_writer_pretty(&mut *w, &config)
                        .map_err(std::io::Error::other)?;
                    w.write_all(b"\n")
                })?;
                Ok(rows)
            },
            |rows, d| {
                format!(
                    "simulated {} clients, {} lines in {}",
                    thousands(config.n_clients as i64),
                    thousands(*rows as i64),
                    duration(d)
                )
            },
        )
        .with_context(|| format!("writing {}", data.display()))?;
    ui.say(format!(
        "wrote {} lines for {} clients ({} .. {}) to {}; true parameters in {}",
        thousands(rows as i64),
        thousands(config.n_clients as i64),
        config.start_date,
        config.end_date(),
        data.display(),
        truth.display()
    ));
    Ok(Generated {
        clients: config.n_clients,
        seed: args.seed,
        lines: rows,
        first_day: config.start_date,
        last_day: config.end_date(),
        outputs: [("transactions", data), ("truth", truth)].into(),
    })
}
