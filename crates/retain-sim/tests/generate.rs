//! The transaction-log generator: determinism, layout, and agreement with the BG/NBD truth.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Timelike};
use retain_sim::{
    BgNbdTruth, CSV_HEADER, CountryWeight, SimConfig, SimError, Transactions, generate,
    generate_csv,
};

fn csv(tx: &Transactions) -> Vec<u8> {
    let mut buf = Vec::new();
    tx.write_csv(&mut buf).unwrap();
    buf
}

/// Per client: sorted distinct purchase days (as day numbers) and purchase invoices.
fn purchase_days(tx: &Transactions) -> BTreeMap<i64, Vec<i64>> {
    let mut days: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for i in 0..tx.len() {
        if tx.quantity[i] > 0 {
            let d = i64::from(tx.invoice_date[i].date().num_days_from_ce());
            let v = days.entry(tx.customer_id[i]).or_default();
            if v.last() != Some(&d) {
                v.push(d);
            }
        }
    }
    days
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let config = SimConfig::with_clients(400, 42);
    let a = csv(&generate(&config).unwrap());
    let b = csv(&generate(&config).unwrap());
    assert_eq!(a, b);
    let c = csv(&generate(&SimConfig { seed: 43, ..config }).unwrap());
    assert_ne!(a, c);
}

