//! What every request handler can reach: configuration, database, hub link.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use time::OffsetDateTime;

use crate::config::Config;
use crate::db::Db;
use crate::hublink::HubLink;

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
}

/// Router state: the core plus the options Leptos needs.
#[derive(Clone)]
pub struct AppState {
    /// Leptos options (site paths, output name).
    pub leptos: LeptosOptions,
    /// The core.
    pub core: Arc<Core>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}
