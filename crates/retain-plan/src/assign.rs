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
//! shuffled candidates give the same choices (among exact duplicates of a candidate, the one with
//! the lowest input index is reported).
//!
//! # Exactness with floats
//!
//! Every finite `f64` is an integer times a power of two, so the positive profits are scaled
//! by one common power of two into integers held in `i128`: when the profits span fewer than
//! about 2^89 (a profit of 10^-10 next to one of 10^15 still fits) this conversion loses
//! nothing and the optimum is exact for the given floats. Beyond that span the smallest profits
//! are rounded to 2^-89 of the largest (and never below one unit, so they stay positive). The
//! flow works on those integers; [`Assignment::total_profit`] is the compensated sum of the
//! chosen candidates' own profits, in client order.
//!
//! # Algorithm
//!
//! A min-cost flow, solved by successive shortest paths with potentials (Johnson reduced costs,
//! Dijkstra), on a graph condensed to the slots. The full graph would be source -> client ->
//! slot -> sink; because a client is only ever reached through one edge (from the source while
//! free, from its slot while assigned), the client nodes can be folded into edges between slots:
//!
//! * node `(c, d)` is the entry point of candidates on channel `c` with earliest day `d` and also
//!   the slot `(c, d)`; a chain `(c, d) -> (c, d+1)` (free, one day more) lets a contact move to a
//!   later day, its reverse (one day less) exists while such moves carry flow;
//! * source -> `(c, e)`: the best free client with a candidate there (per-node lists sorted by
//!   profit, with a pointer that only moves forward: a client, once assigned, stays assigned);
//! * `(c, e) -> (c', e')`: the cheapest reassignment of a client assigned at `(c, e)` to its
//!   candidate at `(c', e')`, kept in one heap per pair of nodes with lazy deletion;
//! * `(c, d)` -> sink while the slot has room.
//!
//! Each search runs on `C * D + 1` nodes, whatever the number of clients, and assigns exactly
//! one more client; the loop stops when the shortest path no longer pays (the optimal cost as a
//! function of the number of contacts is convex, so the first non-improving path ends it).
//!
//! Before the flow, candidates that cannot be in any optimal plan are dropped (an exchange
//! argument): on channel `c`, a candidate with earliest day `e` survives only when fewer than
//! `K` other clients have a better candidate on `c` with an earliest day `<= e`, with `K` one
//! more than the total capacity (otherwise one of those clients is free and would take its
//! place); a candidate is also dropped when the same client has a better one on the same channel
//! that is free on a superset of its days.
//!
//! The value of one more unit of capacity on slot `s` is the most negative cost of a path from
//! the source, or of a cycle from the sink, to `s` in the final residual graph (any cheaper
//! change would be a sum of cycles, which optimality makes non-negative); one more search from
//! both ends gives it for all slots at once.
//!
//! Cost: sorting the positive candidates of each channel by profit (channels in parallel), then
//! one search of `O((C D)^2 log(C D))` per contact made. On 563,057 clients, 4 channels,
//! 7 days and about 162,000 contacts the whole call takes well under a second in a release
//! build (see `benches/assign.rs`).
//!
//! Why hand-written: the min-cost-flow crates on crates.io either bind C++ (mcmf, LEMON's
//! network simplex, integer costs only, min cost at maximum flow), are GPL-licensed (rs-graph),
//! or would need the full graph of millions of client edges; none gives the marginal values,
//! the lexicographic tie-breaks or the condensation that makes this fast.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::ops::{Add, Neg, Sub};
use thiserror::Error;

/// Largest number of slots (channels x days) a [`Capacity`] may have.
pub const MAX_SLOTS: usize = 1 << 24;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
/// or with a non-finite profit (the first such candidate, by position).
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
    let mut flow = Flow::new(n_clients, &kept, capacity);
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
    let (chosen, used) = flow.schedule(&kept);
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

/// Bits of the largest scaled profit: paths of up to 2^32 edges and their potentials stay
/// within `i128`.
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
    /// The scale of a set of positive finite profits: lossless when they fit in
    /// [`PROFIT_BITS`] bits, else the largest one takes all of them.
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
        .then(a.client.cmp(&b.client))
        .then(a.earliest.cmp(&b.earliest))
        .then(a.index.cmp(&b.index))
}

