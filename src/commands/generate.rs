//! `retain generate`: simulate a client base with known parameters.

use std::io::Write;

use anyhow::{Context, Result};
use flate2::Compression;
use retain_sim::{SimConfig, generate_csv};

use super::common::Ui;
use crate::args::GenerateArgs;

pub fn run(args: &GenerateArgs, ui: &Ui) -> Result<()> {
    let mut config = SimConfig::with_clients(args.clients, args.seed);
    if let Some(start) = args.start {
        config.start_date = start;
    }
    if let Some(days) = args.days {
        config.span_days = days;
    }
    config.check()?;
    let data = args.out.join("transactions.csv.gz");
    let truth = args.out.join("truth.json");
    let rows = ui
        .step(&format!("simulating {} clients", config.n_clients), || {
            let mut rows = 0;
            retain_core::write_atomic(&data, |w| {
                // mtime 0 and no file name in the gzip header: the same seed gives the same bytes
                let mut gz = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(w, Compression::new(6));
                rows = generate_csv(&config, &mut gz).map_err(std::io::Error::other)?;
                gz.finish()?.flush()
            })?;
            retain_core::write_atomic(&truth, |w| {
                serde_json::to_writer_pretty(&mut *w, &config).map_err(std::io::Error::other)?;
                w.write_all(b"\n")
            })?;
            Ok(rows)
        })
        .with_context(|| format!("writing {}", data.display()))?;
    ui.say(format!(
        "wrote {} lines for {} clients ({} .. {}) to {}; true parameters in {}",
        rows,
        config.n_clients,
        config.start_date,
        config.end_date(),
        data.display(),
        truth.display()
    ));
    Ok(())
}
