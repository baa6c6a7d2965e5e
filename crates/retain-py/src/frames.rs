//! Training data whose features are computed elsewhere: a distributed run's workers each
//! compute the partial features (and labels) of their own clients, and `train` and
//! `evaluate` read them through [`retain_train::ClientFrames`] exactly as they read one
//! machine's history.
//!
//! [`Frames`] wraps a Python callable that, given a frame request (cutoff, label horizon,
//! feature families, their horizon), returns the stacked partial tables of every worker
//! (`FeatureParts.finish` with `labels`); each is finished here with the country table the
//! training asks for ([`retain_features::PartialFeatures::finish_with`]). Only the country
//! table of each cutoff seen is kept (a few rows), not the frames: at millions of clients a
//! frame is gigabytes, and the default training asks for no frame twice.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use retain_core::{Cutoff, DataSource, Horizon};
use retain_features::{CountryTable, FeatureFamilies, PartialFeatures};
use retain_train::{ClientFrames, TrainError};

use crate::{arrow, config_err, convert, partials};

/// A frame request: cutoff, label days, family names, family horizon (0 without families).
type Key = (NaiveDate, Option<u32>, String, u32);

/// Feature frames computed by a callable (module docs).
#[pyclass(module = "retain._retain", frozen)]
pub(crate) struct Frames {
    compute: Py<PyAny>,
    pub(crate) source: DataSource,
    requests: Mutex<Vec<Key>>,
    countries: Mutex<HashMap<NaiveDate, CountryTable>>,
    error: Mutex<Option<PyErr>>,
}

#[pymethods]
impl Frames {
    /// Frames from `compute(cutoff, labels, families, family_horizon)`, which returns the
    /// partial feature tables of every client at `cutoff` (text `YYYY-MM-DD`) with the labels
    /// of the `labels` days after it (None: no labels) and the feature `families` (a list of
    /// names) over `family_horizon` days, stacked in any order (`FeatureParts.finish` of a
    /// builder made with those settings, one per worker). `stats` holds the lines' `lines`,
    /// `clients`, `first_day` and `last_day` (as `Transactions.stats` gives them); `layout`
    /// and `name` are recorded in the model cards.
    #[new]
    #[pyo3(signature = (compute, stats, *, layout = None, name = "<frames>"))]
    fn new(
        py: Python<'_>,
        compute: Bound<'_, PyAny>,
        stats: &Bound<'_, PyDict>,
        layout: Option<&Bound<'_, PyAny>>,
        name: &str,
    ) -> PyResult<Self> {
        if !compute.is_callable() {
            return Err(config_err("compute: expected a callable"));
        }
        let get = |key: &str| -> PyResult<Bound<'_, PyAny>> {
            stats
                .get_item(key)?
                .ok_or_else(|| config_err(format!("stats: no `{key}`")))
        };
        let day = |key: &str| -> PyResult<Option<NaiveDate>> {
            let v = get(key)?;
            if v.is_none() {
                Ok(None)
            } else {
                convert::date(&v, key).map(Some)
            }
        };
        let source = DataSource {
            path: name.to_string(),
            layout: convert::layout(py, layout)?.name,
            rows: get("lines")?.extract()?,
            clients: get("clients")?.extract()?,
            first_day: day("first_day")?,
            last_day: day("last_day")?,
            lines_sha256: match stats.get_item("digests")? {
                // the workers' digests of their clients' lines, added up
                Some(list) if !list.is_none() => {
                    let mut all = retain_data::LinesDigest::new();
                    for state in list.extract::<Vec<String>>()? {
                        let d = retain_data::LinesDigest::from_state(&state).ok_or_else(|| {
                            config_err(format!(
                                "stats: `digests` holds {state:?}, not a `lines_digest()`"
                            ))
                        })?;
                        all.merge(&d);
                    }
                    all.hex()
                }
                _ => String::new(),
            },
        };
        Ok(Self {
            compute: compute.unbind(),
            source,
            requests: Mutex::new(Vec::new()),
            countries: Mutex::new(HashMap::new()),
            error: Mutex::new(None),
        })
    }

    /// The frames computed so far, in order: (cutoff, labels, families, family horizon).
    fn requests(&self) -> Vec<(String, Option<u32>, String, u32)> {
        lock(&self.requests)
            .iter()
            .cloned()
            .map(|(c, l, f, h)| (c.to_string(), l, f, h))
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Frames {
    /// The error `compute` raised, if a frame failed for that reason: the caller raises it
    /// in place of the training error that stopped the run.
    pub(crate) fn take_error(&self) -> Option<PyErr> {
        lock(&self.error).take()
    }

    fn partials(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> Result<PartialFeatures, TrainError> {
        let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
        let fh = if families.is_empty() {
            0
        } else {
            family_horizon.days()
        };
        lock(&self.requests).push((
            cutoff.date(),
            labels.map(Horizon::days),
            names.join(","),
            fh,
        ));
        let table = Python::attach(|py| -> PyResult<DataFrame> {
            let out = self.compute.call1(
                py,
                (
                    cutoff.date().to_string(),
                    labels.map(Horizon::days),
                    names.clone(),
                    family_horizon.days(),
                ),
            )?;
            arrow::import(py, out.bind(py))
        });
        let table = match table {
            Ok(t) => t,
            Err(e) => {
                // (not a data error: the selection would take it for a short window)
                let message = format!("computing the features at {cutoff}: {e}");
                *lock(&self.error) = Some(e);
                return Err(TrainError::Internal(message));
            }
        };
        let (table, _) =
            partials::split_ids(table).map_err(|e| TrainError::Window(e.to_string()))?;
        let partials = PartialFeatures::from_table(table)?;
        // every frame at a cutoff holds every client's country there
        let countries = partials.country_table()?;
        lock(&self.countries).insert(cutoff.date(), countries);
        Ok(partials)
    }
}

impl ClientFrames for Frames {
    fn first_day(&self) -> Option<NaiveDate> {
        self.source.first_day
    }

    fn last_day(&self) -> Option<NaiveDate> {
        self.source.last_day
    }

    fn clients(&self) -> u64 {
        self.source.clients
    }

    fn country_table(&self, cutoff: Cutoff) -> Result<CountryTable, TrainError> {
        if let Some(t) = lock(&self.countries).get(&cutoff.date()) {
            return Ok(t.clone());
        }
        let h = Horizon::new(1).map_err(TrainError::Config)?;
        self.partials(cutoff, None, &FeatureFamilies::none(), h)?;
        lock(&self.countries)
            .get(&cutoff.date())
            .cloned()
            .ok_or_else(|| TrainError::Internal(format!("no country table at {cutoff}")))
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
            .partials(cutoff, labels, families, family_horizon)?
            .finish_with(countries, false)?)
    }
}
