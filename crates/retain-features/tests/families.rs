//! The feature families: hand-worked values on a tiny history, the population and order of
//! the 29 features, the same columns whether the history is condensed in parts or in one
//! pass, agreement with the protocol features they overlap, and the names in `retain.toml`
//! and on the command line.

use retain_core::{Cutoff, Horizon};
use std::path::Path;

use polars::prelude::*;
use retain_data::{Layout, Transactions, read_transactions};
use retain_features::{
    FEATURES, FeatureFamilies, FeatureFamily, History, UnknownFamily, family_columns,
};

/// One line: (client, day, amount, is_return).
type Line = (i64, i32, f64, bool);

fn tiny(lines: &[Line]) -> History {
    let n = lines.len();
    let frame = df!(
        "client_id" => lines.iter().map(|l| l.0).collect::<Vec<_>>(),
        "day" => lines.iter().map(|l| l.1).collect::<Vec<_>>(),
        "hour" => vec![None::<i8>; n],
        "amount" => lines.iter().map(|l| l.2).collect::<Vec<_>>(),
        "quantity" => vec![1.0_f64; n],
        "invoice" => (0..n).map(|i| format!("i{i}")).collect::<Vec<_>>(),
        "product" => vec![None::<&str>; n],
        "category" => vec![None::<&str>; n],
        "is_return" => lines.iter().map(|l| l.3).collect::<Vec<_>>(),
    )
    .unwrap();
    let tx = Transactions::from_frame(frame, "tiny", Layout::cdnow()).unwrap();
    History::of(&tx).unwrap()
}

const C: i32 = 1_000;

/// The tiny history at cutoff 1000:
/// - client 1: purchase days 600 (40), 970 (2 + 3 = 5), 993 (20), 1000 (10), ages 400, 30, 7,
///   0; a return-only day at 995 (no purchase day) and a purchase at 1005 (after the cutoff);
/// - client 2: one purchase day, 900 (100), age 100;
/// - client 3: purchase days 620 (50) and 640 (30), ages 380 and 360;
/// - client 4: a return only (not in the population); client 5: first purchase after the
///   cutoff (not in the population).
fn tiny_history() -> History {
    tiny(&[
        (1, 600, 40.0, false),
        (1, 970, 2.0, false),
        (1, 970, 3.0, false),
        (1, 993, 20.0, false),
        (1, 995, -7.0, true),
        (1, 1_000, 10.0, false),
        (1, 1_005, 999.0, false),
        (2, 900, 100.0, false),
        (3, 620, 50.0, false),
        (3, 640, 30.0, false),
        (4, 990, -5.0, true),
        (5, 1_010, 70.0, false),
    ])
}

fn get(df: &DataFrame, name: &str) -> Vec<f64> {
    df.column(name)
        .unwrap_or_else(|_| panic!("column {name}"))
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.expect("no null"))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

fn assert_column(df: &DataFrame, name: &str, want: &[f64]) {
    let got = get(df, name);
    assert_eq!(got.len(), want.len(), "{name}: rows");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "{name}, row {i}: got {g}, want {w}");
    }
}

