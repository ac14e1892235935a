//! Scanning a requirement at the counter: the counter's eSCL scanner scans (A4, colour,
//! 300 dpi, the feeder when it holds paper), and the box keeps two files: the original as
//! scanned, on this box only, and a grey 200 dpi JPEG copy (a PDF of such pages for a
//! multi-page scan), which is what the record points to and what travels to the hub.

use crate::devices::PAGE_TIMEOUT;

use simpul_domain::attachment::ContentType;
use simpul_hardware::DeviceError;
use simpul_hardware::document::{JpegPage, jpeg_frame, scans_pdf};
use simpul_hardware::escl::ScanRequest;

use simpul_store::devices::Device;

/// A file made from a scan.
pub struct ScanFile {
    /// Its type.
    pub content_type: ContentType,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What a scan gave: the original and the copy for the record.
pub struct Scan {
    /// As scanned (JPEG for one page, PDF for several).
    pub original: ScanFile,
    /// Grey, 200 dpi: what the record points to and what syncs.
    pub copy: ScanFile,
    /// Pages scanned.
    pub pages: usize,
}

/// Scans on `device`: an eSCL scanner (whose identity, once pinned, must match) or a USB
/// scanner on the box through SANE (`sane:NAME`: one page from the glass), colour, 300 dpi.
pub async fn scan(device: &Device) -> Result<Scan, DeviceError> {
    let pages = crate::devices::scanner(device, PAGE_TIMEOUT)?.scan(&ScanRequest::default()).await?;
    tokio::task::spawn_blocking(move || assemble(pages))
        .await
        .map_err(|_| DeviceError::Protocol("the scan could not be processed".into()))?
}

fn assemble(pages: Vec<simpul_hardware::scan::ScannedPage>) -> Result<Scan, DeviceError> {
    if pages.is_empty() {
        return Err(DeviceError::Protocol("the scanner delivered no page".into()));
    }
    let count = pages.len();
    if count == 1 && pages[0].content_type == "application/pdf" {
        // A scanner that made the PDF itself: kept as it is, and it is also the copy.
        let bytes = pages.into_iter().next().map(|p| p.bytes).unwrap_or_default();
        return Ok(Scan {
            original: ScanFile { content_type: ContentType::Pdf, bytes: bytes.clone() },
            copy: ScanFile { content_type: ContentType::Pdf, bytes },
            pages: 1,
        });
    }
    let mut copies = Vec::with_capacity(count);
    for page in &pages {
        if page.content_type == "application/pdf" {
            return Err(DeviceError::Unsupported("a multi-page scan in PDF pages".into()));
        }
        copies.push((
            simpul_hardware::scan::for_sync(&page.bytes, page.dpi)?,
            page.dpi.min(simpul_hardware::scan::SYNC_DPI),
        ));
    }
    if count == 1 {
        let page = &pages[0];
        let content_type = if page.content_type == "image/png" { ContentType::Png } else { ContentType::Jpeg };
        let (copy, _) = copies.pop().unwrap_or_default();
        return Ok(Scan {
            original: ScanFile { content_type, bytes: pages.into_iter().next().map(|p| p.bytes).unwrap_or_default() },
            copy: ScanFile { content_type: ContentType::Jpeg, bytes: copy },
            pages: 1,
        });
    }
    let frame = |bytes: &[u8]| {
        jpeg_frame(bytes).ok_or_else(|| DeviceError::Protocol("a scanned page is not a JPEG the box can read".into()))
    };
    let mut originals = Vec::with_capacity(count);
    for page in &pages {
        if page.content_type != "image/jpeg" {
            return Err(DeviceError::Unsupported(format!("a multi-page scan in {}", page.content_type)));
        }
        let (width, height, components) = frame(&page.bytes)?;
        originals.push(JpegPage { jpeg: &page.bytes, width, height, dpi: page.dpi, grey: components == 1 });
    }
    let mut grey = Vec::with_capacity(count);
    for (bytes, dpi) in &copies {
        let (width, height, components) = frame(bytes)?;
        grey.push(JpegPage { jpeg: bytes, width, height, dpi: *dpi, grey: components == 1 });
    }
    Ok(Scan {
        original: ScanFile { content_type: ContentType::Pdf, bytes: scans_pdf("Pindaian", &originals) },
        copy: ScanFile { content_type: ContentType::Pdf, bytes: scans_pdf("Pindaian", &grey) },
        pages: count,
    })
}

#[cfg(test)]
mod tests {
    use simpul_devsim::escl::{EsclFault, EsclSim, EsclSimConfig};
    use simpul_hardware::DeviceKind;

