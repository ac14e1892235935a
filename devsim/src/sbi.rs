//! A biometric device service in the style of MOSIP SBI (Secure Biometric Interface, the
//! registration profile of SBI 1.0), written from the specification: discovery (`SBIDISC` or
//! `MOSIPDISC` on `/device`), device information (`MOSIPDINFO` or `SBIDINFO` on `/info`),
//! registration capture (`RCAPTURE` on `/capture`) and a live preview (`STREAM` on `/stream`,
//! `multipart/x-mixed-replace` JPEG frames), with CORS for a browser page calling it.
//!
//! [`SbiSimConfig::standard`] holds a face camera, a ten-print slap scanner, an iris camera
//! and a signature pad (Simpul's addition, `type` `Signature`, `bioSubType` `UNKNOWN`). Each
//! device signs with its own Ed25519 key derived from the seed and its serial number; every
//! signed block is a compact JWS (`alg` `EdDSA`, the public key as an RFC 8037 JWK in the
//! header). With [`SbiSigning::Es256`] each signs `ES256` with a P-256 key and its self-signed
//! certificate in `x5c` instead, as MOSIP device providers issue them (keys made at start).
//! Images are drawn, not stored: a face photo, one ridge pattern per finger, an iris per eye, a
//! signature; everything but timestamps (and ES256 keys) is a function of the seed. On demand
//! ([`SbiSimConfig::iso_records`]) fingers, faces and irises come as ISO/IEC 19794 records.
//!
//! Faults ([`SbiFault`]) are switched at run time so tests can watch the driver meet a busy
//! device, garbage, an endless answer, an image claiming a huge size, a forged signature, a
//! device claiming another's identity, and silence.

use std::convert::Infallible;
use std::io::Cursor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use image::{GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The spec version the simulator answers with.
const SPEC_VERSION: &str = "0.9.5";
/// The device service's version.
const SERVICE_VERSION: &str = "1.0.0";
/// Largest request body read.
const MAX_REQUEST: usize = 64 * 1024;
/// How long the `Slow` fault sleeps before answering.
const SLOW: Duration = Duration::from_secs(30);
/// Most frames one preview sends, and the time between two.
const MAX_FRAMES: u64 = 10;
const FRAME_INTERVAL: Duration = Duration::from_millis(200);
/// The boundary between preview frames.
const BOUNDARY: &str = "simpulframe";
/// Error code while another capture runs (the specification leaves 5xx to providers).
const BUSY: &str = "503";
/// Verbs answered, as listed in a CORS preflight.
const VERBS: &str = "SBIDISC, MOSIPDISC, MOSIPDINFO, SBIDINFO, RCAPTURE, CAPTURE, STREAM";

/// What a simulated device captures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimKind {
    /// A camera for the face photo.
    Face,
    /// A fingerprint slap scanner.
    Finger,
    /// An iris camera.
    Iris,
    /// A signature pad.
    Signature,
}

impl SimKind {
    /// The SBI `type`.
    pub fn name(self) -> &'static str {
        match self {
            SimKind::Face => "Face",
            SimKind::Finger => "Finger",
            SimKind::Iris => "Iris",
            SimKind::Signature => "Signature",
        }
    }
}

/// One simulated device.
#[derive(Clone, Debug)]
pub struct SimDevice {
    /// Its id within the service.
    pub device_id: String,
    /// What it captures.
    pub kind: SimKind,
    /// Its serial number (at least 12 characters, as the specification asks).
    pub serial: String,
    /// Brand.
    pub make: String,
    /// Model.
    pub model: String,
    /// `Full face`, `Slap`, `Double`, ...
    pub device_sub_type: String,
    /// Its sub-devices.
    pub sub_ids: Vec<u32>,
}

/// How the simulator is set up.
#[derive(Clone, Debug)]
pub struct SbiSimConfig {
    /// The devices it offers.
    pub devices: Vec<SimDevice>,
    /// Origins a browser page may call it from; empty: any origin is answered.
    pub allowed_origins: Vec<String>,
    /// Keys, images and quality scores are functions of this.
    pub seed: u64,
    /// Parts the simulated person presents poorly (a dry finger, a half-closed eye), by their
    /// SBI sub-type (`Left IndexFinger`, `Right`): their captures score 20-34, below what a
    /// registration asks for.
    pub poorly_presented: Vec<String>,
    /// Send fingerprints, faces and irises as ISO/IEC 19794 records (2011 editions, as MOSIP
    /// devices do) around the same PNG or JPEG images, instead of the bare images.
    pub iso_records: bool,
    /// How the devices sign their blocks.
    pub signing: SbiSigning,
}

/// How the simulated devices sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SbiSigning {
    /// `EdDSA` with the Ed25519 public key in the header as a JWK; keys derived from the seed,
    /// so a restarted simulator is the same devices.
    #[default]
    EdDsa,
    /// `ES256` with each device's self-signed certificate in `x5c`, as MOSIP device providers
    /// issue them; P-256 keys made at start, so a restarted simulator is new devices.
    Es256,
}

