//! Command-line arguments. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use retain_core::{Cutoff, Horizon};

/// Value parsers of the numeric flags: each refuses what the flag cannot mean with a usage
/// error (exit 2) that clap prefixes with "invalid value 'X' for '--flag <..>'". The libraries
/// keep their own checks for callers that do not come through the command line.
pub mod parse {
    use super::Horizon;

    /// A number, NaN and infinities included (the callers refuse them).
    fn number(s: &str) -> Result<f64, String> {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("`{s}` is not a number"))
    }

    /// A share in (0, 1]: more than 0, at most 1.
    pub fn share_open_closed(s: &str) -> Result<f64, String> {
        let x = number(s)?;
        if x > 0.0 && x <= 1.0 {
            Ok(x)
        } else {
            Err(format!(
                "{s} is not a share in (0, 1]: more than 0 and at most 1"
            ))
        }
    }

    /// A share in [0, 1): at least 0, less than 1.
    pub fn share_closed_open(s: &str) -> Result<f64, String> {
        let x = number(s)?;
        if (0.0..1.0).contains(&x) {
            Ok(x)
        } else {
            Err(format!(
                "{s} is not a share in [0, 1): at least 0 and less than 1"
            ))
        }
    }

    /// A finite number above 0.
    pub fn positive_finite(s: &str) -> Result<f64, String> {
        let x = number(s)?;
        if x.is_finite() && x > 0.0 {
            Ok(x)
        } else {
            Err(format!("{s} is not a finite number above 0"))
        }
    }

    /// A yearly discount rate: finite and above -1 (-100% a year).
    pub fn discount_rate(s: &str) -> Result<f64, String> {
        let x = number(s)?;
        if x.is_finite() && x > -1.0 {
            Ok(x)
        } else {
            Err(format!(
                "{s} is not a yearly discount rate: it must be a finite number above -1 \
                 (0.1 = 10% a year)"
            ))
        }
    }

    /// Days of a planning period: 1 to 366.
    pub fn days(s: &str) -> Result<u32, String> {
        match s.trim().parse::<i64>() {
            Ok(d) if (1..=366).contains(&d) => Ok(d as u32),
            Ok(_) => Err(format!("{s} days is not allowed: it must be from 1 to 366")),
            Err(_) => Err(format!(
                "`{s}` is not a number of days (a whole number from 1 to 366)"
            )),
        }
    }

    /// A horizon in days, 1 to [`retain_core::MAX_HORIZON_DAYS`], as a plain number of days.
    pub fn horizon_days(s: &str) -> Result<u32, String> {
        s.parse::<Horizon>().map(Horizon::days)
    }

    /// The churn band cut points `MEDIUM,HIGH`, with 0 <= medium <= high <= 1.
    pub fn bands(s: &str) -> Result<[f64; 2], String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let [m, h] = parts[..] else {
            return Err(format!(
                "`{s}` is not two cut points MEDIUM,HIGH (for example 0.5,0.75)"
            ));
        };
        let (medium, high) = (number(m)?, number(h)?);
        if (0.0..=1.0).contains(&medium) && (0.0..=1.0).contains(&high) && medium <= high {
            Ok([medium, high])
        } else {
            Err(format!(
                "the cut points medium {m} and high {h} must satisfy 0 <= medium <= high <= 1"
            ))
        }
    }
}

