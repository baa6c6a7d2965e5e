//! The customer-base models in the pipeline: BG/NBD (weeks) and Gamma-Gamma fitted on the
//! calibration features, and their per-client outputs over a horizon; [`ClvModel`], the saved
//! form (`retain train` writes it, `retain score` reads it) with any of BG/NBD, Pareto/NBD or
//! MBG/NBD as the purchase model.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use retain_clv::{
    BgNbd, BgNbdParams, ClvParams, ClvValidParams, GammaGamma, GammaGammaParams, MbgNbd,
    MbgNbdParams, ParetoNbd, ParetoNbdParams, RfmData, RfmModel, SpendData,
};
use retain_core::{
    ARTIFACT_FORMAT, DataSource, FeatureSchema, ModelCard, RETAIN_VERSION, TimeUnit,
};
use retain_features::FeatureMatrix;
use retain_models::SavedModel;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::pipeline::{PipelineError, column_f64};

/// Fitted customer-base models of a run (BG/NBD in weeks, Gamma-Gamma on repeat buyers).
#[derive(Debug, Clone)]
pub struct CustomerBase {
    /// BG/NBD, time unit weeks.
    pub bgnbd: BgNbd,
    /// Gamma-Gamma spend model.
    pub gamma_gamma: GammaGamma,
}

/// Per-client outputs of the customer-base models over a horizon.
#[derive(Debug, Clone, Default)]
pub struct CustomerBaseScores {
    /// P(alive).
    pub p_alive: Vec<f64>,
    /// P(no purchase in the horizon): the BG/NBD churn score.
    pub p_no_purchase: Vec<f64>,
    /// Expected purchase days in the horizon.
    pub expected_purchases: Vec<f64>,
    /// Expected average order value (Gamma-Gamma).
    pub expected_spend: Vec<f64>,
    /// CLV over the horizon = expected purchases x expected spend (undiscounted).
    pub clv: Vec<f64>,
}

/// Per-client (x, t_x, T, monetary), times in weeks.
type Rfm = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

fn rfm(df: &DataFrame) -> Result<Rfm, PipelineError> {
    let w = TimeUnit::Weeks.days();
    let x = column_f64(df, "frequency")?;
    let t_x = column_f64(df, "recency_lt")?
        .iter()
        .map(|v| v / w)
        .collect();
    let t = column_f64(df, "T")?.iter().map(|v| v / w).collect();
    let m = column_f64(df, "monetary")?;
    Ok((x, t_x, t, m))
}

impl CustomerBase {
    /// Fits BG/NBD on (frequency, recency_lt / 7, T / 7) of every client of `df`, and
    /// Gamma-Gamma on the clients with frequency > 0 and monetary > 0 (BENCHMARK.md section 5).
    pub fn fit(df: &DataFrame) -> Result<Self, PipelineError> {
        let (x, t_x, t, m) = rfm(df)?;
        let bgnbd = BgNbdParams::new().fit(&RfmData::new(x.clone(), t_x, t)?)?;
        let gamma_gamma = GammaGammaParams::new().fit(&SpendData::repeat_buyers(x, m)?)?;
        Ok(Self { bgnbd, gamma_gamma })
    }

    /// The fitted parameters by name (BG/NBD in weeks, its log-likelihood, Gamma-Gamma), as
    /// reported in evaluations.
    pub fn parameters(&self) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("bgnbd_r".to_string(), self.bgnbd.r()),
            ("bgnbd_alpha".to_string(), self.bgnbd.alpha()),
            ("bgnbd_a".to_string(), self.bgnbd.a()),
            ("bgnbd_b".to_string(), self.bgnbd.b()),
            (
                "bgnbd_log_likelihood".to_string(),
                self.bgnbd.log_likelihood(),
            ),
            ("gg_p".to_string(), self.gamma_gamma.p()),
            ("gg_q".to_string(), self.gamma_gamma.q()),
            ("gg_gamma".to_string(), self.gamma_gamma.gamma()),
        ])
    }

    /// Scores every client of `df` over `horizon_days`.
    pub fn score(
        &self,
        df: &DataFrame,
        horizon_days: u32,
    ) -> Result<CustomerBaseScores, PipelineError> {
        let (x, t_x, t, m) = rfm(df)?;
        let h = horizon_days as f64 / TimeUnit::Weeks.days();
        let mut s = CustomerBaseScores::default();
        for i in 0..x.len() {
            let e = self
                .bgnbd
                .conditional_expected_purchases(h, x[i], t_x[i], t[i]);
            let spend = self
                .gamma_gamma
                .conditional_expected_average_profit(x[i], m[i]);
            s.p_alive.push(self.bgnbd.p_alive(x[i], t_x[i], t[i]));
            s.p_no_purchase
                .push(self.bgnbd.p_no_purchase(h, x[i], t_x[i], t[i]));
            s.expected_purchases.push(e);
            s.expected_spend.push(spend);
            s.clv.push(e * spend);
        }
        Ok(s)
    }
}

