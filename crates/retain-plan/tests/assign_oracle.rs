//! The exact assignment against an independent, slow exact method on instances too large for
//! exhaustive search: a plain min-cost flow on the full graph (source -> client -> every slot
//! a candidate allows -> sink), solved by successive shortest paths with a queue-based
//! Bellman-Ford, in exact integers, with no pruning and no condensation.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_plan::assign::{Candidate, Capacity, assign};
use std::collections::VecDeque;

struct Edge {
    to: usize,
    cap: i64,
    cost: i64,
}

/// A textbook min-cost flow: edges stored in pairs (forward, reverse).
struct Graph {
    edges: Vec<Edge>,
    adj: Vec<Vec<usize>>,
}

impl Graph {
    fn new(n: usize) -> Self {
        Self {
            edges: Vec::new(),
            adj: vec![Vec::new(); n],
        }
    }

    fn add(&mut self, from: usize, to: usize, cap: i64, cost: i64) {
        self.adj[from].push(self.edges.len());
        self.edges.push(Edge { to, cap, cost });
        self.adj[to].push(self.edges.len());
        self.edges.push(Edge {
            to: from,
            cap: 0,
            cost: -cost,
        });
    }

    /// The least total cost of any flow from `s` to `t` (any amount): augment along shortest
    /// paths while they cost less than zero.
    fn min_cost_any_flow(&mut self, s: usize, t: usize) -> i64 {
        let n = self.adj.len();
        let mut total = 0;
        loop {
            let mut dist = vec![i64::MAX; n];
            let mut via = vec![usize::MAX; n];
            let mut queued = vec![false; n];
            let mut queue = VecDeque::from([s]);
            dist[s] = 0;
            while let Some(u) = queue.pop_front() {
                queued[u] = false;
                for &e in &self.adj[u] {
                    let edge = &self.edges[e];
                    if edge.cap > 0 && dist[u] + edge.cost < dist[edge.to] {
                        dist[edge.to] = dist[u] + edge.cost;
                        via[edge.to] = e;
                        if !queued[edge.to] {
                            queued[edge.to] = true;
                            queue.push_back(edge.to);
                        }
                    }
                }
            }
            if dist[t] >= 0 {
                return total;
            }
            let mut v = t;
            while v != s {
                let e = via[v];
                self.edges[e].cap -= 1;
                self.edges[e ^ 1].cap += 1;
                v = self.edges[e ^ 1].to;
            }
            total += dist[t];
        }
    }
}

/// The optimal total profit by the plain method.
fn oracle(n: usize, cands: &[Candidate], cap: &Capacity) -> i64 {
    let days = cap.days();
    let slots = cap.channels() * days;
    let (s, t) = (n + slots, n + slots + 1);
    let mut g = Graph::new(n + slots + 2);
    for x in 0..n {
        g.add(s, x, 1, 0);
    }
    for c in cands {
        if c.profit <= 0.0 {
            continue;
        }
        for d in usize::from(c.earliest_day)..days {
            let slot = usize::from(c.channel) * days + d;
            g.add(c.client as usize, n + slot, 1, -(c.profit as i64));
        }
    }
    for (slot, &k) in cap.slots().iter().enumerate() {
        g.add(n + slot, t, i64::from(k), 0);
    }
    -g.min_cost_any_flow(s, t)
}

/// Integer profits (exact in f64), some negative, 1-3 candidates per client, earliest days
/// that may fall after the period.
fn instance(
    seed: u64,
    n: usize,
    channels: usize,
    days: usize,
    max_cap: u32,
) -> (Vec<Candidate>, Capacity) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cands = Vec::new();
    for x in 0..n as u32 {
        let value = rng.random_range(1..400i32);
        for _ in 0..rng.random_range(1..=3) {
            let channel = rng.random_range(0..channels as u16);
            cands.push(Candidate {
                client: x,
                channel,
                earliest_day: rng.random_range(0..=days as u16),
                profit: f64::from(value * (i32::from(channel) + 1) / 2 - rng.random_range(0..60)),
            });
        }
    }
    let cap = Capacity::new(
        channels,
        days,
        (0..channels * days)
            .map(|_| rng.random_range(0..=max_cap))
            .collect(),
    )
    .expect("shape");
    (cands, cap)
}

fn check_total(seed: u64, n: usize, channels: usize, days: usize, max_cap: u32) {
    let (cands, cap) = instance(seed, n, channels, days, max_cap);
    let a = assign(n, &cands, &cap).expect("valid");
    let want = oracle(n, &cands, &cap);
    assert_eq!(a.total_profit, want as f64, "seed {seed}");
    let mut used = vec![vec![0u32; days]; channels];
    for (x, c) in a.chosen.iter().enumerate() {
        if let Some((i, d)) = *c {
            assert_eq!(cands[i].client as usize, x);
            assert!(d >= cands[i].earliest_day && usize::from(d) < days);
            used[usize::from(cands[i].channel)][usize::from(d)] += 1;
        }
    }
    assert_eq!(used, a.used);
    for (c, row) in used.iter().enumerate() {
        for (d, &u) in row.iter().enumerate() {
            assert!(u <= cap.get(c, d), "slot ({c}, {d}) over capacity");
        }
    }
}

#[test]
fn equals_plain_min_cost_flow_on_20k_clients_with_scarce_capacity() {
    // About 190 contacts for 20,000 clients: pruning removes almost every candidate.
    check_total(1, 20_000, 3, 4, 30);
}

#[test]
fn equals_plain_min_cost_flow_with_capacity_for_most_clients() {
    // About 2,400 contacts for 3,000 clients: little to prune, many reassignments.
    check_total(2, 3_000, 3, 4, 400);
    check_total(3, 3_000, 4, 2, 600);
}

#[test]
fn marginal_values_equal_plain_re_solves() {
    for seed in 10..13 {
        let (n, channels, days) = (400, 3, 3);
        let (cands, cap) = instance(seed, n, channels, days, 25);
        let a = assign(n, &cands, &cap).expect("valid");
        let base = oracle(n, &cands, &cap);
        for c in 0..channels {
            let best = (0..days)
                .map(|d| {
                    let mut slots = cap.slots().to_vec();
                    slots[c * days + d] += 1;
                    let plus = Capacity::new(channels, days, slots).expect("shape");
                    oracle(n, &cands, &plus)
                })
                .max()
                .expect("days");
            assert_eq!(a.marginal_value[c], (best - base) as f64, "seed {seed}");
        }
    }
}

#[test]
fn equals_plain_min_cost_flow_when_everyone_prefers_the_scarce_channel() {
    // Every client is worth a little less on channel 1 than on the scarce channel 0, so the
    // clients planned on channel 1 rank just below those on channel 0: close to the pruning
    // limit (the total capacity) on channel 1's ranking.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let n = 5_000;
    let mut cands = Vec::new();
    for x in 0..n as u32 {
        let value = rng.random_range(100..10_000i32);
        for channel in 0..2u16 {
            cands.push(Candidate {
                client: x,
                channel,
                earliest_day: rng.random_range(0..3),
                profit: f64::from(value - i32::from(channel) * rng.random_range(1..20)),
            });
        }
    }
    let cap = Capacity::from_rows(vec![vec![20, 25, 30], vec![60, 50, 70]]).expect("shape");
    let a = assign(n, &cands, &cap).expect("valid");
    assert_eq!(a.total_profit, oracle(n, &cands, &cap) as f64);
    assert_eq!(a.contacts(), 255);
}
