//! Biometric capture in the style of MOSIP SBI (Secure Biometric Interface, the registration
//! profile of SBI 1.0, whose messages carry spec version 0.9.5): the wire types a device service
//! on the counter PC speaks, shared by the box's driver (`simpul-hardware`) and the browser UI,
//! which calls the service on `127.0.0.1` directly.
//!
//! A device service listens on `127.0.0.1`, one port in [`PORTS`], and answers custom HTTP
//! verbs: [`verb::DISCOVER`] on `/device`, [`verb::INFO`] on `/info`, [`verb::RCAPTURE`] on
//! `/capture` and [`verb::STREAM`] on `/stream` (a live preview, `multipart/x-mixed-replace`).
//!
//! Every signed block (the digital id, the device information, each capture's `data`) is a
//! compact JWS: `RS256` (or `ES256`) with the device certificate in `x5c`, as MOSIP SBI devices
//! sign, or `EdDSA` (Ed25519) whose header carries the device's public key as an RFC 8037 JWK
//! (`{"kty":"OKP","crv":"Ed25519","x":...}`), as Simpul's simulator signs. Where the
//! specification leans on MOSIP's certificate authority, Simpul is simpler: the box pins the
//! device's key when the device is configured or first used, so a device that later claims
//! another's identity is noticed; the certificate's chain is not judged. Signatures are
//! checked by the driver, not here: this module stays pure.
//!
//! Signature pads are added "the same way": modality `Signature`, sub-type `UNKNOWN`.
//!
//! Numbers travel leniently: devices send counts, scores and sub ids as JSON numbers or as
//! strings, so both are read; Simpul writes them as strings, as the SBI compliance schemas do.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

/// The ports a device service may listen on.
pub const PORTS: RangeInclusive<u16> = 4501..=4600;

/// The spec version Simpul writes in requests (the registration API of SBI 1.0).
pub const SPEC_VERSION: &str = "0.9.5";

/// The only purpose Simpul captures for.
pub const PURPOSE_REGISTRATION: &str = "Registration";

/// The target environment Simpul names in requests.
pub const ENV: &str = "Production";

/// Milliseconds a device is given for one capture unless the caller says otherwise.
pub const DEFAULT_CAPTURE_TIMEOUT_MS: u64 = 10_000;

/// `previousHash` of the first capture of a transaction: SHA-256 of the empty string, upper-case
/// hex, as the specification asks.
pub const FIRST_PREVIOUS_HASH: &str = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";

/// The `errorCode` of success.
pub const SUCCESS_CODE: &str = "0";

/// The `errorCode` a device service answers while another capture runs. The specification
/// leaves 5xx to device providers; this is Simpul's (and its simulator's) choice.
pub const BUSY_CODE: &str = "503";

/// The HTTP verbs of the interface.
pub mod verb {
    /// Device discovery, on `/device` (SBI 1.0 devices name it [`DISCOVER_MOSIP`]).
    pub const DISCOVER: &str = "SBIDISC";
    /// The older name of discovery.
    pub const DISCOVER_MOSIP: &str = "MOSIPDISC";
    /// Device information, on `/info`.
    pub const INFO: &str = "MOSIPDINFO";
    /// The newer name of device information.
    pub const INFO_SBI: &str = "SBIDINFO";
    /// Registration capture, on `/capture`.
    pub const RCAPTURE: &str = "RCAPTURE";
    /// Authentication capture (encrypted, L1 devices only; Simpul does not use it).
    pub const CAPTURE: &str = "CAPTURE";
    /// Live preview, on `/stream`.
    pub const STREAM: &str = "STREAM";
}

/// The paths of the interface.
pub mod path {
    /// Discovery.
    pub const DEVICE: &str = "/device";
    /// Device information.
    pub const INFO: &str = "/info";
    /// Capture.
    pub const CAPTURE: &str = "/capture";
    /// Preview.
    pub const STREAM: &str = "/stream";
}

/// What is captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Modality {
    /// A photo of the face.
    Face,
    /// Fingerprints.
    Finger,
    /// Iris images.
    Iris,
    /// A handwritten signature from a signature pad (Simpul's addition).
    Signature,
}

impl Modality {
    /// Every modality.
    pub const ALL: [Modality; 4] = [Modality::Face, Modality::Finger, Modality::Iris, Modality::Signature];

    /// The wire name (`type`, `bioType`).
    pub fn as_str(self) -> &'static str {
        match self {
            Modality::Face => "Face",
            Modality::Finger => "Finger",
            Modality::Iris => "Iris",
            Modality::Signature => "Signature",
        }
    }

    /// From the wire name.
    pub fn from_name(name: &str) -> Option<Modality> {
        Modality::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// What an application record calls a capture of this modality.
    pub fn record_kind(self) -> &'static str {
        match self {
            Modality::Face => "photo",
            Modality::Finger => "fingerprint",
            Modality::Iris => "iris",
            Modality::Signature => "signature",
        }
    }

    /// Whether single parts of the body (fingers, eyes) are captured, each of which may be an
    /// exception.
    pub fn has_parts(self) -> bool {
        matches!(self, Modality::Finger | Modality::Iris)
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which devices a discovery asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceType {
    /// Any biometric device.
    #[serde(rename = "Biometric Device")]
    Any,
    /// Cameras for the face.
    Face,
    /// Fingerprint scanners.
    Finger,
    /// Iris cameras.
    Iris,
    /// Signature pads.
    Signature,
}

impl DeviceType {
    /// Whether a device of `modality` answers this discovery.
    pub fn matches(self, modality: Modality) -> bool {
        match self {
            DeviceType::Any => true,
            DeviceType::Face => modality == Modality::Face,
            DeviceType::Finger => modality == Modality::Finger,
            DeviceType::Iris => modality == Modality::Iris,
            DeviceType::Signature => modality == Modality::Signature,
        }
    }
}

impl From<Modality> for DeviceType {
    fn from(m: Modality) -> DeviceType {
        match m {
            Modality::Face => DeviceType::Face,
            Modality::Finger => DeviceType::Finger,
            Modality::Iris => DeviceType::Iris,
            Modality::Signature => DeviceType::Signature,
        }
    }
}

/// Which finger or which eye (`bioSubType`, `exception`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BioSubType {
    /// Left index finger.
    #[serde(rename = "Left IndexFinger")]
    LeftIndex,
    /// Left middle finger.
    #[serde(rename = "Left MiddleFinger")]
    LeftMiddle,
    /// Left ring finger.
    #[serde(rename = "Left RingFinger")]
    LeftRing,
    /// Left little finger.
    #[serde(rename = "Left LittleFinger")]
    LeftLittle,
    /// Left thumb.
    #[serde(rename = "Left Thumb")]
    LeftThumb,
    /// Right index finger.
    #[serde(rename = "Right IndexFinger")]
    RightIndex,
    /// Right middle finger.
    #[serde(rename = "Right MiddleFinger")]
    RightMiddle,
    /// Right ring finger.
    #[serde(rename = "Right RingFinger")]
    RightRing,
    /// Right little finger.
    #[serde(rename = "Right LittleFinger")]
    RightLittle,
    /// Right thumb.
    #[serde(rename = "Right Thumb")]
    RightThumb,
    /// Left eye.
    #[serde(rename = "Left")]
    LeftIris,
    /// Right eye.
    #[serde(rename = "Right")]
    RightIris,
    /// Not said (a face, a signature, or a device that does not know).
    #[serde(rename = "UNKNOWN")]
    Unknown,
}

