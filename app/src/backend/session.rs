//! The server's side of the session area of the UI contract.

use axum::http::request::Parts;
use simpul_domain::auth::Permission;

use crate::error::ApiError;
use crate::wire::*;

/// Who is asking: the session, its CSRF token and identity, login and logout, the owner's
/// password, and the hub link the banner shows to anyone on the office LAN.
#[async_trait::async_trait]
pub trait SessionBackend: Send + Sync + 'static {
    /// Session, CSRF token and identity for this request.
    async fn get_session(&self, parts: &Parts) -> Result<SessionInfo, ApiError>;
    /// Checks the CSRF token and the credentials, then starts a new session.
    async fn login(&self, parts: &Parts, csrf: &str, username: &str, password: &str) -> Result<UserView, ApiError>;
    /// Checks the CSRF token and ends the session.
    async fn logout(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError>;
    /// Checks the CSRF token and the caller's current password, then sets the new one; every
    /// session of the account ends, this one too.
    async fn change_password(
        &self,
        parts: &Parts,
        csrf: &str,
        current: &str,
        new_password: &str,
        repeat: &str,
    ) -> Result<(), ApiError>;
    /// The caller, if logged in and allowed `permission`.
    async fn authorize(&self, parts: &Parts, permission: Permission) -> Result<UserView, ApiError>;
    /// Checks the CSRF token of a state-changing call.
    async fn check_csrf(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError>;
    /// The hub link.
    async fn hub_link(&self) -> LinkView;
}
