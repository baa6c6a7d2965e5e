//! The candidates of one cutoff: the training windows before it, their design matrices, and
//! every churn and value model of the backtest fitted on them as a deployable model
//! ([`ChurnModel`], [`ValueModel`]) on one feature list. The backtest measures them; `retain
//! train` saves the one it needs.

use std::collections::BTreeMap;

use ndarray::{Array2, Axis, concatenate};
use polars::prelude::*;
use retain_clv::{CLV_FEATURES, ClvModel, RfmKind, RfmRows, Valuation};
use retain_core::{Cutoff, FeatureSchema, Horizon, kinds};
use retain_features::{CountryTable, FEATURES, FeatureMatrix, non_constant};
use retain_models::{
    AnyClassifier, AnyRegressor, Calibrated, CalibrationMethod, ChurnModel, CustomerBasePart,
    DecisionTreeParams, GradientBoostingParams, GradientBoostingRegressorParams, LogisticParams,
    RandomForestParams, RecencyBaseline, RevenueRateBaseline, TwoPartParams, ValueModel,
    holdout_split,
};
use std::collections::BTreeSet;

use crate::TrainError;
use crate::backtest::BacktestParams;
use crate::frames::ClientFrames;
use crate::protocol::{churn_rate, column_f64};
use crate::tuning::{FeatureSet, Spec, Tuned, tuned_logistic};

/// A labelled window with optional customer-base columns.
struct Window {
    cutoff: Cutoff,
    df: DataFrame,
    hybrid: Option<Array2<f64>>,
}

/// A design matrix with labels.
struct Design {
    x: Array2<f64>,
    churned: Vec<bool>,
    value: Vec<f64>,
    ids: Vec<i64>,
    /// Row range of each window in `x`, most recent first.
    spans: Vec<std::ops::Range<usize>>,
}

/// Every client's frequency, recency, age and monetary value of a feature frame (days).
fn rfm_columns(df: &DataFrame) -> Result<[Vec<f64>; 4], TrainError> {
    Ok([
        column_f64(df, "frequency")?,
        column_f64(df, "recency_lt")?,
        column_f64(df, "T")?,
        column_f64(df, "monetary")?,
    ])
}

/// BG/NBD + Gamma-Gamma fitted on every client of `df` (BENCHMARK.md section 5).
pub(crate) fn fit_customer_base(df: &DataFrame, kind: RfmKind) -> Result<ClvModel, TrainError> {
    let [f, r, t, m] = rfm_columns(df)?;
    Ok(ClvModel::fit(kind, &RfmRows::new(&f, &r, &t, &m)?)?)
}

/// The customer-base outputs of every client of `df` over `horizon`.
pub(crate) fn customer_base_values(
    base: &ClvModel,
    df: &DataFrame,
    horizon: Horizon,
) -> Result<retain_clv::ClientValues, TrainError> {
    let [f, r, t, m] = rfm_columns(df)?;
    Ok(base.values(
        &RfmRows::new(&f, &r, &t, &m)?,
        horizon,
        &Valuation::default(),
    )?)
}

fn hybrid_columns(
    df: &DataFrame,
    base: &ClvModel,
    horizon: Horizon,
) -> Result<Array2<f64>, TrainError> {
    let s = customer_base_values(base, df, horizon)?;
    let n = s.p_no_purchase.len();
    // MBG/NBD on the same clients adds two columns; where it cannot be fitted (too little
    // repeat behaviour) the window has the three of BG/NBD, and the caller keeps three
    // everywhere.
    let mb = fit_customer_base(df, RfmKind::Mbgnbd)
        .and_then(|m| customer_base_values(&m, df, horizon))
        .ok();
    let mut x = Array2::zeros((n, if mb.is_some() { 5 } else { 3 }));
    for i in 0..n {
        x[[i, 0]] = s.p_no_purchase[i];
        x[[i, 1]] = s.expected_purchases[i];
        x[[i, 2]] = s.clv[i];
        if let Some(mb) = &mb {
            x[[i, 3]] = mb.p_no_purchase[i];
            x[[i, 4]] = mb.p_alive[i];
        }
    }
    Ok(x)
}

/// The clients at `cutoff` with the 29 features, the columns of `families` (their `last_year`
/// windows over `family_horizon`, the training label window, so a column means the same in
/// every window and at scoring) and, with `labels`, the labels over that horizon.
pub(crate) fn frame_at(
    frames: &dyn ClientFrames,
    cutoff: Cutoff,
    labels: Option<Horizon>,
    countries: &CountryTable,
    families: &FeatureSet,
    family_horizon: Horizon,
) -> Result<DataFrame, TrainError> {
    frames.frame_at(
        cutoff,
        labels,
        countries,
        &families.families,
        family_horizon,
    )
}