/// Default paths, in one place.
pub mod defaults {
    /// Where `retain train` saves the churn model and `retain score` reads it.
    pub const CHURN_MODEL: &str = "models/churn";
    /// Where `retain train` saves the value model and `retain score` reads it.
    pub const VALUE_MODEL: &str = "models/value";
    /// The outreach list's stem.
    pub const SCORES: &str = "out/scores";
    /// The evaluation JSON.
    pub const EVALUATION: &str = "out/evaluation.json";
    /// The features file.
    pub const FEATURES: &str = "out/features.parquet";
    /// The demo's outputs.
    pub const DEMO_OUT: &str = "out/demo";
    /// The demo's churn model.
    pub const DEMO_CHURN_MODEL: &str = "models/demo-churn";
    /// The demo's value model.
    pub const DEMO_VALUE_MODEL: &str = "models/demo-value";
    /// The built-in sample, made by `retain generate`.
    pub const SAMPLE: &str = "data/sample/transactions.csv.gz";
    /// The sample's contacts log.
    pub const SAMPLE_CONTACTS: &str = "data/sample/contacts.csv.gz";
    /// The sample's client attributes.
    pub const SAMPLE_CLIENTS: &str = "data/sample/clients.csv";
    /// Where `retain train --contacts` saves the uplift models and the planner reads them.
    pub const UPLIFT_MODEL: &str = "models/uplift";
    /// The demo's uplift models.
    pub const DEMO_UPLIFT_MODEL: &str = "models/demo-uplift";
    /// The plan's stem (`retain plan`).
    pub const PLAN: &str = "out/plan";
    /// Where `retain generate` writes.
    pub const SAMPLE_DIR: &str = "data/sample";
}

/// The churn model `retain train` fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// The one the backtest's selection picks on the training windows.
    Auto,
    /// Logistic regression.
    Logistic,
    /// A decision tree.
    Tree,
    /// A random forest.
    Forest,
    /// Gradient-boosted trees.
    Gbdt,
    /// The rank ensemble (logistic, a small booster, BG/NBD P(no purchase)).
    Ensemble,
}

/// The value model `retain train` fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValueModelArg {
    /// The one the backtest's selection picks (by Spearman).
    Auto,
    /// Purchase model x Gamma-Gamma CLV.
    Clv,
    /// P(buy) x E[spend | buy].
    TwoPart,
    /// Gradient-boosted regression.
    Gbdt,
    /// The rank ensemble of the two-part model and the CLV.
    Ensemble,
}

/// What makes a key client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyByArg {
    /// Predicted value over the horizon.
    Clv,
    /// Revenue over the key-client period.
    Revenue,
}

/// The classifier of the uplift models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UpliftLearnerArg {
    /// A small boosted model (200 trees of at most 7 leaves).
    Gbdt,
    /// Logistic regression (C = 0.1).
    Logistic,
}

/// The purchase model of the CLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RfmArg {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    Pareto,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    Mbgnbd,
}

/// Probability calibration of the classifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CalibrationArg {
    /// None.
    None,
    /// Platt scaling.
    Platt,
    /// Isotonic regression.
    Isotonic,
}

/// The metric the selection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SelectMetricArg {
    /// ROC AUC.
    RocAuc,
    /// PR AUC (average precision).
    PrAuc,
    /// Top-decile lift.
    Lift,
    /// Brier score.
    Brier,
    /// Log loss.
    LogLoss,
    /// EMPC with the scalar CLV.
    Empc,
    /// Campaign profit with each client's CLV.
    EmpcIndividual,
}

/// What orders the outreach list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RankByArg {
    /// The churn score.
    Churn,
    /// Value at risk (needs a value model).
    ValueAtRisk,
}

/// The model settings shared by `train` and `evaluate`.
#[derive(Debug, Args, Clone)]
pub struct ModelSettings {
    /// Stack this many training windows (rolling origins) per cutoff, each labelled strictly
    /// before the evaluation cutoff. 1 = the protocol's single out-of-time window.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub train_windows: u16,
    /// Days between stacked training windows. Default: the training horizon.
    #[arg(long, value_name = "DAYS")]
    pub train_spacing: Option<Horizon>,
    /// Also fit every model with the customer-base outputs as features (BG/NBD P(no
    /// purchase), expected purchases, CLV, and MBG/NBD P(no purchase) and P(alive), each
    /// fitted on its window's own data); these models are named `<model>+cb`.
    #[arg(long)]
    pub hybrid: bool,
    /// Also fit each classifier calibrated on a held-out 20% of the clients of the most
    /// recent training window.
    #[arg(long, value_enum, default_value_t = CalibrationArg::None, value_name = "METHOD")]
    pub calibration: CalibrationArg,
    /// The metric that selects the churn model (on the validation targets before the cutoff,
    /// never on the evaluation window).
    #[arg(long, value_enum, default_value_t = SelectMetricArg::RocAuc, value_name = "METRIC")]
    pub select_metric: SelectMetricArg,
    /// Feature families the tuned models may read beyond the protocol's 29, each tried
    /// against the 29 alone: a comma-separated list of windows, decayed, last_year,
    /// gap_recency and customer_base, or all, or none [default: `[model] families` of
    /// retain.toml, else all]
    #[arg(long, value_name = "LIST")]
    pub families: Option<retain_train::tuning::FeatureSet>,
    /// Validation targets the selection averages over, each one training horizon before the
    /// last (fewer when the data are too short) [default: `[model] validation_targets` of
    /// retain.toml, else 2]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=12))]
    pub validation_targets: Option<u16>,
    /// Beyond this many clients, the selection fits and judges its candidates on a seeded
    /// sample of about this many (the same clients in every window), and the chosen models
    /// are fitted on every client; 0 reads every client [default: `[model] selection_clients`
    /// of retain.toml, else 100000]
    #[arg(long, value_name = "N")]
    pub selection_clients: Option<u64>,
}

