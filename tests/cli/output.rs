//! What the terminal shows: `--format json` prints exactly one JSON document on stdout for
//! every command, the text output has aligned tables with headers, `--quiet` prints nothing,
//! `--verbose` times each step.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use super::{retain, text};

const INPUT: &str = "data/transactions.csv.gz";

/// Runs `retain args...` and returns (stdout, stderr), asserting exit code 0.
fn run(dir: &Path, args: &[&str]) -> (String, String) {
    let o = retain(dir, args);
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "retain {args:?}\nstdout: {out}\nstderr: {err}"
    );
    (out, err)
}

/// Runs `retain args... --format json` and parses stdout as one JSON document.
fn json(dir: &Path, args: &[&str]) -> Value {
    let (out, err) = run(dir, &[args, &["--format", "json"]].concat());
    // progress is hidden off a terminal and nothing went wrong: stderr stays empty
    assert_eq!(err, "", "retain {args:?}: stderr");
    serde_json::from_str(&out).unwrap_or_else(|e| {
        panic!("retain {args:?}: stdout is not one JSON document ({e}):\n{out}")
    })
}

/// A 400-client sample with trained models, shared by the tests of this module.
fn trained() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        run(
            dir.path(),
            &["generate", "-n", "400", "--seed", "5", "-o", "data"],
        );
        run(dir.path(), &["train", "-q", "-i", INPUT]);
        dir
    })
    .path()
}

