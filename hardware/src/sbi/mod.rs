//! Biometric device services in the style of MOSIP SBI: discovery, device information and
//! registration capture over the interface's custom HTTP verbs, for services plugged into the
//! box itself, and the checks the box makes on captures a browser hands over.
//!
//! Every signed block is a compact JWS: `EdDSA` whose header carries the device's Ed25519 public
//! key as a JWK (see `simpul_sbi`), or `RS256` / `ES256` with the device certificate in
//! `x5c`, as MOSIP SBI devices sign. The driver verifies each signature,
//! that a capture's digital id is signed by the same key as its data, and, when pins are given,
//! that the serial number and key are those configured: anything else is
//! [`DeviceError::Identity`]. Answers are read with a bound (256 KiB for discovery and
//! information, 16 MiB for a capture). A capture's `bioValue` is a JPEG or PNG of sane size or an
//! ISO/IEC 19794 record (as MOSIP devices send; see [`crate::iso19794`]) of the capture's
//! modality, whose JPEG or PNG image, if it has one, is checked the same way. An SBI
//! `errorCode` becomes a [`DeviceError`] staff can act on. The live preview (`STREAM`) of a
//! device plugged into the box is read frame by frame with the same bounds ([`Preview`]).

use std::io::Cursor;
use std::ops::RangeInclusive;
use std::time::Duration;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use image::{ImageError, ImageFormat, ImageReader, Limits};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use simpul_sbi::PreviewFrame;
pub use simpul_sbi::{
    self as wire, BioSubType, CaptureRequest, DeviceDescription, DeviceStatus, DeviceType, DigitalId, Modality,
    SlapPlan, capture_request, finger_exceptions, finger_slaps,
};
use simpul_sbi::{
    CapturePayload, CaptureResponse, DiscoverRequest, DiscoveryEntry, FrameSplitter, InfoEntry, SbiError, StreamRequest,
};

use crate::driver::{BiometricService, Device, Pending, PreviewSource, Report, pending, stream_problem};
pub use crate::driver::{Captured, DeviceInfo, Preview, RecordSummary};
use crate::iso19794::{self, RecordKind};
use crate::limited::{body, request_error};
use crate::{Attention, DeviceError};
pub use simpul_domain::attachment::BIOMETRIC_RECORD_MIME;

/// Largest discovery or device information answer read.
pub const MAX_INFO_BYTES: usize = 256 * 1024;
/// Largest capture answer read (ten fingerprints as base64 fit with room to spare).
pub const MAX_CAPTURE_BYTES: usize = 16 * 1024 * 1024;
/// Largest single image taken from a capture.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// Largest width or height of a captured image, in pixels (a 500 dpi slap is about 1600).
pub const MAX_IMAGE_SIDE: u32 = 4096;
/// Largest preview frame passed on (a VGA JPEG is 30-80 KB).
pub const MAX_PREVIEW_FRAME_BYTES: usize = 4 * 1024 * 1024;
/// Longest preview asked of a device, in seconds.
pub const MAX_PREVIEW_SECONDS: u32 = 120;
/// How long after the time asked for the box still reads a preview (a device ending it late).
pub const PREVIEW_GRACE: Duration = Duration::from_secs(2);
/// Ports probed at once by [`scan_ports`].
pub const SCAN_CONCURRENCY: usize = 16;

/// A device a service named in discovery. Discovery is unsigned: this says what is there, not
/// who it is (that is [`SbiService::info`]'s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveredDevice {
    /// The device's id within its service.
    pub device_id: String,
    /// Its state.
    pub status: DeviceStatus,
    /// What it captures, if Simpul knows the type it names.
    pub modality: Option<Modality>,
    /// Its serial number, as claimed.
    pub serial: String,
    /// Its digital id, as claimed.
    pub digital_id: DigitalId,
    /// Its sub-devices.
    pub sub_ids: Vec<u32>,
    /// `Registration`, `Auth`, or empty when not registered.
    pub purpose: String,
    /// The base URL it names for itself.
    pub callback: String,
}

