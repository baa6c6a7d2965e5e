//! The curves and the BG/NBD fit diagnostics of the report.

use approx::assert_relative_eq;
use retain_report::diagnostics::{
    BgNbdParameters, HoldoutScores, area, diagnose, pr_curve, roc_curve,
};
use retain_report::kpis::{Line, Lines};

fn scores() -> HoldoutScores {
    HoldoutScores {
        name: "m".into(),
        ids: vec![1, 2, 3, 4, 5, 6],
        churned: vec![true, false, true, true, false, false],
        // a tie between two churners at 0.5
        score: vec![0.9, 0.8, 0.5, 0.5, 0.2, 0.1],
    }
}

#[test]
fn the_roc_curve_by_hand_and_its_area_is_the_auc() {
    let s = scores();
    // thresholds 0.9 (tp 1), 0.8 (fp 1), 0.5 (tp 2, fp 1: the tie taken at once), 0.2, 0.1
    let roc = roc_curve(&s);
    let third = 1.0 / 3.0;
    let expect = [
        (0.0, 0.0),
        (0.0, third),
        (third, third),
        (third, 1.0),
        (2.0 * third, 1.0),
        (1.0, 1.0),
    ];
    assert_eq!(roc.len(), expect.len());
    for (a, b) in roc.iter().zip(expect) {
        assert_relative_eq!(a.0, b.0, epsilon = 1e-12);
        assert_relative_eq!(a.1, b.1, epsilon = 1e-12);
    }
    let auc = retain_eval::roc_auc(&s.churned, &s.score).unwrap();
    assert_relative_eq!(area(&roc), auc, epsilon = 1e-12);
    // by hand: 9 (churner, non-churner) pairs; the churner scores higher in 7 (0.9 beats all
    // three, each 0.5 beats 0.2 and 0.1 but not 0.8)
    assert_relative_eq!(auc, 7.0 / 9.0, epsilon = 1e-12);
}

#[test]
fn the_precision_recall_curve_by_hand() {
    let pr = pr_curve(&scores());
    // (recall, precision): start at the first threshold's precision 1, then 1/3 at 1/1,
    // 1/3 at 1/2, 1 at 3/4 (the tie), 1 at 3/5, 1 at 3/6
    let expect = [
        (0.0, 1.0),
        (1.0 / 3.0, 1.0),
        (1.0 / 3.0, 0.5),
        (1.0, 0.75),
        (1.0, 0.6),
        (1.0, 0.5),
    ];
    assert_eq!(pr.len(), expect.len());
    for (a, b) in pr.iter().zip(expect) {
        assert_relative_eq!(a.0, b.0, epsilon = 1e-12);
        assert_relative_eq!(a.1, b.1, epsilon = 1e-12);
    }
}

fn buy(client: i64, day: i32) -> Line {
    Line {
        client,
        day,
        amount: 10.0,
        invoice: None,
        is_return: false,
    }
}

#[test]
fn the_fit_diagnostics_add_up() {
    // cutoff day 100, horizon 14: client 1 buys on 0, 7, 14 and 105 (x = 2, not churned);
    // client 2 on 50 only (x = 0, churned); client 3 only after the cutoff (not evaluated)
    let lines = Lines::new(vec![
        buy(1, 0),
        buy(1, 7),
        buy(1, 14),
        buy(1, 105),
        buy(2, 50),
        buy(3, 103),
    ]);
    let p = BgNbdParameters {
        r: 0.24,
        alpha: 4.4,
        a: 0.79,
        b: 2.43,
    };
    let d = diagnose(&lines, p, 100, 14).unwrap();
    assert_eq!(d.bgnbd.ids, vec![1, 2]);
    assert_eq!(d.bgnbd.churned, vec![false, true]);
    assert_eq!(
        d.baseline.score,
        vec![86.0, 50.0],
        "days since the last purchase"
    );
    assert!(d.bgnbd.score.iter().all(|p| (0.0..=1.0).contains(p)));
    // the histogram: one client with 0 repeat purchases, one with 2; the model's expected
    // counts sum to the 2 clients (P(X(T) = x) over x = 0..6 and 7+)
    assert_eq!(d.fit.actual, vec![1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    assert_relative_eq!(d.fit.expected.iter().sum::<f64>(), 2.0, epsilon = 1e-9);
    assert_eq!(d.fit.bins.last().unwrap(), "7+");
    // cumulative repeat purchases: days 7, 14 and 105 (in the holdout) are the 3 repeats
    assert_eq!(*d.fit.cum_actual.last().unwrap(), 3.0);
    assert!(d.fit.cum_actual.windows(2).all(|w| w[0] <= w[1]));
    assert!(d.fit.cum_expected.windows(2).all(|w| w[0] <= w[1]));
    assert_relative_eq!(d.fit.cutoff_week, 101.0 / 7.0);
}
