//! Hub side of enrollment: one-time tokens for an office, and the boxes enrolled with them
//! (known by their certificate's fingerprint).

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::stamp;
use super::tokens::sha256_hex;
use crate::db::StoreError;

/// Why a token was not accepted. Each is logged and answered in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRefusal {
    /// No such token (mistyped, or from another hub).
    #[error("the enrollment token is not known to this hub")]
    Unknown,
    /// Already redeemed.
    #[error("the enrollment token was already used")]
    Used,
    /// Past its expiry.
    #[error("the enrollment token has expired")]
    Expired,
}

impl TokenRefusal {
    /// Stable code for the audit log.
    pub fn code(&self) -> &'static str {
        match self {
            TokenRefusal::Unknown => "unknown",
            TokenRefusal::Used => "used",
            TokenRefusal::Expired => "expired",
        }
    }
}

/// Stores a token for `office`, valid until `expires`.
pub fn create_token(
    conn: &Connection,
    token: &str,
    office: &str,
    now: OffsetDateTime,
    expires: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO enrollment_tokens (token_hash, office, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![sha256_hex(token.as_bytes()), office, stamp(now), stamp(expires)],
    )?;
    Ok(())
}

/// The office a token is for, if it can still be redeemed.
pub fn token_office(
    conn: &Connection,
    token: &str,
    now: OffsetDateTime,
) -> Result<Result<String, TokenRefusal>, StoreError> {
    let row: Option<(String, String, Option<String>)> = conn
        .query_row(
            "SELECT office, expires_at, used_at FROM enrollment_tokens WHERE token_hash = ?1",
            [sha256_hex(token.as_bytes())],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((office, expires, used)) = row else { return Ok(Err(TokenRefusal::Unknown)) };
    if used.is_some() {
        return Ok(Err(TokenRefusal::Used));
    }
    if super::parse_stamp(&expires).is_none_or(|e| e <= now) {
        return Ok(Err(TokenRefusal::Expired));
    }
    Ok(Ok(office))
}

/// Redeems a token for the box with certificate `fingerprint`: marks it used and records the
/// box. Returns the office. Runs in the caller's transaction.
pub fn redeem(
    conn: &Connection,
    token: &str,
    fingerprint: &str,
    receipt_key: Option<&str>,
    now: OffsetDateTime,
) -> Result<Result<String, TokenRefusal>, StoreError> {
    let office = match token_office(conn, token, now)? {
        Ok(office) => office,
        Err(refusal) => return Ok(Err(refusal)),
    };
    conn.execute(
        "UPDATE enrollment_tokens SET used_at = ?2, used_by = ?3 WHERE token_hash = ?1",
        params![sha256_hex(token.as_bytes()), stamp(now), fingerprint],
    )?;
    conn.execute(
        "INSERT INTO enrolled_boxes (fingerprint, office, enrolled_at, receipt_key) VALUES (?1, ?2, ?3, ?4)",
        params![fingerprint, office, stamp(now), receipt_key],
    )?;
    Ok(Ok(office))
}

/// The receipt keys of an office's boxes, revoked ones included (a receipt printed before a
/// box was revoked is still genuine): (certificate fingerprint, public key).
pub fn receipt_keys(conn: &Connection, office: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT fingerprint, receipt_key FROM enrolled_boxes WHERE office = ?1 AND receipt_key IS NOT NULL
         ORDER BY enrolled_at DESC",
    )?;
    let rows = stmt.query_map([office], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Gives the newly enrolled box `fingerprint` its numbering station: the lowest that no other
/// box of the office holds (a box enrolled before stations were kept holds station 1). A
/// revoked box keeps its station for two days, since its numbers carry the date: a box that
/// replaces it the same day never repeats one of its numbers.
pub fn assign_station(
    conn: &Connection,
    fingerprint: &str,
    office: &str,
    now: OffsetDateTime,
) -> Result<u32, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT COALESCE(station, 1) FROM enrolled_boxes
         WHERE office = ?1 AND fingerprint != ?2 AND (revoked_at IS NULL OR revoked_at > ?3)",
    )?;
    let recent = stamp(now - time::Duration::days(2));
    let taken: Vec<i64> =
        stmt.query_map(params![office, fingerprint, recent], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let stations = simpul_domain::application::STATIONS;
    let station = (1..=stations)
        .find(|s| !taken.contains(&i64::from(*s)))
        .unwrap_or_else(|| u32::try_from(taken.len()).unwrap_or(0) % stations + 1);
    conn.execute("UPDATE enrolled_boxes SET station = ?2 WHERE fingerprint = ?1", params![fingerprint, station])?;
    Ok(station)
}

/// The office of an enrolled box, or why it may not sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoxStanding {
    /// Enrolled for this office.
    Enrolled(String),
    /// Was enrolled, then revoked.
    Revoked,
    /// Not known.
    Unknown,
}

