//! Document printers over IPP (RFC 8011, IPP Everywhere): printer attributes and state,
//! Print-Job, Get-Job-Attributes. The encoding is the `ipp` crate's; HTTP is ours, so every
//! answer is read with a size bound and a timeout.

use std::io::Cursor;
use std::time::Duration;

use ipp::prelude::*;

use crate::driver::{Device, Holdup, Pending, PrintJob, Printer, Progress, Report, Submitted, pending};
use crate::limited::body;
use crate::tls::DeviceHttp;
use crate::{Attention, DeviceError};

/// Largest IPP answer accepted (attributes only; a printer's full set is about 20 KB).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// What the printer says of itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrinterInfo {
    /// `printer-make-and-model`.
    pub make_model: String,
    /// `printer-name`.
    pub name: String,
    /// `printer-uuid`, the printer's identity.
    pub uuid: Option<String>,
    /// `printer-state`: 3 idle, 4 processing, 5 stopped.
    pub state: i32,
    /// `printer-state-reasons`, as sent.
    pub reasons: Vec<String>,
    /// `document-format-supported`.
    pub formats: Vec<String>,
    /// Supplies: `marker-names` with `marker-levels` (percent, negative when unknown).
    pub supplies: Vec<(String, i32)>,
    /// What the printer takes as PWG raster, when it says (`pwg-raster-document-*`).
    pub raster: Option<RasterSupport>,
    /// `media-ready`: the sizes loaded now (`iso_a4_210x297mm`, `na_letter_8.5x11in`…).
    pub media_ready: Vec<String>,
}

/// What a printer takes as PWG raster (PWG 5102.4): needed to raster for a printer that takes
/// no PDF.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RasterSupport {
    /// `pwg-raster-document-resolution-supported`, the square ones in dots per inch (dots per
    /// centimetre converted), as listed.
    pub resolutions: Vec<u32>,
    /// `pwg-raster-document-type-supported`: `sgray_8`, `srgb_8`, `black_1`…
    pub types: Vec<String>,
    /// `pwg-raster-document-sheet-back` (`normal`, `flipped`, `rotated`, `manual-tumble`), for
    /// duplex; absent on simplex printers.
    pub sheet_back: Option<String>,
}

impl RasterSupport {
    /// The resolution to raster at: the highest listed at or below `preferred`, else the lowest
    /// listed; `None` when none is listed.
    pub fn resolution_for(&self, preferred: u32) -> Option<u32> {
        let at_most = self.resolutions.iter().copied().filter(|r| *r <= preferred).max();
        at_most.or_else(|| self.resolutions.iter().copied().min())
    }

    /// Whether the printer takes this raster type (`sgray_8` is what `pwg::encode` writes).
    pub fn takes(&self, kind: &str) -> bool {
        self.types.iter().any(|t| t.eq_ignore_ascii_case(kind))
    }
}

/// The resolution documents are rastered at when the printer allows it: text stays sharp and
/// an A4 page is about 8.7 MB of grey.
pub const RASTER_DPI: u32 = 300;

impl PrinterInfo {
    /// What stops the printer now, from its state reasons.
    pub fn attention(&self) -> Vec<Attention> {
        let mut out: Vec<Attention> = self.reasons.iter().filter_map(|r| attention_of(r)).collect();
        if self.state == 5 && out.is_empty() {
            out.push(Attention::Offline);
        }
        out.dedup();
        out
    }

    /// Reasons that warn without stopping (toner low, paper low).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .reasons
            .iter()
            .filter(|r| r.ends_with("-warning") || r.contains("-low"))
            .map(|r| base(r).to_string())
            .collect();
        // Receipts and slips are laid out on A4; on other paper they still print, scaled.
        if self.a4_ready() == Some(false) {
            warnings.push("no_a4".into());
        }
        warnings
    }

    /// Whether A4 paper is loaded: `None` when the printer does not say what is loaded.
    pub fn a4_ready(&self) -> Option<bool> {
        (!self.media_ready.is_empty()).then(|| self.media_ready.iter().any(|m| m.starts_with("iso_a4_")))
    }

    /// Whether the printer names this document format as supported. (A printer that lists
    /// only `application/octet-stream` guesses formats; it is not taken to accept PDF.)
    pub fn accepts(&self, format: &str) -> bool {
        self.formats.iter().any(|f| f.eq_ignore_ascii_case(format))
    }

    /// When this printer takes no PDF but takes PWG raster in 8-bit grey: the resolution to
    /// rasterise a PDF at (see `pwg::pdf_to_pwg`), the highest it lists up to [`RASTER_DPI`].
    /// `None` when it takes PDF, or cannot take the raster we make.
    pub fn raster_fallback(&self) -> Option<u32> {
        if self.accepts("application/pdf") || !self.accepts(crate::pwg::FORMAT) {
            return None;
        }
        let raster = self.raster.as_ref()?;
        if !raster.takes(crate::pwg::GREY_8) {
            return None;
        }
        raster.resolution_for(RASTER_DPI)
    }
}

