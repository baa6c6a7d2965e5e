//! The client ids of partial feature tables: each worker writes the text of its text ids
//! beside their codes, and the machine that finishes collects them into one dictionary.

use polars::prelude::*;
use retain_data::{ClientIds, cols::CLIENT, is_text_code};

/// The column of a partial table holding the id as read, for ids read as text.
const CLIENT_TEXT: &str = "__client_text";

/// `table` with [`CLIENT_TEXT`]: the id as read for codes of text ids, else null.
pub(crate) fn with_ids(mut table: DataFrame, ids: &ClientIds) -> PolarsResult<DataFrame> {
    let codes = table.column(CLIENT)?.i64()?;
    let text: StringChunked = codes
        .iter()
        .map(|c| c.filter(|c| is_text_code(*c)).map(|c| ids.label(c)))
        .collect();
    table.with_column(text.with_name(CLIENT_TEXT.into()).into_column())?;
    Ok(table)
}

/// The partial table without [`CLIENT_TEXT`], and the dictionary of every worker's text ids.
pub(crate) fn split_ids(
    mut table: DataFrame,
) -> Result<(DataFrame, ClientIds), retain_score::ScoreError> {
    let codes = table.column(CLIENT)?.i64()?.clone();
    let texts = table.column(CLIENT_TEXT)?.str()?.clone();
    let ids = ClientIds::collect(&codes, &texts).map_err(|e| {
        retain_score::ScoreError::Invalid(format!(
            "two client ids with one code: `{}` and `{}`",
            e.0, e.1
        ))
    })?;
    table.drop_in_place(CLIENT_TEXT)?;
    Ok((table, ids))
}

/// A column of `df` as floats.
pub(crate) fn column_f64(df: &DataFrame, name: &str) -> Result<Vec<f64>, retain_train::TrainError> {
    let c = df.column(name)?.cast(&DataType::Float64)?;
    Ok(c.f64()?.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// The columns the customer-base model reads: frequency, recency, age (days), monetary.
pub(crate) fn rfm_columns(df: &DataFrame) -> Result<[Vec<f64>; 4], retain_train::TrainError> {
    Ok([
        column_f64(df, "frequency")?,
        column_f64(df, "recency_lt")?,
        column_f64(df, "T")?,
        column_f64(df, "monetary")?,
    ])
}
