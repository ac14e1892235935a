//! The things the interface names: modalities, device types, fingers and eyes, a device's
//! state, errors, and a device's identity and description.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{SUCCESS_CODE, lenient};

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

    pub(crate) const ALL: [BioSubType; 13] = [
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
