//! The saved customer-base model: a purchase-count model (BG/NBD, Pareto/NBD or MBG/NBD, in
//! weeks) and Gamma-Gamma spend, fitted on every client's (frequency, recency, age, monetary)
//! at a cutoff, with the per-client outputs a scoring run needs (P(alive), P(no purchase),
//! expected purchases, expected spend, CLV, the wait to the next purchase). On slices: the
//! caller hands over the four feature columns in days, [`RfmRows`].

use rayon::prelude::*;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use retain_core::{DataSource, FeatureSchema, Horizon, ModelCard, TimeUnit, kinds};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    BgNbd, BgNbdParams, ClvParams, ClvValidParams, GammaGamma, GammaGammaParams, MbgNbd,
    MbgNbdParams, ParetoNbd, ParetoNbdParams, Result, RfmData, RfmModel, SpendData,
};

/// The features a CLV artifact consumes, in card order: repeat purchase days, recency and age
/// in days (divided by 7 inside: the models are fitted in weeks), and the mean value of the
/// repeat purchase days.
pub const CLV_FEATURES: [&str; 4] = ["frequency", "recency_lt", "T", "monetary"];

/// Every client's [`CLV_FEATURES`], times in days, in one order.
#[derive(Debug, Clone, Copy)]
pub struct RfmRows<'a> {
    /// Repeat purchase days (x).
    pub frequency: &'a [f64],
    /// Days from the first to the last purchase day (t_x).
    pub recency_days: &'a [f64],
    /// Days from the first purchase day to the cutoff (T).
    pub age_days: &'a [f64],
    /// Mean value of the repeat purchase days (0 without repeats).
    pub monetary: &'a [f64],
}

impl<'a> RfmRows<'a> {
    /// The four columns, checked to have one length.
    pub fn new(
        frequency: &'a [f64],
        recency_days: &'a [f64],
        age_days: &'a [f64],
        monetary: &'a [f64],
    ) -> Result<Self> {
        let n = frequency.len();
        if recency_days.len() != n || age_days.len() != n || monetary.len() != n {
            return Err(crate::ClvError::LengthMismatch(format!(
                "frequency {n}, recency {}, age {}, monetary {}",
                recency_days.len(),
                age_days.len(),
                monetary.len()
            )));
        }
        Ok(Self {
            frequency,
            recency_days,
            age_days,
            monetary,
        })
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// True without clients.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// (x, t_x, T) in weeks.
    fn weeks(&self) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let w = TimeUnit::Weeks.days();
        (
            self.frequency.to_vec(),
            self.recency_days.iter().map(|v| v / w).collect(),
            self.age_days.iter().map(|v| v / w).collect(),
        )
    }
}

/// The purchase-count model of a CLV artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RfmKind {
    /// BG/NBD (Fader, Hardie & Lee 2005), the benchmark's model.
    #[default]
    Bgnbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    ParetoNbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    Mbgnbd,
}

impl RfmKind {
    /// Every kind, in the order of [`RfmKind::NAMES`].
    pub const ALL: [RfmKind; 3] = [RfmKind::Bgnbd, RfmKind::ParetoNbd, RfmKind::Mbgnbd];
    /// The short names accepted by [`str::parse`] (`--rfm-model`).
    pub const NAMES: [&'static str; 3] = ["bgnbd", "pareto", "mbgnbd"];

    /// The short name (`bgnbd`, `pareto`, `mbgnbd`).
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The artifact kind of a CLV model built on this purchase model, e.g. `bgnbd_gamma_gamma`.
    pub fn artifact_kind(self) -> &'static str {
        ClvModel::KINDS[self as usize]
    }
}

impl std::fmt::Display for RfmKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for RfmKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| {
                format!(
                    "unknown purchase model `{s}`: expected one of {}",
                    Self::NAMES.join(", ")
                )
            })
    }
}

/// A fitted purchase-count model of any of the three kinds, saved under one serde tag
/// (`"model": "bgnbd" | "pareto_nbd" | "mbgnbd"`). Time unit: weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum AnyRfmModel {
    /// BG/NBD.
    Bgnbd(BgNbd),
    /// Pareto/NBD.
    ParetoNbd(ParetoNbd),
    /// MBG/NBD.
    Mbgnbd(MbgNbd),
}

