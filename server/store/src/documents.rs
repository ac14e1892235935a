//! Replicated records as Automerge documents in SQLite: the full state per document, and every
//! change appended to a local log in order, which is what a sync session reads. Each write
//! happens inside the caller's transaction, together with its projection and audit entry.

use automerge::{ActorId, AutoCommit, ChangeHash};
use autosurgeon::{Hydrate, Reconcile};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::stamp;
use crate::db::StoreError;

pub use simpul_sync::protocol::DocKind;

/// This box's Automerge actor id, created once and kept in the settings table.
pub fn actor(conn: &Connection) -> Result<ActorId, StoreError> {
    let existing: Option<String> =
        conn.query_row("SELECT value FROM settings WHERE key = 'automerge.actor'", [], |r| r.get(0)).optional()?;
    let hex = match existing {
        Some(hex) => hex,
        None => {
            let hex = uuid::Uuid::new_v4().simple().to_string();
            conn.execute("INSERT INTO settings (key, value) VALUES ('automerge.actor', ?1)", [&hex])?;
            hex
        }
    };
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| StoreError::Corrupt("automerge actor id".into()))?;
    Ok(ActorId::from(bytes))
}

/// Forgets this box's actor id, so the next change is made under a new one. Called at every
/// start: a box restored from a backup would otherwise number new changes with sequence
/// numbers its lost changes already used, and Automerge refuses two different changes with
/// the same actor and sequence number, which would stop that document's sync for good.
pub fn rotate_actor(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM settings WHERE key = 'automerge.actor'", [])?;
    Ok(())
}

/// Heads as stored: a JSON array of hex hashes.
pub fn heads_text(heads: &[ChangeHash]) -> String {
    let hex: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
    serde_json::to_string(&hex).unwrap_or_else(|_| "[]".into())
}

/// Stored heads back as bytes; unreadable text gives no heads (the receiver then checks less).
pub fn heads_from_text(text: &str) -> Vec<[u8; 32]> {
    let hex: Vec<String> = serde_json::from_str(text).unwrap_or_default();
    hex.iter().filter_map(|h| h.parse::<ChangeHash>().ok()).map(|h| h.0).collect()
}

/// Commits with the device time and the author's staff id as the change message, so that a
/// conflict can say who wrote each value and when.
fn commit(doc: &mut AutoCommit, at: OffsetDateTime, by: &str) {
    doc.commit_with(
        automerge::transaction::CommitOptions::default().with_time(at.unix_timestamp()).with_message(by.to_string()),
    );
}

/// Appends one entry to the local change log.
pub fn append_change(
    conn: &Connection,
    id: &str,
    office: Option<&str>,
    bytes: &[u8],
    heads: &str,
    origin: &str,
    at: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO changes (doc_id, bytes, origin, at, office, heads) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, bytes, origin, at, office, heads],
    )?;
    Ok(())
}

/// Creates a document holding `value`.
pub fn create<T: Reconcile>(
    conn: &Connection,
    kind: DocKind,
    id: &str,
    value: &T,
    at: OffsetDateTime,
    by: &str,
) -> Result<(), StoreError> {
    let mut doc = AutoCommit::new().with_actor(actor(conn)?);
    autosurgeon::reconcile(&mut doc, value).map_err(|e| StoreError::Corrupt(format!("reconcile: {e}")))?;
    commit(&mut doc, at, by);
    let changes = doc.save_incremental();
    let state = doc.save();
    let now = stamp(at);
    let heads = heads_text(&doc.get_heads());
    let office = simpul_sync::merge::root_text(&doc, "office");
    conn.execute(
        "INSERT INTO documents (id, kind, state, heads, created_at, updated_at, office) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![id, kind.code(), state, heads, now, office],
    )?;
    append_change(conn, id, office.as_deref(), &changes, &heads, "local", &now)
}

pub fn open(conn: &Connection, id: &str) -> Result<Option<AutoCommit>, StoreError> {
    let state: Option<Vec<u8>> =
        conn.query_row("SELECT state FROM documents WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    state
        .map(|bytes| simpul_sync::load_document(&bytes).map_err(|e| StoreError::Corrupt(format!("document {id}: {e}"))))
        .transpose()
}

/// The document's value.
pub fn load<T: Hydrate>(conn: &Connection, id: &str) -> Result<Option<T>, StoreError> {
    let Some(doc) = open(conn, id)? else { return Ok(None) };
    autosurgeon::hydrate(&doc).map(Some).map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))
}

