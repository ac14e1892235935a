//! Notices to staff that a regency admin settled a record they worked on (`resolution_notices`).
//! Written when a merge brings a settlement to the box; read by the dashboard; cleared when the
//! staff member opens the application.

use rusqlite::{Connection, params};
use simpul_sync::records::ApplicationDoc;
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

/// One unread notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The application's document id.
    pub doc_id: String,
    /// The application's number (empty if its projection is missing).
    pub number: String,
    /// The settled field (`applicant.name`).
    pub field: String,
    /// When the notice was made (this box's clock, stored form).
    pub created_at: String,
}

/// Makes a notice of each settlement of `doc` for every staff member who worked on it: its
/// author, whoever took one of its steps, and whoever this box's audit log names for a change
/// of it (not the admin who settled it). A settlement already noticed is left as it is, read or
/// not. Answers how many notices are new.
pub fn note_settlements(
    conn: &Connection,
    doc_id: &str,
    doc: &ApplicationDoc,
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    if doc.resolutions.is_empty() {
        return Ok(0);
    }
    let mut audited = conn.prepare_cached("SELECT DISTINCT actor FROM audit_log WHERE subject = ?1")?;
    let editors: Vec<String> = audited
        .query_map([doc_id], |r| r.get::<_, String>(0))?
        .filter_map(|a| a.ok().and_then(|a| a.strip_prefix("staff:").map(str::to_string)))
        .collect();
    let mut staff: Vec<&str> = std::iter::once(doc.created_by.as_str())
        .chain(doc.steps.iter().map(|s| s.by.as_str()))
        .chain(editors.iter().map(String::as_str))
        .collect();
    staff.retain(|s| !s.is_empty());
    staff.sort_unstable();
    staff.dedup();
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO resolution_notices (doc_id, resolution, staff_id, field, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut new = 0;
    for r in &doc.resolutions {
        let key = format!("{}@{}", r.field, r.at);
        for who in staff.iter().filter(|s| **s != r.by) {
            new += insert.execute(params![doc_id, key, who, r.field, stamp(now)])?;
        }
    }
    Ok(new)
}

/// The unread notices of `staff_id`, newest first.
pub fn unread(conn: &Connection, staff_id: &str, limit: u32) -> Result<Vec<Notice>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.doc_id, COALESCE(a.number, ''), n.field, n.created_at
         FROM resolution_notices n LEFT JOIN applications a ON a.id = n.doc_id
         WHERE n.staff_id = ?1 AND n.seen_at IS NULL ORDER BY n.created_at DESC, n.doc_id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![staff_id, limit], |r| {
            Ok(Notice { doc_id: r.get(0)?, number: r.get(1)?, field: r.get(2)?, created_at: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Marks the notices of application `doc_id` read for `staff_id`.
pub fn mark_read(conn: &Connection, doc_id: &str, staff_id: &str, now: OffsetDateTime) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE resolution_notices SET seen_at = ?3 WHERE doc_id = ?1 AND staff_id = ?2 AND seen_at IS NULL",
        params![doc_id, staff_id, stamp(now)],
    )?)
}

#[cfg(test)]
mod tests {
    use simpul_sync::records::ResolutionDoc;
    use simpul_tests::samples::application;

    use super::*;
    use crate::audit::{self, Actor};

    fn settled(field: &str, at: &str) -> ResolutionDoc {
        ResolutionDoc {
            field: field.into(),
            candidates: vec!["I Made Contoh".into(), "I Made Kontoh".into()],
            value: Some("I Made Contoh".into()),
            reason: "Sesuai KTP-el".into(),
            by: "admin-1".into(),
            at: at.into(),
        }
    }

    #[test]
    fn everyone_who_worked_on_a_settled_record_is_told_once_until_they_open_it() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let mut doc = application();
        assert_eq!(note_settlements(&conn, "doc-1", &doc, now).unwrap(), 0, "nothing settled, nothing told");

        // staff-1 opened it; staff-2 corrected it on this box (audited); an unrelated change by
        // staff-3 concerns another record.
        audit::record(&conn, now, &Actor::Staff("staff-2".into()), "applicant_updated", Some("doc-1"), None).unwrap();
        audit::record(&conn, now, &Actor::Staff("staff-3".into()), "applicant_updated", Some("doc-2"), None).unwrap();
        doc.resolutions.push(settled("applicant.name", "2026-11-22T08:00:00Z"));
        assert_eq!(note_settlements(&conn, "doc-1", &doc, now).unwrap(), 2);
        // The same settlement merged again tells nobody twice.
        assert_eq!(note_settlements(&conn, "doc-1", &doc, now).unwrap(), 0);
        assert_eq!(unread(&conn, "staff-1", 10).unwrap().len(), 1);
        assert_eq!(unread(&conn, "staff-2", 10).unwrap()[0].field, "applicant.name");
        assert!(unread(&conn, "staff-3", 10).unwrap().is_empty());
        assert!(unread(&conn, "admin-1", 10).unwrap().is_empty());

        // Opening the record reads it; a later settlement is a new notice.
        assert_eq!(mark_read(&conn, "doc-1", "staff-1", now).unwrap(), 1);
        assert!(unread(&conn, "staff-1", 10).unwrap().is_empty());
        assert_eq!(note_settlements(&conn, "doc-1", &doc, now).unwrap(), 0, "a read notice stays read");
        doc.resolutions.push(settled("status", "2026-11-22T09:00:00Z"));
        assert_eq!(note_settlements(&conn, "doc-1", &doc, now).unwrap(), 2);
        assert_eq!(unread(&conn, "staff-1", 10).unwrap()[0].field, "status");
        assert_eq!(unread(&conn, "staff-2", 10).unwrap().len(), 2);
    }
}
