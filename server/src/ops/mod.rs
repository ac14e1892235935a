//! Operating a box: backup and restore of its data directory, and the demo office a first
//! start creates.

pub mod backup;
pub mod demo;
