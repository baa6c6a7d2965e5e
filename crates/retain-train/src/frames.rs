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
use polars::prelude::{BooleanChunked, DataFrame};
use retain_core::{Cutoff, Horizon};
use retain_data::{LoadStats, Transactions};
use retain_features::{CountryTable, FeatureFamilies, History};

use crate::TrainError;

/// The feature frames training reads (module docs). `Sync`: the validation targets are fitted
/// side by side, and ask for their frames from two threads.
pub trait ClientFrames: Sync {
    /// The day of the data's first line, if any.
    fn first_day(&self) -> Option<NaiveDate>;

    /// The day of the data's last line, if any.
    fn last_day(&self) -> Option<NaiveDate>;

    /// The clients of the data (with at least one line kept).
    fn clients(&self) -> u64;

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
    clients: u64,
}

impl HistoryFrames {
    /// Condenses `tx` once; every frame is then computed from its condensed tables.
    pub fn of(tx: &Transactions) -> Result<Self, TrainError> {
        Ok(Self::new(History::of(tx)?, tx.stats()))
    }

    /// The frames of a history already condensed (as [`retain_features::Condenser`] builds
    /// it part by part, never holding every line) from lines counted by `stats` (their
    /// clients, first and last day).
    pub fn new(history: History, stats: &LoadStats) -> Self {
        Self {
            history,
            first_day: stats.first_day,
            last_day: stats.last_day,
            clients: stats.clients,
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

    fn clients(&self) -> u64 {
        self.clients
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

/// The frames of `inner` restricted to a seeded sample of its clients
/// ([`retain_data::in_client_sample`]): the same clients in every frame, whole, and the
/// country table of every client (the country features of a sampled client are then the
/// ones the whole data give it). What the selection reads beyond
/// [`crate::BacktestParams::selection_clients`] clients.
pub(crate) struct SampledFrames<'a> {
    inner: &'a dyn ClientFrames,
    fraction: f64,
    seed: u64,
}

impl<'a> SampledFrames<'a> {
    /// The clients of `inner` in the sample of `fraction` seeded with `seed`.
    pub(crate) fn new(inner: &'a dyn ClientFrames, fraction: f64, seed: u64) -> Self {
        Self {
            inner,
            fraction,
            seed,
        }
    }
}

impl ClientFrames for SampledFrames<'_> {
    fn first_day(&self) -> Option<NaiveDate> {
        self.inner.first_day()
    }

    fn last_day(&self) -> Option<NaiveDate> {
        self.inner.last_day()
    }

    fn clients(&self) -> u64 {
        (self.inner.clients() as f64 * self.fraction).round() as u64
    }

    fn country_table(&self, cutoff: Cutoff) -> Result<CountryTable, TrainError> {
        self.inner.country_table(cutoff)
    }

    fn frame_at(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        countries: &CountryTable,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> Result<DataFrame, TrainError> {
        let frame = self
            .inner
            .frame_at(cutoff, labels, countries, families, family_horizon)?;
        let keep: BooleanChunked = frame
            .column(retain_data::cols::CLIENT)?
            .i64()?
            .iter()
            .map(|c| {
                Some(c.is_some_and(|c| retain_data::in_client_sample(c, self.fraction, self.seed)))
            })
            .collect();
        Ok(frame.filter(&keep)?)
    }
}
