//! Sync on the wire: the box's sync state, the conflict inbox and the enrolled boxes.

use serde::{Deserialize, Serialize};

/// The box's sync state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncView {
    /// This box syncs with a hub (enrolled).
    pub enrolled: bool,
    /// A session is running now.
    pub running: bool,
    /// Exchanges done in the running or last session.
    pub exchanges: u64,
    /// Bytes moved in the running or last session.
    pub bytes: u64,
    /// Bytes waiting when that session started (0: unknown), for the progress bar.
    pub planned: u64,
    /// Records with changes waiting to go.
    pub waiting_records: u64,
    /// Bytes waiting to go.
    pub waiting_bytes: u64,
    /// Files (scans, photos) waiting to go; they follow the records.
    pub waiting_files: u64,
    /// Bytes of those files.
    pub waiting_file_bytes: u64,
    /// End of the last successful session, local time.
    pub last_success: Option<String>,
    /// The last failure in plain words.
    pub last_error: Option<String>,
    /// Its stable code, which the UI translates.
    pub last_error_code: Option<String>,
    /// Sessions completed since the box started.
    pub sessions: u64,
    /// When the box's certificate ends, local time.
    pub certificate_expires: Option<String>,
    /// It ends soon (or ended): time to enroll again with a new token.
    pub certificate_renew: bool,
    /// The link timed out with full-size requests: the box sends in steps of this many bytes
    /// (none at full size).
    pub slow_link_step: Option<u64>,
}

/// One competing value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateView {
    /// The value.
    pub value: String,
    /// Where it was written: an office code, or the hub.
    pub source: String,
    /// Who wrote it (staff id or name).
    pub by: String,
    /// When, local device time of the writer.
    pub at: String,
}

/// One case in the conflict inbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictView {
    /// Case number.
    pub id: i64,
    /// Application id.
    pub application: String,
    /// Application number.
    pub number: String,
    /// Owning office.
    pub office: String,
    /// Dotted field path, or the cross-office rule.
    pub field: String,
    /// The competing values.
    pub candidates: Vec<CandidateView>,
    /// Fingerprint of the candidates, sent back with the decision.
    pub revision: String,
    /// Whether a corrected value may be typed (otherwise one of the candidates is kept).
    pub correctable: bool,
    /// When the hub found it.
    pub detected_at: String,
    /// The record's history, oldest first ("when · who · what").
    pub history: Vec<String>,
}

/// An office box enrolled with this hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoxView {
    /// Office code.
    pub office: String,
    /// First 16 hex digits of its certificate's SHA-256.
    pub fingerprint: String,
    /// When enrolled, local time.
    pub enrolled_at: String,
    /// Last sync, local time.
    pub last_seen: Option<String>,
    /// Revoked.
    pub revoked: bool,
}