fn base(reason: &str) -> &str {
    reason
        .strip_suffix("-error")
        .or_else(|| reason.strip_suffix("-warning"))
        .or_else(|| reason.strip_suffix("-report"))
        .unwrap_or(reason)
}

/// The attention a state reason calls for; warnings and reports call for none.
///
/// A `-report` of an empty tray, a jam, an open cover or an empty marker still counts: some
/// printers (ippeveprinter among them) report these so while not stopped, and the next job
/// would fail the same way.
pub fn attention_of(reason: &str) -> Option<Attention> {
    if reason.ends_with("-warning") {
        return None;
    }
    let found = match base(reason) {
        "none" => return None,
        "media-empty" | "media-needed" | "input-tray-missing" => Attention::MediaEmpty,
        "media-jam" | "output-area-full" => Attention::MediaJam,
        "cover-open" | "door-open" | "interlock-open" => Attention::CoverOpen,
        "toner-empty" | "marker-supply-empty" | "marker-waste-full" => Attention::MarkerEmpty,
        "offline" | "shutdown" | "paused" | "stopped-partly" | "timed-out" => Attention::Offline,
        "toner-low" | "media-low" | "marker-supply-low" | "moving-to-paused" | "connecting-to-device" => {
            return None;
        }
        other => Attention::Other(other.chars().take(60).collect()),
    };
    let physical =
        matches!(found, Attention::MediaEmpty | Attention::MediaJam | Attention::CoverOpen | Attention::MarkerEmpty);
    (physical || !reason.ends_with("-report")).then_some(found)
}

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting at the printer.
    Pending,
    /// Held at the printer.
    Held,
    /// Printing.
    Processing,
    /// Stopped (the printer needs attention).
    Stopped,
    /// Cancelled.
    Canceled,
    /// Aborted by the printer.
    Aborted,
    /// Printed.
    Completed,
}

impl JobState {
    fn from_ipp(v: i32) -> Option<JobState> {
        Some(match v {
            3 => JobState::Pending,
            4 => JobState::Held,
            5 => JobState::Processing,
            6 => JobState::Stopped,
            7 => JobState::Canceled,
            8 => JobState::Aborted,
            9 => JobState::Completed,
            _ => return None,
        })
    }

    /// No further change will come.
    pub fn is_final(self) -> bool {
        matches!(self, JobState::Canceled | JobState::Aborted | JobState::Completed)
    }
}

/// A job as the printer reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobStatus {
    /// State.
    pub state: JobState,
    /// `job-state-reasons`.
    pub reasons: Vec<String>,
}

/// An IPP printer at an `ipp://` (or `http://`) URI.
#[derive(Clone, Debug)]
pub struct IppPrinter {
    uri: Uri,
    http_url: String,
    http: DeviceHttp,
    timeout: Duration,
    expected: Option<String>,
}

impl IppPrinter {
    /// A printer at `uri`; each request bounded by `timeout`.
    pub fn new(uri: &str, timeout: Duration) -> Result<IppPrinter, DeviceError> {
        let parsed: Uri = uri.parse().map_err(|_| DeviceError::Protocol(format!("'{uri}' is not a printer URI")))?;
        let (scheme, default_port) = match parsed.scheme_str() {
            Some("ipp") | Some("http") => ("http", 631),
            // IPPS is IPP over TLS on IPP's own port (RFC 7472); https:// is plain HTTPS.
            Some("ipps") => ("https", 631),
            Some("https") => ("https", 443),
            _ => return Err(DeviceError::Protocol(format!("'{uri}' is not an ipp:// URI"))),
        };
        let authority = parsed.authority().ok_or_else(|| DeviceError::Protocol("the URI has no host".into()))?;
        let port = authority.port_u16().unwrap_or(default_port);
        let http_url = format!("{scheme}://{}:{port}{}", authority.host(), parsed.path());
        let http = DeviceHttp::new(timeout, None)?;
        Ok(IppPrinter { uri: parsed, http_url, http, timeout, expected: None })
    }

