//! The seam between polars and the models: a dense `f64` matrix with its schema.

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;
use retain_core::{ClientId, FeatureSchema};
use retain_data::cols::CLIENT;

use crate::FeatureError;

/// Client ids, a row-major feature matrix and its schema: what the models consume.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// Client id of each row.
    pub clients: Vec<ClientId>,
    /// One row per client, one column per feature in `schema` order.
    pub x: Array2<f64>,
    /// The ordered feature names.
    pub schema: FeatureSchema,
}

impl FeatureMatrix {
    /// Copies the named `features` of a collected frame (which has `client_id`) into a
    /// matrix, refusing NaN and infinite values with the client and feature named.
    pub fn from_frame(df: &DataFrame, features: &[String]) -> Result<Self, FeatureError> {
        let clients: Vec<ClientId> = df
            .column(CLIENT)?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .map(|v| v.unwrap_or_default())
            .collect();
        let n = df.height();
        let p = features.len();
        // every column as one chunk of numbers, checked in column then row order
        let columns: Vec<Float64Chunked> = features
            .iter()
            .map(|name| checked_column(df, name, |i| clients[i]))
            .collect::<Result<_, _>>()?;
        let columns: Vec<&[f64]> = columns
            .iter()
            .map(|c| c.cont_slice().expect("one chunk without nulls"))
            .collect();
        // Filled a block of rows at a time (the block stays in cache while every column
        // writes into it), blocks on rayon's threads: column by column over the whole
        // matrix would be one strided pass per feature.
        const BLOCK: usize = 256;
        let mut x = Array2::<f64>::zeros((n, p));
        if p > 0 {
            x.as_slice_mut()
                .expect("a new matrix is one slice")
                .par_chunks_mut(BLOCK * p)
                .enumerate()
                .for_each(|(b, block)| {
                    let first = b * BLOCK;
                    for (j, column) in columns.iter().enumerate() {
                        for (r, row) in block.chunks_mut(p).enumerate() {
                            row[j] = column[first + r];
                        }
                    }
                });
        }
        Ok(Self {
            clients,
            x,
            schema: FeatureSchema::new(features.iter().cloned()),
        })
    }
}

/// One feature of a collected frame (which has `client_id`) as the models read it: the
/// values of that column of [`FeatureMatrix::from_frame`]'s matrix, with the same refusal of a
/// missing or infinite value, without building the matrix.
pub fn feature_values(df: &DataFrame, feature: &str) -> Result<Vec<f64>, FeatureError> {
    let client = |i: usize| -> ClientId {
        df.column(CLIENT)
            .and_then(|c| c.cast(&DataType::Int64))
            .ok()
            .and_then(|c| c.i64().ok().and_then(|c| c.get(i)))
            .unwrap_or_default()
    };
    let v = checked_column(df, feature, client)?;
    Ok(v.cont_slice().expect("one chunk without nulls").to_vec())
}

/// Column `name` of `df` as one chunk of finite numbers; the first missing or infinite value
/// is refused, naming the client of its row (`client(row)`).
fn checked_column(
    df: &DataFrame,
    name: &str,
    client: impl Fn(usize) -> ClientId,
) -> Result<Float64Chunked, FeatureError> {
    let s = df.column(name)?.cast(&DataType::Float64)?;
    let v = s.f64()?.rechunk().into_owned();
    if let Some((i, value)) = v
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .enumerate()
        .find(|(_, v)| !v.is_finite())
    {
        return Err(FeatureError::NonFinite {
            feature: name.to_string(),
            client: client(i),
            value,
        });
    }
    Ok(v)
}

/// The features of `candidates` that take more than one value in `df` (the protocol uses a
/// feature only if it is non-constant on the training set), in candidate order.
pub fn non_constant(df: &DataFrame, candidates: &[&str]) -> Result<Vec<String>, FeatureError> {
    let mut out = Vec::new();
    for c in candidates {
        if df.column(c)?.n_unique()? > 1 {
            out.push(c.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> DataFrame {
        df![
            CLIENT => (0..n as i64).map(|i| 1000 + i).collect::<Vec<_>>(),
            "a" => (0..n).map(|i| i as f64 * 0.5 - 3.0).collect::<Vec<_>>(),
            "b" => (0..n as i32).map(|i| i % 7 - 3).collect::<Vec<_>>(),
            "c" => (0..n).map(|i| (i as f64).sqrt()).collect::<Vec<_>>(),
        ]
        .unwrap()
    }

    #[test]
    fn the_matrix_holds_each_client_s_values_in_the_features_order() {
        // rows in several blocks and a last partial one; the columns in another order
        for n in [0, 1, 255, 256, 257, 1000] {
            let df = frame(n);
            let names: Vec<String> = ["c", "a", "b"].map(String::from).to_vec();
            let m = FeatureMatrix::from_frame(&df, &names).unwrap();
            assert_eq!(m.x.dim(), (n, 3));
            assert_eq!(
                m.clients,
                (0..n as i64).map(|i| 1000 + i).collect::<Vec<_>>()
            );
            for (j, name) in names.iter().enumerate() {
                let column: Vec<f64> = m.x.column(j).to_vec();
                assert_eq!(feature_values(&df, name).unwrap(), column);
            }
            for i in 0..n {
                assert_eq!(m.x[[i, 0]].to_bits(), (i as f64).sqrt().to_bits());
                assert_eq!(m.x[[i, 1]], i as f64 * 0.5 - 3.0);
                assert_eq!(m.x[[i, 2]], (i as i32 % 7 - 3) as f64);
            }
        }
    }

    #[test]
    fn the_first_missing_or_infinite_value_in_feature_then_row_order_is_named() {
        let mut df = frame(600);
        let c: Vec<Option<f64>> = (0..600)
            .map(|i| match i {
                400 => None,
                _ => Some(i as f64),
            })
            .collect();
        let a: Vec<f64> = (0..600)
            .map(|i| if i == 500 { f64::INFINITY } else { 1.0 })
            .collect();
        df.with_column(Column::new("c".into(), c)).unwrap();
        df.with_column(Column::new("a".into(), a)).unwrap();
        let names: Vec<String> = ["b", "a", "c"].map(String::from).to_vec();
        match FeatureMatrix::from_frame(&df, &names) {
            Err(FeatureError::NonFinite {
                feature,
                client,
                value,
            }) => {
                assert_eq!((feature.as_str(), client), ("a", 1500));
                assert_eq!(value, f64::INFINITY);
            }
            other => panic!("{other:?}"),
        }
        match feature_values(&df, "a") {
            Err(FeatureError::NonFinite {
                feature, client, ..
            }) => {
                assert_eq!((feature.as_str(), client), ("a", 1500))
            }
            other => panic!("{other:?}"),
        }
        let names: Vec<String> = ["c", "a"].map(String::from).to_vec();
        match FeatureMatrix::from_frame(&df, &names) {
            Err(FeatureError::NonFinite {
                feature, client, ..
            }) => assert_eq!((feature.as_str(), client), ("c", 1400)),
            other => panic!("{other:?}"),
        }
    }
}
