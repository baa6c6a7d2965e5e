//! What every subcommand shares: reading the input, the windows, scoring, saving the models,
//! the sample data.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use retain_sim::{SimConfig, generate_csv, generate_with_contacts};

use super::report::{backtest_lines, evaluation_lines_marked};
use crate::args::GenerateArgs;
use chrono::NaiveDate;
use retain_data::{
    ClientAttributes, ClientsLayout, Contacts, ContactsLayout, DataError, Layout, LoadStats,
    Transactions, read_clients, read_transactions_until,
};
use retain_plan::config::PlanConfig;
use retain_plan::run::{RunInputs, load_uplift, plan_scores};
use serde::{Deserialize, Serialize};

pub use crate::output::Ui;
use crate::output::{per_second, rate};
use crate::table::{duration, thousands};

use crate::args::{
    CalibrationArg, ContactArgs, InputArgs, ModelSettings, SelectMetricArg, WindowArgs,
};
use retain_core::Cutoff;
use retain_features::History;
use retain_models::CalibrationMethod;
use retain_score::{ScoreOptions, Scorer, Scores};
use retain_train::{BacktestParams, Protocol, SelectMetric};

/// `retain.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Input path, relative to the config file.
    input: Option<PathBuf>,
    /// A layout preset.
    preset: Option<String>,
    /// A full layout.
    layout: Option<Layout>,
    /// The contacts log: `input` and its `[contacts.layout]`.
    #[serde(default)]
    contacts: InputTable<ContactsLayout>,
    /// The client attributes: `input` and its `[clients.layout]`.
    #[serde(default)]
    clients: InputTable<ClientsLayout>,
    /// The planning settings.
    #[serde(default)]
    plan: Option<PlanConfig>,
    /// The model settings.
    #[serde(default)]
    model: Option<ModelConfig>,
}

/// The `[model]` table of retain.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Feature families the tuned models may read (`--families`).
    families: Option<retain_train::tuning::FeatureSet>,
    /// Validation targets of the selection (`--validation-targets`).
    validation_targets: Option<u16>,
    /// Clients beyond which the selection reads a sample (`--selection-clients`).
    selection_clients: Option<u64>,
}

/// An optional input of retain.toml: its path (relative to the file) and its layout.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputTable<L> {
    input: Option<PathBuf>,
    layout: Option<L>,
}

