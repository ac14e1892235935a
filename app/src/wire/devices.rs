//! Devices on the wire: the devices page, print and scan jobs, discovery, tests and printouts.

use serde::{Deserialize, Serialize};

/// The kinds of device, as the UI names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// Document printer (IPP).
    DocumentPrinter,
    /// Ticket printer (ESC/POS).
    TicketPrinter,
    /// Scanner (eSCL).
    Scanner,
    /// Biometric device service.
    Biometric,
}

impl DeviceClass {
    /// Every class, in the order forms list them.
    pub const ALL: [DeviceClass; 4] =
        [DeviceClass::DocumentPrinter, DeviceClass::TicketPrinter, DeviceClass::Scanner, DeviceClass::Biometric];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            DeviceClass::DocumentPrinter => "document_printer",
            DeviceClass::TicketPrinter => "ticket_printer",
            DeviceClass::Scanner => "scanner",
            DeviceClass::Biometric => "biometric",
        }
    }

    /// From the stable code.
    pub fn from_code(code: &str) -> Option<DeviceClass> {
        DeviceClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Whether jobs can be printed on it.
    pub fn prints(self) -> bool {
        matches!(self, DeviceClass::DocumentPrinter | DeviceClass::TicketPrinter)
    }
}

/// A configured device with what it said at its last check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    /// Id.
    pub id: String,
    /// Kind.
    pub class: DeviceClass,
    /// Name staff know it by.
    pub name: String,
    /// Address.
    pub address: String,
    /// Counter id that uses it (none: the whole office).
    pub counter: Option<String>,
    /// Whether it could work at its last check (none: never checked).
    pub ready: Option<bool>,
    /// What stopped it (device codes).
    pub problems: Vec<String>,
    /// What warns (as the device names it).
    pub warnings: Vec<String>,
    /// Make and model.
    pub model: Option<String>,
    /// Supplies and their level in percent when known.
    pub supplies: Vec<(String, Option<u8>)>,
    /// The pinned identity.
    pub identity: Option<String>,
    /// The SHA-256 fingerprint of its pinned TLS certificate (HTTPS devices), hex.
    pub certificate: Option<String>,
    /// Last check, local time.
    pub checked_at: Option<String>,
}

/// Where a print job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its printer (first try, or again after a problem).
    Queued,
    /// At the printer, being followed.
    Sent,
    /// Printed.
    Done,
    /// Given up; a re-print is an explicit action.
    Failed,
}

/// A print job as staff see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintJobView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Printer name.
    pub printer: String,
    /// State.
    pub state: JobState,
    /// The last problem (device code), while queued again or failed.
    pub problem: Option<String>,
    /// Tries so far.
    pub attempts: u32,
    /// Created, local time.
    pub at: String,
}

/// One scan of a checklist line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanJobView {
    /// Id.
    pub id: String,
    /// Checklist line.
    pub item: u32,
    /// Scanner name.
    pub scanner: String,
    /// "scanning", "done" or "failed".
    pub state: String,
    /// Why it failed (device code).
    pub problem: Option<String>,
    /// Pages scanned.
    pub pages: Option<u32>,
    /// Started, local time.
    pub at: String,
}

/// A counter a device can be given to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterChoice {
    /// Counter id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The devices page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicesView {
    /// Configured devices.
    pub devices: Vec<DeviceView>,
    /// Counters.
    pub counters: Vec<CounterChoice>,
    /// The newest print jobs.
    pub jobs: Vec<PrintJobView>,
}

/// A device found on the network or on the box, not configured yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundDevice {
    /// Kind.
    pub class: DeviceClass,
    /// Name it announces.
    pub name: String,
    /// Address to configure.
    pub address: String,
    /// How it was found ("mdns", "sbi").
    pub via: String,
}

/// What a search for devices found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoveryView {
    /// Devices not configured yet.
    pub found: Vec<FoundDevice>,
    /// Why the LAN could not be searched (a device error code), when it could not: only the
    /// box's own biometric services were then looked for.
    pub network_error: Option<String>,
}

/// The form that adds a device by hand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceForm {
    /// Kind.
    pub class: DeviceClass,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Counter id; empty: the whole office.
    pub counter: String,
}

/// What a test did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestOutcome {
    /// A test page was queued (job id); its state shows in the job list.
    Queued(String),
    /// A test scan or capture worked: what came back, in a line.
    Worked(String),
    /// The device could not do it (device code).
    Failed(String),
}

/// Which printout of an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Printout {
    /// Tanda terima / bukti pengambilan.
    Receipt,
    /// Rejection slip.
    ReturnSlip,
}