/// The keys of an object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn generate_features_and_train_print_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let g = json(d, &["generate", "-n", "200", "--seed", "3", "-o", "data"]);
    assert_eq!(g["clients"], 200);
    assert_eq!(g["seed"], 3);
    assert!(g["lines"].as_u64().unwrap() > 1000, "{g}");
    assert_eq!(g["outputs"]["transactions"], "data/transactions.csv.gz");
    assert!(d.join("data/truth.json").exists());

    let f = json(
        d,
        &["features", "-i", INPUT, "--labels", "91", "-o", "f.csv"],
    );
    assert_eq!(f["read"]["lines_read"], g["lines"]);
    assert_eq!(f["read"]["clients"], 200);
    assert_eq!(f["clients"], 200);
    assert_eq!(f["labels_days"], 91);
    let columns: Vec<&str> = f["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(columns.contains(&"churned"), "{columns:?}");
    assert_eq!(f["outputs"]["features"], "f.csv");
    let csv = std::fs::read_to_string(d.join("f.csv")).unwrap();
    assert_eq!(csv.lines().count(), 201);

    let t = json(
        d,
        &["train", "-i", INPUT, "-m", "c", "--value-model-dir", "v"],
    );
    for k in [
        "read",
        "protocol",
        "churn_model",
        "value_model",
        "selection",
        "outputs",
    ] {
        assert!(t.get(k).is_some(), "{k} in {:?}", keys(&t));
    }
    let sel = &t["selection"];
    assert_eq!(t["churn_model"]["candidate"], sel["churn_model"]);
    assert_eq!(t["value_model"]["candidate"], sel["value_model"]);
    assert!(
        sel["churn_validation"].as_object().unwrap().len() >= 7,
        "{sel}"
    );
    assert!(
        sel["value_validation"].as_object().unwrap().len() >= 4,
        "{sel}"
    );
    assert_eq!(t["outputs"]["churn_model"], "c");
    assert!(d.join("c/card.json").exists() && d.join("v/card.json").exists());
    // each stage's cost, in the order run: the selection only because a model is `auto`
    let stage_names = |t: &Value| -> Vec<String> {
        t["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["stage"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(stage_names(&t), ["read", "select", "fit", "save"]);
    for s in t["stages"].as_array().unwrap() {
        assert!(s["seconds"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(s["peak_bytes"].as_u64().unwrap() > 0, "{s}");
    }
    let select = &t["stages"][1];
    assert!(select["cpu_seconds"].as_f64().unwrap() > 0.0, "{select}");
    let named = json(
        d,
        &[
            "train",
            "-i",
            INPUT,
            "-m",
            "c2",
            "--value-model-dir",
            "v2",
            "--model",
            "logistic",
            "--value-model",
            "clv",
        ],
    );
    assert_eq!(stage_names(&named), ["read", "fit", "save"]);
    assert!(named.get("selection").is_none() || named["selection"].is_null());
}

#[test]
fn evaluate_and_score_print_json() {
    let d = trained();
    let e = json(
        d,
        &[
            "evaluate",
            "-i",
            INPUT,
            "--cutoffs",
            "2",
            "--bootstrap",
            "20",
            "-o",
            "out/e.json",
        ],
    );
    assert_eq!(keys(&e), ["evaluation", "outputs", "read"]);
    let ev = &e["evaluation"];
    assert_eq!(ev["population_eval"], 400);
    let auc = ev["churn"]["logistic_regression"]["roc_auc"]
        .as_f64()
        .unwrap();
    assert!((0.5..=1.0).contains(&auc), "{auc}");
    assert!(ev["value"]["bgnbd_gg_clv"]["spearman"].is_f64());
    assert_eq!(ev["cutoffs"].as_array().unwrap().len(), 2);
    assert!(ev["across_cutoffs"]["churn"]["logistic_regression"].is_object());
    assert!(ev["churn_intervals"]["logistic_regression"]["roc_auc"]["lower"].is_f64());
    assert!(ev["profit"]["logistic_regression"]["empc"].is_f64());
    assert_eq!(e["outputs"]["evaluation"], "out/e.json");
    // the same metrics as the file
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/e.json")).unwrap()).unwrap();
    assert_eq!(ev["churn"], file["churn"]);

    let s = json(d, &["score", "-i", INPUT, "-o", "out/s"]);
    assert_eq!(keys(&s), ["head", "outputs", "read", "stages", "summary"]);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["summary"], file, "the run summary, as in summary.json");
    let head = s["head"].as_array().unwrap();
    assert_eq!(head.len(), 10);
    assert_eq!(head[0]["risk_rank"], 1);
    assert!(head[0]["client_id"].is_i64());
    assert!(
        head[0]["churn_probability"].as_f64().unwrap()
            >= head[9]["churn_probability"].as_f64().unwrap()
    );
    assert!(head[0]["clv"].is_f64() && head[0]["reason_1_text"].is_string());
    // the head is the top of the list written
    let csv = std::fs::read_to_string(d.join("out/s.csv")).unwrap();
    let first = csv.lines().nth(1).unwrap();
    assert!(
        first.starts_with(&format!("1,{},", head[0]["client_id"])),
        "{first}"
    );
    assert_eq!(s["outputs"]["csv"], "out/s.csv");
}

#[test]
fn demo_and_report_print_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(
        d,
        &[
            "generate",
            "-q",
            "-n",
            "300",
            "--seed",
            "9",
            "-o",
            "data/sample",
        ],
    );
    let demo = json(d, &["demo"]);
    for k in [
        "read",
        "evaluation",
        "training",
        "scores",
        "report",
        "outputs",
    ] {
        assert!(demo.get(k).is_some(), "{k} in {:?}", keys(&demo));
    }
    assert!(demo["generated"].is_null(), "the sample was there");
    assert_eq!(demo["read"]["clients"], 300);
    assert!(demo["evaluation"]["churn"]["bgnbd_p_no_purchase"]["roc_auc"].is_f64());
    assert_eq!(demo["scores"]["head"].as_array().unwrap().len(), 5);
    assert_eq!(demo["scores"]["summary"]["clients"], 300);
    assert_eq!(demo["outputs"]["report"], "out/demo/report.html");
    assert!(demo["report"]["charts"].as_u64().unwrap() >= 10);
    for (_, p) in demo["outputs"].as_object().unwrap() {
        assert!(d.join(p.as_str().unwrap()).exists(), "{p}");
    }

    let r = json(d, &["report", "-o", "out/r.html"]);
    assert_eq!(r["report"], "out/r.html");
    let k = json(
        d,
        &[
            "kpis",
            "-i",
            "data/sample/transactions.csv.gz",
            "-o",
            "out/k",
        ],
    );
    assert!(!k["periods"].as_array().unwrap().is_empty());
}

/// The rows under a header line starting with `header`: the lines that follow, indented as
/// the header is, up to the first blank line.
fn table_after<'a>(out: &'a str, header: &str) -> (&'a str, Vec<&'a str>) {
    let mut lines = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(header));
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("a header row starting with {header:?}:\n{out}"));
    let indent = head.len() - head.trim_start().len();
    let rows = lines
        .take_while(|l| !l.trim().is_empty() && l.starts_with(&head[..indent]))
        .collect();
    (head, rows)
}

