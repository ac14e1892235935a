//! The append-only audit log: who did what to which record. Kept in the same transaction as the
//! change it describes. It may name staff; it never holds a citizen's personal data in clear.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A staff account (its id).
    Staff(String),
    /// The command line on the box.
    Cli,
    /// The program itself (demo seeding, migrations).
    System,
    /// Someone not logged in, by client address.
    Anonymous(String),
}

impl Actor {
    fn code(&self) -> String {
        match self {
            Actor::Staff(id) => format!("staff:{id}"),
            Actor::Cli => "cli".into(),
            Actor::System => "system".into(),
            Actor::Anonymous(addr) => format!("anon:{addr}"),
        }
    }
}

/// Appends one entry.
pub fn record(
    conn: &Connection,
    at: OffsetDateTime,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![stamp(at), actor.code(), action, subject, detail],
    )?;
    Ok(())
}

/// One entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Actor code.
    pub actor: String,
    /// Action.
    pub action: String,
    /// Subject.
    pub subject: Option<String>,
    /// Detail.
    pub detail: Option<String>,
}

/// The last `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare("SELECT actor, action, subject, detail FROM audit_log ORDER BY seq DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Entry { actor: r.get(0)?, action: r.get(1)?, subject: r.get(2)?, detail: r.get(3)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