/// retain: which clients you are about to lose, what they are worth, and whom to call first.
///
/// retain reads a transaction history (CSV, gzip CSV, Parquet, a glob or a folder of Parquet
/// files), builds per-client features at a cutoff date, trains churn and lifetime-value models
/// out of time, evaluates them against honest baselines, and writes a ranked outreach list.
///
/// Start with `retain demo`, which runs everything on the built-in sample data.
#[derive(Debug, Parser)]
#[command(
    name = "retain",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing but errors (no progress, no tables, no warnings; the document of
    /// `--format json` is still printed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail: how each step went, and the libraries' debug log on stderr.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// How results are printed: aligned tables, or one JSON document on stdout (progress and
    /// warnings stay on stderr).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// The most memory the run may hold (for example 8G, 512M): a run that would need more
    /// stops with a message and exit code 1, never half-writing an output, instead of being
    /// killed by the system [default: 90% of the machine's memory]
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub memory_limit: Option<usize>,
}

/// The subcommands. Each allows negative numbers as values, so `--horizon -5` is refused by
/// the flag's own parser (naming the flag) rather than taken for an unknown flag `-5`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole pipeline on the built-in sample data (or --input): features, out-of-time
    /// training, evaluation against baselines, and a ranked outreach list.
    #[command(allow_negative_numbers = true)]
    Demo(DemoArgs),
    /// Simulate a client base (known BG/NBD purchase process, Gamma-Gamma spend, habits,
    /// returns) and write its transactions in the Online Retail II layout, with the true
    /// parameters beside them.
    #[command(allow_negative_numbers = true)]
    Generate(GenerateArgs),
    /// Compute the per-client features (and, with --labels, the labels) at a cutoff.
    #[command(allow_negative_numbers = true)]
    Features(FeaturesArgs),
    /// Train the churn model out of time and save it as an artifact under models/.
    #[command(allow_negative_numbers = true)]
    Train(TrainArgs),
    /// Train out of time and measure every model and baseline on the holdout after the cutoff.
    #[command(allow_negative_numbers = true)]
    Evaluate(EvaluateArgs),
    /// Apply a saved model to every client at a date and write the ranked outreach list (with
    /// --plan, each client's next best contact and the plan within the team's capacity).
    #[command(allow_negative_numbers = true)]
    Score(ScoreArgs),
    /// Score, then plan the contacts: each client's channel, time window, action and offer by
    /// expected profit, and the exact plan within each channel's daily capacity (`retain score
    /// --plan`, written to out/plan.* by default).
    #[command(allow_negative_numbers = true)]
    Plan(ScoreArgs),
    /// Retention KPIs by month, quarter or year (retention, churn, repeat purchases, order value,
    /// returns, revenue retention, revenue concentration, the cohort matrix; NPS and CSAT from
    /// --clients): a table on the terminal, <OUT>.csv, <OUT>.parquet and <OUT>.json.
    #[command(allow_negative_numbers = true)]
    Kpis(KpisArgs),
    /// Write the one-file HTML report (KPIs, model comparison, curves, value at risk, cohorts,
    /// BG/NBD diagnostics, the top of the outreach list) from the outputs of evaluate, score and
    /// kpis. It opens from a file:// path with no network.
    #[command(allow_negative_numbers = true)]
    Report(ReportArgs),
}

