//! The scale test's replicated line table (BENCHMARK.md section 8): the clean table copied
//! `factor` times, each copy a new set of clients whose histories are shifted in time.

use std::collections::HashMap;

use polars::prelude::*;

use crate::cols::*;

/// SplitMix64's output function (Steele, Lea & Flood 2014), all arithmetic wrapping at 64 bits:
/// `z = x + 0x9E3779B97F4A7C15; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
/// z = (z ^ z>>27) * 0x94D049BB133111EB; z ^ z>>31`.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Integer codes of a text column: the rank of each value among the sorted distinct values
/// (pandas' `factorize(sort=True)`); nulls stay null.
fn codes(s: &Column) -> PolarsResult<Vec<Option<i64>>> {
    let ca = s.str()?;
    let mut distinct: Vec<&str> = ca.iter().flatten().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let index: HashMap<&str, i64> = distinct
        .iter()
        .enumerate()
        .map(|(i, v)| (*v, i as i64))
        .collect();
    Ok(ca.iter().map(|v| v.map(|v| index[v])).collect())
}

/// `factor` copies of `col` end to end, in one chunk.
fn repeated(col: &Column, factor: u32) -> PolarsResult<Column> {
    let s = col.as_materialized_series();
    let mut out = s.clone();
    for _ in 1..factor {
        out.append(s)?;
    }
    Ok(out.rechunk().into())
}