#[test]
fn hand_worked_values_on_a_tiny_history() {
    let h = tiny_history();
    let f = h
        .family_features_at(
            Cutoff::from_day(C),
            Horizon::new(30).unwrap(),
            &FeatureFamilies::all(),
        )
        .collect()
        .unwrap();
    let names: Vec<String> = std::iter::once("client_id".to_string())
        .chain(family_columns(&FeatureFamilies::all()))
        .collect();
    let got: Vec<String> = f.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(got, names);
    assert_eq!(
        f.column("client_id").unwrap().i64().unwrap().to_vec(),
        vec![Some(1), Some(2), Some(3)]
    );

    // windows (c - w, c] = ages < w. Client 1 ages 0 (10), 7 (20), 30 (5), 400 (40);
    // client 2 age 100 (100); client 3 ages 360 (30), 380 (50).
    assert_column(&f, "win_pd_7", &[1.0, 0.0, 0.0]); // age 0
    assert_column(&f, "win_spend_7", &[10.0, 0.0, 0.0]);
    assert_column(&f, "win_pd_14", &[2.0, 0.0, 0.0]); // ages 0, 7
    assert_column(&f, "win_spend_14", &[30.0, 0.0, 0.0]); // 10 + 20
    assert_column(&f, "win_pd_30", &[2.0, 0.0, 0.0]); // age 30 is outside (c - 30, c]
    assert_column(&f, "win_pd_60", &[3.0, 0.0, 0.0]);
    assert_column(&f, "win_spend_60", &[35.0, 0.0, 0.0]); // 10 + 20 + 5
    assert_column(&f, "win_pd_90", &[3.0, 0.0, 0.0]);
    assert_column(&f, "win_pd_180", &[3.0, 1.0, 0.0]); // client 2's age 100
    assert_column(&f, "win_spend_180", &[35.0, 100.0, 0.0]);
    assert_column(&f, "win_pd_365", &[3.0, 1.0, 1.0]); // client 3's age 360
    assert_column(&f, "win_spend_365", &[35.0, 100.0, 30.0]);

    // decayed: weight 2^-(age / h)
    let w = |age: f64, h: f64| (-age / h).exp2();
    // client 1, h = 7: 2^(-400/7) + 2^(-30/7) + 2^-1 + 2^0
    assert_column(
        &f,
        "dec_pd_hl7",
        &[
            w(400.0, 7.0) + w(30.0, 7.0) + 0.5 + 1.0,
            w(100.0, 7.0),
            w(380.0, 7.0) + w(360.0, 7.0),
        ],
    );
    // client 1, h = 30: 40 * 2^(-400/30) + 5 * 2^-1 + 20 * 2^(-7/30) + 10
    assert_column(
        &f,
        "dec_spend_hl30",
        &[
            40.0 * w(400.0, 30.0) + 2.5 + 20.0 * w(7.0, 30.0) + 10.0,
            100.0 * w(100.0, 30.0),
            50.0 * w(380.0, 30.0) + 30.0 * w(360.0, 30.0),
        ],
    );
    // client 2, h = 365: 2^(-100/365); the purchase on the cutoff day weighs 1
    assert_column(
        &f,
        "dec_pd_hl365",
        &[
            w(400.0, 365.0) + w(30.0, 365.0) + w(7.0, 365.0) + 1.0,
            w(100.0, 365.0),
            w(380.0, 365.0) + w(360.0, 365.0),
        ],
    );

    // last_year with H = 30: before = ages [365, 395), next = ages [335, 365).
    // client 1: age 400 in neither, bought by c - 365 (age 400 >= 365), nothing next: churned.
    // client 2: first purchase at age 100: not a client a year earlier.
    // client 3: age 380 before (50), age 360 next (30): active, not churned.
    assert_column(&f, "ly_pd", &[0.0, 0.0, 1.0]);
    assert_column(&f, "ly_spend", &[0.0, 0.0, 50.0]);
    assert_column(&f, "ly_next_pd", &[0.0, 0.0, 1.0]);
    assert_column(&f, "ly_next_spend", &[0.0, 0.0, 30.0]);
    assert_column(&f, "ly_active", &[1.0, 0.0, 1.0]);
    assert_column(&f, "ly_churned", &[1.0, 0.0, 0.0]);

    // gap_recency. client 1: days since last 0, gaps 370, 23, 7 (mean 400 / 3, largest 370).
    // client 2: no gap: ratio 1, share 0.5, over_max = 100 - 0.
    // client 3: days since last 360, one gap of 20: 360 / 20 = 18, 360 - 20, 1 of 1 shorter.
    assert_column(&f, "gap_ratio", &[0.0, 1.0, 18.0]);
    assert_column(&f, "gap_over_max", &[-370.0, 100.0, 340.0]);
    assert_column(&f, "gap_share_shorter", &[0.0, 0.5, 1.0]);
}

#[test]
fn a_horizon_longer_than_a_year_stops_at_the_cutoff() {
    let f = tiny_history()
        .family_features_at(
            Cutoff::from_day(C),
            Horizon::new(400).unwrap(),
            &FeatureFamilies::none().with(FeatureFamily::LastYear),
        )
        .collect()
        .unwrap();
    // before = ages [365, 765), next = ages [0, 365) (not [-35, 365): no day after c)
    // client 1: before age 400 (40); next ages 30, 7, 0 (5 + 20 + 10), not the day 1005.
    assert_column(&f, "ly_pd", &[1.0, 0.0, 1.0]);
    assert_column(&f, "ly_spend", &[40.0, 0.0, 50.0]);
    assert_column(&f, "ly_next_pd", &[3.0, 1.0, 1.0]);
    assert_column(&f, "ly_next_spend", &[35.0, 100.0, 30.0]);
    assert_column(&f, "ly_churned", &[0.0, 0.0, 0.0]);
}