/// Where the transactions come from and how to read their columns.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// Transactions: a .csv, .csv.gz or .parquet file, a glob ('exports/*.parquet'), or a folder
    /// (searched recursively; hive-style key=value folders become columns).
    #[arg(short, long, value_name = "PATH")]
    pub input: Option<PathBuf>,
    /// Column layout preset: `online-retail-ii` (Invoice, StockCode, Quantity, InvoiceDate,
    /// Price, Customer ID, Country) or `cdnow` (whitespace-separated, no header).
    #[arg(short, long, value_name = "PRESET")]
    pub layout: Option<String>,
    /// A retain.toml giving `input`, `preset` or a `[layout]` table (see the README). Flags win
    /// over the file. Default: ./retain.toml if it exists.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The run's date: lines dated after it are refused (naming the first and counting all),
    /// so one mistyped year cannot become the default cutoff. Default: tomorrow (UTC), so a
    /// time zone ahead of UTC never trips it.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<chrono::NaiveDate>,
}

/// The optional inputs of next best contact.
#[derive(Debug, Args, Clone, Default)]
pub struct ContactArgs {
    /// The contacts log (calls, e-mails, meetings and their outcomes): a file, glob or folder,
    /// read with the `[contacts]` table of retain.toml. Default: `[contacts] input`.
    #[arg(long, value_name = "PATH")]
    pub contacts: Option<PathBuf>,
    /// The client attributes (consent per channel, do not contact, time zone, segment,
    /// margin, NPS/CSAT), read with the `[clients]` table. Default: `[clients] input`.
    #[arg(long, value_name = "PATH")]
    pub clients: Option<PathBuf>,
}

/// The time windows.
#[derive(Debug, Args, Clone)]
pub struct WindowArgs {
    /// Last calibration day, inclusive (YYYY-MM-DD): features use lines up to this day only.
    #[arg(long, value_name = "DATE")]
    pub cutoff: Option<Cutoff>,
    /// Horizon in days: a client has churned if it makes no purchase in (cutoff, cutoff + horizon].
    #[arg(long, default_value = "91", value_name = "DAYS")]
    pub horizon: Horizon,
    /// Label window of the out-of-time training set: the model learns from features at
    /// cutoff - this and labels up to the cutoff. Default: the horizon.
    #[arg(long, value_name = "DAYS")]
    pub train_horizon: Option<Horizon>,
}

/// `retain demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Transactions to run on (default: the built-in sample, generated if missing).
    #[command(flatten)]
    pub input: InputArgs,
    /// The windows (default cutoff: the last day of the data minus the horizon).
    #[command(flatten)]
    pub window: WindowArgs,
    /// Folder for the outputs (evaluation, scores, summary).
    #[arg(short, long, default_value = defaults::DEMO_OUT, value_name = "DIR")]
    pub out: PathBuf,
    /// Folder for the saved churn model.
    #[arg(long, default_value = defaults::DEMO_CHURN_MODEL, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Folder for the saved value model.
    #[arg(long, default_value = defaults::DEMO_VALUE_MODEL, value_name = "DIR")]
    pub value_model_dir: PathBuf,
}

