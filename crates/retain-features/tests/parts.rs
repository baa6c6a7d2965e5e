//! Reading and condensing an input part by part (`retain_data::PartReader`,
//! `retain_features::Condenser`) gives the history one read of every line gives, bit for bit:
//! on Online Retail II written as hive folders by client hash (parts whose clients are not in
//! ascending order) and as one file of two replicas (parts of one row group each), at parts
//! smaller than a file; and an input whose parts split a client is refused as not clustered.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use retain_core::{Cutoff, Horizon};
use retain_data::{Layout, PartError, PartReader, read_transactions, write_replicated};
use retain_features::{Condenser, FeatureFamilies, History, PartFeatures};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

const ORII: &str = "online_retail_ii/online_retail_II_2009-2011_dedup.csv.gz";

/// The history of `input` read in parts of about `part_lines` lines, and the parts' count.
fn in_parts(input: &Path, part_lines: u64) -> (History, usize, retain_data::LoadStats) {
    let layout = Layout::online_retail_ii();
    let mut reader = PartReader::open(input, &layout, None, part_lines).unwrap();
    let parts = reader.parts();
    let mut c = Condenser::new();
    while let Some(part) = reader.next_part() {
        c.push(&part.unwrap()).unwrap();
    }
    let (stats, ids) = reader.finish().unwrap();
    (c.finish(ids).unwrap(), parts, stats)
}

/// Every feature (the 29 and every family) and label at the protocol's cutoff.
fn table(h: &History) -> DataFrame {
    let cutoff = Cutoff::new(NaiveDate::from_ymd_opt(2011, 9, 9).unwrap());
    let horizon = Horizon::new(91).unwrap();
    let countries = h.country_table(cutoff).unwrap();
    let features = h
        .features_with_families_at(cutoff, horizon, &countries, &FeatureFamilies::all())
        .collect()
        .unwrap();
    let labels = h.labels_at(cutoff, horizon).collect().unwrap();
    features
        .lazy()
        .join(
            labels.lazy(),
            [col("client_id")],
            [col("client_id")],
            JoinArgs::new(JoinType::Left),
        )
        .sort(["client_id"], SortMultipleOptions::default())
        .collect()
        .unwrap()
}

/// The same columns with the same values, floats compared by their bits.
fn assert_same_bits(a: &DataFrame, b: &DataFrame, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shape");
    assert_eq!(
        a.get_column_names(),
        b.get_column_names(),
        "{what}: columns"
    );
    for (x, y) in a.columns().iter().zip(b.columns()) {
        let name = x.name();
        match x.dtype() {
            DataType::Float64 => {
                let (x, y) = (x.f64().unwrap(), y.f64().unwrap());
                let differ = x
                    .iter()
                    .zip(y.iter())
                    .position(|(p, q)| p.map(f64::to_bits) != q.map(f64::to_bits));
                assert_eq!(differ, None, "{what}: column {name} differs at that row");
            }
            _ => assert!(
                x.as_materialized_series()
                    .equals_missing(y.as_materialized_series()),
                "{what}: column {name}"
            ),
        }
    }
}

#[test]
fn parts_give_the_one_read_history_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let orii = shared(ORII);
    let whole =
        History::of(&read_transactions(&orii, &Layout::online_retail_ii()).unwrap()).unwrap();
    let expected = table(&whole);
    assert_eq!(
        expected.height(),
        5_281,
        "the protocol's population at the cutoff"
    );

    // hive folders by client hash: four files, each a part, clients not ascending
    let b = write_replicated(&orii, 1, dir.path(), Some(4)).unwrap();
    assert_eq!((b.files, b.lines, b.clients), (4, 809_490, 5_939));
    let (h, parts, stats) = in_parts(&b.path, 100_000);
    assert_eq!(parts, 4);
    assert_eq!(
        (stats.lines, stats.clients, stats.files),
        (809_490, 5_939, 4)
    );
    assert_same_bits(&table(&h), &expected, "4 buckets");

    // one file, two replicas, one row group each
    let two = write_replicated(&orii, 2, dir.path(), None).unwrap();
    let (h2, parts, stats) = in_parts(&two.path, 900_000);
    assert_eq!((parts, stats.lines, stats.clients), (2, 1_618_980, 11_878));
    let whole2 =
        History::of(&read_transactions(&two.path, &Layout::online_retail_ii()).unwrap()).unwrap();
    assert_same_bits(&table(&h2), &table(&whole2), "2 replicas");
}

/// The features at `cutoff` of `input` read in parts of about `part_lines` lines, computed
/// part by part ([`PartFeatures`]), with the cutoff known before the reading or not.
fn features_in_parts(
    input: &Path,
    part_lines: u64,
    cutoff: Cutoff,
    known: bool,
    families: Option<(FeatureFamilies, Horizon)>,
) -> (DataFrame, retain_features::CountryTable) {
    let mut reader =
        PartReader::open(input, &Layout::online_retail_ii(), None, part_lines).unwrap();
    let mut f = PartFeatures::new(known.then_some(cutoff), families);
    while let Some(part) = reader.next_part() {
        f.push(&part.unwrap()).unwrap();
    }
    f.finish(cutoff).unwrap()
}

