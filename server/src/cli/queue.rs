//! `simpul queue`: counters and the kiosk and display tokens.

use anyhow::{Result, bail};
use clap::Subcommand;
use simpul_store::audit::Actor;
use simpul_store::{audit, catalog};
use time::OffsetDateTime;

use super::common::open_db;
use crate::config::Config;

/// `queue` subcommands.
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Create or change a counter.
    Counter {
        /// Short id, e.g. L1.
        #[arg(long)]
        id: String,
        /// Name shown on the display, e.g. "Loket 1".
        #[arg(long)]
        name: String,
        /// Catalog ids of the services it serves (repeat; none means all).
        #[arg(long = "service")]
        services: Vec<String>,
    },
    /// List counters.
    Counters,
    /// Create a token for a kiosk or a display and print its address (shown once).
    Token {
        /// kiosk or display.
        #[arg(long)]
        purpose: String,
        /// A label to recognise (and revoke) it by.
        #[arg(long)]
        label: String,
    },
    /// Revoke the tokens with a label.
    Revoke {
        /// The label.
        #[arg(long)]
        label: String,
    },
}

pub(super) fn queue_command(config: &Config, cmd: QueueCommand) -> Result<()> {
    use simpul_store::tokens::{self, Purpose};
    let conn = open_db(config)?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        QueueCommand::Counter { id, name, services } => {
            if id.trim().is_empty() || id.len() > 16 || name.trim().is_empty() {
                bail!("a counter needs an id (up to 16 characters) and a name");
            }
            for s in &services {
                if catalog::get(&conn, s)?.is_none() {
                    bail!("no catalog entry {s} (see `simpul catalog list`)");
                }
            }
            simpul_store::queue::set_counter(&conn, id.trim(), name.trim(), &services)?;
            audit::record(&conn, now, &Actor::Cli, "counter_set", Some(id.trim()), Some(name.trim()))?;
            println!(
                "Counter {} ({}) serves {}.",
                id.trim(),
                name.trim(),
                if services.is_empty() { "every service".into() } else { format!("{} service(s)", services.len()) }
            );
        }
        QueueCommand::Counters => {
            for c in simpul_store::queue::counters(&conn)? {
                println!(
                    "{:<6} {:<20} {}",
                    c.id,
                    c.name,
                    if c.services.is_empty() { "all services".into() } else { c.services.join(",") }
                );
            }
        }
        QueueCommand::Token { purpose, label } => {
            let (purpose, path) = match purpose.as_str() {
                "kiosk" => (Purpose::Kiosk, "kios"),
                "display" => (Purpose::Display, "layar"),
                other => bail!("purpose '{other}' is neither kiosk nor display"),
            };
            let token = crate::office::auth::random_token();
            tokens::create(&conn, purpose, label.trim(), &token, now)?;
            audit::record(&conn, now, &Actor::Cli, "device_token_created", Some(label.trim()), None)?;
            println!("Open this address on the device (shown once):\n  http://{}/{path}?token={token}", config.listen);
        }
        QueueCommand::Revoke { label } => {
            let n = tokens::revoke(&conn, &label, now)?;
            audit::record(&conn, now, &Actor::Cli, "device_token_revoked", Some(&label), None)?;
            println!("Revoked {n} token(s) labelled '{label}'.");
        }
    }
    Ok(())
}
