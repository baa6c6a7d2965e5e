//! What training and the backtest read of the data: the labelled feature frames of the
//! windows they ask for, the country table at a cutoff, and the data's first and last days.
//!
//! [`ClientFrames`] is that narrow interface. On one machine it is the condensed history of a
//! transaction table ([`HistoryFrames`]); a distributed run implements it by computing each
//! frame asked for on its workers, each worker's clients whole
//! ([`retain_features::PartFeatures::with_labels`]), and finishing the stacked parts with the
//! country table ([`retain_features::PartialFeatures::finish_with`]): the same frames bit for
//! bit, so [`crate::train_on`] and [`crate::backtest_on`] fit the same models on either.

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use retain_core::{Cutoff, Horizon};
use retain_data::Transactions;
use retain_features::{CountryTable, FeatureFamilies, History};

use crate::TrainError;

/// The feature frames training reads (module docs). `Sync`: the validation targets are fitted
/// side by side, and ask for their frames from two threads.
pub trait ClientFrames: Sync {
    /// The day of the data's first line, if any.
    fn first_day(&self) -> Option<NaiveDate>;

    /// The day of the data's last line, if any.
    fn last_day(&self) -> Option<NaiveDate>;

    /// The table of every client's country from the lines on or before `cutoff`
    /// ([`History::country_table`]).
    fn country_table(&self, cutoff: Cutoff) -> Result<CountryTable, TrainError>;

    /// Every client's feature frame at `cutoff` ([`History::frame_at`]), collected.
    fn frame_at(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        countries: &CountryTable,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> Result<DataFrame, TrainError>;
}

/// The frames of a transaction table on one machine: its history, condensed once.
pub struct HistoryFrames {
    history: History,
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
}

impl HistoryFrames {
    /// Condenses `tx` once; every frame is then computed from its condensed tables.
    pub fn of(tx: &Transactions) -> Result<Self, TrainError> {
        Ok(Self::new(
            History::of(tx)?,
            tx.stats().first_day,
            tx.stats().last_day,
        ))
    }

    /// The frames of a history already condensed (as [`retain_features::Condenser`] builds
    /// it part by part, never holding every line), whose lines run from `first_day` to
    /// `last_day`.
    pub fn new(
        history: History,
        first_day: Option<NaiveDate>,
        last_day: Option<NaiveDate>,
    ) -> Self {
        Self {
            history,
            first_day,
            last_day,
        }
    }

    /// The condensed history the frames are computed from.
    pub fn history(&self) -> &History {
        &self.history
    }
}

impl ClientFrames for HistoryFrames {
    fn first_day(&self) -> Option<NaiveDate> {
        self.first_day
    }

    fn last_day(&self) -> Option<NaiveDate> {
        self.last_day
    }

    fn country_table(&self, cutoff: Cutoff) -> Result<CountryTable, TrainError> {
        Ok(self.history.country_table(cutoff)?)
    }

    fn frame_at(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        countries: &CountryTable,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> Result<DataFrame, TrainError> {
        Ok(self
            .history
            .frame_at(cutoff, labels, countries, families, family_horizon)
            .collect()?)
    }
}