/// `df` (a feature frame of [`History::features_at`]) with the customer-base columns
/// ([`retain_models::deploy::HYBRID_FEATURES`]) appended: BG/NBD + Gamma-Gamma fitted without
/// labels on every client of `df`, their outputs over `horizon` (the `customer_base` family as
/// `retain features` writes it).
pub fn with_customer_base(df: DataFrame, horizon: Horizon) -> Result<DataFrame, TrainError> {
    let base = fit_customer_base(&df, RfmKind::Bgnbd)?;
    let x = hybrid_columns(&df, &base, horizon)?;
    let mut df = df;
    for (j, name) in retain_models::deploy::HYBRID_FEATURES
        .iter()
        .enumerate()
        .take(x.ncols())
    {
        df.with_column(Column::new((*name).into(), x.column(j).to_vec()))?;
    }
    Ok(df)
}

fn build_window(
    frames: &dyn ClientFrames,
    cutoff: Cutoff,
    horizon: Horizon,
    countries: &CountryTable,
    hybrid: bool,
    families: &FeatureSet,
    strict: bool,
) -> Result<Window, TrainError> {
    let df = frame_at(frames, cutoff, Some(horizon), countries, families, horizon)?;
    let hybrid = if hybrid && df.height() > 0 {
        match fit_customer_base(&df, RfmKind::Bgnbd) {
            Ok(base) => Some(hybrid_columns(&df, &base, horizon)?),
            // `--hybrid` leaves the window out (the caller drops it); for the tuned
            // candidates the window stays, without the customer-base columns.
            Err(e @ TrainError::Clv(_)) if strict => return Err(e),
            Err(TrainError::Clv(_)) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    Ok(Window { cutoff, df, hybrid })
}

pub(crate) fn bools(df: &DataFrame, name: &str) -> Result<Vec<bool>, TrainError> {
    Ok(column_f64(df, name)?.iter().map(|&v| v == 1.0).collect())
}

fn design(
    windows: &[Window],
    used: &[String],
    with_hybrid: bool,
    value_scale: f64,
) -> Result<Design, TrainError> {
    let mut xs = Vec::new();
    let (mut churned, mut value, mut ids, mut spans) = (vec![], vec![], vec![], vec![]);
    let mut start = 0;
    for w in windows {
        let m = FeatureMatrix::from_frame(&w.df, used)?;
        let x = match (&w.hybrid, with_hybrid) {
            (Some(h), true) => concatenate(Axis(1), &[m.x.view(), h.view()])
                .map_err(|e| TrainError::Window(format!("stacking hybrid columns: {e}")))?,
            _ => m.x,
        };
        spans.push(start..start + x.nrows());
        start += x.nrows();
        xs.push(x);
        churned.extend(bools(&w.df, "churned")?);
        value.extend(
            column_f64(&w.df, "holdout_value")?
                .iter()
                .map(|v| v * value_scale),
        );
        ids.extend(m.clients);
    }
    let views: Vec<_> = xs.iter().map(|x| x.view()).collect();
    let x = concatenate(Axis(0), &views)
        .map_err(|e| TrainError::Window(format!("stacking windows: {e}")))?;
    Ok(Design {
        x,
        churned,
        value,
        ids,
        spans,
    })
}

/// The four ML classifier kinds, in the order they are fitted.
const CLASSIFIERS: [&str; 4] = [
    kinds::LOGISTIC,
    kinds::DECISION_TREE,
    kinds::RANDOM_FOREST,
    kinds::GRADIENT_BOOSTING,
];

/// The ML churn models of one feature set that `want` asks for, fitted on `d` (or its `rows`).
fn fit_classifiers(
    d: &Design,
    params: &BacktestParams,
    rows: Option<&[usize]>,
    want: &dyn Fn(&str) -> bool,
) -> Result<Vec<(&'static str, AnyClassifier)>, TrainError> {
    let (x, y) = match rows {
        Some(r) => (
            d.x.select(Axis(0), r),
            r.iter().map(|&i| d.churned[i]).collect::<Vec<_>>(),
        ),
        None => (d.x.clone(), d.churned.clone()),
    };
    let x = x.view();
    let mut out = Vec::new();
    for name in CLASSIFIERS {
        if !want(name) {
            continue;
        }
        params.progress.model(name);
        let m: AnyClassifier = match name {
            kinds::LOGISTIC => LogisticParams::new().fit(x, &y, None)?.into(),
            kinds::DECISION_TREE => DecisionTreeParams::new().fit(x, &y, None)?.into(),
            kinds::RANDOM_FOREST => RandomForestParams::new()
                .n_trees(params.forest_trees)
                .threads(2)
                .fit(x, &y, None)?
                .into(),
            _ => GradientBoostingParams::new()
                .n_trees(params.boosting_trees)
                .fit(x, &y, None)?
                .into(),
        };
        out.push((name, m));
    }
    Ok(out)
}

/// The boosted member of the rank ensemble: 400 trees of at most 7 leaves, learning rate
/// 0.02, and about 50 clients a leaf (hessian 10 at p(1 - p) near 0.2): a smoother model than
/// the 31-leaf default, which over-fits a few thousand clients.
fn ensemble_boosting(params: &BacktestParams) -> GradientBoostingParams {
    GradientBoostingParams::new()
        .n_trees(400)
        .learning_rate(0.02)
        .max_leaves(7)
        .min_leaf_weight(10.0)
        .seed(params.seed)
}

/// Calibrated variants: refit on the clients outside a seeded 20% of the most recent window,
/// calibrate on that 20% (module docs).
fn fit_calibrated(
    d: &Design,
    params: &BacktestParams,
    method: CalibrationMethod,
    want: &dyn Fn(&str) -> bool,
) -> Result<Vec<(&'static str, AnyClassifier)>, TrainError> {
    let recent = d.spans[0].clone();
    let (_, held_local) = holdout_split(recent.len(), 0.2, params.seed)?;
    let held_rows: Vec<usize> = held_local.iter().map(|&i| recent.start + i).collect();
    let held_ids: std::collections::BTreeSet<i64> = held_rows.iter().map(|&i| d.ids[i]).collect();
    let fit_rows: Vec<usize> = (0..d.ids.len())
        .filter(|&i| !held_ids.contains(&d.ids[i]))
        .collect();
    let x_cal = d.x.select(Axis(0), &held_rows);
    let y_cal: Vec<bool> = held_rows.iter().map(|&i| d.churned[i]).collect();
    fit_classifiers(d, params, Some(&fit_rows), want)?
        .into_iter()
        .map(|(name, m)| {
            Ok((
                name,
                Calibrated::fit(m, method, x_cal.view(), &y_cal)?.into(),
            ))
        })
        .collect()
}

/// The suffix of a calibration method.
pub fn calibration_suffix(method: CalibrationMethod) -> &'static str {
    match method {
        CalibrationMethod::Platt => kinds::PLATT_SUFFIX,
        CalibrationMethod::Isotonic => kinds::ISOTONIC_SUFFIX,
    }
}

/// The models fitted at one cutoff, as deployable models on one feature list, and what was
/// learned on the way.
pub struct Candidates {
    /// The feature list every candidate reads: the used features, then any of the
    /// customer-base inputs and baseline columns they lack.
    pub features: Vec<String>,
    /// The features that vary on the stacked training set (the ML models' own inputs).
    pub used: Vec<String>,
    /// Churn models by name.
    pub churn: BTreeMap<String, ChurnModel>,
    /// Value models by name.
    pub value: BTreeMap<String, ValueModel>,
    /// BG/NBD + Gamma-Gamma fitted on the clients at the cutoff.
    pub base: ClvModel,
    /// Feature cutoffs of the training windows used, most recent first.
    pub train_cutoffs: Vec<Cutoff>,
    /// Training rows (clients x windows).
    pub population_train: usize,
    /// Churn rate of the stacked training set.
    pub churn_rate_train: f64,
}

/// The feature list of the candidates: `used`, then the customer-base inputs and the
/// baselines' columns it lacks, then the family columns `extra`.
fn candidate_features(used: &[String], extra: &[String]) -> Vec<String> {
    let mut f = used.to_vec();
    for extra in CLV_FEATURES
        .iter()
        .chain(&["days_since_last", "net_revenue"])
    {
        if !f.iter().any(|u| u == extra) {
            f.push(extra.to_string());
        }
    }
    f.extend(extra.iter().cloned());
    f
}

/// The feature families the tuned candidates `tuned` read, with the hybrid set when `hybrid`.
pub(crate) fn families_needed(tuned: &[Spec], hybrid: bool) -> FeatureSet {
    let mut set = if hybrid {
        FeatureSet::customer_base()
    } else {
        FeatureSet::none()
    };
    for t in tuned {
        set = set.union(t.set);
    }
    set
}

/// Fits, at evaluation cutoff `c`, every protocol candidate `want` asks for (by name) and the
/// tuned candidates `tuned`, on the training windows before `c`; `eval` is the feature frame
/// of the clients at `c` ([`frame_at`] with the families of `tuned`; labels not needed), on
/// which the customer-base model is fitted.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_candidates(
    frames: &dyn ClientFrames,
    countries: &CountryTable,
    c: Cutoff,
    eval: &DataFrame,
    params: &BacktestParams,
    want: &dyn Fn(&str) -> bool,
    tuned: &[Spec],
) -> Result<Candidates, TrainError> {
    let needed = families_needed(tuned, params.hybrid);
    let h_tr = params.protocol.train_horizon;
    let horizon = params.protocol.horizon;
    let cuts = window_cutoffs(frames, c, params);
    if cuts.is_empty() {
        return Err(TrainError::Window(format!(
            "no training window fits before {}: the features would be taken at {}, before the \
             data start; choose a later cutoff or fewer cutoffs",
            c,
            c.minus(h_tr)
        )));
    }
    let mut windows = Vec::with_capacity(cuts.len());
    for &w in &cuts {
        // A window whose customer-base fit fails (too little history to identify BG/NBD)
        // cannot give hybrid columns: it is left out, and `train_cutoffs` shows it.
        match build_window(
            frames,
            w,
            h_tr,
            countries,
            needed.customer_base,
            &needed,
            params.hybrid,
        ) {
            Ok(win) if win.df.height() > 0 => windows.push(win),
            Ok(_) | Err(TrainError::Clv(_)) => {}
            Err(e) => return Err(e),
        }
    }
    if windows.is_empty() {
        return Err(TrainError::Window(format!(
            "no client has a purchase on or before the training cutoff {}",
            cuts[0]
        )));
    }
    // Candidates on the customer-base outputs need them in every window: where a window's
    // fit failed (too little repeat behaviour to identify BG/NBD), they are left out.
    let cb_everywhere = windows.iter().all(|w| w.hybrid.is_some());
    let tuned: Vec<Spec> = tuned
        .iter()
        .filter(|s| cb_everywhere || !s.set.customer_base)
        .copied()
        .collect();
    let tuned = tuned.as_slice();
    let stacked = {
        let mut s = windows[0].df.clone();
        for w in &windows[1..] {
            s.vstack_mut(&w.df)?;
        }
        s
    };
    let used = non_constant(&stacked, &FEATURES)?;
    let family_cols = needed.family_columns();
    let family_refs: Vec<&str> = family_cols.iter().map(String::as_str).collect();
    let family_used = non_constant(&stacked, &family_refs)?;
    let features = candidate_features(&used, &family_used);
    let own: Vec<usize> = (0..used.len()).collect();
    let base = fit_customer_base(eval, RfmKind::Bgnbd)?;
    let part = CustomerBasePart::new(base.clone(), &features)?;
    // The hybrid models' part: with MBG/NBD when it could be fitted at the cutoff and in
    // every window (five columns), else BG/NBD's three everywhere.
    let hybrid_part = {
        let mb = if needed.customer_base
            && windows
                .iter()
                .all(|w| w.hybrid.as_ref().is_none_or(|h| h.ncols() == 5))
        {
            fit_customer_base(eval, RfmKind::Mbgnbd).ok()
        } else {
            None
        };
        match mb {
            Some(m) => part.clone().with_mbgnbd(m),
            None => {
                for w in windows.iter_mut() {
                    if let Some(h) = &mut w.hybrid
                        && h.ncols() > 3
                    {
                        *h = h.slice(ndarray::s![.., ..3]).to_owned();
                    }
                }
                part.clone()
            }
        }
    };
    let scale = params.protocol.value_scale();
    let mut churn: BTreeMap<String, ChurnModel> = BTreeMap::new();
    let mut value: BTreeMap<String, ValueModel> = BTreeMap::new();
    let deploy = |c: AnyClassifier, hybrid: bool| -> ChurnModel {
        if hybrid {
            ChurnModel::Hybrid {
                classifier: c,
                columns: own.clone(),
                base: hybrid_part.clone(),
                cb_horizon_days: h_tr.days(),
            }
        } else {
            ChurnModel::Classifier {
                classifier: c,
                columns: own.clone(),
            }
        }
    };
    let deploy_value = |r: AnyRegressor, hybrid: bool| -> ValueModel {
        if hybrid {
            ValueModel::Hybrid {
                regressor: r,
                columns: own.clone(),
                base: hybrid_part.clone(),
                cb_horizon_days: h_tr.days(),
            }
        } else {
            ValueModel::Regressor {
                regressor: r,
                columns: own.clone(),
            }
        }
    };
    let p_no_purchase = ChurnModel::PNoPurchase {
        base: part.clone(),
        horizon_days: horizon.days(),
    };
    let feature_sets: &[(bool, &str)] = if params.hybrid {
        &[(false, ""), (true, kinds::HYBRID_SUFFIX)]
    } else {
        &[(false, "")]
    };
    for &(with_hybrid, suffix) in feature_sets {
        let named = |k: &str| format!("{k}{suffix}");
        let want_ensemble = want(&named(kinds::RANK_ENSEMBLE));
        let want_two = want(&named(kinds::TWO_PART)) || want(&named(kinds::RANK_ENSEMBLE_VALUE));
        let want_gbr = want(&named(kinds::GRADIENT_BOOSTING_REGRESSOR));
        let need = |k: &str| {
            want(&named(k))
                || (k == kinds::LOGISTIC && want_ensemble)
                || (k == kinds::GRADIENT_BOOSTING && want_two)
        };
        let tag = params.calibration.map(calibration_suffix);
        let need_cal = |k: &str| tag.is_some_and(|t| want(&format!("{k}{suffix}{t}")));
        let any = CLASSIFIERS.iter().any(|k| need(k) || need_cal(k)) || want_ensemble || want_gbr;
        if !any {
            continue;
        }
        let train = design(&windows, &used, with_hybrid, scale)?;
        let models = fit_classifiers(&train, params, None, &need)?;
        if let (Some(method), Some(tag)) = (params.calibration, tag) {
            for (name, m) in fit_calibrated(&train, params, method, &need_cal)? {
                churn.insert(format!("{name}{suffix}{tag}"), deploy(m, with_hybrid));
            }
        }
        // The rank ensemble: the mean of the normalised ranks of the logistic regression, a
        // small, slow-learning boosted model and BG/NBD P(no purchase in H): the three see
        // the clients differently (linear in the features, interactions, the purchase
        // process), and rank averaging needs no weights, so nothing is tuned.
        if want_ensemble {
            let small = ensemble_boosting(params).fit(train.x.view(), &train.churned, None)?;
            let logistic = models
                .iter()
                .find(|(n, _)| *n == kinds::LOGISTIC)
                .map(|(_, m)| m.clone())
                .ok_or_else(|| TrainError::Window("no logistic regression".into()))?;
            churn.insert(
                named(kinds::RANK_ENSEMBLE),
                ChurnModel::RankEnsemble {
                    parts: vec![
                        deploy(logistic, with_hybrid),
                        deploy(small.into(), with_hybrid),
                        p_no_purchase.clone(),
                    ],
                },
            );
        }
        if want_gbr {
            params.progress.model(kinds::GRADIENT_BOOSTING_REGRESSOR);
            let gbr = GradientBoostingRegressorParams::new()
                .n_trees(params.boosting_trees)
                .fit(train.x.view(), &train.value, None)?;
            value.insert(
                named(kinds::GRADIENT_BOOSTING_REGRESSOR),
                deploy_value(gbr.into(), with_hybrid),
            );
        }
        if want_two {
            let gbc = models
                .iter()
                .find(|(n, _)| *n == kinds::GRADIENT_BOOSTING)
                .map(|(_, m)| m.clone())
                .ok_or_else(|| TrainError::Window("no gradient boosting model".into()))?;
            params.progress.model(kinds::TWO_PART);
            let two = TwoPartParams::new()
                .spend(
                    GradientBoostingRegressorParams::new()
                        .n_trees(params.boosting_trees)
                        .target(retain_models::ValueTarget::Log1p),
                )
                .fit(train.x.view(), &train.churned, &train.value, gbc)?;
            let two = deploy_value(two.into(), with_hybrid);
            value.insert(
                named(kinds::RANK_ENSEMBLE_VALUE),
                ValueModel::RankEnsemble {
                    parts: vec![two.clone(), ValueModel::Clv { base: part.clone() }],
                },
            );
            value.insert(named(kinds::TWO_PART), two);
        }
        for (name, m) in models {
            if want(&named(name)) {
                churn.insert(named(name), deploy(m, with_hybrid));
            }
        }
    }
    if !tuned.is_empty() {
        let fitted = fit_tuned(&windows, &used, &family_used, tuned, params, scale)?;
        let deploy_set = |set: &FeatureSet, c: AnyClassifier| -> ChurnModel {
            let columns = set_columns(&features, &used, &family_used, set);
            if set.customer_base {
                ChurnModel::Hybrid {
                    classifier: c,
                    columns,
                    base: hybrid_part.clone(),
                    cb_horizon_days: h_tr.days(),
                }
            } else {
                ChurnModel::Classifier {
                    classifier: c,
                    columns,
                }
            }
        };
        let deploy_value_set = |set: &FeatureSet, r: AnyRegressor| -> ValueModel {
            let columns = set_columns(&features, &used, &family_used, set);
            if set.customer_base {
                ValueModel::Hybrid {
                    regressor: r,
                    columns,
                    base: hybrid_part.clone(),
                    cb_horizon_days: h_tr.days(),
                }
            } else {
                ValueModel::Regressor {
                    regressor: r,
                    columns,
                }
            }
        };
        let classifier = |spec: &Spec| -> Result<AnyClassifier, TrainError> {
            fitted
                .classifiers
                .get(&spec.name())
                .cloned()
                .ok_or_else(|| TrainError::Internal(format!("no fitted {}", spec.name())))
        };
        for spec in tuned {
            let name = spec.name();
            match spec.model {
                Tuned::Logistic { .. } | Tuned::Boosting(_) => {
                    churn.insert(name, deploy_set(&spec.set, classifier(spec)?));
                }
                Tuned::Ensemble { .. } => {
                    let mut parts = Vec::new();
                    for m in spec.members() {
                        parts.push(deploy_set(&spec.set, classifier(&m)?));
                    }
                    parts.push(p_no_purchase.clone());
                    churn.insert(name, ChurnModel::RankEnsemble { parts });
                }
                Tuned::LogValue(_) => {
                    let r = fitted
                        .regressors
                        .get(&name)
                        .cloned()
                        .ok_or_else(|| TrainError::Internal(format!("no fitted {name}")))?;
                    value.insert(name, deploy_value_set(&spec.set, r.into()));
                }
                Tuned::TwoPart(_) | Tuned::ValueEnsemble(_) => {
                    let two = fitted
                        .two_parts
                        .get(&two_part_of(spec).name())
                        .cloned()
                        .ok_or_else(|| {
                            TrainError::Internal(format!("no fitted {}", spec.name()))
                        })?;
                    let two = deploy_value_set(&spec.set, two.into());
                    let model = if let Tuned::ValueEnsemble(shape) = spec.model {
                        let log = Spec {
                            model: Tuned::LogValue(shape),
                            set: spec.set,
                        }
                        .name();
                        let log = fitted
                            .regressors
                            .get(&log)
                            .cloned()
                            .ok_or_else(|| TrainError::Internal(format!("no fitted {log}")))?;
                        ValueModel::RankEnsemble {
                            parts: vec![
                                two,
                                deploy_value_set(&spec.set, log.into()),
                                ValueModel::Clv { base: part.clone() },
                            ],
                        }
                    } else {
                        two
                    };
                    value.insert(name, model);
                }
            }
        }
    }
    let schema = FeatureSchema::new(features.iter().cloned());
    churn.insert(
        kinds::BASELINE_DAYS_SINCE_LAST.into(),
        ChurnModel::Recency {
            baseline: RecencyBaseline::new(&schema)?,
        },
    );
    churn.insert(kinds::BGNBD_P_NO_PURCHASE.into(), p_no_purchase);
    value.insert(kinds::BGNBD_GG_CLV.into(), ValueModel::Clv { base: part });
    value.insert(
        kinds::BASELINE_REVENUE_RATE.into(),
        ValueModel::Regressor {
            regressor: RevenueRateBaseline::new(&schema, horizon.days())?.into(),
            columns: (0..features.len()).collect(),
        },
    );
    let stacked_churned = bools(&stacked, "churned")?;
    Ok(Candidates {
        features,
        used,
        churn,
        value,
        base,
        train_cutoffs: windows.iter().map(|w| w.cutoff).collect(),
        population_train: stacked.height(),
        churn_rate_train: churn_rate(&stacked_churned),
    })
}

