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
//!
//! Architecture invariant: pure. No I/O, no clock, no randomness; it builds for WASM, where the
//! counter PC's browser speaks the same protocol.

#![forbid(unsafe_code)]

mod lenient;
mod messages;
mod model;
mod plan;
mod stream;
#[cfg(test)]
mod tests;

use std::ops::RangeInclusive;

pub use messages::*;
pub use model::*;
pub use plan::*;
pub use stream::*;

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
