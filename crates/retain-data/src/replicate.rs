//! The scale test's replicated line table (BENCHMARK.md section 8): the clean table copied
//! `factor` times, each copy a new set of clients whose histories are shifted in time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::cols::*;
use crate::{DataError, Layout};

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

/// The section-8 day shift of every client of every replica: built once from the lines'
/// clients and days, then asked replica by replica.
struct Shifts {
    /// Each line's client, as an index into `span`.
    index: Vec<usize>,
    /// Each client's id, first and last day, in order of first appearance.
    span: Vec<(i64, i32, i32)>,
    dmin: i32,
    dmax: i32,
}

impl Shifts {
    fn new(client: &[i64], day: &[i32]) -> Self {
        let mut at: HashMap<i64, usize> = HashMap::new();
        let mut span: Vec<(i64, i32, i32)> = Vec::new();
        let mut index = Vec::with_capacity(client.len());
        for (&c, &d) in client.iter().zip(day) {
            let i = *at.entry(c).or_insert_with(|| {
                span.push((c, d, d));
                span.len() - 1
            });
            let e = &mut span[i];
            e.1 = e.1.min(d);
            e.2 = e.2.max(d);
            index.push(i);
        }
        Self {
            index,
            span,
            dmin: day.iter().copied().min().unwrap_or(0),
            dmax: day.iter().copied().max().unwrap_or(0),
        }
    }

