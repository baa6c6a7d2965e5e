//! Client ids as users have them: integers above 2^53, 40-character strings and UUIDs go in
//! and come out exactly, and score the clients as integer ids do.

use std::collections::BTreeMap;
use std::path::Path;

use super::{retain, text};

/// One client's id under each scheme.
fn id(scheme: &str, k: u64) -> String {
    match scheme {
        "integer" => (10_000 + k).to_string(),
        "above 2^53" => ((1u64 << 60) + 2 * k + 1).to_string(),
        "uuid" => format!(
            "{:08x}-{:04x}-4{:03x}-9{:03x}-{:012x}",
            k.wrapping_mul(2_654_435_761) & 0xffff_ffff,
            k & 0xffff,
            k & 0xfff,
            (k * 7) & 0xfff,
            k.wrapping_mul(0x9e37_79b9_7f4a) & 0xffff_ffff_ffff
        ),
        "40 characters" => format!("client-{k:033}"),
        _ => unreachable!(),
    }
}

/// A small history in the Online Retail II layout: 240 clients over two years, some of
/// whom stop buying; the same lines under every id scheme.
fn write_history(dir: &Path, scheme: &str) {
    let mut out = String::from(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n",
    );
    let mut state: u64 = 7;
    let mut next = |m: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % m
    };
    let mut invoice = 500_000;
    for k in 0..240u64 {
        let gap = 10 + next(60);
        let stop = if k % 3 == 0 { 200 + next(300) } else { 730 };
        let mut day = next(40);
        while day < stop {
            invoice += 1;
            let date = chrono_like(day);
            for line in 0..1 + next(3) {
                out.push_str(&format!(
                    "{invoice},P{line},THING,{},{date} 10:00:00,{}.5,{},United Kingdom\n",
                    1 + next(5),
                    1 + next(9),
                    id(scheme, k)
                ));
            }
            day += gap / 2 + next(gap);
        }
    }
    std::fs::write(dir.join("tx.csv"), out).unwrap();
}

/// Day `d` after 2022-01-01 as `YYYY-MM-DD` (no leap day falls in the two years).
fn chrono_like(d: u64) -> String {
    const MONTHS: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut year, mut d) = (2022, d);
    while d >= 365 {
        d -= 365;
        year += 1;
    }
    let mut month = 0;
    while d >= MONTHS[month] {
        d -= MONTHS[month];
        month += 1;
    }
    format!("{year}-{:02}-{:02}", month + 1, d + 1)
}

/// Churn probability by client id in `scores.csv`.
fn probabilities(path: &Path) -> BTreeMap<String, f64> {
    let body = std::fs::read_to_string(path).unwrap();
    let mut lines = body.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c, p) = (at("client_id"), at("churn_probability"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[c].to_string(), f[p].parse().unwrap())
        })
        .collect()
}

#[test]
fn ids_of_every_kind_are_kept_exactly_and_score_alike() {
    let schemes = ["integer", "above 2^53", "uuid", "40 characters"];
    let mut by_client: Vec<BTreeMap<u64, f64>> = Vec::new();
    for scheme in schemes {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_history(d, scheme);
        let run = |args: &[&str]| {
            let o = retain(d, args);
            let (_, err) = text(&o);
            assert_eq!(o.status.code(), Some(0), "{scheme}: {args:?}: {err}");
        };
        run(&[
            "-q",
            "train",
            "-i",
            "tx.csv",
            "--model",
            "logistic",
            "--value-model",
            "clv",
        ]);
        run(&[
            "-q",
            "score",
            "-i",
            "tx.csv",
            "-m",
            "models/churn",
            "--value-model",
            "models/value",
            "-o",
            "out/",
        ]);
        run(&["-q", "features", "-i", "tx.csv", "-o", "features.csv"]);

        let scored = probabilities(&d.join("out/scores.csv"));
        let index: BTreeMap<String, u64> = (0..240).map(|k| (id(scheme, k), k)).collect();
        assert_eq!(
            scored.keys().collect::<Vec<_>>(),
            index.keys().collect::<Vec<_>>(),
            "{scheme}: the list's ids are the input's, exactly"
        );
        let features = std::fs::read_to_string(d.join("features.csv")).unwrap();
        let mut ids: Vec<&str> = features
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap())
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            index.keys().map(String::as_str).collect::<Vec<_>>(),
            "{scheme}"
        );
        by_client.push(scored.iter().map(|(c, p)| (index[c], *p)).collect());
    }
    // Text ids change the lines' canonical order, so float sums may differ in the last bits:
    // the same clients get the same scores to 1e-9.
    for (scheme, got) in schemes.iter().zip(&by_client).skip(1) {
        for (k, p) in got {
            let want = by_client[0][k];
            assert!(
                (p - want).abs() < 1e-9,
                "{scheme}: client {k}: {p} against {want}"
            );
        }
    }
}
