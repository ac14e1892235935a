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

mod kind;
mod pictures;

pub use kind::SimKind;
pub use pictures::iso_record;
use pictures::*;

use std::convert::Infallible;
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
mod tests;