impl BioSubType {
    /// The ten fingers: left slap, right slap, then the thumbs.
    pub const FINGERS: [BioSubType; 10] = [
        BioSubType::LeftIndex,
        BioSubType::LeftMiddle,
        BioSubType::LeftRing,
        BioSubType::LeftLittle,
        BioSubType::RightIndex,
        BioSubType::RightMiddle,
        BioSubType::RightRing,
        BioSubType::RightLittle,
        BioSubType::LeftThumb,
        BioSubType::RightThumb,
    ];

    /// Both eyes.
    pub const IRISES: [BioSubType; 2] = [BioSubType::LeftIris, BioSubType::RightIris];

    const ALL: [BioSubType; 13] = [
        BioSubType::LeftIndex,
        BioSubType::LeftMiddle,
        BioSubType::LeftRing,
        BioSubType::LeftLittle,
        BioSubType::LeftThumb,
        BioSubType::RightIndex,
        BioSubType::RightMiddle,
        BioSubType::RightRing,
        BioSubType::RightLittle,
        BioSubType::RightThumb,
        BioSubType::LeftIris,
        BioSubType::RightIris,
        BioSubType::Unknown,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BioSubType::LeftIndex => "Left IndexFinger",
            BioSubType::LeftMiddle => "Left MiddleFinger",
            BioSubType::LeftRing => "Left RingFinger",
            BioSubType::LeftLittle => "Left LittleFinger",
            BioSubType::LeftThumb => "Left Thumb",
            BioSubType::RightIndex => "Right IndexFinger",
            BioSubType::RightMiddle => "Right MiddleFinger",
            BioSubType::RightRing => "Right RingFinger",
            BioSubType::RightLittle => "Right LittleFinger",
            BioSubType::RightThumb => "Right Thumb",
            BioSubType::LeftIris => "Left",
            BioSubType::RightIris => "Right",
            BioSubType::Unknown => "UNKNOWN",
        }
    }

    /// From the wire name; an absent or empty name (a face) is [`BioSubType::Unknown`].
    pub fn from_name(name: &str) -> Option<BioSubType> {
        if name.is_empty() {
            return Some(BioSubType::Unknown);
        }
        BioSubType::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The position as a record keeps it: the wire name in lower case, spaces as underscores
    /// (`left_thumb`, `right_indexfinger`, `left` for the left iris); empty for a face.
    pub fn position(self) -> String {
        match self {
            BioSubType::Unknown => String::new(),
            other => other.as_str().to_lowercase().replace(' ', "_"),
        }
    }

    /// From [`BioSubType::position`].
    pub fn from_position(position: &str) -> Option<BioSubType> {
        BioSubType::ALL.into_iter().find(|s| *s != BioSubType::Unknown && s.position() == position)
    }

    /// The modality this sub-type belongs to (`None` for [`BioSubType::Unknown`]).
    pub fn modality(self) -> Option<Modality> {
        match self {
            BioSubType::LeftIris | BioSubType::RightIris => Some(Modality::Iris),
            BioSubType::Unknown => None,
            _ => Some(Modality::Finger),
        }
    }

    /// The sub-types a sub-device captures: for fingers 1 is the left slap, 2 the right slap,
    /// 3 the two thumbs and 0 all ten; for irises 1 is the left eye, 2 the right, 0 or 3 both.
    /// Faces and signatures have none.
    pub fn of_sub_device(modality: Modality, sub_id: u32) -> &'static [BioSubType] {
        match (modality, sub_id) {
            (Modality::Finger, 0) => &BioSubType::FINGERS,
            (Modality::Finger, 1) => &BioSubType::FINGERS[0..4],
            (Modality::Finger, 2) => &BioSubType::FINGERS[4..8],
            (Modality::Finger, 3) => &BioSubType::FINGERS[8..10],
            (Modality::Iris, 1) => &BioSubType::IRISES[0..1],
            (Modality::Iris, 2) => &BioSubType::IRISES[1..2],
            (Modality::Iris, 0 | 3) => &BioSubType::IRISES,
            _ => &[],
        }
    }
}

impl fmt::Display for BioSubType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device's state (`deviceStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceStatus {
    /// It can capture.
    Ready,
    /// It is capturing for someone else.
    Busy,
    /// It is connected but cannot capture (warming up, sensor fault).
    #[serde(rename = "Not Ready")]
    NotReady,
    /// It has no identity to sign with.
    #[serde(rename = "Not Registered")]
    NotRegistered,
    /// A status the specification does not name.
    #[serde(other)]
    Unknown,
}

/// An SBI error (`error`). Code `"0"` is success.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SbiError {
    /// `errorCode`, a number or a string on the wire.
    #[serde(alias = "errorcode", deserialize_with = "lenient::code")]
    pub error_code: String,
    /// `errorInfo`, meant for the person at the device.
    #[serde(alias = "errorinfo", default)]
    pub error_info: String,
}

impl SbiError {
    /// Whether this is the success code.
    pub fn is_success(&self) -> bool {
        let code = self.error_code.trim();
        code.is_empty() || code == SUCCESS_CODE
    }
}

/// The identity of a device (`digitalId`, signed in device information and captures, plain
/// base64url in discovery).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigitalId {
    /// The serial number printed on the device.
    pub serial_no: String,
    /// Brand.
    #[serde(default)]
    pub make: String,
    /// Model.
    #[serde(default)]
    pub model: String,
    /// `Face`, `Finger`, `Iris` or `Signature` (kept as sent: see [`DigitalId::modality`]).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `Slap`, `Single`, `Touchless`, `Double`, `Full face`...
    #[serde(default)]
    pub device_sub_type: String,
    /// The device provider's name.
    #[serde(default)]
    pub device_provider: String,
    /// The device provider's id.
    #[serde(default)]
    pub device_provider_id: String,
    /// When the id was issued (ISO 8601, the device's clock).
    #[serde(default)]
    pub date_time: String,
}

