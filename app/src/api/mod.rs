//! The server functions the pages call: each is thin (check the caller on the server, call the
//! one [`crate::backend`] method of the same name, answer). What they carry is in
//! [`crate::wire`], re-exported here for the pages. This module: the session, the hub link,
//! the catalog, staff and system pages.

mod applications;
mod devices;
mod queue;
mod sync;

pub use applications::*;
pub use devices::*;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
pub use queue::*;
pub use sync::*;

use crate::error::ApiError;
pub use crate::wire::*;

/// Session, CSRF token and box identity for the current request.
#[server(endpoint = "session", prefix = "/api", input = GetUrl)]
pub async fn get_session() -> Result<SessionInfo, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.get_session(&parts).await
    })
    .await
}

/// Logs in and redirects to `next` (a path on this site) or the home page.
#[server(endpoint = "login", prefix = "/api")]
pub async fn login(csrf: String, username: String, password: String, next: Option<String>) -> Result<(), ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.login(&parts, &csrf, &username, &password).await?;
        leptos_axum::redirect(&safe_next(next.as_deref()));
        Ok(())
    })
    .await
}

/// Logs out and redirects to the login page.
#[server(endpoint = "logout", prefix = "/api")]
pub async fn logout(csrf: String) -> Result<(), ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.logout(&parts, &csrf).await?;
        leptos_axum::redirect("/masuk");
        Ok(())
    })
    .await
}

/// Changes the caller's own password, then sends them to the login page: every session of the
/// account ends with the change. On a box the change reaches the hub at its next sync.
#[server(endpoint = "akun/sandi", prefix = "/api")]
pub async fn change_password(
    csrf: String,
    current: String,
    new_password: String,
    repeat: String,
) -> Result<(), ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.change_password(&parts, &csrf, &current, &new_password, &repeat).await?;
        leptos_axum::redirect("/masuk?sandi=diganti");
        Ok(())
    })
    .await
}

/// The hub link state. Open to anyone on the office LAN: it says nothing about people.
#[server(endpoint = "link", prefix = "/api", input = GetUrl)]
pub async fn hub_link() -> Result<LinkView, ApiError> {
    crate::backend::respond(async {
        let (backend, _) = crate::backend::context()?;
        Ok(backend.hub_link().await)
    })
    .await
}

/// The catalog, for every role.
#[server(endpoint = "catalog", prefix = "/api", input = GetUrl)]
pub async fn catalog_list() -> Result<Vec<ServiceSummary>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewCatalog, |backend, _user| async move { backend.catalog_list().await }).await
}

/// One catalog entry.
#[server(endpoint = "catalog/detail", prefix = "/api", input = GetUrl)]
pub async fn catalog_detail(id: String) -> Result<ServiceView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewCatalog, |backend, _user| async move {
        let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::BadRequest("id is not a UUID".into()))?;
        backend.catalog_detail(id).await
    })
    .await
}

/// The staff list (office head, regency admin).
#[server(endpoint = "staff", prefix = "/api", input = GetUrl)]
pub async fn staff_list() -> Result<Vec<StaffView>, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewStaff, |backend, _user| async move { backend.staff_list().await }).await
}

/// The system page (installer, office head, regency admin).
#[server(endpoint = "system", prefix = "/api", input = GetUrl)]
pub async fn system_info() -> Result<SystemView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ViewSystem, |backend, _user| async move { backend.system_info().await }).await
}

/// Keeps redirects on this site: only paths starting with one `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.starts_with("/masuk") => {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_on_site() {
        assert_eq!(safe_next(Some("/katalog")), "/katalog");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(Some("/masuk")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
