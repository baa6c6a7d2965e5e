//! RFM quintile scores, the named segments of the recency x frequency map, key clients and
//! the revenue concentration curve.
//!
//! Everything works on plain slices, one entry per client, in the caller's order: `client_ids`
//! is used to break ties and to name a client in an error, never to look anything up.
//!
//! # RFM scores
//!
//! Each client gets three scores in `1..=5`: R (recency, days since the last purchase: the
//! more recent, the **higher** the score, 5 = most recent), F (frequency: number of
//! purchases, as the caller counts them) and M (monetary: revenue, may be `<= 0`); for F and
//! M a higher value gives a higher score.
//!
//! **Cut points.** [`RfmCuts::fit`] computes, for each of the three fields, the quantiles at
//! 20, 40, 60 and 80 % of the values of the clients given, with the *linear* quantile
//! definition (Hyndman & Fan type 7; numpy's default `method="linear"`, pandas'
//! `Series.quantile` default): with the `n` values sorted ascending `x_0 <= ... <= x_{n-1}`,
//! the quantile at level `k/5` lies at the position `h = (n - 1) k / 5` and is
//! `x_{floor h} + (h - floor h) (x_{floor h + 1} - x_{floor h})`. The position is computed
//! in integers, so it is exact: `floor h = (n - 1) k div 5` and
//! `h - floor h = ((n - 1) k mod 5) / 5`.
//! The cut points are written out ([`RfmCuts`], serde) so that new clients can be scored
//! against the same cuts ([`RfmCuts::score`]).
//!
//! **Scores.** With the four cuts `c_1 <= c_2 <= c_3 <= c_4` of a field, a value `v` falls in
//! the bin `b = #{j : v > c_j}` in `0..=4`: the bins are the right-closed intervals
//! `(-inf, c_1], (c_1, c_2], (c_2, c_3], (c_3, c_4], (c_4, +inf)`, so **a value equal to a cut
//! point goes to the lower bin** (the bin below the cut). F and M score `1 + b`; R scores
//! `5 - b` (a recency equal to a cut goes to the more recent side, the higher score).
//!
//! **Ties.** The score is a function of the value alone, so tied values always get the same
//! score and the quintiles may be uneven, or some scores absent: when 60 % of the clients
//! bought once, the cuts at 20, 40 and 60 % are all 1, every one-time buyer scores F = 1 and
//! the next score present is F = 4 or 5. This is the price of never splitting equal clients
//! (a rank-based split, pandas' `qcut` on `rank(method="first")`, would give equal clients
//! different scores by their row order). Everything is deterministic.
//!
//! # Segments
//!
//! The ten segments are those of the widely used recency x frequency grid of RFM
//! segmentation (as in the marketing tools' "RFM segments" maps and the open RFM notebooks'
//! map `[1-2][1-2]` hibernating, `[1-2][3-4]` at risk, `[1-2]5` can't lose, `3[1-2]` about to
//! sleep, `33` need attention, `[3-4][4-5]` loyal, `41` promising, `51` new, `[4-5][2-3]`
//! potential loyalists, `5[4-5]` champions). M is not used by the map. Every cell maps to
//! exactly one segment ([`Segment::from_rf`]):
//!
//! | R \ F | 1 | 2 | 3 | 4 | 5 |
//! |---|---|---|---|---|---|
//! | 5 | new | potential_loyalists | potential_loyalists | champions | champions |
//! | 4 | promising | potential_loyalists | potential_loyalists | loyal | loyal |
//! | 3 | about_to_sleep | about_to_sleep | need_attention | loyal | loyal |
//! | 2 | hibernating | hibernating | at_risk | at_risk | cant_lose |
//! | 1 | hibernating | hibernating | at_risk | at_risk | cant_lose |
//!
//! # Key clients and concentration
//!
//! [`key_clients`] flags the smallest set of clients whose value reaches a share (default
//! [`DEFAULT_KEY_SHARE`] = 0.8) of the total; [`concentration_curve`] gives the descending
//! Lorenz-style curve (share of clients, cumulative share of value) and the Gini of the
//! values. Both count a client's value by its positive part: a client with value `<= 0` is
//! never key and adds nothing to the total. The same functions serve revenue over a period
//! and predicted CLV. They live in `retain_eval::concentration` (the outreach list and the
//! KPIs use them too) and are re-exported here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use retain_eval::concentration::{
    ConcentrationCurve, CurvePoint, DEFAULT_CURVE_POINTS, DEFAULT_KEY_SHARE, KeyClients,
    concentration_curve, key_clients,
};

