//! L2-regularised logistic regression on standardised features, fitted by retain's own
//! Newton's method (iteratively reweighted least squares with step halving, the default
//! [`Solver::Newton`]) or by linfa-logistic's L-BFGS ([`Solver::Lbfgs`]).
//!
//! # Regularisation: scikit-learn's `C`
//!
//! scikit-learn's `LogisticRegression(C)` minimises
//! `0.5 * ||w||^2 + C * sum_i s_i * logloss_i` (`s_i` = sample weight, 1 by default) with
//! the intercept unpenalised. Dividing by `C` gives `sum_i s_i * logloss_i + 0.5 * alpha *
//! ||w||^2` with **`alpha = 1 / C`**, the same minimiser, which is what retain minimises
//! (and what linfa-logistic 0.8.1's `logistic_loss` minimises, without weights: its
//! `alpha` is `1 / C`, and it also leaves the intercept out of `||w||`).
//!
//! # Solvers
//!
//! Both minimise the same objective from the same standardised features and give the same
//! [`LogisticModel`] (intercept, coefficients, scaler); the choice is recorded in the
//! hyper-parameters (`"solver"` in [`LogisticValidParams::to_record`]).
//!
//! - [`Solver::Newton`] (default): retain's own. With 30 parameters Newton's method is the
//!   better tool: each step costs one `p x p` weighted Gram matrix (an ndarray GEMM, in
//!   single precision: it only steers the step, while the gradient and the objective are
//!   f64) and a Cholesky solve, and it converges quadratically (8-9 steps on ORII). It
//!   stops when the gradient is below `gradient_tolerance` or when Newton's decrement says
//!   the next step would lower the objective by less than the objective's own rounding;
//!   that last step is then taken in full, without a line search. Sample weights (and so
//!   class weights) are supported.
//! - [`Solver::Lbfgs`]: [`linfa_logistic`] 0.8 (L-BFGS with a Moré-Thuente line search), as
//!   the project's design names it. linfa-logistic ignores sample weights (its `fit` reads
//!   only records and targets), so this solver refuses them, and class weights other than
//!   [`ClassWeight::None`], with [`ModelError::WeightsUnsupported`] rather than silently
//!   fitting unweighted. linfa's objective is a sum over rows, so `gradient_tolerance`
//!   (on the mean objective) is passed to it multiplied by the row count.
//!
//! Both reach scikit-learn's converged optimum (`tests/peer.rs`). Max |coefficient
//! difference| on the peer's Online Retail II features: Newton 1.1e-5 and L-BFGS 1.2e-5
//! from scikit-learn, 2.2e-6 between them (CDNOW: 2.7e-6 for both, 2.7e-7). Eval AUCs are
//! equal to 1e-6. Fit time on the ORII features (4,976 x 29, `examples/fit_orii.rs`,
//! release, 2 cores shared with other work, medians of 21 fits): Newton 0.008 s, L-BFGS
//! 0.26 s (scikit-learn's lbfgs: 0.027 s). Newton is the default for that reason and for
//! weights.

use std::collections::BTreeMap;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::input::{check_features, check_training};
use crate::{
    ChurnClassifier, ClassWeight, Explanation, ExplanationScale, ModelError, StandardScaler,
};

/// The optimiser of [`LogisticParams`] (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// retain's Newton's method (IRLS with step halving); supports sample and class weights.
    #[default]
    Newton,
    /// linfa-logistic 0.8's L-BFGS; refuses sample and class weights.
    Lbfgs,
}

impl Solver {
    /// The name written in model cards: `"newton"` or `"lbfgs"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Newton => "newton",
            Self::Lbfgs => "lbfgs",
        }
    }
}

/// Hyper-parameters of [`LogisticModel`], unchecked: setters never fail, [`Self::check`]
/// validates and [`Self::fit`] checks then fits.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `c` | 1.0 | inverse L2 strength, as scikit-learn's `C` (`alpha = 1 / c`) | `(0, inf)` |
/// | `solver` | [`Solver::Newton`] | the optimiser | [`Solver`] |
/// | `max_iterations` | 1000 | Newton step (or L-BFGS iteration) cap | `>= 1` |
/// | `gradient_tolerance` | 1e-9 | stop when the L2 norm of the gradient of the penalised log loss, divided by the total sample weight, is below this | `(0, inf)` |
/// | `class_weight` | [`ClassWeight::None`] | per-class row weights, multiplied into sample weights | see [`ClassWeight`]; only `None` with [`Solver::Lbfgs`] |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams(LogisticValidParams);

