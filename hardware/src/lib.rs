//! Office devices: document printers (IPP), ticket printers (ESC/POS), scanners (eSCL, SANE)
//! and biometric capture (MOSIP SBI style), behind traits so that flows do not know which
//! device or protocol they talk to (see [`driver`]).
//!
//! Scanners: `escl` drives network scanners (AirScan/Mopria eSCL over HTTP), `sane` USB
//! scanners through SANE's `scanimage`, and `scan` holds what both share (colour modes, the
//! checked page) and the reduced grey copy of a page that goes to the hub.
//!
//! Biometrics: `sbi` drives device services in the style of MOSIP SBI (discovery, signed
//! device information, registration capture of face, fingerprints, iris and signature) and
//! checks captures a browser hands over; a device that cannot prove the identity pinned for it
//! is [`DeviceError::Identity`].
//!
//! Architecture invariant: drivers speak standard protocols and bound every read from a device;
//! a device error is a value, never a panic.

#![forbid(unsafe_code)]

pub mod discovery;
pub mod document;
pub mod driver;
pub mod escl;
pub mod escpos;
pub mod ipp;
pub mod iso19794;
mod limited;
pub mod pwg;
pub mod sane;
pub mod sbi;
pub mod scan;
pub mod tls;

use serde::{Deserialize, Serialize};

pub use simpul_domain::office::DeviceKind;

/// Something a device reports that a person must fix before it can work.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// Out of paper.
    MediaEmpty,
    /// Paper jammed.
    MediaJam,
    /// A cover or door is open.
    CoverOpen,
    /// Out of toner, ink or ribbon.
    MarkerEmpty,
    /// The device is offline or stopped.
    Offline,
    /// A device service offers no device: nothing is plugged in, or it is switched off.
    NoDevice,
    /// Another reason, as the device names it.
    Other(String),
}

impl Attention {
    /// Stable code, as stored and shown to staff through the UI's translations.
    pub fn code(&self) -> String {
        match self {
            Attention::MediaEmpty => "media_empty".into(),
            Attention::MediaJam => "media_jam".into(),
            Attention::CoverOpen => "cover_open".into(),
            Attention::MarkerEmpty => "marker_empty".into(),
            Attention::Offline => "offline".into(),
            Attention::NoDevice => "no_biometric_device".into(),
            Attention::Other(s) => format!("other:{s}"),
        }
    }
}

/// Why a device could not do what was asked, in terms staff can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Nothing answers at the device's address (refused, no route, no such host).
    #[error("the device does not answer")]
    Unreachable,
    /// The device took too long to answer.
    #[error("the device did not answer in time")]
    Timeout,
    /// The device is busy with another job (eSCL's `503`, SANE's "Device busy").
    #[error("the device is busy with another job")]
    Busy,
    /// The connection broke in the middle of a job.
    #[error("the connection to the device broke during the job")]
    Dropped,
    /// The device answered with something the protocol does not allow.
    #[error("the device answered in a way it should not: {0}")]
    Protocol(String),
    /// The device sent more than a sane answer holds.
    #[error("the device sent more than {0} bytes")]
    TooLarge(usize),
    /// The device reports a state that stops the job (out of paper, jammed, cover open).
    #[error("the device needs attention: {}", .0.code())]
    NeedsAttention(Attention),
    /// The device cannot take this document (format, size).
    #[error("the device cannot take this document: {0}")]
    Unsupported(String),
    /// The device cannot prove it is the device configured at this address: a signature that
    /// does not verify, or a valid one by another key or for another serial number than the
    /// pinned ones. Nothing is taken from it until an installer accepts the new identity.
    #[error("the device is not the one configured here: {0}")]
    Identity(String),
    /// Looking for devices on the network could not run (no multicast-capable interface, the
    /// mDNS port refused).
    #[error("network discovery could not run: {0}")]
    Discovery(String),
    /// A print failed after the document began to go out: the printer may hold it, or have
    /// printed it (part or whole). The code is the inner error's.
    #[error("{0} (after the document began to go out)")]
    AfterSending(Box<DeviceError>),
}

impl DeviceError {
    /// Stable code of the error, for job rows and the UI's translations.
    pub fn code(&self) -> String {
        match self {
            DeviceError::Unreachable => "unreachable".into(),
            DeviceError::Timeout => "timeout".into(),
            DeviceError::Busy => "busy".into(),
            DeviceError::Dropped => "dropped".into(),
            DeviceError::Protocol(_) => "protocol".into(),
            DeviceError::TooLarge(_) => "too_large".into(),
            DeviceError::NeedsAttention(a) => a.code(),
            DeviceError::Unsupported(_) => "unsupported".into(),
            DeviceError::Identity(_) => "identity".into(),
            DeviceError::Discovery(_) => "discovery".into(),
            DeviceError::AfterSending(inner) => inner.code(),
        }
    }

    /// This error, marked as happening once the document began to go out.
    pub fn after_sending(self) -> DeviceError {
        match self {
            DeviceError::AfterSending(_) => self,
            other => DeviceError::AfterSending(Box::new(other)),
        }
    }

    /// Whether trying again later can help (a device that is off or out of paper) or not (a
    /// document the device cannot take). An identity mismatch is retryable: like an empty tray it
    /// waits for a person (an installer accepting the replaced device), and a job that failed
    /// for good would be lost by then.
    pub fn retryable(&self) -> bool {
        match self {
            DeviceError::AfterSending(inner) => inner.retryable(),
            other => !matches!(other, DeviceError::Unsupported(_)),
        }
    }

    pub(crate) fn from_io(e: &std::io::Error) -> DeviceError {
        use std::io::ErrorKind::*;
        match e.kind() {
            TimedOut | WouldBlock => DeviceError::Timeout,
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => DeviceError::Dropped,
            _ => DeviceError::Unreachable,
        }
    }
}
