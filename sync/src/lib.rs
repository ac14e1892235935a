//! Replication between office boxes and their regency hub, as pure functions and types.
//!
//! Architecture invariant: no sockets, no SQLite, no clock, no randomness. The server moves
//! bytes and stores state; this crate decides what to send, what to ask for and what a merge
//! means. Records are Automerge documents mapped with autosurgeon ([`records`]); [`protocol`]
//! holds the messages and their wire form, [`merge`] merging and conflicts, [`session`] the
//! steps of a session over any storage, [`memory`] an in-memory storage for tests and benches.

#![forbid(unsafe_code)]

pub mod inflation;
pub mod memory;
pub mod merge;
pub mod protocol;
pub mod records;
pub mod reference;
pub mod session;
pub mod wire;

use std::cell::Cell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::AutoCommit;

use serde::{Deserialize, Serialize};
use simpul_domain::wilayah::RegionCode;

/// Identifies one replicated record (an Automerge document) across every box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocumentId(pub uuid::Uuid);

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A box taking part in replication: an office (by kecamatan code) or its hub (by regency code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Peer {
    /// A kecamatan office box.
    Office(RegionCode),
    /// The regency hub.
    Hub(RegionCode),
}

/// Position in a box's local change log. A peer acknowledges up to a cursor; a session sends
/// what lies after it, so its cost follows what changed, not how much is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cursor(pub u64);

/// How concurrent values of a field are settled, declared next to each record type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MergePolicy {
    /// Identity and status fields: never decided by a machine; a regency admin chooses.
    Person,
    /// Notes, counters and other fields that merge by a fixed rule.
    Rule,
}

/// Largest document accepted from disk or the network.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Largest size the bytes of one load may inflate to, compressed columns and chunks counted
/// inflated (see [`inflation`]): a few megabytes cannot make the decoder allocate gigabytes.
pub const MAX_INFLATED_BYTES: usize = 32 * 1024 * 1024;

/// Why stored or received document bytes could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// Larger than [`MAX_DOCUMENT_BYTES`].
    #[error("the document has {0} bytes, more than accepted")]
    TooLarge(usize),
    /// Its compressed parts would inflate past the bound (in bytes).
    #[error("the document would inflate past {0} bytes")]
    Inflates(usize),
    /// Automerge refused the bytes.
    #[error("the document does not decode: {0}")]
    Invalid(String),
    /// Automerge's decoder panicked on the bytes (it does on some corrupt input); the panic was
    /// contained.
    #[error("the document is corrupt")]
    Corrupt,
}

thread_local! {
    /// Set while this thread runs automerge's decoder inside [`contained`].
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside one of the two sites that contain automerge's decoder panics
/// ([`load_document`], [`apply_changes`]). A process's panic hook asks, so that a panic caught
/// there is reported as the refusal of damaged bytes it is, and any other panic as a defect.
pub fn containing_decoder_panic() -> bool {
    CONTAINING.with(Cell::get)
}

/// Runs automerge's decoder with its panics caught (and marked as such for the panic hook).
fn contained<T>(decode: impl FnOnce() -> T) -> Option<T> {
    let was = CONTAINING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(decode));
    CONTAINING.with(|c| c.set(was));
    result.ok()
}

/// Opens document bytes from disk or the network without letting a decoder panic escape:
/// automerge 0.12 unwraps inside its decoder on some corrupt input.
pub fn load_document(bytes: &[u8]) -> Result<AutoCommit, LoadError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(LoadError::TooLarge(bytes.len()));
    }
    inflation::within(bytes, MAX_INFLATED_BYTES)?;
    match contained(|| AutoCommit::load(bytes)) {
        Some(Ok(doc)) => Ok(doc),
        Some(Err(e)) => Err(LoadError::Invalid(e.to_string())),
        None => Err(LoadError::Corrupt),
    }
}

/// Applies incremental change bytes to a document, containing decoder panics the same way.
pub fn apply_changes(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(LoadError::TooLarge(bytes.len()));
    }
    // Every Automerge chunk starts with these magic bytes; automerge itself skips what does not.
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    if !bytes.is_empty() && !bytes.starts_with(&MAGIC) {
        return Err(LoadError::Invalid("not Automerge data".into()));
    }
    inflation::within(bytes, MAX_INFLATED_BYTES)?;
    // Work on a fork so that a failure half-way leaves the document as it was.
    let mut fork = doc.fork();
    match contained(|| fork.load_incremental(bytes)) {
        Some(Ok(_)) => {
            *doc = fork;
            Ok(())
        }
        Some(Err(e)) => Err(LoadError::Invalid(e.to_string())),
        None => Err(LoadError::Corrupt),
    }
}
