//! The exact capacity-constrained contact assignment: which clients to contact in the planning
//! period, on which channel and on which day, within each channel's daily capacity, so that the
//! total expected profit is as large as possible.
//!
//! # The problem
//!
//! Clients `0..n`; slots `(channel, day)` for channels `0..C` and days `0..D`, slot `(c, d)`
//! taking at most `cap[c][d]` contacts. A [`Candidate`] says "this client may be contacted on
//! this channel on any day `d >= earliest_day`, for this profit". Each client gets at most one
//! contact. [`assign`] chooses (candidate, day) pairs maximising the total profit. Only
//! candidates with a strictly positive profit are ever chosen ("no contact" is free).
//!
//! # Tie-breaks (the objective, in order)
//!
//! 1. the largest total profit;
//! 2. then the smallest sum of contact days (contacts as early in the period as possible);
//! 3. then the smallest sum of the chosen clients' indices (smaller indices first).
//!
//! The three are one lexicographic cost, so they are exact, not heuristics applied afterwards.
//! Within a channel the days are finally scheduled earliest day first, and among the clients
//! free on a day the smaller indices take it first; this schedule has the least day sum for the
//! chosen set, so it changes nothing in the objective. Plans equal in all three are told apart by
//! the algorithm's fixed order on the candidates sorted canonically, never by their order in the
//! input or by the thread count: the same input gives the same [`Assignment`] byte for byte, and
//! shuffled candidates give the same choices. (Among duplicates of a candidate, the one with
//! the lowest input index is reported; duplicates are candidates of one client, channel and
//! earliest day with equal profits, or, beyond the exact range below, profits that round to
//! the same integer.)
//!
//! # Exactness with floats
//!
//! Every finite `f64` is an integer times a power of two, so the positive profits are scaled
//! by one common power of two into integers held in `i128`, of at most 90 bits. When the
//! largest profit is at most 2^36 (about 6.9e10) times the smallest, this loses nothing whatever
//! the profits' digits (profits with short binary expansions, such as whole numbers or halves,
//! may span far more), and the plan is exactly optimal for the given floats. Beyond that, the
//! smallest profits are rounded to units of about 2^-89 of the largest (never below one unit,
//! so they stay positive). [`Assignment::total_profit`] is the compensated sum of the chosen
//! candidates' own profits, in client order.
//!
//! # Algorithm
//!
//! A min-cost flow solved by successive shortest paths, on a graph condensed to the slots.
//! The full graph would be source -> client -> slot -> sink; a client is only ever reached
//! through one edge (from the source while free, from its node while assigned), so the client
//! nodes fold into edges between slot nodes:
//!
//! * node `(c, d)` is both the slot `(c, d)` and where candidates on channel `c` with earliest
//!   day `d` enter; the chain `(c, d) -> (c, d+1)` lets a contact move to a later day, and its
//!   reverse exists while such moves carry flow;
//! * source -> `(c, e)`: the best free client with a candidate there, costing
//!   `(-profit, 0 days, client index)` (per-node lists in rank order with a pointer that only
//!   moves forward: once assigned, a client stays assigned);
//! * `(c, e) -> (c', e')`: the cheapest reassignment of a client assigned at `(c, e)` to its
//!   candidate at `(c', e')`, costing the profit it gives up; one heap per pair of nodes, whose
//!   top is kept valid by cleaning a client's heaps when it leaves a node;
//! * `(c, d)` -> sink while the slot has room, costing `d` days; and from every node a virtual
//!   exit costing more than any plan is worth, so that every node keeps a finite distance to
//!   the sink (no path through it ever pays, so it is never taken).
//!
//! The exact distance from every node to the sink is kept; the shortest augmenting path is then
//! the best of "enter node `v` with its best free client, follow `v`'s shortest path to the
//! sink", a scan of `C * D` numbers. A path that only enters, moves to later days and leaves
//! through a slot with room to spare changes no distance (the edges it adds are its own reversed
//! edges, which are tight, and the new client's reassignments, which are no shorter than the
//! path it just took), so the distances are recomputed (a Dijkstra backwards from the sink, on
//! `C * D + 1` nodes, with the previous distances as potentials) only after a path that
//! reassigns someone, fills a slot or cancels the last move to a later day. The loop stops when
//! the shortest path no longer pays: the optimal cost as a function of the number of contacts is
//! convex, so the first non-improving path ends it.
//!
//! Before the flow, candidates that cannot be in any optimal plan are dropped (an exchange
//! argument): on channel `c`, a candidate with earliest day `e` survives only when fewer than
//! `K` other clients have a better candidate on `c` with an earliest day `<= e`, with `K` one
//! more than the total capacity (otherwise one of those clients is free and would take its
//! place, also with one more unit of capacity); a candidate is also dropped when the same
//! client has a better one on the same channel that is free on a superset of its days.
//!
//! The value of one more unit of capacity on slot `s` is minus the shortest path from the
//! source, or from the sink back through a used slot, to `s` in the final residual graph (a
//! cheaper change would decompose into cycles, which optimality makes non-negative): one more
//! Dijkstra, forwards from both ends with the distances to the sink as potentials, gives it for
//! every slot.
//!
//! Cost: sorting each channel's positive candidates by profit (channels in parallel, the only
//! parallel step: the result does not depend on the thread count), then `O(C D)` per contact
//! plus `O((C D)^2 log(C D))` per recomputation. On 563,057 clients (1.7 million candidates),
//! 4 channels, 7 days and 162,190 contacts, a call takes about half a second in a release build
//! (see `benches/assign.rs`).
//!
//! Why hand-written: the min-cost-flow crates on crates.io either bind C++ (mcmf, LEMON's
//! network simplex, integer costs only, min cost at maximum flow), are GPL-licensed (rs-graph),
//! or would need the full graph of millions of client edges; none gives the marginal values,
//! the lexicographic tie-breaks or the condensation that makes this fast.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::{Add, Sub};
use thiserror::Error;

