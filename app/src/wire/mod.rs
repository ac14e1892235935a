//! What travels between browser and server: the types the pages receive and send, apart from
//! the server functions (in [`crate::api`]) and the backend (in `crate::backend`), which both
//! import them. Deliberate wire formats: they change only together with the pages that read
//! them. This module: the session, the hub link, the catalog, staff and system pages.

mod applications;
mod devices;
mod queue;
mod sync;

pub use applications::*;
pub use devices::*;
pub use queue::*;
use serde::{Deserialize, Serialize};
use simpul_domain::auth::Role;
use simpul_domain::catalog::{CompletionTime, FeeKind, ServiceKind, ServiceStandard};
use simpul_domain::office::BoxRole;
pub use sync::*;

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
