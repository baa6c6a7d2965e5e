//! `retain features`: per-client features (and labels) at a cutoff.

use anyhow::Result;
use retain_data::write_table;
use retain_features::History;

use super::common::{Ui, last_day, load, resolve_input};
use crate::args::FeaturesArgs;

pub fn run(args: &FeaturesArgs, ui: &Ui) -> Result<()> {
    let (input, layout) = resolve_input(&args.input, None)?;
    let tx = load(ui, &input, &layout)?;
    let cutoff = match args.cutoff {
        Some(c) => c,
        None => last_day(&tx)?,
    };
    let c = cutoff;
    let mut df = ui.step("computing features", || {
        let history = History::of(&tx)?;
        let countries = history.country_table(c)?;
        let plan = match args.labels {
            Some(h) => history.labelled_set(c, h, &countries),
            None => history.features_at(c, &countries),
        };
        Ok(plan.collect()?)
    })?;
    write_table(&mut df, &args.out)?;
    ui.say(format!(
        "wrote {} clients x {} columns at cutoff {} to {}",
        df.height(),
        df.width(),
        cutoff,
        args.out.display()
    ));
    Ok(())
}
