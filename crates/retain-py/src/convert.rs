//! Python values to retain's settings and back: layouts, dates, horizons, feature families,
//! and any serialisable result as plain Python objects (through JSON, as the CLI writes them).

use chrono::NaiveDate;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use retain_core::Horizon;
use retain_data::Layout;
use retain_train::tuning::FeatureSet;
use serde::Serialize;

use crate::{config_err, py_err};

/// A layout: `None` for Online Retail II's (the CLI's default), a preset name, or a dict with
/// the keys of retain.toml's `[layout]` table.
pub(crate) fn layout(py: Python<'_>, layout: Option<&Bound<'_, PyAny>>) -> PyResult<Layout> {
    let Some(layout) = layout else {
        return Ok(Layout::online_retail_ii());
    };
    if let Ok(name) = layout.cast::<PyString>() {
        return Layout::preset(name.to_str()?).map_err(py_err);
    }
    let json: String = py
        .import("json")?
        .call_method1("dumps", (layout,))?
        .extract()?;
    let layout: Layout = serde_json::from_str(&json)
        .map_err(|e| config_err(format!("layout: {e} (the keys of retain.toml's [layout])")))?;
    layout.check().map_err(py_err)?;
    Ok(layout)
}

/// A day: a `datetime.date` (or anything with `isoformat()`, such as a datetime or a pandas
/// Timestamp: its day) or text `YYYY-MM-DD`.
pub(crate) fn date(value: &Bound<'_, PyAny>, what: &str) -> PyResult<NaiveDate> {
    let text: String = if let Ok(s) = value.cast::<PyString>() {
        s.to_str()?.trim().to_string()
    } else if value.hasattr("isoformat")? {
        let iso: String = value.call_method0("isoformat")?.extract()?;
        iso.chars().take(10).collect()
    } else {
        return Err(config_err(format!(
            "{what} = {}: expected a date (datetime.date or text YYYY-MM-DD)",
            value.repr()?
        )));
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|e| config_err(format!("{what} = {text:?}: not a date YYYY-MM-DD ({e})")))
}

/// A horizon in days (1 or more).
pub(crate) fn horizon(days: u32) -> PyResult<Horizon> {
    Horizon::new(days).map_err(config_err)
}

/// Feature families: "all", "none", a comma-separated list, or a list of names.
pub(crate) fn families(value: &Bound<'_, PyAny>) -> PyResult<FeatureSet> {
    let parse = |s: &str| {
        s.parse::<FeatureSet>()
            .map_err(|e| config_err(e.to_string()))
    };
    if let Ok(s) = value.cast::<PyString>() {
        return parse(s.to_str()?);
    }
    let mut set = FeatureSet::none();
    for name in value.try_iter()? {
        let name: String = name?.extract()?;
        set = set.union(parse(&name)?);
    }
    Ok(set)
}

/// The CLV's valuation, refused outside the CLI's ranges.
pub(crate) fn valuation(discount_rate: f64, margin: f64) -> PyResult<retain_clv::Valuation> {
    if !(discount_rate.is_finite() && discount_rate > -1.0) {
        return Err(config_err(format!(
            "discount_rate = {discount_rate}: a yearly discount rate must be a finite number \
             above -1 (0.1 = 10% a year)"
        )));
    }
    if !(margin > 0.0 && margin <= 1.0) {
        return Err(config_err(format!(
            "margin = {margin}: not a share in (0, 1]"
        )));
    }
    Ok(retain_clv::Valuation {
        annual_discount_rate: discount_rate,
        margin,
    })
}

/// `value` as plain Python objects (dicts, lists, numbers, text), as its JSON reads.
pub(crate) fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value)
        .map_err(|e| crate::RetainError::new_err(format!("converting a result: {e}")))?;
    py.import("json")?.call_method1("loads", (json,))
}

/// A purchase model's kind by the CLI's name.
pub(crate) fn rfm_kind(kind: &str) -> PyResult<retain_clv::RfmKind> {
    match kind {
        "bgnbd" => Ok(retain_clv::RfmKind::Bgnbd),
        "pareto" => Ok(retain_clv::RfmKind::ParetoNbd),
        "mbgnbd" => Ok(retain_clv::RfmKind::Mbgnbd),
        k => Err(config_err(format!(
            "rfm_model = {k:?}: expected bgnbd, pareto or mbgnbd"
        ))),
    }
}

/// The list's options from `retain score`'s flags given as keywords (`reasons`,
/// `reasons_for`, `rank_by`, `key_share`, `discount_rate`, `margin`, `bands`,
/// `drift_threshold`), the CLI's defaults for the others; refused outside their ranges.
pub(crate) fn score_options(
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<retain_score::ScoreOptions> {
    let mut o = retain_score::ScoreOptions::default();
    let (mut discount_rate, mut margin) = (0.0, 1.0);
    for (key, value) in options.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        match key.as_str() {
            "reasons" => {
                let n: usize = value.extract()?;
                if n > 20 {
                    return Err(config_err(format!("reasons = {n}: expected 0 to 20")));
                }
                o.n_reasons = n;
            }
            "reasons_for" => o.reasons_for = value.extract()?,
            "rank_by" => {
                o.rank_by = match value.extract::<String>()?.as_str() {
                    "churn" => retain_score::RankBy::Churn,
                    "value_at_risk" | "value-at-risk" => retain_score::RankBy::ValueAtRisk,
                    r => {
                        return Err(config_err(format!(
                            "rank_by = {r:?}: expected churn or value_at_risk"
                        )));
                    }
                }
            }
            "key_share" => o.key_share = value.extract()?,
            "discount_rate" => discount_rate = value.extract()?,
            "margin" => margin = value.extract()?,
            "bands" => {
                let (medium, high): (f64, f64) = value.extract()?;
                o.bands = retain_score::Bands { medium, high };
            }
            "drift_threshold" => {
                let t: f64 = value.extract()?;
                if !(t.is_finite() && t > 0.0) {
                    return Err(config_err(format!(
                        "drift_threshold = {t}: expected a positive number"
                    )));
                }
                o.drift_threshold = t;
            }
            k => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected keyword argument {k:?}: the options are reasons, reasons_for, \
                     rank_by, key_share, discount_rate, margin, bands and drift_threshold"
                )));
            }
        }
    }
    o.valuation = valuation(discount_rate, margin)?;
    o.check().map_err(py_err)?;
    Ok(o)
}
