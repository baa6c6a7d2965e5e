//! Features at one cutoff computed part by part as the input is read, so that a run that
//! only needs the features (`retain score`) never holds the whole history: each part of
//! whole clients is condensed, its clients' features are computed, and its tables are
//! dropped before the next part. Memory then holds one part's lines and tables and the
//! features of every client (29 numbers and a category each), not the condensed history.
//!
//! Every feature of a client is computed from that client's own rows, except the country
//! features, which read the table of every client's country ([`CountryTable`]). Those are
//! filled in at the end from each client's country, kept per part, and the table built from
//! all of them, exactly as [`History::features_at`] builds them: the result is the one-piece
//! features bit for bit (`tests/parts.rs`).

use polars::prelude::*;
use retain_core::{Cutoff, Horizon};
use retain_data::Transactions;
use retain_data::cols::CLIENT;

use crate::builder::{COUNTRY, COUNTRY_FEATURES, PART_LINES, filled};
use crate::{CountryTable, FeatureFamilies, History};

/// The features of every client at one cutoff, computed from the parts of whole clients
/// [`PartFeatures::push`]ed (as [`retain_data::PartReader::next_part`] gives them), with the
/// columns of [`History::features_at`] (or, with feature families, of
/// [`History::features_with_families_at`]).
///
/// With the cutoff known when the reading starts, each part's features are computed as it
/// arrives and its condensed tables dropped; without it (the cutoff is the data's last day,
/// known after the last part), the parts' condensed tables are kept and their features
/// computed one part at a time by [`PartFeatures::finish`].
pub struct PartFeatures {
    cutoff: Option<Cutoff>,
    families: Option<(FeatureFamilies, Horizon)>,
    labels: Option<Horizon>,
    pending: Vec<[DataFrame; 4]>,
    features: Vec<DataFrame>,
    modes: Vec<DataFrame>,
    ascending: bool,
    last: Option<i64>,
    pushed: bool,
}

impl PartFeatures {
    /// Features at `cutoff` (`None`: given to [`PartFeatures::finish`]), with the feature
    /// `families` over their horizon, if any.
    pub fn new(cutoff: Option<Cutoff>, families: Option<(FeatureFamilies, Horizon)>) -> Self {
        Self {
            cutoff,
            families: families.filter(|(f, _)| !f.is_empty()),
            labels: None,
            pending: Vec::new(),
            features: Vec::new(),
            modes: Vec::new(),
            ascending: true,
            last: None,
            pushed: false,
        }
    }

    /// With the [`crate::LABELS`] over `(cutoff, cutoff + horizon]` after the 29 features (as
    /// [`History::labelled_set`]): a training window's rows. The parts pushed must then hold
    /// their clients' lines up to `cutoff + horizon`; the features still read only the lines
    /// on or before the cutoff.
    pub fn with_labels(mut self, horizon: Horizon) -> Self {
        self.labels = Some(horizon);
        self
    }

    /// Condenses one part of whole clients (a canonical line table) and, with the cutoff
    /// known, computes its clients' features.
    pub fn push(&mut self, part: &Transactions) -> PolarsResult<()> {
        let lines = part.frame();
        if lines.height() == 0 {
            // nothing to condense; the first such part still gives the columns their types
            if !self.pushed {
                self.pushed = true;
                self.add(History::condense(lines)?)?;
            }
            return Ok(());
        }
        self.pushed = true;
        let client = lines.column(CLIENT)?.i64()?;
        if let (Some(first), Some(last)) = (client.first(), client.last()) {
            if self.last.is_some_and(|l| first <= l) {
                self.ascending = false;
            }
            self.last = Some(self.last.map_or(last, |l| l.max(last)));
        }
        for tables in History::part_tables(lines, PART_LINES)? {
            self.add(tables)?;
        }
        Ok(())
    }

    fn add(&mut self, tables: [DataFrame; 4]) -> PolarsResult<()> {
        match self.cutoff {
            Some(c) => self.compute(tables, c),
            None => {
                self.pending.push(tables);
                Ok(())
            }
        }
    }

