//! The scale test of BENCHMARK.md section 8: Online Retail II replicated x10 and x100 in memory,
//! features at the cutoff, and the BG/NBD fit on them, each timed; peak RSS from the kernel.
//!
//! `cargo run --release --example scale_orii [-- FACTORS [CHUNK [DATA]]]`, FACTORS e.g. `10,100`
//! (default), DATA the dedup CSV of ../shared/data/online_retail_ii (default).
//!
//! The replicated table is built whole in memory, as the reference does. The features are
//! computed over it CHUNK replicas at a time (default 10; zero-copy row slices, since the table
//! comes replica by replica): a client's features depend on its own lines only and the replicas
//! have disjoint clients, so the result is the same frame as one pass over the whole table (the
//! example checks it at x10), with a peak memory of the table plus one chunk's working set
//! instead of about 17 GiB at x100.

use std::time::Instant;

use polars::prelude::{DataFrame, IntoLazy};
use retain_clv::{BgNbdParams, RfmData};
use retain_core::day_number;
use retain_data::{Layout, read_transactions, replicate};
use retain_features::{country_table, features_at};

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
    let chunk: usize = args.next().map_or(Ok(10), |s| s.parse())?;
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
    let cutoff = day_number(chrono::NaiveDate::from_ymd_opt(2011, 9, 9).expect("date"));
    // the country table of the original data, as the reference uses for every factor
    let countries = country_table(tx.lazy(), cutoff)?;
    println!(
        "factor  rows  clients  replicate_s  features_s  bgnbd_fit_s  peak_rss_gib  r alpha a b"
    );
    for factor in factors {
        let t0 = Instant::now();
        let big = replicate(tx.frame(), factor)?;
        let t_rep = t0.elapsed().as_secs_f64();
        let rows = big.height();

        let t0 = Instant::now();
        let per_replica = tx.frame().height();
        let mut features: Option<DataFrame> = None;
        for start in (0..factor as usize).step_by(chunk.max(1)) {
            let replicas = chunk.min(factor as usize - start);
            let part = big.slice((start * per_replica) as i64, replicas * per_replica);
            let f = features_at(part.lazy(), cutoff, &countries).collect()?;
            match features.as_mut() {
                None => features = Some(f),
                Some(all) => {
                    all.vstack_mut(&f)?;
                }
            }
        }
        let mut features = features.expect("factor >= 1");
        features.rechunk_mut_par();
        let t_fe = t0.elapsed().as_secs_f64();
        if factor == 10 && chunk < 10 {
            let whole = features_at(big.clone().lazy(), cutoff, &countries).collect()?;
            let mut worst = 0.0_f64;
            for c in whole.columns() {
                let f64s =
                    |c: &polars::prelude::Column| -> polars::prelude::PolarsResult<Vec<f64>> {
                        Ok(c.cast(&polars::prelude::DataType::Float64)?
                            .f64()?
                            .iter()
                            .map(|v| v.unwrap_or(f64::NAN))
                            .collect())
                    };
                let (a, b) = (f64s(c)?, f64s(features.column(c.name())?)?);
                for (u, v) in a.iter().zip(&b) {
                    // float sums in another order: equal to rounding (absolute 1e-9 near zero)
                    let d = (u - v).abs();
                    assert!(
                        d <= 1e-9_f64.max(1e-12 * u.abs()),
                        "{}: {u} vs {v}",
                        c.name()
                    );
                    worst = worst.max(d / u.abs().max(1.0));
                }
            }
            println!(
                "x10: features by chunks of {chunk} replicas == features in one pass \
                 (largest difference {worst:.1e}, relative to max(|value|, 1): summation order)"
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
            "x{factor}  {rows}  {clients}  {t_rep:.2}  {t_fe:.2}  {t_fit:.3}  {:.2}  {:.4} {:.4} {:.4} {:.4}",
            peak_rss_gib(),
            m.r(),
            m.alpha(),
            m.a(),
            m.b()
        );
    }
    Ok(())
}
