//! Deployable models applied to a large set of rows chunk by chunk, in memory bounded by the
//! chunk, with the rows of the one-piece result bit for bit.
//!
//! Almost everything a deployable model computes is row by row. Two things read every row of
//! the scored (or explained) set: a rank ensemble ranks its parts' scores among all rows, and
//! BG/NBD P(no purchase) explains each row against the set's mean client. So a prediction is
//! taken in two steps: each chunk's row-wise part ([`Rows`]), appended chunk after chunk,
//! then [`Rows::finish`] (the ranks, once, over every row). An
//! explanation first gathers an [`ExplainContext`] over every chunk (the sums of the mean
//! client in row order; each ensemble part's scores), then explains chunk by chunk within it
//! ([`ChurnModel::explain_within`]).

use ndarray::ArrayView2;
use retain_clv::Valuation;
use retain_core::Horizon;

use crate::deploy::{BaseMemo, ensemble_churn, ensemble_value};
use crate::{ChurnModel, ChurnPrediction, ModelError, ValueModel, ValuePrediction};

/// A prediction of some rows before the step that reads every row: plain rows, or a rank
/// ensemble's parts not yet ranked ([`ChurnRows`], [`ValueRows`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Rows<P> {
    /// The prediction of these rows.
    Rows(P),
    /// Each part's rows of a rank ensemble.
    Ranked(Vec<Rows<P>>),
}

/// A churn prediction of some rows, appended chunk after chunk ([`Rows`]).
pub type ChurnRows = Rows<ChurnPrediction>;

/// A value prediction of some rows, appended chunk after chunk ([`Rows`]).
pub type ValueRows = Rows<ValuePrediction>;

/// A prediction whose rows can be appended and whose ensemble is taken over every row.
pub trait RowPrediction: Sized {
    /// Appends the rows of `next` after these.
    fn extend(&mut self, next: Self);
    /// The rank ensemble of `parts`' predictions of the same rows.
    fn ensemble(parts: &[Self]) -> Self;
}

impl RowPrediction for ChurnPrediction {
    fn extend(&mut self, next: Self) {
        self.score.extend(next.score);
        if let (Some(p), Some(q)) = (&mut self.probability, next.probability) {
            p.extend(q);
        }
    }

    fn ensemble(parts: &[Self]) -> Self {
        ensemble_churn(parts)
    }
}

impl RowPrediction for ValuePrediction {
    fn extend(&mut self, next: Self) {
        self.score.extend(next.score);
        self.amount.extend(next.amount);
    }

    fn ensemble(parts: &[Self]) -> Self {
        ensemble_value(parts)
    }
}

impl<P: RowPrediction> Rows<P> {
    /// Appends the rows of `next` (a prediction of the same model) after these.
    pub fn append(&mut self, next: Self) {
        match (self, next) {
            (Self::Rows(a), Self::Rows(b)) => a.extend(b),
            (Self::Ranked(a), Self::Ranked(b)) => {
                for (x, y) in a.iter_mut().zip(b) {
                    x.append(y);
                }
            }
            _ => unreachable!("predictions of one model have one shape"),
        }
    }

    /// The prediction of every row appended (an ensemble's ranks taken over all of them).
    pub fn finish(self) -> P {
        match self {
            Self::Rows(p) => p,
            Self::Ranked(parts) => {
                P::ensemble(&parts.into_iter().map(Self::finish).collect::<Vec<_>>())
            }
        }
    }
}

/// What an explanation reads from every row of the explained set
/// ([`ChurnModel::explain_within`]), gathered chunk by chunk with
/// [`ChurnModel::gather_context`] and closed by [`ExplainContext::finish`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExplainContext {
    /// Sums of BG/NBD P(no purchase)'s three inputs over the rows, in row order.
    sums: [f64; 3],
    /// Rows summed.
    rows: usize,
    /// Each rank-ensemble part's explanation scores (sorted once finished) and context.
    parts: Vec<(Vec<f64>, ExplainContext)>,
}

impl ExplainContext {
    /// Sorts the parts' scores: the context is then ready to explain within.
    pub fn finish(mut self) -> Self {
        for (scores, context) in &mut self.parts {
            scores.sort_by(f64::total_cmp);
            *context = std::mem::take(context).finish();
        }
        self
    }

    /// The mean client (none before a row is gathered).
    pub(crate) fn mean(&self) -> Option<[f64; 3]> {
        (self.rows > 0).then(|| self.sums.map(|s| s / self.rows as f64))
    }

    /// The sorted scores and context of ensemble part `i`.
    pub(crate) fn part(&self, i: usize) -> Option<(&[f64], &ExplainContext)> {
        self.parts.get(i).map(|(s, c)| (s.as_slice(), c))
    }
}

