//! Staff accounts.

use rusqlite::{Connection, OptionalExtension, Row, params};
use simpul_domain::auth::{Role, Username};
use simpul_domain::wilayah::RegionCode;
use time::OffsetDateTime;

use simpul_sync::reference::{
    CredentialChange, CredentialRefusal, MAX_CREDENTIALS_PER_PUSH, credential_acceptable, credential_supersedes,
};

use super::stamp;
use crate::db::StoreError;

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Id (UUID v4).
    pub id: String,
    /// Login name.
    pub username: Username,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Office (kecamatan) the account belongs to; none for regency-level accounts.
    pub office: Option<RegionCode>,
    /// PHC string of the argon2 hash.
    pub password_hash: String,
    /// May log in.
    pub active: bool,
    /// Raised whenever existing sessions must end (password change, disabling).
    pub session_epoch: i64,
}

const COLUMNS: &str = "id, username, display_name, role, office_code, password_hash, active, session_epoch";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Result<Account, StoreError>> {
    let username: String = r.get(1)?;
    let role: String = r.get(3)?;
    let office: Option<String> = r.get(4)?;
    Ok((|| {
        Ok(Account {
            id: r.get(0)?,
            username: Username::parse(&username).map_err(|e| StoreError::Corrupt(format!("username: {e}")))?,
            display_name: r.get(2)?,
            role: role.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
            office: office.map(|o| o.parse().map_err(|e| StoreError::Corrupt(format!("office: {e}")))).transpose()?,
            password_hash: r.get(5)?,
            active: r.get(6)?,
            session_epoch: r.get(7)?,
        })
    })())
}

/// A new account, before it is stored.
pub struct NewAccount<'a> {
    /// Login name.
    pub username: &'a Username,
    /// Display name.
    pub display_name: &'a str,
    /// Role.
    pub role: Role,
    /// Office.
    pub office: Option<RegionCode>,
    /// Argon2 PHC string.
    pub password_hash: &'a str,
}

/// Stores a new account; a taken username is a [`StoreError::Conflict`].
pub fn insert(conn: &Connection, new: &NewAccount<'_>, at: OffsetDateTime) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let result = conn.execute(
        "INSERT INTO staff (id, username, display_name, role, office_code, password_hash, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            id,
            new.username.as_str(),
            new.display_name,
            new.role.code(),
            new.office.map(|o| o.to_string()),
            new.password_hash,
            stamp(at)
        ],
    );
    match result {
        Ok(_) => Ok(id),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::Conflict(format!("the username '{}' is already taken", new.username)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The account with this login name.
pub fn by_username(conn: &Connection, username: &str) -> Result<Option<Account>, StoreError> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM staff WHERE username = ?1"), [username], from_row)
        .optional()?
        .transpose()
}

/// The account with this id.
pub fn by_id(conn: &Connection, id: &str) -> Result<Option<Account>, StoreError> {
    conn.query_row(&format!("SELECT {COLUMNS} FROM staff WHERE id = ?1"), [id], from_row).optional()?.transpose()
}

/// All accounts, by role then name.
pub fn list(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM staff ORDER BY role, username"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.map(|r| r?).collect()
}

/// How many accounts exist.
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM staff", [], |r| r.get::<_, i64>(0))?.max(0) as u64)
}

