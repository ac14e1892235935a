//! The steps of a sync session, over any storage that implements [`Replica`].
//!
//! The server implements [`Replica`] on a SQLite transaction, the tests on memory; both run the
//! same steps. Each step is meant to run inside one storage transaction: if it returns an
//! error, the caller rolls back and nothing is applied half-way.

use crate::merge::{MergeError, heads_bytes, merge, root_text};
use crate::protocol::{DocChanges, DocKind, Lineage, LogEpoch, Pull, Push};
use crate::{Cursor, DocumentId};

/// Who wrote an entry of a local log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// This box (or, on the hub, the hub itself).
    Local,
    /// Received from the hub (on a box).
    Hub,
    /// Received from an office box (on the hub), by the box's id (its certificate
    /// fingerprint). An office may run more than one box; each is its own peer.
    Box(String),
}

/// What part of a log a peer receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// On a box: what the box wrote itself, and every entry up to `echo_upto` whatever its
    /// origin (after the hub lost part of its log, the box gives back what it had from it).
    Local {
        /// Entries up to here go whatever their origin.
        echo_upto: Cursor,
    },
    /// On the hub: the documents of one office, except what the asking box sent itself; up
    /// to `echo_upto` that too (after the box lost part of its store, it gets its own back).
    Office {
        /// Office code.
        office: &'a str,
        /// The asking box's id.
        except: &'a str,
        /// Entries up to here go even when the asking box sent them.
        echo_upto: Cursor,
    },
}

impl Scope<'_> {
    /// Whether the entry at `seq` of `office`, written by `origin`, goes to the peer.
    pub fn wants(&self, seq: Cursor, office: &str, origin: &Origin) -> bool {
        match *self {
            Scope::Local { echo_upto } => *origin == Origin::Local || seq <= echo_upto,
            Scope::Office { office: wanted, except, echo_upto } => {
                office == wanted && (seq <= echo_upto || !matches!(origin, Origin::Box(id) if id == except))
            }
        }
    }
}

/// What a replica keeps about one peer.
///
/// Either side may be restored from a backup, which takes its log and these cursors back in
/// time while the other side remembers more. The cursors are built so that such a step back is
/// found and repaired by the next session, not taken for a replay:
/// - the hub applies a box's batch whenever it continues from what the hub holds, even when it
///   seems old (merging is idempotent), so a restored box's new entries are never skipped;
/// - a box that starts after what the hub holds is told to go back (a [`SyncError::Gap`]);
/// - the hub remembers how far it ever answered (`sent`); a box claiming more was answered by
///   a hub that has since been restored, and is served again from `sent`;
/// - the side that finds the other lost something echoes back what it has of its log up to the
///   end of it (`echo`), whatever the origin of the entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerCursors {
    /// How far the peer acknowledged our log.
    pub acked: Cursor,
    /// How far we applied the peer's log.
    pub applied: Cursor,
    /// Hub: the furthest position of its log it ever answered this box with.
    pub sent: Cursor,
    /// Entries of our log up to here go to the peer whatever their origin.
    pub echo: Cursor,
    /// The peer's timeline `applied` refers to (0: not known, taken as the current one).
    pub peer_epoch: u64,
}

/// How much of a log's current timeline `epoch` a peer holds, when it holds up to `position`
/// of the timeline `held_in`: all of it in the same timeline, up to the restore point in the
/// timeline it was restored from, and nothing it can be sure of in any other.
fn held_of(epoch: LogEpoch, held_in: u64, position: Cursor) -> Cursor {
    if held_in == 0 || epoch.id == 0 || held_in == epoch.id {
        position
    } else if held_in == epoch.parent {
        position.min(epoch.start)
    } else {
        Cursor(0)
    }
}

/// Whether a cursor kept for timeline `kept` refers to another timeline than `now`.
fn other_timeline(kept: u64, now: u64) -> bool {
    kept != 0 && now != 0 && kept != now
}

/// A box as the hub knows it: its id (certificate fingerprint) and its office (from the
/// enrollment behind the certificate, never from the message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoxPeer<'a> {
    /// The box's id.
    pub id: &'a str,
    /// Its office code.
    pub office: &'a str,
}

