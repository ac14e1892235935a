//! What the office's flows need of each kind of device, whatever protocol it speaks.
//!
//! The print queue drives a [`Printer`], the kiosk a [`TicketPrinter`], the counter's scan a
//! [`Scanner`], biometric capture a [`BiometricService`], and the devices page asks any
//! [`Device`] for its [`Report`]. The server picks the driver for a configured device once
//! (IPP or ESC/POS, eSCL or SANE, SBI); nothing after that knows which protocol is behind it,
//! and tests drive the flows with devices of their own.
//!
//! The traits are object-safe (their futures are boxed) so that a driver chosen at run time
//! travels as a `Box<dyn Printer>`; a device answers in milliseconds to seconds, so the box
//! costs nothing that matters.

use std::future::Future;
use std::pin::Pin;

use crate::escl::ScanRequest;
use crate::escpos::Ticket;
use crate::sbi::{Captured, DeviceInfo};
use crate::scan::ScannedPage;
use crate::{Attention, DeviceError};

/// A device's answer, still to come.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Result<T, DeviceError>> + Send + 'a>>;

/// What a device says about itself when asked. The identity is the one it answered with: the
/// caller compares it with the one it pinned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// What stops it from working now (out of paper, offline, nothing plugged in).
    pub problems: Vec<Attention>,
    /// What warns without stopping it, as the device's keywords (`toner-low`, `paper_low`).
    pub warnings: Vec<String>,
    /// Make and model, as the device names itself.
    pub model: Option<String>,
    /// Supplies with their level in percent when known.
    pub supplies: Vec<(String, Option<u8>)>,
    /// The identity it answered with (a printer's or scanner's UUID; a biometric service's
    /// serial numbers with their keys).
    pub identity: Option<String>,
    /// SHA-256 of the TLS certificate it presented, for devices reached over TLS.
    pub certificate: Option<String>,
}

/// Any device the box drives.
pub trait Device: Send + Sync {
    /// Asks the device how it is.
    fn report(&self) -> Pending<'_, Report>;
}

/// A document to print.
#[derive(Clone, Copy, Debug)]
pub struct PrintJob<'a> {
    /// The document.
    pub document: &'a [u8],
    /// Its MIME type (`application/pdf`, or [`crate::escpos::FORMAT`] for a ticket printer).
    pub format: &'a str,
    /// The job's title, as the printer lists it.
    pub title: &'a str,
    /// Who asks, as the printer lists it.
    pub user: &'a str,
}

/// What became of a document handed to a printer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// Printed already (a ticket printer confirms once it has taken the job).
    Printed,
    /// Queued at the printer under this job id: follow it with [`Printer::follow`].
    Queued(i32),
}

/// How a job the printer queued is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Printed.
    Completed,
    /// Ended at the printer without printing (aborted, cancelled), with what the printer
    /// reports as the cause when it says.
    Ended(Option<Attention>),
    /// Still at the printer, with what holds it up, if anything.
    Printing(Option<Holdup>),
}

/// What holds up a job that is still at the printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holdup {
    /// Something a person must fix (paper, jam, cover).
    Attention(Attention),
    /// The printer stopped without naming a reason.
    Stopped,
    /// The printer did not say how it is.
    Unanswered(DeviceError),
}

/// A printer that takes documents into a queue (a document printer) or prints them at once (a
/// ticket printer).
pub trait Printer: Device {
    /// Hands a document to the printer. A printer that needs attention, or that is not the one
    /// expected at its address, is refused before anything is sent; one that does not take the
    /// document's format gets it converted when it can (PDF to PWG raster), else the error is
    /// [`DeviceError::Unsupported`].
    fn submit<'a>(&'a self, job: PrintJob<'a>) -> Pending<'a, Submitted>;

    /// How job `remote` (from [`Submitted::Queued`]) is doing.
    fn follow(&self, remote: i32) -> Pending<'_, Progress>;

    /// The printer's job named `name` sent by `user`, if it still holds one: whether a document
    /// whose hand-over was cut (a crash, a connection lost before the answer) arrived. A printer
    /// that cannot tell answers [`DeviceError::Unsupported`]; one that forgot its old jobs
    /// (restarted) answers none.
    fn find<'a>(&'a self, name: &'a str, user: &'a str) -> Pending<'a, Option<i32>> {
        let _ = (name, user);
        Box::pin(async { Err(DeviceError::Unsupported("this printer cannot list its jobs".into())) })
    }
}

/// A printer of queue tickets.
pub trait TicketPrinter: Device {
    /// Prints `ticket`; `Ok` only once the printer confirmed it.
    fn print_ticket<'a>(&'a self, ticket: &'a Ticket) -> Pending<'a, ()>;
}

/// A scanner.
pub trait Scanner: Device {
    /// Scans what `request` asks for (a colour mode or resolution it lacks replaced by the
    /// nearest it offers) and answers every page it gave.
    fn scan<'a>(&'a self, request: &'a ScanRequest) -> Pending<'a, Vec<ScannedPage>>;
}

/// A biometric device service: cameras, fingerprint and iris scanners, signature pads.
pub trait BiometricService: Device {
    /// The devices it offers, each with its verified identity.
    fn devices(&self) -> Pending<'_, Vec<DeviceInfo>>;

    /// Captures what `request` asks for; every capture is verified (signature, identity,
    /// transaction, what was asked for) before it is answered.
    fn capture<'a>(&'a self, request: &'a simpul_domain::sbi::CaptureRequest) -> Pending<'a, Vec<Captured>>;

    /// Starts the live preview of sub-device `sub_id` of `device_id` for at most `seconds`.
    fn preview<'a>(&'a self, device_id: &'a str, sub_id: u32, seconds: u32) -> Pending<'a, crate::sbi::Preview>;
}

/// Boxes a device's answer.
pub(crate) fn pending<'a, T>(work: impl Future<Output = Result<T, DeviceError>> + Send + 'a) -> Pending<'a, T> {
    Box::pin(work)
}