/// retain.toml (`--config`, else ./retain.toml when it exists) and the folder its relative
/// paths start from.
pub fn config_file(args: &InputArgs) -> Result<(ConfigFile, PathBuf)> {
    let config_path = match &args.config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("retain.toml")).filter(|p| p.exists()),
    };
    let config = match &config_path {
        Some(p) => {
            let text = std::fs::read(p).map_err(|source| DataError::Io {
                action: "reading the config file",
                path: p.clone(),
                source,
            })?;
            let text = String::from_utf8(text).map_err(|e| {
                DataError::Config(format!(
                    "{}: not UTF-8 text (byte {} is of another encoding): save it as UTF-8",
                    p.display(),
                    e.utf8_error().valid_up_to()
                ))
            })?;
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
    Ok((config, base))
}

/// The input and layout from flags, then retain.toml, then `default_input`.
pub fn resolve_input(args: &InputArgs, default_input: Option<&Path>) -> Result<(PathBuf, Layout)> {
    let (config, base) = config_file(args)?;
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

/// The contacts log and client attributes named by the flags, else by retain.toml, else
/// (`defaults`) the given paths when they exist; each read and validated. Contacts dated
/// after the run's as-of date (`--as-of`, default tomorrow, UTC) are refused, as lines of the
/// transactions are.
pub fn load_contacts(
    ui: &Ui,
    input: &InputArgs,
    flags: &ContactArgs,
    defaults: (Option<&Path>, Option<&Path>),
) -> Result<(Option<Contacts>, Option<ClientAttributes>)> {
    let (config, base) = config_file(input)?;
    let pick = |flag: &Option<PathBuf>, table: &Option<PathBuf>, default: Option<&Path>| {
        flag.clone()
            .or_else(|| table.as_ref().map(|t| base.join(t)))
            .or_else(|| default.filter(|d| d.exists()).map(Path::to_path_buf))
    };
    let contacts = match pick(&flags.contacts, &config.contacts.input, defaults.0) {
        Some(path) => {
            let layout = config.contacts.layout.unwrap_or_default();
            let latest = input.as_of.unwrap_or_else(retain_data::tomorrow_utc);
            let c = ui.step(
                &format!("reading the contacts log {}", path.display()),
                || Ok(Contacts::read_until(&path, &layout, Some(latest))?),
            )?;
            let s = c.stats();
            ui.say(format!(
                "read {} contacts of {} clients ({} control rows) on {} channel(s): {}",
                thousands(s.rows as i64),
                thousands(s.clients as i64),
                thousands(s.control_rows as i64),
                c.channels().len(),
                c.channels().join(", ")
            ));
            Some(c)
        }
        None => None,
    };
    let clients = match pick(&flags.clients, &config.clients.input, defaults.1) {
        Some(path) => {
            let layout = config.clients.layout.unwrap_or_default();
            Some(read_client_attributes(ui, &path, &layout)?)
        }
        None => None,
    };
    Ok((contacts, clients))
}

/// What a planning run is asked for.
pub struct PlanRequest<'a> {
    /// The input flags (retain.toml).
    pub input: &'a InputArgs,
    /// `--contacts`, `--clients`.
    pub contact: &'a ContactArgs,
    /// The contacts log and client attributes to use when neither flags nor retain.toml name
    /// them (the demo's sample), if they exist.
    pub contact_defaults: (Option<&'a Path>, Option<&'a Path>),
    /// The uplift models' folder, if any.
    pub uplift_dir: Option<PathBuf>,
    /// `--plan-days`.
    pub days: Option<u32>,
    /// `--holdout-share`.
    pub holdout_share: Option<f64>,
    /// `--key-by`.
    pub key_by: Option<retain_plan::config::KeyBy>,
    /// `--plan-start`.
    pub start: Option<NaiveDate>,
    /// The contacts log and client attributes, when the caller has read them already.
    pub loaded: Option<(Option<&'a Contacts>, Option<&'a ClientAttributes>)>,
}

/// Plans the scored clients (`retain score --plan`, `retain plan`, the demo) and adds the plan
/// to the list and the run summary.
pub fn plan_scored(
    ui: &Ui,
    req: &PlanRequest<'_>,
    scorer: &Scorer,
    tx: &Transactions,
    scores: &mut Scores,
) -> Result<()> {
    let mut config = plan_config(req.input)?;
    if let Some(d) = req.days {
        config.days = d;
    }
    if let Some(h) = req.holdout_share {
        config.holdout_share = h;
    }
    if let Some(k) = req.key_by {
        config.key_by = k;
    }
    config.check().map_err(DataError::Config)?;
    let read;
    let (contacts, clients) = match req.loaded {
        Some(l) => l,
        None => {
            read = load_contacts(ui, req.input, req.contact, req.contact_defaults)?;
            (read.0.as_ref(), read.1.as_ref())
        }
    };
    check_known_clients(tx, contacts, clients)?;
    let uplift = match &req.uplift_dir {
        Some(d) => Some(load_uplift(d, scorer.churn_card())?),
        None => None,
    };
    let plan = ui.step("planning the contacts", || {
        Ok(plan_scores(
            &config,
            scores,
            RunInputs {
                transactions: tx,
                contacts,
                clients,
                uplift: uplift.as_ref(),
                start: req.start,
            },
        )?)
    })?;
    let used = match (&uplift, &req.uplift_dir) {
        (Some(u), Some(d)) => Some(retain_score::ModelUsed::of(d, &u.card)),
        _ => None,
    };
    plan.attach(scores, used.as_ref())?;
    Ok(())
}

/// The `[plan]` table of retain.toml, else the defaults.
pub fn plan_config(input: &InputArgs) -> Result<PlanConfig> {
    let (config, _) = config_file(input)?;
    Ok(config.plan.unwrap_or_default())
}

/// An absolute, normalised form of `p`, which need not exist: its longest existing ancestor
/// resolved (links followed), then the rest appended.
fn absolute(p: &Path) -> PathBuf {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    // `sub/../base.csv` is `base.csv` once the writer has created `sub`: `..` is taken
    // lexically (before links are resolved below, for the part that exists)
    let mut p = {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                c => out.push(c),
            }
        }
        out
    };
    let p = std::mem::take(&mut p);
    let mut rest = Vec::new();
    let mut head = p.as_path();
    loop {
        if let Ok(c) = head.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                head = parent;
            }
            _ => return p,
        }
    }
}