/// Largest number of slots (channels x days) a [`Capacity`] may have.
pub const MAX_SLOTS: usize = 1 << 24;

/// Largest number of candidates [`assign`] takes (they are indexed by `u32` inside).
pub const MAX_CANDIDATES: usize = u32::MAX as usize - 1;

/// One way to contact one client: on `channel`, on any day from `earliest_day` to the end of
/// the period, worth `profit`.
///
/// | Field | Meaning | Range |
/// |---|---|---|
/// | `client` | the client's dense index | `< n_clients` |
/// | `channel` | the channel's index | `< capacity.channels()` |
/// | `earliest_day` | first day the contact is allowed (a cooldown) | any; `>= days` means not in this period |
/// | `profit` | expected incremental profit of the contact | finite, may be negative |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The client's dense index.
    pub client: u32,
    /// The channel's index.
    pub channel: u16,
    /// The first day of the period on which this contact may happen.
    pub earliest_day: u16,
    /// The expected incremental profit of the contact (negative ones are never chosen).
    pub profit: f64,
}

/// Contacts each channel can make each day: a channels x days table, validated.
///
/// Serialised as its rows (one list of daily capacities per channel); deserialising validates
/// them as [`Capacity::from_rows`] does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Vec<u32>>", into = "Vec<Vec<u32>>")]
pub struct Capacity {
    channels: usize,
    days: usize,
    per_slot: Vec<u32>,
}

impl Capacity {
    /// A table from its slots in channel-major order: `per_slot[c * days + d]` is channel `c`
    /// on day `d`.
    ///
    /// Errors when the length is not `channels * days`, or when there are more than 65,536
    /// channels or days (they are indexed by `u16`) or more than [`MAX_SLOTS`] slots.
    pub fn new(channels: usize, days: usize, per_slot: Vec<u32>) -> Result<Self, AssignError> {
        for (what, got) in [("channels", channels), ("days", days)] {
            if got > usize::from(u16::MAX) + 1 {
                return Err(AssignError::CapacityTooLarge {
                    what,
                    got,
                    max: usize::from(u16::MAX) + 1,
                });
            }
        }
        if channels * days > MAX_SLOTS {
            return Err(AssignError::CapacityTooLarge {
                what: "slots (channels x days)",
                got: channels * days,
                max: MAX_SLOTS,
            });
        }
        if per_slot.len() != channels * days {
            return Err(AssignError::CapacityShape {
                channels,
                days,
                len: per_slot.len(),
            });
        }
        Ok(Self {
            channels,
            days,
            per_slot,
        })
    }