    use super::*;

    async fn scanner(adf_pages: u32) -> (EsclSim, Device) {
        // 150 dpi keeps the pages small in a debug build; the driver takes the nearest offered.
        let sim =
            EsclSim::new(EsclSimConfig { adf_pages, resolutions: vec![150], pdf: false, ..EsclSimConfig::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}/eSCL", listener.local_addr().unwrap());
        tokio::spawn(simpul_devsim::escl::serve(listener, sim.clone()));
        let device = Device {
            id: "s".into(),
            kind: DeviceKind::Scanner,
            name: "Pemindai".into(),
            address,
            counter: None,
            state: None,
            checked_at: None,
            identity: None,
            certificate: None,
        };
        (sim, device)
    }

    #[tokio::test]
    async fn a_glass_scan_keeps_the_page_and_makes_a_grey_copy() {
        let (_sim, device) = scanner(0).await;
        let scan = scan(&device).await.unwrap();
        assert_eq!(scan.pages, 1);
        assert_eq!(scan.original.content_type, ContentType::Jpeg);
        assert_eq!(scan.copy.content_type, ContentType::Jpeg);
        let (_, _, components) = jpeg_frame(&scan.copy.bytes).unwrap();
        assert_eq!(components, 1, "the copy is grey");
        let (_, _, components) = jpeg_frame(&scan.original.bytes).unwrap();
        assert_eq!(components, 3, "the original is as scanned");
    }

    #[tokio::test]
    async fn a_feeder_scan_becomes_one_pdf_and_the_copy_is_smaller() {
        let (_sim, device) = scanner(3).await;
        let scan = scan(&device).await.unwrap();
        assert_eq!(scan.pages, 3);
        assert_eq!(scan.original.content_type, ContentType::Pdf);
        assert_eq!(scan.copy.content_type, ContentType::Pdf);
        assert_eq!(String::from_utf8_lossy(&scan.original.bytes).matches("/DCTDecode").count(), 3);
        assert!(scan.copy.bytes.len() < scan.original.bytes.len());
    }

    #[tokio::test]
    async fn a_scanner_with_another_identity_or_a_fault_is_a_clear_error() {
        let (sim, mut device) = scanner(0).await;
        device.identity = Some("00000000-0000-0000-0000-000000000000".into());
        assert_eq!(scan(&device).await.err().map(|e| e.code()), Some("identity".to_string()));
        device.identity = None;
        sim.set_fault(Some(EsclFault::GarbageXml));
        assert_eq!(scan(&device).await.err().map(|e| e.code()), Some("protocol".to_string()));
    }

    #[tokio::test]
    async fn an_https_scanner_is_pinned_by_its_certificate_and_another_is_refused_before_a_job() {
        let (http_sim, mut device) = scanner(0).await;
        drop(http_sim);
        let sim = EsclSim::new(EsclSimConfig {
            adf_pages: 0,
            resolutions: vec![150],
            pdf: false,
            ..EsclSimConfig::default()
        });
        let certificate = simpul_devsim::escl::SimCertificate::new().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        device.address = format!("https://{}/eSCL", listener.local_addr().unwrap());
        tokio::spawn(simpul_devsim::escl::serve_tls(listener, sim.clone(), certificate.clone()));

        // First contact: a self-signed certificate is accepted and reported, to be pinned.
        let first = crate::devices::check(&device).await;
        assert!(first.ready(), "{:?}", first.problems);
        assert_eq!(first.certificate, Some(certificate.fingerprint()));
        device.certificate = first.certificate.clone();
        device.identity = first.identity.clone();
        assert!(crate::devices::check(&device).await.ready());
        assert_eq!(scan(&device).await.unwrap().pages, 1);
        assert_eq!(sim.jobs().len(), 1);

        // The device now presents another certificate: refused at the handshake, no job made.
        certificate.renew().unwrap();
        let state = crate::devices::check(&device).await;
        assert_eq!(state.problems, ["identity"]);
        assert_eq!(state.certificate, None, "nothing from a refused device is offered for pinning");
        assert_eq!(scan(&device).await.err().map(|e| e.code()), Some("identity".to_string()));
        assert_eq!(sim.jobs().len(), 1);
        // Once an installer accepts it, the new certificate is what is pinned.
        device.certificate = None;
        assert_eq!(crate::devices::check(&device).await.certificate, Some(certificate.fingerprint()));
    }
}
