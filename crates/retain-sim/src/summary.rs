//! Customer-level summaries `(x, t_x, T, monetary)` drawn straight from the models.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::process::{BgNbdSampler, ParetoNbdSampler, SpendSampler};
use crate::truth::{BgNbdTruth, GammaGammaTruth, ParetoNbdTruth};

/// One client's RFM summary in the vocabulary of `lifetimes`, time in **weeks**.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RfmSummary {
    /// Number of repeat purchases (`frequency`).
    pub x: f64,
    /// Time of the last repeat purchase after the first purchase (`recency`); 0 if `x == 0`.
    pub t_x: f64,
    /// Age: time between the first purchase and the end of observation (`T`).
    pub big_t: f64,
    /// Mean spend of the `x` repeat purchases (`monetary_value`); 0 if `x == 0`.
    pub monetary: f64,
}

/// Accumulates one client's repeat purchases into a summary.
#[derive(Default)]
struct Acc {
    x: u64,
    t_x: f64,
    spend: f64,
}

impl Acc {
    fn finish(self, big_t: f64) -> RfmSummary {
        let x = self.x as f64;
        let monetary = if self.x > 0 { self.spend / x } else { 0.0 };
        RfmSummary {
            x,
            t_x: self.t_x,
            big_t,
            monetary,
        }
    }
}

fn check_inputs(gg: &GammaGammaTruth, ages_weeks: &[f64]) {
    if let Err(e) = gg.check() {
        panic!("{e}");
    }
    if let Some((i, age)) = ages_weeks
        .iter()
        .enumerate()
        .find(|(_, a)| !(a.is_finite() && **a >= 0.0))
    {
        panic!("ages_weeks[{i}] = {age}: must be finite and >= 0");
    }
}

/// Simulates one BG/NBD summary per entry of `ages_weeks` (Fader, Hardie & Lee 2005).
///
/// Client `i` makes its first purchase at time 0 and is observed for `ages_weeks[i]` weeks.
/// Its rate is `lambda ~ Gamma(shape r, rate alpha)` and its drop-out probability
/// `p ~ Beta(a, b)`; while alive it buys as a Poisson process of rate `lambda`, and after each
/// repeat purchase it drops out with probability `p`. Each repeat purchase's spend is drawn from
/// the Gamma-Gamma model `gg` (`nu ~ Gamma(q, rate gamma)`, `z ~ Gamma(p, rate nu)`).
///
/// | Name | Purpose | Range |
/// |---|---|---|
/// | `truth` | the BG/NBD parameters, weeks | all finite and > 0 |
/// | `gg` | the Gamma-Gamma spend parameters | all finite and > 0 |
/// | `ages_weeks` | observation length of each client, weeks | each finite and >= 0 |
/// | `seed` | seed of the ChaCha8 stream; same seed, same output, bit for bit | any |
///
/// Client `i`'s draws depend only on the seed and on `ages_weeks[..=i]`.
///
/// # Panics
/// If a parameter fails [`BgNbdTruth::check`] / [`GammaGammaTruth::check`] or an age is
/// negative or not finite (the message names it).
pub fn simulate_bgnbd_summaries(
    truth: &BgNbdTruth,
    gg: &GammaGammaTruth,
    ages_weeks: &[f64],
    seed: u64,
) -> Vec<RfmSummary> {
    if let Err(e) = truth.check() {
        panic!("{e}");
    }
    check_inputs(gg, ages_weeks);
    let model = BgNbdSampler::new(truth);
    let spend = SpendSampler::new(gg);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ages_weeks
        .iter()
        .map(|&age| {
            let (lambda, p) = model.draw_client(&mut rng);
            let nu = spend.draw_nu(&mut rng);
            let mut acc = Acc::default();
            BgNbdSampler::repeat_purchases(&mut rng, lambda, p, age, |t, rng| {
                acc.x += 1;
                acc.t_x = t;
                acc.spend += spend.draw_spend(rng, nu);
            });
            acc.finish(age)
        })
        .collect()
}