/// Refuses, before any work, an output that would overwrite an input: an output path equal
/// to an input file (or to a file a glob or folder input holds), or inside an input folder.
pub fn check_outputs(inputs: &[&Path], outputs: &[&Path]) -> Result<()> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    for input in inputs {
        if input.is_dir() {
            folders.push(absolute(input));
        } else if input.is_file() {
            files.push(absolute(input));
        } else if let Ok(found) = retain_data::resolve(input) {
            files.extend(found.iter().map(|f| absolute(&f.path)));
        }
    }
    // a glob input also matches the files a later run would find: `data/*.csv` and the
    // output `data/features.csv`
    let globs: Vec<glob::Pattern> = inputs
        .iter()
        .filter(|i| !i.exists())
        .filter_map(|i| glob::Pattern::new(&absolute(i).to_string_lossy()).ok())
        .collect();
    for out in outputs {
        let o = absolute(out);
        if let Some(g) = globs.iter().find(|g| g.matches_path(&o)) {
            bail!(DataError::Config(format!(
                "the output {} matches the input {}, so the next run would read it as input: \
                 choose another output path",
                out.display(),
                g.as_str()
            )));
        }
        if let Some(input) = files.iter().find(|f| **f == o || f.starts_with(&o)) {
            bail!(DataError::Config(format!(
                "the output {} would overwrite the input {}: choose another output path",
                out.display(),
                input.display()
            )));
        }
        if let Some(folder) = folders
            .iter()
            .find(|d| o.starts_with(d) || d.starts_with(&o))
        {
            bail!(DataError::Config(format!(
                "the output {} is inside the input folder {}, where the next run would read \
                 it as input: choose another output path",
                out.display(),
                folder.display()
            )));
        }
    }
    Ok(())
}

/// Refuses, before any work, file outputs that cannot be written: a path that is a folder,
/// or under a file. A run would otherwise fail after replacing the outputs written before it.
pub fn check_files_writable(outputs: &[&Path]) -> Result<()> {
    for out in outputs {
        if out.is_dir() {
            bail!(DataError::Config(format!(
                "the output {} is a folder: remove it or choose another output path",
                out.display()
            )));
        }
        check_under_no_file(out)?;
    }
    Ok(())
}

/// Refuses, before any work, folder outputs that cannot be written (a path that is a file,
/// or under one) and one folder given for two outputs.
pub fn check_dirs_writable(outputs: &[&Path]) -> Result<()> {
    for (i, out) in outputs.iter().enumerate() {
        if out.is_file() {
            bail!(DataError::Config(format!(
                "the model folder {} is a file: remove it or choose another folder",
                out.display()
            )));
        }
        check_under_no_file(out)?;
        if let Some(other) = outputs[..i].iter().find(|o| absolute(o) == absolute(out)) {
            bail!(DataError::Config(format!(
                "{} is given for two models (also as {}): each model needs a folder of its own",
                out.display(),
                other.display()
            )));
        }
    }
    Ok(())
}

fn check_under_no_file(out: &Path) -> Result<()> {
    if let Some(file) = out.ancestors().skip(1).find(|a| a.is_file()) {
        bail!(DataError::Config(format!(
            "the output {} is under {}, which is a file: choose another output path",
            out.display(),
            file.display()
        )));
    }
    Ok(())
}

