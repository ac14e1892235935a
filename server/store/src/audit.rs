//! The append-only audit log: who did what to which record, and who looked at it. A write's
//! entry is kept in the same transaction as the change it describes; reads come in batches
//! ([`record_reads`]). It may name staff; it never holds a citizen's personal data, only ids.
//!
//! The log is a hash chain: each entry stores the SHA-256 of the previous entry's hash and its
//! own fields, so an entry changed, removed or slipped in afterwards breaks every hash after it
//! ([`verify`]). Triggers refuse updates and deletes besides; the chain is what still tells when
//! someone with the key drops them. Entries from before the chain are folded into its first link.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
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

/// Appends one entry (in the caller's transaction when there is one; in a transaction of its
/// own otherwise, so that two writers never link to the same previous entry).
pub fn record(
    conn: &Connection,
    at: OffsetDateTime,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let entry = Fields { at: stamp(at), actor: actor.code(), action: action.to_string(), subject, detail };
    in_own_transaction(conn, |conn| append(conn, &entry))
}

/// A read of personal data, recorded later with others in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who read.
    pub actor: Actor,
    /// What kind of read (`application_viewed`, `file_viewed`, `applications_searched`...).
    pub action: &'static str,
    /// The record or file read (an id or digest, never a personal value).
    pub subject: Option<String>,
    /// Something more that is not personal (how many results a search had).
    pub detail: Option<String>,
}

impl PartialEq for Actor {
    fn eq(&self, other: &Actor) -> bool {
        self.code() == other.code()
    }
}

impl Eq for Actor {}

/// Appends a batch of reads in one transaction (one disk sync for all of them).
pub fn record_reads(conn: &Connection, reads: &[Read]) -> Result<(), StoreError> {
    in_own_transaction(conn, |conn| {
        for read in reads {
            let entry = Fields {
                at: stamp(read.at),
                actor: read.actor.code(),
                action: read.action.to_string(),
                subject: read.subject.as_deref(),
                detail: read.detail.as_deref(),
            };
            append(conn, &entry)?;
        }
        Ok(())
    })
}

struct Fields<'a> {
    at: String,
    actor: String,
    action: String,
    subject: Option<&'a str>,
    detail: Option<&'a str>,
}

