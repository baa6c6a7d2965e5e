//! The known response model: each client's attributes, channel response rates, contact window
//! and uplift type, drawn from its purchase behaviour and a seed.

use rand::Rng;
use rand::distr::weighted::WeightedIndex;
use rand_distr::{Distribution, StandardNormal};

use crate::contact_truth::{ClientTruth, ClientType};
use crate::contacts_config::{ContactsConfig, Z_CUT};

/// First hour of business (local time); contacts are made in `FIRST_BUSINESS_HOUR..LAST`.
pub(crate) const FIRST_BUSINESS_HOUR: u8 = 9;
/// End (exclusive) of business hours, local time.
pub(crate) const END_BUSINESS_HOUR: u8 = 18;
/// Latest start of a 2-hour window (it ends by `END_BUSINESS_HOUR`).
pub(crate) const LAST_WINDOW_START: u8 = END_BUSINESS_HOUR - 2;
/// Mean NPS score by type (persuadable, sure thing, lost cause, sleeping dog); sd `NPS_SD`.
const NPS_MEAN: [f64; 4] = [6.5, 8.5, 4.5, 7.5];
const NPS_SD: f64 = 2.0;

/// What the response model needs of a client's purchase behaviour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientBase {
    pub(crate) id: i64,
    /// UTC offset of the client's country, hours.
    pub(crate) offset: i8,
    /// The purchase habit's weekday (0 = Monday) and hour, in the log's clock (UTC).
    pub(crate) habit_weekday: u8,
    pub(crate) habit_hour: u8,
    pub(crate) lambda: f64,
    pub(crate) p: f64,
    /// Mean order value, `p_gg / nu`.
    pub(crate) mean_spend: f64,
}

