//! The per-client feature table a user asks for (`retain features`, Python's `features`):
//! the protocol's 29 at a cutoff, the feature families chosen, and optionally the labels.

use polars::prelude::DataFrame;
use retain_core::{Cutoff, Horizon};
use retain_features::History;

use crate::TrainError;
use crate::tuning::FeatureSet;

/// Every client's features at `cutoff` from `history` (lines on or before the cutoff only):
/// the 29, then the `families` asked for; with `labels`, the churn label and the revenue of
/// the `labels` days after the cutoff, which the history must cover. One row per client with
/// a purchase on or before the cutoff, the ids as read. `last_day` is the data's last day.
pub fn client_features(
    history: &History,
    last_day: Cutoff,
    cutoff: Cutoff,
    labels: Option<Horizon>,
    families: FeatureSet,
) -> Result<DataFrame, TrainError> {
    if let Some(h) = labels {
        let last = last_day;
        if last.date() < cutoff.plus(h).date() {
            return Err(TrainError::Window(format!(
                "the data end on {last}, before the end of the label window ({cutoff} + {} days = \
                 {}): every client would be labelled churned; choose a cutoff on or before {}",
                h.days(),
                cutoff.plus(h),
                last.days_before(i64::from(h.days())),
            )));
        }
    }
    let countries = history.country_table(cutoff)?;
    // the families' horizon (P(no purchase in H), the windows' last-year span)
    let h = match labels {
        Some(h) => h,
        None => Horizon::new(91).map_err(TrainError::Config)?,
    };
    let plan = history.frame_at(cutoff, labels, &countries, &families.families, h);
    let df = plan.collect()?;
    let mut df = if families.customer_base && df.height() > 0 {
        crate::with_customer_base(df, h)?
    } else {
        df
    };
    if df.height() == 0 {
        return Err(retain_features::FeatureError::EmptyPopulation(cutoff.date()).into());
    }
    history
        .ids()
        .decode(&mut df, retain_data::cols::CLIENT)
        .map_err(|e| TrainError::Internal(e.to_string()))?;
    Ok(df)
}
