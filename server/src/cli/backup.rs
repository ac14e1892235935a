//! `simpul backup` and `simpul restore`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use time::OffsetDateTime;

use crate::config::Config;

pub(super) fn backup_command(config: &Config, to: &Path) -> Result<()> {
    let recovery = super::keys::recovery_key(config)?;
    let key = super::common::box_key(config)?;
    let role = config.role.code();
    let now = OffsetDateTime::now_utc();
    let made = crate::ops::backup::backup(&config.data_dir, &config.database_path(), to, &key, &recovery, role, now)?;
    println!(
        "Backup written to {}: database {} KB, {} attachment files, encrypted to the recovery key {}.",
        to.display(),
        made.database_bytes / 1024,
        made.blobs,
        recovery
    );
    Ok(())
}

pub(super) fn restore_command(
    config: &Config,
    from: &Path,
    identity: &Path,
    ca: Option<&Path>,
    allow_unchecked: bool,
) -> Result<()> {
    let identity = crate::keys::recovery::Identity::load(identity)?;
    let ca_pem = match ca {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
        None => None,
    };
    let trust = crate::ops::backup::Trust { recovery: &identity, ca_pem, allow_unchecked, role: config.role.code() };
    crate::prepare_data_dir(&config.data_dir)?;
    // A running server would keep writing to the file being replaced; holding the lock also
    // keeps one from starting while the restore runs.
    let _lock = match crate::DataDirLock::acquire(&config.data_dir) {
        Err(crate::StartError::InUse { holder, .. }) => {
            bail!("the server of this data directory is running{holder}: stop it before restoring a backup")
        }
        other => other?,
    };
    let key = super::common::box_key(config)?;
    let now = OffsetDateTime::now_utc();
    let done = crate::ops::backup::restore(&config.data_dir, &config.database_path(), from, &key, &trust, now)?;
    println!("Restored from {} ({} attachment files brought back).", from.display(), done.blobs);
    use simpul_installer::signing::Signer;
    match &done.signer {
        Some(Signer::Trusted(name)) => println!("Made by {name}, signed with a certificate of this regency's CA."),
        Some(Signer::Unchecked(name)) => {
            println!("Made by {name} (signed; not checked against a regency CA: taken with --allow-unchecked).")
        }
        None => println!("Not signed (taken with --allow-unchecked)."),
    }
    if let Some(kept) = done.kept {
        println!("The database it replaced is kept at {}.", kept.display());
    }
    if !done.enrolled {
        match config.role {
            simpul_domain::office::BoxRole::Hub => println!(
                "This disk holds no hub CA (backups never carry it): put the escrowed one back with `simpul key \
                 restore-ca` before starting, or the hub makes a new CA and every box must enroll again."
            ),
            simpul_domain::office::BoxRole::Office => println!(
                "This disk holds no enrollment (backups never carry the box's TLS key): enroll the box with the \
                 hub again (`simpul enroll`) before it syncs."
            ),
        }
    }
    println!(
        "Start the server: its next sync with the hub gives back what the hub has of the work done since the \
         backup. Today's application numbers continue from the 1000th of the day, so none repeats."
    );
    Ok(())
}
