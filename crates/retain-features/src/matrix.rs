//! The seam between polars and the models: a dense `f64` matrix with its schema.

use ndarray::Array2;
use polars::prelude::*;
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
        let mut x = Array2::<f64>::zeros((n, features.len()));
        for (j, name) in features.iter().enumerate() {
            let s = df.column(name)?.cast(&DataType::Float64)?;
            for (i, v) in s.f64()?.iter().enumerate() {
                let v = v.unwrap_or(f64::NAN);
                if !v.is_finite() {
                    return Err(FeatureError::NonFinite {
                        feature: name.clone(),
                        client: clients[i],
                        value: v,
                    });
                }
                x[[i, j]] = v;
            }
        }
        Ok(Self {
            clients,
            x,
            schema: FeatureSchema::new(features.iter().cloned()),
        })
    }
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