    /// One part's features (country features left at 0) and its clients' countries.
    fn compute(&mut self, tables: [DataFrame; 4], cutoff: Cutoff) -> PolarsResult<()> {
        let h = History::of_tables(tables);
        let none = CountryTable::empty();
        let features = match (&self.families, self.labels) {
            (Some((families, horizon)), labels) => {
                h.frame_at(cutoff, labels, &none, families, *horizon)
            }
            (None, Some(labels)) => h.labelled_set(cutoff, labels, &none),
            (None, None) => h.features_at(cutoff, &none),
        };
        let modes = h.category_mode(cutoff.day(), COUNTRY);
        let plans = vec![features.logical_plan, modes.logical_plan];
        let [features, modes]: [DataFrame; 2] =
            LazyFrame::collect_all_with_engine(plans, Engine::Auto, OptFlags::default())?
                .try_into()
                .map_err(|_| polars_err!(ComputeError: "collect_all lost a table"))?;
        self.features.push(features);
        self.modes.push(modes);
        Ok(())
    }

    /// The features of every client pushed, at `cutoff` (which must be the one given to
    /// [`PartFeatures::new`], if any), sorted by client id, and the table of the clients'
    /// countries they were computed with.
    pub fn finish(self, cutoff: Cutoff) -> PolarsResult<(DataFrame, CountryTable)> {
        let ascending = self.ascending;
        self.partial(cutoff)?.finish(ascending)
    }

    /// The features of every client pushed before the clients' countries are known
    /// ([`PartialFeatures`]): what one worker of a distributed run hands on.
    pub fn partial(mut self, cutoff: Cutoff) -> PolarsResult<PartialFeatures> {
        polars_ensure!(
            self.cutoff.is_none_or(|c| c == cutoff),
            ComputeError: "features computed at {:?} were asked for at {cutoff}", self.cutoff
        );
        polars_ensure!(self.pushed, ComputeError: "no part of the input was condensed");
        for tables in std::mem::take(&mut self.pending) {
            self.compute(tables, cutoff)?;
        }
        Ok(PartialFeatures {
            features: stack(self.features)?,
            // (the rows' order does not matter to the table or to the join)
            modes: stack(self.modes)?,
        })
    }
}

fn stack(frames: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut all: Option<DataFrame> = None;
    for df in frames {
        match &mut all {
            Some(a) => {
                a.vstack_mut_owned(df)?;
            }
            None => all = Some(df),
        }
    }
    let mut all = all.unwrap_or_default();
    all.rechunk_mut_par();
    Ok(all)
}

/// The features of some clients before the clients' countries are known: each client's
/// features with the country features at 0, and each client's country (the mode of its
/// lines' categories up to the cutoff). The country features compare a client's country with
/// every client's, so they wait for all clients: the partials of any split of the clients
/// into disjoint parts (a distributed run's workers, each with whole clients) are
/// [`PartialFeatures::stack`]ed and [`PartialFeatures::finish`]ed into the one-piece features,
/// bit for bit.
#[derive(Debug, Clone)]
pub struct PartialFeatures {
    features: DataFrame,
    modes: DataFrame,
}

/// The column of [`PartialFeatures::to_table`] that tells a feature row from a country row.
pub const PARTIAL_ROW_KIND: &str = "__features_row";

impl PartialFeatures {
    /// The partials of disjoint sets of clients, as one.
    pub fn stack(parts: impl IntoIterator<Item = PartialFeatures>) -> PolarsResult<Self> {
        let (features, modes): (Vec<_>, Vec<_>) =
            parts.into_iter().map(|p| (p.features, p.modes)).unzip();
        Ok(Self {
            features: stack(features)?,
            modes: stack(modes)?,
        })
    }

    /// Clients with features.
    pub fn clients(&self) -> usize {
        self.features.height()
    }

