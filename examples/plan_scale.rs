//! Next best contact at scale (the deployable-model issue's sequel, item 8): Online Retail II
//! replicated as in BENCHMARK.md section 8, every client scored, a simulated contacts log of
//! millions of rows written to disk; then, timed, what a nightly `retain score --plan` does
//! after scoring: read the contacts log, plan every client and write the list with the plan.
//!
//! `cargo run --release --example plan_scale [-- FACTOR [CONTACT_ROWS [OFFERS]]]` (default
//! 100, 5,000,000, 0: offers off; with OFFERS 3 the product rules are mined and applied too).
//! Prints each stage's time and the process's peak memory (VmHWM) before and after the plan.

use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use retain_clv::RfmKind;
use retain_core::{Cutoff, DataSource, Horizon};
use retain_data::{ContactsLayout, Layout, Transactions, read_contacts, read_transactions};
use retain_features::History;
use retain_plan::config::PlanConfig;
use retain_plan::run::{RunInputs, plan_scores};
use retain_score::{ScoreOptions, Scorer};
use retain_train::{BacktestParams, ChurnChoice, Protocol, TrainParams, ValueChoice, train};

fn peak_rss_gib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / (1024.0 * 1024.0))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // As the binary does (src/main.rs): freed memory is not handed back to the kernel.
    // SAFETY: first thing in main, before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(15, -1) };
    let mut args = std::env::args().skip(1);
    let factor: u32 = args.next().map_or(Ok(100), |s| s.parse())?;
    let rows: usize = args.next().map_or(Ok(5_000_000), |s| s.parse())?;
    let offers: usize = args.next().map_or(Ok(0), |s| s.parse())?;
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"
    );
    let dir = tempfile::tempdir()?;
    let t0 = Instant::now();
    let x1 = read_transactions(data.as_ref(), &Layout::online_retail_ii())?;
    let last = Cutoff::new(x1.stats().last_day.expect("lines"));
    let h = Horizon::new(91)?;
    // The models: trained once on the original data (logistic regression and the CLV).
    let trained = train(
        &x1,
        &TrainParams {
            backtest: BacktestParams::new(Protocol {
                cutoff: last,
                horizon: h,
                train_horizon: h,
            }),
            churn: ChurnChoice::Logistic,
            value: ValueChoice::Clv,
            rfm: RfmKind::Bgnbd,
        },
        &DataSource::default(),
    )?;
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    retain_models::save_checked(&cd, &trained.churn)?;
    retain_models::save_checked(&vd, &trained.value)?;
    let big = retain_data::replicate(x1.frame(), factor)?;
    let tx = Transactions::from_frame(big, "replicated", Layout::online_retail_ii())?;
    drop(x1);
    let history = History::of(&tx)?;
    let scores = Scorer::load(&cd, Some(&vd))?.score(
        &history,
        last,
        &ScoreOptions {
            n_reasons: 0,
            ..ScoreOptions::default()
        },
    )?;
    drop(history);
    let ids: Vec<i64> = scores
        .table
        .column("client_id")?
        .i64()?
        .into_no_null_iter()
        .collect();
    let contacts_path = dir.path().join("contacts.csv");
    let file = std::io::BufWriter::new(std::fs::File::create(&contacts_path)?);
    let config = retain_sim::SimConfig::with_contacts(ids.len(), 42);
    let written = retain_sim::simulate_contacts_for(&ids, &config, rows, 42, file)?;
    println!(
        "x{factor}: {} lines, {} clients scored, {} contact rows on disk; setup {:.1} s, peak \
         {:.2} GiB",
        tx.stats().lines,
        ids.len(),
        written,
        t0.elapsed().as_secs_f64(),
        peak_rss_gib()
    );

    // Timed: the nightly plan after scoring.
    let t = Instant::now();
    let contacts = read_contacts(&contacts_path, &ContactsLayout::default())?;
    let t_read = t.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let plan_config = PlanConfig {
        offers,
        ..PlanConfig::default()
    };
    let mut scores = scores;
    let plan = plan_scores(
        &plan_config,
        &scores,
        RunInputs {
            transactions: &tx,
            contacts: Some(&contacts),
            clients: None,
            uplift: None,
            start: None,
        },
    )?;
    let t_plan = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    plan.attach(&mut scores, None)?;
    let out = dir.path().join("plan");
    scores.write(&out)?;
    let t_write = t2.elapsed().as_secs_f64();
    println!(
        "plan: read the contacts {t_read:.2} s, plan {} clients {t_plan:.2} s ({} contacts \
         planned, expected profit {:.0}), attach and write {t_write:.2} s; total {:.2} s; peak \
         {:.2} GiB",
        ids.len(),
        plan.summary.planned,
        plan.summary.expected_profit,
        t.elapsed().as_secs_f64(),
        peak_rss_gib()
    );
    Ok(())
}
