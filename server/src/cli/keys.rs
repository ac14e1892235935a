//! `simpul key init`: make the box's key, or keep the one it has another way; and
//! `simpul doctor`'s report of where the key is and what it protects.

use anyhow::{Result, bail};
use clap::Subcommand;

use crate::config::Config;
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
}

pub(super) fn key_command(config: &Config, cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Init { protect } => key_init(config, protect),
    }
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
