//! `retain features`: per-client features (and labels) at a cutoff.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};
use polars::prelude::{JoinArgs, JoinType, MaintainOrderJoin, col};
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
    let last_day = || read.last_day();
    let cutoff = match (args.cutoff, args.labels) {
        (Some(c), _) => c,
        (None, Some(h)) => last_day()?.minus(h),
        (None, None) => last_day()?,
    };
    if let Some(h) = args.labels {
        let last = last_day()?;
        if last.date() < cutoff.plus(h).date() {
            bail!(retain_train::TrainError::Window(format!(
                "the data end on {last}, before the end of the label window ({cutoff} + {} days = \
                 {}): every client would be labelled churned; choose a --cutoff on or before {}",
                h.days(),
                cutoff.plus(h),
                last.days_before(i64::from(h.days())),
            )));
        }
    }
    let c = cutoff;
    let mut df = ui.step_counted(
        "computing features",
        || {
            let countries = history.country_table(c)?;
            let plan = match args.labels {
                Some(h) => history.labelled_set(c, h, &countries),
                None => history.features_at(c, &countries),
            };
            let fam = &args.families;
            let h = match args.labels {
                Some(h) => h,
                None => retain_core::Horizon::new(91).map_err(anyhow::Error::msg)?,
            };
            let plan = if fam.families.is_empty() {
                plan
            } else {
                let mut join = JoinArgs::new(JoinType::Left);
                join.maintain_order = MaintainOrderJoin::Left;
                plan.join(
                    history.family_features_at(c, h, &fam.families),
                    [col("client_id")],
                    [col("client_id")],
                    join,
                )
            };
            let df = plan.collect()?;
            Ok(if fam.customer_base && df.height() > 0 {
                retain_train::with_customer_base(df, h)?
            } else {
                df
            })
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
    if df.height() == 0 {
        bail!(retain_features::FeatureError::EmptyPopulation(
            cutoff.date()
        ));
    }
    history.ids().decode(&mut df, retain_data::cols::CLIENT)?;
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