/// Why scores, key clients or a curve could not be computed. Every variant names the
/// offending input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SegmentError {
    /// Two inputs that must be aligned (one entry per client) have different lengths.
    #[error("length mismatch: `{what}` has {got} entries, expected {expected} (one per client)")]
    LengthMismatch {
        /// The input whose length is wrong.
        what: &'static str,
        /// The number of clients (the length of `client_ids`).
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// A value is NaN or infinite.
    #[error("client {client_id}: `{field}` is not finite ({value})")]
    NonFinite {
        /// The client holding the value.
        client_id: i64,
        /// The field (`recency_days`, `frequency`, `monetary`, `value`).
        field: &'static str,
        /// The value itself.
        value: f64,
    },
    /// A value that cannot be negative is negative.
    #[error("client {client_id}: `{field}` is negative ({value})")]
    Negative {
        /// The client holding the value.
        client_id: i64,
        /// The field (`recency_days`, `frequency`).
        field: &'static str,
        /// The value itself.
        value: f64,
    },
    /// The key-client share is outside `(0, 1]`.
    #[error("key-client share {0} is outside (0, 1]")]
    InvalidShare(f64),
    /// There is no client, and the statistic needs at least one.
    #[error("no client: {0} needs at least one")]
    Empty(&'static str),
    /// A parameter is invalid.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Saved cut points are not finite or not non-decreasing.
    #[error("invalid {field} cut points {cuts:?}: {reason}")]
    InvalidCuts {
        /// The field of the cuts (`recency`, `frequency`, `monetary`).
        field: &'static str,
        /// The cuts found.
        cuts: [f64; 4],
        /// What is wrong with them.
        reason: &'static str,
    },
    /// A segment name is not one of the ten.
    #[error(
        "unknown segment `{0}`; expected one of: champions, loyal, potential_loyalists, new, promising, need_attention, about_to_sleep, at_risk, cant_lose, hibernating"
    )]
    UnknownSegment(String),
    /// An R or F score is outside `1..=5`.
    #[error("{field} score {score} is outside 1..=5")]
    ScoreOutOfRange {
        /// `r` or `f`.
        field: &'static str,
        /// The score found.
        score: u8,
    },
}

fn check_len(what: &'static str, expected: usize, got: usize) -> Result<(), SegmentError> {
    if expected == got {
        Ok(())
    } else {
        Err(SegmentError::LengthMismatch {
            what,
            expected,
            got,
        })
    }
}

fn check_finite(field: &'static str, ids: &[i64], values: &[f64]) -> Result<(), SegmentError> {
    match values.iter().zip(ids).find(|(v, _)| !v.is_finite()) {
        Some((&value, &client_id)) => Err(SegmentError::NonFinite {
            client_id,
            field,
            value,
        }),
        None => Ok(()),
    }
}

fn check_non_negative(
    field: &'static str,
    ids: &[i64],
    values: &[f64],
) -> Result<(), SegmentError> {
    match values.iter().zip(ids).find(|(v, _)| **v < 0.0) {
        Some((&value, &client_id)) => Err(SegmentError::Negative {
            client_id,
            field,
            value,
        }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// RFM scores
// ---------------------------------------------------------------------------------------------

/// The linear (type 7) quantile at level `k / 5` of `sorted` (ascending, finite, non-empty).
///
/// The position `(n - 1) k / 5` is split exactly in integers; the interpolation is written as
/// `x0 (1 - t) + x1 t` (it cannot overflow) and clamped to `[x0, x1]` against rounding, so the
/// result equals `x0` exactly when `x0 = x1` (ties give exact cut points).
fn quantile_fifth(sorted: &[f64], k: usize) -> f64 {
    let pos = (sorted.len() - 1) * k;
    let (lo, rem) = (pos / 5, pos % 5);
    let x0 = sorted[lo];
    if rem == 0 {
        return x0;
    }
    let x1 = sorted[lo + 1];
    let t = rem as f64 / 5.0;
    (x0 * (1.0 - t) + x1 * t).clamp(x0, x1)
}

fn cuts_of(values: &[f64]) -> [f64; 4] {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let mut cuts = [0.0; 4];
    for (j, cut) in cuts.iter_mut().enumerate() {
        // `+ 0.0` turns a `-0.0` into `0.0`, so that saved cuts read the same.
        *cut = quantile_fifth(&sorted, j + 1) + 0.0;
    }
    cuts
}

/// The bin `#{j : v > c_j}` in `0..=4`: a value equal to a cut goes to the lower bin. NaN
/// falls in bin 0.
fn bin(v: f64, cuts: &[f64; 4]) -> u8 {
    cuts.iter().filter(|&&c| v > c).count() as u8
}

/// The cut points of the three RFM fields: the quantiles at 20, 40, 60 and 80 % (see the
/// module documentation for the quantile definition and the side a tie goes to).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RfmCuts {
    /// Cut points of the recency in days (ascending).
    pub recency: [f64; 4],
    /// Cut points of the frequency (ascending).
    pub frequency: [f64; 4],
    /// Cut points of the monetary value (ascending).
    pub monetary: [f64; 4],
}

/// The R, F and M scores of one client, each in `1..=5` (5 = most recent, most frequent,
/// highest revenue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RfmScore {
    /// Recency score: 5 = most recent.
    pub r: u8,
    /// Frequency score: 5 = most frequent.
    pub f: u8,
    /// Monetary score: 5 = highest revenue.
    pub m: u8,
}

impl RfmScore {
    /// The segment of the (R, F) cell (see the module's table). Scores outside `1..=5`, which
    /// only a hand-built score can hold, are clamped into it.
    pub fn segment(&self) -> Segment {
        segment_of(self.r.clamp(1, 5), self.f.clamp(1, 5))
    }

    /// The usual three-digit code, e.g. `"545"` for R = 5, F = 4, M = 5.
    pub fn code(&self) -> String {
        format!("{}{}{}", self.r, self.f, self.m)
    }
}

/// Cut points and the scores of the clients they were fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rfm {
    /// The cut points, to score new clients later.
    pub cuts: RfmCuts,
    /// One score per client, in the caller's order.
    pub scores: Vec<RfmScore>,
}

