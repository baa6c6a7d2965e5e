//! `retain kpis` and `retain report` as a person sees them: the tables on the terminal, the
//! JSON, the HTML page byte for byte, and the page rendered by a headless Chromium (no console
//! error, every chart drawn, the headline numbers equal to the JSON outputs, a screenshot).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

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

/// One demo run (on a 600-client sample) shared by the tests of this module.
fn demo() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        ok(
            dir.path(),
            &["generate", "-n", "600", "--seed", "11", "-o", "data/sample"],
        );
        ok(dir.path(), &["demo", "-q"]);
        dir
    })
    .path()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn kpis_print_a_table_with_headers_and_the_same_json_as_the_file() {
    let d = demo();
    let input = "data/sample/transactions.csv.gz";
    let out = ok(
        d,
        &["kpis", "-i", input, "--period", "quarter", "-o", "out/q"],
    );
    let header = out
        .lines()
        .find(|l| l.starts_with("period"))
        .expect("a header row");
    for col in [
        "active start",
        "retention",
        "churn",
        "avg order",
        "NRR",
        "top 20%",
    ] {
        assert!(header.contains(col), "{header}");
    }
    // eight quarters of 2022-2023, each a row whose numbers are right-aligned under the header
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("202")).collect();
    assert_eq!(rows.len(), 8, "{out}");
    assert!(
        rows.iter().all(|r| r.len() == rows[0].len()),
        "aligned rows:\n{out}"
    );
    let printed: Value = serde_json::from_str(&ok(
        d,
        &[
            "kpis", "-i", input, "--period", "quarter", "-o", "out/q", "--format", "json",
        ],
    ))
    .expect("--format json prints JSON only");
    assert_eq!(printed, json(&d.join("out/q.json")));
    assert_eq!(printed["periods"].as_array().unwrap().len(), 8);
    assert_eq!(printed["params"]["period"], "quarter");
    let csv = std::fs::read_to_string(d.join("out/q.csv")).unwrap();
    assert!(csv.starts_with("period,start,end,complete,active_start"));
    assert_eq!(csv.lines().count(), 9);
}

