//! Reading client attributes: values, defaults, look-ups, formats, and every bad input named.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use retain_data::{ClientsLayout, DataError, TimeZoneSpec, read_clients, write_table};

const HEADER: &str = "client_id,consent_email,Consent_Phone,do_not_contact,timezone,account_manager,segment,margin,nps,csat";

const ROWS: [&str; 4] = [
    "3,yes,N,,Europe/Berlin,Anna,gold,0.35,9,4.5",
    "1,TRUE,1,false,+5:30,,silver,0,0,1",
    "2,,y,Yes,UTC+2, Bob ,,1,10,5",
    "10,0,no,0,,,,,,",
];

// 2024-01-15 12:00 UTC and 2024-07-15 12:00 UTC
const JAN: i64 = 1_705_320_000;
const JUL: i64 = 1_721_044_800;

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

fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().bool().unwrap().iter().collect()
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

fn f64s(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name).unwrap().f64().unwrap().iter().collect()
}

fn some(v: &[Option<&str>]) -> Vec<Option<String>> {
    v.iter().map(|s| s.map(str::to_string)).collect()
}

#[test]
fn values_defaults_and_look_ups() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "c.csv", HEADER, &ROWS);
    let c = read_clients(&p, &ClientsLayout::default()).unwrap();
    let df = c.frame();
    let schema: Vec<(String, DataType)> = df
        .schema()
        .iter()
        .map(|(n, t)| (n.to_string(), t.clone()))
        .collect();
    let want: Vec<(String, DataType)> = [
        ("client_id", DataType::Int64),
        ("consent_email", DataType::Boolean),
        ("consent_phone", DataType::Boolean),
        ("do_not_contact", DataType::Boolean),
        ("timezone", DataType::String),
        ("account_manager", DataType::String),
        ("segment", DataType::String),
        ("margin", DataType::Float64),
        ("nps", DataType::Float64),
        ("csat", DataType::Float64),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    assert_eq!(schema, want);

    assert_eq!(c.ids(), [1, 2, 3, 10]);
    let ids: Vec<i64> = df
        .column("client_id")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(ids, [1, 2, 3, 10]);
    // unknown consent is no consent
    assert_eq!(
        bools(df, "consent_email"),
        [Some(true), Some(false), Some(true), Some(false)]
    );
    assert_eq!(
        bools(df, "consent_phone"),
        [Some(true), Some(true), Some(false), Some(false)]
    );
    assert_eq!(
        bools(df, "do_not_contact"),
        [Some(false), Some(true), Some(false), Some(false)]
    );
    assert_eq!(
        strs(df, "timezone"),
        some(&[Some("+05:30"), Some("+02:00"), Some("Europe/Berlin"), None])
    );
    assert_eq!(
        strs(df, "account_manager"),
        some(&[None, Some("Bob"), Some("Anna"), None])
    );
    assert_eq!(
        strs(df, "segment"),
        some(&[Some("silver"), None, Some("gold"), None])
    );
    assert_eq!(f64s(df, "margin"), [Some(0.0), Some(1.0), Some(0.35), None]);
    assert_eq!(f64s(df, "nps"), [Some(0.0), Some(10.0), Some(9.0), None]);
    assert_eq!(f64s(df, "csat"), [Some(1.0), Some(5.0), Some(4.5), None]);

    assert_eq!(c.channels(), ["email", "phone"]);
    assert_eq!(c.len(), 4);
    // time zones, with daylight saving time for IANA names
    assert_eq!(c.time_zone(3).offset_minutes_at(JAN), 60);
    assert_eq!(c.time_zone(3).offset_minutes_at(JUL), 120);
    assert_eq!(c.time_zone(1).offset_minutes_at(JUL), 330);
    assert_eq!(c.time_zone(2), TimeZoneSpec::parse("+02:00").unwrap());
    assert_eq!(c.time_zone(10), TimeZoneSpec::UTC, "unknown: UTC");
    assert_eq!(c.time_zone(99), TimeZoneSpec::UTC, "not in the file: UTC");
    assert_eq!(c.time_zones()[2], TimeZoneSpec::parse("Europe/Berlin").ok());
    assert_eq!(c.time_zones()[3], None);
    // consent and the do-not-contact list
    assert!(c.consent(1, "email") && c.consent(1, " Phone"));
    assert!(!c.consent(2, "email"), "unknown consent is no consent");
    assert!(
        c.consent(2, "phone") && !c.may_contact(2, "phone"),
        "on the list"
    );
    assert!(c.may_contact(1, "email"));
    assert!(!c.consent(1, "sms"), "no consent column for the channel");
    assert!(!c.consent(99, "email") && !c.do_not_contact(99) && !c.may_contact(99, "email"));
    assert_eq!(c.row_of(10), Some(3));
    assert_eq!(c.row_of(4), None);

    let st = c.stats();
    assert_eq!((st.files, st.clients), (1, 4));
    assert_eq!(
        st.consenting,
        [("email".to_string(), 2), ("phone".to_string(), 2)]
    );
    assert_eq!((st.do_not_contact, st.with_timezone), (1, 3));
    assert_eq!(
        df.column("client_id").unwrap().is_sorted_flag(),
        polars::series::IsSorted::Ascending
    );
}