    /// A table from one row per channel, each holding one capacity per day.
    ///
    /// Errors when the rows differ in length (naming the first that differs from row 0).
    pub fn from_rows(rows: Vec<Vec<u32>>) -> Result<Self, AssignError> {
        let days = rows.first().map_or(0, Vec::len);
        if let Some((channel, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != days) {
            return Err(AssignError::RaggedCapacity {
                channel,
                len: row.len(),
                expected: days,
            });
        }
        let channels = rows.len();
        Self::new(channels, days, rows.into_iter().flatten().collect())
    }

    /// The same capacity every day: `per_channel[c]` contacts on channel `c` on each of `days`.
    pub fn daily(days: usize, per_channel: &[u32]) -> Result<Self, AssignError> {
        let per_slot = per_channel
            .iter()
            .flat_map(|&c| std::iter::repeat_n(c, days))
            .collect();
        Self::new(per_channel.len(), days, per_slot)
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Number of days in the planning period.
    pub fn days(&self) -> usize {
        self.days
    }

    /// Capacity of channel `channel` on day `day` (0 outside the table).
    pub fn get(&self, channel: usize, day: usize) -> u32 {
        if channel < self.channels && day < self.days {
            self.per_slot[channel * self.days + day]
        } else {
            0
        }
    }

    /// All slots in channel-major order (`[c * days + d]`).
    pub fn slots(&self) -> &[u32] {
        &self.per_slot
    }

    /// Total capacity of all slots.
    pub fn total(&self) -> u64 {
        self.per_slot.iter().map(|&c| u64::from(c)).sum()
    }
}

impl TryFrom<Vec<Vec<u32>>> for Capacity {
    type Error = AssignError;

    fn try_from(rows: Vec<Vec<u32>>) -> Result<Self, AssignError> {
        Self::from_rows(rows)
    }
}

impl From<Capacity> for Vec<Vec<u32>> {
    fn from(c: Capacity) -> Self {
        if c.days == 0 {
            return vec![Vec::new(); c.channels];
        }
        c.per_slot.chunks(c.days).map(<[u32]>::to_vec).collect()
    }
}

/// The optimal plan returned by [`assign`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Per client: `None` (no contact), or the chosen candidate's index in the input slice and
    /// the day of the contact.
    pub chosen: Vec<Option<(usize, u16)>>,
    /// Total profit of the chosen candidates (compensated sum, in client order).
    pub total_profit: f64,
    /// Contacts planned per channel per day (`used[c][d] <= cap[c][d]`).
    pub used: Vec<Vec<u32>>,
    /// Per channel, the exact increase of the optimal total profit from one more unit of
    /// capacity on that channel's best day: `max_d OPT(cap[c][d] + 1) - OPT`, `>= 0`.
    pub marginal_value: Vec<f64>,
}

impl Assignment {
    /// Number of clients contacted.
    pub fn contacts(&self) -> usize {
        self.chosen.iter().filter(|c| c.is_some()).count()
    }
}

/// Why an assignment could not be computed. Every variant names the offending input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AssignError {
    /// The capacity table's length is not channels x days.
    #[error("capacity has {len} slots, expected {channels} channels x {days} days")]
    CapacityShape {
        /// Channels declared.
        channels: usize,
        /// Days declared.
        days: usize,
        /// Slots given.
        len: usize,
    },
    /// A channel's row of capacities has a different number of days than the first row.
    #[error("capacity row of channel {channel} has {len} days, expected {expected} (as row 0)")]
    RaggedCapacity {
        /// The channel whose row differs.
        channel: usize,
        /// Its length.
        len: usize,
        /// The length of row 0.
        expected: usize,
    },
    /// The capacity table is too large.
    #[error("too many {what}: {got}, at most {max}")]
    CapacityTooLarge {
        /// What is too large.
        what: &'static str,
        /// The size given.
        got: usize,
        /// The largest size allowed.
        max: usize,
    },
    /// A candidate names a client outside `0..n_clients`.
    #[error("candidate {index} names client {client}, but there are {n_clients} clients")]
    ClientOutOfRange {
        /// Position of the candidate in the input.
        index: usize,
        /// The client named.
        client: u32,
        /// Number of clients.
        n_clients: usize,
    },
    /// A candidate names a channel outside the capacity table.
    #[error("candidate {index} names channel {channel}, but the capacity has {channels} channels")]
    ChannelOutOfRange {
        /// Position of the candidate in the input.
        index: usize,
        /// The channel named.
        channel: u16,
        /// Number of channels.
        channels: usize,
    },
    /// More candidates than the assignment can index.
    #[error("too many candidates: {len}, at most {max}")]
    TooManyCandidates {
        /// Candidates given.
        len: usize,
        /// The largest number allowed.
        max: usize,
    },
    /// A candidate's profit is NaN or infinite.
    #[error("candidate {index} has a non-finite profit ({profit})")]
    NonFiniteProfit {
        /// Position of the candidate in the input.
        index: usize,
        /// The profit given.
        profit: f64,
    },
}

/// The optimal contact plan within `capacity`: see the [module documentation](self) for the
/// objective, its tie-breaks and the algorithm.
///
/// A candidate whose `earliest_day` is not inside the period (`>= capacity.days()`) cannot be
/// scheduled and is ignored, as are those with a profit `<= 0`.
///
/// Errors on a candidate naming a client `>= n_clients` or a channel `>= capacity.channels()`,
/// or with a non-finite profit (the first such candidate, by position), and on more than
/// [`MAX_CANDIDATES`] candidates.
///
/// # Example
///
/// One phone call and one email in a one-day period. Client 0 is worth 10 by phone or 9 by
/// email, client 1 is worth 8 by phone: giving client 0 the phone (greedy) makes 10, the optimum
/// sends client 0 an email and calls client 1.
///
/// ```
/// use retain_plan::assign::{Candidate, Capacity, assign};
///
/// let (phone, email) = (0, 1);
/// let cap = Capacity::daily(1, &[1, 1])?;
/// let offer = |client, channel, profit| Candidate { client, channel, earliest_day: 0, profit };
/// let cands = [offer(0, phone, 10.0), offer(0, email, 9.0), offer(1, phone, 8.0)];
/// let plan = assign(2, &cands, &cap)?;
/// assert_eq!(plan.total_profit, 17.0);
/// assert_eq!(plan.chosen, vec![Some((1, 0)), Some((2, 0))]); // (candidate, day)
/// // One more phone call would add 1 (client 0 back on the phone); another email, nothing.
/// assert_eq!(plan.marginal_value, vec![1.0, 0.0]);
/// # Ok::<(), retain_plan::assign::AssignError>(())
/// ```
pub fn assign(
    n_clients: usize,
    candidates: &[Candidate],
    capacity: &Capacity,
) -> Result<Assignment, AssignError> {
    validate(n_clients, candidates, capacity)?;
    let days = capacity.days;
    let scale = Scale::of(
        candidates
            .iter()
            .filter(|c| usize::from(c.earliest_day) < days && c.profit > 0.0)
            .map(|c| c.profit),
    );
    let kept = prune(n_clients, candidates, capacity, &scale);
    let mut flow = Flow::new(n_clients, kept, capacity);
    flow.solve();
    let gains = flow.slot_gains();
    let marginal_value = (0..capacity.channels)
        .map(|c| {
            gains[c * days..(c + 1) * days]
                .iter()
                .copied()
                .max()
                .map_or(0.0, |g| scale.to_profit(g))
        })
        .collect();
    let (chosen, used) = flow.schedule();
    let total_profit = compensated_sum(
        chosen
            .iter()
            .flatten()
            .map(|&(index, _)| candidates[index].profit),
    );
    Ok(Assignment {
        chosen,
        total_profit,
        used,
        marginal_value,
    })
}