#[test]
fn kpis_take_nps_and_csat_from_a_clients_table() {
    let d = demo();
    std::fs::write(
        d.join("clients.csv"),
        "client_id,nps,csat\n12346,10,5\n12347,9,4\n12348,3,2\n12349,,1\n",
    )
    .unwrap();
    let out = ok(
        d,
        &[
            "kpis",
            "-i",
            "data/sample/transactions.csv.gz",
            "--clients",
            "clients.csv",
            "-o",
            "out/s",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    // NPS: 2 promoters, 1 detractor of 3 answers = 33.3; CSAT: 5 and 4 of 4 answers = 50
    assert!((v["satisfaction"]["nps"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    assert_eq!(v["satisfaction"]["csat"].as_f64().unwrap(), 50.0);
}

#[test]
fn the_report_is_the_same_bytes_self_contained_and_matches_the_evaluation() {
    let d = demo();
    let first = std::fs::read(d.join("out/demo/report.html")).unwrap();
    let out = ok(d, &["report", "-o", "out/again.html", "--format", "json"]);
    let summary: Value = serde_json::from_str(&out).unwrap();
    let again = std::fs::read(d.join("out/again.html")).unwrap();
    assert!(
        first == again,
        "the same inputs give the same HTML, byte for byte"
    );
    let html = String::from_utf8(first).unwrap();
    // nothing fetched: no external script, style, font or image
    for bad in ["<link", "src=", "@import", "url(", "https://"] {
        assert!(!html.contains(bad), "the page contains {bad}");
    }
    // charts are inline SVG with their text as <text>
    assert!(summary["charts"].as_u64().unwrap() >= 10, "{summary}");
    assert_eq!(
        html.matches("<svg").count() as u64,
        summary["charts"].as_u64().unwrap()
    );
    assert!(html.matches("<text").count() > 100);
    // the BG/NBD re-applied to the lines gives the evaluation's own ROC AUC
    let auc = summary["bgnbd_roc_auc"].as_array().unwrap();
    assert!(
        (auc[0].as_f64().unwrap() - auc[1].as_f64().unwrap()).abs() < 1e-9,
        "{summary}"
    );
    // the outreach list's columns are shown by name
    for col in [
        "risk_rank",
        "client_id",
        "churn_probability",
        "value_at_risk",
        "reason_1",
    ] {
        assert!(html.contains(&format!(">{col}</th>")), "column {col}");
    }
}

fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM").map(PathBuf::from).or_else(|| {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
    })
}

fn browser(bin: &Path, extra: &[&str], page: &Path) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

/// The `data-name="value"` attributes of a tag.
fn attrs(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(at) = rest.find(" data-") {
        rest = &rest[at + " data-".len()..];
        let Some((name, after)) = rest.split_once("=\"") else {
            break;
        };
        let Some((value, after)) = after.split_once('"') else {
            break;
        };
        out.push((name.to_string(), value.to_string()));
        rest = after;
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_report_renders_in_a_headless_browser() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("RETAIN_REQUIRE_BROWSER").is_none(),
            "RETAIN_REQUIRE_BROWSER is set but no chromium was found"
        );
        eprintln!("skipped: no chromium (apt-get install chromium, or set CHROMIUM)");
        return;
    };
    let d = demo();
    let page = d.join("out/demo/report.html");
    let o = browser(
        &bin,
        &["--enable-logging=stderr", "--v=0", "--dump-dom"],
        &page,
    );
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "chromium failed: {log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");

    // the page's own check, written into the DOM once loaded
    let start = dom.find("<p id=\"selfcheck\"").expect("the self-check ran");
    let tag = &dom[start..start + dom[start..].find('>').unwrap()];
    let a = attrs(tag);
    let get = |k: &str| {
        a.iter()
            .find(|x| x.0 == k)
            .map(|x| x.1.clone())
            .unwrap_or_default()
    };
    assert_eq!(get("status"), "ok", "self-check: {tag}");
    assert!(get("charts").parse::<usize>().unwrap() >= 10, "{tag}");
    assert_eq!(get("bad"), "", "charts that did not draw");
    assert_eq!(get("errors"), "", "script errors");

    // every headline number that names its source equals that JSON value
    let outputs = [
        ("kpis", json(&d.join("out/demo/kpis.json"))),
        ("evaluation", json(&d.join("out/demo/evaluation.json"))),
    ];
    let mut checked = 0;
    for piece in dom.split("<div class=\"kpi\"").skip(1) {
        let tag = &piece[..piece.find('>').unwrap()];
        let a = attrs(tag);
        let get = |k: &str| a.iter().find(|x| x.0 == k).map(|x| unescape(&x.1));
        let (Some(src), Some(pointer), Some(format)) = (get("json"), get("pointer"), get("format"))
        else {
            continue;
        };
        let value_start =
            piece.find("<div class=\"value\">").unwrap() + "<div class=\"value\">".len();
        let shown = &piece[value_start..value_start + piece[value_start..].find('<').unwrap()];
        let number: f64 = shown
            .replace([',', '%'], "")
            .parse()
            .unwrap_or_else(|_| panic!("{shown}"));
        let root = &outputs.iter().find(|o| o.0 == src).unwrap().1;
        let truth = root
            .pointer(&pointer)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("{src}{pointer}"));
        let (page_value, tolerance) = match format.as_str() {
            "percent" => (number / 100.0, 0.0005),
            "money" | "fixed2" => (number, 0.005),
            "fixed3" => (number, 0.0005),
            "count" => (number, 0.5),
            f => panic!("unknown format {f}"),
        };
        assert!(
            (page_value - truth).abs() <= tolerance + 1e-12,
            "{src}{pointer}: page {shown}, JSON {truth}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked} headline numbers checked");

    // a screenshot, kept as a test artefact under the target folder
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let o = browser(
        &bin,
        &[
            "--window-size=1400,5200",
            &format!("--screenshot={}", shot.display()),
        ],
        &page,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
}
