//! The one-file HTML report.
//!
//! The page is assembled with `write!` into a `String` rather than a template crate: it is a
//! dozen sections, each a loop over rows or an inline SVG, and one escaping function
//! ([`esc`]) covers every piece of text that comes from the data. A template engine would add
//! a dependency and a second place where the page's structure lives, for no gain here.
//!
//! Self-contained: the charts are inline SVG, the style sheet and the two small scripts
//! (sortable tables; a self-check that writes into `#selfcheck` whether every chart drew and
//! whether any script error occurred) are inline, the fonts are the browser's own. Nothing
//! depends on the clock or on hash order, so the same inputs give the same bytes.
//!
//! Headline numbers carry `data-json` (which output: `kpis` or `evaluation`), `data-pointer`
//! (an RFC 6901 JSON pointer into it) and `data-format` (`percent`, `money`, `fixed3`,
//! `fixed2`, `count`), so a test can read each number on the page back to its source.

use std::fmt::Write as _;

use polars::prelude::*;
use serde_json::Value;

use crate::ReportError;
use crate::charts::{BarChart, Heatmap, LineChart, Series, bar_chart, heatmap, line_chart};
use crate::diagnostics::{Diagnostics, HoldoutScores, area, pr_curve, roc_curve};
use crate::format::{fixed, money, percent, thousands};
use crate::kpis::{KpiReport, Lines, concentration_curve};

/// The inputs of the report.
pub struct ReportInputs<'a> {
    /// The evaluation JSON of `retain evaluate` (or the demo).
    pub evaluation: &'a Value,
    /// The outreach list of `retain score` (any columns; shown by name).
    pub scores: &'a DataFrame,
    /// The KPIs of `retain kpis`.
    pub kpis: &'a KpiReport,
    /// The transactions (for the concentration curve).
    pub lines: &'a Lines,
    /// The BG/NBD re-applied at the evaluation cutoff, when the evaluation has its parameters.
    pub diagnostics: Option<&'a Diagnostics>,
    /// The names of the input files, shown in the page's header.
    pub sources: Vec<(String, String)>,
    /// Rows of the outreach list shown.
    pub top: usize,
    /// The plan's summary (`plan` of the run summary beside the list), when the list was
    /// planned.
    pub plan: Option<&'a Value>,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// How a headline number is shown (and checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `81.2%`.
    Percent,
    /// `1,234.50`.
    Money,
    /// `0.809`.
    Fixed3,
    /// `1.52`.
    Fixed2,
    /// `1,234`.
    Count,
}

impl Format {
    /// The name used in `data-format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Percent => "percent",
            Format::Money => "money",
            Format::Fixed3 => "fixed3",
            Format::Fixed2 => "fixed2",
            Format::Count => "count",
        }
    }
    /// The format of a `data-format` name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Format::Percent,
            Format::Money,
            Format::Fixed3,
            Format::Fixed2,
            Format::Count,
        ]
        .into_iter()
        .find(|f| f.name() == s)
    }
    /// The text of a value.
    pub fn show(self, v: f64) -> String {
        match self {
            Format::Percent => percent(Some(v)),
            Format::Money => money(v),
            Format::Fixed3 => fixed(Some(v), 3),
            Format::Fixed2 => fixed(Some(v), 2),
            Format::Count => thousands(v.round() as i64),
        }
    }
}