/// An identity the box accepted for a device: its serial number with the key it signs with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pin {
    /// Serial number.
    pub serial: String,
    /// SHA-256 (lower-case hex) of its public key.
    pub key_fingerprint: String,
}

/// A device service at a base URL (`http://127.0.0.1:4501`).
#[derive(Clone, Debug)]
pub struct SbiService {
    base: String,
    timeout: Duration,
    client: reqwest::Client,
    pins: Vec<Pin>,
}

fn client(timeout: Duration) -> Result<reqwest::Client, DeviceError> {
    reqwest::Client::builder()
        .connect_timeout(timeout)
        // A device service is local; an office proxy must not see biometrics.
        .no_proxy()
        .build()
        .map_err(|e| DeviceError::Protocol(e.to_string()))
}

impl SbiService {
    /// The service at `base` (`http://` or `https://`, a trailing `/` is ignored); each
    /// discovery or information request bounded by `timeout`, a capture by `timeout` plus the
    /// capture's own.
    pub fn new(base: &str, timeout: Duration) -> Result<SbiService, DeviceError> {
        Ok(SbiService { base: checked_base(base)?, timeout, client: client(timeout)?, pins: Vec::new() })
    }

    /// The same service, refusing (with [`DeviceError::Identity`]) any device whose serial
    /// number and key are not one of `pins`. No pins: any signed identity is taken.
    pub fn with_pins(mut self, pins: impl IntoIterator<Item = Pin>) -> SbiService {
        self.pins = pins.into_iter().collect();
        self
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn exchange(
        &self,
        verbs: &[&str],
        path: &str,
        payload: Option<Vec<u8>>,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, DeviceError> {
        let url = format!("{}{path}", self.base);
        for (i, verb) in verbs.iter().enumerate() {
            let method = Method::from_bytes(verb.as_bytes()).map_err(|e| DeviceError::Protocol(e.to_string()))?;
            let mut request = self.client.request(method, &url).timeout(timeout);
            if let Some(payload) = &payload {
                request = request.header("content-type", "application/json").body(payload.clone());
            }
            let response = request.send().await.map_err(|e| request_error(&e))?;
            let status = response.status().as_u16();
            // A service of another spec revision knows the verb by its other name.
            if matches!(status, 404 | 405 | 501) && i + 1 < verbs.len() {
                continue;
            }
            if !response.status().is_success() {
                return Err(DeviceError::Protocol(format!("{verb} {path}: HTTP status {status}")));
            }
            return body(response, limit).await;
        }
        Err(DeviceError::Protocol(format!("no verb for {path}")))
    }

    /// The devices the service names for `filter` (its answer is filtered again here).
    pub async fn discover(&self, filter: DeviceType) -> Result<Vec<DiscoveredDevice>, DeviceError> {
        let request = serde_json::to_vec(&DiscoverRequest { kind: filter }).map_err(|e| protocol("request", &e))?;
        let answer = self
            .exchange(
                &[wire::verb::DISCOVER, wire::verb::DISCOVER_MOSIP],
                wire::path::DEVICE,
                Some(request),
                MAX_INFO_BYTES,
                self.timeout,
            )
            .await?;
        let entries: Vec<DiscoveryEntry> = list(&answer, "discovery answer")?;
        let mut found = Vec::new();
        let mut failure = None;
        for entry in entries {
            if let Some(e) = entry.error.as_ref().filter(|e| !e.is_success())
                && entry.device.device_id.is_empty()
            {
                failure.get_or_insert_with(|| sbi_error(e));
                continue;
            }
            if entry.device.device_id.is_empty() {
                continue;
            }
            let digital_id: DigitalId = decode_json(&unsigned_payload(&entry.device.digital_id)?, "digital id")?;
            let modality = digital_id.modality();
            if let Some(m) = modality
                && !filter.matches(m)
            {
                continue;
            }
            found.push(DiscoveredDevice {
                device_id: entry.device.device_id,
                status: entry.device.device_status,
                modality,
                serial: digital_id.serial_no.clone(),
                digital_id,
                sub_ids: entry.device.device_sub_id,
                purpose: entry.device.purpose,
                callback: entry.device.callback_id,
            });
        }
        match failure {
            Some(e) if found.is_empty() => Err(e),
            _ => Ok(found),
        }
    }

    /// The devices' signed information. Every signature is checked, the digital id must be
    /// signed by the same key as the information, and pins (if any) must match. A device the
    /// service reports an error for is left out, unless every device is in error.
    pub async fn info(&self) -> Result<Vec<DeviceInfo>, DeviceError> {
        let answer = self
            .exchange(&[wire::verb::INFO, wire::verb::INFO_SBI], wire::path::INFO, None, MAX_INFO_BYTES, self.timeout)
            .await?;
        let entries: Vec<InfoEntry> = list(&answer, "device information")?;
        let mut found = Vec::new();
        let mut failure = None;
        for entry in entries {
            if let Some(e) = entry.error.as_ref().filter(|e| !e.is_success()) {
                failure.get_or_insert_with(|| sbi_error(e));
                continue;
            }
            let signed = verify_jws(&entry.device_info, "device information")?;
            let description: DeviceDescription = decode_json(&signed.payload, "device information")?;
            let digital_id = signed_digital_id(&description.digital_id, &signed.key)?;
            if !description.device_code.is_empty() && description.device_code != digital_id.serial_no {
                return Err(DeviceError::Identity(format!(
                    "device code '{}' is not the serial number '{}'",
                    clip(&description.device_code, 40),
                    clip(&digital_id.serial_no, 40)
                )));
            }
            let key_fingerprint = key_fingerprint(&signed.key);
            check_pins(&self.pins, &digital_id.serial_no, &key_fingerprint)?;
            found.push(DeviceInfo {
                device_id: description.device_id.clone(),
                status: description.device_status,
                modality: digital_id.modality(),
                serial: digital_id.serial_no.clone(),
                key_fingerprint,
                digital_id,
                description,
            });
        }
        match failure {
            Some(e) if found.is_empty() => Err(e),
            _ => Ok(found),
        }
    }

    /// Captures what `request` asks for and verifies every capture: signature, digital id
    /// signed by the same key, pins, the request's transaction id, a modality that was asked
    /// for, no excepted finger or eye, a JPEG or PNG image of sane size or an ISO/IEC 19794
    /// record of the capture's modality. Any SBI error in the
    /// answer fails the whole capture (staff capture again).
    pub async fn capture(&self, request: &CaptureRequest) -> Result<Vec<Captured>, DeviceError> {
        let payload = serde_json::to_vec(request).map_err(|e| protocol("request", &e))?;
        let wait = self.timeout + Duration::from_millis(request.timeout.min(600_000));
        let answer =
            self.exchange(&[wire::verb::RCAPTURE], wire::path::CAPTURE, Some(payload), MAX_CAPTURE_BYTES, wait).await?;
        let answer: CaptureResponse = decode_json(&answer, "capture answer")?;
        let mut out = Vec::with_capacity(answer.biometrics.len());
        for entry in answer.biometrics {
            if let Some(e) = entry.error.as_ref().filter(|e| !e.is_success()) {
                return Err(sbi_error(e));
            }
            if entry.data.is_empty() {
                return Err(DeviceError::Protocol("a capture without data".into()));
            }
            let mut captured = decode_capture(&entry.data)?;
            check_pins(&self.pins, &captured.serial, &captured.key_fingerprint)?;
            if captured.transaction_id != request.transaction_id {
                return Err(DeviceError::Protocol(format!(
                    "a capture for transaction '{}', not '{}'",
                    clip(&captured.transaction_id, 60),
                    clip(&request.transaction_id, 60)
                )));
            }
            let Some(asked) = request.bio.iter().find(|b| b.modality == captured.modality) else {
                return Err(DeviceError::Protocol(format!("a {} capture that was not asked for", captured.modality)));
            };
            if captured.sub_type != BioSubType::Unknown && asked.exception.contains(&captured.sub_type) {
                return Err(DeviceError::Protocol(format!("a capture of the excepted {}", captured.sub_type)));
            }
            captured.exception = captured.modality == Modality::Face && !asked.exception.is_empty();
            captured.hash = Some(entry.hash).filter(|h| !h.is_empty());
            out.push(captured);
        }
        Ok(out)
    }
}

impl SbiService {
    /// Starts the live preview (`STREAM`) of sub-device `sub_id` of `device_id` for at most
    /// `seconds` (capped at [`MAX_PREVIEW_SECONDS`]). The answer's headers must come within
    /// the service's timeout; an SBI error instead of a stream (busy, no such device) is a
    /// [`DeviceError`] like a capture's.
    pub async fn preview(&self, device_id: &str, sub_id: u32, seconds: u32) -> Result<Preview, DeviceError> {
        let seconds = seconds.clamp(1, MAX_PREVIEW_SECONDS);
        let request = StreamRequest {
            device_id: device_id.to_string(),
            device_sub_id: sub_id,
            timeout: u64::from(seconds) * 1000,
        };
        let payload = serde_json::to_vec(&request).map_err(|e| protocol("request", &e))?;
        let method =
            Method::from_bytes(wire::verb::STREAM.as_bytes()).map_err(|e| DeviceError::Protocol(e.to_string()))?;
        let send = self
            .client
            .request(method, format!("{}{}", self.base, wire::path::STREAM))
            .header("content-type", "application/json")
            .body(payload)
            .send();
        let response = tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| DeviceError::Timeout)?
            .map_err(|e| request_error(&e))?;
        if !response.status().is_success() {
            return Err(DeviceError::Protocol(format!("STREAM: HTTP status {}", response.status().as_u16())));
        }
        let content_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if content_type.trim_start().to_ascii_lowercase().starts_with("application/json") {
            let answer = tokio::time::timeout(self.timeout, body(response, MAX_INFO_BYTES))
                .await
                .map_err(|_| DeviceError::Timeout)??;
            let refusal: StreamRefusal = decode_json(&answer, "preview answer")?;
            return Err(match refusal.error.filter(|e| !e.is_success()) {
                Some(e) => sbi_error(&e),
                None => DeviceError::Protocol("the preview answer is neither a stream nor an error".into()),
            });
        }
        let frames = FrameSplitter::new(content_type, MAX_PREVIEW_FRAME_BYTES).map_err(|e| stream_problem(&e))?;
        // The device ends the stream itself after `seconds`; the grace lets its last frames
        // and closing boundary arrive before the box stops reading.
        let until = tokio::time::Instant::now() + Duration::from_secs(u64::from(seconds)) + PREVIEW_GRACE;
        Ok(Preview::new(Box::new(StreamBody(response)), frames, until))
    }
}

/// A preview's bytes as the device sends them.
struct StreamBody(reqwest::Response);

impl PreviewSource for StreamBody {
    fn chunk(&mut self) -> Pending<'_, Option<Vec<u8>>> {
        pending(async move {
            match self.0.chunk().await {
                Ok(chunk) => Ok(chunk.map(|c| c.to_vec())),
                Err(e) => Err(request_error(&e)),
            }
        })
    }
}

