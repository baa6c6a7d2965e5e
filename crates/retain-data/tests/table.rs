//! Reading a table handed over in memory: the same lines as the file gives, whatever types
//! the columns arrive in, and every bad value named as a file's would be.

use std::path::Path;

use polars::prelude::*;
use retain_data::{DataError, Layout, Transactions, cols, read_table, read_transactions};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/sample/transactions.csv.gz"
);

fn same(a: &Transactions, b: &Transactions) {
    assert!(
        a.frame().equals_missing(b.frame()),
        "the line tables differ"
    );
    assert_eq!(a.stats(), b.stats());
    assert_eq!(a.lines_sha256(), b.lines_sha256());
    assert_eq!(a.ids(), b.ids());
}

/// The sample as a program would hand it over: `types` says whether the CSV reader infers
/// numbers and date-times (as pyarrow and pandas do) or keeps every column as text.
fn sample_frame(types: bool) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(if types { Some(10_000) } else { Some(0) })
        .map_parse_options(|o| o.with_try_parse_dates(types))
        .try_into_reader_with_file_path(Some(SAMPLE.into()))
        .unwrap()
        .finish()
        .unwrap()
}

#[test]
fn a_table_in_memory_reads_as_its_file() {
    let layout = Layout::online_retail_ii();
    let file = read_transactions(Path::new(SAMPLE), &layout).unwrap();
    for types in [false, true] {
        let frame = sample_frame(types);
        if types {
            assert!(matches!(
                frame.column("InvoiceDate").unwrap().dtype(),
                DataType::Datetime(..)
            ));
            assert!(frame.column("Customer ID").unwrap().dtype().is_integer());
        }
        let table = read_table(frame, "<table>", &layout, None).unwrap();
        same(&file, &table);
    }
}

#[test]
fn the_order_lines_arrive_in_does_not_matter() {
    let layout = Layout::online_retail_ii();
    let frame = sample_frame(true);
    let reversed = frame.reverse();
    let a = read_table(frame, "<table>", &layout, None).unwrap();
    let b = read_table(reversed, "<table>", &layout, None).unwrap();
    // the canonical order is total on (client, day, amount, quantity); lines tied on all four
    // may keep their arrival order, which no feature can see
    let keys = |t: &Transactions| {
        t.frame()
            .select([cols::CLIENT, cols::DAY, cols::AMOUNT, cols::QUANTITY])
            .unwrap()
    };
    assert!(keys(&a).equals_missing(&keys(&b)));
    assert_eq!(a.stats(), b.stats());
    assert_eq!(a.lines_sha256(), b.lines_sha256());
}

#[test]
fn categories_are_read_as_their_text() {
    let layout = Layout::online_retail_ii();
    let frame = sample_frame(true);
    let cat = frame
        .clone()
        .lazy()
        .with_column(col("Country").cast(DataType::from_categories(Categories::global())))
        .collect()
        .unwrap();
    assert!(matches!(
        cat.column("Country").unwrap().dtype(),
        DataType::Categorical(..)
    ));
    let a = read_table(frame, "<table>", &layout, None).unwrap();
    let b = read_table(cat, "<table>", &layout, None).unwrap();
    same(&a, &b);
}

#[test]
fn bad_tables_are_named() {
    let layout = Layout::online_retail_ii();
    let frame = sample_frame(false);
    // a missing column
    let err = read_table(frame.drop("Price").unwrap(), "<arrow>", &layout, None).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingColumn { file, column, .. } if file == Path::new("<arrow>") && column == "Price"),
        "{err}"
    );
    // no lines
    let err = read_table(frame.head(Some(0)), "<arrow>", &layout, None).unwrap_err();
    assert!(matches!(err, DataError::EmptyFile { .. }), "{err}");
    // a value that is not a number, by row
    let mut prices: Vec<Option<String>> = frame
        .column("Price")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect();
    prices[41] = Some("1,5O".into());
    let mut bad = frame.clone();
    bad.with_column(Column::new("Price".into(), prices))
        .unwrap();
    let err = read_table(bad, "<arrow>", &layout, None).unwrap_err();
    match &err {
        DataError::BadValue {
            file,
            column,
            row,
            value,
            ..
        } => {
            assert_eq!(file, Path::new("<arrow>"));
            assert_eq!(
                (column.as_str(), *row, value.as_str()),
                ("Price", 42, "1,5O")
            );
        }
        e => panic!("expected a bad value, got {e}"),
    }
    // a line after the as-of date
    let late = chrono::NaiveDate::from_ymd_opt(2022, 6, 1).unwrap();
    let err = read_table(frame, "<arrow>", &layout, Some(late)).unwrap_err();
    assert!(err.to_string().contains("<arrow>"), "{err}");
}
