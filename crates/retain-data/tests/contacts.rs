//! Reading contact logs: values, types, order, formats, and every bad input named.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use retain_data::{
    Contacts, ContactsLayout, DataError, Outcome, contact_cols as cols, read_contacts, write_table,
};

const HEADER: &str = "client_id,timestamp,channel,action,outcome,group,cost";

/// Eight rows with offsets of every spelling, ties on (client, instant), control rows,
/// blank actions and costs.
const ROWS: [&str; 8] = [
    "2,2024-01-15T10:00:00,Phone,OFFER-A,Converted,,12.5",
    "1,2024-01-15T10:00:00+01:00, email ,,responded,treated,",
    "1,2024-01-15T10:00:00Z,SMS,OFFER-B,,t,0.1",
    "3,2024-01-15T23:30:00-0500,phone,,no answer,control,",
    "1,2024-01-15T00:30:00 +01:00,email,OFFER-A,1,treatment,1",
    "2,2024-01-15T10:00:00,email,OFFER-A,accepted,T,2",
    "2,2024-01-15T10:00:00,email,,0,holdout,",
    "12.0,2024-01-16T08:15:00,chat, ,,C,",
];

fn write(dir: &Path, name: &str, header: &str, rows: &[&str]) -> PathBuf {
    let p = dir.join(name);
    let mut text = format!("{header}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn i64s(df: &DataFrame, name: &str) -> Vec<i64> {
    df.column(name)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn csv_bytes(df: &DataFrame, dir: &Path, name: &str) -> Vec<u8> {
    let p = dir.join(name);
    write_table(&mut df.clone(), &p).unwrap();
    std::fs::read(p).unwrap()
}

#[test]
fn values_are_converted_to_utc_typed_and_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "c.csv", HEADER, &ROWS);
    let c = read_contacts(&p, &ContactsLayout::default()).unwrap();
    let df = c.frame();

    let schema: Vec<(String, DataType)> = df
        .schema()
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    assert_eq!(
        schema,
        [
            (cols::CLIENT, DataType::Int64),
            (cols::TS, DataType::Int64),
            (cols::DAY, DataType::Int32),
            (cols::CHANNEL, DataType::String),
            (cols::ACTION, DataType::String),
            (cols::OUTCOME, DataType::Int8),
            (cols::CONTROL, DataType::Boolean),
            (cols::EXPERIMENT, DataType::Boolean),
            (cols::COST, DataType::Float64),
        ]
        .map(|(n, t)| (n.to_string(), t))
    );

    // 2024-01-15 is day 19737, 1705276800 s.
    let d15 = 1_705_276_800;
    assert_eq!(i64s(df, cols::CLIENT), [1, 1, 1, 2, 2, 2, 3, 12]);
    assert_eq!(
        i64s(df, cols::TS),
        [
            d15 - 1800,           // 00:30 at +01:00 is 23:30 the day before
            d15 + 9 * 3600,       // 10:00 at +01:00
            d15 + 10 * 3600,      // 10:00Z
            d15 + 10 * 3600,      // naive: UTC
            d15 + 10 * 3600,      //
            d15 + 10 * 3600,      //
            d15 + 86_400 + 16200, // 23:30 at -05:00 is 04:30 the next day
            d15 + 86_400 + 8 * 3600 + 900,
        ]
    );
    let days: Vec<i32> = df
        .column(cols::DAY)
        .unwrap()
        .i32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(
        days,
        [19736, 19737, 19737, 19737, 19737, 19737, 19738, 19738]
    );
    let s = |v: &[Option<&str>]| v.iter().map(|s| s.map(str::to_string)).collect::<Vec<_>>();
    assert_eq!(
        strs(df, cols::CHANNEL),
        s(&[
            Some("email"),
            Some("email"),
            Some("sms"),
            Some("email"),
            Some("email"),
            Some("phone"),
            Some("phone"),
            Some("chat")
        ])
    );
    // ties on (client 2, 10:00): email before phone, no action before OFFER-A
    assert_eq!(
        strs(df, cols::ACTION),
        s(&[
            Some("OFFER-A"),
            None,
            Some("OFFER-B"),
            None,
            Some("OFFER-A"),
            Some("OFFER-A"),
            None,
            None
        ])
    );
    let outcomes: Vec<i8> = df
        .column(cols::OUTCOME)
        .unwrap()
        .i8()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(outcomes, [1, 1, 0, 0, 2, 2, 0, 0]);
    let control: Vec<bool> = df
        .column(cols::CONTROL)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(
        control,
        [false, false, false, true, false, false, true, true]
    );
    // a row with a group is in an experiment; the blank group of client 2's phone call is an
    // ordinary contact
    let experiment: Vec<bool> = df
        .column(cols::EXPERIMENT)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(
        experiment,
        [true, true, true, true, true, false, true, true]
    );
    let cost: Vec<Option<f64>> = df
        .column(cols::COST)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(
        cost,
        [
            Some(1.0),
            None,
            Some(0.1),
            None,
            Some(2.0),
            Some(12.5),
            None,
            None
        ]
    );

    let st = c.stats();
    assert_eq!((st.files, st.rows, st.clients), (1, 8, 4));
    assert_eq!(
        (
            st.no_answer_rows,
            st.responded_rows,
            st.converted_rows,
            st.control_rows
        ),
        (1, 2, 2, 3)
    );
    assert_eq!(st.first_day, chrono::NaiveDate::from_ymd_opt(2024, 1, 14));
    assert_eq!(st.last_day, chrono::NaiveDate::from_ymd_opt(2024, 1, 16));
    assert_eq!(c.channels(), ["chat", "email", "phone", "sms"]);
    assert_eq!(Outcome::from_code(2), Some(Outcome::Converted));
    assert_eq!(
        df.column(cols::CLIENT).unwrap().is_sorted_flag(),
        polars::series::IsSorted::Ascending
    );
}