/// Checked hyper-parameters of [`LogisticModel`] (see [`LogisticParams`] for the table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticValidParams {
    c: f64,
    max_iterations: u64,
    gradient_tolerance: f64,
    #[serde(default)]
    class_weight: ClassWeight,
    /// Absent from parameters saved before there was a choice: those were Newton's.
    #[serde(default)]
    solver: Solver,
    /// Features go through `sign(x) ln(1 + |x|)` before they are standardised.
    #[serde(default)]
    signed_log: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self::new()
    }
}

impl LogisticParams {
    /// The defaults of the table above (scikit-learn's `C = 1`).
    pub fn new() -> Self {
        Self(LogisticValidParams {
            c: 1.0,
            max_iterations: 1000,
            gradient_tolerance: 1e-9,
            class_weight: ClassWeight::None,
            solver: Solver::Newton,
            signed_log: false,
        })
    }

    /// Sends every feature through `sign(x) ln(1 + |x|)` before standardising it (saved with
    /// the model's scaler, so scoring applies it too): spend and counts have heavy right
    /// tails that a linear model on their raw values over-weights.
    pub fn signed_log(mut self, on: bool) -> Self {
        self.0.signed_log = on;
        self
    }

    /// Sets the optimiser.
    pub fn solver(mut self, solver: Solver) -> Self {
        self.0.solver = solver;
        self
    }

    /// Sets the inverse regularisation strength `C`.
    pub fn c(mut self, c: f64) -> Self {
        self.0.c = c;
        self
    }

    /// Sets the class weights.
    pub fn class_weight(mut self, w: ClassWeight) -> Self {
        self.0.class_weight = w;
        self
    }

    /// Sets the Newton step (or L-BFGS iteration) cap.
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.0.max_iterations = n;
        self
    }

    /// Sets the gradient tolerance (on the mean objective).
    pub fn gradient_tolerance(mut self, tol: f64) -> Self {
        self.0.gradient_tolerance = tol;
        self
    }

    /// Validates the hyper-parameters.
    pub fn check_ref(&self) -> Result<&LogisticValidParams, ModelError> {
        let p = &self.0;
        p.class_weight.check()?;
        if p.solver == Solver::Lbfgs && p.class_weight != ClassWeight::None {
            return Err(ModelError::WeightsUnsupported { kind: LBFGS_KIND });
        }
        if !(p.c.is_finite() && p.c > 0.0) {
            return Err(ModelError::InvalidParam {
                name: "c",
                reason: format!("{} is not a finite number > 0", p.c),
            });
        }
        if p.max_iterations == 0 {
            return Err(ModelError::InvalidParam {
                name: "max_iterations",
                reason: "must be at least 1".into(),
            });
        }
        if !(p.gradient_tolerance.is_finite() && p.gradient_tolerance > 0.0) {
            return Err(ModelError::InvalidParam {
                name: "gradient_tolerance",
                reason: format!("{} is not a finite number > 0", p.gradient_tolerance),
            });
        }
        Ok(p)
    }

    /// Validates the hyper-parameters, consuming them.
    pub fn check(self) -> Result<LogisticValidParams, ModelError> {
        self.check_ref()?;
        Ok(self.0)
    }

    /// Checks the hyper-parameters, then fits (see [`LogisticValidParams::fit`]).
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<LogisticModel, ModelError> {
        self.check_ref()?.fit(x, y, weights)
    }

    /// Checks the hyper-parameters, then fits the path of `cs` (see
    /// [`LogisticValidParams::fit_path`]).
    pub fn fit_path(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        cs: &[f64],
    ) -> Result<Vec<LogisticModel>, ModelError> {
        self.check_ref()?.fit_path(x, y, cs)
    }
}

impl LogisticValidParams {
    /// Inverse regularisation strength `C`.
    pub fn c(&self) -> f64 {
        self.c
    }

    /// The optimiser.
    pub fn solver(&self) -> Solver {
        self.solver
    }

    /// Newton step (or L-BFGS iteration) cap.
    pub fn max_iterations(&self) -> u64 {
        self.max_iterations
    }

