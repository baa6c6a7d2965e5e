//! Parity with the reference pipeline (../shared/bench/peer_pipeline.py): populations,
//! churn rates and every one of the 29 features for every client, within 1e-9 relative.

use retain_core::{Cutoff, Horizon};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use retain_core::day_number;
use retain_data::{Layout, Transactions, read_transactions};
use retain_features::{FEATURES, History, LABELS, country_table, labelled_set};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn peer(rel: &str) -> DataFrame {
    let path = shared(rel);
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(10_000))
        .try_into_reader_with_file_path(Some(path))
        .unwrap()
        .finish()
        .unwrap()
}

fn sets(tx: &Transactions, cutoff: &str, h: i32, h_tr: i32) -> (DataFrame, DataFrame) {
    let c = day_number(NaiveDate::parse_from_str(cutoff, "%Y-%m-%d").unwrap());
    let countries = country_table(tx.lazy(), Cutoff::from_day(c)).unwrap();
    let eval = labelled_set(
        tx.lazy(),
        Cutoff::from_day(c),
        Horizon::new(h as u32).unwrap(),
        &countries,
    )
    .collect()
    .unwrap();
    let train = labelled_set(
        tx.lazy(),
        Cutoff::from_day(c - h_tr),
        Horizon::new(h_tr as u32).unwrap(),
        &countries,
    )
    .collect()
    .unwrap();
    (eval, train)
}

fn f64s(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect()
}

/// Asserts every feature and label of `ours` equals the peer's within 1e-9 relative.
fn assert_parity(ours: &DataFrame, theirs: &DataFrame, what: &str) {
    assert_eq!(ours.height(), theirs.height(), "{what}: population");
    let (a, b) = (f64s(ours, "client_id"), f64s(theirs, "client_id"));
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        panic!(
            "{what}: row {i} is client {} in retain, {} in the peer",
            a[i], b[i]
        );
    }
    let ids = f64s(ours, "client_id");
    let mut worst = (0.0_f64, String::new());
    for name in FEATURES.iter().chain(LABELS.iter()) {
        let a = f64s(ours, name);
        let b = f64s(theirs, name);
        for i in 0..a.len() {
            let scale = a[i].abs().max(b[i].abs());
            let err = (a[i] - b[i]).abs();
            let rel = if scale > 0.0 { err / scale } else { 0.0 };
            assert!(
                rel <= 1e-9 || err <= 1e-12,
                "{what}: client {} feature {name}: retain {} vs peer {}",
                ids[i],
                a[i],
                b[i]
            );
            if rel > worst.0 {
                worst = (rel, format!("{name} of client {}", ids[i]));
            }
        }
    }
    eprintln!(
        "{what}: worst relative difference {:.2e} ({})",
        worst.0, worst.1
    );
}

fn churn_rate(df: &DataFrame) -> f64 {
    let c = f64s(df, "churned");
    c.iter().sum::<f64>() / c.len() as f64
}

#[test]
fn online_retail_ii_matches_the_peer() {
    let tx = read_transactions(
        &shared("online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz"),
        &Layout::online_retail_ii(),
    )
    .unwrap();
    let s = tx.stats();
    assert_eq!(s.lines_read, 1_044_847);
    assert_eq!(s.lines, 809_490, "clean lines (BENCHMARK.md section 1)");
    assert_eq!(s.return_lines, 18_446);
    assert_eq!(s.clients, 5_939);
    let (eval, train) = sets(&tx, "2011-09-09", 91, 91);
    assert_eq!(eval.height(), 5_281);
    assert_eq!(train.height(), 4_976);
    assert!(
        (churn_rate(&eval) - 0.56599).abs() < 5e-6,
        "{}",
        churn_rate(&eval)
    );
    assert!(
        (churn_rate(&train) - 0.67805).abs() < 5e-6,
        "{}",
        churn_rate(&train)
    );
    assert_parity(
        &eval,
        &peer("online_retail_ii/peer_features/orii_2011-09-09_h91_eval.csv.gz"),
        "ORII eval",
    );
    assert_parity(
        &train,
        &peer("online_retail_ii/peer_features/orii_2011-09-09_h91_train.csv.gz"),
        "ORII train",
    );

    // Condensed part by part (9 parts of whole clients), the same sets bit for bit.
    let c = day_number(NaiveDate::from_ymd_opt(2011, 9, 9).unwrap());
    let parted = History::of_lines(tx.frame(), 100_000).unwrap();
    let countries = parted.country_table(Cutoff::from_day(c)).unwrap();
    for (ours, one_pass, what) in [
        (
            parted.labelled_set(Cutoff::from_day(c), Horizon::new(91).unwrap(), &countries),
            &eval,
            "eval",
        ),
        (
            parted.labelled_set(
                Cutoff::from_day(c - 91),
                Horizon::new(91).unwrap(),
                &countries,
            ),
            &train,
            "train",
        ),
    ] {
        let ours = ours.collect().unwrap();
        assert_eq!(ours.get_column_names(), one_pass.get_column_names());
        for name in ours.get_column_names() {
            let bits = |df: &DataFrame| -> Vec<Option<u64>> {
                let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
                c.f64()
                    .unwrap()
                    .iter()
                    .map(|v| v.map(f64::to_bits))
                    .collect()
            };
            let (a, b) = (bits(&ours), bits(one_pass));
            if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
                panic!(
                    "{what}: {name} of row {i} condensed in parts is {:?}, in one pass {:?}",
                    a[i].map(f64::from_bits),
                    b[i].map(f64::from_bits)
                );
            }
        }
    }
}

#[test]
fn cdnow_matches_the_peer() {
    let tx = read_transactions(&shared("cdnow_sample/CDNOW_sample.txt"), &Layout::cdnow()).unwrap();
    assert_eq!(tx.stats().lines, 6_919);
    let (eval, train) = sets(&tx, "1997-09-30", 273, 90);
    assert_eq!(eval.height(), 2_357);
    assert_parity(
        &eval,
        &peer("cdnow_sample/peer_features/cdnow_1997-09-30_h273_eval.csv.gz"),
        "CDNOW eval",
    );
    assert_parity(
        &train,
        &peer("cdnow_sample/peer_features/cdnow_1997-09-30_h273_train.csv.gz"),
        "CDNOW train",
    );
}
