//! Next best contact as a user runs it: generate (with the contacts log and client
//! attributes), train with the contacts (the uplift models beside the churn and value
//! models), plan; the plan keeps the team's capacity, consent and hold-out, is the same bytes
//! twice, and a broken contacts log is refused with its file, row, column and value.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::{retain, text};

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

const TX: &str = "data/transactions.csv.gz";
const CONTACTS: &str = "data/contacts.csv.gz";
const CLIENTS: &str = "data/clients.csv";

/// A trained folder: 1,500 clients with contacts, the three models.
fn trained() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["generate", "-n", "1500", "--seed", "9", "-o", "data"]);
    ok(
        d,
        &[
            "train",
            "-i",
            TX,
            "--contacts",
            CONTACTS,
            "--model",
            "logistic",
            "--value-model",
            "clv",
        ],
    );
    for m in ["models/churn", "models/value", "models/uplift"] {
        assert!(d.join(m).join("card.json").exists(), "{m}");
    }
    dir
}

/// A small team: the channels fill up.
const CONFIG: &str = r#"
[plan]
days = 7
holdout_share = 0.1
[[plan.channels]]
name = "email"
cost = 0.1
capacity_per_day = 30
[[plan.channels]]
name = "phone"
cost = 4.0
capacity_per_day = 5
[[plan.channels]]
name = "sms"
cost = 0.3
capacity_per_day = 10
[[plan.actions]]
id = "check_in"
save_rate = 0.2
accept_rate = 0.5
cooldown_days = 14
[[plan.actions]]
id = "discount_10"
channels = ["email", "sms", "phone"]
incentive_share = 0.1
accept_rate = 0.6
save_rate = 0.3
cooldown_days = 28
"#;

#[test]
fn the_plan_keeps_capacity_consent_and_hold_out_and_is_reproducible() {
    let dir = trained();
    let d = dir.path();
    std::fs::write(d.join("retain.toml"), CONFIG).unwrap();
    let args = [
        "plan",
        "-i",
        TX,
        "--contacts",
        CONTACTS,
        "--clients",
        CLIENTS,
        "--json-lines",
        "-o",
        "out/a",
    ];
    let out = ok(d, &args);
    assert!(out.contains("one more contact"), "{out}");
    ok(d, &[&args[..args.len() - 1], &["out/b"]].concat());
    for ext in ["csv", "parquet", "jsonl"] {
        let a = std::fs::read(d.join(format!("out/a.{ext}"))).unwrap();
        let b = std::fs::read(d.join(format!("out/b.{ext}"))).unwrap();
        assert_eq!(a, b, "out/a.{ext} and out/b.{ext}: the same bytes");
    }
    let df = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(d.join("out/a.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let col = |name: &str| -> Vec<String> {
        df.column(name)
            .unwrap_or_else(|_| panic!("column {name}"))
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap_or("").to_string())
            .collect()
    };
    for c in [
        "segment",
        "rfm",
        "key_client",
        "next_best_channel",
        "channel_source",
        "channel_evidence",
        "window",
        "window_source",
        "window_evidence",
        "action",
        "expected_profit",
        "action_source",
        "action_evidence",
        "offer",
        "offer_evidence",
        "holdout",
        "excluded",
        "planned_date",
        "planned_channel",
        "planned_action",
        "planned_profit",
        "models",
    ] {
        assert!(df.column(c).is_ok(), "the list has {c}");
    }
    let n = df.height();
    let (ids, holdout, date, channel) = (
        col("client_id"),
        col("holdout"),
        col("planned_date"),
        col("planned_channel"),
    );
    let held = holdout.iter().filter(|h| *h == "true").count();
    assert!(
        (n / 20..n / 6).contains(&held),
        "about 10% held out: {held} of {n}"
    );
    // capacity per channel and day, never a held-out client
    let mut per_slot: BTreeMap<(String, String), u32> = BTreeMap::new();
    for i in 0..n {
        if date[i].is_empty() {
            continue;
        }
        assert_eq!(
            holdout[i], "false",
            "client {} held out and planned",
            ids[i]
        );
        *per_slot
            .entry((channel[i].clone(), date[i].clone()))
            .or_default() += 1;
    }
    assert!(!per_slot.is_empty());
    let cap = |c: &str| match c {
        "email" => 30,
        "phone" => 5,
        "sms" => 10,
        other => panic!("unplanned channel {other}"),
    };
    for ((c, day), k) in &per_slot {
        assert!(*k <= cap(c), "{c} on {day}: {k} contacts");
    }
    // consent on record for every planned contact
    let clients = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(d.join(CLIENTS)))
        .unwrap()
        .finish()
        .unwrap();
    let consent: BTreeMap<(String, String), String> = ["email", "phone", "sms"]
        .iter()
        .flat_map(|c| {
            let ids = clients.column("client_id").unwrap().str().unwrap().clone();
            let v = clients
                .column(&format!("consent_{c}"))
                .unwrap()
                .str()
                .unwrap()
                .clone();
            ids.iter()
                .zip(v.iter())
                .map(|(i, v)| {
                    (
                        (i.unwrap().to_string(), c.to_string()),
                        v.unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for i in 0..n {
        if !channel[i].is_empty() {
            assert_eq!(
                consent[&(ids[i].clone(), channel[i].clone())],
                "true",
                "client {} planned on {} without consent",
                ids[i],
                channel[i]
            );
        }
    }
    // the run summary holds the plan, with the value of one more contact per channel
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap())
            .unwrap();
    let plan = &summary["plan"];
    assert_eq!(
        plan["planned"].as_u64().unwrap() as usize,
        per_slot.values().sum::<u32>() as usize
    );
    for c in ["email", "phone", "sms"] {
        assert!(plan["channels"][c]["marginal_value"].as_f64().unwrap() >= 0.0);
    }
    assert!(plan["expected_profit"].as_f64().unwrap() > 0.0);
    assert!(summary["plan"]["uplift_model"]["kind"] == "two_model_uplift");
}

#[test]
fn a_broken_contacts_log_is_refused_naming_file_row_column_and_value() {
    let dir = trained();
    let d = dir.path();
    std::fs::write(
        d.join("bad.csv"),
        "client_id,timestamp,channel,action,outcome,group,cost\n\
         12346,2023-12-01T10:00:00Z,email,check_in,responded,treated,0.1\n\
         12347,2023-12-01T11:00:00Z,email,check_in,maybe,treated,0.1\n",
    )
    .unwrap();
    let before = std::fs::read(d.join("models/churn/card.json")).unwrap();
    let o = retain(
        d,
        &["plan", "-i", TX, "--contacts", "bad.csv", "-o", "out/p"],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for part in ["bad.csv", "row 2", "outcome", "maybe"] {
        assert!(err.contains(part), "the message names {part}: {err}");
    }
    assert!(!d.join("out/p.csv").exists(), "nothing written");
    assert_eq!(
        std::fs::read(d.join("models/churn/card.json")).unwrap(),
        before
    );
}