    /// Over IPPS, accepts only the certificate with this SHA-256 fingerprint (see
    /// [`crate::tls`]); another one is refused with `Identity` before a document is sent.
    pub fn with_certificate_pin(mut self, pin: &str) -> Result<IppPrinter, DeviceError> {
        self.http = DeviceHttp::new(self.timeout, Some(pin))?;
        Ok(self)
    }

    /// Sends documents only to the printer whose `printer-uuid` is `uuid`; another printer at
    /// this address is refused with `Identity` (see [`Printer::submit`]).
    pub fn expect_uuid(mut self, uuid: &str) -> IppPrinter {
        self.expected = Some(uuid.to_string());
        self
    }

    /// The fingerprint of the certificate the printer presented last (IPPS only).
    pub fn certificate(&self) -> Option<String> {
        self.http.certificate()
    }

    async fn send(
        &self,
        request: IppRequestResponse,
        document: Option<&[u8]>,
    ) -> Result<IppRequestResponse, DeviceError> {
        let mut bytes = request.to_bytes().to_vec();
        if let Some(doc) = document {
            bytes.extend_from_slice(doc);
        }
        let response = self
            .http
            .client()
            .post(&self.http_url)
            .header("content-type", "application/ipp")
            .body(bytes)
            .send()
            .await
            .map_err(|e| self.http.error(&e))?;
        if !response.status().is_success() {
            return Err(DeviceError::Protocol(format!("HTTP status {}", response.status().as_u16())));
        }
        let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !kind.starts_with("application/ipp") {
            return Err(DeviceError::Protocol(format!(
                "answer of type '{}', not application/ipp",
                kind.chars().take(60).collect::<String>()
            )));
        }
        let answer = body(response, MAX_ANSWER_BYTES).await?;
        let parsed = ipp::parser::IppParser::new(ipp::reader::IppReader::new(Cursor::new(answer)))
            .parse()
            .map_err(|e| DeviceError::Protocol(format!("not an IPP answer: {e}")))?;
        let status = parsed.header().status_code();
        if !status.is_success() {
            return Err(DeviceError::Protocol(format!("{REFUSED}: {status:?}")));
        }
        Ok(parsed)
    }

    fn request(&self, operation: Operation) -> Result<IppRequestResponse, DeviceError> {
        IppRequestResponse::new(IppVersion::v1_1(), operation, Some(self.uri.clone()))
            .map_err(|e| DeviceError::Protocol(e.to_string()))
    }

    /// The printer's attributes and state.
    pub async fn info(&self) -> Result<PrinterInfo, DeviceError> {
        let mut request = self.request(Operation::GetPrinterAttributes)?;
        let wanted = [
            "printer-make-and-model",
            "printer-name",
            "printer-uuid",
            "printer-state",
            "printer-state-reasons",
            "document-format-supported",
            "marker-names",
            "marker-levels",
            "pwg-raster-document-resolution-supported",
            "pwg-raster-document-type-supported",
            "pwg-raster-document-sheet-back",
            "media-ready",
        ];
        let values: Vec<IppValue> = wanted.iter().filter_map(|w| (*w).try_into().ok().map(IppValue::Keyword)).collect();
        request
            .attributes_mut()
            .add(DelimiterTag::OperationAttributes, attr("requested-attributes", IppValue::Array(values))?);
        let answer = self.send(request, None).await?;
        let group = answer
            .attributes()
            .first_of(DelimiterTag::PrinterAttributes)
            .ok_or_else(|| DeviceError::Protocol("no printer attributes in the answer".into()))?;
        let texts = |name: &str| group.get(name).map(|a| strings(a.value())).unwrap_or_default();
        let first = |name: &str| texts(name).into_iter().next().unwrap_or_default();
        let state = group.get("printer-state").and_then(|a| integer(a.value())).unwrap_or(0);
        let names = texts("marker-names");
        let levels: Vec<i32> = group.get("marker-levels").map(|a| integers(a.value())).unwrap_or_default();
        let resolutions: Vec<u32> =
            group.get("pwg-raster-document-resolution-supported").map(|a| square_dpi(a.value())).unwrap_or_default();
        let types = texts("pwg-raster-document-type-supported");
        let raster = (!resolutions.is_empty() || !types.is_empty()).then(|| RasterSupport {
            resolutions,
            types,
            sheet_back: texts("pwg-raster-document-sheet-back").into_iter().next(),
        });
        Ok(PrinterInfo {
            make_model: first("printer-make-and-model"),
            name: first("printer-name"),
            uuid: texts("printer-uuid").into_iter().next(),
            state,
            reasons: texts("printer-state-reasons"),
            formats: texts("document-format-supported"),
            supplies: names.into_iter().zip(levels).collect(),
            raster,
            media_ready: texts("media-ready"),
        })
    }

