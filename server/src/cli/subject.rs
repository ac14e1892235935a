//! `simpul subject export`: everything held about one person, for them (see
//! `crate::ops::subject`). The NIK or passport is read from standard input, never taken as an
//! argument that would stay in the shell's history.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use super::common::box_key;
use crate::config::Config;
use crate::ops::subject::{self, Person};

/// `subject` subcommands.
#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// Write what this box holds about one person into the new folder OUT: a summary
    /// (ringkasan.pdf), the full records (data.json), their files, and who touched them. Asks
    /// for the NIK (or country and passport number) on standard input. Audited.
    Export {
        /// The new folder.
        #[arg(long)]
        out: PathBuf,
    },
}

pub(super) fn subject_command(config: &Config, cmd: SubjectCommand) -> Result<()> {
    match cmd {
        SubjectCommand::Export { out } => {
            let typed = crate::keys::terminal_prompt("NIK, or country and passport number (AUS PA1234567): ")?;
            let person = Person::parse(&typed)?;
            let key = box_key(config)?;
            let conn = simpul_store::db::open_sync(&config.database_path(), &key.database_key())?;
            let files = simpul_store::blobs::Files::new(&config.data_dir, key.file_key());
            let office = simpul_store::settings::unit(&conn)?.map(|(_, unit)| unit.name).unwrap_or_default();
            let done = subject::export(&conn, &files, &person, &out, &office, time::OffsetDateTime::now_utc())?;
            println!(
                "Written to {}: {} application(s), {} file(s), {} audit entries. It holds personal data in clear: \
                 hand it to the person, then remove it.",
                out.display(),
                done.applications,
                done.files,
                done.entries
            );
            Ok(())
        }
    }
}
