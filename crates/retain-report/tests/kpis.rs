//! The KPIs on a small hand-made table, every answer worked out by hand in the comments.
//!
//! Four clients, activity horizon 30 days (active at day d = a purchase in (d - 30, d]):
//!
//! | client | purchases (invoice: value)                                   | return        |
//! |---|---|---|
//! | 1 (A) | 01-05 a1: 100, 01-20 a2: 50, 02-10 a3: 200                     | 02-12 ra: -20 |
//! | 2 (B) | 01-10 b1: 200 + 100 (two lines, one order), 03-15 b2: 100       |               |
//! | 3 (C) | 02-01 c1: 60, 02-25 c2: 40                                      |               |
//! | 4 (D) | 03-31 d1: 10                                                    |               |
//!
//! All in 2023; the data runs from 01-05 to 03-31.

use approx::assert_relative_eq;
use chrono::NaiveDate;
use polars::prelude::*;
use retain_report::kpis::{self, KpiParams, Line, Lines, Period};

fn day(m: u32, d: u32) -> i32 {
    let date = NaiveDate::from_ymd_opt(2023, m, d).unwrap();
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

fn line(client: i64, m: u32, d: u32, amount: f64, invoice: &str) -> Line {
    Line {
        client,
        day: day(m, d),
        amount,
        invoice: Some(invoice.into()),
        is_return: amount < 0.0,
    }
}

fn table() -> Lines {
    Lines::new(vec![
        line(1, 1, 5, 100.0, "a1"),
        line(1, 1, 20, 50.0, "a2"),
        line(1, 2, 10, 200.0, "a3"),
        line(1, 2, 12, -20.0, "ra"),
        line(2, 1, 10, 200.0, "b1"),
        line(2, 1, 10, 100.0, "b1"),
        line(2, 3, 15, 100.0, "b2"),
        line(3, 2, 1, 60.0, "c1"),
        line(3, 2, 25, 40.0, "c2"),
        line(4, 3, 31, 10.0, "d1"),
    ])
}

fn monthly() -> kpis::KpiReport {
    let params = KpiParams {
        period: Period::Month,
        horizon_days: 30,
        ..KpiParams::default()
    };
    kpis::compute(&table(), &params).unwrap()
}

#[test]
fn january_the_first_period() {
    let r = monthly();
    assert_eq!(r.periods.len(), 3);
    let p = &r.periods[0];
    assert_eq!(p.period, "2023-01");
    // clipped to the first day of the data, so not a complete month
    assert_eq!(p.start, NaiveDate::from_ymd_opt(2023, 1, 5).unwrap());
    assert!(!p.complete);
    // S: active on 01-04 = nobody; E: active on 01-31 = A (01-20) and B (01-10); N = A, B
    assert_eq!((p.active_start, p.active_end, p.new_clients), (0, 2, 2));
    assert_eq!(p.retention_rate, None, "S = 0");
    assert_eq!(p.churn_rate, None);
    // buyers A (orders a1, a2) and B (b1: two lines, one order): 3 orders
    assert_eq!((p.buyers, p.orders), (2, 3));
    assert_relative_eq!(p.repeat_purchase_rate.unwrap(), 0.5); // A only: 1 / 2
    assert_relative_eq!(p.purchase_frequency.unwrap(), 1.5); // 3 / 2
    assert_relative_eq!(p.gross_revenue, 450.0); // 100 + 50 + 300
    assert_relative_eq!(p.average_order_value.unwrap(), 150.0); // 450 / 3
    assert_relative_eq!(p.return_rate.unwrap(), 0.0);
    assert_eq!(p.net_revenue_retention, None, "no previous period");
    // revenue B 300, A 150; 80% of 450 = 360 needs both: 2 key clients, all the revenue
    assert_eq!(p.key_clients, 2);
    assert_relative_eq!(p.key_client_share.unwrap(), 1.0);
    assert_relative_eq!(p.key_revenue_share.unwrap(), 1.0);
    // top 20% of 2 buyers = ceil(0.4) = 1 client: B, 300 / 450
    assert_relative_eq!(p.top_revenue_share.unwrap(), 300.0 / 450.0);
}

#[test]
fn february_retention_returns_and_revenue_retention() {
    let p = &monthly().periods[1];
    assert_eq!(p.period, "2023-02");
    assert!(p.complete);
    // S = active on 01-31 = A, B. E = active on 02-28, window (01-29, 02-28]: A (02-10), C
    // (02-25); B's last purchase 01-10 is too old. N = C.
    assert_eq!((p.active_start, p.active_end, p.new_clients), (2, 2, 1));
    // CRR = (E - N) / S = (2 - 1) / 2
    assert_relative_eq!(p.retention_rate.unwrap(), 0.5);
    // retained = A; churn = (2 - 1) / 2
    assert_eq!(p.retained, 1);
    assert_relative_eq!(p.churn_rate.unwrap(), 0.5);
    // buyers A (a3; the return is not an order) and C (c1, c2)
    assert_eq!((p.buyers, p.orders), (2, 3));
    assert_relative_eq!(p.repeat_purchase_rate.unwrap(), 0.5);
    assert_relative_eq!(p.gross_revenue, 300.0); // 200 + 60 + 40
    assert_relative_eq!(p.net_revenue, 280.0); // - 20
    assert_relative_eq!(p.average_order_value.unwrap(), 100.0); // 300 / 3
    assert_relative_eq!(p.return_rate.unwrap(), 20.0 / 300.0);
    // NRR: January's buyers A (150) and B (300) bring A 180 (200 - 20), B 0: 180 / 450
    assert_relative_eq!(p.net_revenue_retention.unwrap(), 0.4);
    // GRR: min(180, 150) + min(0, 300) = 150, over 450
    assert_relative_eq!(p.gross_revenue_retention.unwrap(), 150.0 / 450.0);
    // revenue A 180, C 100; 80% of 280 = 224 needs both
    assert_eq!(p.key_clients, 2);
    assert_relative_eq!(p.top_revenue_share.unwrap(), 180.0 / 280.0);
}

#[test]
fn march_a_reactivation_counts_in_crr_not_in_retained() {
    let p = &monthly().periods[2];
    assert_eq!(p.period, "2023-03");
    assert!(p.complete, "the data ends on 03-31");
    // S = active on 02-28 = A, C. E = active on 03-31, window (03-01, 03-31]: B (03-15, back
    // after two months), D (new). N = D.
    assert_eq!((p.active_start, p.active_end, p.new_clients), (2, 2, 1));
    // CRR = (2 - 1) / 2 = 0.5 although neither A nor C is still active: B's return counts
    assert_relative_eq!(p.retention_rate.unwrap(), 0.5);
    assert_eq!(p.retained, 0);
    assert_relative_eq!(p.churn_rate.unwrap(), 1.0);
    assert_relative_eq!(p.repeat_purchase_rate.unwrap(), 0.0);
    assert_relative_eq!(p.purchase_frequency.unwrap(), 1.0);
    assert_relative_eq!(p.average_order_value.unwrap(), 55.0); // (100 + 10) / 2
    // February's buyers A and C buy nothing in March
    assert_relative_eq!(p.net_revenue_retention.unwrap(), 0.0);
    assert_relative_eq!(p.gross_revenue_retention.unwrap(), 0.0);
    // B 100 alone reaches 80% of 110 = 88: one key client of two, 100 / 110 of the revenue
    assert_eq!(p.key_clients, 1);
    assert_relative_eq!(p.key_client_share.unwrap(), 0.5);
    assert_relative_eq!(p.key_revenue_share.unwrap(), 100.0 / 110.0);
    assert_relative_eq!(p.top_revenue_share.unwrap(), 100.0 / 110.0);
}

#[test]
fn the_cohort_matrix() {
    let c = monthly().cohorts;
    // January: A (buys in Jan, Feb) and B (Jan, Mar); February: C (Feb); March: D
    assert_eq!(c.len(), 3);
    assert_eq!((c[0].cohort.as_str(), c[0].clients), ("2023-01", 2));
    assert_eq!(c[0].retention, vec![1.0, 0.5, 0.5]);
    assert_eq!((c[1].cohort.as_str(), c[1].clients), ("2023-02", 1));
    assert_eq!(c[1].retention, vec![1.0, 0.0]);
    assert_eq!(c[2].retention, vec![1.0]);
}

#[test]
fn one_quarter() {
    let params = KpiParams {
        period: Period::Quarter,
        horizon_days: 30,
        ..KpiParams::default()
    };
    let r = kpis::compute(&table(), &params).unwrap();
    assert_eq!(r.periods.len(), 1);
    let p = &r.periods[0];
    assert_eq!(p.period, "2023-Q1");
    assert!(!p.complete, "the data starts on 01-05");
    // all four are new; E on 03-31 = B, D
    assert_eq!((p.active_start, p.active_end, p.new_clients), (0, 2, 4));
    // orders A 3, B 2, C 2, D 1 = 8 from 4 buyers, 3 of them repeat
    assert_eq!((p.buyers, p.orders), (4, 8));
    assert_relative_eq!(p.repeat_purchase_rate.unwrap(), 0.75);
    assert_relative_eq!(p.purchase_frequency.unwrap(), 2.0);
    assert_relative_eq!(p.average_order_value.unwrap(), 860.0 / 8.0);
    assert_relative_eq!(p.return_rate.unwrap(), 20.0 / 860.0);
    // revenue B 400, A 330, C 100, D 10 (total 840); 80% = 672: B + A = 730 reach it
    assert_eq!(p.key_clients, 2);
    assert_relative_eq!(p.key_revenue_share.unwrap(), 730.0 / 840.0);
    // top 20% of 4 = ceil(0.8) = 1: B
    assert_relative_eq!(p.top_revenue_share.unwrap(), 400.0 / 840.0);
}

#[test]
fn rows_in_any_order_give_the_same_kpis() {
    let mut lines = table().lines().to_vec();
    lines.reverse();
    let params = KpiParams {
        horizon_days: 30,
        ..KpiParams::default()
    };
    assert_eq!(
        kpis::compute(&Lines::new(lines), &params).unwrap(),
        kpis::compute(&table(), &params).unwrap()
    );
}

#[test]
fn bad_settings_and_empty_input_are_refused() {
    let bad = KpiParams {
        key_share: 1.5,
        ..KpiParams::default()
    };
    assert!(kpis::compute(&table(), &bad).is_err());
    assert!(kpis::compute(&Lines::new(vec![]), &KpiParams::default()).is_err());
}

#[test]
fn nps_and_csat_from_a_clients_table() {
    // NPS answers 10, 9, 9 (promoters), 8 (passive), 6, 3 (detractors), one missing:
    // 100 x (3 - 2) / 6 = 16.67. CSAT 5, 4 (satisfied), 3, 1, 5: 100 x 3 / 5 = 60.
    let df = df!(
        "client_id" => [1i64, 2, 3, 4, 5, 6, 7],
        "nps" => [Some(10i64), Some(9), Some(9), Some(8), Some(6), Some(3), None],
        "csat" => [Some(5.0), Some(4.0), Some(3.0), Some(1.0), Some(5.0), None, None],
    )
    .unwrap();
    let s = kpis::satisfaction(&df).unwrap().unwrap();
    assert_eq!((s.nps_responses, s.csat_responses), (6, 5));
    assert_relative_eq!(s.nps.unwrap(), 100.0 / 6.0, epsilon = 1e-12);
    assert_relative_eq!(s.csat.unwrap(), 60.0);
    // neither column: no satisfaction block; a score out of range is an error
    let none = df!("client_id" => [1i64]).unwrap();
    assert_eq!(kpis::satisfaction(&none).unwrap(), None);
    let bad = df!("nps" => [11i64]).unwrap();
    assert!(kpis::satisfaction(&bad).is_err());
}

#[test]
fn the_period_table_round_trips_its_columns() {
    let r = monthly();
    let df = kpis::periods_frame(&r).unwrap();
    assert_eq!(df.height(), 3);
    let crr = df.column("retention_rate").unwrap().f64().unwrap();
    assert_eq!(crr.get(0), None);
    assert_eq!(crr.get(1), Some(0.5));
    // the JSON round-trips to the same report (serde_json may move a float by one ulp)
    let json = serde_json::to_string(&r).unwrap();
    let back: kpis::KpiReport = serde_json::from_str(&json).unwrap();
    assert_eq!(format!("{back:.12?}"), format!("{r:.12?}"));
}

#[test]
fn the_concentration_curve() {
    // February: A 180, C 100 -> (0, 0), (0.5, 180/280), (1, 1)
    let c = kpis::concentration_curve(&table(), day(2, 1), day(2, 28));
    assert_eq!(c.len(), 3);
    assert_relative_eq!(c[1].0, 0.5);
    assert_relative_eq!(c[1].1, 180.0 / 280.0);
    assert_relative_eq!(c[2].1, 1.0);
}