#[test]
fn shuffled_input_gives_a_byte_identical_table() {
    let dir = tempfile::tempdir().unwrap();
    let base = read_contacts(
        &write(dir.path(), "a.csv", HEADER, &ROWS),
        &ContactsLayout::default(),
    )
    .unwrap();
    let want = csv_bytes(base.frame(), dir.path(), "a.out.csv");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut rows = ROWS.to_vec();
    // duplicate rows and rows differing only in outcome or cost tie on every sort key but one
    rows.push("2,2024-01-15T10:00:00,email,OFFER-A,response,,2");
    rows.push("2,2024-01-15T10:00:00,email,OFFER-A,accepted,,3");
    rows.push("2,2024-01-15T10:00:00,email,OFFER-A,accepted,,3");
    let full = read_contacts(
        &write(dir.path(), "full.csv", HEADER, &rows),
        &ContactsLayout::default(),
    )
    .unwrap();
    let want_full = csv_bytes(full.frame(), dir.path(), "full.out.csv");
    assert_ne!(want, want_full);
    for i in 0..5 {
        rows.shuffle(&mut rng);
        let p = write(dir.path(), &format!("s{i}.csv"), HEADER, &rows);
        let c = read_contacts(&p, &ContactsLayout::default()).unwrap();
        let got = csv_bytes(c.frame(), dir.path(), &format!("s{i}.out.csv"));
        assert_eq!(got, want_full, "shuffle {i}");
        assert_eq!(c.stats(), full.stats());
    }
}