    /// Sends a document; returns the printer's job id.
    pub async fn print(&self, document: &[u8], format: &str, title: &str, user: &str) -> Result<i32, DeviceError> {
        let mut request = self.request(Operation::PrintJob)?;
        let ops = DelimiterTag::OperationAttributes;
        request.attributes_mut().add(ops, attr("requesting-user-name", name_value(user)?)?);
        request.attributes_mut().add(ops, attr("job-name", name_value(title)?)?);
        let mime = IppValue::MimeMediaType(format.try_into().map_err(|_| DeviceError::Protocol("format".into()))?);
        request.attributes_mut().add(ops, attr("document-format", mime)?);
        // Cut off or unanswered once the document went out, the printer may have taken it; an
        // answer, even a refusal, says what it did.
        let answer = self.send(request, Some(document)).await.map_err(|e| match e {
            DeviceError::Timeout | DeviceError::Dropped => e.after_sending(),
            other => other,
        })?;
        answer
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .and_then(|g| g.get("job-id"))
            .and_then(|a| integer(a.value()))
            .ok_or_else(|| DeviceError::Protocol("the printer named no job id".into()))
    }

    /// The newest job named `name` that `user` sent and the printer still lists (waiting,
    /// printing, or in its history of finished jobs).
    pub async fn job_named(&self, name: &str, user: &str) -> Result<Option<i32>, DeviceError> {
        let mut found = None;
        for which in ["not-completed", "completed"] {
            let mut request = self.request(Operation::GetJobs)?;
            let ops = DelimiterTag::OperationAttributes;
            request.attributes_mut().add(ops, attr("requesting-user-name", name_value(user)?)?);
            request.attributes_mut().add(ops, attr("which-jobs", keyword(which)?)?);
            request.attributes_mut().add(ops, attr("my-jobs", IppValue::Boolean(true))?);
            let wanted = IppValue::Array(vec![keyword("job-id")?, keyword("job-name")?]);
            request.attributes_mut().add(ops, attr("requested-attributes", wanted)?);
            let answer = self.send(request, None).await.map_err(|e| match e {
                // A printer without Get-Jobs (or without its history) cannot tell.
                DeviceError::Protocol(m) if m.starts_with(REFUSED) => DeviceError::Unsupported(m),
                other => other,
            })?;
            let clipped: String = name.chars().take(NAME_CHARS).collect();
            for group in answer.attributes().groups_of(DelimiterTag::JobAttributes) {
                let named = group.get("job-name").is_some_and(|a| strings(a.value()).first() == Some(&clipped));
                if let Some(id) = group.get("job-id").and_then(|a| integer(a.value())).filter(|_| named) {
                    found = found.max(Some(id));
                }
            }
        }
        Ok(found)
    }

    /// Where job `id` is.
    pub async fn job(&self, id: i32) -> Result<JobStatus, DeviceError> {
        let mut request = self.request(Operation::GetJobAttributes)?;
        request.attributes_mut().add(DelimiterTag::OperationAttributes, attr("job-id", IppValue::Integer(id))?);
        let answer = self.send(request, None).await?;
        let group = answer
            .attributes()
            .first_of(DelimiterTag::JobAttributes)
            .ok_or_else(|| DeviceError::Protocol("no job attributes in the answer".into()))?;
        let state = group
            .get("job-state")
            .and_then(|a| integer(a.value()))
            .and_then(JobState::from_ipp)
            .ok_or_else(|| DeviceError::Protocol("the job has no valid state".into()))?;
        let reasons = group.get("job-state-reasons").map(|a| strings(a.value())).unwrap_or_default();
        Ok(JobStatus { state, reasons })
    }
}

/// Longest rasterising a PDF for a printer without PDF may take.
pub const RASTER_TIMEOUT: Duration = Duration::from_secs(60);

