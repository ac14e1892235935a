//! Replication over the network: the office box's client (sessions with the hub, file
//! transfers, pacing on slow links), the hub's mutual-TLS listener, the exchange both run inside
//! one storage transaction (`simpul_sync`'s session steps on `simpul_store`'s replica), the
//! hub's same-person rule across offices, and the watch on the hub link for the banner.

pub mod client;
pub mod exchange;
pub mod hub;
pub mod link;
pub mod sameperson;
pub mod status;
