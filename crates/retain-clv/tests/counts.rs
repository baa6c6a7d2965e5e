//! The customer-base model fitted from counts of identical (frequency, recency, age) rows, as
//! a distributed run aggregates them, is the model fitted on every client, bit for bit: on the
//! CDNOW sample (2,357 clients, many sharing a row), for every purchase model.

mod common;

use std::collections::BTreeMap;

use retain_clv::{ClvModel, RfmKind, RfmRows};

#[test]
fn counts_of_identical_rows_fit_the_model_of_every_client_bit_for_bit() {
    let c = common::read_csv(common::CDNOW_TX);
    // days, as the features hold them
    let f = c[1].clone();
    let r: Vec<f64> = c[2].iter().map(|w| w * 7.0).collect();
    let t: Vec<f64> = c[3].iter().map(|w| w * 7.0).collect();
    let m: Vec<f64> = c[1]
        .iter()
        .zip(&c[4])
        .map(|(x, z)| if *x > 0.0 { *z } else { 0.0 })
        .collect();
    let mut counts: BTreeMap<(u64, u64, u64), f64> = BTreeMap::new();
    for i in 0..f.len() {
        *counts
            .entry((f[i].to_bits(), r[i].to_bits(), t[i].to_bits()))
            .or_default() += 1.0;
    }
    assert!(
        counts.len() < f.len() * 3 / 4,
        "{} distinct rows of {}",
        counts.len(),
        f.len()
    );
    // the distinct rows in reverse order: their order does not matter
    let keys: Vec<_> = counts.iter().rev().collect();
    let col = |k: fn(&(u64, u64, u64)) -> u64| -> Vec<f64> {
        keys.iter().map(|(key, _)| f64::from_bits(k(key))).collect()
    };
    let (df, dr, dt) = (col(|k| k.0), col(|k| k.1), col(|k| k.2));
    let w: Vec<f64> = keys.iter().map(|(_, n)| **n).collect();
    for kind in RfmKind::ALL {
        let every = ClvModel::fit(kind, &RfmRows::new(&f, &r, &t, &m).unwrap()).unwrap();
        let from_counts = ClvModel::fit_counts(kind, (&df, &dr, &dt), &w, (&f, &m)).unwrap();
        assert_eq!(every, from_counts, "{kind:?}");
        assert_eq!(every.purchases.n_clients(), 2357.0);
    }
    // a weight that is not a count is refused, as any bad row is
    let mut bad = w.clone();
    bad[0] = -1.0;
    assert!(ClvModel::fit_counts(RfmKind::Bgnbd, (&df, &dr, &dt), &bad, (&f, &m)).is_err());
}
