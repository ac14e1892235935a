//! Biometric capture against the SBI simulator over real sockets: discovery, signed device
//! information and capture of each modality (ten prints with missing fingers as exceptions),
//! CORS for the browser, a capture handed over by a browser checked against the pinned key, every
//! simulator fault met by a clear `DeviceError` in bounded time, and the port scan.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use simpul_devsim::sbi::{SbiFault, SbiSigning, SbiSim, SbiSimConfig, serve};
use simpul_hardware::DeviceError;
use simpul_hardware::sbi::{
    BioSubType, DeviceStatus, DeviceType, MAX_CAPTURE_BYTES, MAX_INFO_BYTES, Modality, Pin, SbiService,
    capture_request, finger_slaps, key_fingerprint, scan_ports, verify_capture,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const STEP: Duration = Duration::from_secs(5);
const ORIGIN: &str = "http://simpul.local:8080";

async fn start_on(host: &str, config: SbiSimConfig) -> (SbiSim, String, u16) {
    let listener = TcpListener::bind((host, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sim = SbiSim::new(config);
    tokio::spawn(serve(listener, sim.clone()));
    (sim, format!("http://{host}:{port}"), port)
}

async fn start(config: SbiSimConfig) -> (SbiSim, String) {
    let (sim, base, _) = start_on("127.0.0.1", config).await;
    (sim, base)
}

/// Runs `f`, failing the test if it takes longer than 20 s (a hang is a bug).
async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f).await.expect("the driver answered in bounded time")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

fn verb(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

async fn device_id(service: &SbiService, modality: Modality) -> String {
    let found = bounded(service.discover(modality.into())).await.unwrap();
    assert_eq!(found.len(), 1, "{modality}: {found:?}");
    found[0].device_id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_modality_is_discovered_described_and_captured() {
    let (sim, base) = start(SbiSimConfig::standard()).await;
    let service = SbiService::new(&base, STEP).unwrap();

    let all = bounded(service.discover(DeviceType::Any)).await.unwrap();
    let modalities: BTreeSet<Modality> = all.iter().filter_map(|d| d.modality).collect();
    assert_eq!(modalities, Modality::ALL.into_iter().collect(), "{all:?}");
    assert!(all.iter().all(|d| d.status == DeviceStatus::Ready && d.purpose == "Registration"));
    assert!(all.iter().all(|d| d.callback == format!("{base}/")), "{all:?}");
    let slap = bounded(service.discover(DeviceType::Finger)).await.unwrap();
    assert_eq!(slap.len(), 1);
    assert_eq!(slap[0].sub_ids, vec![1, 2, 3]);
    assert_eq!(slap[0].serial, "SIMSLAP00000002");
    assert_eq!(slap[0].digital_id.device_sub_type, "Slap");

    let infos = bounded(service.info()).await.unwrap();
    assert_eq!(infos.len(), 4);
    for info in &infos {
        let key = sim.public_key(&info.serial).expect("a simulated serial");
        assert_eq!(info.key_fingerprint, key_fingerprint(&key), "{info:?}");
        assert_eq!(info.status, DeviceStatus::Ready);
        assert_eq!(info.description.device_code, info.serial);
    }
    let keys: BTreeSet<&str> = infos.iter().map(|i| i.key_fingerprint.as_str()).collect();
    assert_eq!(keys.len(), 4, "each device has its own key");

    // The face photo.
    let face_id = device_id(&service, Modality::Face).await;
    let face =
        bounded(service.capture(&capture_request(Modality::Face, 1, &[], "TX-face", 40, &face_id, 0))).await.unwrap();
    assert_eq!(face.len(), 1);
    let photo = &face[0];
    assert_eq!(
        (photo.modality, photo.sub_type, photo.content_type),
        (Modality::Face, BioSubType::Unknown, "image/jpeg")
    );
    assert!((60..=95).contains(&photo.quality) && photo.requested == 40, "{photo:?}");
    assert!(!photo.exception);
    assert_eq!(photo.transaction_id, "TX-face");
    assert_eq!(photo.serial, "SIMFACE00000001");
    assert!(photo.image.len() > 5_000, "a real photo, {} bytes", photo.image.len());
    assert!(photo.hash.as_deref().is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit())));

    // Ten prints in one request, two fingers missing: eight captured, each its own.
    let finger_id = device_id(&service, Modality::Finger).await;
    let missing = [BioSubType::LeftLittle, BioSubType::RightThumb];
    let request = capture_request(Modality::Finger, 8, &missing, "TX-finger", 60, &finger_id, 0);
    let prints = bounded(service.capture(&request)).await.unwrap();
    assert_eq!(prints.len(), 8, "{prints:?}");
    let taken: BTreeSet<BioSubType> = prints.iter().map(|p| p.sub_type).collect();
    let expected: BTreeSet<BioSubType> = BioSubType::FINGERS.into_iter().filter(|f| !missing.contains(f)).collect();
    assert_eq!(taken, expected);
    for p in &prints {
        assert_eq!((p.modality, p.content_type, p.requested), (Modality::Finger, "image/png", 60));
        assert!((60..=95).contains(&p.quality), "{p:?}");
    }
    let images: BTreeSet<&Vec<u8>> = prints.iter().map(|p| &p.image).collect();
    assert_eq!(images.len(), 8, "every finger has its own ridges");
    let hashes: BTreeSet<&str> = prints.iter().filter_map(|p| p.hash.as_deref()).collect();
    assert_eq!(hashes.len(), 8, "the captures are chained");
    let again = bounded(service.capture(&request)).await.unwrap();
    assert_eq!(
        again.iter().map(|p| (&p.image, p.quality)).collect::<Vec<_>>(),
        prints.iter().map(|p| (&p.image, p.quality)).collect::<Vec<_>>(),
        "deterministic"
    );

    // `bioSubType` is optional: the exceptions alone leave the two fingers out.
    let mut unnamed = request.clone();
    unnamed.bio[0].bio_sub_type.clear();
    let prints = bounded(service.capture(&unnamed)).await.unwrap();
    assert_eq!(prints.iter().map(|p| p.sub_type).collect::<BTreeSet<_>>(), expected);

    // The same person slap by slap.
    let mut by_slap = 0;
    for slap in finger_slaps(&missing) {
        let r =
            capture_request(Modality::Finger, slap.count, &slap.exceptions, "TX-slaps", 60, &finger_id, slap.sub_id);
        let got = bounded(service.capture(&r)).await.unwrap();
        assert_eq!(got.len() as u32, slap.count);
        assert!(got.iter().all(|p| !missing.contains(&p.sub_type)));
        by_slap += got.len();
    }
    assert_eq!(by_slap, 8);

    // More fingers than the slap has left: the device refuses (SBI 109).
    let too_many = capture_request(Modality::Finger, 4, &[BioSubType::LeftIndex], "TX-x", 60, &finger_id, 1);
    let e = bounded(service.capture(&too_many)).await.unwrap_err();
    assert!(matches!(e, DeviceError::Unsupported(_)), "{e:?}");

    // Both eyes, then the left only.
    let iris_id = device_id(&service, Modality::Iris).await;
    let eyes =
        bounded(service.capture(&capture_request(Modality::Iris, 2, &[], "TX-iris", 50, &iris_id, 3))).await.unwrap();
    assert_eq!(eyes.iter().map(|e| e.sub_type).collect::<Vec<_>>(), vec![BioSubType::LeftIris, BioSubType::RightIris]);
    assert!(eyes.iter().all(|e| e.content_type == "image/jpeg"));
    assert_ne!(eyes[0].image, eyes[1].image);
    let one = capture_request(Modality::Iris, 1, &[BioSubType::RightIris], "TX-iris", 50, &iris_id, 3);
    let left = bounded(service.capture(&one)).await.unwrap();
    assert_eq!(left.iter().map(|e| e.sub_type).collect::<Vec<_>>(), vec![BioSubType::LeftIris]);

    // The signature pad.
    let pad_id = device_id(&service, Modality::Signature).await;
    let sig =
        bounded(service.capture(&capture_request(Modality::Signature, 1, &[], "TX-sig", 0, &pad_id, 0))).await.unwrap();
    assert_eq!(sig.len(), 1);
    assert_eq!(
        (sig[0].modality, sig[0].sub_type, sig[0].content_type),
        (Modality::Signature, BioSubType::Unknown, "image/png")
    );

    // A face taken as the exception photo for the missing fingers.
    let exception_photo = capture_request(Modality::Face, 1, &missing, "TX-exc", 40, &face_id, 0);
    let photo = bounded(service.capture(&exception_photo)).await.unwrap();
    assert!(photo.len() == 1 && photo[0].exception, "{photo:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_page_may_call_from_an_allowed_origin_only() {
    let mut config = SbiSimConfig::standard();
    config.allowed_origins = vec![ORIGIN.to_string()];
    let (_sim, base) = start(config).await;
    let http = http();

    let preflight = http
        .request(Method::OPTIONS, format!("{base}/capture"))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "RCAPTURE")
        .header("Access-Control-Request-Headers", "content-type")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(text("access-control-allow-origin"), ORIGIN);
    let methods: Vec<String> = text("access-control-allow-methods").split(',').map(|m| m.trim().to_string()).collect();
    for m in ["SBIDISC", "MOSIPDINFO", "RCAPTURE", "CAPTURE", "STREAM"] {
        assert!(methods.iter().any(|x| x == m), "{m} missing from {methods:?}");
    }
    assert!(text("access-control-allow-headers").to_ascii_lowercase().contains("content-type"));
    assert!(text("access-control-max-age").parse::<u32>().is_ok_and(|s| s > 0));
    assert_eq!(text("access-control-allow-private-network"), "true");

    let found = http
        .request(verb("SBIDISC"), format!("{base}/device"))
        .header("Origin", ORIGIN)
        .json(&json!({"type": "Biometric Device"}))
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    assert_eq!(found.headers().get("access-control-allow-origin").unwrap(), ORIGIN);
    let devices: Value = found.json().await.unwrap();
    assert_eq!(devices.as_array().map(Vec::len), Some(4));

    for (method, path) in [(Method::OPTIONS, "/capture"), (verb("RCAPTURE"), "/capture"), (verb("MOSIPDINFO"), "/info")]
    {
        let refused = http
            .request(method.clone(), format!("{base}{path}"))
            .header("Origin", "http://evil.example")
            .header("Access-Control-Request-Method", "RCAPTURE")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{method} {path}");
        assert!(refused.headers().get("access-control-allow-origin").is_none());
    }
}

/// Captures as a browser would, with the wire request, and returns the raw `data` JWS.
async fn browser_capture(base: &str, device_id: &str, transaction: &str) -> String {
    let request = capture_request(Modality::Face, 1, &[], transaction, 50, device_id, 0);
    let answer: Value = http()
        .request(verb("RCAPTURE"), format!("{base}/capture"))
        .header("Origin", ORIGIN)
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["biometrics"][0]["data"].as_str().expect("a data JWS").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_handed_over_by_a_browser_is_checked_against_the_pinned_key() {
    handed_over_and_pinned(SbiSigning::EdDsa).await;
}

/// The same with devices that sign ES256 with their certificate in `x5c`, as MOSIP device
/// providers issue them: the key pinned is the certificate's, and a capture taken on the box
/// is checked against it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_signing_with_certificates_are_checked_and_pinned_alike() {
    let (sim, base) = handed_over_and_pinned(SbiSigning::Es256).await;
    sim.set_fault(None);
    let service = SbiService::new(&base, STEP).unwrap();
    let infos = bounded(service.info()).await.unwrap();
    for info in &infos {
        assert_eq!(Some(info.key_fingerprint.clone()), sim.public_key(&info.serial).map(|k| key_fingerprint(&k)));
    }
    let pinned = service.clone().with_pins(pinned_pins(&infos));
    let finger = device_id(&service, Modality::Finger).await;
    let request = capture_request(Modality::Finger, 4, &[], "TX-es256", 40, &finger, 1);
    let prints = bounded(pinned.capture(&request)).await.unwrap();
    assert_eq!(prints.len(), 4);
    sim.set_fault(Some(SbiFault::Impostor));
    assert!(matches!(bounded(pinned.capture(&request)).await.unwrap_err(), DeviceError::Identity(_)));
    sim.set_fault(Some(SbiFault::WrongSignature));
    assert!(matches!(bounded(service.capture(&request)).await.unwrap_err(), DeviceError::Identity(_)));
}

/// A capture a browser hands over, checked against the pinned key: the genuine one passes, a
/// changed one, an impostor's and a forgery do not. Answers the simulator and its address.
async fn handed_over_and_pinned(signing: SbiSigning) -> (SbiSim, String) {
    let mut config = SbiSimConfig::standard();
    config.signing = signing;
    let (sim, base) = start(config).await;
    let service = SbiService::new(&base, STEP).unwrap();
    let infos = bounded(service.info()).await.unwrap();
    let face = infos.iter().find(|i| i.modality == Some(Modality::Face)).unwrap();
    let finger = infos.iter().find(|i| i.modality == Some(Modality::Finger)).unwrap();

    let data = bounded(browser_capture(&base, &face.device_id, "TX-browser")).await;
    let captured = verify_capture(&data, Some(&face.key_fingerprint)).unwrap();
    assert_eq!(captured.transaction_id, "TX-browser");
    assert_eq!(captured.serial, face.serial);
    assert_eq!(captured.content_type, "image/jpeg");
    let e = verify_capture(&data, Some(&finger.key_fingerprint)).unwrap_err();
    assert!(matches!(e, DeviceError::Identity(_)), "{e:?}");
    assert_eq!(e.code(), "identity");

    // A changed payload no longer verifies.
    let mut parts: Vec<String> = data.split('.').map(str::to_string).collect();
    parts[1] = parts[1].replacen('A', "B", 1);
    let e = verify_capture(&parts.join("."), None).unwrap_err();
    assert!(matches!(e, DeviceError::Identity(_) | DeviceError::Protocol(_)), "{e:?}");

    // A device claiming the camera's serial with its own key: valid alone, caught by the pin.
    sim.set_fault(Some(SbiFault::Impostor));
    let data = bounded(browser_capture(&base, &face.device_id, "TX-impostor")).await;
    let alone = verify_capture(&data, None).unwrap();
    assert_eq!(alone.serial, face.serial);
    assert_ne!(alone.key_fingerprint, face.key_fingerprint);
    let e = verify_capture(&data, Some(&face.key_fingerprint)).unwrap_err();
    assert!(matches!(e, DeviceError::Identity(_)), "{e:?}");

    // A forgery naming the camera's key without holding it.
    sim.set_fault(Some(SbiFault::WrongSignature));
    let data = bounded(browser_capture(&base, &face.device_id, "TX-forged")).await;
    let e = verify_capture(&data, Some(&face.key_fingerprint)).unwrap_err();
    assert!(matches!(e, DeviceError::Identity(_)), "{e:?}");
    (sim, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_a_clear_error_in_bounded_time() {
    let (sim, base) = start(SbiSimConfig::standard()).await;
    let service = SbiService::new(&base, Duration::from_secs(2)).unwrap();
    let infos = bounded(service.info()).await.unwrap();
    let pins: Vec<Pin> =
        infos.iter().map(|i| Pin { serial: i.serial.clone(), key_fingerprint: i.key_fingerprint.clone() }).collect();
    let pinned = service.clone().with_pins(pins);
    let finger_id = device_id(&service, Modality::Finger).await;
    let request = capture_request(Modality::Finger, 4, &[], "TX-fault", 40, &finger_id, 1).with_timeout(1000);
    assert_eq!(bounded(pinned.capture(&request)).await.unwrap().len(), 4);

    sim.set_fault(Some(SbiFault::Busy));
    let found = bounded(service.discover(DeviceType::Any)).await.unwrap();
    assert!(found.iter().all(|d| d.status == DeviceStatus::Busy), "{found:?}");
    assert!(bounded(service.info()).await.unwrap().iter().all(|d| d.status == DeviceStatus::Busy));
    let e = bounded(service.capture(&request)).await.unwrap_err();
    assert_eq!(e, DeviceError::Busy);
    assert!(e.retryable());

    sim.set_fault(Some(SbiFault::GarbageJson));
    assert!(matches!(bounded(service.discover(DeviceType::Any)).await, Err(DeviceError::Protocol(_))));
    assert!(matches!(bounded(service.info()).await, Err(DeviceError::Protocol(_))));
    assert!(matches!(bounded(service.capture(&request)).await, Err(DeviceError::Protocol(_))));

    sim.set_fault(Some(SbiFault::EndlessBody));
    assert_eq!(bounded(service.discover(DeviceType::Any)).await.unwrap_err(), DeviceError::TooLarge(MAX_INFO_BYTES));
    assert_eq!(bounded(service.info()).await.unwrap_err(), DeviceError::TooLarge(MAX_INFO_BYTES));
    assert_eq!(bounded(service.capture(&request)).await.unwrap_err(), DeviceError::TooLarge(MAX_CAPTURE_BYTES));

    sim.set_fault(Some(SbiFault::HugeImage));
    let e = bounded(service.capture(&request)).await.unwrap_err();
    assert!(matches!(e, DeviceError::TooLarge(_)), "{e:?}");

    sim.set_fault(Some(SbiFault::WrongSignature));
    assert!(matches!(bounded(service.info()).await, Err(DeviceError::Identity(_))));
    assert!(matches!(bounded(service.capture(&request)).await, Err(DeviceError::Identity(_))));

    sim.set_fault(Some(SbiFault::Impostor));
    let unpinned = bounded(service.info()).await.unwrap();
    assert!(unpinned.iter().all(|i| !infos.iter().any(|j| j.key_fingerprint == i.key_fingerprint)));
    let e = bounded(pinned.info()).await.unwrap_err();
    assert!(matches!(&e, DeviceError::Identity(reason) if reason.contains("now signs with key")), "{e:?}");
    assert!(matches!(bounded(pinned.capture(&request)).await, Err(DeviceError::Identity(_))));

    sim.set_fault(Some(SbiFault::Slow));
    assert_eq!(bounded(service.discover(DeviceType::Any)).await.unwrap_err(), DeviceError::Timeout);
    assert_eq!(bounded(service.capture(&request)).await.unwrap_err(), DeviceError::Timeout);

    sim.set_fault(None);
    assert_eq!(bounded(pinned.capture(&request)).await.unwrap().len(), 4);

    // Another device at the address the box knows: a different serial is not configured here.
    let mut other = SbiSimConfig::standard();
    other.seed = 99;
    other.devices[1].serial = "OTHERSLAP000009".into();
    let (_other, other_base) = start(other).await;
    let moved = SbiService::new(&other_base, STEP).unwrap().with_pins(pinned_pins(&infos));
    let e = bounded(moved.capture(&request)).await.unwrap_err();
    assert!(matches!(&e, DeviceError::Identity(reason) if reason.contains("not configured here")), "{e:?}");

    // Nothing listening.
    let closed = SbiService::new(&format!("http://127.0.0.1:{}", simpul_tests::closed_port()), STEP).unwrap();
    assert_eq!(bounded(closed.discover(DeviceType::Any)).await.unwrap_err(), DeviceError::Unreachable);
}

fn pinned_pins(infos: &[simpul_hardware::sbi::DeviceInfo]) -> Vec<Pin> {
    infos.iter().map(|i| Pin { serial: i.serial.clone(), key_fingerprint: i.key_fingerprint.clone() }).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_preview_streams_a_few_jpeg_frames_and_ends() {
    let (_sim, base) = start(SbiSimConfig::standard()).await;
    let answer = bounded(
        http()
            .request(verb("STREAM"), format!("{base}/stream"))
            .json(&json!({"deviceId": "1", "deviceSubId": "0", "timeout": "1000"}))
            .send(),
    )
    .await
    .unwrap();
    let kind = answer.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    let boundary =
        kind.strip_prefix("multipart/x-mixed-replace; boundary=").expect("multipart/x-mixed-replace").to_string();
    let body = bounded(answer.bytes()).await.unwrap();
    let marker = format!("--{boundary}");
    let text = String::from_utf8_lossy(&body);
    assert!(text.trim_end().ends_with(&format!("{marker}--")), "the stream ends");
    let frames: Vec<&[u8]> = split(&body, marker.as_bytes())
        .into_iter()
        .filter_map(|part| part.windows(4).position(|w| w == b"\r\n\r\n").map(|i| &part[i + 4..]))
        .collect();
    // How many frames a second a device sends is its own affair (not asserted here).
    assert!(!frames.is_empty(), "the stream carries frames");
    assert!(frames.iter().all(|f| f.starts_with(&[0xFF, 0xD8, 0xFF])));

    let unknown =
        bounded(http().request(verb("STREAM"), format!("{base}/stream")).json(&json!({"deviceId": "42"})).send())
            .await
            .unwrap();
    let error: Value = unknown.json().await.unwrap();
    assert_eq!(error["error"]["errorCode"], "202");
}

fn split<'a>(body: &'a [u8], marker: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.windows(marker.len()).position(|w| w == marker) {
        parts.push(&rest[..i]);
        rest = &rest[i + marker.len()..];
    }
    parts.push(rest);
    parts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_scan_finds_the_service_and_nothing_elsewhere() {
    // 127.0.0.2: the other tests' services (on 127.0.0.1) are not neighbours here.
    let host = "127.0.0.2";
    let (_sim, _base, port) = start_on(host, SbiSimConfig::standard()).await;
    let lo = port.saturating_sub(3).max(1);
    let hi = port.saturating_add(3);
    let found = bounded(scan_ports(host, lo..=hi, Duration::from_millis(1500))).await;
    assert_eq!(found.iter().map(|(p, _)| *p).collect::<Vec<_>>(), vec![port], "{found:?}");
    assert_eq!(found[0].1.len(), 4);

    // A port that accepts and never answers, and an HTTP server that is not a device service.
    let silent = TcpListener::bind((host, 0)).await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let web = TcpListener::bind((host, 0)).await.unwrap();
    let web_port = web.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = web.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found").await;
            });
        }
    });
    for p in [silent_port, web_port] {
        assert!(bounded(scan_ports(host, p..=p, Duration::from_millis(500))).await.is_empty(), "port {p}");
    }

    // The specification's whole range, with nothing there: this test needs it free on this
    // address, and says so when another program uses a port of it. (How long a scan takes is
    // measured by `device_bench`, not asserted.)
    let busy: Vec<u16> = (4501..=4600).filter(|p| std::net::TcpListener::bind((host, *p)).is_err()).collect();
    assert!(busy.is_empty(), "ports {busy:?} of 4501-4600 on {host} are in use by another program");
    let none = bounded(scan_ports(host, 4501..=4600, Duration::from_millis(300))).await;
    assert!(none.is_empty(), "{none:?}");
}