    /// Every client's shift in days in replica `k` (0 for replica 0), by client index.
    fn of_replica(&self, k: u64, out: &mut Vec<i64>) {
        out.clear();
        out.extend(self.span.iter().map(|&(c, first, last)| {
            let lo = i64::from(self.dmin - first);
            let hi = i64::from(self.dmax - last);
            if k == 0 {
                0
            } else {
                let h = splitmix64((k << 32).wrapping_add(c as u64));
                lo + (h % (hi - lo + 1) as u64) as i64
            }
        }));
    }
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
    let shifts = Shifts::new(&client, &day);
    let mut out_client = Vec::with_capacity(total);
    let mut out_day = Vec::with_capacity(total);
    let mut out_invoice = Vec::with_capacity(total);
    let mut out_product = Vec::with_capacity(total);
    let mut shift: Vec<i64> = Vec::new();
    for k in 0..u64::from(factor) {
        shifts.of_replica(k, &mut shift);
        let ki = k as i64;
        for i in 0..n {
            let c = client[i];
            out_client.push(c + ki * 1_000_000);
            out_day.push((i64::from(day[i]) + shift[shifts.index[i]]) as i32);
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

/// What [`write_replicated`] wrote.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReplicaFiles {
    /// The Parquet file, or the folder of client-hash buckets.
    pub path: PathBuf,
    /// Data files written.
    pub files: usize,
    /// Row groups written in all (one per replica and file).
    pub row_groups: usize,
    /// Lines written.
    pub lines: u64,
    /// Distinct clients written.
    pub clients: u64,
}

/// The file or folder [`write_replicated`] writes for `factor` into `out_dir`:
/// `orii_x{factor}.parquet`, or the folder `orii_x{factor}_b{buckets}`.
pub fn replicated_path(out_dir: &Path, factor: u32, buckets: Option<u32>) -> PathBuf {
    match buckets {
        None => out_dir.join(format!("orii_x{factor}.parquet")),
        Some(b) => out_dir.join(format!("orii_x{factor}_b{b}")),
    }
}

/// The hive folder of client `client`'s bucket among `buckets`: `client_bucket=NNN`, with
/// `NNN = splitmix64(client) mod buckets` ([`splitmix64`]).
pub fn bucket_of(client: i64, buckets: u32) -> u32 {
    (splitmix64(client as u64) % u64::from(buckets)) as u32
}

/// Writes the scale test's data set to disk (BENCHMARK.md section 8) as a data lake would hold
/// it: the Online Retail II file `input` (CSV, CSV.gz or Parquet in its own columns) cleaned
/// as section 1 does (no client id, or a purchase priced at 0 or less: dropped), then `factor`
/// replicas end to end, in the file's own columns and types (text invoices, stock codes,
/// descriptions and countries; `Customer ID` an integer; `InvoiceDate` a date-time), so
/// `retain score -i` reads it with the default layout, strings and all.
///
/// Replica 0 is the clean file. Replica `k >= 1` adds `k * 1,000,000` to the client id,
/// shifts each client's lines by the section-8 number of days (as [`replicate`]), and writes
/// invoice `I` as `I/k` (distinct across replicas; a return's `C` prefix kept).
///
/// Without `buckets`: one Parquet file with one row group per replica, so every row group
/// holds whole clients. With `buckets = Some(n)`: a folder of `n` hive partitions
/// `client_bucket=NNN/part-0.parquet` by [`bucket_of`], each with one row group per
/// replica. Written to a temporary name and renamed into place: nothing half-written.
/// Memory holds the clean file and one replica, whatever `factor`.
pub fn write_replicated(
    input: &Path,
    factor: u32,
    out_dir: &Path,
    buckets: Option<u32>,
) -> Result<ReplicaFiles, DataError> {
    if factor == 0 {
        return Err(DataError::Config(
            "--replicate 0: the factor is at least 1".into(),
        ));
    }
    if buckets == Some(0) {
        return Err(DataError::Config("--buckets 0: at least 1 bucket".into()));
    }
    let base = clean_orii(input)?;
    let err = crate::read::polars_err(input);
    let client: Vec<i64> = base
        .column("Customer ID")
        .and_then(|c| c.i64().map(|c| c.into_no_null_iter().collect()))
        .map_err(&err)?;
    let ts: Vec<i64> = base
        .column("InvoiceDate")
        .and_then(|c| {
            c.datetime()
                .map(|c| c.physical().into_no_null_iter().collect())
        })
        .map_err(&err)?;
    const MS_PER_DAY: i64 = 86_400_000;
    let day: Vec<i32> = ts.iter().map(|t| t.div_euclid(MS_PER_DAY) as i32).collect();
    if let Some(c) = client.iter().find(|&&c| !(0..1_000_000).contains(&c)) {
        return Err(DataError::NothingToUse {
            file: input.to_path_buf(),
            what: format!("client id {c} is outside 0..1,000,000: replicas would collide"),
        });
    }
    let shifts = Shifts::new(&client, &day);
    let invoices: Vec<Option<String>> = base
        .column("Invoice")
        .and_then(|c| {
            c.str()
                .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
        })
        .map_err(&err)?;
    let path = replicated_path(out_dir, factor, buckets);
    std::fs::create_dir_all(out_dir).map_err(|source| DataError::Io {
        action: "creating",
        path: out_dir.to_path_buf(),
        source,
    })?;
    let replica = |k: u32, shift: &mut Vec<i64>| -> PolarsResult<DataFrame> {
        shifts.of_replica(u64::from(k), shift);
        let ki = i64::from(k);
        let mut df = base.clone();
        let c: Vec<i64> = client.iter().map(|c| c + ki * 1_000_000).collect();
        let t: Vec<i64> = ts
            .iter()
            .zip(&shifts.index)
            .map(|(t, &i)| t + shift[i] * MS_PER_DAY)
            .collect();
        df.with_column(Column::new("Customer ID".into(), c))?;
        df.with_column(
            Column::new("InvoiceDate".into(), t)
                .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?,
        )?;
        if k > 0 {
            let inv: StringChunked = invoices
                .iter()
                .map(|v| v.as_ref().map(|v| format!("{v}/{k}")))
                .collect();
            df.with_column(inv.with_name("Invoice".into()).into_column())?;
        }
        df.rechunk_mut_par();
        Ok(df)
    };
    let schema = base.schema().as_ref().clone();
    let mut shift = Vec::new();
    let n_lines = base.height() as u64 * u64::from(factor);
    let n_clients = shifts.span.len() as u64 * u64::from(factor);
    match buckets {
        None => {
            retain_core::write_atomic(&path, |w| {
                let io = std::io::Error::other;
                let mut writer = ParquetWriter::new(w).batched(&schema).map_err(io)?;
                for k in 0..factor {
                    let df = replica(k, &mut shift).map_err(io)?;
                    writer.write_batch(&df).map_err(io)?;
                }
                writer.finish().map_err(io)?;
                Ok(())
            })?;
            Ok(ReplicaFiles {
                path,
                files: 1,
                row_groups: factor as usize,
                lines: n_lines,
                clients: n_clients,
            })
        }
        Some(n) => {
            let tmp = out_dir.join(format!(
                ".{}.tmp-{}",
                path.file_name()
                    .map(|f| f.to_string_lossy())
                    .unwrap_or_default(),
                std::process::id()
            ));
            let result = write_buckets(&tmp, n, &schema, factor, |k| replica(k, &mut shift));
            let row_groups = match result {
                Ok(r) => r,
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(e);
                }
            };
            if path.exists() {
                std::fs::remove_dir_all(&path).map_err(|source| DataError::Io {
                    action: "replacing",
                    path: path.clone(),
                    source,
                })?;
            }
            std::fs::rename(&tmp, &path).map_err(|source| DataError::Io {
                action: "renaming into place",
                path: path.clone(),
                source,
            })?;
            Ok(ReplicaFiles {
                path,
                files: n as usize,
                row_groups,
                lines: n_lines,
                clients: n_clients,
            })
        }
    }
}

/// Writes `factor` replicas into `n` hive buckets under `dir`; the row groups written.
fn write_buckets(
    dir: &Path,
    n: u32,
    schema: &Schema,
    factor: u32,
    mut replica: impl FnMut(u32) -> PolarsResult<DataFrame>,
) -> Result<usize, DataError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataError::Io {
            action: "writing",
            path: path.clone(),
            source,
        }
    };
    let pe = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DataError::Polars {
            file: path.clone(),
            source,
        }
    };
    let mut writers = Vec::with_capacity(n as usize);
    for b in 0..n {
        let folder = dir.join(format!("client_bucket={b:03}"));
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        let file = folder.join("part-0.parquet");
        let f = std::fs::File::create(&file).map_err(io(&file))?;
        let w = ParquetWriter::new(std::io::BufWriter::new(f))
            .batched(schema)
            .map_err(pe(&file))?;
        writers.push((file, w));
    }
    let mut row_groups = 0;
    for k in 0..factor {
        let df = replica(k).map_err(pe(dir))?;
        let clients = df
            .column("Customer ID")
            .and_then(|c| c.i64().cloned())
            .map_err(pe(dir))?;
        let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); n as usize];
        for (i, c) in clients.into_no_null_iter().enumerate() {
            rows[bucket_of(c, n) as usize].push(i as IdxSize);
        }
        for ((file, w), idx) in writers.iter_mut().zip(rows) {
            if idx.is_empty() {
                continue;
            }
            let mut part = df
                .take(&IdxCa::from_vec("idx".into(), idx))
                .map_err(pe(file))?;
            part.rechunk_mut_par();
            w.write_batch(&part).map_err(pe(file))?;
            row_groups += 1;
        }
    }
    for (file, w) in &writers {
        w.finish().map_err(pe(file))?;
    }
    Ok(row_groups)
}

