//! Failed-login counters per account and per client address (the policy is in `domain`).

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::auth::FailureRecord;

use crate::db::StoreError;

/// The record for `key`, or a fresh one.
pub fn get(conn: &Connection, key: &str) -> Result<FailureRecord, StoreError> {
    Ok(conn
        .query_row("SELECT failures, window_start, locked_until FROM login_failures WHERE key = ?1", [key], |r| {
            Ok(FailureRecord { failures: r.get(0)?, window_start: r.get(1)?, locked_until: r.get(2)? })
        })
        .optional()?
        .unwrap_or_default())
}

/// Stores the record for `key`.
pub fn put(conn: &Connection, key: &str, record: &FailureRecord) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO login_failures (key, failures, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
         locked_until = excluded.locked_until",
        params![key, record.failures, record.window_start, record.locked_until],
    )?;
    Ok(())
}

/// Forgets the failures of `key` (after a successful login or a password reset).
pub fn clear(conn: &Connection, key: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM login_failures WHERE key = ?1", [key])?;
    Ok(())
}

/// Key for an account.
pub fn account_key(username: &str) -> String {
    format!("user:{username}")
}

/// Key for a client address.
pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}
