//! Scanner drivers against real peers over real sockets: the eSCL driver against the eSCL
//! simulator of `simpul-devsim` (capabilities, status, glass and feeder jobs, what reached the
//! scanner, and every fault it can show), and the SANE path against SANE's own `test` backend
//! through `scanimage`. Every failure is a clear error, never a panic or a hang.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use simpul_devsim::escl::{EsclFault, EsclSim, EsclSimConfig, page, serve};
use simpul_hardware::escl::{
    AdfState, ColorMode, EsclScanner, ScanFormat, ScanRequest, ScanSource, ScannedPage, ScannerState,
};
use simpul_hardware::sane::{Sane, SaneFormat, SaneRequest};
use simpul_hardware::scan::for_sync;
use simpul_hardware::{Attention, DeviceError};
use tokio::net::TcpListener;

const STEP: Duration = Duration::from_secs(10);
const UUID: &str = "urn:uuid:0b6d3c1e-7a44-4f1b-9a7e-3f0e2d9c5a10";

async fn start(config: EsclSimConfig) -> (EsclSim, EsclScanner) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sim = EsclSim::new(config);
    tokio::spawn(serve(listener, sim.clone()));
    let scanner = EsclScanner::new(&format!("http://{address}/eSCL"), STEP).unwrap();
    (sim, scanner)
}

fn config(adf_pages: u32) -> EsclSimConfig {
    EsclSimConfig {
        make_and_model: "Simpul Uji eSCL".into(),
        uuid: UUID.into(),
        serial: "UJI-42".into(),
        adf_pages,
        ..EsclSimConfig::default()
    }
}

/// Bounds a step: a hang fails the test instead of stalling it.
async fn within<T>(step: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), step).await.expect("the step hung")
}

fn request(source: ScanSource, color: ColorMode, dpi: u32) -> ScanRequest {
    ScanRequest { source, color, dpi, ..ScanRequest::default() }
}

/// Width, height and channels of a JPEG (from its frame header) or a PNG (from IHDR); the
/// tests read these themselves rather than trust the code under test.
fn info(bytes: &[u8]) -> (u32, u32, u8) {
    let be16 = |i: usize| u32::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
    let be32 = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let channels = match bytes[25] {
            0 => 1,
            2 => 3,
            4 => 2,
            6 => 4,
            other => panic!("PNG colour type {other}"),
        };
        return (be32(16), be32(20), channels);
    }
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "neither JPEG nor PNG");
    let mut i = 2;
    loop {
        assert_eq!(bytes[i], 0xFF, "JPEG marker expected at {i}");
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            return (be16(i + 7), be16(i + 5), bytes[i + 9]);
        }
        i += 2 + be16(i + 2) as usize;
    }
}

fn dimensions(page: &ScannedPage) -> (u32, u32) {
    let (w, h, _) = info(&page.bytes);
    (w, h)
}