/// Reads and validates the transactions; prints what was read and kept.
///
/// Lines dated after `as_of` (default: tomorrow, UTC) are refused.
pub fn load(
    ui: &Ui,
    input: &Path,
    layout: &Layout,
    as_of: Option<chrono::NaiveDate>,
) -> Result<Transactions> {
    let latest = as_of.unwrap_or_else(retain_data::tomorrow_utc);
    let tx = ui.step_counted(
        &format!("reading {}", input.display()),
        || Ok(read_transactions_until(input, layout, Some(latest))?),
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
    say_read(ui, tx.stats());
    Ok(tx)
}

/// The transactions read and condensed part by part ([`retain_data::PartReader`]): memory
/// holds a few parts' lines (about [`crate::memory::part_lines`] each) and the condensed
/// history, not every line. An input whose parts do not hold whole clients (neither sorted
/// nor partitioned by client) is partitioned by client through temporary files first, and
/// the run says so. Lines dated after
/// `as_of` (default: tomorrow, UTC) are refused, as [`load`] does.
pub fn load_history(
    ui: &Ui,
    input: &Path,
    layout: &Layout,
    as_of: Option<chrono::NaiveDate>,
) -> Result<(History, ReadSummary)> {
    let (condenser, ids, read) = read_in_parts(
        ui,
        "reading and condensing",
        input,
        layout,
        as_of,
        retain_features::Condenser::new,
        |c, part| Ok(c.push(part)?),
    )?;
    Ok((condenser.finish(ids)?, read))
}

/// What training and evaluation read: the transactions condensed part by part
/// ([`load_history`]) into the frames every window's features come from, with the lines'
/// fingerprint ([`retain_data::LinesDigest`]) for the model cards. Memory holds a few parts'
/// lines and the condensed history, never every line, so a training input can be larger than
/// memory; the frames, models and cards are those of the input read in one piece, bit for bit.
pub struct LoadedFrames {
    /// Every window's feature frames, from the condensed history.
    pub frames: retain_train::HistoryFrames,
    /// What reading the input did.
    pub read: ReadSummary,
    /// The lines' fingerprint ([`retain_data::Transactions::lines_sha256`]).
    pub lines_sha256: String,
}

impl LoadedFrames {
    /// The data source the model cards record.
    pub fn data_source(&self) -> retain_core::DataSource {
        retain_train::data_source_of(
            &self.read.input,
            &self.read.layout,
            &self.read.stats,
            self.lines_sha256.clone(),
        )
    }
}

/// Reads and condenses the transactions part by part for training or evaluation
/// ([`LoadedFrames`]). Lines dated after `as_of` (default: tomorrow, UTC) are refused, as
/// [`load`] does.
pub fn load_frames(
    ui: &Ui,
    input: &Path,
    layout: &Layout,
    as_of: Option<chrono::NaiveDate>,
) -> Result<LoadedFrames> {
    let ((condenser, digest), ids, read) = read_in_parts(
        ui,
        "reading and condensing",
        input,
        layout,
        as_of,
        || {
            (
                retain_features::Condenser::new(),
                retain_data::LinesDigest::new(),
            )
        },
        |(c, d), part| {
            // (the fingerprint is taken while the part is condensed)
            let (condensed, digested) = rayon::join(|| c.push(part), || d.add(part.frame()));
            condensed?;
            digested?;
            Ok(())
        },
    )?;
    let history = condenser.finish(ids)?;
    Ok(LoadedFrames {
        frames: retain_train::HistoryFrames::new(history, &read.stats),
        lines_sha256: digest.hex(),
        read,
    })
}

/// Reads `input` part by part ([`retain_data::PartReader`]) under the step `what`, handing
/// each part of whole clients to `push` on the sink made by `new`, so that memory holds a few
/// parts' lines and what the sink keeps. An input whose parts do not hold whole clients is
/// partitioned by client hash through temporary files ([`retain_data::Spill`]; the run says
/// so and what it costs), and the partitions handed to a new sink one by one. Returns the
/// sink, the text of the ids read as text and what the reading did. Lines dated after `as_of`
/// (default: tomorrow, UTC) are refused, as [`load`] does.
pub fn read_in_parts<S>(
    ui: &Ui,
    what: &str,
    input: &Path,
    layout: &Layout,
    as_of: Option<chrono::NaiveDate>,
    new: impl Fn() -> S,
    push: impl Fn(&mut S, &Transactions) -> Result<()>,
) -> Result<(S, retain_data::ClientIds, ReadSummary)> {
    let part_lines = crate::memory::part_lines();
    let latest = as_of.unwrap_or_else(retain_data::tomorrow_utc);
    let mut reader = retain_data::PartReader::open(input, layout, Some(latest), part_lines)?;
    let parts = reader.parts();
    let held = crate::memory::parts_held(reader.largest_part_lines());
    let started = std::time::Instant::now();
    let streamed = ui.step_with_messages(
        &format!("{what} {}", input.display()),
        |say| {
            // Three stages on three threads, a part in each: the next part is read while
            // the one before is put in canonical order and the one before that is pushed.
            // Each stage leaves a core idle part of the time, and reading and ordering
            // cost about the same. A stage hands its part over only when the next one takes
            // it (no part waits in between), and a part is read only with one of `held`
            // tokens, given back once the part before it is pushed and dropped: memory holds
            // `held` parts' lines at the most (three, or fewer when the parts are larger
            // than `crate::memory::part_lines` sizes them for the memory limit).
            let (source, checks) = reader.halves();
            std::thread::scope(|scope| {
                let (send_read, receive_read) = std::sync::mpsc::sync_channel(0);
                let (send, receive) = std::sync::mpsc::sync_channel(0);
                let (give, take) = std::sync::mpsc::sync_channel(held);
                for _ in 0..held {
                    give.send(()).expect("the tokens fit the channel");
                }
                let reading = scope.spawn(move || {
                    while take.recv().is_ok() {
                        let Some(part) = source.next_read() else {
                            break;
                        };
                        let stop = part.is_err();
                        if send_read.send(part).is_err() || stop {
                            break;
                        }
                    }
                });
                let ordering = scope.spawn(move || {
                    for read in receive_read.iter() {
                        let part = read
                            .map_err(retain_data::PartError::from)
                            .and_then(|r| checks.order(r));
                        let stop = part.is_err();
                        if send.send(part).is_err() || stop {
                            break;
                        }
                    }
                });
                let pushed = (|| {
                    // (dropped on every return, so that the reading stops)
                    let give = give;
                    let mut sink = new();
                    let mut lines = 0u64;
                    let mut clients = 0u64;
                    let mut done = 0usize;
                    for part in receive.iter() {
                        let part = match part {
                            Ok(p) => p,
                            Err(retain_data::PartError::NotClustered { file, client }) => {
                                return Ok(Err((file, client)));
                            }
                            Err(retain_data::PartError::Data(e)) => return Err(e.into()),
                        };
                        push(&mut sink, &part)?;
                        done += 1;
                        lines += part.stats().lines_read;
                        clients += part.stats().clients;
                        drop(part);
                        // the reading has stopped when the token has nowhere to go
                        let _ = give.send(());
                        let d = started.elapsed();
                        say(&format!(
                            "part {done}/{parts}: {} lines ({} lines/s), {} clients ({} \
                             clients/s)",
                            thousands(lines as i64),
                            rate(lines, d),
                            thousands(clients as i64),
                            rate(clients, d)
                        ));
                    }
                    Ok(Ok((sink, lines)))
                })();
                // a failed push stops the ordering, and so the reading, at its next part
                drop(receive);
                if ordering.join().is_err() || reading.join().is_err() {
                    bail!("reading {} stopped unexpectedly", input.display());
                }
                pushed
            })
        },
        |r, d| match r {
            Ok((_, lines)) => format!(
                "read {} lines in {} part(s) in {} ({} lines/s)",
                thousands(*lines as i64),
                parts,
                duration(d),
                rate(*lines, d)
            ),
            Err(_) => "the input is not clustered by client".to_string(),
        },
    )?;
    let (sink, stats, ids) = match streamed {
        Ok((sink, _)) => {
            let (stats, ids) = reader.finish()?;
            (sink, stats, ids)
        }
        Err((file, client)) => {
            // Partitioned by client hash through temporary files: one more read of the
            // input, and a write and a read of its clean lines, in the memory of a part.
            let mut reader =
                retain_data::PartReader::open(input, layout, Some(latest), part_lines)?
                    .unclustered();
            let buckets = reader.parts();
            let mut spill =
                retain_data::Spill::create(&std::env::temp_dir(), input, layout, buckets)?;
            ui.warn(format!(
                "{}: client {client} has lines in two parts of the input (it is neither sorted \
                 nor partitioned by client): partitioning its lines by client into {buckets} \
                 temporary files in {} (one more read of the input, and a write and a read of \
                 its lines on disk); write it sorted by client, in row groups of whole clients, \
                 or as folders by client hash (`retain generate --replicate F --buckets N` \
                 shows the layout) to read it in one pass",
                file.display(),
                spill.dir().display()
            ));
            ui.step_with_messages(
                &format!("partitioning {} by client", input.display()),
                |say| {
                    let mut done = 0usize;
                    while let Some(part) = reader.next_part() {
                        let part = part.map_err(|e| match e {
                            retain_data::PartError::Data(d) => anyhow::Error::from(d),
                            other => anyhow::anyhow!(other),
                        })?;
                        spill.write(&part)?;
                        done += 1;
                        say(&format!("part {done}/{parts}"));
                    }
                    Ok(())
                },
                |_, d| format!("wrote {buckets} temporary files in {}", duration(d)),
            )?;
            let (stats, ids) = reader.finish()?;
            let sink = ui.step_with_messages(
                &format!("{what} {}, partition by partition", input.display()),
                |say| {
                    let mut sink = new();
                    let mut done = 0usize;
                    while let Some(bucket) = spill.next_bucket() {
                        push(&mut sink, &bucket?)?;
                        done += 1;
                        say(&format!("partition {done}/{buckets}"));
                    }
                    Ok(sink)
                },
                |_, d| format!("read {buckets} partition(s) in {}", duration(d)),
            )?;
            (sink, spill.fix_counts(stats), ids)
        }
    };
    say_read(ui, &stats);
    let read = ReadSummary {
        input: input.to_string_lossy().into_owned(),
        layout: layout.name.clone(),
        stats,
    };
    Ok((sink, ids, read))
}

/// What reading the input did, in the JSON documents of `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct ReadSummary {
    /// The input as given (a file, glob or folder).
    pub input: String,
    /// The column layout's name.
    pub layout: String,
    /// The counts: files, lines read, kept, returns, dropped, clients, first and last day.
    #[serde(flatten)]
    pub stats: LoadStats,
}