/// Why an update did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    /// The change was refused by the caller's rule; nothing was written.
    #[error(transparent)]
    Refused(E),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Changes a document: reads its value, lets `change` edit it (or refuse), and stores the new
/// changes and state. Returns the new value. Nothing is written when `change` refuses or
/// changes nothing.
pub fn update<T, E, F>(
    conn: &Connection,
    id: &str,
    at: OffsetDateTime,
    by: &str,
    change: F,
) -> Result<T, UpdateError<E>>
where
    T: Reconcile + Hydrate + PartialEq + Clone,
    F: FnOnce(&mut T) -> Result<(), E>,
{
    update_guarded(conn, id, at, by, |_| Ok(()), change)
}

/// [`update`], after `guard` has looked at the stored document itself (its concurrent values,
/// say) and let the change go ahead.
pub fn update_guarded<T, E, G, F>(
    conn: &Connection,
    id: &str,
    at: OffsetDateTime,
    by: &str,
    guard: G,
    change: F,
) -> Result<T, UpdateError<E>>
where
    T: Reconcile + Hydrate + PartialEq + Clone,
    G: FnOnce(&mut AutoCommit) -> Result<(), E>,
    F: FnOnce(&mut T) -> Result<(), E>,
{
    let mut doc = open(conn, id)?.ok_or(StoreError::NotFound)?.with_actor(actor(conn)?);
    guard(&mut doc).map_err(UpdateError::Refused)?;
    let before: T = autosurgeon::hydrate(&doc).map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))?;
    let mut value = before.clone();
    change(&mut value).map_err(UpdateError::Refused)?;
    if value == before {
        return Ok(value);
    }
    autosurgeon::reconcile(&mut doc, &value).map_err(|e| StoreError::Corrupt(format!("reconcile: {e}")))?;
    commit(&mut doc, at, by);
    let changes = doc.save_incremental();
    let state = doc.save();
    let now = stamp(at);
    let heads = heads_text(&doc.get_heads());
    let office = simpul_sync::merge::root_text(&doc, "office");
    conn.execute(
        "UPDATE documents SET state = ?2, heads = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, state, heads, now],
    )
    .map_err(StoreError::from)?;
    append_change(conn, id, office.as_deref(), &changes, &heads, "local", &now)?;
    Ok(value)
}

/// Changes after `cursor` in the local log, in order: (sequence, document id, bytes).
pub fn changes_after(conn: &Connection, cursor: i64, limit: u32) -> Result<Vec<(i64, String, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare("SELECT seq, doc_id, bytes FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![cursor, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use autosurgeon::{Hydrate, Reconcile};

    use super::*;

    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    struct Note {
        text: String,
        count: u64,
    }

    #[test]
    fn writes_append_changes_that_rebuild_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        create(&conn, DocKind::Application, "d1", &Note { text: "a".into(), count: 0 }, now, "staff-1").unwrap();
        let updated: Note = update(&conn, "d1", now, "staff-1", |n: &mut Note| -> Result<(), ()> {
            n.count += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(updated.count, 1);
        // A refused change writes nothing; an unchanged value writes nothing either.
        let refused = update(&conn, "d1", now, "staff-1", |_: &mut Note| Err::<(), _>("no"));
        assert!(matches!(refused, Err(UpdateError::Refused("no"))));
        update(&conn, "d1", now, "staff-1", |_: &mut Note| Ok::<(), ()>(())).unwrap();
        let log = changes_after(&conn, 0, 100).unwrap();
        assert_eq!(log.len(), 2);
        // Replaying the log from nothing gives the same value.
        let mut replay = AutoCommit::new();
        for (_, _, bytes) in &log {
            simpul_sync::apply_changes(&mut replay, bytes).unwrap();
        }
        let rebuilt: Note = autosurgeon::hydrate(&replay).unwrap();
        assert_eq!(rebuilt, Note { text: "a".into(), count: 1 });
        assert_eq!(load::<Note>(&conn, "d1").unwrap(), Some(rebuilt));
        assert!(load::<Note>(&conn, "missing").unwrap().is_none());
        // The same actor for every write of this box.
        assert_eq!(actor(&conn).unwrap(), actor(&conn).unwrap());
    }

    #[test]
    fn a_corrupt_stored_document_is_an_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        conn.execute(
            "INSERT INTO documents (id, kind, state, heads, created_at, updated_at) VALUES ('bad', 'application', ?1, '[]', 't', 't')",
            [vec![0u8; 48]],
        )
        .unwrap();
        assert!(matches!(load::<Note>(&conn, "bad"), Err(StoreError::Corrupt(_))));
    }
}