/// Replicates a clean line table in the canonical columns ([`crate::cols`]) `factor` times, as
/// the benchmark's scale test does (BENCHMARK.md section 8). Replica 0 is the original; replica
/// `k >= 1` has:
///
/// - `client_id' = client_id + k * 1,000,000` (client ids must be below 1,000,000);
/// - `invoice' = code + k * (max code + 1)`, where `code` is the invoice's rank among the
///   sorted distinct invoices;
/// - every line of a client shifted by the same whole number of days
///   `d = lo + splitmix64(k * 2^32 + client_id) mod (hi - lo + 1)`, with
///   `lo = dmin - first_day(client)` and `hi = dmax - last_day(client)` ([`splitmix64`]), so the
///   shifted history stays within the data's first and last days `[dmin, dmax]`.
///
/// `invoice` and `product` come back as `Int64` codes (ranks among the sorted distinct values,
/// the reference's `factorize(sort=True)`); the features only group and count them. The other
/// columns are copied as they are. Rows come replica by replica, each in the input's order.
pub fn replicate(lines: &DataFrame, factor: u32) -> PolarsResult<DataFrame> {
    if factor == 0 {
        polars_bail!(ComputeError: "replication factor 0: at least 1 is needed");
    }
    let n = lines.height();
    let total = n * factor as usize;
    let client: Vec<i64> = lines
        .column(CLIENT)?
        .i64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let day: Vec<i32> = lines
        .column(DAY)?
        .i32()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    if let Some(c) = client.iter().find(|&&c| !(0..1_000_000).contains(&c)) {
        polars_bail!(ComputeError: "client id {c} is outside 0..1,000,000: replicas would collide");
    }
    let invoice = codes(lines.column(INVOICE)?)?;
    let product = codes(&lines.column(PRODUCT)?.cast(&DataType::String)?)?;
    let n_invoices = invoice.iter().flatten().max().map_or(0, |m| m + 1);
    let (dmin, dmax) = (
        day.iter().copied().min().unwrap_or(0),
        day.iter().copied().max().unwrap_or(0),
    );
    let mut span: HashMap<i64, (i32, i32)> = HashMap::new();
    for (&c, &d) in client.iter().zip(&day) {
        let e = span.entry(c).or_insert((d, d));
        e.0 = e.0.min(d);
        e.1 = e.1.max(d);
    }

    let mut out_client = Vec::with_capacity(total);
    let mut out_day = Vec::with_capacity(total);
    let mut out_invoice = Vec::with_capacity(total);
    let mut out_product = Vec::with_capacity(total);
    let mut shift: HashMap<i64, i64> = HashMap::with_capacity(span.len());
    for k in 0..u64::from(factor) {
        shift.clear();
        for (&c, &(first, last)) in &span {
            let lo = i64::from(dmin - first);
            let hi = i64::from(dmax - last);
            let d = if k == 0 {
                0
            } else {
                let h = splitmix64((k << 32).wrapping_add(c as u64));
                lo + (h % (hi - lo + 1) as u64) as i64
            };
            shift.insert(c, d);
        }
        let ki = k as i64;
        for i in 0..n {
            let c = client[i];
            out_client.push(c + ki * 1_000_000);
            out_day.push((i64::from(day[i]) + shift[&c]) as i32);
            out_invoice.push(invoice[i].map(|v| v + ki * n_invoices));
            out_product.push(product[i]);
        }
    }
    let columns = lines
        .columns()
        .iter()
        .map(|c| {
            Ok(match c.name().as_str() {
                CLIENT => Column::new(CLIENT.into(), std::mem::take(&mut out_client)),
                DAY => Column::new(DAY.into(), std::mem::take(&mut out_day)),
                INVOICE => Column::new(INVOICE.into(), std::mem::take(&mut out_invoice)),
                PRODUCT => Column::new(PRODUCT.into(), std::mem::take(&mut out_product)),
                _ => repeated(c, factor)?,
            })
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(total, columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_known_values() {
        // the first outputs of the SplitMix64 generator seeded with 0 (state += golden gamma)
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    fn tiny() -> DataFrame {
        df![
            CLIENT => [1_i64, 1, 2, 2, 3],
            DAY => [10_i32, 15, 12, 20, 11],
            HOUR => [Some(9_i8), Some(10), None, Some(11), Some(12)],
            AMOUNT => [5.0, 6.0, -1.0, 2.5, 3.0],
            QUANTITY => [1.0, 2.0, -1.0, 1.0, 3.0],
            INVOICE => ["b", "c", "Ca", "d", "a"],
            PRODUCT => [Some("x"), Some("y"), Some("x"), None, Some("y")],
            CATEGORY => ["UK", "UK", "FR", "FR", "DE"],
            IS_RETURN => [false, false, true, false, false],
        ]
        .unwrap()
    }

    #[test]
    fn replicas_are_shifted_within_the_data_range() {
        let base = tiny();
        let r = replicate(&base, 3).unwrap();
        assert_eq!(r.height(), 15);
        assert_eq!(r.get_column_names(), base.get_column_names());
        let i64s = |c: &str| -> Vec<i64> {
            r.column(c)
                .unwrap()
                .cast(&DataType::Int64)
                .unwrap()
                .i64()
                .unwrap()
                .iter()
                .map(|v| v.unwrap_or(-1))
                .collect()
        };
        let (client, day, inv) = (i64s(CLIENT), i64s(DAY), i64s(INVOICE));
        assert_eq!(&client[..5], &[1, 1, 2, 2, 3]);
        assert_eq!(
            &client[10..],
            &[2_000_001, 2_000_001, 2_000_002, 2_000_002, 2_000_003]
        );
        assert_eq!(
            &day[..5],
            &[10, 15, 12, 20, 11],
            "replica 0 is the original"
        );
        // invoices: codes of the sorted text (Ca < a < b < c < d), offset by 5 per replica
        assert_eq!(&inv[..5], &[2, 3, 0, 4, 1]);
        assert_eq!(&inv[5..10], &[7, 8, 5, 9, 6]);
        for k in 0..3 {
            let rows = k * 5..(k + 1) * 5;
            let d: Vec<i64> = day[rows].to_vec();
            assert!(d.iter().all(|v| (10..=20).contains(v)), "{d:?}");
            // one shift per client: the gaps between a client's lines are kept
            assert_eq!(d[1] - d[0], 5);
            assert_eq!(d[3] - d[2], 8);
        }
        // the shifts follow the formula
        let h = splitmix64((1_u64 << 32) + 1);
        assert_eq!(day[5], 10 + (h % 6) as i64, "lo = 0, hi = 20 - 15 = 5");
        // the other columns are copied
        let amount = r.column(AMOUNT).unwrap().f64().unwrap();
        assert_eq!(amount.get(12), Some(-1.0));
        assert_eq!(r.column(HOUR).unwrap().null_count(), 3);
        assert_eq!(r.column(PRODUCT).unwrap().null_count(), 3);
        assert!(replicate(&base, 0).is_err());
    }
}