impl DigitalId {
    /// The modality the device names, if it is one Simpul knows.
    pub fn modality(&self) -> Option<Modality> {
        Modality::from_name(&self.kind)
    }
}

/// What a device service says of one device: a discovery entry's fields, and the payload of a
/// signed `deviceInfo`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDescription {
    /// The device's id within its service, used in capture requests.
    pub device_id: String,
    /// Its state.
    pub device_status: DeviceStatus,
    /// `L0` or `L1`.
    #[serde(default)]
    pub certification: String,
    /// The device service's version.
    #[serde(default)]
    pub service_version: String,
    /// Its sub-devices (for fingers 1 left slap, 2 right slap, 3 thumbs).
    #[serde(default, deserialize_with = "lenient::u32_list")]
    pub device_sub_id: Vec<u32>,
    /// The base URL to call it at.
    #[serde(default)]
    pub callback_id: String,
    /// The digital id: plain base64url in discovery, a JWS in device information.
    pub digital_id: String,
    /// The same as the digital id's serial number.
    #[serde(default)]
    pub device_code: String,
    /// Spec versions it speaks, the answer's own first.
    #[serde(default)]
    pub spec_version: Vec<String>,
    /// `Registration` or `Auth`; empty when not registered.
    #[serde(default)]
    pub purpose: String,
    /// Firmware version (device information only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub firmware: String,
    /// Target environment (device information only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub env: String,
}

/// The body of a discovery request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    /// Which devices answer.
    #[serde(rename = "type")]
    pub kind: DeviceType,
}

/// One entry of a discovery answer (the answer is a JSON array of these).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryEntry {
    /// The device.
    #[serde(flatten)]
    pub device: DeviceDescription,
    /// What went wrong, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SbiError>,
}

/// One entry of a device information answer (the answer is a JSON array of these).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoEntry {
    /// A JWS whose payload is a [`DeviceDescription`] (plain base64url when not registered).
    #[serde(default)]
    pub device_info: String,
    /// What went wrong, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SbiError>,
}

/// What to capture with one device (an element of `bio`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BioRequest {
    /// The modality.
    #[serde(rename = "type")]
    pub modality: Modality,
    /// How many fingers or eyes (1 for a face or a signature).
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::u32")]
    pub count: u32,
    /// Which ones (optional in the specification).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bio_sub_type: Vec<BioSubType>,
    /// Fingers or eyes that cannot be captured (missing, bandaged); for a face, the exceptions
    /// the exception photo documents.
    #[serde(default)]
    pub exception: Vec<BioSubType>,
    /// The quality (0-100) at which the device may stop trying.
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::u8")]
    pub requested_score: u8,
    /// The device, by its id within the service.
    pub device_id: String,
    /// The sub-device.
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::u32")]
    pub device_sub_id: u32,
    /// The `hash` of the transaction's previous capture ([`FIRST_PREVIOUS_HASH`] first).
    #[serde(default)]
    pub previous_hash: String,
}

/// A registration capture request (`RCAPTURE`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureRequest {
    /// Target environment.
    pub env: String,
    /// `Registration`.
    pub purpose: String,
    /// The spec version expected.
    pub spec_version: String,
    /// Milliseconds the caller waits.
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::u64")]
    pub timeout: u64,
    /// When the capture was asked for (ISO 8601, the caller's clock).
    #[serde(default)]
    pub capture_time: String,
    /// The caller's transaction, echoed in every capture.
    pub transaction_id: String,
    /// What to capture.
    pub bio: Vec<BioRequest>,
}

impl CaptureRequest {
    /// The same request with another timeout.
    pub fn with_timeout(mut self, ms: u64) -> CaptureRequest {
        self.timeout = ms;
        self
    }

    /// The same request asked at `iso_time` (the domain has no clock).
    pub fn at(mut self, iso_time: &str) -> CaptureRequest {
        self.capture_time = iso_time.to_string();
        self
    }

    /// The same request chained after a capture whose `hash` was `hash`.
    pub fn after(mut self, hash: &str) -> CaptureRequest {
        for bio in &mut self.bio {
            bio.previous_hash = hash.to_string();
        }
        self
    }
}

/// A preview request (`STREAM`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRequest {
    /// The device.
    pub device_id: String,
    /// The sub-device.
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::u32")]
    pub device_sub_id: u32,
    /// Milliseconds after which the stream ends.
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::u64")]
    pub timeout: u64,
}

/// One capture in a capture answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BiometricEntry {
    /// The spec version the device answered with.
    #[serde(default)]
    pub spec_version: String,
    /// A JWS whose payload is a [`CapturePayload`], signed with the device key.
    #[serde(default)]
    pub data: String,
    /// Upper-case hex SHA-256 of the previous hash's bytes followed by the SHA-256 of this
    /// capture's biometric bytes (chains the captures of one transaction).
    #[serde(default)]
    pub hash: String,
    /// What went wrong, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SbiError>,
}

/// A capture answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureResponse {
    /// One entry per capture.
    #[serde(default)]
    pub biometrics: Vec<BiometricEntry>,
}

/// The signed payload of one capture (`data`, decoded).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturePayload {
    /// The device's signed digital id (a JWS).
    pub digital_id: String,
    /// The same as the digital id's serial number.
    #[serde(default)]
    pub device_code: String,
    /// The device service's version.
    #[serde(default)]
    pub device_service_version: String,
    /// The modality.
    pub bio_type: Modality,
    /// Which finger or eye (`UNKNOWN` or empty for a face or a signature).
    #[serde(default = "unknown_sub_type", deserialize_with = "lenient::sub_type")]
    pub bio_sub_type: BioSubType,
    /// `Registration`.
    #[serde(default)]
    pub purpose: String,
    /// Target environment.
    #[serde(default)]
    pub env: String,
    /// The image, base64url.
    pub bio_value: String,
    /// The request's transaction id.
    pub transaction_id: String,
    /// When it was captured (ISO 8601, the device's clock).
    #[serde(default)]
    pub timestamp: String,
    /// The quality asked for (0-100).
    #[serde(default, serialize_with = "lenient::as_string", deserialize_with = "lenient::f64")]
    pub requested_score: f64,
    /// The quality reached (0-100).
    #[serde(serialize_with = "lenient::as_string", deserialize_with = "lenient::f64")]
    pub quality_score: f64,
}

fn unknown_sub_type() -> BioSubType {
    BioSubType::Unknown
}

