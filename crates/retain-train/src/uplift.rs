//! Uplift models from a contacts log: how much each action changes a client's churn, learned
//! from the log's randomised treated and control clients.
//!
//! **Rows.** Only the log's experiments are used: rows with a group (treated or control),
//! assigned at random; ordinary contacts (no group) are not, since whom a team chose to call
//! says nothing of what calling does. Contacts are grouped by period (`period_days`, default a week, Monday to Sunday).
//! A client in the log during a period gives one row per arm it was in: *control* (a control
//! row of any action: the client was held out) or *treated with action a* (at least one
//! contact with `a`). A row's features are the client's at the day before its period starts
//! (nothing from the period or after), and its label is the protocol's: `churned` = no
//! purchase in the `horizon` days after that day. Only periods whose label window ends on or
//! before the training cutoff are used, so nothing after the cutoff is seen.
//!
//! **Models.** Per action with enough rows ([`UpliftParams::min_rows`] in each arm), two
//! classifiers of retain's own (the "two models" method, [`retain_models::UpliftModel`]): one
//! on the control rows, one on the rows treated with the action. Clients are split by a seeded
//! hash into a training part and a held-out part ([`UpliftParams::holdout_share`]); the
//! models are fitted on the training part and judged on the held-out part by the Qini
//! coefficient ([`retain_eval::qini`]), with "retained" (not churned) as the good outcome. An
//! action without enough rows is left out: the planner then uses the catalogue's stated rates
//! for it. The treated arm's response rate (rows with an answer) turns the effect of a contact
//! into the effect of an answered one.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ndarray::Array2;
use polars::prelude::*;
use retain_core::{Artifact, Cutoff, DataSource, FeatureSchema, Horizon, ModelCard};
use retain_data::{Contacts, contact_cols, splitmix64};
use retain_features::{FEATURES, FeatureMatrix, History, non_constant};
use retain_models::{
    ActionUplift, AnyClassifier, GradientBoostingParams, LogisticParams, UpliftModel, UpliftSet,
};

use crate::TrainError;

/// Day number of a Monday (1970-01-05): periods start on Mondays.
const MONDAY: i64 = 4;

/// The classifier of both arms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UpliftLearner {
    /// Standardised L2 logistic regression with inverse strength `c`.
    Logistic {
        /// Inverse regularisation strength.
        c: f64,
    },
    /// A small boosted model: 200 trees of at most 7 leaves, learning rate 0.05, seeded.
    Gbdt,
}

impl UpliftLearner {
    /// The name written in the card.
    pub fn name(self) -> &'static str {
        match self {
            Self::Logistic { .. } => "logistic_regression",
            Self::Gbdt => "gradient_boosting",
        }
    }

    fn fit(self, x: &Array2<f64>, y: &[bool], seed: u64) -> Result<AnyClassifier, TrainError> {
        Ok(match self {
            Self::Logistic { c } => LogisticParams::new().c(c).fit(x.view(), y, None)?.into(),
            Self::Gbdt => GradientBoostingParams::new()
                .n_trees(200)
                .learning_rate(0.05)
                .max_leaves(7)
                .min_leaf_weight(5.0)
                .seed(seed)
                .threads(1)
                .fit(x.view(), y, None)?
                .into(),
        })
    }
}

/// How the uplift models are trained.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `cutoff` | - | the training cutoff: label windows end on or before it | a date |
/// | `horizon` | - | the label window after each period's feature day | 1 day to 100 years |
/// | `period_days` | 7 | contacts are grouped in periods of this many days, from a Monday | >= 1 |
/// | `learner` | `Gbdt` | both arms' classifier | |
/// | `holdout_share` | 0.3 | share of clients (by seeded hash) held out for the Qini | (0, 1) |
/// | `min_rows` | 100 | fewest training rows in each arm for an action to get a model | >= 10 |
/// | `seed` | 42 | the hash of the split and the learner | any |
#[derive(Debug, Clone, PartialEq)]
pub struct UpliftParams {
    /// Training cutoff.
    pub cutoff: Cutoff,
    /// Label window.
    pub horizon: Horizon,
    /// Period length in days.
    pub period_days: u32,
    /// The arms' classifier.
    pub learner: UpliftLearner,
    /// Held-out share of the clients.
    pub holdout_share: f64,
    /// Fewest training rows per arm.
    pub min_rows: usize,
    /// Seed.
    pub seed: u64,
}

