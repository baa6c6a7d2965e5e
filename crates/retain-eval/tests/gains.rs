//! Gains table: values worked out by hand on a small fixture, and its invariants.

use retain_eval::{EvalError, churn_metrics, gains_table};

// Fixture A of tests/oracle.rs. Ranked by p desc, id asc, the labels read
// [1,0 | 1,1 | 1,0 | 0,1 | 1,0 | 1,1 | 0,1 | 0,1 | 0,1 | 0,1] (ten bins of two); 12 churners of 20.
const A_IDS: [i64; 20] = [
    15, 3, 8, 21, 4, 11, 9, 2, 17, 6, 30, 12, 5, 14, 1, 7, 19, 10, 13, 16,
];
const A_Y: [u8; 20] = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1];
const A_P: [f64; 20] = [
    0.8, 0.8, 0.8, 0.75, 0.6, 0.6, 0.6, 0.5, 0.45, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.0, 0.05,
    1.0, 0.55,
];

fn close(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
}

#[test]
fn decile_gains_by_hand() {
    let rows = gains_table(&A_Y, &A_P, &A_IDS, 10).unwrap();
    let churners: Vec<usize> = rows.iter().map(|r| r.churners).collect();
    assert_eq!(churners, [1, 2, 1, 1, 1, 2, 1, 1, 1, 1]);
    assert!(rows.iter().all(|r| r.count == 2));
    // Bin 1: ids 13 (p 1.0) and 3 (p 0.8, wins the tie with 8 and 15 by id).
    close(rows[0].churn_rate, 0.5);
    close(rows[0].lift, 0.5 / 0.6);
    close(rows[0].cum_churn_share, 1.0 / 12.0);
    assert_eq!((rows[0].min_score, rows[0].max_score), (0.8, 1.0));
    // Bin 2: ids 8 and 15, both churned.
    close(rows[1].lift, 1.0 / 0.6);
    close(rows[1].cum_churn_share, 3.0 / 12.0);
    close(rows[1].cum_lift, 0.75 / 0.6);
    // Bin 3: ids 21 (churned) and 4.
    assert_eq!((rows[2].cum_count, rows[2].cum_churners), (6, 4));
    close(rows[2].cum_lift, (4.0 / 6.0) / 0.6);
    // Last bin: everything captured.
    close(rows[9].cum_churn_share, 1.0);
    close(rows[9].cum_lift, 1.0);
    assert_eq!((rows[9].min_score, rows[9].max_score), (0.0, 0.05));
}

#[test]
fn first_bin_is_the_top_decile_and_sizes_differ_by_at_most_one() {
    // 23 clients: bin edges ceil(b * 23 / 10) = 0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 23.
    let y: Vec<u8> = (0..23).map(|i| u8::from(i % 3 != 1)).collect();
    let s: Vec<f64> = (0..23).map(|i| ((i * 7) % 5) as f64).collect();
    let ids: Vec<i64> = (0..23).map(|i| 100 - i).collect();
    let rows = gains_table(&y, &s, &ids, 10).unwrap();
    let sizes: Vec<usize> = rows.iter().map(|r| r.count).collect();
    assert_eq!(sizes, [3, 2, 2, 3, 2, 2, 3, 2, 2, 2]);
    let m = churn_metrics(&y, &s, &ids, false).unwrap();
    close(rows[0].cum_lift, m.top_decile_lift);
    assert_eq!(rows.last().unwrap().cum_count, 23);
}

#[test]
fn too_many_bins_are_refused() {
    let e = gains_table(&[0u8, 1, 1], &[0.1, 0.2, 0.3], &[1, 2, 3], 10).unwrap_err();
    assert!(
        matches!(e, EvalError::InvalidParameter { name: "n_bins", .. }),
        "{e:?}"
    );
}