/// A slice of a log, ready to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// The changes, one entry per document.
    pub changes: Vec<DocChanges>,
    /// The log position the batch reaches.
    pub upto: Cursor,
    /// More entries wait after `upto`.
    pub more: bool,
}

/// A stored document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    /// Kind.
    pub kind: DocKind,
    /// Owning office code.
    pub office: String,
    /// Full Automerge state.
    pub state: Vec<u8>,
}

/// Storage a session runs on.
pub trait Replica {
    /// The storage's error; sync refusals convert into it.
    type Error: From<SyncError>;
    /// Log entries after `after` within `scope`, grouped per document, up to about `budget`
    /// bytes (at least one entry when any waits).
    fn log_after(&mut self, after: Cursor, scope: Scope<'_>, budget: usize) -> Result<Batch, Self::Error>;
    /// A stored document.
    fn document(&mut self, id: DocumentId) -> Result<Option<StoredDoc>, Self::Error>;
    /// Stores a document's new state and appends its new changes to the log, with the
    /// document's heads after them.
    fn store(
        &mut self,
        id: DocumentId,
        doc: &StoredDoc,
        heads: &[[u8; 32]],
        new_changes: &[u8],
        origin: Origin,
    ) -> Result<(), Self::Error>;
    /// Sync state kept for a peer (all zero for a new peer).
    fn cursors(&mut self, peer: &str) -> Result<PeerCursors, Self::Error>;
    /// Keeps the sync state for a peer.
    fn set_cursors(&mut self, peer: &str, cursors: &PeerCursors) -> Result<(), Self::Error>;
    /// The last position of the log (0 when empty).
    fn log_end(&mut self) -> Result<Cursor, Self::Error>;
    /// The log's current timeline.
    fn epoch(&mut self) -> Result<LogEpoch, Self::Error>;
}

/// Peer name a box uses for its hub.
pub const HUB: &str = "hub";

/// Largest difference between two clocks that still syncs.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Why a step refused to go on. Nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// The peer's clock is too far from ours.
    #[error("the clocks differ by {0} seconds; set the box's clock right before syncing")]
    ClockSkew(i64),
    /// A box sent a document of another office.
    #[error("document {doc} belongs to office {owner}, not to the sender")]
    ForeignDocument {
        /// Which document.
        doc: DocumentId,
        /// Its owner.
        owner: String,
    },
    /// A batch does not continue from what was acknowledged.
    #[error("the batch starts after {sent:?} but the hub holds up to {held:?}")]
    Gap {
        /// Where the sender started.
        sent: Cursor,
        /// What the receiver holds.
        held: Cursor,
        /// The hub's timeline, so that a box echoes its log only to a hub that lost some.
        hub_epoch: u64,
        /// What the box holds of the hub's log in that timeline.
        hub_held: Cursor,
    },
    /// A document could not be merged.
    #[error("document {doc}: {error}")]
    Merge {
        /// Which document.
        doc: DocumentId,
        /// Why.
        error: MergeError,
    },
    /// A document does not name its office.
    #[error("document {0} does not name its office")]
    NoOffice(DocumentId),
}

/// Box: the next push, from what the hub acknowledged last. Reference data and password
/// changes are not a replica matter: the caller sets `reference_applied` and `credentials`
/// from its own store.
pub fn box_push<R: Replica>(replica: &mut R, now: i64, budget: usize) -> Result<Push, R::Error> {
    let c = replica.cursors(HUB)?;
    let batch = replica.log_after(c.acked, Scope::Local { echo_upto: c.echo }, budget)?;
    Ok(Push {
        sent_at: now,
        after: c.acked,
        upto: batch.upto.max(c.acked),
        applied_hub: c.applied,
        changes: batch.changes,
        more: batch.more,
        reference_applied: crate::reference::Revision::default(),
        credentials: Vec::new(),
        lineage: Lineage { epoch: replica.epoch()?, peer_epoch: c.peer_epoch },
    })
}