impl SbiSimConfig {
    /// A face camera (`1`), a ten-print slap scanner (`2`), an iris camera (`3`) and a
    /// signature pad (`4`); any origin answered; seed 1.
    pub fn standard() -> SbiSimConfig {
        let device = |id: &str, kind, serial: &str, model: &str, sub_type: &str, sub_ids: &[u32]| SimDevice {
            device_id: id.into(),
            kind,
            serial: serial.into(),
            make: "Simpul Sim".into(),
            model: model.into(),
            device_sub_type: sub_type.into(),
            sub_ids: sub_ids.to_vec(),
        };
        SbiSimConfig {
            devices: vec![
                device("1", SimKind::Face, "SIMFACE00000001", "Kamera Wajah", "Full face", &[0]),
                device("2", SimKind::Finger, "SIMSLAP00000002", "Pemindai Sidik Jari", "Slap", &[1, 2, 3]),
                device("3", SimKind::Iris, "SIMIRIS00000003", "Kamera Iris", "Double", &[1, 2, 3]),
                device("4", SimKind::Signature, "SIMSIGN00000004", "Pad Tanda Tangan", "Pad", &[0]),
            ],
            allowed_origins: Vec::new(),
            seed: 1,
            poorly_presented: Vec::new(),
            iso_records: false,
            signing: SbiSigning::EdDsa,
        }
    }
}

/// Misbehaviour switched on at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SbiFault {
    /// Devices report `Busy`; captures and previews answer the busy error.
    Busy,
    /// Every answer is broken JSON.
    GarbageJson,
    /// Every answer is an endless body.
    EndlessBody,
    /// Captures carry a PNG whose header claims 60000 x 60000 pixels.
    HugeImage,
    /// Blocks name the device's own key but are signed with another (a forgery).
    WrongSignature,
    /// Blocks are validly signed by another key under the same serial number (a device
    /// claiming another's identity; only pinning notices).
    Impostor,
    /// Every answer waits 30 s.
    Slow,
}

/// The simulator (cheap to clone; clones share state).
#[derive(Clone)]
pub struct SbiSim {
    inner: Arc<Inner>,
}

struct Inner {
    config: SbiSimConfig,
    keys: Vec<DeviceKey>,
    impostors: Vec<DeviceKey>,
    fault: Mutex<Option<SbiFault>>,
    capturing: AtomicBool,
}

/// A device's signing key.
enum DeviceKey {
    Ed25519(Ed25519KeyPair),
    /// A P-256 key with its self-signed certificate (DER) and SubjectPublicKeyInfo (DER).
    P256 {
        key: EcdsaKeyPair,
        certificate: Vec<u8>,
        spki: Vec<u8>,
    },
}

impl DeviceKey {
    /// The JWS header naming this key.
    fn header(&self) -> Value {
        match self {
            DeviceKey::Ed25519(key) => json!({
                "alg": "EdDSA",
                "typ": "JWT",
                "jwk": {"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.public_key().as_ref())},
            }),
            DeviceKey::P256 { certificate, .. } => json!({
                "alg": "ES256",
                "typ": "JWT",
                "x5c": [base64::engine::general_purpose::STANDARD.encode(certificate)],
            }),
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            DeviceKey::Ed25519(key) => key.sign(message).as_ref().to_vec(),
            // ECDSA signing fails only when the system's random source does.
            DeviceKey::P256 { key, .. } => {
                key.sign(&SystemRandom::new(), message).expect("the system random source").as_ref().to_vec()
            }
        }
    }

    /// The public key as a verifier identifies it: the raw Ed25519 key, or the certificate's
    /// SubjectPublicKeyInfo.
    fn public(&self) -> Vec<u8> {
        match self {
            DeviceKey::Ed25519(key) => key.public_key().as_ref().to_vec(),
            DeviceKey::P256 { spki, .. } => spki.clone(),
        }
    }
}

fn derive_key(label: &str, seed: u64, serial: &str) -> DeviceKey {
    let mut input = format!("simpul-devsim-sbi/{label}/").into_bytes();
    input.extend_from_slice(&seed.to_le_bytes());
    input.extend_from_slice(serial.as_bytes());
    let seed32 = digest(&SHA256, &input);
    // A SHA-256 output is always a valid Ed25519 seed.
    DeviceKey::Ed25519(Ed25519KeyPair::from_seed_unchecked(seed32.as_ref()).expect("32-byte seed"))
}

/// A new P-256 key and a self-signed certificate for the device `serial`.
fn certified_key(serial: &str) -> DeviceKey {
    // Making a key and a certificate in memory fails only when the random source does.
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a P-256 key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("certificate parameters");
    params.distinguished_name.push(rcgen::DnType::CommonName, serial);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Simpul Sim");
    let certificate = params.self_signed(&pair).expect("a self-signed certificate");
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pair.serialize_der(), &SystemRandom::new())
        .expect("the key just made");
    DeviceKey::P256 { key, certificate: certificate.der().to_vec(), spki: pair.public_key_der() }
}

