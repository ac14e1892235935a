//! The office's devices as staff and installers meet them: what an address must look like,
//! asking a device how it is (and pinning who it is), and the test page each printer gets.
//! Printing itself is the queue's (`printing`); this module never sends a job.

pub mod printing;
pub mod scanning;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use simpul_hardware::driver::{BiometricService, Printer, Scanner, TicketPrinter};
use simpul_hardware::escl::{EsclScanner, ScanRequest, ScanSource};
use simpul_hardware::escpos::{EscPosPrinter, Ticket, ticket_bytes};
use simpul_hardware::ipp::IppPrinter;
use simpul_hardware::sane::{Sane, SaneScanner};
use simpul_hardware::sbi::{SbiService, pins_of};
use simpul_hardware::{DeviceError, DeviceKind};
use time::OffsetDateTime;

use simpul_store::devices::Device;

/// Longest a device may take for one step.
pub const DEVICE_TIMEOUT: Duration = Duration::from_secs(8);
/// Longest a scanner may take to deliver one page.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(120);

/// The ESC/POS job format, as stored in a print job.
pub use simpul_hardware::escpos::FORMAT as ESCPOS;

/// What a device said at its last check, as kept in `devices.state`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// What stops it, as stable codes (`media_empty`, `offline`, `unreachable`, `identity`...).
    pub problems: Vec<String>,
    /// What warns without stopping (`toner-low`, `paper_low`).
    pub warnings: Vec<String>,
    /// Make and model, as the device names itself.
    pub model: Option<String>,
    /// Supplies with their level in percent when known.
    pub supplies: Vec<(String, Option<u8>)>,
    /// The identity it answered with.
    pub identity: Option<String>,
    /// The SHA-256 fingerprint of the TLS certificate it presented (HTTPS devices).
    #[serde(default)]
    pub certificate: Option<String>,
}

impl DeviceState {
    /// It can work now: nothing stops it.
    pub fn ready(&self) -> bool {
        self.problems.is_empty()
    }

    fn failed(e: &DeviceError) -> DeviceState {
        DeviceState { problems: vec![e.code()], ..DeviceState::default() }
    }
}

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// A document printer is reached by an `ipp://`, `ipps://`, `http://` or `https://` URI.
    #[error("a document printer's address is an IPP URI, e.g. ipp://192.168.1.20/ipp/print")]
    Ipp,
    /// A ticket printer is reached at `host:port`.
    #[error("a ticket printer's address is host:port, e.g. 192.168.1.50:9100")]
    HostPort,
    /// A scanner or a biometric service is reached at an `http(s)://` URL.
    #[error("this device's address is an http:// URL, e.g. http://192.168.1.30:8080/eSCL")]
    Http,
    /// A USB scanner on the box is named by SANE.
    #[error("a USB scanner's address is sane: and its SANE name (scanimage -L), e.g. sane:genesys:libusb:001:004")]
    Sane,
}

/// How a scanner driven by SANE on the box is addressed: `sane:` and its SANE device name.
pub const SANE_PREFIX: &str = "sane:";

/// The SANE device name of a scanner address, if it is one.
pub fn sane_name(address: &str) -> Option<&str> {
    address.strip_prefix(SANE_PREFIX)
}

/// A device name staff know it by: 1 to 80 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a device name has 1 to 80 characters")]
pub struct NameError;

/// Checks a device name.
pub fn validate_name(name: &str) -> Result<String, NameError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(NameError);
    }
    Ok(name.to_string())
}

/// How a found device was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// It announced itself on the LAN by mDNS / DNS-SD.
    Mdns,
    /// A biometric device service answered in the SBI port range on this box.
    Sbi,
    /// SANE sees a scanner on this box (USB).
    Sane,
}

impl Via {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Via::Mdns => "mdns",
            Via::Sbi => "sbi",
            Via::Sane => "sane",
        }
    }
}

