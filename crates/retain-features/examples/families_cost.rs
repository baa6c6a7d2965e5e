//! What the feature families cost at scale: Online Retail II replicated as in BENCHMARK.md
//! section 8 (x10 and x100 by default), the line table condensed part by part as `retain
//! features` does (`History::of`'s `History::of_lines`), then at the evaluation cutoff
//! (2011-09-09, horizon 91 days) the 29 features alone against the 29 plus every family, in one
//! run, with the ratios; peak RSS from the kernel.
//!
//! `cargo run --release -p retain-features --example families_cost [-- FACTORS [REPEATS]]`,
//! FACTORS e.g. `10,100` (default), REPEATS the timings per figure (default 3; the fastest is
//! printed, the two kinds alternating so neither runs on a warmer cache).
//!
//! Columns: `condense_s` the condensing, `f29_s` the 29 features from the condensed tables,
//! `f29_fam_s` the 29 plus every family (`History::features_with_families_at`), `fam_s` the
//! families alone; `ratio` = `f29_fam_s / f29_s`; `ratio_with_condense` the same with the
//! condensing added to both sides (what a run that reads the lines pays).

use retain_core::{Cutoff, Horizon};
use std::time::Instant;

/// The binary's allocator, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use polars::prelude::DataFrame;
use retain_data::{Layout, read_transactions, replicate};
use retain_features::{FEATURES, FeatureFamilies, History, PART_LINES, family_columns};

/// Peak resident set size of this process so far (VmHWM), in GiB.
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

/// Seconds `f` took, and what it returned.
fn timed<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t0 = Instant::now();
    let out = f();
    (t0.elapsed().as_secs_f64(), out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let factors: Vec<u32> = args
        .next()
        .unwrap_or_else(|| "10,100".into())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let repeats: usize = args.next().map_or(Ok(3), |s| s.parse())?;
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"
    );
    let tx = read_transactions(data.as_ref(), &Layout::online_retail_ii())?;
    let cutoff = Cutoff::new(chrono::NaiveDate::from_ymd_opt(2011, 9, 9).expect("date"));
    let horizon = Horizon::new(91).expect("a horizon");
    let countries = History::of(&tx)?.country_table(cutoff)?;
    let all = FeatureFamilies::all();
    println!(
        "{} features + {} family columns ({all}); fastest of {repeats}",
        FEATURES.len(),
        family_columns(&all).len()
    );
    println!(
        "factor  rows  clients  condense_s  f29_s  f29_fam_s  fam_s  ratio  ratio_with_condense  \
         peak_rss_gib"
    );
    for factor in factors {
        let big = replicate(tx.frame(), factor)?;
        let rows = big.height();
        let (t_condense, history) = timed(|| History::of_lines(&big, PART_LINES));
        let history = history?;
        drop(big);
        let (mut t29, mut tall, mut tfam) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        let mut clients = 0;
        for _ in 0..repeats {
            let (t, base) = timed(|| history.features_at(cutoff, &countries).collect());
            let base: DataFrame = base?;
            t29 = t29.min(t);
            clients = base.height();
            drop(base);
            let (t, both) = timed(|| {
                history
                    .features_with_families_at(cutoff, horizon, &countries, &all)
                    .collect()
            });
            let both: DataFrame = both?;
            tall = tall.min(t);
            assert_eq!(both.height(), clients, "x{factor}: population");
            assert_eq!(
                both.width(),
                1 + FEATURES.len() + family_columns(&all).len()
            );
            drop(both);
            let (t, fam) = timed(|| history.family_features_at(cutoff, horizon, &all).collect());
            assert_eq!(fam?.height(), clients);
            tfam = tfam.min(t);
        }
        println!(
            "x{factor}  {rows}  {clients}  {t_condense:.2}  {t29:.3}  {tall:.3}  {tfam:.3}  \
             {:.3}  {:.3}  {:.2}",
            tall / t29,
            (t_condense + tall) / (t_condense + t29),
            peak_rss_gib()
        );
    }
    Ok(())
}