/// The answer of a device that refuses to stream.
#[derive(Deserialize)]
struct StreamRefusal {
    error: Option<SbiError>,
}

/// Verifies a capture's `data` (a JWS) a browser hands to the box: the signature, the digital
/// id signed by the same key, the key against `pinned_key_fingerprint` (when given; another key
/// is [`DeviceError::Identity`]), a JPEG or PNG image of sane size or an ISO/IEC 19794 record of
/// the capture's modality. The caller compares
/// [`Captured::transaction_id`] with the transaction it issued.
pub fn verify_capture(jws: &str, pinned_key_fingerprint: Option<&str>) -> Result<Captured, DeviceError> {
    let captured = decode_capture(jws)?;
    if let Some(pinned) = pinned_key_fingerprint
        && !pinned.eq_ignore_ascii_case(&captured.key_fingerprint)
    {
        return Err(DeviceError::Identity(format!(
            "device '{}' signed with key {}, not the pinned {}",
            clip(&captured.serial, 40),
            short(&captured.key_fingerprint),
            short(pinned)
        )));
    }
    Ok(captured)
}

/// Probes `ports` of `host` for device services, [`SCAN_CONCURRENCY`] at a time, each with
/// `per_port_timeout`; returns the ports that answered discovery with at least one device, in
/// port order. Closed ports, silent ones and anything that is not a device service are skipped.
pub async fn scan_ports(
    host: &str,
    ports: RangeInclusive<u16>,
    per_port_timeout: Duration,
) -> Vec<(u16, Vec<DiscoveredDevice>)> {
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
    let Ok(shared) = client(per_port_timeout) else {
        return Vec::new();
    };
    let mut ports = ports.into_iter();
    let mut running = tokio::task::JoinSet::new();
    let mut found = Vec::new();
    loop {
        while running.len() < SCAN_CONCURRENCY {
            let Some(port) = ports.next() else { break };
            let Ok(base) = checked_base(&format!("http://{host}:{port}")) else { continue };
            let service = SbiService { base, timeout: per_port_timeout, client: shared.clone(), pins: Vec::new() };
            running.spawn(async move { (port, service.discover(DeviceType::Any).await) });
        }
        match running.join_next().await {
            Some(Ok((port, Ok(devices)))) if !devices.is_empty() => found.push((port, devices)),
            Some(_) => {}
            None => break,
        }
    }
    found.sort_by_key(|(port, _)| *port);
    found
}

