//! Churn classifiers and value regressors behind one trait, saved as artifacts.
