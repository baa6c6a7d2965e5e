//! Reasons in words: for a feature that pushes a client's churn risk up, a stable code and a
//! sentence built from the client's own (raw, unstandardised) values, e.g. `long_silence`:
//! "no purchase for 143 days, usually every 21".
//!
//! Numbers are written for a retention manager: counts and days as whole numbers with
//! thousands separators, money with thousands separators (whole units from 100 on, cents
//! below) and no currency symbol, shares as rounded percentages. A value that is missing or
//! not finite is left out of the sentence (never written as "NaN" or "inf").

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// A reason a client's churn risk is up: a stable code and a sentence from the client's own values.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    /// A stable code from [`REASON_CODES`] (for a feature this module does not know, the
    /// feature's name).
    pub code: &'static str,
    /// The sentence, from the client's values.
    pub text: String,
}

/// Every code `describe` can return, with a one-line meaning (for the README's table).
pub const REASON_CODES: &[(&str, &str)] = &[
    (
        "long_silence",
        "days since the last purchase (with the client's usual gap when known)",
    ),
    (
        "active_span",
        "days between the first and the last purchase",
    ),
    (
        "purchase_count",
        "purchase days (one purchase only, or how many repeats in how long)",
    ),
    ("client_age", "days since the first purchase"),
    ("low_repeat_value", "mean value of the repeat purchase days"),
    ("low_total_spend", "total spent before returns"),
    ("low_net_spend", "total spent after returns"),
    ("few_orders", "number of orders"),
    ("narrow_range", "number of different products bought"),
    ("few_items", "number of items bought"),
    ("small_baskets", "items per order"),
    ("low_order_value", "value per order"),
    ("unit_price_level", "price paid per item"),
    ("long_gaps", "usual gap between purchase days"),
    (
        "irregular_rhythm",
        "how much the gaps between purchase days vary",
    ),
    ("one_off_buyer", "one purchase day only"),
    ("no_recent_spend", "spend in the last 30 days"),
    (
        "low_recent_spend",
        "spend in the last 90 days, against the 90 before",
    ),
    (
        "spend_dropped",
        "spend in the 90 days before the last 90, against the last 90",
    ),
    (
        "spend_falling",
        "trend of spend: last 90 days against the 90 before",
    ),
    ("few_recent_visits", "purchase days in the last 90 days"),
    ("frequent_returns", "orders with returns"),
    ("high_returns", "share of the bought value returned"),
    ("country_share", "share of clients in the client's country"),
    (
        "main_country",
        "in the most common country of the client base, or not",
    ),
    (
        "second_country",
        "in the second most common country, or not",
    ),
    ("third_country", "in the third most common country, or not"),
    ("weekday_habit", "the weekday the client usually orders on"),
    ("hour_habit", "the hour the client usually orders at"),
    (
        "likely_inactive",
        "customer-base model (BG/NBD): chance of no purchase in the horizon",
    ),
    (
        "few_expected_purchases",
        "customer-base model (BG/NBD): expected purchases in the horizon",
    ),
    (
        "low_expected_value",
        "customer-base model (BG/NBD + Gamma-Gamma): expected value in the horizon",
    ),
    (
        "likely_inactive_mbgnbd",
        "customer-base model (MBG/NBD): chance of no purchase in the horizon",
    ),
    (
        "may_have_left",
        "customer-base model (MBG/NBD): chance the client is still active",
    ),
    (
        "visits_in_window",
        "feature family `windows`: purchase days in the last 7 to 365 days",
    ),
    (
        "spend_in_window",
        "feature family `windows`: spend in the last 7 to 365 days",
    ),
    (
        "fading_visits",
        "feature family `decayed`: purchase days, recent ones counting most",
    ),
    (
        "fading_spend",
        "feature family `decayed`: spend, recent spend counting most",
    ),
    (
        "last_year_same_weeks",
        "feature family `last_year`: purchases in the same weeks a year earlier",
    ),
    (
        "last_year_weeks_after",
        "feature family `last_year`: purchases in the weeks after this date a year earlier",
    ),
    (
        "client_a_year_ago",
        "feature family `last_year`: whether the client was already a client a year earlier",
    ),
    (
        "lapsed_last_year",
        "feature family `last_year`: whether the client stopped buying after this date a year earlier",
    ),
    (
        "overdue",
        "feature family `gap_recency`: days since the last purchase against the usual gap",
    ),
    (
        "longest_wait",
        "feature family `gap_recency`: days since the last purchase against the longest gap",
    ),
    (
        "unusual_wait",
        "feature family `gap_recency`: share of the client's past gaps shorter than this wait",
    ),
];

