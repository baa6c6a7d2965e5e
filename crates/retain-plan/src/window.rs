//! When to reach a client: the best weekday and two-hour window in the client's local time,
//! inside the team's business hours.
//!
//! A window is a weekday and a start hour `h`: `[h:00, h+2:00)` local time, with `h` from the
//! opening hour to two hours before closing. Contacts are counted in one-hour cells (local
//! weekday x local hour); a window's counts are its two cells'.
//!
//! **Answers against expectations.** A client answers some channels far more than others, so
//! raw answer rates per window mostly say which channel was used when. Each contact therefore
//! carries its *expected* answers, the client's estimated rate on its channel
//! ([`crate::channel`]), and a window is judged by the ratio of answers to expected answers
//! there, `theta = K / E` (1 = as usual, 2 = twice as often). Its estimate is empirical Bayes
//! with a gamma prior (the Poisson-gamma model, e.g. Clayton & Kaldor 1987): `K ~
//! Poisson(theta E)`, `theta ~ Gamma(mean rho, strength a)`, so the posterior mean is
//! `(K + a rho) / (E + a)`. `rho` is the segment's ratio in that window (its pooled answers
//! over pooled expectations, itself shrunk the same way toward the population's), and the
//! strengths are estimated from the spread of the windows beyond chance (method of moments,
//! see `fit_strength`).
//!
//! The choice, in order of evidence:
//! 1. **own**: a client with at least [`WindowModel::min_own_responses`] responses gets the
//!    window with the highest estimated ratio;
//! 2. **purchases**: else, the window holding the client's usual purchase time (its
//!    `preferred_weekday` and `preferred_hour`, moved to local time), when that falls on a
//!    business day (the hour is clamped into business hours);
//! 3. **segment**: else, the segment's best window, and the population's when the segment
//!    has none.
//!
//! Ties go to the earlier weekday, then the earlier hour.

use serde::{Deserialize, Serialize};

use crate::channel::Source;

/// The contacts of one hour of the week: how many, how many were answered, and how many
/// answers were expected from the channels used.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    /// Contacts.
    pub attempts: u32,
    /// Answers.
    pub responses: u32,
    /// Expected answers: the sum over the contacts of the client's rate on their channel.
    pub expected: f64,
    /// The variance of the answers if the window were like any other: the sum over the
    /// contacts of `rate x (1 - rate)` (each contact is answered or not).
    pub variance: f64,
}

impl Cell {
    /// Adds another cell.
    pub fn add(&mut self, o: Cell) {
        self.attempts += o.attempts;
        self.responses += o.responses;
        self.expected += o.expected;
        self.variance += o.variance;
    }
}

/// One-hour cells of a week: `[weekday (0 = Monday)][hour]`.
pub type Cells = [[Cell; 24]; 7];

/// An empty week of cells.
pub fn empty_cells() -> Cells {
    [[Cell::default(); 24]; 7]
}

/// Clients whose cells fit the client strength (the first ones with contacts): enough for a
/// stable fit, bounded so the fit costs the same at any scale.
pub const FIT_CLIENTS: usize = 20_000;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The team's business hours, in the client's local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// Working weekdays, 0 = Monday (default Monday to Friday).
    #[serde(default = "default_weekdays")]
    pub weekdays: Vec<u8>,
    /// Opening hour, 0-22 (default 9).
    #[serde(default = "default_open")]
    pub open: u8,
    /// Closing hour, open + 2 to 24 (default 18): the last window starts at `close - 2`.
    #[serde(default = "default_close")]
    pub close: u8,
}

fn default_weekdays() -> Vec<u8> {
    vec![0, 1, 2, 3, 4]
}
fn default_open() -> u8 {
    9
}
fn default_close() -> u8 {
    18
}

impl Default for BusinessHours {
    fn default() -> Self {
        Self {
            weekdays: default_weekdays(),
            open: default_open(),
            close: default_close(),
        }
    }
}

impl BusinessHours {
    /// Refuses hours that leave no two-hour window, or weekdays outside 0-6.
    pub fn check(&self) -> Result<(), String> {
        if self.weekdays.is_empty() || self.weekdays.iter().any(|&d| d > 6) {
            return Err(format!(
                "business hours: weekdays {:?} must be a non-empty list of 0 (Monday) to 6 (Sunday)",
                self.weekdays
            ));
        }
        if self.close > 24 || self.open + 2 > self.close {
            return Err(format!(
                "business hours {}:00-{}:00 leave no two-hour window (open + 2 <= close <= 24)",
                self.open, self.close
            ));
        }
        Ok(())
    }