#[test]
fn features_part_by_part_are_the_one_piece_features_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let orii = shared(ORII);
    let cutoff = Cutoff::new(NaiveDate::from_ymd_opt(2011, 9, 9).unwrap());
    let horizon = Horizon::new(91).unwrap();
    // hive folders by client hash (parts not in client order) and two replicas in one file
    let buckets = write_replicated(&orii, 1, dir.path(), Some(4)).unwrap();
    let two = write_replicated(&orii, 2, dir.path(), None).unwrap();
    for (input, part_lines) in [(&buckets.path, 100_000), (&two.path, 900_000)] {
        let whole =
            History::of(&read_transactions(input, &Layout::online_retail_ii()).unwrap()).unwrap();
        let countries = whole.country_table(cutoff).unwrap();
        let plain = whole.features_at(cutoff, &countries).collect().unwrap();
        let all = whole
            .features_with_families_at(cutoff, horizon, &countries, &FeatureFamilies::all())
            .collect()
            .unwrap();
        assert!(plain.height() > 5_000);
        for known in [true, false] {
            let what = format!("{} known={known}", input.display());
            let (f, c) = features_in_parts(input, part_lines, cutoff, known, None);
            assert_same_bits(&f, &plain, &what);
            assert_eq!(c.top(), countries.top(), "{what}");
            assert!(c.shares().equals(countries.shares()), "{what}");
            let (f, _) = features_in_parts(
                input,
                part_lines,
                cutoff,
                known,
                Some((FeatureFamilies::all(), horizon)),
            );
            assert_same_bits(&f, &all, &format!("{what}, every family"));
        }
    }
    // the countries matter: the clients of one country are not the clients of the others
    let (f, _) = features_in_parts(&two.path, 900_000, cutoff, true, None);
    let freq = f.column("country_freq").unwrap().f64().unwrap();
    assert!(freq.min().unwrap() < 0.01 && freq.max().unwrap() > 0.8);
}

#[test]
fn a_client_split_between_parts_is_not_clustered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split.parquet");
    let rows = |client: i64, invoice: &str| {
        df![
            "Invoice" => [invoice],
            "StockCode" => ["85048"],
            "Quantity" => [2.0],
            "InvoiceDate" => ["2011-01-03 10:00:00"],
            "Price" => [1.5],
            "Customer ID" => [client],
            "Country" => ["France"],
        ]
        .unwrap()
    };
    let (a, b) = (rows(17, "1"), rows(17, "2"));
    let f = std::fs::File::create(&path).unwrap();
    let mut w = ParquetWriter::new(f).batched(a.schema()).unwrap();
    w.write_batch(&a).unwrap();
    w.write_batch(&rows(18, "3")).unwrap();
    w.write_batch(&b).unwrap();
    w.finish().unwrap();
    let mut reader = PartReader::open(&path, &Layout::online_retail_ii(), None, 1).unwrap();
    assert_eq!(reader.parts(), 3, "one part per row group");
    assert!(reader.next_part().unwrap().is_ok());
    assert!(reader.next_part().unwrap().is_ok());
    match reader.next_part().unwrap() {
        Err(PartError::NotClustered { client, .. }) => assert_eq!(client, 17),
        other => panic!(
            "expected NotClustered, got {:?}",
            other.map(|t| t.stats().clone())
        ),
    }
}

/// A distributed run: each worker reads its own buckets of clients (hive folders by client
/// hash, in reverse order) into [`retain_features::PartialFeatures`], sends them as one table
/// each; the tables stacked in any order and finished are the one-piece features bit for bit,
/// with the same country table. Two workers sending one client is refused.
#[test]
fn partial_features_of_workers_finish_into_the_one_piece_features() {
    use retain_features::PartialFeatures;
    let dir = tempfile::tempdir().unwrap();
    let orii = shared(ORII);
    let cutoff = Cutoff::new(NaiveDate::from_ymd_opt(2011, 9, 9).unwrap());
    let horizon = Horizon::new(91).unwrap();
    let buckets = write_replicated(&orii, 1, dir.path(), Some(4)).unwrap();
    let whole =
        History::of(&read_transactions(&buckets.path, &Layout::online_retail_ii()).unwrap())
            .unwrap();
    let countries = whole.country_table(cutoff).unwrap();
    let all = whole
        .features_with_families_at(cutoff, horizon, &countries, &FeatureFamilies::all())
        .collect()
        .unwrap();
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&buckets.path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    folders.reverse();
    assert_eq!(folders.len(), 4);
    let mut tables = Vec::new();
    for folder in &folders {
        let mut f = PartFeatures::new(Some(cutoff), Some((FeatureFamilies::all(), horizon)));
        f.push(&read_transactions(folder, &Layout::online_retail_ii()).unwrap())
            .unwrap();
        tables.push(f.partial(cutoff).unwrap().to_table().unwrap());
    }
    let mut stacked = tables[0].clone();
    for t in &tables[1..] {
        stacked.vstack_mut(t).unwrap();
    }
    let partial = PartialFeatures::from_table(stacked.clone()).unwrap();
    assert_eq!(partial.clients(), all.height());
    let (f, c) = partial.finish(false).unwrap();
    assert_same_bits(&f, &all, "partials of four workers");
    assert_eq!(c.top(), countries.top());
    assert!(c.shares().equals(countries.shares()));
    // one worker's clients sent twice
    stacked.vstack_mut(&tables[0]).unwrap();
    let err = PartialFeatures::from_table(stacked)
        .unwrap()
        .finish(false)
        .unwrap_err();
    assert!(err.to_string().contains("two parts"), "{err}");
}