/// The code of a feature family's column (`win_pd_30`, `dec_spend_hl90`, `ly_churned`, ...),
/// `None` for any other name.
fn family_code(feature: &str) -> Option<&'static str> {
    let windowed = |prefix: &str| {
        feature
            .strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    Some(if windowed("win_pd_") {
        "visits_in_window"
    } else if windowed("win_spend_") {
        "spend_in_window"
    } else if windowed("dec_pd_hl") {
        "fading_visits"
    } else if windowed("dec_spend_hl") {
        "fading_spend"
    } else {
        match feature {
            "ly_pd" | "ly_spend" => "last_year_same_weeks",
            "ly_next_pd" | "ly_next_spend" => "last_year_weeks_after",
            "ly_active" => "client_a_year_ago",
            "ly_churned" => "lapsed_last_year",
            "gap_ratio" => "overdue",
            "gap_over_max" => "longest_wait",
            "gap_share_shorter" => "unusual_wait",
            _ => return None,
        }
    })
}

/// The sentence of a feature family's column, `None` for any other name.
fn family_sentence(feature: &str, x: f64) -> Option<String> {
    if let Some(d) = feature.strip_prefix("win_pd_") {
        return Some(if x.round() == 0.0 {
            format!("no purchase in the last {d} days")
        } else {
            format!("bought on {} in the last {d} days", days(x))
        });
    }
    if let Some(d) = feature.strip_prefix("win_spend_") {
        return Some(if x == 0.0 {
            format!("nothing spent in the last {d} days")
        } else {
            format!("spent {} in the last {d} days", money(x))
        });
    }
    if let Some(h) = feature.strip_prefix("dec_pd_hl") {
        return Some(format!(
            "{} recent purchase days (each counting half as much every {h} days back)",
            decimal(x)
        ));
    }
    if let Some(h) = feature.strip_prefix("dec_spend_hl") {
        return Some(format!(
            "{} of recent spend (each purchase counting half as much every {h} days back)",
            money(x)
        ));
    }
    Some(match feature {
        "ly_pd" | "ly_spend" if x == 0.0 => "nothing bought in the same weeks last year".into(),
        "ly_next_pd" | "ly_next_spend" if x == 0.0 => {
            "nothing bought in the weeks after this date last year".into()
        }
        "ly_pd" => format!("bought on {} in the same weeks last year", days(x)),
        "ly_spend" => format!("spent {} in the same weeks last year", money(x)),
        "ly_next_pd" => format!(
            "bought on {} in the weeks after this date last year",
            days(x)
        ),
        "ly_next_spend" => format!("spent {} in the weeks after this date last year", money(x)),
        "ly_active" if x >= 0.5 => "already a client a year ago".to_string(),
        "ly_active" => "not yet a client a year ago".to_string(),
        "ly_churned" if x >= 0.5 => "stopped buying after this date last year".to_string(),
        "ly_churned" => "did not stop buying after this date last year".to_string(),
        "gap_ratio" => format!(
            "waiting {} times the usual gap between purchases",
            decimal(x)
        ),
        "gap_over_max" if x > 0.0 => {
            format!("{} past the longest gap between purchases so far", days(x))
        }
        "gap_over_max" => format!(
            "{} short of the longest gap between purchases so far",
            days(-x)
        ),
        "gap_share_shorter" => format!(
            "already waiting longer than {} of the client's past gaps",
            percent(x)
        ),
        _ => return None,
    })
}

