//! Planning after scoring: from a [`retain_score::Scores`] (the list and the features it was
//! scored on), the transactions, and the optional contacts log, client attributes and uplift
//! models, to the list with the next best contact and the plan's columns and the plan summary
//! in the run summary. What `retain score --plan` and `retain plan` call.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use polars::prelude::*;
use retain_core::{Artifact, Cutoff};
use retain_data::{ClientAttributes, Contacts, Transactions, cols};
use retain_features::FeatureMatrix;
use retain_models::UpliftSet;
use retain_score::Scores;

use crate::book::{BookError, ContactBook, client_book};
use crate::config::PlanConfig;
use crate::plan::{ActionEffect, Offer, Plan, PlanError, PlanInputs, plan};
use crate::rules::{AssociationRules, Baskets, RulesParams};

/// Errors of a planning run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The planner's inputs.
    #[error(transparent)]
    Book(#[from] BookError),
    /// The planner.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A table operation.
    #[error("planning: {0}")]
    Polars(#[from] PolarsError),
    /// The uplift models refused the features.
    #[error("the uplift models: {0}")]
    Model(#[from] retain_models::ModelError),
    /// Building a feature matrix failed.
    #[error(transparent)]
    Features(#[from] retain_features::FeatureError),
    /// Mining the product rules failed.
    #[error("product rules: {0}")]
    Rules(#[from] crate::rules::RulesError),
}

impl retain_core::Categorized for RunError {
    fn category(&self) -> retain_core::ErrorCategory {
        match self {
            Self::Plan(PlanError::Invalid(_)) => retain_core::ErrorCategory::Config,
            Self::Model(e) => e.category(),
            Self::Features(e) => e.category(),
            Self::Book(BookError::Invalid(_)) => retain_core::ErrorCategory::Data,
            _ => retain_core::ErrorCategory::Internal,
        }
    }
}

/// Loads the uplift models in `dir`, refusing another kind or format, impossible saved
/// values, and models trained on other data than the churn model's (`churn`), naming both.
pub fn load_uplift(
    dir: &std::path::Path,
    churn: &retain_core::ModelCard,
) -> Result<Artifact<UpliftSet>, RunError> {
    let at = |e: retain_models::ModelError| {
        BookError::Invalid(format!("the uplift models in {}: {e}", dir.display()))
    };
    let card = retain_core::ModelCard::load(dir)
        .map_err(retain_models::ModelError::from)
        .map_err(at)?;
    let u: Artifact<UpliftSet> = retain_models::load_checked(dir, &card.features).map_err(at)?;
    if !u.card.data_source.same_data(&churn.data_source) {
        return Err(BookError::Invalid(format!(
            "the uplift models in {} were trained on other data than the churn model \
             ({} lines against {}): train them with one `retain train --contacts` run",
            dir.display(),
            u.card.data_source.rows,
            churn.data_source.rows
        ))
        .into());
    }
    Ok(u)
}

/// What a planning run reads besides the scores.
#[derive(Debug, Clone, Copy)]
pub struct RunInputs<'a> {
    /// The transactions the scores were computed from (products, period revenue).
    pub transactions: &'a Transactions,
    /// The contacts log, if any.
    pub contacts: Option<&'a Contacts>,
    /// The client attributes, if any.
    pub clients: Option<&'a ClientAttributes>,
    /// The uplift models, if any (trained by `retain train --contacts`).
    pub uplift: Option<&'a Artifact<UpliftSet>>,
    /// First day of the planning period (default: the day after the scoring date).
    pub start: Option<NaiveDate>,
}

/// The features in the list's order (the scores' features are by client id).
fn features_in_list_order(scores: &Scores) -> Result<DataFrame, RunError> {
    let list_ids = scores.table.column("client_id")?.i64()?;
    let fids = scores.features.column("client_id")?.i64()?;
    let row: HashMap<i64, IdxSize> = fids
        .into_no_null_iter()
        .enumerate()
        .map(|(i, c)| (c, i as IdxSize))
        .collect();
    let idx: Vec<IdxSize> = list_ids
        .into_no_null_iter()
        .map(|c| {
            row.get(&c).copied().ok_or_else(|| {
                BookError::Invalid(format!("client {c} of the list has no features"))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(scores.features.take(&IdxCa::from_vec("idx".into(), idx))?)
}

/// Net revenue per client over `(date - days, date]`, in the list's order.
fn period_revenue(tx: &Transactions, ids: &[i64], date: Cutoff, days: u32) -> Vec<f64> {
    let (hi, lo) = (date.day(), date.day() - days as i32);
    let f = tx.frame();
    let mut by_client: HashMap<i64, f64> = HashMap::new();
    if let (Ok(c), Ok(d), Ok(a)) = (
        f.column(cols::CLIENT).and_then(|c| c.i64().cloned()),
        f.column(cols::DAY).and_then(|c| c.i32().cloned()),
        f.column(cols::AMOUNT).and_then(|c| c.f64().cloned()),
    ) {
        // The line table is in canonical order: each client's sum is taken in that order.
        for ((c, d), a) in c.iter().zip(d.iter()).zip(a.iter()) {
            if let (Some(c), Some(d), Some(a)) = (c, d, a)
                && d > lo
                && d <= hi
            {
                *by_client.entry(c).or_insert(0.0) += a;
            }
        }
    }
    ids.iter()
        .map(|c| by_client.get(c).copied().unwrap_or(0.0))
        .collect()
}

/// Up to `k` products per client (the list's order) by association-rule lift from what the
/// client bought on or before `date`; empty when the data have no products.
pub fn offers(
    tx: &Transactions,
    ids: &[i64],
    date: Cutoff,
    k: usize,
) -> Result<Option<Vec<Vec<Offer>>>, RunError> {
    if k == 0 {
        return Ok(None);
    }
    let f = tx.frame();
    let product = f.column(cols::PRODUCT)?.str()?;
    if product.null_count() == product.len() {
        return Ok(None);
    }
    let client = f.column(cols::CLIENT)?.i64()?;
    let day = f.column(cols::DAY)?.i32()?;
    let invoice = f.column(cols::INVOICE)?.str()?;
    let is_return = f.column(cols::IS_RETURN)?.bool()?;
    let mut product_id: HashMap<&str, u32> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut basket_id: HashMap<(i64, &str), u32> = HashMap::new();
    let (mut basket_of_line, mut product_of_line) = (Vec::new(), Vec::new());
    let row_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut bought: Vec<Vec<u32>> = vec![Vec::new(); ids.len()];
    for r in 0..f.height() {
        let (Some(c), Some(d), Some(p), Some(inv)) =
            (client.get(r), day.get(r), product.get(r), invoice.get(r))
        else {
            continue;
        };
        if d > date.day() || is_return.get(r) == Some(true) {
            continue;
        }
        let next = names.len() as u32;
        let pid = *product_id.entry(p).or_insert_with(|| {
            names.push(p);
            next
        });
        let nb = basket_id.len() as u32;
        let b = *basket_id.entry((c, inv)).or_insert(nb);
        basket_of_line.push(b);
        product_of_line.push(pid);
        if let Some(&i) = row_of.get(&c) {
            bought[i].push(pid);
        }
    }
    if basket_of_line.is_empty() {
        return Ok(None);
    }
    for b in &mut bought {
        b.sort_unstable();
        b.dedup();
    }
    let baskets = Baskets::from_lines(&basket_of_line, &product_of_line)?;
    let rules = AssociationRules::mine(&baskets, &RulesParams::default())?;
    let recs = rules.recommend_all(&bought, k);
    Ok(Some(
        recs.into_iter()
            .map(|rs| {
                rs.into_iter()
                    .map(|r| Offer {
                        product: names[r.product as usize].to_string(),
                        because: names[r.because as usize].to_string(),
                        lift: r.lift,
                    })
                    .collect()
            })
            .collect(),
    ))
}

/// Plans the scored clients (see [`crate::plan`]) and returns the plan.
pub fn plan_scores(
    config: &PlanConfig,
    scores: &Scores,
    inputs: RunInputs<'_>,
) -> Result<Plan, RunError> {
    let date = scores.summary.date;
    let start = inputs.start.unwrap_or_else(|| {
        date.plus(retain_core::Horizon::new(1).expect("1 day"))
            .date()
    });
    let features = features_in_list_order(scores)?;
    let mut book = client_book(&scores.table, &features)?;
    // Revenue over the key-client period: a pass over every line, only when needed.
    if config.key_by == crate::config::KeyBy::Revenue || !book.has_value_model {
        book.period_revenue =
            period_revenue(inputs.transactions, &book.ids, date, config.key_period_days);
    }
    book.set_attributes(config, inputs.clients)?;
    let start_day = retain_core::day_number(start);
    let contacts = match inputs.contacts {
        Some(c) => ContactBook::build(c, &book, config, start_day)?,
        None => ContactBook::empty(book.len(), config),
    };
    let mut effects = BTreeMap::new();
    if let Some(u) = inputs.uplift {
        let m = FeatureMatrix::from_frame(&features, u.card.features.names())?;
        for (id, a) in &u.model.actions {
            let per_answer = a.model.per_response(m.x.view())?.to_vec();
            effects.insert(
                id.clone(),
                ActionEffect {
                    per_answer,
                    qini: a.qini,
                    reliable: a.reliable(),
                    save_rate: a.save_rate(),
                },
            );
        }
    }
    let offers = offers(inputs.transactions, &book.ids, date, config.offers)?;
    Ok(plan(
        config,
        PlanInputs {
            clients: &book,
            contacts: &contacts,
            effects: &effects,
            offers: offers.as_deref(),
            start,
        },
    )?)
}

impl Plan {
    /// The plan's columns, one row per client in the list's order: `segment`, `rfm`,
    /// `key_client`, `contacted_before`, `next_best_channel`, `channel_response`,
    /// `channel_source`, `channel_evidence`, `window`, `window_source`, `window_evidence`,
    /// `action` (`no_contact` when none pays), `expected_profit`, `action_source`,
    /// `action_evidence`, `offer`, `offer_evidence`, `holdout`, `excluded`, `planned_date`,
    /// `planned_channel`, `planned_action`, `planned_profit`.
    pub fn columns(&self) -> Vec<Column> {
        let c = &self.clients;
        let s = |f: &dyn Fn(&crate::plan::ClientPlan) -> String, name: &str| {
            Column::new(name.into(), c.iter().map(f).collect::<Vec<String>>())
        };
        let o = |f: &dyn Fn(&crate::plan::ClientPlan) -> Option<String>, name: &str| {
            Column::new(
                name.into(),
                c.iter().map(f).collect::<Vec<Option<String>>>(),
            )
        };
        let ch = |k: Option<usize>| k.map(|k| self.channel_names[k].clone());
        let dates: Vec<Option<i32>> = c
            .iter()
            .map(|x| x.planned.as_ref().map(|p| retain_core::day_number(p.date)))
            .collect();
        let planned_date = Column::new("planned_date".into(), dates)
            .cast(&DataType::Date)
            .unwrap_or_else(|_| Column::new("planned_date".into(), vec![None::<i32>; c.len()]));
        vec![
            s(&|x| x.segment.name().to_string(), "segment"),
            s(&|x| x.rfm.clone(), "rfm"),
            Column::new(
                "key_client".into(),
                c.iter().map(|x| x.key_client).collect::<Vec<bool>>(),
            ),
            Column::new(
                "contacted_before".into(),
                c.iter().map(|x| x.contacted_before).collect::<Vec<bool>>(),
            ),
            o(&|x| ch(x.channel), "next_best_channel"),
            Column::new(
                "channel_response".into(),
                c.iter().map(|x| x.channel_response).collect::<Vec<f64>>(),
            ),
            s(&|x| x.channel_source.name().to_string(), "channel_source"),
            s(&|x| x.channel_evidence.clone(), "channel_evidence"),
            s(&|x| x.window.to_string(), "window"),
            s(&|x| x.window_source.name().to_string(), "window_source"),
            s(&|x| x.window_evidence.clone(), "window_evidence"),
            s(
                &|x| {
                    x.action
                        .map_or("no_contact".to_string(), |a| self.action_names[a].clone())
                },
                "action",
            ),
            Column::new(
                "expected_profit".into(),
                c.iter().map(|x| x.expected_profit).collect::<Vec<f64>>(),
            ),
            s(&|x| x.action_source.name().to_string(), "action_source"),
            s(&|x| x.action_evidence.clone(), "action_evidence"),
            s(
                &|x| {
                    x.offers
                        .iter()
                        .map(|f| f.product.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                },
                "offer",
            ),
            s(
                &|x| {
                    x.offers
                        .iter()
                        .map(|f| {
                            format!("{} (bought {}, lift {:.1})", f.product, f.because, f.lift)
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
                "offer_evidence",
            ),
            Column::new(
                "holdout".into(),
                c.iter().map(|x| x.holdout).collect::<Vec<bool>>(),
            ),
            o(&|x| x.excluded.map(str::to_string), "excluded"),
            planned_date,
            o(
                &|x| {
                    x.planned
                        .as_ref()
                        .map(|p| self.channel_names[p.channel].clone())
                },
                "planned_channel",
            ),
            o(
                &|x| {
                    x.planned
                        .as_ref()
                        .map(|p| self.action_names[p.action].clone())
                },
                "planned_action",
            ),
            Column::new(
                "planned_profit".into(),
                c.iter()
                    .map(|x| x.planned.as_ref().map(|p| p.profit))
                    .collect::<Vec<Option<f64>>>(),
            ),
        ]
    }

    /// Adds the plan's columns to the scored list (replacing its `key_client` with the plan's
    /// key clients), a `models` column naming the churn, value and uplift models used (kind,
    /// retain version, build id), and the plan's summary to the run summary.
    pub fn attach(
        &self,
        scores: &mut Scores,
        uplift: Option<&retain_score::ModelUsed>,
    ) -> Result<(), RunError> {
        let mut table = scores.table.clone();
        if table.get_column_names().iter().any(|c| *c == "key_client") {
            table = table.drop("key_client")?;
        }
        for col in self.columns() {
            table.with_column(col)?;
        }
        // The model versions behind every row (one value; Parquet stores it once).
        let short = |b: &str| b.chars().take(12).collect::<String>();
        let s = &scores.summary;
        let mut models = vec![format!(
            "churn={} {} {}",
            s.churn_model.kind,
            s.churn_model.retain_version,
            short(&s.churn_model.build_id)
        )];
        if let Some(v) = &s.value_model {
            models.push(format!(
                "value={} {} {}",
                v.kind,
                v.retain_version,
                short(&v.build_id)
            ));
        }
        if let Some(u) = uplift {
            models.push(format!(
                "uplift={} {} {}",
                u.kind,
                u.retain_version,
                short(&u.build_id)
            ));
        }
        let models = models.join("; ");
        table.with_column(Column::new(
            "models".into(),
            vec![models.as_str(); table.height()],
        ))?;
        scores.table = table;
        let mut summary = serde_json::to_value(&self.summary)
            .map_err(|e| BookError::Invalid(format!("the plan summary: {e}")))?;
        if let (Some(u), Some(obj)) = (uplift, summary.as_object_mut()) {
            obj.insert(
                "uplift_model".into(),
                serde_json::to_value(u)
                    .map_err(|e| BookError::Invalid(format!("the plan summary: {e}")))?,
            );
        }
        scores.summary.key_clients = Some(self.summary.key_clients);
        scores.summary.plan = Some(summary);
        Ok(())
    }
}
