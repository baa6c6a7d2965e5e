//! What every subcommand shares: reading the input, progress on the terminal, number formats.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use retain_core::DataSource;
use retain_data::{DataError, Layout, Transactions, read_transactions};
use serde::Deserialize;

use crate::args::InputArgs;

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
pub fn last_day(tx: &Transactions) -> Result<NaiveDate> {
    tx.stats()
        .last_day
        .context("the input has no transaction lines with a client id")
}

/// The data source recorded in model cards.
pub fn source(tx: &Transactions) -> DataSource {
    DataSource {
        path: tx.source().to_string(),
        layout: tx.layout().name.clone(),
        rows: tx.stats().lines,
        clients: tx.stats().clients,
    }
}

/// A day `days` before `date`.
pub fn days_before(date: NaiveDate, days: u32) -> NaiveDate {
    date - chrono::Days::new(days as u64)
}

/// Formats an optional metric.
pub fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into())
}
