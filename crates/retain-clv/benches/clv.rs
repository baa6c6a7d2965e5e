//! Criterion benches of every model's fit and predictions on the CDNOW summaries, and of the
//! BG/NBD fit on a synthetic 563,057-client base (the x100 Online Retail II scale).

use criterion::{Criterion, criterion_group, criterion_main};
use retain_clv::{
    BgBbData, BgBbParams, BgNbdParams, ClvParams, GammaGammaParams, MbgNbdParams, ParetoNbdParams,
    RfmData, RfmModel, SpendData,
};
use retain_sim::{BgNbdTruth, GammaGammaTruth, simulate_bgnbd_summaries};
use std::hint::black_box;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/");

fn columns(rel: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(format!("{DATA}{rel}")).expect("data file");
    let mut lines = text.lines();
    let n = lines.next().expect("header").split(',').count();
    let mut cols = vec![Vec::new(); n];
    for l in lines.filter(|l| !l.is_empty()) {
        for (c, v) in cols.iter_mut().zip(l.split(',')) {
            c.push(v.trim().parse::<f64>().expect("number"));
        }
    }
    cols
}

/// 563,057 simulated clients (weeks), with ages and purchase times recorded to the day as in
/// real transaction logs (ages spread over two years).
fn synthetic(n: usize, seed: u64) -> RfmData {
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
    let ages: Vec<f64> = (0..n).map(|i| ((i * 7919) % 730) as f64 / 7.0).collect();
    let s = simulate_bgnbd_summaries(&truth, &gg, &ages, seed);
    let day = |v: f64| (v * 7.0).floor() / 7.0;
    RfmData::new(
        s.iter().map(|c| c.x).collect(),
        s.iter().map(|c| day(c.t_x).min(c.big_t)).collect(),
        s.iter().map(|c| c.big_t).collect(),
    )
    .expect("valid synthetic data")
}

fn benches(c: &mut Criterion) {
    let cd = columns("cdnow_sample/cdnow_customers_summary_with_transactions.csv");
    let rfm = RfmData::new(cd[1].clone(), cd[2].clone(), cd[3].clone()).expect("cdnow");
    let spend = SpendData::repeat_buyers(cd[1].clone(), cd[4].clone()).expect("spend");
    let dn = columns("donations_bgbb/donations.csv");
    let bgbb = BgBbData::with_weights(dn[0].clone(), dn[1].clone(), dn[2].clone(), dn[3].clone())
        .expect("donations");

    let mut g = c.benchmark_group("fit_cdnow");
    g.sample_size(20);
    g.bench_function("bgnbd", |b| {
        b.iter(|| BgNbdParams::new().fit(black_box(&rfm)))
    });
    g.bench_function("mbgnbd", |b| {
        b.iter(|| MbgNbdParams::new().fit(black_box(&rfm)))
    });
    g.bench_function("pareto_nbd", |b| {
        b.iter(|| ParetoNbdParams::new().fit(black_box(&rfm)))
    });
    g.bench_function("gamma_gamma", |b| {
        b.iter(|| GammaGammaParams::new().fit(black_box(&spend)))
    });
    g.bench_function("bgbb_donations", |b| {
        b.iter(|| BgBbParams::new().fit(black_box(&bgbb)))
    });
    g.finish();

    let bg = BgNbdParams::new().fit(&rfm).expect("fit");
    let pn = ParetoNbdParams::new().fit(&rfm).expect("fit");
    let gg = GammaGammaParams::new().fit(&spend).expect("fit");
    let clv = ClvParams::new(52.0)
        .discount_rate(0.002)
        .check()
        .expect("clv");
    let mut g = c.benchmark_group("predict_cdnow");
    g.bench_function("bgnbd_p_alive", |b| {
        b.iter(|| bg.p_alive_all(black_box(&rfm)))
    });
    g.bench_function("bgnbd_expected_39w", |b| {
        b.iter(|| bg.conditional_expected_purchases_all(39.0, black_box(&rfm)))
    });
    g.bench_function("bgnbd_p_no_purchase_13w", |b| {
        b.iter(|| bg.p_no_purchase_all(13.0, black_box(&rfm)))
    });
    g.bench_function("pareto_expected_39w", |b| {
        b.iter(|| pn.conditional_expected_purchases_all(39.0, black_box(&rfm)))
    });
    g.bench_function("pareto_p_no_purchase_13w", |b| {
        b.iter(|| pn.p_no_purchase_all(13.0, black_box(&rfm)))
    });
    g.bench_function("bgnbd_gg_clv_52w_discounted", |b| {
        b.iter(|| {
            (0..rfm.len())
                .map(|i| clv.clv(&bg, &gg, cd[1][i], cd[2][i], cd[3][i], cd[4][i]))
                .sum::<f64>()
        })
    });
    g.finish();

    let big = synthetic(563_057, 42);
    let mut g = c.benchmark_group("fit_synthetic");
    g.sample_size(10);
    g.bench_function("bgnbd_563057_clients", |b| {
        b.iter(|| BgNbdParams::new().fit(black_box(&big)))
    });
    g.finish();
}

criterion_group!(clv_benches, benches);
criterion_main!(clv_benches);