impl UpliftParams {
    /// The defaults at `cutoff` with label window `horizon`.
    pub fn new(cutoff: Cutoff, horizon: Horizon) -> Self {
        Self {
            cutoff,
            horizon,
            period_days: 7,
            learner: UpliftLearner::Gbdt,
            holdout_share: 0.3,
            min_rows: 100,
            seed: 42,
        }
    }

    fn check(&self) -> Result<(), TrainError> {
        if self.period_days == 0 {
            return Err(TrainError::Config(
                "uplift: period_days must be at least 1".into(),
            ));
        }
        if !(self.holdout_share > 0.0 && self.holdout_share < 1.0) {
            return Err(TrainError::Config(format!(
                "uplift: holdout share {} is not in (0, 1)",
                self.holdout_share
            )));
        }
        if self.min_rows < 10 {
            return Err(TrainError::Config(format!(
                "uplift: min_rows {} is below 10",
                self.min_rows
            )));
        }
        Ok(())
    }
}

/// One arm of one row: control, or treated with an action (its index in the action list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Arm {
    Control,
    Treated(usize),
}

/// The training rows of the uplift models.
#[derive(Debug, Clone)]
pub struct UpliftRows {
    /// Feature names, in column order.
    pub features: Vec<String>,
    /// One row per (period, client, arm).
    pub x: Array2<f64>,
    /// Churned in the label window.
    pub churned: Vec<bool>,
    /// The row's client.
    pub client: Vec<i64>,
    /// `None` for control, else the action's index in [`Self::actions`].
    pub action: Vec<Option<usize>>,
    /// Whether the client answered in the period (treated rows).
    pub answered: Vec<bool>,
    /// The actions, sorted.
    pub actions: Vec<String>,
}

/// Builds the rows (module docs).
pub fn uplift_rows(
    history: &History,
    contacts: &Contacts,
    params: &UpliftParams,
) -> Result<UpliftRows, TrainError> {
    params.check()?;
    let f = contacts.frame();
    let client = f.column(contact_cols::CLIENT)?.i64()?;
    let day = f.column(contact_cols::DAY)?.i32()?;
    let action = f.column(contact_cols::ACTION)?.str()?;
    let control = f.column(contact_cols::CONTROL)?.bool()?;
    let outcome = f.column(contact_cols::OUTCOME)?.i8()?;
    let experiment = f.column(contact_cols::EXPERIMENT)?.bool()?;
    let p = i64::from(params.period_days);
    let h = i64::from(params.horizon.days());
    let last = i64::from(params.cutoff.day());
    let actions: Vec<String> = action
        .iter()
        .zip(control.iter())
        .zip(experiment.iter())
        .filter(|((_, c), e)| *c == Some(false) && *e == Some(true))
        .filter_map(|((a, _), _)| a.map(str::to_string))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: HashMap<&str, usize> = actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    // (feature day, client, arm) -> answered
    let mut rows: BTreeMap<(i32, i64, Arm), bool> = BTreeMap::new();
    for i in 0..f.height() {
        let (Some(c), Some(d)) = (client.get(i), day.get(i)) else {
            continue;
        };
        // Ordinary contacts were not assigned at random: they say nothing of uplift.
        if experiment.get(i) != Some(true) {
            continue;
        }
        let start = MONDAY + (i64::from(d) - MONDAY).div_euclid(p) * p;
        let fday = start - 1;
        if fday + h > last {
            continue;
        }
        let arm = if control.get(i) == Some(true) {
            Arm::Control
        } else {
            match action.get(i).and_then(|a| index.get(a)) {
                Some(&k) => Arm::Treated(k),
                None => continue,
            }
        };
        let answered = outcome.get(i).is_some_and(|o| o >= 1);
        let e = rows.entry((fday as i32, c, arm)).or_insert(false);
        *e |= answered;
    }
    let countries = history.country_table(params.cutoff)?;
    let days: BTreeSet<i32> = rows.keys().map(|k| k.0).collect();
    let mut frames: BTreeMap<i32, DataFrame> = BTreeMap::new();
    for &d in &days {
        let df = history
            .labelled_set(Cutoff::from_day(d), params.horizon, &countries)
            .collect()?;
        frames.insert(d, df);
    }
    // Feature names: the 29 that vary over every row's frame.
    let mut varying: BTreeSet<String> = BTreeSet::new();
    for df in frames.values() {
        if df.height() > 1 {
            varying.extend(non_constant(df, &FEATURES)?);
        }
    }
    let features: Vec<String> = FEATURES
        .iter()
        .filter(|f| varying.contains(**f))
        .map(|f| f.to_string())
        .collect();
    let mut xs: Vec<f64> = Vec::new();
    let mut out = UpliftRows {
        features: features.clone(),
        x: Array2::zeros((0, features.len())),
        churned: Vec::new(),
        client: Vec::new(),
        action: Vec::new(),
        answered: Vec::new(),
        actions,
    };
    // Each feature day's matrix, churn labels and row of each client.
    struct Day {
        m: FeatureMatrix,
        churned: Vec<bool>,
        pos: HashMap<i64, usize>,
    }
    let mut by_day: BTreeMap<i32, Day> = BTreeMap::new();
    for (&d, df) in &frames {
        if df.height() == 0 {
            continue;
        }
        let m = FeatureMatrix::from_frame(df, &features)?;
        let churned = df.column("churned")?.cast(&DataType::Int32)?;
        let churned = churned.i32()?.iter().map(|v| v == Some(1)).collect();
        let pos = m.clients.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        by_day.insert(d, Day { m, churned, pos });
    }
    for (&(d, c, arm), &answered) in &rows {
        // a client without a purchase by the feature day is not in the population
        let Some(day) = by_day.get(&d) else { continue };
        let Some(&r) = day.pos.get(&c) else { continue };
        xs.extend(day.m.x.row(r).iter());
        out.churned.push(day.churned[r]);
        out.client.push(c);
        out.action.push(match arm {
            Arm::Control => None,
            Arm::Treated(k) => Some(k),
        });
        out.answered.push(answered);
    }
    let n = out.client.len();
    out.x = Array2::from_shape_vec((n, features.len()), xs)
        .map_err(|e| TrainError::Config(format!("uplift rows: {e}")))?;
    Ok(out)
}