#[test]
fn gap_share_counts_strictly_shorter_gaps() {
    // days 0, 10, 15, 45, cutoff 55: gaps 10, 5, 30, days since last 10.
    // shorter than 10: only 5 -> 1/3; ratio 10 / (45 / 3) = 2/3; over_max 10 - 30.
    let h = tiny(&[
        (7, 0, 1.0, false),
        (7, 10, 1.0, false),
        (7, 15, 1.0, false),
        (7, 45, 1.0, false),
    ]);
    let f = h
        .family_features_at(
            Cutoff::from_day(55),
            Horizon::new(10).unwrap(),
            &FeatureFamilies::none().with(FeatureFamily::GapRecency),
        )
        .collect()
        .unwrap();
    assert_column(&f, "gap_share_shorter", &[1.0 / 3.0]);
    assert_column(&f, "gap_ratio", &[10.0 / 15.0]);
    assert_column(&f, "gap_over_max", &[-20.0]);
    assert_eq!(f.width(), 4);
}

#[test]
fn the_horizon_matters_to_last_year_only() {
    let h = tiny_history();
    let windows = FeatureFamilies::none().with(FeatureFamily::Windows);
    let a = h
        .family_features_at(Cutoff::from_day(C), Horizon::new(1).unwrap(), &windows)
        .collect()
        .unwrap();
    let b = h
        .family_features_at(Cutoff::from_day(C), Horizon::new(300).unwrap(), &windows)
        .collect()
        .unwrap();
    assert_eq!(a.height(), 3);
    assert!(a.equals_missing(&b));
}

#[test]
fn no_family_gives_the_population_and_a_cutoff_before_the_data_none() {
    let h = tiny_history();
    let f = h
        .family_features_at(
            Cutoff::from_day(C),
            Horizon::new(30).unwrap(),
            &FeatureFamilies::none(),
        )
        .collect()
        .unwrap();
    assert_eq!(f.get_column_names(), ["client_id"]);
    assert_eq!(f.height(), 3);
    let f = h
        .family_features_at(
            Cutoff::from_day(100),
            Horizon::new(30).unwrap(),
            &FeatureFamilies::all(),
        )
        .collect()
        .unwrap();
    assert_eq!(f.height(), 0);
    assert_eq!(f.width(), 1 + family_columns(&FeatureFamilies::all()).len());
}

fn cdnow() -> Transactions {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cdnow_sample/CDNOW_sample.txt");
    read_transactions(&p, &Layout::cdnow()).unwrap()
}

const CDNOW_CUTOFF: i32 = 10_134; // 1997-09-30

fn bits(df: &DataFrame, name: &str) -> Vec<Option<u64>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .map(|v| v.map(f64::to_bits))
        .collect()
}

#[test]
fn the_29_features_come_first_unchanged_then_every_family_for_the_same_clients() {
    let tx = cdnow();
    let h = History::of(&tx).unwrap();
    let countries = h.country_table(Cutoff::from_day(CDNOW_CUTOFF)).unwrap();
    let base = h
        .features_at(Cutoff::from_day(CDNOW_CUTOFF), &countries)
        .collect()
        .unwrap();
    let all = FeatureFamilies::all();
    let fam = h
        .family_features_at(
            Cutoff::from_day(CDNOW_CUTOFF),
            Horizon::new(91).unwrap(),
            &all,
        )
        .collect()
        .unwrap();
    let both = h
        .features_with_families_at(
            Cutoff::from_day(CDNOW_CUTOFF),
            Horizon::new(91).unwrap(),
            &countries,
            &all,
        )
        .collect()
        .unwrap();
    assert_eq!(base.height(), 2_357);
    assert_eq!(fam.height(), base.height());
    assert_eq!(bits(&fam, "client_id"), bits(&base, "client_id"));
    assert_eq!(
        both.width(),
        1 + FEATURES.len() + family_columns(&all).len()
    );
    for c in base.get_column_names() {
        assert_eq!(bits(&both, c), bits(&base, c), "{c} changed");
    }
    for c in family_columns(&all) {
        assert_eq!(bits(&both, &c), bits(&fam, &c), "{c} changed in the join");
        assert!(
            get(&fam, &c).iter().all(|v| v.is_finite()),
            "{c} is not finite"
        );
    }

    // the overlaps with the protocol's features
    assert_eq!(
        bits(&fam, "win_pd_90"),
        bits(&base, "n_purchase_days_last_90")
    );
    for (ours, theirs) in [
        ("win_spend_30", "rev_last_30"),
        ("win_spend_90", "rev_last_90"),
    ] {
        for (a, b) in get(&fam, ours).iter().zip(get(&base, theirs)) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{ours} {a} vs {b}"
            );
        }
    }
    let (since, mean, freq) = (
        get(&base, "days_since_last"),
        get(&base, "mean_interval"),
        get(&base, "frequency"),
    );
    let ratio = get(&fam, "gap_ratio");
    for i in 0..since.len() {
        let want = if freq[i] > 0.0 {
            since[i] / mean[i]
        } else {
            1.0
        };
        assert_eq!(ratio[i].to_bits(), want.to_bits(), "gap_ratio of row {i}");
    }
    // the windows nest, and every day is a purchase day within 365 days or not
    let pd: Vec<Vec<f64>> = [7, 14, 30, 60, 90, 180, 365]
        .iter()
        .map(|w| get(&fam, &format!("win_pd_{w}")))
        .collect();
    for i in 0..since.len() {
        for w in pd.windows(2) {
            assert!(w[0][i] <= w[1][i]);
        }
        assert!(pd[6][i] <= freq[i] + 1.0);
        // decayed counts lie between the count within the half-life times 1/2 and all days
        let dec7 = get(&fam, "dec_pd_hl7")[i];
        assert!(dec7 <= freq[i] + 1.0 && dec7 >= 0.5 * pd[0][i]);
    }
}