fn validate(
    n_clients: usize,
    candidates: &[Candidate],
    capacity: &Capacity,
) -> Result<(), AssignError> {
    if candidates.len() > MAX_CANDIDATES {
        return Err(AssignError::TooManyCandidates {
            len: candidates.len(),
            max: MAX_CANDIDATES,
        });
    }
    for (index, c) in candidates.iter().enumerate() {
        if c.client as usize >= n_clients {
            return Err(AssignError::ClientOutOfRange {
                index,
                client: c.client,
                n_clients,
            });
        }
        if usize::from(c.channel) >= capacity.channels {
            return Err(AssignError::ChannelOutOfRange {
                index,
                channel: c.channel,
                channels: capacity.channels,
            });
        }
        if !c.profit.is_finite() {
            return Err(AssignError::NonFiniteProfit {
                index,
                profit: c.profit,
            });
        }
    }
    Ok(())
}

/// Neumaier's compensated sum.
fn compensated_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        comp += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + comp
}

// ---------------------------------------------------------------------------------------------
// Profits as integers
// ---------------------------------------------------------------------------------------------

/// Bits of the largest scaled profit: sums along paths of up to [`MAX_SLOTS`] + 1 edges,
/// and the distances used as potentials, stay far within `i128`.
const PROFIT_BITS: i32 = 90;

/// `2^e` for `e` in the normal range of `f64`.
fn pow2(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `x * 2^e`, exact unless the result leaves the normal range.
fn scale_pow2(mut x: f64, mut e: i32) -> f64 {
    while e > 1000 {
        x *= pow2(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= pow2(-1000);
        e += 1000;
    }
    x * pow2(e)
}

/// `(lowest, highest)` such that a positive finite `p` is an odd integer times `2^lowest` and
/// lies in `[2^highest, 2^(highest + 1))`.
fn bit_exponents(p: f64) -> (i32, i32) {
    let bits = p.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        (
            -1074 + mant.trailing_zeros() as i32,
            -1074 + 63 - mant.leading_zeros() as i32,
        )
    } else {
        let m = mant | (1u64 << 52);
        (exp - 1075 + m.trailing_zeros() as i32, exp - 1023)
    }
}

/// The common power of two turning profits into integers: `q = round(p * 2^shift)`.
struct Scale {
    shift: i32,
}

impl Scale {
    /// The scale of a set of positive finite profits: lossless when they all fit in
    /// [`PROFIT_BITS`] bits; else the largest fills them and the smallest are rounded.
    fn of(profits: impl Iterator<Item = f64>) -> Self {
        let (mut need, mut top) = (i32::MIN, i32::MIN);
        for p in profits {
            let (lo, hi) = bit_exponents(p);
            need = need.max(-lo);
            top = top.max(hi);
        }
        if top == i32::MIN {
            return Self { shift: 0 };
        }
        Self {
            shift: need.min(PROFIT_BITS - 1 - top),
        }
    }

    /// The integer profit of `p > 0`, as an integer-valued `f64` in `[1, 2^PROFIT_BITS]`.
    fn units(&self, p: f64) -> f64 {
        scale_pow2(p, self.shift).round().max(1.0)
    }

    /// A sum of integer profits back in the profits' unit.
    fn to_profit(&self, units: i128) -> f64 {
        scale_pow2(units as f64, -self.shift)
    }
}

// ---------------------------------------------------------------------------------------------
// Pruning
// ---------------------------------------------------------------------------------------------

/// A positive, schedulable candidate of one channel.
#[derive(Clone, Copy)]
struct Entry {
    units: f64,
    client: u32,
    earliest: u16,
    index: usize,
}

/// The rank order on one channel's candidates: profit descending, then client, earliest day and
/// input index ascending. It agrees with the flow's lexicographic cost.
fn rank(a: &Entry, b: &Entry) -> Ordering {
    b.units
        .total_cmp(&a.units)
        .then_with(|| (a.client, a.earliest, a.index).cmp(&(b.client, b.earliest, b.index)))
}

/// The candidates that may be in an optimal plan, per channel in rank order.
type Kept = Vec<Vec<Entry>>;

fn prune(n_clients: usize, candidates: &[Candidate], capacity: &Capacity, scale: &Scale) -> Kept {
    let days = capacity.days;
    let mut per_channel: Vec<Vec<Entry>> = vec![Vec::new(); capacity.channels];
    for (index, c) in candidates.iter().enumerate() {
        if c.profit > 0.0 && usize::from(c.earliest_day) < days {
            per_channel[usize::from(c.channel)].push(Entry {
                units: scale.units(c.profit),
                client: c.client,
                earliest: c.earliest_day,
                index,
            });
        }
    }
    let limit = capacity.total() + 1;
    per_channel
        .into_par_iter()
        .map(|entries| prune_channel(entries, n_clients, days, limit))
        .collect()
}

/// One channel's candidates in rank order, without those no optimal plan uses: a candidate
/// with earliest day `e` is kept only if fewer than `limit` other clients rank above it with an
/// earliest day `<= e`, and if its client has no better candidate here with an earliest day
/// `<= e`.
fn prune_channel(mut entries: Vec<Entry>, n_clients: usize, days: usize, limit: u64) -> Vec<Entry> {
    // Only the top of the order is usually needed: sort it first, the rest only if reached.
    let head = entries
        .len()
        .min(2 * limit.min(usize::MAX as u64 / 4) as usize + 1024);
    if head < entries.len() {
        entries.select_nth_unstable_by(head, rank);
    }
    entries[..head].sort_unstable_by(rank);
    // Per client, the earliest day of its candidates seen so far (u32::MAX: none).
    let mut min_earliest = vec![u32::MAX; n_clients];
    // better[t]: clients seen so far with a candidate whose earliest day is <= t.
    let mut better = vec![0u64; days];
    let mut kept = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        if i == head {
            entries[head..].sort_unstable_by(rank);
        }
        let en = entries[i];
        i += 1;
        let e = usize::from(en.earliest);
        let seen = (min_earliest[en.client as usize] as usize).min(days);
        if seen <= e {
            continue;
        }
        if better[e] < limit {
            kept.push(en);
        }
        for b in &mut better[e..seen] {
            *b += 1;
        }
        min_earliest[en.client as usize] = u32::from(en.earliest);
        if better[0] >= limit {
            break;
        }
    }
    kept
}

