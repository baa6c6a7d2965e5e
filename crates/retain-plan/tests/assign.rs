//! The exact assignment against exhaustive search, hand-worked instances where greedy fails,
//! the tie-breaks, determinism, edge cases and every bad input.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_plan::assign::{AssignError, Assignment, Candidate, Capacity, assign};
use std::collections::HashMap;

fn cand(client: u32, channel: u16, earliest_day: u16, profit: f64) -> Candidate {
    Candidate {
        client,
        channel,
        earliest_day,
        profit,
    }
}

/// The objective as a comparable value: profit (max), then day sum (min), then client sum (min).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Value {
    profit: f64,
    days: i64,
    clients: i64,
}

impl Value {
    const NONE: Value = Value {
        profit: 0.0,
        days: 0,
        clients: 0,
    };

    fn better_than(&self, o: &Value) -> bool {
        if self.profit != o.profit {
            return self.profit > o.profit;
        }
        (self.days, self.clients) < (o.days, o.clients)
    }
}

/// Exhaustive search over every plan (each client: no contact, or any candidate on any day it
/// allows, negative profits included), memoised on (client, remaining capacities).
fn brute_force(n: usize, cands: &[Candidate], cap: &Capacity) -> Value {
    let days = cap.days();
    let mut options: Vec<Vec<(usize, f64, usize)>> = vec![Vec::new(); n];
    for c in cands {
        for d in usize::from(c.earliest_day)..days {
            let slot = usize::from(c.channel) * days + d;
            options[c.client as usize].push((slot, c.profit, d));
        }
    }
    fn go(
        i: usize,
        left: &mut Vec<u32>,
        options: &[Vec<(usize, f64, usize)>],
        memo: &mut HashMap<(usize, Vec<u32>), Value>,
    ) -> Value {
        if i == options.len() {
            return Value::NONE;
        }
        if let Some(v) = memo.get(&(i, left.clone())) {
            return *v;
        }
        let mut best = go(i + 1, left, options, memo);
        for &(slot, profit, day) in &options[i] {
            if left[slot] == 0 {
                continue;
            }
            left[slot] -= 1;
            let rest = go(i + 1, left, options, memo);
            left[slot] += 1;
            let v = Value {
                profit: rest.profit + profit,
                days: rest.days + day as i64,
                clients: rest.clients + i as i64,
            };
            if v.better_than(&best) {
                best = v;
            }
        }
        memo.insert((i, left.clone()), best);
        best
    }
    let mut left = cap.slots().to_vec();
    go(0, &mut left, &options, &mut HashMap::new())
}

fn with_extra(cap: &Capacity, channel: usize, day: usize) -> Capacity {
    let mut slots = cap.slots().to_vec();
    slots[channel * cap.days() + day] += 1;
    Capacity::new(cap.channels(), cap.days(), slots).expect("same shape")
}

/// Checks the plan is feasible and consistent, and returns its value.
fn check_feasible(n: usize, cands: &[Candidate], cap: &Capacity, a: &Assignment) -> Value {
    assert_eq!(a.chosen.len(), n);
    assert_eq!(a.used.len(), cap.channels());
    assert_eq!(a.marginal_value.len(), cap.channels());
    let mut used = vec![vec![0u32; cap.days()]; cap.channels()];
    let mut value = Value::NONE;
    let mut profits = Vec::new();
    for (x, c) in a.chosen.iter().enumerate() {
        let Some((index, day)) = *c else { continue };
        let k = cands[index];
        assert_eq!(
            k.client as usize, x,
            "candidate {index} is not client {x}'s"
        );
        assert!(day >= k.earliest_day, "client {x} before its earliest day");
        assert!(usize::from(day) < cap.days(), "client {x} after the period");
        assert!(k.profit > 0.0, "client {x} chosen at a non-positive profit");
        used[usize::from(k.channel)][usize::from(day)] += 1;
        value.days += i64::from(day);
        value.clients += x as i64;
        profits.push(k.profit);
    }
    value.profit = profits.iter().sum();
    for (c, row) in used.iter().enumerate() {
        for (d, &u) in row.iter().enumerate() {
            assert!(u <= cap.get(c, d), "slot ({c}, {d}) over capacity");
        }
    }
    assert_eq!(used, a.used);
    assert!((a.total_profit - value.profit).abs() <= 1e-9 * value.profit.abs().max(1.0));
    assert!(a.marginal_value.iter().all(|&m| m >= 0.0));
    value
}

