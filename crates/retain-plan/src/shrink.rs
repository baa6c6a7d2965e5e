//! Empirical Bayes for response rates: beta-binomial priors fitted by maximum marginal
//! likelihood, and the posterior means that shrink a client's own rate toward its group's.
//!
//! A unit (a client on a channel, a segment, a client in a time window) made `n` attempts
//! and got `k` responses. Its rate is a draw from `Beta(m s, (1 - m) s)`: prior mean `m`
//! (the population's, or the unit's group's) and prior strength `s`. Given `s`, the posterior
//! mean of the unit's rate is `(k + m s) / (n + s)`: the more attempts, the less shrinkage.
//! The strength is *fitted*, not chosen: it maximises the beta-binomial marginal likelihood
//! of all units (Casella 1985, "An introduction to empirical Bayes data analysis"), so a
//! population whose units really differ gets a weak prior and one whose units differ only
//! by chance gets a strong one.
//!
//! The log marginal likelihood of one unit, without the binomial coefficient (a constant), is
//! `ln B(k + a, n - k + b) - ln B(a, b)` with `a = m s`, `b = (1 - m) s`, which for whole `k`
//! and `n` is the finite sum `sum_{j<k} ln(a + j) + sum_{j<n-k} ln(b + j) - sum_{j<n} ln(s + j)`:
//! no gamma function is needed. Units with the same `(n, k, m)` are evaluated once, so a fit
//! over half a million clients costs as much as one over their few thousand distinct counts.
//! The one-dimensional searches are golden-section searches on a fixed bracket with a fixed
//! number of steps: the result depends on the data only, bit for bit.

use std::collections::BTreeMap;

/// Attempts and responses of one unit.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Counts {
    /// Contacts made.
    pub attempts: u32,
    /// Contacts answered (responded or converted).
    pub responses: u32,
}

impl Counts {
    /// `k` responses out of `n` attempts (`k <= n` is the caller's duty; `k` is capped at `n`).
    pub fn new(attempts: u32, responses: u32) -> Self {
        Self {
            attempts,
            responses: responses.min(attempts),
        }
    }

    /// Adds another unit's counts.
    pub fn add(&mut self, other: Counts) {
        self.attempts += other.attempts;
        self.responses += other.responses;
    }

    /// The raw rate `k / n` (0 without attempts).
    pub fn rate(self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            f64::from(self.responses) / f64::from(self.attempts)
        }
    }
}

/// A beta prior by its mean and strength (`Beta(mean * strength, (1 - mean) * strength)`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BetaPrior {
    /// Prior mean, in `(0, 1)`.
    pub mean: f64,
    /// Prior strength (pseudo-attempts), in `[MIN_STRENGTH, MAX_STRENGTH]`.
    pub strength: f64,
}

/// The weakest prior a fit returns.
pub const MIN_STRENGTH: f64 = 0.05;
/// The strongest prior a fit returns (units indistinguishable from their group's mean).
pub const MAX_STRENGTH: f64 = 1.0e5;
/// Rates are kept inside `[RATE_FLOOR, 1 - RATE_FLOOR]` so every prior is proper.
const RATE_FLOOR: f64 = 1e-4;
const GOLDEN_STEPS: usize = 60;

impl BetaPrior {
    /// The posterior mean of a unit with `counts` under this prior.
    pub fn posterior_mean(&self, counts: Counts) -> f64 {
        posterior_mean(counts, self.mean, self.strength)
    }
}

/// `(k + m s) / (n + s)`.
pub fn posterior_mean(counts: Counts, mean: f64, strength: f64) -> f64 {
    (f64::from(counts.responses) + mean * strength) / (f64::from(counts.attempts) + strength)
}

fn clamp_rate(m: f64) -> f64 {
    if m.is_finite() {
        m.clamp(RATE_FLOOR, 1.0 - RATE_FLOOR)
    } else {
        0.5
    }
}

/// Units grouped by `(n, k, prior mean)`, with multiplicities: the sufficient statistics of
/// the marginal likelihood.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    groups: BTreeMap<(u32, u32, u64), u64>,
}

