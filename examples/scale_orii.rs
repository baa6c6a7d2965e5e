//! The scale test of BENCHMARK.md section 8: Online Retail II replicated x10 and x100 in memory,
//! features at the cutoff, the BG/NBD fit on them, and the scoring of every client by the
//! gradient-boosting classifier (300 trees, as the reference's LightGBM) trained once on the x1
//! out-of-time training set, each timed; peak RSS from the kernel.
//!
//! `cargo run --release --example scale_orii [-- FACTORS [PART_LINES [DATA]]]`, FACTORS e.g.
//! `10,100` (default), PART_LINES the part size of `History::of_lines` (default
//! `retain_features::PART_LINES`), DATA the dedup CSV of ../shared/data/online_retail_ii
//! (default).
//!
//! The replicated table is built whole in memory, as the reference does. The features are
//! computed as `retain features` and `retain score` compute them: the line table condensed part
//! by part (`History::of_lines`, whole clients per part), then the features at the cutoff from
//! the condensed tables. At x10 the example checks that this gives the one pass's features bit
//! for bit.

use std::time::Instant;

/// The binary's allocator, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use polars::prelude::{DataFrame, IntoLazy};
use retain_clv::{BgNbdParams, RfmData};
use retain_data::{Layout, read_transactions, replicate};
use retain_features::{FEATURES, FeatureMatrix, History, PART_LINES, non_constant};
use retain_models::{ChurnClassifier, GradientBoostingParams};

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

fn column(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .expect("feature column")
        .f64()
        .expect("f64 feature")
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let factors: Vec<u32> = args
        .next()
        .unwrap_or_else(|| "10,100".into())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let part_lines: usize = args.next().map_or(Ok(PART_LINES), |s| s.parse())?;
    let data = args.next().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"
        )
        .into()
    });
    let t0 = Instant::now();
    let tx = read_transactions(data.as_ref(), &Layout::online_retail_ii())?;
    println!(
        "read {} clean lines ({} clients) in {:.2} s",
        tx.stats().lines,
        tx.stats().clients,
        t0.elapsed().as_secs_f64()
    );
    let cutoff: retain_core::Cutoff = "2011-09-09".parse()?;
    // the country table of the original data, as the reference uses for every factor
    let history = History::of(&tx)?;
    let countries = history.country_table(cutoff)?;
    // The classifier of step 3: trained once on the x1 out-of-time training set (features at
    // cutoff - 91 days, labels over the 91 days up to the cutoff), on its non-constant
    // features, as the reference does.
    let horizon = retain_core::Horizon::new(91)?;
    let train = history
        .labelled_set(cutoff.minus(horizon), horizon, &countries)
        .collect()?;
    let used = non_constant(&train, &FEATURES)?;
    let xt = FeatureMatrix::from_frame(&train, &used)?;
    let yt: Vec<bool> = train
        .column("churned")?
        .cast(&polars::prelude::DataType::Float64)?
        .f64()?
        .iter()
        .map(|v| v == Some(1.0))
        .collect();
    let t0 = Instant::now();
    let booster = GradientBoostingParams::new().fit(xt.x.view(), &yt, None)?;
    println!(
        "GBDT classifier (300 trees) fitted on {} clients x {} features in {:.2} s",
        xt.x.nrows(),
        used.len(),
        t0.elapsed().as_secs_f64()
    );
    println!(
        "factor  rows  clients  replicate_s  features_s  bgnbd_fit_s  gbdt_score_s  mean_score  \
         peak_rss_gib  r alpha a b"
    );
    for factor in factors {
        let t0 = Instant::now();
        let big = replicate(tx.frame(), factor)?;
        let t_rep = t0.elapsed().as_secs_f64();
        let rows = big.height();

        let t0 = Instant::now();
        let features = History::of_lines(&big, part_lines)?
            .features_at(cutoff, &countries)
            .collect()?;
        let t_fe = t0.elapsed().as_secs_f64();
        if factor == 10 {
            let whole = History::new(big.clone().lazy())
                .features_at(cutoff, &countries)
                .collect()?;
            assert_eq!(whole.get_column_names(), features.get_column_names());
            for c in whole.columns() {
                let bits = |c: &polars::prelude::Column| -> polars::prelude::PolarsResult<Vec<Option<u64>>> {
                    Ok(c.cast(&polars::prelude::DataType::Float64)?
                        .f64()?
                        .iter()
                        .map(|v| v.map(f64::to_bits))
                        .collect())
                };
                assert!(
                    bits(c)? == bits(features.column(c.name())?)?,
                    "x10: {} differs between parts and one pass",
                    c.name()
                );
            }
            println!(
                "x10: features condensed in parts of {part_lines} lines == features in one pass, bit for bit"
            );
        }
        drop(big);
        let clients = features.height();
        let expected = match factor {
            1 => Some(5_281),
            10 => Some(55_998),
            100 => Some(563_057),
            _ => None,
        };
        if let Some(e) = expected {
            assert_eq!(clients, e, "clients at x{factor} (BENCHMARK.md section 10)");
        }

        let t0 = Instant::now();
        let x = FeatureMatrix::from_frame(&features, &used)?;
        let scores = booster.predict_proba(x.x.view())?;
        let t_score = t0.elapsed().as_secs_f64();
        let mean_score = scores.mean().unwrap_or(f64::NAN);
        drop(x);

        let w = 7.0;
        let data = RfmData::new(
            column(&features, "frequency"),
            column(&features, "recency_lt")
                .iter()
                .map(|v| v / w)
                .collect(),
            column(&features, "T").iter().map(|v| v / w).collect(),
        )?;
        drop(features);
        let t0 = Instant::now();
        let m = BgNbdParams::new().fit(&data)?;
        let t_fit = t0.elapsed().as_secs_f64();
        println!(
            "x{factor}  {rows}  {clients}  {t_rep:.2}  {t_fe:.2}  {t_fit:.3}  {t_score:.3}  \
             {mean_score:.5}  {:.2}  {:.4} {:.4} {:.4} {:.4}",
            peak_rss_gib(),
            m.r(),
            m.alpha(),
            m.a(),
            m.b()
        );
    }
    Ok(())
}
