//! Generates a client base and prints its size, timing and churn figures.
//!
//! `cargo run -p retain-sim --release --example simulate -- [N_CLIENTS] [SEED] [OUT.csv | - | stream:OUT.csv]`
//!
//! `-` only times `generate`; `stream:PATH` times `generate_csv` to PATH instead.

use std::collections::HashMap;
use std::time::Instant;

use retain_sim::{SimConfig, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(3000), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(42), |s| s.parse())?;
    let out = args.next();
    let config = SimConfig::with_clients(n, seed);

    if let Some(path) = out.as_deref().and_then(|o| o.strip_prefix("stream:")) {
        let started = Instant::now();
        let rows = retain_sim::generate_csv(&config, std::fs::File::create(path)?)?;
        println!(
            "streamed {rows} rows to {path} in {:.2?}",
            started.elapsed()
        );
        return Ok(());
    }
    let started = Instant::now();
    let tx = generate(&config)?;
    let took = started.elapsed();
    println!(
        "{n} clients, seed {seed}: {} rows in {:.2?}",
        tx.len(),
        took
    );
    if out.as_deref() == Some("-") {
        return Ok(());
    }

    // Purchase days per client, and churn over the last 91 days (benchmark sections 3-4).
    let end = config.end_date();
    let cutoff = end - chrono::Days::new(91);
    let mut per_client: HashMap<i64, (u32, u32, bool, bool)> = HashMap::new(); // days, last day seen, before, after
    let mut invoices = std::collections::HashSet::new();
    let (mut returns, mut revenue) = (0usize, 0.0);
    for i in 0..tx.len() {
        if tx.quantity[i] < 0 {
            returns += 1;
            continue;
        }
        invoices.insert(tx.invoice[i].as_str());
        revenue += tx.quantity[i] as f64 * tx.price[i];
        let day = tx.invoice_date[i].date();
        let e = per_client
            .entry(tx.customer_id[i])
            .or_insert((0, u32::MAX, false, false));
        let d = day.to_epoch_days() as u32;
        if e.1 != d {
            e.0 += 1;
            e.1 = d;
        }
        if day <= cutoff {
            e.2 = true;
        } else {
            e.3 = true;
        }
    }
    let population = per_client.values().filter(|e| e.2).count();
    let churned = per_client.values().filter(|e| e.2 && !e.3).count();
    let zero = per_client.values().filter(|e| e.0 == 1).count();
    println!(
        "clients {}, invoices {}, return lines {returns}, mean invoice {:.1}, one-timers {:.1}%, \
         churn over the last 91 days {:.1}% of {population}",
        per_client.len(),
        invoices.len(),
        revenue / invoices.len() as f64,
        100.0 * zero as f64 / per_client.len() as f64,
        100.0 * churned as f64 / population as f64,
    );
    if let Some(path) = out {
        let started = Instant::now();
        tx.write_csv(std::fs::File::create(&path)?)?;
        println!("wrote {path} in {:.2?}", started.elapsed());
    }
    Ok(())
}
