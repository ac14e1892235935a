//! `simpul audit`: check the audit trail's hash chain, and list who did what to a record.

use anyhow::{Result, bail};
use clap::Subcommand;
use simpul_store::audit::{self, Verdict};

use super::common::open_db;
use crate::config::Config;

/// `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every entry against the chain; exits non-zero when an entry was changed, removed
    /// or slipped in.
    Verify,
    /// Who wrote, read, printed or found a record (its id, or a file's SHA-256), newest first.
    List {
        /// The record's id or the file's SHA-256 (never a NIK or a name: the trail holds none).
        #[arg(long)]
        subject: Option<String>,
        /// How many entries at most.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

pub(super) fn audit_command(config: &Config, cmd: AuditCommand) -> Result<()> {
    let conn = open_db(config)?;
    match cmd {
        AuditCommand::Verify => match audit::verify(&conn)? {
            Verdict::Intact { entries, before_chain, head } => {
                println!(
                    "The audit trail is intact: {entries} chained entries{}; head {}.",
                    if before_chain > 0 {
                        format!(" (and {before_chain} from before the chain, folded into it)")
                    } else {
                        String::new()
                    },
                    head.as_deref().unwrap_or("(empty)")
                );
                Ok(())
            }
            Verdict::Broken { seq } => {
                bail!(
                    "the audit trail is broken at entry {seq}: it or the entry before it was changed, removed or inserted"
                )
            }
        },
        AuditCommand::List { subject, limit } => {
            let entries = match &subject {
                Some(subject) => audit::about(&conn, subject, limit)?,
                None => audit::recent(&conn, limit)?,
            };
            for e in entries {
                println!(
                    "{:>8}  {}  {:<24}  {:<28}  {}  {}",
                    e.seq,
                    e.at,
                    e.actor,
                    e.action,
                    e.subject.as_deref().unwrap_or("-"),
                    e.detail.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}
