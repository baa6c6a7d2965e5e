//! Parameter recovery on data simulated by `retain-sim` with known truth (time in weeks).

use retain_clv::{BgNbdParams, GammaGammaParams, ParetoNbdParams, RfmData, SpendData};
use retain_sim::{
    BgNbdTruth, GammaGammaTruth, ParetoNbdTruth, RfmSummary, simulate_bgnbd_summaries,
    simulate_pareto_nbd_summaries,
};

const GG: GammaGammaTruth = GammaGammaTruth {
    p: 6.0,
    q: 4.0,
    gamma: 15.0,
};

/// Ages spread evenly over `[lo, hi]` weeks.
fn ages(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n)
        .map(|i| lo + (hi - lo) * (i as f64 + 0.5) / n as f64)
        .collect()
}

fn rfm(s: &[RfmSummary]) -> RfmData {
    RfmData::new(
        s.iter().map(|c| c.x).collect(),
        s.iter().map(|c| c.t_x).collect(),
        s.iter().map(|c| c.big_t).collect(),
    )
    .expect("simulated data are valid")
}

fn spend(s: &[RfmSummary]) -> SpendData {
    SpendData::repeat_buyers(
        s.iter().map(|c| c.x).collect(),
        s.iter().map(|c| c.monetary).collect(),
    )
    .expect("simulated spend is valid")
}

/// Counts, per parameter, the replicates whose 95% interval `est +- 1.96 se` covers the truth.
fn tally(cover: &mut [usize], est: &[f64], se: &[f64], truth: &[f64]) {
    for i in 0..truth.len() {
        if (est[i] - truth[i]).abs() <= 1.96 * se[i] {
            cover[i] += 1;
        }
    }
}

fn within(est: &[f64], truth: &[f64], rel: f64, what: &str) {
    for (e, t) in est.iter().zip(truth) {
        assert!(
            (e - t).abs() <= rel * t,
            "{what}: estimate {e} vs truth {t} (estimates {est:?})"
        );
    }
}

// With nominal 95% coverage, at least 16 of 20 replicates cover the truth unless the intervals
// are wrong (P(<= 15 of 20 | 95%) = 1.6%, per parameter).
#[test]
fn bgnbd_and_gamma_gamma_intervals_cover_the_truth() {
    let truth = BgNbdTruth {
        r: 0.5,
        alpha: 5.0,
        a: 0.7,
        b: 2.5,
    };
    let tv = [truth.r, truth.alpha, truth.a, truth.b];
    let gv = [GG.p, GG.q, GG.gamma];
    let ag = ages(2000, 26.0, 78.0);
    let (mut cover, mut gcover) = (vec![0; 4], vec![0; 3]);
    let reps = 20;
    for seed in 0..reps {
        let s = simulate_bgnbd_summaries(&truth, &GG, &ag, 1000 + seed);
        let m = BgNbdParams::new().fit(&rfm(&s)).expect("fit");
        let se = m.standard_errors().expect("se");
        tally(&mut cover, &[m.r(), m.alpha(), m.a(), m.b()], se, &tv);
        let g = GammaGammaParams::new().fit(&spend(&s)).expect("fit");
        tally(
            &mut gcover,
            &[g.p(), g.q(), g.gamma()],
            g.standard_errors().expect("se"),
            &gv,
        );
    }
    eprintln!("BG/NBD coverage {cover:?} / {reps}; Gamma-Gamma coverage {gcover:?} / {reps}");
    assert!(cover.iter().all(|&c| c >= 16), "BG/NBD {cover:?}");
    assert!(gcover.iter().all(|&c| c >= 16), "Gamma-Gamma {gcover:?}");
}

// 6 replicates (Pareto/NBD fits use numerical gradients): P(<= 4 of 6 | 95%) = 3.3%.
#[test]
fn pareto_nbd_intervals_cover_the_truth() {
    let truth = ParetoNbdTruth {
        r: 0.6,
        alpha: 8.0,
        s: 0.8,
        beta: 10.0,
    };
    let tv = [truth.r, truth.alpha, truth.s, truth.beta];
    let ag = ages(1500, 26.0, 78.0);
    let mut cover = vec![0; 4];
    let reps = 6;
    for seed in 0..reps {
        let s = simulate_pareto_nbd_summaries(&truth, &GG, &ag, 2000 + seed);
        let m = ParetoNbdParams::new()
            .n_starts(1)
            .fit(&rfm(&s))
            .expect("fit");
        tally(
            &mut cover,
            &[m.r(), m.alpha(), m.s(), m.beta()],
            m.standard_errors().expect("se"),
            &tv,
        );
    }
    eprintln!("Pareto/NBD coverage {cover:?} / {reps}");
    assert!(cover.iter().all(|&c| c >= 5), "{cover:?}");
}

#[test]
fn bgnbd_and_gamma_gamma_recover_within_5_percent_on_50k_clients() {
    let truth = BgNbdTruth {
        r: 0.8,
        alpha: 6.0,
        a: 0.6,
        b: 2.5,
    };
    let s = simulate_bgnbd_summaries(&truth, &GG, &ages(50_000, 52.0, 156.0), 7);
    let m = BgNbdParams::new().fit(&rfm(&s)).expect("fit");
    let est = [m.r(), m.alpha(), m.a(), m.b()];
    eprintln!("BG/NBD 50k: {est:?} se {:?}", m.standard_errors());
    within(
        &est,
        &[truth.r, truth.alpha, truth.a, truth.b],
        0.05,
        "BG/NBD",
    );
    let g = GammaGammaParams::new().fit(&spend(&s)).expect("fit");
    let est = [g.p(), g.q(), g.gamma()];
    eprintln!(
        "Gamma-Gamma 50k ({} buyers): {est:?} se {:?}",
        g.n_clients(),
        g.standard_errors()
    );
    within(&est, &[GG.p, GG.q, GG.gamma], 0.05, "Gamma-Gamma");
}

#[test]
#[ignore = "about a minute in debug; run with `cargo test --release -p retain-clv -- --ignored`"]
fn pareto_nbd_recovers_within_5_percent_on_50k_clients() {
    let truth = ParetoNbdTruth {
        r: 0.8,
        alpha: 6.0,
        s: 0.8,
        beta: 10.0,
    };
    let s = simulate_pareto_nbd_summaries(&truth, &GG, &ages(50_000, 52.0, 156.0), 11);
    let m = ParetoNbdParams::new().fit(&rfm(&s)).expect("fit");
    let est = [m.r(), m.alpha(), m.s(), m.beta()];
    eprintln!("Pareto/NBD 50k: {est:?} se {:?}", m.standard_errors());
    within(
        &est,
        &[truth.r, truth.alpha, truth.s, truth.beta],
        0.05,
        "Pareto/NBD",
    );
}