/// Replaces the password hash and ends every session of the account.
pub fn set_password(conn: &Connection, id: &str, hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE staff SET password_hash = ?2, session_epoch = session_epoch + 1, updated_at = ?3,
                password_set_at = ?4
         WHERE id = ?1",
        params![id, hash, stamp(at), at.unix_timestamp()],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The owner changed their password at this box: the hash is replaced, every session of the
/// account ends, and the change waits in the outbox for the hub (a later change replaces an
/// earlier one still waiting).
pub fn change_own_password(conn: &Connection, id: &str, hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    set_password(conn, id, hash, at)?;
    conn.execute(
        "INSERT INTO credential_outbox (staff_id, password_hash, changed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (staff_id) DO UPDATE SET password_hash = excluded.password_hash, changed_at = excluded.changed_at",
        params![id, hash, at.unix_timestamp()],
    )?;
    Ok(())
}

/// Password changes waiting for the hub, oldest first, at most as many as one push carries.
pub fn pending_credentials(conn: &Connection) -> Result<Vec<CredentialChange>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT staff_id, password_hash, changed_at FROM credential_outbox ORDER BY changed_at, staff_id LIMIT ?1",
    )?;
    let rows = stmt.query_map([MAX_CREDENTIALS_PER_PUSH as i64], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, password_hash, changed_at) = row?;
        let staff = uuid::Uuid::parse_str(&id).map_err(|_| StoreError::Corrupt(format!("staff id {id}")))?;
        out.push(CredentialChange { staff, password_hash, changed_at });
    }
    Ok(out)
}

/// The hub answered a push that carried `sent`: those changes leave the outbox (unless the
/// owner changed the password again meanwhile).
pub fn credentials_delivered(conn: &Connection, sent: &[CredentialChange]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM credential_outbox WHERE staff_id = ?1 AND changed_at = ?2 AND password_hash = ?3",
    )?;
    for c in sent {
        stmt.execute(params![c.staff.to_string(), c.changed_at, c.password_hash])?;
    }
    Ok(())
}

/// What the hub did with a password change from a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialOutcome {
    /// The account's password is the owner's new one.
    Taken,
    /// The hub set the password later (an admin's reset): it stands.
    Stale,
    /// The hub does not know the account (one made at the box): nothing to do.
    UnknownAccount,
}

/// The hub's side of a password change from a box of `office`. A change for an account of
/// another office (moved since, say), or without a sane argon2id hash, is refused.
pub fn take_credential(
    conn: &Connection,
    change: &CredentialChange,
    office: &RegionCode,
    at: OffsetDateTime,
) -> Result<Result<CredentialOutcome, CredentialRefusal>, StoreError> {
    let id = change.staff.to_string();
    let account = by_id(conn, &id)?;
    let holder = account.as_ref().map(|a| (a.role, a.office.as_ref()));
    match credential_acceptable(change, holder, office) {
        Ok(()) => {}
        Err(CredentialRefusal::UnknownAccount) => return Ok(Ok(CredentialOutcome::UnknownAccount)),
        Err(refusal) => return Ok(Err(refusal)),
    }
    let Some(account) = account else { return Ok(Ok(CredentialOutcome::UnknownAccount)) };
    if account.password_hash == change.password_hash {
        // Taken before; the box did not hear the answer and sent it again.
        return Ok(Ok(CredentialOutcome::Taken));
    }
    // A box clock ahead must not put the change after every later reset at the hub.
    let changed_at = change.changed_at.min(at.unix_timestamp());
    let set_at: Option<i64> = conn.query_row("SELECT password_set_at FROM staff WHERE id = ?1", [&id], |r| r.get(0))?;
    if !credential_supersedes(changed_at, set_at) {
        // The box may hold the owner's hash against the hub's: send the hub's row down again.
        conn.execute("UPDATE reference_rev SET rev = rev + 1 WHERE id = 1", [])?;
        conn.execute("UPDATE staff SET rev = (SELECT rev FROM reference_rev WHERE id = 1) WHERE id = ?1", [&id])?;
        return Ok(Ok(CredentialOutcome::Stale));
    }
    // The owner's sessions at the box already ended there; the epoch stays, or the hub's copy
    // coming back down would end the session they changed it from.
    conn.execute(
        "UPDATE staff SET password_hash = ?2, password_set_at = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, change.password_hash, changed_at, stamp(at)],
    )?;
    Ok(Ok(CredentialOutcome::Taken))
}

/// Enables or disables an account; disabling ends its sessions.
pub fn set_active(conn: &Connection, id: &str, active: bool, at: OffsetDateTime) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE staff SET active = ?2, session_epoch = session_epoch + 1, updated_at = ?3 WHERE id = ?1",
        params![id, active, stamp(at)],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
