//! Prints how long reading a transaction file takes, phase by phase (release builds):
//! `cargo run --release --example read_timing -- FILE [preset] [DATE]`. A CSV file: polars'
//! scan, then retain's read. A Parquet file (the scale files of `retain generate
//! --replicate`): polars' scan of the layout's columns alone (the decoding floor), then
//! retain's read part by part (validation, cleaning, canonical order), then the same with each
//! part condensed and its clients' features computed at DATE (default 2011-12-09), as
//! `retain score --date` does. Each step prints its wall time and the CPU time of every thread
//! (user and system; two cores busy the whole step would show twice the wall time).

use std::time::Instant;

use polars::prelude::*;
use retain_data::{Layout, read_transactions};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a file");
    let layout = Layout::preset(&args.next().unwrap_or("online-retail-ii".into())).unwrap();
    if path.ends_with(".parquet") {
        let date: retain_core::Cutoff = args.next().unwrap_or("2011-12-09".into()).parse().unwrap();
        parquet(&path, &layout, date);
        return;
    }
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

fn parquet(path: &str, layout: &Layout, date: retain_core::Cutoff) {
    let input = std::path::Path::new(path);
    let t = Instant::now();
    let c = retain_core::process_cpu_seconds();
    let columns: Vec<Expr> = layout.columns().into_iter().map(|(_, c)| col(c)).collect();
    let df = LazyFrame::scan_parquet(PlRefPath::new(path), ScanArgsParquet::default())
        .unwrap()
        .select(columns)
        .collect_with_engine(Engine::Streaming)
        .unwrap()
        .unwrap_single();
    println!(
        "polars parquet scan of the layout's {} columns: {:.2} s, {:.2} s of CPU ({} rows)",
        df.width(),
        t.elapsed().as_secs_f64(),
        retain_core::process_cpu_seconds() - c,
        df.height()
    );
    drop(df);
    // the reader alone, then with the condensing, then with the features too
    for step in ["read", "condense", "features"] {
        let t = Instant::now();
        let c = retain_core::process_cpu_seconds();
        let mut reader =
            retain_data::PartReader::open(input, layout, None, retain_data::READ_PART_LINES)
                .unwrap();
        let mut condenser = retain_features::Condenser::new();
        let mut stream = retain_features::PartFeatures::new(Some(date), None);
        let mut lines = 0;
        while let Some(part) = reader.next_part() {
            let part = part.unwrap();
            lines += part.frame().height();
            match step {
                "condense" => condenser.push(&part).unwrap(),
                "features" => stream.push(&part).unwrap(),
                _ => {}
            }
        }
        let clients = match step {
            "features" => format!(", {} clients", stream.finish(date).unwrap().0.height()),
            _ => String::new(),
        };
        let what = match step {
            "read" => "PartReader (read, validate, clean, canonical order)",
            "condense" => "PartReader + Condenser (read, condense)",
            _ => "PartReader + PartFeatures (read, condense, features)",
        };
        println!(
            "{what}: {:.2} s, {:.2} s of CPU ({} parts, {lines} lines{clients})",
            t.elapsed().as_secs_f64(),
            retain_core::process_cpu_seconds() - c,
            reader.parts(),
        );
    }
}
