//! Reference data between hub and box: the hub reads what changed after a box's revision
//! (staff of that office, catalog, regions, holidays); a box applies it as upserts in the
//! exchange's transaction and remembers how far it got.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::auth::{Role, Username};
use simpul_domain::calendar::HolidayKind;
use simpul_domain::catalog::ServiceStandard;
use simpul_domain::wilayah::RegionCode;
use simpul_sync::reference::{
    HolidayRow, ReferenceBatch, ReferenceRow, RegionRow, Revision, ServiceRow, StaffRow, staff_for_office,
};
use time::OffsetDateTime;

use super::{settings, stamp};
use crate::db::StoreError;

const APPLIED_KEY: &str = "sync.reference_applied";

/// Why a batch of reference data was refused. Nothing of it was applied.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// A row breaks a rule.
    #[error("reference data from the hub is not valid: {0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ReferenceError {
    fn from(e: rusqlite::Error) -> Self {
        ReferenceError::Store(e.into())
    }
}

/// The hub's current revision.
pub fn current(conn: &Connection) -> Result<Revision, StoreError> {
    let rev: i64 = conn.query_row("SELECT rev FROM reference_rev WHERE id = 1", [], |r| r.get(0))?;
    Ok(Revision(rev.max(0) as u64))
}

fn rev_param(rev: Revision) -> i64 {
    i64::try_from(rev.0).unwrap_or(i64::MAX)
}

/// Hub: what a box of `office` lacks after revision `after`, at most `limit` rows.
pub fn rows_after(
    conn: &Connection,
    after: Revision,
    office: &RegionCode,
    limit: usize,
) -> Result<ReferenceBatch, StoreError> {
    let now = current(conn)?;
    if after >= now {
        return Ok(ReferenceBatch { rows: Vec::new(), upto: now.max(after), more: false });
    }
    let after_p = rev_param(after);
    let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
    let mut rows: Vec<(i64, ReferenceRow)> = Vec::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT rev, id, username, display_name, role, office_code, password_hash, active, session_epoch
             FROM staff WHERE rev > ?1 ORDER BY rev LIMIT ?2",
        )?;
        let found = stmt.query_map(params![after_p, fetch], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, bool>(7)?,
                r.get::<_, i64>(8)?,
            ))
        })?;
        for row in found {
            let (rev, id, username, display_name, role, office_code, password_hash, active, session_epoch) = row?;
            let id = uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt(format!("staff id {id}")))?;
            let role: Role = role.parse().map_err(|e| StoreError::Corrupt(format!("staff role: {e}")))?;
            let account_office = office_code
                .map(|o| o.parse::<RegionCode>().map_err(|e| StoreError::Corrupt(format!("staff office: {e}"))))
                .transpose()?;
            let staff = StaffRow {
                id,
                username,
                display_name,
                role,
                office: account_office,
                password_hash,
                active,
                session_epoch,
            };
            let row =
                if staff_for_office(&staff, office) { ReferenceRow::Staff(staff) } else { ReferenceRow::StaffGone(id) };
            rows.push((rev, row));
        }
    }
    {
        let mut stmt = conn.prepare_cached(
            "SELECT rev, id, standard, source FROM catalog_services WHERE rev > ?1 ORDER BY rev LIMIT ?2",
        )?;
        let found = stmt.query_map(params![after_p, fetch], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
        })?;
        for row in found {
            let (rev, id, standard_json, source) = row?;
            let id = uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt(format!("catalog id {id}")))?;
            rows.push((rev, ReferenceRow::Service(ServiceRow { id, standard_json, source })));
        }
    }
    {
        let mut stmt = conn.prepare_cached(
            "SELECT rev, code, name, retired_at IS NOT NULL FROM regions WHERE rev > ?1 ORDER BY rev LIMIT ?2",
        )?;
        let found = stmt.query_map(params![after_p, fetch], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })?;
        for row in found {
            let (rev, code, name, retired) = row?;
            let code = code.parse().map_err(|e| StoreError::Corrupt(format!("region {code}: {e}")))?;
            rows.push((rev, ReferenceRow::Region(RegionRow { code, name, retired })));
        }
    }
    {
        let mut stmt =
            conn.prepare_cached("SELECT rev, date, name, kind FROM holidays WHERE rev > ?1 ORDER BY rev LIMIT ?2")?;
        let found = stmt.query_map(params![after_p, fetch], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        for row in found {
            let (rev, date, name, kind) = row?;
            let kind = holiday_kind(&kind).ok_or_else(|| StoreError::Corrupt(format!("holiday kind {kind}")))?;
            rows.push((rev, ReferenceRow::Holiday(HolidayRow { date, name, kind })));
        }
    }
    rows.sort_by_key(|(rev, _)| *rev);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let upto = if more { rows.last().map_or(after, |(rev, _)| Revision((*rev).max(0) as u64)) } else { now };
    Ok(ReferenceBatch { rows: rows.into_iter().map(|(_, row)| row).collect(), upto, more })
}

