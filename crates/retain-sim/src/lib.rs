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
mod contact_truth;
mod contacts;
mod contacts_bulk;
mod contacts_config;
mod error;
mod generate;
mod process;
mod response;
mod sink;
mod summary;
#[cfg(test)]
mod theory;
mod transactions;
mod truth;

pub use config::{CountryWeight, SimConfig};
pub use contact_truth::{ClientTruth, ClientType, ContactTruth, PlannedContact};
pub use contacts::{CONTACTS_HEADER, Contact, ContactLog, Group, Outcome};
pub use contacts_bulk::simulate_contacts_for;
pub use contacts_config::{
    ActionSpec, ChannelSpec, ContactsConfig, CountryOffset, SegmentSpec, UpliftSpec,
};
pub use error::SimError;
pub use generate::{
    SimCounts, SimOutput, generate, generate_csv, generate_csv_with_contacts,
    generate_with_contacts,
};
pub use summary::{RfmSummary, simulate_bgnbd_summaries, simulate_pareto_nbd_summaries};
pub use transactions::{CSV_HEADER, Transactions};
pub use truth::{BgNbdTruth, GammaGammaTruth, ParetoNbdTruth};