/// SHA-256 of a public key, lower-case hex: the identity the box pins.
pub fn key_fingerprint(public_key: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, public_key).as_ref())
}

fn checked_base(base: &str) -> Result<String, DeviceError> {
    let base = base.trim().trim_end_matches('/');
    let rest = base.strip_prefix("http://").or_else(|| base.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && reqwest::Url::parse(base).is_ok() => {
            Ok(base.to_string())
        }
        _ => Err(DeviceError::Protocol(format!("'{}' is not an http:// address", clip(base, 80)))),
    }
}

fn decode_capture(jws: &str) -> Result<Captured, DeviceError> {
    if jws.len() > MAX_CAPTURE_BYTES {
        return Err(DeviceError::TooLarge(MAX_CAPTURE_BYTES));
    }
    let signed = verify_jws(jws, "capture")?;
    let payload: CapturePayload = decode_json(&signed.payload, "capture")?;
    let digital_id = signed_digital_id(&payload.digital_id, &signed.key)?;
    if !payload.device_code.is_empty() && payload.device_code != digital_id.serial_no {
        return Err(DeviceError::Identity(format!(
            "device code '{}' is not the serial number '{}'",
            clip(&payload.device_code, 40),
            clip(&digital_id.serial_no, 40)
        )));
    }
    if payload.bio_value.len() > MAX_IMAGE_BYTES / 3 * 4 + 4 {
        return Err(DeviceError::TooLarge(MAX_IMAGE_BYTES));
    }
    let image = b64(&payload.bio_value).ok_or_else(|| DeviceError::Protocol("bioValue is not base64url".into()))?;
    let (content_type, record) = match RecordKind::of(&image) {
        Some(_) => (BIOMETRIC_RECORD_MIME, Some(check_record(&image, payload.bio_type)?)),
        None => (check_image(&image)?, None),
    };
    Ok(Captured {
        modality: payload.bio_type,
        sub_type: payload.bio_sub_type,
        quality: score(payload.quality_score, "qualityScore")?,
        requested: score(payload.requested_score, "requestedScore")?,
        image,
        content_type,
        record,
        serial: digital_id.serial_no,
        key_fingerprint: key_fingerprint(&signed.key),
        exception: false,
        transaction_id: payload.transaction_id,
        timestamp: payload.timestamp,
        hash: None,
    })
}