/// A device found on the LAN or on this box, not configured yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// What it is.
    pub kind: DeviceKind,
    /// The name it announces (cleaned; at most 80 characters).
    pub name: String,
    /// The address to configure, valid for its kind.
    pub address: String,
    /// How it was found.
    pub via: Via,
}

/// What a search found, and why the network part could not run when it could not.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Devices not configured yet.
    pub found: Vec<Found>,
    /// mDNS could not run (no multicast interface): only the box's own services were searched.
    pub network_error: Option<DeviceError>,
}

/// How long a search listens for mDNS announcements.
pub const DISCOVERY_WINDOW: std::time::Duration = std::time::Duration::from_secs(3);

/// Searches for devices: printers and scanners announcing themselves on the LAN (mDNS), USB
/// scanners SANE sees on this box, and biometric device services on this box (SBI ports
/// 4501-4600 on loopback), at the same time.
/// Devices whose address is in `configured` are left out.
pub async fn discover(configured: &[String], window: std::time::Duration) -> Discovery {
    use simpul_hardware::discovery::{self, ServiceType};
    let mdns = tokio::task::spawn_blocking(move || discovery::browse(&ServiceType::ALL, window));
    let sbi = simpul_hardware::sbi::scan_ports(
        "127.0.0.1",
        *simpul_sbi::PORTS.start()..=*simpul_sbi::PORTS.end(),
        std::time::Duration::from_millis(800),
    );
    let sane_runner = simpul_hardware::sane::Sane::new(DEVICE_TIMEOUT);
    let sane = sane_runner.list_devices();
    let (mdns, sbi, sane) = tokio::join!(mdns, sbi, sane);
    let mut out = Discovery::default();
    match mdns {
        Ok(Ok(list)) => {
            for device in list {
                let kind = match device.service {
                    ServiceType::Ipp | ServiceType::Ipps => DeviceKind::DocumentPrinter,
                    ServiceType::Escl | ServiceType::EsclTls => DeviceKind::Scanner,
                    ServiceType::RawPrinter => DeviceKind::TicketPrinter,
                };
                // What the LAN announced must pass the same checks as a typed address.
                let (Ok(name), Ok(address)) = (validate_name(&device.name), validate_address(kind, &device.address))
                else {
                    continue;
                };
                out.found.push(Found { kind, name, address, via: Via::Mdns });
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "mDNS discovery could not run");
            out.network_error = Some(e);
        }
        Err(e) => {
            tracing::error!(error = %e, "the mDNS discovery task failed");
            out.network_error = Some(DeviceError::Discovery("the search stopped".into()));
        }
    }
    for (port, devices) in sbi {
        let name = devices.iter().map(|d| d.digital_id.model.clone()).collect::<Vec<_>>().join(", ");
        out.found.push(Found {
            kind: DeviceKind::Biometric,
            name: validate_name(&name).unwrap_or_else(|_| format!("SBI {port}")),
            address: format!("http://127.0.0.1:{port}"),
            via: Via::Sbi,
        });
    }
    match sane {
        Ok(scanners) => {
            for d in scanners {
                let address = format!("{SANE_PREFIX}{}", d.name);
                let name = format!("{} {}", d.vendor, d.model);
                if let (Ok(name), Ok(address)) = (validate_name(&name), validate_address(DeviceKind::Scanner, &address))
                {
                    out.found.push(Found { kind: DeviceKind::Scanner, name, address, via: Via::Sane });
                }
            }
        }
        // No scanimage, or SANE failing: USB scanners are simply not listed.
        Err(e) => tracing::info!(error = %e, "SANE lists no scanner"),
    }
    out.found.retain(|f| !configured.contains(&f.address));
    out
}