#[test]
fn parquet_and_csv_give_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let csv = read_contacts(
        &write(dir.path(), "c.csv", HEADER, &ROWS),
        &ContactsLayout::default(),
    )
    .unwrap();
    // the same rows as Parquet with typed columns: integer ids, a UTC datetime column,
    // integer outcome codes, float costs
    let ts = [
        1_705_312_800_000i64,
        1_705_309_200_000,
        1_705_312_800_000,
        1_705_379_400_000,
        1_705_275_000_000,
        1_705_312_800_000,
        1_705_312_800_000,
        1_705_392_900_000,
    ];
    let mut df = df! {
        "client_id" => [2i64, 1, 1, 3, 1, 2, 2, 12],
        "timestamp" => ts,
        "channel" => ["Phone", " email ", "SMS", "phone", "email", "email", "email", "chat"],
        "action" => [Some("OFFER-A"), None, Some("OFFER-B"), Some(""), Some("OFFER-A"), Some("OFFER-A"), None, Some(" ")],
        "outcome" => [Some(2i64), Some(1), Some(0), Some(0), Some(1), Some(2), Some(0), None],
        "group" => [None, Some("treated"), Some("t"), Some("control"), Some("treatment"), Some("T"), Some("holdout"), Some("C")],
        "cost" => [Some(12.5f64), None, Some(0.1), None, Some(1.0), Some(2.0), None, None],
    }
    .unwrap();
    df.apply("timestamp", |s| {
        s.cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap()
    })
    .unwrap();
    let p = dir.path().join("c.parquet");
    write_table(&mut df, &p).unwrap();
    let pq = read_contacts(&p, &ContactsLayout::default()).unwrap();
    assert!(
        pq.frame().equals_missing(csv.frame()),
        "{}\n{}",
        pq.frame(),
        csv.frame()
    );
    assert_eq!(pq.stats(), csv.stats());

    // and a Parquet file holding the text as written
    let mut text = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(dir.path().join("c.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let p2 = dir.path().join("text.parquet");
    write_table(&mut text, &p2).unwrap();
    let pq2 = read_contacts(&p2, &ContactsLayout::default()).unwrap();
    assert!(pq2.frame().equals_missing(csv.frame()));
}

#[test]
fn a_folder_or_glob_of_two_files_reads_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let one = read_contacts(
        &write(dir.path(), "all.csv", HEADER, &ROWS),
        &ContactsLayout::default(),
    )
    .unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write(&parts, "a.csv", HEADER, &ROWS[..5]);
    // columns in another order in the second file
    let swapped: Vec<String> = ROWS[5..]
        .iter()
        .map(|r| {
            let f: Vec<&str> = r.split(',').collect();
            [f[6], f[5], f[4], f[3], f[2], f[1], f[0]].join(",")
        })
        .collect();
    let swapped: Vec<&str> = swapped.iter().map(String::as_str).collect();
    write(
        &parts,
        "b.csv",
        "cost,group,outcome,action,channel,timestamp,client_id",
        &swapped,
    );
    for input in [parts.clone(), parts.join("*.csv")] {
        let c = read_contacts(&input, &ContactsLayout::default()).unwrap();
        assert!(c.frame().equals_missing(one.frame()), "{}", input.display());
        assert_eq!(c.stats().files, 2);
        assert_eq!(c.stats().rows, 8);
    }
}

#[test]
fn a_bom_and_crlf_line_ends_are_read_like_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let plain = read_contacts(
        &write(dir.path(), "plain.csv", HEADER, &ROWS),
        &ContactsLayout::default(),
    )
    .unwrap();
    let p = dir.path().join("bom.csv");
    let mut text = format!("\u{feff}{HEADER}\r\n");
    for r in ROWS {
        text.push_str(r);
        text.push_str("\r\n");
    }
    std::fs::write(&p, text).unwrap();
    let bom = read_contacts(&p, &ContactsLayout::default()).unwrap();
    assert!(bom.frame().equals_missing(plain.frame()));
}

