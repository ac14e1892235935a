//! `simpul receipt verify`: whether a hand-over receipt's signed reference is genuine.

use anyhow::{Result, bail};
use clap::Subcommand;
use simpul_domain::office::BoxRole;

use super::common::open_db;
use crate::config::Config;

/// `receipt` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a receipt's QR text (`SIMPUL-TT1|…`): on a hub against the keys of the office's
    /// boxes, on a box against its own key. Exits non-zero when it is not genuine.
    Verify {
        /// The text the QR code holds.
        text: String,
    },
}

pub(super) fn receipt_verify(config: &Config, text: &str) -> Result<()> {
    let conn = open_db(config)?;
    let checked = if config.role == BoxRole::Hub {
        let office = crate::office::receipts::claimed_office(text)?;
        let keys = simpul_store::enroll::receipt_keys(&conn, &office)?;
        if keys.is_empty() {
            bail!("no box of office {office} has sent its receipt key; it cannot be checked here");
        }
        crate::office::receipts::verify_with_any(&keys, text)
    } else {
        let own = crate::office::receipts::public_key(&conn)?;
        crate::office::receipts::verify(&own, text).map(|r| (r, "this box".to_string()))
    };
    match checked {
        Ok((r, by)) => {
            let by: String = by.chars().take(16).collect();
            println!(
                "Genuine receipt: application {} of office {}, handed over {} (signed by box {by}).",
                r.number, r.office, r.handed_over_at
            );
            Ok(())
        }
        Err(e) => bail!("NOT a genuine receipt: {e}"),
    }
}
