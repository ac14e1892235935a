//! Staff accounts.

use rusqlite::{Connection, OptionalExtension, Row, params};
use simpul_domain::auth::{Role, Username};
use simpul_domain::wilayah::RegionCode;
use time::OffsetDateTime;

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
        "UPDATE staff SET password_hash = ?2, session_epoch = session_epoch + 1, updated_at = ?3 WHERE id = ?1",
        params![id, hash, stamp(at)],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Enables or disables an account; disabling ends its sessions.
pub fn set_active(conn: &Connection, id: &str, active: bool, at: OffsetDateTime) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE staff SET active = ?2, session_epoch = session_epoch + 1, updated_at = ?3 WHERE id = ?1",
        params![id, active, stamp(at)],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
