//! Device simulators for demos and tests. Each one speaks the real protocol over a real socket,
//! with deterministic output, so the drivers in `simpul-hardware` never know they are talking
//! to a simulator: `escl` (an AirScan/eSCL scanner) and `sbi` (a biometric device service in
//! the style of MOSIP SBI, with a signature pad added the same way).
//!
//! Architecture invariant: no code shared with the drivers. A simulator is written from the
//! protocol, not from the driver, so that a misunderstanding in one cannot hide in the other.

#![forbid(unsafe_code)]

pub mod escl;
pub mod escpos;
pub mod sbi;