/// The candidates that may be in an optimal plan, channel by channel in rank order.
struct Kept {
    client: Vec<u32>,
    node: Vec<u32>,
    units: Vec<i128>,
    index: Vec<usize>,
}

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
    let kept: Vec<Vec<Entry>> = per_channel
        .into_par_iter()
        .map(|entries| prune_channel(entries, n_clients, days, limit))
        .collect();
    let total: usize = kept.iter().map(Vec::len).sum();
    let mut out = Kept {
        client: Vec::with_capacity(total),
        node: Vec::with_capacity(total),
        units: Vec::with_capacity(total),
        index: Vec::with_capacity(total),
    };
    for (channel, entries) in kept.into_iter().enumerate() {
        for e in entries {
            out.client.push(e.client);
            out.node
                .push((channel * days + usize::from(e.earliest)) as u32);
            out.units.push(e.units as i128);
            out.index.push(e.index);
        }
    }
    out
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
    let mut min_earliest = vec![u16::MAX; n_clients];
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
        let seen = usize::from(min_earliest[en.client as usize]).min(days);
        if seen <= e {
            continue;
        }
        if better[e] < limit {
            kept.push(en);
        }
        for b in &mut better[e..seen] {
            *b += 1;
        }
        min_earliest[en.client as usize] = en.earliest;
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

impl Neg for Cost {
    type Output = Cost;
    fn neg(self) -> Cost {
        Cost::ZERO - self
    }
}

/// A client assigned at one node who could move to a candidate at another node.
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
        o.delta
            .cmp(&self.delta)
            .then(o.client.cmp(&self.client))
            .then(o.stamp.cmp(&self.stamp))
            .then(o.to.cmp(&self.to))
    }
}

impl PartialOrd for Move {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// How a node was reached in a search.
#[derive(Clone, Copy)]
enum Pred {
    /// A search source.
    Start,
    /// From the source, by assigning a free client's candidate.
    Enter(u32),
    /// From node `from`, by moving a client there to candidate `to`.
    Move { from: u32, to: u32 },
    /// From the previous day of the same channel.
    Later,
    /// From the next day of the same channel, undoing a move to a later day.
    Earlier,
    /// The sink, from node `from` (a contact made on that slot).
    Exit(u32),
}

/// Per client, the chosen input candidate and day.
type Chosen = Vec<Option<(usize, u16)>>;

const FREE: u32 = u32::MAX;
const UNSEEN: u8 = 0;
const OPEN: u8 = 1;
const DONE: u8 = 2;

/// The residual graph, the potentials and the search's scratch space.
struct Flow<'a> {
    channels: usize,
    days: usize,
    /// Slot nodes; the sink is node `nodes`.
    nodes: usize,
    cap: &'a [u32],
    client: Vec<u32>,
    node: Vec<u32>,
    units: Vec<i128>,
    /// Each client's kept candidates: `by_client[client_start[x]..client_start[x + 1]]`.
    client_start: Vec<usize>,
    by_client: Vec<u32>,
    /// Per node, its candidates in rank order, and the position of the first one whose client
    /// may still be free.
    group: Vec<Vec<u32>>,
    head: Vec<usize>,
    /// Per client, the candidate it is assigned through, or `FREE`.
    at: Vec<u32>,
    stamp: Vec<u32>,
    /// Contacts leaving through each slot, and flow from each slot to the next day's.
    used: Vec<u32>,
    chain: Vec<u32>,
    /// Per node, the reassignment heaps to other nodes, sorted by target node.
    moves: Vec<Vec<(u32, BinaryHeap<Move>)>>,
    /// Potentials (the source's is 0), then the search's labels, states and predecessors.
    pi: Vec<Cost>,
    search: Search,
}

struct Search {
    label: Vec<Cost>,
    state: Vec<u8>,
    pred: Vec<Pred>,
    queue: BinaryHeap<Reverse<(Cost, u32)>>,
}

impl Search {
    fn relax(&mut self, v: usize, label: Cost, pred: Pred) {
        let s = self.state[v];
        if s == UNSEEN || (s == OPEN && label < self.label[v]) {
            self.label[v] = label;
            self.state[v] = OPEN;
            self.pred[v] = pred;
            self.queue.push(Reverse((label, v as u32)));
        }
    }
}

/// Whether a search looks for an augmenting path (from the source to the sink) or for the best
/// change ending at each slot (from the source and the sink, run to the end).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Augment,
    Gains,
}

