//! The steps of a sync session, over any storage that implements [`Replica`].
//!
//! The server implements [`Replica`] on a SQLite transaction, the tests on memory; both run the
//! same steps. Each step is meant to run inside one storage transaction: if it returns an
//! error, the caller rolls back and nothing is applied half-way.

use crate::merge::{MergeError, heads_bytes, merge, root_text};
use crate::protocol::{DocChanges, DocKind, Pull, Push};
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
    /// On a box: what the box wrote itself.
    Local,
    /// On the hub: the documents of one office, except what the asking box sent itself.
    Office {
        /// Office code.
        office: &'a str,
        /// The asking box's id.
        except: &'a str,
    },
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
    /// Sync state kept for a peer: (what the peer acknowledged of our log, how far we applied
    /// the peer's log).
    fn cursors(&mut self, peer: &str) -> Result<(Cursor, Cursor), Self::Error>;
    /// Keeps the sync state for a peer.
    fn set_cursors(&mut self, peer: &str, acked: Cursor, applied: Cursor) -> Result<(), Self::Error>;
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
    let (acked, applied_hub) = replica.cursors(HUB)?;
    let batch = replica.log_after(acked, Scope::Local, budget)?;
    Ok(Push {
        sent_at: now,
        after: acked,
        upto: batch.upto.max(acked),
        applied_hub,
        changes: batch.changes,
        more: batch.more,
        reference_applied: crate::reference::Revision::default(),
        credentials: Vec::new(),
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
    let (_, mut applied_box) = replica.cursors(peer.id)?;
    let mut touched = Vec::new();
    if push.upto > applied_box {
        if push.after > applied_box {
            return Err(SyncError::Gap { sent: push.after, held: applied_box }.into());
        }
        for change in &push.changes {
            apply_one(replica, change, Origin::Box(peer.id.to_string()), Some(office))?;
            touched.push(change.doc);
        }
        applied_box = push.upto;
    }
    // A replayed batch (upto <= applied_box) is answered without applying anything again.
    let batch = replica.log_after(push.applied_hub, Scope::Office { office, except: peer.id }, budget)?;
    let upto = batch.upto.max(push.applied_hub);
    replica.set_cursors(peer.id, push.applied_hub, applied_box)?;
    let reference = crate::reference::ReferenceBatch::default();
    Ok((Pull { sent_at: now, applied_box, upto, changes: batch.changes, more: batch.more, reference }, touched))
}

/// Box: applies the hub's answer. Returns the documents it changed.
pub fn box_receive<R: Replica>(replica: &mut R, pull: &Pull) -> Result<Vec<DocumentId>, R::Error> {
    let (_, applied_hub) = replica.cursors(HUB)?;
    let mut touched = Vec::new();
    if pull.upto > applied_hub {
        for change in &pull.changes {
            apply_one(replica, change, Origin::Hub, None)?;
            touched.push(change.doc);
        }
    }
    replica.set_cursors(HUB, pull.applied_box, pull.upto.max(applied_hub))?;
    Ok(touched)
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
