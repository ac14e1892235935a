//! A [`Replica`] in memory: the reference the property tests and the protocol bench run the
//! session steps on. Each step runs as a transaction: on error the replica is as before.

use std::collections::HashMap;

use automerge::AutoCommit;

use crate::merge::heads_bytes;
use crate::protocol::{DocKind, LogEpoch};
use crate::session::{Batch, BoxPeer, Origin, PeerCursors, Replica, Scope, StoredDoc, SyncError, group_entries};
use crate::{Cursor, DocumentId, load_document};

#[derive(Clone, Debug)]
struct Entry {
    doc: DocumentId,
    kind: DocKind,
    office: String,
    bytes: Vec<u8>,
    heads: Vec<[u8; 32]>,
    origin: Origin,
}

/// A box or hub held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryReplica {
    docs: HashMap<DocumentId, StoredDoc>,
    log: Vec<Entry>,
    cursors: HashMap<String, PeerCursors>,
    epoch: LogEpoch,
    /// Entries scanned by `log_after` (to show a session reads only what changed).
    pub scanned: usize,
}

impl MemoryReplica {
    /// Runs `step` as a transaction.
    pub fn transaction<T>(&mut self, step: impl FnOnce(&mut Self) -> Result<T, SyncError>) -> Result<T, SyncError> {
        let before = self.clone();
        let result = step(self);
        if result.is_err() {
            *self = before;
        }
        result
    }

    /// Makes a local edit of a document (creating it for `office` if new), committed as
    /// `actor` at `time` with `by` as its author.
    pub fn edit(
        &mut self,
        id: DocumentId,
        office: &str,
        actor: &automerge::ActorId,
        by: &str,
        time: i64,
        change: impl FnOnce(&mut AutoCommit),
    ) {
        let existing = self.docs.get(&id).map(|d| load_document(&d.state).expect("own document loads"));
        let is_new = existing.is_none();
        let mut doc = existing.unwrap_or_default().with_actor(actor.clone());
        let before = doc.get_heads();
        if is_new {
            automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "office", office)
                .expect("put on a new document");
        }
        change(&mut doc);
        doc.commit_with(automerge::transaction::CommitOptions::default().with_message(by.to_string()).with_time(time));
        let heads = doc.get_heads();
        if heads == before {
            return;
        }
        let bytes = doc.save_after(&before);
        let stored = StoredDoc { kind: DocKind::Application, office: office.to_string(), state: doc.save() };
        let _ = self.store(id, &stored, &heads_bytes(&heads), &bytes, Origin::Local);
    }

    /// A document, opened.
    pub fn open(&self, id: DocumentId) -> Option<AutoCommit> {
        self.docs.get(&id).map(|d| load_document(&d.state).expect("stored document loads"))
    }

    /// Every document id held.
    pub fn ids(&self) -> Vec<DocumentId> {
        let mut ids: Vec<_> = self.docs.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Starts a new timeline of the log, as a restore from a backup does (call it on the
    /// restored copy).
    pub fn restored(&mut self) {
        let parent = self.current_epoch().id;
        self.epoch = LogEpoch { id: fresh_epoch_id(), parent, start: Cursor(self.log.len() as u64) };
    }

    fn current_epoch(&mut self) -> LogEpoch {
        if self.epoch.id == 0 {
            self.epoch.id = fresh_epoch_id();
        }
        self.epoch
    }

    /// Length of the local log.
    pub fn log_len(&self) -> usize {
        self.log.len()
    }
}

impl Replica for MemoryReplica {
    type Error = SyncError;

    fn log_after(&mut self, after: Cursor, scope: Scope<'_>, budget: usize) -> Result<Batch, SyncError> {
        let start = usize::try_from(after.0).unwrap_or(usize::MAX).min(self.log.len());
        let mut picked = Vec::new();
        let mut bytes = 0usize;
        let mut upto = Cursor(self.log.len() as u64);
        let mut more = false;
        for (i, e) in self.log.iter().enumerate().skip(start) {
            self.scanned += 1;
            if !scope.wants(Cursor(i as u64 + 1), &e.office, &e.origin) {
                continue;
            }
            if !picked.is_empty() && bytes + e.bytes.len() > budget {
                more = true;
                upto = Cursor(i as u64);
                break;
            }
            bytes += e.bytes.len();
            picked.push((e.doc, e.kind, e.bytes.clone(), e.heads.clone()));
        }
        Ok(Batch { changes: group_entries(picked), upto, more })
    }

    fn document(&mut self, id: DocumentId) -> Result<Option<StoredDoc>, SyncError> {
        Ok(self.docs.get(&id).cloned())
    }

    fn store(
        &mut self,
        id: DocumentId,
        doc: &StoredDoc,
        heads: &[[u8; 32]],
        new_changes: &[u8],
        origin: Origin,
    ) -> Result<(), SyncError> {
        self.docs.insert(id, doc.clone());
        if !new_changes.is_empty() {
            self.log.push(Entry {
                doc: id,
                kind: doc.kind,
                office: doc.office.clone(),
                bytes: new_changes.to_vec(),
                heads: heads.to_vec(),
                origin,
            });
        }
        Ok(())
    }

    fn cursors(&mut self, peer: &str) -> Result<PeerCursors, SyncError> {
        Ok(self.cursors.get(peer).copied().unwrap_or_default())
    }

    fn set_cursors(&mut self, peer: &str, cursors: &PeerCursors) -> Result<(), SyncError> {
        self.cursors.insert(peer.to_string(), *cursors);
        Ok(())
    }

    fn log_end(&mut self) -> Result<Cursor, SyncError> {
        Ok(Cursor(self.log.len() as u64))
    }

    fn epoch(&mut self) -> Result<LogEpoch, SyncError> {
        Ok(self.current_epoch())
    }
}

/// A timeline id no other replica in this process has.
fn fresh_epoch_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Where a session in memory can be cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The push is lost on its way to the hub.
    BeforeHub,
    /// The hub applied the push but its answer is lost.
    AfterHub,
}

