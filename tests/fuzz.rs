//! Every reader against proptest's malformed files: no panic, and every refusal of a data
//! file names the file (the generators: `crates/retain-fuzz`). A short run in every `cargo
//! test`; `scripts/fuzz.sh` runs the long
//! one (`RETAIN_FUZZ_SECONDS`, default 600) and prints the tally.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use retain_fuzz::{Outcome, Seeds, Tally, Target, apply, mutations, run_case};

/// Runs `batch` cases per target per round, rounds seeded 0, 1, 2, ... until `budget` is
/// spent (at least one round). Returns the tally per target.
fn fuzz(budget: Duration, batch: u32) -> BTreeMap<Target, Tally> {
    // the panics are caught and counted; their default report would flood the output
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let seeds = Seeds::new(std::path::Path::new(env!("CARGO_BIN_EXE_retain")));
    let start = Instant::now();
    let mut tally: BTreeMap<Target, Tally> = BTreeMap::new();
    let mut n = 0u64;
    let mut round = 0u8;
    loop {
        for target in Target::ALL {
            let mut seed = [0u8; 32];
            seed[0] = round;
            seed[1] = target as u8;
            let mut runner = TestRunner::new_with_rng(
                Config {
                    cases: batch,
                    failure_persistence: None,
                    ..Config::default()
                },
                TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
            );
            let t = tally.entry(target).or_default();
            let strategy = mutations();
            for _ in 0..batch {
                let Ok(tree) = strategy.new_tree(&mut runner) else {
                    continue;
                };
                n += 1;
                let bytes = apply(seeds.seed(target), &tree.current());
                t.add(&run_case(&seeds, target, &bytes, n));
            }
        }
        round = round.wrapping_add(1);
        if start.elapsed() >= budget {
            break;
        }
    }
    std::panic::set_hook(hook);
    tally
}

fn report(tally: &BTreeMap<Target, Tally>) -> String {
    let mut s = format!(
        "{:<22} {:>7} {:>7} {:>8} {:>8} {:>7}\n",
        "target", "cases", "read", "refused", "unnamed", "panics"
    );
    for (t, c) in tally {
        s.push_str(&format!(
            "{:<22} {:>7} {:>7} {:>8} {:>8} {:>7}\n",
            format!("{t:?}"),
            c.cases,
            c.read,
            c.refused,
            c.unnamed.len(),
            c.panics.len()
        ));
    }
    s
}

fn assert_clean(tally: &BTreeMap<Target, Tally>) {
    let table = report(tally);
    for (t, c) in tally {
        assert!(
            c.panics.is_empty(),
            "{t:?} panicked: {:?}\n{table}",
            &c.panics[..c.panics.len().min(5)]
        );
        assert!(
            c.unnamed.is_empty(),
            "{t:?} refused without naming the file: {:?}\n{table}",
            &c.unnamed[..c.unnamed.len().min(5)]
        );
        assert!(c.cases > 0);
    }
}

#[test]
fn malformed_files_are_refused_clearly_never_with_a_panic() {
    let tally = fuzz(Duration::ZERO, 12);
    assert_clean(&tally);
    // the mutations reach both sides: some cases still read, most are refused
    let refused: u64 = tally.values().map(|c| c.refused).sum();
    assert!(refused > 0, "{}", report(&tally));
}

/// The long run: `RETAIN_FUZZ_SECONDS=600 cargo test --release --test fuzz -- --ignored
/// --nocapture` (what `scripts/fuzz.sh` does).
#[test]
#[ignore = "long: run by scripts/fuzz.sh"]
fn fuzz_for_a_while() {
    let secs: u64 = std::env::var("RETAIN_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let start = Instant::now();
    let tally = fuzz(Duration::from_secs(secs), 200);
    println!(
        "{} cases in {:.0} s\n{}",
        tally.values().map(|c| c.cases).sum::<u64>(),
        start.elapsed().as_secs_f64(),
        report(&tally)
    );
    assert_clean(&tally);
}

#[test]
fn an_unchanged_seed_reads() {
    let seeds = Seeds::new(std::path::Path::new(env!("CARGO_BIN_EXE_retain")));
    for t in Target::ALL {
        assert_eq!(
            run_case(&seeds, t, seeds.seed(t), 0),
            Outcome::Read,
            "{t:?}"
        );
    }
}
