//! The appliance's storage: the SQLite file (opened with the pragmas the appliance relies on,
//! migrated forward only), the Automerge documents and their change log, the replica the sync
//! sessions run on, and one module per table group. Plain functions over a connection or
//! transaction, so the server (on the database thread) and the CLI (directly) share them.
//!
//! Architecture invariant: this is the only crate with SQL. No HTTP, no devices, no business
//! rules beyond what keeps the tables consistent; callers name the database through the
//! [`Connection`] and [`Transaction`] re-exported here and reach it only through these functions.

#![forbid(unsafe_code)]

pub mod applications;
pub mod audit;
pub mod blobs;
pub mod captures;
pub mod catalog;
pub mod conflicts;
pub mod crypt;
pub mod db;
pub mod devices;
pub mod documents;
pub mod enroll;
pub mod holidays;
pub mod notices;
pub mod queue;
pub mod reference;
pub mod regions;
pub mod replica;
pub mod scans;
pub mod settings;
pub mod staff;
pub mod throttle;
pub mod tokens;

pub use db::{Db, StoreError, transaction};
pub use rusqlite::{Connection, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC timestamp as stored (RFC 3339).
pub fn stamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Reads a stored timestamp.
pub fn parse_stamp(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}
