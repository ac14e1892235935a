//! The messages: discovery, device information, capture and preview requests and answers,
//! and the signed payload of one capture.

use serde::{Deserialize, Serialize};

use crate::lenient;
use crate::model::{BioSubType, DeviceDescription, DeviceType, Modality, SbiError};

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