/// A simulator sending ISO/IEC 19794 records (as MOSIP devices do) against one sending bare
/// images, same seed: every record is read, is of its modality's part of the standard, and
/// carries exactly the picture the other sent bare, with the same quality.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iso_19794_records_carry_the_same_pictures_as_bare_images() {
    use simpul_hardware::iso19794::RecordKind;
    use simpul_hardware::sbi::BIOMETRIC_RECORD_MIME;
    let (_bare, bare_base) = start(SbiSimConfig::standard()).await;
    let mut config = SbiSimConfig::standard();
    config.iso_records = true;
    let (_iso, iso_base) = start(config).await;
    let (bare, iso) = (SbiService::new(&bare_base, STEP).unwrap(), SbiService::new(&iso_base, STEP).unwrap());
    for (modality, count, sub_id, kind) in [
        (Modality::Face, 1, 0, RecordKind::Face),
        (Modality::Finger, 10, 0, RecordKind::Finger),
        (Modality::Iris, 2, 3, RecordKind::Iris),
    ] {
        let id = device_id(&bare, modality).await;
        let request = capture_request(modality, count, &[], "TX-iso", 40, &id, sub_id);
        let plain = bounded(bare.capture(&request)).await.unwrap();
        let records = bounded(iso.capture(&request)).await.unwrap();
        assert_eq!(plain.len(), records.len(), "{modality}");
        for (p, r) in plain.iter().zip(&records) {
            assert_eq!((r.content_type, r.sub_type, r.quality), (BIOMETRIC_RECORD_MIME, p.sub_type, p.quality));
            let summary = r.record.as_ref().expect("a record");
            assert_eq!(summary.kind, kind);
            assert_eq!(summary.picture.as_ref().map(|(bytes, mime)| (bytes, *mime)), Some((&p.image, p.content_type)));
        }
    }
    // A signature pad has no ISO record: it sends its picture as before.
    let pad = device_id(&iso, Modality::Signature).await;
    let sig = bounded(iso.capture(&capture_request(Modality::Signature, 1, &[], "TX-s", 0, &pad, 0))).await.unwrap();
    assert_eq!((sig[0].content_type, sig[0].record.is_none()), ("image/png", true));
}

