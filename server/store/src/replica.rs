//! The sync session's storage on SQLite: the documents table, the change log and the per-peer
//! cursors. Every method runs inside the caller's transaction.

use rusqlite::{Connection, OptionalExtension, params};
use simpul_sync::protocol::LogEpoch;
use simpul_sync::session::{Batch, Origin, PeerCursors, Replica, Scope, StoredDoc, SyncError, group_entries};
use simpul_sync::{Cursor, DocumentId};

use super::documents::{DocKind, append_change, heads_from_text};
use crate::db::StoreError;

/// A sync step failed: refused by the protocol, or storage failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// The protocol refused.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ReplicaError {
    fn from(e: rusqlite::Error) -> Self {
        ReplicaError::Store(StoreError::from(e))
    }
}

/// The session's view of this box's database.
pub struct SqliteReplica<'c> {
    conn: &'c Connection,
    now: String,
}

impl<'c> SqliteReplica<'c> {
    /// Wraps a connection (inside a transaction) at time `now`.
    pub fn new(conn: &'c Connection, now: String) -> Self {
        SqliteReplica { conn, now }
    }
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Local => "local".into(),
        Origin::Hub => "hub".into(),
        Origin::Box(id) => format!("box:{id}"),
    }
}

fn doc_id(text: &str) -> Result<DocumentId, StoreError> {
    text.parse().map(DocumentId).map_err(|_| StoreError::Corrupt(format!("document id '{text}'")))
}

impl Replica for SqliteReplica<'_> {
    type Error = ReplicaError;

    fn log_after(&mut self, after: Cursor, scope: Scope<'_>, budget: usize) -> Result<Batch, ReplicaError> {
        let as_i64 = |c: Cursor| i64::try_from(c.0).unwrap_or(i64::MAX);
        let after = as_i64(after);
        let mut stmt;
        let mut rows = match scope {
            Scope::Local { echo_upto } => {
                stmt = self.conn.prepare_cached(
                    "SELECT c.seq, c.doc_id, d.kind, c.bytes, c.heads FROM changes c JOIN documents d ON d.id = c.doc_id
                     WHERE c.seq > ?1 AND (c.origin = 'local' OR c.seq <= ?2) ORDER BY c.seq",
                )?;
                stmt.query(params![after, as_i64(echo_upto)])?
            }
            Scope::Office { office, except, echo_upto } => {
                stmt = self.conn.prepare_cached(
                    "SELECT c.seq, c.doc_id, d.kind, c.bytes, c.heads FROM changes c JOIN documents d ON d.id = c.doc_id
                     WHERE c.office = ?2 AND c.seq > ?1 AND (c.origin != ?3 OR c.seq <= ?4) ORDER BY c.seq",
                )?;
                stmt.query(params![after, office, format!("box:{except}"), as_i64(echo_upto)])?
            }
        };
        let mut picked = Vec::new();
        let mut bytes = 0usize;
        let mut last_included = after;
        let mut more = false;
        while let Some(row) = rows.next()? {
            let seq: i64 = row.get(0)?;
            let blob: Vec<u8> = row.get(3)?;
            if !picked.is_empty() && bytes + blob.len() > budget {
                more = true;
                break;
            }
            let id: String = row.get(1)?;
            let kind: String = row.get(2)?;
            let kind =
                DocKind::from_code(&kind).ok_or_else(|| StoreError::Corrupt(format!("document kind '{kind}'")))?;
            let heads: Option<String> = row.get(4)?;
            bytes += blob.len();
            picked.push((doc_id(&id)?, kind, blob, heads.as_deref().map(heads_from_text).unwrap_or_default()));
            last_included = seq;
        }
        // Nothing more for this peer: its cursor moves past entries that are not for it.
        let upto = if more { Cursor(last_included.max(0) as u64) } else { log_end(self.conn)? };
        Ok(Batch { changes: group_entries(picked), upto, more })
    }

    fn document(&mut self, id: DocumentId) -> Result<Option<StoredDoc>, ReplicaError> {
        let row: Option<(String, Option<String>, Vec<u8>)> = self
            .conn
            .query_row("SELECT kind, office, state FROM documents WHERE id = ?1", [id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((kind, office, state)) = row else { return Ok(None) };
        let kind = DocKind::from_code(&kind).ok_or_else(|| StoreError::Corrupt(format!("document kind '{kind}'")))?;
        Ok(Some(StoredDoc { kind, office: office.unwrap_or_default(), state }))
    }

    fn store(
        &mut self,
        id: DocumentId,
        doc: &StoredDoc,
        heads: &[[u8; 32]],
        new_changes: &[u8],
        origin: Origin,
    ) -> Result<(), ReplicaError> {
        let hashes: Vec<automerge::ChangeHash> = heads.iter().map(|h| automerge::ChangeHash(*h)).collect();
        let heads = super::documents::heads_text(&hashes);
        let id = id.to_string();
        self.conn.execute(
            "INSERT INTO documents (id, kind, state, heads, created_at, updated_at, office) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, heads = excluded.heads, updated_at = excluded.updated_at",
            params![id, doc.kind.code(), doc.state, heads, self.now, doc.office],
        )?;
        if !new_changes.is_empty() {
            append_change(self.conn, &id, Some(&doc.office), new_changes, &heads, &origin_text(&origin), &self.now)?;
        }
        Ok(())
    }

    fn cursors(&mut self, peer: &str) -> Result<PeerCursors, ReplicaError> {
        let cursor = |v: i64| Cursor(v.max(0) as u64);
        let row = self
            .conn
            .query_row("SELECT acked, applied, sent, echo, peer_epoch FROM sync_peers WHERE peer = ?1", [peer], |r| {
                Ok(PeerCursors {
                    acked: cursor(r.get(0)?),
                    applied: cursor(r.get(1)?),
                    sent: cursor(r.get(2)?),
                    echo: cursor(r.get(3)?),
                    peer_epoch: r.get::<_, i64>(4)? as u64,
                })
            })
            .optional()?;
        Ok(row.unwrap_or_default())
    }

    fn set_cursors(&mut self, peer: &str, c: &PeerCursors) -> Result<(), ReplicaError> {
        let as_i64 = |c: Cursor| i64::try_from(c.0).unwrap_or(i64::MAX);
        self.conn.execute(
            "INSERT INTO sync_peers (peer, acked, applied, sent, echo, peer_epoch, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (peer) DO UPDATE SET acked = excluded.acked, applied = excluded.applied,
                 sent = excluded.sent, echo = excluded.echo, peer_epoch = excluded.peer_epoch,
                 last_seen = excluded.last_seen",
            params![
                peer,
                as_i64(c.acked),
                as_i64(c.applied),
                as_i64(c.sent),
                as_i64(c.echo),
                c.peer_epoch as i64,
                self.now
            ],
        )?;
        Ok(())
    }

    fn log_end(&mut self) -> Result<Cursor, ReplicaError> {
        Ok(log_end(self.conn)?)
    }

    fn epoch(&mut self) -> Result<LogEpoch, ReplicaError> {
        Ok(epoch(self.conn)?)
    }
}

/// The last position of the change log (0 when empty).
fn log_end(conn: &Connection) -> Result<Cursor, StoreError> {
    let end: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| r.get(0))?;
    Ok(Cursor(end.max(0) as u64))
}

