//! Retention KPIs per calendar period, from the clean line table.
//!
//! Every KPI is defined in the README (section "Retention KPIs") with its formula; the
//! definitions are repeated on the fields of [`PeriodKpis`]. Days are day numbers (days since
//! 1970-01-01) as in [`retain_data::cols::DAY`]. A *purchase* is a line that is not a return;
//! an *order* is a distinct (client, invoice) among purchase lines; a client's *revenue* in a
//! period is its net revenue there (purchases plus returns, which are negative), floored at 0.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use retain_data::{ClientAttributes, Transactions, client_cols, cols};
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// The length of a KPI period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Calendar months, labelled `2023-01`.
    #[default]
    Month,
    /// Calendar quarters, labelled `2023-Q1`.
    Quarter,
    /// Calendar years, labelled `2023`.
    Year,
}

impl Period {
    /// The names accepted on the command line.
    pub const NAMES: [&'static str; 3] = ["month", "quarter", "year"];

    /// The name of the period (`month`, `quarter`, `year`).
    pub fn name(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }

    fn months(self) -> u32 {
        match self {
            Period::Month => 1,
            Period::Quarter => 3,
            Period::Year => 12,
        }
    }

    /// The first day of the period holding `d`.
    fn start_of(self, d: NaiveDate) -> NaiveDate {
        let m0 = (d.month0() / self.months()) * self.months();
        NaiveDate::from_ymd_opt(d.year(), m0 + 1, 1).expect("a valid first day")
    }

    fn label(self, start: NaiveDate) -> String {
        match self {
            Period::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Period::Quarter => format!("{:04}-Q{}", start.year(), start.month0() / 3 + 1),
            Period::Year => format!("{:04}", start.year()),
        }
    }
}

impl std::str::FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "month" => Ok(Period::Month),
            "quarter" => Ok(Period::Quarter),
            "year" => Ok(Period::Year),
            _ => Err(format!("unknown period `{s}` (month, quarter, year)")),
        }
    }
}

/// Settings of the KPIs.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `period` | month | length of a period | month, quarter, year |
/// | `horizon_days` | 91 | a client is *active* at day d if it bought in (d - horizon, d] | >= 1 |
/// | `key_share` | 0.8 | key clients: the fewest clients bringing this share of revenue | (0, 1] |
/// | `top_share` | 0.2 | the "top 20%" of buying clients by revenue | (0, 1] |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpiParams {
    /// Length of a period.
    pub period: Period,
    /// Activity window in days.
    pub horizon_days: u32,
    /// Revenue share that defines the key clients.
    pub key_share: f64,
    /// Client share of the "top clients" revenue share.
    pub top_share: f64,
}

impl Default for KpiParams {
    fn default() -> Self {
        Self {
            period: Period::Month,
            horizon_days: 91,
            key_share: 0.8,
            top_share: 0.2,
        }
    }
}

/// One line of the line table, as the KPIs need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Client id.
    pub client: i64,
    /// Day number (days since 1970-01-01).
    pub day: i32,
    /// Line value; negative for returns.
    pub amount: f64,
    /// Invoice (order) id; `None` makes the line its own order.
    pub invoice: Option<String>,
    /// Whether the line is a return.
    pub is_return: bool,
}

/// The lines the KPIs read, in plain vectors.
#[derive(Debug, Clone, Default)]
pub struct Lines {
    lines: Vec<Line>,
}

impl Lines {
    /// Lines from plain values (tests, other sources).
    pub fn new(lines: Vec<Line>) -> Self {
        Self { lines }
    }