/// `retain generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of clients to simulate.
    #[arg(short = 'n', long, default_value_t = 3000)]
    pub clients: usize,
    /// Random seed: the same seed gives the same file, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First day of the simulated history (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub start: Option<chrono::NaiveDate>,
    /// Length of the history in days.
    #[arg(long, value_name = "DAYS")]
    pub days: Option<u32>,
    /// Output folder: writes transactions.csv.gz and truth.json, and (unless --no-contacts)
    /// contacts.csv.gz, clients.csv and contact_truth.csv.gz.
    #[arg(short, long, default_value = defaults::SAMPLE_DIR, value_name = "DIR")]
    pub out: PathBuf,
    /// Simulate the transactions only: no contacts log, client attributes or contact truth.
    #[arg(long)]
    pub no_contacts: bool,
    /// Instead of simulating, write the scale test's data set (BENCHMARK.md section 8): the
    /// Online Retail II file given by --input, cleaned and replicated FACTOR times, as
    /// `DIR/orii_xFACTOR.parquet` (one row group per replica) in the file's own columns.
    #[arg(long, value_name = "FACTOR", requires = "from", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub replicate: Option<u32>,
    /// With --replicate: the Online Retail II file to replicate.
    #[arg(
        short = 'i',
        long = "input",
        value_name = "FILE",
        requires = "replicate"
    )]
    pub from: Option<PathBuf>,
    /// With --replicate: write a folder of N hive partitions by client hash
    /// (`DIR/orii_xFACTOR_bN/client_bucket=NNN/part-0.parquet`), as a data lake holds them.
    #[arg(long, value_name = "N", requires = "replicate", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub buckets: Option<u32>,
}

/// `retain features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// The transactions.
    #[command(flatten)]
    pub input: InputArgs,
    /// Cutoff date (default: the last day of the data; with --labels, the last day minus the
    /// label window, so the window is covered).
    #[arg(long, value_name = "DATE")]
    pub cutoff: Option<Cutoff>,
    /// Add the labels churned, holdout_purchases and holdout_value over this many days after
    /// the cutoff. The data must cover the window.
    #[arg(long, value_name = "DAYS")]
    pub labels: Option<Horizon>,
    /// Also write these feature families after the 29 (a comma-separated list of windows,
    /// decayed, last_year, gap_recency and customer_base, or all): what the tuned models read
    /// (see the README). Their horizon (last_year's windows, the customer-base outputs) is
    /// --labels, else 91 days.
    #[arg(long, value_name = "LIST", default_value = "none")]
    pub families: retain_train::tuning::FeatureSet,
    /// Output file (.csv or .parquet).
    #[arg(short, long, default_value = defaults::FEATURES, value_name = "FILE")]
    pub out: PathBuf,
}

/// `retain train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The transactions.
    #[command(flatten)]
    pub input: InputArgs,
    /// The windows (default cutoff: the last day of the data, so the model learns from the most
    /// recent complete label window).
    #[command(flatten)]
    pub window: WindowArgs,
    /// The churn model: `auto` runs the backtest's selection on the training windows and
    /// saves the winner.
    #[arg(long, value_enum, default_value_t = ModelArg::Auto)]
    pub model: ModelArg,
    /// The value model: `auto` picks by validation Spearman.
    #[arg(long, value_enum, default_value_t = ValueModelArg::Auto)]
    pub value_model: ValueModelArg,
    /// The shared model settings.
    #[command(flatten)]
    pub settings: ModelSettings,
    /// Folder to save the churn model in (card.json + model.json).
    #[arg(short, long, default_value = defaults::CHURN_MODEL, value_name = "DIR")]
    pub model_dir: PathBuf,
    /// Folder to save the value model in (with its customer-base model: P(alive), expected
    /// purchases, next purchase).
    #[arg(long, alias = "clv-model-dir", default_value = defaults::VALUE_MODEL, value_name = "DIR")]
    pub value_model_dir: PathBuf,
    /// Purchase model of the CLV: BG/NBD, Pareto/NBD or MBG/NBD; spend is Gamma-Gamma.
    #[arg(long, value_enum, default_value_t = RfmArg::Bgnbd, value_name = "MODEL")]
    pub rfm_model: RfmArg,
    /// The contacts log and client attributes: with a contacts log, the uplift of each action
    /// is also learned (treated against control clients) and saved to --uplift-model-dir.
    #[command(flatten)]
    pub contact: ContactArgs,
    /// Folder for the uplift models (with a contacts log).
    #[arg(long, default_value = defaults::UPLIFT_MODEL, value_name = "DIR")]
    pub uplift_model_dir: PathBuf,
    /// The uplift models' classifier.
    #[arg(long, value_enum, default_value_t = UpliftLearnerArg::Gbdt)]
    pub uplift_learner: UpliftLearnerArg,
}