fn apply_one<R: Replica>(
    replica: &mut R,
    change: &DocChanges,
    origin: Origin,
    sender_office: Option<&str>,
) -> Result<(), R::Error> {
    let existing = replica.document(change.doc)?;
    if let (Some(sender), Some(stored)) = (sender_office, &existing)
        && stored.office != sender
    {
        return Err(SyncError::ForeignDocument { doc: change.doc, owner: stored.office.clone() }.into());
    }
    let merged = merge(existing.as_ref().map(|d| d.state.as_slice()), &change.bytes, &change.heads)
        .map_err(|error| SyncError::Merge { doc: change.doc, error })?;
    let office = root_text(&merged.doc, "office").ok_or(SyncError::NoOffice(change.doc))?;
    if let Some(sender) = sender_office
        && office != sender
    {
        return Err(SyncError::ForeignDocument { doc: change.doc, owner: office }.into());
    }
    if let Some(stored) = &existing
        && stored.office != office
    {
        // A change may not move a document to another office.
        return Err(SyncError::ForeignDocument { doc: change.doc, owner: stored.office.clone() }.into());
    }
    if merged.new_changes.is_empty() && existing.is_some() {
        return Ok(());
    }
    let doc = StoredDoc { kind: change.kind, office, state: merged.state };
    replica.store(change.doc, &doc, &heads_bytes(&merged.heads), &merged.new_changes, origin)
}

/// Hub: applies a box's push and answers it. `peer` comes from the box's certificate.
pub fn hub_answer<R: Replica>(
    replica: &mut R,
    peer: BoxPeer<'_>,
    push: &Push,
    now: i64,
    budget: usize,
) -> Result<(Pull, Vec<DocumentId>), R::Error> {
    let skew = push.sent_at - now;
    if skew.abs() > MAX_CLOCK_SKEW_SECS {
        return Err(SyncError::ClockSkew(skew).into());
    }
    let office = peer.office;
    let own = replica.epoch()?;
    let mut c = replica.cursors(peer.id)?;
    let box_epoch = push.lineage.epoch;
    let held = held_of(box_epoch, c.peer_epoch, c.applied);
    if push.after > held {
        // The box's batch continues entries this hub does not hold: the hub was restored
        // from a backup (or the box was, and what the hub holds is of another timeline). The
        // box starts again from what the hub holds.
        let hub_held = held_of(own, push.lineage.peer_epoch, push.applied_hub);
        return Err(SyncError::Gap { sent: push.after, held, hub_epoch: own.id, hub_held }.into());
    }
    if other_timeline(push.lineage.peer_epoch, own.id) {
        // The box last heard from this hub before it was restored: what it holds of the hub's
        // lost work must come back before anything of the box that builds on it. The box is
        // sent back to echo its log, knowing the hub's timeline from now on.
        let hub_held = held_of(own, push.lineage.peer_epoch, push.applied_hub);
        return Err(SyncError::Gap { sent: push.after, held: push.after, hub_epoch: own.id, hub_held }.into());
    }
    if c == PeerCursors::default() {
        // A box new to this hub (or enrolled again under a new certificate) was never served
        // more than the log holds now; what it claims to hold of it is taken as it is.
        c.sent = replica.log_end()?;
    }
    // The box was restored from a backup and lost what it wrote (and got) since: it gets its
    // own entries back too, up to the end of the log as it stands. A restore starts a new
    // timeline; with a peer that does not tell its timeline, sending again from before what
    // the hub holds is taken as a restore too (it may only be a lost answer).
    let timeline_unknown = c.peer_epoch == 0 || box_epoch.id == 0;
    if other_timeline(c.peer_epoch, box_epoch.id) || (timeline_unknown && push.after < c.applied) {
        c.echo = c.echo.max(replica.log_end()?);
    }
    // Applied even when it seems a replay: merging what is held changes nothing, and a
    // restored box numbers new entries where old ones were.
    let mut touched = Vec::new();
    for change in &push.changes {
        apply_one(replica, change, Origin::Box(peer.id.to_string()), Some(office))?;
        touched.push(change.doc);
    }
    c.applied = push.upto;
    c.peer_epoch = box_epoch.id;
    // What the box holds of our current timeline; and a box that applied more of our log than
    // we ever answered it with was served by this hub before it was restored: it is served
    // again from what we know we sent.
    let from = held_of(own, push.lineage.peer_epoch, push.applied_hub).min(c.sent);
    let batch = replica.log_after(from, Scope::Office { office, except: peer.id, echo_upto: c.echo }, budget)?;
    let upto = batch.upto.max(from);
    c.acked = from;
    c.sent = c.sent.max(upto);
    replica.set_cursors(peer.id, &c)?;
    let reference = crate::reference::ReferenceBatch::default();
    let lineage = Lineage { epoch: own, peer_epoch: box_epoch.id };
    let pull = Pull {
        sent_at: now,
        applied_box: c.applied,
        upto,
        changes: batch.changes,
        more: batch.more,
        reference,
        lineage,
    };
    Ok((pull, touched))
}