impl AnyRfmModel {
    /// Fits the model of `kind` on weekly RFM data.
    pub fn fit(kind: RfmKind, data: &RfmData) -> Result<Self> {
        Ok(match kind {
            RfmKind::Bgnbd => Self::Bgnbd(BgNbdParams::new().fit(data)?),
            RfmKind::ParetoNbd => Self::ParetoNbd(ParetoNbdParams::new().fit(data)?),
            RfmKind::Mbgnbd => Self::Mbgnbd(MbgNbdParams::new().fit(data)?),
        })
    }

    /// Which model this is.
    pub fn kind(&self) -> RfmKind {
        match self {
            Self::Bgnbd(_) => RfmKind::Bgnbd,
            Self::ParetoNbd(_) => RfmKind::ParetoNbd,
            Self::Mbgnbd(_) => RfmKind::Mbgnbd,
        }
    }

    /// The model as the shared prediction interface.
    pub fn as_rfm(&self) -> &(dyn RfmModel + Sync) {
        match self {
            Self::Bgnbd(m) => m,
            Self::ParetoNbd(m) => m,
            Self::Mbgnbd(m) => m,
        }
    }

    /// Named fitted parameters (`r, alpha, a, b` or `r, alpha, s, beta`).
    pub fn parameters(&self) -> Vec<(&'static str, f64)> {
        match self {
            Self::Bgnbd(m) => vec![
                ("r", m.r()),
                ("alpha", m.alpha()),
                ("a", m.a()),
                ("b", m.b()),
            ],
            Self::Mbgnbd(m) => vec![
                ("r", m.r()),
                ("alpha", m.alpha()),
                ("a", m.a()),
                ("b", m.b()),
            ],
            Self::ParetoNbd(m) => vec![
                ("r", m.r()),
                ("alpha", m.alpha()),
                ("s", m.s()),
                ("beta", m.beta()),
            ],
        }
    }

    /// Standard errors of [`AnyRfmModel::parameters`], when the Hessian allowed them.
    pub fn standard_errors(&self) -> Option<&[f64]> {
        match self {
            Self::Bgnbd(m) => m.standard_errors(),
            Self::ParetoNbd(m) => m.standard_errors(),
            Self::Mbgnbd(m) => m.standard_errors(),
        }
    }

    /// Log-likelihood at the optimum, summed over clients.
    pub fn log_likelihood(&self) -> f64 {
        match self {
            Self::Bgnbd(m) => m.log_likelihood(),
            Self::ParetoNbd(m) => m.log_likelihood(),
            Self::Mbgnbd(m) => m.log_likelihood(),
        }
    }

    /// The gamma prior `(r, alpha)` of the purchase rate (every kind has one), in weeks.
    pub fn rate_prior(&self) -> (f64, f64) {
        match self {
            Self::Bgnbd(m) => (m.r(), m.alpha()),
            Self::ParetoNbd(m) => (m.r(), m.alpha()),
            Self::Mbgnbd(m) => (m.r(), m.alpha()),
        }
    }

    /// Clients the model was fitted on.
    pub fn n_clients(&self) -> f64 {
        match self {
            Self::Bgnbd(m) => m.n_clients(),
            Self::ParetoNbd(m) => m.n_clients(),
            Self::Mbgnbd(m) => m.n_clients(),
        }
    }
}

/// How the CLV of a client is valued. The default is the benchmark's (BENCHMARK.md section 5):
/// undiscounted, no margin (`clv = expected purchases x expected spend`).
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `annual_discount_rate` | 0 | yearly discount rate; applied weekly as `(1+d)^(7/365.25) - 1` per week | finite, `> -1` |
/// | `margin` | 1 | profit margin applied to spend | finite, `>= 0` |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valuation {
    /// Yearly discount rate (0.1 = 10% a year).
    pub annual_discount_rate: f64,
    /// Profit margin (1 = revenue).
    pub margin: f64,
}

