//! `retain kpis`: retention KPIs by period, as a table, CSV/Parquet and JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;
use retain_data::Transactions;
use retain_report::kpis::{self, KpiParams, KpiReport, Lines};

use super::common::{Ui, load, resolve_input};
use crate::args::KpisArgs;
use crate::table::{Align, Table, duration, fixed, money, percent, thousands};

pub fn run(args: &KpisArgs, ui: &Ui, verbose: bool) -> Result<()> {
    ui.plan(2);
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let params = KpiParams {
        period: args.period,
        horizon_days: args.horizon,
        key_share: args.key_share,
        ..KpiParams::default()
    };
    let (report, paths) = compute_and_write(ui, &tx, &params, args.clients.as_deref(), &args.out)?;
    // with --format json, the same document as <OUT>.json
    if ui.emit(&report)? {
        return Ok(());
    }
    ui.table(&table(&report), 0);
    if let Some(s) = &report.satisfaction {
        ui.say(format!(
            "NPS {} ({} answers), CSAT {} ({} answers)",
            fixed(s.nps, 1),
            thousands(s.nps_responses as i64),
            fixed(s.csat, 1),
            thousands(s.csat_responses as i64)
        ));
    }
    if verbose {
        ui.say(format!(
            "{} cohorts by first-purchase month, {} .. {}",
            report.cohorts.len(),
            report
                .cohorts
                .first()
                .map(|c| c.cohort.as_str())
                .unwrap_or("-"),
            report
                .cohorts
                .last()
                .map(|c| c.cohort.as_str())
                .unwrap_or("-"),
        ));
    }
    ui.say(format!(
        "wrote {}, {} and {}",
        paths[0].display(),
        paths[1].display(),
        paths[2].display()
    ));
    Ok(())
}

/// Computes the KPIs of `tx` (with NPS/CSAT from `clients` if given) and writes `<out>.csv`,
/// `<out>.parquet` and `<out>.json`.
pub fn compute_and_write(
    ui: &Ui,
    tx: &Transactions,
    params: &KpiParams,
    clients: Option<&Path>,
    out: &Path,
) -> Result<(KpiReport, [PathBuf; 3])> {
    let mut report = ui.step_counted(
        "computing the KPIs",
        || {
            let lines = Lines::from_transactions(tx)?;
            Ok(kpis::compute(&lines, params)?)
        },
        |r: &KpiReport, d| {
            format!(
                "computed the KPIs of {} periods in {}",
                r.periods.len(),
                duration(d)
            )
        },
    )?;
    if let Some(path) = clients {
        let df = read_table(path)?;
        report.satisfaction = kpis::satisfaction(&df)
            .with_context(|| format!("reading NPS/CSAT from {}", path.display()))?;
        if report.satisfaction.is_none() {
            ui.warn(format!(
                "{} has no `nps` or `csat` column: NPS and CSAT are left out",
                path.display()
            ));
        }
    }
    let csv = out.with_extension("csv");
    let parquet = out.with_extension("parquet");
    let json = out.with_extension("json");
    let mut df = kpis::periods_frame(&report)?;
    retain_data::write_table(&mut df, &csv)?;
    retain_data::write_table(&mut df, &parquet)?;
    retain_core::write_atomic(&json, |w| {
        serde_json::to_writer_pretty(&mut *w, &report).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })?;
    Ok((report, [csv, parquet, json]))
}

use std::io::Write as _;

/// Reads a .csv or .parquet table.
pub fn read_table(path: &Path) -> Result<DataFrame> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let df = if ext.eq_ignore_ascii_case("parquet") {
        let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        ParquetReader::new(f).finish()
    } else {
        CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
    };
    anyhow::Context::with_context(df, || format!("reading {}", path.display()))
}

/// The period table for the terminal.
fn table(r: &KpiReport) -> Table {
    let mut t = Table::new(&[
        "period",
        "active start",
        "active end",
        "new",
        "retention",
        "churn",
        "buyers",
        "repeat",
        "orders/buyer",
        "avg order",
        "returns",
        "net revenue",
        "NRR",
        "GRR",
        "key clients",
        "top 20%",
    ])
    .align(0, Align::Left);
    for p in &r.periods {
        t.row(vec![
            format!("{}{}", p.period, if p.complete { "" } else { "*" }),
            thousands(p.active_start as i64),
            thousands(p.active_end as i64),
            thousands(p.new_clients as i64),
            percent(p.retention_rate),
            percent(p.churn_rate),
            thousands(p.buyers as i64),
            percent(p.repeat_purchase_rate),
            fixed(p.purchase_frequency, 2),
            p.average_order_value
                .map(money)
                .unwrap_or_else(|| "-".into()),
            percent(p.return_rate),
            money(p.net_revenue),
            percent(p.net_revenue_retention),
            percent(p.gross_revenue_retention),
            thousands(p.key_clients as i64),
            percent(p.top_revenue_share),
        ]);
    }
    t
}