fn holiday_kind(code: &str) -> Option<HolidayKind> {
    match code {
        "national" => Some(HolidayKind::National),
        "cuti_bersama" => Some(HolidayKind::CutiBersama),
        "regional" => Some(HolidayKind::Regional),
        _ => None,
    }
}

/// Box: the hub's revision applied so far.
pub fn applied(conn: &Connection) -> Result<Revision, StoreError> {
    Ok(Revision(settings::get(conn, APPLIED_KEY)?.and_then(|v| v.parse().ok()).unwrap_or(0)))
}

/// What applying a batch changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Rows applied.
    pub rows: usize,
    /// Local accounts renamed and disabled because a hub account took their username.
    pub displaced_accounts: usize,
    /// Holidays or services changed: due times must be computed again.
    pub calendar_changed: bool,
}

/// Box: applies a batch for office `own`, all or nothing (the caller's transaction).
pub fn apply(
    conn: &Connection,
    batch: &ReferenceBatch,
    own: &RegionCode,
    now: OffsetDateTime,
) -> Result<Applied, ReferenceError> {
    let at = stamp(now);
    let mut out = Applied::default();
    // Parents before children, whatever order the revisions put them in.
    let mut regions: Vec<&RegionRow> = Vec::new();
    for row in &batch.rows {
        match row {
            ReferenceRow::Staff(s) => {
                if !staff_for_office(s, own) {
                    return Err(ReferenceError::Invalid(format!("account {} is not of this office", s.id)));
                }
                out.displaced_accounts += apply_staff(conn, s, &at, now)?;
            }
            ReferenceRow::StaffGone(id) => {
                conn.execute(
                    "UPDATE staff SET active = 0, session_epoch = session_epoch + 1, updated_at = ?2
                     WHERE id = ?1 AND active = 1",
                    params![id.to_string(), at],
                )?;
            }
            ReferenceRow::Service(s) => {
                apply_service(conn, s, &at)?;
                out.calendar_changed = true;
            }
            ReferenceRow::Region(r) => regions.push(r),
            ReferenceRow::Holiday(h) => {
                apply_holiday(conn, h)?;
                out.calendar_changed = true;
            }
        }
        out.rows += 1;
    }
    regions.sort_by_key(|r| r.code);
    for r in regions {
        apply_region(conn, r, &at)?;
    }
    adopt_orphans(conn)?;
    settings::put(conn, APPLIED_KEY, &batch.upto.0.to_string())?;
    Ok(out)
}

fn apply_staff(conn: &Connection, s: &StaffRow, at: &str, now: OffsetDateTime) -> Result<usize, ReferenceError> {
    let username =
        Username::parse(&s.username).map_err(|e| ReferenceError::Invalid(format!("account {}: {e}", s.id)))?;
    if !s.password_hash.starts_with("$argon2id$") || s.password_hash.len() > 512 {
        return Err(ReferenceError::Invalid(format!("account {}: the password hash is not argon2id", s.id)));
    }
    let display = s.display_name.trim();
    if display.is_empty() || display.chars().count() > 120 {
        return Err(ReferenceError::Invalid(format!("account {}: display name", s.id)));
    }
    let id = s.id.to_string();
    // A local account holding the same username gives it up: renamed, disabled, audited.
    let displaced = conn.execute(
        "UPDATE staff SET username = substr(username, 1, 20) || '-' || substr(id, 1, 8), active = 0,
         session_epoch = session_epoch + 1, updated_at = ?3 WHERE username = ?1 AND id != ?2",
        params![username.as_str(), id, at],
    )?;
    if displaced > 0 {
        super::audit::record(conn, now, &super::audit::Actor::System, "account_displaced_by_hub", Some(&id), None)?;
        tracing::warn!(account = %id, "a local account gave its username to an account from the hub");
    }
    conn.execute(
        "INSERT INTO staff (id, username, display_name, role, office_code, password_hash, active, session_epoch,
                            created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, display_name = excluded.display_name,
             role = excluded.role, office_code = excluded.office_code,
             -- A password the owner changed here and the hub has not acknowledged yet stays.
             password_hash = CASE WHEN EXISTS (SELECT 1 FROM credential_outbox o WHERE o.staff_id = staff.id)
                                  THEN staff.password_hash ELSE excluded.password_hash END,
             active = excluded.active, session_epoch = MAX(staff.session_epoch, excluded.session_epoch),
             updated_at = excluded.updated_at",
        params![
            id,
            username.as_str(),
            display,
            s.role.code(),
            s.office.map(|o| o.to_string()),
            s.password_hash,
            s.active,
            s.session_epoch,
            at
        ],
    )?;
    Ok(displaced)
}

