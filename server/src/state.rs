//! What every request handler can reach: configuration, database, hub link.

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
    /// The hub link watcher's state.
    pub link: Arc<HubLink>,
    /// When the server started.
    pub started: OffsetDateTime,
    /// Bumped after every change to the queue; the display stream listens to it.
    pub queue_changed: tokio::sync::watch::Sender<u64>,
    /// Set when the server begins to stop, so that long-lived streams end and let it.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// The office box's sync state (idle on a hub).
    pub sync: Arc<crate::sync::client::SyncHandle>,
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
    pub bundle: Arc<dyn crate::http::assets::Bundle>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