impl SbiSim {
    /// A simulator with these devices.
    pub fn new(config: SbiSimConfig) -> SbiSim {
        let make = |label: &str, serial: &str| match config.signing {
            SbiSigning::EdDsa => derive_key(label, config.seed, serial),
            SbiSigning::Es256 => certified_key(serial),
        };
        let keys = config.devices.iter().map(|d| make("device", &d.serial)).collect();
        let impostors = config.devices.iter().map(|d| make("impostor", &d.serial)).collect();
        SbiSim {
            inner: Arc::new(Inner {
                config,
                keys,
                impostors,
                fault: Mutex::new(None),
                capturing: AtomicBool::new(false),
            }),
        }
    }

    /// Switches a fault on, or all off.
    pub fn set_fault(&self, fault: Option<SbiFault>) {
        *self.inner.fault.lock().unwrap_or_else(|e| e.into_inner()) = fault;
    }

    fn fault(&self) -> Option<SbiFault> {
        *self.inner.fault.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The public key of the device with this serial number (the key it signs with when no
    /// fault is on): the raw Ed25519 key, or the SubjectPublicKeyInfo of its certificate.
    pub fn public_key(&self, serial: &str) -> Option<Vec<u8>> {
        let i = self.inner.config.devices.iter().position(|d| d.serial == serial)?;
        Some(self.inner.keys[i].public())
    }

    /// The devices offered.
    pub fn devices(&self) -> &[SimDevice] {
        &self.inner.config.devices
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let allowed = &self.inner.config.allowed_origins;
        allowed.is_empty() || allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }

    /// A compact JWS of `payload` by device `i`, as the current fault has it.
    fn sign(&self, i: usize, payload: &Value) -> String {
        let genuine = &self.inner.keys[i];
        let impostor = &self.inner.impostors[i];
        let (named, signer) = match self.fault() {
            Some(SbiFault::WrongSignature) => (genuine, impostor),
            Some(SbiFault::Impostor) => (impostor, impostor),
            _ => (genuine, genuine),
        };
        let header = named.header();
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let signature = signer.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn digital_id(&self, i: usize) -> Value {
        let d = &self.inner.config.devices[i];
        json!({
            "serialNo": d.serial,
            "make": d.make,
            "model": d.model,
            "type": d.kind.name(),
            "deviceSubType": d.device_sub_type,
            "deviceProvider": "Simpul",
            "deviceProviderId": "simpul.devsim",
            "dateTime": iso_now(),
        })
    }

    fn status(&self) -> &'static str {
        if self.fault() == Some(SbiFault::Busy) || self.inner.capturing.load(Ordering::SeqCst) {
            "Busy"
        } else {
            "Ready"
        }
    }

    fn description(&self, i: usize, callback: &str, digital_id: String) -> Value {
        let d = &self.inner.config.devices[i];
        json!({
            "deviceId": d.device_id,
            "deviceStatus": self.status(),
            "certification": "L0",
            "serviceVersion": SERVICE_VERSION,
            "deviceSubId": d.sub_ids,
            "callbackId": callback,
            "digitalId": digital_id,
            "deviceCode": d.serial,
            "specVersion": [SPEC_VERSION],
            "purpose": "Registration",
        })
    }
}

/// The HTTP interface of the simulator.
pub fn router(sim: SbiSim) -> Router {
    Router::new().fallback(handle).with_state(sim)
}

/// Serves the simulator on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, sim: SbiSim) -> std::io::Result<()> {
    axum::serve(listener, router(sim)).await
}

async fn handle(State(sim): State<SbiSim>, request: Request) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(o) = &origin
        && !sim.origin_allowed(o)
    {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let mut response =
        if request.method().as_str() == "OPTIONS" { preflight(request.headers()) } else { answer(sim, request).await };
    if let Some(o) = origin
        && let Ok(v) = HeaderValue::from_str(&o)
    {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn preflight(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(VERBS));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    // Chrome's Private Network Access: a page on the office network calling 127.0.0.1.
    if headers.get("access-control-request-private-network").is_some_and(|v| v.as_bytes() == b"true") {
        h.insert("access-control-allow-private-network", HeaderValue::from_static("true"));
    }
    response
}

async fn answer(sim: SbiSim, request: Request) -> Response {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
    let host = if host.chars().all(|c| c.is_ascii_alphanumeric() || ".:-[]".contains(c)) { host } else { "127.0.0.1" };
    let callback = format!("http://{host}/");
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_REQUEST).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response();
    };
    match sim.fault() {
        Some(SbiFault::Slow) => tokio::time::sleep(SLOW).await,
        Some(SbiFault::GarbageJson) => return json_response(Body::from(r#"[{"deviceId": "1", "deviceStatus": tru"#)),
        Some(SbiFault::EndlessBody) => return json_response(endless()),
        _ => {}
    }
    match (method.as_str(), path.as_str()) {
        ("SBIDISC" | "MOSIPDISC", "/device") => discover(&sim, &body, &callback),
        ("MOSIPDINFO" | "SBIDINFO", "/info") => info(&sim, &callback),
        ("RCAPTURE", "/capture") => {
            let sim2 = sim.clone();
            tokio::task::spawn_blocking(move || capture(&sim2, &body))
                .await
                .unwrap_or_else(|_| capture_error("502", "Technical error during capture"))
        }
        ("CAPTURE", "/capture") => capture_error("500", "Authentication capture needs an L1 device"),
        ("STREAM", "/stream") => stream(&sim, &body),
        (_, "/device" | "/info" | "/capture" | "/stream") => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn json_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_value(value: &Value) -> Response {
    json_response(Body::from(value.to_string()))
}

fn success() -> Value {
    json!({"errorCode": "0", "errorInfo": "Success"})
}

fn discover(sim: &SbiSim, body: &[u8], callback: &str) -> Response {
    let wanted = serde_json::from_slice::<Value>(body).ok().and_then(|v| v["type"].as_str().map(str::to_string));
    let known = ["Biometric Device", "Face", "Finger", "Iris", "Signature"];
    let Some(wanted) = wanted.filter(|w| known.contains(&w.as_str())) else {
        return json_value(&json!([{
            "deviceId": "", "deviceStatus": "Not Ready", "digitalId": "",
            "error": {"errorCode": "501", "errorInfo": "Invalid JSON value for discovery: type is 'Biometric Device', 'Face', 'Finger', 'Iris' or 'Signature'"},
        }]));
    };
    let entries: Vec<Value> = (0..sim.inner.config.devices.len())
        .filter(|&i| wanted == "Biometric Device" || sim.inner.config.devices[i].kind.name() == wanted)
        .map(|i| {
            // Discovery names the digital id unsigned.
            let digital_id = URL_SAFE_NO_PAD.encode(sim.digital_id(i).to_string());
            let mut entry = sim.description(i, callback, digital_id);
            entry["error"] = success();
            entry
        })
        .collect();
    json_value(&Value::Array(entries))
}

fn info(sim: &SbiSim, callback: &str) -> Response {
    let entries: Vec<Value> = (0..sim.inner.config.devices.len())
        .map(|i| {
            let digital_id = sim.sign(i, &sim.digital_id(i));
            let mut description = sim.description(i, callback, digital_id);
            description["firmware"] = json!(SERVICE_VERSION);
            description["env"] = json!("Production");
            json!({"deviceInfo": sim.sign(i, &description), "error": success()})
        })
        .collect();
    json_value(&Value::Array(entries))
}

fn capture_error(code: &str, info: &str) -> Response {
    json_value(&json!({"biometrics": [{
        "specVersion": SPEC_VERSION, "data": "", "hash": "",
        "error": {"errorCode": code, "errorInfo": info},
    }]}))
}

/// Clears the busy flag when a capture ends, however it ends.
struct Capturing(SbiSim);

impl Drop for Capturing {
    fn drop(&mut self) {
        self.0.inner.capturing.store(false, Ordering::SeqCst);
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

const LEFT_SLAP: [&str; 4] = ["Left IndexFinger", "Left MiddleFinger", "Left RingFinger", "Left LittleFinger"];
const RIGHT_SLAP: [&str; 4] = ["Right IndexFinger", "Right MiddleFinger", "Right RingFinger", "Right LittleFinger"];
const THUMBS: [&str; 2] = ["Left Thumb", "Right Thumb"];

/// What a sub-device captures: 1 left slap or eye, 2 right, 3 thumbs or both eyes, 0 all.
fn sub_device(kind: SimKind, sub_id: u64) -> Option<Vec<&'static str>> {
    Some(match (kind, sub_id) {
        (SimKind::Finger, 1) => LEFT_SLAP.to_vec(),
        (SimKind::Finger, 2) => RIGHT_SLAP.to_vec(),
        (SimKind::Finger, 3) => THUMBS.to_vec(),
        (SimKind::Finger, 0) => [&LEFT_SLAP[..], &RIGHT_SLAP[..], &THUMBS[..]].concat(),
        (SimKind::Iris, 1) => vec!["Left"],
        (SimKind::Iris, 2) => vec!["Right"],
        (SimKind::Iris, 0 | 3) => vec!["Left", "Right"],
        (SimKind::Face, _) => vec![""],
        (SimKind::Signature, _) => vec!["UNKNOWN"],
        _ => return None,
    })
}

fn capture(sim: &SbiSim, body: &[u8]) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return capture_error("501", "Invalid JSON in the capture request");
    };
    if sim.fault() == Some(SbiFault::Busy) || sim.inner.capturing.swap(true, Ordering::SeqCst) {
        return capture_error(BUSY, "Device busy");
    }
    let _capturing = Capturing(sim.clone());
    if request["purpose"].as_str() != Some("Registration") {
        return capture_error("501", "RCAPTURE is for the purpose 'Registration'");
    }
    let transaction_id = request["transactionId"].as_str().unwrap_or_default().to_string();
    let env = request["env"].as_str().unwrap_or("Production").to_string();
    let Some(bios) = request["bio"].as_array().filter(|b| !b.is_empty()) else {
        return capture_error("501", "Invalid JSON: no bio");
    };
    let first = bios[0]["previousHash"].as_str().unwrap_or_default();
    let mut previous = unhex(first).unwrap_or_else(|| digest(&SHA256, b"").as_ref().to_vec());
    let mut out = Vec::new();
    for bio in bios {
        let kind = bio["type"].as_str().unwrap_or_default();
        let device_id =
            bio["deviceId"].as_str().map(str::to_string).or_else(|| number(&bio["deviceId"]).map(|n| n.to_string()));
        let Some(i) = sim
            .inner
            .config
            .devices
            .iter()
            .position(|d| Some(&d.device_id) == device_id.as_ref() && d.kind.name() == kind)
        else {
            return capture_error("106", "Device not found");
        };
        let device = &sim.inner.config.devices[i];
        let count = number(&bio["count"]).unwrap_or(1.0).max(0.0) as usize;
        let sub_id = number(&bio["deviceSubId"]).unwrap_or(0.0).max(0.0) as u64;
        let requested = number(&bio["requestedScore"]).unwrap_or(0.0);
        let exceptions = strings(&bio["exception"]);
        let Some(all) = sub_device(device.kind, sub_id) else {
            return capture_error("109", "Requested number of biometric (Finger/IRIS) not supported");
        };
        let named: Vec<String> = strings(&bio["bioSubType"]).into_iter().filter(|s| s != "UNKNOWN").collect();
        let mut wanted: Vec<&str> =
            all.iter().copied().filter(|s| named.is_empty() || named.iter().any(|n| n == s)).collect();
        if matches!(device.kind, SimKind::Finger | SimKind::Iris) {
            wanted.retain(|s| !exceptions.iter().any(|e| e == s));
            if count > wanted.len() {
                return capture_error("109", "Requested number of biometric (Finger/IRIS) not supported");
            }
            wanted.truncate(count);
        }
        for sub_type in wanted {
            let image = if sim.fault() == Some(SbiFault::HugeImage) {
                huge_png()
            } else {
                draw(device.kind, sim.inner.config.seed, &device.serial, sub_type)
            };
            let poor = sim.inner.config.poorly_presented.iter().any(|p| p == sub_type);
            let quality = quality(sim.inner.config.seed, &device.serial, sub_type, poor);
            let image = if sim.inner.config.iso_records {
                iso_record(device.kind, sub_type, &image, quality).unwrap_or(image)
            } else {
                image
            };
            let data = json!({
                "digitalId": sim.sign(i, &sim.digital_id(i)),
                "deviceCode": device.serial,
                "deviceServiceVersion": SERVICE_VERSION,
                "bioType": device.kind.name(),
                "bioSubType": sub_type,
                "purpose": "Registration",
                "env": env,
                "bioValue": URL_SAFE_NO_PAD.encode(&image),
                "transactionId": transaction_id,
                "timestamp": iso_now(),
                "requestedScore": requested.to_string(),
                "qualityScore": quality.to_string(),
            });
            // hash = SHA-256(previous hash bytes || SHA-256(biometric)), upper-case hex.
            let mut chained = previous.clone();
            chained.extend_from_slice(digest(&SHA256, &image).as_ref());
            let hash = digest(&SHA256, &chained).as_ref().to_vec();
            out.push(json!({
                "specVersion": SPEC_VERSION,
                "data": sim.sign(i, &data),
                "hash": hex_upper(&hash),
                "error": success(),
            }));
            previous = hash;
        }
    }
    json_value(&json!({"biometrics": out}))
}

fn stream(sim: &SbiSim, body: &[u8]) -> Response {
    let request = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let device_id = request["deviceId"]
        .as_str()
        .map(str::to_string)
        .or_else(|| number(&request["deviceId"]).map(|n| n.to_string()));
    let Some(i) = sim.inner.config.devices.iter().position(|d| Some(&d.device_id) == device_id.as_ref()) else {
        return json_value(&json!({"error": {"errorCode": "202", "errorInfo": "No device connected"}}));
    };
    if sim.fault() == Some(SbiFault::Busy) {
        return json_value(&json!({"error": {"errorCode": BUSY, "errorInfo": "Device busy"}}));
    }
    let timeout_ms = number(&request["timeout"]).unwrap_or(5000.0).max(0.0) as u64;
    let frames = (timeout_ms / FRAME_INTERVAL.as_millis() as u64).clamp(1, MAX_FRAMES);
    let shade =
        (quality(sim.inner.config.seed, &sim.inner.config.devices[i].serial, "stream", false) as u8).wrapping_mul(2);
    let parts = futures::stream::unfold(0u64, move |n| async move {
        if n > frames {
            return None;
        }
        if n == frames {
            return Some((Ok::<_, Infallible>(Bytes::from(format!("--{BOUNDARY}--\r\n"))), n + 1));
        }
        if n > 0 {
            tokio::time::sleep(FRAME_INTERVAL).await;
        }
        let frame = preview_frame(n, shade);
        let mut part =
            format!("--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", frame.len()).into_bytes();
        part.extend_from_slice(&frame);
        part.extend_from_slice(b"\r\n");
        Some((Ok(Bytes::from(part)), n + 1))
    });
    let mut response = Response::new(Body::from_stream(parts));
    let content_type = format!("multipart/x-mixed-replace; boundary={BOUNDARY}");
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("multipart/x-mixed-replace")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An answer that never ends (until the client goes away, or 4 GiB).
fn endless() -> Body {
    let chunk = Bytes::from(vec![b' '; 64 * 1024]);
    Body::from_stream(futures::stream::unfold(0u32, move |n| {
        let chunk = chunk.clone();
        async move { (n < 65_536).then_some((Ok::<_, Infallible>(chunk), n + 1)) }
    }))
}

/// The quality score of a capture: 60-95, or 20-34 for a part presented poorly.
fn quality(seed: u64, serial: &str, sub_type: &str, poor: bool) -> u32 {
    let spread = hash_of(seed, serial, sub_type)[0] as u32;
    if poor { 20 + spread % 15 } else { 60 + spread % 36 }
}

fn hash_of(seed: u64, serial: &str, what: &str) -> [u8; 32] {
    let mut input = seed.to_le_bytes().to_vec();
    input.extend_from_slice(serial.as_bytes());
    input.push(0);
    input.extend_from_slice(what.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &input).as_ref());
    out
}

/// A parameter in `[lo, hi)` from one byte of a hash.
fn param(h: &[u8; 32], i: usize, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * (h[i % 32] as f32 / 256.0)
}

fn draw(kind: SimKind, seed: u64, serial: &str, sub_type: &str) -> Vec<u8> {
    let h = hash_of(seed, serial, sub_type);
    match kind {
        SimKind::Face => encode_rgb(&face(&h), ImageFormat::Jpeg),
        SimKind::Finger => encode_gray(&fingerprint(&h), ImageFormat::Png),
        SimKind::Iris => encode_rgb(&iris(&h, sub_type == "Right"), ImageFormat::Jpeg),
        SimKind::Signature => encode_gray(&signature(&h), ImageFormat::Png),
    }
}

/// `image` (a PNG or JPEG this simulator drew) as the ISO/IEC 19794 record a MOSIP device would
/// send for it: part 4 for a finger, 5 for a face, 6 for an eye, 2011 editions, one
/// representation with one quality block. `None` for a signature (no such standard) or an
/// image whose size cannot be read.
pub fn iso_record(kind: SimKind, sub_type: &str, image: &[u8], quality: u32) -> Option<Vec<u8>> {
    let png = image.starts_with(b"\x89PNG");
    let (width, height) =
        image::ImageReader::new(Cursor::new(image)).with_guessed_format().ok()?.into_dimensions().ok()?;
    let (width, height) = (u16::try_from(width).ok()?, u16::try_from(height).ok()?);
    let mut body = Vec::new();
    // Capture date and time (a fixed one: the simulator is deterministic), the capture device
    // technology, its vendor and type, one quality block (score, algorithm vendor and id).
    body.extend_from_slice(&2026u16.to_be_bytes());
    body.extend_from_slice(&[1, 1, 8, 0, 0, 0, 0]);
    body.push(1);
    body.extend_from_slice(&[0x53, 0x49, 0x00, 0x01]);
    body.extend_from_slice(&[1, quality.min(100) as u8, 0x53, 0x49, 0x00, 0x01]);
    let (magic, version, general): (&[u8], &[u8], Vec<u8>) = match kind {
        SimKind::Finger => {
            // ISO finger positions: right thumb 1 to right little 5, left thumb 6 to left little 10.
            let order = [
                "Right Thumb",
                "Right IndexFinger",
                "Right MiddleFinger",
                "Right RingFinger",
                "Right LittleFinger",
                "Left Thumb",
                "Left IndexFinger",
                "Left MiddleFinger",
                "Left RingFinger",
                "Left LittleFinger",
            ];
            let position = order.iter().position(|n| *n == sub_type).map_or(0, |i| i as u8 + 1);
            body.extend_from_slice(&[position, 0, 1]); // representation 0, pixels per inch
            for _ in 0..4 {
                body.extend_from_slice(&500u16.to_be_bytes()); // capture and image sampling rates
            }
            body.extend_from_slice(&[8, if png { 6 } else { 3 }, 0]); // bit depth, compression, live-scan plain
            body.extend_from_slice(&width.to_be_bytes());
            body.extend_from_slice(&height.to_be_bytes());
            (b"FIR\0", b"020\0", vec![1]) // one finger
        }
        SimKind::Face => {
            body.extend_from_slice(&[0, 0]); // no landmark points
            body.extend_from_slice(&[0; 15]); // gender .. pose uncertainty: unspecified
            body.extend_from_slice(&[1, if png { 3 } else { 0 }]); // full frontal; PNG or JPEG
            body.extend_from_slice(&width.to_be_bytes());
            body.extend_from_slice(&height.to_be_bytes());
            body.extend_from_slice(&[0, 0, 0, 0, 1]); // sampling level, processing, cross ref, 24-bit RGB
            (b"FAC\0", b"030\0", vec![0, 0]) // temporal semantics: one image
        }
        SimKind::Iris => {
            body.extend_from_slice(&[0, 1, if sub_type == "Right" { 1 } else { 2 }, 3]); // representation, eye, cropped
            body.extend_from_slice(&[if png { 0x10 } else { 0x08 }, 0b0100_0101]); // RGB PNG / JPEG; base orientation, lossless
            body.extend_from_slice(&width.to_be_bytes());
            body.extend_from_slice(&height.to_be_bytes());
            body.extend_from_slice(&[8, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]); // bit depth, range, roll angle and uncertainty
            body.extend_from_slice(&[0; 12]); // iris centre and diameter: unknown
            (b"IIR\0", b"020\0", vec![1]) // one eye
        }
        SimKind::Signature => return None,
    };
    body.extend_from_slice(&(image.len() as u32).to_be_bytes());
    body.extend_from_slice(image);
    let representation_length = (body.len() + 4) as u32;
    let header_length = 4 + 4 + 4 + 2 + 1 + general.len();
    let mut out = magic.to_vec();
    out.extend_from_slice(version);
    out.extend_from_slice(&((header_length as u32) + representation_length).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0]); // one representation, not certified
    out.extend_from_slice(&general);
    out.extend_from_slice(&representation_length.to_be_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

fn encode_rgb(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB buffer to JPEG or PNG does not fail.
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn encode_gray(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// Inside the ellipse centred at (cx, cy) with radii (rx, ry): its normalised radius squared.
fn ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> f32 {
    ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)
}

/// A passport-style photo, 480 x 640: background, shoulders, head, hair, eyes, nose, mouth.
fn face(h: &[u8; 32]) -> RgbImage {
    let tones = [[224u8, 187, 152], [198, 150, 110], [160, 112, 80], [120, 84, 60]];
    let skin = tones[(h[0] % 4) as usize];
    let cloth = [h[1] / 3, h[2] / 3 + 40, h[3] / 2 + 60];
    let head_ry = param(h, 4, 180.0, 215.0);
    let eye_y = param(h, 5, 275.0, 300.0);
    let mouth_w = param(h, 6, 40.0, 60.0);
    RgbImage::from_fn(480, 640, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let px = if ellipse(x, y, 240.0, 700.0, 270.0, 170.0) < 1.0 {
            cloth
        } else if ellipse(x, y, 240.0, 300.0, 150.0, head_ry) < 1.0 {
            if y < 190.0 && ellipse(x, y, 240.0, 300.0, 150.0, head_ry) > 0.55 {
                [40, 30, 25]
            } else if ellipse(x, y, 185.0, eye_y, 22.0, 11.0) < 1.0 || ellipse(x, y, 295.0, eye_y, 22.0, 11.0) < 1.0 {
                if ellipse(x, y, 185.0, eye_y, 8.0, 8.0) < 1.0 || ellipse(x, y, 295.0, eye_y, 8.0, 8.0) < 1.0 {
                    [50, 35, 30]
                } else {
                    [245, 245, 240]
                }
            } else if (x - 240.0).abs() < 4.0 && (eye_y + 20.0..eye_y + 80.0).contains(&y) {
                [skin[0] - 30, skin[1] - 30, skin[2] - 30]
            } else if ellipse(x, y, 240.0, eye_y + 120.0, mouth_w, 12.0) < 1.0 {
                [170, 70, 70]
            } else {
                skin
            }
        } else if ellipse(x, y, 240.0, 270.0, 165.0, head_ry + 25.0) < 1.0 && y < 260.0 {
            [40, 30, 25]
        } else {
            let shade = 200 + (y / 640.0 * 40.0) as u8;
            [shade - 20, shade, 235]
        };
        Rgb(px)
    })
}

/// One fingertip, 256 x 320: ridges around a core whose place, spacing, twist and shape come
/// from the finger's hash, inside an oval.
fn fingerprint(h: &[u8; 32]) -> GrayImage {
    let (cx, cy) = (param(h, 0, 95.0, 160.0), param(h, 1, 120.0, 200.0));
    let period = param(h, 2, 7.0, 10.0);
    let twist = param(h, 3, -2.0, 2.0);
    let stretch = param(h, 4, 0.7, 1.4);
    let arch = param(h, 5, 0.0, 1.0);
    GrayImage::from_fn(256, 320, |x, y| {
        let (x, y) = (x as f32, y as f32);
        if ellipse(x, y, 128.0, 160.0, 110.0, 150.0) > 1.0 {
            return Luma([255]);
        }
        let (dx, dy) = (x - cx, (y - cy) * stretch);
        let r = (dx * dx + dy * dy).sqrt();
        let theta = dy.atan2(dx);
        let phase = (1.0 - arch) * r + arch * (y + 18.0 * (x / 40.0).sin()) + twist * theta * period;
        let v = (phase / period * std::f32::consts::TAU).sin();
        Luma([(140.0 - 110.0 * v) as u8])
    })
}

/// One eye, 640 x 480: white, an iris with rings and spokes in a colour from the hash, pupil
/// and highlight.
fn iris(h: &[u8; 32], right: bool) -> RgbImage {
    let base = [param(h, 0, 60.0, 140.0), param(h, 1, 40.0, 90.0), param(h, 2, 20.0, 60.0)];
    let rings = param(h, 3, 0.25, 0.5);
    let spokes = param(h, 4, 18.0, 40.0).round();
    let pupil = param(h, 5, 32.0, 48.0);
    let cx = if right { 330.0 } else { 310.0 };
    RgbImage::from_fn(640, 480, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let (dx, dy) = (x - cx, y - 240.0);
        let r = (dx * dx + dy * dy).sqrt();
        let px = if ellipse(x, y, 320.0, 240.0, 280.0, 140.0) > 1.0 {
            [200, 160, 140]
        } else if r < pupil {
            [10, 10, 12]
        } else if r < 115.0 {
            let t = 0.75 + 0.15 * (r * rings).sin() + 0.1 * (dy.atan2(dx) * spokes).sin();
            [(base[0] * t) as u8, (base[1] * t) as u8, (base[2] * t) as u8]
        } else {
            [235, 232, 228]
        };
        let highlight = ellipse(x, y, cx - 25.0, 215.0, 9.0, 9.0) < 1.0;
        Rgb(if highlight { [250, 250, 250] } else { px })
    })
}

/// A handwritten signature, 600 x 200: a looping stroke and an underline.
fn signature(h: &[u8; 32]) -> GrayImage {
    let mut img = GrayImage::from_pixel(600, 200, Luma([255]));
    let (a, b) = (param(h, 0, 25.0, 45.0), param(h, 1, 8.0, 20.0));
    let (w, phi) = (param(h, 2, 12.0, 22.0), param(h, 3, 0.0, 6.0));
    let mut dot = |x: f32, y: f32| {
        for oy in -1..=1 {
            for ox in -1..=1 {
                let (px, py) = (x as i32 + ox, y as i32 + oy);
                if (0..600).contains(&px) && (0..200).contains(&py) {
                    img.put_pixel(px as u32, py as u32, Luma([20]));
                }
            }
        }
    };
    for i in 0..4000 {
        let t = i as f32 / 4000.0;
        let x = 50.0 + 480.0 * t + 18.0 * (w * t * 2.0 + phi).cos();
        let y = 95.0 + a * (w * t + phi).sin() * (1.0 - 0.5 * t) + b * (3.0 * w * t).sin();
        dot(x, y);
    }
    for x in 60..520 {
        dot(x as f32, 165.0 + 3.0 * (x as f32 / 50.0).sin());
    }
    img
}

/// One preview frame, 320 x 240: a bar sweeping across.
fn preview_frame(n: u64, shade: u8) -> Vec<u8> {
    let bar = (n * 32 % 320) as u32;
    let img = RgbImage::from_fn(320, 240, |x, y| {
        if x.abs_diff(bar) < 12 { Rgb([250, 250, 250]) } else { Rgb([shade, (y / 2) as u8, (x / 2) as u8]) }
    });
    encode_rgb(&img, ImageFormat::Jpeg)
}

/// A small PNG whose header claims 60000 x 60000 pixels of grey.
fn huge_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Now as ISO 8601 in UTC with milliseconds (the device's clock).
fn iso_now() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        now.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawings_are_deterministic_and_distinct_per_finger() {
        let a = draw(SimKind::Finger, 1, "S", "Left Thumb");
        assert_eq!(a, draw(SimKind::Finger, 1, "S", "Left Thumb"));
        assert_ne!(a, draw(SimKind::Finger, 1, "S", "Right Thumb"));
        assert_ne!(a, draw(SimKind::Finger, 2, "S", "Left Thumb"));
        assert!(a.starts_with(b"\x89PNG"));
        let face = draw(SimKind::Face, 1, "S", "");
        assert!(face.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_eq!(image::load_from_memory(&face).unwrap().to_rgb8().dimensions(), (480, 640));
        let eye = draw(SimKind::Iris, 1, "S", "Left");
        assert_eq!(image::load_from_memory(&eye).unwrap().to_rgb8().dimensions(), (640, 480));
        assert_ne!(eye, draw(SimKind::Iris, 1, "S", "Right"));
        assert!(draw(SimKind::Signature, 1, "S", "UNKNOWN").starts_with(b"\x89PNG"));
        for s in ["Left Thumb", "Right IndexFinger", "Left"] {
            assert!((60..=95).contains(&quality(7, "S", s, false)));
            assert!((20..=34).contains(&quality(7, "S", s, true)));
        }
    }

    #[test]
    fn the_huge_png_is_well_formed_but_claims_a_huge_size() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        let png = huge_png();
        let d = image::ImageReader::with_format(Cursor::new(&png), ImageFormat::Png).into_dimensions();
        match d {
            Ok(dims) => assert_eq!(dims, (60_000, 60_000)),
            Err(e) => assert!(matches!(e, image::ImageError::Limits(_)), "{e}"),
        }
    }

    #[test]
    fn keys_follow_seed_and_serial() {
        let a = derive_key("device", 1, "X").public();
        assert_eq!(a, derive_key("device", 1, "X").public());
        assert_ne!(a, derive_key("device", 2, "X").public());
        assert_ne!(a, derive_key("impostor", 1, "X").public());
        // Certified keys are made afresh, each with a certificate naming the device.
        let (b, c) = (certified_key("X"), certified_key("X"));
        assert_ne!(b.public(), c.public());
        assert!(matches!(&b, DeviceKey::P256 { certificate, .. } if certificate.len() > 100));
        assert_eq!(b.header()["alg"], "ES256");
        assert_eq!(unhex("0aFF"), Some(vec![10, 255]));
        assert_eq!(unhex("0a F"), None);
        assert_eq!(iso_now().len(), 24);
    }
}