/// Looks a box up by its certificate and notes that it was seen.
pub fn standing(conn: &Connection, fingerprint: &str, now: OffsetDateTime) -> Result<BoxStanding, StoreError> {
    let row: Option<(String, Option<String>)> = conn
        .query_row("SELECT office, revoked_at FROM enrolled_boxes WHERE fingerprint = ?1", [fingerprint], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(match row {
        None => BoxStanding::Unknown,
        Some((_, Some(_))) => BoxStanding::Revoked,
        Some((office, None)) => {
            conn.execute(
                "UPDATE enrolled_boxes SET last_seen = ?2 WHERE fingerprint = ?1",
                params![fingerprint, stamp(now)],
            )?;
            BoxStanding::Enrolled(office)
        }
    })
}

/// Revokes every box of `office`. Returns how many.
pub fn revoke_office(conn: &Connection, office: &str, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE enrolled_boxes SET revoked_at = ?2 WHERE office = ?1 AND revoked_at IS NULL",
        params![office, stamp(now)],
    )?)
}

/// Revokes the one box of `office` whose certificate fingerprint starts with `prefix` (as
/// listed: at least 16 hex digits); nothing when none or more than one match. Returns how many.
pub fn revoke_box(conn: &Connection, office: &str, prefix: &str, now: OffsetDateTime) -> Result<usize, StoreError> {
    if prefix.len() < 16 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(0);
    }
    let matching: i64 = conn.query_row(
        "SELECT COUNT(*) FROM enrolled_boxes WHERE office = ?1 AND substr(fingerprint, 1, length(?2)) = ?2",
        params![office, prefix.to_ascii_lowercase()],
        |r| r.get(0),
    )?;
    if matching != 1 {
        return Ok(0);
    }
    Ok(conn.execute(
        "UPDATE enrolled_boxes SET revoked_at = ?3
         WHERE office = ?1 AND substr(fingerprint, 1, length(?2)) = ?2 AND revoked_at IS NULL",
        params![office, prefix.to_ascii_lowercase(), stamp(now)],
    )?)
}

/// One enrolled box as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolledBox {
    /// Certificate fingerprint.
    pub fingerprint: String,
    /// Office code.
    pub office: String,
    /// When enrolled.
    pub enrolled_at: String,
    /// When revoked.
    pub revoked_at: Option<String>,
    /// Last sync.
    pub last_seen: Option<String>,
}

/// Every enrolled box.
pub fn list(conn: &Connection) -> Result<Vec<EnrolledBox>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT fingerprint, office, enrolled_at, revoked_at, last_seen FROM enrolled_boxes ORDER BY office, enrolled_at",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(EnrolledBox {
            fingerprint: r.get(0)?,
            office: r.get(1)?,
            enrolled_at: r.get(2)?,
            revoked_at: r.get(3)?,
            last_seen: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_box_is_revoked_by_its_listed_fingerprint_and_its_office_mates_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("hub.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let (lost, kept) = ("aa11".repeat(16), "aa11aa11aa11aa11bb".to_string() + &"0".repeat(46));
        for print in [&lost, &kept] {
            conn.execute(
                "INSERT INTO enrolled_boxes (fingerprint, office, enrolled_at) VALUES (?1, '51.03.02', ?2)",
                params![print, stamp(now)],
            )
            .unwrap();
        }
        // A prefix both share says nothing; one of another office or too short neither.
        assert_eq!(revoke_box(&conn, "51.03.02", "aa11aa11aa11aa11", now).unwrap(), 0);
        assert_eq!(revoke_box(&conn, "51.03.01", &lost[..18], now).unwrap(), 0);
        assert_eq!(revoke_box(&conn, "51.03.02", "aa11", now).unwrap(), 0);
        assert_eq!(revoke_box(&conn, "51.03.02", &lost[..18].to_uppercase(), now).unwrap(), 1);
        assert_eq!(standing(&conn, &lost, now).unwrap(), BoxStanding::Revoked);
        assert_eq!(standing(&conn, &kept, now).unwrap(), BoxStanding::Enrolled("51.03.02".into()));
    }

    #[test]
    fn a_new_box_takes_the_lowest_station_no_box_in_service_holds() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("hub.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let enroll = |print: &str| {
            conn.execute(
                "INSERT INTO enrolled_boxes (fingerprint, office, enrolled_at) VALUES (?1, '51.03.02', ?2)",
                params![print, stamp(now)],
            )
            .unwrap();
            assign_station(&conn, print, "51.03.02", now).unwrap()
        };
        assert_eq!(enroll("a"), 1);
        assert_eq!(enroll("b"), 2);
        assert_eq!(enroll("c"), 3);
        // Box b is revoked today (lost, replaced): its numbers of today are out there, so its
        // station stays taken; one revoked three days ago is free again.
        conn.execute("UPDATE enrolled_boxes SET revoked_at = ?1 WHERE fingerprint = 'b'", [stamp(now)]).unwrap();
        assert_eq!(enroll("d"), 4);
        let long_ago = stamp(now - time::Duration::days(3));
        conn.execute("UPDATE enrolled_boxes SET revoked_at = ?1 WHERE fingerprint = 'b'", [long_ago]).unwrap();
        assert_eq!(enroll("e"), 2);
        // Another office numbers on its own.
        conn.execute(
            "INSERT INTO enrolled_boxes (fingerprint, office, enrolled_at) VALUES ('x', '51.03.01', ?1)",
            [stamp(now)],
        )
        .unwrap();
        assert_eq!(assign_station(&conn, "x", "51.03.01", now).unwrap(), 1);
    }
}
