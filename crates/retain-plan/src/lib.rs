//! Next best contact: who to contact, why, by which channel, when and with what, planned
//! within the team's capacity.
//!
//! The modules, from the client's standing to the plan:
//! - [`segments`]: RFM quintile scores with their cut points, the named segments of the
//!   recency x frequency map, key clients and the revenue concentration curve;
//! - [`rules`]: association rules between products, for the offer's content;
//! - [`assign`]: the exact capacity-constrained assignment of contacts to clients (a
//!   min-cost flow), with the value of one more unit of each channel's capacity.
//!
//! Everything here works on plain slices and small structs: the polars seam is in the
//! caller (the binary, or the scoring crate), and every random draw takes a seed.

pub mod assign;
pub mod book;
pub mod channel;
pub mod config;
pub mod plan;
pub mod rules;
pub mod run;
pub mod segments;
pub mod shrink;
pub mod window;