/// The code of each feature [`describe`] words, in [`crate::FEATURES`] order, then the customer-base
/// columns.
const CODES: &[(&str, &str)] = &[
    ("days_since_last", "long_silence"),
    ("recency_lt", "active_span"),
    ("frequency", "purchase_count"),
    ("T", "client_age"),
    ("monetary", "low_repeat_value"),
    ("total_revenue", "low_total_spend"),
    ("net_revenue", "low_net_spend"),
    ("n_invoices", "few_orders"),
    ("distinct_products", "narrow_range"),
    ("total_quantity", "few_items"),
    ("avg_basket_size", "small_baskets"),
    ("avg_invoice_value", "low_order_value"),
    ("avg_unit_price", "unit_price_level"),
    ("mean_interval", "long_gaps"),
    ("std_interval", "irregular_rhythm"),
    ("single_purchase", "one_off_buyer"),
    ("rev_last_30", "no_recent_spend"),
    ("rev_last_90", "low_recent_spend"),
    ("rev_prev_90", "spend_dropped"),
    ("trend_90", "spend_falling"),
    ("n_purchase_days_last_90", "few_recent_visits"),
    ("return_count", "frequent_returns"),
    ("return_value_share", "high_returns"),
    ("country_freq", "country_share"),
    ("country_top1", "main_country"),
    ("country_top2", "second_country"),
    ("country_top3", "third_country"),
    ("preferred_weekday", "weekday_habit"),
    ("preferred_hour", "hour_habit"),
    ("bgnbd_p_no_purchase", "likely_inactive"),
    ("bgnbd_expected_purchases", "few_expected_purchases"),
    ("bgnbd_gg_clv", "low_expected_value"),
    ("mbgnbd_p_no_purchase", "likely_inactive_mbgnbd"),
    ("mbgnbd_p_alive", "may_have_left"),
];

/// The reason for `feature`, worded from the client's raw (unstandardised) feature values; `value(name)` returns
/// the client's value of any feature in `FEATURES` (and of the customer-base columns `bgnbd_p_no_purchase`,
/// `bgnbd_expected_purchases`, `bgnbd_gg_clv` when present), `None` if absent.
///
/// Values that are not finite count as absent. For a feature this module does not know,
/// the code is the feature's name and the text "<feature> is <value>".
pub fn describe(feature: &str, value: &dyn Fn(&str) -> Option<f64>) -> Reason {
    let v = |name: &str| value(name).filter(|x| x.is_finite());
    if let Some(code) = family_code(feature) {
        let text = v(feature)
            .and_then(|x| family_sentence(feature, x))
            .unwrap_or_else(|| format!("{} unknown", label(feature)));
        return Reason { code, text };
    }
    let Some(code) = CODES.iter().find(|(f, _)| *f == feature).map(|(_, c)| *c) else {
        let text = match v(feature) {
            Some(x) => format!("{feature} is {}", number(x)),
            None => format!("{feature} is unknown"),
        };
        return Reason {
            code: intern(feature),
            text,
        };
    };
    let text = sentence(feature, &v).unwrap_or_else(|| format!("{} unknown", label(feature)));
    Reason { code, text }
}

