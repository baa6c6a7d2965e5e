//! The streamed read: `retain score` on Online Retail II written as a data lake would hold it
//! (`retain generate --replicate 1 --buckets 4`) reads it part by part within a memory limit
//! that a one-piece read of the same lines exceeds, and writes the one-piece run's files byte
//! for byte, with the scoring date given or not; `--format json` reports each stage's time and
//! peak heap.

use std::path::Path;
use std::process::Command;

use super::{shared, text};

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_retain"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("the retain binary runs")
}

fn ok(dir: &Path, env: &[(&str, &str)], args: &[&str]) {
    let o = run(dir, env, args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "retain {args:?}\n{out}\n{err}");
}

/// Online Retail II as a data lake holds it: `retain generate --replicate 1 --buckets 4` of
/// `orii` into `d`, four hive folders by client hash; the folder's path under `d`.
fn orii_lake(d: &Path, orii: &str) -> &'static str {
    ok(
        d,
        &[],
        &[
            "-q",
            "generate",
            "--replicate",
            "1",
            "--buckets",
            "4",
            "-i",
            orii,
            "-o",
            "lake",
        ],
    );
    "lake/orii_x1_b4"
}

#[test]
fn a_memory_limit_below_the_one_piece_read_gives_the_one_piece_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let orii = shared("online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz");
    ok(
        d,
        &[],
        &["-q", "generate", "-n", "400", "--seed", "5", "-o", "data"],
    );
    ok(d, &[], &["-q", "train", "-i", "data/transactions.csv.gz"]);
    let lake = orii_lake(d, orii.to_str().unwrap());
    assert_eq!(
        std::fs::read_dir(d.join(lake)).unwrap().count(),
        4,
        "four hive folders by client hash"
    );
    // one piece, no limit
    let one = [("RETAIN_PART_LINES", "100000000")];
    ok(d, &one, &["-q", "score", "-i", lake, "-o", "one/scores"]);
    // one piece under the limit: refused cleanly
    let o = run(
        d,
        &one,
        &[
            "-q",
            "score",
            "-i",
            lake,
            "--memory-limit",
            "80M",
            "-o",
            "one80/scores",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--memory-limit 80.0 MiB"), "{err}");
    assert!(!d.join("one80/scores.csv").exists(), "nothing written");
    // in parts (one per folder) under the same limit: the one-piece files
    let o = run(
        d,
        &[],
        &[
            "score",
            "-i",
            lake,
            "--memory-limit",
            "80M",
            "-o",
            "parts/scores",
            "--format",
            "json",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    for f in ["scores.csv", "scores.parquet"] {
        assert!(
            std::fs::read(d.join("parts").join(f)).unwrap()
                == std::fs::read(d.join("one").join(f)).unwrap(),
            "{f}: the streamed run's file differs from the one-piece run's"
        );
    }
    let stages = doc["stages"].as_array().unwrap();
    let names: Vec<&str> = stages
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["read", "score", "write"]);
    let cpu = stages[0]["cpu_seconds"].as_f64().unwrap();
    assert!(cpu > 0.0, "the read's CPU time {cpu}");
    let peak = stages[0]["peak_bytes"].as_u64().unwrap();
    assert!(
        peak > 0 && peak < 80 << 20,
        "read peak {peak} within the limit"
    );
    // with the date known before the reading, each part's features are computed as it
    // arrives and its condensed tables dropped: the same files
    ok(
        d,
        &[],
        &[
            "-q",
            "score",
            "-i",
            lake,
            "--date",
            "2011-12-09",
            "--memory-limit",
            "80M",
            "-o",
            "dated/scores",
        ],
    );
    for f in ["scores.csv", "scores.parquet"] {
        assert!(
            std::fs::read(d.join("dated").join(f)).unwrap()
                == std::fs::read(d.join("one").join(f)).unwrap(),
            "{f}: the run with --date differs from the one-piece run"
        );
    }
}

#[test]
fn an_input_not_clustered_by_client_is_partitioned_through_temporary_files() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(
        d,
        &[],
        &["-q", "generate", "-n", "400", "--seed", "5", "-o", "data"],
    );
    ok(d, &[], &["-q", "train", "-i", "data/transactions.csv.gz"]);
    // the lines dealt round-robin into four CSV files: every client's lines in several files
    let mut csv = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(d.join("data/transactions.csv.gz")).unwrap())
        .read_to_string(&mut csv)
        .unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let mut files = vec![format!("{header}\n"); 4];
    for (i, line) in lines.enumerate() {
        files[i % 4].push_str(line);
        files[i % 4].push('\n');
    }
    std::fs::create_dir(d.join("split")).unwrap();
    for (k, f) in files.iter().enumerate() {
        std::fs::write(d.join(format!("split/part-{k}.csv")), f).unwrap();
    }
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let tmp_env = tmp.to_str().unwrap();
    // one piece
    ok(
        d,
        &[("RETAIN_PART_LINES", "100000000")],
        &["-q", "score", "-i", "split", "-o", "one/scores"],
    );
    // the one-piece run's date (the data's last day), to give up front
    let summary = std::fs::read_to_string(d.join("one/summary.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let last_day = doc["date"]
        .as_str()
        .expect("summary.json has the date")
        .to_string();
    // a part per file: no part holds whole clients, so the lines go through temporary files
    for (name, date) in [("parts", None), ("dated", Some(last_day.as_str()))] {
        let out = format!("{name}/scores");
        let mut args = vec!["score", "-i", "split", "-o", &out];
        if let Some(date) = date {
            args.extend(["--date", date]);
        }
        let o = run(
            d,
            &[("RETAIN_PART_LINES", "1000"), ("TMPDIR", tmp_env)],
            &args,
        );
        let (stdout, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{stdout}\n{err}");
        assert!(
            err.contains("neither sorted nor partitioned by client")
                && err.contains("partitioning its lines by client into 4 temporary files"),
            "{err}"
        );
        for f in ["scores.csv", "scores.parquet", "summary.json"] {
            assert!(
                std::fs::read(d.join(name).join(f)).unwrap()
                    == std::fs::read(d.join("one").join(f)).unwrap(),
                "{f}: the partitioned run's file differs from the one-piece run's"
            );
        }
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "the temporary files are removed"
        );
    }
}

#[test]
fn training_reads_in_parts_within_a_memory_limit_and_fits_the_one_piece_models() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let orii = shared("online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz");
    let orii = orii.to_str().unwrap();
    let lake = orii_lake(d, orii);
    let train = |env: &[(&str, &str)], input: &str, out: &str, extra: &[&str]| {
        let (c, v) = (format!("{out}/churn"), format!("{out}/value"));
        let mut args = vec![
            "-q",
            "train",
            "-i",
            input,
            "--model",
            "logistic",
            "--value-model",
            "clv",
            "-m",
            &c,
            "--value-model-dir",
            &v,
        ];
        args.extend_from_slice(extra);
        run(d, env, &args)
    };
    let limit = ["--memory-limit", "80M"];
    // the lake read in one piece under the limit: refused cleanly, nothing written
    let o = train(&[("RETAIN_PART_LINES", "100000000")], lake, "one80", &limit);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--memory-limit 80.0 MiB"), "{err}");
    assert!(!d.join("one80/churn").exists(), "nothing written");
    // in parts (one per hive folder, the clients not ascending from one to the next) under
    // the same limit, and the original file read in one piece: the same models, and cards
    // that differ only in the input's path (the lines' fingerprint is the same)
    for (input, out, extra) in [(lake, "parts", &limit[..]), (orii, "file", &[][..])] {
        let o = train(&[], input, out, extra);
        let (stdout, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{stdout}\n{err}");
    }
    for model in ["churn", "value"] {
        let read = |out: &str, f: &str| std::fs::read(d.join(out).join(model).join(f)).unwrap();
        assert!(
            read("parts", "model.json") == read("file", "model.json"),
            "{model}: the model trained in parts differs from the one-piece model"
        );
        let card = |out: &str| -> serde_json::Value {
            let mut c: serde_json::Value = serde_json::from_slice(&read(out, "card.json")).unwrap();
            c["data_source"]
                .as_object_mut()
                .unwrap()
                .remove("path")
                .expect("the card names the input");
            c
        };
        assert_eq!(card("parts"), card("file"), "{model}: the cards differ");
        assert_eq!(
            card("parts")["data_source"]["lines_sha256"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }
}