/// What a session in memory cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// HTTP round trips.
    pub round_trips: usize,
    /// Bytes of pushes on the wire.
    pub bytes_up: usize,
    /// Bytes of pulls on the wire.
    pub bytes_down: usize,
}

/// Runs a whole session between `office_box` and `hub` through the wire encoding. `cut` is
/// asked before and after each exchange; when it answers `true` the session stops there, as a
/// broken link would stop it. The box's id is `office` (one box per office) unless given with
/// [`session_as`].
pub fn session(
    office_box: &mut MemoryReplica,
    hub: &mut MemoryReplica,
    office: &str,
    now: i64,
    budget: usize,
    cut: impl FnMut(Cut) -> bool,
) -> Result<SessionStats, SyncError> {
    session_as(office_box, hub, BoxPeer { id: office, office }, now, budget, cut)
}

/// [`session`] for a box with its own id.
pub fn session_as(
    office_box: &mut MemoryReplica,
    hub: &mut MemoryReplica,
    peer: BoxPeer<'_>,
    now: i64,
    budget: usize,
    mut cut: impl FnMut(Cut) -> bool,
) -> Result<SessionStats, SyncError> {
    use crate::protocol::{Message, decode, encode};
    use crate::session::{box_push, box_receive, box_rewind, hub_answer};

    let mut stats = SessionStats::default();
    let mut last_pull_had_changes = false;
    let mut rewinds = 0;
    loop {
        let push = office_box.transaction(|r| box_push(r, now, budget))?;
        let final_ack = push.changes.is_empty() && !push.more;
        if final_ack && !last_pull_had_changes && stats.round_trips > 0 {
            return Ok(stats);
        }
        let wire = encode(&Message::Push(push));
        stats.bytes_up += wire.len();
        if cut(Cut::BeforeHub) {
            return Ok(stats);
        }
        let Ok(Message::Push(push)) = decode(&wire) else { unreachable!("own encoding decodes") };
        let (pull, _) = match hub.transaction(|r| hub_answer(r, peer, &push, now, budget)) {
            // The hub lost part of the box's log (restored from a backup): start from what it
            // holds, as the server's session does.
            Err(SyncError::Gap { held, hub_epoch, hub_held, .. }) if rewinds < 3 => {
                stats.round_trips += 1;
                rewinds += 1;
                office_box.transaction(|r| box_rewind(r, held, hub_epoch, hub_held))?;
                continue;
            }
            other => other?,
        };
        let wire = encode(&Message::Pull(pull));
        stats.bytes_down += wire.len();
        stats.round_trips += 1;
        if cut(Cut::AfterHub) {
            return Ok(stats);
        }
        let Ok(Message::Pull(pull)) = decode(&wire) else { unreachable!("own encoding decodes") };
        office_box.transaction(|r| box_receive(r, push.sent(), &pull))?;
        last_pull_had_changes = !pull.changes.is_empty();
        if !push.more && !pull.more && !last_pull_had_changes {
            return Ok(stats);
        }
    }
}