    /// Gradient tolerance on the mean objective.
    pub fn gradient_tolerance(&self) -> f64 {
        self.gradient_tolerance
    }

    /// The hyper-parameters by name, for a model card.
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        BTreeMap::from([
            ("c".into(), self.c.into()),
            ("max_iterations".into(), self.max_iterations.into()),
            ("gradient_tolerance".into(), self.gradient_tolerance.into()),
            ("standardize".into(), true.into()),
            ("class_weight".into(), self.class_weight.to_record().into()),
            ("solver".into(), self.solver.name().into()),
            ("signed_log".into(), self.signed_log.into()),
        ])
    }

    /// Fits one model per `C` of `cs` (the regularisation path), each Newton fit starting
    /// from the previous one's solution (warm start): along a path from strong to weak
    /// penalties (small to large `C`) each fit is a few steps. Every model reaches the same
    /// optimum as a cold fit of its `C` (to the solver's tolerance). Newton only; the other
    /// settings are this one's.
    pub fn fit_path(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        cs: &[f64],
    ) -> Result<Vec<LogisticModel>, ModelError> {
        check_training(x, y, None)?;
        if self.solver != Solver::Newton {
            return Err(ModelError::InvalidParam {
                name: "solver",
                reason: "the regularisation path is fitted by Newton's method".into(),
            });
        }
        let scaler = StandardScaler::fit_with(x, self.signed_log);
        let z = scaler.transform(x);
        let weights = self.class_weight.sample_weights(y, None);
        let mut start: Option<(f64, Vec<f64>)> = None;
        let mut out = Vec::with_capacity(cs.len());
        for &c in cs {
            LogisticParams(LogisticValidParams { c, ..self.clone() }).check_ref()?;
            let (intercept, coef) = newton(
                z.view(),
                y,
                weights.as_deref(),
                1.0 / c,
                self.max_iterations,
                self.gradient_tolerance,
                start.take(),
            );
            if !intercept.is_finite() || coef.iter().any(|w| !w.is_finite()) {
                return Err(ModelError::Fit {
                    kind: LogisticModel::KIND,
                    message: format!("the optimiser returned non-finite coefficients at C = {c}"),
                });
            }
            start = Some((intercept, coef.clone()));
            out.push(LogisticModel {
                scaler: scaler.clone(),
                coef,
                intercept,
            });
        }
        Ok(out)
    }

    /// Standardises `x` ([`StandardScaler`]), then fits `P(churned) = sigmoid(b + w . z)`
    /// by L2-penalised maximum likelihood (see the module docs for the penalty and the
    /// solvers). `y[i]` is true when client `i` churned; `weights` are per-row sample
    /// weights (multiplied by the class weights, if any). [`Solver::Lbfgs`] refuses
    /// `Some` weights with [`ModelError::WeightsUnsupported`].
    pub fn fit(
        &self,
        x: ArrayView2<f64>,
        y: &[bool],
        weights: Option<&[f64]>,
    ) -> Result<LogisticModel, ModelError> {
        check_training(x, y, weights)?;
        let scaler = StandardScaler::fit_with(x, self.signed_log);
        let z = scaler.transform(x);
        let (intercept, coef) = match self.solver {
            Solver::Newton => {
                let weights = self.class_weight.sample_weights(y, weights);
                newton(
                    z.view(),
                    y,
                    weights.as_deref(),
                    1.0 / self.c,
                    self.max_iterations,
                    self.gradient_tolerance,
                    None,
                )
            }
            Solver::Lbfgs => {
                // check_ref has refused class weights; sample weights are refused here.
                if weights.is_some() {
                    return Err(ModelError::WeightsUnsupported { kind: LBFGS_KIND });
                }
                self.lbfgs(z, y)?
            }
        };
        if !intercept.is_finite() || coef.iter().any(|w| !w.is_finite()) {
            return Err(ModelError::Fit {
                kind: LogisticModel::KIND,
                message: "the optimiser returned non-finite coefficients".into(),
            });
        }
        Ok(LogisticModel {
            scaler,
            coef,
            intercept,
        })
    }
}

/// The kind named when [`Solver::Lbfgs`] refuses weights.
const LBFGS_KIND: &str = "logistic_regression (solver lbfgs)";