// ---------------------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------------------

/// A lexicographic cost: profit (negated, in integer units), then days, then client indices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Cost {
    profit: i128,
    days: i64,
    clients: i64,
}

impl Cost {
    const ZERO: Cost = Cost {
        profit: 0,
        days: 0,
        clients: 0,
    };

    fn profit(profit: i128) -> Cost {
        Cost {
            profit,
            ..Cost::ZERO
        }
    }

    fn days(days: i64) -> Cost {
        Cost { days, ..Cost::ZERO }
    }
}

impl Add for Cost {
    type Output = Cost;
    fn add(self, o: Cost) -> Cost {
        Cost {
            profit: self.profit + o.profit,
            days: self.days + o.days,
            clients: self.clients + o.clients,
        }
    }
}

impl Sub for Cost {
    type Output = Cost;
    fn sub(self, o: Cost) -> Cost {
        Cost {
            profit: self.profit - o.profit,
            days: self.days - o.days,
            clients: self.clients - o.clients,
        }
    }
}

/// A client assigned at one node who could move to its candidate at another node.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Move {
    /// Profit given up by the move (`units(from) - units(to)`).
    delta: i128,
    client: u32,
    /// The client's stamp when the entry was made; stale once the client moves again.
    stamp: u32,
    /// The candidate moved to.
    to: u32,
}

impl Ord for Move {
    /// Reversed, so that the max-heap's top is the cheapest move (then the smallest client).
    fn cmp(&self, o: &Self) -> Ordering {
        (o.delta, o.client, o.stamp, o.to).cmp(&(self.delta, self.client, self.stamp, self.to))
    }
}

impl PartialOrd for Move {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The first edge of a node's shortest path to the sink.
#[derive(Clone, Copy)]
enum Next {
    /// A contact made on this slot.
    Exit,
    /// The virtual exit of a node with no real way to the sink (never taken: it costs more
    /// than any plan is worth).
    Nowhere,
    /// To the next day of the same channel.
    Later,
    /// To the previous day of the same channel, undoing a move to a later day.
    Earlier,
    /// A client assigned here moves to its candidate at `to`, the cheapest in heap `heap`.
    Move { heap: u32, to: u32 },
}

/// A kept candidate, as the flow sees it. Profits in integer units are held as integer-valued
/// `f64` (exact up to 2^1023) to halve the memory, and turned into `i128` to compute.
#[derive(Clone, Copy)]
struct Cand {
    units: f64,
    node: u32,
    client: u32,
}

/// A candidate in its node's list: what entering with it costs, without looking it up.
#[derive(Clone, Copy)]
struct Offer {
    units: f64,
    cand: u32,
    client: u32,
}

/// Where a client is: the candidate it is assigned through (or `FREE`), and how many times it
/// has been placed (heap entries made before its last move are stale).
#[derive(Clone, Copy)]
struct ClientState {
    at: u32,
    stamp: u32,
}

/// Per client, the chosen input candidate and day.
type Chosen = Vec<Option<(usize, u16)>>;

const FREE: u32 = u32::MAX;
/// The cost of a node's virtual exit: more than the profit of any path (at most
/// `(MAX_SLOTS + 1) * 2^PROFIT_BITS < 2^115`), so no augmenting path ending there pays, and
/// yet every node keeps a finite distance to the sink that serves as a potential.
const NOWHERE: i128 = 1 << 116;
const EMPTY: i128 = i128::MAX;
const UNSEEN: u8 = 0;
const OPEN: u8 = 1;
const DONE: u8 = 2;

/// The residual graph, the distances to the sink and the search's scratch space.
///
/// Edge costs (`Cost`): entering node `(c, e)` with a free client's candidate costs
/// `(-units, 0, client)`; reassigning a client from one node to another costs the profit it
/// gives up; moving a contact one day later or earlier costs nothing; a contact leaving through
/// slot `(c, d)` costs `d` days. (Equivalently, the entry day plus one per move to a later day:
/// the two differ by a potential, which cancels on every path and cycle.)
struct Flow<'a> {
    channels: usize,
    days: usize,
    /// Slot nodes; the sink is node `nodes`.
    nodes: usize,
    cap: &'a [u32],
    /// The kept candidates, grouped by client (client `x` has `client_start[x]..
    /// client_start[x + 1]`), and their positions in the input.
    cands: Vec<Cand>,
    index: Vec<u32>,
    client_start: Vec<u32>,
    /// Per node, its candidates in rank order, and the position of the first one whose client
    /// may still be free.
    group: Vec<Vec<Offer>>,
    head: Vec<usize>,
    clients: Vec<ClientState>,
    /// One bit per client, set once it is assigned (small enough to stay in cache).
    assigned: Vec<u64>,
    /// Contacts leaving through each slot, and flow from each slot to the next day's.
    used: Vec<u32>,
    chain: Vec<u32>,
    /// Reassignment heaps, one per pair of nodes that has had an entry; `out[u]` lists
    /// `(to, heap)` sorted by `to`, `into[v]` lists `(from, heap)`.
    heaps: Vec<BinaryHeap<Move>>,
    /// The cost of each heap's top (`EMPTY` if none), kept current: a heap's top is always an
    /// entry whose client is still there, because a client leaving a node cleans its heaps.
    top: Vec<i128>,
    out: Vec<Vec<(u32, u32)>>,
    into: Vec<Vec<(u32, u32)>>,
    /// Per node, its exact distance to the sink and the first edge of a shortest path there.
    to_sink: Vec<Cost>,
    next: Vec<Next>,
    /// Per node, the cost of entering it with its best free client, and the length of the
    /// best augmenting path entering there (`entry + to_sink`).
    entry: Vec<Option<Cost>>,
    key: Vec<Option<Cost>>,
    /// The backward search's labels (reduced distances), states and queue.
    label: Vec<Cost>,
    state: Vec<u8>,
    queue: BinaryHeap<Reverse<(Cost, u32)>>,
}

