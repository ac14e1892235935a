//! The server's side of the UI contract: implements the app's `Backend` with the database,
//! the sessions and the hub link. Each method is one call into `auth` or `store`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use simpul_app::api::{
    LinkState, LinkView, ServiceSummary, ServiceView, SessionInfo, StaffView, SystemView, UnitView, UserView,
};
use simpul_app::backend::Backend;
use simpul_app::error::ApiError;
use simpul_domain::auth::Permission;
use simpul_domain::office::BoxRole;
use simpul_domain::zone::Zone;
use time::OffsetDateTime;
use tower_sessions::Session;

use crate::auth::{self, AuthError, Lifetimes};
use crate::db::StoreError;
use crate::hublink::Link;
use crate::state::Core;
use crate::store::{self, settings, staff};

/// Set by the session middleware when the request carried a session cookie the store no
/// longer knows: the session ran out.
#[derive(Debug, Clone, Copy)]
pub struct SessionMarker {
    /// The cookie named a session that no longer exists.
    pub expired: bool,
}

/// The backend handed to the UI's server functions.
pub struct AppBackend {
    core: Arc<Core>,
}

impl AppBackend {
    /// Wraps the server core.
    pub fn new(core: Arc<Core>) -> Self {
        AppBackend { core }
    }

    fn lifetimes(&self) -> Lifetimes {
        Lifetimes { absolute_secs: (self.core.config.session.absolute_hours * 3600) as i64 }
    }

    async fn unit(&self) -> Result<Option<(BoxRole, simpul_domain::office::Unit)>, ApiError> {
        self.core.db.call(|c| settings::unit(c)).await.map_err(internal)
    }

    async fn zone(&self) -> Zone {
        match self.unit().await {
            Ok(Some((_, unit))) => unit.zone(),
            _ => Zone::Wib,
        }
    }
}

fn internal(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "storage failure");
    ApiError::Internal
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

/// "14:05 WITA".
pub fn local_time(at: OffsetDateTime, zone: Zone) -> String {
    let local = at.to_offset(zone.offset());
    format!("{:02}:{:02} {}", local.hour(), local.minute(), zone.abbreviation())
}

/// "21-11-2026 14:05 WITA".
pub fn local_datetime(at: OffsetDateTime, zone: Zone) -> String {
    let local = at.to_offset(zone.offset());
    format!("{:02}-{:02}-{} {}", local.day(), u8::from(local.month()), local.year(), local_time(at, zone))
}

#[async_trait::async_trait]
impl Backend for AppBackend {
    async fn session_info(&self, parts: &Parts) -> Result<SessionInfo, ApiError> {
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

    async fn authorize(&self, parts: &Parts, permission: Permission) -> Result<UserView, ApiError> {
        let session = session_of(parts)?;
        let account = auth::current_account(&self.core.db, &session, self.lifetimes(), OffsetDateTime::now_utc())
            .await
            .and_then(|a| auth::require(a, permission))
            .map_err(|e| api_error(e, parts))?;
        Ok(user_view(&account))
    }

    async fn link(&self) -> LinkView {
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
            error: status.error,
        }
    }

    async fn catalog_list(&self) -> Result<Vec<ServiceSummary>, ApiError> {
        let entries = self.core.db.call(|c| store::catalog::list(c)).await.map_err(internal)?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let s = e.standard;
                let issuer = match &s.issuer.government {
                    Some(g) => format!("{g} / {}", s.issuer.agency),
                    None => s.issuer.agency.clone(),
                };
                ServiceSummary {
                    id: e.id,
                    title: s.title,
                    kind: s.kind,
                    completion: s.completion.map(|c| c.time),
                    fee: s.fee.kind,
                    issuer,
                }
            })
            .collect())
    }

    async fn catalog_detail(&self, id: uuid::Uuid) -> Result<ServiceView, ApiError> {
        let id = id.to_string();
        let entry = self.core.db.call(move |c| store::catalog::get(c, &id)).await.map_err(internal)?;
        let entry = entry.ok_or(ApiError::NotFound)?;
        let zone = self.zone().await;
        Ok(ServiceView {
            id: entry.id,
            standard: entry.standard,
            source: entry.source,
            imported_at: local_datetime(entry.imported_at, zone),
        })
    }

    async fn staff_list(&self) -> Result<Vec<StaffView>, ApiError> {
        let accounts = self.core.db.call(|c| staff::list(c)).await.map_err(internal)?;
        Ok(accounts
            .into_iter()
            .map(|a| StaffView {
                username: a.username.to_string(),
                display_name: a.display_name,
                role: a.role,
                office: a.office.map(|o| o.to_string()),
                active: a.active,
            })
            .collect())
    }

    async fn system_info(&self) -> Result<SystemView, ApiError> {
        let schema = self.core.db.call(|c| crate::db::schema_version(c)).await.map_err(internal)?;
        let database_bytes = std::fs::metadata(self.core.db.path()).map(|m| m.len()).unwrap_or(0);
        let unit = self.unit().await?;
        let zone = self.zone().await;
        Ok(SystemView {
            version: env!("CARGO_PKG_VERSION").to_string(),
            box_role: self.core.config.role,
            unit: unit.map(|(_, u)| UnitView { code: u.code.to_string(), name: u.name }),
            data_dir: self.core.config.data_dir.display().to_string(),
            database_bytes,
            schema_version: schema,
            hub_url: self.core.config.hub.url.clone(),
            link: self.link().await,
            zone: zone.abbreviation().to_string(),
        })
    }
}