impl LogisticValidParams {
    /// Fits standardised features `z` with linfa-logistic (unweighted). Returns `(b, w)`.
    fn lbfgs(&self, z: Array2<f64>, y: &[bool]) -> Result<(f64, Vec<f64>), ModelError> {
        use linfa::prelude::*;
        let n = y.len() as f64;
        let data = Dataset::new(z, Array1::from(y.to_vec()));
        let fitted = linfa_logistic::LogisticRegression::default()
            .alpha(1.0 / self.c)
            .with_intercept(true)
            .max_iterations(self.max_iterations)
            .gradient_tolerance(self.gradient_tolerance * n)
            .fit(&data)
            .map_err(|e| ModelError::Fit {
                kind: LogisticModel::KIND,
                message: e.to_string(),
            })?;
        // linfa's probabilities are those of its "positive" class, the more frequent label.
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        let coef = fitted.params().iter().map(|w| sign * w).collect();
        Ok((sign * fitted.intercept(), coef))
    }
}

/// Minimises `sum_i s_i * logloss_i + 0.5 * alpha * ||w||^2` over `(b, w)` by Newton's
/// method with step halving, from `start` when given (a warm start), else from `w = 0` and
/// `b` = the weighted log-odds of churn. Returns `(b, w)`.
fn newton(
    z: ArrayView2<f64>,
    y: &[bool],
    s: Option<&[f64]>,
    alpha: f64,
    max_iterations: u64,
    tolerance: f64,
    start: Option<(f64, Vec<f64>)>,
) -> (f64, Vec<f64>) {
    let (n, p) = z.dim();
    // Contiguous row-major rows: every pass below walks rows.
    let owned;
    let zs: &[f64] = match z.as_slice() {
        Some(s) => s,
        None => {
            owned = z.iter().copied().collect::<Vec<f64>>();
            &owned
        }
    };
    let row = |i: usize| &zs[i * p..(i + 1) * p];
    let sw: Vec<f64> = s.map_or_else(|| vec![1.0; n], <[f64]>::to_vec);
    let t: Vec<f64> = y.iter().map(|&c| f64::from(u8::from(c))).collect();
    let total: f64 = sw.iter().sum();
    let rate =
        (sw.iter().zip(&t).map(|(a, b)| a * b).sum::<f64>() / total).clamp(1e-12, 1.0 - 1e-12);
    let (mut b, mut w) = match start {
        Some((b, w)) if w.len() == p => (b, w),
        _ => ((rate / (1.0 - rate)).ln(), vec![0.0; p]),
    };
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
    // The objective at (b, w); it leaves each row's margin `eta` and `exp(-|eta|)` in
    // `cache`, so the next Newton step reads its probabilities without another pass of dot
    // products and exponentials (bit for bit what `sigmoid(eta)` gives).
    let objective = |b: f64, w: &[f64], cache: &mut Vec<[f64; 2]>| -> f64 {
        cache.clear();
        let ll: f64 = (0..n)
            .map(|i| {
                let e = b + dot(row(i), w);
                let ex = if e > 0.0 { (-e).exp() } else { e.exp() };
                cache.push([e, ex]);
                // softplus(e), from the same exponential.
                let sp = if e > 0.0 { e + ex.ln_1p() } else { ex.ln_1p() };
                sw[i] * (sp - t[i] * e)
            })
            .sum();
        ll + 0.5 * alpha * dot(w, w)
    };
    let mut cache = Vec::with_capacity(n);
    let mut trial = Vec::with_capacity(n);
    let mut current = objective(b, &w, &mut cache);
    // sqrt(s_i p_i (1 - p_i)) * z_i, so the Hessian block is one GEMM: ZD' ZD. In single
    // precision: the Hessian only sets the step's direction, so its 1e-7 relative error
    // slows nothing measurable, while the gradient, the objective and the iterate stay in
    // f64 and decide where the fit ends (the same optimum to 1e-12 on the peer's data);
    // the f32 GEMM takes half the time of the f64 one.
    let mut zd = vec![0.0f32; n * p];
    let m = p + 1;
    for _ in 0..max_iterations {
        let (mut gb, mut gw) = (0.0, vec![0.0; p]);
        let (mut hbb, mut hbw) = (0.0, vec![0.0; p]);
        for (i, out) in zd.chunks_exact_mut(p.max(1)).enumerate() {
            let zi = row(i);
            let [e, ex] = cache[i];
            let q = if e >= 0.0 {
                1.0 / (1.0 + ex)
            } else {
                ex / (1.0 + ex)
            };
            let r = sw[i] * (q - t[i]);
            let d = sw[i] * q * (1.0 - q);
            gb += r;
            hbb += d;
            let sd = d.sqrt();
            for (((gj, hj), oj), &zj) in gw.iter_mut().zip(&mut hbw).zip(out).zip(zi) {
                *gj += r * zj;
                *hj += d * zj;
                *oj = (sd * zj) as f32;
            }
        }
        for j in 0..p {
            gw[j] += alpha * w[j];
        }
        if (gb * gb + dot(&gw, &gw)).sqrt() / total < tolerance {
            break;
        }
        // Hessian of (b, w): [[sum d, (Z' d)'], [Z' d, Z' D Z + alpha I]].
        let zd = ArrayView2::from_shape((n, p), &zd).expect("n x p values");
        let zdz = zd.t().dot(&zd);
        let mut h = Array2::<f64>::zeros((m, m));
        h[[0, 0]] = hbb + 1e-12;
        for j in 0..p {
            h[[0, j + 1]] = hbw[j];
            h[[j + 1, 0]] = hbw[j];
            for k in 0..p {
                h[[j + 1, k + 1]] = f64::from(zdz[[j, k]]);
            }
            h[[j + 1, j + 1]] += alpha + 1e-12;
        }
        let mut g = Vec::with_capacity(m);
        g.push(gb);
        g.extend(gw.iter().copied());
        let Some(step) = cholesky_solve(h, &g) else {
            break;
        };
        // Newton's decrement: the step's predicted fall of the objective is half of
        // `g' H^-1 g`. Once that is below what the objective's own rounding can resolve,
        // comparing objectives is noise (it would refuse good steps and halve them for
        // nothing), and the full step is the exact minimiser of the quadratic model: take
        // it and stop.
        if 0.5 * dot(&g, &step) <= 64.0 * f64::EPSILON * current.abs() {
            b -= step[0];
            for (a, d) in w.iter_mut().zip(&step[1..]) {
                *a -= d;
            }
            break;
        }
        let (mut scale, mut moved, before) = (1.0, false, current);
        while scale > 1e-10 {
            let nb = b - scale * step[0];
            let nw: Vec<f64> = w
                .iter()
                .zip(&step[1..])
                .map(|(a, d)| a - scale * d)
                .collect();
            let o = objective(nb, &nw, &mut trial);
            if o <= current {
                (b, w, current) = (nb, nw, o);
                std::mem::swap(&mut cache, &mut trial);
                moved = true;
                break;
            }
            scale /= 2.0;
        }
        // Stop at the floating-point floor: a full step that no longer lowers the
        // objective beyond rounding (the gradient norm stalls near 1e-9 there).
        if !moved || before - current <= 1e-15 * current.abs() {
            break;
        }
    }
    (b, w)
}