/// Up to 7 clients, 2-3 channels, 1-3 days, capacities 0-3, 0-3 candidates per client whose
/// earliest day may fall after the period; profits in halves (exact, with many ties) or floats.
fn random_instance(rng: &mut ChaCha8Rng, halves: bool) -> (usize, Vec<Candidate>, Capacity) {
    let n = rng.random_range(0..=7usize);
    let channels = rng.random_range(2..=3usize);
    let days = rng.random_range(1..=3usize);
    let slots = (0..channels * days)
        .map(|_| rng.random_range(0..=3u32))
        .collect();
    let cap = Capacity::new(channels, days, slots).expect("shape");
    let mut cands = Vec::new();
    for x in 0..n {
        for _ in 0..rng.random_range(0..=3) {
            let profit = if halves {
                f64::from(rng.random_range(-4..=12i32)) / 2.0
            } else {
                rng.random_range(-3.0..10.0)
            };
            cands.push(cand(
                x as u32,
                rng.random_range(0..channels as u16),
                rng.random_range(0..=days as u16),
                profit,
            ));
        }
    }
    (n, cands, cap)
}

fn check_against_brute_force(seed: u64, halves: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (n, cands, cap) = random_instance(&mut rng, halves);
    let a = assign(n, &cands, &cap).expect("valid instance");
    let got = check_feasible(n, &cands, &cap, &a);
    let best = brute_force(n, &cands, &cap);
    if halves {
        // Halves add exactly: the whole lexicographic objective must match.
        assert_eq!(got, best, "seed {seed}: {cands:?} {cap:?}");
    } else {
        assert!((got.profit - best.profit).abs() < 1e-9, "seed {seed}");
    }
    for c in 0..cap.channels() {
        let plus = (0..cap.days())
            .map(|d| brute_force(n, &cands, &with_extra(&cap, c, d)).profit)
            .fold(f64::NEG_INFINITY, f64::max);
        let want = plus - best.profit;
        assert!(
            (a.marginal_value[c] - want).abs() < 1e-9,
            "seed {seed}: marginal of channel {c} is {}, brute force {want}",
            a.marginal_value[c]
        );
    }
}

#[test]
fn equals_exhaustive_search_on_small_instances_with_ties() {
    for seed in 0..2500 {
        check_against_brute_force(seed, true);
    }
}

#[test]
fn equals_exhaustive_search_on_small_instances_with_float_profits() {
    for seed in 10_000..11_500 {
        check_against_brute_force(seed, false);
    }
}

/// One contact a day on each channel.
fn one_each(channels: usize, days: usize) -> Capacity {
    Capacity::daily(days, &vec![1; channels]).expect("shape")
}

#[test]
fn beats_greedy_across_channels() {
    // Greedy gives client 0 its best (channel 0, 10) and client 1 nothing: 10.
    // The optimum moves client 0 to channel 1: 9 + 8 = 17.
    let cands = [cand(0, 0, 0, 10.0), cand(0, 1, 0, 9.0), cand(1, 0, 0, 8.0)];
    let a = assign(2, &cands, &one_each(2, 1)).expect("valid");
    assert_eq!(a.total_profit, 17.0);
    assert_eq!(a.chosen, vec![Some((1, 0)), Some((2, 0))]);
    assert_eq!(a.used, vec![vec![1], vec![1]]);
    // One more phone (channel 0) slot: client 0 back to 10, client 1 keeps 8: +1.
    // One more email (channel 1) slot: nobody else wants it: +0.
    assert_eq!(a.marginal_value, vec![1.0, 0.0]);
}

