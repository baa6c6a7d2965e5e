//! Times `read_contacts` on a generated 5-million-row contact log, as CSV and as Parquet.
//!
//! `cargo run --release -p retain-data --example read_contacts_timing [rows]`
//!
//! The log is generated from a fixed seed into a temporary folder: 500,000 clients, five
//! channels spelled in mixed case, twenty offers, outcomes in several spellings, one row in
//! ten a control row, one timestamp in five with a UTC offset.
//!
//! Each read prints its wall time and, on Linux, the process CPU time it took (user and
//! system, from `/proc/self/stat`): on a shared machine the CPU time is the steadier figure.

use std::io::Write;
use std::time::Instant;

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_data::{ContactsLayout, read_contacts, write_table};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rows: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 5_000_000,
    };
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("contacts.csv");
    let t = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(20_240_115);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&csv)?);
    writeln!(out, "client_id,timestamp,channel,action,outcome,group,cost")?;
    let channels = ["Phone", "email", "SMS", "meeting", "Chat"];
    let outcomes = [
        "",
        "no answer",
        "responded",
        "1",
        "converted",
        "Accepted",
        "0",
    ];
    for _ in 0..rows {
        let client = rng.random_range(1..=500_000u32);
        let (m, d) = (rng.random_range(1..=12u32), rng.random_range(1..=28u32));
        let (h, mi, s) = (
            rng.random_range(0..24u32),
            rng.random_range(0..60u32),
            rng.random_range(0..60u32),
        );
        let offset = match rng.random_range(0..10u32) {
            0 => "+01:00",
            1 => "Z",
            _ => "",
        };
        let channel = channels[rng.random_range(0..channels.len())];
        let action = if rng.random_bool(0.3) {
            String::new()
        } else {
            format!("OFFER-{}", rng.random_range(1..=20u32))
        };
        let control = rng.random_bool(0.1);
        let (group, outcome) = if control {
            ("control", "")
        } else {
            ("", outcomes[rng.random_range(0..outcomes.len())])
        };
        let cost = rng.random_range(0..2_000u32) as f64 / 100.0;
        writeln!(
            out,
            "{client},2024-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}{offset},{channel},{action},{outcome},{group},{cost}"
        )?;
    }
    out.flush()?;
    drop(out);
    let mb = std::fs::metadata(&csv)?.len() as f64 / 1e6;
    println!(
        "generated {rows} rows ({mb:.0} MB CSV) in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    let layout = ContactsLayout::default();
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let c = read_contacts(&csv, &layout)?;
    println!(
        "read_contacts CSV:     {:.2} s wall, {} ({} rows, {} clients, channels {:?})",
        t.elapsed().as_secs_f64(),
        cpu_since(cpu),
        c.stats().rows,
        c.stats().clients,
        c.channels()
    );

    // the same rows as Parquet, every column as text
    let mut text = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv.clone()))?
        .finish()?;
    let pq = dir.path().join("contacts.parquet");
    write_table(&mut text, &pq)?;
    drop(text);
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let p = read_contacts(&pq, &layout)?;
    println!(
        "read_contacts Parquet: {:.2} s wall, {} ({} rows)",
        t.elapsed().as_secs_f64(),
        cpu_since(cpu),
        p.stats().rows
    );
    if !p.frame().equals_missing(c.frame()) {
        return Err("the CSV and Parquet reads differ".into());
    }
    Ok(())
}

/// The process's CPU time so far (user + system), on Linux; clock ticks of 1/100 s.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn cpu_since(start: Option<f64>) -> String {
    match (start, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.2} s CPU", b - a),
        _ => "CPU time unknown".into(),
    }
}
