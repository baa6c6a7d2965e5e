//! Training on frames computed in parts: a distributed run's workers each compute the
//! features (and labels) of their own clients ([`PartFeatures::with_labels`]), the parts are
//! stacked and finished with the training cutoff's country table, and `train_on` fits on them
//! exactly the models `train` fits on one machine's history, selection included.

use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;
use retain_clv::RfmKind;
use retain_core::{Artifact, Cutoff, DataSource, Horizon};
use retain_data::{Layout, Transactions, cols, read_transactions};
use retain_features::{CountryTable, FeatureFamilies, PartFeatures, PartialFeatures};
use retain_train::{
    BacktestParams, ChurnChoice, ClientFrames, HistoryFrames, Protocol, TrainError, TrainParams,
    ValueChoice, train, train_on,
};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../data/sample/transactions.csv.gz"
);

/// The lines of `tx` split into `n` workers by the client id modulo `n`, the workers in reverse
/// order (so the stacked parts are not in client order).
fn workers(tx: &Transactions, n: u64) -> Vec<Transactions> {
    (0..n)
        .rev()
        .map(|w| {
            let part = tx
                .frame()
                .clone()
                .lazy()
                .filter((col(cols::CLIENT) % lit(n as i64)).eq(lit(w as i64)))
                .collect()
                .unwrap();
            Transactions::from_frame(part, "worker", tx.layout().clone()).unwrap()
        })
        .collect()
}