    /// One table for the wire: the feature rows (with `__country` null and
    /// [`PARTIAL_ROW_KIND`] true), then one row per client country (`client_id`, `__country`,
    /// [`PARTIAL_ROW_KIND`] false, every feature null).
    pub fn to_table(&self) -> PolarsResult<DataFrame> {
        let n = self.features.height();
        let mut rows = self.features.clone();
        rows.with_column(Column::full_null(COUNTRY.into(), n, &DataType::String))?;
        rows.with_column(Column::new(PARTIAL_ROW_KIND.into(), vec![true; n]))?;
        let m = self.modes.height();
        let countries: Vec<Column> = rows
            .columns()
            .iter()
            .map(|c| match c.name().as_str() {
                CLIENT | COUNTRY => self
                    .modes
                    .column(c.name().as_str())
                    .map(|m| m.cast(c.dtype()))
                    .and_then(|m| m),
                PARTIAL_ROW_KIND => Ok(Column::new(PARTIAL_ROW_KIND.into(), vec![false; m])),
                name => Ok(Column::full_null(name.into(), m, c.dtype())),
            })
            .collect::<PolarsResult<_>>()?;
        rows.vstack_mut_owned(DataFrame::new(m, countries)?)?;
        rows.rechunk_mut_par();
        Ok(rows)
    }

    /// The partials [`PartialFeatures::to_table`] wrote (the rows in any order, the tables
    /// of several workers stacked).
    pub fn from_table(table: DataFrame) -> PolarsResult<Self> {
        let kind = col(PARTIAL_ROW_KIND);
        let features = table
            .clone()
            .lazy()
            .filter(kind.clone())
            .drop(by_name([COUNTRY, PARTIAL_ROW_KIND], true, false))
            .collect()?;
        let modes = table
            .lazy()
            .filter(kind.not())
            .select([col(CLIENT), col(COUNTRY)])
            .collect()?;
        Ok(Self { features, modes })
    }

    /// The features of every client, sorted by client id (`sorted`: the features' rows are
    /// already in ascending client order, as one reader's parts are), and the table of the
    /// clients' countries they were computed with. Refuses a client with two rows (two parts
    /// that were not disjoint).
    pub fn finish(self, sorted: bool) -> PolarsResult<(DataFrame, CountryTable)> {
        let countries = self.country_table()?;
        let features = self.finish_with(&countries, sorted)?;
        Ok((features, countries))
    }

    /// The table of the clients' countries (each client's country at the partials' cutoff):
    /// what [`History::country_table`] gives at that cutoff.
    pub fn country_table(&self) -> PolarsResult<CountryTable> {
        CountryTable::of_modes(self.modes.clone().lazy())
    }

    /// The features of every client with the country features of `countries` (a table built
    /// at another cutoff, as a training window's features read the training cutoff's table),
    /// sorted by client id as [`PartialFeatures::finish`] sorts them.
    pub fn finish_with(self, countries: &CountryTable, sorted: bool) -> PolarsResult<DataFrame> {
        let Self { features, modes } = self;
        let names: Vec<Expr> = features
            .get_column_names()
            .into_iter()
            .map(|c| col(c.clone()))
            .collect();
        let mut args = JoinArgs::new(JoinType::Left);
        args.maintain_order = MaintainOrderJoin::Left;
        let mut features = features
            .lazy()
            .drop(by_name(COUNTRY_FEATURES, true, false))
            .join(
                countries.columns(modes.lazy()),
                [col(CLIENT)],
                [col(CLIENT)],
                args,
            )
            .with_columns(COUNTRY_FEATURES.map(filled))
            .select(names);
        if !sorted {
            features = features.sort([CLIENT], SortMultipleOptions::default());
        }
        let features = features.collect()?;
        let clients = features.column(CLIENT)?.i64()?;
        if let Some(w) = clients
            .iter()
            .zip(clients.iter().skip(1))
            .find(|(a, b)| a == b)
        {
            polars_bail!(ComputeError: "client {} has features from two parts: the parts did not hold whole clients (were two spellings of one id, such as `00123` and `123`, partitioned apart?)", w.0.unwrap_or_default());
        }
        Ok(features)
    }
}