#[test]
fn evaluate_and_score_print_aligned_tables_with_headers() {
    let d = trained();
    let (out, _) = run(d, &["evaluate", "-i", INPUT, "-o", "out/t.json"]);
    let (head, rows) = table_after(&out, "churn model");
    for col in ["ROC AUC", "PR AUC", "lift@10%", "Brier", "log loss"] {
        assert!(head.contains(col), "{head}");
    }
    assert!(rows.len() >= 7, "{out}");
    // numbers right-aligned: every row ends where the header does
    assert!(
        rows.iter().all(|r| r.len() == head.len()),
        "aligned rows:\n{head}\n{}",
        rows.join("\n")
    );
    let (head, rows) = table_after(&out, "value model");
    for col in ["Spearman", "Gini", "MAE", "RMSE"] {
        assert!(head.contains(col), "{head}");
    }
    assert!(rows.iter().any(|r| r.starts_with("bgnbd_gg_clv")), "{out}");
    // the read line has thousands separators (the sample has 7,153 lines)
    assert!(out.contains("read 7,153 lines from 1 file(s)"), "{out}");

    let (out, _) = run(d, &["score", "-i", INPUT, "-o", "out/t"]);
    let (head, rows) = table_after(&out, "rank");
    for col in [
        "client",
        "churn probability",
        "band",
        "CLV",
        "value at risk",
        "top reason",
    ] {
        assert!(head.contains(col), "{head}");
    }
    assert_eq!(rows.len(), 10, "{out}");
    assert!(rows[0].trim_start().starts_with("1 "), "{}", rows[0]);
    // money with two decimals
    let clv = head.find("CLV").unwrap() + 3;
    assert_eq!(rows[0].as_bytes()[clv - 3], b'.', "{head}\n{}", rows[0]);
    assert!(out.contains("400 clients scored"), "{out}");
}

#[test]
fn quiet_prints_nothing_and_verbose_times_each_step() {
    let d = trained();
    for args in [
        &["score", "-q", "-i", INPUT, "-o", "out/q"][..],
        &["evaluate", "--quiet", "-i", INPUT, "-o", "out/q.json"],
        &["features", "-q", "-i", INPUT, "-o", "out/q.parquet"],
        &["kpis", "-q", "-i", INPUT, "-o", "out/qk"],
        &["-q", "generate", "-n", "50", "-o", "q"],
    ] {
        let (out, err) = run(d, args);
        assert_eq!(out, "", "retain {args:?}: stdout");
        assert_eq!(err, "", "retain {args:?}: stderr");
    }
    assert!(d.join("out/q.csv").exists() && d.join("out/q.json").exists());
    // --format json is what was asked for: --quiet does not hide it
    let (out, _) = run(
        d,
        &[
            "score", "-q", "-i", INPUT, "-o", "out/q", "--format", "json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["clients"], 400);

    // --verbose: each step counted and timed on stderr even off a terminal, and the total
    let (out, err) = run(d, &["score", "-v", "-i", INPUT, "-o", "out/v"]);
    assert!(err.contains("[1/2] read 7,153 lines in 1 part(s)"), "{err}");
    assert!(err.contains("[2/2] scored 400 clients"), "{err}");
    assert!(err.contains("done in "), "{err}");
    assert!(!out.contains("done in"), "timings stay off stdout: {out}");
    // and the drift table
    let (head, rows) = table_after(&out, "feature");
    assert!(head.contains("PSI"), "{head}");
    assert_eq!(rows.len(), 5, "{out}");
}