/// Settings key of the log's timeline: `id:parent:start`.
const EPOCH: &str = "sync.epoch";

/// A new timeline id: random, never 0, within SQLite's integers.
fn fresh_epoch_id() -> u64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 1).max(1)
}

/// The log's current timeline (made on first use).
pub fn epoch(conn: &Connection) -> Result<LogEpoch, StoreError> {
    let text = super::settings::get(conn, EPOCH)?;
    let parsed = text.as_deref().and_then(|t| {
        let mut parts = t.split(':').map(|p| p.parse::<u64>().ok());
        Some(LogEpoch { id: parts.next()??, parent: parts.next()??, start: Cursor(parts.next()??) })
    });
    match parsed {
        Some(e) if e.id != 0 => Ok(e),
        _ => keep_epoch(conn, LogEpoch { id: fresh_epoch_id(), parent: 0, start: Cursor(0) }),
    }
}

fn keep_epoch(conn: &Connection, e: LogEpoch) -> Result<LogEpoch, StoreError> {
    super::settings::put(conn, EPOCH, &format!("{}:{}:{}", e.id, e.parent, e.start.0))?;
    Ok(e)
}

/// Starts a new timeline of the log after a restore from a backup: positions after the
/// restored log's end will be given to new entries, which the peers must not take for the
/// lost ones they may hold.
pub fn fork_epoch(conn: &Connection) -> Result<LogEpoch, StoreError> {
    let parent = epoch(conn)?;
    keep_epoch(conn, LogEpoch { id: fresh_epoch_id(), parent: parent.id, start: log_end(conn)? })
}

/// What waits to go to the hub: (log entries, their bytes).
pub fn pending(conn: &Connection) -> Result<(u64, u64), StoreError> {
    let (acked, echo): (i64, i64) = conn
        .query_row("SELECT acked, echo FROM sync_peers WHERE peer = 'hub'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    let (n, bytes): (i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(bytes)), 0) FROM changes WHERE seq > ?1 AND (origin = 'local' OR seq <= ?2)",
        [acked, echo],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((n.max(0) as u64, bytes.max(0) as u64))
}
