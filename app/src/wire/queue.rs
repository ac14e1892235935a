//! The queue on the wire: kiosk, tickets, counters and the waiting-room display.

use serde::{Deserialize, Serialize};

/// A service the kiosk offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskService {
    /// Catalog id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Letter of its normal lane.
    pub letter: String,
}

/// A queue ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    /// Id.
    pub id: String,
    /// "A-014".
    pub number: String,
    /// "normal" or the priority reason code.
    pub lane: String,
    /// Service id.
    pub service_id: String,
    /// Service title.
    pub service: String,
    /// State code.
    pub state: String,
    /// Counter it was called to.
    pub counter: Option<String>,
    /// Issue time "HH:MM".
    pub issued: String,
    /// Why the box's ticket printer did not print it (a device error code), if it tried.
    #[serde(default)]
    pub print_error: Option<String>,
}

/// The kiosk's start screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskView {
    /// Office name.
    pub office: String,
    /// Services to choose from.
    pub services: Vec<KioskService>,
}

/// A counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterView {
    /// Id ("L1").
    pub id: String,
    /// Name.
    pub name: String,
    /// Open.
    pub open: bool,
    /// Staff at it (display name).
    pub staff: Option<String>,
    /// Ticket called or served there.
    pub current: Option<TicketView>,
}

/// The counter page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterDesk {
    /// Every counter.
    pub counters: Vec<CounterView>,
    /// Waiting tickets.
    pub waiting: Vec<TicketView>,
    /// Services (for transfers).
    pub services: Vec<KioskService>,
    /// Today's tickets that did not come when called, to call again.
    #[serde(default)]
    pub no_shows: Vec<TicketView>,
}

/// The waiting-room display.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayView {
    /// Office name.
    pub office: String,
    /// Open counters and what they serve now.
    pub serving: Vec<(String, Option<String>)>,
    /// Last calls, newest first: (number, counter).
    pub last_called: Vec<(String, String)>,
    /// Waiting (normal, priority).
    pub waiting: (u32, u32),
    /// Grows with each call; a change means "chime".
    pub call_seq: i64,
}
