//! The command line: `simpul serve`, `user`, `wilayah`, `catalog`, `config`. Messages are in
//! English (installers and admins read them in a terminal); failures end with a non-zero exit.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use simpul_domain::auth::{Role, Username, check_new_password};
use simpul_domain::catalog::{ImportWarning, import_standard};
use simpul_domain::office::{BoxRole, Unit};
use simpul_domain::wilayah::{RegionCode, RegionDirectory, RegionLevel, parse_region_list};
use time::OffsetDateTime;

use crate::Appliance;
use crate::config::{self, Config};
use crate::office::auth::{hash_password, random_password};
use simpul_store::audit::{self, Actor};
use simpul_store::db;
use simpul_store::{catalog, regions, settings, staff, throttle};

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
    /// Copy the database, attachments and TLS identity into a new folder (the server may run).
    Backup {
        /// The new folder.
        to: PathBuf,
    },
    /// Put a backup made by `simpul backup` in place (stop the server first). The database it
    /// replaces is kept beside it; the next sync gives back what the backup lacks.
    Restore {
        /// The backup's folder.
        from: PathBuf,
    },
    /// Device simulators for demos and tests, speaking the real protocols: a biometric device
    /// service (SBI style: face, fingerprints, iris, signature pad), an eSCL scanner and an
    /// ESC/POS ticket printer. Runs until stopped.
    Devsim(DevsimArgs),
}

/// Options of `devsim`.
#[derive(Debug, Args)]
pub struct DevsimArgs {
    /// Address of the biometric device service (SBI uses 127.0.0.1:4501-4600).
    #[arg(long, default_value = "127.0.0.1:4501")]
    pub sbi: String,
    /// Address of the eSCL scanner (its base URL is http://ADDRESS/eSCL).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub escl: String,
    /// Also serve the same scanner over HTTPS at this address, with a self-signed certificate
    /// made at start (its base URL is https://ADDRESS/eSCL).
    #[arg(long)]
    pub escl_tls: Option<String>,
    /// Address of the ESC/POS ticket printer.
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub escpos: String,
    /// Where the ticket printer writes what it prints (NNNN.txt and NNNN.bin).
    #[arg(long, default_value = "devsim-tickets")]
    pub tickets: PathBuf,
    /// Browser origins allowed to call the biometric service (repeatable); none: any origin.
    #[arg(long = "origin")]
    pub origins: Vec<String>,
    /// A finger or eye the simulated person presents poorly, by its SBI name ("Left
    /// IndexFinger", "Right" for the right eye; repeatable): its captures score below what a
    /// registration asks for, as a dry finger or a half-closed eye would.
    #[arg(long = "poorly-presented")]
    pub poorly_presented: Vec<String>,
    /// Send fingerprints, faces and irises as ISO/IEC 19794 records (2011 editions), as MOSIP
    /// devices do, instead of bare images.
    #[arg(long = "iso-records")]
    pub iso_records: bool,
    /// How the biometric devices sign: "eddsa" (Ed25519 keys from a fixed seed, the same on
    /// every start) or "es256" (P-256 keys with self-signed device certificates in x5c, as
    /// MOSIP device providers issue; new keys on every start).
    #[arg(long = "sign", default_value = "eddsa", value_parser = ["eddsa", "es256"])]
    pub sign: String,
}

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

/// `hub` subcommands.
#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// List the applications waiting on the centre: biometrics recorded (to send) and sent
    /// for identification (waiting for the result).
    Pending,
    /// Mark an application whose biometrics are recorded as sent to the centre for the
    /// uniqueness identification; the office sees it at its next sync.
    Send {
        /// Application number, e.g. 510302-20261121-0007.
        #[arg(long)]
        number: String,
    },
    /// Record the result of the uniqueness identification of an application sent to the
    /// centre; the result syncs back to the office.
    Identify {
        /// Application number, e.g. 510302-20261121-0007.
        #[arg(long)]
        number: String,
        /// `single` (unique: ready to personalise) or `double` (a match: clarification).
        #[arg(long, value_parser = ["single", "double"])]
        result: String,
        /// For a double: the other record's reference.
        #[arg(long, required_if_eq("result", "double"))]
        other: Option<String>,
    },
}

/// `enroll`: redeem a token on a box, or a hub's token and box management.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EnrollArgs {
    /// Hub sync address, e.g. https://hub.badungkab.go.id:3443.
    #[arg(long, requires = "token")]
    pub hub: Option<String>,
    /// The one-time token from the regency admin.
    #[arg(long, requires = "hub")]
    pub token: Option<String>,
    /// Hub side.
    #[command(subcommand)]
    pub command: Option<EnrollCommand>,
}