#[test]
fn beats_greedy_with_a_chain_of_two_reassignments() {
    // Greedy: A->0 (10), B->1 (8), C->2 (6) = 24, D left out.
    // Optimum: D->0 (9.5), A->1 (9), B->2 (7) = 25.5.
    let cands = [
        cand(0, 0, 0, 10.0),
        cand(0, 1, 0, 9.0),
        cand(1, 1, 0, 8.0),
        cand(1, 2, 0, 7.0),
        cand(2, 2, 0, 6.0),
        cand(3, 0, 0, 9.5),
    ];
    let a = assign(4, &cands, &one_each(3, 1)).expect("valid");
    assert_eq!(a.total_profit, 25.5);
    assert_eq!(
        a.chosen,
        vec![Some((1, 0)), Some((3, 0)), None, Some((5, 0))]
    );
    // Channel 0 +1: A back to 10 and B to 8, C to 7... A:10, D:9.5, B:8, C:6 = 33.5 (+8).
    // Channel 1 +1: A->1, B->1, D->0, C->2: 9 + 8 + 9.5 + 6 = 32.5 (+7).
    // Channel 2 +1: D->0, A->1, B->2, C->2: 9.5 + 9 + 7 + 6 = 31.5 (+6).
    assert_eq!(a.marginal_value, vec![8.0, 7.0, 6.0]);
}

#[test]
fn beats_greedy_on_days() {
    // Channel 0 only has room on day 0, channel 1 only on day 1. Client 0 (channel 0 for 10,
    // channel 1 from day 1 for 9); client 1 (channel 0 for 8). Greedy: 10. Optimum: 9 + 8.
    let cap = Capacity::from_rows(vec![vec![1, 0], vec![0, 1]]).expect("shape");
    let cands = [cand(0, 0, 0, 10.0), cand(0, 1, 1, 9.0), cand(1, 0, 0, 8.0)];
    let a = assign(2, &cands, &cap).expect("valid");
    assert_eq!(a.total_profit, 17.0);
    assert_eq!(a.chosen, vec![Some((1, 1)), Some((2, 0))]);
    assert_eq!(a.used, vec![vec![1, 0], vec![0, 1]]);
}

#[test]
fn two_days_for_three_clients_one_with_a_cooldown() {
    // One channel, one contact a day for two days. Clients 0 (10) and 1 (9) may go any day,
    // client 2 (8.5) only on day 1 (a cooldown). The two best take both days, earliest day to
    // the smaller index; client 2 is left out.
    let cap = Capacity::daily(2, &[1]).expect("shape");
    let cands = [cand(0, 0, 0, 10.0), cand(1, 0, 0, 9.0), cand(2, 0, 1, 8.5)];
    let a = assign(3, &cands, &cap).expect("valid");
    assert_eq!(a.total_profit, 19.0);
    assert_eq!(a.chosen, vec![Some((0, 0)), Some((1, 1)), None]);
    // One more contact on either day lets client 2 in: both clients 0 and 1 fit on days 0-1
    // with client 2 on day 1 (day 0 + 1), or client 1 moves next to client 2 (day 1 + 1).
    assert_eq!(a.marginal_value, vec![8.5]);
}

#[test]
fn ties_go_to_the_smaller_client() {
    let cands = [cand(2, 0, 0, 5.0), cand(1, 0, 0, 5.0), cand(0, 0, 0, 5.0)];
    let a = assign(3, &cands, &Capacity::daily(1, &[1]).expect("shape")).expect("valid");
    assert_eq!(a.chosen, vec![Some((2, 0)), None, None]);
}