#[test]
fn dates_formats_and_the_layout_from_toml() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "d.csv",
        "Kunde;Datum;Kanal;Ergebnis",
        &[
            "7;15/01/2024 10:30;Phone;won",
            "7;15/01/2024 09:00;Phone;nothing",
            "8;16/01/2024 23:59;Meeting;",
        ],
    );
    #[derive(serde::Deserialize)]
    struct Config {
        contacts: ContactsLayout,
    }
    let cfg: Config = toml::from_str(
        r#"
        [contacts]
        client_id = "Kunde"
        timestamp = "Datum"
        timestamp_format = "%d/%m/%Y %H:%M%z"
        channel = "Kanal"
        outcome = "Ergebnis"
        separator = ";"
        [contacts.outcomes]
        no_answer = ["nothing", ""]
        converted = ["won"]
        "#,
    )
    .unwrap();
    assert_eq!(
        cfg.contacts.outcomes.responded,
        ContactsLayout::default().outcomes.responded,
        "a list left out keeps its default"
    );
    let c = read_contacts(&p, &cfg.contacts).unwrap();
    let d15 = 1_705_276_800;
    assert_eq!(
        i64s(c.frame(), cols::TS),
        [
            d15 + 9 * 3600,
            d15 + 10 * 3600 + 1800,
            d15 + 2 * 86_400 - 60
        ]
    );
    let outcomes: Vec<i8> = c
        .frame()
        .column(cols::OUTCOME)
        .unwrap()
        .i8()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(outcomes, [0, 2, 0]);
    assert!(
        c.frame()
            .column(cols::ACTION)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .all(|a| a.is_none()),
        "no action column: all null"
    );

    // a date alone is midnight UTC
    let p = write(
        dir.path(),
        "days.csv",
        "client_id,timestamp,channel,outcome",
        &["1,2024-01-15,email,1", "1,2024-01-14,email,0"],
    );
    let c = read_contacts(&p, &ContactsLayout::default()).unwrap();
    assert_eq!(i64s(c.frame(), cols::TS), [d15 - 86_400, d15]);

    // fractions of a second are dropped, before 1970 too
    let p = write(
        dir.path(),
        "frac.csv",
        "client_id,timestamp,channel,outcome",
        &[
            "1,2024-01-15 10:00:00.750,email,1",
            "1,1969-12-31 23:59:59.5,email,1",
        ],
    );
    let c = read_contacts(&p, &ContactsLayout::default()).unwrap();
    assert_eq!(i64s(c.frame(), cols::TS), [-1, d15 + 36_000]);

    // unknown fields and a spelling given to two outcomes are refused
    assert!(toml::from_str::<ContactsLayout>("chanel = \"x\"").is_err());
    let mut bad = ContactsLayout::default();
    bad.outcomes.converted.push(" No Answer".into());
    let e = bad.check().unwrap_err().to_string();
    assert!(e.contains("no answer") && e.contains("converted"), "{e}");
}

#[test]
fn a_control_rows_blank_outcome_is_zero_whatever_the_lists() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c.csv",
        HEADER,
        &[
            "1,2024-01-15 10:00:00,email,,,control,",
            "2,2024-01-15 10:00:00,email,,,,",
        ],
    );
    let mut layout = ContactsLayout::default();
    layout.outcomes.no_answer = vec!["no_answer".into()];
    let e = read_contacts(&p, &layout).unwrap_err().to_string();
    // the control row (1) is fine; the treated blank (2) is not
    assert!(e.contains("row 2") && e.contains("column `outcome`"), "{e}");
    let c = read_contacts(&p, &ContactsLayout::default()).unwrap();
    assert_eq!(c.stats().control_rows, 1);
    assert_eq!(c.stats().no_answer_rows, 1);
}

/// Asserts a bad-value error names the file, column, row and value.
fn assert_bad(p: &Path, layout: &ContactsLayout, column: &str, row: u64, value: &str) -> String {
    assert_bad_in(p, p, layout, column, row, value)
}

/// Asserts reading `input` fails on a bad value in `p`, naming the file, column, row and value.
fn assert_bad_in(
    input: &Path,
    p: &Path,
    layout: &ContactsLayout,
    column: &str,
    row: u64,
    value: &str,
) -> String {
    let e = read_contacts(input, layout).unwrap_err();
    let msg = e.to_string();
    match &e {
        DataError::BadValue {
            file,
            column: c,
            row: r,
            value: v,
            ..
        } => assert_eq!(
            (file.as_path(), c.as_str(), *r, v.as_str()),
            (p, column, row, value),
            "{msg}"
        ),
        other => panic!("expected a bad value, got {other:?}"),
    }
    assert!(msg.contains(&p.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("column `{column}`")), "{msg}");
    assert!(msg.contains(&format!("row {row}")), "{msg}");
    assert!(msg.contains(&format!("{value:?}")), "{msg}");
    msg
}