/// Solves `h x = g` for a symmetric positive definite `h` (Cholesky); `None` if `h` is not
/// numerically positive definite.
fn cholesky_solve(mut h: Array2<f64>, g: &[f64]) -> Option<Vec<f64>> {
    let m = g.len();
    for j in 0..m {
        let mut dsum = h[[j, j]];
        for k in 0..j {
            dsum -= h[[j, k]] * h[[j, k]];
        }
        if dsum.is_nan() || dsum <= 0.0 {
            return None;
        }
        let djj = dsum.sqrt();
        h[[j, j]] = djj;
        for i in j + 1..m {
            let mut v = h[[i, j]];
            for k in 0..j {
                v -= h[[i, k]] * h[[j, k]];
            }
            h[[i, j]] = v / djj;
        }
    }
    // Forward then back substitution with the lower factor L (h = L L').
    let mut x = g.to_vec();
    for i in 0..m {
        for k in 0..i {
            x[i] -= h[[i, k]] * x[k];
        }
        x[i] /= h[[i, i]];
    }
    for i in (0..m).rev() {
        for k in i + 1..m {
            x[i] -= h[[k, i]] * x[k];
        }
        x[i] /= h[[i, i]];
    }
    Some(x)
}

/// A fitted logistic regression: `P(churned | x) = sigmoid(intercept + sum_j coef_j * z_j)`
/// with `z_j = (x_j - mean_j) / scale_j` (the scaler learnt at fit time). Keeps no training
/// data.
///
/// A saved model is checked as it is read: one coefficient per scaled feature, and every
/// coefficient and the intercept finite and at most [`LogisticModel::MAX_WEIGHT`] in size (on
/// standardised features a penalised fit stays orders of magnitude below it; an edited 1e308
/// would pin every probability to 0 or 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SavedLogistic")]
pub struct LogisticModel {
    scaler: StandardScaler,
    coef: Vec<f64>,
    intercept: f64,
}