    /// The lines of a clean line table (client, day, amount, invoice, is_return).
    pub fn from_transactions(tx: &Transactions) -> Result<Self, ReportError> {
        let f = tx.frame();
        let client = f.column(cols::CLIENT)?.i64()?;
        let day = f.column(cols::DAY)?.i32()?;
        let amount = f.column(cols::AMOUNT)?.f64()?;
        let invoice = f.column(cols::INVOICE)?.cast(&DataType::String)?;
        let invoice = invoice.str()?;
        let is_return = f.column(cols::IS_RETURN)?.bool()?;
        let lines = client
            .iter()
            .zip(day.iter())
            .zip(amount.iter())
            .zip(invoice.iter())
            .zip(is_return.iter())
            .map(|((((c, d), a), inv), r)| Line {
                client: c.unwrap_or_default(),
                day: d.unwrap_or_default(),
                amount: a.unwrap_or_default(),
                invoice: inv.map(str::to_string),
                is_return: r.unwrap_or(false),
            })
            .collect();
        Ok(Self { lines })
    }

    /// The lines.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// First and last day of the lines.
    pub fn span(&self) -> Option<(i32, i32)> {
        let min = self.lines.iter().map(|l| l.day).min()?;
        let max = self.lines.iter().map(|l| l.day).max()?;
        Some((min, max))
    }

    /// Each client's distinct purchase days, ascending, clients ascending.
    pub fn purchase_days(&self) -> BTreeMap<i64, Vec<i32>> {
        let mut m: BTreeMap<i64, Vec<i32>> = BTreeMap::new();
        for l in self.lines.iter().filter(|l| !l.is_return) {
            m.entry(l.client).or_default().push(l.day);
        }
        for v in m.values_mut() {
            v.sort_unstable();
            v.dedup();
        }
        m
    }

    /// Each client's revenue (net, floored at 0) over the days `[from, to]`, clients with a
    /// purchase there only, ascending by client.
    pub fn revenue_by_client(&self, from: i32, to: i32) -> BTreeMap<i64, f64> {
        let mut net: BTreeMap<i64, f64> = BTreeMap::new();
        let mut bought: BTreeMap<i64, bool> = BTreeMap::new();
        for l in self.lines.iter().filter(|l| l.day >= from && l.day <= to) {
            *net.entry(l.client).or_default() += l.amount;
            if !l.is_return {
                bought.insert(l.client, true);
            }
        }
        net.into_iter()
            .filter(|(c, _)| bought.contains_key(c))
            .map(|(c, v)| (c, v.max(0.0)))
            .collect()
    }
}

/// The KPIs of one period. Ratios are `None` when their denominator is 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodKpis {
    /// `2023-01`, `2023-Q1` or `2023`.
    pub period: String,
    /// First day of the period (clipped to the first day of the data).
    pub start: NaiveDate,
    /// Last day of the period (clipped to the last day of the data).
    pub end: NaiveDate,
    /// Whether the data covers the whole calendar period.
    pub complete: bool,
    /// S: clients active at the start (a purchase in the horizon before the first day).
    pub active_start: u64,
    /// E: clients active at the end (a purchase in the horizon up to the last day).
    pub active_end: u64,
    /// N: clients whose first purchase ever falls in the period.
    pub new_clients: u64,
    /// Clients active at the start and still active at the end.
    pub retained: u64,
    /// CRR = (E - N) / S.
    pub retention_rate: Option<f64>,
    /// Churn rate = (S - retained) / S: the share of the clients active at the start who are
    /// no longer active at the end.
    pub churn_rate: Option<f64>,
    /// Clients with at least one order in the period.
    pub buyers: u64,
    /// Orders in the period.
    pub orders: u64,
    /// Repeat purchase rate = clients with >= 2 orders / buyers.
    pub repeat_purchase_rate: Option<f64>,
    /// Purchase frequency = orders / buyers.
    pub purchase_frequency: Option<f64>,
    /// Gross revenue: the sum of purchase lines.
    pub gross_revenue: f64,
    /// Net revenue: gross revenue plus returns (negative lines).
    pub net_revenue: f64,
    /// Average order value = gross revenue / orders.
    pub average_order_value: Option<f64>,
    /// Return rate = returned value / gross revenue (value, not lines).
    pub return_rate: Option<f64>,
    /// Net revenue retention = this period's revenue of last period's buyers / their revenue
    /// last period (revenue = net, floored at 0 per client).
    pub net_revenue_retention: Option<f64>,
    /// Gross revenue retention = sum over last period's buyers of min(this period's revenue,
    /// last period's revenue) / their revenue last period: NRR without expansion.
    pub gross_revenue_retention: Option<f64>,
    /// Key clients: the fewest buyers (by revenue, ties to the smaller id) whose revenue
    /// reaches `key_share` of the period's revenue.
    pub key_clients: u64,
    /// Key clients / buyers with revenue.
    pub key_client_share: Option<f64>,
    /// The key clients' share of the period's revenue (>= key_share).
    pub key_revenue_share: Option<f64>,
    /// The revenue share of the top `top_share` of buyers (ceil(top_share * n) clients).
    pub top_revenue_share: Option<f64>,
}

