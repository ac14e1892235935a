//! Biometric capture transactions: the id a device signs into each capture is issued here,
//! bound to one application and one staff member, and good for [`LIFETIME`]. A capture a
//! browser hands over is taken only under such a transaction, so that a signed capture of one
//! person cannot be replayed into another's record, nor an old one into a new record.

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::stamp;
use crate::db::StoreError;

/// How long a transaction takes captures: the capture of all four modalities with a
/// fingerprint retried fits well within it.
pub const LIFETIME: time::Duration = time::Duration::minutes(20);

/// Issues a transaction for `staff` capturing for `application`; older expired ones go.
pub fn issue(conn: &Connection, application: &str, staff: &str, at: OffsetDateTime) -> Result<String, StoreError> {
    conn.execute("DELETE FROM capture_transactions WHERE issued_at < ?1", [stamp(at - LIFETIME * 3)])?;
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO capture_transactions (id, application, staff, issued_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, application, staff, stamp(at)],
    )?;
    Ok(id)
}

/// Whether `id` was issued here to `staff` for `application`, and is still good at `at`.
pub fn valid(
    conn: &Connection,
    id: &str,
    application: &str,
    staff: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let issued: Option<String> = conn
        .query_row(
            "SELECT issued_at FROM capture_transactions WHERE id = ?1 AND application = ?2 AND staff = ?3",
            params![id, application, staff],
            |r| r.get(0),
        )
        .optional()?;
    Ok(issued
        .and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).ok())
        .is_some_and(|issued| issued <= at + time::Duration::minutes(1) && at - issued <= LIFETIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_is_good_for_its_application_its_staff_and_a_while_only() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let t = issue(&conn, "app-1", "staff-1", now).unwrap();
        assert!(valid(&conn, &t, "app-1", "staff-1", now + time::Duration::minutes(5)).unwrap());
        assert!(!valid(&conn, &t, "app-2", "staff-1", now).unwrap(), "another applicant's record");
        assert!(!valid(&conn, &t, "app-1", "staff-2", now).unwrap(), "another staff member");
        assert!(!valid(&conn, &t, "app-1", "staff-1", now + LIFETIME + time::Duration::seconds(1)).unwrap());
        assert!(!valid(&conn, "made-up", "app-1", "staff-1", now).unwrap(), "one the box never issued");
        // Long expired ones are cleared out as new ones are issued.
        issue(&conn, "app-3", "staff-1", now + LIFETIME * 4).unwrap();
        let left: i64 = conn.query_row("SELECT COUNT(*) FROM capture_transactions", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 1);
    }
}
