//! Reading transaction files into retain's canonical line table.
//!
//! An input is a CSV (optionally gzip-compressed), a Parquet file, a glob, or a folder of
//! files (hive-style `key=value` partitions become columns). Its columns are mapped by a
//! [`Layout`] (a preset or `retain.toml`); everything is validated before any work, and the
//! result is one clean line table ([`Transactions`]) in the canonical columns of [`cols`].

mod error;
mod layout;
mod read;
mod replicate;
mod source;
mod write;

pub use error::DataError;
pub use layout::{Layout, PRESETS, ReturnRule};
pub use read::{LoadStats, Transactions, cols, read_transactions};
pub use replicate::{replicate, splitmix64};
pub use source::{DataFile, FileFormat, resolve};
pub use write::{TableFormat, write_table};