/// The two-part candidate of a two-part or value-ensemble candidate.
fn two_part_of(spec: &Spec) -> Spec {
    match spec.model {
        Tuned::ValueEnsemble(s) => Spec {
            model: Tuned::TwoPart(s),
            set: spec.set,
        },
        _ => *spec,
    }
}

/// The columns a model on `set` reads: the used protocol features, then the set's family
/// columns among those used, as names.
fn set_names(used: &[String], family_used: &[String], set: &FeatureSet) -> Vec<String> {
    let mine: BTreeSet<String> = set.family_columns().into_iter().collect();
    used.iter()
        .cloned()
        .chain(family_used.iter().filter(|c| mine.contains(*c)).cloned())
        .collect()
}

/// [`set_names`] as positions in `features`.
fn set_columns(
    features: &[String],
    used: &[String],
    family_used: &[String],
    set: &FeatureSet,
) -> Vec<usize> {
    set_names(used, family_used, set)
        .iter()
        .filter_map(|n| features.iter().position(|f| f == n))
        .collect()
}

/// The tuned models of one cutoff: classifiers, two-part models and value regressions by
/// candidate name.
struct Fitted {
    classifiers: BTreeMap<String, AnyClassifier>,
    two_parts: BTreeMap<String, retain_models::TwoPartModel>,
    regressors: BTreeMap<String, retain_models::GradientBoostingRegressor>,
}

