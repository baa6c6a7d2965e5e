//! EMPC against a hand derivation, brute-force integration and the `empulse` package.
//! Every expected value is printed by `tests/oracle/empc_oracle.py` (numpy, scipy 1.17.1,
//! empulse 0.13.1).

use retain_eval::{EmpcParams, EvalError, empc, empc_individual};

fn close(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "got {got:.17}, want {want:.17}"
    );
}

const TINY_Y: [u8; 4] = [1, 0, 1, 0];
const TINY_S: [f64; 4] = [0.9, 0.8, 0.3, 0.1];

const A_Y: [u8; 20] = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1];
const A_P: [f64; 20] = [
    0.8, 0.8, 0.8, 0.75, 0.6, 0.6, 0.6, 0.5, 0.45, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.0, 0.05,
    1.0, 0.55,
];

#[test]
fn tiny_example_by_hand() {
    // ROC hull (FPR, TPR): (0,0), (0,.5), (.5,1), (1,1); pi0 = pi1 = 1/2; delta = .05, phi = .005.
    // gamma_0 = phi / (1 - delta) = 1/190, gamma_1 = (delta + 2 phi) / (1 - delta) = 6/95.
    // Point 1 pays 47.5 g - 0.25 on [1/190, 6/95], point 2 pays 95 g - 3.25 on [6/95, 1]:
    // EMPC = 47.5 (M(g1) - M(g0)) - 0.25 (I(g1) - I(g0)) + 95 (M(1) - M(g1)) - 3.25 (1 - I(g1)),
    // I(x) = betainc(6, 14, x), M(x) = 0.3 betainc(7, 14, x)  (empc_oracle.py part 1).
    let m = empc(&TINY_Y, &TINY_S, &EmpcParams::default()).unwrap();
    close(m.empc, 25.250395612245125, 1e-12);
    // 0.25 (I(g1) - I(g0)) + 0.75 (1 - I(g1))
    close(m.fraction_targeted, 0.7495800508085078, 1e-12);
}

#[test]
fn matches_empulse() {
    // empulse.metrics.empc_score(y, s) and empc_score.optimal_rate(y, s), default parameters.
    let doc_y = [0u8, 1, 0, 1, 0, 1, 0, 1];
    let doc_s = [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9];
    let m = empc(&doc_y, &doc_s, &EmpcParams::default()).unwrap();
    close(m.empc, 23.875593418348124, 1e-12);
    close(m.fraction_targeted, 0.8743700763487141, 1e-12);
    let m = empc(&A_Y, &A_P, &EmpcParams::default()).unwrap();
    close(m.empc, 29.20034541122455, 1e-12);
    close(m.fraction_targeted, 0.9996189536037533, 1e-12);
    // empc_score(A_Y, A_P, alpha=2, beta=3, clv=50, incentive_cost=5, contact_cost=2)
    let p = EmpcParams {
        alpha: 2.0,
        beta: 3.0,
        clv: 50.0,
        incentive: 5.0,
        contact_cost: 2.0,
    };
    let m = empc(&A_Y, &A_P, &p).unwrap();
    close(m.empc, 6.990012208217836, 1e-12);
    close(m.fraction_targeted, 0.8746820843026865, 1e-12);
}

#[test]
fn matches_brute_force_integration_over_all_roc_points() {
    // scipy.integrate.quad of max over every ROC point of P(t; g) times the Beta(6, 14) density
    // (empc_oracle.py part 2; quad's error estimate 2.5e-12).
    let m = empc(&A_Y, &A_P, &EmpcParams::default()).unwrap();
    close(m.empc, 29.20034541122463, 1e-10);
}

#[test]
fn perfect_ranking_is_the_upper_bound() {
    // A perfect score targets exactly the churners for every gamma above phi / (1 - delta):
    // EMPC = pi0 int_{f/(CLV-d)}^1 (g (CLV - d) - f) h(g) dg, which is no less than any other score.
    let p = EmpcParams::default();
    let y: Vec<u8> = (0..40).map(|i| u8::from(i % 3 == 0)).collect();
    let perfect: Vec<f64> = y.iter().map(|&l| f64::from(l)).collect();
    let best = empc(&y, &perfect, &p).unwrap();
    let noisy: Vec<f64> = (0..40)
        .map(|i| f64::from(y[i]) + ((i * 7) % 10) as f64 / 8.0)
        .collect();
    let m = empc(&y, &noisy, &p).unwrap();
    assert!(m.empc < best.empc);
    // With the cutoff 1/190 far in the left tail of Beta(6, 14), almost all of the mass is used:
    // EMPC ~ pi0 (0.3 * 190 - 1) = (14/40) * 56 = 19.6.
    close(best.empc, 19.6, 1e-6);
    close(best.fraction_targeted, 14.0 / 40.0, 1e-6);
}

#[test]
fn individual_clv_profit_at_the_optimal_fraction() {
    // fraction 0.74958 of 4 clients -> round(2.998) = 3 targeted: ids 1 (churner), 2, 3 (churner).
    // (0.3 (100 - 10) - 1) + (-(10 + 1)) + (0.3 (300 - 10) - 1) = 26 - 11 + 86 = 101; / 4 = 25.25.
    let clv = [100.0, 500.0, 300.0, 50.0];
    let r = empc_individual(
        &TINY_Y,
        &TINY_S,
        &[1, 2, 3, 4],
        &clv,
        &EmpcParams::default(),
    )
    .unwrap();
    assert_eq!(r.n_targeted, 3);
    close(r.total_profit, 101.0, 1e-12);
    close(r.profit_per_client, 25.25, 1e-12);
    close(r.fraction_targeted, 0.7495800508085078, 1e-12);
}

#[test]
fn bad_parameters_are_refused() {
    let p = EmpcParams {
        clv: 5.0,
        ..EmpcParams::default()
    };
    let e = empc(&TINY_Y, &TINY_S, &p).unwrap_err();
    assert!(
        matches!(e, EvalError::InvalidParameter { name: "clv", .. }),
        "{e:?}"
    );
    let p = EmpcParams {
        alpha: 0.0,
        ..EmpcParams::default()
    };
    assert!(matches!(
        empc(&TINY_Y, &TINY_S, &p).unwrap_err(),
        EvalError::InvalidParameter { name: "alpha", .. }
    ));
    let e = empc_individual(
        &TINY_Y,
        &TINY_S,
        &[1, 2, 3, 4],
        &[1.0],
        &EmpcParams::default(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        EvalError::LengthMismatch {
            what: "clv",
            expected: 4,
            got: 1
        }
    );
}
