//! The wire between browser and server: the types the pages receive and the server functions
//! that return them. Each server function is thin: check the caller, call the backend, answer.

mod applications;
mod devices;
mod sync;

pub use applications::*;
pub use devices::*;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};
use simpul_domain::auth::Role;
use simpul_domain::catalog::{CompletionTime, FeeKind, ServiceKind, ServiceStandard};
use simpul_domain::office::BoxRole;
pub use sync::*;

use crate::error::ApiError;

/// The logged-in staff member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Account id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role.
    pub role: Role,
}

/// The unit this box serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitView {
    /// Region code (kecamatan for an office, regency for a hub).
    pub code: String,
    /// Name.
    pub name: String,
}

/// What every page needs to know about the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Who is logged in, if anyone.
    pub user: Option<UserView>,
    /// Token every state-changing form must send back.
    pub csrf: String,
    /// The box's role.
    pub box_role: BoxRole,
    /// The box's office or regency, once enrolled.
    pub unit: Option<UnitView>,
    /// There was a session that ran out.
    pub expired: bool,
}

/// State of the link to the regency hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// This box is the hub.
    Hub,
    /// No hub address is configured.
    NotConfigured,
    /// No check has finished yet.
    Checking,
    /// The last check reached the hub.
    Online,
    /// The last check failed.
    Offline,
}

/// The hub link as the banner shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// The state.
    pub state: LinkState,
    /// Local time ("14:05 WITA") since when the state holds, when known.
    pub since: Option<String>,
    /// Local time of the last check.
    pub last_check: Option<String>,
    /// The last failure's technical detail (English, for the technician).
    pub error: Option<String>,
    /// Its stable code, which the UI translates.
    pub error_code: Option<String>,
}

/// One catalog entry in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Entry id.
    pub id: String,
    /// Service name.
    pub title: String,
    /// Kind.
    pub kind: ServiceKind,
    /// Completion time, when stated.
    pub completion: Option<CompletionTime>,
    /// Fee.
    pub fee: FeeKind,
    /// Issuing office (government / agency).
    pub issuer: String,
}

/// One catalog entry in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// Entry id.
    pub id: String,
    /// The standard as imported.
    pub standard: ServiceStandard,
    /// File it was imported from.
    pub source: Option<String>,
    /// When it was imported (local time).
    pub imported_at: String,
}

/// One staff account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffView {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Office code, or none for regency-level accounts.
    pub office: Option<String>,
    /// Whether the account may log in.
    pub active: bool,
}

/// The box's system page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemView {
    /// Program version.
    pub version: String,
    /// Role.
    pub box_role: BoxRole,
    /// Office or regency.
    pub unit: Option<UnitView>,
    /// Data directory.
    pub data_dir: String,
    /// Size of the database file in bytes.
    pub database_bytes: u64,
    /// Applied schema version.
    pub schema_version: u32,
    /// Configured hub address.
    pub hub_url: Option<String>,
    /// Hub link.
    pub link: LinkView,
    /// Time zone abbreviation.
    pub zone: String,
}

/// Session, CSRF token and box identity for the current request.
#[server(endpoint = "session", prefix = "/api", input = GetUrl)]
pub async fn get_session() -> Result<SessionInfo, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.session_info(&parts).await
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
        Ok(backend.link().await)
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

// ---------------------------------------------------------------------------------------------
// The queue: kiosk, counters, display.
// ---------------------------------------------------------------------------------------------

/// A service the kiosk offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskService {
    /// Catalog id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Letter of its normal lane.
    pub letter: String,
}

/// A queue ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    /// Id.
    pub id: String,
    /// "A-014".
    pub number: String,
    /// "normal" or the priority reason code.
    pub lane: String,
    /// Service id.
    pub service_id: String,
    /// Service title.
    pub service: String,
    /// State code.
    pub state: String,
    /// Counter it was called to.
    pub counter: Option<String>,
    /// Issue time "HH:MM".
    pub issued: String,
    /// Why the box's ticket printer did not print it (a device error code), if it tried.
    #[serde(default)]
    pub print_error: Option<String>,
}

/// The kiosk's start screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskView {
    /// Office name.
    pub office: String,
    /// Services to choose from.
    pub services: Vec<KioskService>,
}

