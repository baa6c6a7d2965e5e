//! `retain kpis`: retention KPIs by period, as a table, CSV/Parquet and JSON.

use std::path::Path;

use anyhow::Result;
use retain_report::kpis::{self, KpiParams, KpiReport};

use super::common::{
    Ui, check_files_writable, check_known_clients, check_outputs, clients_layout, load,
    read_client_attributes, resolve_input,
};
use super::pages::compute_and_write;
use crate::args::KpisArgs;
use crate::table::{Align, Table, fixed, money, percent, thousands};

pub fn run(args: &KpisArgs, ui: &Ui, verbose: bool) -> Result<()> {
    ui.plan(2 + usize::from(args.clients.is_some()));
    let (input, layout) = resolve_input(&args.input, None)?;
    let outs = super::pages::kpi_paths(&args.out);
    let inputs: Vec<&Path> = std::iter::once(input.as_path())
        .chain(args.clients.as_deref())
        .collect();
    check_outputs(&inputs, &outs.each_ref().map(|p| p.as_path()))?;
    check_files_writable(&outs.each_ref().map(|p| p.as_path()))?;
    let tx = load(ui, &input, &layout, args.input.as_of)?;
    // the client attributes are read and validated as `plan` reads them (file, column, row
    // and value named), and refused when none of their clients is in the transactions,
    // before anything is written
    let satisfaction = match &args.clients {
        Some(path) => {
            let clients = read_client_attributes(ui, path, &clients_layout(&args.input)?)?;
            check_known_clients(&tx, None, Some(&clients))?;
            let s = kpis::satisfaction_of(&clients)?;
            if s.is_none() {
                ui.warn(format!(
                    "{} has no `nps` or `csat` column: NPS and CSAT are left out",
                    path.display()
                ));
            }
            s
        }
        None => None,
    };
    let params = KpiParams {
        period: args.period,
        horizon_days: args.horizon,
        key_share: args.key_share,
        ..KpiParams::default()
    };
    let (report, paths) = compute_and_write(ui, &tx, &params, satisfaction, &args.out)?;
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
