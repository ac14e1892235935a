//! The server's side of the sync area of the UI contract.

use crate::error::ApiError;
use crate::wire::*;

/// Sync: the box's sync state and "sync now", the hub's conflict inbox and its boxes.
#[async_trait::async_trait]
pub trait SyncBackend: Send + Sync + 'static {
    /// The box's sync state.
    async fn sync_status(&self) -> Result<SyncView, ApiError>;
    /// Starts a sync session now.
    async fn sync_now(&self) -> Result<(), ApiError>;
    /// The open conflicts (hub).
    async fn conflicts(&self) -> Result<Vec<ConflictView>, ApiError>;
    /// Settles a conflict: keeps candidate `keep` (from 0) as written, or else writes the
    /// corrected value (empty: leave the field empty); refused when the candidates changed since
    /// revision `seen`.
    async fn resolve_conflict(
        &self,
        user: &UserView,
        id: i64,
        keep: Option<u32>,
        corrected: &str,
        seen: &str,
        reason: &str,
    ) -> Result<(), ApiError>;
    /// Boxes enrolled with this hub.
    async fn enrolled_boxes(&self) -> Result<Vec<BoxView>, ApiError>;
    /// A one-time enrollment token for an office.
    async fn create_enroll_token(&self, user: &UserView, office: &str, hours: u32) -> Result<String, ApiError>;
    /// Revokes one box of an office, named by its listed fingerprint.
    async fn revoke_box(&self, user: &UserView, office: &str, fingerprint: &str) -> Result<(), ApiError>;
}