    /// Every window, weekday by weekday (in `weekdays` order sorted), hour by hour.
    pub fn windows(&self) -> Vec<Window> {
        let mut days = self.weekdays.clone();
        days.sort_unstable();
        days.dedup();
        let mut out = Vec::new();
        for d in days {
            for h in self.open..=self.close - 2 {
                out.push(Window {
                    weekday: d,
                    start: h,
                });
            }
        }
        out
    }
}

/// A two-hour window: a weekday (0 = Monday) and a start hour, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Window {
    /// 0 = Monday.
    pub weekday: u8,
    /// Start hour; the window is `[start, start + 2)`.
    pub start: u8,
}

impl Window {
    /// The window's cells in `cells`, added.
    pub fn counts(self, cells: &Cells) -> Cell {
        let row = &cells[usize::from(self.weekday % 7)];
        let mut c = row[usize::from(self.start.min(23))];
        if self.start < 23 {
            c.add(row[usize::from(self.start + 1)]);
        }
        c
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:02}:00-{:02}:00",
            WEEKDAYS[usize::from(self.weekday % 7)],
            self.start,
            self.start + 2
        )
    }
}

/// A client's window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowChoice {
    /// The window.
    pub window: Window,
    /// Its estimated answer ratio (answers over expected answers; the segment's for a window
    /// from purchase habits).
    pub rate: f64,
    /// What it rests on.
    pub source: Source,
    /// The sentence a retention manager reads.
    pub evidence: String,
}

/// The fitted window model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowModel {
    /// The business hours the windows lie in.
    pub hours: BusinessHours,
    /// The windows, in order.
    pub windows: Vec<Window>,
    /// Per segment, per window: the segment's answer ratio, shrunk toward the population's.
    pub segment_rate: Vec<Vec<f64>>,
    /// Per segment: whether it has any contact in business hours.
    pub segment_has_history: Vec<bool>,
    /// Per window: the population's answer ratio.
    pub population_rate: Vec<f64>,
    /// The strength of the segments' prior.
    pub segment_strength: f64,
    /// The strength with which a client's ratio is shrunk toward its segment's.
    pub client_strength: f64,
    /// Responses a client needs for its own window.
    pub min_own_responses: u32,
}

/// `(K + a m) / (E + a)`.
fn ratio(c: Cell, mean: f64, strength: f64) -> f64 {
    (f64::from(c.responses) + strength * mean) / (c.expected + strength)
}

/// The prior strength `a` by the method of moments (as DerSimonian & Laird 1986 do for
/// between-study variance): each unit (a window of a client, or of a segment) has answers `K`,
/// expectation `E`, binomial variance `V` and prior ratio `m`. If its true ratio varies around
/// `m` with variance `tau2`, `K - m E` has variance `E^2 tau2 + m V`, so
/// `tau2 = sum((K - m E)^2 - m V) / sum(E^2)`, and a gamma prior of mean `m` and variance
/// `tau2` has strength `a = m / tau2` (`m` averaged with weights `E^2`). Answers are 0 or 1
/// per contact, so their spread is binomial, narrower than the Poisson's: a likelihood fit on
/// Poisson counts would take that for the absence of any difference between windows.
/// Clamped to `[0.05, 1e5]`; the strongest when the units show no spread beyond chance.
fn fit_strength(units: &[(u32, f64, f64, f64)]) -> f64 {
    let (mut num, mut den, mut mw) = (0.0, 0.0, 0.0);
    for &(k, e, v, m) in units {
        let d = f64::from(k) - m * e;
        num += d * d - m * v;
        den += e * e;
        mw += m * e * e;
    }
    if den <= 0.0 || num <= 0.0 {
        return 1.0e5;
    }
    let tau2 = num / den;
    (mw / den / tau2).clamp(0.05, 1.0e5)
}

