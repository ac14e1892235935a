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

use serde::{Deserialize, Serialize};
use simpul_sbi::{
    BioSubType, DeviceDescription, DeviceStatus, DigitalId, FrameSplitter, Modality, PreviewFrame, StreamProblem,
};

use crate::iso19794::{ImageEncoding, RecordKind};
use crate::scan::{ColorMode, ScannedPage};
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
    fn capture<'a>(&'a self, request: &'a simpul_sbi::CaptureRequest) -> Pending<'a, Vec<Captured>>;

    /// Starts the live preview of sub-device `sub_id` of `device_id` for at most `seconds`.
    fn preview<'a>(&'a self, device_id: &'a str, sub_id: u32, seconds: u32) -> Pending<'a, Preview>;
}

// ---------------------------------------------------------------------------------------------
// What the flows hand to devices and get from them.
// ---------------------------------------------------------------------------------------------

/// A queue ticket as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// Office name, on top.
    pub office: String,
    /// Service title.
    pub service: String,
    /// Ticket number, e.g. "A-014".
    pub number: String,
    /// Lane, in words ("Prioritas: lansia").
    pub lane: String,
    /// Issue time as printed ("22-11-2026 08:15 WITA").
    pub time: String,
    /// Text of the QR code (the ticket's reference).
    pub qr: String,
    /// Closing line ("Mohon menunggu panggilan").
    pub footer: String,
}

/// Width of an A4 page in 1/300 inch.
pub const A4_WIDTH: u32 = 2480;
/// Height of an A4 page in 1/300 inch.
pub const A4_HEIGHT: u32 = 3508;

/// Where the pages come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanSource {
    /// The feeder when the scanner has one and it holds paper, the glass otherwise.
    Auto,
    /// The glass: one page per job.
    Platen,
    /// The automatic document feeder: every page it holds.
    Adf,
}

/// The file format asked of the scanner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanFormat {
    /// One JPEG per page (every eSCL scanner offers it).
    Jpeg,
    /// One PDF per page.
    Pdf,
    /// One PNG per page (few scanners offer it).
    Png,
}

impl ScanFormat {
    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ScanFormat::Jpeg => "image/jpeg",
            ScanFormat::Pdf => "application/pdf",
            ScanFormat::Png => "image/png",
        }
    }
}

/// What to scan. Sizes are in 1/300 inch, as eSCL counts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRequest {
    /// Glass, feeder, or whichever holds the paper.
    pub source: ScanSource,
    /// Colour mode; one the scanner lacks is replaced by the nearest it offers.
    pub color: ColorMode,
    /// Resolution; one the scanner lacks is replaced by the nearest it offers.
    pub dpi: u32,
    /// File format; one the scanner lacks is `Unsupported`.
    pub format: ScanFormat,
    /// Width of the region from the top left corner, clamped to the scanner's range.
    pub width: u32,
    /// Height of the region, clamped to the scanner's range.
    pub height: u32,
}

impl Default for ScanRequest {
    /// An A4 page in colour at 300 dpi as JPEG, from the feeder when it holds paper.
    fn default() -> ScanRequest {
        ScanRequest {
            source: ScanSource::Auto,
            color: ColorMode::Rgb24,
            dpi: 300,
            format: ScanFormat::Jpeg,
            width: A4_WIDTH,
            height: A4_HEIGHT,
        }
    }
}

/// A device as its signed information describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device's id within its service.
    pub device_id: String,
    /// Its state.
    pub status: DeviceStatus,
    /// What it captures, if Simpul knows the type it names.
    pub modality: Option<Modality>,
    /// Its serial number, from the signed digital id.
    pub serial: String,
    /// SHA-256 (lower-case hex) of the public key that signed it: the identity the box pins.
    pub key_fingerprint: String,
    /// Its verified digital id.
    pub digital_id: DigitalId,
    /// The whole signed description.
    pub description: DeviceDescription,
}