struct Card {
    label: String,
    value: String,
    sub: String,
    source: Option<(&'static str, String, Format)>,
}

fn card_json(
    label: &str,
    sub: &str,
    json: &'static str,
    root: &Value,
    pointer: String,
    f: Format,
) -> Option<Card> {
    let v = root.pointer(&pointer)?.as_f64()?;
    Some(Card {
        label: label.into(),
        value: f.show(v),
        sub: sub.into(),
        source: Some((json, pointer, f)),
    })
}

/// Renders the report.
pub fn render(inp: &ReportInputs) -> Result<String, ReportError> {
    let kpis_json =
        serde_json::to_value(inp.kpis).map_err(|e| ReportError::Invalid(e.to_string()))?;
    let ev = inp.evaluation;
    let mut body = String::new();
    let w = &mut body;

    // ---- header
    let _ = write!(
        w,
        "<header><h1>Retention report</h1><p class=\"meta\">Data from {} to {}; KPIs by {}, a \
         client is active when it bought in the last {} days.</p><ul class=\"sources\">",
        inp.kpis.first_day,
        inp.kpis.last_day,
        inp.kpis.params.period.name(),
        inp.kpis.params.horizon_days
    );
    for (what, path) in &inp.sources {
        let _ = write!(w, "<li>{}: <code>{}</code></li>", esc(what), esc(path));
    }
    w.push_str("</ul></header>\n");

    // ---- headline
    let mut cards = Vec::new();
    if let Some(h) = inp.kpis.headline() {
        let i = inp
            .kpis
            .periods
            .iter()
            .position(|p| p.period == h.period)
            .unwrap_or(0);
        let sub = format!("{} ({} to {})", h.period, h.start, h.end);
        for (label, field, f) in [
            ("Customer retention rate", "retention_rate", Format::Percent),
            ("Churn rate", "churn_rate", Format::Percent),
            (
                "Repeat purchase rate",
                "repeat_purchase_rate",
                Format::Percent,
            ),
            ("Average order value", "average_order_value", Format::Money),
            (
                "Net revenue retention",
                "net_revenue_retention",
                Format::Percent,
            ),
            (
                "Revenue share of the top 20%",
                "top_revenue_share",
                Format::Percent,
            ),
            ("Active clients at the end", "active_end", Format::Count),
            ("Net revenue", "net_revenue", Format::Money),
        ] {
            if let Some(c) = card_json(
                label,
                &sub,
                "kpis",
                &kpis_json,
                format!("/periods/{i}/{field}"),
                f,
            ) {
                cards.push(c);
            }
        }
    }
    if let Some(s) = &inp.kpis.satisfaction {
        if s.nps.is_some() {
            cards.extend(card_json(
                "NPS",
                "clients table",
                "kpis",
                &kpis_json,
                "/satisfaction/nps".into(),
                Format::Fixed2,
            ));
        }
        if s.csat.is_some() {
            cards.extend(card_json(
                "CSAT",
                "clients table",
                "kpis",
                &kpis_json,
                "/satisfaction/csat".into(),
                Format::Fixed2,
            ));
        }
    }
    let winner = churn_winner(ev);
    if let Some((name, marked_by)) = &winner {
        let cutoff = ev
            .pointer("/protocol/cutoff")
            .and_then(Value::as_str)
            .unwrap_or("-");
        cards.extend(card_json(
            &format!("ROC AUC of {name}"),
            &format!("holdout after {cutoff}; {marked_by}"),
            "evaluation",
            ev,
            format!("/churn/{name}/roc_auc"),
            Format::Fixed3,
        ));
    }
    cards.extend(card_json(
        "Churn rate on the holdout",
        "share of the evaluated clients with no purchase in the horizon",
        "evaluation",
        ev,
        "/churn_rate_eval".into(),
        Format::Percent,
    ));
    if let Some(var) = column_f64(inp.scores, "value_at_risk") {
        cards.push(Card {
            label: "Value at risk, whole list".into(),
            value: money(var.iter().sum()),
            sub: format!(
                "{} clients on the outreach list",
                thousands(inp.scores.height() as i64)
            ),
            source: None,
        });
    }
    w.push_str("<section id=\"headline\"><h2>Headline</h2><div class=\"cards\">");
    for c in &cards {
        let src = match &c.source {
            Some((j, p, f)) => format!(
                " data-json=\"{j}\" data-pointer=\"{}\" data-format=\"{}\"",
                esc(p),
                f.name()
            ),
            None => String::new(),
        };
        let _ = write!(
            w,
            "<div class=\"kpi\"{src}><div class=\"label\">{}</div><div class=\"value\">{}</div>\
             <div class=\"sub\">{}</div></div>",
            esc(&c.label),
            esc(&c.value),
            esc(&c.sub)
        );
    }
    w.push_str("</div></section>\n");

    // ---- trend
    section(w, "trend", "KPIs by period");
    let names: Vec<String> = inp.kpis.periods.iter().map(|p| p.period.clone()).collect();
    let n = names.len();
    let pick = |f: fn(&crate::PeriodKpis) -> Option<f64>| -> Vec<(f64, f64)> {
        inp.kpis
            .periods
            .iter()
            .enumerate()
            .filter_map(|(i, p)| f(p).map(|v| (i as f64, v)))
            .collect()
    };
    figure(
        w,
        "chart-trend",
        &line_chart(&LineChart {
            title: "Retention, churn and repeat purchases by period".into(),
            x_label: inp.kpis.params.period.name().to_string(),
            y_label: "share of clients".into(),
            series: vec![
                Series::new("customer retention rate", pick(|p| p.retention_rate)),
                Series::new("churn rate", pick(|p| p.churn_rate)),
                Series::new("repeat purchase rate", pick(|p| p.repeat_purchase_rate)),
                Series::new(
                    "net revenue retention",
                    pick(|p| p.net_revenue_retention.map(|v| v.min(1.5))),
                ),
            ],
            x_range: (-0.5, n as f64 - 0.5),
            y_range: (0.0, 1.5),
            x_names: Some(names.clone()),
            y_percent: true,
        })?,
        "Periods marked * in the table are not fully covered by the data. Net revenue retention \
         is cut at 150% on the chart.",
    );
    kpi_table(w, inp.kpis);
    w.push_str("</section>\n");

    // ---- models
    section(w, "models", "Model comparison on the holdout");
    model_tables(w, ev, winner.as_ref().map(|x| x.0.as_str()));
    if let Some(d) = inp.diagnostics {
        let curves = [&d.bgnbd, &d.baseline];
        let roc: Vec<Series> = curves
            .iter()
            .map(|s| {
                let pts = roc_curve(s);
                let auc = area(&pts);
                Series::new(format!("{} (AUC {auc:.3})", s.name), pts)
            })
            .chain([Series::reference("random", vec![(0.0, 0.0), (1.0, 1.0)])])
            .collect();
        w.push_str("<div class=\"grid\">");
        figure(
            w,
            "chart-roc",
            &line_chart(&LineChart {
                title: "ROC curve".into(),
                x_label: "false positive rate (non-churners flagged)".into(),
                y_label: "true positive rate (churners found)".into(),
                series: roc,
                x_range: (0.0, 1.0),
                y_range: (0.0, 1.0),
                x_names: None,
                y_percent: false,
            })?,
            "BG/NBD and the days-since-last baseline re-applied at the evaluation cutoff (the \
             areas equal the evaluation's ROC AUC).",
        );
        let base_rate = d.bgnbd.churned.iter().filter(|c| **c).count() as f64
            / d.bgnbd.churned.len().max(1) as f64;
        let pr: Vec<Series> = curves
            .iter()
            .map(|s| Series::new(s.name.clone(), pr_curve(s)))
            .chain([Series::reference(
                "churn rate (random)",
                vec![(0.0, base_rate), (1.0, base_rate)],
            )])
            .collect();
        figure(
            w,
            "chart-pr",
            &line_chart(&LineChart {
                title: "Precision-recall curve".into(),
                x_label: "recall (share of churners found)".into(),
                y_label: "precision (share of flagged who churn)".into(),
                series: pr,
                x_range: (0.0, 1.0),
                y_range: (0.0, 1.0),
                x_names: None,
                y_percent: false,
            })?,
            "Churners are the positive class.",
        );
        w.push_str("</div>");
    }
    let (gains, calib, from) = gains_and_calibration(ev, inp.diagnostics)?;
    if !gains.is_empty() {
        w.push_str("<div class=\"grid\">");
        let mut g: Vec<Series> = gains
            .iter()
            .map(|(name, rows)| {
                let pts = std::iter::once((0.0, 0.0))
                    .chain(rows.iter().map(|r| (r.0, r.1)))
                    .collect();
                Series::new(name.clone(), pts)
            })
            .collect();
        g.push(Series::reference("random", vec![(0.0, 0.0), (1.0, 1.0)]));
        figure(
            w,
            "chart-gains",
            &line_chart(&LineChart {
                title: "Cumulative gains".into(),
                x_label: "share of clients contacted, riskiest first".into(),
                y_label: "share of churners reached".into(),
                series: g,
                x_range: (0.0, 1.0),
                y_range: (0.0, 1.0),
                x_names: None,
                y_percent: true,
            })?,
            &format!("By decile of the score; {from}."),
        );
        let lift: Vec<Series> = gains
            .iter()
            .map(|(name, rows)| {
                Series::new(name.clone(), rows.iter().map(|r| (r.0, r.2)).collect())
            })
            .chain([Series::reference("random", vec![(0.0, 1.0), (1.0, 1.0)])])
            .collect();
        let top = gains
            .iter()
            .flat_map(|g| g.1.iter().map(|r| r.2))
            .fold(1.0f64, f64::max);
        figure(
            w,
            "chart-lift",
            &line_chart(&LineChart {
                title: "Cumulative lift".into(),
                x_label: "share of clients contacted, riskiest first".into(),
                y_label: "churn rate among them / overall churn rate".into(),
                series: lift,
                x_range: (0.0, 1.0),
                y_range: (0.0, (top * 1.1).ceil().max(2.0)),
                x_names: None,
                y_percent: false,
            })?,
            "A lift of 1.5 in the first decile: the 10% contacted first churn 1.5 times as often \
             as the average client.",
        );
        w.push_str("</div>");
    }
    if !calib.is_empty() {
        let mut s: Vec<Series> = calib
            .iter()
            .map(|(name, pts)| Series::new(name.clone(), pts.clone()))
            .collect();
        s.push(Series::reference(
            "perfectly calibrated",
            vec![(0.0, 0.0), (1.0, 1.0)],
        ));
        figure(
            w,
            "chart-calibration",
            &line_chart(&LineChart {
                title: "Calibration by decile".into(),
                x_label: "mean predicted churn probability".into(),
                y_label: "observed churn rate".into(),
                series: s,
                x_range: (0.0, 1.0),
                y_range: (0.0, 1.0),
                x_names: None,
                y_percent: false,
            })?,
            &format!("Deciles of the predicted probability; {from}."),
        );
    }
    w.push_str("</section>\n");

    // ---- value
    section(w, "value", "Where the revenue and the risk are");
    w.push_str("<div class=\"grid\">");
    let last = day_of(inp.kpis.last_day);
    let curve = concentration_curve(inp.lines, last - 364, last);
    let key = inp.kpis.params.key_share;
    let at = curve
        .iter()
        .find(|p| p.1 >= key * (1.0 - 1e-12))
        .copied()
        .unwrap_or((1.0, 1.0));
    figure(
        w,
        "chart-concentration",
        &line_chart(&LineChart {
            title: "Revenue concentration, last 12 months".into(),
            x_label: "share of buying clients, largest first".into(),
            y_label: "share of net revenue".into(),
            series: vec![
                Series::new("cumulative revenue share", curve),
                Series::reference(
                    format!(
                        "key clients: {:.1}% bring {:.0}%",
                        100.0 * at.0,
                        100.0 * key
                    ),
                    vec![(at.0, 0.0), (at.0, at.1), (0.0, at.1)],
                ),
            ],
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            x_names: None,
            y_percent: true,
        })?,
        "Key clients: the fewest clients bringing the key share of revenue (ties to the smaller id).",
    );
    if let Some((group, cats, var, counts)) = value_at_risk_by_group(inp.scores) {
        figure(
            w,
            "chart-var",
            &bar_chart(&BarChart {
                title: format!("Value at risk by {group}"),
                x_label: group.clone(),
                y_label: "value at risk (churn probability x CLV)".into(),
                categories: cats.clone(),
                groups: vec![("value at risk".into(), var.clone())],
            })?,
            "Sum over the clients of the outreach list.",
        );
        w.push_str("</div>");
        let _ = write!(
            w,
            "<table class=\"sortable\"><thead><tr><th>{}</th><th class=\"num\">clients</th>\
             <th class=\"num\">value at risk</th></tr></thead><tbody>",
            esc(&group)
        );
        for ((c, v), k) in cats.iter().zip(&var).zip(&counts) {
            let _ = write!(
                w,
                "<tr><td>{}</td><td class=\"num\" data-sort=\"{k}\">{}</td><td class=\"num\" \
                 data-sort=\"{v}\">{}</td></tr>",
                esc(c),
                thousands(*k as i64),
                money(*v)
            );
        }
        w.push_str("</tbody></table>");
    } else {
        w.push_str("</div><p>The outreach list has no <code>value_at_risk</code> column (scored without a CLV model).</p>");
    }
    w.push_str("</section>\n");

    // ---- cohorts
    section(w, "cohorts", "Cohort retention");
    let cohorts: Vec<&crate::kpis::Cohort> = inp.kpis.cohorts.iter().rev().take(24).rev().collect();
    figure(
        w,
        "chart-cohorts",
        &heatmap(&Heatmap {
            title: "Share of each first-purchase cohort buying again, by month".into(),
            x_label: "months since the first purchase".into(),
            y_label: "first-purchase month".into(),
            rows: cohorts
                .iter()
                .map(|c| format!("{} ({})", c.cohort, c.clients))
                .collect(),
            values: cohorts.iter().map(|c| c.retention.clone()).collect(),
        })?,
        "Each cell: % of the cohort with a purchase in that month (month 0 is 100%). The last \
         24 cohorts; the number of clients in brackets.",
    );
    w.push_str("</section>\n");

    // ---- BG/NBD
    if let Some(d) = inp.diagnostics {
        section(w, "bgnbd", "BG/NBD fit diagnostics");
        w.push_str("<div class=\"grid\">");
        figure(
            w,
            "chart-bgnbd-hist",
            &bar_chart(&BarChart {
                title: "Repeat purchases in the calibration period".into(),
                x_label: "number of repeat purchases".into(),
                y_label: "clients".into(),
                categories: d.fit.bins.clone(),
                groups: vec![
                    ("actual".into(), d.fit.actual.clone()),
                    ("BG/NBD".into(), d.fit.expected.clone()),
                ],
            })?,
            "As figure 2 of Fader, Hardie and Lee (2005): clients by number of repeat purchases, \
             against the model's expectation sum of P(X(T) = x) over the clients.",
        );
        let top = d
            .fit
            .cum_actual
            .iter()
            .chain(&d.fit.cum_expected)
            .fold(1.0f64, |a, b| a.max(*b))
            * 1.05;
        let xmax = d.fit.weeks.last().copied().unwrap_or(1.0);
        figure(
            w,
            "chart-bgnbd-cum",
            &line_chart(&LineChart {
                title: "Cumulative repeat purchases, calibration and holdout".into(),
                x_label: "weeks since the first purchase in the data".into(),
                y_label: "repeat purchases".into(),
                series: vec![
                    Series::new(
                        "actual",
                        d.fit
                            .weeks
                            .iter()
                            .copied()
                            .zip(d.fit.cum_actual.iter().copied())
                            .collect(),
                    ),
                    Series::new(
                        "BG/NBD",
                        d.fit
                            .weeks
                            .iter()
                            .copied()
                            .zip(d.fit.cum_expected.iter().copied())
                            .collect(),
                    ),
                    Series::reference(
                        "end of calibration",
                        vec![(d.fit.cutoff_week, 0.0), (d.fit.cutoff_week, top)],
                    ),
                ],
                x_range: (0.0, xmax),
                y_range: (0.0, top),
                x_names: None,
                y_percent: false,
            })?,
            "As figure 1 of the paper: the model's expected cumulative repeat purchases of the \
             clients acquired so far, against the actual ones, before and after the cutoff.",
        );
        w.push_str("</div>");
        params_table(w, ev);
        w.push_str("</section>\n");
    }

    // ---- the plan
    if let Some(p) = inp.plan {
        plan_section(w, p);
    }

    // ---- outreach list
    section(w, "outreach", "Top of the outreach list");
    outreach_table(w, inp.scores, inp.top)?;
    w.push_str("</section>\n");

    let mut page = String::with_capacity(body.len() + 8000);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<title>retain: retention report</title>\n<style>");
    page.push_str(CSS);
    page.push_str("</style>\n<script>");
    page.push_str(CHECK_JS);
    page.push_str("</script>\n</head><body>\n");
    page.push_str(&body);
    page.push_str("<footer><p id=\"selfcheck\" data-status=\"pending\"></p><p>Written by retain ");
    page.push_str(env!("CARGO_PKG_VERSION"));
    page.push_str(". Click a column header to sort a table.</p></footer>\n<script>");
    page.push_str(SORT_JS);
    page.push_str("</script>\n</body></html>\n");
    Ok(page)
}

fn day_of(d: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - 719_163
}

/// The week's plan: what it expects, each channel's use and the value of one more contact,
/// and the same capacity filled by ranking instead.
fn plan_section(w: &mut String, p: &Value) {
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    section(w, "plan", "The contact plan");
    let _ = write!(
        w,
        "<p>From {} for {} days: <b>{}</b> contacts to {} clients the plan may reach ({} held out \
         at random to measure the campaign). Expected profit <b>{}</b>: value saved {}, incentives \
         {}, contact costs {}.</p>",
        esc(p.get("start").and_then(Value::as_str).unwrap_or("-")),
        num(p, "days").map_or("-".into(), |d| format!("{d}")),
        thousands(num(p, "planned").unwrap_or(0.0) as i64),
        thousands(num(p, "eligible").unwrap_or(0.0) as i64),
        thousands(num(p, "holdout").unwrap_or(0.0) as i64),
        opt_cell(num(p, "expected_profit"), money),
        opt_cell(num(p, "expected_saved_value"), money),
        opt_cell(num(p, "expected_incentives"), money),
        opt_cell(num(p, "contact_costs"), money),
    );
    w.push_str(
        "<table class=\"sortable\" id=\"plan-channels\"><thead><tr><th>channel</th>\
         <th class=\"num\">contacts a day</th><th class=\"num\">planned</th>\
         <th class=\"num\">answer rate</th><th class=\"num\">one more contact is worth</th>\
         </tr></thead><tbody>",
    );
    if let Some(chs) = p.get("channels").and_then(Value::as_object) {
        for (name, c) in chs {
            let _ = write!(
                w,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(name),
                thousands(num(c, "capacity_per_day").unwrap_or(0.0) as i64),
                thousands(num(c, "planned").unwrap_or(0.0) as i64),
                percent(num(c, "population_response")),
                opt_cell(num(c, "marginal_value"), money),
            );
        }
    }
    w.push_str("</tbody></table>");
    let base = |k: &str| {
        p.get(k).map_or(("-".to_string(), "-".to_string()), |b| {
            (
                thousands(num(b, "contacts").unwrap_or(0.0) as i64),
                opt_cell(num(b, "expected_profit"), money),
            )
        })
    };
    let ((cc, cp), (vc, vp)) = (base("by_churn_probability"), base("by_value_at_risk"));
    let _ = writeln!(
        w,
        "<p>The same capacity filled in order of churn probability: {cc} contacts, expected \
         profit {cp}; in order of value at risk: {vc} contacts, {vp} (each client with its best \
         contact).</p></section>"
    );
}

fn section(w: &mut String, id: &str, title: &str) {
    let _ = write!(w, "<section id=\"{id}\"><h2>{}</h2>", esc(title));
}

fn figure(w: &mut String, id: &str, svg: &str, caption: &str) {
    let _ = write!(
        w,
        "<figure class=\"chart\" id=\"{id}\">{svg}<figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}

fn opt_cell(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    match v {
        Some(v) => format!("<td class=\"num\" data-sort=\"{v}\">{}</td>", f(v)),
        None => "<td class=\"num\" data-sort=\"\">-</td>".into(),
    }
}

fn kpi_table(w: &mut String, k: &KpiReport) {
    w.push_str(
        "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>period</th>\
         <th class=\"num\">active at start (S)</th><th class=\"num\">active at end (E)</th>\
         <th class=\"num\">new (N)</th><th class=\"num\">retention (E-N)/S</th>\
         <th class=\"num\">churn</th><th class=\"num\">buyers</th><th class=\"num\">repeat rate</th>\
         <th class=\"num\">orders per buyer</th><th class=\"num\">avg order value</th>\
         <th class=\"num\">return rate</th><th class=\"num\">net revenue</th><th class=\"num\">NRR</th>\
         <th class=\"num\">GRR</th><th class=\"num\">key clients</th><th class=\"num\">top 20% share</th>\
         </tr></thead><tbody>",
    );
    for p in &k.periods {
        let count = |v: u64| {
            format!(
                "<td class=\"num\" data-sort=\"{v}\">{}</td>",
                thousands(v as i64)
            )
        };
        let _ = write!(
            w,
            "<tr><td>{}{}</td>{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}</tr>",
            esc(&p.period),
            if p.complete { "" } else { " *" },
            count(p.active_start),
            count(p.active_end),
            count(p.new_clients),
            opt_cell(p.retention_rate, |v| percent(Some(v))),
            opt_cell(p.churn_rate, |v| percent(Some(v))),
            count(p.buyers),
            opt_cell(p.repeat_purchase_rate, |v| percent(Some(v))),
            opt_cell(p.purchase_frequency, |v| fixed(Some(v), 2)),
            opt_cell(p.average_order_value, money),
            opt_cell(p.return_rate, |v| percent(Some(v))),
            opt_cell(Some(p.net_revenue), money),
            opt_cell(p.net_revenue_retention, |v| percent(Some(v))),
            opt_cell(p.gross_revenue_retention, |v| percent(Some(v))),
            count(p.key_clients),
            opt_cell(p.top_revenue_share, |v| percent(Some(v))),
        );
    }
    w.push_str("</tbody></table></div>");
}

/// The churn model marked as the winner, and why: the backtest's selection if there is one,
/// else the highest ROC AUC on the holdout.
fn churn_winner(ev: &Value) -> Option<(String, String)> {
    let selected = ev
        .pointer("/backtest/cutoffs")
        .and_then(Value::as_array)
        .and_then(|c| c.last())
        .and_then(|c| c.pointer("/selection/churn_model"))
        .and_then(Value::as_str);
    if let Some(s) = selected
        && ev.pointer(&format!("/churn/{s}/roc_auc")).is_some()
    {
        return Some((s.to_string(), "chosen on the latest training window".into()));
    }
    let churn = ev.get("churn")?.as_object()?;
    let best = churn
        .iter()
        .filter_map(|(k, v)| v.get("roc_auc")?.as_f64().map(|a| (k, a)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))?;
    Some((best.0.clone(), "highest ROC AUC on the holdout".into()))
}

fn model_tables(w: &mut String, ev: &Value, winner: Option<&str>) {
    let metric = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    if let Some(churn) = ev.get("churn").and_then(Value::as_object) {
        w.push_str(
            "<table class=\"sortable\"><thead><tr><th>churn model</th><th class=\"num\">ROC AUC</th>\
             <th class=\"num\">PR AUC</th><th class=\"num\">lift at 10%</th><th class=\"num\">Brier</th>\
             <th class=\"num\">log loss</th></tr></thead><tbody>",
        );
        let mut rows: Vec<(&String, &Value)> = churn.iter().collect();
        rows.sort_by(|a, b| {
            let (x, y) = (
                metric(a.1, "roc_auc").unwrap_or(f64::NEG_INFINITY),
                metric(b.1, "roc_auc").unwrap_or(f64::NEG_INFINITY),
            );
            y.total_cmp(&x).then(a.0.cmp(b.0))
        });
        for (name, m) in rows {
            let star = winner == Some(name.as_str());
            let _ = write!(
                w,
                "<tr{}><td>{}{}</td>{}{}{}{}{}</tr>",
                if star { " class=\"winner\"" } else { "" },
                esc(name),
                if star {
                    " <span class=\"star\" title=\"the selected model\">&#9733; selected</span>"
                } else {
                    ""
                },
                opt_cell(metric(m, "roc_auc"), |v| fixed(Some(v), 3)),
                opt_cell(metric(m, "pr_auc"), |v| fixed(Some(v), 3)),
                opt_cell(metric(m, "top_decile_lift"), |v| fixed(Some(v), 2)),
                opt_cell(metric(m, "brier"), |v| fixed(Some(v), 3)),
                opt_cell(metric(m, "log_loss"), |v| fixed(Some(v), 3)),
            );
        }
        w.push_str("</tbody></table>");
    }
    if let Some(value) = ev.get("value").and_then(Value::as_object) {
        w.push_str(
            "<table class=\"sortable\"><thead><tr><th>value model</th><th class=\"num\">Spearman</th>\
             <th class=\"num\">normalized Gini</th><th class=\"num\">MAE</th><th class=\"num\">RMSE</th>\
             <th class=\"num\">top-10% revenue share</th></tr></thead><tbody>",
        );
        for (name, m) in value {
            let _ = write!(
                w,
                "<tr><td>{}</td>{}{}{}{}{}</tr>",
                esc(name),
                opt_cell(metric(m, "spearman"), |v| fixed(Some(v), 3)),
                opt_cell(metric(m, "normalized_gini"), |v| fixed(Some(v), 3)),
                opt_cell(metric(m, "mae"), money),
                opt_cell(metric(m, "rmse"), money),
                opt_cell(metric(m, "top_decile_revenue_share"), |v| percent(Some(v))),
            );
        }
        w.push_str("</tbody></table>");
    }
    if let Some(Value::String(name)) = ev
        .pointer("/backtest/cutoffs")
        .and_then(Value::as_array)
        .and_then(|c| c.last())
        .and_then(|c| c.pointer("/selection/churn_model"))
    {
        let _ = write!(
            w,
            "<p>&#9733; marks <code>{}</code>, chosen by its mean score on the validation targets before the cutoff (never on the holdout).</p>",
            esc(name)
        );
    } else if let Some(name) = winner {
        let _ = write!(
            w,
            "<p>&#9733; marks <code>{}</code>, the highest ROC AUC on the holdout (this evaluation has no backtest selection).</p>",
            esc(name)
        );
    }
}

type Gains = Vec<(String, Vec<(f64, f64, f64)>)>;
type Calib = Vec<(String, Vec<(f64, f64)>)>;

/// Gains (share contacted, share of churners, cumulative lift) and calibration points by
/// model: from the backtest's tables when the evaluation has them, else computed from the
/// re-applied BG/NBD and baseline.
fn gains_and_calibration(
    ev: &Value,
    d: Option<&Diagnostics>,
) -> Result<(Gains, Calib, String), ReportError> {
    let mut gains = Vec::new();
    let mut calib = Vec::new();
    if let Some(churn) = ev
        .pointer("/backtest/cutoffs")
        .and_then(Value::as_array)
        .and_then(|c| c.last())
        .and_then(|c| c.get("churn"))
        .and_then(Value::as_object)
    {
        for (name, r) in churn {
            let rows = r
                .get("gains")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = rows
                .last()
                .and_then(|x| x.get("cum_count"))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            if total > 0.0 {
                let pts = rows
                    .iter()
                    .filter_map(|x| {
                        Some((
                            x.get("cum_count")?.as_f64()? / total,
                            x.get("cum_churn_share")?.as_f64()?,
                            x.get("cum_lift")?.as_f64()?,
                        ))
                    })
                    .collect();
                gains.push((name.clone(), pts));
            }
            let c: Vec<(f64, f64)> = r
                .get("calibration")
                .and_then(Value::as_array)
                .map(|rows| {
                    rows.iter()
                        .filter_map(|x| {
                            Some((
                                x.get("mean_predicted")?.as_f64()?,
                                x.get("observed_rate")?.as_f64()?,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            if !c.is_empty() {
                calib.push((name.clone(), c));
            }
        }
        if !gains.is_empty() {
            return Ok((
                gains,
                calib,
                "every model of the backtest at its last cutoff".into(),
            ));
        }
    }
    if let Some(d) = d {
        for s in [&d.bgnbd, &d.baseline] {
            gains.push((s.name.clone(), gains_points(s)?));
        }
        let rows = retain_eval::calibration_table(
            &d.bgnbd.churned,
            &d.bgnbd.score,
            10,
            retain_eval::CalibrationBins::Quantile,
        )?;
        calib.push((
            d.bgnbd.name.clone(),
            rows.iter()
                .map(|r| (r.mean_predicted, r.observed_rate))
                .collect(),
        ));
    }
    Ok((
        gains,
        calib,
        "BG/NBD and the baseline re-applied at the evaluation cutoff".into(),
    ))
}

fn gains_points(s: &HoldoutScores) -> Result<Vec<(f64, f64, f64)>, ReportError> {
    let rows = retain_eval::gains_table(&s.churned, &s.score, &s.ids, 10)?;
    let n = s.ids.len() as f64;
    Ok(rows
        .iter()
        .map(|r| (r.cum_count as f64 / n, r.cum_churn_share, r.cum_lift))
        .collect())
}

fn params_table(w: &mut String, ev: &Value) {
    let Some(cb) = ev.get("customer_base").and_then(Value::as_object) else {
        return;
    };
    w.push_str("<table><thead><tr><th>fitted parameter (weeks)</th><th class=\"num\">value</th></tr></thead><tbody>");
    for (k, v) in cb {
        if let Some(x) = v.as_f64() {
            let _ = write!(
                w,
                "<tr><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(k),
                fixed(Some(x), 4)
            );
        }
    }
    w.push_str("</tbody></table>");
}

/// A column as f64 values (nulls as 0), if present and numeric.
fn column_f64(df: &DataFrame, name: &str) -> Option<Vec<f64>> {
    let c = df.column(name).ok()?.cast(&DataType::Float64).ok()?;
    Some(c.f64().ok()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// (grouping column, group names, value at risk, clients) of each group.
type GroupedRisk = (String, Vec<String>, Vec<f64>, Vec<u64>);

/// Value at risk summed by the first grouping column present (`segment`, `churn_band`,
/// `key_client`); groups in order of their name.
fn value_at_risk_by_group(df: &DataFrame) -> Option<GroupedRisk> {
    let var = column_f64(df, "value_at_risk")?;
    let group = ["segment", "churn_band", "key_client"]
        .into_iter()
        .find(|g| df.column(g).is_ok())?;
    let g = df.column(group).ok()?.cast(&DataType::String).ok()?;
    let g = g.str().ok()?;
    let mut m: std::collections::BTreeMap<String, (f64, u64)> = Default::default();
    for (i, v) in var.iter().enumerate() {
        let key = g.get(i).unwrap_or("(none)").to_string();
        let e = m.entry(key).or_default();
        e.0 += v;
        e.1 += 1;
    }
    let label = |k: &str| match (group, k) {
        ("key_client", "true") => "key clients".to_string(),
        ("key_client", "false") => "other clients".to_string(),
        _ => k.to_string(),
    };
    Some((
        group.replace('_', " "),
        m.keys().map(|k| label(k)).collect(),
        m.values().map(|v| v.0).collect(),
        m.values().map(|v| v.1).collect(),
    ))
}

/// Columns shown as money.
const MONEY_COLUMNS: [&str; 4] = ["clv", "value_at_risk", "monetary", "expected_value"];

fn outreach_table(w: &mut String, df: &DataFrame, top: usize) -> Result<(), ReportError> {
    let n = df.height().min(top);
    let _ = write!(
        w,
        "<p>The first {} of {} clients, in the list's order, with every column it has.</p>",
        thousands(n as i64),
        thousands(df.height() as i64)
    );
    w.push_str("<div class=\"scroll\"><table class=\"sortable\" id=\"outreach-table\"><thead><tr>");
    let columns = df.columns();
    for c in columns {
        let numeric = c.dtype().is_primitive_numeric();
        let _ = write!(
            w,
            "<th{}>{}</th>",
            if numeric { " class=\"num\"" } else { "" },
            esc(c.name().as_str())
        );
    }
    w.push_str("</tr></thead><tbody>");
    for i in 0..n {
        w.push_str("<tr>");
        for c in columns {
            let name = c.name().as_str();
            let v = c.get(i)?;
            if c.dtype().is_float() {
                let x: Option<f64> = match v {
                    AnyValue::Float64(x) => Some(x),
                    AnyValue::Float32(x) => Some(x as f64),
                    _ => None,
                };
                let text = match x {
                    Some(x) if MONEY_COLUMNS.contains(&name) => money(x),
                    Some(x) => fixed(Some(x), 3),
                    None => "-".into(),
                };
                let _ = write!(
                    w,
                    "<td class=\"num\" data-sort=\"{}\">{}</td>",
                    x.map(|x| x.to_string()).unwrap_or_default(),
                    text
                );
            } else if c.dtype().is_integer() {
                let text = match &v {
                    AnyValue::Null => String::new(),
                    other => other.to_string(),
                };
                let _ = write!(w, "<td class=\"num\" data-sort=\"{text}\">{text}</td>");
            } else {
                let text = match &v {
                    AnyValue::Null => String::new(),
                    AnyValue::String(s) => s.to_string(),
                    AnyValue::StringOwned(s) => s.to_string(),
                    other => other.to_string(),
                };
                let _ = write!(w, "<td>{}</td>", esc(&text));
            }
        }
        w.push_str("</tr>");
    }
    w.push_str("</tbody></table></div>");
    Ok(())
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1380px;padding:0 24px 40px;color:#1d2430;background:#fafbfc}\
h1{margin:24px 0 4px}h2{margin:32px 0 12px;border-bottom:2px solid #dfe3e8;padding-bottom:4px}\
.meta{color:#555}.sources{color:#555;font-size:13px}code{font-size:12px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}\
.kpi{background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:12px 14px}\
.kpi .label{font-size:13px;color:#555}.kpi .value{font-size:28px;font-weight:600;margin:4px 0}.kpi .sub{font-size:12px;color:#777}\
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:16px}\
figure.chart{margin:0 0 16px;background:#fff;border:1px solid #dfe3e8;border-radius:8px;padding:8px}\
figure.chart svg{max-width:100%;height:auto;display:block}figcaption{font-size:12px;color:#555;padding:4px 8px}\
.scroll{overflow-x:auto}table{border-collapse:collapse;margin:8px 0 16px;background:#fff;font-size:13px}\
th,td{border-bottom:1px solid #e6e9ed;padding:4px 10px;text-align:left;white-space:nowrap}\
th{background:#f1f3f5;position:sticky;top:0}.num{text-align:right;font-variant-numeric:tabular-nums}\
table.sortable th{cursor:pointer}table.sortable th[aria-sort=ascending]::after{content:' \\25B2'}\
table.sortable th[aria-sort=descending]::after{content:' \\25BC'}\
tr.winner td{background:#fff6d6;font-weight:600}.star{color:#b8860b}\
footer{margin-top:40px;color:#777;font-size:12px}";

/// Records script errors and, once loaded, whether every chart drew, into `#selfcheck`.
const CHECK_JS: &str = r#"(function(){
var errors=[];
window.addEventListener('error',function(e){errors.push(String(e.message||e));});
var ce=console.error;console.error=function(){errors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};
window.addEventListener('load',function(){
var figs=document.querySelectorAll('figure.chart'),bad=[];
for(var i=0;i<figs.length;i++){var s=figs[i].querySelector('svg');
if(!s||s.querySelectorAll('text').length<3||s.querySelectorAll('polyline,path,rect,line').length<3||s.getBoundingClientRect().width<100){bad.push(figs[i].id);}}
var out=document.getElementById('selfcheck');
out.setAttribute('data-charts',String(figs.length));out.setAttribute('data-bad',bad.join(' '));
out.setAttribute('data-errors',errors.join(' | '));
out.setAttribute('data-status',(bad.length||errors.length)?'fail':'ok');
out.textContent='Self-check: '+figs.length+' charts, '+(bad.length?('not drawn: '+bad.join(' ')):'all drawn')+(errors.length?('; script errors: '+errors.length):'')+'.';
});})();"#;

/// Sorts a table by the clicked column: by `data-sort` as a number when every cell has one,
/// else by text.
const SORT_JS: &str = r#"(function(){
var tables=document.querySelectorAll('table.sortable');
for(var t=0;t<tables.length;t++){(function(table){
var ths=table.querySelectorAll('thead th');
for(var c=0;c<ths.length;c++){(function(col,th){th.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending';
for(var k=0;k<ths.length;k++){ths[k].removeAttribute('aria-sort');}
th.setAttribute('aria-sort',asc?'ascending':'descending');
var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
var key=function(r){var td=r.cells[col];var s=td.getAttribute('data-sort');
if(s!==null){var x=parseFloat(s);return isNaN(x)?-Infinity:x;}return td.textContent;};
rows.sort(function(a,b){var x=key(a),y=key(b);var d=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return asc?d:-d;});
for(var r=0;r<rows.length;r++){body.appendChild(rows[r]);}
});})(c,ths[c]);}
})(tables[t]);}})();"#;