#[test]
fn parts_give_the_one_pass_columns_bit_for_bit() {
    let tx = cdnow();
    let all = FeatureFamilies::all();
    let one = History::of_lines(tx.frame(), usize::MAX)
        .unwrap()
        .family_features_at(
            Cutoff::from_day(CDNOW_CUTOFF),
            Horizon::new(91).unwrap(),
            &all,
        )
        .collect()
        .unwrap();
    for part in [97, 1_000] {
        let parts = History::of_lines(tx.frame(), part)
            .unwrap()
            .family_features_at(
                Cutoff::from_day(CDNOW_CUTOFF),
                Horizon::new(91).unwrap(),
                &all,
            )
            .collect()
            .unwrap();
        for c in one.get_column_names() {
            assert_eq!(bits(&parts, c), bits(&one, c), "{c} with parts of {part}");
        }
    }
    // and from the uncondensed plans
    let lazy = History::new(tx.lazy())
        .family_features_at(
            Cutoff::from_day(CDNOW_CUTOFF),
            Horizon::new(91).unwrap(),
            &all,
        )
        .collect()
        .unwrap();
    assert!(lazy.equals_missing(&one));
}

#[test]
fn names_in_toml_and_on_the_command_line() {
    assert_eq!(FeatureFamilies::default(), FeatureFamilies::none());
    let set: FeatureFamilies = "gap_recency, windows".parse().unwrap();
    assert!(set.contains(FeatureFamily::Windows) && set.contains(FeatureFamily::GapRecency));
    assert!(!set.contains(FeatureFamily::Decayed));
    // column order, whatever order the names came in
    assert_eq!(set.to_string(), "windows,gap_recency");
    assert_eq!(
        family_columns(&set),
        [
            FeatureFamily::Windows.columns(),
            FeatureFamily::GapRecency.columns()
        ]
        .concat()
    );
    assert_eq!(
        "all".parse::<FeatureFamilies>().unwrap(),
        FeatureFamilies::all()
    );
    assert_eq!(
        "none".parse::<FeatureFamilies>().unwrap().to_string(),
        "none"
    );
    assert_eq!(
        "windows,seasons".parse::<FeatureFamilies>(),
        Err(UnknownFamily("seasons".into()))
    );
    for f in FeatureFamily::ALL {
        assert_eq!(f.name().parse::<FeatureFamily>().unwrap(), f);
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            format!("\"{}\"", f.name())
        );
    }

    #[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
    struct Config {
        families: FeatureFamilies,
    }
    let c: Config = toml::from_str(r#"families = ["last_year", "decayed"]"#).unwrap();
    assert_eq!(
        c.families,
        FeatureFamilies::none()
            .with(FeatureFamily::Decayed)
            .with(FeatureFamily::LastYear)
    );
    let text = toml::to_string(&c).unwrap();
    assert_eq!(text.trim(), r#"families = ["decayed", "last_year"]"#);
    assert_eq!(toml::from_str::<Config>(&text).unwrap(), c);
    assert!(toml::from_str::<Config>(r#"families = ["weekly"]"#).is_err());

    let all = family_columns(&FeatureFamilies::all());
    assert_eq!(all.len(), 14 + 8 + 6 + 3);
    assert_eq!(&all[..3], ["win_pd_7", "win_spend_7", "win_pd_14"]);
    assert!(all.contains(&"dec_pd_hl30".to_string()) && all.contains(&"ly_churned".into()));
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
    assert!(all.iter().all(|c| !FEATURES.contains(&c.as_str())));
}
