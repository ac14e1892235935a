//! Reading and writing the tables. Plain functions over a `rusqlite` connection or transaction,
//! so the server (on the database thread) and the CLI (directly) share them. No HTTP here, no
//! business rules beyond what keeps the tables consistent.

pub mod audit;
pub mod blobs;
pub mod captures;
pub mod catalog;
pub mod conflicts;
pub mod devices;
pub mod documents;
pub mod enroll;
pub mod notices;
pub mod reference;
pub mod regions;
pub mod replica;
pub mod scans;
pub mod settings;
pub mod staff;
pub mod throttle;
pub mod tokens;

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