/// Checks the form of a device address for its kind (whether anything answers there is
/// [`check`]'s business).
pub fn validate_address(kind: DeviceKind, address: &str) -> Result<String, AddressError> {
    let address = address.trim();
    match kind {
        DeviceKind::DocumentPrinter => {
            IppPrinter::new(address, DEVICE_TIMEOUT).map_err(|_| AddressError::Ipp)?;
        }
        DeviceKind::TicketPrinter => {
            let ok = address.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !ok {
                return Err(AddressError::HostPort);
            }
        }
        DeviceKind::Scanner if address.starts_with(SANE_PREFIX) => {
            let name = &address[SANE_PREFIX.len()..];
            let ok = !name.is_empty()
                && name.len() <= 200
                && !name.starts_with('-')
                && !name.chars().any(|c| c.is_control() || c.is_whitespace());
            if !ok {
                return Err(AddressError::Sane);
            }
        }
        DeviceKind::Scanner | DeviceKind::Biometric => {
            let ok = (address.starts_with("http://") || address.starts_with("https://"))
                && address.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
            if !ok {
                return Err(AddressError::Http);
            }
        }
    }
    Ok(address.to_string())
}

/// The IPP client of a document printer; over IPPS its certificate, once pinned, must match,
/// and documents go only to the printer whose UUID was pinned.
fn ipp_printer(device: &Device) -> Result<IppPrinter, DeviceError> {
    let mut printer = IppPrinter::new(&device.address, DEVICE_TIMEOUT)?;
    if let Some(identity) = &device.identity {
        printer = printer.expect_uuid(identity);
    }
    match &device.certificate {
        Some(pin) => printer.with_certificate_pin(pin),
        None => Ok(printer),
    }
}

/// The eSCL client of a scanner, each request bounded by `timeout`: its UUID and (over HTTPS)
/// its certificate, once pinned, must match.
fn escl_scanner(device: &Device, timeout: std::time::Duration) -> Result<EsclScanner, DeviceError> {
    let mut scanner = EsclScanner::new(&device.address, timeout)?;
    if let Some(identity) = &device.identity {
        scanner = scanner.expect_uuid(identity);
    }
    match &device.certificate {
        Some(pin) => scanner.with_certificate_pin(pin),
        None => Ok(scanner),
    }
}

/// The driver that prints on `device`: IPP for a document printer, ESC/POS for a ticket
/// printer.
pub fn printer(device: &Device) -> Result<Box<dyn Printer>, DeviceError> {
    match device.kind {
        DeviceKind::DocumentPrinter => Ok(Box::new(ipp_printer(device)?)),
        DeviceKind::TicketPrinter => Ok(Box::new(EscPosPrinter::new(&device.address, DEVICE_TIMEOUT))),
        DeviceKind::Scanner | DeviceKind::Biometric => Err(DeviceError::Unsupported("not a printer".into())),
    }
}

/// The driver that prints queue tickets on `device`.
pub fn ticket_printer(device: &Device) -> Result<Box<dyn TicketPrinter>, DeviceError> {
    match device.kind {
        DeviceKind::TicketPrinter => Ok(Box::new(EscPosPrinter::new(&device.address, DEVICE_TIMEOUT))),
        _ => Err(DeviceError::Unsupported("not a ticket printer".into())),
    }
}

/// The driver that scans on `device`, a page bounded by `page_timeout`: SANE for a USB scanner
/// on this box (`sane:NAME`), eSCL for a network scanner.
pub fn scanner(device: &Device, page_timeout: std::time::Duration) -> Result<Box<dyn Scanner>, DeviceError> {
    if device.kind != DeviceKind::Scanner {
        return Err(DeviceError::Unsupported("not a scanner".into()));
    }
    match sane_name(&device.address) {
        Some(name) => Ok(Box::new(SaneScanner::new(Sane::new(page_timeout), name))),
        None => Ok(Box::new(escl_scanner(device, DEVICE_TIMEOUT)?.with_page_timeout(page_timeout))),
    }
}