fn apply_service(conn: &Connection, s: &ServiceRow, at: &str) -> Result<(), ReferenceError> {
    let standard: ServiceStandard = serde_json::from_str(&s.standard_json)
        .map_err(|e| ReferenceError::Invalid(format!("catalog entry {}: {e}", s.id)))?;
    let key = standard.natural_key();
    let id = s.id.to_string();
    let json = serde_json::to_string(&standard).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let local: Option<String> =
        conn.query_row("SELECT id FROM catalog_services WHERE natural_key = ?1", [&key], |r| r.get(0)).optional()?;
    match local {
        // The same standard under another id (imported before ids were derived from the
        // standard): its content follows the hub, its id stays, as local records use it.
        Some(local) if local != id => {
            conn.execute(
                "UPDATE catalog_services SET title = ?2, kind = ?3, standard = ?4, source = ?5, updated_at = ?6
                 WHERE id = ?1",
                params![local, standard.title, standard.kind.code(), json, s.source, at],
            )?;
        }
        _ => {
            conn.execute(
                "INSERT INTO catalog_services (id, natural_key, title, kind, standard, source, imported_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                 ON CONFLICT (id) DO UPDATE SET natural_key = excluded.natural_key, title = excluded.title,
                     kind = excluded.kind, standard = excluded.standard, source = excluded.source,
                     updated_at = excluded.updated_at",
                params![id, key, standard.title, standard.kind.code(), json, s.source, at],
            )?;
        }
    }
    Ok(())
}

fn apply_holiday(conn: &Connection, h: &HolidayRow) -> Result<(), ReferenceError> {
    let date = time::Date::parse(&h.date, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| ReferenceError::Invalid(format!("holiday date '{}'", h.date)))?;
    let name = h.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ReferenceError::Invalid(format!("holiday {} has no usable name", h.date)));
    }
    crate::holidays::upsert(conn, date, name, h.kind)?;
    Ok(())
}

fn apply_region(conn: &Connection, r: &RegionRow, at: &str) -> Result<(), ReferenceError> {
    let name = r.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ReferenceError::Invalid(format!("region {} has no usable name", r.code)));
    }
    let code = r.code.to_string();
    // The parent is linked only once it is known; `adopt_orphans` links it later.
    let parent: Option<String> = match r.code.parent() {
        Some(p) => {
            conn.query_row("SELECT code FROM regions WHERE code = ?1", [p.to_string()], |row| row.get(0)).optional()?
        }
        None => None,
    };
    conn.execute(
        "INSERT INTO regions (code, level, name, parent, retired_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 THEN ?6 END, ?6)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = COALESCE(excluded.parent, regions.parent),
             retired_at = CASE WHEN ?5 THEN COALESCE(regions.retired_at, ?6) END, updated_at = excluded.updated_at",
        params![code, super::regions::level_code(r.code.level()), name, parent, r.retired, at],
    )?;
    Ok(())
}

/// Links regions that arrived before their parent.
fn adopt_orphans(conn: &Connection) -> Result<(), ReferenceError> {
    let mut stmt = conn.prepare("SELECT code FROM regions WHERE parent IS NULL AND level != 'province'")?;
    let orphans: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if orphans.is_empty() {
        return Ok(());
    }
    let known: HashSet<String> = {
        let mut stmt = conn.prepare("SELECT code FROM regions")?;
        stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    for code in orphans {
        let Ok(parsed) = code.parse::<RegionCode>() else { continue };
        if let Some(parent) = parsed.parent().map(|p| p.to_string()).filter(|p| known.contains(p)) {
            conn.execute("UPDATE regions SET parent = ?2 WHERE code = ?1", params![code, parent])?;
        }
    }
    Ok(())
}
