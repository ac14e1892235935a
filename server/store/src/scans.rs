//! Scan jobs: each scan at a counter as a row (scanning, done, failed with the device's
//! reason), so staff see what happened to a scan after a reload or a restart. A scan is never
//! retried by itself: the paper has to be on the scanner, so scanning again is the staff's
//! action.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

/// Where a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanStatus {
    /// The scanner is working.
    Scanning,
    /// Scanned and attached.
    Done,
    /// The scanner (or storing its pages) failed; `problem` says why.
    Failed,
}

impl ScanStatus {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            ScanStatus::Scanning => "scanning",
            ScanStatus::Done => "done",
            ScanStatus::Failed => "failed",
        }
    }

    fn from_code(code: &str) -> Option<ScanStatus> {
        Some(match code {
            "scanning" => ScanStatus::Scanning,
            "done" => ScanStatus::Done,
            "failed" => ScanStatus::Failed,
            _ => return None,
        })
    }
}

/// Problem code of a scan the server stopped in the middle of.
pub const INTERRUPTED: &str = "interrupted";

/// One scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanJob {
    /// Id.
    pub id: String,
    /// The scanner.
    pub device_id: String,
    /// Application id.
    pub subject: String,
    /// Checklist line.
    pub item: u32,
    /// Where it is.
    pub status: ScanStatus,
    /// Device error code when it failed.
    pub problem: Option<String>,
    /// Pages scanned.
    pub pages: Option<u32>,
    /// Started.
    pub created_at: String,
}

/// Records a scan starting now; returns its id.
pub fn start(
    conn: &Connection,
    device_id: &str,
    subject: &str,
    item: u32,
    by: &str,
    at: OffsetDateTime,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO scan_jobs (id, device_id, subject, item, status, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, 'scanning', ?5, ?6)",
        params![id, device_id, subject, item, by, stamp(at)],
    )?;
    Ok(id)
}

/// The scan is attached: `pages` pages, the copy `blob`.
pub fn done(conn: &Connection, id: &str, pages: u32, blob: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE scan_jobs SET status = 'done', pages = ?2, blob = ?3, finished_at = ?4 WHERE id = ?1",
        params![id, pages, blob, stamp(at)],
    )?;
    Ok(())
}

/// The scan failed with `problem` (a device error code).
pub fn failed(conn: &Connection, id: &str, problem: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE scan_jobs SET status = 'failed', problem = ?2, finished_at = ?3 WHERE id = ?1 AND status = 'scanning'",
        params![id, problem, stamp(at)],
    )?;
    Ok(())
}

/// At start: scans that were under way when the server stopped failed. Returns how many.
pub fn fail_interrupted(conn: &Connection, at: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE scan_jobs SET status = 'failed', problem = ?1, finished_at = ?2 WHERE status = 'scanning'",
        params![INTERRUPTED, stamp(at)],
    )?)
}

/// The scans of an application, newest first.
pub fn of(conn: &Connection, subject: &str) -> Result<Vec<ScanJob>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, device_id, subject, item, status, problem, pages, created_at FROM scan_jobs
         WHERE subject = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 50",
    )?;
    let rows = stmt.query_map([subject], |r| {
        let status: String = r.get(4)?;
        let Some(status) = ScanStatus::from_code(&status) else {
            return Ok(Err(StoreError::Corrupt(format!("scan status '{status}'"))));
        };
        Ok(Ok(ScanJob {
            id: r.get(0)?,
            device_id: r.get(1)?,
            subject: r.get(2)?,
            item: r.get(3)?,
            status,
            problem: r.get(5)?,
            pages: r.get(6)?,
            created_at: r.get(7)?,
        }))
    })?;
    rows.map(|row| row?).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_is_done_or_failed_and_a_restart_fails_what_was_under_way() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let a = start(&conn, "scanner-1", "app-1", 0, "staff", now).unwrap();
        let b = start(&conn, "scanner-1", "app-1", 1, "staff", now).unwrap();
        let c = start(&conn, "scanner-1", "app-1", 2, "staff", now).unwrap();
        done(&conn, &a, 2, &"ab".repeat(32), now).unwrap();
        failed(&conn, &b, "media_jam", now).unwrap();
        assert_eq!(fail_interrupted(&conn, now).unwrap(), 1);
        // A late answer for a scan already failed does not change it.
        failed(&conn, &c, "offline", now).unwrap();
        let jobs = of(&conn, "app-1").unwrap();
        let by_id = |id: &str| jobs.iter().find(|j| j.id == id).unwrap().clone();
        assert_eq!((by_id(&a).status, by_id(&a).pages), (ScanStatus::Done, Some(2)));
        assert_eq!((by_id(&b).status, by_id(&b).problem.as_deref()), (ScanStatus::Failed, Some("media_jam")));
        assert_eq!((by_id(&c).status, by_id(&c).problem.as_deref()), (ScanStatus::Failed, Some(INTERRUPTED)));
        assert!(of(&conn, "app-2").unwrap().is_empty());
    }
}
