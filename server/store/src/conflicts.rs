//! The hub's conflict inbox: fields a merge left with concurrent values, until a regency admin
//! settles them.

use rusqlite::{Connection, OptionalExtension, params};
use simpul_sync::merge::ConflictValue;
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

/// One case in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictRow {
    /// Case number.
    pub id: i64,
    /// Document id.
    pub doc_id: String,
    /// Owning office.
    pub office: String,
    /// Dotted field path.
    pub field: String,
    /// The competing values and where each came from.
    pub candidates: Vec<ConflictValue>,
    /// When the hub found it.
    pub detected_at: String,
    /// When settled.
    pub resolved_at: Option<String>,
    /// Who settled it.
    pub resolved_by: Option<String>,
    /// The value chosen.
    pub value: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

impl ConflictRow {
    /// A short fingerprint of the candidates: a decision made on what a person saw is refused
    /// when a later sync changed the candidates in between.
    pub fn revision(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for c in &self.candidates {
            hash.update(c.change.as_bytes());
            hash.update([0]);
            hash.update(c.value.as_bytes());
            hash.update([0]);
        }
        hash.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Records (or refreshes) an open case for a field.
pub fn open(
    conn: &Connection,
    doc_id: &str,
    office: &str,
    field: &str,
    candidates: &[ConflictValue],
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(candidates).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.execute(
        "INSERT INTO conflicts (doc_id, office, field, candidates, detected_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (doc_id, field) WHERE resolved_at IS NULL DO UPDATE SET candidates = excluded.candidates",
        params![doc_id, office, field, json, stamp(now)],
    )?;
    Ok(())
}

/// `resolved_by` of a case a later merge settled, not a person.
pub const CLOSED_BY_MERGE: &str = "merge";

/// Closes open cases of a document whose fields no longer conflict (settled on a box by a
/// later edit that saw every value).
pub fn close_settled(
    conn: &Connection,
    doc_id: &str,
    still_open: &[String],
    now: OffsetDateTime,
) -> Result<usize, StoreError> {
    let mut closed = 0;
    for row in list_for(conn, doc_id, true)? {
        if !still_open.contains(&row.field) {
            closed += conn.execute(
                "UPDATE conflicts SET resolved_at = ?2, resolved_by = ?3, reason = 'settled by a later edit' WHERE id = ?1",
                params![row.id, stamp(now), CLOSED_BY_MERGE],
            )?;
        }
    }
    Ok(closed)
}

/// Closes an open case that no person decided (a rule found it no longer applies); nothing
/// when it is already closed.
pub fn close(conn: &Connection, id: i64, by: &str, reason: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE conflicts SET resolved_at = ?2, resolved_by = ?3, reason = ?4 WHERE id = ?1 AND resolved_at IS NULL",
        params![id, stamp(now), by, reason],
    )?;
    Ok(())
}

/// Open cases of a field, on any record, one of whose candidates is exactly `value`.
pub fn open_mentioning(conn: &Connection, field: &str, value: &str) -> Result<Vec<ConflictRow>, StoreError> {
    // A prefilter on the stored JSON; the exact check is on the parsed candidates.
    let needle = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sql = format!(
        "SELECT {COLUMNS} FROM conflicts WHERE field = ?1 AND resolved_at IS NULL AND instr(candidates, ?2) > 0 ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![field, needle], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(finish(rows)?.into_iter().filter(|c| c.candidates.iter().any(|v| v.value == value)).collect())
}

/// Marks a case settled.
pub fn resolve(
    conn: &Connection,
    id: i64,
    by: &str,
    value: Option<&str>,
    reason: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE conflicts SET resolved_at = ?2, resolved_by = ?3, value = ?4, reason = ?5 WHERE id = ?1 AND resolved_at IS NULL",
        params![id, stamp(now), by, value, reason],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ConflictRow, String)> {
    Ok((
        ConflictRow {
            id: r.get(0)?,
            doc_id: r.get(1)?,
            office: r.get(2)?,
            field: r.get(3)?,
            candidates: Vec::new(),
            detected_at: r.get(5)?,
            resolved_at: r.get(6)?,
            resolved_by: r.get(7)?,
            value: r.get(8)?,
            reason: r.get(9)?,
        },
        r.get(4)?,
    ))
}

fn finish(rows: Vec<(ConflictRow, String)>) -> Result<Vec<ConflictRow>, StoreError> {
    rows.into_iter()
        .map(|(mut c, json)| {
            c.candidates =
                serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("conflict {}: {e}", c.id)))?;
            Ok(c)
        })
        .collect()
}

const COLUMNS: &str = "id, doc_id, office, field, candidates, detected_at, resolved_at, resolved_by, value, reason";

/// Cases of one document (only open ones when `open_only`).
pub fn list_for(conn: &Connection, doc_id: &str, open_only: bool) -> Result<Vec<ConflictRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM conflicts WHERE doc_id = ?1 {} ORDER BY id",
        if open_only { "AND resolved_at IS NULL" } else { "" }
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([doc_id], row)?.collect::<Result<Vec<_>, _>>()?;
    finish(rows)
}

/// Open cases, oldest first.
pub fn list_open(conn: &Connection, limit: u32) -> Result<Vec<ConflictRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM conflicts WHERE resolved_at IS NULL ORDER BY id LIMIT ?1");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([limit], row)?.collect::<Result<Vec<_>, _>>()?;
    finish(rows)
}

/// One case.
pub fn get(conn: &Connection, id: i64) -> Result<Option<ConflictRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM conflicts WHERE id = ?1");
    let found = conn.query_row(&sql, [id], row).optional()?;
    Ok(finish(found.into_iter().collect())?.pop())
}
