//! Replication between office boxes and their regency hub, as pure functions and types.
//!
//! Architecture invariant: no sockets, no SQLite, no clock, no randomness. The server moves
//! bytes and stores state; this crate decides what to send, what to ask for and what a merge
//! means. The protocol and the Automerge documents arrive with issue #4; today the crate holds
//! the vocabulary the storage layer (#3) is designed around.

#![forbid(unsafe_code)]

use std::fmt;

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