/// Fits every tuned candidate of `tuned` and the members they are made of, each once: the
/// logistic regressions of a feature set as one warm-started path of `C`, the boosters one
/// by one, the two-part models on their booster.
fn fit_tuned(
    windows: &[Window],
    used: &[String],
    family_used: &[String],
    tuned: &[Spec],
    params: &BacktestParams,
    value_scale: f64,
) -> Result<Fitted, TrainError> {
    let mut singles: Vec<Spec> = Vec::new();
    let mut two_parts: Vec<Spec> = Vec::new();
    let mut logs: Vec<Spec> = Vec::new();
    for spec in tuned {
        let log = match spec.model {
            Tuned::LogValue(_) => *spec,
            Tuned::ValueEnsemble(shape) => Spec {
                model: Tuned::LogValue(shape),
                set: spec.set,
            },
            _ => continue,
        };
        if !logs.contains(&log) {
            logs.push(log);
        }
    }
    for spec in tuned {
        for m in spec.members() {
            if !singles.contains(&m) {
                singles.push(m);
            }
        }
        if matches!(spec.model, Tuned::TwoPart(_) | Tuned::ValueEnsemble(_)) {
            let t = two_part_of(spec);
            if !two_parts.contains(&t) {
                two_parts.push(t);
            }
        }
    }
    let sets: BTreeSet<FeatureSet> = singles.iter().chain(&logs).map(|s| s.set).collect();
    let mut out = Fitted {
        classifiers: BTreeMap::new(),
        two_parts: BTreeMap::new(),
        regressors: BTreeMap::new(),
    };
    for set in sets {
        let names = set_names(used, family_used, &set);
        let d = design(windows, &names, set.customer_base, value_scale)?;
        let x = d.x.view();
        let mut cs: Vec<f64> = singles
            .iter()
            .filter(|s| s.set == set)
            .filter_map(|s| match s.model {
                Tuned::Logistic { c } => Some(c),
                _ => None,
            })
            .collect();
        cs.sort_by(f64::total_cmp);
        cs.dedup();
        if !cs.is_empty() {
            params.progress.model(kinds::LOGISTIC);
            let path = tuned_logistic().fit_path(x, &d.churned, &cs)?;
            for (c, m) in cs.iter().zip(path) {
                let spec = Spec {
                    model: Tuned::Logistic { c: *c },
                    set,
                };
                out.classifiers.insert(spec.name(), m.into());
            }
        }
        // Boosters of one (leaves, least clients per leaf) share one fit: each tree count
        // is a stage of the largest (bit for bit its own fit).
        // The tree counts of each (leaves, least clients) among the boosters, two-part models
        // or log1p regressions of `specs` (whichever they are: each list holds one model, and
        // the singles' logistic regressions have no shape) on this set.
        let shape_groups = |specs: &[Spec]| -> BTreeMap<(usize, u32), Vec<usize>> {
            let mut g: BTreeMap<(usize, u32), Vec<usize>> = BTreeMap::new();
            for spec in specs.iter().filter(|s| s.set == set) {
                let shape = match spec.model {
                    Tuned::Boosting(sh) | Tuned::TwoPart(sh) | Tuned::LogValue(sh) => sh,
                    _ => continue,
                };
                let v: &mut Vec<usize> = g.entry((shape.leaves, shape.min_leaf)).or_default();
                if !v.contains(&shape.trees) {
                    v.push(shape.trees);
                }
            }
            for v in g.values_mut() {
                v.sort_unstable();
            }
            g
        };
        let shape = |(leaves, min_leaf): (usize, u32), trees: usize| crate::tuning::Shape {
            leaves,
            min_leaf,
            trees,
        };
        for (key, stages) in shape_groups(&singles) {
            params.progress.model(kinds::GRADIENT_BOOSTING);
            let top = shape(key, stages[stages.len() - 1]);
            let models = top
                .classifier(params.seed)
                .fit_staged(x, &d.churned, None, &stages)?;
            for (&trees, m) in stages.iter().zip(models) {
                let spec = Spec {
                    model: Tuned::Boosting(shape(key, trees)),
                    set,
                };
                out.classifiers.insert(spec.name(), m.into());
            }
        }
        for (key, stages) in shape_groups(&two_parts) {
            params.progress.model(kinds::TWO_PART);
            let top = shape(key, stages[stages.len() - 1]);
            let spends = TwoPartParams::new()
                .spend(top.spend(params.seed))
                .fit_spend_staged(x, &d.churned, &d.value, &stages)?;
            for (&trees, spend) in stages.iter().zip(spends) {
                let booster = Spec {
                    model: Tuned::Boosting(shape(key, trees)),
                    set,
                };
                let gbc = out
                    .classifiers
                    .get(&booster.name())
                    .cloned()
                    .ok_or_else(|| TrainError::Internal(format!("no fitted {}", booster.name())))?;
                let spec = Spec {
                    model: Tuned::TwoPart(shape(key, trees)),
                    set,
                };
                out.two_parts.insert(
                    spec.name(),
                    retain_models::TwoPartModel::from_parts(gbc, spend)?,
                );
            }
        }
        for (key, stages) in shape_groups(&logs) {
            params.progress.model(kinds::GRADIENT_BOOSTING_REGRESSOR);
            let top = shape(key, stages[stages.len() - 1]);
            let fits = top
                .spend(params.seed)
                .fit_staged(x, &d.value, None, &stages)?;
            for (&trees, r) in stages.iter().zip(fits) {
                let spec = Spec {
                    model: Tuned::LogValue(shape(key, trees)),
                    set,
                };
                out.regressors.insert(spec.name(), r);
            }
        }
    }
    Ok(out)
}