impl Default for Valuation {
    fn default() -> Self {
        Self {
            annual_discount_rate: 0.0,
            margin: 1.0,
        }
    }
}

impl Valuation {
    /// The weekly CLV settings over `horizon_weeks`, or `None` for the default valuation
    /// (which is computed as the plain product, bit for bit the benchmark's CLV).
    fn params(&self, horizon_weeks: f64) -> Result<Option<ClvValidParams>> {
        let checked = ClvParams::new(horizon_weeks)
            .discount_rate(self.weekly_rate())
            .margin(self.margin)
            .check()?;
        Ok((*self != Self::default()).then_some(checked))
    }

    /// Checks both settings are in their ranges (table above), whether or not a value model
    /// will use them.
    pub fn check(&self) -> Result<()> {
        self.params(1.0).map(|_| ())
    }

    /// The weekly discount rate equivalent to the yearly one.
    pub fn weekly_rate(&self) -> f64 {
        (1.0 + self.annual_discount_rate).powf(TimeUnit::Weeks.days() / 365.25) - 1.0
    }
}

/// Per-client value outputs of a CLV model over a horizon, in the rows' order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientValues {
    /// P(alive) at the scoring date.
    pub p_alive: Vec<f64>,
    /// P(no purchase in the horizon): the customer-base churn score.
    pub p_no_purchase: Vec<f64>,
    /// Median days from the scoring date to the next purchase if the client is still active
    /// (exact for BG/NBD and MBG/NBD, where a client dies only just after a purchase; for
    /// Pareto/NBD it ignores death before the next purchase).
    pub days_to_next_purchase: Vec<f64>,
    /// Expected purchase days in the horizon.
    pub expected_purchases: Vec<f64>,
    /// Expected spend per purchase (Gamma-Gamma; the population mean for clients with no
    /// repeat purchase).
    pub expected_spend: Vec<f64>,
    /// CLV over the horizon: expected purchases x expected spend, valued by a [`Valuation`].
    pub clv: Vec<f64>,
}

impl ClientValues {
    /// Appends the rows of `next` after these (the values of a set scored in chunks).
    pub fn append(&mut self, next: Self) {
        self.p_alive.extend(next.p_alive);
        self.p_no_purchase.extend(next.p_no_purchase);
        self.days_to_next_purchase
            .extend(next.days_to_next_purchase);
        self.expected_purchases.extend(next.expected_purchases);
        self.expected_spend.extend(next.expected_spend);
        self.clv.extend(next.clv);
    }
}

/// A saved CLV model: a purchase-count model (BG/NBD, Pareto/NBD or MBG/NBD, in weeks) and the
/// Gamma-Gamma spend model, fitted on the clients' (frequency, recency_lt / 7, T / 7) and, for the
/// repeat buyers (frequency > 0, monetary > 0), (frequency, monetary). One artifact of kind
/// `bgnbd_gamma_gamma`, `pareto_nbd_gamma_gamma` or `mbgnbd_gamma_gamma` ([`CLV_FEATURES`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvModel {
    /// The purchase-count model.
    pub purchases: AnyRfmModel,
    /// The spend model.
    pub spend: GammaGamma,
}

impl ClvModel {
    /// The artifact kinds, in the order of [`RfmKind::ALL`].
    pub const KINDS: [&'static str; 3] = [
        kinds::BGNBD_GG_CLV,
        kinds::PARETO_NBD_GG_CLV,
        kinds::MBGNBD_GG_CLV,
    ];

    /// Fits both models on every client's features at a cutoff (BENCHMARK.md section 5): the
    /// purchase model on (frequency, recency / 7, age / 7), Gamma-Gamma on the clients with
    /// frequency > 0 and monetary > 0.
    pub fn fit(kind: RfmKind, rows: &RfmRows<'_>) -> Result<Self> {
        let (x, t_x, t) = rows.weeks();
        let purchases = AnyRfmModel::fit(kind, &RfmData::new(x.clone(), t_x, t)?)?;
        let spend =
            GammaGammaParams::new().fit(&SpendData::repeat_buyers(x, rows.monetary.to_vec())?)?;
        Ok(Self { purchases, spend })
    }

