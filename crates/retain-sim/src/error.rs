/// Errors of the simulator: a parameter outside its range (named by its field path), a failed
/// write, or a query of the contact truth that names an unknown or forbidden contact.
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
    /// Writing another output (contacts, clients, contact truth) failed.
    #[error("writing the {what}: {source}")]
    Write {
        /// Which output, e.g. `contacts`.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A client id that the contact truth does not know.
    #[error("unknown client {0}")]
    UnknownClient(i64),
    /// A channel or action name that the contacts config does not define.
    #[error("unknown {what} {name:?}")]
    UnknownName {
        /// `channel` or `action`.
        what: &'static str,
        /// The name asked for.
        name: String,
    },
    /// A contact the client's consent or the action's rules forbid.
    #[error("client {client_id}: {reason}")]
    NotAllowed {
        /// The client.
        client_id: i64,
        /// Why, e.g. `no consent to sms`.
        reason: String,
    },
    /// A contact truth file that cannot be read.
    #[error("contact truth, line {line}, column `{column}`: {reason}")]
    Parse {
        /// 1-based line number (the header is line 1).
        line: usize,
        /// The column name.
        column: String,
        /// What is wrong, with the value.
        reason: String,
    },
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