#[test]
fn ties_go_to_the_earlier_day_then_the_smaller_client() {
    // A single client equally good on channel 0 from day 1 and on channel 1 from day 0.
    let cap = Capacity::daily(2, &[1, 1]).expect("shape");
    let a = assign(1, &[cand(0, 0, 1, 5.0), cand(0, 1, 0, 5.0)], &cap).expect("valid");
    assert_eq!(a.chosen, vec![Some((1, 0))]);

    // One channel, one contact a day for two days, three clients worth 5: every pair has day
    // sum 1; clients {0, 1} have the smallest index sum. Client 0 can only start on day 1.
    let cap = Capacity::daily(2, &[1]).expect("shape");
    let cands = [cand(2, 0, 0, 5.0), cand(1, 0, 0, 5.0), cand(0, 0, 1, 5.0)];
    let a = assign(3, &cands, &cap).expect("valid");
    assert_eq!(a.chosen, vec![Some((2, 1)), Some((1, 0)), None]);
}

#[test]
fn each_channel_is_scheduled_earliest_day_first_smaller_client_first() {
    let cap = Capacity::daily(3, &[2]).expect("shape");
    let cands = [
        cand(3, 0, 0, 1.0),
        cand(2, 0, 0, 2.0),
        cand(1, 0, 2, 3.0),
        cand(0, 0, 0, 4.0),
        cand(4, 0, 1, 5.0),
    ];
    let a = assign(5, &cands, &cap).expect("valid");
    // All five fit; day 0 takes the two smallest of {0, 2, 3}, day 1 takes 4 and 3, day 2 takes 1.
    assert_eq!(
        a.chosen,
        vec![
            Some((3, 0)),
            Some((2, 2)),
            Some((1, 0)),
            Some((0, 1)),
            Some((4, 1))
        ]
    );
    assert_eq!(a.used, vec![vec![2, 2, 1]]);
    assert_eq!(a.total_profit, 15.0);
}

#[test]
fn profits_are_compared_exactly() {
    // Two profits one ulp apart compete for one slot while a far larger profit sits elsewhere.
    let small = 1e-3f64;
    let next = f64::from_bits(small.to_bits() + 1);
    let cands = [
        cand(0, 0, 0, small),
        cand(1, 0, 0, next),
        cand(2, 1, 0, 1e6),
    ];
    let a = assign(3, &cands, &Capacity::daily(1, &[1, 1]).expect("shape")).expect("valid");
    assert_eq!(a.chosen, vec![None, Some((1, 0)), Some((2, 0))]);
    // And the value of one more unit is that ulp-sized profit itself.
    assert_eq!(a.marginal_value, vec![small, 0.0]);

    // Profits across the whole float range: the order still holds where it can be told.
    let cands = [
        cand(0, 0, 0, 1e-300),
        cand(1, 0, 0, 1e300),
        cand(2, 1, 0, 3e-300),
    ];
    let a = assign(3, &cands, &Capacity::daily(1, &[1, 1]).expect("shape")).expect("valid");
    assert_eq!(a.chosen, vec![None, Some((1, 0)), Some((2, 0))]);
    assert_eq!(a.total_profit, 1e300 + 3e-300);
}

fn medium_instance(seed: u64, n: usize) -> (Vec<Candidate>, Capacity) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cands = Vec::new();
    for x in 0..n as u32 {
        for _ in 0..rng.random_range(1..=4) {
            // Coarse profits: many exact ties.
            let profit = f64::from(rng.random_range(-20..100i32)) / 4.0;
            cands.push(cand(
                x,
                rng.random_range(0..4),
                rng.random_range(0..8),
                profit,
            ));
        }
    }
    let cap = Capacity::from_rows(
        (0..4)
            .map(|_| (0..7).map(|_| rng.random_range(0..60)).collect())
            .collect(),
    )
    .expect("shape");
    (cands, cap)
}

/// Per client, what was chosen, independent of candidate positions.
fn choices(cands: &[Candidate], a: &Assignment) -> Vec<Option<(u16, u16, u64, u16)>> {
    a.chosen
        .iter()
        .map(|c| {
            c.map(|(i, day)| {
                let k = cands[i];
                (k.channel, k.earliest_day, k.profit.to_bits(), day)
            })
        })
        .collect()
}