/// `retain evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The transactions.
    #[command(flatten)]
    pub input: InputArgs,
    /// The windows (default cutoff: the last day of the data minus the horizon).
    #[command(flatten)]
    pub window: WindowArgs,
    /// Write the full evaluation as JSON to this file.
    #[arg(short, long, default_value = defaults::EVALUATION, value_name = "FILE")]
    pub out: PathBuf,
    /// Backtest at this many successive cutoffs, the last one being --cutoff; each is trained
    /// strictly on data before it. Metrics are reported per cutoff and as mean and std.
    #[arg(long, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u16).range(1..=100))]
    pub cutoffs: u16,
    /// Days between successive cutoffs. Default: the horizon.
    #[arg(long, value_name = "DAYS")]
    pub cutoff_spacing: Option<Horizon>,
    /// The shared model settings.
    #[command(flatten)]
    pub settings: ModelSettings,
    /// Bootstrap resamples for the 95% intervals at the last cutoff (seeded; 0 = none).
    #[arg(long, default_value_t = 200, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub bootstrap: u32,
}

/// `retain score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The transactions.
    #[command(flatten)]
    pub input: InputArgs,
    /// The saved churn model's folder (from `retain train`).
    #[arg(short, long, default_value = defaults::CHURN_MODEL, value_name = "DIR")]
    pub model: PathBuf,
    /// The saved value model's folder (from the same `retain train` run): adds p_alive,
    /// expected_purchases, expected_next_purchase, clv, value_at_risk (= churn_probability x
    /// clv) and key_client. Default: models/value if it exists.
    #[arg(long, alias = "clv-model", value_name = "DIR")]
    pub value_model: Option<PathBuf>,
    /// Score the clients as of this day (default: the last day of the data).
    #[arg(long, value_name = "DATE")]
    pub date: Option<Cutoff>,
    /// Output path without extension: writes <OUT>.csv, <OUT>.parquet and summary.json beside
    /// them.
    #[arg(short, long, default_value = defaults::SCORES, value_name = "STEM")]
    pub out: PathBuf,
    /// Number of reasons per client (features pushing its risk up most).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(0..=20))]
    pub reasons: u8,
    /// Reasons only for the first N clients of the list (default: every client); the others'
    /// reason columns are empty. With a tree model, reasons (Tree SHAP) cost far more than
    /// scores: explain the clients the team will call.
    #[arg(long, value_name = "N")]
    pub reasons_for: Option<usize>,
    /// Yearly discount rate of the CLV (0.1 = 10% a year, applied weekly). Default 0: the CLV is
    /// undiscounted, as in the benchmark.
    #[arg(long, default_value_t = 0.0, value_name = "RATE", value_parser = parse::discount_rate)]
    pub discount_rate: f64,
    /// Profit margin applied to the expected spend, in (0, 1] (default 1: the CLV is revenue).
    #[arg(long, default_value_t = 1.0, value_name = "SHARE", value_parser = parse::share_open_closed)]
    pub margin: f64,
    /// key_client flags the smallest set of clients whose CLV reaches this share of the
    /// total CLV (key, or "golden", clients), in (0, 1].
    #[arg(long, default_value_t = 0.8, value_name = "SHARE", value_parser = parse::share_open_closed)]
    pub key_share: f64,
    /// What orders the list; ties go to the smaller client id.
    #[arg(long, value_enum, default_value_t = RankByArg::Churn, value_name = "BY")]
    pub rank_by: RankByArg,
    /// The churn band cut points: `medium` from the first, `high` from the second (on the churn
    /// probability), with 0 <= MEDIUM <= HIGH <= 1.
    #[arg(long, default_value = "0.5,0.75", value_name = "MEDIUM,HIGH", value_parser = parse::bands)]
    pub bands: [f64; 2],
    /// Population stability index above which a feature (or the score) counts as drifted
    /// from the training data (a finite number above 0).
    #[arg(long, default_value_t = 0.25, value_name = "PSI", value_parser = parse::positive_finite)]
    pub drift_threshold: f64,
    /// Exit 1 without replacing the previous list when any feature or the score drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Also plan the contacts: each client's next best channel, window, action and offer,
    /// and the plan within capacity (`[plan]` in retain.toml; see the README).
    #[arg(long)]
    pub plan: bool,
    /// The contacts log and client attributes of the plan.
    #[command(flatten)]
    pub contact: ContactArgs,
    /// The uplift models of the plan. Default: models/uplift if it exists.
    #[arg(long, value_name = "DIR")]
    pub uplift_model: Option<PathBuf>,
    /// First day of the planning period. Default: the day after the scoring date.
    #[arg(long, value_name = "DATE")]
    pub plan_start: Option<chrono::NaiveDate>,
    /// Days in the planning period, 1 to 366 (overrides `[plan] days`).
    #[arg(long, value_name = "DAYS", value_parser = parse::days)]
    pub plan_days: Option<u32>,
    /// Share of clients kept uncontacted to measure the campaign (overrides
    /// `[plan] holdout_share`), in [0, 1).
    #[arg(long, value_name = "SHARE", value_parser = parse::share_closed_open)]
    pub holdout_share: Option<f64>,
    /// Also write the list as JSON lines (`<OUT>.jsonl`).
    #[arg(long)]
    pub json_lines: bool,
    /// With the plan: key clients by predicted value (the CLV) or by revenue over the last
    /// `[plan] key_period_days` (365) days (overrides `[plan] key_by`).
    #[arg(long, value_enum)]
    pub key_by: Option<KeyByArg>,
}

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables with headers.
    #[default]
    Table,
    /// One JSON document on stdout (with `kpis`, the same as `<OUT>.json`).
    Json,
}

