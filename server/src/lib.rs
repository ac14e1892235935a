//! The `simpul` appliance: configuration, storage, sessions, HTTP and the command line, wired
//! together. This is the only crate that does I/O on behalf of the others.
//!
//! Start-up is a library function ([`Appliance::open`] then [`Appliance::serve`]) that takes a
//! bound listener, so tests run real servers on port 0.

#![forbid(unsafe_code)]

pub mod backend;
pub mod cli;
pub mod config;
pub mod devices;
pub mod http;
pub mod keys;
pub mod logging;
pub mod office;
pub mod ops;
pub mod reads;
pub mod state;
pub mod sync;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use leptos::config::LeptosOptions;
use time::OffsetDateTime;
use tower_sessions::ExpiredDeletion;
use tower_sessions_rusqlite_store::RusqliteStore;

use simpul_installer::pki;
use simpul_store::db::{Db, StoreError};

use crate::config::Config;
use crate::state::{AppState, Core};
use crate::sync::link::{HubLink, Link};

/// Why the appliance could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory cannot be created or written.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong, in plain words.
        reason: String,
    },
    /// Another process (a server or a restore) holds the data directory.
    #[error("another simpul process uses the data directory {path}{holder}")]
    InUse {
        /// The directory.
        path: PathBuf,
        /// " (process N)" when known.
        holder: String,
    },
    /// The database cannot be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key of the encrypted data cannot be had.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The sessions table cannot be prepared.
    #[error("session store: {0}")]
    Sessions(String),
    /// Serving failed.
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// Creates the data directory if needed and proves it is writable.
pub fn prepare_data_dir(path: &Path) -> Result<(), StartError> {
    let fail = |reason: String| StartError::DataDir { path: path.to_path_buf(), reason };
    if path.exists() && !path.is_dir() {
        return Err(fail("exists but is not a directory".into()));
    }
    if !path.exists() {
        std::fs::create_dir_all(path).map_err(|e| fail(format!("cannot create it: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700));
        }
    }
    let probe = path.join(".simpul-write-test");
    std::fs::write(&probe, b"ok").map_err(|e| fail(format!("is not writable: {e}")))?;
    std::fs::remove_file(&probe).map_err(|e| fail(format!("is not writable: {e}")))?;
    Ok(())
}

/// An exclusive hold on a data directory, kept by a running server (and by a restore) until it
/// ends; the kernel lets go when the process dies, however it dies. `simpul restore` asks for
/// it, so it refuses exactly when a server of this data directory runs, on whatever port, and
/// never because another program answers on the configured one.
#[derive(Debug)]
pub struct DataDirLock {
    _file: std::fs::File,
}

/// The lock file in a data directory.
const LOCK_FILE: &str = "simpul.lock";

impl DataDirLock {
    /// Takes the lock, or says which process holds it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, StartError> {
        let path = data_dir.join(LOCK_FILE);
        let fail = |reason: String| StartError::DataDir { path: data_dir.to_path_buf(), reason };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| fail(format!("cannot open its lock file: {e}")))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                let holder = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
                return Err(StartError::InUse { path: data_dir.to_path_buf(), holder });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(format!("cannot lock it: {e}"))),
        }
        use std::io::{Seek, Write};
        // The holder's process id, for the message another process shows.
        let _ = file.set_len(0);
        let _ = file.seek(std::io::SeekFrom::Start(0));
        let _ = write!(file, "{}", std::process::id());
        let _ = file.flush();
        Ok(DataDirLock { _file: file })
    }
}

/// How long a partial upload or download may lie untouched before a start drops it.
const ABANDONED_UPLOAD: Duration = Duration::from_secs(14 * 24 * 3600);

/// A ready-to-serve appliance: database open and migrated, sessions ready.
pub struct Appliance {
    _lock: DataDirLock,
    state: AppState,
    sessions: RusqliteStore,
    sync_listener: Option<tokio::net::TcpListener>,
    reads: Option<reads::ReadQueue>,
}

impl Appliance {
    /// Prepares the data directory, takes the box's key (making one on a box that has none
    /// and nothing encrypted yet), opens and migrates the database and the sessions table.
    pub async fn open(config: Config) -> Result<Appliance, StartError> {
        prepare_data_dir(&config.data_dir)?;
        let key = keys::for_start(&config, None)?;
        Appliance::open_with_key(config, key).await
    }

