//! Bootstrap intervals: determinism, coverage of a known case, degenerate resamples.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_eval::{BootstrapParams, EvalError, bootstrap, resample, roc_auc};

fn mean_of(x: &[f64]) -> impl Fn(&[usize]) -> f64 + '_ {
    move |idx: &[usize]| idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64
}

#[test]
fn same_seed_same_interval_other_seed_other_interval() {
    let x: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64).collect();
    let p = BootstrapParams::default().n_resamples(300).seed(7);
    let a = bootstrap(x.len(), &p, mean_of(&x)).unwrap();
    let b = bootstrap(x.len(), &p, mean_of(&x)).unwrap();
    assert_eq!(a, b);
    let c = bootstrap(x.len(), &p.seed(8), mean_of(&x)).unwrap();
    assert_ne!((a.lower, a.upper), (c.lower, c.upper));
    assert!(a.lower < a.estimate && a.estimate < a.upper);
}

#[test]
fn interval_of_a_mean_is_close_to_the_normal_interval() {
    // For the mean of n = 2000 uniform(0, 1) draws, the 95% interval is about
    // mean +- 1.96 * sd / sqrt(n), half-width 1.96 * 0.2887 / 44.72 = 0.01265.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x: Vec<f64> = (0..2000).map(|_| rng.random::<f64>()).collect();
    let ci = bootstrap(x.len(), &BootstrapParams::default(), mean_of(&x)).unwrap();
    let half = (ci.upper - ci.lower) / 2.0;
    assert!((half - 0.01265).abs() < 0.0015, "half-width {half}");
    assert!((ci.estimate - (ci.upper + ci.lower) / 2.0).abs() < 0.002);
    assert_eq!(ci.n_failed, 0);
}

#[test]
fn single_class_resamples_are_counted_and_skipped() {
    // One churner in 12: many resamples have no churner, where AUC is undefined.
    let y: Vec<u8> = (0..12).map(|i| u8::from(i == 3)).collect();
    let s: Vec<f64> = (0..12).map(|i| i as f64 / 12.0).collect();
    let auc = |idx: &[usize]| roc_auc(&resample(&y, idx), &resample(&s, idx)).unwrap_or(f64::NAN);
    let ci = bootstrap(y.len(), &BootstrapParams::default().n_resamples(400), auc).unwrap();
    assert!(ci.n_failed > 50 && ci.n_failed < 250, "{}", ci.n_failed);
    assert!(ci.lower >= 0.0 && ci.upper <= 1.0);
}

#[test]
fn bad_settings_are_refused() {
    let x = [1.0, 2.0];
    let e = bootstrap(2, &BootstrapParams::default().level(1.0), mean_of(&x)).unwrap_err();
    assert!(matches!(
        e,
        EvalError::InvalidParameter { name: "level", .. }
    ));
    let e = bootstrap(2, &BootstrapParams::default().n_resamples(0), mean_of(&x)).unwrap_err();
    assert!(matches!(
        e,
        EvalError::InvalidParameter {
            name: "n_resamples",
            ..
        }
    ));
    assert_eq!(
        bootstrap(0, &BootstrapParams::default(), |_| 0.0).unwrap_err(),
        EvalError::Empty
    );
}