/// A registration capture request for one device: `count` fingers or eyes (1 for a face or a
/// signature) of sub-device `sub_id`, leaving out `exceptions`.
///
/// For fingers and irises the sub-types asked for are those of the sub-device
/// ([`BioSubType::of_sub_device`]) less the exceptions, and only exceptions of that modality are
/// sent; for a face the exceptions are sent whole (the face is then an exception photo). The
/// request starts a transaction ([`FIRST_PREVIOUS_HASH`]); chain later ones with
/// [`CaptureRequest::after`], and name the time with [`CaptureRequest::at`].
pub fn capture_request(
    modality: Modality,
    count: u32,
    exceptions: &[BioSubType],
    transaction_id: &str,
    requested_score: u8,
    device_id: &str,
    sub_id: u32,
) -> CaptureRequest {
    let (bio_sub_type, exception) = match modality {
        Modality::Finger | Modality::Iris => {
            let exception: Vec<BioSubType> =
                dedup(exceptions.iter().copied().filter(|e| e.modality() == Some(modality)).collect());
            let asked = BioSubType::of_sub_device(modality, sub_id)
                .iter()
                .copied()
                .filter(|s| !exception.contains(s))
                .collect();
            (asked, exception)
        }
        Modality::Face => (Vec::new(), dedup(exceptions.iter().copied().filter(|e| e.modality().is_some()).collect())),
        Modality::Signature => (vec![BioSubType::Unknown], Vec::new()),
    };
    CaptureRequest {
        env: ENV.to_string(),
        purpose: PURPOSE_REGISTRATION.to_string(),
        spec_version: SPEC_VERSION.to_string(),
        timeout: DEFAULT_CAPTURE_TIMEOUT_MS,
        capture_time: String::new(),
        transaction_id: transaction_id.to_string(),
        bio: vec![BioRequest {
            modality,
            count,
            bio_sub_type,
            exception,
            requested_score: requested_score.min(100),
            device_id: device_id.to_string(),
            device_sub_id: sub_id,
            previous_hash: FIRST_PREVIOUS_HASH.to_string(),
        }],
    }
}

fn dedup(mut v: Vec<BioSubType>) -> Vec<BioSubType> {
    v.sort();
    v.dedup();
    v
}

/// One slap of a ten-print capture: the sub-device, how many fingers it takes, and the
/// exceptions to send with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlapPlan {
    /// 1 left slap, 2 right slap, 3 thumbs.
    pub sub_id: u32,
    /// Fingers to capture.
    pub count: u32,
    /// Fingers of this slap that cannot be captured.
    pub exceptions: Vec<BioSubType>,
}

/// Why a finger (or an eye) is not captured: the exception recorded in its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionReason {
    /// Missing or amputated: permanent.
    Missing,
    /// Injured or bandaged: temporary; the person may be asked to come back.
    Injured,
}

impl ExceptionReason {
    /// Every reason, in the order forms list them.
    pub const ALL: [ExceptionReason; 2] = [ExceptionReason::Missing, ExceptionReason::Injured];

    /// Stable code, as the record keeps it.
    pub fn code(self) -> &'static str {
        match self {
            ExceptionReason::Missing => "missing",
            ExceptionReason::Injured => "injured",
        }
    }

    /// From [`ExceptionReason::code`].
    pub fn from_code(code: &str) -> Option<ExceptionReason> {
        ExceptionReason::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// The slaps of a ten-print capture for a person with `missing` fingers (missing, amputated,
/// bandaged): each slap carries its own exceptions, and a slap whose fingers are all missing is
/// left out. Entries of `missing` that are not fingers are ignored.
pub fn finger_slaps(missing: &[BioSubType]) -> Vec<SlapPlan> {
    (1..=3)
        .filter_map(|sub_id| {
            let fingers = BioSubType::of_sub_device(Modality::Finger, sub_id);
            let exceptions: Vec<BioSubType> = fingers.iter().copied().filter(|f| missing.contains(f)).collect();
            let count = (fingers.len() - exceptions.len()) as u32;
            (count > 0).then_some(SlapPlan { sub_id, count, exceptions })
        })
        .collect()
}

/// The quality (0-100) asked of every capture; one below it is kept, shown to staff as low,
/// and worth capturing again while the applicant is there.
pub const REQUESTED_QUALITY: u8 = 40;

/// Whether a capture's quality is below what was asked.
pub fn low_quality(quality: u64) -> bool {
    quality < u64::from(REQUESTED_QUALITY)
}

/// The capture requests for `modality` on device `device_id` with sub-devices `subs` (empty:
/// the device names none): three slaps for fingerprints (without the `missing` fingers, which
/// go as the slaps' exceptions), the eyes that are not `missing` for the iris (none when both
/// are), one image otherwise. All share one `transaction`.
pub fn capture_plan(
    modality: Modality,
    device_id: &str,
    subs: &[u32],
    transaction: &str,
    missing: &[BioSubType],
) -> Vec<CaptureRequest> {
    match modality {
        Modality::Finger => finger_slaps(missing)
            .into_iter()
            .filter(|s| subs.is_empty() || subs.contains(&s.sub_id))
            .map(|s| {
                capture_request(modality, s.count, &s.exceptions, transaction, REQUESTED_QUALITY, device_id, s.sub_id)
            })
            .collect(),
        Modality::Iris => {
            let wanted: Vec<BioSubType> = BioSubType::IRISES.into_iter().filter(|e| !missing.contains(e)).collect();
            if wanted.is_empty() {
                return Vec::new();
            }
            let subs: Vec<u32> = if subs.is_empty() { vec![0] } else { subs.to_vec() };
            let eyes_of = |sub: u32| BioSubType::of_sub_device(modality, sub);
            // Both eyes in one request where one sub-device takes them (the missing eye goes as
            // its exception), else one request per eye on that eye's own sub-device.
            let both = [3, 0]
                .into_iter()
                .chain(subs.iter().copied())
                .find(|s| subs.contains(s) && wanted.iter().all(|e| eyes_of(*s).contains(e)));
            match both {
                Some(sub) => {
                    let exceptions: Vec<BioSubType> =
                        eyes_of(sub).iter().copied().filter(|e| missing.contains(e)).collect();
                    let count = wanted.len() as u32;
                    vec![capture_request(modality, count, &exceptions, transaction, REQUESTED_QUALITY, device_id, sub)]
                }
                None => wanted
                    .iter()
                    .filter_map(|eye| subs.iter().copied().find(|s| eyes_of(*s) == [*eye]))
                    .map(|sub| capture_request(modality, 1, &[], transaction, REQUESTED_QUALITY, device_id, sub))
                    .collect(),
            }
        }
        Modality::Face | Modality::Signature => {
            vec![capture_request(
                modality,
                1,
                &[],
                transaction,
                REQUESTED_QUALITY,
                device_id,
                subs.first().copied().unwrap_or(0),
            )]
        }
    }
}

/// Whether every finger (or both eyes) of `modality` is among the `missing`: nothing is left
/// to capture, only the exceptions to record. Always false for a face or a signature.
pub fn nothing_to_capture(modality: Modality, missing: &[BioSubType]) -> bool {
    modality.has_parts() && BioSubType::of_sub_device(modality, 0).iter().all(|p| missing.contains(p))
}

/// The finger exceptions for a person with `missing` fingers, in the order of
/// [`BioSubType::FINGERS`] (for a one-shot ten-print request or a face exception photo).
pub fn finger_exceptions(missing: &[BioSubType]) -> Vec<BioSubType> {
    BioSubType::FINGERS.into_iter().filter(|f| missing.contains(f)).collect()
}

/// Readers that take a number or a string, and a writer that writes a string.
mod lenient {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use super::BioSubType;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(u64),
        Float(f64),
        Text(String),
    }

    impl Number {
        fn value(self) -> Result<f64, String> {
            match self {
                Number::Int(i) => Ok(i as f64),
                Number::Float(f) => Ok(f),
                Number::Text(s) => s.trim().parse::<f64>().map_err(|_| format!("'{}' is not a number", clip(&s))),
            }
        }
    }

    fn clip(s: &str) -> String {
        s.chars().take(20).collect()
    }

    fn whole<'de, D: Deserializer<'de>>(d: D, max: u64) -> Result<u64, D::Error> {
        let v = Number::deserialize(d)?.value().map_err(D::Error::custom)?;
        if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > max as f64 {
            return Err(D::Error::custom(format!("{v} is not a whole number from 0 to {max}")));
        }
        Ok(v as u64)
    }

    pub fn u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        whole(d, u8::MAX as u64).map(|v| v as u8)
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        whole(d, u32::MAX as u64).map(|v| v as u32)
    }

    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        whole(d, u64::MAX >> 11)
    }

    pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let v = Number::deserialize(d)?.value().map_err(D::Error::custom)?;
        if !v.is_finite() {
            return Err(D::Error::custom("not a finite number"));
        }
        Ok(v)
    }

    pub fn u32_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let items = Option::<Vec<Number>>::deserialize(d)?.unwrap_or_default();
        items
            .into_iter()
            .map(|n| {
                let v = n.value().map_err(D::Error::custom)?;
                if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
                    Ok(v as u32)
                } else {
                    Err(D::Error::custom(format!("{v} is not a sub id")))
                }
            })
            .collect()
    }

    pub fn code<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Code {
            Int(i64),
            Text(String),
        }
        Ok(match Option::<Code>::deserialize(d)? {
            Some(Code::Int(i)) => i.to_string(),
            Some(Code::Text(s)) => s.trim().to_string(),
            None => String::new(),
        })
    }

    pub fn sub_type<'de, D: Deserializer<'de>>(d: D) -> Result<BioSubType, D::Error> {
        let name = Option::<String>::deserialize(d)?.unwrap_or_default();
        BioSubType::from_name(name.trim()).ok_or_else(|| {
            D::Error::custom(format!("'{}' is not a bioSubType", name.chars().take(40).collect::<String>()))
        })
    }

    pub fn as_string<S: Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }
}