#[test]
fn every_bad_value_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = "1,2024-01-15 10:00:00,email,A,1,,2.5";
    let layout = ContactsLayout::default();
    let cases: [(&str, &str, &str); 12] = [
        ("2024-13-45 10:00:00", "timestamp", "2024-13-45 10:00:00"),
        ("", "timestamp", ""),
        (
            "2024-01-15 10:00:00+25:00",
            "timestamp",
            "2024-01-15 10:00:00+25:00",
        ),
        (
            "2024-01-15 10:00:00+01:xx",
            "timestamp",
            "2024-01-15 10:00:00+01:xx",
        ),
        ("maybe", "outcome", "maybe"),
        ("test", "group", "test"),
        (" ", "channel", " "),
        ("", "channel", ""),
        ("", "client_id", ""),
        ("-1", "cost", "-1"),
        ("free", "cost", "free"),
        ("inf", "cost", "inf"),
    ];
    for (i, (value, column, shown)) in cases.iter().enumerate() {
        let mut f: Vec<&str> = good.split(',').collect();
        let at = match *column {
            "client_id" => 0,
            "timestamp" => 1,
            "channel" => 2,
            "outcome" => 4,
            "group" => 5,
            _ => 6,
        };
        f[at] = value;
        let bad = f.join(",");
        let p = write(
            dir.path(),
            &format!("bad{i}.csv"),
            HEADER,
            &[good, good, &bad, good],
        );
        let msg = assert_bad(&p, &layout, column, 3, shown);
        if *column == "outcome" {
            assert!(
                msg.contains("converted (\"2\", \"accepted\""),
                "the accepted values: {msg}"
            );
        }
    }
    // a bad value in the second file of a folder names that file and its own row
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write(&parts, "a.csv", HEADER, &[good, good, good]);
    let b = write(
        &parts,
        "b.csv",
        HEADER,
        &[good, "1,2024-01-15 10:00:00,email,A,won,,2.5"],
    );
    assert_bad_in(&parts, &b, &layout, "outcome", 2, "won");
    // a wrong first value stops the format detection with row 1
    let p = write(
        dir.path(),
        "first.csv",
        HEADER,
        &["1,yesterday,email,A,1,,"],
    );
    assert_bad(&p, &layout, "timestamp", 1, "yesterday");
}

#[test]
fn missing_columns_and_empty_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "m.csv",
        "client_id,timestamp,channel,result",
        &["1,2024-01-15 10:00:00,email,1"],
    );
    let e = read_contacts(&p, &ContactsLayout::default()).unwrap_err();
    assert!(matches!(e, DataError::MissingColumn { .. }), "{e:?}");
    let msg = e.to_string();
    for part in [
        p.display().to_string(),
        "`outcome`".into(),
        "client_id, timestamp, channel, result".into(),
    ] {
        assert!(msg.contains(&part), "{msg}");
    }
    // a named optional column must be there
    let layout = ContactsLayout {
        cost: Some("price".into()),
        ..Default::default()
    };
    let p = write(
        dir.path(),
        "n.csv",
        HEADER,
        &["1,2024-01-15 10:00:00,email,A,1,,"],
    );
    let msg = read_contacts(&p, &layout).unwrap_err().to_string();
    assert!(msg.contains("`price` (the cost column)"), "{msg}");

    // an optional column present in one file only: the other file is named
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write(
        &parts,
        "a.csv",
        HEADER,
        &["1,2024-01-15 10:00:00,email,A,1,,"],
    );
    let b = write(
        &parts,
        "b.csv",
        "client_id,timestamp,channel,action,outcome,cost",
        &["1,2024-01-15 10:00:00,email,A,1,"],
    );
    let msg = read_contacts(&parts, &ContactsLayout::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&b.display().to_string()) && msg.contains("`group`"),
        "{msg}"
    );

    // a header and no rows; no bytes at all
    for (name, body) in [("h.csv", format!("{HEADER}\n")), ("z.csv", String::new())] {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        let e = read_contacts(&p, &ContactsLayout::default()).unwrap_err();
        assert!(matches!(e, DataError::EmptyFile { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains(&p.display().to_string()));
    }
}

#[test]
fn a_gzip_csv_reads_like_the_plain_one() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "c.csv", HEADER, &ROWS);
    let p = dir.path().join("c.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    gz.finish().unwrap();
    let a = read_contacts(&plain, &ContactsLayout::default()).unwrap();
    let b = read_contacts(&p, &ContactsLayout::default()).unwrap();
    assert!(b.frame().equals_missing(a.frame()));
}