/// The sentence for a known feature, `None` when its own value is absent.
fn sentence(feature: &str, v: &dyn Fn(&str) -> Option<f64>) -> Option<String> {
    let x = v(feature)?;
    let text = match feature {
        "days_since_last" => {
            let usual = v("mean_interval").filter(|&m| m > 0.0);
            let repeat = v("frequency").is_some_and(|f| f >= 1.0);
            match (x.round() as i64, usual) {
                (0, _) => "last purchase on the scoring date".to_string(),
                (_, Some(m)) if repeat => {
                    format!("no purchase for {}, usually every {}", days(x), int(m))
                }
                _ => format!("no purchase for {}", days(x)),
            }
        }
        "recency_lt" => {
            if x.round() <= 0.0 {
                "every purchase on a single day".to_string()
            } else {
                format!("bought over a span of {} only", days(x))
            }
        }
        "frequency" | "single_purchase" => {
            let repeats = if feature == "frequency" {
                x
            } else {
                v("frequency").unwrap_or(if x >= 0.5 { 0.0 } else { 1.0 })
            };
            let ago = v("days_since_last").or_else(|| v("T"));
            if repeats.round() <= 0.0 {
                match ago {
                    Some(d) => format!("one purchase only, {} ago", days(d)),
                    None => "one purchase only".to_string(),
                }
            } else {
                let n = repeats.round() + 1.0;
                match v("T") {
                    Some(t) => format!("bought on {} days in {}", int(n), days(t)),
                    None => format!("bought on {} days", int(n)),
                }
            }
        }
        "T" => format!("first purchase {} ago", days(x)),
        "monetary" => {
            if v("frequency").is_some_and(|f| f.round() <= 0.0) || x == 0.0 {
                "no repeat purchase yet".to_string()
            } else {
                format!("repeat purchases worth {} on average", money(x))
            }
        }
        "total_revenue" => format!("spent {} in total", money(x)),
        "net_revenue" => {
            if x < 0.0 {
                format!("returned {} more than they bought", money(-x))
            } else {
                format!("spent {} in total after returns", money(x))
            }
        }
        "n_invoices" => count(x, "order", "orders", "in total"),
        "distinct_products" => count(x, "different product", "different products", "bought"),
        "total_quantity" => count(x, "item", "items", "bought in total"),
        "avg_basket_size" => format!("{} items per order on average", int(x)),
        "avg_invoice_value" => format!("orders worth {} on average", money(x)),
        "avg_unit_price" => format!("paid {} per item on average", money(x)),
        "mean_interval" => {
            if x <= 0.0 {
                "no repeat purchase yet".to_string()
            } else {
                format!("usually {} between purchases", days(x))
            }
        }
        "std_interval" => match v("mean_interval").filter(|&m| m > 0.0) {
            Some(m) if x > 0.0 => format!(
                "irregular buyer: gaps between purchases vary by about {} around {}",
                days(x),
                days(m)
            ),
            _ => "too few purchases to show a rhythm".to_string(),
        },
        "rev_last_30" => {
            if x <= 0.0 {
                "nothing bought in the last 30 days".to_string()
            } else {
                format!("spent {} in the last 30 days", money(x))
            }
        }
        "rev_last_90" | "rev_prev_90" | "trend_90" => spend_change(v),
        "n_purchase_days_last_90" => {
            if x.round() <= 0.0 {
                "no purchase in the last 90 days".to_string()
            } else {
                format!("bought on {} in the last 90", plural(x, "day", "days"))
            }
        }
        "return_count" => {
            if x.round() <= 0.0 {
                "no returns".to_string()
            } else {
                format!("returned goods from {}", plural(x, "order", "orders"))
            }
        }
        "return_value_share" => {
            if x <= 0.0 {
                "returned nothing of what they bought".to_string()
            } else {
                format!("returned {} of what they bought", percent(x))
            }
        }
        "country_freq" => format!("based in a country with {} of the clients", percent(x)),
        "country_top1" | "country_top2" | "country_top3" => {
            let rank = match feature {
                "country_top1" => "most common",
                "country_top2" => "second most common",
                _ => "third most common",
            };
            if x >= 0.5 {
                format!("based in the {rank} country of the client base")
            } else {
                format!("not based in the {rank} country of the client base")
            }
        }
        "preferred_weekday" => {
            const DAYS: [&str; 7] = [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ];
            let d = x.round();
            if (0.0..7.0).contains(&d) {
                format!("usually orders on a {}", DAYS[d as usize])
            } else {
                format!("usually orders on weekday {}", int(x))
            }
        }
        "preferred_hour" => {
            let h = x.round();
            if (0.0..24.0).contains(&h) {
                format!("usually orders around {:02}:00", h as i64)
            } else {
                format!("usually orders at hour {}", int(x))
            }
        }
        "bgnbd_p_no_purchase" => format!(
            "the customer-base model gives a {} chance of no purchase in the horizon",
            percent(x)
        ),
        "bgnbd_expected_purchases" => format!(
            "the customer-base model expects {} purchases in the horizon",
            decimal(x)
        ),
        "bgnbd_gg_clv" => format!(
            "the customer-base model expects {} of value in the horizon",
            money(x)
        ),
        "mbgnbd_p_no_purchase" => format!(
            "the MBG/NBD model gives a {} chance of no purchase in the horizon",
            percent(x)
        ),
        "mbgnbd_p_alive" => format!(
            "the MBG/NBD model gives a {} chance the client is still active",
            percent(x)
        ),
        _ => return None,
    };
    Some(text)
}