/// Simulates one Pareto/NBD summary per entry of `ages_weeks` (Schmittlein, Morrison & Colombo 1987).
///
/// Client `i` makes its first purchase at time 0 and is observed for `ages_weeks[i]` weeks.
/// Its rate is `lambda ~ Gamma(shape r, rate alpha)`, its drop-out rate `mu ~ Gamma(shape s,
/// rate beta)` and its lifetime `~ Exp(mu)`; it buys as a Poisson process of rate `lambda`
/// until the lifetime ends. Spends follow the Gamma-Gamma model `gg`, as in
/// [`simulate_bgnbd_summaries`].
///
/// | Name | Purpose | Range |
/// |---|---|---|
/// | `truth` | the Pareto/NBD parameters, weeks | all finite and > 0 |
/// | `gg` | the Gamma-Gamma spend parameters | all finite and > 0 |
/// | `ages_weeks` | observation length of each client, weeks | each finite and >= 0 |
/// | `seed` | seed of the ChaCha8 stream; same seed, same output, bit for bit | any |
///
/// # Panics
/// If a parameter fails [`ParetoNbdTruth::check`] / [`GammaGammaTruth::check`] or an age is
/// negative or not finite (the message names it).
pub fn simulate_pareto_nbd_summaries(
    truth: &ParetoNbdTruth,
    gg: &GammaGammaTruth,
    ages_weeks: &[f64],
    seed: u64,
) -> Vec<RfmSummary> {
    if let Err(e) = truth.check() {
        panic!("{e}");
    }
    check_inputs(gg, ages_weeks);
    let model = ParetoNbdSampler::new(truth);
    let spend = SpendSampler::new(gg);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ages_weeks
        .iter()
        .map(|&age| {
            let (lambda, lifetime) = model.draw_client(&mut rng);
            let nu = spend.draw_nu(&mut rng);
            let mut acc = Acc::default();
            ParetoNbdSampler::repeat_purchases(&mut rng, lambda, lifetime, age, |t, rng| {
                acc.x += 1;
                acc.t_x = t;
                acc.spend += spend.draw_spend(rng, nu);
            });
            acc.finish(age)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theory::{bgnbd_expected_x, bgnbd_p_zero, mean_se, pareto_expected_x};

    /// The published CDNOW fit (FHL 2005, section 5), weeks.
    const CDNOW: BgNbdTruth = BgNbdTruth {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    const GG: GammaGammaTruth = GammaGammaTruth {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    };
    const N: usize = 20_000;

    /// Asserts |sample - theory| < 4 standard errors (and prints nothing).
    fn assert_within(what: &str, (mean, se): (f64, f64), theory: f64) {
        assert!(
            (mean - theory).abs() < 4.0 * se,
            "{what}: simulated {mean:.5} +/- {se:.5} vs theory {theory:.5}"
        );
    }

    #[test]
    fn bgnbd_mean_x_and_zero_share_match_theory() {
        for truth in [
            CDNOW,
            BgNbdTruth::default(),
            BgNbdTruth {
                r: 1.5,
                alpha: 8.0,
                a: 2.0,
                b: 6.0,
            },
        ] {
            for (k, t) in [5.0, 39.0, 78.0].into_iter().enumerate() {
                let sims = simulate_bgnbd_summaries(&truth, &GG, &vec![t; N], 7 + k as u64);
                let x = mean_se(sims.iter().map(|s| s.x));
                assert_within(
                    &format!("E[X({t})] {truth:?}"),
                    x,
                    bgnbd_expected_x(&truth, t),
                );
                let zero = mean_se(sims.iter().map(|s| f64::from(u8::from(s.x == 0.0))));
                assert_within(
                    &format!("P(X({t})=0) {truth:?}"),
                    zero,
                    bgnbd_p_zero(&truth, t),
                );
            }
        }
    }

    #[test]
    fn bgnbd_mixed_ages_match_theory() {
        let ages: Vec<f64> = (0..N).map(|i| 1.0 + (i % 104) as f64).collect();
        let truth = BgNbdTruth::default();
        let sims = simulate_bgnbd_summaries(&truth, &GG, &ages, 3);
        let theory_x = ages
            .iter()
            .map(|&t| bgnbd_expected_x(&truth, t))
            .sum::<f64>()
            / N as f64;
        assert_within(
            "mean x, mixed ages",
            mean_se(sims.iter().map(|s| s.x)),
            theory_x,
        );
        let theory_0 = ages.iter().map(|&t| bgnbd_p_zero(&truth, t)).sum::<f64>() / N as f64;
        let zero = mean_se(sims.iter().map(|s| f64::from(u8::from(s.x == 0.0))));
        assert_within("share x = 0, mixed ages", zero, theory_0);
    }

    #[test]
    fn summaries_are_consistent() {
        let ages: Vec<f64> = (0..5_000).map(|i| (i % 60) as f64 * 1.3).collect();
        let bg = simulate_bgnbd_summaries(&BgNbdTruth::default(), &GG, &ages, 1);
        let pn = simulate_pareto_nbd_summaries(&ParetoNbdTruth::default(), &GG, &ages, 1);
        for sims in [bg, pn] {
            assert_eq!(sims.len(), ages.len());
            for (s, &age) in sims.iter().zip(&ages) {
                assert_eq!(s.big_t, age);
                assert!(s.x >= 0.0 && s.x.fract() == 0.0);
                assert!(s.t_x >= 0.0 && s.t_x <= s.big_t);
                assert_eq!(s.x == 0.0, s.t_x == 0.0, "{s:?}");
                assert_eq!(s.x == 0.0, s.monetary == 0.0, "{s:?}");
                assert!(s.monetary >= 0.0 && s.monetary.is_finite());
            }
            assert!(sims.iter().any(|s| s.x > 0.0));
        }
    }

    #[test]
    fn gamma_gamma_mean_spend_matches_theory() {
        let gg = GammaGammaTruth::default();
        let truth = BgNbdTruth {
            r: 2.0,
            alpha: 2.0,
            a: 1.0,
            b: 20.0,
        };
        let sims = simulate_bgnbd_summaries(&truth, &gg, &vec![52.0; N], 11);
        // E[mean spend | nu] = p / nu, and E[1 / nu] = gamma / (q - 1): every buyer's mean spend
        // is an unbiased draw of p * gamma / (q - 1) = 288, whatever its x.
        let m = mean_se(sims.iter().filter(|s| s.x > 0.0).map(|s| s.monetary));
        assert_within("mean spend", m, gg.mean_spend());
        assert!((gg.mean_spend() - 288.0).abs() < 1e-9);
        // Clients with many purchases: their mean spend is close to p / nu, so its spread across
        // clients is that of p / nu, whose variance is p^2 gamma^2 / ((q-1)^2 (q-2)).
        let heavy: Vec<f64> = sims
            .iter()
            .filter(|s| s.x >= 60.0)
            .map(|s| s.monetary)
            .collect();
        assert!(heavy.len() > 1_000, "{} heavy buyers", heavy.len());
        let (mu, _) = mean_se(heavy.iter().copied());
        let sd = (heavy.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / heavy.len() as f64).sqrt();
        let (p, q, g) = (gg.p, gg.q, gg.gamma);
        let sd_nu = p * g / ((q - 1.0) * (q - 2.0).sqrt());
        assert!(
            (sd / sd_nu - 1.0).abs() < 0.15,
            "sd of mean spend {sd:.1} vs {sd_nu:.1}"
        );
    }

    #[test]
    fn pareto_nbd_mean_x_matches_theory() {
        for truth in [
            ParetoNbdTruth::default(),
            // Fader & Hardie's CDNOW Pareto/NBD fit (weeks).
            ParetoNbdTruth {
                r: 0.553,
                alpha: 10.58,
                s: 0.606,
                beta: 11.67,
            },
            ParetoNbdTruth {
                r: 2.0,
                alpha: 6.0,
                s: 1.5,
                beta: 20.0,
            },
        ] {
            for t in [10.0, 39.0, 104.0] {
                let sims = simulate_pareto_nbd_summaries(&truth, &GG, &vec![t; N], 5);
                let x = mean_se(sims.iter().map(|s| s.x));
                assert_within(
                    &format!("E[X({t})] {truth:?}"),
                    x,
                    pareto_expected_x(&truth, t),
                );
            }
        }
    }

    #[test]
    fn same_seed_same_bits_other_seed_differs() {
        let ages: Vec<f64> = (0..2_000).map(|i| (i % 80) as f64).collect();
        let bits = |v: &[RfmSummary]| -> Vec<u64> {
            v.iter()
                .flat_map(|s| [s.x, s.t_x, s.big_t, s.monetary].map(f64::to_bits))
                .collect()
        };
        let t = BgNbdTruth::default();
        let a = simulate_bgnbd_summaries(&t, &GG, &ages, 42);
        let b = simulate_bgnbd_summaries(&t, &GG, &ages, 42);
        let c = simulate_bgnbd_summaries(&t, &GG, &ages, 43);
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(bits(&a), bits(&c));
        let p = ParetoNbdTruth::default();
        let a = simulate_pareto_nbd_summaries(&p, &GG, &ages, 42);
        let b = simulate_pareto_nbd_summaries(&p, &GG, &ages, 42);
        let c = simulate_pareto_nbd_summaries(&p, &GG, &ages, 43);
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(bits(&a), bits(&c));
        // A prefix of the ages gives a prefix of the output.
        assert_eq!(
            bits(&a[..100]),
            bits(&simulate_pareto_nbd_summaries(&p, &GG, &ages[..100], 42))
        );
    }

    #[test]
    fn zero_age_means_no_repeat() {
        let sims = simulate_bgnbd_summaries(&CDNOW, &GG, &[0.0; 100], 9);
        assert!(sims.iter().all(|s| s.x == 0.0 && s.monetary == 0.0));
        assert!(simulate_bgnbd_summaries(&CDNOW, &GG, &[], 9).is_empty());
    }

    #[test]
    #[should_panic(expected = "bgnbd.alpha")]
    fn bad_truth_panics_naming_the_field() {
        let t = BgNbdTruth {
            alpha: -1.0,
            ..CDNOW
        };
        simulate_bgnbd_summaries(&t, &GG, &[1.0], 0);
    }

    #[test]
    #[should_panic(expected = "ages_weeks[1]")]
    fn bad_age_panics_naming_the_index() {
        simulate_pareto_nbd_summaries(&ParetoNbdTruth::default(), &GG, &[1.0, f64::NAN], 0);
    }

    #[test]
    fn truths_round_trip_through_json() {
        let t = BgNbdTruth::default();
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<BgNbdTruth>(&s).unwrap(), t);
        let p = ParetoNbdTruth::default();
        assert_eq!(
            serde_json::from_str::<ParetoNbdTruth>(&serde_json::to_string(&p).unwrap()).unwrap(),
            p
        );
        let g = GammaGammaTruth::default();
        assert_eq!(
            serde_json::from_str::<GammaGammaTruth>(&serde_json::to_string(&g).unwrap()).unwrap(),
            g
        );
        let r = RfmSummary {
            x: 2.0,
            t_x: 3.5,
            big_t: 10.0,
            monetary: 12.25,
        };
        assert_eq!(
            serde_json::from_str::<RfmSummary>(&serde_json::to_string(&r).unwrap()).unwrap(),
            r
        );
    }
}