#[test]
fn a_frame_in_canonical_columns_is_sorted_and_checked() {
    let df = df! {
        cols::CLIENT => [2i64, 1, 1],
        cols::TS => [86_400i64 * 3 + 5, -1, 86_400],
        cols::CHANNEL => ["email", "phone", "Email "],
        cols::ACTION => [None, Some("A"), Some(" ")],
        cols::OUTCOME => [0i8, 2, 1],
        cols::CONTROL => [false, false, true],
        cols::COST => [None, Some(1.5f64), None],
    }
    .unwrap();
    let c = retain_data::Contacts::from_frame(df.clone(), "test").unwrap();
    assert_eq!(i64s(c.frame(), cols::CLIENT), [1, 1, 2]);
    assert_eq!(i64s(c.frame(), cols::TS), [-1, 86_400, 86_400 * 3 + 5]);
    let days: Vec<i32> = c
        .frame()
        .column(cols::DAY)
        .unwrap()
        .i32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(days, [-1, 1, 3], "a second before 1970 is on day -1");
    assert_eq!(
        strs(c.frame(), cols::CHANNEL),
        [Some("phone"), Some("email"), Some("email")].map(|s| s.map(str::to_string))
    );
    assert_eq!(
        strs(c.frame(), cols::ACTION),
        [Some("A"), None, None].map(|s| s.map(str::to_string))
    );
    assert_eq!(c.stats().control_rows, 1);
    assert_eq!((c.stats().converted_rows, c.stats().no_answer_rows), (1, 1));
    assert_eq!(c.channels(), ["email", "phone"]);
    // an outcome code above 2 is refused
    let mut bad = df;
    bad.with_column(Column::new(cols::OUTCOME.into(), [0i8, 3, 1]))
        .unwrap();
    assert!(retain_data::Contacts::from_frame(bad, "test").is_err());
}

#[test]
fn tens_of_thousands_of_channels_mean_the_wrong_column() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<String> = (0..70_000)
        .map(|i| format!("1,2024-01-15 10:00:00,ch{i},A,1,,"))
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let p = write(dir.path(), "many.csv", HEADER, &rows);
    let e = read_contacts(&p, &ContactsLayout::default()).unwrap_err();
    assert!(matches!(e, DataError::Config(_)), "{e:?}");
    assert!(e.to_string().contains("70000 distinct channels"), "{e}");
}