    /// [`ClvModel::fit`] from the clients' distinct `(frequency, recency, age)` rows (days)
    /// with the number of clients sharing each (`counts`, as a distributed run aggregates
    /// them), and every client's `(frequency, monetary)` in client order for the spend model:
    /// the same model bit for bit, since the purchase model's likelihood merges identical rows
    /// into weighted ones either way (each weight a sum of ones, exact in any order).
    pub fn fit_counts(
        kind: RfmKind,
        distinct: (&[f64], &[f64], &[f64]),
        counts: &[f64],
        spend: (&[f64], &[f64]),
    ) -> Result<Self> {
        let (frequency, recency, age) = distinct;
        let rows = RfmRows::new(frequency, recency, age, frequency)?;
        let (x, t_x, t) = rows.weeks();
        let purchases =
            AnyRfmModel::fit(kind, &RfmData::with_weights(x, t_x, t, counts.to_vec())?)?;
        let spend = GammaGammaParams::new().fit(&SpendData::repeat_buyers(
            spend.0.to_vec(),
            spend.1.to_vec(),
        )?)?;
        Ok(Self { purchases, spend })
    }

    /// The fitted parameters by name as evaluations report them: `<rfm>_<param>` (e.g.
    /// `bgnbd_r`), `<rfm>_log_likelihood`, and Gamma-Gamma's `gg_p`, `gg_q`, `gg_gamma`.
    pub fn parameters(&self) -> BTreeMap<String, f64> {
        let prefix = match self.purchases.kind() {
            RfmKind::Bgnbd => "bgnbd",
            RfmKind::ParetoNbd => "pareto_nbd",
            RfmKind::Mbgnbd => "mbgnbd",
        };
        let mut out: BTreeMap<String, f64> = self
            .purchases
            .parameters()
            .into_iter()
            .map(|(k, v)| (format!("{prefix}_{k}"), v))
            .collect();
        out.insert(
            format!("{prefix}_log_likelihood"),
            self.purchases.log_likelihood(),
        );
        out.insert("gg_p".into(), self.spend.p());
        out.insert("gg_q".into(), self.spend.q());
        out.insert("gg_gamma".into(), self.spend.gamma());
        out
    }

