//! `retain report`: the one-file HTML report from the outputs of evaluate, score and kpis.

use std::path::Path;

use anyhow::Result;

use super::common::{Ui, check_outputs, load, resolve_input};
use super::pages::{ReportPaths, write_report};
use crate::args::ReportArgs;
use crate::table::{Table, fixed, thousands};

/// The demo's sample data: the report's default input.
const SAMPLE: &str = "data/sample/transactions.csv.gz";

pub fn run(args: &ReportArgs, ui: &Ui, verbose: bool) -> Result<()> {
    ui.plan(3);
    let (input, layout) = resolve_input(&args.input, Some(Path::new(SAMPLE)))?;
    check_outputs(
        &[&input, &args.evaluation, &args.scores, &args.kpis],
        &[&args.out],
    )?;
    super::common::check_files_writable(&[&args.out])?;
    let tx = load(ui, &input, &layout, args.input.as_of)?;
    let paths = ReportPaths {
        evaluation: args.evaluation.clone(),
        scores: args.scores.clone(),
        kpis: args.kpis.clone(),
        out: args.out.clone(),
        top: args.top,
    };
    let s = write_report(ui, &tx, &input, &paths)?;
    if ui.emit(&s)? {
        return Ok(());
    }
    let mut t = Table::new(&["report", "size", "charts"]);
    t.row(vec![
        s.report.clone(),
        format!("{} KiB", thousands((s.bytes / 1024) as i64)),
        s.charts.to_string(),
    ]);
    ui.table(&t, 0);
    if verbose && let Some([ours, theirs]) = s.bgnbd_roc_auc {
        ui.say(format!(
            "BG/NBD re-applied at the evaluation cutoff: ROC AUC {} (evaluation: {})",
            fixed(Some(ours), 6),
            fixed(Some(theirs), 6)
        ));
    }
    Ok(())
}