/// Expected purchases of an alive BG/NBD client over `weeks`: `(1 - exp(-lambda p t)) / p`
/// (each purchase comes at rate `lambda`, after each the client dies with probability `p`).
pub(crate) fn expected_purchases(lambda: f64, p: f64, weeks: f64) -> f64 {
    if p > 1e-12 {
        -(-lambda * p * weeks).exp_m1() / p
    } else {
        lambda * weeks
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A standard normal cut at +-`Z_CUT` (redrawn beyond).
fn cut_normal<R: Rng>(rng: &mut R) -> f64 {
    loop {
        let z: f64 = StandardNormal.sample(rng);
        if z.abs() <= Z_CUT {
            return z;
        }
    }
}

/// Picks an index with probability proportional to `weight(i)` among `candidates`, uniformly
/// if their weights sum to 0. `candidates` must be non-empty.
fn pick_weighted<R: Rng>(
    rng: &mut R,
    candidates: &[usize],
    weight: impl Fn(usize) -> f64,
) -> usize {
    let total: f64 = candidates.iter().map(|&c| weight(c)).sum();
    let u = rng.random::<f64>();
    if total <= 0.0 {
        return candidates[((u * candidates.len() as f64) as usize).min(candidates.len() - 1)];
    }
    let mut acc = 0.0;
    let target = u * total;
    for &c in candidates {
        acc += weight(c);
        if target < acc {
            return c;
        }
    }
    *candidates.last().expect("non-empty")
}

/// Draws clients' attributes and true response parameters from a checked config.
pub(crate) struct ClientModel<'a> {
    cfg: &'a ContactsConfig,
    segment_small: WeightedIndex<f64>,
    segment_big: WeightedIndex<f64>,
    horizon_weeks: f64,
}

impl<'a> ClientModel<'a> {
    /// The model of `cfg`, which must have passed `check()`.
    pub(crate) fn new(cfg: &'a ContactsConfig) -> Self {
        Self {
            cfg,
            segment_small: WeightedIndex::new(cfg.segments.iter().map(|s| s.weight))
                .expect("checked weights"),
            segment_big: WeightedIndex::new(cfg.segments.iter().map(|s| s.big_order_weight))
                .expect("checked weights"),
            horizon_weeks: f64::from(cfg.horizon_days) / 7.0,
        }
    }

    /// Draws one client's truth (everything but what the history realises: `alive_at_end`,
    /// `revived`, `killed` are left at `true`, 0, 0). The draws come in a fixed order from
    /// `rng`, which should be the client's own stream.
    pub(crate) fn draw<R: Rng>(&self, base: &ClientBase, rng: &mut R) -> ClientTruth {
        let cfg = self.cfg;
        let n_channels = cfg.channels.len();
        let do_not_contact = rng.random::<f64>() < cfg.do_not_contact;
        let big = base.lambda * base.mean_spend >= cfg.managed_value_per_week;
        let managed = rng.random::<f64>()
            < if big {
                cfg.managed_big
            } else {
                cfg.managed_other
            };
        let account_manager = managed.then(|| rng.random_range(1..=cfg.account_managers));
        let segment = if base.mean_spend >= cfg.big_order_value {
            self.segment_big.sample(rng)
        } else {
            self.segment_small.sample(rng)
        };
        let seg = &cfg.segments[segment];
        // To 3 decimals, as a business would record it.
        let margin = (rng.random_range(seg.margin_min..=seg.margin_max) * 1000.0).round() / 1000.0;

        let mut consent = Vec::with_capacity(n_channels);
        for ch in &cfg.channels {
            let u = rng.random::<f64>();
            consent.push(if ch.managed_only {
                managed
            } else {
                u < ch.consent
            });
        }
        let eligible: Vec<usize> = (0..n_channels)
            .filter(|&c| managed || !cfg.channels[c].managed_only)
            .collect();
        let mut candidates: Vec<usize> = eligible.iter().copied().filter(|&c| consent[c]).collect();
        if candidates.is_empty() {
            candidates = if eligible.is_empty() {
                (0..n_channels).collect()
            } else {
                eligible
            };
        }
        let preferred = pick_weighted(rng, &candidates, |c| seg.preferred[c]);
        let response_rates = (0..n_channels)
            .map(|c| {
                let z = cut_normal(rng);
                let boost = if c == preferred {
                    cfg.preferred_boost
                } else {
                    0.0
                };
                sigmoid(cfg.channels[c].base_logit + seg.shift[c] + boost + cfg.rate_sigma * z)
            })
            .collect();

        // The window: near the purchase habit, read in the client's local time.
        let local = (i32::from(base.habit_weekday) * 24
            + i32::from(base.habit_hour)
            + i32::from(base.offset))
        .rem_euclid(168);
        let (habit_weekday, habit_hour) = ((local / 24) as u8, (local % 24) as f64);
        let same = rng.random::<f64>() < cfg.window_same_weekday;
        let any_weekday = rng.random_range(0..5u8);
        let window_weekday = if same && habit_weekday < 5 {
            habit_weekday
        } else {
            any_weekday
        };
        let z: f64 = StandardNormal.sample(rng);
        let window_start_hour = (habit_hour - 0.5 + cfg.window_hour_spread * z)
            .round()
            .clamp(f64::from(FIRST_BUSINESS_HOUR), f64::from(LAST_WINDOW_START))
            as u8;

        // Who is helped or harmed, from the purchase rate and the mean order value.
        let up = &cfg.uplift;
        let u = rng.random::<f64>();
        let client_type = if base.lambda > up.frequent_rate && base.p < up.sure_thing_p {
            if u < up.dog_frequent {
                ClientType::SleepingDog
            } else {
                ClientType::SureThing
            }
        } else if u < up.dog_other {
            ClientType::SleepingDog
        } else {
            let moderate = base.lambda >= up.moderate_rate;
            let mid = (up.mid_value_min..=up.mid_value_max).contains(&base.mean_spend);
            let share = match (moderate, mid) {
                (true, true) => up.persuadable_both,
                (false, false) => up.persuadable_neither,
                _ => up.persuadable_one,
            } * if base.p >= up.at_risk_p {
                1.0
            } else {
                up.not_at_risk_factor
            };
            if rng.random::<f64>() < share {
                ClientType::Persuadable
            } else if moderate && base.p < up.sure_thing_p {
                ClientType::SureThing
            } else {
                ClientType::LostCause
            }
        };
        let u_save = rng.random_range(up.susceptibility_min..=1.0);
        let v_harm = rng.random_range(up.susceptibility_min..=1.0);
        let s_plus = cfg
            .actions
            .iter()
            .map(|a| {
                if client_type == ClientType::Persuadable {
                    a.save * u_save
                } else {
                    0.0
                }
            })
            .collect();
        let s_minus = cfg
            .actions
            .iter()
            .map(|a| {
                if client_type == ClientType::SleepingDog {
                    a.harm * v_harm
                } else {
                    0.0
                }
            })
            .collect();
        let nps = (rng.random::<f64>() < cfg.nps_share).then(|| {
            let z: f64 = StandardNormal.sample(rng);
            (NPS_MEAN[client_type as usize] + NPS_SD * z)
                .round()
                .clamp(0.0, 10.0) as u8
        });
        let value_if_alive =
            margin * base.mean_spend * expected_purchases(base.lambda, base.p, self.horizon_weeks);
        ClientTruth {
            client_id: base.id,
            consent,
            do_not_contact,
            utc_offset_hours: base.offset,
            account_manager,
            segment,
            margin,
            nps,
            preferred_channel: preferred,
            response_rates,
            window_weekday,
            window_start_hour,
            client_type,
            s_plus,
            s_minus,
            lambda: base.lambda,
            p: base.p,
            mean_spend: base.mean_spend,
            alive_at_end: true,
            value_if_alive,
            revived: 0,
            killed: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn expected_purchases_is_the_bgnbd_alive_mean() {
        // p -> 0: a Poisson process, lambda t.
        assert!((expected_purchases(0.5, 0.0, 10.0) - 5.0).abs() < 1e-12);
        assert!((expected_purchases(0.5, 1e-14, 10.0) - 5.0).abs() < 1e-9);
        // p = 1: the first purchase ends it, P(at least one) = 1 - exp(-lambda t).
        let want = 1.0 - (-5.0_f64).exp();
        assert!((expected_purchases(0.5, 1.0, 10.0) - want).abs() < 1e-12);
        // Brute force: simulate the process.
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (lambda, p, t) = (0.3, 0.2, 13.0);
        let n = 200_000;
        let mut total = 0u64;
        for _ in 0..n {
            let mut now = 0.0;
            loop {
                now += -(1.0 - rng.random::<f64>()).ln() / lambda;
                if now > t {
                    break;
                }
                total += 1;
                if rng.random::<f64>() < p {
                    break;
                }
            }
        }
        let mean = total as f64 / n as f64;
        let want = expected_purchases(lambda, p, t);
        assert!((mean - want).abs() < 0.02, "{mean} vs {want}");
    }

    #[test]
    fn the_preferred_channel_is_always_the_best() {
        let cfg = ContactsConfig::default();
        let model = ClientModel::new(&cfg);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut managed = 0;
        for i in 0..20_000 {
            let base = ClientBase {
                id: i,
                offset: [0, 1, 10][i as usize % 3],
                habit_weekday: rng.random_range(0..7),
                habit_hour: rng.random_range(7..=20),
                lambda: rng.random_range(0.001..0.6),
                p: rng.random_range(0.0..0.3),
                mean_spend: rng.random_range(50.0..2000.0),
            };
            let t = model.draw(&base, &mut rng);
            let best = t.response_rates[t.preferred_channel];
            for (c, &r) in t.response_rates.iter().enumerate() {
                assert!(c == t.preferred_channel || r < best - 0.02, "{t:?}");
            }
            assert!(t.window_weekday < 5);
            assert!((9..=16).contains(&t.window_start_hour));
            let is_managed = t.account_manager.is_some();
            managed += usize::from(is_managed);
            assert_eq!(t.consent[3], is_managed, "meeting consent = managed");
            if t.consent
                .iter()
                .enumerate()
                .any(|(c, &ok)| ok && (c != 3 || is_managed))
            {
                assert!(t.consent[t.preferred_channel], "{t:?}");
            }
        }
        assert!(managed > 0);
    }
}
