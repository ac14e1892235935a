//! Office devices: document printers (IPP), ticket printers (ESC/POS), scanners (eSCL, SANE)
//! and biometric capture (MOSIP SBI style), behind traits so that flows do not know which
//! device or protocol they talk to.
//!
//! Architecture invariant: drivers speak standard protocols and bound every read from a device;
//! a device error is a value, never a panic. The drivers arrive with issue #5; until then the
//! UI says that printing, scanning and biometric capture are not available.

#![forbid(unsafe_code)]

pub mod document;

/// The kinds of device the box drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// A document printer reached over IPP (receipts, rejection slips, forms).
    DocumentPrinter,
    /// A thermal ticket printer reached over ESC/POS (queue tickets).
    TicketPrinter,
    /// A scanner reached over eSCL or SANE (requirement documents).
    Scanner,
    /// A biometric device service (photo, fingerprints, iris, signature).
    Biometric,
}

/// Why a device could not do what was asked, in terms staff can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// Nothing answers at the device's address.
    #[error("the device does not answer")]
    Unreachable,
    /// The device answered with something the protocol does not allow.
    #[error("the device answered in a way it should not: {0}")]
    Protocol(String),
    /// The device reports a state that stops the job (out of paper, jammed, cover open).
    #[error("the device reports a problem: {0}")]
    NeedsAttention(String),
}