impl Device for IppPrinter {
    fn report(&self) -> Pending<'_, Report> {
        pending(async move {
            let info = self.info().await?;
            Ok(Report {
                problems: info.attention(),
                warnings: info.warnings(),
                model: Some(info.make_model.clone()).filter(|m| !m.is_empty()),
                supplies: info
                    .supplies
                    .iter()
                    .map(|(name, level)| (name.clone(), u8::try_from(*level).ok().filter(|l| *l <= 100)))
                    .collect(),
                identity: info.uuid.clone(),
                certificate: self.certificate(),
            })
        })
    }
}

impl Printer for IppPrinter {
    fn submit<'a>(&'a self, job: PrintJob<'a>) -> Pending<'a, Submitted> {
        pending(async move {
            let info = self.info().await?;
            if let (Some(expected), Some(answered)) = (&self.expected, &info.uuid)
                && expected != answered
            {
                return Err(DeviceError::Identity(format!(
                    "another printer answers at this address ({})",
                    answered.chars().take(60).collect::<String>()
                )));
            }
            if let Some(reason) = info.attention().into_iter().next() {
                return Err(DeviceError::NeedsAttention(reason));
            }
            // A printer that takes no PDF gets PWG raster, made again on each try (it is cheap).
            let remote = if info.accepts(job.format) {
                self.print(job.document, job.format, job.title, job.user).await?
            } else if job.format == "application/pdf"
                && let Some(dpi) = info.raster_fallback()
            {
                let raster = crate::pwg::pdf_to_pwg(job.document, dpi, RASTER_TIMEOUT).await?;
                self.print(&raster, crate::pwg::FORMAT, job.title, job.user).await?
            } else {
                return Err(DeviceError::Unsupported(format!("the printer does not take {}", job.format)));
            };
            Ok(Submitted::Queued(remote))
        })
    }

    fn find<'a>(&'a self, name: &'a str, user: &'a str) -> Pending<'a, Option<i32>> {
        pending(self.job_named(name, user))
    }

    fn follow(&self, remote: i32) -> Pending<'_, Progress> {
        pending(async move {
            let status = self.job(remote).await?;
            if status.state == JobState::Completed {
                return Ok(Progress::Completed);
            }
            // What the printer says of itself tells why a job ended or waits.
            let attention = self.info().await.map(|info| info.attention().into_iter().next());
            Ok(if status.state.is_final() {
                Progress::Ended(attention.ok().flatten())
            } else {
                Progress::Printing(match attention {
                    Ok(Some(a)) => Some(Holdup::Attention(a)),
                    Err(e) => Some(Holdup::Unanswered(e)),
                    Ok(None) if status.state == JobState::Stopped => Some(Holdup::Stopped),
                    Ok(None) => None,
                })
            })
        })
    }
}

/// How an IPP error status begins in a [`DeviceError::Protocol`].
const REFUSED: &str = "the printer refused";

/// The most characters of a name (job, user) sent to a printer.
const NAME_CHARS: usize = 200;

fn name_value(s: &str) -> Result<IppValue, DeviceError> {
    let clipped: String = s.chars().take(NAME_CHARS).collect();
    Ok(IppValue::NameWithoutLanguage(clipped.try_into().map_err(|_| DeviceError::Protocol("name".into()))?))
}

fn keyword(s: &str) -> Result<IppValue, DeviceError> {
    Ok(IppValue::Keyword(s.try_into().map_err(|_| DeviceError::Protocol("keyword".into()))?))
}

fn attr(name: &str, value: IppValue) -> Result<IppAttribute, DeviceError> {
    IppAttribute::with_name(name, value).map_err(|e| DeviceError::Protocol(e.to_string()))
}

fn strings(value: &IppValue) -> Vec<String> {
    match value {
        IppValue::Array(items) => items.iter().flat_map(strings).collect(),
        IppValue::NoValue => Vec::new(),
        other => vec![other.to_string().chars().take(200).collect()],
    }
}

fn integer(value: &IppValue) -> Option<i32> {
    match value {
        IppValue::Integer(i) | IppValue::Enum(i) => Some(*i),
        IppValue::Array(items) => items.first().and_then(integer),
        _ => None,
    }
}