/// A device service that answers every request with `head` and then `frame` over and over,
/// `gap` apart, until the client goes away.
async fn streaming_device(head: &'static str, frame: Vec<u8>, gap: Duration) -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let frame = frame.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                loop {
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(gap).await;
                }
            });
        }
    });
    base
}

/// The box's own preview driver (a device plugged into the box): frames as they come, ended by
/// the device or by the time asked for, and every way a stream can go wrong a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_box_reads_a_preview_frame_by_frame_within_its_time_and_bounds() {
    use simpul_hardware::sbi::MAX_PREVIEW_FRAME_BYTES;
    let (sim, base) = start(SbiSimConfig::standard()).await;
    let service = SbiService::new(&base, STEP).unwrap();
    let face = device_id(&service, Modality::Face).await;

    // Two seconds at five frames a second, then the device ends the stream itself.
    let mut preview = bounded(service.preview(&face, 0, 2)).await.unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = bounded(preview.next()).await {
        frames.push(frame.unwrap());
    }
    assert!(!frames.is_empty(), "frames came until the device ended the stream");
    assert!(frames.iter().all(|f| f.mime == "image/jpeg" && f.bytes.starts_with(&[0xFF, 0xD8, 0xFF])));

    // A device that is busy, or no device by that id: the device's SBI error, not a stream.
    sim.set_fault(Some(SbiFault::Busy));
    assert_eq!(bounded(service.preview(&face, 0, 1)).await.unwrap_err(), DeviceError::Busy);
    sim.set_fault(None);
    let unknown = bounded(service.preview("42", 0, 1)).await.unwrap_err();
    assert!(matches!(unknown, DeviceError::NeedsAttention(_)), "{unknown:?}");
    let closed = format!("http://127.0.0.1:{}", simpul_tests::closed_port());
    let nobody = bounded(SbiService::new(&closed, STEP).unwrap().preview(&face, 0, 1)).await;
    assert_eq!(nobody.unwrap_err(), DeviceError::Unreachable);

    // A device that never stops: the preview ends when the time asked for is up.
    let jpeg = frames[0].bytes.clone();
    let mut part = format!("--f\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", jpeg.len()).into_bytes();
    part.extend_from_slice(&jpeg);
    part.extend_from_slice(b"\r\n");
    let endless = streaming_device(
        "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary=f\r\n\r\n",
        part,
        Duration::from_millis(50),
    )
    .await;
    let mut preview = bounded(SbiService::new(&endless, STEP).unwrap().preview("1", 0, 1)).await.unwrap();
    // The whole preview within `bounded`: it ends by itself (a preview that went on would not).
    let shown = bounded(async {
        let mut shown = 0;
        while let Some(frame) = preview.next().await {
            frame.unwrap();
            shown += 1;
        }
        shown
    })
    .await;
    assert!(shown >= 1, "frames came, and then it stopped ({shown})");

    // A frame larger than the bound, a part that is not an image, an answer that is not a
    // stream: each is an error, not memory filled or a broken page.
    let huge = streaming_device(
        "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary=f\r\n\r\n",
        format!("--f\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", MAX_PREVIEW_FRAME_BYTES + 1)
            .into_bytes(),
        Duration::from_millis(50),
    )
    .await;
    let mut preview = bounded(SbiService::new(&huge, STEP).unwrap().preview("1", 0, 5)).await.unwrap();
    assert_eq!(bounded(preview.next()).await.unwrap().unwrap_err(), DeviceError::TooLarge(MAX_PREVIEW_FRAME_BYTES));
    assert!(bounded(preview.next()).await.is_none(), "the preview is over after an error");
    let text = streaming_device(
        "HTTP/1.1 200 OK\r\ncontent-type: multipart/x-mixed-replace; boundary=f\r\n\r\n",
        b"--f\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n<b/>!\r\n".to_vec(),
        Duration::from_millis(50),
    )
    .await;
    let mut preview = bounded(SbiService::new(&text, STEP).unwrap().preview("1", 0, 5)).await.unwrap();
    assert!(matches!(bounded(preview.next()).await.unwrap().unwrap_err(), DeviceError::Protocol(_)));
    let plain = streaming_device("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n", b"hello ".to_vec(), STEP).await;
    let refused = bounded(SbiService::new(&plain, STEP).unwrap().preview("1", 0, 5)).await.unwrap_err();
    assert!(matches!(refused, DeviceError::Protocol(_)), "{refused:?}");
}
