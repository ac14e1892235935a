//! The command line: `simpul serve`, `user`, `wilayah`, `catalog`, `config`. Messages are in
//! English (installers and admins read them in a terminal); failures end with a non-zero exit.

mod audit;
mod backup;
mod common;
mod devices;
mod doctor;
mod keys;
mod queue;
mod receipts;
mod reference;
mod serve;
mod subject;
mod sync;
mod users;

use self::audit::*;
use self::backup::*;
use self::devices::*;
use self::doctor::*;
use self::keys::*;
use self::queue::*;
use self::receipts::*;
use self::reference::*;
use self::serve::*;
use self::subject::*;
use self::sync::*;
use self::users::*;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::config::{self, Config};

/// Simpul: the offline-first civil-registry appliance for kecamatan offices.
#[derive(Debug, Parser)]
#[command(name = "simpul", version, about)]
pub struct Cli {
    /// Config file (default: ./simpul.toml when present).
    #[arg(long, global = true, env = "SIMPUL_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web UI and API.
    Serve(ServeArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage Kemendagri region codes.
    #[command(subcommand)]
    Wilayah(WilayahCommand),
    /// Manage the service catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Show or explain the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Set which office (or, on a hub, which regency) this box serves.
    Unit(UnitArgs),
    /// Set up counters and the tokens of kiosks and waiting-room displays.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Manage the holiday calendar used for service deadlines.
    #[command(subcommand)]
    Holidays(HolidaysCommand),
    /// The office's printers: add by address, list, test print, print jobs.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Enroll this box with its hub (`--hub URL --token T`), or on a hub manage enrollment.
    Enroll(EnrollArgs),
    /// Sync: the conflict inbox on a hub.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Hub: stand in for the national system's central steps.
    #[command(subcommand)]
    Hub(HubCommand),
    /// Hand-over receipts: check the signed reference in a receipt's QR code.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// The key that encrypts this box's database and files.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The audit trail: check its hash chain, list who touched a record.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// A data subject's rights: everything held about one person.
    #[command(subcommand)]
    Subject(SubjectCommand),
    /// Check this box: where its key is kept, whether its data is encrypted, disk space, and
    /// what is not protected yet. Exits non-zero when something must be fixed.
    Doctor,
    /// Copy the database and attachments into a new folder, encrypted to the regency's
    /// recovery key (key.recovery); the box's own keys stay out of it. The server may run.
    Backup {
        /// The new folder.
        to: PathBuf,
    },
    /// Put a backup made by `simpul backup` in place (stop the server first). The database it
    /// replaces is kept beside it; the next sync gives back what the backup lacks.
    Restore {
        /// The backup's folder.
        from: PathBuf,
        /// The regency's recovery identity file (the secret half of the recovery key the
        /// backup was encrypted to).
        #[arg(long)]
        identity: PathBuf,
        /// The regency CA (the hub's CA certificate, PEM) to check who made the backup, on a
        /// disk that trusts none yet.
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Take a backup whose maker cannot be checked (unsigned, or no CA to check against):
        /// only one you took yourself.
        #[arg(long)]
        allow_unchecked: bool,
    },
    /// Device simulators for demos and tests, speaking the real protocols: a biometric device
    /// service (SBI style: face, fingerprints, iris, signature pad), an eSCL scanner and an
    /// ESC/POS ticket printer. Runs until stopped.
    Devsim(DevsimArgs),
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented example configuration.
    Example,
    /// Print the configuration in effect (file and environment applied).
    Show,
}

/// Runs the parsed command line; `serve` serves `bundle` as the UI.
pub fn run(cli: Cli, bundle: std::sync::Arc<dyn crate::http::assets::Bundle>) -> Result<()> {
    crate::logging::install_panic_hook();
    let load = || Config::load(cli.config.as_deref());
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        // The example needs no configuration, so that it also helps when the configuration is broken.
        Command::Config(ConfigCommand::Example) => {
            print!("{}", config::example());
            Ok(())
        }
        Command::Config(ConfigCommand::Show) => {
            print!("{}", toml::to_string_pretty(&load()?)?);
            Ok(())
        }
        Command::Serve(args) => serve(load()?, args, bundle),
        Command::User(cmd) => user(&load()?, cmd),
        Command::Wilayah(WilayahCommand::Import { file }) => wilayah_import(&load()?, &file),
        Command::Catalog(CatalogCommand::Import { files }) => catalog_import(&load()?, &files),
        Command::Catalog(CatalogCommand::List { json }) => catalog_list(&load()?, json),
        Command::Unit(args) => set_unit(&load()?, &args),
        Command::Queue(cmd) => queue_command(&load()?, cmd),
        Command::Holidays(HolidaysCommand::Import { file }) => holidays_import(&load()?, &file),
        Command::Device(cmd) => device_command(&load()?, cmd),
        Command::Enroll(args) => enroll_command(&load()?, args),
        Command::Sync(cmd) => sync_command(&load()?, cmd),
        Command::Receipt(ReceiptCommand::Verify { text }) => receipt_verify(&load()?, &text),
        Command::Key(cmd) => key_command(&load()?, cmd),
        Command::Doctor => doctor(&load()?),
        Command::Audit(cmd) => audit_command(&load()?, cmd),
        Command::Subject(cmd) => subject_command(&load()?, cmd),
        Command::Backup { to } => backup_command(&load()?, &to),
        Command::Restore { from, identity, ca, allow_unchecked } => {
            restore_command(&load()?, &from, &identity, ca.as_deref(), allow_unchecked)
        }
        Command::Hub(HubCommand::Pending) => hub_pending(&load()?),
        Command::Hub(HubCommand::Send { number }) => {
            hub_central_step(&load()?, &number, simpul_domain::application::Action::SendForIdentification, None)
        }
        Command::Hub(HubCommand::Identify { number, result, other }) => {
            use simpul_domain::application::Action;
            let action = if result == "double" { Action::IdentifiedDouble } else { Action::IdentifiedSingle };
            hub_central_step(&load()?, &number, action, other)
        }
        Command::Devsim(args) => devsim_command(args),
    }
}