/// The Online Retail II file cleaned as BENCHMARK.md section 1: its eight columns, `Customer
/// ID` an integer, `InvoiceDate` a date-time, `Quantity` and `Price` numbers; lines without a
/// client and purchases priced at 0 or less dropped.
fn clean_orii(input: &Path) -> Result<DataFrame, DataError> {
    let layout = Layout::online_retail_ii();
    let files = crate::source::resolve(input)?;
    let [file] = files.as_slice() else {
        return Err(DataError::Config(format!(
            "{}: --replicate reads one Online Retail II file, not {} files",
            input.display(),
            files.len()
        )));
    };
    let err = crate::read::polars_err(&file.path);
    let numeric = [
        ("Quantity", DataType::Float64),
        ("Price", DataType::Float64),
    ];
    let mut lf = crate::table::read(file, b',', &numeric, true)?;
    let schema = lf.collect_schema().map_err(&err)?;
    crate::table::check_columns(file, &schema, &layout.columns())?;
    let ts = match schema.get("InvoiceDate") {
        Some(DataType::String) => col("InvoiceDate").str().to_datetime(
            Some(TimeUnit::Milliseconds),
            None,
            StrptimeOptions {
                format: Some("%Y-%m-%d %H:%M:%S".into()),
                strict: true,
                exact: true,
                cache: true,
            },
            lit("raise"),
        ),
        _ => col("InvoiceDate").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
    };
    let cid = match schema.get("Customer ID") {
        Some(DataType::String) => col("Customer ID")
            .str()
            .strip_chars(lit(NULL))
            .cast(DataType::Float64)
            .cast(DataType::Int64),
        _ => col("Customer ID").cast(DataType::Int64),
    };
    let is_return = col("Invoice")
        .cast(DataType::String)
        .str()
        .starts_with(lit("C"))
        .or(col("Quantity").cast(DataType::Float64).lt(lit(0.0)));
    let text = |c: &str| col(c).cast(DataType::String);
    let description = if schema.get("Description").is_some() {
        text("Description")
    } else {
        lit(NULL).cast(DataType::String).alias("Description")
    };
    lf.select([
        text("Invoice"),
        text("StockCode"),
        description,
        col("Quantity").cast(DataType::Float64),
        ts.alias("InvoiceDate"),
        col("Price").cast(DataType::Float64),
        cid.alias("Customer ID"),
        text("Country"),
        is_return.alias("__return"),
    ])
    .filter(
        col("Customer ID")
            .is_not_null()
            .and(col("__return").or(col("Price").gt(lit(0.0)))),
    )
    .drop(cols(["__return"]))
    .collect()
    .map_err(err)
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