#[test]
fn deterministic_across_runs_shuffles_and_thread_counts() {
    let n = 3000;
    let (cands, cap) = medium_instance(7, n);
    let a = assign(n, &cands, &cap).expect("valid");
    let b = assign(n, &cands, &cap).expect("valid");
    assert_eq!(
        serde_json::to_string(&a).expect("json"),
        serde_json::to_string(&b).expect("json")
    );
    check_feasible(n, &cands, &cap, &a);

    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let c = pool.install(|| assign(n, &cands, &cap).expect("valid"));
        assert_eq!(c, a, "{threads} threads");
    }

    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for _ in 0..3 {
        let mut shuffled = cands.clone();
        shuffled.shuffle(&mut rng);
        let s = assign(n, &shuffled, &cap).expect("valid");
        assert_eq!(s.total_profit.to_bits(), a.total_profit.to_bits());
        assert_eq!(choices(&shuffled, &s), choices(&cands, &a));
        assert_eq!(s.used, a.used);
        assert_eq!(s.marginal_value, a.marginal_value);
    }
}

#[test]
fn zero_capacity_plans_nothing_and_values_the_best_candidate() {
    let cap = Capacity::daily(3, &[0, 0]).expect("shape");
    let cands = [
        cand(0, 0, 0, 4.0),
        cand(1, 0, 2, 6.0),
        cand(1, 1, 0, -1.0),
        cand(2, 1, 3, 9.0),
    ];
    let a = assign(3, &cands, &cap).expect("valid");
    assert_eq!(a.chosen, vec![None; 3]);
    assert_eq!(a.total_profit, 0.0);
    assert_eq!(a.used, vec![vec![0; 3]; 2]);
    // Channel 0: one slot lets client 1 in (6, on day 2). Channel 1: only a negative candidate
    // and one outside the period.
    assert_eq!(a.marginal_value, vec![6.0, 0.0]);
}

#[test]
fn no_candidates_and_no_clients() {
    let cap = Capacity::daily(7, &[150, 20]).expect("shape");
    let a = assign(5, &[], &cap).expect("valid");
    assert_eq!(a.chosen, vec![None; 5]);
    assert_eq!(a.total_profit, 0.0);
    assert_eq!(a.marginal_value, vec![0.0, 0.0]);
    let a = assign(0, &[], &cap).expect("valid");
    assert!(a.chosen.is_empty());
    assert_eq!(a.contacts(), 0);
}

#[test]
fn all_negative_or_zero_profits_plan_nothing() {
    let cap = Capacity::daily(2, &[5, 5]).expect("shape");
    let cands = [cand(0, 0, 0, -1.0), cand(1, 1, 1, 0.0), cand(1, 0, 0, -0.5)];
    let a = assign(2, &cands, &cap).expect("valid");
    assert_eq!(a.chosen, vec![None, None]);
    assert_eq!(a.total_profit, 0.0);
    assert_eq!(a.marginal_value, vec![0.0, 0.0]);
}

#[test]
fn capacity_beyond_the_clients_gives_everyone_their_best() {
    let n = 200;
    let (cands, _) = medium_instance(3, n);
    let cap = Capacity::daily(7, &[1000; 4]).expect("shape");
    let a = assign(n, &cands, &cap).expect("valid");
    check_feasible(n, &cands, &cap, &a);
    let mut best = vec![0.0f64; n];
    for c in &cands {
        if c.earliest_day < 7 {
            best[c.client as usize] = best[c.client as usize].max(c.profit);
        }
    }
    for (x, c) in a.chosen.iter().enumerate() {
        let got = c.map_or(0.0, |(i, _)| cands[i].profit);
        assert_eq!(got, best[x], "client {x}");
        // With room everywhere the contact is on its earliest day.
        if let Some((i, day)) = c {
            assert_eq!(*day, cands[*i].earliest_day);
        }
    }
    assert_eq!(a.marginal_value, vec![0.0; 4]);
}

