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
            "--model",
            "logistic",
            "--value-model",
            "clv",
            "-m",
            "models/m",
            "--value-model-dir",
            "models/v",
        ],
    );
    assert!(out.contains("out-of-time ROC AUC"), "{out}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("models/m/card.json")).unwrap())
            .unwrap();
    assert_eq!(card["kind"], "logistic_regression");
    assert_eq!(card["format"], 2);
    assert_eq!(card["training_cutoff"], "2023-07-02");
    assert!(card["metrics"]["roc_auc"].as_f64().unwrap() > 0.6);
    assert_eq!(card["build_id"].as_str().unwrap().len(), 16);
    assert_eq!(
        card["data_source"]["lines_sha256"].as_str().unwrap().len(),
        64
    );
    assert!(card["profile"]["score"]["shares"].is_array());

    let score = |o: &str| {
        ok(
            d,
            &[
                "score",
                "-i",
                input,
                "-m",
                "models/m",
                "--value-model",
                "models/v",
                "-o",
                o,
            ],
        )
    };
    score("s1/scores");
    score("s2/scores");
    for f in ["scores.csv", "scores.parquet", "summary.json"] {
        assert_eq!(
            std::fs::read(d.join("s1").join(f)).unwrap(),
            std::fs::read(d.join("s2").join(f)).unwrap(),
            "{f}: same input, same bytes"
        );
    }
    let s1 = std::fs::read(d.join("s1/scores.csv")).unwrap();
    let csv = String::from_utf8(s1.clone()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "risk_rank,client_id,churn_probability,churn_band,p_alive,expected_purchases,\
         expected_next_purchase,clv,value_at_risk,key_client,reason_1,reason_1_text,reason_2,\
         reason_2_text,reason_3,reason_3_text",
    );
    let p: Vec<f64> = csv_column(&csv, "churn_probability")
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(p.len(), 600);
    assert!(p.windows(2).all(|w| w[0] >= w[1]), "ranked by probability");
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
    let bands = csv_column(&csv, "churn_band");
    for (b, p) in bands.iter().zip(&p) {
        let want = if *p >= 0.75 {
            "high"
        } else if *p >= 0.5 {
            "medium"
        } else {
            "low"
        };
        assert_eq!(b, want, "band of {p}");
    }
    let next = csv_column(&csv, "expected_next_purchase");
    assert!(
        next.iter().all(|d| d.as_str() > "2023-12-31"),
        "{:?}",
        &next[..3]
    );

    // Scored three months after the training cutoff, the sample's ages (T) have moved: the
    // drift check warns, and --fail-on-drift exits 1 and leaves the previous list in place.
    let o = retain(
        d,
        &[
            "score",
            "-i",
            input,
            "-m",
            "models/m",
            "--value-model",
            "models/v",
            "-o",
            "s1/scores",
            "--fail-on-drift",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("drifted") && err.contains("PSI"), "{err}");
    assert_eq!(std::fs::read(d.join("s1/scores.csv")).unwrap(), s1);
    let left: Vec<_> = std::fs::read_dir(d.join("s1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s1/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["clients"], 600);
    assert!(summary["drift"][0]["psi"].as_f64().unwrap() > 0.25);
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
fn train_auto_writes_both_models_and_score_adds_value_columns() {
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
            "value",
        ],
    );
    assert!(out.contains("validation target(s)"), "{out}");
    let churn: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("churn/card.json")).unwrap()).unwrap();
    let sel = &churn["hyperparameters"]["selection"];
    assert_eq!(sel["metric"], "roc_auc");
    assert_eq!(churn["hyperparameters"]["candidate"], sel["churn_model"]);
    assert!(
        sel["churn_validation"].as_object().unwrap().len() >= 7,
        "{sel}"
    );
    assert!(
        churn["hyperparameters"]["why"]
            .as_str()
            .unwrap()
            .contains("roc_auc")
    );
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("value/card.json")).unwrap()).unwrap();
    assert_eq!(card["hyperparameters"]["candidate"], sel["value_model"]);
    assert_eq!(card["time_unit"], "weeks");
    assert!(card["metrics"]["rfm_log_likelihood"].as_f64().unwrap() < 0.0);
    assert!(
        card["hyperparameters"]["rfm_standard_errors"]["r"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // one folder for both models is refused before any work
    let o = retain(
        d,
        &["train", "-i", input, "-m", "x", "--value-model-dir", "x"],
    );
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(!d.join("x").exists());

    // without a value model the value columns are omitted, and a line says so
    ok(
        d,
        &[
            "train",
            "-i",
            input,
            "--model",
            "logistic",
            "--value-model",
            "clv",
            "-m",
            "lr",
            "--value-model-dir",
            "lrv",
        ],
    );
    let out = ok(d, &["score", "-i", input, "-m", "lr", "-o", "plain"]);
    assert!(out.contains("no value model"), "{out}");
    let plain = std::fs::read_to_string(d.join("plain.csv")).unwrap();
    assert!(
        plain.starts_with("risk_rank,client_id,churn_probability,churn_band,reason_1,"),
        "{plain}"
    );

    let args = ["score", "-i", input, "-m", "lr", "--value-model", "lrv"];
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
    // key clients: the fewest clients, by CLV descending, whose CLV reaches 80% of the total
    let key = csv_column(&csv, "key_client");
    let mut by_value: Vec<f64> = clv.clone();
    by_value.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = by_value.iter().sum();
    let mut cum = 0.0;
    let want = by_value
        .iter()
        .position(|v| {
            cum += v;
            cum >= 0.8 * total * (1.0 - 1e-12)
        })
        .map_or(0, |i| i + 1);
    assert!(want > 0 && want < 600, "{want}");
    assert_eq!(key.iter().filter(|k| *k == "true").count(), want);
    for i in 0..p.len() {
        if key[i] == "true" {
            assert!(
                clv[i] >= by_value[want - 1],
                "row {i}: a key client below the cut"
            );
        }
    }
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

    // a value card of another kind, with other features, impossible parameters, or from other
    // data is refused with exit code 1, naming the folder
    let card = std::fs::read_to_string(d.join("lrv/card.json")).unwrap();
    let model = std::fs::read_to_string(d.join("lrv/model.json")).unwrap();
    let q = serde_json::from_str::<serde_json::Value>(&model).unwrap()["customer_base"]["model"]
        ["spend"]["q"]
        .to_string();
    for (bad_card, bad_model, needle) in [
        (
            card.replacen("\"bgnbd_gg_clv\"", "\"logistic_regression\"", 1),
            model.clone(),
            "lrv",
        ),
        (
            card.replacen("\"recency_lt\"", "\"recency\"", 1),
            model.clone(),
            "lrv",
        ),
        (
            card.clone(),
            model.replacen(&format!("\"q\": {q}"), "\"q\": 0.5", 1),
            "q = 0.5",
        ),
        (
            card.replacen("\"lines_sha256\": \"", "\"lines_sha256\": \"0", 1),
            model.clone(),
            "different data",
        ),
    ] {
        std::fs::write(d.join("lrv/card.json"), &bad_card).unwrap();
        std::fs::write(d.join("lrv/model.json"), &bad_model).unwrap();
        let o = retain(d, &[&args[..], &["-o", "bad"]].concat());
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!d.join("bad.csv").exists());
    }
}