/// Why a preview stream could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamProblem {
    /// The answer is not `multipart/x-mixed-replace` with a boundary.
    #[error("the preview is not a multipart/x-mixed-replace stream with a boundary")]
    NotMultipart,
    /// A frame (or the bytes before the next boundary) passed the size limit.
    #[error("a preview frame is larger than {0} bytes")]
    TooLarge(usize),
    /// A part is not an image the page can show, or its bytes are not what it claims.
    #[error("a preview frame is not a JPEG or PNG image")]
    NotAnImage,
    /// A part's headers cannot be read.
    #[error("a preview frame's headers cannot be read")]
    BadHeaders,
}

/// One preview frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewFrame {
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    /// The image.
    pub bytes: Vec<u8>,
}

/// Splits a `multipart/x-mixed-replace` preview (the answer to `STREAM`) into its frames as
/// the bytes arrive, whatever the chunking. Each frame and whatever waits for the next
/// boundary is bounded by a size limit, so an endless part cannot fill memory.
#[derive(Clone, Debug)]
pub struct FrameSplitter {
    delimiter: Vec<u8>,
    /// For a boundary that begins with `--`: the boundary itself, which some devices use as the
    /// delimiter (against RFC 2046) where the standard one is `--` and the boundary.
    alternative: Option<Vec<u8>>,
    buffer: Vec<u8>,
    limit: usize,
    ended: bool,
}

impl FrameSplitter {
    /// A splitter for an answer of `content_type`, each frame at most `limit` bytes.
    pub fn new(content_type: &str, limit: usize) -> Result<FrameSplitter, StreamProblem> {
        let mut params = content_type.split(';');
        let essence = params.next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("multipart/x-mixed-replace") {
            return Err(StreamProblem::NotMultipart);
        }
        let boundary = params
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
            .map(|(_, v)| v.trim().trim_matches('"'))
            // A boundary is 1-70 characters (RFC 2046).
            .filter(|b| !b.is_empty() && b.len() <= 70 && b.bytes().all(|c| c.is_ascii_graphic() || c == b' '))
            .ok_or(StreamProblem::NotMultipart)?;
        let mut delimiter = b"--".to_vec();
        delimiter.extend_from_slice(boundary.as_bytes());
        let alternative = (boundary.starts_with("--") && boundary.len() > 2).then(|| boundary.as_bytes().to_vec());
        Ok(FrameSplitter { delimiter, alternative, buffer: Vec::new(), limit, ended: false })
    }

