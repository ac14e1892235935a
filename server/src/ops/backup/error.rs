//! Why a backup or restore failed.

use std::path::PathBuf;

use simpul_store::db::StoreError;

use crate::keys::KeyError;

/// Why a backup or restore failed. Nothing of the running data was changed unless it says so.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target of a backup is not an empty or new folder.
    #[error("{0} already exists and is not empty: choose a new folder for the backup")]
    TargetNotEmpty(PathBuf),
    /// The folder is no Simpul backup.
    #[error("{0} is not a Simpul backup (no SIMPUL-BACKUP.txt, backup.key.age and simpul.sqlite3 in it)")]
    NotABackup(PathBuf),
    /// A backup of another format.
    #[error(
        "the backup is of format {0}, which this version does not restore (format 1, from before encryption to the recovery key, \
         opens only with the version and the box that made it)"
    )]
    Format(String),
    /// Something in the backup is not what its manifest says.
    #[error("the backup was changed or damaged, nothing was restored: {0}")]
    Tampered(String),
    /// Who made the backup cannot be checked.
    #[error(
        "who made the backup cannot be checked: {0}. Give the regency CA with --ca FILE (the hub's CA certificate: \
         tls/hub-ca.pem of any enrolled box), or take it anyway with --allow-unchecked if it is a backup you took yourself"
    )]
    Unchecked(String),
    /// A backup of an office restored onto a hub, or the other way round.
    #[error("the backup is of {backup}, this data directory is of {here}: restore it onto its own kind")]
    OtherRole {
        /// The backup's role.
        backup: String,
        /// This directory's role.
        here: String,
    },
    /// The box's identity could not sign the manifest.
    #[error("the backup's manifest could not be signed: {0}")]
    Signing(String),
    /// No recovery key is configured to encrypt a backup to.
    #[error(
        "no recovery key to encrypt the backup to: set key.recovery (SIMPUL_KEY__RECOVERY) to the regency's recovery \
         public key (age1…; `simpul key recovery` makes a pair)"
    )]
    NoRecoveryKey,
    /// The recovery key or identity failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The backup's database is damaged.
    #[error("the backup's database is damaged: {0}")]
    Damaged(String),
    /// The backup comes from a newer version.
    #[error("the backup was made by a newer Simpul (schema {found}, this one knows {known}); update first")]
    TooNew {
        /// Schema version in the backup.
        found: u32,
        /// Schema version this binary knows.
        known: u32,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another program has the database open.
    #[error("another program is using the database: stop the server (and any simpul command) first")]
    InUse,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