/// The model as stored, before its numbers are checked.
#[derive(Deserialize)]
struct SavedLogistic {
    scaler: StandardScaler,
    coef: Vec<f64>,
    intercept: f64,
}

impl TryFrom<SavedLogistic> for LogisticModel {
    type Error = String;
    fn try_from(s: SavedLogistic) -> Result<Self, String> {
        if s.coef.len() != s.scaler.n_features() {
            return Err(format!(
                "the logistic regression has {} coefficients for {} scaled features",
                s.coef.len(),
                s.scaler.n_features()
            ));
        }
        let usable = |v: f64| v.is_finite() && v.abs() <= Self::MAX_WEIGHT;
        if let Some((j, c)) = s.coef.iter().enumerate().find(|(_, c)| !usable(**c)) {
            return Err(format!(
                "the logistic regression's coefficient {j} is {c:e}: it must be finite and at \
                 most {:e} in size",
                Self::MAX_WEIGHT
            ));
        }
        if !usable(s.intercept) {
            return Err(format!(
                "the logistic regression's intercept is {:e}: it must be finite and at most \
                 {:e} in size",
                s.intercept,
                Self::MAX_WEIGHT
            ));
        }
        Ok(Self {
            scaler: s.scaler,
            coef: s.coef,
            intercept: s.intercept,
        })
    }
}

impl LogisticModel {
    /// The kind written in model cards.
    pub const KIND: &'static str = "logistic_regression";

    /// The largest coefficient (or intercept) a saved model may hold.
    pub const MAX_WEIGHT: f64 = 1e6;

    /// Coefficients on the standardised features, in feature order (positive = raises the
    /// churn probability).
    pub fn coefficients(&self) -> &[f64] {
        &self.coef
    }

    /// Intercept (log-odds of churn for a client at the training means).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// The standardisation learnt at fit time.
    pub fn scaler(&self) -> &StandardScaler {
        &self.scaler
    }

    /// Log-odds of churn per row.
    pub fn decision_function(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.coef.len())?;
        Ok(self.logits(x))
    }

    fn logits(&self, x: ArrayView2<f64>) -> Array1<f64> {
        let s = &self.scaler;
        x.axis_iter(Axis(0))
            .map(|row| {
                row.iter().enumerate().fold(self.intercept, |acc, (j, &v)| {
                    acc + self.coef[j] * s.apply(j, v)
                })
            })
            .collect()
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl ChurnClassifier for LogisticModel {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.decision_function(x)?.mapv_into(sigmoid))
    }

    /// `coef_j * z_j` per row and feature: the row's log-odds are the intercept plus the
    /// row sum.
    fn contributions(&self, x: ArrayView2<f64>) -> Result<Option<Array2<f64>>, ModelError> {
        check_features(x, self.coef.len())?;
        let mut z = self.scaler.transform(x);
        // row by row: the rows are contiguous
        for mut row in z.rows_mut() {
            for (v, c) in row.iter_mut().zip(&self.coef) {
                *v *= c;
            }
        }
        Ok(Some(z))
    }

    /// Log-odds: the intercept plus `coef_j * z_j` per feature (the contributions).
    fn explain(&self, x: ArrayView2<f64>) -> Result<Explanation, ModelError> {
        let values = self.contributions(x)?.expect("logistic contributions");
        Explanation::new(
            ExplanationScale::LogOdds,
            self.intercept,
            values,
            self.logits(x),
        )
    }

    fn explanation_scores(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_features(x, self.coef.len())?;
        Ok(self.logits(x))
    }

    /// `|coef_j|` on the standardised scale, normalised to sum to 1 (all 0 if every
    /// coefficient is 0).
    fn feature_importances(&self) -> Vec<f64> {
        normalized(self.coef.iter().map(|w| w.abs()).collect())
    }
}