/// Reads an ISO/IEC 19794 record a device sent for a `modality` capture: the part of the
/// standard must be that modality's, and a JPEG or PNG inside must be a sane image (it is
/// what staff see). WSQ and JPEG 2000 images are kept as they are, not decoded.
fn check_record(bytes: &[u8], modality: Modality) -> Result<RecordSummary, DeviceError> {
    let record = iso19794::parse(bytes).map_err(|e| DeviceError::Protocol(e.to_string()))?;
    if record.kind.modality() != modality {
        return Err(DeviceError::Protocol(format!("a {} record in a {modality} capture", record.kind.standard())));
    }
    let first = &record.representations[0];
    let picture = if first.encoding.displayable() {
        let picture = bytes[first.image.clone()].to_vec();
        let mime = check_image(&picture)?;
        Some((picture, mime))
    } else {
        None
    };
    Ok(RecordSummary { kind: record.kind, encoding: first.encoding, width: first.width, height: first.height, picture })
}

/// The MIME type of a captured image, checked against its header: JPEG or PNG, at most
/// [`MAX_IMAGE_SIDE`] a side.
fn check_image(bytes: &[u8]) -> Result<&'static str, DeviceError> {
    let (format, content_type) = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (ImageFormat::Jpeg, "image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        (ImageFormat::Png, "image/png")
    } else {
        return Err(DeviceError::Unsupported("the capture is not a JPEG or PNG image".into()));
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(64 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    match reader.into_dimensions() {
        Ok((w, h)) if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE => Err(DeviceError::TooLarge(MAX_IMAGE_BYTES)),
        Ok((0, _)) | Ok((_, 0)) => Err(DeviceError::Protocol("an empty image".into())),
        Ok(_) => Ok(content_type),
        Err(ImageError::Limits(_)) => Err(DeviceError::TooLarge(MAX_IMAGE_BYTES)),
        Err(e) => Err(DeviceError::Protocol(format!("the image does not decode: {}", clip(&e.to_string(), 80)))),
    }
}

fn score(value: f64, what: &str) -> Result<u8, DeviceError> {
    if (0.0..=100.0).contains(&value) {
        Ok(value.round() as u8)
    } else {
        Err(DeviceError::Protocol(format!("{what} {value} is not from 0 to 100")))
    }
}

struct Signed {
    key: Vec<u8>,
    payload: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    jwk: Option<Jwk>,
    /// The signer's certificate chain, leaf first, each DER in standard base64 (RFC 7515), as
    /// MOSIP SBI devices send it with RS256.
    #[serde(default)]
    x5c: Option<Vec<String>>,
}

/// Largest certificate taken from an `x5c` header.
const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
}

