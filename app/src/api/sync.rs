//! The sync server functions: the box's sync state and "sync now", the hub's conflict inbox,
//! and the boxes enrolled with the hub.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use crate::error::ApiError;
use crate::wire::*;

/// The sync state (installer, office head, regency admin).
#[server(endpoint = "sinkron", prefix = "/api", input = GetUrl)]
pub async fn sync_status() -> Result<SyncView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewSystem, |backend, _user| async move { backend.sync_status().await }).await
}

/// Starts a sync session now.
#[server(endpoint = "sinkron/sekarang", prefix = "/api")]
pub async fn sync_now(csrf: String) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ViewSystem, csrf, |backend, _user| async move { backend.sync_now().await })
        .await
}

/// The open conflicts (regency admin, on the hub).
#[server(endpoint = "konflik", prefix = "/api", input = GetUrl)]
pub async fn conflicts() -> Result<Vec<ConflictView>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ResolveConflicts, |backend, _user| async move { backend.conflicts().await })
        .await
}

/// Settles a conflict with a reason: keeps candidate `keep` (from 0) exactly as written, or
/// else writes `corrected` (empty: leave the field empty). `seen` is the revision of the
/// candidates the admin decided on.
#[server(endpoint = "konflik/selesaikan", prefix = "/api")]
pub async fn resolve_conflict(
    csrf: String,
    id: i64,
    keep: Option<u32>,
    corrected: String,
    seen: String,
    reason: String,
) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ResolveConflicts, csrf, |backend, user| async move {
        backend.resolve_conflict(&user, id, keep, &corrected, &seen, &reason).await
    })
    .await
}

/// The boxes enrolled with this hub (regency admin).
#[server(endpoint = "kotak", prefix = "/api", input = GetUrl)]
pub async fn enrolled_boxes() -> Result<Vec<BoxView>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ManageBoxes, |backend, _user| async move { backend.enrolled_boxes().await })
        .await
}

/// Creates a one-time enrollment token for `office`, valid `hours`; shown once.
#[server(endpoint = "kotak/token", prefix = "/api")]
pub async fn create_enroll_token(csrf: String, office: String, hours: u32) -> Result<String, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageBoxes, csrf, |backend, user| async move {
        backend.create_enroll_token(&user, &office, hours).await
    })
    .await
}

/// Revokes the box of `office` listed with `fingerprint`; the office's other boxes go on.
#[server(endpoint = "kotak/cabut", prefix = "/api")]
pub async fn revoke_box(csrf: String, office: String, fingerprint: String) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ManageBoxes, csrf, |backend, user| async move {
        backend.revoke_box(&user, &office, &fingerprint).await
    })
    .await
}
