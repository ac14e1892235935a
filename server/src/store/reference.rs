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

#[cfg(test)]
mod tests {
    use simpul_domain::office::BoxRole;

    use super::*;
    use crate::store::staff::{self, NewAccount};

    fn db(role: BoxRole) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::db::open_sync(&dir.path().join("t.sqlite3")).unwrap();
        crate::demo::seed(&mut conn, role, OffsetDateTime::now_utc()).unwrap();
        (dir, conn)
    }

    fn add(conn: &Connection, username: &str, role: Role, office: &str) -> String {
        let username = Username::parse(username).unwrap();
        let hash = crate::auth::hash_password("rahasia-sekali-123").unwrap();
        let new = NewAccount {
            username: &username,
            display_name: "Akun Hub",
            role,
            office: Some(office.parse().unwrap()),
            password_hash: &hash,
        };
        staff::insert(conn, &new, OffsetDateTime::now_utc()).unwrap()
    }

    fn pull_all(hub: &Connection, boxed: &Connection, office: &RegionCode, limit: usize) -> usize {
        let mut batches = 0;
        loop {
            let batch = rows_after(hub, applied(boxed).unwrap(), office, limit).unwrap();
            assert!(batch.rows.len() <= limit);
            apply(boxed, &batch, office, OffsetDateTime::now_utc()).unwrap();
            batches += 1;
            if !batch.more {
                return batches;
            }
        }
    }

    #[test]
    fn a_box_gets_its_office_accounts_catalog_regions_and_holidays_in_pages() {
        let (_h, hub) = db(BoxRole::Hub);
        let (_b, boxed) = db(BoxRole::Office);
        let office: RegionCode = "51.03.02".parse().unwrap();
        let sari = add(&hub, "sari", Role::Petugas, "51.03.02");
        add(&hub, "luar", Role::Petugas, "51.03.01");
        hub.execute(
            "INSERT INTO holidays (date, name, kind) VALUES ('2026-08-05', 'Hari Raya Galungan', 'regional')",
            [],
        )
        .unwrap();
        let batches = pull_all(&hub, &boxed, &office, 7);
        assert!(batches > 3, "small pages: {batches}");
        assert_eq!(applied(&boxed).unwrap(), current(&hub).unwrap());
        let got = staff::by_username(&boxed, "sari").unwrap().unwrap();
        assert_eq!((got.id, got.role, got.active), (sari.clone(), Role::Petugas, true));
        assert!(staff::by_username(&boxed, "luar").unwrap().is_none(), "another office's account stayed away");
        let kind: String =
            boxed.query_row("SELECT kind FROM holidays WHERE date = '2026-08-05'", [], |r| r.get(0)).unwrap();
        assert_eq!(kind, "regional");
        let ids = |c: &Connection| {
            let mut s = c.prepare("SELECT id FROM catalog_services ORDER BY id").unwrap();
            s.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
        };
        assert_eq!(ids(&hub), ids(&boxed), "a standard has the same id everywhere");
        let orphans: i64 = boxed
            .query_row("SELECT COUNT(*) FROM regions WHERE parent IS NULL AND level != 'province'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(orphans, 0);

        // Nothing new: nothing sent. Importing the same list again changes no revision.
        let list = simpul_domain::wilayah::parse_region_list(
            include_str!("../../demo/wilayah-demo.csv"),
            &std::collections::HashSet::new(),
        )
        .unwrap();
        crate::store::regions::import(&hub, &list, OffsetDateTime::now_utc()).unwrap();
        let batch = rows_after(&hub, applied(&boxed).unwrap(), &office, 100).unwrap();
        assert!(batch.rows.is_empty() && !batch.more);

        // Disabling at the hub reaches the box and ends the account's sessions there.
        let epoch = staff::by_id(&boxed, &sari).unwrap().unwrap().session_epoch;
        staff::set_active(&hub, &sari, false, OffsetDateTime::now_utc()).unwrap();
        pull_all(&hub, &boxed, &office, 100);
        let got = staff::by_id(&boxed, &sari).unwrap().unwrap();
        assert!(!got.active && got.session_epoch > epoch);

        // Moved to another office: the box disables its copy.
        staff::set_active(&hub, &sari, true, OffsetDateTime::now_utc()).unwrap();
        pull_all(&hub, &boxed, &office, 100);
        assert!(staff::by_id(&boxed, &sari).unwrap().unwrap().active);
        hub.execute("UPDATE staff SET office_code = '51.03.01' WHERE id = ?1", [&sari]).unwrap();
        pull_all(&hub, &boxed, &office, 100);
        assert!(!staff::by_id(&boxed, &sari).unwrap().unwrap().active);
    }

    #[test]
    fn a_password_changed_at_the_box_reaches_the_hub_and_a_later_reset_there_wins() {
        use staff::CredentialOutcome;
        let (_h, hub) = db(BoxRole::Hub);
        let (_b, boxed) = db(BoxRole::Office);
        let office: RegionCode = "51.03.02".parse().unwrap();
        let sari = add(&hub, "sari", Role::Petugas, "51.03.02");
        pull_all(&hub, &boxed, &office, 1000);
        let t0 = OffsetDateTime::now_utc();
        let hash = |c: &Connection| staff::by_id(c, &sari).unwrap().unwrap().password_hash;

        // The owner changes it at the box; the hub's copy coming down does not undo it.
        let mine = crate::auth::hash_password("kopi-bali-pagi-9").unwrap();
        staff::change_own_password(&boxed, &sari, &mine, t0).unwrap();
        hub.execute("UPDATE staff SET display_name = 'Sari Dewi' WHERE id = ?1", [&sari]).unwrap();
        pull_all(&hub, &boxed, &office, 1000);
        assert_eq!(hash(&boxed), mine, "a change waiting for the hub stays");
        let pending = staff::pending_credentials(&boxed).unwrap();
        assert_eq!(pending.len(), 1);

        // At the hub: taken, audited by the caller; another office's box may not send it.
        let other: RegionCode = "51.03.01".parse().unwrap();
        assert_eq!(
            staff::take_credential(&hub, &pending[0], &other, t0).unwrap(),
            Err(simpul_sync::reference::CredentialRefusal::OtherOffice)
        );
        assert_eq!(staff::take_credential(&hub, &pending[0], &office, t0).unwrap(), Ok(CredentialOutcome::Taken));
        assert_eq!(hash(&hub), mine);
        // Sent again (the answer was lost): still taken, nothing else happens.
        assert_eq!(staff::take_credential(&hub, &pending[0], &office, t0).unwrap(), Ok(CredentialOutcome::Taken));
        let unknown =
            simpul_sync::reference::CredentialChange { staff: uuid::Uuid::from_u128(9), ..pending[0].clone() };
        assert_eq!(staff::take_credential(&hub, &unknown, &office, t0).unwrap(), Ok(CredentialOutcome::UnknownAccount));
        staff::credentials_delivered(&boxed, &pending).unwrap();
        assert!(staff::pending_credentials(&boxed).unwrap().is_empty());

        // An admin resets it at the hub later: the reset stands against the older change and
        // reaches the box.
        let reset = crate::auth::hash_password("reset-oleh-admin-7").unwrap();
        staff::set_password(&hub, &sari, &reset, t0 + time::Duration::seconds(60)).unwrap();
        // Meanwhile the box still held its own hash: a stale change sends the hub's row again.
        boxed.execute("UPDATE staff SET password_hash = ?2 WHERE id = ?1", [&sari, &mine]).unwrap();
        let before = current(&hub).unwrap();
        assert_eq!(staff::take_credential(&hub, &pending[0], &office, t0).unwrap(), Ok(CredentialOutcome::Stale));
        assert!(current(&hub).unwrap() > before);
        assert_eq!(hash(&hub), reset);
        pull_all(&hub, &boxed, &office, 1000);
        assert_eq!(hash(&boxed), reset);

        // A box clock an hour ahead: the change counts as made now, so a reset later still wins.
        let ahead = simpul_sync::reference::CredentialChange {
            password_hash: crate::auth::hash_password("jam-kotak-maju-5").unwrap(),
            changed_at: OffsetDateTime::now_utc().unix_timestamp() + 3600,
            ..pending[0].clone()
        };
        // (The hub's clock two minutes on, past the reset above.)
        let now = OffsetDateTime::now_utc() + time::Duration::seconds(120);
        assert_eq!(staff::take_credential(&hub, &ahead, &office, now).unwrap(), Ok(CredentialOutcome::Taken));
        let set_at: i64 =
            hub.query_row("SELECT password_set_at FROM staff WHERE id = ?1", [&sari], |r| r.get(0)).unwrap();
        assert_eq!(set_at, now.unix_timestamp());
    }

    #[test]
    fn a_hub_account_takes_a_local_username_and_the_local_one_is_disabled() {
        let (_h, hub) = db(BoxRole::Hub);
        let (_b, boxed) = db(BoxRole::Office);
        let office: RegionCode = "51.03.02".parse().unwrap();
        let local = staff::by_username(&boxed, "petugas").unwrap().unwrap();
        let from_hub = add(&hub, "petugas", Role::Petugas, "51.03.02");
        pull_all(&hub, &boxed, &office, 1000);
        assert_eq!(staff::by_username(&boxed, "petugas").unwrap().unwrap().id, from_hub);
        let moved = staff::by_id(&boxed, &local.id).unwrap().unwrap();
        assert!(!moved.active && moved.username.as_str().starts_with("petugas-"));
    }

    #[test]
    fn a_bad_batch_is_refused_whole() {
        let (_b, boxed) = db(BoxRole::Office);
        let office: RegionCode = "51.03.02".parse().unwrap();
        let before = staff::count(&boxed).unwrap();
        let good = StaffRow {
            id: uuid::Uuid::from_u128(5),
            username: "baru".into(),
            display_name: "Baru".into(),
            role: Role::Petugas,
            office: Some(office),
            password_hash: crate::auth::hash_password("rahasia-sekali-123").unwrap(),
            active: true,
            session_epoch: 0,
        };
        let cases = [
            ReferenceRow::Staff(StaffRow { role: Role::AdminKabupaten, ..good.clone() }),
            ReferenceRow::Staff(StaffRow { office: Some("51.03.01".parse().unwrap()), ..good.clone() }),
            ReferenceRow::Staff(StaffRow { password_hash: "plain".into(), ..good.clone() }),
            ReferenceRow::Staff(StaffRow { username: "../root".into(), ..good.clone() }),
            ReferenceRow::Service(ServiceRow { id: uuid::Uuid::from_u128(6), standard_json: "{".into(), source: None }),
            ReferenceRow::Holiday(HolidayRow {
                date: "2026-02-30".into(),
                name: "X".into(),
                kind: HolidayKind::National,
            }),
        ];
        for bad in cases {
            let batch = ReferenceBatch {
                rows: vec![ReferenceRow::Staff(good.clone()), bad.clone()],
                upto: Revision(99),
                more: false,
            };
            let tx = boxed.unchecked_transaction().unwrap();
            let result = apply(&tx, &batch, &office, OffsetDateTime::now_utc());
            assert!(matches!(result, Err(ReferenceError::Invalid(_))), "{bad:?}: {result:?}");
            drop(tx);
            assert_eq!(staff::count(&boxed).unwrap(), before);
            assert_eq!(applied(&boxed).unwrap(), Revision(0));
        }
    }
}
