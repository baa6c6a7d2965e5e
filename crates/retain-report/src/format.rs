//! Number formats shared by the terminal tables and the HTML page, so both show the same text.

use std::time::Duration;

/// `1234567` as `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Money with two decimals and thousands separators: `1,234.50` (no currency: the input's).
pub fn money(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let cents = (v * 100.0).round() as i64;
    let sign = if cents < 0 { "-" } else { "" };
    let whole = thousands(cents.abs() / 100);
    format!("{sign}{whole}.{:02}", cents.abs() % 100)
}

/// A share as a percentage with one decimal: `0.8123` as `81.2%`; `None` as `-`.
pub fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", 100.0 * v))
        .unwrap_or_else(|| "-".into())
}

/// A number with `d` decimals; `None` as `-`.
pub fn fixed(v: Option<f64>, d: usize) -> String {
    v.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "-".into())
}

/// A duration for people: `850 ms`, `4.2 s`, `3 min 07 s`, `1 h 02 min`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        let t = s.round() as u64;
        format!("{} min {:02} s", t / 60, t % 60)
    } else {
        let m = (s / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(money(1234.5), "1,234.50");
        assert_eq!(money(-0.005), "-0.01");
        assert_eq!(money(0.0), "0.00");
        assert_eq!(percent(Some(0.81234)), "81.2%");
        assert_eq!(percent(None), "-");
        assert_eq!(fixed(Some(0.80855), 3), "0.809");
        assert_eq!(duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration(Duration::from_millis(4200)), "4.2 s");
        assert_eq!(duration(Duration::from_secs(187)), "3 min 07 s");
        assert_eq!(duration(Duration::from_secs(3720)), "1 h 02 min");
    }
}
