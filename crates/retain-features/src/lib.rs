//! Per-client features and labels at a cutoff, as lazy polars plans.
