//! `simpul key init`: make the box's key, or keep the one it has another way; and
//! `simpul doctor`'s report of where the key is and what it protects.

use anyhow::{Result, bail};
use clap::Subcommand;

use std::path::PathBuf;

use crate::config::Config;
use crate::keys::recovery::{Identity, Recipient};
use crate::keys::{KeyStore, Protection};

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make the key that encrypts this box's data, or protect the existing key another way
    /// (the other forms are removed). Run by the installer's setup; safe to run again.
    Init {
        /// How to keep it: host (systemd-creds: TPM2 when the box has one, else the host key),
        /// tpm2 (a TPM through tpm2-tools, key.tpm_tcti), passphrase (typed at every start: a
        /// single hub only), file (a key file only the service user reads). Default: the best
        /// this machine offers.
        #[arg(long, value_enum)]
        protect: Option<Protection>,
    },
    /// Make the regency's recovery key pair: the secret half goes into the new file OUT (keep
    /// it offline at the regency), the public half is printed for key.recovery on every box
    /// and hub. Backups and the hub's CA in escrow are encrypted to it.
    Recovery {
        /// The new file for the secret half (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// On the hub: write its CA (certificate and key), encrypted to the recovery key, into the
    /// new file TO. Once, after the hub's first start; keep it apart from routine backups.
    EscrowCa {
        /// The new file.
        #[arg(long)]
        to: PathBuf,
    },
    /// On a hub's new disk, before its first start: put back the CA escrowed with `escrow-ca`,
    /// so that the boxes enrolled with it trust the hub again.
    RestoreCa {
        /// The escrow file.
        #[arg(long)]
        from: PathBuf,
        /// The recovery identity file (the secret half of the recovery key).
        #[arg(long)]
        identity: PathBuf,
    },
}

pub(super) fn key_command(config: &Config, cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Init { protect } => key_init(config, protect),
        KeyCommand::Recovery { out } => recovery_new(&out),
        KeyCommand::EscrowCa { to } => {
            crate::ops::escrow::escrow(&config.data_dir, &to, &recovery_key(config)?)?;
            println!(
                "The hub's CA is escrowed in {}, encrypted to the recovery key. Keep it apart from the backups; \
                 `simpul key restore-ca` puts it back on a new disk.",
                to.display()
            );
            Ok(())
        }
        KeyCommand::RestoreCa { from, identity } => {
            let identity = Identity::load(&identity)?;
            if crate::ops::escrow::restore(&config.data_dir, &from, &identity)? {
                println!("The hub's CA is back in place: boxes enrolled with it trust this hub at its next start.");
            } else {
                println!("This hub already holds that CA: nothing to do.");
            }
            Ok(())
        }
    }
}

/// The configured recovery key, or why there is none.
pub(super) fn recovery_key(config: &Config) -> Result<Recipient> {
    match config.key.recovery.as_deref() {
        Some(text) => Ok(Recipient::parse(text)?),
        None => Err(crate::ops::backup::BackupError::NoRecoveryKey.into()),
    }
}

fn recovery_new(out: &std::path::Path) -> Result<()> {
    let out = std::path::absolute(out)?;
    let now = simpul_store::stamp(time::OffsetDateTime::now_utc());
    let recipient = crate::keys::recovery::generate(&out, &now)?;
    println!("Recovery identity (secret) written to {}: keep it offline at the regency.", out.display());
    println!("Public key, for key.recovery (SIMPUL_KEY__RECOVERY) of every box and hub:");
    println!("{recipient}");
    Ok(())
}

fn key_init(config: &Config, protect: Option<Protection>) -> Result<()> {
    crate::prepare_data_dir(&config.data_dir)?;
    let store = KeyStore::of(config);
    let protection = protect.unwrap_or_else(|| store.best_protection());
    if store.protection() == Some(Protection::Systemd) {
        bail!("the key is handed over by systemd (LoadCredentialEncrypted=): change it in the unit, not here");
    }
    let prompt: crate::keys::Prompt<'_> = &crate::keys::terminal_prompt;
    let existing = store.load(Some(prompt))?;
    let made = existing.is_none();
    let key = match existing {
        Some(key) => key,
        None => crate::keys::new_key(config)?,
    };
    store.store(&key, protection, Some(prompt))?;
    println!(
        "{} key {} is {} (in {}).",
        if made { "A new" } else { "The" },
        key.fingerprint(),
        protection.describe(),
        store.dir().display()
    );
    println!(
        "Without this key the box's data cannot be read. If it is lost, the office's records and files are \
         still at the regency hub: set up the box again and restore it from the hub."
    );
    Ok(())
}
