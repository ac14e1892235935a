//! The session's part of the backend: who is asking (session, CSRF token, account), login and
//! logout, the owner's password change, the permission check every server function makes, and
//! the hub link for the banner.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use simpul_app::backend::SessionBackend;
use simpul_app::error::{ApiError, Refusal};
use simpul_app::wire::{LinkState, LinkView, SessionInfo, UnitView, UserView};
use simpul_domain::auth::Permission;
use simpul_domain::office::BoxRole;
use simpul_store::staff;
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::backend::{AppBackend, internal, local_datetime, local_time};
use crate::office::auth::{self, AuthError, Lifetimes};
use crate::sync::link::Link;

/// Set by the session middleware when the request carried a session cookie the store no
/// longer knows: the session ran out.
#[derive(Debug, Clone, Copy)]
pub struct SessionMarker {
    /// The cookie named a session that no longer exists.
    pub expired: bool,
}

impl AppBackend {
    fn lifetimes(&self) -> Lifetimes {
        Lifetimes { absolute_secs: (self.core.config.session.absolute_hours * 3600) as i64 }
    }
}

fn session_of(parts: &Parts) -> Result<Session, ApiError> {
    parts.extensions.get::<Session>().cloned().ok_or_else(|| {
        tracing::error!("no session layer on this route");
        ApiError::Internal
    })
}

fn expired(parts: &Parts) -> bool {
    parts.extensions.get::<SessionMarker>().is_some_and(|m| m.expired)
}

fn client_address(parts: &Parts) -> String {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
}

fn api_error(e: AuthError, parts: &Parts) -> ApiError {
    match e {
        AuthError::Unauthenticated if expired(parts) => ApiError::SessionExpired,
        AuthError::Unauthenticated => ApiError::Unauthenticated,
        AuthError::Expired => ApiError::SessionExpired,
        AuthError::Forbidden => ApiError::Forbidden,
        AuthError::Csrf => ApiError::Csrf,
        AuthError::InvalidCredentials => ApiError::InvalidCredentials,
        AuthError::Throttled(secs) => ApiError::Throttled { retry_after_secs: secs.max(1) as u64 },
        AuthError::Store(e) => internal(e),
        AuthError::Session(e) => {
            tracing::error!(error = %e, "session store failure");
            ApiError::Internal
        }
    }
}

fn user_view(a: &staff::Account) -> UserView {
    UserView { id: a.id.clone(), username: a.username.to_string(), display_name: a.display_name.clone(), role: a.role }
}

#[async_trait::async_trait]
impl SessionBackend for AppBackend {
    async fn get_session(&self, parts: &Parts) -> Result<SessionInfo, ApiError> {
        let session = session_of(parts)?;
        let csrf = auth::csrf_token(&session).await.map_err(|e| api_error(e, parts))?;
        let (user, was_expired) =
            match auth::current_account(&self.core.db, &session, self.lifetimes(), OffsetDateTime::now_utc()).await {
                Ok(account) => (Some(user_view(&account)), false),
                Err(AuthError::Unauthenticated) => (None, expired(parts)),
                Err(AuthError::Expired) => (None, true),
                Err(e) => return Err(api_error(e, parts)),
            };
        // An expired login flushed the session: hand out a fresh token.
        let csrf = if was_expired { auth::csrf_token(&session).await.map_err(|e| api_error(e, parts))? } else { csrf };
        let unit = self.unit().await?;
        Ok(SessionInfo {
            user,
            csrf,
            box_role: self.core.config.role,
            unit: unit.map(|(_, u)| UnitView { code: u.code.to_string(), name: u.name }),
            expired: was_expired,
        })
    }

    async fn login(&self, parts: &Parts, csrf: &str, username: &str, password: &str) -> Result<UserView, ApiError> {
        let session = session_of(parts)?;
        auth::check_csrf(&session, csrf).await.map_err(|e| api_error(e, parts))?;
        if username.len() > 64 || password.len() > 256 {
            return Err(ApiError::InvalidCredentials);
        }
        let account =
            auth::login(&self.core.db, &session, username, password, &client_address(parts), OffsetDateTime::now_utc())
                .await
                .map_err(|e| api_error(e, parts))?;
        Ok(user_view(&account))
    }

    async fn logout(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError> {
        let session = session_of(parts)?;
        auth::logout(&self.core.db, &session, csrf, OffsetDateTime::now_utc()).await.map_err(|e| api_error(e, parts))
    }

    async fn change_password(
        &self,
        parts: &Parts,
        csrf: &str,
        current: &str,
        new_password: &str,
        repeat: &str,
    ) -> Result<(), ApiError> {
        let session = session_of(parts)?;
        auth::check_csrf(&session, csrf).await.map_err(|e| api_error(e, parts))?;
        let now = OffsetDateTime::now_utc();
        let account = auth::current_account(&self.core.db, &session, self.lifetimes(), now)
            .await
            .map_err(|e| api_error(e, parts))?;
        if current.len() > 256 {
            return Err(ApiError::InvalidCredentials);
        }
        let field =
            |code: &str| ApiError::Refused(Refusal::Fields(vec![("new_password".into(), code.into(), String::new())]));
        if new_password != repeat {
            return Err(ApiError::Refused(Refusal::Fields(vec![("repeat".into(), "mismatch".into(), String::new())])));
        }
        if new_password.len() > 1024 {
            return Err(field("too_long"));
        }
        // A box's office accounts come from the hub: the change goes back up to it.
        let for_hub = self.core.config.role == BoxRole::Office && account.office.is_some();
        let outcome = auth::change_own_password(
            &self.core.db,
            &session,
            &account,
            auth::PasswordChange { current, new: new_password },
            &client_address(parts),
            for_hub,
            now,
        )
        .await
        .map_err(|e| api_error(e, parts))?;
        outcome.map_err(|problem| field(problem.code()))
    }

    async fn authorize(&self, parts: &Parts, permission: Permission) -> Result<UserView, ApiError> {
        let session = session_of(parts)?;
        let account = auth::current_account(&self.core.db, &session, self.lifetimes(), OffsetDateTime::now_utc())
            .await
            .and_then(|a| auth::require(a, permission))
            .map_err(|e| api_error(e, parts))?;
        Ok(user_view(&account))
    }

    async fn check_csrf(&self, parts: &Parts, csrf: &str) -> Result<(), ApiError> {
        let session = session_of(parts)?;
        auth::check_csrf(&session, csrf).await.map_err(|e| api_error(e, parts))
    }

    async fn hub_link(&self) -> LinkView {
        let status = self.core.link.status();
        let zone = self.zone().await;
        LinkView {
            state: match status.link {
                Link::Hub => LinkState::Hub,
                Link::NotConfigured => LinkState::NotConfigured,
                Link::Checking => LinkState::Checking,
                Link::Online => LinkState::Online,
                Link::Offline => LinkState::Offline,
            },
            since: status.since.map(|t| local_time(t, zone)),
            last_check: status.last_check.map(|t| local_datetime(t, zone)),
            error_code: status.error.as_ref().map(|e| e.code().to_string()),
            error: status.error.map(|e| e.to_string()),
        }
    }
}