#[test]
fn a_file_with_only_ids_gets_every_default() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ids.csv", "client_id,notes", &["5,x", "4,"]);
    let c = read_clients(&p, &ClientsLayout::default()).unwrap();
    assert!(c.channels().is_empty());
    assert_eq!(c.ids(), [4, 5]);
    assert_eq!(
        bools(c.frame(), "do_not_contact"),
        [Some(false), Some(false)]
    );
    assert_eq!(strs(c.frame(), "timezone"), [None, None]);
    assert_eq!(f64s(c.frame(), "margin"), [None, None]);
    assert!(!c.may_contact(4, "email"));
    assert_eq!(c.time_zone(5), TimeZoneSpec::UTC);
    // the table has every attribute column; the input had none of them
    for name in [
        "do_not_contact",
        "timezone",
        "account_manager",
        "segment",
        "margin",
        "nps",
        "csat",
    ] {
        assert!(c.frame().column(name).is_ok(), "{name}");
        assert!(!c.has_column(name), "{name}");
    }
}

#[test]
fn the_attribute_columns_the_input_has_are_told_apart() {
    // an `nps` column with no answer is there; `csat` is not
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "nps.csv",
        "client_id,nps,segment",
        &["1,,a", "2,,"],
    );
    let c = read_clients(&p, &ClientsLayout::default()).unwrap();
    assert!(c.has_column("nps") && c.has_column("segment"));
    assert!(!c.has_column("csat") && !c.has_column("margin") && !c.has_column("client_id"));
    assert_eq!(f64s(c.frame(), "nps"), [None, None]);
}

#[test]
fn an_explicit_layout_from_toml() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "c.csv",
        "id;optin_mail;optin_sms;tz;consent_phone;Marge",
        &["7;Y;n;America/New_York;yes;0.2", "8;;1;-0500;yes;"],
    );
    #[derive(serde::Deserialize)]
    struct Config {
        clients: ClientsLayout,
    }
    let cfg: Config = toml::from_str(
        r#"
        [clients]
        client_id = "id"
        consent = { Email = "optin_mail", sms = "optin_sms" }
        timezone = "tz"
        margin = "Marge"
        separator = ";"
        "#,
    )
    .unwrap();
    let c = read_clients(&p, &cfg.clients).unwrap();
    // only the mapped consent columns: consent_phone is not picked up
    assert_eq!(c.channels(), ["email", "sms"]);
    assert!(c.frame().column("consent_phone").is_err());
    assert!(c.consent(7, "email") && !c.consent(7, "sms") && c.consent(8, "sms"));
    assert_eq!(
        (
            c.time_zone(7).offset_minutes_at(JAN),
            c.time_zone(7).offset_minutes_at(JUL)
        ),
        (-300, -240)
    );
    assert_eq!(c.time_zone(8).offset_minutes_at(JUL), -300);
    assert_eq!(f64s(c.frame(), "margin"), [Some(0.2), None]);
    assert!(toml::from_str::<ClientsLayout>("consents = {}").is_err());
    let twice = ClientsLayout {
        consent: Some(
            [("Email", "a"), ("email ", "b")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
        ),
        ..Default::default()
    };
    assert!(twice.check().unwrap_err().to_string().contains("email"));
}