impl ReadSummary {
    /// The last day of the data.
    pub fn last_day(&self) -> Result<Cutoff> {
        self.stats
            .last_day
            .map(Cutoff::new)
            .context("the input has no transaction lines with a client id")
    }
}

fn say_read(ui: &Ui, s: &LoadStats) {
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
}

fn fmt_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

/// What reading `tx` did.
pub fn read_summary(tx: &Transactions) -> ReadSummary {
    ReadSummary {
        input: tx.source().to_string(),
        layout: tx.layout().name.clone(),
        stats: tx.stats().clone(),
    }
}

/// The last day of the data.
pub fn last_day(tx: &Transactions) -> Result<Cutoff> {
    tx.stats()
        .last_day
        .map(Cutoff::new)
        .context("the input has no transaction lines with a client id")
}

/// The windows from the flags; the cutoff defaults to `default_cutoff`.
pub fn protocol(window: &WindowArgs, default_cutoff: Cutoff) -> Protocol {
    Protocol {
        cutoff: window.cutoff.unwrap_or(default_cutoff),
        horizon: window.horizon,
        train_horizon: window.train_horizon.unwrap_or(window.horizon),
    }
}

/// The backtest's settings from the shared model flags, then `[model]` of retain.toml.
pub fn backtest_params(
    protocol: Protocol,
    s: &ModelSettings,
    input: &InputArgs,
) -> Result<BacktestParams> {
    let (config, _) = config_file(input)?;
    let model = config.model.unwrap_or_default();
    let mut p = BacktestParams::new(protocol);
    if let Some(f) = s.families.or(model.families) {
        p.families = f;
    }
    let targets = s
        .validation_targets
        .or(model.validation_targets)
        .unwrap_or(2);
    if !(1..=12).contains(&targets) {
        return Err(DataError::Config(format!(
            "[model] validation_targets = {targets}: expected 1 to 12"
        ))
        .into());
    }
    p.validation_targets = usize::from(targets);
    if let Some(n) = s.selection_clients.or(model.selection_clients) {
        p.selection_clients = n;
    }
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
    Ok(p)
}

