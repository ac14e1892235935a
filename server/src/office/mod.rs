//! The office's use-cases, one module per area: applications through their lifecycle, the
//! day's queue, staff accounts and sessions, the signed receipt references and the papers the
//! office hands out. Each function is one unit of work inside the caller's transaction; the
//! rules come from `simpul_domain`, the rows from `simpul_store`.
//!
//! Architecture invariant: no SQL and no HTTP here (no `axum`); callers pass a
//! `simpul_store::Connection` and get typed answers or a typed refusal.

pub mod applications;
pub mod auth;
pub mod printouts;
pub mod queue;
pub mod receipts;