fn channels(bytes: &[u8]) -> u8 {
    info(bytes).2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_status_and_identity_come_from_the_scanner() {
    let (_sim, scanner) = start(config(3)).await;
    let caps = within(scanner.capabilities()).await.unwrap();
    assert_eq!(caps.make_and_model, "Simpul Uji eSCL");
    assert_eq!(caps.serial.as_deref(), Some("UJI-42"));
    assert_eq!(caps.identity().as_deref(), Some("0b6d3c1e-7a44-4f1b-9a7e-3f0e2d9c5a10"));
    assert!(caps.platen && caps.adf && !caps.adf_duplex);
    assert_eq!(caps.resolutions, vec![75, 100, 150, 200, 300]);
    assert_eq!(caps.color_modes.len(), 3);
    assert!(caps.formats.iter().any(|f| f == "application/pdf"), "{:?}", caps.formats);

    let status = within(scanner.status()).await.unwrap();
    assert_eq!(status.state, ScannerState::Idle);
    assert_eq!(status.adf, Some(AdfState::Loaded));
    assert!(status.attention().is_empty());

    let pinned = scanner.clone().expect_uuid("0B6D3C1E-7A44-4F1B-9A7E-3F0E2D9C5A10");
    assert!(within(pinned.capabilities()).await.is_ok());
    let other = scanner.clone().expect_uuid("11111111-2222-3333-4444-555555555555");
    assert!(matches!(within(other.capabilities()).await, Err(DeviceError::Identity(_))));
    assert!(matches!(within(other.scan(&ScanRequest::default())).await, Err(DeviceError::Identity(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platen_scan_gives_one_page_made_as_asked() {
    let (sim, scanner) = start(config(3)).await;
    // 120 dpi is not offered: 100 is the nearest.
    let pages = within(scanner.scan(&request(ScanSource::Platen, ColorMode::Grayscale8, 120))).await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].content_type, "image/jpeg");
    assert_eq!(pages[0].dpi, 100);
    assert_eq!(dimensions(&pages[0]), (826, 1169), "A4 at 100 dpi");
    assert_eq!(channels(&pages[0].bytes), 1, "grey");

    let received = sim.received();
    assert_eq!(received.len(), 1);
    let asked = &received[0];
    assert_eq!(asked.input_source, "Platen");
    assert_eq!(asked.color_mode, "Grayscale8");
    assert_eq!((asked.x_resolution, asked.y_resolution), (100, 100));
    assert_eq!((asked.width, asked.height), (2480, 3508));
    assert_eq!(asked.document_format, "image/jpeg");
    assert_eq!(asked.duplex, None, "no duplex element for the glass");
    assert!(asked.raw.contains("escl:ThreeHundredthsOfInches"), "{}", asked.raw);
    // What arrived is what the scanner made, byte for byte.
    assert_eq!(pages[0].bytes, page(asked, 1).unwrap().1);
    assert!(sim.canceled().is_empty(), "a finished job is not cancelled");

    // A scanner with a glass only, asked for whatever holds the paper.
    let (_sim, glass) = start(config(0)).await;
    let pages = within(glass.scan(&request(ScanSource::Auto, ColorMode::Rgb24, 75))).await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(dimensions(&pages[0]), (620, 877));
    assert!(matches!(
        within(glass.scan(&request(ScanSource::Adf, ColorMode::Rgb24, 75))).await,
        Err(DeviceError::Unsupported(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feeder_scan_gives_every_page_then_stops() {
    let (sim, scanner) = start(config(3)).await;
    let pages = within(scanner.scan(&request(ScanSource::Auto, ColorMode::Rgb24, 75))).await.unwrap();
    assert_eq!(pages.len(), 3);
    let asked = sim.received().pop().unwrap();
    assert_eq!(asked.input_source, "Feeder");
    assert_eq!(asked.duplex, Some(false));
    for (i, p) in pages.iter().enumerate() {
        assert_eq!(p.content_type, "image/jpeg");
        assert_eq!(p.bytes, page(&asked, i as u32 + 1).unwrap().1, "page {}", i + 1);
    }
    assert_ne!(pages[0].bytes, pages[1].bytes, "each page shows its number");

    // PDF, one document per page.
    let pdf = ScanRequest { format: ScanFormat::Pdf, ..request(ScanSource::Adf, ColorMode::Grayscale8, 75) };
    let pages = within(scanner.scan(&pdf)).await.unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|p| p.content_type == "application/pdf" && p.bytes.starts_with(b"%PDF-")));
    assert_eq!(sim.received().pop().unwrap().document_format, "application/pdf");

    // A job is bounded in all, not only page by page: a feeder whose pages each pass but
    // together pass the job's limit stops the scan, and exactly the limit still scans.
    let first = pages.iter().map(|p| p.bytes.len()).max().unwrap();
    let all: usize = pages.iter().map(|p| p.bytes.len()).sum();
    let bounded = scanner.clone().with_job_limit(first + 1);
    let too_much = within(bounded.scan(&pdf)).await;
    assert_eq!(too_much.err(), Some(DeviceError::TooLarge(first + 1)));
    let exact = scanner.clone().with_job_limit(all);
    assert_eq!(within(exact.scan(&pdf)).await.unwrap().len(), 3);

    // A scanner that offers no PDF is not asked for one.
    let (sim, jpeg_only) = start(EsclSimConfig { pdf: false, ..config(3) }).await;
    assert!(matches!(within(jpeg_only.scan(&pdf)).await, Err(DeviceError::Unsupported(_))));
    assert!(sim.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_for_the_hub_is_grey_smaller_and_at_200_dpi() {
    let (_sim, scanner) = start(config(1)).await;
    let pages = within(scanner.scan(&request(ScanSource::Platen, ColorMode::Rgb24, 300))).await.unwrap();
    let original = &pages[0];
    assert_eq!(dimensions(original), (2480, 3508));
    let small = for_sync(&original.bytes, original.dpi).unwrap();
    assert!(small.len() < original.bytes.len(), "{} >= {}", small.len(), original.bytes.len());
    assert_eq!(info(&small), (1653, 2339, 1), "200 dpi, grey");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_empty_or_jammed_scanner_says_so() {
    let (sim, scanner) = start(config(3)).await;

    sim.set_fault(Some(EsclFault::Busy));
    assert_eq!(within(scanner.status()).await.unwrap().state, ScannerState::Processing);
    let e = within(scanner.scan(&ScanRequest::default())).await.unwrap_err();
    assert_eq!(e, DeviceError::Busy);
    assert_eq!(e.code(), "busy");
    assert!(e.retryable());

    sim.set_fault(Some(EsclFault::AdfEmpty));
    let status = within(scanner.status()).await.unwrap();
    assert_eq!(status.adf, Some(AdfState::Empty));
    assert_eq!(status.attention(), vec![Attention::MediaEmpty]);
    let feeder = request(ScanSource::Adf, ColorMode::Grayscale8, 75);
    assert_eq!(within(scanner.scan(&feeder)).await, Err(DeviceError::NeedsAttention(Attention::MediaEmpty)));
    // Nothing in the feeder: the page on the glass is scanned.
    let pages = within(scanner.scan(&request(ScanSource::Auto, ColorMode::Grayscale8, 75))).await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(sim.received().pop().unwrap().input_source, "Platen");

    // The feeder jams after the first page: the job is cancelled, the jam reported.
    sim.set_fault(Some(EsclFault::AdfJam));
    let before = sim.jobs().len();
    assert_eq!(within(scanner.scan(&feeder)).await, Err(DeviceError::NeedsAttention(Attention::MediaJam)));
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), before + 1);
    assert!(sim.canceled().contains(jobs.last().unwrap()), "the jammed job is cancelled");
    let status = within(scanner.status()).await.unwrap();
    assert_eq!((status.state, status.adf), (ScannerState::Stopped, Some(AdfState::Jam)));

    sim.set_fault(None);
    assert_eq!(within(scanner.scan(&feeder)).await.unwrap().len(), 3, "works again once cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_scanners_give_clear_errors() {
    let (sim, scanner) = start(config(3)).await;
    let glass = request(ScanSource::Platen, ColorMode::Grayscale8, 75);

    sim.set_fault(Some(EsclFault::GarbageXml));
    assert!(matches!(within(scanner.capabilities()).await, Err(DeviceError::Protocol(m)) if m.contains("XML")));
    assert!(matches!(within(scanner.status()).await, Err(DeviceError::Protocol(_))));
    assert!(matches!(within(scanner.scan(&glass)).await, Err(DeviceError::Protocol(_))));

    let cases = [
        (EsclFault::WrongContentType, "protocol"),
        (EsclFault::EndlessDocument, "too_large"),
        (EsclFault::HugeLength, "too_large"),
        (EsclFault::DropMidDocument, "dropped"),
    ];
    for (fault, code) in cases {
        sim.set_fault(Some(fault));
        let e = within(scanner.scan(&glass)).await.unwrap_err();
        assert_eq!(e.code(), code, "{fault:?}: {e:?}");
        let job = sim.jobs().pop().unwrap();
        assert!(sim.canceled().contains(&job), "{fault:?}: the job is cancelled");
    }
    sim.set_fault(Some(EsclFault::WrongContentType));
    let e = within(scanner.scan(&glass)).await.unwrap_err();
    assert!(matches!(&e, DeviceError::Protocol(m) if m.contains("text/html")), "{e:?}");

    sim.set_fault(Some(EsclFault::Silent));
    let quick = scanner.clone().with_page_timeout(Duration::from_millis(500));
    assert_eq!(within(quick.scan(&glass)).await, Err(DeviceError::Timeout));
    assert!(sim.canceled().contains(&sim.jobs().pop().unwrap()));

    sim.set_fault(None);
    assert_eq!(within(scanner.scan(&glass)).await.unwrap().len(), 1, "works again once cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_unreachable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let scanner = EsclScanner::new(&format!("http://{address}/eSCL"), STEP).unwrap();
    assert_eq!(within(scanner.capabilities()).await, Err(DeviceError::Unreachable));
    assert_eq!(within(scanner.scan(&ScanRequest::default())).await, Err(DeviceError::Unreachable));

    // A peer that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let scanner = EsclScanner::new(&format!("http://{address}/eSCL"), Duration::from_millis(500)).unwrap();
    assert_eq!(within(scanner.status()).await, Err(DeviceError::Timeout));
}

fn scanimage_installed() -> bool {
    std::process::Command::new("scanimage")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A SANE configuration that loads the `test` backend only.
fn test_backend(dir: &Path) -> Sane {
    std::fs::write(dir.join("dll.conf"), "test\n").unwrap();
    Sane::new(Duration::from_secs(60)).with_config_dir(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sane_test_backend_scans_through_scanimage() {
    assert!(
        scanimage_installed(),
        "scanimage is needed (sane-utils, a runtime dependency of the box): apt install sane-utils"
    );
    let dir = tempfile::tempdir().unwrap();
    let sane = test_backend(dir.path());
    let devices = within(sane.list_devices()).await.unwrap();
    assert!(devices.iter().any(|d| d.name == "test:0" && d.kind == "virtual device"), "{devices:?}");

    // The test backend's default area is 80 mm by 100 mm.
    let grey = SaneRequest { color: ColorMode::Grayscale8, dpi: 75, format: SaneFormat::Png, area_mm: None };
    let page = within(sane.scan("test:0", &grey)).await.unwrap();
    assert_eq!(page.content_type, "image/png");
    assert_eq!(info(&page.bytes), (236, 295, 1));

    let colour = SaneRequest { color: ColorMode::Rgb24, dpi: 50, format: SaneFormat::Jpeg, area_mm: Some((50, 60)) };
    let page = within(sane.scan("test:0", &colour)).await.unwrap();
    assert_eq!(page.content_type, "image/jpeg");
    assert_eq!(info(&page.bytes), (98, 118, 3));

    let small = for_sync(&page.bytes, page.dpi).unwrap();
    assert_eq!(info(&small), (98, 118, 1), "grey, not enlarged");

    assert_eq!(within(sane.scan("nosuch:0", &grey)).await, Err(DeviceError::Unreachable));
    // The test backend has no line-art mode.
    let lineart = SaneRequest { color: ColorMode::BlackAndWhite1, ..grey.clone() };
    assert!(
        matches!(within(sane.scan("test:0", &lineart)).await, Err(DeviceError::Unsupported(m)) if m.contains("--mode"))
    );

    // No backend listed: none found. (A device named with its backend, `test:0`, would still
    // open: SANE loads a backend a device name asks for.)
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("dll.conf"), "").unwrap();
    let none = Sane::new(Duration::from_secs(60)).with_config_dir(empty.path());
    assert!(within(none.list_devices()).await.unwrap().is_empty());
}
