//! Times the BG/NBD fit on 563,057 simulated clients (day-resolution ages and recencies).
//! `cargo run --release -p retain-clv --example fit_563k`

use retain_clv::{BgNbdParams, RfmData};
use retain_sim::{BgNbdTruth, GammaGammaTruth, simulate_bgnbd_summaries};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let truth = BgNbdTruth {
        r: 0.636,
        alpha: 8.938,
        a: 0.172,
        b: 2.713,
    };
    let gg = GammaGammaTruth {
        p: 2.2,
        q: 3.5,
        gamma: 458.0,
    };
    let n: usize = 563_057;
    let ages: Vec<f64> = (0..n).map(|i| ((i * 7919) % 730) as f64 / 7.0).collect();
    let s = simulate_bgnbd_summaries(&truth, &gg, &ages, 42);
    let day = |v: f64| (v * 7.0).floor() / 7.0;
    let data = RfmData::new(
        s.iter().map(|c| c.x).collect(),
        s.iter().map(|c| day(c.t_x).min(c.big_t)).collect(),
        s.iter().map(|c| c.big_t).collect(),
    )?;
    println!("{}", data.summary());
    for starts in [1, 3] {
        let t0 = Instant::now();
        let m = BgNbdParams::new().n_starts(starts).fit(&data)?;
        println!(
            "n_starts={starts}: {:.3} s, r={:.4} alpha={:.4} a={:.4} b={:.4} iterations={}",
            t0.elapsed().as_secs_f64(),
            m.r(),
            m.alpha(),
            m.a(),
            m.b(),
            m.iterations()
        );
    }
    Ok(())
}
