//! `retain features`: per-client features (and labels) at a cutoff.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use retain_core::Cutoff;
use retain_data::write_table;
use serde::Serialize;

use super::common::{ReadSummary, Ui, check_outputs, load_history, resolve_input};
use crate::args::FeaturesArgs;
use crate::output::per_second;
use crate::table::{duration, thousands};

/// `retain features --format json`.
#[derive(Serialize)]
struct FeaturesOutput<'a> {
    read: &'a ReadSummary,
    cutoff: Cutoff,
    /// The label window in days, with --labels.
    labels_days: Option<u32>,
    /// Rows written: one per client.
    clients: usize,
    /// The columns written, in order.
    columns: Vec<String>,
    outputs: BTreeMap<&'static str, &'a Path>,
}

pub fn run(args: &FeaturesArgs, ui: &Ui) -> Result<()> {
    ui.plan(2);
    let (input, layout) = resolve_input(&args.input, None)?;
    check_outputs(&[&input], &[&args.out])?;
    super::common::check_files_writable(&[&args.out])?;
    // read and condensed part by part: memory holds one part's lines and the history
    let (history, read) = load_history(ui, &input, &layout, args.input.as_of)?;
    let last_day = read.last_day()?;
    let cutoff = match (args.cutoff, args.labels) {
        (Some(c), _) => c,
        (None, Some(h)) => last_day.minus(h),
        (None, None) => last_day,
    };
    let mut df = ui.step_counted(
        "computing features",
        || {
            Ok(retain_train::client_features(
                &history,
                last_day,
                cutoff,
                args.labels,
                args.families,
            )?)
        },
        |df, d| {
            format!(
                "computed the features of {} clients in {} ({})",
                thousands(df.height() as i64),
                duration(d),
                per_second(df.height() as u64, d)
            )
        },
    )?;
    write_table(&mut df, &args.out)?;
    if ui.emit(&FeaturesOutput {
        read: &read,
        cutoff,
        labels_days: args.labels.map(|h| h.days()),
        clients: df.height(),
        columns: df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect(),
        outputs: [("features", args.out.as_path())].into(),
    })? {
        return Ok(());
    }
    ui.say(format!(
        "wrote {} clients x {} columns at cutoff {} to {}",
        thousands(df.height() as i64),
        df.width(),
        cutoff,
        args.out.display()
    ));
    Ok(())
}