#[test]
fn an_earliest_day_after_the_period_is_not_schedulable() {
    let cap = Capacity::daily(3, &[1]).expect("shape");
    let a = assign(2, &[cand(0, 0, 3, 50.0), cand(1, 0, 2, 1.0)], &cap).expect("valid");
    assert_eq!(a.chosen, vec![None, Some((1, 2))]);
    let a = assign(
        1,
        &[cand(0, 0, 0, 1.0)],
        &Capacity::new(1, 0, vec![]).expect("shape"),
    )
    .expect("valid");
    assert_eq!(a.chosen, vec![None]);
    assert_eq!(a.used, vec![Vec::<u32>::new()]);
}

#[test]
fn the_last_of_65536_days_is_schedulable() {
    let days = usize::from(u16::MAX) + 1;
    let mut slots = vec![0; days];
    slots[days - 1] = 1;
    let cap = Capacity::new(1, days, slots).expect("shape");
    let a = assign(2, &[cand(0, 0, u16::MAX, 3.0), cand(1, 0, 0, 2.0)], &cap).expect("valid");
    assert_eq!(a.chosen, vec![Some((0, u16::MAX)), None]);
    assert_eq!(a.marginal_value, vec![2.0]);
}

#[test]
fn bad_inputs_are_named() {
    let cap = Capacity::daily(2, &[1, 1]).expect("shape");
    assert_eq!(
        assign(2, &[cand(0, 0, 0, 1.0), cand(2, 0, 0, 1.0)], &cap),
        Err(AssignError::ClientOutOfRange {
            index: 1,
            client: 2,
            n_clients: 2
        })
    );
    assert_eq!(
        assign(2, &[cand(1, 2, 0, 1.0)], &cap),
        Err(AssignError::ChannelOutOfRange {
            index: 0,
            channel: 2,
            channels: 2
        })
    );
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = assign(2, &[cand(1, 0, 0, 2.0), cand(1, 1, 0, bad)], &cap).unwrap_err();
        assert!(
            matches!(err, AssignError::NonFiniteProfit { index: 1, .. }),
            "{err}"
        );
    }
    assert_eq!(
        Capacity::new(2, 3, vec![1; 5]),
        Err(AssignError::CapacityShape {
            channels: 2,
            days: 3,
            len: 5
        })
    );
    assert_eq!(
        Capacity::from_rows(vec![vec![1, 2], vec![3]]),
        Err(AssignError::RaggedCapacity {
            channel: 1,
            len: 1,
            expected: 2
        })
    );
    assert!(matches!(
        Capacity::new(70_000, 1, vec![0; 70_000]),
        Err(AssignError::CapacityTooLarge { .. })
    ));
    // A capacity read from JSON is validated like one built in code.
    let cap = Capacity::from_rows(vec![vec![150, 0, 3], vec![20, 20, 20]]).expect("shape");
    let json = serde_json::to_string(&cap).expect("json");
    assert_eq!(json, "[[150,0,3],[20,20,20]]");
    assert_eq!(serde_json::from_str::<Capacity>(&json).expect("valid"), cap);
    let err = serde_json::from_str::<Capacity>("[[1,2],[3]]").unwrap_err();
    assert!(err.to_string().contains("channel 1 has 1 days"), "{err}");
    let empty = Capacity::new(2, 0, vec![]).expect("shape");
    let back: Capacity =
        serde_json::from_str(&serde_json::to_string(&empty).expect("json")).expect("valid");
    assert_eq!(back, empty);

    let msg = AssignError::ClientOutOfRange {
        index: 1,
        client: 2,
        n_clients: 2,
    }
    .to_string();
    assert!(
        msg.contains("candidate 1") && msg.contains("client 2"),
        "{msg}"
    );
}
