//! Every bad input is refused with an error naming what is wrong.

use retain_eval::{EvalError, churn_metrics, value_metrics};

#[test]
fn length_mismatch_names_the_input() {
    let e = churn_metrics(&[0u8, 1], &[0.1, 0.2, 0.3], &[1, 2], true).unwrap_err();
    assert_eq!(
        e,
        EvalError::LengthMismatch {
            what: "score",
            expected: 2,
            got: 3
        }
    );
    let e = churn_metrics(&[0u8, 1], &[0.1, 0.2], &[1], true).unwrap_err();
    assert_eq!(
        e,
        EvalError::LengthMismatch {
            what: "ids",
            expected: 2,
            got: 1
        }
    );
    let e = value_metrics(&[1.0], &[1.0, 2.0], &[1]).unwrap_err();
    assert!(
        e.to_string().contains("`pred` has 2 entries, expected 1"),
        "{e}"
    );
}

#[test]
fn empty_input_is_refused() {
    let e = churn_metrics::<u8>(&[], &[], &[], false).unwrap_err();
    assert_eq!(e, EvalError::Empty);
    assert_eq!(value_metrics(&[], &[], &[]).unwrap_err(), EvalError::Empty);
}

#[test]
fn a_single_class_is_refused() {
    let e = churn_metrics(&[true, true, true], &[0.1, 0.2, 0.3], &[1, 2, 3], false).unwrap_err();
    assert_eq!(
        e,
        EvalError::SingleClass {
            churned: true,
            n: 3
        }
    );
    assert!(e.to_string().contains("churned (1)"), "{e}");
}

#[test]
fn nan_scores_are_refused_with_their_index() {
    let e = churn_metrics(&[0u8, 1, 0], &[0.1, f64::NAN, 0.3], &[1, 2, 3], false).unwrap_err();
    assert!(
        matches!(
            e,
            EvalError::NonFinite {
                what: "score",
                index: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("index 1"), "{e}");
    let e = value_metrics(&[1.0, 2.0], &[1.0, f64::INFINITY], &[1, 2]).unwrap_err();
    assert!(
        matches!(
            e,
            EvalError::NonFinite {
                what: "pred",
                index: 1,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn bad_labels_and_probabilities_are_refused() {
    let e = churn_metrics(&[0u8, 2, 1], &[0.1, 0.2, 0.3], &[1, 2, 3], false).unwrap_err();
    assert_eq!(
        e,
        EvalError::InvalidLabel {
            index: 1,
            value: "2".into()
        }
    );
    let e = churn_metrics(&[0u8, 1, 1], &[0.1, 1.2, 0.3], &[1, 2, 3], true).unwrap_err();
    assert_eq!(
        e,
        EvalError::ProbabilityOutOfRange {
            index: 1,
            value: 1.2
        }
    );
    // The same scores are fine when they are not probabilities.
    assert!(churn_metrics(&[0u8, 1, 1], &[0.1, 1.2, 0.3], &[1, 2, 3], false).is_ok());
}