/// The features a CLV artifact consumes, in card order: repeat purchase days, recency and age
/// in days (divided by 7 inside: the models are fitted in weeks), and the mean value of the
/// repeat purchase days.
pub const CLV_FEATURES: [&str; 4] = ["frequency", "recency_lt", "T", "monetary"];

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
    pub fn fit(kind: RfmKind, data: &RfmData) -> Result<Self, retain_clv::ClvError> {
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
    pub fn as_rfm(&self) -> &dyn RfmModel {
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
    fn params(&self, horizon_weeks: f64) -> Result<Option<ClvValidParams>, retain_clv::ClvError> {
        let checked = ClvParams::new(horizon_weeks)
            .discount_rate(self.weekly_rate())
            .margin(self.margin)
            .check()?;
        Ok((*self != Self::default()).then_some(checked))
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
    /// Expected purchase days in the horizon.
    pub expected_purchases: Vec<f64>,
    /// Expected spend per purchase (Gamma-Gamma; the population mean for clients with no
    /// repeat purchase).
    pub expected_spend: Vec<f64>,
    /// CLV over the horizon: expected purchases x expected spend, valued by a [`Valuation`].
    pub clv: Vec<f64>,
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
        "bgnbd_gamma_gamma",
        "pareto_nbd_gamma_gamma",
        "mbgnbd_gamma_gamma",
    ];

    /// Fits both models on the features of every client of `df` (BENCHMARK.md section 5).
    pub fn fit(df: &DataFrame, kind: RfmKind) -> Result<Self, PipelineError> {
        let (x, t_x, t, m) = rfm(df)?;
        let purchases = AnyRfmModel::fit(kind, &RfmData::new(x.clone(), t_x, t)?)?;
        let spend = GammaGammaParams::new().fit(&SpendData::repeat_buyers(x, m)?)?;
        Ok(Self { purchases, spend })
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
        ModelCard {
            format: ARTIFACT_FORMAT,
            kind: self.kind().to_string(),
            retain_version: RETAIN_VERSION.to_string(),
            training_cutoff: cutoff,
            horizon_days,
            time_unit: Some(TimeUnit::Weeks),
            features: FeatureSchema::new(CLV_FEATURES),
            data_source: DataSource {
                clients: self.purchases.n_clients() as u64,
                ..source.clone()
            },
            hyperparameters: hyper,
            metrics,
        }
    }

    /// P(alive), expected purchases, expected spend and CLV over `horizon_days` for every row
    /// of `features`, whose columns are [`CLV_FEATURES`] (times in days).
    pub fn values(
        &self,
        features: &FeatureMatrix,
        horizon_days: u32,
        valuation: &Valuation,
    ) -> Result<ClientValues, PipelineError> {
        FeatureSchema::new(CLV_FEATURES)
            .check(&features.schema)
            .map_err(retain_models::ModelError::from)?;
        let w = TimeUnit::Weeks.days();
        let h = horizon_days as f64 / w;
        let params = valuation.params(h)?;
        let model = self.purchases.as_rfm();
        let n = features.clients.len();
        let mut v = ClientValues {
            p_alive: Vec::with_capacity(n),
            expected_purchases: Vec::with_capacity(n),
            expected_spend: Vec::with_capacity(n),
            clv: Vec::with_capacity(n),
        };
        for row in features.x.rows() {
            let (x, t_x, t, m) = (row[0], row[1] / w, row[2] / w, row[3]);
            let e = model.conditional_expected_purchases(h, x, t_x, t);
            let spend = self.spend.conditional_expected_average_profit(x, m);
            v.p_alive.push(model.p_alive(x, t_x, t));
            v.expected_purchases.push(e);
            v.expected_spend.push(spend);
            v.clv.push(match &params {
                None => e * spend,
                Some(p) => p.clv(model, &self.spend, x, t_x, t, m),
            });
        }
        Ok(v)
    }
}

impl SavedModel for ClvModel {
    const KINDS: &'static [&'static str] = &ClvModel::KINDS;
    fn model_kind(&self) -> &'static str {
        self.kind()
    }
    fn width(&self) -> usize {
        CLV_FEATURES.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;
    use retain_core::Artifact;
    use retain_models::{load_checked, save_checked};

    /// The CDNOW sample's summaries (2,357 clients), times back in days.
    fn cdnow() -> DataFrame {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/cdnow_sample/cdnow_customers_summary_with_transactions.csv"
        );
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(path.into()))
            .unwrap()
            .finish()
            .unwrap();
        df.lazy()
            .select([
                col("ID").cast(DataType::Int64).alias("client_id"),
                col("x").cast(DataType::Float64).alias("frequency"),
                (col("t_x") * lit(7.0)).alias("recency_lt"),
                (col("T") * lit(7.0)).alias("T"),
                col("zbar").cast(DataType::Float64).alias("monetary"),
            ])
            .collect()
            .unwrap()
    }

    fn matrix(df: &DataFrame) -> FeatureMatrix {
        let names: Vec<String> = CLV_FEATURES.iter().map(|s| s.to_string()).collect();
        FeatureMatrix::from_frame(df, &names).unwrap()
    }

    #[test]
    fn every_clv_kind_round_trips_bit_for_bit() {
        let df = cdnow();
        let m = matrix(&df);
        let source = DataSource::default();
        let cutoff = NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
        for kind in RfmKind::ALL {
            let model = ClvModel::fit(&df, kind).unwrap();
            assert_eq!(model.kind(), kind.artifact_kind());
            assert_eq!(model.purchases.kind(), kind);
            let card = model.card(cutoff, 273, &source);
            assert_eq!(card.time_unit, Some(retain_core::TimeUnit::Weeks));
            assert_eq!(card.features.names(), CLV_FEATURES);
            assert!(card.metrics["rfm_log_likelihood"] < 0.0);
            assert_eq!(card.metrics["gg_clients"], 946.0);
            let a = Artifact { card, model };
            let dir = tempfile::tempdir().unwrap();
            save_checked(dir.path(), &a).unwrap();
            let b: Artifact<ClvModel> =
                load_checked(dir.path(), &FeatureSchema::new(CLV_FEATURES)).unwrap();
            assert_eq!(a, b, "{kind}");
            for valuation in [
                Valuation::default(),
                Valuation {
                    annual_discount_rate: 0.1,
                    margin: 0.3,
                },
            ] {
                let (va, vb) = (
                    a.model.values(&m, 273, &valuation).unwrap(),
                    b.model.values(&m, 273, &valuation).unwrap(),
                );
                let bits = |v: &ClientValues| {
                    [&v.p_alive, &v.expected_purchases, &v.expected_spend, &v.clv]
                        .iter()
                        .flat_map(|c| c.iter().map(|x| x.to_bits()))
                        .collect::<Vec<u64>>()
                };
                assert_eq!(bits(&va), bits(&vb), "{kind}");
            }
            // a card that lists other features is refused, naming the feature
            let other = FeatureSchema::new(["frequency", "recency", "T", "monetary"]);
            let e = load_checked::<ClvModel>(dir.path(), &other).unwrap_err();
            assert!(e.to_string().contains("recency"), "{e}");
        }
    }

    #[test]
    fn bgnbd_clv_is_the_benchmark_product_and_discounting_lowers_it() {
        let df = cdnow();
        let m = matrix(&df);
        let model = ClvModel::fit(&df, RfmKind::Bgnbd).unwrap();
        let AnyRfmModel::Bgnbd(bg) = &model.purchases else {
            panic!("BG/NBD expected")
        };
        // BENCHMARK.md section 10: r=0.2426, alpha=4.4136, a=0.7929, b=2.4259
        assert!((bg.r() - 0.2426).abs() < 1e-4 && (bg.b() - 2.4259).abs() < 1e-3);
        let plain = model.values(&m, 273, &Valuation::default()).unwrap();
        let cb = CustomerBase {
            bgnbd: bg.clone(),
            gamma_gamma: model.spend.clone(),
        }
        .score(&df, 273)
        .unwrap();
        assert_eq!(plain.clv, cb.clv, "same CLV as the evaluation's");
        assert_eq!(plain.p_alive, cb.p_alive);
        for p in &plain.p_alive {
            assert!((0.0..=1.0).contains(p));
        }
        let discounted = model
            .values(
                &m,
                273,
                &Valuation {
                    annual_discount_rate: 0.2,
                    margin: 1.0,
                },
            )
            .unwrap();
        for (d, u) in discounted.clv.iter().zip(&plain.clv) {
            assert!(*d <= *u * (1.0 + 1e-12) && *d > 0.8 * u, "{d} vs {u}");
        }
        let half = model
            .values(
                &m,
                273,
                &Valuation {
                    annual_discount_rate: 0.0,
                    margin: 0.5,
                },
            )
            .unwrap();
        for (h, u) in half.clv.iter().zip(&plain.clv) {
            assert!((h - 0.5 * u).abs() <= 1e-9 * u.abs().max(1.0), "{h} vs {u}");
        }
    }

    #[test]
    fn rfm_kind_names_parse() {
        for (k, n) in RfmKind::ALL.iter().zip(RfmKind::NAMES) {
            assert_eq!(n.parse::<RfmKind>().unwrap(), *k);
            assert_eq!(k.to_string(), n);
        }
        assert!(
            "bg".parse::<RfmKind>()
                .unwrap_err()
                .contains("bgnbd, pareto, mbgnbd")
        );
    }
}