impl<'a> Flow<'a> {
    fn new(n_clients: usize, kept: &Kept, capacity: &'a Capacity) -> Self {
        let days = capacity.days;
        let nodes = capacity.channels * days;
        let mut group = vec![Vec::new(); nodes];
        for (k, &v) in kept.node.iter().enumerate() {
            group[v as usize].push(k as u32);
        }
        let mut client_start = vec![0usize; n_clients + 1];
        for &x in &kept.client {
            client_start[x as usize + 1] += 1;
        }
        for x in 0..n_clients {
            client_start[x + 1] += client_start[x];
        }
        let mut fill = client_start.clone();
        let mut by_client = vec![0u32; kept.client.len()];
        for (k, &x) in kept.client.iter().enumerate() {
            by_client[fill[x as usize]] = k as u32;
            fill[x as usize] += 1;
        }
        let mut flow = Self {
            channels: capacity.channels,
            days,
            nodes,
            cap: &capacity.per_slot,
            client: kept.client.clone(),
            node: kept.node.clone(),
            units: kept.units.clone(),
            client_start,
            by_client,
            group,
            head: vec![0; nodes],
            at: vec![FREE; n_clients],
            stamp: vec![0; n_clients],
            used: vec![0; nodes],
            chain: vec![0; nodes],
            moves: vec![Vec::new(); nodes],
            pi: vec![Cost::ZERO; nodes + 1],
            search: Search {
                label: vec![Cost::ZERO; nodes + 1],
                state: vec![UNSEEN; nodes + 1],
                pred: vec![Pred::Start; nodes + 1],
                queue: BinaryHeap::new(),
            },
        };
        flow.initial_potentials();
        flow
    }

    /// The cost of entering node `v` through candidate `k` of a free client.
    fn entry_cost(&self, k: u32, v: usize) -> Cost {
        Cost {
            profit: -self.units[k as usize],
            days: (v % self.days) as i64,
            clients: i64::from(self.client[k as usize]),
        }
    }

    /// The best candidate at node `v` whose client is still free.
    fn head(&mut self, v: usize) -> Option<u32> {
        let list = &self.group[v];
        let h = &mut self.head[v];
        while *h < list.len() && self.at[self.client[list[*h] as usize] as usize] != FREE {
            *h += 1;
        }
        list.get(*h).copied()
    }

    /// Shortest distances in the initial graph (a DAG: source -> nodes -> later days -> sink).
    /// Nodes it cannot reach are never reached later either (no candidate enters them or an
    /// earlier day of their channel), so their potential does not matter.
    fn initial_potentials(&mut self) {
        let mut sink: Option<Cost> = None;
        let mut previous: Option<Cost> = None;
        for v in 0..self.nodes {
            if v % self.days == 0 {
                previous = None;
            }
            let entry = self.head(v).map(|k| self.entry_cost(k, v));
            let later = previous.map(|p| p + Cost::days(1));
            let best = match (entry, later) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(b) = best {
                self.pi[v] = b;
                if self.cap[v] > 0 {
                    sink = Some(sink.map_or(b, |s| s.min(b)));
                }
            }
            previous = best;
        }
        self.pi[self.nodes] = sink.unwrap_or(Cost::ZERO);
    }

    /// Successive shortest paths until none improves the plan.
    fn solve(&mut self) {
        let sink = self.nodes;
        loop {
            self.dijkstra(Mode::Augment);
            if self.search.state[sink] != DONE {
                return;
            }
            let at_sink = self.search.label[sink];
            for v in 0..=sink {
                let d = if self.search.state[v] == DONE {
                    self.search.label[v]
                } else {
                    at_sink
                };
                self.pi[v] = self.pi[v] + d;
            }
            // The true length of the path found is the sink's new potential.
            if self.pi[sink] >= Cost::ZERO {
                return;
            }
            self.augment();
        }
    }

    fn dijkstra(&mut self, mode: Mode) {
        let sink = self.nodes;
        self.search.state.fill(UNSEEN);
        self.search.queue.clear();
        for v in 0..self.nodes {
            if let Some(k) = self.head(v) {
                let l = self.entry_cost(k, v) - self.pi[v];
                self.search.relax(v, l, Pred::Enter(k));
            }
        }
        if mode == Mode::Gains {
            let l = -self.pi[sink];
            self.search.relax(sink, l, Pred::Start);
        }
        let Self {
            days,
            cap,
            used,
            chain,
            moves,
            pi,
            search,
            stamp,
            ..
        } = self;
        let days = *days;
        while let Some(Reverse((l, u))) = search.queue.pop() {
            let u = u as usize;
            if search.state[u] == DONE || l != search.label[u] {
                continue;
            }
            search.state[u] = DONE;
            if u == sink {
                if mode == Mode::Augment {
                    return;
                }
                for (v, &n) in used.iter().enumerate() {
                    if n > 0 {
                        search.relax(v, l + pi[sink] - pi[v], Pred::Start);
                    }
                }
                continue;
            }
            let day = u % days;
            if mode == Mode::Augment && used[u] < cap[u] {
                search.relax(sink, l + pi[u] - pi[sink], Pred::Exit(u as u32));
            }
            if day + 1 < days {
                search.relax(u + 1, l + Cost::days(1) + pi[u] - pi[u + 1], Pred::Later);
            }
            if day > 0 && chain[u - 1] > 0 {
                search.relax(u - 1, l + Cost::days(-1) + pi[u] - pi[u - 1], Pred::Earlier);
            }
            for (target, heap) in &mut moves[u] {
                while let Some(top) = heap.peek() {
                    if stamp[top.client as usize] == top.stamp {
                        break;
                    }
                    heap.pop();
                }
                if let Some(top) = heap.peek() {
                    let v = *target as usize;
                    let cost = Cost {
                        profit: top.delta,
                        days: (v % days) as i64 - day as i64,
                        clients: 0,
                    };
                    search.relax(
                        v,
                        l + cost + pi[u] - pi[v],
                        Pred::Move {
                            from: u as u32,
                            to: top.to,
                        },
                    );
                }
            }
        }
    }

