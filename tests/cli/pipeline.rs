//! The pipeline as a user runs it: generate, evaluate, train, score; determinism; inputs in
//! every supported shape; refusing a model whose features do not match.

use std::path::Path;

use polars::prelude::*;

use super::{retain, shared, text};

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = retain(dir, args);
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "retain {args:?}\nstdout: {out}\nstderr: {err}"
    );
    out
}

fn sample(dir: &Path, n: &str) {
    ok(dir, &["generate", "-n", n, "--seed", "7", "-o", "data"]);
}

#[test]
fn generate_is_deterministic_and_writes_its_truth() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    sample(a.path(), "300");
    sample(b.path(), "300");
    let read = |d: &Path| std::fs::read(d.join("data/transactions.csv.gz")).unwrap();
    assert_eq!(read(a.path()), read(b.path()), "same seed, same bytes");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.path().join("data/truth.json")).unwrap())
            .unwrap();
    assert!(truth["bgnbd"]["r"].as_f64().unwrap() > 0.0);
    assert_eq!(truth["seed"], 7);
}

#[test]
fn train_then_score_is_deterministic_and_ranked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "600");
    let input = "data/transactions.csv.gz";
    let out = ok(
        d,
        &[
            "train",
            "-i",
            input,
            "--cutoff",
            "2023-10-01",
            "-m",
            "models/m",
        ],
    );
    assert!(out.contains("out-of-time ROC AUC"), "{out}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("models/m/card.json")).unwrap())
            .unwrap();
    assert_eq!(card["kind"], "logistic_regression");
    assert_eq!(card["training_cutoff"], "2023-07-02");
    assert!(card["metrics"]["roc_auc"].as_f64().unwrap() > 0.6);

    ok(d, &["score", "-i", input, "-m", "models/m", "-o", "s1"]);
    ok(d, &["score", "-i", input, "-m", "models/m", "-o", "s2"]);
    let s1 = std::fs::read(d.join("s1.csv")).unwrap();
    assert_eq!(
        s1,
        std::fs::read(d.join("s2.csv")).unwrap(),
        "same input, same bytes"
    );
    assert_eq!(
        std::fs::read(d.join("s1.parquet")).unwrap(),
        std::fs::read(d.join("s2.parquet")).unwrap()
    );
    let csv = String::from_utf8(s1).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "risk_rank,client_id,churn_probability,p_alive,expected_purchases,clv,value_at_risk,\
         key_client,reason_1,reason_2,reason_3",
        "train wrote models/clv-bgnbd, which score reads by default"
    );
    let p: Vec<f64> = lines
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(p.len(), 600);
    assert!(p.windows(2).all(|w| w[0] >= w[1]), "ranked by probability");
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
}

/// Column `name` of a CSV written by `retain score`, as text.
fn csv_column(csv: &str, name: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no {name}"));
    lines
        .map(|l| l.split(',').nth(j).unwrap().to_string())
        .collect()
}

