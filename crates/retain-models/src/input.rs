//! Input checks shared by every model: one place, so every kind names the same problems.

use ndarray::ArrayView2;

use crate::ModelError;

/// Checks a matrix to predict on: `expected` columns, every value finite.
pub(crate) fn check_features(x: ArrayView2<f64>, expected: usize) -> Result<(), ModelError> {
    if x.ncols() != expected {
        return Err(ModelError::ColumnCount {
            expected,
            found: x.ncols(),
        });
    }
    check_finite(x)
}

/// Names the first non-finite value, row by row.
pub(crate) fn check_finite(x: ArrayView2<f64>) -> Result<(), ModelError> {
    // The common case first: one branch-free pass over contiguous values, in blocks the
    // compiler vectorises; the row and column are looked for only when it fails.
    if let Some(values) = x.as_slice_memory_order()
        && values
            .chunks(256)
            .all(|c| c.iter().fold(true, |ok, v| ok & v.is_finite()))
    {
        return Ok(());
    }
    for (row, values) in x.rows().into_iter().enumerate() {
        if let Some((column, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ModelError::NonFinite { row, column, value });
        }
    }
    Ok(())
}

/// Checks a training set: rows, finite values, one label per row with both classes present,
/// and weights (if any) finite, non-negative and not all zero.
pub(crate) fn check_training(
    x: ArrayView2<f64>,
    y: &[bool],
    weights: Option<&[f64]>,
) -> Result<(), ModelError> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(if x.nrows() == 0 {
            ModelError::NoRows
        } else {
            ModelError::ColumnCount {
                expected: 1,
                found: 0,
            }
        });
    }
    if y.len() != x.nrows() {
        return Err(ModelError::LengthMismatch {
            what: "labels",
            rows: x.nrows(),
            found: y.len(),
        });
    }
    check_finite(x)?;
    if y.iter().all(|&c| c == y[0]) {
        return Err(ModelError::SingleClass(y[0]));
    }
    check_weights(x.nrows(), weights)
}

/// Sample weights, when given: one per row, finite, non-negative, not all zero.
pub(crate) fn check_weights(rows: usize, weights: Option<&[f64]>) -> Result<(), ModelError> {
    let Some(w) = weights else { return Ok(()) };
    if w.len() != rows {
        return Err(ModelError::LengthMismatch {
            what: "weights",
            rows,
            found: w.len(),
        });
    }
    if let Some((index, &value)) = w
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || **v < 0.0)
    {
        return Err(ModelError::InvalidWeight { index, value });
    }
    if w.iter().all(|&v| v == 0.0) {
        return Err(ModelError::InvalidWeight {
            index: 0,
            value: 0.0,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn names_the_bad_cell_and_shapes() {
        let x = array![[1.0, 2.0], [3.0, f64::NAN]];
        let e = check_features(x.view(), 2).unwrap_err();
        assert!(
            matches!(
                e,
                ModelError::NonFinite {
                    row: 1,
                    column: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("row 1, column 1"), "{e}");
        let e = check_features(x.view(), 3).unwrap_err();
        assert!(
            e.to_string().contains("2 columns, the model expects 3"),
            "{e}"
        );
        let ok = array![[1.0, 2.0], [3.0, 4.0]];
        assert!(matches!(
            check_training(ok.view(), &[true], None),
            Err(ModelError::LengthMismatch { what: "labels", .. })
        ));
        assert!(matches!(
            check_training(ok.view(), &[true, true], None),
            Err(ModelError::SingleClass(true))
        ));
        assert!(matches!(
            check_training(ok.view(), &[true, false], Some(&[1.0, -1.0])),
            Err(ModelError::InvalidWeight { index: 1, .. })
        ));
        assert!(matches!(
            check_training(ok.view(), &[true, false], Some(&[0.0, 0.0])),
            Err(ModelError::InvalidWeight { .. })
        ));
        assert!(matches!(
            check_training(ok.view(), &[true, false], Some(&[1.0])),
            Err(ModelError::LengthMismatch {
                what: "weights",
                ..
            })
        ));
        assert!(check_training(ok.view(), &[true, false], Some(&[1.0, 2.0])).is_ok());
        let empty = ndarray::Array2::<f64>::zeros((0, 2));
        assert!(matches!(
            check_training(empty.view(), &[], None),
            Err(ModelError::NoRows)
        ));
    }
}
