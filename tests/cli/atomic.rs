//! All or nothing: a `score` run killed at any moment leaves either the previous complete run
//! or no manifest (never a mixed set that claims to be one), the next run cleans up after it,
//! and four runs at once each write the same list as one run alone.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::{retain, text};

fn ok(dir: &Path, args: &[&str]) {
    let o = retain(dir, args);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "retain {args:?}: {err}");
}

/// A trained pair of models on a simulated base, in `dir`.
fn trained(dir: &Path) {
    ok(
        dir,
        &["-q", "generate", "-n", "3000", "--seed", "11", "-o", "data"],
    );
    ok(
        dir,
        &[
            "-q",
            "train",
            "-i",
            "data/transactions.csv.gz",
            "--model",
            "logistic",
            "--value-model",
            "clv",
        ],
    );
}

fn score_args(out: &str) -> Vec<String> {
    [
        "-q",
        "score",
        "-i",
        "data/transactions.csv.gz",
        "-m",
        "models/churn",
        "--value-model",
        "models/value",
        "--json-lines",
        "-o",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn spawn(dir: &Path, out: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_retain"))
        .args(score_args(out))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("retain starts")
}

/// Whether the folder holds one complete run: its manifest exists and every file it lists has
/// the size and SHA-256 it states. `None` when there is no manifest.
fn complete(folder: &Path) -> Option<Result<(), String>> {
    let text = std::fs::read_to_string(folder.join("summary.json")).ok()?;
    let summary: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Some(Err(format!("summary.json does not parse: {e}"))),
    };
    let files = summary["files"].as_array().cloned().unwrap_or_default();
    if files.len() != 3 {
        return Some(Err(format!("manifest lists {} files", files.len())));
    }
    for f in files {
        let name = f["name"].as_str().unwrap_or_default();
        let bytes = std::fs::read(folder.join(name)).unwrap_or_default();
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if f["sha256"].as_str() != Some(sha.as_str()) || f["bytes"] != bytes.len() {
            return Some(Err(format!("{name} does not match the manifest")));
        }
    }
    Some(Ok(()))
}

fn temporaries(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && (n.ends_with(".tmp") || n.contains(".part.")))
        .collect()
}

fn files(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = [
        "scores.csv",
        "scores.parquet",
        "scores.jsonl",
        "summary.json",
    ]
    .iter()
    .map(|n| {
        (
            n.to_string(),
            std::fs::read(folder.join(n)).unwrap_or_default(),
        )
    })
    .collect();
    v.sort();
    v
}

#[test]
fn a_score_killed_at_any_moment_never_leaves_a_mixed_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trained(d);
    // the reference, and how long one run takes
    let start = Instant::now();
    ok(
        d,
        &score_args("ref/")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let took = start.elapsed();
    assert_eq!(complete(&d.join("ref")), Some(Ok(())));
    let reference = files(&d.join("ref"));

    // an earlier complete run in `out/`, then runs killed at 5% to 99% of a run's time
    ok(
        d,
        &score_args("out/")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let out = d.join("out");
    let mut states = [0usize; 2];
    for pct in [5u32, 20, 40, 60, 75, 85, 90, 93, 95, 97, 98, 99] {
        let mut child = spawn(d, "out/");
        std::thread::sleep(took * pct / 100);
        let _ = child.kill(); // SIGKILL: no chance to clean up
        let _ = child.wait();
        match complete(&out) {
            Some(Ok(())) => {
                states[0] += 1;
                assert_eq!(
                    files(&out),
                    reference,
                    "killed at {pct}%: a complete run is the run"
                );
            }
            Some(Err(e)) => panic!("killed at {pct}%: a manifest that lies: {e}"),
            None => states[1] += 1,
        }
    }
    // the next run completes and removes what the killed runs left
    ok(
        d,
        &score_args("out/")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(complete(&out), Some(Ok(())));
    assert_eq!(files(&out), reference);
    assert_eq!(
        temporaries(&out),
        Vec::<String>::new(),
        "states seen: {states:?}"
    );
}

#[test]
fn four_scores_at_once_each_write_the_list_of_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trained(d);
    ok(
        d,
        &score_args("ref/")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let reference = files(&d.join("ref"));
    // four folders, then one folder shared by four runs
    for outs in [["a/", "b/", "c/", "e/"], ["s/", "s/", "s/", "s/"]] {
        let children: Vec<_> = outs.iter().map(|o| spawn(d, o)).collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert_eq!(
                o.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        for o in outs {
            let folder = d.join(o);
            assert_eq!(complete(&folder), Some(Ok(())), "{o}");
            assert_eq!(files(&folder), reference, "{o}");
            assert_eq!(temporaries(&folder), Vec::<String>::new(), "{o}");
        }
    }
}

#[test]
fn a_run_past_its_memory_limit_stops_with_a_message_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    trained(d);
    ok(
        d,
        &score_args("out/")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let before = files(&d.join("out"));
    let mut args = vec!["--memory-limit".to_string(), "10M".to_string()];
    args.extend(score_args("out/"));
    let o = retain(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ")
            && err.contains("--memory-limit")
            && err.contains("--memory-limit 10.0 MiB"),
        "{err}"
    );
    assert_eq!(
        files(&d.join("out")),
        before,
        "the earlier run is untouched"
    );
    // a limit that is no size is a usage error
    let o = retain(
        d,
        &["--memory-limit", "lots", "score", "-i", "x.csv", "-m", "m"],
    );
    assert_eq!(o.status.code(), Some(2));
}
