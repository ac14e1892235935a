//! The server side of the UI (feature `ssr` only): the [`Backend`] the server crate implements,
//! one trait per area of the UI (each server function calls the method of its own name), and
//! the helpers every server function uses to reach it and check the caller.

mod admin;
mod applications;
mod devices;
mod queue;
mod session;
mod sync;

use std::future::Future;
use std::sync::Arc;

use axum::http::request::Parts;
use leptos::prelude::*;
use simpul_domain::auth::Permission;

pub use self::admin::AdminBackend;
pub use self::applications::ApplicationBackend;
pub use self::devices::DeviceBackend;
pub use self::queue::QueueBackend;
pub use self::session::SessionBackend;
pub use self::sync::SyncBackend;
use crate::error::ApiError;
use crate::wire::UserView;

/// What the UI needs from the server: every area's trait. Implemented by the server crate,
/// which owns storage, sessions and the hub link; provided to server functions through Leptos
/// context.
pub trait Backend:
    SessionBackend + QueueBackend + ApplicationBackend + DeviceBackend + SyncBackend + AdminBackend
{
}

impl<T> Backend for T where
    T: SessionBackend + QueueBackend + ApplicationBackend + DeviceBackend + SyncBackend + AdminBackend
{
}

/// The backend as shared through context.
pub type SharedBackend = Arc<dyn Backend>;

/// The backend and the request parts of the current server-function call.
pub fn context() -> Result<(SharedBackend, Parts), ApiError> {
    let backend = use_context::<SharedBackend>().ok_or(ApiError::Internal)?;
    let parts = use_context::<Parts>().ok_or(ApiError::Internal)?;
    Ok((backend, parts))
}

/// Runs a server function body and gives a failure its HTTP status.
pub async fn respond<T>(body: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
    // Read the context before awaiting: the reactive owner may be gone once the body finishes
    // (a client that disconnected mid-request), and a disposed owner must not cost a panic.
    let response = use_context::<leptos_axum::ResponseOptions>();
    let result = body.await;
    if let Err(e) = &result
        && let Some(response) = response
        && let Ok(status) = axum::http::StatusCode::from_u16(e.status())
    {
        response.set_status(status);
    }
    result
}

/// Checks that the caller holds `permission`, then runs `body` with the backend and the caller.
pub async fn guarded<T, F, Fut>(permission: Permission, body: F) -> Result<T, ApiError>
where
    F: FnOnce(SharedBackend, UserView) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    respond(async {
        let (backend, parts) = context()?;
        let user = backend.authorize(&parts, permission).await?;
        body(backend, user).await
    })
    .await
}

/// Like [`guarded`], and checks the CSRF token first (for calls that change state).
pub async fn guarded_csrf<T, F, Fut>(permission: Permission, csrf: String, body: F) -> Result<T, ApiError>
where
    F: FnOnce(SharedBackend, UserView) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    respond(async {
        let (backend, parts) = context()?;
        let user = backend.authorize(&parts, permission).await?;
        backend.check_csrf(&parts, &csrf).await?;
        body(backend, user).await
    })
    .await
}