/// Hub-side enrollment commands.
#[derive(Debug, Subcommand)]
pub enum EnrollCommand {
    /// One-time enrollment tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Refuse every box of an office from now on.
    Revoke {
        /// Office code, e.g. 51.03.02.
        #[arg(long)]
        office: String,
    },
    /// List enrolled boxes.
    List,
}

/// `enroll token` subcommands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for an office (printed once).
    Create {
        /// Office code, e.g. 51.03.02.
        #[arg(long)]
        office: String,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 72)]
        hours: u32,
    },
}

/// `sync` subcommands.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// List open conflicts (hub).
    Conflicts,
    /// Settle a conflict (hub).
    Resolve {
        /// Conflict number.
        id: i64,
        /// Keep value number N exactly as written (numbered from 1 as `sync conflicts` lists them).
        #[arg(long, conflicts_with_all = ["value", "empty"])]
        keep: Option<usize>,
        /// A corrected value (checked against the field's rules).
        #[arg(long, conflicts_with = "empty")]
        value: Option<String>,
        /// Leave an optional field empty.
        #[arg(long)]
        empty: bool,
        /// Why (required).
        #[arg(long)]
        reason: String,
        /// Staff id of the admin settling it (recorded in the audit).
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

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

/// `device` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Add a device by address.
    Add {
        /// document_printer (IPP), ticket_printer (ESC/POS on TCP), scanner (eSCL) or biometric
        /// (a device service on the box).
        #[arg(long)]
        kind: String,
        /// Name staff know it by, e.g. "Printer Loket 1".
        #[arg(long)]
        name: String,
        /// ipp://host:631/ipp/print for a document printer, host:9100 for a ticket printer,
        /// http://host:port/eSCL for a scanner, http://127.0.0.1:4501 for a biometric service.
        #[arg(long)]
        address: String,
        /// The counter that uses it (none: the whole office, e.g. the kiosk's ticket printer).
        #[arg(long)]
        counter: Option<String>,
    },
    /// List devices.
    List,
    /// Look for devices not configured yet: printers and scanners announced on the LAN by mDNS
    /// (`_ipp._tcp`, `_ipps._tcp`, `_uscan._tcp`, `_uscans._tcp`, `_pdl-datastream._tcp`) and
    /// biometric device services on this box (SBI ports 4501-4600).
    Discover {
        /// How long to listen for announcements, in seconds (1-30).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=30))]
        seconds: u64,
    },
    /// Queue a test page on a device (the running server prints it).
    TestPrint {
        /// Device id (from `device list`).
        id: String,
    },
    /// The newest print jobs.
    Jobs,
}

