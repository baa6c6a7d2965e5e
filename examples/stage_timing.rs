//! Prints how long each stage of `retain train` takes in-process (release builds):
//! `cargo run --release --example stage_timing -- FILE [preset] [cutoff] [horizon]`.
//! With `FEATLOOP=N` it times only the feature stage, N times over.

use std::time::Instant;

use chrono::NaiveDate;
use retain_data::{Layout, read_transactions};
use retain_score::customer_base::ClvModel;
use retain_score::pipeline::{Protocol, ProtocolSets, evaluate};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a file");
    let layout = Layout::preset(&args.next().unwrap_or("online-retail-ii".into())).unwrap();
    let cutoff: NaiveDate = args.next().unwrap_or("2011-09-09".into()).parse().unwrap();
    let horizon: u32 = args.next().unwrap_or("91".into()).parse().unwrap();
    let t0 = Instant::now();
    let t = Instant::now();
    let tx = read_transactions(std::path::Path::new(&path), &layout).unwrap();
    println!(
        "read + validate + clean: {:.3} s ({} lines)",
        t.elapsed().as_secs_f64(),
        tx.stats().lines
    );
    let protocol = Protocol {
        cutoff,
        horizon,
        train_horizon: horizon,
    };
    // FEATLOOP=N: only the feature stage, N times (for a profiler)
    if let Ok(n) = std::env::var("FEATLOOP") {
        for _ in 0..n.parse::<usize>().unwrap() {
            let t = Instant::now();
            ProtocolSets::build(&tx, protocol).unwrap();
            println!("features: {:.3}", t.elapsed().as_secs_f64());
        }
        return;
    }
    let t = Instant::now();
    let sets = ProtocolSets::build(&tx, protocol).unwrap();
    println!(
        "features + labels, both cutoffs: {:.3} s ({} / {} clients)",
        t.elapsed().as_secs_f64(),
        sets.eval.height(),
        sets.train.height()
    );
    let t = Instant::now();
    let (_, artifact) = evaluate(
        &sets,
        &retain_core::DataSource {
            path: path.clone(),
            layout: "bench".into(),
            rows: 0,
            clients: 0,
        },
    )
    .unwrap();
    println!(
        "logistic + baselines + metrics: {:.3} s (ROC AUC {:?})",
        t.elapsed().as_secs_f64(),
        artifact.card.metrics.get("roc_auc")
    );
    let t = Instant::now();
    let clv = ClvModel::fit(&sets.eval, retain_score::customer_base::RfmKind::Bgnbd);
    println!(
        "BG/NBD + Gamma-Gamma: {:.3} s ({})",
        t.elapsed().as_secs_f64(),
        clv.is_ok()
    );
    println!("total: {:.3} s", t0.elapsed().as_secs_f64());
}