/// The last 90 days' spend against the 90 before, in words.
fn spend_change(v: &dyn Fn(&str) -> Option<f64>) -> String {
    let (last, prev) = (v("rev_last_90"), v("rev_prev_90"));
    match (last, prev) {
        (Some(l), Some(p)) if l <= 0.0 && p <= 0.0 => {
            "nothing bought in the last 180 days".to_string()
        }
        (Some(l), Some(p)) if l <= 0.0 => {
            format!("nothing in the last 90 days, {} in the 90 before", money(p))
        }
        (Some(l), Some(p)) if p <= 0.0 => {
            format!(
                "spent {} in the last 90 days, nothing in the 90 before",
                money(l)
            )
        }
        (Some(l), Some(p)) => {
            let change = (l - p) / p;
            if change.abs() < 0.005 {
                format!(
                    "spent about the same in the last 90 days as in the 90 before ({})",
                    money(l)
                )
            } else if change < 0.0 {
                // Some spend is never "100% less".
                format!(
                    "spent {} less in the last 90 days than in the 90 before",
                    percent((-change).min(0.99))
                )
            } else {
                format!(
                    "spent {} more in the last 90 days than in the 90 before",
                    percent(change)
                )
            }
        }
        (Some(l), None) => format!("spent {} in the last 90 days", money(l)),
        (None, Some(p)) => format!("spent {} in the 90 days before the last 90", money(p)),
        (None, None) => match v("trend_90") {
            Some(t) if t < 0.0 => "spend is falling over the last 180 days".to_string(),
            Some(t) if t > 0.0 => "spend is rising over the last 180 days".to_string(),
            _ => "spend is flat over the last 180 days".to_string(),
        },
    }
}

/// A feature name as words ("days since last").
fn label(feature: &str) -> String {
    feature.replace('_', " ")
}

/// `n` and a noun: "1 order", "3 orders", then `tail` ("3 orders in total").
fn count(x: f64, one: &str, many: &str, tail: &str) -> String {
    format!("{} {tail}", plural(x, one, many))
}

/// "1 day", "143 days".
fn days(x: f64) -> String {
    plural(x, "day", "days")
}

/// A rounded count with its noun in the right number.
fn plural(x: f64, one: &str, many: &str) -> String {
    let n = x.round();
    format!("{} {}", int(n), if n == 1.0 { one } else { many })
}

/// A whole number with thousands separators: "1,234,567", "-12".
fn int(x: f64) -> String {
    let n = x.round();
    // (a whole number below 2^53 prints the same digits as an integer, without the float
    // formatting's exact-digits path)
    let digits = if n.abs() < 9_007_199_254_740_992.0 {
        (n.abs() as u64).to_string()
    } else {
        format!("{:.0}", n.abs())
    };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0.0 { format!("-{out}") } else { out }
}

/// Money: whole units with thousands separators from 100 on ("1,234"), cents below
/// ("12.50"), no currency symbol.
fn money(x: f64) -> String {
    if x.abs() >= 99.995 {
        int(x)
    } else {
        format!("{x:.2}").replace("-0.00", "0.00")
    }
}

/// A share as a rounded percentage: 0.347 -> "35%".
fn percent(share: f64) -> String {
    format!("{}%", int(share * 100.0))
}

/// One decimal: "0.4", "12.0".
fn decimal(x: f64) -> String {
    let s = format!("{x:.1}");
    if s == "-0.0" { "0.0".to_string() } else { s }
}

/// Any value as a sentence writes it: whole numbers without decimals, others with two.
fn number(x: f64) -> String {
    if x == x.round() {
        int(x)
    } else {
        format!("{x:.2}")
    }
}

/// A `&'static str` for an unknown feature's name, leaked once per distinct name (feature
/// lists are small and fixed).
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(&s) = names.get(name) {
        return s;
    }
    let s: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(s);
    s
}

