//! What every request handler can reach: configuration, database, hub link, sync state, and the
//! UI bundle to serve.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use time::OffsetDateTime;

use crate::config::Config;
use crate::sync::link::HubLink;
use simpul_store::db::Db;

/// The long-lived parts of the server.
pub struct Core {
    /// Configuration as loaded.
    pub config: Config,
    /// The database.
    pub db: Db,
    /// The stored files (scans, photos, biometric records), sealed with the box's key.
    pub files: simpul_store::blobs::Files,
    /// Reads of personal data, on their way to the audit trail.
    pub reads: crate::reads::ReadLog,
    /// The hub link watcher's state.
    pub link: Arc<HubLink>,
    /// When the server started.
    pub started: OffsetDateTime,
    /// Bumped after every change to the queue; the display stream listens to it.
    pub queue_changed: tokio::sync::watch::Sender<u64>,
    /// Set when the server begins to stop, so that long-lived streams end and let it.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// The office box's sync state (idle on a hub).
    pub sync: Arc<crate::sync::status::SyncHandle>,
}

impl Core {
    /// Tells listeners (the waiting-room displays) that the queue changed.
    pub fn queue_touched(&self) {
        self.queue_changed.send_modify(|v| *v = v.wrapping_add(1));
    }
}

/// Router state: the core plus the options Leptos needs.
#[derive(Clone)]
pub struct AppState {
    /// Leptos options (site paths, output name).
    pub leptos: LeptosOptions,
    /// The core.
    pub core: Arc<Core>,
    /// The UI bundle served at `/pkg/`.
    pub bundle: Arc<dyn Bundle>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// One file of the bundle.
#[derive(Clone, Debug)]
pub struct Asset {
    /// Its bytes.
    pub data: Cow<'static, [u8]>,
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
    /// Its MIME type.
    pub mime: String,
}

/// Where the bundle's files come from, by their path in the site (`pkg/simpul.js`).
pub trait Bundle: Send + Sync + 'static {
    /// One file, if the bundle has it.
    fn get(&self, name: &str) -> Option<Asset>;
}

/// No bundle: pages are served without their interactive part.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBundle;

impl Bundle for NoBundle {
    fn get(&self, _name: &str) -> Option<Asset> {
        None
    }
}

/// True when `bundle` holds the hydration bundle (without it pages work without JavaScript
/// only).
pub fn bundle_present(bundle: &dyn Bundle) -> bool {
    bundle.get("pkg/simpul.js").is_some() && bundle.get("pkg/simpul_bg.wasm").is_some()
}