/// Scales non-negative values to sum to 1 (leaves an all-zero vector alone).
pub(crate) fn normalized(mut v: Vec<f64>) -> Vec<f64> {
    let total: f64 = v.iter().sum();
    if total > 0.0 {
        v.iter_mut().for_each(|x| *x /= total);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn toy() -> (Array2<f64>, Vec<bool>) {
        // Churn rises with column 0 (days since last purchase); column 1 is constant.
        let x = array![
            [1.0, 7.0],
            [2.0, 7.0],
            [3.0, 7.0],
            [4.0, 7.0],
            [5.0, 7.0],
            [6.0, 7.0],
            [7.0, 7.0],
            [8.0, 7.0]
        ];
        let y = vec![false, false, true, false, true, false, true, true];
        (x, y)
    }

    #[test]
    fn fits_a_monotone_signal_and_ignores_a_constant_column() {
        let (x, y) = toy();
        let m = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        assert!(m.coefficients()[0] > 0.0);
        assert_eq!(m.coefficients()[1], 0.0);
        let p = m.predict_proba(x.view()).unwrap();
        assert!(p.windows(2).into_iter().all(|w| w[0] < w[1]));
        let c = m.contributions(x.view()).unwrap().unwrap();
        let logit = m.decision_function(x.view()).unwrap();
        for i in 0..x.nrows() {
            assert!((c.row(i).sum() + m.intercept() - logit[i]).abs() < 1e-12);
        }
        assert_eq!(m.feature_importances(), vec![1.0, 0.0]);
    }

    #[test]
    fn the_warm_started_path_reaches_each_cold_fit_and_signed_log_is_saved() {
        let (mut x, y) = toy();
        x.column_mut(1)
            .assign(&array![1.0, -3.0, 40.0, 0.0, 900.0, 2.0, -1.0, 7.0]);
        let cs = [0.001, 0.01, 0.1, 1.0, 10.0];
        let p = LogisticParams::new().signed_log(true);
        let path = p.fit_path(x.view(), &y, &cs).unwrap();
        for (m, &c) in path.iter().zip(&cs) {
            let cold = p.clone().c(c).fit(x.view(), &y, None).unwrap();
            for (a, b) in m.coefficients().iter().zip(cold.coefficients()) {
                assert!((a - b).abs() < 1e-7, "C = {c}: {a} vs {b}");
            }
            assert!((m.intercept() - cold.intercept()).abs() < 1e-7);
        }
        // Stronger penalties shrink the coefficients.
        let norm = |m: &LogisticModel| m.coefficients().iter().map(|w| w * w).sum::<f64>();
        assert!(path.windows(2).all(|w| norm(&w[0]) < norm(&w[1])));
        // The transform is applied when scoring, and saved with the model.
        let m = &path[3];
        assert!(m.scaler().is_signed_log());
        let z0 = m.scaler().apply(1, 900.0);
        assert!(
            (z0 - (900f64.ln_1p() - m.scaler().mean()[1]) / m.scaler().scale()[1]).abs() < 1e-12
        );
        let back: LogisticModel = serde_json::from_value(serde_json::to_value(m).unwrap()).unwrap();
        assert_eq!(&back, m);
        assert_eq!(
            back.predict_proba(x.view()).unwrap(),
            m.predict_proba(x.view()).unwrap()
        );
        // A scaler saved without the field reads as no transform.
        let plain = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let j = serde_json::to_value(&plain).unwrap();
        assert!(j["scaler"].get("signed_log").is_none());
    }

    #[test]
    fn a_saved_model_round_trips_and_an_edited_weight_is_refused() {
        let (x, y) = toy();
        let m = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let json = serde_json::to_value(&m).unwrap();
        let back: LogisticModel = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, m);
        let edit = |path: &str, v: serde_json::Value| {
            let mut j = json.clone();
            *j.pointer_mut(path).unwrap() = v;
            serde_json::from_value::<LogisticModel>(j)
                .unwrap_err()
                .to_string()
        };
        let e = edit("/coef/0", 1e308.into());
        assert!(e.contains("coefficient 0 is 1e308"), "{e}");
        let e = edit("/intercept", (-2e6).into());
        assert!(e.contains("intercept is -2e6"), "{e}");
        let e = edit("/coef", serde_json::json!([1.0]));
        assert!(e.contains("1 coefficients for 2 scaled features"), "{e}");
        let e = edit("/scaler/scale/0", 0.0.into());
        assert!(e.contains("scale 0 is 0"), "{e}");
    }

    #[test]
    fn minority_churn_keeps_the_sign() {
        // Same data with labels flipped: P(churn) must mirror.
        let (x, y) = toy();
        let y2: Vec<bool> = y.iter().map(|c| !c).collect();
        let m1 = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let m2 = LogisticParams::new().fit(x.view(), &y2, None).unwrap();
        let p1 = m1.predict_proba(x.view()).unwrap();
        let p2 = m2.predict_proba(x.view()).unwrap();
        for (a, b) in p1.iter().zip(&p2) {
            assert!((a + b - 1.0).abs() < 1e-6, "{a} + {b}");
        }
    }

    #[test]
    fn refuses_bad_params_and_accepts_weights() {
        let (x, y) = toy();
        for p in [
            LogisticParams::new().c(0.0),
            LogisticParams::new().c(f64::NAN),
            LogisticParams::new().max_iterations(0),
            LogisticParams::new().gradient_tolerance(-1.0),
        ] {
            assert!(matches!(
                p.fit(x.view(), &y, None),
                Err(ModelError::InvalidParam { .. })
            ));
        }
        // Unit weights change nothing; doubling every weight is C = 2.
        let w = vec![1.0; y.len()];
        let m1 = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let mw = LogisticParams::new().fit(x.view(), &y, Some(&w)).unwrap();
        assert!((m1.coefficients()[0] - mw.coefficients()[0]).abs() < 1e-9);
        let w2 = vec![2.0; y.len()];
        let m2 = LogisticParams::new().fit(x.view(), &y, Some(&w2)).unwrap();
        let mc = LogisticParams::new()
            .c(2.0)
            .fit(x.view(), &y, None)
            .unwrap();
        assert!((m2.coefficients()[0] - mc.coefficients()[0]).abs() < 1e-7);
        assert!((m2.intercept() - mc.intercept()).abs() < 1e-7);
        assert!(
            LogisticParams::new()
                .class_weight(ClassWeight::Explicit {
                    churned: -1.0,
                    retained: 1.0
                })
                .check()
                .is_err()
        );
        let m = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        let bad = array![[1.0, 2.0, 3.0]];
        assert!(matches!(
            m.predict_proba(bad.view()),
            Err(ModelError::ColumnCount {
                expected: 2,
                found: 3
            })
        ));
    }

    #[test]
    fn lbfgs_refuses_sample_and_class_weights() {
        let (x, y) = toy();
        let lbfgs = LogisticParams::new().solver(Solver::Lbfgs);
        let w = vec![1.0; y.len()];
        assert!(matches!(
            lbfgs.fit(x.view(), &y, Some(&w)),
            Err(ModelError::WeightsUnsupported { .. })
        ));
        for cw in [
            ClassWeight::Balanced,
            ClassWeight::Explicit {
                churned: 2.0,
                retained: 1.0,
            },
        ] {
            assert!(matches!(
                lbfgs.clone().class_weight(cw).check(),
                Err(ModelError::WeightsUnsupported { .. })
            ));
            // Newton takes them.
            let newton = LogisticParams::new().class_weight(cw);
            assert!(newton.fit(x.view(), &y, Some(&w)).is_ok());
        }
        let m = lbfgs.fit(x.view(), &y, None).unwrap();
        let n = LogisticParams::new().fit(x.view(), &y, None).unwrap();
        assert!((m.coefficients()[0] - n.coefficients()[0]).abs() < 1e-6);
        assert!((m.intercept() - n.intercept()).abs() < 1e-6);
    }

    #[test]
    fn solver_is_recorded_and_defaults_to_newton_when_absent() {
        let p = LogisticParams::new().solver(Solver::Lbfgs).check().unwrap();
        assert_eq!(p.to_record()["solver"], "lbfgs");
        assert_eq!(
            LogisticParams::new().check().unwrap().to_record()["solver"],
            "newton"
        );
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains(r#""solver":"lbfgs""#), "{json}");
        let back: LogisticValidParams = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        // Parameters saved before the solver existed load as Newton's.
        let old = r#"{"c":1.0,"max_iterations":1000,"gradient_tolerance":1e-9}"#;
        let old: LogisticValidParams = serde_json::from_str(old).unwrap();
        assert_eq!(old.solver(), Solver::Newton);
    }
}
