//! Shared test helpers: readers of the published data sets.
#![allow(dead_code)]

use retain_clv::{BgBbData, RfmData, SpendData};

pub const CDNOW: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/cdnow_sample/cdnow_customers_summary.csv"
);
pub const CDNOW_TX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/cdnow_sample/cdnow_customers_summary_with_transactions.csv"
);
pub const DONATIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/donations_bgbb/donations.csv"
);

/// Columns of a small numeric CSV with a header.
pub fn read_csv(path: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).expect("data file");
    let mut lines = text.lines();
    let ncol = lines.next().expect("header").split(',').count();
    let mut cols = vec![Vec::new(); ncol];
    for line in lines.filter(|l| !l.trim().is_empty()) {
        for (c, v) in cols.iter_mut().zip(line.split(',')) {
            c.push(v.trim().parse::<f64>().expect("number"));
        }
    }
    cols
}

pub fn cdnow() -> RfmData {
    let c = read_csv(CDNOW);
    RfmData::new(c[1].clone(), c[2].clone(), c[3].clone()).expect("valid CDNOW")
}

pub fn cdnow_spend() -> SpendData {
    let c = read_csv(CDNOW_TX);
    SpendData::repeat_buyers(c[1].clone(), c[4].clone()).expect("valid spend")
}

pub fn donations() -> BgBbData {
    let c = read_csv(DONATIONS);
    BgBbData::with_weights(c[0].clone(), c[1].clone(), c[2].clone(), c[3].clone())
        .expect("valid donations")
}

/// Asserts `got` equals `want` to `sig` significant figures (relative 0.5 * 10^(1-sig) plus
/// rounding of the published value).
pub fn sig(got: f64, want: f64, sig: i32) {
    let tol = 0.5 * 10f64.powi(1 - sig) * want.abs() + 0.5 * 10f64.powi(-4) * want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tol,
        "got {got}, published {want} ({sig} s.f.)"
    );
}
