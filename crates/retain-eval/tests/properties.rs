//! Properties of the metrics on seeded random inputs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_eval::{average_precision, churn_metrics, roc_auc, spearman, value_metrics};

/// Random labels (both classes guaranteed) and scores; `round` > 0 rounds scores to create ties.
fn sample(rng: &mut ChaCha8Rng, n: usize, round: f64) -> (Vec<u8>, Vec<f64>) {
    let mut y: Vec<u8> = (0..n)
        .map(|_| u8::from(rng.random::<f64>() < 0.4))
        .collect();
    y[0] = 0;
    y[1] = 1;
    let s = y
        .iter()
        .map(|&l| {
            let v: f64 = rng.random::<f64>() + 0.3 * f64::from(l);
            if round > 0.0 {
                (v / round).round() * round
            } else {
                v
            }
        })
        .collect();
    (y, s)
}

/// O(n^2) definition: P(score+ > score-) + 0.5 P(score+ = score-).
fn brute_auc(y: &[u8], s: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..y.len() {
        for j in 0..y.len() {
            if y[i] == 1 && y[j] == 0 {
                den += 1.0;
                num += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    num / den
}

/// O(n^2) step-wise AP: sum over distinct thresholds t of (R(t) - R(t_prev)) P(t).
fn brute_ap(y: &[u8], s: &[f64]) -> f64 {
    let mut thr = s.to_vec();
    thr.sort_by(|a, b| b.total_cmp(a));
    thr.dedup();
    let pos = y.iter().filter(|&&l| l == 1).count() as f64;
    let (mut ap, mut prev) = (0.0, 0.0);
    for t in thr {
        let sel: Vec<usize> = (0..y.len()).filter(|&i| s[i] >= t).collect();
        let tp = sel.iter().filter(|&&i| y[i] == 1).count() as f64;
        let r = tp / pos;
        ap += (r - prev) * tp / sel.len() as f64;
        prev = r;
    }
    ap
}

#[test]
fn auc_and_ap_match_their_quadratic_definitions_with_ties() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for n in [2, 3, 10, 57, 200] {
        for round in [0.0, 0.1, 0.5] {
            let (y, s) = sample(&mut rng, n, round);
            let auc = roc_auc(&y, &s).unwrap();
            assert!(
                (auc - brute_auc(&y, &s)).abs() < 1e-12,
                "n={n} round={round}"
            );
            let ap = average_precision(&y, &s).unwrap();
            assert!((ap - brute_ap(&y, &s)).abs() < 1e-12, "n={n} round={round}");
        }
    }
}

#[test]
fn auc_of_negated_score_is_one_minus_auc() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for n in [2, 9, 100, 1000] {
        for round in [0.0, 0.2] {
            let (y, s) = sample(&mut rng, n, round);
            let neg: Vec<f64> = s.iter().map(|v| -v).collect();
            let a = roc_auc(&y, &s).unwrap();
            assert!((a + roc_auc(&y, &neg).unwrap() - 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn ranking_metrics_are_invariant_to_monotone_transforms() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let ids: Vec<i64> = (0..300).collect();
    let (y, s) = sample(&mut rng, 300, 0.05);
    let base = churn_metrics(&y, &s, &ids, false).unwrap();
    let transforms: [fn(f64) -> f64; 3] = [|v| 3.0 * v - 7.0, |v| v.exp(), |v| (v * 4.0).atan()];
    for f in transforms {
        let t: Vec<f64> = s.iter().map(|&v| f(v)).collect();
        let m = churn_metrics(&y, &t, &ids, false).unwrap();
        assert!((m.roc_auc - base.roc_auc).abs() < 1e-12);
        assert!((m.pr_auc - base.pr_auc).abs() < 1e-12);
        assert_eq!(m.top_decile_lift, base.top_decile_lift);
        let a: Vec<f64> = y.iter().map(|&l| f64::from(l)).collect();
        assert!((spearman(&a, &t) - spearman(&a, &s)).abs() < 1e-12);
    }
}

#[test]
fn perfect_order_has_normalized_gini_one_and_auc_one() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let n = 250;
    let ids: Vec<i64> = (0..n as i64).rev().collect();
    let v: Vec<f64> = (0..n)
        .map(|_| (rng.random::<f64>() - 0.2) * 100.0)
        .collect();
    let pred: Vec<f64> = v.iter().map(|x| 2.0 * x + 5.0).collect();
    let m = value_metrics(&v, &pred, &ids).unwrap();
    assert!((m.normalized_gini - 1.0).abs() < 1e-12);
    assert!((m.spearman - 1.0).abs() < 1e-12);
    let y: Vec<u8> = v.iter().map(|&x| u8::from(x > 30.0)).collect();
    assert_eq!(roc_auc(&y, &v).unwrap(), 1.0);
    assert_eq!(average_precision(&y, &v).unwrap(), 1.0);
}