/// Checks the four RFM inputs: equal lengths, all finite, recency and frequency `>= 0`.
fn check_rfm_inputs(
    client_ids: &[i64],
    recency_days: &[f64],
    frequency: &[f64],
    monetary: &[f64],
) -> Result<(), SegmentError> {
    let n = client_ids.len();
    check_len("recency_days", n, recency_days.len())?;
    check_len("frequency", n, frequency.len())?;
    check_len("monetary", n, monetary.len())?;
    check_finite("recency_days", client_ids, recency_days)?;
    check_finite("frequency", client_ids, frequency)?;
    check_finite("monetary", client_ids, monetary)?;
    check_non_negative("recency_days", client_ids, recency_days)?;
    check_non_negative("frequency", client_ids, frequency)
}

fn check_cuts(field: &'static str, cuts: [f64; 4]) -> Result<(), SegmentError> {
    if cuts.iter().any(|c| !c.is_finite()) {
        return Err(SegmentError::InvalidCuts {
            field,
            cuts,
            reason: "not finite",
        });
    }
    if cuts.windows(2).any(|w| w[0] > w[1]) {
        return Err(SegmentError::InvalidCuts {
            field,
            cuts,
            reason: "not non-decreasing",
        });
    }
    Ok(())
}

impl RfmCuts {
    /// The 20/40/60/80 % quantiles of each field over the clients given.
    ///
    /// `recency_days` (days since the last purchase) and `frequency` must be finite and
    /// `>= 0`; `monetary` finite (it may be `<= 0`).
    ///
    /// # Errors
    /// [`SegmentError::LengthMismatch`] (lengths differ from `client_ids`),
    /// [`SegmentError::NonFinite`], [`SegmentError::Negative`] (naming the client and the
    /// field), [`SegmentError::Empty`].
    pub fn fit(
        client_ids: &[i64],
        recency_days: &[f64],
        frequency: &[f64],
        monetary: &[f64],
    ) -> Result<Self, SegmentError> {
        check_rfm_inputs(client_ids, recency_days, frequency, monetary)?;
        if client_ids.is_empty() {
            return Err(SegmentError::Empty("RFM cut points"));
        }
        Ok(Self {
            recency: cuts_of(recency_days),
            frequency: cuts_of(frequency),
            monetary: cuts_of(monetary),
        })
    }

    /// Checks cut points read back from a file: finite and non-decreasing.
    ///
    /// # Errors
    /// [`SegmentError::InvalidCuts`] naming the field.
    pub fn check(&self) -> Result<(), SegmentError> {
        check_cuts("recency", self.recency)?;
        check_cuts("frequency", self.frequency)?;
        check_cuts("monetary", self.monetary)
    }

    /// The (R, F, M) scores of one client, each in `1..=5`. A value equal to a cut goes to
    /// the lower bin (for R: the more recent side). Inputs are not checked here (a NaN falls
    /// in the lowest bin: R = 5, F = M = 1); [`RfmCuts::score_clients`] checks them.
    pub fn score(&self, recency_days: f64, frequency: f64, monetary: f64) -> (u8, u8, u8) {
        (
            5 - bin(recency_days, &self.recency),
            1 + bin(frequency, &self.frequency),
            1 + bin(monetary, &self.monetary),
        )
    }