/// What a box remembers of a push until the hub answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The box's log position the push started after.
    pub after: Cursor,
    /// The box's log position the push reached.
    pub upto: Cursor,
    /// How far the box had applied the hub's log when it sent the push.
    pub applied_hub: Cursor,
}

impl Push {
    /// What the box must remember of this push.
    pub fn sent(&self) -> Sent {
        Sent { after: self.after, upto: self.upto, applied_hub: self.applied_hub }
    }
}

/// Box: applies the hub's answer to the push it `sent`. Returns the documents it changed.
pub fn box_receive<R: Replica>(replica: &mut R, push: Sent, pull: &Pull) -> Result<Vec<DocumentId>, R::Error> {
    let mut c = replica.cursors(HUB)?;
    let mut touched = Vec::new();
    // Applied whatever the cursors say: merging what is held changes nothing.
    for change in &pull.changes {
        apply_one(replica, change, Origin::Hub, None)?;
        touched.push(change.doc);
    }
    let hub_lost = pull.upto < push.applied_hub || other_timeline(c.peer_epoch, pull.lineage.epoch.id);
    if hub_lost {
        // The hub serves us again from before what we applied, or from another timeline: it
        // was restored from a backup and lost entries it made since. It gets back what we hold
        // of its log: the push it just took carried only our own entries, so the next one
        // starts where this one did, with everything up to the end of our log.
        c.echo = c.echo.max(replica.log_end()?);
        c.acked = pull.applied_box.min(push.after);
    } else {
        // Never an acknowledgement past what was sent (a hub that knows more of our log than
        // we hold is answering a box that was restored from a backup).
        c.acked = pull.applied_box.min(push.upto);
    }
    c.peer_epoch = pull.lineage.epoch.id;
    c.applied = pull.upto;
    replica.set_cursors(HUB, &c)?;
    Ok(touched)
}

/// Box: the hub holds less of our log than it acknowledged (it was restored from a backup, or
/// knows this box under a new certificate), or it was restored since the box last heard from
/// it. The next push starts from `held`; when the hub's timeline is not the one the box knows
/// (or the hub does not say), it also gives back everything the box holds, so that what the
/// hub wrote itself and lost returns too, and takes what it holds of the hub's log as
/// `hub_held` in the hub's timeline `hub_epoch`.
pub fn box_rewind<R: Replica>(replica: &mut R, held: Cursor, hub_epoch: u64, hub_held: Cursor) -> Result<(), R::Error> {
    let mut c = replica.cursors(HUB)?;
    c.acked = c.acked.min(held);
    if hub_epoch == 0 || c.peer_epoch == 0 || hub_epoch != c.peer_epoch {
        c.echo = c.echo.max(replica.log_end()?);
    }
    if hub_epoch != 0 {
        // From now on in the hub's timeline, holding of it what the hub says.
        c.applied = c.applied.min(hub_held);
        c.peer_epoch = hub_epoch;
    }
    replica.set_cursors(HUB, &c)
}

/// Groups log entries (in log order) into one [`DocChanges`] per document, for a batch. Each
/// entry carries the document's heads right after it; a document announces the heads of its
/// last entry in the batch.
pub fn group_entries(
    entries: impl IntoIterator<Item = (DocumentId, DocKind, Vec<u8>, Vec<[u8; 32]>)>,
) -> Vec<DocChanges> {
    let mut order: Vec<DocChanges> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (doc, kind, bytes, heads) in entries {
        match index.get(&doc) {
            Some(&i) => {
                let entry: &mut DocChanges = &mut order[i];
                entry.bytes.extend_from_slice(&bytes);
                entry.heads = heads;
            }
            None => {
                index.insert(doc, order.len());
                order.push(DocChanges { doc, kind, bytes, heads });
            }
        }
    }
    order
}