#[test]
fn streaming_csv_equals_write_csv() {
    let config = SimConfig::with_clients(300, 5);
    let tx = generate(&config).unwrap();
    let mut streamed = Vec::new();
    let rows = generate_csv(&config, &mut streamed).unwrap();
    assert_eq!(rows as usize, tx.len());
    assert_eq!(streamed, csv(&tx));

    /// A writer that fails after 1,000 bytes.
    struct Full(usize);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 + buf.len() > 1000 {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let err = generate_csv(&config, Full(0)).unwrap_err();
    assert!(matches!(err, SimError::Io(_)), "{err}");
    assert!(err.to_string().contains("disk full") || std::error::Error::source(&err).is_some());
    assert!(tx.write_csv(Full(0)).is_err());
    let bad = SimConfig {
        n_clients: 0,
        ..config
    };
    assert!(matches!(
        generate_csv(&bad, Vec::new()),
        Err(SimError::InvalidParameter { .. })
    ));
}

#[test]
fn layout_follows_online_retail_ii() {
    let config = SimConfig::with_clients(2000, 7);
    let tx = generate(&config).unwrap();
    let n = tx.len();
    for col in [
        tx.stock_code.len(),
        tx.description.len(),
        tx.quantity.len(),
        tx.invoice_date.len(),
    ] {
        assert_eq!(col, n);
    }
    assert_eq!(
        [tx.price.len(), tx.customer_id.len(), tx.country.len()],
        [n; 3]
    );
    assert!(n > 20_000, "{n} rows");

    let text = String::from_utf8(csv(&tx)).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country")
    );
    assert_eq!(
        CSV_HEADER,
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(first.len(), 8);
    assert_eq!(first[0], tx.invoice[0]);
    assert_eq!(
        first[4],
        tx.invoice_date[0].format("%Y-%m-%d %H:%M:%S").to_string()
    );
    assert_eq!(first[5], format!("{:.2}", tx.price[0]));
    assert!(text.lines().skip(1).all(|l| l.split(',').count() == 8));
    assert_eq!(text.lines().count(), n + 1);

    let (start, end) = (config.start_date, config.end_date());
    assert_eq!(end, NaiveDate::from_ymd_opt(2023, 12, 31).unwrap());
    let number = |s: &str| s.trim_start_matches('C').parse::<u64>().unwrap();
    let mut invoice_rows: HashMap<&str, (chrono::NaiveDateTime, i64, &str)> = HashMap::new();
    for i in 0..n {
        let is_return = tx.invoice[i].starts_with('C');
        assert_eq!(is_return, tx.quantity[i] < 0, "row {i}");
        assert_ne!(tx.quantity[i], 0);
        assert!(
            tx.price[i] > 0.0 && (tx.price[i] * 100.0 - (tx.price[i] * 100.0).round()).abs() < 1e-9
        );
        let date = tx.invoice_date[i];
        assert!(date.date() >= start && date.date() <= end, "{date}");
        assert!((7..=20).contains(&date.hour()) && date.second() == 0);
        assert!(!tx.description[i].contains(',') && !tx.description[i].is_empty());
        if i > 0 {
            let prev = (tx.invoice_date[i - 1], number(&tx.invoice[i - 1]));
            assert!(
                prev <= (date, number(&tx.invoice[i])),
                "rows {} and {i} out of order",
                i - 1
            );
        }
        // All lines of an invoice share its date, client and country.
        let key = (date, tx.customer_id[i], tx.country[i].as_str());
        assert_eq!(
            *invoice_rows.entry(tx.invoice[i].as_str()).or_insert(key),
            key
        );
    }

    // Every return takes back at most what one earlier invoice of the same client bought,
    // 1..=max_return_delay_days days before.
    let mut bought: HashMap<(i64, &str), Vec<(NaiveDate, i64)>> = HashMap::new();
    for i in 0..n {
        let key = (tx.customer_id[i], tx.stock_code[i].as_str());
        let day = tx.invoice_date[i].date();
        if tx.quantity[i] > 0 {
            bought.entry(key).or_default().push((day, tx.quantity[i]));
        } else {
            let ok = bought.get(&key).is_some_and(|v| {
                v.iter().any(|&(d, q)| {
                    let lag = (day - d).num_days();
                    (1..=i64::from(config.max_return_delay_days)).contains(&lag)
                        && q >= -tx.quantity[i]
                })
            });
            assert!(ok, "return row {i} has no matching purchase");
        }
    }
}

#[test]
fn sample_looks_like_a_client_base() {
    // The built-in sample: default config.
    let config = SimConfig::default();
    let tx = generate(&config).unwrap();
    let days = purchase_days(&tx);
    assert_eq!(
        days.len(),
        config.n_clients,
        "every client buys at least once"
    );
    let ids: HashSet<i64> = tx.customer_id.iter().copied().collect();
    assert_eq!(ids.iter().min(), Some(&12346));
    assert_eq!(ids.iter().max(), Some(&(12346 + 2999)));

    // Churn over the last 91 days (benchmark section 3) among clients who bought before.
    let end = i64::from(config.end_date().num_days_from_ce());
    let cutoff = end - 91;
    let population: Vec<&Vec<i64>> = days.values().filter(|d| d[0] <= cutoff).collect();
    let churned = population
        .iter()
        .filter(|d| *d.last().unwrap() <= cutoff)
        .count();
    let churn = churned as f64 / population.len() as f64;
    assert!((0.50..=0.65).contains(&churn), "churn {churn:.3}");
    let repeaters = days.values().filter(|d| d.len() > 1).count() as f64 / days.len() as f64;
    assert!(
        (0.70..=0.90).contains(&repeaters),
        "repeaters {repeaters:.3}"
    );

    // Invoices: mean value near the Gamma-Gamma mean (288), ~3% returned, countries by weight.
    let mut value: HashMap<&str, f64> = HashMap::new();
    let mut returns = HashSet::new();
    for i in 0..tx.len() {
        if tx.quantity[i] > 0 {
            *value.entry(tx.invoice[i].as_str()).or_default() +=
                tx.quantity[i] as f64 * tx.price[i];
        } else {
            returns.insert(tx.invoice[i].as_str());
        }
    }
    let mean_value = value.values().sum::<f64>() / value.len() as f64;
    let want = config.gamma_gamma.mean_spend();
    assert!(
        (mean_value / want - 1.0).abs() < 0.08,
        "mean invoice {mean_value:.1} vs {want:.1}"
    );
    let return_rate = returns.len() as f64 / value.len() as f64;
    assert!(
        (0.022..=0.038).contains(&return_rate),
        "returns per invoice {return_rate:.4}"
    );
    let lines_per_invoice =
        (tx.len() - tx.quantity.iter().filter(|q| **q < 0).count()) as f64 / value.len() as f64;
    assert!(
        (2.5..=3.5).contains(&lines_per_invoice),
        "{lines_per_invoice:.2} lines per invoice"
    );

    let mut country: HashMap<i64, &str> = HashMap::new();
    for i in 0..tx.len() {
        assert_eq!(
            *country.entry(tx.customer_id[i]).or_insert(&tx.country[i]),
            tx.country[i]
        );
    }
    let uk =
        country.values().filter(|c| **c == "United Kingdom").count() as f64 / country.len() as f64;
    assert!((uk - 0.8).abs() < 0.03, "UK share {uk:.3}");

    // Habits: clients with >= 6 purchase invoices buy mostly on one weekday.
    let mut weekdays: HashMap<i64, (HashSet<&str>, [u32; 7])> = HashMap::new();
    for i in 0..tx.len() {
        if tx.quantity[i] > 0 {
            let e = weekdays.entry(tx.customer_id[i]).or_default();
            if e.0.insert(tx.invoice[i].as_str()) {
                e.1[tx.invoice_date[i].weekday().num_days_from_monday() as usize] += 1;
            }
        }
    }
    let shares: Vec<f64> = weekdays
        .values()
        .filter(|(inv, _)| inv.len() >= 6)
        .map(|(inv, w)| f64::from(*w.iter().max().unwrap()) / inv.len() as f64)
        .collect();
    let modal = shares.iter().sum::<f64>() / shares.len() as f64;
    assert!(
        modal > 0.45,
        "mean share of the modal weekday {modal:.3} over {} clients",
        shares.len()
    );
}

/// BG/NBD P(X(t) = 0) = (alpha / (alpha + t))^r (FHL 2005, eq. 8 with x = 0).
fn p_zero(m: &BgNbdTruth, t: f64) -> f64 {
    (m.alpha / (m.alpha + t)).powf(m.r)
}

#[test]
fn repeat_purchases_match_the_bgnbd_truth() {
    // Several truths; the log's x = purchase days - 1 against the truth at each client's age.
    for (truth, seed) in [
        (BgNbdTruth::default(), 1),
        (
            BgNbdTruth {
                r: 0.243,
                alpha: 4.414,
                a: 0.793,
                b: 2.426,
            },
            2,
        ),
        (
            BgNbdTruth {
                r: 2.0,
                alpha: 10.0,
                a: 1.5,
                b: 6.0,
            },
            3,
        ),
    ] {
        let config = SimConfig {
            bgnbd: truth,
            mean_lines_per_invoice: 1.0,
            return_probability: 0.0,
            ..SimConfig::with_clients(15_000, seed)
        };
        let tx = generate(&config).unwrap();
        let days = purchase_days(&tx);
        let end = config.end_date().num_days_from_ce() as f64 + 1.0;
        // The first purchase happens during its first day: on average half-way through it.
        let ages: Vec<f64> = days
            .values()
            .map(|d| (end - d[0] as f64 - 0.5) / 7.0)
            .collect();
        let n = ages.len() as f64;
        let zero = days.values().filter(|d| d.len() == 1).count() as f64 / n;
        let theory = ages.iter().map(|&t| p_zero(&truth, t)).sum::<f64>() / n;
        let se = (theory * (1.0 - theory) / n).sqrt();
        // Same-day purchases merge into one purchase day, which adds a little to the zeros.
        assert!(
            zero >= theory - 4.0 * se && zero <= theory + 4.0 * se + 0.01,
            "{truth:?}: share with x = 0 is {zero:.4}, theory {theory:.4} (se {se:.4})"
        );
    }
}

#[test]
fn check_names_the_bad_field() {
    let field = |c: SimConfig| match c.check() {
        Err(SimError::InvalidParameter { field, .. }) => field,
        Ok(()) => "ok".to_string(),
        Err(e) => panic!("{e}"),
    };
    let d = SimConfig::default();
    assert_eq!(field(d.clone()), "ok");
    assert_eq!(
        field(SimConfig {
            n_clients: 0,
            ..d.clone()
        }),
        "n_clients"
    );
    assert_eq!(
        field(SimConfig {
            span_days: 3,
            ..d.clone()
        }),
        "span_days"
    );
    assert_eq!(
        field(SimConfig {
            acquisition_share: 0.0,
            ..d.clone()
        }),
        "acquisition_share"
    );
    assert_eq!(
        field(SimConfig {
            bgnbd: BgNbdTruth { r: -1.0, ..d.bgnbd },
            ..d.clone()
        }),
        "bgnbd.r"
    );
    let gg = retain_sim::GammaGammaTruth {
        q: f64::NAN,
        ..d.gamma_gamma
    };
    assert_eq!(
        field(SimConfig {
            gamma_gamma: gg,
            ..d.clone()
        }),
        "gamma_gamma.q"
    );
    assert_eq!(
        field(SimConfig {
            return_probability: 1.5,
            ..d.clone()
        }),
        "return_probability"
    );
    assert_eq!(
        field(SimConfig {
            max_return_delay_days: 0,
            ..d.clone()
        }),
        "max_return_delay_days"
    );
    assert_eq!(
        field(SimConfig {
            countries: vec![],
            ..d.clone()
        }),
        "countries"
    );
    let bad = vec![
        CountryWeight::new("France", 1.0),
        CountryWeight::new("Spain", -1.0),
    ];
    assert_eq!(
        field(SimConfig {
            countries: bad,
            ..d.clone()
        }),
        "countries[1].weight"
    );
    let comma = vec![CountryWeight::new("Korea, Republic of", 1.0)];
    assert_eq!(
        field(SimConfig {
            countries: comma,
            ..d.clone()
        }),
        "countries[0].name"
    );
    let zero = vec![CountryWeight::new("France", 0.0)];
    assert_eq!(
        field(SimConfig {
            countries: zero,
            ..d.clone()
        }),
        "countries (sum of weights)"
    );
    assert_eq!(
        field(SimConfig {
            weekday_habit: 2.0,
            ..d.clone()
        }),
        "weekday_habit"
    );
    assert_eq!(
        field(SimConfig {
            hour_spread: -1.0,
            ..d.clone()
        }),
        "hour_spread"
    );
    assert_eq!(
        field(SimConfig {
            n_products: 0,
            ..d.clone()
        }),
        "n_products"
    );
    assert_eq!(
        field(SimConfig {
            mean_lines_per_invoice: 0.5,
            ..d.clone()
        }),
        "mean_lines_per_invoice"
    );
    assert_eq!(
        field(SimConfig {
            first_customer_id: -5,
            ..d.clone()
        }),
        "first_customer_id"
    );
    let err = generate(&SimConfig { n_clients: 0, ..d }).unwrap_err();
    assert!(err.to_string().contains("n_clients"), "{err}");
}

#[test]
fn config_round_trips_through_json() {
    let config = SimConfig::with_clients(123, 9);
    let json = serde_json::to_string_pretty(&config).unwrap();
    assert!(json.contains("\"start_date\": \"2022-01-01\""), "{json}");
    assert!(json.contains("\"bgnbd\""), "{json}");
    assert_eq!(serde_json::from_str::<SimConfig>(&json).unwrap(), config);
    // Missing fields take their defaults; unknown fields are refused.
    let partial: SimConfig = serde_json::from_str(r#"{"n_clients": 10, "seed": 1}"#).unwrap();
    assert_eq!(partial, SimConfig::with_clients(10, 1));
    assert!(serde_json::from_str::<SimConfig>(r#"{"n_client": 10}"#).is_err());
}

#[test]
fn small_and_odd_configs_work() {
    let one = generate(&SimConfig::with_clients(1, 0)).unwrap();
    assert!(!one.is_empty());
    assert!(one.customer_id.iter().all(|&c| c == 12346));
    let config = SimConfig {
        n_products: 1,
        countries: vec![CountryWeight::new("Japan", 1.0)],
        span_days: 7,
        weekday_habit: 1.0,
        hour_spread: 0.0,
        mean_lines_per_invoice: 1.0,
        return_probability: 1.0,
        ..SimConfig::with_clients(50, 3)
    };
    let tx = generate(&config).unwrap();
    assert!(tx.country.iter().all(|c| c == "Japan"));
    assert_eq!(tx.stock_code.iter().collect::<HashSet<_>>().len(), 1);
    assert!(
        tx.invoice_date
            .iter()
            .all(|d| d.date() <= config.end_date())
    );
}