/// Scores every client at `date` with the loaded models.
pub fn score_all(
    ui: &Ui,
    scorer: &Scorer,
    tx: &retain_data::Transactions,
    date: Cutoff,
    options: &ScoreOptions,
) -> Result<Scores> {
    say_models(ui, scorer);
    let history = ui.step("condensing the history", || Ok(History::of(tx)?))?;
    score_history(ui, scorer, &history, date, options)
}

/// Says which models score.
pub fn say_models(ui: &Ui, scorer: &Scorer) {
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
}

/// Scores every client from their `features` at `date` (computed part by part,
/// [`retain_features::PartFeatures`]) with the loaded models.
pub fn score_features(
    ui: &Ui,
    scorer: &Scorer,
    features: retain_features::PartFeatures,
    ids: retain_data::ClientIds,
    date: Cutoff,
    options: &ScoreOptions,
) -> Result<Scores> {
    ui.step_counted(
        &format!("scoring the clients at {date}"),
        || {
            let (features, _) = features.finish(date)?;
            Ok(scorer.score_features(features, ids, date, options)?)
        },
        |s: &Scores, d| scored_message(s, date, d),
    )
}

/// What scoring did, for the step's line.
fn scored_message(s: &Scores, date: Cutoff, d: std::time::Duration) -> String {
    let n = s.summary.clients as u64;
    format!(
        "scored {} clients at {date} in {} ({})",
        thousands(n as i64),
        duration(d),
        per_second(n, d)
    )
}