impl WindowModel {
    /// Fits the segment profiles and the shrinkage strengths: `pooled` holds each segment's
    /// cells (every client's added; its length is the number of segments) and `clients`
    /// yields each client's segment and cells for the strength (the first
    /// [`FIT_CLIENTS`] with contacts are used).
    pub fn fit<I>(
        hours: BusinessHours,
        pooled: Vec<Cells>,
        min_own_responses: u32,
        clients: I,
    ) -> Result<Self, String>
    where
        I: Iterator<Item = (usize, Cells)>,
    {
        hours.check()?;
        let windows = hours.windows();
        let mut all = empty_cells();
        for p in &pooled {
            for d in 0..7 {
                for h in 0..24 {
                    all[d][h].add(p[d][h]);
                }
            }
        }
        let population_rate: Vec<f64> = windows
            .iter()
            .map(|w| {
                let c = w.counts(&all);
                if c.expected > 0.0 {
                    f64::from(c.responses) / c.expected
                } else {
                    1.0
                }
            })
            .collect();
        // Segments' ratios, shrunk toward the population's.
        let seg_units: Vec<(u32, f64, f64, f64)> = pooled
            .iter()
            .flat_map(|p| {
                windows
                    .iter()
                    .enumerate()
                    .map(|(wi, w)| (w.counts(p), population_rate[wi]))
                    .filter(|(c, _)| c.expected > 0.0)
                    .map(|(c, m)| (c.responses, c.expected, c.variance, m))
                    .collect::<Vec<_>>()
            })
            .collect();
        let segment_strength = fit_strength(&seg_units);
        let segment_rate: Vec<Vec<f64>> = pooled
            .iter()
            .map(|p| {
                windows
                    .iter()
                    .enumerate()
                    .map(|(wi, w)| ratio(w.counts(p), population_rate[wi], segment_strength))
                    .collect()
            })
            .collect();
        let segment_has_history = pooled
            .iter()
            .map(|p| windows.iter().any(|w| w.counts(p).attempts > 0))
            .collect();
        // The clients' strength, on every window of the first clients with contacts
        // (overlapping windows count a cell twice, which weighs every cell alike; a client's
        // own window then always lies whole in one unit).
        let mut units: Vec<(u32, f64, f64, f64)> = Vec::new();
        let mut fitted = 0;
        for (s, cells) in clients {
            if fitted >= FIT_CLIENTS {
                break;
            }
            let before = units.len();
            for (wi, w) in windows.iter().enumerate() {
                let c = w.counts(&cells);
                if c.expected > 0.0 {
                    let m = segment_rate.get(s).map_or(population_rate[wi], |r| r[wi]);
                    units.push((c.responses, c.expected, c.variance, m));
                }
            }
            fitted += usize::from(units.len() > before);
        }
        let client_strength = fit_strength(&units);
        Ok(Self {
            hours,
            windows,
            segment_rate,
            segment_has_history,
            population_rate,
            segment_strength,
            client_strength,
            min_own_responses,
        })
    }

    fn prior(&self, segment: usize) -> &[f64] {
        match self.segment_rate.get(segment) {
            Some(r) if self.segment_has_history[segment] => r,
            _ => &self.population_rate,
        }
    }

    fn argmax(&self, rates: impl Iterator<Item = f64>) -> (usize, f64) {
        let mut best = (0, f64::NEG_INFINITY);
        for (i, r) in rates.enumerate() {
            if r > best.1 {
                best = (i, r);
            }
        }
        best
    }

