//! Criterion bench of the planner at the scale of BENCHMARK.md section 8 (Online Retail II
//! replicated x100: 563,057 clients) with a contacts history of 5 million contacts: the
//! shrinkage fits (channels, windows), every client's next best contact, the candidates and
//! the exact assignment. The books are built in memory from a seed (the product path that
//! reads the files and writes the plan is timed by `cargo run --release --example
//! plan_scale`).

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_plan::book::{ClientBook, ContactBook, LocalContact};
use retain_plan::config::PlanConfig;
use retain_plan::plan::{PlanInputs, plan};
use retain_plan::shrink::Counts;
use std::hint::black_box;

const CLIENTS: usize = 563_057;
const CONTACTS: usize = 5_000_000;

fn books(config: &PlanConfig) -> (ClientBook, ContactBook) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = CLIENTS;
    let mut cb = ClientBook {
        ids: (0..n as i64).map(|i| 10_000 + i).collect(),
        ..ClientBook::default()
    };
    for _ in 0..n {
        let p: f64 = rng.random();
        cb.p_churn.push(p);
        cb.value.push(rng.random_range(0.0..2_000.0) * (1.0 - p));
        cb.recency.push(rng.random_range(0.0..700.0));
        cb.frequency.push(f64::from(rng.random_range(1..40u32)));
        cb.monetary.push(rng.random_range(0.0..20_000.0));
        cb.mean_order_value.push(rng.random_range(20.0..800.0));
        cb.habit
            .push(Some((rng.random_range(0..7u8), rng.random_range(7..20u8))));
    }
    cb.has_value_model = true;
    cb.set_attributes(config, None).expect("no attributes");
    let mut book = ContactBook::empty(n, config);
    let nc = config.channels.len();
    let mut per_client = vec![0u32; n];
    for _ in 0..CONTACTS {
        per_client[rng.random_range(0..n)] += 1;
    }
    let mut offset = 0u32;
    for (i, &k) in per_client.iter().enumerate() {
        book.offsets[i] = offset;
        let favourite = rng.random_range(0..nc);
        for _ in 0..k {
            let c = rng.random_range(0..nc);
            let answered = rng.random_bool(if c == favourite { 0.5 } else { 0.15 });
            let counts: &mut Counts = &mut book.counts[i * nc + c];
            counts.attempts += 1;
            counts.responses += u32::from(answered);
            book.events.push(LocalContact {
                channel: c as u8,
                weekday: rng.random_range(0..5u8),
                hour: rng.random_range(9..18u8),
                answered,
            });
        }
        book.in_log[i] = k > 0;
        offset += k;
    }
    book.offsets[n] = offset;
    (cb, book)
}

fn bench(c: &mut Criterion) {
    let config = PlanConfig::default();
    let (cb, book) = books(&config);
    let effects = BTreeMap::new();
    let start = chrono::NaiveDate::from_ymd_opt(2011, 12, 10).expect("date");
    let mut g = c.benchmark_group("plan");
    g.sample_size(10);
    g.bench_function("563k_clients_5m_contacts", |b| {
        b.iter(|| {
            black_box(
                plan(
                    &config,
                    PlanInputs {
                        clients: &cb,
                        contacts: &book,
                        effects: &effects,
                        offers: None,
                        start,
                    },
                )
                .expect("a plan"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
