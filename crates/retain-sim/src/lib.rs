//! A seeded simulator of a client base: BG/NBD or Pareto/NBD purchases, Gamma-Gamma spend,
//! weekday/hour habits, products and returns.
//!
//! Two uses:
//! - **parameter recovery**: [`simulate_bgnbd_summaries`] and [`simulate_pareto_nbd_summaries`]
//!   draw customer-level summaries `(x, t_x, T, monetary)` from known truths
//!   ([`BgNbdTruth`], [`ParetoNbdTruth`], [`GammaGammaTruth`]), time in weeks;
//! - **sample data**: [`generate`] turns a [`SimConfig`] into a transaction log in the
//!   Online Retail II layout ([`Transactions`], written by [`Transactions::write_csv`]).
//!   The config (truth included) serialises to JSON, to be written beside the data.
//!
//! Everything takes a seed and uses `ChaCha8Rng`: one seed, one output, byte for byte.

mod catalogue;
mod config;
mod error;
mod generate;
mod process;
mod sink;
mod summary;
#[cfg(test)]
mod theory;
mod transactions;
mod truth;

pub use config::{CountryWeight, SimConfig};
pub use error::SimError;
pub use generate::{generate, generate_csv};
pub use summary::{RfmSummary, simulate_bgnbd_summaries, simulate_pareto_nbd_summaries};
pub use transactions::{CSV_HEADER, Transactions};
pub use truth::{BgNbdTruth, GammaGammaTruth, ParetoNbdTruth};
