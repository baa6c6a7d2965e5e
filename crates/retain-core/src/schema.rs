use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{CoreError, Result};

/// The ordered list of feature names a model consumes, with a content hash.
///
/// Two schemas are equal when they list the same names in the same order; the hash is the
/// SHA-256 of the names joined by newlines, so a card can be checked without the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSchema {
    names: Vec<String>,
    hash: String,
}

impl FeatureSchema {
    /// Builds a schema from ordered names.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        let hash = Self::hash_of(&names);
        Self { names, hash }
    }

    fn hash_of(names: &[String]) -> String {
        let mut h = Sha256::new();
        for n in names {
            h.update(n.as_bytes());
            h.update(b"\n");
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The ordered feature names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no features.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Hex SHA-256 of the names.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Checks that the features at hand (`actual`) are the ones this schema expects,
    /// naming the first feature that differs.
    pub fn check(&self, actual: &FeatureSchema) -> Result<()> {
        if self.hash != Self::hash_of(&self.names) {
            return Err(CoreError::SchemaMismatch(
                "the card's feature hash does not match its feature names (edited card?)".into(),
            ));
        }
        if self == actual {
            return Ok(());
        }
        for (i, (want, got)) in self.names.iter().zip(actual.names.iter()).enumerate() {
            if want != got {
                return Err(CoreError::SchemaMismatch(format!(
                    "feature {} is `{want}` in the model but `{got}` in the data",
                    i + 1
                )));
            }
        }
        if self.names.len() > actual.names.len() {
            Err(CoreError::SchemaMismatch(format!(
                "the model needs feature `{}` (number {}), which the data lacks",
                self.names[actual.names.len()],
                actual.names.len() + 1
            )))
        } else {
            Err(CoreError::SchemaMismatch(format!(
                "the data has feature `{}` (number {}), which the model was not trained on",
                actual.names[self.names.len()],
                self.names.len() + 1
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_the_differing_feature() {
        let a = FeatureSchema::new(["recency", "frequency", "T"]);
        assert!(a.check(&a.clone()).is_ok());
        let b = FeatureSchema::new(["recency", "monetary", "T"]);
        let e = a.check(&b).unwrap_err().to_string();
        assert!(e.contains("feature 2 is `frequency`"), "{e}");
        let c = FeatureSchema::new(["recency", "frequency"]);
        assert!(a.check(&c).unwrap_err().to_string().contains("`T`"));
        assert!(c.check(&a).unwrap_err().to_string().contains("`T`"));
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 64);
    }
}
