//! What the command groups share: the database of the configured data directory, and the
//! transaction a command-line writer takes beside a running server.

use anyhow::{Context, Result};
use simpul_store::db;

use crate::config::Config;

/// Opens (creating and migrating it if needed) the database of the data directory in `config`.
pub(super) fn open_db(config: &Config) -> Result<simpul_store::Connection> {
    let key = box_key(config)?;
    db::open_sync(&config.database_path(), &key.database_key())
        .with_context(|| format!("opening {}", config.database_path().display()))
}

/// The box's key, as the server takes it at start (a passphrase asked in the terminal).
pub(super) fn box_key(config: &Config) -> Result<simpul_store::crypt::MasterKey> {
    crate::prepare_data_dir(&config.data_dir)?;
    Ok(crate::keys::for_start(config, Some(&crate::keys::terminal_prompt))?)
}

/// A transaction that takes the write lock at its start. The server may be running on the same
/// file: a deferred transaction that read first would fail at its first write if the server
/// wrote in between, where this one waits its turn (busy timeout) instead.
pub(super) fn write_transaction(conn: &mut simpul_store::Connection) -> Result<simpul_store::Transaction<'_>> {
    Ok(db::write_transaction(conn)?)
}
