//! No feature reads a line after the cutoff, and row order never matters.

use retain_core::{Cutoff, Horizon};
use std::path::Path;

use polars::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_data::{Layout, Transactions, read_transactions};
use retain_features::{FeatureFamilies, History, country_table, family_columns, features_at};

fn cdnow() -> Transactions {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cdnow_sample/CDNOW_sample.txt");
    read_transactions(&p, &Layout::cdnow()).unwrap()
}

fn features(tx: &Transactions, cutoff: i32) -> DataFrame {
    let countries = country_table(tx.lazy(), Cutoff::from_day(cutoff)).unwrap();
    features_at(tx.lazy(), Cutoff::from_day(cutoff), &countries)
        .collect()
        .unwrap()
}

const CUTOFF: i32 = 10_134; // 1997-09-30

/// `tx` with 2,000 extra lines after the cutoff (for existing clients and new ones, of every
/// kind), every row shuffled.
fn with_late_lines_shuffled(tx: &Transactions) -> Transactions {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 2_000;
    let extra = df!(
        "client_id" => (0..n).map(|_| rng.random_range(1..3_000_i64)).collect::<Vec<_>>(),
        "day" => (0..n).map(|_| CUTOFF + rng.random_range(1..400)).collect::<Vec<_>>(),
        "hour" => vec![None::<i8>; n],
        "amount" => (0..n).map(|_| rng.random_range(-50.0..500.0)).collect::<Vec<f64>>(),
        "quantity" => (0..n).map(|_| rng.random_range(-3.0..9.0_f64).round()).collect::<Vec<f64>>(),
        "invoice" => (0..n).map(|i| format!("late{i}")).collect::<Vec<_>>(),
        "product" => vec![None::<&str>; n],
        "category" => vec![None::<&str>; n],
        "is_return" => (0..n).map(|_| rng.random_bool(0.2)).collect::<Vec<_>>(),
    )
    .unwrap();
    let mut all = tx.frame().vstack(&extra).unwrap();
    // shuffle every row
    let mut idx: Vec<IdxSize> = (0..all.height() as IdxSize).collect();
    idx.shuffle(&mut rng);
    all = all.take(&IdxCa::from_vec("i".into(), idx)).unwrap();
    Transactions::from_frame(all, "shuffled", Layout::cdnow()).unwrap()
}

#[test]
fn rows_after_the_cutoff_and_shuffling_change_nothing() {
    let tx = cdnow();
    let before = features(&tx, CUTOFF);
    let shuffled = with_late_lines_shuffled(&tx);
    let after = features(&shuffled, CUTOFF);
    assert_eq!(before.height(), 2_357);
    for c in before.get_column_names() {
        let (a, b) = (before.column(c).unwrap(), after.column(c).unwrap());
        if !a
            .as_materialized_series()
            .equals_missing(b.as_materialized_series())
        {
            let d = (a.cast(&DataType::Float64).unwrap().as_materialized_series()
                - b.cast(&DataType::Float64).unwrap().as_materialized_series())
            .unwrap();
            eprintln!(
                "column {c} differs: max abs diff {:?}",
                (d.max::<f64>(), d.min::<f64>())
            );
        }
    }
    assert!(
        before.equals_missing(&after),
        "features changed when rows after the cutoff were added and rows shuffled"
    );
}

#[test]
fn a_cutoff_before_the_data_has_an_empty_population() {
    let tx = cdnow();
    assert_eq!(features(&tx, 9_000).height(), 0);
}

/// Every column of every feature family, at horizons shorter and longer than a year (the
/// `last_year` windows then reach the cutoff), from the lazy plans and from the history
/// condensed in parts.
#[test]
fn no_family_column_reads_after_the_cutoff_or_depends_on_row_order() {
    let tx = cdnow();
    let shuffled = with_late_lines_shuffled(&tx);
    let all = FeatureFamilies::all();
    let columns = family_columns(&all);
    for horizon in [91, 500] {
        let family = |tx: &Transactions, part: usize| {
            History::of_lines(tx.frame(), part)
                .unwrap()
                .features_with_families_at(
                    Cutoff::from_day(CUTOFF),
                    Horizon::new(horizon as u32).unwrap(),
                    &History::new(tx.lazy())
                        .country_table(Cutoff::from_day(CUTOFF))
                        .unwrap(),
                    &all,
                )
                .collect()
                .unwrap()
        };
        let before = family(&tx, usize::MAX);
        assert_eq!(before.height(), 2_357);
        assert_eq!(before.width(), 1 + 29 + columns.len());
        for part in [usize::MAX, 500] {
            let after = family(&shuffled, part);
            for c in before.get_column_names() {
                assert!(
                    before
                        .column(c)
                        .unwrap()
                        .as_materialized_series()
                        .equals_missing(after.column(c).unwrap().as_materialized_series()),
                    "{c} (horizon {horizon}, parts of {part}) changed when rows after the \
                     cutoff were added and rows shuffled"
                );
            }
        }
    }
}
