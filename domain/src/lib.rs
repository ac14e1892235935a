//! The civil-registry model of Simpul: region codes, NIK, the service catalog, staff roles and
//! the rules around them.
//!
//! Architecture invariant: this crate does no I/O. No files, no sockets, no clock, no database:
//! whatever needs "now" takes it as an argument, whatever needs a list of region codes takes a
//! [`wilayah::RegionDirectory`]. It compiles to WASM so the browser can run the same checks.

#![forbid(unsafe_code)]

pub mod applicant;
pub mod application;
pub mod attachment;
pub mod auth;
pub mod calendar;
pub mod catalog;
pub mod nik;
pub mod office;
pub mod queue;
pub mod text;
pub mod wilayah;
pub mod zone;
