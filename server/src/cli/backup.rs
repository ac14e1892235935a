//! `simpul backup` and `simpul restore`.

use std::path::Path;

use anyhow::{Result, bail};
use time::OffsetDateTime;

use crate::config::Config;

pub(super) fn backup_command(config: &Config, to: &Path) -> Result<()> {
    let key = super::common::box_key(config)?;
    let made =
        crate::ops::backup::backup(&config.data_dir, &config.database_path(), to, &key, OffsetDateTime::now_utc())?;
    println!(
        "Backup written to {}: database {} KB, {} attachment files.",
        to.display(),
        made.database_bytes / 1024,
        made.blobs
    );
    Ok(())
}

pub(super) fn restore_command(config: &Config, from: &Path) -> Result<()> {
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
    let done =
        crate::ops::backup::restore(&config.data_dir, &config.database_path(), from, &key, OffsetDateTime::now_utc())?;
    println!("Restored from {} ({} attachment files brought back).", from.display(), done.blobs);
    if let Some(kept) = done.kept {
        println!("The database it replaced is kept at {}.", kept.display());
    }
    println!(
        "Start the server: its next sync with the hub gives back what the hub has of the work done since the \
         backup. Today's application numbers continue from the 1000th of the day, so none repeats."
    );
    Ok(())
}
