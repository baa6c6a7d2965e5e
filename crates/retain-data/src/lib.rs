//! Reading retain's inputs into canonical tables.
//!
//! Transactions (the one required input) are read into a line table ([`Transactions`]); a
//! retention team's contact log into a contact table ([`Contacts`]); and the clients'
//! attributes (consent, time zone, margin, ...) into [`ClientAttributes`].
//!
//! An input is a CSV (optionally gzip-compressed), a Parquet file, a glob, or a folder of
//! files (hive-style `key=value` partitions become columns). Its columns are mapped by a
//! layout ([`Layout`], [`ContactsLayout`], [`ClientsLayout`]: a preset or `retain.toml`);
//! everything is validated before any work, and an error names the file, column, row and
//! value at fault.

mod clients;
mod contacts;
mod datetime;
mod diagnose;
mod digest;
mod error;
mod ids;
mod layout;
mod pieces;
mod read;
mod replicate;
mod source;
mod spill;
mod table;
mod timezone;
mod write;

pub use clients::{
    ClientAttributes, ClientsLayout, ClientsStats, cols as client_cols, read_clients,
};
pub use contacts::{
    Contacts, ContactsLayout, ContactsStats, Outcome, OutcomeLabels, cols as contact_cols,
    read_contacts,
};
pub use digest::LinesDigest;
pub use error::DataError;
pub use ids::{ClientIds, IdCollision, TEXT_CODES, code_of_text, in_client_sample, is_text_code};
pub use layout::{Layout, PRESETS, ReturnRule};
pub use pieces::client_pieces;
pub use read::{
    EARLIEST_DAY, LoadStats, PartChecks, PartError, PartReader, PartSource, READ_PART_LINES,
    ReadPart, Transactions, cols, read_table, read_transactions, read_transactions_until,
    tomorrow_utc,
};
pub use replicate::{
    ReplicaFiles, bucket_of, replicate, replicated_path, splitmix64, write_replicated,
};
pub use source::{DataFile, FileFormat, MemoryTable, resolve};
pub use spill::Spill;
pub use timezone::{TimeZoneError, TimeZoneSpec};
pub use write::{TableFormat, output_stem, write_table};

/// Runs a reader, turning a panic of the decoder underneath (polars' Parquet reader panics
/// on some corrupt footers instead of returning an error) into [`DataError::Corrupt`]
/// naming `input`. retain's own code does not panic on data; this is the one seam where a
/// third party's panic is caught.
pub(crate) fn guarded<T>(
    input: &std::path::Path,
    read: impl FnOnce() -> Result<T, DataError>,
) -> Result<T, DataError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|p| {
        let detail = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the decoder failed".into());
        Err(DataError::Corrupt {
            file: input.to_path_buf(),
            detail: format!("the file is corrupt or not in its format ({detail})"),
        })
    })
}

/// A day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub(crate) fn date_text(day: i32) -> String {
    retain_core::from_day_number(day).to_string()
}
