//! `simpul device` (devices of the office: add, list, check, test, discover) and `simpul devsim`
//! (the device simulators for demos).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use simpul_store::audit;
use simpul_store::audit::Actor;
use time::OffsetDateTime;

use super::common::open_db;
use crate::config::Config;

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

pub(super) fn devsim_command(args: DevsimArgs) -> Result<()> {
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

pub(super) fn device_command(config: &Config, cmd: DeviceCommand) -> Result<()> {
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
                let pinned = d.certificate.as_deref().map(|c| format!("  TLS SHA-256 {c}")).unwrap_or_default();
                println!(
                    "{}  {:<16}  {:<24}  {}  {}{pinned}",
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