#[test]
fn train_writes_the_clv_model_and_score_adds_value_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "600");
    let input = "data/transactions.csv.gz";
    let out = ok(
        d,
        &[
            "train",
            "-i",
            input,
            "-m",
            "churn",
            "--clv-model-dir",
            "clv",
        ],
    );
    assert!(out.contains("CLV model bgnbd_gamma_gamma"), "{out}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("clv/card.json")).unwrap()).unwrap();
    assert_eq!(card["kind"], "bgnbd_gamma_gamma");
    assert_eq!(card["time_unit"], "weeks");
    let features: Vec<&str> = card["features"]["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(features, ["frequency", "recency_lt", "T", "monetary"]);
    assert!(card["metrics"]["rfm_log_likelihood"].as_f64().unwrap() < 0.0);
    assert!(
        card["hyperparameters"]["rfm_standard_errors"]["r"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(d.join("churn/model.json").exists() && d.join("clv/model.json").exists());

    // without a CLV model the value columns are omitted, and a line says so
    let out = ok(d, &["score", "-i", input, "-m", "churn", "-o", "plain"]);
    assert!(out.contains("no CLV model"), "{out}");
    let plain = std::fs::read_to_string(d.join("plain.csv")).unwrap();
    assert!(
        plain.starts_with("risk_rank,client_id,churn_probability,reason_1,"),
        "{plain}"
    );

    let args = ["score", "-i", input, "-m", "churn", "--clv-model", "clv"];
    ok(d, &[&args[..], &["-o", "v"]].concat());
    let csv = std::fs::read_to_string(d.join("v.csv")).unwrap();
    let num = |c: &str| -> Vec<f64> {
        csv_column(&csv, c)
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let (p, clv, var, alive) = (
        num("churn_probability"),
        num("clv"),
        num("value_at_risk"),
        num("p_alive"),
    );
    assert_eq!(p.len(), 600);
    for i in 0..p.len() {
        assert_eq!(
            var[i],
            p[i] * clv[i],
            "row {i}: value_at_risk = churn_probability * clv"
        );
        assert!((0.0..=1.0).contains(&alive[i]), "p_alive {}", alive[i]);
        assert!(clv[i] >= 0.0);
    }
    assert!(
        p.windows(2).all(|w| w[0] >= w[1]),
        "ranked by churn probability"
    );
    let key = csv_column(&csv, "key_client");
    assert_eq!(
        key.iter().filter(|k| *k == "true").count(),
        120,
        "top 20% by clv"
    );
    // ranked by value at risk instead
    ok(
        d,
        &[&args[..], &["-o", "w", "--rank-by", "value_at_risk"]].concat(),
    );
    let csv = std::fs::read_to_string(d.join("w.csv")).unwrap();
    let var: Vec<f64> = csv_column(&csv, "value_at_risk")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        var.windows(2).all(|w| w[0] >= w[1]),
        "ranked by value at risk"
    );

    // a CLV card of another kind, or with other features, is refused with exit code 1
    let card = std::fs::read_to_string(d.join("clv/card.json")).unwrap();
    for bad in [
        card.replacen("\"bgnbd_gamma_gamma\"", "\"logistic_regression\"", 1),
        card.replacen("\"recency_lt\"", "\"recency\"", 1),
    ] {
        std::fs::write(d.join("clv/card.json"), &bad).unwrap();
        let o = retain(d, &[&args[..], &["-o", "bad"]].concat());
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("clv"), "{err}");
        assert!(!d.join("bad.csv").exists());
    }
}

#[test]
fn a_model_whose_features_differ_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "300");
    let input = "data/transactions.csv.gz";
    ok(d, &["train", "-i", input, "-m", "m"]);
    let card = std::fs::read_to_string(d.join("m/card.json")).unwrap();
    // an analyst edits the card: a feature this retain does not compute
    std::fs::write(
        d.join("m/card.json"),
        card.replacen("\"frequency\"", "\"freq\"", 1),
    )
    .unwrap();
    let o = retain(d, &["score", "-i", input, "-m", "m", "-o", "s"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("freq"), "{err}");
    assert!(!d.join("s.csv").exists());
    // the names are right but the hash is not: the card was tampered with
    std::fs::write(
        d.join("m/card.json"),
        card.replacen("\"hash\": \"", "\"hash\": \"0", 1),
    )
    .unwrap();
    let o = retain(d, &["score", "-i", input, "-m", "m", "-o", "s"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
}

#[test]
fn csv_parquet_glob_and_hive_folders_give_the_same_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "500");
    let csv = d.join("data/transactions.csv.gz");
    // split the log into a hive-partitioned folder of Parquet files, one per country
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(csv))
        .unwrap()
        .finish()
        .unwrap();
    let countries = df.column("Country").unwrap().unique_stable().unwrap();
    for c in countries.str().unwrap().iter().flatten() {
        let mut part = df
            .clone()
            .lazy()
            .filter(col("Country").eq(lit(c)))
            .collect()
            .unwrap();
        let folder = d.join(format!("lake/country={c}"));
        std::fs::create_dir_all(&folder).unwrap();
        let f = std::fs::File::create(folder.join("part-0.parquet")).unwrap();
        ParquetWriter::new(f).finish(&mut part).unwrap();
    }
    let run = |input: &str, out: &str| {
        ok(
            d,
            &["evaluate", "-i", input, "--cutoff", "2023-10-01", "-o", out],
        );
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(out)).unwrap()).unwrap();
        (
            v["population_eval"].clone(),
            v["churn"]["logistic_regression"]["roc_auc"].clone(),
        )
    };
    let reference = run("data/transactions.csv.gz", "e0.json");
    assert_eq!(run("lake", "e1.json"), reference, "hive folder");
    assert_eq!(run("lake/*/*.parquet", "e2.json"), reference, "glob");
}

#[test]
fn evaluate_on_cdnow_follows_the_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let input = shared("cdnow_sample/CDNOW_sample.txt");
    let out = ok(
        dir.path(),
        &[
            "evaluate",
            "-i",
            input.to_str().unwrap(),
            "-l",
            "cdnow",
            "--cutoff",
            "1997-09-30",
            "--horizon",
            "273",
            "--train-horizon",
            "90",
        ],
    );
    assert!(out.contains("2357 evaluated"), "{out}");
    assert!(out.contains("bgnbd_p_no_purchase"), "{out}");
    let e: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/evaluation.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(e["features_used"].as_array().unwrap().len(), 21);
}

#[test]
fn a_window_the_data_cannot_cover_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "200");
    let o = retain(
        d,
        &[
            "evaluate",
            "-i",
            "data/transactions.csv.gz",
            "--cutoff",
            "2023-12-01",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no complete holdout"), "{err}");
}
