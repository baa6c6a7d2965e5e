//! Bad input stops the run before any work: exit code 1, an error naming the file, column,
//! row and value, and no output written.

use std::path::Path;

use super::{retain, text};

const HEADER: &str = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";

fn csv(dir: &Path, name: &str, rows: &[&str]) -> String {
    let mut body = String::new();
    for r in rows {
        body.push_str(r);
        body.push('\n');
    }
    std::fs::write(dir.join(name), body).unwrap();
    name.to_string()
}

fn good_rows() -> Vec<&'static str> {
    vec![
        HEADER,
        "500001,A1,THING,2,2011-01-03 10:00:00,3.5,12345,France",
        "500002,A2,OTHER,1,2011-02-03 11:00:00,10,12345,France",
        "500003,A1,THING,4,2011-02-04 09:30:00,3.5,12346,Germany",
    ]
}

/// Runs `features` on `file` writing `out.csv`, which already exists: it must stay untouched.
fn assert_refused(dir: &Path, file: &str, needles: &[&str]) {
    std::fs::write(dir.join("out.csv"), "previous output\n").unwrap();
    let o = retain(
        dir,
        &[
            "features",
            "-i",
            file,
            "-l",
            "online-retail-ii",
            "-o",
            "out.csv",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "stderr should mention {n:?}: {err}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("out.csv")).unwrap(),
        "previous output\n",
        "a failed run must not touch the output"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_good_file_works() {
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "good.csv", &good_rows());
    let o = retain(
        dir.path(),
        &[
            "features",
            "-i",
            &f,
            "-o",
            "f.csv",
            "--cutoff",
            "2011-03-01",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let out = std::fs::read_to_string(dir.path().join("f.csv")).unwrap();
    assert_eq!(out.lines().count(), 3, "header + two clients: {out}");
}

#[test]
fn a_missing_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = good_rows()
        .iter()
        .map(|r| r.rsplit_once(',').unwrap().0.replacen(",Price", ",Cost", 1))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let f = csv(dir.path(), "nocol.csv", &rows);
    assert_refused(dir.path(), &f, &["nocol.csv", "missing column `Price`"]);
}

#[test]
fn an_unparsable_date_names_row_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = good_rows();
    rows[2] = "500002,A2,OTHER,1,2011-02-31 11:00:00,10,12345,France";
    let f = csv(dir.path(), "date.csv", &rows);
    assert_refused(
        dir.path(),
        &f,
        &["date.csv", "row 2", "`InvoiceDate`", "2011-02-31 11:00:00"],
    );
}

/// One line dated 2099 (or year 1) would become the default cutoff (or a client's first
/// purchase): refused naming the line, unless the run's `--as-of` date covers it.
#[test]
fn a_date_outside_the_plausible_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = good_rows();
    rows[2] = "500002,A2,OTHER,1,2099-02-03 11:00:00,10,12345,France";
    let f = csv(dir.path(), "late.csv", &rows);
    assert_refused(
        dir.path(),
        &f,
        &[
            "late.csv",
            "row 2",
            "`InvoiceDate`",
            "2099-02-03 11:00:00",
            "--as-of",
            "1 line is",
        ],
    );
    let o = retain(
        dir.path(),
        &["features", "-i", &f, "--as-of", "2100-01-01", "-o", "f.csv"],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    rows[2] = "500002,A2,OTHER,1,0001-02-03 11:00:00,10,12345,France";
    rows[3] = "500003,A1,THING,4,1899-12-31 09:30:00,3.5,12346,Germany";
    let f = csv(dir.path(), "early.csv", &rows);
    assert_refused(
        dir.path(),
        &f,
        &[
            "early.csv",
            "row 2",
            "0001-02-03 11:00:00",
            "1900-01-01",
            "2 lines are",
        ],
    );
}

#[test]
fn a_non_numeric_amount_names_row_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = good_rows();
    rows[3] = "500003,A1,THING,four,2011-02-04 09:30:00,3.5,12346,Germany";
    let f = csv(dir.path(), "qty.csv", &rows);
    assert_refused(
        dir.path(),
        &f,
        &["qty.csv", "row 3", "`Quantity`", "\"four\""],
    );
}

#[test]
fn a_text_client_id_is_a_client_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = good_rows();
    rows[1] = "500001,A1,THING,2,2011-01-03 10:00:00,3.5,C-12,France";
    let f = csv(dir.path(), "id.csv", &rows);
    let o = retain(
        dir.path(),
        &[
            "-q",
            "features",
            "-i",
            &f,
            "--cutoff",
            "2011-03-01",
            "-o",
            "out.csv",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let out = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    let mut ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["12345", "12346", "C-12"]);
}

#[test]
fn empty_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.csv"), "").unwrap();
    assert_refused(dir.path(), "empty.csv", &["empty.csv", "empty"]);
    let f = csv(dir.path(), "header.csv", &[HEADER]);
    assert_refused(dir.path(), &f, &["header.csv", "empty"]);
}

#[test]
fn a_missing_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(dir.path(), "nowhere/*.parquet", &["nowhere/*.parquet"]);
}

#[test]
fn an_unknown_preset_lists_the_presets() {
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "good.csv", &good_rows());
    let o = retain(dir.path(), &["features", "-i", &f, "-l", "sap"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("online-retail-ii, cdnow"), "{err}");
}

#[test]
fn a_usage_error_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = retain(dir.path(), &["features", "--cutoff", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
}

/// An output that would overwrite an input, or land in an input folder where the next run
/// would read it, is refused before any work; the input stays byte for byte.
#[test]
fn an_output_never_overwrites_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "good.csv", &good_rows());
    let before = std::fs::read(dir.path().join(&f)).unwrap();
    let runs: [&[&str]; 4] = [
        &["features", "-i", &f, "-o", &f],
        &["evaluate", "-i", &f, "-o", "./good.csv"],
        &["kpis", "-i", &f, "-o", "good"],
        &["features", "-i", ".", "-o", "sub/../f.csv"],
    ];
    for args in runs {
        let o = retain(dir.path(), args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("good.csv") || err.contains("input folder"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("choose another output path"),
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read(dir.path().join(&f)).unwrap(),
            before,
            "{args:?}"
        );
    }
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, ["good.csv"], "nothing else may be written");
}

/// A label window past the data's last day would label every client churned, and a cutoff
/// before the first purchase finds nobody: both refused, neither writes a file.
#[test]
fn windows_the_data_do_not_cover_and_empty_populations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = csv(dir.path(), "good.csv", &good_rows());
    let cases: [(&[&str], &[&str]); 2] = [
        (
            &["--labels", "60", "--cutoff", "2011-01-10"],
            &[
                "2011-02-04",
                "2011-03-11",
                "choose a cutoff on or before 2010-12-06",
            ],
        ),
        (&["--cutoff", "2010-12-31"], &["no client", "2010-12-31"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["features", "-i", f.as_str(), "-o", "f.csv"];
        args.extend_from_slice(extra);
        let o = retain(dir.path(), &args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        for n in needles {
            assert!(
                err.contains(n),
                "{args:?}: stderr should mention {n:?}: {err}"
            );
        }
        assert!(!dir.path().join("f.csv").exists(), "{args:?}");
    }
    // with --labels and no --cutoff, the cutoff steps back so the window is covered
    let o = retain(
        dir.path(),
        &["features", "-i", &f, "--labels", "30", "-o", "f.csv"],
    );
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let out = std::fs::read_to_string(dir.path().join("f.csv")).unwrap();
    assert!(out.lines().next().unwrap().contains("churned"), "{out}");
}