/// Verifies a compact JWS signed by the key its header carries: `EdDSA` with an Ed25519 `jwk`
/// (Simpul's simulator and devices like it), or `RS256` / `ES256` with the device certificate
/// first in `x5c` (MOSIP SBI devices). The key the block is known by (`Signed::key`, pinned by
/// its fingerprint) is the raw Ed25519 key, or the certificate's SubjectPublicKeyInfo, so a
/// device certificate renewed over the same key keeps its pin. The certificate's issuer and
/// dates are not judged: the box trusts a device by its pinned key, not by a chain.
fn verify_jws(jws: &str, what: &str) -> Result<Signed, DeviceError> {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
    let parts: Vec<&str> = jws.trim().split('.').collect();
    if parts.len() == 1 && !parts[0].is_empty() {
        return Err(DeviceError::Identity(format!("the {what} is not signed (an unregistered device)")));
    }
    let [header, payload, signature] = parts[..] else {
        return Err(DeviceError::Protocol(format!("the {what} is not a JWS")));
    };
    let header_bytes = b64(header).ok_or_else(|| DeviceError::Protocol(format!("the {what}'s JWS header")))?;
    let header_json: Header = decode_json(&header_bytes, "JWS header")?;
    let signed_part = &jws.trim()[..header.len() + 1 + payload.len()];
    let signature =
        b64(signature).ok_or_else(|| DeviceError::Identity(format!("the {what}'s signature is not base64url")))?;
    let does_not_verify = |_| DeviceError::Identity(format!("the {what}'s signature does not verify"));
    let key = match header_json.alg.as_str() {
        "EdDSA" => {
            let jwk = header_json
                .jwk
                .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
                .ok_or_else(|| DeviceError::Protocol(format!("the {what}'s JWS header carries no Ed25519 key")))?;
            let key = b64(&jwk.x)
                .filter(|k| k.len() == 32)
                .ok_or_else(|| DeviceError::Protocol(format!("the {what}'s key is not 32 bytes of base64url")))?;
            if signature.len() != 64 {
                return Err(DeviceError::Identity(format!("the {what}'s signature is not an Ed25519 signature")));
            }
            UnparsedPublicKey::new(&ED25519, &key)
                .verify(signed_part.as_bytes(), &signature)
                .map_err(does_not_verify)?;
            key
        }
        alg @ ("RS256" | "ES256") => {
            let leaf = header_json
                .x5c
                .as_ref()
                .and_then(|chain| chain.first())
                .ok_or_else(|| DeviceError::Protocol(format!("the {what}'s JWS header carries no certificate")))?;
            let der = standard_b64(leaf)
                .filter(|d| d.len() <= MAX_CERTIFICATE_BYTES)
                .ok_or_else(|| DeviceError::Protocol(format!("the {what}'s certificate is not base64 DER")))?;
            let (_, certificate) = x509_parser::parse_x509_certificate(&der)
                .map_err(|_| DeviceError::Protocol(format!("the {what}'s certificate does not parse")))?;
            let spki = certificate.public_key();
            let public_key = spki.subject_public_key.data.as_ref();
            if alg == "RS256" {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key)
                    .verify(signed_part.as_bytes(), &signature)
                    .map_err(does_not_verify)?;
            } else {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
                    .verify(signed_part.as_bytes(), &signature)
                    .map_err(does_not_verify)?;
            }
            spki.raw.to_vec()
        }
        other => {
            return Err(DeviceError::Unsupported(format!(
                "the {what} is signed with {}; Simpul verifies EdDSA, RS256 and ES256",
                clip(other, 20)
            )));
        }
    };
    let payload = b64(payload).ok_or_else(|| DeviceError::Protocol(format!("the {what}'s JWS payload")))?;
    Ok(Signed { key, payload })
}