/// The code of a feature `describe` words.
#[cfg(test)]
fn code_of(feature: &str) -> Option<&'static str> {
    family_code(feature).or_else(|| CODES.iter().find(|(f, _)| *f == feature).map(|(_, c)| *c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_print_as_the_float_formatting_would() {
        // the reference: the formatting `int` used before its integer path
        let reference = |x: f64| {
            let n = x.round();
            let digits = format!("{:.0}", n.abs());
            let mut out = String::new();
            for (i, ch) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(ch);
            }
            if n < 0.0 { format!("-{out}") } else { out }
        };
        let p53 = 9_007_199_254_740_992.0;
        for x in [
            0.0,
            -0.0,
            0.4,
            -0.4,
            0.5,
            -0.5,
            1.0,
            12.5,
            999.5,
            1234.4,
            -1234567.6,
            1e15,
            p53 - 1.0,
            p53,
            p53 + 2.0,
            -p53,
            1e19,
            1.8446744073709552e19,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NAN,
        ] {
            assert_eq!(int(x), reference(x), "{x}");
        }
    }
    use crate::FEATURES;
    use std::collections::HashMap;

    /// A client's values, by feature name.
    type Values<'a> = &'a dyn Fn(&str) -> Option<f64>;

    fn client(values: &[(&str, f64)]) -> impl Fn(&str) -> Option<f64> {
        let m: HashMap<String, f64> = values.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        move |name: &str| m.get(name).copied()
    }

    fn text(feature: &str, c: &dyn Fn(&str) -> Option<f64>) -> String {
        describe(feature, c).text
    }

    #[test]
    fn hand_checked_sentences() {
        // A regular buyer gone quiet.
        let a = client(&[
            ("days_since_last", 143.0),
            ("frequency", 7.0),
            ("T", 290.0),
            ("mean_interval", 21.2),
            ("std_interval", 9.6),
            ("rev_last_90", 400.0),
            ("rev_prev_90", 1000.0),
            ("trend_90", -0.4286),
            ("return_value_share", 0.347),
            ("total_revenue", 12_345.678),
            ("net_revenue", -250.0),
            ("avg_unit_price", 2.349),
            ("preferred_weekday", 1.0),
            ("preferred_hour", 9.0),
            ("n_purchase_days_last_90", 1.0),
            ("bgnbd_p_no_purchase", 0.724),
            ("bgnbd_expected_purchases", 0.42),
        ]);
        let r = describe("days_since_last", &a);
        assert_eq!(r.code, "long_silence");
        assert_eq!(r.text, "no purchase for 143 days, usually every 21");
        assert_eq!(
            text("rev_last_90", &a),
            "spent 60% less in the last 90 days than in the 90 before"
        );
        assert_eq!(text("trend_90", &a), text("rev_last_90", &a));
        assert_eq!(describe("trend_90", &a).code, "spend_falling");
        assert_eq!(
            text("return_value_share", &a),
            "returned 35% of what they bought"
        );
        assert_eq!(text("frequency", &a), "bought on 8 days in 290 days");
        assert_eq!(text("total_revenue", &a), "spent 12,346 in total");
        assert_eq!(
            text("net_revenue", &a),
            "returned 250 more than they bought"
        );
        assert_eq!(text("avg_unit_price", &a), "paid 2.35 per item on average");
        assert_eq!(text("preferred_weekday", &a), "usually orders on a Tuesday");
        assert_eq!(text("preferred_hour", &a), "usually orders around 09:00");
        assert_eq!(
            text("n_purchase_days_last_90", &a),
            "bought on 1 day in the last 90"
        );
        assert_eq!(
            text("std_interval", &a),
            "irregular buyer: gaps between purchases vary by about 10 days around 21 days"
        );
        assert_eq!(
            text("bgnbd_p_no_purchase", &a),
            "the customer-base model gives a 72% chance of no purchase in the horizon"
        );
        assert_eq!(
            text("bgnbd_expected_purchases", &a),
            "the customer-base model expects 0.4 purchases in the horizon"
        );
        // A one-off buyer: nothing lately.
        let b = client(&[
            ("days_since_last", 40.0),
            ("frequency", 0.0),
            ("T", 40.0),
            ("single_purchase", 1.0),
            ("mean_interval", 0.0),
            ("rev_last_90", 0.0),
            ("rev_prev_90", 1_234_567.0),
            ("monetary", 0.0),
        ]);
        assert_eq!(
            text("single_purchase", &b),
            "one purchase only, 40 days ago"
        );
        assert_eq!(text("frequency", &b), "one purchase only, 40 days ago");
        assert_eq!(text("days_since_last", &b), "no purchase for 40 days");
        assert_eq!(
            text("rev_last_90", &b),
            "nothing in the last 90 days, 1,234,567 in the 90 before"
        );
        assert_eq!(text("monetary", &b), "no repeat purchase yet");
        assert_eq!(text("T", &b), "first purchase 40 days ago");
        assert_eq!(describe("T", &b).code, "client_age");
        // Unknown features.
        let r = describe("loyalty_points", &client(&[("loyalty_points", 1500.0)]));
        assert_eq!(
            (r.code, r.text.as_str()),
            ("loyalty_points", "loyalty_points is 1,500")
        );
        let r = describe("tier", &client(&[("tier", 2.5)]));
        assert_eq!((r.code, r.text.as_str()), ("tier", "tier is 2.50"));
        assert_eq!(describe("tier", &client(&[])).text, "tier is unknown");
    }

    #[test]
    fn every_feature_has_a_listed_code_of_its_own() {
        let listed: HashSet<&str> = REASON_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(listed.len(), REASON_CODES.len(), "duplicate codes");
        let zero = client(&[]);
        let mut seen = HashSet::new();
        for f in FEATURES.iter().chain(&[
            "bgnbd_p_no_purchase",
            "bgnbd_expected_purchases",
            "bgnbd_gg_clv",
            "mbgnbd_p_no_purchase",
            "mbgnbd_p_alive",
        ]) {
            let code = code_of(f).unwrap_or_else(|| panic!("{f} has no code"));
            assert_ne!(code, *f, "{f}: generic code");
            assert!(listed.contains(code), "{code} not in REASON_CODES");
            assert!(seen.insert(code), "{code} used twice");
            assert_eq!(describe(f, &zero).code, code);
        }
        // The feature families' columns: a listed code each (shared within a family), and a
        // sentence from the value, never the generic "<name> is <value>".
        for f in crate::family_columns(&crate::FeatureFamilies::all()) {
            let code = code_of(&f).unwrap_or_else(|| panic!("{f} has no code"));
            assert!(listed.contains(code), "{code} not in REASON_CODES");
            seen.insert(code);
            for x in [0.0, 1.0, 3.0, -2.0, 0.25] {
                let r = describe(&f, &client(&[(f.as_str(), x)]));
                assert_eq!(r.code, code);
                assert!(!r.text.contains(f.as_str()), "{f}: {}", r.text);
                assert!(
                    !r.text.contains("NaN") && !r.text.contains("inf"),
                    "{}",
                    r.text
                );
            }
        }
        // Every listed code is some feature's.
        assert_eq!(seen.len(), listed.len());
    }

    #[test]
    fn edge_values_never_print_nan_or_inf() {
        let names: Vec<&str> = FEATURES
            .iter()
            .copied()
            .chain([
                "bgnbd_p_no_purchase",
                "bgnbd_expected_purchases",
                "bgnbd_gg_clv",
                "mbgnbd_p_no_purchase",
                "mbgnbd_p_alive",
            ])
            .collect();
        for edge in [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -1234.5,
            -0.004,
            1e300,
        ] {
            // Every value at the edge, and the edge in one feature with ordinary others.
            let all: Vec<(&str, f64)> = names.iter().map(|n| (*n, edge)).collect();
            let all = client(&all);
            for f in &names {
                let mixed: Vec<(&str, f64)> = names
                    .iter()
                    .map(|n| (*n, if n == f { edge } else { 3.0 }))
                    .collect();
                let mixed = client(&mixed);
                let cs: [Values<'_>; 2] = [&all, &mixed];
                for c in cs {
                    let t = describe(f, c).text;
                    let lower = t.to_lowercase();
                    assert!(
                        !lower.contains("nan") && !lower.contains("inf") && !t.is_empty(),
                        "{f} at {edge}: {t}"
                    );
                }
            }
        }
        assert_eq!(
            text("net_revenue", &client(&[("net_revenue", -1234.5)])),
            "returned 1,235 more than they bought"
        );
        assert_eq!(
            text(
                "rev_last_90",
                &client(&[("rev_last_90", -20.0), ("rev_prev_90", 0.0)])
            ),
            "nothing bought in the last 180 days"
        );
    }
}
