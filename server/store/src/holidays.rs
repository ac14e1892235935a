//! The holiday calendar as data: national holidays and cuti bersama imported from a CSV list
//! (`tanggal,nama,jenis`), plus regional days off.

use rusqlite::{Connection, params};
use simpul_domain::calendar::{HolidayKind, parse_holiday_list};
use simpul_sync::records::date_text;

use crate::db::StoreError;
use simpul_domain::calendar::{Calendar, Holiday};

/// Why a holiday list was not imported.
#[derive(Debug, thiserror::Error)]
pub enum HolidayImportError {
    /// Lines with problems.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<simpul_domain::calendar::HolidayListError>),
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports (adds or replaces by date) every holiday of a list. Returns how many.
pub fn import(conn: &Connection, text: &str) -> Result<usize, HolidayImportError> {
    let list = parse_holiday_list(text).map_err(HolidayImportError::Invalid)?;
    for h in &list {
        upsert(conn, h.date, &h.name, h.kind)?;
    }
    Ok(list.len())
}

/// Adds or replaces the day off on `date`.
pub fn upsert(conn: &Connection, date: time::Date, name: &str, kind: HolidayKind) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO holidays (date, name, kind) VALUES (?1, ?2, ?3)
         ON CONFLICT (date) DO UPDATE SET name = excluded.name, kind = excluded.kind",
        params![date_text(date), name, kind_code(kind)],
    )?;
    Ok(())
}

/// How a kind of day off is stored.
fn kind_code(kind: HolidayKind) -> &'static str {
    match kind {
        HolidayKind::National => "national",
        HolidayKind::CutiBersama => "cuti_bersama",
        HolidayKind::Regional => "regional",
    }
}

/// How a stored kind of day off reads back (anything unknown counts as regional).
fn kind_of(code: &str) -> HolidayKind {
    match code {
        "national" => HolidayKind::National,
        "cuti_bersama" => HolidayKind::CutiBersama,
        _ => HolidayKind::Regional,
    }
}

/// The office calendar: the working week and every day off as imported.
pub fn calendar(conn: &Connection) -> Result<Calendar, StoreError> {
    let mut stmt = conn.prepare("SELECT date, name, kind FROM holidays")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut holidays = Vec::new();
    for row in rows {
        let (date, name, kind) = row?;
        let date = time::Date::parse(&date, &time::format_description::well_known::Iso8601::DATE)
            .map_err(|_| StoreError::Corrupt(format!("holiday {date}")))?;
        holidays.push(Holiday { date, name, kind: kind_of(&kind) });
    }
    Ok(Calendar::with_holidays(holidays))
}
