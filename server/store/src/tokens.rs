//! Tokens that let a kiosk or a waiting-room display in without a staff login. Only their
//! SHA-256 is stored; the token itself is shown once when created.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

/// What a device token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The ticket kiosk.
    Kiosk,
    /// The waiting-room display.
    Display,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::Kiosk => "kiosk",
            Purpose::Display => "display",
        }
    }
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores a new token (made by the caller from a secure random source); only its hash is kept,
/// so the caller's copy is the only time it is seen in clear.
pub fn create(
    conn: &Connection,
    purpose: Purpose,
    label: &str,
    token: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO device_tokens (token_hash, purpose, label, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![sha256_hex(token.as_bytes()), purpose.code(), label, stamp(at)],
    )?;
    Ok(())
}

/// True when `token` is a live token for `purpose`.
pub fn valid(conn: &Connection, purpose: Purpose, token: &str) -> Result<bool, StoreError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(false);
    }
    let found: Option<String> = conn
        .query_row(
            "SELECT purpose FROM device_tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
            [sha256_hex(token.as_bytes())],
            |r| r.get(0),
        )
        .optional()?;
    Ok(found.as_deref() == Some(purpose.code()))
}

/// Revokes every token with this label.
pub fn revoke(conn: &Connection, label: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE device_tokens SET revoked_at = ?2 WHERE label = ?1 AND revoked_at IS NULL",
        params![label, stamp(at)],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_their_purpose_until_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let kiosk = "t0k3n-kios-depan-acak".to_string();
        create(&conn, Purpose::Kiosk, "kios depan", &kiosk, now).unwrap();
        assert!(valid(&conn, Purpose::Kiosk, &kiosk).unwrap());
        assert!(!valid(&conn, Purpose::Display, &kiosk).unwrap());
        assert!(!valid(&conn, Purpose::Kiosk, "guess").unwrap());
        assert!(!valid(&conn, Purpose::Kiosk, "").unwrap());
        assert_eq!(revoke(&conn, "kios depan", now).unwrap(), 1);
        assert!(!valid(&conn, Purpose::Kiosk, &kiosk).unwrap());
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