/// A signed digital id, which must be signed by `key` (an SBI 1.0 device signs its digital id
/// and its data with the same device key).
fn signed_digital_id(jws: &str, key: &[u8]) -> Result<DigitalId, DeviceError> {
    let signed = verify_jws(jws, "digital id")?;
    if signed.key != key {
        return Err(DeviceError::Identity("the digital id is signed by another key than the data".into()));
    }
    let id: DigitalId = decode_json(&signed.payload, "digital id")?;
    if id.serial_no.trim().is_empty() {
        return Err(DeviceError::Protocol("the digital id has no serial number".into()));
    }
    Ok(id)
}

/// The payload of an unsigned digital id (plain base64url), or of a signed one read without
/// checking (discovery is unsigned by design).
fn unsigned_payload(digital_id: &str) -> Result<Vec<u8>, DeviceError> {
    let parts: Vec<&str> = digital_id.trim().split('.').collect();
    let payload = match parts[..] {
        [payload] | [_, payload, _] => payload,
        _ => return Err(DeviceError::Protocol("the digital id is neither base64url nor a JWS".into())),
    };
    b64(payload).ok_or_else(|| DeviceError::Protocol("the digital id is not base64url".into()))
}

fn check_pins(pins: &[Pin], serial: &str, fingerprint: &str) -> Result<(), DeviceError> {
    if pins.is_empty() || pins.iter().any(|p| p.serial == serial && p.key_fingerprint.eq_ignore_ascii_case(fingerprint))
    {
        return Ok(());
    }
    let reason = if pins.iter().any(|p| p.serial == serial) {
        format!("device '{}' now signs with key {}, not the pinned one", clip(serial, 40), short(fingerprint))
    } else if let Some(p) = pins.iter().find(|p| p.key_fingerprint.eq_ignore_ascii_case(fingerprint)) {
        format!("the key of device '{}' now claims serial '{}'", clip(&p.serial, 40), clip(serial, 40))
    } else {
        format!("device '{}' (key {}) is not configured here", clip(serial, 40), short(fingerprint))
    };
    Err(DeviceError::Identity(reason))
}

