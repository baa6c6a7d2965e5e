//! `retain report`: the one-file HTML report from the outputs of evaluate, score and kpis.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use retain_core::day_number;
use retain_data::Transactions;
use retain_report::diagnostics::{self, BgNbdParameters, Diagnostics};
use retain_report::html::{ReportInputs, render};
use retain_report::{KpiReport, Lines};
use serde::Serialize;
use serde_json::Value;

use super::common::{Ui, load, resolve_input};
use super::kpis::read_table;
use crate::args::ReportArgs;
use crate::table::{Table, fixed, thousands};

/// The demo's sample data: the report's default input.
const SAMPLE: &str = "data/sample/transactions.csv.gz";

/// Where the report's inputs are and where it goes.
pub struct ReportPaths {
    /// The evaluation JSON.
    pub evaluation: PathBuf,
    /// The outreach list.
    pub scores: PathBuf,
    /// The KPIs JSON.
    pub kpis: PathBuf,
    /// The HTML file.
    pub out: PathBuf,
    /// Rows of the outreach list shown.
    pub top: usize,
}

/// What `retain report` did (printed, or as JSON with --format json).
#[derive(Debug, Serialize)]
pub struct ReportSummary {
    /// The HTML file written.
    pub report: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// Charts on the page.
    pub charts: usize,
    /// BG/NBD ROC AUC re-applied at the evaluation cutoff, and the evaluation's own.
    pub bgnbd_roc_auc: Option<[f64; 2]>,
}

pub fn run(args: &ReportArgs, ui: &Ui, verbose: bool) -> Result<()> {
    ui.plan(3);
    let (input, layout) = resolve_input(&args.input, Some(Path::new(SAMPLE)))?;
    let tx = load(ui, &input, &layout)?;
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

/// Reads the outputs named in `paths`, renders the page and writes it atomically.
pub fn write_report(
    ui: &Ui,
    tx: &Transactions,
    input: &Path,
    paths: &ReportPaths,
) -> Result<ReportSummary> {
    let read = |p: &Path| -> Result<Value> {
        let text = std::fs::read_to_string(p).with_context(|| {
            format!(
                "reading {} (run `retain demo`, or pass its path)",
                p.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
    };
    let evaluation = read(&paths.evaluation)?;
    let kpis: KpiReport = serde_json::from_value(read(&paths.kpis)?)
        .with_context(|| format!("reading the KPIs in {}", paths.kpis.display()))?;
    let scores = read_table(&paths.scores)?;
    // The run summary beside the list holds the plan when the list was planned.
    let summary_path = paths.scores.with_file_name("summary.json");
    let plan: Option<Value> = std::fs::read_to_string(&summary_path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("plan").cloned());
    let lines = Lines::from_transactions(tx)?;
    let diagnostics = ui.step("re-applying the BG/NBD at the evaluation cutoff", || {
        diagnostics_of(&evaluation, &lines)
    })?;
    let bgnbd_roc_auc = diagnostics.as_ref().and_then(|d| {
        let ours = diagnostics::area(&diagnostics::roc_curve(&d.bgnbd));
        let theirs = evaluation
            .pointer("/churn/bgnbd_p_no_purchase/roc_auc")
            .and_then(Value::as_f64)?;
        Some([ours, theirs])
    });
    if let Some([ours, theirs]) = bgnbd_roc_auc
        && (ours - theirs).abs() > 1e-6
    {
        ui.warn(format!(
            "the BG/NBD re-applied to {} gives ROC AUC {ours:.6}, the evaluation {theirs:.6}: \
             are the transactions those of the evaluation?",
            input.display()
        ));
    }
    let shown = |p: &Path| p.display().to_string();
    let html = ui.step("drawing the charts and the page", || {
        Ok(render(&ReportInputs {
            evaluation: &evaluation,
            scores: &scores,
            kpis: &kpis,
            lines: &lines,
            diagnostics: diagnostics.as_ref(),
            sources: vec![
                ("transactions".into(), shown(input)),
                ("evaluation".into(), shown(&paths.evaluation)),
                ("outreach list".into(), shown(&paths.scores)),
                ("KPIs".into(), shown(&paths.kpis)),
            ],
            top: paths.top,
            plan: plan.as_ref(),
        })?)
    })?;
    retain_core::write_atomic(&paths.out, |w| w.write_all(html.as_bytes()))?;
    Ok(ReportSummary {
        report: shown(&paths.out),
        bytes: html.len(),
        charts: html.matches("<figure class=\"chart\"").count(),
        bgnbd_roc_auc,
    })
}

use std::io::Write as _;

/// The BG/NBD diagnostics when the evaluation has the fitted parameters.
fn diagnostics_of(ev: &Value, lines: &Lines) -> Result<Option<Diagnostics>> {
    let get = |k: &str| {
        ev.pointer(&format!("/customer_base/bgnbd_{k}"))
            .and_then(Value::as_f64)
    };
    let (Some(r), Some(alpha), Some(a), Some(b)) = (get("r"), get("alpha"), get("a"), get("b"))
    else {
        return Ok(None);
    };
    let cutoff = ev
        .pointer("/protocol/cutoff")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
        .context("the evaluation has no protocol.cutoff")?;
    let horizon = ev
        .pointer("/protocol/horizon")
        .and_then(Value::as_u64)
        .context("the evaluation has no protocol.horizon")? as u32;
    Ok(Some(diagnostics::diagnose(
        lines,
        BgNbdParameters { r, alpha, a, b },
        day_number(cutoff),
        horizon,
    )?))
}