/// One verified capture.
#[derive(Clone, PartialEq, Eq)]
pub struct Captured {
    /// What was captured.
    pub modality: Modality,
    /// Which finger or eye ([`BioSubType::Unknown`] for a face or a signature).
    pub sub_type: BioSubType,
    /// The quality reached, 0-100.
    pub quality: u8,
    /// The quality asked for, 0-100.
    pub requested: u8,
    /// What the device captured (decoded `bioValue`): a JPEG or PNG image, or an ISO/IEC 19794
    /// record (see [`Captured::record`]).
    pub image: Vec<u8>,
    /// `image/jpeg`, `image/png` or, for a record, [`BIOMETRIC_RECORD_MIME`], checked against
    /// the bytes.
    pub content_type: &'static str,
    /// What the ISO/IEC 19794 record holds, when the device sent one (as MOSIP devices do).
    pub record: Option<RecordSummary>,
    /// The serial number of the device, from its signed digital id.
    pub serial: String,
    /// SHA-256 (lower-case hex) of the key that signed the capture.
    pub key_fingerprint: String,
    /// A face photographed as the exception photo (the request named fingers or eyes that
    /// could not be captured). Always `false` from [`verify_capture`], which sees no request.
    pub exception: bool,
    /// The transaction the device says it captured for.
    pub transaction_id: String,
    /// When the device says it captured (its clock, ISO 8601).
    pub timestamp: String,
    /// The capture's `hash`, to chain the next request with [`CaptureRequest::after`] (not
    /// part of the signed data; `None` from [`verify_capture`]).
    pub hash: Option<String>,
}

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Captured")
            .field("modality", &self.modality)
            .field("sub_type", &self.sub_type)
            .field("quality", &self.quality)
            .field("requested", &self.requested)
            .field("image", &self.image.len())
            .field("content_type", &self.content_type)
            .field("record", &self.record)
            .field("serial", &self.serial)
            .field("key_fingerprint", &self.key_fingerprint)
            .field("exception", &self.exception)
            .field("transaction_id", &self.transaction_id)
            .finish()
    }
}

/// What a captured ISO/IEC 19794 record holds (its first representation).
#[derive(Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// Which part of the standard.
    pub kind: RecordKind,
    /// How its image is encoded.
    pub encoding: ImageEncoding,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// The image, with its MIME type, when a browser can show it (JPEG or PNG inside).
    pub picture: Option<(Vec<u8>, &'static str)>,
}

impl RecordSummary {
    /// "ISO/IEC 19794-4:2011, WSQ, 400 x 500".
    pub fn describe(&self) -> String {
        format!("{}, {}, {} x {}", self.kind.standard(), self.encoding.name(), self.width, self.height)
    }
}

impl std::fmt::Debug for RecordSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSummary")
            .field("kind", &self.kind)
            .field("encoding", &self.encoding)
            .field("size", &(self.width, self.height))
            .field("picture", &self.picture.as_ref().map(|(b, m)| (b.len(), *m)))
            .finish()
    }
}

/// Where a live preview's bytes come from: the device's stream, chunk by chunk (`None` at its
/// end).
pub trait PreviewSource: Send {
    /// The next chunk.
    fn chunk(&mut self) -> Pending<'_, Option<Vec<u8>>>;
}

/// A preview stream that cannot be read, as a device error.
pub(crate) fn stream_problem(p: &StreamProblem) -> DeviceError {
    match p {
        StreamProblem::TooLarge(n) => DeviceError::TooLarge(*n),
        other => DeviceError::Protocol(other.to_string()),
    }
}

/// A live preview being read: its frames as they come, each a JPEG or PNG of at most
/// `sbi::MAX_PREVIEW_FRAME_BYTES`, until the device ends the stream or the time asked for (and
/// `sbi::PREVIEW_GRACE`) is up.
/// Dropping it closes the connection, which stops the device streaming.
pub struct Preview {
    source: Box<dyn PreviewSource>,
    frames: FrameSplitter,
    ready: std::collections::VecDeque<PreviewFrame>,
    until: tokio::time::Instant,
    done: bool,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preview").field("ready", &self.ready.len()).field("done", &self.done).finish()
    }
}

impl Preview {
    /// A preview read from `source`, split by `frames`, read until `until` at the latest.
    pub fn new(source: Box<dyn PreviewSource>, frames: FrameSplitter, until: tokio::time::Instant) -> Preview {
        Preview { source, frames, ready: std::collections::VecDeque::new(), until, done: false }
    }

    /// The next frame; `None` once the stream ended or the time is up. After an error the
    /// preview is over.
    pub async fn next(&mut self) -> Option<Result<PreviewFrame, DeviceError>> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(Ok(frame));
            }
            if self.done || self.frames.ended() {
                return None;
            }
            let chunk = match tokio::time::timeout_at(self.until, self.source.chunk()).await {
                Err(_) | Ok(Ok(None)) => None,
                Ok(Ok(Some(chunk))) => Some(Ok(chunk)),
                Ok(Err(e)) => Some(Err(e)),
            };
            let outcome = match chunk {
                None => {
                    self.done = true;
                    return None;
                }
                Some(chunk) => chunk.and_then(|c| self.frames.push(&c).map_err(|p| stream_problem(&p))),
            };
            match outcome {
                Ok(frames) => self.ready.extend(frames),
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Boxes a device's answer.
pub(crate) fn pending<'a, T>(work: impl Future<Output = Result<T, DeviceError>> + Send + 'a) -> Pending<'a, T> {
    Box::pin(work)
}