    /// Whether the closing boundary was seen.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Takes the next bytes of the answer; returns the frames they completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<PreviewFrame>, StreamProblem> {
        let mut frames = Vec::new();
        if self.ended {
            return Ok(frames);
        }
        self.buffer.extend_from_slice(chunk);
        while let Some(frame) = self.next_frame()? {
            frames.push(frame);
        }
        // Headers of a few hundred bytes besides the frame itself.
        if self.buffer.len() > self.limit + 4096 {
            return Err(StreamProblem::TooLarge(self.limit));
        }
        Ok(frames)
    }

    fn next_frame(&mut self) -> Result<Option<PreviewFrame>, StreamProblem> {
        if self.ended {
            return Ok(None);
        }
        // Which delimiter the device uses is settled by the first one seen.
        let mut found = find(&self.buffer, &self.delimiter);
        if found.is_some() {
            self.alternative = None;
        } else if let Some(at) = self.alternative.as_ref().and_then(|alternative| find(&self.buffer, alternative)) {
            self.delimiter = self.alternative.take().unwrap_or_default();
            found = Some(at);
        }
        let Some(start) = found else {
            // Keep only a tail that could still begin a delimiter.
            let keep = self.delimiter.len().min(self.buffer.len());
            self.buffer.drain(..self.buffer.len() - keep);
            return Ok(None);
        };
        let after = start + self.delimiter.len();
        if self.buffer.len() < after + 2 {
            return Ok(None);
        }
        if &self.buffer[after..after + 2] == b"--" {
            self.ended = true;
            self.buffer.clear();
            return Ok(None);
        }
        let Some(headers_end) = find(&self.buffer[after..], b"\r\n\r\n").map(|i| after + i) else {
            if self.buffer.len() - after > 4096 {
                return Err(StreamProblem::BadHeaders);
            }
            return Ok(None);
        };
        let headers = std::str::from_utf8(&self.buffer[after..headers_end]).map_err(|_| StreamProblem::BadHeaders)?;
        let (mut mime, mut length) = (None, None);
        for line in headers.split("\r\n").map(str::trim).filter(|l| !l.is_empty()) {
            let (name, value) = line.split_once(':').ok_or(StreamProblem::BadHeaders)?;
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-type") {
                mime = Some(value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
            } else if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().map_err(|_| StreamProblem::BadHeaders)?);
            }
        }
        let body_start = headers_end + 4;
        let body_end = match length {
            Some(n) if n > self.limit => return Err(StreamProblem::TooLarge(self.limit)),
            Some(n) => {
                if self.buffer.len() < body_start + n {
                    return Ok(None);
                }
                body_start + n
            }
            // Without a length the frame runs up to the next delimiter's line break.
            None => {
                let mut marker = b"\r\n".to_vec();
                marker.extend_from_slice(&self.delimiter);
                match find(&self.buffer[body_start..], &marker) {
                    Some(i) => body_start + i,
                    None if self.buffer.len() - body_start > self.limit => {
                        return Err(StreamProblem::TooLarge(self.limit));
                    }
                    None => return Ok(None),
                }
            }
        };
        let bytes = self.buffer[body_start..body_end].to_vec();
        self.buffer.drain(..body_end);
        let mime = match mime.as_deref() {
            Some("image/jpeg") if bytes.starts_with(&[0xff, 0xd8, 0xff]) => "image/jpeg",
            Some("image/png") if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => "image/png",
            _ => return Err(StreamProblem::NotAnImage),
        };
        Ok(Some(PreviewFrame { mime, bytes }))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_ten_print_request_with_two_missing_fingers_uses_the_spec_names() {
        let r = capture_request(
            Modality::Finger,
            8,
            &[BioSubType::LeftLittle, BioSubType::RightThumb, BioSubType::LeftIris],
            "TX-1",
            40,
            "2",
            0,
        )
        .at("2026-05-01T09:00:00.000+08:00");
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["purpose"], "Registration");
        assert_eq!(v["specVersion"], "0.9.5");
        assert_eq!(v["timeout"], "10000");
        assert_eq!(v["captureTime"], "2026-05-01T09:00:00.000+08:00");
        assert_eq!(v["transactionId"], "TX-1");
        let bio = &v["bio"][0];
        assert_eq!(bio["type"], "Finger");
        assert_eq!(bio["count"], "8");
        assert_eq!(bio["requestedScore"], "40");
        assert_eq!(bio["deviceId"], "2");
        assert_eq!(bio["deviceSubId"], "0");
        assert_eq!(bio["previousHash"], FIRST_PREVIOUS_HASH);
        assert_eq!(bio["exception"], json!(["Left LittleFinger", "Right Thumb"]));
        let asked: Vec<&str> = bio["bioSubType"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(asked.len(), 8);
        assert!(asked.contains(&"Left IndexFinger") && asked.contains(&"Left Thumb"));
        assert!(!asked.contains(&"Right Thumb") && !asked.contains(&"Left LittleFinger"));
        let back: CaptureRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn face_iris_and_signature_requests() {
        let face = capture_request(Modality::Face, 1, &[BioSubType::RightIndex], "T", 50, "1", 0);
        let v = serde_json::to_value(&face).unwrap();
        assert!(v["bio"][0].get("bioSubType").is_none(), "a face has no bioSubType: {v}");
        assert_eq!(v["bio"][0]["exception"], json!(["Right IndexFinger"]));
        let iris = capture_request(Modality::Iris, 1, &[BioSubType::RightIris], "T", 50, "3", 3);
        assert_eq!(iris.bio[0].bio_sub_type, vec![BioSubType::LeftIris]);
        assert_eq!(serde_json::to_value(&iris).unwrap()["bio"][0]["exception"], json!(["Right"]));
        let sig = capture_request(Modality::Signature, 1, &[], "T", 0, "4", 0);
        let v = serde_json::to_value(&sig).unwrap();
        assert_eq!(v["bio"][0]["type"], "Signature");
        assert_eq!(v["bio"][0]["bioSubType"], json!(["UNKNOWN"]));
        let chained = sig.after("ABCD");
        assert_eq!(chained.bio[0].previous_hash, "ABCD");
    }

    #[test]
    fn requests_read_numbers_or_strings() {
        let v = json!({
            "env": "Staging", "purpose": "Registration", "specVersion": "0.9.5", "timeout": 30000,
            "captureTime": "2024-01-01T00:00:00Z", "transactionId": "x",
            "bio": [{"type": "Iris", "count": 2, "bioSubType": ["Left", "Right"], "exception": [],
                     "requestedScore": "40", "deviceId": "3", "deviceSubId": 3, "previousHash": ""}]
        });
        let r: CaptureRequest = serde_json::from_value(v).unwrap();
        assert_eq!(r.timeout, 30000);
        assert_eq!(r.bio[0].count, 2);
        assert_eq!(r.bio[0].requested_score, 40);
        assert_eq!(r.bio[0].bio_sub_type, BioSubType::IRISES.to_vec());
        let bad = json!({"type": "Iris", "count": "-1", "requestedScore": 40, "deviceId": "3", "deviceSubId": 0});
        assert!(serde_json::from_value::<BioRequest>(bad).is_err());
        let bad = json!({"type": "Palm", "count": 1, "requestedScore": 40, "deviceId": "3", "deviceSubId": 0});
        assert!(serde_json::from_value::<BioRequest>(bad).is_err());
    }

    #[test]
    fn positions_and_exception_reasons_round_trip() {
        for sub in BioSubType::ALL.into_iter().filter(|s| *s != BioSubType::Unknown) {
            assert_eq!(BioSubType::from_position(&sub.position()), Some(sub), "{sub:?}");
        }
        assert_eq!(BioSubType::LeftThumb.position(), "left_thumb");
        assert_eq!(BioSubType::RightIndex.position(), "right_indexfinger");
        assert_eq!(BioSubType::Unknown.position(), "");
        assert_eq!(BioSubType::from_position(""), None);
        assert_eq!(BioSubType::from_position("left thumb"), None);
        for r in ExceptionReason::ALL {
            assert_eq!(ExceptionReason::from_code(r.code()), Some(r));
        }
        assert_eq!(ExceptionReason::from_code("lost"), None);
    }

    #[test]
    fn discovery_and_info_answers_read_with_the_spec_names() {
        assert_eq!(
            serde_json::to_value(DiscoverRequest { kind: DeviceType::Any }).unwrap(),
            json!({"type": "Biometric Device"})
        );
        assert_eq!(
            serde_json::to_value(DiscoverRequest { kind: DeviceType::Finger }).unwrap(),
            json!({"type": "Finger"})
        );
        let answer = json!([{
            "deviceId": "2", "deviceStatus": "Not Ready", "certification": "L0", "serviceVersion": "1.0",
            "deviceSubId": ["1", 2, 3], "callbackId": "http://127.0.0.1:4501/", "digitalId": "eyJ9",
            "deviceCode": "SLAP000000000002", "specVersion": ["0.9.5"], "purpose": "Registration",
            "error": {"errorCode": "0", "errorInfo": "Success"}
        }, {
            "deviceId": "9", "deviceStatus": "Warming", "digitalId": "",
            "error": {"errorcode": 106, "errorinfo": "Device not found"}
        }]);
        let entries: Vec<DiscoveryEntry> = serde_json::from_value(answer).unwrap();
        assert_eq!(entries[0].device.device_status, DeviceStatus::NotReady);
        assert_eq!(entries[0].device.device_sub_id, vec![1, 2, 3]);
        assert!(entries[0].error.as_ref().unwrap().is_success());
        assert_eq!(entries[1].device.device_status, DeviceStatus::Unknown);
        let e = entries[1].error.as_ref().unwrap();
        assert_eq!(e.error_code, "106");
        assert!(!e.is_success());
        let v = serde_json::to_value(&entries[0]).unwrap();
        assert_eq!(v["deviceStatus"], "Not Ready");
        assert_eq!(v["deviceCode"], "SLAP000000000002");
        assert!(v.get("firmware").is_none());

        let info: Vec<InfoEntry> = serde_json::from_value(json!([{"deviceInfo": "a.b.c"}])).unwrap();
        assert_eq!(info[0].device_info, "a.b.c");
        assert_eq!(info[0].error, None);

        let id: DigitalId = serde_json::from_value(json!({
            "serialNo": "SLAP000000000002", "make": "Simpul", "model": "Sim", "type": "Finger",
            "deviceSubType": "Slap", "deviceProvider": "Simpul", "deviceProviderId": "simpul",
            "dateTime": "2026-01-01T00:00:00Z"
        }))
        .unwrap();
        assert_eq!(id.modality(), Some(Modality::Finger));
        assert_eq!(serde_json::to_value(&id).unwrap()["type"], "Finger");
    }

    #[test]
    fn capture_answers_and_payloads_read_with_the_spec_names() {
        let answer: CaptureResponse = serde_json::from_value(json!({"biometrics": [{
            "specVersion": "0.9.5", "data": "h.p.s", "hash": "AB",
            "error": {"errorCode": "0", "errorInfo": "Success"}
        }]}))
        .unwrap();
        assert_eq!(answer.biometrics[0].data, "h.p.s");
        let payload: CapturePayload = serde_json::from_value(json!({
            "digitalId": "h.p.s", "deviceCode": "X", "deviceServiceVersion": "1.0", "bioType": "Finger",
            "bioSubType": "Left Thumb", "purpose": "Registration", "env": "Production", "bioValue": "AAAA",
            "transactionId": "T", "timestamp": "2026-01-01T00:00:00Z", "requestedScore": "40",
            "qualityScore": 81.5
        }))
        .unwrap();
        assert_eq!(payload.bio_sub_type, BioSubType::LeftThumb);
        assert_eq!(payload.requested_score, 40.0);
        assert_eq!(payload.quality_score, 81.5);
        let v = serde_json::to_value(&payload).unwrap();
        assert_eq!(v["qualityScore"], "81.5");
        assert_eq!(v["bioSubType"], "Left Thumb");
        let face: CapturePayload = serde_json::from_value(json!({
            "digitalId": "h.p.s", "bioType": "Face", "bioSubType": "", "bioValue": "AAAA",
            "transactionId": "T", "qualityScore": "90"
        }))
        .unwrap();
        assert_eq!(face.bio_sub_type, BioSubType::Unknown);
        let no_sub: Value =
            json!({"digitalId": "x", "bioType": "Signature", "bioValue": "", "transactionId": "T", "qualityScore": 1});
        assert_eq!(serde_json::from_value::<CapturePayload>(no_sub).unwrap().bio_sub_type, BioSubType::Unknown);
        let bad: Value = json!({"digitalId": "x", "bioType": "Finger", "bioSubType": "Left Pinky", "bioValue": "", "transactionId": "T", "qualityScore": 1});
        assert!(serde_json::from_value::<CapturePayload>(bad).is_err());
    }

    #[test]
    fn a_capture_below_the_asked_quality_is_low() {
        assert!(low_quality(0) && low_quality(u64::from(REQUESTED_QUALITY) - 1));
        assert!(!low_quality(u64::from(REQUESTED_QUALITY)) && !low_quality(100));
        let plan = capture_plan(Modality::Face, "1", &[0], "t", &[]);
        assert_eq!(plan[0].bio[0].requested_score, REQUESTED_QUALITY);
    }

    #[test]
    fn eyes_for_missing_eyes() {
        let asked = |plan: &[CaptureRequest]| -> Vec<(u32, u32, Vec<BioSubType>, Vec<BioSubType>)> {
            plan.iter()
                .map(|r| {
                    let b = &r.bio[0];
                    (b.device_sub_id, b.count, b.bio_sub_type.clone(), b.exception.clone())
                })
                .collect()
        };
        let (l, r) = (BioSubType::LeftIris, BioSubType::RightIris);
        // A double-eye camera takes both in one request, or one with the other as its exception.
        assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[1, 2, 3], "t", &[])), vec![(3, 2, vec![l, r], vec![])]);
        assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[1, 2, 3], "t", &[r])), vec![(3, 1, vec![l], vec![r])]);
        assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[], "t", &[l])), vec![(0, 1, vec![r], vec![l])]);
        // Fingers left out of a finger capture do not touch the eyes.
        let fingers_missing = [BioSubType::LeftThumb, BioSubType::RightLittle];
        assert_eq!(
            asked(&capture_plan(Modality::Iris, "3", &[3], "t", &fingers_missing)),
            vec![(3, 2, vec![l, r], vec![])]
        );
        // Both missing: nothing to ask the camera.
        assert!(capture_plan(Modality::Iris, "3", &[1, 2, 3], "t", &[l, r]).is_empty());
        assert!(nothing_to_capture(Modality::Iris, &[r, l]) && !nothing_to_capture(Modality::Iris, &[r]));
        assert!(!nothing_to_capture(Modality::Finger, &[l, r]) && !nothing_to_capture(Modality::Face, &[]));
        // A camera with one sub-device per eye: one request per eye still wanted.
        assert_eq!(
            asked(&capture_plan(Modality::Iris, "3", &[1, 2], "t", &[])),
            vec![(1, 1, vec![l], vec![]), (2, 1, vec![r], vec![])]
        );
        assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[1, 2], "t", &[l])), vec![(2, 1, vec![r], vec![])]);
        assert_eq!(Modality::Iris.record_kind(), "iris");
        assert!(Modality::Iris.has_parts() && !Modality::Face.has_parts());
    }

    #[test]
    fn slaps_for_missing_fingers() {
        let plan = finger_slaps(&[BioSubType::LeftLittle, BioSubType::RightThumb]);
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[0], SlapPlan { sub_id: 1, count: 3, exceptions: vec![BioSubType::LeftLittle] });
        assert_eq!(plan[1], SlapPlan { sub_id: 2, count: 4, exceptions: vec![] });
        assert_eq!(plan[2], SlapPlan { sub_id: 3, count: 1, exceptions: vec![BioSubType::RightThumb] });
        let no_thumbs = finger_slaps(&[BioSubType::LeftThumb, BioSubType::RightThumb, BioSubType::LeftIris]);
        assert_eq!(no_thumbs.iter().map(|p| p.sub_id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(
            finger_exceptions(&[BioSubType::RightThumb, BioSubType::LeftIndex, BioSubType::RightIris]),
            vec![BioSubType::LeftIndex, BioSubType::RightThumb]
        );
        assert_eq!(BioSubType::of_sub_device(Modality::Face, 0), &[] as &[BioSubType]);
        for s in BioSubType::ALL {
            assert_eq!(BioSubType::from_name(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9];

    fn preview(frames: &[&[u8]], with_length: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for f in frames {
            out.extend_from_slice(b"--frame\r\nContent-Type: image/jpeg\r\n");
            if with_length {
                out.extend_from_slice(format!("Content-Length: {}\r\n", f.len()).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(f);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--frame--\r\n");
        out
    }

    fn split(bytes: &[u8], chunk: usize, limit: usize) -> Result<(Vec<PreviewFrame>, bool), StreamProblem> {
        let mut s = FrameSplitter::new("multipart/x-mixed-replace; boundary=\"frame\"", limit)?;
        let mut frames = Vec::new();
        for c in bytes.chunks(chunk.max(1)) {
            frames.extend(s.push(c)?);
        }
        Ok((frames, s.ended()))
    }

    #[test]
    fn preview_frames_come_out_whole_however_the_bytes_arrive() {
        // A frame that itself contains the boundary's text is cut by its length, not the text.
        let tricky = [JPEG, b"--frame\r\n", JPEG].concat();
        for with_length in [true, false] {
            let frames: Vec<&[u8]> = if with_length { vec![JPEG, &tricky, JPEG] } else { vec![JPEG, JPEG, JPEG] };
            let bytes = preview(&frames, with_length);
            for chunk in [1, 2, 3, 5, 8, 13, 64, bytes.len()] {
                let (got, ended) = split(&bytes, chunk, 1024).unwrap();
                assert!(ended, "chunk {chunk}");
                let got: Vec<&[u8]> = got.iter().map(|f| f.bytes.as_slice()).collect();
                assert_eq!(got, frames, "chunk {chunk}, length {with_length}");
            }
        }
    }

    #[test]
    fn preview_streams_that_are_not_images_or_too_big_are_refused() {
        assert_eq!(FrameSplitter::new("image/jpeg", 10).unwrap_err(), StreamProblem::NotMultipart);
        assert_eq!(FrameSplitter::new("multipart/x-mixed-replace", 10).unwrap_err(), StreamProblem::NotMultipart);
        assert!(FrameSplitter::new("Multipart/X-Mixed-Replace;boundary=--frame", 10).is_ok());
        // A boundary that begins with dashes, used as RFC 2046 says and as some devices do.
        let frame = |delimiter: &str| {
            let mut b = format!("{delimiter}\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes();
            b.extend_from_slice(JPEG);
            b.extend_from_slice(format!("\r\n{delimiter}--\r\n").as_bytes());
            b
        };
        for delimiter in ["----myboundary", "--myboundary"] {
            let mut s = FrameSplitter::new("multipart/x-mixed-replace; boundary=--myboundary", 1024).unwrap();
            let mut got = Vec::new();
            for c in frame(delimiter).chunks(3) {
                got.extend(s.push(c).unwrap());
            }
            assert_eq!(got.len(), 1, "{delimiter}");
            assert_eq!(got[0].bytes, JPEG);
            assert!(s.ended(), "{delimiter}");
        }
        let big = [JPEG, &[0u8; 2000][..]].concat();
        assert_eq!(split(&preview(&[&big], true), 7, 1024).unwrap_err(), StreamProblem::TooLarge(1024));
        assert_eq!(split(&preview(&[&big], false), 7, 1024).unwrap_err(), StreamProblem::TooLarge(1024));
        let mut endless = b"--frame\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
        endless.extend(std::iter::repeat_n(b'x', 10_000));
        assert_eq!(split(&endless, 512, 1024).unwrap_err(), StreamProblem::TooLarge(1024));
        let text = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\nhello\r\n".to_vec();
        assert_eq!(split(&text, 4, 1024).unwrap_err(), StreamProblem::NotAnImage);
        let bad = b"--frame\r\nContent-Length: many\r\n\r\n".to_vec();
        assert_eq!(split(&bad, 4, 1024).unwrap_err(), StreamProblem::BadHeaders);
        let headers = [b"--frame\r\n".to_vec(), vec![b'a'; 5000]].concat();
        assert_eq!(split(&headers, 100, 100_000).unwrap_err(), StreamProblem::BadHeaders);
    }

    proptest::proptest! {
        #[test]
        fn preview_splitting_never_panics_and_keeps_memory_bounded(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
            chunk in 1usize..300,
        ) {
            let mut s = FrameSplitter::new("multipart/x-mixed-replace; boundary=frame", 256).unwrap();
            for c in bytes.chunks(chunk) {
                if s.push(c).is_err() {
                    break;
                }
                proptest::prop_assert!(s.buffer.len() <= 256 + 4096);
            }
        }
    }
}