/// Refuses `--train-windows` more than the data hold before `c`: the windows the user asked
/// for would silently be fewer (each window's feature cutoff must be on or after the first
/// day). One window is always allowed: the protocol's own checks speak for it.
pub(crate) fn check_train_windows(
    frames: &dyn ClientFrames,
    c: Cutoff,
    params: &BacktestParams,
) -> Result<(), crate::TrainError> {
    let Some(first) = frames.first_day().map(Cutoff::new) else {
        return Ok(());
    };
    let n = params.train_windows;
    if n <= 1 {
        return Ok(());
    }
    let fit = window_cutoffs(frames, c, params).len();
    if fit < n {
        let earliest = c
            .minus(params.protocol.train_horizon)
            .days_before((n as i64 - 1) * i64::from(params.train_spacing));
        return Err(crate::TrainError::Window(format!(
            "--train-windows {n} (every {} days) reaches back to {earliest}, before the data \
             start on {first}: {fit} of them fit; ask for at most {fit} windows or a shorter \
             --train-spacing",
            params.train_spacing,
        )));
    }
    Ok(())
}

/// Windows for an evaluation at `c`: feature cutoffs `c - H_tr - j * spacing`,
/// those on or after the first data day.
pub(crate) fn window_cutoffs(
    frames: &dyn ClientFrames,
    c: Cutoff,
    params: &BacktestParams,
) -> Vec<Cutoff> {
    let Some(first) = frames.first_day().map(Cutoff::new) else {
        return Vec::new();
    };
    let h_tr = params.protocol.train_horizon;
    (0..params.train_windows as i64)
        .map(|j| {
            c.minus(h_tr)
                .days_before(j * i64::from(params.train_spacing))
        })
        .filter(|&d| d >= first)
        .collect()
}