/// `holidays` subcommands.
#[derive(Debug, Subcommand)]
pub enum HolidaysCommand {
    /// Import a list `tanggal,nama,jenis` (libur_nasional, cuti_bersama, libur_daerah).
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// Options of `serve`.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Do not create the demo office and accounts on an empty database (real deployments).
    #[arg(long)]
    pub no_demo: bool,
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from stdin with --password-stdin, otherwise one
    /// is generated and printed.
    Add {
        /// Login name (3-32 of a-z 0-9 . _ -).
        #[arg(long)]
        username: String,
        /// Name shown in the UI.
        #[arg(long)]
        name: String,
        /// petugas, verifikator, kepala, admin_kabupaten or installer.
        #[arg(long)]
        role: String,
        /// Office (kecamatan code) the account belongs to; defaults to this box's office for
        /// office roles, none for admin_kabupaten.
        #[arg(long)]
        office: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (ends the account's sessions and lifts a login lock).
    Passwd {
        /// Login name.
        username: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Stop an account from logging in (ends its sessions).
    Disable {
        /// Login name.
        username: String,
    },
    /// Allow a disabled account to log in again.
    Enable {
        /// Login name.
        username: String,
    },
    /// List accounts.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `wilayah` subcommands.
#[derive(Debug, Subcommand)]
pub enum WilayahCommand {
    /// Import a Kemendagri list in the `kode,nama` CSV format.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// `catalog` subcommands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import published service standards; all files or none.
    Import {
        /// Standard files (text or Markdown).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the catalog.
    List {
        /// Print every field as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented example configuration.
    Example,
    /// Print the configuration in effect (file and environment applied).
    Show,
}

/// Options of `unit`.
#[derive(Debug, Args)]
pub struct UnitArgs {
    /// Kecamatan code for an office box (e.g. 51.03.02), regency code for a hub (e.g. 51.03).
    #[arg(long)]
    pub code: String,
    /// Display name, e.g. "Kantor Kecamatan Mengwi".
    #[arg(long)]
    pub name: String,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
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
        Command::Serve(args) => serve(load()?, args),
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
        Command::Backup { to } => backup_command(&load()?, &to),
        Command::Restore { from } => restore_command(&load()?, &from),
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

fn hub_pending(config: &Config) -> Result<()> {
    use simpul_domain::application::Status;
    if config.role != BoxRole::Hub {
        bail!("the centre's work list is kept on the hub (role = \"hub\")");
    }
    let conn = open_db(config)?;
    let rows = simpul_store::applications::list(
        &conn,
        &[Status::BiometricsRecorded, Status::SentForIdentification],
        u32::MAX,
    )?;
    if rows.is_empty() {
        println!("Nothing waits on the centre.");
    }
    for row in rows {
        let next = if row.status == Status::BiometricsRecorded { "to send" } else { "waiting for the result" };
        println!("{}  {}  {next}  (last change {})", row.number, row.status.code(), row.updated_at);
    }
    Ok(())
}

fn hub_central_step(
    config: &Config,
    number: &str,
    action: simpul_domain::application::Action,
    other: Option<String>,
) -> Result<()> {
    if config.role != BoxRole::Hub {
        bail!("central steps are recorded on the hub (role = \"hub\")");
    }
    let mut conn = open_db(config)?;
    let (_, unit) = settings::unit(&conn)?.context("the hub's regency is not set (simpul unit ...)")?;
    let id = simpul_store::applications::id_by_number(&conn, number)?
        .with_context(|| format!("no application {number} has reached this hub"))?;
    let who = crate::office::applications::Who {
        staff: "hub".into(),
        office: unit.code,
        at: OffsetDateTime::now_utc(),
        zone: unit.zone(),
    };
    let details = crate::office::applications::ActDetails {
        reasons: Vec::new(),
        note: None,
        other_reference: other,
        handover: None,
    };
    let known = regions::all_codes(&conn)?;
    let tx = write_transaction(&mut conn)?;
    let status = crate::office::applications::act(&tx, &who, &id, action, &details, &known)
        .map_err(|e| anyhow::anyhow!("{number}: {e}"))?;
    tx.commit()?;
    println!("{number}: {}; the office receives it at its next sync.", status.code());
    Ok(())
}

fn enroll_command(config: &Config, args: EnrollArgs) -> Result<()> {
    use simpul_store::enroll;
    let now = OffsetDateTime::now_utc();
    match (args.command, args.hub, args.token) {
        (None, Some(hub), Some(token)) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let conn = open_db(config)?;
            let receipt_key = crate::office::receipts::public_key(&conn)?;
            let answer = runtime.block_on(simpul_installer::enrollment::enroll(
                &conn,
                &config.data_dir,
                &hub,
                &token,
                receipt_key,
            ))?;
            println!("Enrolled as {} ({}). The box syncs with {hub} when it runs.", answer.office_name, answer.office);
            Ok(())
        }
        (Some(EnrollCommand::Token(TokenCommand::Create { office, hours })), _, _) => {
            let code: RegionCode = office.parse().map_err(|e| anyhow::anyhow!("office code '{office}': {e}"))?;
            if code.level() != RegionLevel::Kecamatan {
                bail!("office code '{office}' is not a kecamatan code (like 51.03.02)");
            }
            if config.role != BoxRole::Hub {
                bail!("tokens are created on the hub (role = \"hub\")");
            }
            let conn = open_db(config)?;
            if let Some((_, hub)) = simpul_store::settings::unit(&conn)?
                && !code.is_within(&hub.code)
            {
                bail!("office {code} is not in this hub's regency ({})", hub.code);
            }
            let pki = simpul_installer::pki::HubPki::ensure(&config.data_dir, &config.hub.tls_names, now)?;
            let secret = crate::office::auth::random_token();
            let token = simpul_installer::enrollment::make_token(&secret, &pki.ca_pem)?;
            let expires = now + time::Duration::hours(i64::from(hours.clamp(1, 24 * 30)));
            enroll::create_token(&conn, &token, &code.to_string(), now, expires)?;
            audit::record(&conn, now, &Actor::Cli, "enrollment_token_created", Some(&code.to_string()), None)?;
            println!("Enrollment token for office {code} (valid {hours} h, works once):\n{token}");
            Ok(())
        }
        (Some(EnrollCommand::Revoke { office }), _, _) => {
            let conn = open_db(config)?;
            let n = enroll::revoke_office(&conn, &office, now)?;
            audit::record(&conn, now, &Actor::Cli, "box_revoked", Some(&office), None)?;
            println!("Revoked {n} box(es) of office {office}.");
            Ok(())
        }
        (Some(EnrollCommand::List), _, _) => {
            let conn = open_db(config)?;
            for b in enroll::list(&conn)? {
                println!(
                    "{}  {}  enrolled {}  last seen {}{}",
                    b.office,
                    &b.fingerprint[..16.min(b.fingerprint.len())],
                    b.enrolled_at,
                    b.last_seen.as_deref().unwrap_or("never"),
                    if b.revoked_at.is_some() { "  REVOKED" } else { "" }
                );
            }
            Ok(())
        }
        _ => bail!(
            "use `simpul enroll --hub URL --token T` on a box, or `simpul enroll token create --office CODE` on a hub"
        ),
    }
}

fn backup_command(config: &Config, to: &Path) -> Result<()> {
    crate::prepare_data_dir(&config.data_dir)?;
    let made = crate::ops::backup::backup(&config.data_dir, &config.database_path(), to, OffsetDateTime::now_utc())?;
    println!(
        "Backup written to {}: database {} KB, {} attachment files.",
        to.display(),
        made.database_bytes / 1024,
        made.blobs
    );
    Ok(())
}

fn restore_command(config: &Config, from: &Path) -> Result<()> {
    crate::prepare_data_dir(&config.data_dir)?;
    // A running server would keep writing to the file being replaced; holding the lock also
    // keeps one from starting while the restore runs.
    let _lock = match crate::DataDirLock::acquire(&config.data_dir) {
        Err(crate::StartError::InUse { holder, .. }) => {
            bail!("the server of this data directory is running{holder}: stop it before restoring a backup")
        }
        other => other?,
    };
    let done = crate::ops::backup::restore(&config.data_dir, &config.database_path(), from, OffsetDateTime::now_utc())?;
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

fn receipt_verify(config: &Config, text: &str) -> Result<()> {
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

fn sync_command(config: &Config, cmd: SyncCommand) -> Result<()> {
    let mut conn = open_db(config)?;
    match cmd {
        SyncCommand::Conflicts => {
            for c in simpul_store::conflicts::list_open(&conn, 500)? {
                let values: Vec<String> =
                    c.candidates.iter().enumerate().map(|(i, v)| format!("{}) {:?}", i + 1, v.value)).collect();
                println!("#{}  {}  {}  {}  {}", c.id, c.office, c.doc_id, c.field, values.join(" | "));
            }
            Ok(())
        }
        SyncCommand::Resolve { id, keep, value, empty, reason, by } => {
            use crate::sync::exchange::Decision;
            let decision = match (keep, value) {
                (Some(0), _) => bail!("values are numbered from 1"),
                (Some(n), _) => Decision::Keep(n - 1),
                (None, Some(v)) if !v.trim().is_empty() => Decision::Corrected(Some(v.trim().to_string())),
                (None, _) if empty => Decision::Corrected(None),
                (None, _) => bail!("say what to keep: --keep N, --value V or --empty"),
            };
            crate::sync::exchange::resolve(&mut conn, id, &decision, None, &reason, &by, OffsetDateTime::now_utc())?;
            println!("Conflict #{id} settled.");
            Ok(())
        }
    }
}

fn queue_command(config: &Config, cmd: QueueCommand) -> Result<()> {
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

fn holidays_import(config: &Config, file: &Path) -> Result<()> {
    let bytes = read_bounded(file, 1024 * 1024)?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let mut conn = open_db(config)?;
    let tx = write_transaction(&mut conn)?;
    let n = simpul_store::holidays::import(&tx, &text)
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    audit::record(&tx, OffsetDateTime::now_utc(), &Actor::Cli, "holidays_imported", None, Some(&format!("{n} days")))?;
    let open = crate::office::applications::recompute_due(&tx)?;
    tx.commit()?;
    println!("Imported {n} holidays; due times of {open} open applications computed again.");
    Ok(())
}

fn serve(config: Config, args: ServeArgs) -> Result<()> {
    crate::logging::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listen = config.listen;
        let data_dir = config.data_dir.clone();
        let role = config.role;
        let sync_listen = config.hub.sync_listen;
        let tls_names = config.hub.tls_names.clone();
        let mut appliance = Appliance::open(config).await?;
        if role == simpul_domain::office::BoxRole::Hub {
            // The CA and TLS certificate exist before the hub says it is listening.
            simpul_installer::pki::HubPki::ensure(&data_dir, &tls_names, OffsetDateTime::now_utc())?;
            let sync = tokio::net::TcpListener::bind(sync_listen)
                .await
                .with_context(|| format!("cannot listen for sync on {sync_listen} (is another program using it?)"))?;
            println!("Simpul hub sync (mutual TLS) is listening on https://{}", sync.local_addr()?);
            appliance = appliance.with_sync_listener(sync);
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen} (is another program using it?)"))?;
        let base = format!("http://{}", listener.local_addr()?);
        if args.no_demo {
            if appliance.account_count().await? == 0 {
                println!(
                    "No accounts yet. Create the first regency admin with:\n  simpul user add --username admin \
                     --name \"Admin Kabupaten\" --role admin_kabupaten\nand set this box's office with:\n  simpul unit \
                     --code 51.03.02 --name \"Kantor Kecamatan ...\""
                );
            }
        } else if let Some(demo) = appliance.seed_demo_if_empty().await? {
            let file = crate::ops::demo::write_credentials(&data_dir, &demo, &base)
                .with_context(|| format!("writing demo credentials into {}", data_dir.display()))?;
            println!(
                "Created the demo office (Kecamatan Mengwi, {}) with these accounts and devices (also in {}):\n{}",
                crate::ops::demo::OFFICE_CODE,
                file.display(),
                crate::ops::demo::table(&demo, &base)
            );
        }
        println!("Simpul is listening on {base}");
        std::io::stdout().flush().ok();
        appliance.serve(listener, crate::shutdown_signal()).await?;
        Ok(())
    })
}

fn devsim_command(args: DevsimArgs) -> Result<()> {
    use simpul_devsim::{escl, escpos, sbi};
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let sbi_listener =
            tokio::net::TcpListener::bind(&args.sbi).await.with_context(|| format!("binding {}", args.sbi))?;
        let escl_listener =
            tokio::net::TcpListener::bind(&args.escl).await.with_context(|| format!("binding {}", args.escl))?;
        let escpos_listener =
            tokio::net::TcpListener::bind(&args.escpos).await.with_context(|| format!("binding {}", args.escpos))?;
        let mut config = sbi::SbiSimConfig::standard();
        config.allowed_origins = args.origins.clone();
        for name in &args.poorly_presented {
            if simpul_sbi::BioSubType::from_name(name).is_none_or(|p| p.modality().is_none()) {
                anyhow::bail!(
                    "--poorly-presented {name:?}: not a finger or eye (e.g. \"Left IndexFinger\", \"Right\")"
                );
            }
        }
        config.poorly_presented = args.poorly_presented.clone();
        config.iso_records = args.iso_records;
        config.signing = if args.sign == "es256" { sbi::SbiSigning::Es256 } else { sbi::SbiSigning::EdDsa };
        let sbi_sim = sbi::SbiSim::new(config);
        let escl_sim = escl::EsclSim::new(escl::EsclSimConfig::default());
        let printer = escpos::EscPosSim::new(args.tickets.clone())
            .with_context(|| format!("creating {}", args.tickets.display()))?;
        println!("Biometric device service (SBI): http://{}", sbi_listener.local_addr()?);
        println!("eSCL scanner: http://{}/eSCL", escl_listener.local_addr()?);
        println!("ESC/POS ticket printer: {} (prints into {})", escpos_listener.local_addr()?, args.tickets.display());
        let secure = match &args.escl_tls {
            Some(address) => {
                let listener =
                    tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
                let certificate = escl::SimCertificate::new().context("making the scanner's certificate")?;
                println!(
                    "eSCL scanner (HTTPS): https://{}/eSCL (certificate SHA-256 {})",
                    listener.local_addr()?,
                    certificate.fingerprint()
                );
                Some((listener, certificate))
            }
            None => None,
        };
        println!("Device simulators are running; Ctrl+C stops them.");
        std::io::stdout().flush().ok();
        let tls_sim = escl_sim.clone();
        let serve_secure = async move {
            match secure {
                Some((listener, certificate)) => escl::serve_tls(listener, tls_sim, certificate).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = sbi::serve(sbi_listener, sbi_sim) => r.context("biometric service")?,
            r = escl::serve(escl_listener, escl_sim) => r.context("scanner")?,
            r = serve_secure => r.context("scanner (HTTPS)")?,
            r = escpos::serve(escpos_listener, printer) => r.context("ticket printer")?,
            _ = crate::shutdown_signal() => {}
        }
        Ok(())
    })
}

fn device_command(config: &Config, cmd: DeviceCommand) -> Result<()> {
    use simpul_hardware::DeviceKind;

    use simpul_store::devices;
    let conn = open_db(config)?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        DeviceCommand::Add { kind, name, address, counter } => {
            let kind = DeviceKind::from_code(&kind)
                .context("kind must be document_printer, ticket_printer, scanner or biometric")?;
            let name = crate::devices::validate_name(&name)?;
            let address = crate::devices::validate_address(kind, &address)?;
            let id = devices::add(&conn, kind, &name, &address, counter.as_deref(), now)?;
            audit::record(&conn, now, &Actor::Cli, "device_added", Some(&id), Some(kind.code()))?;
            println!("Added {} {id}.", kind.code());
            Ok(())
        }
        DeviceCommand::List => {
            for d in devices::list(&conn)? {
                println!(
                    "{}  {:<16}  {:<24}  {}  {}",
                    d.id,
                    d.kind.code(),
                    d.name,
                    d.address,
                    d.counter.as_deref().unwrap_or("(kantor)")
                );
            }
            Ok(())
        }
        DeviceCommand::Discover { seconds } => {
            let configured: Vec<String> = devices::list(&conn)?.into_iter().map(|d| d.address).collect();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let found =
                runtime.block_on(crate::devices::discover(&configured, std::time::Duration::from_secs(seconds)));
            if let Some(e) = &found.network_error {
                eprintln!("The LAN could not be searched ({e}); only this box's biometric services were.");
            }
            if found.found.is_empty() {
                println!("No new device found.");
            }
            for f in &found.found {
                println!("{:<16}  {:<4}  {:<40}  {}", f.kind.code(), f.via.code(), f.address, f.name);
            }
            Ok(())
        }
        DeviceCommand::TestPrint { id } => {
            let device = devices::get(&conn, &id)?.with_context(|| format!("no device {id}"))?;
            let (format, document) = crate::devices::test_job(&device, now)?;
            let job = devices::NewJob {
                device_id: &device.id,
                title: "Halaman uji Simpul",
                subject: None,
                format,
                document: &document,
                created_by: "cli",
                reprint_of: None,
            };
            let job = devices::enqueue(&conn, &job, now)?;
            println!("Queued test page {job}; the running server prints it.");
            Ok(())
        }
        DeviceCommand::Jobs => {
            for j in devices::recent(&conn, 50)? {
                println!(
                    "{}  {:<7}  tries {}  {}  {}",
                    j.id,
                    format!("{:?}", j.status).to_lowercase(),
                    j.attempts,
                    j.error.as_deref().unwrap_or("-"),
                    j.title
                );
            }
            Ok(())
        }
    }
}

fn open_db(config: &Config) -> Result<simpul_store::Connection> {
    crate::prepare_data_dir(&config.data_dir)?;
    db::open_sync(&config.database_path()).with_context(|| format!("opening {}", config.database_path().display()))
}

/// A transaction that takes the write lock at its start. The server may be running on the same
/// file: a deferred transaction that read first would fail at its first write if the server
/// wrote in between, where this one waits its turn (busy timeout) instead.
fn write_transaction(conn: &mut simpul_store::Connection) -> Result<simpul_store::Transaction<'_>> {
    Ok(db::write_transaction(conn)?)
}

fn read_password_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!("no password on stdin");
    }
    Ok(password)
}

/// The password to set: from stdin (checked against the policy) or a generated one (printed).
fn choose_password(username: &Username, from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let password = read_password_line()?;
        check_new_password(username, &password).map_err(|e| anyhow::anyhow!("password refused: {e}"))?;
        Ok((password, false))
    } else {
        Ok((random_password(), true))
    }
}

fn user(config: &Config, cmd: UserCommand) -> Result<()> {
    let conn = open_db(config)?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        UserCommand::Add { username, name, role, office, password_stdin } => {
            let username = Username::parse(&username).map_err(|e| anyhow::anyhow!("username refused: {e}"))?;
            let role: Role = role.parse()?;
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                bail!("the name must have 1 to 100 characters");
            }
            let office: Option<RegionCode> = match office {
                Some(code) => {
                    let code: RegionCode = code.parse().map_err(|e| anyhow::anyhow!("office: {e}"))?;
                    if code.level() != RegionLevel::Kecamatan {
                        bail!("office: {code} is not a kecamatan code");
                    }
                    Some(code)
                }
                None if role == Role::AdminKabupaten => None,
                None => settings::unit(&conn)?.filter(|(r, _)| *r == BoxRole::Office).map(|(_, u)| u.code),
            };
            let (password, generated) = choose_password(&username, password_stdin)?;
            let hash = hash_password(&password)?;
            let new = staff::NewAccount { username: &username, display_name: name, role, office, password_hash: &hash };
            let id = staff::insert(&conn, &new, now)?;
            audit::record(&conn, now, &Actor::Cli, "user_added", Some(&id), Some(role.code()))?;
            println!("Created {} ({}).", username, role.code());
            if generated {
                println!("Password: {password}\n(shown once; give it to the user in person)");
            }
            Ok(())
        }
        UserCommand::Passwd { username, password_stdin } => {
            let account = staff::by_username(&conn, &username.to_lowercase())?
                .with_context(|| format!("no account named '{username}'"))?;
            let (password, generated) = choose_password(&account.username, password_stdin)?;
            let hash = hash_password(&password)?;
            staff::set_password(&conn, &account.id, &hash, now)?;
            throttle::clear(&conn, &throttle::account_key(account.username.as_str()))?;
            audit::record(&conn, now, &Actor::Cli, "password_set", Some(&account.id), None)?;
            println!("Password of {} changed; its sessions have ended.", account.username);
            if generated {
                println!("Password: {password}");
            }
            Ok(())
        }
        UserCommand::Disable { username } => set_active(&conn, &username, false, now),
        UserCommand::Enable { username } => set_active(&conn, &username, true, now),
        UserCommand::List { json } => {
            let accounts = staff::list(&conn)?;
            if json {
                let rows: Vec<serde_json::Value> = accounts
                    .iter()
                    .map(|a| {
                        serde_json::json!({
                            "id": a.id,
                            "username": a.username.as_str(),
                            "name": a.display_name,
                            "role": a.role.code(),
                            "office": a.office.map(|o| o.to_string()),
                            "active": a.active,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("{:<20} {:<16} {:<10} {:<8} name", "username", "role", "office", "active");
                for a in accounts {
                    println!(
                        "{:<20} {:<16} {:<10} {:<8} {}",
                        a.username.as_str(),
                        a.role.code(),
                        a.office.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
                        if a.active { "yes" } else { "no" },
                        a.display_name
                    );
                }
            }
            Ok(())
        }
    }
}

fn set_active(conn: &simpul_store::Connection, username: &str, active: bool, now: OffsetDateTime) -> Result<()> {
    let account = staff::by_username(conn, &username.to_lowercase())?
        .with_context(|| format!("no account named '{username}'"))?;
    staff::set_active(conn, &account.id, active, now)?;
    audit::record(
        conn,
        now,
        &Actor::Cli,
        if active { "user_enabled" } else { "user_disabled" },
        Some(&account.id),
        None,
    )?;
    println!("{} is now {}.", account.username, if active { "enabled" } else { "disabled" });
    Ok(())
}

/// Largest region list read (the national list with villages is about 4 MB).
const MAX_REGION_FILE: u64 = 32 * 1024 * 1024;

fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", path.display());
    }
    if meta.len() > limit {
        bail!("{} has {} bytes; at most {limit} are accepted", path.display(), meta.len());
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn wilayah_import(config: &Config, file: &Path) -> Result<()> {
    let bytes = read_bounded(file, MAX_REGION_FILE)?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", file.display()))?;
    let mut conn = open_db(config)?;
    let known = regions::all_codes(&conn)?;
    let list = match parse_region_list(&text, &known as &dyn RegionDirectory) {
        Ok(list) => list,
        Err(errors) => {
            for e in &errors {
                eprintln!("{}: {e}", file.display());
            }
            bail!("{} has {} problem(s); nothing was imported", file.display(), errors.len());
        }
    };
    let now = OffsetDateTime::now_utc();
    let tx = write_transaction(&mut conn)?;
    let summary = regions::import(&tx, &list, now)?;
    audit::record(&tx, now, &Actor::Cli, "regions_imported", None, Some(&format!("{} codes", list.len())))?;
    tx.commit()?;
    let levels: Vec<String> = summary
        .by_level
        .iter()
        .map(|(level, n)| {
            let name = match level {
                RegionLevel::Province => "provinces",
                RegionLevel::Regency => "regencies/cities",
                RegionLevel::Kecamatan => "kecamatan",
                RegionLevel::Village => "villages",
            };
            format!("{n} {name}")
        })
        .collect();
    println!(
        "Imported {} region codes ({}): {} new, {} renamed, {} unchanged, {} retired.",
        list.len(),
        levels.join(", "),
        summary.added,
        summary.renamed,
        summary.unchanged,
        summary.retired
    );
    Ok(())
}

fn catalog_import(config: &Config, files: &[PathBuf]) -> Result<()> {
    let mut parsed = Vec::new();
    let mut failures = 0;
    for file in files {
        let outcome = read_bounded(file, simpul_domain::catalog::MAX_STANDARD_BYTES as u64)
            .and_then(|bytes| import_standard(&bytes).map_err(anyhow::Error::from));
        match outcome {
            Ok(imported) => parsed.push((file, imported)),
            Err(e) => {
                failures += 1;
                eprintln!("{}: {e}", file.display());
            }
        }
    }
    if failures > 0 {
        bail!("{failures} of {} file(s) could not be read; nothing was imported", files.len());
    }
    let mut conn = open_db(config)?;
    let now = OffsetDateTime::now_utc();
    let tx = write_transaction(&mut conn)?;
    let mut report = Vec::new();
    for (file, imported) in &parsed {
        let source = file.file_name().map(|n| n.to_string_lossy().to_string());
        let (id, outcome) = catalog::upsert(&tx, &imported.standard, source.as_deref(), now)?;
        audit::record(&tx, now, &Actor::Cli, "catalog_imported", Some(&id), source.as_deref())?;
        report.push((file, id, outcome, &imported.standard, &imported.warnings));
    }
    // A completion time may have changed: open applications get their due times again.
    crate::office::applications::recompute_due(&tx)?;
    tx.commit()?;
    for (file, id, outcome, standard, warnings) in report {
        let verb = match outcome {
            catalog::Upserted::Created => "imported",
            catalog::Upserted::Updated => "updated",
        };
        println!("{}: {verb} \"{}\" ({}) as {id}", file.display(), standard.title, standard.kind.code());
        for w in warnings.iter() {
            print_warning(file, w);
        }
    }
    Ok(())
}

fn print_warning(file: &Path, w: &ImportWarning) {
    println!("  note: {}: {w}", file.display());
}

fn catalog_list(config: &Config, json: bool) -> Result<()> {
    let conn = open_db(config)?;
    let entries = catalog::list(&conn)?;
    if json {
        let rows: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                let mut value = serde_json::to_value(&e.standard).unwrap_or_default();
                if let Some(map) = value.as_object_mut() {
                    map.insert("id".into(), e.id.clone().into());
                    map.insert("source".into(), e.source.clone().into());
                    map.insert("imported_at".into(), simpul_store::stamp(e.imported_at).into());
                }
                value
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for e in entries {
            let completion = e.standard.completion.as_ref().map_or("-".to_string(), |c| c.time.to_string());
            println!("{}  {:<22} {:<16} {}", e.id, e.standard.kind.code(), completion, e.standard.title);
        }
    }
    Ok(())
}

fn set_unit(config: &Config, args: &UnitArgs) -> Result<()> {
    let code: RegionCode = args.code.parse().map_err(|e| anyhow::anyhow!("code: {e}"))?;
    let unit = Unit::for_role(config.role, code, args.name.trim().to_string())?;
    if unit.name.is_empty() {
        bail!("the name must not be empty");
    }
    let conn = open_db(config)?;
    let known: HashSet<RegionCode> = regions::all_codes(&conn)?;
    if !known.contains(&code) {
        eprintln!("note: {code} is not in the imported region list (import it with `simpul wilayah import`)");
    }
    let now = OffsetDateTime::now_utc();
    settings::set_unit(&conn, config.role, &unit)?;
    audit::record(&conn, now, &Actor::Cli, "unit_set", Some(&code.to_string()), Some(&unit.name))?;
    println!("This box now serves {} ({}) as {}.", unit.name, unit.code, config.role.code());
    Ok(())
}