    /// Checks every parameter is finite and inside its model's domain (r, alpha, a, b, s,
    /// beta > 0; Gamma-Gamma p, q, gamma > 0 and q > 1, so the mean spend exists), naming the
    /// first that is not: the guard against edited or corrupt artifacts.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for (name, v) in self.purchases.parameters() {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!(
                    "{} parameter {name} = {v} is outside its domain (finite, > 0)",
                    self.purchases.kind()
                ));
            }
        }
        for (name, v) in [
            ("p", self.spend.p()),
            ("q", self.spend.q()),
            ("gamma", self.spend.gamma()),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!(
                    "Gamma-Gamma parameter {name} = {v} is outside its domain (finite, > 0)"
                ));
            }
        }
        if self.spend.q() <= 1.0 {
            return Err(format!(
                "Gamma-Gamma parameter q = {} must be above 1 (the mean spend p*gamma/(q-1) is \
                 infinite otherwise)",
                self.spend.q()
            ));
        }
        Ok(())
    }

    /// The artifact kind.
    pub fn kind(&self) -> &'static str {
        self.purchases.kind().artifact_kind()
    }

    /// A model card for this model: time unit weeks, [`CLV_FEATURES`], the fitted parameters and
    /// their standard errors in `hyperparameters`, and the log-likelihoods, parameters and
    /// client counts in `metrics` (prefixed `rfm_` and `gg_`).
    pub fn card(&self, cutoff: NaiveDate, horizon_days: u32, source: &DataSource) -> ModelCard {
        let mut hyper = BTreeMap::new();
        let mut metrics = BTreeMap::new();
        hyper.insert("rfm_model".to_string(), json!(self.purchases.kind().name()));
        hyper.insert(
            "fit".to_string(),
            json!("maximum likelihood, L-BFGS on log-parameters; weeks = days / 7"),
        );
        let named = |params: Vec<(&'static str, f64)>, se: Option<&[f64]>| {
            let values: BTreeMap<_, _> = params.iter().map(|(k, v)| (*k, *v)).collect();
            let errors: Option<BTreeMap<_, _>> =
                se.map(|se| params.iter().zip(se).map(|((k, _), s)| (*k, *s)).collect());
            (values, errors)
        };
        let (p, se) = named(
            self.purchases.parameters(),
            self.purchases.standard_errors(),
        );
        for (k, v) in &p {
            metrics.insert(format!("rfm_{k}"), *v);
        }
        hyper.insert("rfm_parameters".to_string(), json!(p));
        hyper.insert("rfm_standard_errors".to_string(), json!(se));
        let s = &self.spend;
        let (gp, gse) = named(
            vec![("p", s.p()), ("q", s.q()), ("gamma", s.gamma())],
            s.standard_errors(),
        );
        for (k, v) in &gp {
            metrics.insert(format!("gg_{k}"), *v);
        }
        hyper.insert("gg_parameters".to_string(), json!(gp));
        hyper.insert("gg_standard_errors".to_string(), json!(gse));
        metrics.insert(
            "rfm_log_likelihood".to_string(),
            self.purchases.log_likelihood(),
        );
        metrics.insert("rfm_clients".to_string(), self.purchases.n_clients());
        metrics.insert("gg_log_likelihood".to_string(), s.log_likelihood());
        metrics.insert("gg_clients".to_string(), s.n_clients());
        let mut card = ModelCard::new(
            self.kind(),
            cutoff,
            horizon_days,
            Some(TimeUnit::Weeks),
            FeatureSchema::new(CLV_FEATURES),
            DataSource {
                clients: self.purchases.n_clients() as u64,
                ..source.clone()
            },
            hyper,
        );
        card.metrics = metrics;
        card
    }

    /// P(alive), P(no purchase), expected purchases, expected spend, CLV and the median wait to
    /// the next purchase over `horizon` for every row.
    pub fn values(
        &self,
        rows: &RfmRows<'_>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<ClientValues> {
        let w = TimeUnit::Weeks.days();
        let h = horizon.days() as f64 / w;
        let params = valuation.params(h)?;
        let model = self.purchases.as_rfm();
        let n = rows.len();
        let (r, alpha) = self.purchases.rate_prior();
        // each client's values from its own row only: computed side by side on rayon's
        // threads, the same numbers in the same order as one loop gives
        let one = |i: usize| -> [f64; 6] {
            let (x, t_x, t, m) = (
                rows.frequency[i],
                rows.recency_days[i] / w,
                rows.age_days[i] / w,
                rows.monetary[i],
            );
            let e = model.conditional_expected_purchases(h, x, t_x, t);
            let spend = self.spend.conditional_expected_average_profit(x, m);
            let clv = match &params {
                None => e * spend,
                Some(p) => p.clv(model, &self.spend, x, t_x, t, m),
            };
            // Given the client is alive, its purchase rate is Gamma(r + x, alpha + T) and the
            // wait W to its next purchase has P(W > t) = ((alpha+T)/(alpha+T+t))^(r+x): the
            // median solves that = 1/2.
            let wait = (alpha + t) * (2f64.powf(1.0 / (r + x)) - 1.0);
            [
                model.p_alive(x, t_x, t),
                model.p_no_purchase(h, x, t_x, t),
                e,
                spend,
                clv,
                wait * w,
            ]
        };
        let all: Vec<[f64; 6]> = (0..n).into_par_iter().with_min_len(1024).map(one).collect();
        let column = |k: usize| all.iter().map(|a| a[k]).collect::<Vec<f64>>();
        let v = ClientValues {
            p_alive: column(0),
            p_no_purchase: column(1),
            expected_purchases: column(2),
            expected_spend: column(3),
            clv: column(4),
            days_to_next_purchase: column(5),
        };
        Ok(v)
    }
}