/// Whether a client is in the held-out part.
fn held_out(client: i64, seed: u64, share: f64) -> bool {
    let h = splitmix64(splitmix64(seed) ^ client as u64);
    (h >> 11) as f64 / (1u64 << 53) as f64 <= share
}

/// Bootstrap resamples of the held-out rows behind the Qini's standard error.
const QINI_RESAMPLES: usize = 100;

/// The standard deviation of the Qini coefficient over seeded bootstrap resamples of the
/// rows (resamples holding one group only are skipped).
fn qini_standard_error(uplift: &[f64], treated: &[bool], retained: &[bool], seed: u64) -> f64 {
    use rand::{Rng, SeedableRng};
    let n = uplift.len();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x0051_4E49);
    let (mut u, mut t, mut y) = (vec![0.0; n], vec![false; n], vec![false; n]);
    let mut qs = Vec::with_capacity(QINI_RESAMPLES);
    for _ in 0..QINI_RESAMPLES {
        for j in 0..n {
            let i = rng.random_range(0..n);
            u[j] = uplift[i];
            t[j] = treated[i];
            y[j] = retained[i];
        }
        if let Ok(q) = retain_eval::qini(&u, &t, &y) {
            qs.push(q.coefficient);
        }
    }
    if qs.len() < 2 {
        return 0.0;
    }
    let mean = qs.iter().sum::<f64>() / qs.len() as f64;
    (qs.iter().map(|q| (q - mean).powi(2)).sum::<f64>() / (qs.len() - 1) as f64).sqrt()
}

fn pick(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    x.select(ndarray::Axis(0), idx)
}