#[test]
fn large_tables_sort_like_a_plain_sort_of_their_rows() {
    use rand::Rng;
    // enough rows for many client buckets; ids of every size, some far apart, and many ties
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 40_000;
    let ids = [i64::MIN, -5, 0, 3, 1 << 40, i64::MAX];
    let client: Vec<i64> = (0..n)
        .map(|i| {
            if i % 7 == 0 {
                ids[rng.random_range(0..ids.len())]
            } else {
                rng.random_range(-1000..3000)
            }
        })
        .collect();
    let ts: Vec<i64> = (0..n).map(|_| rng.random_range(-5..5) * 3600).collect();
    let channel: Vec<&str> = (0..n)
        .map(|_| ["sms", "email", "phone"][rng.random_range(0..3)])
        .collect();
    let action: Vec<Option<String>> = (0..n)
        .map(|_| {
            rng.random_bool(0.5)
                .then(|| format!("A{}", rng.random_range(0..3)))
        })
        .collect();
    let outcome: Vec<i8> = (0..n).map(|_| rng.random_range(0..3)).collect();
    let control: Vec<bool> = (0..n).map(|_| rng.random_bool(0.2)).collect();
    let cost: Vec<Option<f64>> = (0..n)
        .map(|_| {
            rng.random_bool(0.5)
                .then(|| rng.random_range(0..4) as f64 / 2.0)
        })
        .collect();
    let df = df! {
        cols::CLIENT => &client,
        cols::TS => &ts,
        cols::CHANNEL => &channel,
        cols::ACTION => &action,
        cols::OUTCOME => &outcome,
        cols::CONTROL => &control,
        cols::COST => &cost,
    }
    .unwrap();
    let c = retain_data::Contacts::from_frame(df, "test").unwrap();
    // brute force: the rows as tuples, sorted (none before any cost or action)
    let mut want: Vec<_> = (0..n)
        .map(|i| {
            (
                client[i],
                ts[i],
                channel[i].to_string(),
                action[i].clone(),
                outcome[i],
                control[i],
                cost[i].map(f64::to_bits),
            )
        })
        .collect();
    want.sort();
    let f = c.frame();
    let got_action = strs(f, cols::ACTION);
    let got_channel = strs(f, cols::CHANNEL);
    let got_cost: Vec<Option<f64>> = f
        .column(cols::COST)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    let got_outcome: Vec<i8> = f
        .column(cols::OUTCOME)
        .unwrap()
        .i8()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let (got_client, got_ts) = (i64s(f, cols::CLIENT), i64s(f, cols::TS));
    for (i, w) in want.iter().enumerate() {
        let got = (
            got_client[i],
            got_ts[i],
            got_channel[i].clone().unwrap(),
            got_action[i].clone(),
            got_outcome[i],
            f.column(cols::CONTROL)
                .unwrap()
                .bool()
                .unwrap()
                .get(i)
                .unwrap(),
            got_cost[i].map(f64::to_bits),
        );
        assert_eq!(&got, w, "row {i}");
    }
}

#[test]
fn contacts_after_the_as_of_date_or_before_1900_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = ContactsLayout::default();
    let day = |d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    let rows = [
        "1,2024-01-15T10:00:00Z,email,A,1,,",
        "2,2099-03-01T09:00:00Z,email,A,1,,",
        "3,2024-01-16T10:00:00Z,phone,A,0,,",
        "4,2098-01-01T00:00:00Z,phone,A,0,,",
    ];
    let p = write(dir.path(), "late.csv", HEADER, &rows);
    // without an as-of date, read as it is
    assert_eq!(read_contacts(&p, &layout).unwrap().len(), 4);
    assert_eq!(
        Contacts::read_until(&p, &layout, Some(day("2099-03-01")))
            .unwrap()
            .len(),
        4
    );
    // the first late row is named, and all are counted
    let e = Contacts::read_until(&p, &layout, Some(day("2024-01-16"))).unwrap_err();
    let msg = e.to_string();
    match &e {
        DataError::BadValue {
            file,
            column,
            row,
            value,
            ..
        } => assert_eq!(
            (file.as_path(), column.as_str(), *row, value.as_str()),
            (p.as_path(), "timestamp", 2, "2099-03-01T09:00:00Z"),
            "{msg}"
        ),
        other => panic!("expected a bad value, got {other:?}"),
    }
    assert!(
        msg.contains("2024-01-16") && msg.contains("2 contacts are outside"),
        "{msg}"
    );
    // the as-of date is a UTC day: a contact late that day is kept, one the next day is not
    let edge = write(
        dir.path(),
        "edge.csv",
        HEADER,
        &[
            "1,2024-01-16T23:59:59Z,email,A,1,,",
            "1,2024-01-17T00:00:00+01:00,email,A,1,,",
        ],
    );
    assert_eq!(
        Contacts::read_until(&edge, &layout, Some(day("2024-01-16")))
            .unwrap()
            .len(),
        2
    );
    let next = write(
        dir.path(),
        "next.csv",
        HEADER,
        &["1,2024-01-17T00:00:00Z,email,A,1,,"],
    );
    assert!(Contacts::read_until(&next, &layout, Some(day("2024-01-16"))).is_err());
    // before 1900: refused with or without an as-of date
    let old = write(
        dir.path(),
        "old.csv",
        HEADER,
        &[rows[0], "5,1899-12-31T10:00:00Z,sms,,0,,"],
    );
    let msg = read_contacts(&old, &layout).unwrap_err().to_string();
    assert!(msg.contains("row 2") && msg.contains("1899-12-31"), "{msg}");
}
