//! The service catalog: each standard stored whole (as JSON of the domain type) with the
//! columns the lists need.

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::catalog::ServiceStandard;
use time::OffsetDateTime;

use super::{parse_stamp, stamp};
use crate::db::StoreError;

/// A stored catalog entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Id (UUID v4).
    pub id: String,
    /// The standard.
    pub standard: ServiceStandard,
    /// File name it was imported from.
    pub source: Option<String>,
    /// When it was last imported.
    pub imported_at: OffsetDateTime,
}

/// Whether an import created or replaced an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new entry.
    Created,
    /// The same standard (same government, agency and title) imported again.
    Updated,
}

/// Namespace of catalog entry ids.
const CATALOG_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5d1b_0a0c_7c3e_4f52_9a51_c47a_1095_2e01);

/// The id of the entry of a standard: derived from its natural key, so the hub and every box
/// that import the same standard name it alike, and applications refer to it everywhere.
pub fn entry_id(natural_key: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(&CATALOG_NAMESPACE, natural_key.as_bytes())
}

/// Stores a standard, replacing an earlier import of the same standard. Returns its id.
pub fn upsert(
    conn: &Connection,
    standard: &ServiceStandard,
    source: Option<&str>,
    at: OffsetDateTime,
) -> Result<(String, Upserted), StoreError> {
    let key = standard.natural_key();
    let json = serde_json::to_string(standard).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let existing: Option<String> =
        conn.query_row("SELECT id FROM catalog_services WHERE natural_key = ?1", [&key], |r| r.get(0)).optional()?;
    let now = stamp(at);
    match existing {
        Some(id) => {
            conn.execute(
                "UPDATE catalog_services SET title = ?2, kind = ?3, standard = ?4, source = ?5, imported_at = ?6,
                 updated_at = ?6 WHERE id = ?1",
                params![id, standard.title, standard.kind.code(), json, source, now],
            )?;
            Ok((id, Upserted::Updated))
        }
        None => {
            let id = entry_id(&key).to_string();
            conn.execute(
                "INSERT INTO catalog_services (id, natural_key, title, kind, standard, source, imported_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![id, key, standard.title, standard.kind.code(), json, source, now],
            )?;
            Ok((id, Upserted::Created))
        }
    }
}

fn decode(id: String, json: String, source: Option<String>, imported_at: String) -> Result<Entry, StoreError> {
    let standard: ServiceStandard =
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("catalog entry {id}: {e}")))?;
    let imported_at =
        parse_stamp(&imported_at).ok_or_else(|| StoreError::Corrupt(format!("catalog entry {id}: time")))?;
    Ok(Entry { id, standard, source, imported_at })
}

/// Every entry, by title.
pub fn list(conn: &Connection) -> Result<Vec<Entry>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT id, standard, source, imported_at FROM catalog_services ORDER BY title COLLATE NOCASE")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.map(|row| {
        let (id, json, source, at) = row?;
        decode(id, json, source, at)
    })
    .collect()
}

/// One entry.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Entry>, StoreError> {
    let row: Option<(String, String, Option<String>, String)> = conn
        .query_row("SELECT id, standard, source, imported_at FROM catalog_services WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(id, json, source, at)| decode(id, json, source, at)).transpose()
}

/// How many entries there are.
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM catalog_services", [], |r| r.get::<_, i64>(0))?.max(0) as u64)
}
