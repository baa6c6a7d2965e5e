//! Prints how long reading a transaction file takes, phase by phase (release builds):
//! `cargo run --release --example read_timing -- FILE [preset]`.

use std::time::Instant;

use polars::prelude::*;
use retain_data::{Layout, read_transactions};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a file");
    let layout = Layout::preset(&args.next().unwrap_or("online-retail-ii".into())).unwrap();
    let t = Instant::now();
    let raw = LazyCsvReader::new(PlRefPath::new(&path))
        .with_infer_schema_length(Some(0))
        .finish()
        .unwrap()
        .collect()
        .unwrap();
    println!(
        "polars csv scan, all text: {:.2} s ({} rows)",
        t.elapsed().as_secs_f64(),
        raw.height()
    );
    let t = Instant::now();
    let typed = LazyCsvReader::new(PlRefPath::new(&path))
        .with_infer_schema_length(None)
        .finish()
        .unwrap()
        .collect()
        .unwrap();
    println!(
        "polars csv scan, inferred types: {:.2} s ({} rows)",
        t.elapsed().as_secs_f64(),
        typed.height()
    );
    let t = Instant::now();
    let tx = read_transactions(std::path::Path::new(&path), &layout).unwrap();
    println!(
        "read_transactions (validate, clean, canonical order): {:.2} s ({} lines)",
        t.elapsed().as_secs_f64(),
        tx.stats().lines
    );
}