impl<'a> Flow<'a> {
    fn new(n_clients: usize, kept: Kept, capacity: &'a Capacity) -> Self {
        let days = capacity.days;
        let nodes = capacity.channels * days;
        // A counting sort by client, keeping each node's list in rank order.
        // (Positions fit in u32: there are at most MAX_CANDIDATES.)
        let mut client_start = vec![0u32; n_clients + 1];
        for e in kept.iter().flatten() {
            client_start[e.client as usize + 1] += 1;
        }
        for x in 0..n_clients {
            client_start[x + 1] += client_start[x];
        }
        let total = client_start[n_clients] as usize;
        let mut fill = client_start.clone();
        let mut cands = vec![
            Cand {
                units: 0.0,
                node: 0,
                client: 0
            };
            total
        ];
        let mut index = vec![0u32; total];
        let mut group = vec![Vec::new(); nodes];
        for (channel, entries) in kept.into_iter().enumerate() {
            for e in entries {
                let node = channel * days + usize::from(e.earliest);
                let k = fill[e.client as usize] as usize;
                fill[e.client as usize] += 1;
                cands[k] = Cand {
                    units: e.units,
                    node: node as u32,
                    client: e.client,
                };
                index[k] = e.index as u32;
                group[node].push(Offer {
                    units: e.units,
                    cand: k as u32,
                    client: e.client,
                });
            }
        }
        Self {
            channels: capacity.channels,
            days,
            nodes,
            cap: &capacity.per_slot,
            cands,
            index,
            client_start,
            group,
            head: vec![0; nodes],
            assigned: vec![0; n_clients.div_ceil(64)],
            clients: vec![ClientState { at: FREE, stamp: 0 }; n_clients],
            used: vec![0; nodes],
            chain: vec![0; nodes],
            heaps: Vec::new(),
            top: Vec::new(),
            out: vec![Vec::new(); nodes],
            into: vec![Vec::new(); nodes],
            to_sink: vec![Cost::ZERO; nodes + 1],
            next: vec![Next::Exit; nodes],
            entry: vec![None; nodes],
            key: vec![None; nodes],
            label: vec![Cost::ZERO; nodes + 1],
            state: vec![UNSEEN; nodes + 1],
            queue: BinaryHeap::new(),
        }
    }

    /// The cost of a contact leaving through slot `v`: its day.
    fn exit_cost(&self, v: usize) -> Cost {
        Cost::days((v % self.days) as i64)
    }

    /// The best candidate at node `v` whose client is still free.
    fn head(&mut self, v: usize) -> Option<Offer> {
        let list = &self.group[v];
        let h = &mut self.head[v];
        while let Some(o) = list.get(*h) {
            let x = o.client as usize;
            if self.assigned[x / 64] >> (x % 64) & 1 == 0 {
                return Some(*o);
            }
            *h += 1;
        }
        None
    }

    /// The cost of entering node `v` with its best free client.
    fn refresh_entry(&mut self, v: usize) {
        self.entry[v] = self.head(v).map(|o| Cost {
            profit: -(o.units as i128),
            days: 0,
            clients: i64::from(o.client),
        });
    }

    /// The length of the best augmenting path entering at node `v`.
    fn refresh_key(&mut self, v: usize) {
        self.key[v] = self.entry[v].map(|e| e + self.to_sink[v]);
    }

    /// Successive shortest paths until none improves the plan.
    ///
    /// The shortest augmenting path is the best of "enter node `v` with its best free client,
    /// then follow `v`'s shortest path to the sink". The distances to the sink are recomputed
    /// only after a path that changes them: one that reassigns a client (its heap's top
    /// changes), fills a slot, or cancels the last unit moved to a later day. A path that only
    /// enters, moves to later days and leaves through a slot with room left changes none: the
    /// edges it adds are its own reversed (tight) edges and the new client's reassignments,
    /// which are no shorter than the path the client just took.
    fn solve(&mut self) {
        for v in 0..self.nodes {
            self.refresh_entry(v);
        }
        self.distances_to_sink();
        loop {
            let mut best: Option<(Cost, usize)> = None;
            for (v, key) in self.key.iter().enumerate() {
                if let Some(k) = *key
                    && best.is_none_or(|(b, _)| k < b)
                {
                    best = Some((k, v));
                }
            }
            let Some((length, v)) = best else { return };
            if length >= Cost::ZERO {
                return;
            }
            if self.augment(v) {
                self.distances_to_sink();
            }
        }
    }