/// The cohort retention matrix: clients grouped by the month of their first purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// First-purchase month, `2023-01`.
    pub cohort: String,
    /// Clients in the cohort.
    pub clients: u64,
    /// `retention[k]` = share of the cohort with a purchase in month `cohort + k`
    /// (`retention[0]` = 1), up to the last month of the data.
    pub retention: Vec<f64>,
}

/// NPS and CSAT from a client-attributes table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Satisfaction {
    /// Answers to the 0-10 recommendation question.
    pub nps_responses: u64,
    /// NPS = 100 x (share scoring 9-10 - share scoring 0-6).
    pub nps: Option<f64>,
    /// Answers to the 1-5 satisfaction question.
    pub csat_responses: u64,
    /// CSAT = 100 x share scoring 4 or 5.
    pub csat: Option<f64>,
}

/// Everything `retain kpis` computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The settings used.
    pub params: KpiParams,
    /// First and last day of the data.
    pub first_day: NaiveDate,
    /// Last day of the data.
    pub last_day: NaiveDate,
    /// One row per period, oldest first.
    pub periods: Vec<PeriodKpis>,
    /// The cohort retention matrix, oldest cohort first.
    pub cohorts: Vec<Cohort>,
    /// NPS and CSAT, when a clients table with `nps` or `csat` was given.
    pub satisfaction: Option<Satisfaction>,
}

impl KpiReport {
    /// The latest complete period, or the latest one if none is complete.
    pub fn headline(&self) -> Option<&PeriodKpis> {
        self.periods
            .iter()
            .rev()
            .find(|p| p.complete)
            .or(self.periods.last())
    }
}

fn date(day: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(day + 719_163).expect("a day in range")
}