/// What an SBI error means for staff.
fn sbi_error(e: &SbiError) -> DeviceError {
    let code = clip(&e.error_code, 10);
    let info = clip(e.error_info.trim(), 60);
    let other = |what: &str| DeviceError::NeedsAttention(Attention::Other(format!("sbi-{code} {what}")));
    match code.as_str() {
        "100" => DeviceError::Identity("the device is not registered and cannot sign (SBI 100)".into()),
        "103" => DeviceError::Identity("the device reports tampering (SBI 103)".into()),
        "107" => DeviceError::Identity("the device's key has expired (SBI 107)".into()),
        "101" => other("no biometric detected"),
        "105" => other("image orientation"),
        "106" | "202" => DeviceError::NeedsAttention(Attention::Offline),
        "109" => DeviceError::Unsupported(format!("the device cannot capture that many (SBI 109) {info}")),
        wire::BUSY_CODE => DeviceError::Busy,
        _ if info.to_ascii_lowercase().contains("busy") => DeviceError::Busy,
        _ => other(&info),
    }
}

fn list<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<Vec<T>, DeviceError> {
    // The specification answers an array; a lone object is taken as an array of one.
    let value: serde_json::Value = decode_json(bytes, what)?;
    let value = if value.is_object() { serde_json::Value::Array(vec![value]) } else { value };
    serde_json::from_value(value).map_err(|e| protocol(what, &e))
}

fn decode_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, DeviceError> {
    serde_json::from_slice(bytes).map_err(|e| protocol(what, &e))
}

fn protocol(what: &str, e: &serde_json::Error) -> DeviceError {
    DeviceError::Protocol(format!("{what} is not valid SBI JSON: {}", clip(&e.to_string(), 100)))
}

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn b64(text: &str) -> Option<Vec<u8>> {
    B64.decode(text.trim()).ok()
}

/// Standard base64 (an `x5c` entry), padded or not.
fn standard_b64(text: &str) -> Option<Vec<u8>> {
    const STANDARD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    STANDARD.decode(text.trim()).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn short(fingerprint: &str) -> String {
    clip(fingerprint, 12)
}

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).filter(|c| !c.is_control()).collect()
}

/// The identity of a service's devices, as the box pins it: each device's serial number with
/// the fingerprint of the key it signs with, sorted, `serial=key` joined by commas.
pub fn identity_of(infos: &[DeviceInfo]) -> String {
    let mut parts: Vec<String> = infos.iter().map(|i| format!("{}={}", i.serial, i.key_fingerprint)).collect();
    parts.sort();
    parts.join(",")
}

/// The pins of an identity made by [`identity_of`].
pub fn pins_of(identity: &str) -> Vec<Pin> {
    identity
        .split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(serial, key)| Pin { serial: serial.to_string(), key_fingerprint: key.to_string() })
        .collect()
}

impl Device for SbiService {
    /// The devices the service offers: their models, those not ready, and the identity they
    /// answered with (pins not applied, so that a stranger is seen).
    fn report(&self) -> Pending<'_, Report> {
        pending(async move {
            let open = SbiService { pins: Vec::new(), ..self.clone() };
            let infos = open.info().await?;
            if infos.is_empty() {
                return Ok(Report { problems: vec![Attention::NoDevice], ..Report::default() });
            }
            Ok(Report {
                problems: infos
                    .iter()
                    .filter(|i| i.status != DeviceStatus::Ready)
                    .map(|i| Attention::Other(format!("{} {:?}", i.digital_id.model, i.status)))
                    .collect(),
                warnings: Vec::new(),
                model: Some(infos.iter().map(|i| i.digital_id.model.clone()).collect::<Vec<_>>().join(", ")),
                supplies: Vec::new(),
                identity: Some(identity_of(&infos)),
                certificate: None,
            })
        })
    }
}

impl BiometricService for SbiService {
    fn devices(&self) -> Pending<'_, Vec<DeviceInfo>> {
        pending(self.info())
    }

    fn capture<'a>(&'a self, request: &'a CaptureRequest) -> Pending<'a, Vec<Captured>> {
        pending(SbiService::capture(self, request))
    }

    fn preview<'a>(&'a self, device_id: &'a str, sub_id: u32, seconds: u32) -> Pending<'a, Preview> {
        pending(SbiService::preview(self, device_id, sub_id, seconds))
    }
}

#[cfg(test)]
mod tests;
