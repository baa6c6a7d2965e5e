//! Criterion bench of the exact contact assignment at the target scale: 563,057 clients (the
//! x100 Online Retail II base), 4 channels over 7 days, 2-4 candidates per client (about 1.7
//! million).
//!
//! * `retail`: capacities phone 150, email 20,000, sms 3,000 and meeting 20 a day (162,190
//!   contacts in all), each channel with its own uplift and cost;
//! * `contested`: the four channels equally good (same uplift, same cost, so a client's
//!   preference is noise) but with uneven capacities (1,000, 12,000, 3,000 and 30,000 a day):
//!   the small channels fill early and about 27,000 of the 297,699 augmenting paths reassign
//!   someone, the hard case for the algorithm.

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use retain_plan::assign::{Candidate, Capacity, assign};
use std::hint::black_box;
use std::time::Instant;

const CLIENTS: usize = 563_057;
const DAYS: usize = 7;

/// Per channel (phone, email, sms, meeting): contacts a day, the share of a client's value at
/// risk that a contact saves, and its cost.
struct Economics {
    per_day: [u32; 4],
    uplift: [f64; 4],
    cost: [f64; 4],
}

const RETAIL: Economics = Economics {
    per_day: [150, 20_000, 3_000, 20],
    uplift: [0.25, 0.03, 0.06, 0.45],
    cost: [3.0, 0.02, 0.15, 12.0],
};

const CONTESTED: Economics = Economics {
    per_day: [1_000, 12_000, 3_000, 30_000],
    uplift: [0.1; 4],
    cost: [0.5; 4],
};

/// Each client: a value (lognormal, median 20), a churn risk, and 2-4 candidate actions on
/// random channels (a channel may come twice, with another cooldown and uplift); 65% of the
/// actions are allowed from day 0, the others after a cooldown of 1-6 days. Profit = value x
/// risk x uplift x noise - cost, so some are negative.
fn instance(seed: u64, economics: &Economics) -> Vec<Candidate> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let value = LogNormal::new(3.0, 1.0).expect("valid");
    let noise = LogNormal::new(0.0, 0.3).expect("valid");
    let mut cands = Vec::with_capacity(CLIENTS * 3);
    for client in 0..CLIENTS as u32 {
        let v: f64 = value.sample(&mut rng);
        let risk: f64 = rng.random();
        for _ in 0..rng.random_range(2..=4) {
            let channel = rng.random_range(0..4u16);
            let earliest_day = if rng.random_bool(0.65) {
                0
            } else {
                rng.random_range(1..DAYS as u16)
            };
            let c = usize::from(channel);
            let profit =
                v * risk * economics.uplift[c] * noise.sample(&mut rng) - economics.cost[c];
            cands.push(Candidate {
                client,
                channel,
                earliest_day,
                profit,
            });
        }
    }
    cands
}

/// CPU seconds used so far by this process, all threads (Linux `/proc/self/stat`, fields 14
/// and 15, at 100 ticks a second): unlike wall time, it barely moves when other work shares
/// the machine.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("assign");
    g.sample_size(10);
    for (name, economics) in [("retail", &RETAIL), ("contested", &CONTESTED)] {
        let cands = instance(42, economics);
        let cap = Capacity::daily(DAYS, &economics.per_day).expect("valid capacity");
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let a = assign(CLIENTS, &cands, &cap).expect("valid instance");
        let (wall, cpu) = (
            start.elapsed().as_secs_f64(),
            cpu_seconds().zip(cpu).map(|(b, a)| b - a),
        );
        eprintln!(
            "{name}: {CLIENTS} clients, {} candidates ({} positive), {} contacts, total profit \
             {:.2}, contacts per channel {:?}, marginal value per channel {:?}; one call \
             {wall:.3} s wall, {} s CPU",
            cands.len(),
            cands.iter().filter(|c| c.profit > 0.0).count(),
            a.contacts(),
            a.total_profit,
            a.used
                .iter()
                .map(|d| d.iter().sum::<u32>())
                .collect::<Vec<_>>(),
            a.marginal_value,
            cpu.map_or("?".to_string(), |c| format!("{c:.2}")),
        );
        g.bench_function(format!("{name}_563057_clients_4_channels_7_days"), |b| {
            b.iter(|| assign(CLIENTS, black_box(&cands), &cap).expect("valid"))
        });
    }
    g.finish();
}

criterion_group!(assign_benches, benches);
criterion_main!(assign_benches);