#[test]
fn a_model_whose_features_differ_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "300");
    let input = "data/transactions.csv.gz";
    ok(d, &["train", "-i", input, "--model", "logistic", "-m", "m"]);
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
    assert!(err.contains("edited card"), "{err}");
    assert!(!d.join("s.csv").exists());
    // the names are right but the hash is not: the card was tampered with
    std::fs::write(
        d.join("m/card.json"),
        card.replacen("\"hash\": \"", "\"hash\": \"0", 1),
    )
    .unwrap();
    let o = retain(d, &["score", "-i", input, "-m", "m", "-o", "s"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    // an artifact of a newer format names both versions
    std::fs::write(
        d.join("m/card.json"),
        card.replacen("\"format\": 2", "\"format\": 3", 1),
    )
    .unwrap();
    let o = retain(d, &["score", "-i", input, "-m", "m", "-o", "s"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("format 3") && err.contains("format 2") && err.contains("upgrade"),
        "{err}"
    );
}

/// An edited model file with numbers no fit gives (a scale of 0, a coefficient of 1e308, a
/// negative BG/NBD parameter) is refused on load, naming the file and the number; nothing
/// is written.
#[test]
fn a_model_with_impossible_numbers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "300");
    let input = "data/transactions.csv.gz";
    ok(
        d,
        &[
            "train",
            "-i",
            input,
            "--model",
            "logistic",
            "-m",
            "m",
            "--value-model-dir",
            "v",
        ],
    );
    let churn = std::fs::read_to_string(d.join("m/model.json")).unwrap();
    let value = std::fs::read_to_string(d.join("v/model.json")).unwrap();
    let edit = |text: &str, key: &str, to: &str| -> String {
        // replace the first number after `"key": ` (an array's first element included)
        let at = text.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
        let start = at
            + text[at..]
                .find(|c: char| c == '-' || c.is_ascii_digit())
                .unwrap();
        let end = start
            + text[start..]
                .find(|c: char| !(c == '-' || c == '.' || c == 'e' || c.is_ascii_digit()))
                .unwrap();
        format!("{}{to}{}", &text[..start], &text[end..])
    };
    let cases = [
        ("m", edit(&churn, "scale", "0.0"), "scale 0 is 0"),
        ("m", edit(&churn, "coef", "1e308"), "coefficient 0 is 1e308"),
        ("v", edit(&value, "r", "-0.5"), "r = -0.5"),
    ];
    let score = [
        "score",
        "-i",
        input,
        "-m",
        "m",
        "--value-model",
        "v",
        "-o",
        "s",
    ];
    for (folder, edited, needle) in cases {
        let path = d.join(folder).join("model.json");
        let before = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, edited).unwrap();
        let o = retain(d, &score);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{needle}: {err}");
        assert!(err.contains(&format!("{folder}/model.json")), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
        assert!(!d.join("s.csv").exists());
        std::fs::write(&path, before).unwrap();
    }
    ok(d, &score);
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
    assert!(out.contains("2,357 evaluated"), "{out}");
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

#[test]
fn feature_families_switch_on_the_command_line_and_in_retain_toml() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    sample(d, "1500");
    let input = "data/transactions.csv.gz";
    let selection = |args: &[&str]| -> serde_json::Value {
        let mut a = vec!["evaluate", "-i", input, "--bootstrap", "0", "-o", "e.json"];
        a.extend_from_slice(args);
        ok(d, &a);
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("e.json")).unwrap()).unwrap();
        e["backtest"]["cutoffs"][0]["selection"].clone()
    };
    let names = |s: &serde_json::Value| -> Vec<String> {
        s["churn_validation"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    // The flag: the tuned candidates on the 29 and on the 29 plus the windows family.
    let s = selection(&["--families", "windows", "--validation-targets", "1"]);
    assert_eq!(s["validation_cutoffs"].as_array().unwrap().len(), 1);
    let n = names(&s);
    assert!(
        n.iter()
            .any(|k| k.starts_with("logistic_regression(C=0.003)+win")),
        "{n:?}"
    );
    assert!(
        n.iter()
            .any(|k| k.starts_with("logistic_regression(C=0.003)") && !k.contains('+'))
    );
    assert!(
        !n.iter().any(|k| k.ends_with("+all") || k.contains("+ly")),
        "{n:?}"
    );
    // retain.toml, overridden by the flag.
    std::fs::write(
        d.join("retain.toml"),
        "[model]\nfamilies = [\"last_year\", \"customer_base\"]\nvalidation_targets = 1\n",
    )
    .unwrap();
    let s = selection(&[]);
    let n = names(&s);
    assert!(n.iter().any(|k| k.ends_with("+ly+cb")), "{n:?}");
    assert!(s.get("sample").is_none(), "1,500 clients: no sample");
    let n = names(&selection(&["--families", "none"]));
    assert!(n.iter().all(|k| !k.contains("+ly")), "{n:?}");
    // The selection's client sample: by the flag, and by retain.toml under the flag.
    let s = selection(&["--families", "none", "--selection-clients", "500"]);
    assert_eq!(s["sample"]["of_clients"], 1500, "{s}");
    assert!((s["sample"]["fraction"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    std::fs::write(
        d.join("retain.toml"),
        "[model]\nfamilies = []\nvalidation_targets = 1\nselection_clients = 600\n",
    )
    .unwrap();
    assert_eq!(selection(&[])["sample"]["fraction"], 0.4);
    let s = selection(&["--selection-clients", "0"]);
    assert!(s.is_object() && s.get("sample").is_none(), "{s}");
    // A sample of half these simulated clients is one whose validation window BG/NBD cannot
    // identify: no selection, and the run says why (not that the data are too short).
    let o = retain(
        d,
        &[
            "evaluate",
            "-i",
            input,
            "--bootstrap",
            "0",
            "--selection-clients",
            "750",
            "-o",
            "e3.json",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        out.contains("no model selected: the validation target at 2023-07-02 could not be fitted: customer-base model"),
        "{out}"
    );
    let o = retain(
        d,
        &["-q", "train", "-i", input, "--selection-clients", "750"],
    );
    let err = text(&o).1;
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("`auto` could not select a model: the validation target"),
        "{err}"
    );
    // Names nothing: refused, naming the family (flag: usage error; file: the file).
    let o = retain(
        d,
        &["evaluate", "-i", input, "--families", "windows,weather"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("`weather`"), "{:?}", text(&o));
    std::fs::write(d.join("retain.toml"), "[model]\nfamilies = [\"weather\"]\n").unwrap();
    let o = retain(d, &["evaluate", "-i", input, "-o", "e2.json"]);
    assert_ne!(o.status.code(), Some(0));
    let err = text(&o).1;
    assert!(
        err.contains("retain.toml") && err.contains("`weather`"),
        "{err}"
    );
    assert!(!d.join("e2.json").exists());
    // `retain features --families all` writes every family's columns beside the 29.
    std::fs::remove_file(d.join("retain.toml")).unwrap();
    ok(
        d,
        &["features", "-i", input, "--families", "all", "-o", "f.csv"],
    );
    let head = std::fs::read_to_string(d.join("f.csv")).unwrap();
    let head = head.lines().next().unwrap().to_string();
    for c in [
        "days_since_last",
        "win_pd_7",
        "dec_spend_hl365",
        "ly_churned",
        "gap_ratio",
        "bgnbd_gg_clv",
    ] {
        assert!(head.split(',').any(|h| h == c), "{c} in {head}");
    }
}
