//! Small key-value settings of the box: its role and the unit it serves.

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::office::{BoxRole, Unit};

use crate::db::StoreError;

const UNIT_CODE: &str = "unit.code";
const UNIT_NAME: &str = "unit.name";
const UNIT_ROLE: &str = "unit.role";
const STATION: &str = "numbering.station";
/// The hub address a box enrolled with.
pub const HUB_URL: &str = "sync.hub_url";

pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn put(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The unit this box serves and the role it was set up for, once set.
pub fn unit(conn: &Connection) -> Result<Option<(BoxRole, Unit)>, StoreError> {
    let (Some(code), Some(name), Some(role)) = (get(conn, UNIT_CODE)?, get(conn, UNIT_NAME)?, get(conn, UNIT_ROLE)?)
    else {
        return Ok(None);
    };
    let code = code.parse().map_err(|e| StoreError::Corrupt(format!("unit code: {e}")))?;
    let role = match role.as_str() {
        "office" => BoxRole::Office,
        "hub" => BoxRole::Hub,
        other => return Err(StoreError::Corrupt(format!("unit role '{other}'"))),
    };
    Ok(Some((role, Unit { code, name })))
}

/// Records the unit this box serves.
pub fn set_unit(conn: &Connection, role: BoxRole, unit: &Unit) -> Result<(), StoreError> {
    put(conn, UNIT_CODE, &unit.code.to_string())?;
    put(conn, UNIT_NAME, &unit.name)?;
    put(conn, UNIT_ROLE, role.code())?;
    Ok(())
}

/// The numbering station of this box among its office's boxes (1 until the hub gives another
/// at enrollment; see `simpul_domain::application::station_sequence`).
pub fn station(conn: &Connection) -> Result<u32, StoreError> {
    Ok(get(conn, STATION)?.and_then(|s| s.parse().ok()).filter(|s| *s >= 1).unwrap_or(1))
}

/// Records the numbering station the hub gave this box.
pub fn set_station(conn: &Connection, station: u32) -> Result<(), StoreError> {
    put(conn, STATION, &station.max(1).to_string())
}