/// The driver of a biometric device service, refusing devices other than the pinned ones.
pub fn biometric(device: &Device) -> Result<Box<dyn BiometricService>, DeviceError> {
    if device.kind != DeviceKind::Biometric {
        return Err(DeviceError::Unsupported("not a biometric device service".into()));
    }
    let mut service = SbiService::new(&device.address, DEVICE_TIMEOUT)?;
    if let Some(identity) = &device.identity {
        service = service.with_pins(pins_of(identity));
    }
    Ok(Box::new(service))
}

/// The driver of any device, to ask it how it is.
fn driver(device: &Device) -> Result<Box<dyn simpul_hardware::driver::Device>, DeviceError> {
    Ok(match device.kind {
        DeviceKind::DocumentPrinter | DeviceKind::TicketPrinter => printer(device)?,
        DeviceKind::Scanner => scanner(device, DEVICE_TIMEOUT)?,
        DeviceKind::Biometric => biometric(device)?,
    })
}

/// Asks the device how it is. A device that names an identity other than the pinned one is
/// reported with the `identity` problem and counts as not ready.
pub async fn check(device: &Device) -> DeviceState {
    let report = match driver(device) {
        Ok(driver) => driver.report().await,
        Err(e) => Err(e),
    };
    let mut state = match report {
        Ok(r) => DeviceState {
            problems: r.problems.iter().map(|a| a.code()).collect(),
            warnings: r.warnings,
            model: r.model,
            supplies: r.supplies,
            identity: r.identity,
            certificate: r.certificate,
        },
        Err(e) => DeviceState::failed(&e),
    };
    if impostor(device.identity.as_deref(), state.identity.as_deref()) {
        state.problems.push("identity".into());
    }
    state
}

/// Whether the device answered with an identity other than the pinned one.
pub fn impostor(pinned: Option<&str>, answered: Option<&str>) -> bool {
    matches!((pinned, answered), (Some(p), Some(a)) if p != a)
}

