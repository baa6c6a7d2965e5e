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
mod error;
mod ids;
mod layout;
mod read;
mod replicate;
mod source;
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
pub use error::DataError;
pub use ids::{ClientIds, IdCollision, TEXT_CODES, code_of_text, is_text_code};
pub use layout::{Layout, PRESETS, ReturnRule};
pub use read::{
    EARLIEST_DAY, LoadStats, Transactions, cols, read_transactions, read_transactions_until,
};
pub use replicate::{replicate, splitmix64};
pub use source::{DataFile, FileFormat, resolve};
pub use timezone::{TimeZoneError, TimeZoneSpec};
pub use write::{TableFormat, write_table};

/// A day number (days since 1970-01-01) as `YYYY-MM-DD`.
pub(crate) fn date_text(day: i32) -> String {
    retain_core::from_day_number(day).to_string()
}