    /// As [`Appliance::open`], with the key already taken (a passphrase typed at start).
    /// Encrypts in place what an older version left in clear: the database, then the files.
    pub async fn open_with_key(config: Config, key: simpul_store::crypt::MasterKey) -> Result<Appliance, StartError> {
        prepare_data_dir(&config.data_dir)?;
        let lock = DataDirLock::acquire(&config.data_dir)?;
        let db = Db::open(&config.database_path(), key.database_key()).await?;
        let files = simpul_store::blobs::Files::new(&config.data_dir, key.file_key());
        let sealing = files.clone();
        let sealed = tokio::task::spawn_blocking(move || sealing.seal_clear_files())
            .await
            .map_err(|e| StartError::Io(std::io::Error::other(e)))??;
        if sealed > 0 {
            tracing::warn!(files = sealed, "stored files were in clear; they are encrypted now");
        }
        let cleaning = files.clone();
        match tokio::task::spawn_blocking(move || cleaning.drop_stale_partials(ABANDONED_UPLOAD)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(dropped)) => tracing::info!(files = dropped, "abandoned partial uploads dropped"),
            Ok(Err(e)) => tracing::warn!(error = %e, "abandoned partial uploads could not be dropped"),
            Err(e) => tracing::warn!(error = %e, "abandoned partial uploads could not be dropped"),
        }
        db.call(|c| {
            simpul_store::documents::rotate_actor(c)?;
            let interrupted = simpul_store::scans::fail_interrupted(c, OffsetDateTime::now_utc())?;
            if interrupted > 0 {
                tracing::warn!(scans = interrupted, "scans under way when the server stopped are marked failed");
            }
            simpul_store::applications::index_blob_refs_once(c)?;
            simpul_store::applications::index_passports_once(c).map(|_| ())
        })
        .await?;
        let sessions = RusqliteStore::new(db.connection());
        sessions.migrate().await.map_err(|e| StartError::Sessions(e.to_string()))?;
        let enrolled = pki::BoxIdentity::load(&config.data_dir).is_ok();
        let initial = match (config.role, &config.hub.url) {
            (simpul_domain::office::BoxRole::Hub, _) => Link::Hub,
            (_, None) if !enrolled => Link::NotConfigured,
            _ => Link::Checking,
        };
        let leptos = LeptosOptions::builder()
            .output_name("simpul")
            .site_pkg_dir("pkg")
            .site_root("target/site")
            .site_addr(config.listen)
            .build();
        let (queue_changed, _) = tokio::sync::watch::channel(0);
        let (stopping, _) = tokio::sync::watch::channel(false);
        let (read_log, read_queue) = reads::ReadLog::new();
        let core = Arc::new(Core {
            config,
            db,
            files,
            reads: read_log,
            link: HubLink::new(initial),
            started: OffsetDateTime::now_utc(),
            queue_changed,
            stopping,
            sync: Arc::new(crate::sync::status::SyncHandle::default()),
        });
        Ok(Appliance {
            _lock: lock,
            state: AppState { leptos, core, bundle: Arc::new(http::assets::NoBundle) },
            sessions,
            sync_listener: None,
            reads: Some(read_queue),
        })
    }

    /// The UI bundle to serve (the binary's embedded one); without it pages are served without
    /// their interactive part.
    pub fn with_bundle(mut self, bundle: Arc<dyn http::assets::Bundle>) -> Self {
        self.state.bundle = bundle;
        self
    }

    /// Hub role: the listener for the mutual-TLS sync endpoint.
    pub fn with_sync_listener(mut self, listener: tokio::net::TcpListener) -> Self {
        self.sync_listener = Some(listener);
        self
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.state.core.db
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.state.core.config
    }

    /// Seeds the demo if there are no accounts yet. Returns the demo accounts when it did.
    pub async fn seed_demo_if_empty(&self) -> Result<Option<crate::ops::demo::Demo>, StartError> {
        let role = self.state.core.config.role;
        let seeded = self
            .db()
            .call(move |c| {
                if simpul_store::staff::count(c)? > 0 {
                    return Ok(None);
                }
                crate::ops::demo::seed(c, role, OffsetDateTime::now_utc()).map(Some)
            })
            .await?;
        Ok(seeded)
    }

    /// How many staff accounts exist.
    pub async fn account_count(&self) -> Result<u64, StartError> {
        Ok(self.db().call(|c| simpul_store::staff::count(c)).await?)
    }

    /// Serves on `listener` until `shutdown` resolves; watches the hub link meanwhile.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        if !http::assets::bundle_present(&*self.state.bundle) {
            tracing::warn!("the UI bundle is not embedded: pages work but are not interactive");
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let core = self.state.core.clone();
        if let Some(listener) = self.sync_listener {
            let pki = pki::HubPki::ensure(&core.config.data_dir, &core.config.hub.tls_names, OffsetDateTime::now_utc())
                .map_err(|e| StartError::DataDir { path: core.config.data_dir.join("tls"), reason: e.to_string() })?;
            tokio::spawn(crate::sync::hub::serve(listener, core.clone(), Arc::new(pki), stop_rx.clone()));
        }
        let print_queue = tokio::spawn(crate::devices::printing::run(core.clone(), stop_rx.clone()));
        let reads = self.reads.map(|queue| tokio::spawn(reads::write(core.db.clone(), queue, stop_rx.clone())));
        tokio::spawn(devices::watch(core.clone(), stop_rx.clone()));
        if core.config.role == simpul_domain::office::BoxRole::Office {
            let stored = core.db.call(|c| simpul_store::settings::get(c, simpul_store::settings::HUB_URL)).await?;
            let url = core.config.hub.url.clone().or(stored);
            let enrolled = pki::BoxIdentity::load(&core.config.data_dir).is_ok();
            // Until the box is enrolled (`simpul enroll` may run while the server does), the
            // link banner is fed by a plain check of the hub; once enrolled, the sync loop takes
            // over without a restart.
            let (enrolled_tx, mut enrolled_rx) = tokio::sync::watch::channel(enrolled);
            match url.as_deref().map(reqwest::Url::parse) {
                Some(Ok(url)) if enrolled => {
                    tokio::spawn(crate::sync::client::run(core.clone(), core.sync.clone(), url, stop_rx.clone()));
                }
                Some(Ok(url)) => {
                    let mut rx = stop_rx.clone();
                    tokio::spawn(crate::sync::link::watch(
                        core.link.clone(),
                        url,
                        Duration::from_secs(core.config.hub.check_interval_secs),
                        Duration::from_secs(core.config.hub.timeout_secs),
                        async move {
                            tokio::select! {
                                _ = rx.wait_for(|stop| *stop) => {}
                                _ = enrolled_rx.wait_for(|e| *e) => {}
                            }
                        },
                    ));
                }
                Some(Err(e)) => tracing::error!(error = %e, "hub address cannot be parsed"),
                None => {}
            }
            if !enrolled {
                tokio::spawn(start_sync_once_enrolled(core.clone(), enrolled_tx, stop_rx.clone()));
            }
        }
        let cleanup = tokio::spawn(self.sessions.clone().continuously_delete_expired(Duration::from_secs(600)));
        let router = http::router(self.state, self.sessions);
        let stopping = core.stopping.clone();
        let shutdown = async move {
            shutdown.await;
            // Long-lived streams (displays) end now, so that open connections close.
            let _ = stopping.send(true);
        };
        let result = http::serve(listener, router, shutdown).await;
        let _ = stop_tx.send(true);
        // A print try under way is recorded before the process ends (see `printing::run_on`).
        let _ = tokio::time::timeout(crate::devices::printing::STOP_GRACE + Duration::from_secs(1), print_queue).await;
        // The reads noted last reach the audit trail before the process ends.
        if let Some(reads) = reads {
            let _ = tokio::time::timeout(Duration::from_secs(5), reads).await;
        }
        cleanup.abort();
        Ok(result?)
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

/// Office role, not enrolled at start: looks every few seconds for the identity `simpul
/// enroll` leaves in the data directory, and starts the sync loop when it appears.
async fn start_sync_once_enrolled(
    core: Arc<state::Core>,
    enrolled: tokio::sync::watch::Sender<bool>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        if pki::BoxIdentity::load(&core.config.data_dir).is_err() {
            continue;
        }
        let stored =
            core.db.call(|c| simpul_store::settings::get(c, simpul_store::settings::HUB_URL)).await.ok().flatten();
        let Some(Ok(url)) = core.config.hub.url.clone().or(stored).as_deref().map(reqwest::Url::parse) else {
            continue;
        };
        tracing::info!("enrolled with the hub: sync starts");
        let _ = enrolled.send(true);
        tokio::spawn(crate::sync::client::run(core.clone(), core.sync.clone(), url, stop.clone()));
        return;
    }
}