    /// Exact distances from every node to the sink (a backward Dijkstra whose potentials are
    /// the previous distances: every residual edge `u -> v` keeps
    /// `cost + to_sink[v] - to_sink[u] >= 0`), then every node's key.
    fn distances_to_sink(&mut self) {
        let sink = self.nodes;
        let days = self.days;
        self.state.fill(UNSEEN);
        self.queue.clear();
        self.label[sink] = Cost::ZERO;
        self.state[sink] = OPEN;
        self.queue.push(Reverse((Cost::ZERO, sink as u32)));
        while let Some(Reverse((l, w))) = self.queue.pop() {
            let w = w as usize;
            if self.state[w] == DONE || l != self.label[w] {
                continue;
            }
            self.state[w] = DONE;
            if w == sink {
                for u in 0..self.nodes {
                    let (cost, next) = if self.used[u] < self.cap[u] {
                        (self.exit_cost(u), Next::Exit)
                    } else {
                        (Cost::profit(NOWHERE), Next::Nowhere)
                    };
                    self.relax(u, l, cost - self.to_sink[u], next);
                }
                continue;
            }
            let day = w % days;
            let here = self.to_sink[w];
            if day > 0 {
                let rc = here - self.to_sink[w - 1];
                self.relax(w - 1, l, rc, Next::Later);
            }
            if day + 1 < days && self.chain[w] > 0 {
                let rc = here - self.to_sink[w + 1];
                self.relax(w + 1, l, rc, Next::Earlier);
            }
            for i in 0..self.into[w].len() {
                let (u, heap) = self.into[w][i];
                let u = u as usize;
                let top = self.top[heap as usize];
                if top != EMPTY {
                    let rc = Cost::profit(top) + here - self.to_sink[u];
                    self.relax(u, l, rc, Next::Move { heap, to: w as u32 });
                }
            }
        }
        for v in 0..self.nodes {
            debug_assert!(self.state[v] == DONE, "every node has an exit");
            self.to_sink[v] = self.to_sink[v] + self.label[v];
        }
        for v in 0..self.nodes {
            self.refresh_key(v);
        }
    }

    /// Offers node `v` the label `from + reduced`, where `reduced` is the reduced cost of its
    /// edge to the node just settled.
    fn relax(&mut self, v: usize, from: Cost, reduced: Cost, next: Next) {
        debug_assert!(reduced >= Cost::ZERO, "negative reduced cost");
        let label = from + reduced;
        let s = self.state[v];
        if s == UNSEEN || (s == OPEN && label < self.label[v]) {
            self.label[v] = label;
            self.state[v] = OPEN;
            self.next[v] = next;
            self.queue.push(Reverse((label, v as u32)));
        }
    }

    /// Drops the entries of clients who have left from the top of a heap.
    fn clean(&mut self, heap: u32) {
        let h = &mut self.heaps[heap as usize];
        while let Some(top) = h.peek() {
            if self.clients[top.client as usize].stamp == top.stamp {
                break;
            }
            h.pop();
        }
        self.top[heap as usize] = h.peek().map_or(EMPTY, |t| t.delta);
    }

    /// Pushes one unit along the best path entering at `v`; true when the distances to the
    /// sink may have changed.
    fn augment(&mut self, v: usize) -> bool {
        let Some(Offer { cand: k0, .. }) = self.head(v) else {
            // Not reached while `entry` follows the heads; if it were, the node's key would be
            // cleared so that the loop still ends.
            self.refresh_entry(v);
            self.refresh_key(v);
            return false;
        };
        let mut changed = false;
        let mut moved = Vec::new();
        let mut u = v;
        loop {
            match self.next[u] {
                Next::Exit => {
                    self.used[u] += 1;
                    changed |= self.used[u] >= self.cap[u];
                    break;
                }
                Next::Nowhere => {
                    debug_assert!(false, "an augmenting path through a virtual exit");
                    break;
                }
                Next::Later => {
                    self.chain[u] += 1;
                    u += 1;
                }
                Next::Earlier => {
                    self.chain[u - 1] -= 1;
                    changed |= self.chain[u - 1] == 0;
                    u -= 1;
                }
                Next::Move { heap, to } => {
                    let Some(&top) = self.heaps[heap as usize].peek() else {
                        debug_assert!(false, "a shortest path through an empty heap");
                        break;
                    };
                    moved.push(top.to);
                    changed = true;
                    u = to as usize;
                }
            }
        }
        for k in moved {
            self.settle(k);
        }
        self.settle(k0);
        changed
    }

