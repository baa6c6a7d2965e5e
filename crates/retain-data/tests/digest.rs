//! The lines' fingerprint ([`LinesDigest`]) the model cards record: the same for the same
//! lines whatever the split into pieces of whole clients and whatever the pieces' order, and
//! different when a line changes, goes or comes.

use std::path::Path;

use polars::prelude::*;
use retain_data::{LinesDigest, Transactions, cols, read_transactions};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/sample/transactions.csv.gz"
);

fn sample() -> Transactions {
    read_transactions(Path::new(SAMPLE), &retain_data::Layout::online_retail_ii()).unwrap()
}

/// The lines of the clients for which `keep` holds (the order kept).
fn clients_where(frame: &DataFrame, keep: impl Fn(i64) -> bool) -> DataFrame {
    let mask: BooleanChunked = frame
        .column(cols::CLIENT)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(|c| Some(keep(c.unwrap())))
        .collect();
    frame.filter(&mask).unwrap()
}

fn digest_of(pieces: &[DataFrame]) -> String {
    let mut d = LinesDigest::new();
    for p in pieces {
        d.add(p).unwrap();
    }
    d.hex()
}

#[test]
fn the_fingerprint_does_not_depend_on_the_split_or_the_order_of_the_pieces() {
    let tx = sample();
    let whole = tx.frame();
    let one = tx.lines_sha256();
    assert_eq!(one.len(), 64);
    assert!(one.chars().all(|c| c.is_ascii_hexdigit()));
    // clients dealt into three pieces by id, added in two orders
    let pieces: Vec<DataFrame> = (0..3)
        .map(|k| clients_where(whole, |c| c.rem_euclid(3) == k))
        .collect();
    assert_eq!(digest_of(&pieces), one);
    let reversed: Vec<DataFrame> = pieces.iter().rev().cloned().collect();
    assert_eq!(digest_of(&reversed), one);
    // pieces digested apart (as a distributed run's workers would) and merged
    let mut merged = LinesDigest::new();
    for p in &pieces {
        let mut d = LinesDigest::new();
        d.add(p).unwrap();
        merged.merge(&d);
    }
    assert_eq!(merged.hex(), one);
    // carried as text and read back
    let carried = LinesDigest::from_state(&merged.state()).expect("a state reads back");
    assert_eq!(carried, merged);
    for bad in [
        "",
        "12:3:4",
        &merged.state().replace(':', ";"),
        &format!("{}:5", merged.state()),
    ] {
        assert!(
            LinesDigest::from_state(bad).is_none(),
            "{bad:?} read as a state"
        );
    }
    assert_eq!(merged.lines(), whole.height() as u64);
    assert_eq!(merged.clients(), tx.stats().clients);
}

#[test]
fn the_fingerprint_changes_with_any_line() {
    let tx = sample();
    let whole = tx.frame().clone();
    let one = tx.lines_sha256();
    let n = whole.height();
    // one line's amount moved by a cent
    let mut amount: Vec<f64> = whole
        .column(cols::AMOUNT)
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    amount[n / 2] += 0.01;
    let mut changed = whole.clone();
    changed
        .with_column(Column::new(cols::AMOUNT.into(), amount))
        .unwrap();
    assert_ne!(digest_of(&[changed]), one);
    // the last line dropped
    assert_ne!(digest_of(&[whole.slice(0, n - 1)]), one);
    // a line's client changed to another client's: the lines are the same bytes but for one
    // client id, and the per-client digests see it
    let mut client: Vec<i64> = whole
        .column(cols::CLIENT)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let first_other = client.iter().position(|&c| c != client[0]).unwrap();
    client[first_other - 1] = client[first_other];
    let mut moved = whole.clone();
    moved
        .with_column(Column::new(cols::CLIENT.into(), client))
        .unwrap();
    assert_ne!(digest_of(&[moved]), one);
    // no line at all
    assert_ne!(digest_of(&[whole.slice(0, 0)]), one);
}

#[test]
fn a_table_hashed_in_pieces_side_by_side_is_each_client_hashed_alone() {
    // `add` splits a table into pieces of whole clients hashed on several threads: the
    // digest must be the one of every client's lines added one client at a time
    let tx = sample();
    let whole = tx.frame();
    let mut together = LinesDigest::new();
    together.add(whole).unwrap();
    assert_eq!(together.clients(), tx.stats().clients);
    assert_eq!(together.lines(), whole.height() as u64);
    let client = whole.column(cols::CLIENT).unwrap().i64().unwrap();
    let mut alone = LinesDigest::new();
    let mut start = 0usize;
    for i in 1..=whole.height() {
        if i == whole.height() || client.get(i) != client.get(start) {
            alone.add(&whole.slice(start as i64, i - start)).unwrap();
            start = i;
        }
    }
    assert_eq!(alone.clients(), tx.stats().clients);
    assert_eq!(alone, together);
    assert_eq!(alone.hex(), tx.lines_sha256());
}