fn day_of(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

/// Whether the client with these sorted purchase days is active at `day`: a purchase in
/// `(day - horizon, day]`.
fn active_at(days: &[i32], day: i32, horizon: i32) -> bool {
    let i = days.partition_point(|&d| d <= day);
    i > 0 && days[i - 1] > day - horizon
}

/// Per-period revenue concentration: (key clients, key revenue share, top revenue share).
fn concentration(
    rev: &BTreeMap<i64, f64>,
    key_share: f64,
    top_share: f64,
) -> (u64, Option<f64>, Option<f64>, Option<f64>) {
    let mut v: Vec<(i64, f64)> = rev
        .iter()
        .filter(|(_, r)| **r > 0.0)
        .map(|(c, r)| (*c, *r))
        .collect();
    let total: f64 = v.iter().map(|x| x.1).sum();
    if v.is_empty() || total <= 0.0 {
        return (0, None, None, None);
    }
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let n = v.len();
    let values: Vec<f64> = v.iter().map(|x| x.1).collect();
    let ids: Vec<i64> = v.iter().map(|x| x.0).collect();
    let Ok(key) = retain_eval::key_clients(&values, &ids, key_share) else {
        return (0, None, None, None);
    };
    let (k, key_rev) = (key.count, key.share_of_value * total);
    let m = ((top_share * n as f64) - 1e-9).ceil().max(1.0) as usize;
    let top: f64 = v.iter().take(m.min(n)).map(|x| x.1).sum();
    (
        k as u64,
        Some(k as f64 / n as f64),
        Some(key_rev / total),
        Some(top / total),
    )
}

/// The revenue concentration curve over `[from, to]`: points (share of clients, share of
/// revenue), clients ordered by revenue descending, starting at (0, 0).
pub fn concentration_curve(lines: &Lines, from: i32, to: i32) -> Vec<(f64, f64)> {
    let (ids, values): (Vec<i64>, Vec<f64>) = lines
        .revenue_by_client(from, to)
        .into_iter()
        .filter(|(_, r)| *r > 0.0)
        .unzip();
    // Every point (the chart draws them all); the share only places the key point.
    retain_eval::concentration_curve(&values, &ids, 0.8, values.len() + 3)
        .map(|c| {
            c.points
                .iter()
                .map(|p| (p.share_of_clients, p.share_of_value))
                .collect()
        })
        .unwrap_or_else(|_| vec![(0.0, 0.0)])
}

/// Computes the KPIs of every period from the first to the last day of `lines`.
pub fn compute(lines: &Lines, params: &KpiParams) -> Result<KpiReport, ReportError> {
    if !(params.key_share > 0.0 && params.key_share <= 1.0) {
        return Err(ReportError::Invalid(format!(
            "key share {} is not in (0, 1]",
            params.key_share
        )));
    }
    if !(params.top_share > 0.0 && params.top_share <= 1.0) {
        return Err(ReportError::Invalid(format!(
            "top share {} is not in (0, 1]",
            params.top_share
        )));
    }
    if params.horizon_days == 0 {
        return Err(ReportError::Invalid(
            "the horizon must be at least 1 day".into(),
        ));
    }
    let (first, last) = lines.span().ok_or(ReportError::NoData)?;
    let horizon = params.horizon_days as i32;
    let purchases = lines.purchase_days();
    let first_purchase: BTreeMap<i64, i32> = purchases.iter().map(|(c, d)| (*c, d[0])).collect();

    // period bounds
    let mut bounds: Vec<(String, i32, i32, bool)> = Vec::new();
    let mut start = params.period.start_of(date(first));
    while day_of(start) <= last {
        let next = start
            .checked_add_months(chrono::Months::new(params.period.months()))
            .expect("a date in range");
        let (s, e) = (day_of(start), day_of(next) - 1);
        bounds.push((
            params.period.label(start),
            s.max(first),
            e.min(last),
            s >= first && e <= last,
        ));
        start = next;
    }

    // invoices interned so orders are distinct (client, invoice) pairs
    let mut invoice_ids: HashMap<&str, u32> = HashMap::new();
    let period_of = |day: i32| bounds.partition_point(|b| b.2 < day);
    // per (period, client): gross, returns, orders
    let mut per: BTreeMap<(usize, i64), (f64, f64, Vec<u32>)> = BTreeMap::new();
    let mut own = u32::MAX;
    for l in lines.lines() {
        let p = period_of(l.day);
        let e = per.entry((p, l.client)).or_default();
        if l.is_return {
            e.1 += l.amount;
        } else {
            e.0 += l.amount;
            let id = match &l.invoice {
                Some(s) => {
                    let n = invoice_ids.len() as u32;
                    *invoice_ids.entry(s.as_str()).or_insert(n)
                }
                None => {
                    own -= 1;
                    own
                }
            };
            e.2.push(id);
        }
    }

    let mut periods = Vec::with_capacity(bounds.len());
    let mut prev_rev: Option<BTreeMap<i64, f64>> = None;
    for (p, (label, s, e, complete)) in bounds.iter().enumerate() {
        let (mut big_s, mut big_e, mut big_n, mut retained) = (0u64, 0u64, 0u64, 0u64);
        for (c, days) in &purchases {
            let a0 = active_at(days, s - 1, horizon);
            let a1 = active_at(days, *e, horizon);
            big_s += a0 as u64;
            big_e += a1 as u64;
            retained += (a0 && a1) as u64;
            let f = first_purchase[c];
            big_n += (f >= *s && f <= *e) as u64;
        }
        let (mut buyers, mut orders, mut repeaters) = (0u64, 0u64, 0u64);
        let (mut gross, mut returns) = (0.0, 0.0);
        let mut rev: BTreeMap<i64, f64> = BTreeMap::new();
        for ((_, c), (g, r, inv)) in per.range((p, i64::MIN)..=(p, i64::MAX)) {
            gross += g;
            returns += r;
            let mut inv = inv.clone();
            inv.sort_unstable();
            inv.dedup();
            if !inv.is_empty() {
                buyers += 1;
                orders += inv.len() as u64;
                repeaters += (inv.len() >= 2) as u64;
                rev.insert(*c, (g + r).max(0.0));
            }
        }
        let (nrr, grr) = match &prev_rev {
            Some(prev) => {
                let base: f64 = prev.values().sum();
                let now: f64 = prev
                    .keys()
                    .map(|c| rev.get(c).copied().unwrap_or(0.0))
                    .sum();
                let kept: f64 = prev
                    .iter()
                    .map(|(c, r0)| rev.get(c).copied().unwrap_or(0.0).min(*r0))
                    .sum();
                (ratio(now, base), ratio(kept, base))
            }
            None => (None, None),
        };
        let (key_clients, key_client_share, key_revenue_share, top_revenue_share) =
            concentration(&rev, params.key_share, params.top_share);
        periods.push(PeriodKpis {
            period: label.clone(),
            start: date(*s),
            end: date(*e),
            complete: *complete,
            active_start: big_s,
            active_end: big_e,
            new_clients: big_n,
            retained,
            retention_rate: ratio(big_e as f64 - big_n as f64, big_s as f64),
            churn_rate: ratio(big_s as f64 - retained as f64, big_s as f64),
            buyers,
            orders,
            repeat_purchase_rate: ratio(repeaters as f64, buyers as f64),
            purchase_frequency: ratio(orders as f64, buyers as f64),
            gross_revenue: gross,
            net_revenue: gross + returns,
            average_order_value: ratio(gross, orders as f64),
            return_rate: ratio((-returns).max(0.0), gross),
            net_revenue_retention: nrr,
            gross_revenue_retention: grr,
            key_clients,
            key_client_share,
            key_revenue_share,
            top_revenue_share,
        });
        prev_rev = Some(rev);
    }

    Ok(KpiReport {
        params: *params,
        first_day: date(first),
        last_day: date(last),
        periods,
        cohorts: cohorts(&purchases, last),
        satisfaction: None,
    })
}

fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// The cohort matrix by first-purchase month.
fn cohorts(purchases: &BTreeMap<i64, Vec<i32>>, last: i32) -> Vec<Cohort> {
    let last_m = month_index(date(last));
    // cohort month -> (clients, per-offset active counts)
    let mut m: BTreeMap<i32, (u64, Vec<u64>)> = BTreeMap::new();
    for days in purchases.values() {
        let c = month_index(date(days[0]));
        let e = m
            .entry(c)
            .or_insert_with(|| (0, vec![0; (last_m - c + 1) as usize]));
        e.0 += 1;
        let mut months: Vec<i32> = days.iter().map(|d| month_index(date(*d)) - c).collect();
        months.dedup();
        for k in months {
            e.1[k as usize] += 1;
        }
    }
    m.into_iter()
        .map(|(c, (n, counts))| Cohort {
            cohort: format!("{:04}-{:02}", c.div_euclid(12), c.rem_euclid(12) + 1),
            clients: n,
            retention: counts.iter().map(|k| *k as f64 / n as f64).collect(),
        })
        .collect()
}

/// NPS and CSAT from the client attributes read and validated by
/// [`retain_data::read_clients`] (which refuses, naming file, row and value, an NPS that is
/// not an integer from 0 to 10 and a CSAT outside 1..5), from whichever of the `nps` and
/// `csat` columns the input has; nulls are skipped. `None` when it has neither.
pub fn satisfaction_of(clients: &ClientAttributes) -> Result<Option<Satisfaction>, ReportError> {
    let scores = |name: &str| -> Result<Option<Vec<f64>>, ReportError> {
        if !clients.has_column(name) {
            return Ok(None);
        }
        let c = clients.frame().column(name)?.cast(&DataType::Float64)?;
        Ok(Some(c.f64()?.iter().flatten().collect()))
    };
    Ok(satisfaction_from(
        scores(client_cols::NPS)?,
        scores(client_cols::CSAT)?,
    ))
}

/// NPS and CSAT from a table's `nps` (0-10) and `csat` (1-5) columns, whichever are present
/// (nulls are skipped; out-of-range scores are an error). `None` when neither is there. A
/// client-attributes file is read with [`satisfaction_of`], whose reader names the row of a
/// bad score.
pub fn satisfaction(clients: &DataFrame) -> Result<Option<Satisfaction>, ReportError> {
    let scores = |name: &str, lo: f64, hi: f64| -> Result<Option<Vec<f64>>, ReportError> {
        let Ok(c) = clients.column(name) else {
            return Ok(None);
        };
        let c = c.cast(&DataType::Float64)?;
        let v: Vec<f64> = c.f64()?.iter().flatten().collect();
        if let Some(bad) = v.iter().find(|x| !(**x >= lo && **x <= hi)) {
            return Err(ReportError::Invalid(format!(
                "column `{name}` has the score {bad}, outside {lo}..{hi}"
            )));
        }
        Ok(Some(v))
    };
    Ok(satisfaction_from(
        scores("nps", 0.0, 10.0)?,
        scores("csat", 1.0, 5.0)?,
    ))
}

/// NPS and CSAT from the answers given (`None`: no such column).
fn satisfaction_from(nps: Option<Vec<f64>>, csat: Option<Vec<f64>>) -> Option<Satisfaction> {
    if nps.is_none() && csat.is_none() {
        return None;
    }
    let mut s = Satisfaction::default();
    if let Some(v) = nps {
        let n = v.len() as f64;
        let promoters = v.iter().filter(|x| **x >= 9.0).count() as f64;
        let detractors = v.iter().filter(|x| **x <= 6.0).count() as f64;
        s.nps_responses = v.len() as u64;
        s.nps = ratio(100.0 * (promoters - detractors), n);
    }
    if let Some(v) = csat {
        let n = v.len() as f64;
        s.csat_responses = v.len() as u64;
        s.csat = ratio(100.0 * v.iter().filter(|x| **x >= 4.0).count() as f64, n);
    }
    Some(s)
}

/// The period table as a polars frame (one row per period; the CSV/Parquet output).
pub fn periods_frame(report: &KpiReport) -> Result<DataFrame, ReportError> {
    let p = &report.periods;
    let s = |f: fn(&PeriodKpis) -> String| p.iter().map(f).collect::<Vec<_>>();
    let u = |f: fn(&PeriodKpis) -> u64| p.iter().map(f).collect::<Vec<_>>();
    let o = |f: fn(&PeriodKpis) -> Option<f64>| p.iter().map(f).collect::<Vec<_>>();
    let x = |f: fn(&PeriodKpis) -> f64| p.iter().map(f).collect::<Vec<_>>();
    let df = DataFrame::new_infer_height(vec![
        Column::new("period".into(), s(|k| k.period.clone())),
        Column::new("start".into(), s(|k| k.start.to_string())),
        Column::new("end".into(), s(|k| k.end.to_string())),
        Column::new(
            "complete".into(),
            p.iter().map(|k| k.complete).collect::<Vec<_>>(),
        ),
        Column::new("active_start".into(), u(|k| k.active_start)),
        Column::new("active_end".into(), u(|k| k.active_end)),
        Column::new("new_clients".into(), u(|k| k.new_clients)),
        Column::new("retained".into(), u(|k| k.retained)),
        Column::new("retention_rate".into(), o(|k| k.retention_rate)),
        Column::new("churn_rate".into(), o(|k| k.churn_rate)),
        Column::new("buyers".into(), u(|k| k.buyers)),
        Column::new("orders".into(), u(|k| k.orders)),
        Column::new("repeat_purchase_rate".into(), o(|k| k.repeat_purchase_rate)),
        Column::new("purchase_frequency".into(), o(|k| k.purchase_frequency)),
        Column::new("gross_revenue".into(), x(|k| k.gross_revenue)),
        Column::new("net_revenue".into(), x(|k| k.net_revenue)),
        Column::new("average_order_value".into(), o(|k| k.average_order_value)),
        Column::new("return_rate".into(), o(|k| k.return_rate)),
        Column::new(
            "net_revenue_retention".into(),
            o(|k| k.net_revenue_retention),
        ),
        Column::new(
            "gross_revenue_retention".into(),
            o(|k| k.gross_revenue_retention),
        ),
        Column::new("key_clients".into(), u(|k| k.key_clients)),
        Column::new("key_client_share".into(), o(|k| k.key_client_share)),
        Column::new("key_revenue_share".into(), o(|k| k.key_revenue_share)),
        Column::new("top_revenue_share".into(), o(|k| k.top_revenue_share)),
    ])?;
    Ok(df)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clients CSV in a fresh folder of the system's temporary folder.
    fn clients_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("retain-report-kpis-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("clients.csv");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn satisfaction_of_the_client_attributes() {
        // NPS 10, 9 (promoters), 7 (passive), 3 (detractor), one missing: 100 x (2 - 1) / 4;
        // CSAT 5, 4.5 (satisfied), 2: 100 x 2 / 3
        let p = clients_file(
            "both",
            "client_id,nps,csat\n1,10,5\n2,9,\nC-3,7,4.5\n4,3,2\n5,,\n",
        );
        let c = retain_data::read_clients(&p, &Default::default()).unwrap();
        let s = satisfaction_of(&c).unwrap().unwrap();
        assert_eq!((s.nps_responses, s.csat_responses), (4, 3));
        assert!((s.nps.unwrap() - 25.0).abs() < 1e-12);
        assert!((s.csat.unwrap() - 200.0 / 3.0).abs() < 1e-12);
        // only an nps column, no answer in it: NPS with no answers, no CSAT
        let p = clients_file("nps", "client_id,nps\n1,\n");
        let c = retain_data::read_clients(&p, &Default::default()).unwrap();
        let s = satisfaction_of(&c).unwrap().unwrap();
        assert_eq!((s.nps_responses, s.nps, s.csat_responses), (0, None, 0));
        // neither column: none
        let p = clients_file("none", "client_id,segment\n1,a\n");
        let c = retain_data::read_clients(&p, &Default::default()).unwrap();
        assert_eq!(satisfaction_of(&c).unwrap(), None);
        // a score out of range stops the read, naming the row
        let p = clients_file("bad", "client_id,nps\n1,3\n2,11\n");
        let e = retain_data::read_clients(&p, &Default::default()).unwrap_err();
        assert!(e.to_string().contains("row 2"), "{e}");
        for name in ["both", "nps", "none", "bad"] {
            let p = clients_file(name, "");
            let _ = std::fs::remove_dir_all(p.parent().unwrap());
        }
    }
}