    /// Assigns candidate `k`'s client through `k` (from wherever it was, or from free), and
    /// records its possible moves from there.
    fn settle(&mut self, k: u32) {
        let c = self.cands[k as usize];
        let x = c.client as usize;
        let old = self.clients[x].at;
        let stamp = self.clients[x].stamp.wrapping_add(1);
        self.clients[x] = ClientState { at: k, stamp };
        let (first, last) = (
            self.client_start[x] as usize,
            self.client_start[x + 1] as usize,
        );
        if old == FREE {
            self.assigned[x / 64] |= 1 << (x % 64);
            // No longer free: refresh the nodes where it may have been the best free client.
            for i in first..last {
                let v = self.cands[i].node as usize;
                self.refresh_entry(v);
                self.refresh_key(v);
            }
        } else {
            // Its entries at the node it left are stale: clean those heaps.
            let u = self.cands[old as usize].node as usize;
            for i in first..last {
                if i == old as usize {
                    continue;
                }
                let target = self.cands[i].node;
                if let Ok(j) = self.out[u].binary_search_by_key(&target, |&(t, _)| t) {
                    self.clean(self.out[u][j].1);
                }
            }
        }
        let v = c.node as usize;
        for i in first..last {
            if i == k as usize {
                continue;
            }
            let target = self.cands[i].node;
            let entry = Move {
                delta: c.units as i128 - self.cands[i].units as i128,
                client: x as u32,
                stamp,
                to: i as u32,
            };
            let heap = match self.out[v].binary_search_by_key(&target, |&(t, _)| t) {
                Ok(j) => self.out[v][j].1,
                Err(j) => {
                    let heap = self.heaps.len() as u32;
                    self.heaps.push(BinaryHeap::new());
                    self.top.push(EMPTY);
                    self.out[v].insert(j, (target, heap));
                    self.into[target as usize].push((v as u32, heap));
                    heap
                }
            };
            let h = &mut self.heaps[heap as usize];
            h.push(entry);
            self.top[heap as usize] = h.peek().map_or(EMPTY, |t| t.delta);
        }
    }

    /// Per slot, the profit (in integer units, `>= 0`) that one more unit of its capacity
    /// would add to the optimum: minus the length of the shortest path from the source, or
    /// from the sink back through a used slot, to it. A Dijkstra forwards, whose potentials are
    /// minus the distances to the sink (valid for every residual edge; the sink's edges back to
    /// used slots too, as the final plan has no negative cycle through them).
    fn slot_gains(&mut self) -> Vec<i128> {
        let h = self.to_sink.clone();
        self.state.fill(UNSEEN);
        self.queue.clear();
        for (v, &hv) in h.iter().enumerate().take(self.nodes) {
            let entry = self.entry[v];
            let back = (self.used[v] > 0).then(|| Cost::ZERO - self.exit_cost(v));
            let start = match (entry, back) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(d) = start {
                let label = d + hv;
                self.label[v] = label;
                self.state[v] = OPEN;
                self.queue.push(Reverse((label, v as u32)));
            }
        }
        let mut edges: Vec<(usize, Cost)> = Vec::new();
        while let Some(Reverse((l, u))) = self.queue.pop() {
            let u = u as usize;
            if self.state[u] == DONE || l != self.label[u] {
                continue;
            }
            self.state[u] = DONE;
            let day = u % self.days;
            edges.clear();
            if day + 1 < self.days {
                edges.push((u + 1, Cost::ZERO));
            }
            if day > 0 && self.chain[u - 1] > 0 {
                edges.push((u - 1, Cost::ZERO));
            }
            for &(to, heap) in &self.out[u] {
                let top = self.top[heap as usize];
                if top != EMPTY {
                    edges.push((to as usize, Cost::profit(top)));
                }
            }
            for &(v, c) in &edges {
                let reduced = c + h[v] - h[u];
                debug_assert!(reduced >= Cost::ZERO, "negative reduced cost");
                let label = l + reduced;
                let s = self.state[v];
                if s == UNSEEN || (s == OPEN && label < self.label[v]) {
                    self.label[v] = label;
                    self.state[v] = OPEN;
                    self.queue.push(Reverse((label, v as u32)));
                }
            }
        }
        (0..self.nodes)
            .map(|v| {
                if self.state[v] == DONE {
                    (-(self.label[v] - h[v]).profit).max(0)
                } else {
                    0
                }
            })
            .collect()
    }

    /// Per client the chosen input candidate and its day, and the contacts per channel per day:
    /// each channel's chosen clients scheduled earliest day first, smaller indices first.
    fn schedule(&self) -> (Chosen, Vec<Vec<u32>>) {
        let mut per_channel: Vec<Vec<(u16, u32, usize)>> = vec![Vec::new(); self.channels];
        for (x, state) in self.clients.iter().enumerate() {
            let k = state.at;
            if k != FREE {
                let v = self.cands[k as usize].node as usize;
                per_channel[v / self.days].push((
                    (v % self.days) as u16,
                    x as u32,
                    self.index[k as usize] as usize,
                ));
            }
        }
        let mut chosen = vec![None; self.clients.len()];
        let mut used = vec![vec![0u32; self.days]; self.channels];
        for (c, mut list) in per_channel.into_iter().enumerate() {
            list.sort_unstable();
            let mut pool = BinaryHeap::new();
            let mut next = 0;
            let cap = &self.cap[c * self.days..(c + 1) * self.days];
            for (d, (n, &room)) in used[c].iter_mut().zip(cap).enumerate() {
                while next < list.len() && usize::from(list[next].0) <= d {
                    pool.push(Reverse((list[next].1, list[next].2)));
                    next += 1;
                }
                while *n < room {
                    let Some(Reverse((x, index))) = pool.pop() else {
                        break;
                    };
                    chosen[x as usize] = Some((index, d as u16));
                    *n += 1;
                }
            }
            debug_assert!(pool.is_empty() && next == list.len());
        }
        (chosen, used)
    }
}
