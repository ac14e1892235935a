//! Kemendagri region codes as imported. Codes that a newer list no longer holds are kept and
//! marked retired: NIKs issued under them stay valid.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::wilayah::{Region, RegionCode, RegionLevel};
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

/// How a level is stored.
pub fn level_code(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Province => "province",
        RegionLevel::Regency => "regency",
        RegionLevel::Kecamatan => "kecamatan",
        RegionLevel::Village => "village",
    }
}

/// What an import changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Codes not known before.
    pub added: usize,
    /// Known codes whose name changed.
    pub renamed: usize,
    /// Known codes with the same name.
    pub unchanged: usize,
    /// Codes of the levels in the list that the list no longer holds.
    pub retired: usize,
    /// Per level, how many codes the list holds.
    pub by_level: Vec<(RegionLevel, usize)>,
}

/// Every known code (retired ones included), for NIK checks.
pub fn all_codes(conn: &Connection) -> Result<HashSet<RegionCode>, StoreError> {
    let mut stmt = conn.prepare("SELECT code FROM regions")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut codes = HashSet::new();
    for code in rows {
        let code = code?;
        codes.insert(code.parse().map_err(|e| StoreError::Corrupt(format!("region {code}: {e}")))?);
    }
    Ok(codes)
}

/// The name of a code.
pub fn name(conn: &Connection, code: &RegionCode) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT name FROM regions WHERE code = ?1", [code.to_string()], |r| r.get(0)).optional()?)
}

/// Upserts a validated list in the caller's transaction.
pub fn import(conn: &Connection, regions: &[Region], at: OffsetDateTime) -> Result<ImportSummary, StoreError> {
    let mut existing: HashMap<String, (String, bool)> = HashMap::new();
    {
        let mut stmt = conn.prepare("SELECT code, name, retired_at IS NOT NULL FROM regions")?;
        let rows =
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get::<_, String>(1)?, r.get::<_, bool>(2)?))))?;
        for row in rows {
            let (code, value) = row?;
            existing.insert(code, value);
        }
    }
    let now = stamp(at);
    let mut summary = ImportSummary::default();
    let mut levels: HashMap<RegionLevel, usize> = HashMap::new();
    let mut in_list: HashSet<String> = HashSet::new();
    let mut upsert = conn.prepare(
        "INSERT INTO regions (code, level, name, parent, retired_at, updated_at) VALUES (?1, ?2, ?3, ?4, NULL, ?5)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, retired_at = NULL, updated_at = excluded.updated_at",
    )?;
    for region in regions {
        let code = region.code.to_string();
        *levels.entry(region.code.level()).or_default() += 1;
        match existing.get(&code) {
            None => summary.added += 1,
            Some((name, _)) if *name != region.name => summary.renamed += 1,
            Some(_) => summary.unchanged += 1,
        }
        upsert.execute(params![
            code,
            level_code(region.code.level()),
            region.name,
            region.code.parent().map(|p| p.to_string()),
            now
        ])?;
        in_list.insert(code);
    }
    for level in levels.keys() {
        let mut stmt = conn.prepare("SELECT code FROM regions WHERE level = ?1 AND retired_at IS NULL")?;
        let codes: Vec<String> = stmt.query_map([level_code(*level)], |r| r.get(0))?.collect::<Result<_, _>>()?;
        for code in codes.into_iter().filter(|c| !in_list.contains(c)) {
            conn.execute("UPDATE regions SET retired_at = ?2, updated_at = ?2 WHERE code = ?1", params![code, now])?;
            summary.retired += 1;
        }
    }
    let mut by_level: Vec<(RegionLevel, usize)> = levels.into_iter().collect();
    by_level.sort();
    summary.by_level = by_level;
    Ok(summary)
}
