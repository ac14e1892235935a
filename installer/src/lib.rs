//! Provisioning of an office box: the trust between boxes and their hub (the hub's CA, box
//! certificates, mutual-TLS configurations) and enrollment of a new box with its hub, both the
//! box's side and the hub's. Issue #8 adds the package, the service unit, `simpul setup` and
//! `simpul doctor` here.
//!
//! Architecture invariant: no HTTP server and no UI here; the server's sync listener and CLI
//! call these functions and present their answers.

#![forbid(unsafe_code)]

pub mod enrollment;
pub mod pki;
pub mod signing;