    /// The scores of many clients against these cuts, after the input checks of
    /// [`RfmCuts::fit`] (an empty input gives no score).
    ///
    /// # Errors
    /// As [`RfmCuts::fit`], except that no client is not an error.
    pub fn score_clients(
        &self,
        client_ids: &[i64],
        recency_days: &[f64],
        frequency: &[f64],
        monetary: &[f64],
    ) -> Result<Vec<RfmScore>, SegmentError> {
        check_rfm_inputs(client_ids, recency_days, frequency, monetary)?;
        Ok(recency_days
            .iter()
            .zip(frequency)
            .zip(monetary)
            .map(|((&r, &f), &m)| {
                let (r, f, m) = self.score(r, f, m);
                RfmScore { r, f, m }
            })
            .collect())
    }
}

/// Fits the cut points on the clients given and scores them: [`RfmCuts::fit`] then
/// [`RfmCuts::score_clients`].
///
/// # Errors
/// As [`RfmCuts::fit`].
pub fn rfm(
    client_ids: &[i64],
    recency_days: &[f64],
    frequency: &[f64],
    monetary: &[f64],
) -> Result<Rfm, SegmentError> {
    let cuts = RfmCuts::fit(client_ids, recency_days, frequency, monetary)?;
    let scores = cuts.score_clients(client_ids, recency_days, frequency, monetary)?;
    Ok(Rfm { cuts, scores })
}

// ---------------------------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------------------------

/// A named segment of the recency x frequency map (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// R 5, F 4-5.
    Champions,
    /// Loyal customers: R 3-4, F 4-5.
    Loyal,
    /// R 4-5, F 2-3.
    PotentialLoyalists,
    /// New (recent) customers: R 5, F 1.
    New,
    /// R 4, F 1.
    Promising,
    /// R 3, F 3.
    NeedAttention,
    /// R 3, F 1-2.
    AboutToSleep,
    /// R 1-2, F 3-4.
    AtRisk,
    /// Can't lose them: R 1-2, F 5.
    CantLose,
    /// R 1-2, F 1-2.
    Hibernating,
}

/// The map, row `R - 1`, column `F - 1`.
const GRID: [[Segment; 5]; 5] = {
    use Segment::*;
    [
        [Hibernating, Hibernating, AtRisk, AtRisk, CantLose],
        [Hibernating, Hibernating, AtRisk, AtRisk, CantLose],
        [AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal],
        [
            Promising,
            PotentialLoyalists,
            PotentialLoyalists,
            Loyal,
            Loyal,
        ],
        [
            New,
            PotentialLoyalists,
            PotentialLoyalists,
            Champions,
            Champions,
        ],
    ]
};

fn segment_of(r: u8, f: u8) -> Segment {
    GRID[usize::from(r - 1)][usize::from(f - 1)]
}

impl Segment {
    /// The ten segments, from the best standing to the worst.
    pub const ALL: [Segment; 10] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalists,
        Segment::New,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CantLose,
        Segment::Hibernating,
    ];

    /// The segment of the cell (R score, F score) of the module's table.
    ///
    /// # Errors
    /// [`SegmentError::ScoreOutOfRange`] when a score is outside `1..=5`.
    pub fn from_rf(r: u8, f: u8) -> Result<Segment, SegmentError> {
        for (field, score) in [("r", r), ("f", f)] {
            if !(1..=5).contains(&score) {
                return Err(SegmentError::ScoreOutOfRange { field, score });
            }
        }
        Ok(segment_of(r, f))
    }

    /// The snake_case name (as in serde and [`FromStr`]).
    pub fn name(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalists => "potential_loyalists",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::AtRisk => "at_risk",
            Segment::CantLose => "cant_lose",
            Segment::Hibernating => "hibernating",
        }
    }

    /// One line for a retention manager: who they are and what to do.
    pub fn description(self) -> &'static str {
        match self {
            Segment::Champions => "bought recently and often; reward them and ask for reviews",
            Segment::Loyal => "buy often and fairly recently; upsell and ask for referrals",
            Segment::PotentialLoyalists => {
                "recent with a few orders; offer a loyalty programme to make them regulars"
            }
            Segment::New => "first order very recently; welcome them and help the second order",
            Segment::Promising => "recent but one order; build awareness with a sample or trial",
            Segment::NeedAttention => {
                "middling recency and frequency; a time-limited offer on what they like"
            }
            Segment::AboutToSleep => {
                "below average recency and frequency; reactivate before they drift away"
            }
            Segment::AtRisk => "bought often but not for a while; a personal win-back now",
            Segment::CantLose => {
                "were among the most frequent buyers, gone quiet; call them, do not lose them"
            }
            Segment::Hibernating => {
                "few orders, long ago; low-cost reactivation only, or let them go"
            }
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Segment {
    type Err = SegmentError;

    /// Parses a snake_case name; case, surrounding spaces and `-` or ` ` for `_` are
    /// forgiven (`"Need attention"`, `"cant-lose"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '-' | ' ' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Segment::ALL
            .into_iter()
            .find(|seg| seg.name() == key)
            .ok_or_else(|| SegmentError::UnknownSegment(s.to_owned()))
    }
}
