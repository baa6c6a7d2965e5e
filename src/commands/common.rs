//! What every subcommand shares: reading the input, progress on the terminal, number formats.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use retain_models::save_checked;
use retain_sim::{SimConfig, generate_csv};

use super::report::{backtest_lines, evaluation_lines_marked};
use crate::args::GenerateArgs;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use retain_core::DataSource;
use retain_data::{DataError, Layout, Transactions, read_transactions};
use serde::Deserialize;

use crate::args::{CalibrationArg, InputArgs, ModelSettings, SelectMetricArg, WindowArgs};
use retain_core::Cutoff;
use retain_features::History;
use retain_models::CalibrationMethod;
use retain_score::{ScoreOptions, Scorer, Scores};
use retain_train::{BacktestParams, Protocol, SelectMetric};

/// The terminal: progress spinners on stderr (only when it is a terminal and not --quiet),
/// results on stdout (unless --quiet).
pub struct Ui {
    quiet: bool,
    tty: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Self {
        Self {
            quiet,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Runs `f` under a spinner labelled `msg`.
    pub fn step<T>(&self, msg: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let bar = if self.quiet || !self.tty {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid"));
            b.set_message(msg.to_string());
            b.enable_steady_tick(Duration::from_millis(100));
            b
        };
        let out = f();
        bar.finish_and_clear();
        if out.is_ok() && self.tty && !self.quiet {
            eprintln!("  {msg} ({:.2} s)", start.elapsed().as_secs_f64());
        }
        out
    }

    /// Prints a result line on stdout.
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.quiet {
            println!("{}", line.as_ref());
        }
    }
}

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

/// Reads and validates the transactions.
pub fn load(ui: &Ui, input: &Path, layout: &Layout) -> Result<Transactions> {
    let tx = ui.step(&format!("reading {}", input.display()), || {
        Ok(read_transactions(input, layout)?)
    })?;
    let s = tx.stats();
    ui.say(format!(
        "read {} lines from {} file(s): {} kept ({} returns), {} without a client, {} free lines \
         dropped; {} clients, {} .. {}",
        s.lines_read,
        s.files,
        s.lines,
        s.return_lines,
        s.lines_without_client,
        s.free_lines_dropped,
        s.clients,
        fmt_date(s.first_day),
        fmt_date(s.last_day),
    ));
    Ok(tx)
}

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
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

/// Formats an optional metric.
pub fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into())
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
    ui.step(&format!("scoring the clients at {date}"), || {
        Ok(scorer.score(&history, date, options)?)
    })
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

/// Prints the last cutoff's table with the selected models marked, then the backtest.
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

/// Simulates the client base of `args` and writes it with its truth (the `generate` command
/// and the demo's missing sample).
pub fn generate_sample(args: &GenerateArgs, ui: &Ui) -> Result<()> {
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
        .step(&format!("simulating {} clients", config.n_clients), || {
            let mut rows = 0;
            retain_core::write_atomic(&data, |w| {
                // mtime 0 and no file name in the gzip header: the same seed gives the same bytes
                let mut gz = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(w, Compression::new(6));
                rows = generate_csv(&config, &mut gz).map_err(std::io::Error::other)?;
                gz.finish()?.flush()
            })?;
            retain_core::write_atomic(&truth, |w| {
                serde_json::to_writer_pretty(&mut *w, &config).map_err(std::io::Error::other)?;
                w.write_all(b"\n")
            })?;
            Ok(rows)
        })
        .with_context(|| format!("writing {}", data.display()))?;
    ui.say(format!(
        "wrote {} lines for {} clients ({} .. {}) to {}; true parameters in {}",
        rows,
        config.n_clients,
        config.start_date,
        config.end_date(),
        data.display(),
        truth.display()
    ));
    Ok(())
}
