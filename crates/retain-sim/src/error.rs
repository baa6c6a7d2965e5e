/// Errors of the simulator: a parameter outside its range (named by its field path), or a
/// failed write.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A parameter is outside its documented range.
    #[error("invalid parameter `{field}` = {value}: {reason}")]
    InvalidParameter {
        /// The field path, e.g. `bgnbd.r` or `countries[2].weight`.
        field: String,
        /// The offending value, as text.
        value: String,
        /// What the value must satisfy.
        reason: &'static str,
    },
    /// Writing the generated transactions failed.
    #[error("writing the transactions: {0}")]
    Io(#[source] std::io::Error),
}

impl SimError {
    pub(crate) fn invalid(
        field: impl Into<String>,
        value: impl ToString,
        reason: &'static str,
    ) -> Self {
        Self::InvalidParameter {
            field: field.into(),
            value: value.to_string(),
            reason,
        }
    }
}

/// `Ok(())` if `value` is finite and strictly positive, else an error naming `field`.
pub(crate) fn check_positive(field: &str, value: f64) -> Result<(), SimError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SimError::invalid(field, value, "must be finite and > 0"))
    }
}
