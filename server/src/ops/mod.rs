//! Operating a box: backup and restore of its data directory, the hub's CA in escrow, a data
//! subject's export, and the demo office a first start creates.

pub mod backup;
pub mod demo;
pub mod escrow;
pub mod subject;