fn in_own_transaction(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if !conn.is_autocommit() {
        return f(conn);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f(conn) {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn append(conn: &Connection, entry: &Fields<'_>) -> Result<(), StoreError> {
    let last: Option<Option<String>> =
        conn.query_row("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| r.get(0)).optional()?;
    let previous = match last {
        Some(Some(hash)) => hash,
        // The first link: everything before the chain, folded.
        _ => genesis(conn)?,
    };
    let hash = link(&previous, entry);
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, subject, detail, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![entry.at, entry.actor, entry.action, entry.subject, entry.detail, hash],
    )?;
    Ok(())
}

/// The hash an entry links to when it is the chain's first: the entries from before the chain
/// (none on a box made by this version), each folded in.
fn genesis(conn: &Connection) -> Result<String, StoreError> {
    genesis_before(conn, i64::MAX)
}

fn link(previous: &str, entry: &Fields<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        Some(previous),
        Some(entry.at.as_str()),
        Some(entry.actor.as_str()),
        Some(entry.action.as_str()),
        entry.subject,
        entry.detail,
    ] {
        // Length-prefixed, and a missing value told apart from an empty one.
        match part {
            Some(text) => {
                h.update([1u8]);
                h.update((text.len() as u64).to_le_bytes());
                h.update(text.as_bytes());
            }
            None => h.update([0u8]),
        }
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a check of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry links to the one before it.
    Intact {
        /// Entries in the chain.
        entries: u64,
        /// Entries from before the chain, folded into its first link.
        before_chain: u64,
        /// The last entry's hash (to compare with a copy kept elsewhere).
        head: Option<String>,
    },
    /// The entry at `seq` does not match the chain: it, or one before it, was changed, or an
    /// entry was removed or inserted there.
    Broken {
        /// The first entry that does not match.
        seq: i64,
    },
}

/// The chain's last entry: its position and hash (None on an empty trail).
pub fn head(conn: &Connection) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .query_row("SELECT seq, coalesce(hash, '') FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Checks the whole chain, entry by entry.
pub fn verify(conn: &Connection) -> Result<Verdict, StoreError> {
    let mut stmt = conn.prepare("SELECT seq, at, actor, action, subject, detail, hash FROM audit_log ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut previous: Option<String> = None;
    let (mut entries, mut before_chain) = (0u64, 0u64);
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let (subject, detail): (Option<String>, Option<String>) = (r.get(4)?, r.get(5)?);
        let stored: Option<String> = r.get(6)?;
        let entry = Fields {
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: subject.as_deref(),
            detail: detail.as_deref(),
        };
        match (&previous, stored) {
            (None, None) => before_chain += 1,
            (Some(_), None) => return Ok(Verdict::Broken { seq }),
            (previous_hash, Some(stored)) => {
                let previous_hash = match previous_hash {
                    Some(h) => h.clone(),
                    None => genesis_before(conn, seq)?,
                };
                if link(&previous_hash, &entry) != stored {
                    return Ok(Verdict::Broken { seq });
                }
                entries += 1;
                previous = Some(stored);
            }
        }
    }
    Ok(Verdict::Intact { entries, before_chain, head: previous })
}

/// The first link's previous hash, from the entries before `seq` that have none.
fn genesis_before(conn: &Connection, seq: i64) -> Result<String, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT at, actor, action, subject, detail FROM audit_log WHERE hash IS NULL AND seq < ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([seq])?;
    let mut hash = hex(&Sha256::digest(b"simpul audit chain v1"));
    while let Some(r) = rows.next()? {
        let (subject, detail): (Option<String>, Option<String>) = (r.get(3)?, r.get(4)?);
        let entry = Fields {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            subject: subject.as_deref(),
            detail: detail.as_deref(),
        };
        hash = link(&hash, &entry);
    }
    Ok(hash)
}

/// One entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log.
    pub seq: i64,
    /// When (RFC 3339, the box's clock).
    pub at: String,
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
    let mut stmt =
        conn.prepare("SELECT seq, at, actor, action, subject, detail FROM audit_log ORDER BY seq DESC LIMIT ?1")?;
    let rows = stmt.query_map([limit], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The last `limit` entries about one record or file (`subject`), newest first: every write
/// and read of it, and every search that showed it.
pub fn about(conn: &Connection, subject: &str, limit: u32) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, subject, detail FROM audit_log
         WHERE subject = ?1 OR (action = 'applications_searched' AND instr(detail, ?1) > 0)
         ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![subject, limit], entry)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        detail: r.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(dir: &std::path::Path) -> Connection {
        crate::db::open_sync(&dir.join("t.sqlite3"), &crate::crypt::MasterKey::generate().unwrap().database_key())
            .unwrap()
    }

    fn intact(conn: &Connection) -> u64 {
        match verify(conn).unwrap() {
            Verdict::Intact { entries, .. } => entries,
            broken => panic!("{broken:?}"),
        }
    }

    #[test]
    fn a_changed_removed_or_inserted_entry_breaks_the_chain_where_it_happened() {
        let dir = tempfile::tempdir().unwrap();
        let conn = conn(dir.path());
        // An entry from before the chain (an older version's), then chained ones.
        conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t0', 'cli', 'old')", []).unwrap();
        let now = OffsetDateTime::now_utc();
        for i in 0..5 {
            record(&conn, now, &Actor::Staff(format!("s{i}")), "application_opened", Some("app-1"), None).unwrap();
        }
        let reads: Vec<Read> = (0..3)
            .map(|i| Read {
                at: now,
                actor: Actor::Staff("s9".into()),
                action: "application_viewed",
                subject: Some(format!("app-{i}")),
                detail: None,
            })
            .collect();
        record_reads(&conn, &reads).unwrap();
        assert_eq!(intact(&conn), 8);
        assert!(matches!(verify(&conn).unwrap(), Verdict::Intact { before_chain: 1, head: Some(_), .. }));
        // Someone with the key drops the triggers and rewrites history.
        conn.execute_batch("DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete;")
            .unwrap();
        let seq_of = |n: i64| -> i64 {
            conn.query_row("SELECT seq FROM audit_log ORDER BY seq LIMIT 1 OFFSET ?1", [n], |r| r.get(0)).unwrap()
        };
        let third = seq_of(3);
        conn.execute("UPDATE audit_log SET actor = 'staff:someone-else' WHERE seq = ?1", [third]).unwrap();
        assert_eq!(verify(&conn).unwrap(), Verdict::Broken { seq: third });
        conn.execute("UPDATE audit_log SET actor = 'staff:s2' WHERE seq = ?1", [third]).unwrap();
        assert_eq!(intact(&conn), 8, "put back, it holds again");
        conn.execute("DELETE FROM audit_log WHERE seq = ?1", [third]).unwrap();
        assert_eq!(verify(&conn).unwrap(), Verdict::Broken { seq: seq_of(3) }, "the one after a removal");

        // An entry slipped in without a hash.
        let dir = tempfile::tempdir().unwrap();
        let conn = self::conn(dir.path());
        record(&conn, now, &Actor::Cli, "a", None, None).unwrap();
        conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'cli', 'slipped in')", []).unwrap();
        record(&conn, now, &Actor::Cli, "b", None, None).unwrap();
        assert!(matches!(verify(&conn).unwrap(), Verdict::Broken { .. }));

        // The old entry folded into the first link is covered too.
        let dir = tempfile::tempdir().unwrap();
        let conn = self::conn(dir.path());
        conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t0', 'cli', 'old')", []).unwrap();
        record(&conn, now, &Actor::Cli, "a", None, None).unwrap();
        assert_eq!(intact(&conn), 1);
        conn.execute_batch("DROP TRIGGER audit_log_append_only_update;").unwrap();
        conn.execute("UPDATE audit_log SET action = 'older' WHERE hash IS NULL", []).unwrap();
        assert!(matches!(verify(&conn).unwrap(), Verdict::Broken { .. }));
    }

    #[test]
    fn a_write_beside_another_writer_links_to_the_entry_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = crate::crypt::MasterKey::generate().unwrap().database_key();
        let path = dir.path().join("t.sqlite3");
        drop(crate::db::open_sync(&path, &key).unwrap());
        let now = OffsetDateTime::now_utc();
        std::thread::scope(|s| {
            for t in 0..4 {
                let (path, key) = (&path, &key);
                s.spawn(move || {
                    let conn = crate::db::open_sync(path, key).unwrap();
                    for i in 0..25 {
                        record(&conn, now, &Actor::Staff(format!("{t}-{i}")), "x", None, None).unwrap();
                    }
                });
            }
        });
        let conn = crate::db::open_sync(&path, &key).unwrap();
        assert_eq!(intact(&conn), 100);
    }
}