/// Checks a device and keeps what it said; its first identity is pinned.
pub async fn refresh(core: &crate::state::Core, device: &Device) -> Result<DeviceState, simpul_store::db::StoreError> {
    let state = check(device).await;
    let (id, json) = (device.id.clone(), serde_json::to_string(&state).unwrap_or_default());
    let pin = if device.identity.is_none() { state.identity.clone() } else { None };
    // The first certificate of a completed handshake is pinned, whatever else the device said
    // (out of paper, say); a mismatch reports none.
    let certificate = if device.certificate.is_none() { state.certificate.clone() } else { None };
    core.db
        .call(move |c| {
            let tx = c.transaction()?;
            simpul_store::devices::set_state(&tx, &id, &json, OffsetDateTime::now_utc())?;
            if let Some(identity) = pin {
                simpul_store::devices::set_identity(&tx, &id, Some(&identity))?;
            }
            if let Some(certificate) = certificate {
                simpul_store::devices::pin_certificate(&tx, &id, &certificate)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(state)
}

/// Whether [`watch`] looks at a device by itself: network document printers and eSCL scanners,
/// whose status queries never get in the way of a job. Raw ticket printers take one connection
/// at a time (a status query could refuse a kiosk ticket), a SANE scanner's USB device is busy
/// while it is listed, and biometric services answer when staff capture: those are checked on
/// demand only.
pub fn watched(device: &Device) -> bool {
    match device.kind {
        DeviceKind::DocumentPrinter => true,
        DeviceKind::Scanner => sane_name(&device.address).is_none(),
        DeviceKind::TicketPrinter | DeviceKind::Biometric => false,
    }
}

/// Checks the watched devices soon after start and then every `devices.watch_secs`, so that the
/// devices page shows what the printers and scanners say (out of paper, offline) before anyone
/// presses "check", and a device added from the command line has its identity pinned at its
/// first answer.
pub async fn watch(core: std::sync::Arc<crate::state::Core>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = std::time::Duration::from_secs(core.config.devices.watch_secs.max(2));
    let mut wait = every.min(std::time::Duration::from_secs(10));
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = every;
        let devices = match core.db.call(|c| simpul_store::devices::list(c)).await {
            Ok(devices) => devices,
            Err(e) => {
                tracing::warn!(error = %e, "device watch: cannot list the devices");
                continue;
            }
        };
        for device in devices.iter().filter(|d| watched(d)) {
            if *stop.borrow() {
                return;
            }
            if let Err(e) = refresh(&core, device).await {
                tracing::warn!(error = %e, "device watch: cannot keep a device's state");
            }
        }
    }
}

/// A test capture on the service's first device: what it captured and at what quality.
pub async fn test_capture(device: &Device) -> Result<String, DeviceError> {
    let service = biometric(device)?;
    let infos = service.devices().await?;
    let first = infos
        .iter()
        .find(|i| i.modality.is_some())
        .ok_or_else(|| DeviceError::Unsupported("no biometric device at this service".into()))?;
    let modality = first.modality.unwrap_or(simpul_sbi::Modality::Face);
    let count = if modality == simpul_sbi::Modality::Finger { 4 } else { 1 };
    let sub_id = first.description.device_sub_id.first().copied().unwrap_or(0);
    let transaction = uuid::Uuid::new_v4().to_string();
    let request = simpul_sbi::capture_request(
        modality,
        count,
        &[],
        &transaction,
        simpul_sbi::REQUESTED_QUALITY,
        &first.device_id,
        sub_id,
    );
    let captured = service.capture(&request).await?;
    let quality = captured.iter().map(|c| c.quality).min().unwrap_or(0);
    Ok(format!("{} {:?}, kualitas {quality}", captured.len(), modality))
}

/// A test scan: a grey page at 100 dpi, described in a line ("1 halaman, 827x1169 px").
pub async fn test_scan(device: &Device) -> Result<String, DeviceError> {
    let request = ScanRequest {
        color: simpul_hardware::scan::ColorMode::Grayscale8,
        dpi: 100,
        source: ScanSource::Auto,
        ..ScanRequest::default()
    };
    let pages = scanner(device, PAGE_TIMEOUT)?.scan(&request).await?;
    let size = pages
        .first()
        .and_then(|p| simpul_hardware::document::jpeg_frame(&p.bytes))
        .map(|(w, h, _)| format!(", {w}x{h} px"))
        .unwrap_or_default();
    Ok(format!(
        "{} halaman{size}, {} KB",
        pages.len(),
        pages.iter().map(|p| p.bytes.len()).sum::<usize>().div_ceil(1024)
    ))
}

/// The test page for a printer: its format and bytes.
pub fn test_job(device: &Device, at: OffsetDateTime) -> Result<(&'static str, Vec<u8>), DeviceError> {
    match device.kind {
        DeviceKind::DocumentPrinter => crate::office::printouts::test_page(&device.name, at)
            .map(|pdf| ("application/pdf", pdf))
            .map_err(|e| DeviceError::Unsupported(e.to_string())),
        DeviceKind::TicketPrinter => Ok((
            ESCPOS,
            ticket_bytes(&Ticket {
                office: "Simpul".into(),
                service: "Halaman uji".into(),
                number: "UJI".into(),
                lane: device.name.clone(),
                time: simpul_store::stamp(at),
                qr: format!("SPL-UJI:{}", device.id),
                footer: "Printer tiket siap".into(),
            }),
        )),
        DeviceKind::Scanner | DeviceKind::Biometric => Err(DeviceError::Unsupported("not a printer".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_by_kind() {
        assert!(validate_address(DeviceKind::DocumentPrinter, " ipp://10.0.0.5/ipp/print ").is_ok());
        assert_eq!(validate_address(DeviceKind::DocumentPrinter, "10.0.0.5"), Err(AddressError::Ipp));
        assert!(validate_address(DeviceKind::TicketPrinter, "10.0.0.6:9100").is_ok());
        assert_eq!(validate_address(DeviceKind::TicketPrinter, "10.0.0.6"), Err(AddressError::HostPort));
        assert_eq!(validate_address(DeviceKind::TicketPrinter, "http://x:9100"), Err(AddressError::HostPort));
        assert_eq!(validate_address(DeviceKind::TicketPrinter, "x:0"), Err(AddressError::HostPort));
        assert!(validate_address(DeviceKind::Scanner, "http://10.0.0.7:8080/eSCL").is_ok());
        assert_eq!(validate_address(DeviceKind::Scanner, "http:///eSCL"), Err(AddressError::Http));
        assert_eq!(
            validate_address(DeviceKind::Scanner, "sane:genesys:libusb:001:004").as_deref(),
            Ok("sane:genesys:libusb:001:004")
        );
        for bad in ["sane:", "sane:-L", "sane:a b", "sane:x\u{7}"] {
            assert_eq!(validate_address(DeviceKind::Scanner, bad), Err(AddressError::Sane), "{bad}");
        }
        // Only a scanner is driven by SANE.
        assert_eq!(validate_address(DeviceKind::Biometric, "sane:test:0"), Err(AddressError::Http));
        assert_eq!(validate_address(DeviceKind::Biometric, "127.0.0.1:4501"), Err(AddressError::Http));
    }

    #[test]
    fn only_a_different_identity_is_an_impostor() {
        assert!(impostor(Some("urn:uuid:a"), Some("urn:uuid:b")));
        assert!(!impostor(Some("urn:uuid:a"), Some("urn:uuid:a")));
        // Nothing pinned yet, or a device that names no identity: nothing to compare.
        assert!(!impostor(None, Some("urn:uuid:b")));
        assert!(!impostor(Some("urn:uuid:a"), None));
    }

    #[test]
    fn a_biometric_service_identity_round_trips_to_pins() {
        let pins = simpul_hardware::sbi::pins_of("SIMFACE=ab12,SIMSLAP=cd34");
        assert_eq!(pins.len(), 2);
        assert_eq!((pins[1].serial.as_str(), pins[1].key_fingerprint.as_str()), ("SIMSLAP", "cd34"));
        assert!(simpul_hardware::sbi::pins_of("").is_empty());
    }

    #[tokio::test]
    async fn a_biometric_service_is_checked_and_pinned_by_its_keys() {
        let sim = simpul_devsim::sbi::SbiSim::new(simpul_devsim::sbi::SbiSimConfig::standard());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(simpul_devsim::sbi::serve(listener, sim.clone()));
        let mut device = Device {
            id: "b".into(),
            kind: DeviceKind::Biometric,
            name: "Biometrik".into(),
            address,
            counter: None,
            state: None,
            checked_at: None,
            identity: None,
            certificate: None,
        };
        let state = check(&device).await;
        assert!(state.ready(), "{state:?}");
        let identity = state.identity.clone().unwrap();
        assert_eq!(simpul_hardware::sbi::pins_of(&identity).len(), 4);
        device.identity = Some(identity);
        assert!(test_capture(&device).await.unwrap().contains("kualitas"));
        // Another key under the same serial: the pinned identity no longer matches.
        sim.set_fault(Some(simpul_devsim::sbi::SbiFault::Impostor));
        let state = check(&device).await;
        assert!(!state.ready());
        assert!(state.problems.contains(&"identity".to_string()), "{state:?}");
        assert_eq!(test_capture(&device).await.err().map(|e| e.code()), Some("identity".to_string()));
    }

    #[tokio::test]
    async fn a_device_that_does_not_answer_says_so() {
        let device = Device {
            id: "d".into(),
            kind: DeviceKind::TicketPrinter,
            name: "Tiket".into(),
            address: format!("127.0.0.1:{}", simpul_tests::closed_port()),
            counter: None,
            state: None,
            checked_at: None,
            identity: Some("a".into()),
            certificate: None,
        };
        let state = check(&device).await;
        assert!(!state.ready());
        assert_eq!(state.problems, vec!["unreachable".to_string()]);
    }
}