/// A counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterView {
    /// Id ("L1").
    pub id: String,
    /// Name.
    pub name: String,
    /// Open.
    pub open: bool,
    /// Staff at it (display name).
    pub staff: Option<String>,
    /// Ticket called or served there.
    pub current: Option<TicketView>,
}

/// The counter page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterDesk {
    /// Every counter.
    pub counters: Vec<CounterView>,
    /// Waiting tickets.
    pub waiting: Vec<TicketView>,
    /// Services (for transfers).
    pub services: Vec<KioskService>,
    /// Today's tickets that did not come when called, to call again.
    #[serde(default)]
    pub no_shows: Vec<TicketView>,
}

/// The waiting-room display.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayView {
    /// Office name.
    pub office: String,
    /// Open counters and what they serve now.
    pub serving: Vec<(String, Option<String>)>,
    /// Last calls, newest first: (number, counter).
    pub last_called: Vec<(String, String)>,
    /// Waiting (normal, priority).
    pub waiting: (u32, u32),
    /// Grows with each call; a change means "chime".
    pub call_seq: i64,
}

/// Services for the kiosk (device token required).
#[server(endpoint = "kiosk", prefix = "/api", input = GetUrl)]
pub async fn get_kiosk(token: String) -> Result<KioskView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.kiosk_view(&parts, &token).await
    })
    .await
}

/// Takes a ticket at the kiosk. `client_id` makes a retry return the same ticket.
#[server(endpoint = "kiosk/ticket", prefix = "/api")]
pub async fn kiosk_take(
    token: String,
    service_id: String,
    lane: String,
    client_id: String,
) -> Result<TicketView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.kiosk_take(&parts, &token, &service_id, &lane, &client_id).await
    })
    .await
}

/// Reports whether the kiosk's printer produced the ticket.
#[server(endpoint = "kiosk/printed", prefix = "/api")]
pub async fn kiosk_printed(token: String, ticket_id: String, ok: bool) -> Result<TicketView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.kiosk_printed(&parts, &token, &ticket_id, ok).await
    })
    .await
}

/// The waiting-room display (device token required). Live updates come from
/// `/api/layar/stream`.
#[server(endpoint = "display", prefix = "/api", input = GetUrl)]
pub async fn get_display(token: String) -> Result<DisplayView, ApiError> {
    crate::backend::respond(async {
        let (backend, parts) = crate::backend::context()?;
        backend.display_view(&parts, &token).await
    })
    .await
}

/// The counter desk.
#[server(endpoint = "counter", prefix = "/api", input = GetUrl)]
pub async fn get_counter_desk() -> Result<CounterDesk, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded(Permission::ServeCounter, |backend, user| async move { backend.counter_desk(&user).await })
        .await
}

/// Opens or closes a counter for the logged-in staff member.
#[server(endpoint = "counter/open", prefix = "/api")]
pub async fn counter_open(csrf: String, counter: String, open: bool) -> Result<(), ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_open(&user, &counter, open).await
    })
    .await
}

/// Calls the next ticket to a counter.
#[server(endpoint = "counter/call", prefix = "/api")]
pub async fn counter_call(csrf: String, counter: String) -> Result<TicketView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_call(&user, &counter).await
    })
    .await
}

/// Calls a ticket that did not come (skipped earlier today) again, to a counter.
#[server(endpoint = "counter/call-again", prefix = "/api")]
pub async fn counter_call_again(csrf: String, counter: String, ticket: String) -> Result<TicketView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_call_again(&user, &counter, &ticket).await
    })
    .await
}

/// Recall, start, finish, skip or transfer the ticket at a counter.
#[server(endpoint = "counter/act", prefix = "/api")]
pub async fn counter_act(
    csrf: String,
    ticket: String,
    action: String,
    to_counter: Option<String>,
    to_service: Option<String>,
) -> Result<TicketView, ApiError> {
    use simpul_domain::auth::Permission;
    crate::backend::guarded_csrf(Permission::ServeCounter, csrf, |backend, user| async move {
        backend.counter_act(&user, &ticket, &action, to_counter.as_deref(), to_service.as_deref()).await
    })
    .await
}