/// Square resolutions in dots per inch; units 3 are dots per inch, 4 dots per centimetre.
fn square_dpi(value: &IppValue) -> Vec<u32> {
    match value {
        IppValue::Array(items) => items.iter().flat_map(square_dpi).collect(),
        IppValue::Resolution { cross_feed, feed, units } if cross_feed == feed && *feed > 0 => {
            let v = *feed as u32;
            match units {
                3 => vec![v],
                4 => vec![(v * 254 + 50) / 100],
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

fn integers(value: &IppValue) -> Vec<i32> {
    match value {
        IppValue::Array(items) => items.iter().filter_map(integer).collect(),
        other => integer(other).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_reasons_become_what_staff_must_do() {
        assert_eq!(attention_of("media-empty-error"), Some(Attention::MediaEmpty));
        assert_eq!(attention_of("media-empty"), Some(Attention::MediaEmpty));
        assert_eq!(attention_of("media-jam-error"), Some(Attention::MediaJam));
        assert_eq!(attention_of("toner-low-warning"), None);
        assert_eq!(attention_of("toner-low"), None);
        assert_eq!(attention_of("toner-empty-error"), Some(Attention::MarkerEmpty));
        assert_eq!(attention_of("offline-report"), None);
        assert_eq!(attention_of("media-empty-report"), Some(Attention::MediaEmpty));
        assert_eq!(attention_of("offline"), Some(Attention::Offline));
        assert_eq!(attention_of("none"), None);
        assert_eq!(attention_of("fuser-over-temp-error"), Some(Attention::Other("fuser-over-temp".into())));
        let info = PrinterInfo { state: 5, reasons: vec!["none".into()], ..PrinterInfo::default() };
        assert_eq!(info.attention(), vec![Attention::Offline]);
        let letter = PrinterInfo { media_ready: vec!["na_letter_8.5x11in".into()], ..PrinterInfo::default() };
        assert_eq!((letter.a4_ready(), letter.warnings()), (Some(false), vec!["no_a4".to_string()]));
        let a4 = PrinterInfo {
            media_ready: vec!["na_letter_8.5x11in".into(), "iso_a4_210x297mm".into()],
            ..PrinterInfo::default()
        };
        assert_eq!((a4.a4_ready(), a4.warnings()), (Some(true), Vec::<String>::new()));
        assert_eq!(PrinterInfo::default().a4_ready(), None, "a printer that does not say is not warned about");
        let info = PrinterInfo { state: 3, reasons: vec!["toner-low-warning".into()], ..PrinterInfo::default() };
        assert!(info.attention().is_empty());
        assert_eq!(info.warnings(), vec!["toner-low".to_string()]);
    }

    #[test]
    fn raster_is_the_fallback_only_for_printers_without_pdf() {
        let res = |v: i32, units: i8| IppValue::Resolution { cross_feed: v, feed: v, units };
        let listed = IppValue::Array(vec![
            res(600, 3),
            res(118, 4),
            IppValue::Resolution { cross_feed: 600, feed: 1200, units: 3 },
            res(300, 3),
        ]);
        assert_eq!(square_dpi(&listed), [600, 300, 300]);
        let raster = RasterSupport {
            resolutions: vec![600, 1200],
            types: vec!["black_1".into(), "SGRAY_8".into()],
            sheet_back: None,
        };
        assert_eq!(raster.resolution_for(300), Some(600), "the lowest when none is at most 300");
        let mut info = PrinterInfo {
            formats: vec!["application/octet-stream".into(), "image/pwg-raster".into()],
            raster: Some(RasterSupport { resolutions: vec![150, 300, 600], ..raster.clone() }),
            ..PrinterInfo::default()
        };
        assert_eq!(info.raster_fallback(), Some(300));
        info.formats.push("application/pdf".into());
        assert_eq!(info.raster_fallback(), None, "PDF goes as it is");
        info.formats.pop();
        info.raster.as_mut().unwrap().types = vec!["srgb_8".into()];
        assert_eq!(info.raster_fallback(), None, "no grey raster");
        info.raster = None;
        assert_eq!(info.raster_fallback(), None);
    }

    #[test]
    fn printer_uris_map_to_http() {
        let p = IppPrinter::new("ipp://127.0.0.1:8631/ipp/print", Duration::from_secs(1)).unwrap();
        assert_eq!(p.http_url, "http://127.0.0.1:8631/ipp/print");
        let p = IppPrinter::new("ipps://printer.local/ipp/print", Duration::from_secs(1)).unwrap();
        assert_eq!(p.http_url, "https://printer.local:631/ipp/print");
        let p = IppPrinter::new("https://printer.local/ipp/print", Duration::from_secs(1)).unwrap();
        assert_eq!(p.http_url, "https://printer.local:443/ipp/print");
        assert!(IppPrinter::new("ftp://x/y", Duration::from_secs(1)).is_err());
        assert!(IppPrinter::new("not a uri", Duration::from_secs(1)).is_err());
    }
}