/// Frames computed worker by worker, as the Spark path computes them.
struct WorkerFrames {
    workers: Vec<Transactions>,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

impl WorkerFrames {
    fn partials(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> Result<PartialFeatures, TrainError> {
        let mut parts = Vec::new();
        for w in &self.workers {
            let mut f = PartFeatures::new(Some(cutoff), Some((*families, family_horizon)));
            if let Some(h) = labels {
                f = f.with_labels(h);
            }
            f.push(w)?;
            parts.push(f.partial(cutoff)?);
        }
        Ok(PartialFeatures::stack(parts)?)
    }
}

impl ClientFrames for WorkerFrames {
    fn first_day(&self) -> Option<NaiveDate> {
        self.first
    }
    fn last_day(&self) -> Option<NaiveDate> {
        self.last
    }
    fn clients(&self) -> u64 {
        self.workers.iter().map(|w| w.stats().clients).sum()
    }
    fn country_table(&self, cutoff: Cutoff) -> Result<CountryTable, TrainError> {
        let h = Horizon::new(1).unwrap();
        Ok(self
            .partials(cutoff, None, &FeatureFamilies::none(), h)?
            .country_table()?)
    }
    fn frame_at(
        &self,
        cutoff: Cutoff,
        labels: Option<Horizon>,
        countries: &CountryTable,
        families: &FeatureFamilies,
        family_horizon: Horizon,
    ) -> Result<DataFrame, TrainError> {
        Ok(self
            .partials(cutoff, labels, families, family_horizon)?
            .finish_with(countries, false)?)
    }
}

fn setup() -> (Transactions, HistoryFrames, WorkerFrames) {
    let tx = read_transactions(Path::new(SAMPLE), &Layout::online_retail_ii()).unwrap();
    let one = HistoryFrames::of(&tx).unwrap();
    let parts = WorkerFrames {
        workers: workers(&tx, 3),
        first: tx.stats().first_day,
        last: tx.stats().last_day,
    };
    (tx, one, parts)
}

#[test]
fn frames_of_workers_equal_the_one_machine_frames_bit_for_bit() {
    let (_, one, parts) = setup();
    let c = one
        .last_day()
        .map(Cutoff::new)
        .unwrap()
        .minus(Horizon::new(91).unwrap());
    let countries = one.country_table(c).unwrap();
    let from_parts = parts.country_table(c).unwrap();
    assert!(countries.shares().equals(from_parts.shares()));
    assert_eq!(countries.top(), from_parts.top());
    let h = Horizon::new(91).unwrap();
    // a training window (features a horizon earlier, the cutoff's country table) and the
    // cutoff itself, with and without labels and families
    let early = Cutoff::new(one.first_day().unwrap()).plus(Horizon::new(120).unwrap());
    for (at, labels, families) in [
        (c.minus(h), Some(h), FeatureFamilies::all()),
        (early, Some(h), FeatureFamilies::all()),
        (c, Some(h), FeatureFamilies::none()),
        (c, None, FeatureFamilies::all()),
    ] {
        let a = one.frame_at(at, labels, &countries, &families, h).unwrap();
        let b = parts
            .frame_at(at, labels, &countries, &families, h)
            .unwrap();
        assert!(a.height() > 500, "{} clients", a.height());
        assert_eq!(a.get_column_names(), b.get_column_names());
        for (x, y) in a.columns().iter().zip(b.columns()) {
            assert_eq!(x.dtype(), y.dtype(), "{}", x.name());
            if let (Ok(x), Ok(y)) = (x.f64(), y.f64()) {
                let bits =
                    |c: &Float64Chunked| c.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
                assert_eq!(bits(x), bits(y), "column {} at {at}", x.name());
            } else {
                assert!(x.equals_missing(y), "column {} at {at}", x.name());
            }
        }
    }
}

#[test]
fn training_on_frames_of_workers_fits_the_one_machine_models() {
    let (tx, _, parts) = setup();
    let c = Cutoff::new(tx.stats().last_day.unwrap());
    let p = Protocol {
        cutoff: c,
        horizon: Horizon::new(91).unwrap(),
        train_horizon: Horizon::new(91).unwrap(),
    };
    let mut bt = BacktestParams::new(p);
    // fewer trees keep the debug-mode test short; the selection still runs every candidate
    bt.forest_trees = 30;
    bt.boosting_trees = 30;
    let params = TrainParams {
        backtest: bt,
        churn: ChurnChoice::Auto,
        value: ValueChoice::Auto,
        rfm: RfmKind::Bgnbd,
    };
    let source = DataSource::default();
    let a = train(&tx, &params, &source).unwrap();
    let b = train_on(&parts, &params, &source).unwrap();
    assert!(a.selection.is_some());
    assert_eq!(json(&a.churn), json(&b.churn));
    assert_eq!(json(&a.value), json(&b.value));
}

/// An artifact as the JSON of its card and model (they compare by what they save).
fn json<M: serde::Serialize>(a: &Artifact<M>) -> String {
    format!(
        "{}\n{}",
        serde_json::to_string(&a.card).unwrap(),
        serde_json::to_string(&a.model).unwrap()
    )
}

#[test]
fn beyond_selection_clients_the_selection_reads_a_seeded_sample_and_the_models_every_client() {
    let (tx, _, _) = setup();
    let frames = HistoryFrames::of(&tx).unwrap();
    let all = tx.stats().clients;
    let c = Cutoff::new(tx.stats().last_day.unwrap());
    let p = Protocol {
        cutoff: c,
        horizon: Horizon::new(91).unwrap(),
        train_horizon: Horizon::new(91).unwrap(),
    };
    let params = |selection_clients: u64, seed: u64| {
        let mut bt = BacktestParams::new(p);
        bt.forest_trees = 30;
        bt.boosting_trees = 30;
        bt.families = retain_train::tuning::FeatureSet::none();
        bt.validation_targets = 1;
        bt.selection_clients = selection_clients;
        bt.seed = seed;
        TrainParams {
            backtest: bt,
            churn: ChurnChoice::Auto,
            value: ValueChoice::Auto,
            rfm: RfmKind::Bgnbd,
        }
    };
    let source = DataSource::default();
    let whole = train_on(&frames, &params(0, 42), &source).unwrap();
    let at_all = train_on(&frames, &params(all, 42), &source).unwrap();
    let third = train_on(&frames, &params(all / 3, 42), &source).unwrap();
    let again = train_on(&frames, &params(all / 3, 42), &source).unwrap();
    let other_seed = train_on(&frames, &params(all / 3, 7), &source).unwrap();
    let sel = |t: &retain_train::Trained| t.selection.clone().expect("a selection");
    // up to `selection_clients` clients: every client, as with 0
    assert!(sel(&whole).sample.is_none() && sel(&at_all).sample.is_none());
    assert_eq!(json(&whole.churn), json(&at_all.churn));
    // beyond: the sample is recorded, and the candidates were judged on it alone
    let s = sel(&third).sample.expect("the sample is recorded");
    assert_eq!((s.of_clients, s.seed), (all, 42));
    assert!((s.fraction - (all / 3) as f64 / all as f64).abs() < 1e-12);
    assert!(sel(&third).describe().contains("seeded sample of 33."));
    assert_ne!(
        sel(&third).churn_by_target,
        sel(&whole).churn_by_target,
        "the sampled selection scored the candidates on every client"
    );
    assert_ne!(
        sel(&third).churn_by_target,
        sel(&other_seed).churn_by_target,
        "another seed drew the same sample"
    );
    // the same sample on every run
    assert_eq!(json(&third.churn), json(&again.churn));
    assert_eq!(json(&third.value), json(&again.value));
    // the chosen models are fitted on every client: the card counts the whole training rows
    assert_eq!(
        third.churn.card.data_source.clients,
        whole.churn.card.data_source.clients
    );
}