/// Trains the uplift models of every action with enough rows (module docs); `None` when no
/// action has. The card records the training data, the cutoff, the horizon, the learner and
/// each action's held-out Qini (`qini:<action>`), average effect and row counts.
pub fn train_uplift(
    history: &History,
    contacts: &Contacts,
    params: &UpliftParams,
    source: &DataSource,
) -> Result<Option<Artifact<UpliftSet>>, TrainError> {
    let rows = uplift_rows(history, contacts, params)?;
    if rows.client.is_empty() || rows.features.is_empty() {
        return Ok(None);
    }
    let hold: Vec<bool> = rows
        .client
        .iter()
        .map(|&c| held_out(c, params.seed, params.holdout_share))
        .collect();
    let control_train: Vec<usize> = (0..rows.client.len())
        .filter(|&i| rows.action[i].is_none() && !hold[i])
        .collect();
    let control_hold: Vec<usize> = (0..rows.client.len())
        .filter(|&i| rows.action[i].is_none() && hold[i])
        .collect();
    let n_control_all = rows.action.iter().filter(|a| a.is_none()).count();
    let control_churn = rows
        .churned
        .iter()
        .zip(&rows.action)
        .filter(|(_, a)| a.is_none())
        .filter(|(c, _)| **c)
        .count() as f64
        / n_control_all.max(1) as f64;
    if control_train.len() < params.min_rows || control_hold.is_empty() {
        return Ok(None);
    }
    let yc: Vec<bool> = control_train.iter().map(|&i| rows.churned[i]).collect();
    if yc.iter().all(|&v| v) || yc.iter().all(|&v| !v) {
        return Ok(None);
    }
    let control_model = params
        .learner
        .fit(&pick(&rows.x, &control_train), &yc, params.seed)?;
    let mut set = UpliftSet {
        actions: BTreeMap::new(),
    };
    let mut metrics = BTreeMap::new();
    for (k, name) in rows.actions.iter().enumerate() {
        let treated: Vec<usize> = (0..rows.client.len())
            .filter(|&i| rows.action[i] == Some(k))
            .collect();
        let t_train: Vec<usize> = treated.iter().copied().filter(|&i| !hold[i]).collect();
        let t_hold: Vec<usize> = treated.iter().copied().filter(|&i| hold[i]).collect();
        let yt: Vec<bool> = t_train.iter().map(|&i| rows.churned[i]).collect();
        if t_train.len() < params.min_rows
            || t_hold.is_empty()
            || yt.iter().all(|&v| v)
            || yt.iter().all(|&v| !v)
        {
            continue;
        }
        let answered = treated.iter().filter(|&&i| rows.answered[i]).count();
        if answered == 0 {
            continue;
        }
        let treated_model = params
            .learner
            .fit(&pick(&rows.x, &t_train), &yt, params.seed)?;
        let model = UpliftModel::new(
            control_model.clone(),
            treated_model,
            answered as f64 / treated.len() as f64,
            t_train.len(),
            control_train.len(),
        )?;
        let eval_idx: Vec<usize> = t_hold.iter().chain(&control_hold).copied().collect();
        let xe = pick(&rows.x, &eval_idx);
        let u = model.uplift(xe.view())?;
        let is_treated: Vec<bool> = (0..eval_idx.len()).map(|j| j < t_hold.len()).collect();
        let retained: Vec<bool> = eval_idx.iter().map(|&i| !rows.churned[i]).collect();
        let uv = u.to_vec();
        let q = retain_eval::qini(&uv, &is_treated, &retained)?;
        let qini_se = qini_standard_error(&uv, &is_treated, &retained, params.seed);
        let treated_churn =
            treated.iter().filter(|&&i| rows.churned[i]).count() as f64 / treated.len() as f64;
        let average_effect = control_churn - treated_churn;
        let average_effect_se = (control_churn * (1.0 - control_churn) / n_control_all as f64
            + treated_churn * (1.0 - treated_churn) / treated.len() as f64)
            .sqrt();
        metrics.insert(format!("qini:{name}"), q.coefficient);
        metrics.insert(format!("qini_se:{name}"), qini_se);
        metrics.insert(format!("average_effect:{name}"), average_effect);
        metrics.insert(format!("response_rate:{name}"), model.response_rate);
        set.actions.insert(
            name.clone(),
            ActionUplift {
                model,
                qini: q.coefficient,
                qini_curve: q.curve,
                qini_se,
                average_effect,
                average_effect_se,
                control_churn,
                holdout_treated: t_hold.len(),
                holdout_control: control_hold.len(),
            },
        );
    }
    if set.actions.is_empty() {
        return Ok(None);
    }
    let mut hyper = BTreeMap::new();
    hyper.insert("learner".into(), params.learner.name().into());
    if let UpliftLearner::Logistic { c } = params.learner {
        hyper.insert("c".into(), c.into());
    }
    hyper.insert("period_days".into(), params.period_days.into());
    hyper.insert("holdout_share".into(), params.holdout_share.into());
    hyper.insert("min_rows".into(), params.min_rows.into());
    hyper.insert("seed".into(), params.seed.into());
    hyper.insert("rows".into(), rows.client.len().into());
    hyper.insert("contacts".into(), contacts.len().into());
    let mut card = ModelCard::new(
        UpliftSet::KIND,
        params.cutoff.date(),
        params.horizon.days(),
        None,
        FeatureSchema::new(rows.features.clone()),
        source.clone(),
        hyper,
    );
    card.metrics = metrics;
    Ok(Some(Artifact { card, model: set }))
}