#[test]
fn parquet_csv_and_two_files_give_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let csv = read_clients(
        &write(dir.path(), "c.csv", HEADER, &ROWS),
        &ClientsLayout::default(),
    )
    .unwrap();
    let mut df = df! {
        "client_id" => [3i64, 1, 2, 10],
        "consent_email" => [Some(true), Some(true), None, Some(false)],
        "Consent_Phone" => [Some("N"), Some("1"), Some("y"), Some("no")],
        "do_not_contact" => [None, Some(false), Some(true), Some(false)],
        "timezone" => [Some("europe/berlin"), Some("+0530"), Some("GMT+2"), None],
        "account_manager" => [Some("Anna"), None, Some("Bob"), Some("")],
        "segment" => [Some("gold"), Some("silver"), None, None],
        "margin" => [Some(0.35f64), Some(0.0), Some(1.0), None],
        "nps" => [Some(9i64), Some(0), Some(10), None],
        "csat" => [Some(4.5f64), Some(1.0), Some(5.0), None],
    }
    .unwrap();
    let p = dir.path().join("c.parquet");
    write_table(&mut df, &p).unwrap();
    let pq = read_clients(&p, &ClientsLayout::default()).unwrap();
    assert!(
        pq.frame().equals_missing(csv.frame()),
        "{}\n{}",
        pq.frame(),
        csv.frame()
    );
    assert_eq!(pq.stats(), csv.stats());

    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write(&parts, "a.csv", HEADER, &ROWS[..2]);
    write(&parts, "b.csv", HEADER, &ROWS[2..]);
    for input in [parts.clone(), parts.join("*.csv")] {
        let two = read_clients(&input, &ClientsLayout::default()).unwrap();
        assert!(two.frame().equals_missing(csv.frame()));
        assert_eq!(two.stats().files, 2);
    }
    // the same ids in the other order give the same table
    let mut rev = ROWS;
    rev.reverse();
    let r = read_clients(
        &write(dir.path(), "rev.csv", HEADER, &rev),
        &ClientsLayout::default(),
    )
    .unwrap();
    assert!(r.frame().equals_missing(csv.frame()));
}

/// Asserts reading `input` fails on a bad value in `file`, naming the file, column, row and value.
fn assert_bad(input: &Path, file: &Path, column: &str, row: u64, value: &str) -> String {
    let e = read_clients(input, &ClientsLayout::default()).unwrap_err();
    let msg = e.to_string();
    match &e {
        DataError::BadValue {
            file: f,
            column: c,
            row: r,
            value: v,
            ..
        } => assert_eq!(
            (f.as_path(), c.as_str(), *r, v.as_str()),
            (file, column, row, value),
            "{msg}"
        ),
        other => panic!("expected a bad value, got {other:?}"),
    }
    for part in [
        file.display().to_string(),
        format!("column `{column}`"),
        format!("row {row}"),
        format!("{value:?}"),
    ] {
        assert!(msg.contains(&part), "{part} in {msg}");
    }
    msg
}