/// `retain kpis`.
#[derive(Debug, Args)]
pub struct KpisArgs {
    /// The transactions.
    #[command(flatten)]
    pub input: InputArgs,
    /// Length of a period: month, quarter or year.
    #[arg(long, default_value = "month", value_name = "PERIOD",
          value_parser = clap::builder::TypedValueParser::map(
              clap::builder::PossibleValuesParser::new(retain_report::Period::NAMES),
              |s| s.parse::<retain_report::Period>().expect("a listed name"),
          ))]
    pub period: retain_report::Period,
    /// A client is active at a day if it bought in this many days up to it (1 to 36525).
    #[arg(long, default_value_t = 91, value_name = "DAYS", value_parser = parse::horizon_days)]
    pub horizon: u32,
    /// Key clients: the fewest clients bringing this share of a period's revenue, in (0, 1].
    #[arg(long, default_value_t = 0.8, value_name = "SHARE", value_parser = parse::share_open_closed)]
    pub key_share: f64,
    /// A clients table (.csv or .parquet) with an `nps` (0-10) and/or `csat` (1-5) column:
    /// adds NPS and CSAT.
    #[arg(long, value_name = "FILE")]
    pub clients: Option<PathBuf>,
    /// Output path without extension: writes <OUT>.csv, <OUT>.parquet (one row per period) and
    /// <OUT>.json (everything, with the cohort matrix).
    #[arg(short, long, default_value = "out/kpis", value_name = "STEM")]
    pub out: PathBuf,
}

/// `retain report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The transactions (default: the demo's sample data).
    #[command(flatten)]
    pub input: InputArgs,
    /// The evaluation JSON (from `retain evaluate` or the demo).
    #[arg(long, default_value = "out/demo/evaluation.json", value_name = "FILE")]
    pub evaluation: PathBuf,
    /// The outreach list (.parquet or .csv, from `retain score` or the demo).
    #[arg(long, default_value = "out/demo/scores.parquet", value_name = "FILE")]
    pub scores: PathBuf,
    /// The KPIs JSON (from `retain kpis`).
    #[arg(long, default_value = "out/demo/kpis.json", value_name = "FILE")]
    pub kpis: PathBuf,
    /// Rows of the outreach list shown.
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub top: usize,
    /// The HTML file to write.
    #[arg(
        short,
        long,
        default_value = "out/demo/report.html",
        value_name = "FILE"
    )]
    pub out: PathBuf,
}