    /// Pushes one unit along the path the last search found to the sink.
    fn augment(&mut self) {
        let Pred::Exit(last) = self.search.pred[self.nodes] else {
            return;
        };
        let mut v = last as usize;
        self.used[v] += 1;
        loop {
            match self.search.pred[v] {
                Pred::Enter(k) => {
                    self.settle(k);
                    return;
                }
                Pred::Move { from, to } => {
                    self.settle(to);
                    v = from as usize;
                }
                Pred::Later => {
                    self.chain[v - 1] += 1;
                    v -= 1;
                }
                Pred::Earlier => {
                    self.chain[v] -= 1;
                    v += 1;
                }
                Pred::Start | Pred::Exit(_) => return,
            }
        }
    }

    /// Assigns candidate `k`'s client through `k`, and records its possible moves from there.
    fn settle(&mut self, k: u32) {
        let x = self.client[k as usize] as usize;
        self.at[x] = k;
        self.stamp[x] = self.stamp[x].wrapping_add(1);
        let v = self.node[k as usize] as usize;
        for &k2 in &self.by_client[self.client_start[x]..self.client_start[x + 1]] {
            if k2 == k {
                continue;
            }
            let target = self.node[k2 as usize];
            let entry = Move {
                delta: self.units[k as usize] - self.units[k2 as usize],
                client: x as u32,
                stamp: self.stamp[x],
                to: k2,
            };
            let list = &mut self.moves[v];
            match list.binary_search_by_key(&target, |(t, _)| *t) {
                Ok(i) => list[i].1.push(entry),
                Err(i) => list.insert(i, (target, BinaryHeap::from(vec![entry]))),
            }
        }
    }

    /// Per slot, the profit (in integer units, `>= 0`) that one more unit of its capacity
    /// would add to the optimum.
    fn slot_gains(&mut self) -> Vec<i128> {
        self.dijkstra(Mode::Gains);
        (0..self.nodes)
            .map(|v| {
                if self.search.state[v] == DONE {
                    (-(self.search.label[v] + self.pi[v]).profit).max(0)
                } else {
                    0
                }
            })
            .collect()
    }

    /// Per client the chosen input candidate and its day, and the contacts per channel per day:
    /// each channel's chosen clients scheduled earliest day first, smaller indices first.
    fn schedule(&self, kept: &Kept) -> (Chosen, Vec<Vec<u32>>) {
        let channels = self.channels;
        let mut per_channel: Vec<Vec<(u16, u32, usize)>> = vec![Vec::new(); channels];
        for (x, &k) in self.at.iter().enumerate() {
            if k != FREE {
                let v = self.node[k as usize] as usize;
                per_channel[v / self.days].push((
                    (v % self.days) as u16,
                    x as u32,
                    kept.index[k as usize],
                ));
            }
        }
        let mut chosen = vec![None; self.at.len()];
        let mut used = vec![vec![0u32; self.days]; channels];
        for (c, mut list) in per_channel.into_iter().enumerate() {
            list.sort_unstable();
            let mut pool = BinaryHeap::new();
            let mut next = 0;
            for d in 0..self.days {
                while next < list.len() && usize::from(list[next].0) <= d {
                    pool.push(Reverse((list[next].1, list[next].2)));
                    next += 1;
                }
                while used[c][d] < self.cap[c * self.days + d] {
                    let Some(Reverse((x, index))) = pool.pop() else {
                        break;
                    };
                    chosen[x as usize] = Some((index, d as u16));
                    used[c][d] += 1;
                }
            }
            debug_assert!(pool.is_empty() && next == list.len());
        }
        (chosen, used)
    }
}
