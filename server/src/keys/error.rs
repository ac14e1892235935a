//! Why the box's key could not be had, in words an installer can act on.

use std::path::PathBuf;

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key in any form, and the data cannot be opened without one.
    #[error(
        "no key for the encrypted data in {data_dir}: looked for a systemd credential and for {dir}/simpul.key(.cred, .tpm2, .pass). \
         Put the key back; if it is lost, the regency hub still holds the office's records and files: restore this box from the regency hub"
    )]
    Missing {
        /// The data directory.
        data_dir: PathBuf,
        /// The key folder.
        dir: PathBuf,
    },
    /// The key file can be read by others than its owner.
    #[error(
        "the key file {0} can be read by other users: `chmod 600` it (or seal it with `simpul key init --protect host`)"
    )]
    TooOpen(PathBuf),
    /// A stored key is not a key.
    #[error("the key in {0} is damaged (not a 256-bit key)")]
    Damaged(PathBuf),
    /// The passphrase does not open the wrapped key.
    #[error("the passphrase does not open the key in {0}")]
    WrongPassphrase(PathBuf),
    /// The key is wrapped under a passphrase and none can be asked for.
    #[error("the key in {0} is protected by a passphrase: start `simpul serve` in a terminal to type it")]
    NeedsPassphrase(PathBuf),
    /// A sealing tool failed or is missing.
    #[error("{tool}: {reason}")]
    Tool {
        /// The tool.
        tool: String,
        /// What it said.
        reason: String,
    },
    /// The key folder cannot be read or written.
    #[error("key folder {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The system's random source failed.
    #[error("no randomness to make a key")]
    Random,
    /// Not an age public key.
    #[error("key.recovery is not a recovery key: it takes the regency's age public key (age1…)")]
    NotARecoveryKey,
    /// No identity line in a recovery identity file.
    #[error("{0} holds no recovery identity (a line AGE-SECRET-KEY-1…)")]
    NoRecoveryIdentity(PathBuf),
    /// Encrypted to another recovery key.
    #[error("it was encrypted to another recovery key than the one given")]
    NotForThisRecoveryKey,
    /// A recovery key file would be overwritten.
    #[error("{0} already exists: a recovery key is never overwritten")]
    RecoveryExists(PathBuf),
    /// Encrypting to, or opening with, the recovery key failed.
    #[error("recovery key: {0}")]
    Recovery(String),
}