/// Scores every client of the condensed `history` at `date` with the loaded models.
pub fn score_history(
    ui: &Ui,
    scorer: &Scorer,
    history: &History,
    date: Cutoff,
    options: &ScoreOptions,
) -> Result<Scores> {
    ui.step_counted(
        &format!("scoring the clients at {date}"),
        || Ok(scorer.score(history, date, options)?),
        |s: &Scores, d| scored_message(s, date, d),
    )
}

/// Runs the backtest under the step `what`, its runs and model fits shown on the bar.
pub fn run_backtest(
    ui: &Ui,
    what: &str,
    frames: &dyn retain_train::ClientFrames,
    params: &mut BacktestParams,
) -> Result<retain_train::Backtest> {
    let runs = params.cutoffs * (1 + usize::from(params.validate));
    ui.step_with_progress(
        what,
        runs,
        |progress| {
            params.progress = progress;
            Ok(retain_train::backtest_on(frames, params)?)
        },
        |b, d| {
            let models = b
                .cutoffs
                .last()
                .map_or(0, |c| c.churn.len() + c.value.len());
            format!(
                "trained and evaluated {models} models at {} cutoff(s) in {}",
                b.cutoffs.len(),
                duration(d)
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

/// Writes `f`'s bytes to `path` atomically, gzip-compressed with a fixed header (mtime 0 and
/// no file name: the same seed gives the same bytes).
fn write_gz(
    path: &Path,
    f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    retain_core::write_atomic(path, |w| {
        let mut gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(w, Compression::new(6));
        f(&mut gz)?;
        gz.finish()?.flush()
    })
    .map_err(std::io::Error::other)
}

/// Simulates the client base of `args` and writes it with its truth (the `generate` command
/// and the demo's missing sample): the transactions and `truth.json`, and unless
/// `--no-contacts` the contacts log, the client attributes and the per-client contact truth.
pub fn generate_sample(args: &GenerateArgs, ui: &Ui) -> Result<Generated> {
    let mut config = if args.no_contacts {
        SimConfig::with_clients(args.clients, args.seed)
    } else {
        SimConfig::with_contacts(args.clients, args.seed)
    };
    if let Some(start) = args.start {
        config.start_date = start;
    }
    if let Some(days) = args.days {
        config.span_days = days;
    }
    config.check()?;
    let data = args.out.join("transactions.csv.gz");
    let truth = args.out.join("truth.json");
    let contacts = args.out.join("contacts.csv.gz");
    let clients = args.out.join("clients.csv");
    let contact_truth = args.out.join("contact_truth.csv.gz");
    let (rows, contact_rows) = ui
        .step_counted(
            &format!("simulating {} clients", thousands(config.n_clients as i64)),
            || {
                let counts = if args.no_contacts {
                    let mut rows = 0;
                    write_gz(&data, |w| {
                        rows = generate_csv(&config, w).map_err(std::io::Error::other)?;
                        Ok(())
                    })?;
                    (rows, None)
                } else {
                    let out = generate_with_contacts(&config)?;
                    write_gz(&data, |w| out.transactions.write_csv(w))?;
                    write_gz(&contacts, |w| out.contacts.write_csv(w))?;
                    retain_core::write_atomic(&clients, |w| out.truth.write_clients_csv(w))?;
                    write_gz(&contact_truth, |w| out.truth.write_csv(w))?;
                    (
                        out.transactions.len() as u64,
                        Some(out.contacts.len() as u64),
                    )
                };
                retain_core::write_atomic(&truth, |w| {
                    serde_json::to_writer_pretty(&mut *w, &config)
                        .map_err(std::io::Error::other)?;
                    w.write_all(b"\n")
                })?;
                Ok(counts)
            },
            |(rows, _), d| {
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
    let mut outputs: std::collections::BTreeMap<&'static str, PathBuf> =
        [("transactions", data), ("truth", truth)].into();
    if let Some(n) = contact_rows {
        ui.say(format!(
            "wrote {} contacts to {}, the client attributes to {} and each client's true \
             response model to {}",
            thousands(n as i64),
            contacts.display(),
            clients.display(),
            contact_truth.display()
        ));
        outputs.insert("contacts", contacts);
        outputs.insert("clients", clients);
        outputs.insert("contact_truth", contact_truth);
    }
    Ok(Generated {
        clients: config.n_clients,
        seed: args.seed,
        lines: rows,
        first_day: config.start_date,
        last_day: config.end_date(),
        outputs,
    })
}

/// The client attributes `path`, read and validated with `layout` (retain.toml's
/// `[clients.layout]`, else the default columns); says what was read.
pub fn read_client_attributes(
    ui: &Ui,
    path: &Path,
    layout: &ClientsLayout,
) -> Result<ClientAttributes> {
    let c = ui.step(
        &format!("reading the client attributes {}", path.display()),
        || Ok(read_clients(path, layout)?),
    )?;
    ui.say(format!(
        "read the attributes of {} clients (consent on {})",
        thousands(c.len() as i64),
        if c.channels().is_empty() {
            "no channel".to_string()
        } else {
            c.channels().join(", ")
        }
    ));
    Ok(c)
}

/// The `[clients.layout]` of retain.toml, else the default columns.
pub fn clients_layout(input: &InputArgs) -> Result<ClientsLayout> {
    let (config, _) = config_file(input)?;
    Ok(config.clients.layout.unwrap_or_default())
}

/// Refuses a contacts log or client-attributes file none of whose clients is in the
/// transactions: a file of another client base, or ids written another way (`C-13` against
/// `13`), would otherwise be joined to nobody and change nothing, in silence. Ids are joined
/// by their codes (`retain_data::code_of_text`), as every reader codes them.
pub fn check_known_clients(
    tx: &Transactions,
    contacts: Option<&Contacts>,
    clients: Option<&ClientAttributes>,
) -> Result<()> {
    if contacts.is_none() && clients.is_none() {
        return Ok(());
    }
    let known = distinct_ids(tx.frame(), retain_data::cols::CLIENT)?;
    check_known_ids(&known, tx.source(), contacts, clients)
}

/// [`check_known_clients`] with the transactions' clients given as `known` (ascending), read
/// from `source`.
pub fn check_known_ids(
    known: &[i64],
    transactions: &str,
    contacts: Option<&Contacts>,
    clients: Option<&ClientAttributes>,
) -> Result<()> {
    let check = |what: &str, source: &str, ids: &[i64]| -> Result<()> {
        if ids.is_empty() || ids.iter().any(|id| known.binary_search(id).is_ok()) {
            return Ok(());
        }
        let labels: Vec<String> = ids
            .iter()
            .take(3)
            .map(|&id| {
                if retain_data::is_text_code(id) {
                    "(a text id)".to_string()
                } else {
                    id.to_string()
                }
            })
            .collect();
        bail!(DataError::NothingToUse {
            file: PathBuf::from(source),
            what: format!(
                "none of its {} clients is in the transactions {} (ids such as {}{}): is it the \
                 {what} of these clients, with their ids written as the transactions write them?",
                thousands(ids.len() as i64),
                transactions,
                labels.join(", "),
                if ids.len() > 3 { ", ..." } else { "" }
            ),
        });
    };
    if let Some(c) = contacts {
        let ids = distinct_ids(c.frame(), retain_data::contact_cols::CLIENT)?;
        check("contacts log", c.source(), &ids)?;
    }
    if let Some(c) = clients {
        check("client attributes", c.source(), c.ids())?;
    }
    Ok(())
}

/// The distinct values of the `i64` column `name` of `df`, ascending.
fn distinct_ids(df: &polars::prelude::DataFrame, name: &str) -> Result<Vec<i64>> {
    let ca = df.column(name)?.i64()?;
    let mut ids: Vec<i64> = Vec::with_capacity(ca.len().min(1 << 20));
    let mut sorted = true;
    for id in ca.iter().flatten() {
        match ids.last() {
            Some(&last) if last == id => {}
            Some(&last) => {
                sorted &= last < id;
                ids.push(id);
            }
            None => ids.push(id),
        }
    }
    if !sorted {
        ids.sort_unstable();
        ids.dedup();
    }
    Ok(ids)
}