    /// The window of a client of `segment` with `cells` (its contacts in business hours,
    /// local time) and, if known, its usual purchase weekday and hour (local time).
    pub fn choose(
        &self,
        segment: usize,
        cells: &Cells,
        purchase_habit: Option<(u8, u8)>,
    ) -> WindowChoice {
        let prior = self.prior(segment);
        let mut own = Cell::default();
        for d in &self.hours.weekdays {
            for h in self.hours.open..self.hours.close {
                own.add(cells[usize::from(*d % 7)][usize::from(h.min(23))]);
            }
        }
        if own.responses >= self.min_own_responses {
            let (wi, rate) = self.argmax(
                self.windows
                    .iter()
                    .enumerate()
                    .map(|(wi, w)| ratio(w.counts(cells), prior[wi], self.client_strength)),
            );
            let w = self.windows[wi];
            let k = w.counts(cells);
            let evidence = if k.attempts > 0 {
                format!(
                    "answered {} of {} contacts on {w} (local), {} of {} at other times",
                    k.responses,
                    k.attempts,
                    own.responses - k.responses,
                    own.attempts - k.attempts
                )
            } else {
                format!(
                    "answered {} of {} contacts, none yet on {w} (local), when its segment \
                     answers best",
                    own.responses, own.attempts
                )
            };
            return WindowChoice {
                window: w,
                rate,
                source: Source::Own,
                evidence,
            };
        }
        if let Some((d, h)) = purchase_habit
            && self.hours.weekdays.contains(&d)
        {
            let start = h.clamp(self.hours.open, self.hours.close - 2);
            let w = Window { weekday: d, start };
            let wi = self.windows.iter().position(|x| *x == w).unwrap_or(0);
            return WindowChoice {
                window: w,
                rate: prior[wi],
                source: Source::Purchases,
                evidence: format!(
                    "usually orders on {} around {h:02}:00 (local)",
                    WEEKDAYS[usize::from(d % 7)]
                ),
            };
        }
        let (wi, rate) = self.argmax(prior.iter().copied());
        let w = self.windows[wi];
        let seg_known = self
            .segment_has_history
            .get(segment)
            .copied()
            .unwrap_or(false);
        WindowChoice {
            window: w,
            rate,
            source: if seg_known {
                Source::Segment
            } else {
                Source::Population
            },
            evidence: format!(
                "no response history: {} answer best on {w}",
                if seg_known {
                    "clients of its segment"
                } else {
                    "clients"
                }
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_of_the_default_hours() {
        let h = BusinessHours::default();
        let w = h.windows();
        assert_eq!(w.len(), 5 * 8);
        assert_eq!(w[0].to_string(), "Mon 09:00-11:00");
        assert_eq!(w[39].to_string(), "Fri 16:00-18:00");
        assert!(
            BusinessHours {
                weekdays: vec![0],
                open: 9,
                close: 10
            }
            .check()
            .is_err()
        );
    }

    fn cells_with(hits: &[(u8, u8, u32, u32)]) -> Cells {
        let mut c = empty_cells();
        for &(d, h, n, k) in hits {
            c[usize::from(d)][usize::from(h)] = Cell {
                attempts: n,
                responses: k,
                expected: 0.2 * f64::from(n),
                variance: 0.16 * f64::from(n),
            };
        }
        c
    }

    #[test]
    fn own_responses_pick_the_window_then_habits_then_segment() {
        // Everybody is contacted once in every business hour and answers in its own
        // window (and at random hours now and then); a fifth of segment 0 answers on
        // Wednesday 14-16, the others spread over the week.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut clients = Vec::new();
        for i in 0..300u32 {
            let (wd, wh) = if i % 5 == 0 {
                (2, 14)
            } else {
                (i % 5, 9 + (i % 8))
            };
            let mut c = empty_cells();
            for d in 0..5u32 {
                for h in 9..18u32 {
                    let hit = (d == wd && (h == wh || h == wh + 1)) || rng.random_bool(0.1);
                    c[d as usize][h as usize] = Cell {
                        attempts: 1,
                        responses: u32::from(hit),
                        expected: 0.2,
                        variance: 0.16,
                    };
                }
            }
            clients.push((0usize, c));
        }
        let mut pooled = vec![empty_cells()];
        for (_, c) in &clients {
            for d in 0..7 {
                for h in 0..24 {
                    pooled[0][d][h].add(c[d][h]);
                }
            }
        }
        let m =
            WindowModel::fit(BusinessHours::default(), pooled, 3, clients.iter().cloned()).unwrap();
        // a client with its own pattern: Tuesday 10-12, answered 5 of 6 there
        let own = cells_with(&[(1, 10, 3, 3), (1, 11, 3, 2), (2, 14, 2, 0), (2, 15, 2, 0)]);
        let c = m.choose(0, &own, None);
        assert_eq!(
            (c.window.to_string(), c.source),
            ("Tue 10:00-12:00".into(), Source::Own)
        );
        assert!(
            c.evidence
                .starts_with("answered 5 of 6 contacts on Tue 10:00-12:00")
        );
        // too few responses: its purchase habit, clamped into business hours
        let thin = cells_with(&[(1, 10, 3, 1)]);
        let p = m.choose(0, &thin, Some((4, 20)));
        assert_eq!(
            (p.window.to_string(), p.source),
            ("Fri 16:00-18:00".into(), Source::Purchases)
        );
        // no habit on a business day: the segment's best window
        let s = m.choose(0, &thin, Some((6, 12)));
        assert_eq!(
            (s.window.to_string(), s.source),
            ("Wed 14:00-16:00".into(), Source::Segment)
        );
        // an unknown segment: the population's
        assert_eq!(m.choose(5, &empty_cells(), None).source, Source::Population);
    }
}
