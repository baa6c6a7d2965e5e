//! Times the BG/NBD fit on a client summary CSV, as `scripts/bench_clv_vs_lifetimes.sh` does for
//! lifetimes' `BetaGeoFitter.fit` on the same file.
//!
//! `cargo run --release -p retain-clv --example fit_bgnbd_csv -- FILE [REPS]`
//!
//! FILE has a header with `frequency`, `recency_lt` and `T` (days, as `retain features` writes
//! them); times are divided by 7 (weeks, BENCHMARK.md section 5). Prints one line: the median
//! seconds of REPS fits (default 7), each including the data checks and compression, then the
//! fitted parameters and log-likelihood.

use std::time::Instant;

use retain_clv::{BgNbdParams, RfmData};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: fit_bgnbd_csv FILE [REPS]")?;
    let reps: usize = args.next().map_or(Ok(7), |s| s.parse())?;
    let text = std::fs::read_to_string(&path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').collect();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h.trim_matches('"') == name)
            .ok_or(format!("{path}: no column `{name}`"))
    };
    let (ix, it_x, it) = (at("frequency")?, at("recency_lt")?, at("T")?);
    let (mut x, mut t_x, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for (row, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let num = |j: usize| -> Result<f64, String> {
            cells
                .get(j)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or(format!(
                    "{path}: row {}: column {j} is not a number",
                    row + 2
                ))
        };
        x.push(num(ix)?);
        t_x.push(num(it_x)? / 7.0);
        t.push(num(it)? / 7.0);
    }
    let mut times = Vec::with_capacity(reps);
    let mut model = None;
    for _ in 0..reps.max(1) {
        let (x, t_x, t) = (x.clone(), t_x.clone(), t.clone());
        let t0 = Instant::now();
        let m = BgNbdParams::new().fit(&RfmData::new(x, t_x, t)?)?;
        times.push(t0.elapsed().as_secs_f64());
        model = Some(m);
    }
    times.sort_by(f64::total_cmp);
    let m = model.expect("at least one fit");
    println!(
        "retain n={} median_s={:.6} r={:.6} alpha={:.6} a={:.6} b={:.6} ll={:.4}",
        x.len(),
        times[times.len() / 2],
        m.r(),
        m.alpha(),
        m.a(),
        m.b(),
        m.log_likelihood()
    );
    Ok(())
}