/// A rank ensemble's rows of the memo's matrix (`width` the columns it reads): each part's
/// `rows`.
fn ranked<M, P>(
    width: usize,
    memo: &mut BaseMemo<'_>,
    parts: &[M],
    rows: impl Fn(&M, &mut BaseMemo<'_>) -> Result<Rows<P>, ModelError>,
) -> Result<Rows<P>, ModelError> {
    let found = memo.x().ncols();
    if found < width {
        return Err(ModelError::ColumnCount {
            expected: width,
            found,
        });
    }
    Ok(Rows::Ranked(
        parts
            .iter()
            .map(|p| rows(p, memo))
            .collect::<Result<_, _>>()?,
    ))
}

impl ChurnModel {
    /// [`ChurnModel::predict`] of rows `x` without the step that reads every row:
    /// [`Rows::append`] the chunks, then [`Rows::finish`].
    pub fn predict_rows(&self, x: ArrayView2<f64>) -> Result<ChurnRows, ModelError> {
        self.predict_rows_in(&mut BaseMemo::new(x))
    }

    /// [`ChurnModel::predict_rows`] of the memo's rows, sharing its customer-base outputs.
    pub fn predict_rows_in(&self, memo: &mut BaseMemo<'_>) -> Result<ChurnRows, ModelError> {
        match self {
            Self::RankEnsemble { parts } => {
                ranked(self.width(), memo, parts, |p, memo| p.predict_rows_in(memo))
            }
            _ => Ok(ChurnRows::Rows(self.predict_in(memo)?)),
        }
    }

    /// Whether the explanation reads every explained row (a context is then needed to
    /// explain a set chunk by chunk).
    pub fn explains_against_the_set(&self) -> bool {
        matches!(self, Self::PNoPurchase { .. } | Self::RankEnsemble { .. })
    }

    /// Adds rows `x`, the next chunk of the explained set in order, to `context`.
    pub fn gather_context(
        &self,
        x: ArrayView2<f64>,
        context: &mut ExplainContext,
    ) -> Result<(), ModelError> {
        match self {
            Self::PNoPurchase { base, .. } => {
                // the order of `ArrayBase::mean` on a column: one sum from the first row on
                for (s, &c) in context.sums.iter_mut().zip(&base.columns[..3]) {
                    *s = x.column(c).iter().fold(*s, |a, &v| a + v);
                }
                context.rows += x.nrows();
            }
            Self::RankEnsemble { parts } => {
                context.parts.resize_with(parts.len(), Default::default);
                for (p, (scores, c)) in parts.iter().zip(&mut context.parts) {
                    // a part's own scores are row by row (a part is never an ensemble)
                    scores.extend(p.explanation_scores(x)?);
                    p.gather_context(x, c)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl ValueModel {
    /// [`ValueModel::predict`] of rows `x` without the step that reads every row
    /// ([`ChurnModel::predict_rows`]).
    pub fn predict_rows(
        &self,
        x: ArrayView2<f64>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<ValueRows, ModelError> {
        self.predict_rows_in(&mut BaseMemo::new(x), horizon, valuation)
    }

    /// [`ValueModel::predict_rows`] of the memo's rows, sharing its customer-base outputs.
    pub fn predict_rows_in(
        &self,
        memo: &mut BaseMemo<'_>,
        horizon: Horizon,
        valuation: &Valuation,
    ) -> Result<ValueRows, ModelError> {
        match self {
            Self::RankEnsemble { parts } => ranked(self.width(), memo, parts, |p, memo| {
                p.predict_rows_in(memo, horizon, valuation)
            }),
            _ => Ok(ValueRows::Rows(self.predict_in(memo, horizon, valuation)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use retain_core::FeatureSchema;

    use super::*;
    use crate::RecencyBaseline;

    fn recency() -> ChurnModel {
        let schema = FeatureSchema::new(["frequency".to_string(), "days_since_last".to_string()]);
        ChurnModel::Recency {
            baseline: RecencyBaseline::new(&schema).unwrap(),
        }
    }

    #[test]
    fn an_ensemble_predicted_in_chunks_ranks_over_every_row() {
        // days since last 0, 5, 3, 1, 6, 4, 2, 0, 5, 3: ties across the chunks
        let x = Array2::from_shape_fn((10, 2), |(i, j)| ((i * (3 + 2 * j)) % 7) as f64);
        let model = ChurnModel::RankEnsemble {
            parts: vec![recency(), recency()],
        };
        let whole = model.predict(x.view()).unwrap();
        let mut rows = model.predict_rows(x.slice(ndarray::s![..4, ..])).unwrap();
        rows.append(model.predict_rows(x.slice(ndarray::s![4.., ..])).unwrap());
        assert_eq!(rows.finish(), whole);
        // ranking each chunk on its own would not give the same scores
        let alone = model.predict(x.slice(ndarray::s![..4, ..])).unwrap();
        assert_ne!(alone.score[..], whole.score[..4]);
    }

    #[test]
    fn a_rank_ensemble_inside_a_rank_ensemble_is_refused() {
        let inner = ChurnModel::RankEnsemble {
            parts: vec![recency()],
        };
        let outer = ChurnModel::RankEnsemble {
            parts: vec![inner, recency()],
        };
        let e = outer.validate().unwrap_err();
        assert!(e.contains("itself a rank ensemble"), "{e}");
    }
}