impl Tally {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one unit with prior mean `mean` (units without attempts carry no information and
    /// are skipped).
    pub fn add(&mut self, counts: Counts, mean: f64) {
        if counts.attempts == 0 {
            return;
        }
        let m = clamp_rate(mean);
        *self
            .groups
            .entry((counts.attempts, counts.responses, m.to_bits()))
            .or_insert(0) += 1;
    }

    /// Adds every unit of `other`.
    pub fn merge(&mut self, other: &Tally) {
        for (k, v) in &other.groups {
            *self.groups.entry(*k).or_insert(0) += v;
        }
    }

    /// Number of units with attempts.
    pub fn units(&self) -> u64 {
        self.groups.values().sum()
    }

    /// Total attempts and responses.
    pub fn totals(&self) -> Counts {
        let mut c = (0u64, 0u64);
        for (&(n, k, _), &w) in &self.groups {
            c.0 += u64::from(n) * w;
            c.1 += u64::from(k) * w;
        }
        Counts {
            attempts: c.0.min(u64::from(u32::MAX)) as u32,
            responses: c.1.min(u64::from(u32::MAX)) as u32,
        }
    }

    /// The log marginal likelihood of every unit at strength `s`, each with its own prior
    /// mean (`mean_override` replaces them all when given).
    pub fn log_likelihood(&self, strength: f64, mean_override: Option<f64>) -> f64 {
        let s = strength;
        let mut ll = 0.0;
        for (&(n, k, mb), &w) in &self.groups {
            let m = mean_override.unwrap_or(f64::from_bits(mb));
            let (a, b) = (m * s, (1.0 - m) * s);
            let mut l = 0.0;
            for j in 0..k {
                l += (a + f64::from(j)).ln();
            }
            for j in 0..(n - k) {
                l += (b + f64::from(j)).ln();
            }
            for j in 0..n {
                l -= (s + f64::from(j)).ln();
            }
            ll += w as f64 * l;
        }
        ll
    }

    /// The strength maximising the marginal likelihood, each unit keeping its own prior
    /// mean; [`MAX_STRENGTH`] when there are no units.
    pub fn fit_strength(&self) -> f64 {
        self.fit_strength_at(None)
    }

    fn fit_strength_at(&self, mean: Option<f64>) -> f64 {
        if self.groups.is_empty() {
            return MAX_STRENGTH;
        }
        let (lo, hi) = (MIN_STRENGTH.ln(), MAX_STRENGTH.ln());
        let x = golden_max(lo, hi, |t| self.log_likelihood(t.exp(), mean));
        x.exp().clamp(MIN_STRENGTH, MAX_STRENGTH)
    }

    /// The prior (mean and strength) maximising the marginal likelihood when all units share
    /// one prior mean (their own means are ignored). Without units: the pooled rate of
    /// nothing, 0.5, at the strongest strength.
    pub fn fit_prior(&self) -> BetaPrior {
        if self.groups.is_empty() {
            return BetaPrior {
                mean: 0.5,
                strength: MAX_STRENGTH,
            };
        }
        // Alternate: the mean for a fixed strength, then the strength for that mean. The
        // pooled rate is the start; three rounds settle both well below any rate's noise.
        let mut mean = clamp_rate(self.totals().rate());
        let mut strength = self.fit_strength_at(Some(mean));
        for _ in 0..3 {
            let lo = RATE_FLOOR.ln() - (1.0 - RATE_FLOOR).ln();
            let t = golden_max(lo, -lo, |t| {
                self.log_likelihood(strength, Some(1.0 / (1.0 + (-t).exp())))
            });
            mean = clamp_rate(1.0 / (1.0 + (-t).exp()));
            strength = self.fit_strength_at(Some(mean));
        }
        BetaPrior { mean, strength }
    }
}

/// The maximiser of `f` on `[lo, hi]` by golden-section search, for a fixed number of steps
/// (deterministic); the bracket's ends are candidates too.
fn golden_max(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..GOLDEN_STEPS {
        if fc >= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let mid = (a + b) / 2.0;
    let mut best = (f(mid), mid);
    for x in [lo, hi] {
        let v = f(x);
        if v > best.0 {
            best = (v, x);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Beta, Binomial, Distribution};

    #[test]
    fn the_finite_sum_is_the_beta_function_ratio() {
        // n = 3, k = 1, a = 0.5, b = 1.5 (m = 0.25, s = 2):
        // B(1.5, 3.5) / B(0.5, 1.5) = [Γ(1.5)Γ(3.5)/Γ(5)] / [Γ(0.5)Γ(1.5)/Γ(2)]
        // = Γ(3.5)Γ(2) / (Γ(5)Γ(0.5)) = (2.5 * 1.5 * 0.5) * 1 / 24 = 1.875 / 24.
        let mut t = Tally::new();
        t.add(Counts::new(3, 1), 0.25);
        let ll = t.log_likelihood(2.0, None);
        assert!((ll - (1.875f64 / 24.0).ln()).abs() < 1e-12, "{ll}");
    }

    #[test]
    fn posterior_mean_shrinks_by_attempts() {
        assert!((posterior_mean(Counts::new(10, 5), 0.2, 10.0) - 0.35).abs() < 1e-15);
        assert_eq!(posterior_mean(Counts::new(0, 0), 0.2, 10.0), 0.2);
    }

    /// Rates drawn from a known Beta: the fitted mean and strength recover it.
    #[test]
    fn recovers_a_known_prior() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for (m, s) in [(0.2, 8.0), (0.5, 2.0), (0.1, 40.0)] {
            let beta = Beta::new(m * s, (1.0 - m) * s).unwrap();
            let mut t = Tally::new();
            for _ in 0..20_000 {
                let p: f64 = beta.sample(&mut rng);
                let n = rng.random_range(5..40u32);
                let k = Binomial::new(u64::from(n), p).unwrap().sample(&mut rng) as u32;
                t.add(Counts::new(n, k), 0.0);
            }
            let prior = t.fit_prior();
            assert!((prior.mean - m).abs() < 0.01, "mean {} vs {m}", prior.mean);
            assert!(
                (prior.strength / s - 1.0).abs() < 0.12,
                "strength {} vs {s}",
                prior.strength
            );
        }
    }

    /// Units that differ only by chance get a very strong prior (total shrinkage).
    #[test]
    fn identical_units_get_the_strongest_prior() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut t = Tally::new();
        for _ in 0..5_000 {
            let k = Binomial::new(20, 0.3).unwrap().sample(&mut rng) as u32;
            t.add(Counts::new(20, k), 0.3);
        }
        assert!(t.fit_strength() > 500.0, "{}", t.fit_strength());
    }

    #[test]
    fn empty_tally() {
        let t = Tally::new();
        assert_eq!(t.fit_strength(), MAX_STRENGTH);
        assert_eq!(t.fit_prior().mean, 0.5);
        assert_eq!(t.units(), 0);
    }
}
