//! The shared steps that write the retention pages: the KPI tables and the HTML report
//! (`retain kpis`, `retain report` and the demo call them; a command never calls another
//! command's file).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;
use retain_core::day_number;
use retain_data::Transactions;
use retain_report::diagnostics::{self, BgNbdParameters, Diagnostics};
use retain_report::html::{ReportInputs, render};
use retain_report::kpis::{self, KpiParams, KpiReport, Lines};
use serde::Serialize;
use serde_json::Value;

use super::common::Ui;
use crate::table::duration;

/// `<stem>.csv`, `<stem>.parquet` and `<stem>.json`: the extensions appended (a stem's dots
/// are kept: `out/kpis.2024.01`), and a folder (`out/`, or one that exists) means
/// `<folder>/kpis.*`.
pub fn kpi_paths(stem: &Path) -> [PathBuf; 3] {
    let (dir, name) = retain_data::output_stem(stem, "kpis");
    ["csv", "parquet", "json"].map(|e| dir.join(format!("{name}.{e}")))
}

/// Computes the KPIs of `tx` (with the clients' NPS/CSAT when given) and writes the three
/// files of [`kpi_paths`]: each to a temporary file, renamed into place only when all three
/// are written, so a failed run leaves the earlier files as they were.
pub fn compute_and_write(
    ui: &Ui,
    tx: &Transactions,
    params: &KpiParams,
    satisfaction: Option<kpis::Satisfaction>,
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
    report.satisfaction = satisfaction;
    let paths = kpi_paths(out);
    // `.<name>.<pid>.part.<ext>`: the form a later run removes when this one was killed
    let tmp = |p: &Path| {
        let stem = p
            .file_stem()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        let ext = p
            .extension()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        p.with_file_name(format!(".{stem}.{}.part.{ext}", std::process::id()))
    };
    let temps = paths.each_ref().map(|p| tmp(p));
    let mut df = kpis::periods_frame(&report)?;
    let written = (|| -> Result<()> {
        retain_data::write_table(&mut df, &temps[0])?;
        retain_data::write_table(&mut df, &temps[1])?;
        retain_core::write_atomic(&temps[2], |w| {
            serde_json::to_writer_pretty(&mut *w, &report).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })?;
        for (t, p) in temps.iter().zip(&paths) {
            std::fs::rename(t, p).with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    })();
    if written.is_err() {
        for t in &temps {
            let _ = std::fs::remove_file(t);
        }
    }
    written?;
    Ok((report, paths))
}

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
