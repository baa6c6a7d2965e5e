//! A seeded sample of clients: whole clients, the share asked for, nested across fractions,
//! and the same whatever part of the input a client's lines arrive in.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use polars::prelude::*;
use retain_data::{DataError, Layout, Transactions, cols, read_transactions};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/sample/transactions.csv.gz"
);

fn sample() -> Transactions {
    read_transactions(Path::new(SAMPLE), &Layout::online_retail_ii()).unwrap()
}

fn clients(tx: &Transactions) -> BTreeSet<i64> {
    tx.frame()
        .column(cols::CLIENT)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn lines_per_client(tx: &Transactions) -> BTreeMap<i64, usize> {
    let mut n = BTreeMap::new();
    for c in tx
        .frame()
        .column(cols::CLIENT)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
    {
        *n.entry(c).or_insert(0) += 1;
    }
    n
}

#[test]
fn a_client_sample_keeps_whole_clients_in_the_share_asked_for() {
    let tx = sample();
    let all = clients(&tx);
    let n = all.len() as f64;
    for (fraction, seed) in [(0.5, 0_u64), (0.2, 7), (0.8, 7)] {
        let s = tx.sample_clients(fraction, seed).unwrap();
        let kept = clients(&s);
        assert!(kept.is_subset(&all));
        // a binomial share: within 4 standard deviations of the fraction
        let sd = (fraction * (1.0 - fraction) / n).sqrt();
        let share = kept.len() as f64 / n;
        assert!(
            (share - fraction).abs() < 4.0 * sd,
            "{share} of {n} clients kept for {fraction}"
        );
        assert_eq!(s.stats().clients, kept.len() as u64);
        assert_eq!(s.stats().lines, s.frame().height() as u64);
        // every kept client keeps all its lines
        let mut whole = lines_per_client(&tx);
        whole.retain(|c, _| kept.contains(c));
        assert_eq!(whole, lines_per_client(&s));
    }
    // nested: the clients of a smaller fraction are kept by a larger one with the same seed
    let small = clients(&tx.sample_clients(0.3, 11).unwrap());
    let large = clients(&tx.sample_clients(0.6, 11).unwrap());
    assert!(small.is_subset(&large) && small.len() < large.len());
    // another seed, another sample; the whole at 1
    assert_ne!(
        clients(&tx.sample_clients(0.5, 1).unwrap()),
        clients(&tx.sample_clients(0.5, 2).unwrap())
    );
    assert_eq!(clients(&tx.sample_clients(1.0, 3).unwrap()), all);
}

#[test]
fn a_client_sample_is_the_same_from_any_split_of_the_lines() {
    let tx = sample();
    let whole = tx.sample_clients(0.4, 5).unwrap();
    // the lines split by client parity, each half read on its own and sampled
    let mut parts = BTreeSet::new();
    for parity in [0_i64, 1] {
        let half = tx
            .frame()
            .clone()
            .lazy()
            .filter((col(cols::CLIENT) % lit(2)).eq(lit(parity)))
            .collect()
            .unwrap();
        let half = Transactions::from_frame(half, "half", Layout::online_retail_ii()).unwrap();
        parts.extend(clients(&half.sample_clients(0.4, 5).unwrap()));
    }
    assert_eq!(parts, clients(&whole));
}

#[test]
fn a_client_sample_refuses_a_fraction_outside_zero_to_one() {
    let tx = sample();
    for bad in [0.0, -0.5, 1.5, f64::NAN] {
        match tx.sample_clients(bad, 0) {
            Err(DataError::Config(m)) => assert!(m.contains("fraction"), "{m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}