#[test]
fn every_bad_value_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = "1,yes,no,no,Europe/London,Anna,gold,0.5,7,4";
    let at = |column: &str| HEADER.split(',').position(|c| c == column).unwrap();
    let cases = [
        ("client_id", "", "a client id"),
        ("consent_email", "maybe", "yes or no"),
        ("Consent_Phone", "ja", "yes or no"),
        ("do_not_contact", "2", "yes or no"),
        ("timezone", "Mars/Olympus", "IANA"),
        ("timezone", "+25:00", "IANA"),
        ("margin", "35", "from 0 to 1"),
        ("margin", "35%", "from 0 to 1"),
        ("margin", "-0.1", "from 0 to 1"),
        ("nps", "11", "from 0 to 10"),
        ("nps", "7.5", "from 0 to 10"),
        ("nps", "-1", "from 0 to 10"),
        ("csat", "0", "from 1 to 5"),
        ("csat", "5.5", "from 1 to 5"),
    ];
    let row = |id: &str, change: Option<(&str, &str)>| {
        let mut f: Vec<&str> = good.split(',').collect();
        f[0] = id;
        if let Some((column, value)) = change {
            f[at(column)] = value;
        }
        f.join(",")
    };
    for (i, (column, value, expected)) in cases.into_iter().enumerate() {
        let rows = [
            row("1", None),
            row("2", None),
            row("3", Some((column, value))),
        ];
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let p = write(dir.path(), &format!("bad{i}.csv"), HEADER, &rows);
        let msg = assert_bad(&p, &p, column, 3, value);
        assert!(msg.contains(expected), "{msg}");
    }
    // the first bad row is named, whichever column it is in
    let p = write(
        dir.path(),
        "two.csv",
        HEADER,
        &[
            good,
            "2,yes,no,no,Nowhere,Anna,gold,0.5,7,4",
            "3,yes,no,no,UTC,Anna,gold,2,7,4",
        ],
    );
    assert_bad(&p, &p, "timezone", 2, "Nowhere");
    let p = write(
        dir.path(),
        "three.csv",
        HEADER,
        &[
            good,
            "2,yes,no,no,UTC,Anna,gold,2,7,4",
            "3,yes,no,no,Nowhere,Anna,gold,0.5,7,4",
        ],
    );
    assert_bad(&p, &p, "margin", 2, "2");
}

#[test]
fn a_duplicate_client_names_both_rows() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "d.csv",
        "client_id,segment",
        &["5,a", "6,b", "7,c", "5.0,d", "6,e"],
    );
    let e = read_clients(&p, &ClientsLayout::default()).unwrap_err();
    let msg = e.to_string();
    match e {
        DataError::DuplicateClient {
            file,
            row,
            id,
            first_file,
            first_row,
            ..
        } => assert_eq!(
            (file, row, id, first_file, first_row),
            (p.clone(), 4, "5.0".to_string(), p, 1)
        ),
        other => panic!("expected a duplicate, got {other:?}"),
    }
    assert!(
        msg.contains("row 4") && msg.contains("row 1") && msg.contains("client id 5"),
        "{msg}"
    );
    // across two files
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    let a = write(&parts, "a.csv", "client_id", &["1", "2"]);
    let b = write(&parts, "b.csv", "client_id", &["3", "2"]);
    let msg = read_clients(&parts, &ClientsLayout::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!("{}: row 2", b.display()))
            && msg.contains(&format!("row 2 of {}", a.display())),
        "{msg}"
    );
}

#[test]
fn missing_columns_and_empty_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "m.csv", "id,consent_email", &["1,yes"]);
    let msg = read_clients(&p, &ClientsLayout::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&p.display().to_string())
            && msg.contains("`client_id`")
            && msg.contains("the file has: id, consent_email"),
        "{msg}"
    );
    let layout = ClientsLayout {
        consent: Some([("email".to_string(), "mail_ok".to_string())].into()),
        ..Default::default()
    };
    let p = write(dir.path(), "n.csv", "client_id,consent_email", &["1,yes"]);
    let msg = read_clients(&p, &layout).unwrap_err().to_string();
    assert!(
        msg.contains("`mail_ok` (the consent_email column)"),
        "{msg}"
    );
    // a consent column in one file only
    let parts = dir.path().join("parts");
    std::fs::create_dir(&parts).unwrap();
    write(&parts, "a.csv", "client_id,consent_sms", &["1,yes"]);
    let b = write(&parts, "b.csv", "client_id", &["2"]);
    let msg = read_clients(&parts, &ClientsLayout::default())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(&b.display().to_string()) && msg.contains("`consent_sms`"),
        "{msg}"
    );

    for (name, body) in [("h.csv", format!("{HEADER}\n")), ("z.csv", String::new())] {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        let e = read_clients(&p, &ClientsLayout::default()).unwrap_err();
        assert!(matches!(e, DataError::EmptyFile { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains(&p.display().to_string()));
    }
}
