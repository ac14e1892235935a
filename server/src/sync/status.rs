//! The office box's sync state, shared between the sync loop (`client`) and the pages: what the
//! sync panel shows, the request to sync now, and the pace that sizes requests to the link.

use serde::Serialize;
use simpul_sync::protocol::{BATCH_BUDGET, MIN_BATCH_BUDGET};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use time::OffsetDateTime;

/// What the UI shows about sync.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncStatus {
    /// Enrolled with a hub.
    pub enrolled: bool,
    /// A session is running.
    pub running: bool,
    /// Exchanges done in the running (or last) session.
    pub exchanges: u64,
    /// Bytes sent and received in the running (or last) session.
    pub bytes: u64,
    /// Bytes waiting to go when the running (or last) session started: what `bytes` is
    /// measured against for the progress bar.
    pub planned: u64,
    /// Records (documents) with changes waiting to go.
    pub waiting_records: u64,
    /// Bytes of those changes.
    pub waiting_bytes: u64,
    /// Files (scans, photos) waiting to go.
    pub waiting_blobs: u64,
    /// Bytes of those files.
    pub waiting_blob_bytes: u64,
    /// End of the last successful session.
    pub last_success: Option<OffsetDateTime>,
    /// The last failure in plain words (cleared by a success).
    pub last_error: Option<String>,
    /// Its stable code, for the UI's translation.
    pub last_error_code: Option<&'static str>,
    /// Sessions completed since start.
    pub sessions: u64,
    /// When this box's certificate ends (the hub refuses it after that).
    pub certificate_expires: Option<OffsetDateTime>,
}

/// Shared between the loop and the UI.
#[derive(Default)]
pub struct SyncHandle {
    pub(crate) status: RwLock<SyncStatus>,
    pub(crate) wake: tokio::sync::Notify,
    pub(crate) pace: Pace,
    /// The hub said in the last exchange that it lacks files of this office: its mark of
    /// that set.
    pub(crate) hub_lacks_files: std::sync::Mutex<Option<String>>,
}

/// How many bytes one request to the hub carries (a batch of changes, a chunk of a file). A
/// slow link (a weak mobile signal) cannot move a megabyte within the request timeout, and a
/// box that kept trying would never get anything across. A request that timed out takes a
/// quarter of the step; one that carried a full step in under a quarter of the timeout doubles
/// it; between the protocol's smallest batch and its largest.
#[derive(Debug)]
pub struct Pace {
    step: AtomicUsize,
    timeout_ms: AtomicU64,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { step: AtomicUsize::new(BATCH_BUDGET), timeout_ms: AtomicU64::new(30_000) }
    }
}

impl Pace {
    /// Bytes per request now.
    pub fn bytes(&self) -> usize {
        self.step.load(Ordering::Relaxed)
    }

    pub(crate) fn set_timeout(&self, timeout: Duration) {
        self.timeout_ms.store(timeout.as_millis().try_into().unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Learns from one request that carried `bytes` (sent and received) in `took`, or timed out.
    pub(crate) fn observe(&self, bytes: usize, took: Duration, timed_out: bool) {
        let before = self.bytes();
        let quick = took.as_millis() < u128::from(self.timeout_ms.load(Ordering::Relaxed) / 4);
        let next = if timed_out {
            before / 4
        } else if quick && bytes >= before / 2 {
            before.saturating_mul(2)
        } else {
            before
        }
        .clamp(MIN_BATCH_BUDGET, BATCH_BUDGET);
        if next != before {
            self.step.store(next, Ordering::Relaxed);
            tracing::info!(bytes = next, "sync step size changed with the link's speed");
        }
    }
}

impl SyncHandle {
    /// A copy of the status.
    pub fn status(&self) -> SyncStatus {
        self.status.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        f(&mut self.status.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// The bytes one request carries, when a slow link made the box send less than a full
    /// batch.
    pub fn step_bytes(&self) -> Option<u64> {
        let bytes = self.pace.bytes();
        (bytes < BATCH_BUDGET).then_some(bytes as u64)
    }

    /// Asks the loop to sync now.
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }
}
