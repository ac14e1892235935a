//! An eSCL (AirScan/Mopria) scanner, written from the protocol: `ScannerCapabilities`,
//! `ScannerStatus`, `POST ScanJobs` with `ScanSettings` (answered `201` and a `Location`),
//! `GET {job}/NextDocument` once per page (`404` when the job has no more), `DELETE {job}`.
//!
//! Pages are drawn, not stored: an A4-proportioned sheet at the asked resolution and colour
//! mode with a frame, a header band, lines of "text", a round stamp and the page number as a
//! row of blocks; JPEG, or a one-page PDF embedding that JPEG. The same request gives the same
//! bytes. A platen job gives one page, a feeder job `adf_pages` pages.
//!
//! Faults are set at run time ([`EsclSim::set_fault`]). Those that break HTTP framing
//! (`EndlessDocument`, `DropMidDocument`, `HugeLength`) need [`serve`], which looks at each
//! connection's request before the router does and answers every request with
//! `Connection: close` so that each one arrives on a connection of its own.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const SCAN_NS: &str = "http://schemas.hp.com/imaging/escl/2011/05/03";
const PWG_NS: &str = "http://www.pwg.org/schemas/2010/12/sm";
/// Largest scan area, in 1/300 inch (8.5 in by A4's 11.69 in).
const MAX_WIDTH: u32 = 2550;
const MAX_HEIGHT: u32 = 3508;
const MIN_SIDE: u32 = 16;
/// What the `HugeLength` fault claims: a terabyte.
pub const HUGE_LENGTH: u64 = 1 << 40;

/// The simulated scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EsclSimConfig {
    /// `pwg:MakeAndModel`.
    pub make_and_model: String,
    /// `scan:UUID`.
    pub uuid: String,
    /// `pwg:SerialNumber`.
    pub serial: String,
    /// Pages in the feeder for each feeder job; 0 for a scanner with a glass only.
    pub adf_pages: u32,
    /// Resolutions offered.
    pub resolutions: Vec<u32>,
    /// Whether `application/pdf` is offered besides `image/jpeg`.
    pub pdf: bool,
}

impl Default for EsclSimConfig {
    fn default() -> EsclSimConfig {
        EsclSimConfig {
            make_and_model: "Simpul Sim eSCL".into(),
            uuid: "5c3b7b9e-2a0e-4a53-9f3c-7d0c1e8a4b21".into(),
            serial: "SIM-0001".into(),
            adf_pages: 3,
            resolutions: vec![75, 100, 150, 200, 300],
            pdf: true,
        }
    }
}

/// Misbehaviour the scanner can be told to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EsclFault {
    /// Busy with another job: the status says `Processing`, a new job gets `503`.
    Busy,
    /// The feeder is empty: the status says `ScannerAdfEmpty`, a feeder job gets `409`.
    AdfEmpty,
    /// The feeder jams after its first page: the next page gets `409` and from then on the
    /// status says `Stopped` and `ScannerAdfJam`.
    AdfJam,
    /// Capabilities and status are not XML.
    GarbageXml,
    /// A page is a JPEG start followed by bytes without end, with no length.
    EndlessDocument,
    /// A page comes as `text/html`.
    WrongContentType,
    /// A page's connection closes after half of its announced length.
    DropMidDocument,
    /// A page announces [`HUGE_LENGTH`] bytes.
    HugeLength,
    /// Pages are never answered.
    Silent,
}

impl EsclFault {
    /// Faults that only [`serve`] can show.
    fn breaks_framing(self) -> bool {
        matches!(self, EsclFault::EndlessDocument | EsclFault::DropMidDocument | EsclFault::HugeLength)
    }
}

/// A `ScanSettings` document as received, with the values the simulator read from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedSettings {
    /// The document as sent.
    pub raw: String,
    /// `pwg:InputSource` (`Platen`, `Feeder`).
    pub input_source: String,
    /// `scan:ColorMode`.
    pub color_mode: String,
    /// `scan:XResolution`.
    pub x_resolution: u32,
    /// `scan:YResolution` (the X value when absent).
    pub y_resolution: u32,
    /// `pwg:Width`, 1/300 inch.
    pub width: u32,
    /// `pwg:Height`, 1/300 inch.
    pub height: u32,
    /// `scan:DocumentFormatExt`, else `pwg:DocumentFormat`.
    pub document_format: String,
    /// `scan:Duplex`, when sent.
    pub duplex: Option<bool>,
}

struct Job {
    settings: ReceivedSettings,
    pages: u32,
    served: u32,
    canceled: bool,
}

#[derive(Default)]
struct Sim {
    fault: Option<EsclFault>,
    jammed: bool,
    jobs: HashMap<String, Job>,
    /// Job ids in creation order.
    order: Vec<String>,
    received: Vec<ReceivedSettings>,
    canceled: Vec<String>,
}

struct Shared {
    config: EsclSimConfig,
    sim: Mutex<Sim>,
}

/// A simulated eSCL scanner; clones share the same scanner.
#[derive(Clone)]
pub struct EsclSim {
    shared: Arc<Shared>,
}

impl EsclSim {
    /// A scanner as configured, with no fault.
    pub fn new(config: EsclSimConfig) -> EsclSim {
        EsclSim { shared: Arc::new(Shared { config, sim: Mutex::new(Sim::default()) }) }
    }

    /// The configuration.
    pub fn config(&self) -> &EsclSimConfig {
        &self.shared.config
    }

    fn lock(&self) -> MutexGuard<'_, Sim> {
        // A panic elsewhere while holding the lock leaves consistent data: keep going.
        self.shared.sim.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets or clears the fault; clearing also clears a jam.
    pub fn set_fault(&self, fault: Option<EsclFault>) {
        let mut sim = self.lock();
        sim.fault = fault;
        if fault != Some(EsclFault::AdfJam) {
            sim.jammed = false;
        }
    }

    /// Every `ScanSettings` received, in order (refused ones included).
    pub fn received(&self) -> Vec<ReceivedSettings> {
        self.lock().received.clone()
    }

    /// Ids of the jobs cancelled with `DELETE`, in order.
    pub fn canceled(&self) -> Vec<String> {
        self.lock().canceled.clone()
    }

    /// Ids of the jobs created, in order.
    pub fn jobs(&self) -> Vec<String> {
        self.lock().order.clone()
    }

    /// The `ScannerCapabilities` document.
    pub fn capabilities_xml(&self) -> String {
        let config = &self.shared.config;
        let mut formats = String::new();
        let mut offered = vec!["image/jpeg"];
        if config.pdf {
            offered.push("application/pdf");
        }
        for f in &offered {
            formats.push_str(&format!("<pwg:DocumentFormat>{f}</pwg:DocumentFormat>"));
        }
        for f in &offered {
            formats.push_str(&format!("<scan:DocumentFormatExt>{f}</scan:DocumentFormatExt>"));
        }
        let resolutions: String = config
            .resolutions
            .iter()
            .map(|r| {
                format!(
                    "<scan:DiscreteResolution><scan:XResolution>{r}</scan:XResolution><scan:YResolution>{r}</scan:YResolution></scan:DiscreteResolution>"
                )
            })
            .collect();
        let input = |name: &str| {
            format!(
                "<scan:{name}><scan:MinWidth>{MIN_SIDE}</scan:MinWidth><scan:MaxWidth>{MAX_WIDTH}</scan:MaxWidth>\
<scan:MinHeight>{MIN_SIDE}</scan:MinHeight><scan:MaxHeight>{MAX_HEIGHT}</scan:MaxHeight><scan:MaxScanRegions>1</scan:MaxScanRegions>\
<scan:SettingProfiles><scan:SettingProfile><scan:ColorModes><scan:ColorMode>BlackAndWhite1</scan:ColorMode>\
<scan:ColorMode>Grayscale8</scan:ColorMode><scan:ColorMode>RGB24</scan:ColorMode></scan:ColorModes>\
<scan:DocumentFormats>{formats}</scan:DocumentFormats><scan:SupportedResolutions><scan:DiscreteResolutions>{resolutions}\
</scan:DiscreteResolutions></scan:SupportedResolutions></scan:SettingProfile></scan:SettingProfiles>\
<scan:SupportedIntents><scan:Intent>Document</scan:Intent><scan:Intent>Photo</scan:Intent></scan:SupportedIntents></scan:{name}>\n"
            )
        };
        let adf = if config.adf_pages > 0 {
            format!(
                "  <scan:Adf>{}<scan:FeederCapacity>50</scan:FeederCapacity><scan:AdfOptions><scan:AdfOption>DetectPaperLoaded</scan:AdfOption></scan:AdfOptions></scan:Adf>\n",
                input("AdfSimplexInputCaps")
            )
        } else {
            String::new()
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerCapabilities xmlns:scan="{SCAN_NS}" xmlns:pwg="{PWG_NS}">
  <pwg:Version>2.63</pwg:Version>
  <pwg:MakeAndModel>{model}</pwg:MakeAndModel>
  <pwg:SerialNumber>{serial}</pwg:SerialNumber>
  <scan:UUID>{uuid}</scan:UUID>
  <scan:AdminURI>/</scan:AdminURI>
  <scan:Platen>{platen}</scan:Platen>
{adf}</scan:ScannerCapabilities>
"#,
            model = escape(&config.make_and_model),
            serial = escape(&config.serial),
            uuid = escape(&config.uuid),
            platen = input("PlatenInputCaps"),
        )
    }

    /// The `ScannerStatus` document.
    pub fn status_xml(&self) -> String {
        let sim = self.lock();
        let busy = sim.fault == Some(EsclFault::Busy);
        let state = if sim.jammed {
            "Stopped"
        } else if busy {
            "Processing"
        } else {
            "Idle"
        };
        let adf = if self.shared.config.adf_pages == 0 {
            String::new()
        } else {
            let value = if sim.jammed {
                "ScannerAdfJam"
            } else if sim.fault == Some(EsclFault::AdfEmpty) {
                "ScannerAdfEmpty"
            } else {
                "ScannerAdfLoaded"
            };
            format!("\n  <scan:AdfState>{value}</scan:AdfState>")
        };
        let jobs: String = sim
            .order
            .iter()
            .filter_map(|id| sim.jobs.get(id).map(|job| (id, job)))
            .map(|(id, job)| {
                let state = if job.canceled {
                    "Canceled"
                } else if job.served >= job.pages {
                    "Completed"
                } else {
                    "Processing"
                };
                format!(
                    "<scan:JobInfo><pwg:JobUri>/eSCL/ScanJobs/{id}</pwg:JobUri><pwg:JobUuid>{id}</pwg:JobUuid>\
<pwg:ImagesCompleted>{done}</pwg:ImagesCompleted><pwg:ImagesToTransfer>{left}</pwg:ImagesToTransfer>\
<pwg:JobState>{state}</pwg:JobState></scan:JobInfo>",
                    done = job.served,
                    left = job.pages - job.served.min(job.pages),
                )
            })
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<scan:ScannerStatus xmlns:scan="{SCAN_NS}" xmlns:pwg="{PWG_NS}">
  <pwg:Version>2.63</pwg:Version>
  <pwg:State>{state}</pwg:State>{adf}
  <scan:Jobs>{jobs}</scan:Jobs>
</scan:ScannerStatus>
"#
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The text of the first element named `local` (any prefix), trimmed. Enough for the flat
/// `ScanSettings` document; not a general XML reader.
fn element<'a>(xml: &'a str, local: &str) -> Option<&'a str> {
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
        let name_local = name.rsplit(':').next().unwrap_or(name);
        rest = &rest[end + 1..];
        if !tag.starts_with(['/', '?', '!']) && name_local == local {
            if tag.ends_with('/') {
                return Some("");
            }
            return Some(rest[..rest.find('<')?].trim());
        }
    }
    None
}

fn read_settings(raw: &str) -> Result<ReceivedSettings, String> {
    if element(raw, "ScanSettings").is_none() {
        return Err("not a ScanSettings document".into());
    }
    let number = |name: &str| -> Result<Option<u32>, String> {
        element(raw, name).map(|v| v.parse().map_err(|_| format!("{name} is not a number"))).transpose()
    };
    let x_resolution = number("XResolution")?.ok_or("no XResolution")?;
    Ok(ReceivedSettings {
        raw: raw.to_string(),
        input_source: element(raw, "InputSource").unwrap_or("Platen").to_string(),
        color_mode: element(raw, "ColorMode").unwrap_or("RGB24").to_string(),
        x_resolution,
        y_resolution: number("YResolution")?.unwrap_or(x_resolution),
        width: number("Width")?.unwrap_or(MAX_WIDTH),
        height: number("Height")?.unwrap_or(MAX_HEIGHT),
        document_format: element(raw, "DocumentFormatExt")
            .or_else(|| element(raw, "DocumentFormat"))
            .unwrap_or("image/jpeg")
            .to_string(),
        duplex: element(raw, "Duplex").map(|d| d == "true" || d == "1"),
    })
}

/// Why settings cannot be scanned, if they cannot.
fn refusal(config: &EsclSimConfig, s: &ReceivedSettings) -> Option<String> {
    if !matches!(s.input_source.as_str(), "Platen" | "Feeder") {
        return Some(format!("no input source {}", s.input_source));
    }
    if !matches!(s.color_mode.as_str(), "RGB24" | "Grayscale8" | "BlackAndWhite1") {
        return Some(format!("no colour mode {}", s.color_mode));
    }
    if s.x_resolution != s.y_resolution || !config.resolutions.contains(&s.x_resolution) {
        return Some(format!("no resolution {}x{}", s.x_resolution, s.y_resolution));
    }
    let pdf = config.pdf && s.document_format == "application/pdf";
    if s.document_format != "image/jpeg" && !pdf {
        return Some(format!("no format {}", s.document_format));
    }
    if !(MIN_SIDE..=MAX_WIDTH).contains(&s.width) || !(MIN_SIDE..=MAX_HEIGHT).contains(&s.height) {
        return Some(format!("region {}x{} outside the glass", s.width, s.height));
    }
    None
}

fn xml_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

const GARBAGE: &str = "<scan:ScannerCapabilities><<this is not & xml";

async fn capabilities(State(sim): State<EsclSim>) -> Response {
    if sim.lock().fault == Some(EsclFault::GarbageXml) {
        return xml_response(GARBAGE.into());
    }
    xml_response(sim.capabilities_xml())
}

async fn status(State(sim): State<EsclSim>) -> Response {
    if sim.lock().fault == Some(EsclFault::GarbageXml) {
        return xml_response(GARBAGE.into());
    }
    xml_response(sim.status_xml())
}

async fn create_job(State(sim): State<EsclSim>, headers: HeaderMap, body: String) -> Response {
    let settings = match read_settings(&body) {
        Ok(s) => s,
        Err(reason) => return (StatusCode::BAD_REQUEST, reason).into_response(),
    };
    let mut state = sim.lock();
    state.received.push(settings.clone());
    if state.fault == Some(EsclFault::Busy) {
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "2")], "busy").into_response();
    }
    if let Some(reason) = refusal(&sim.shared.config, &settings) {
        return (StatusCode::BAD_REQUEST, reason).into_response();
    }
    let feeder = settings.input_source == "Feeder";
    if feeder {
        let adf_pages = sim.shared.config.adf_pages;
        if adf_pages == 0 || state.fault == Some(EsclFault::AdfEmpty) || state.jammed {
            return (StatusCode::CONFLICT, "the feeder cannot scan").into_response();
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    let pages = if feeder { sim.shared.config.adf_pages } else { 1 };
    state.jobs.insert(id.clone(), Job { settings, pages, served: 0, canceled: false });
    state.order.push(id.clone());
    // An absolute URL, as most scanners send it, when the request said which host it asked.
    let location = match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}/eSCL/ScanJobs/{id}"),
        None => format!("/eSCL/ScanJobs/{id}"),
    };
    let location = HeaderValue::from_str(&location).unwrap_or_else(|_| HeaderValue::from_static("/eSCL/ScanJobs"));
    (StatusCode::CREATED, [(header::LOCATION, location)]).into_response()
}

/// What a `NextDocument` request gets, decided under the lock.
enum Next {
    Page(ReceivedSettings, u32),
    Status(StatusCode),
    WrongType,
    Silent,
}

fn next_for(sim: &EsclSim, id: &str) -> Next {
    let mut state = sim.lock();
    let fault = state.fault;
    if fault == Some(EsclFault::Silent) {
        return Next::Silent;
    }
    let Some(job) = state.jobs.get_mut(id) else {
        return Next::Status(StatusCode::NOT_FOUND);
    };
    if job.canceled || job.served >= job.pages {
        return Next::Status(StatusCode::NOT_FOUND);
    }
    if fault == Some(EsclFault::AdfJam) && job.settings.input_source == "Feeder" && job.served >= 1 {
        job.canceled = true;
        state.jammed = true;
        return Next::Status(StatusCode::CONFLICT);
    }
    if fault == Some(EsclFault::WrongContentType) {
        job.served += 1;
        return Next::WrongType;
    }
    if fault.is_some_and(EsclFault::breaks_framing) {
        return Next::Status(StatusCode::INTERNAL_SERVER_ERROR);
    }
    job.served += 1;
    Next::Page(job.settings.clone(), job.served)
}

async fn next_document(State(sim): State<EsclSim>, Path(id): Path<String>) -> Response {
    match next_for(&sim, &id) {
        Next::Silent => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Next::Status(code) => code.into_response(),
        Next::WrongType => {
            ([(header::CONTENT_TYPE, "text/html")], "<html><body>Scanner web page</body></html>").into_response()
        }
        Next::Page(settings, number) => match tokio::task::spawn_blocking(move || page(&settings, number)).await {
            Ok(Ok((kind, bytes))) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
            Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    }
}

async fn cancel_job(State(sim): State<EsclSim>, Path(id): Path<String>) -> StatusCode {
    let mut state = sim.lock();
    match state.jobs.get_mut(&id) {
        Some(job) => {
            job.canceled = true;
            state.canceled.push(id);
            StatusCode::OK
        }
        None => StatusCode::NOT_FOUND,
    }
}

async fn close_connection(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The scanner's HTTP interface under `/eSCL`.
pub fn router(sim: EsclSim) -> Router {
    Router::new()
        .route("/eSCL/ScannerCapabilities", get(capabilities))
        .route("/eSCL/ScannerStatus", get(status))
        .route("/eSCL/ScanJobs", axum::routing::post(create_job))
        .route("/eSCL/ScanJobs/{id}/NextDocument", get(next_document))
        .route("/eSCL/ScanJobs/{id}", axum::routing::delete(cancel_job))
        .with_state(sim)
        .layer(axum::middleware::map_response(close_connection))
}

/// Page `number` of a job with these settings: `(content type, bytes)`. Deterministic.
pub fn page(settings: &ReceivedSettings, number: u32) -> Result<(&'static str, Vec<u8>), String> {
    let width = (u64::from(settings.width) * u64::from(settings.x_resolution) / 300).clamp(1, 20_000) as u32;
    let height = (u64::from(settings.height) * u64::from(settings.y_resolution) / 300).clamp(1, 20_000) as u32;
    let sheet = DynamicImage::ImageRgb8(draw(width, height, number));
    let image = match settings.color_mode.as_str() {
        "RGB24" => sheet,
        "Grayscale8" => DynamicImage::ImageLuma8(sheet.into_luma8()),
        _ => {
            let mut grey = sheet.into_luma8();
            grey.pixels_mut().for_each(|p| p.0[0] = if p.0[0] < 160 { 0 } else { 255 });
            DynamicImage::ImageLuma8(grey)
        }
    };
    let mut jpeg = Vec::new();
    image.write_with_encoder(JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 85)).map_err(|e| e.to_string())?;
    if settings.document_format == "application/pdf" {
        let grey = !matches!(image, DynamicImage::ImageRgb8(_));
        Ok(("application/pdf", pdf(&jpeg, width, height, settings.x_resolution, grey)))
    } else {
        Ok(("image/jpeg", jpeg))
    }
}

/// The sheet: frame, header band, "text" lines, a round stamp, and `number` blocks in a row
/// at the bottom left.
fn draw(width: u32, height: u32, number: u32) -> RgbImage {
    let w = i64::from(width);
    let h = i64::from(height);
    let margin = (w / 20).max(2);
    let line = (w / 300).max(1);
    let block = (w / 24).max(2);
    let (cx, cy, r) = (w * 3 / 4, h * 3 / 4, (w / 8).max(2));
    RgbImage::from_fn(width, height, |x, y| {
        let (x, y) = (i64::from(x), i64::from(y));
        let inside = x >= margin && x < w - margin && y >= margin && y < h - margin;
        let frame =
            inside && (x < margin + line || x >= w - margin - line || y < margin + line || y >= h - margin - line);
        let band = inside && y < margin + h / 12;
        let text_top = margin + h / 12 + h / 40;
        let text = inside
            && y > text_top
            && y < h / 2
            && (y - text_top) % (h / 40).max(3) < (h / 120).max(1)
            && x > margin * 2
            && x < w - margin * 2
            && (x / (w / 30).max(1)) % 5 != 4;
        let d2 = (x - cx).pow(2) + (y - cy).pow(2);
        let ring = d2 <= r * r && d2 >= (r - line * 3).pow(2);
        let row = h - margin * 2 - block;
        let k = (x - margin * 2) / (block + block / 2);
        let in_block = y >= row
            && y < row + block
            && x >= margin * 2
            && k < i64::from(number)
            && (x - margin * 2) % (block + block / 2) < block;
        if frame || in_block {
            Rgb([20, 20, 20])
        } else if band {
            Rgb([30, 60, 140])
        } else if ring {
            Rgb([190, 30, 40])
        } else if text {
            Rgb([60, 60, 60])
        } else {
            Rgb([250, 250, 246])
        }
    })
}

/// A one-page PDF showing `jpeg` (DCTDecode) at its size for `dpi`.
fn pdf(jpeg: &[u8], width: u32, height: u32, dpi: u32, grey: bool) -> Vec<u8> {
    let points = |px: u32| f64::from(px) * 72.0 / f64::from(dpi.max(1));
    let (pw, ph) = (points(width), points(height));
    let space = if grey { "/DeviceGray" } else { "/DeviceRGB" };
    let content = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im0 Do Q\n");
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>"
        )
        .as_bytes(),
    );
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {space} /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
        jpeg.len()
    )
    .into_bytes();
    image.extend_from_slice(jpeg);
    image.extend_from_slice(b"\nendstream");
    object(&mut out, &image);
    let mut contents = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    contents.extend_from_slice(content.as_bytes());
    contents.extend_from_slice(b"endstream");
    object(&mut out, &contents);
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for offset in &offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes(),
    );
    out
}

/// A connection handed to the router with the bytes already read from it put back in front.
struct Replayed {
    head: Vec<u8>,
    at: usize,
    stream: TcpStream,
}

impl AsyncRead for Replayed {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        if self.at < self.head.len() {
            let n = buf.remaining().min(self.head.len() - self.at);
            let at = self.at;
            buf.put_slice(&self.head[at..at + n]);
            self.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Replayed {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Connections that passed the look at their request, for the router.
struct Handed {
    connections: mpsc::Receiver<(Replayed, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Handed {
    type Io = Replayed;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Replayed, SocketAddr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Reads up to the end of the request head (bounded), then answers a page request itself when
/// a framing fault is set; otherwise gives the connection back for the router.
async fn triage(mut stream: TcpStream, sim: &EsclSim) -> Option<Replayed> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buffer[..n]),
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), read_head).await.is_err() || head.is_empty() {
        return None;
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, path) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let path = path.split('?').next().unwrap_or_default();
    let job = path.strip_prefix("/eSCL/ScanJobs/").and_then(|p| p.strip_suffix("/NextDocument"));
    let fault = sim.lock().fault.filter(|f| f.breaks_framing());
    match (method, job, fault) {
        ("GET", Some(job), Some(fault)) => {
            raw_page(stream, sim, job, fault).await;
            None
        }
        _ => Some(Replayed { head, at: 0, stream }),
    }
}

/// A page answer that breaks HTTP framing, written by hand.
async fn raw_page(mut stream: TcpStream, sim: &EsclSim, job: &str, fault: EsclFault) {
    let settings = sim.lock().jobs.get(job).map(|j| j.settings.clone());
    let settings = settings.unwrap_or_else(|| ReceivedSettings {
        raw: String::new(),
        input_source: "Platen".into(),
        color_mode: "Grayscale8".into(),
        x_resolution: 75,
        y_resolution: 75,
        width: 2480,
        height: 3508,
        document_format: "image/jpeg".into(),
        duplex: None,
    });
    let Ok(Ok((_, jpeg))) = tokio::task::spawn_blocking(move || {
        page(&ReceivedSettings { document_format: "image/jpeg".into(), ..settings }, 1)
    })
    .await
    else {
        return;
    };
    match fault {
        EsclFault::EndlessDocument => {
            let head = "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nConnection: close\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&jpeg).await.is_err() {
                return;
            }
            let filler = vec![0x5Au8; 64 * 1024];
            // Until the client goes away.
            while stream.write_all(&filler).await.is_ok() {}
        }
        EsclFault::DropMidDocument => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                jpeg.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&jpeg[..jpeg.len() / 2]).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
        }
        _ => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {HUGE_LENGTH}\r\nConnection: close\r\n\r\n"
            );
            if stream.write_all(head.as_bytes()).await.is_ok() && stream.write_all(&jpeg).await.is_ok() {
                // Hold the connection until the client gives up, as a slow huge transfer would.
                let mut sink = [0u8; 1024];
                let _ = tokio::time::timeout(Duration::from_secs(30), async {
                    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                })
                .await;
            }
        }
    }
}

/// The self-signed certificate of a simulated HTTPS scanner, made by the "device" itself as
/// real ones do; [`SimCertificate::renew`] stands for a factory reset or a replaced board.
#[derive(Clone)]
pub struct SimCertificate {
    current: Arc<std::sync::Mutex<(Arc<rustls::ServerConfig>, String)>>,
}

impl SimCertificate {
    /// A new certificate for `localhost` and 127.0.0.1.
    pub fn new() -> std::io::Result<SimCertificate> {
        Ok(SimCertificate { current: Arc::new(std::sync::Mutex::new(Self::make()?)) })
    }

    fn make() -> std::io::Result<(Arc<rustls::ServerConfig>, String)> {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(std::io::Error::other)?;
        let der = made.cert.der().clone();
        let print = ring::digest::digest(&ring::digest::SHA256, der.as_ref())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
            made.key_pair.serialize_der(),
        ));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![der], key)
            .map_err(std::io::Error::other)?;
        Ok((Arc::new(config), print))
    }

    /// Replaces the certificate with a new one.
    pub fn renew(&self) -> std::io::Result<()> {
        let fresh = Self::make()?;
        if let Ok(mut current) = self.current.lock() {
            *current = fresh;
        }
        Ok(())
    }

    /// The SHA-256 fingerprint of the current certificate, lower-case hex.
    pub fn fingerprint(&self) -> String {
        self.current.lock().map(|c| c.1.clone()).unwrap_or_default()
    }

    fn config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.current.lock().ok().map(|c| c.0.clone())
    }
}

/// Serves the scanner over HTTPS (eSCL's `_uscans._tcp`) on `listener` with `certificate`,
/// until the task is dropped. The faults that break HTTP framing are not played over TLS.
pub async fn serve_tls(listener: TcpListener, sim: EsclSim, certificate: SimCertificate) -> std::io::Result<()> {
    let app = router(sim);
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::debug!(error = %e, "escl sim: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(config) = certificate.config() else { continue };
        let app = app.clone();
        tokio::spawn(async move {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        });
    }
}

/// Serves the scanner on `listener` until the task is dropped, with every fault available.
pub async fn serve(listener: TcpListener, sim: EsclSim) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let (hand, connections) = mpsc::channel(64);
    let front_sim = sim.clone();
    let front = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let (hand, sim) = (hand.clone(), front_sim.clone());
                    tokio::spawn(async move {
                        if let Some(connection) = triage(stream, &sim).await {
                            let _ = hand.send((connection, peer)).await;
                        }
                    });
                }
                Err(e) => {
                    tracing::debug!(error = %e, "escl sim: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    });
    let result = axum::serve(Handed { connections, local }, router(sim)).await;
    front.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(color: &str, format: &str, dpi: u32) -> ReceivedSettings {
        ReceivedSettings {
            raw: String::new(),
            input_source: "Platen".into(),
            color_mode: color.into(),
            x_resolution: dpi,
            y_resolution: dpi,
            width: 2480,
            height: 3508,
            document_format: format.into(),
            duplex: None,
        }
    }

    #[test]
    fn scan_settings_are_read_whatever_the_prefixes() {
        let raw = r#"<?xml version="1.0"?><s:ScanSettings xmlns:s="x" xmlns:p="y"><p:Version>2.0</p:Version>
<p:ScanRegions><p:ScanRegion><p:Width>1000</p:Width><p:Height>2000</p:Height></p:ScanRegion></p:ScanRegions>
<p:InputSource>Feeder</p:InputSource><s:ColorMode>Grayscale8</s:ColorMode><p:DocumentFormat>image/jpeg</p:DocumentFormat>
<s:DocumentFormatExt>application/pdf</s:DocumentFormatExt><s:XResolution>150</s:XResolution><s:Duplex>false</s:Duplex></s:ScanSettings>"#;
        let s = read_settings(raw).unwrap();
        assert_eq!((s.input_source.as_str(), s.color_mode.as_str()), ("Feeder", "Grayscale8"));
        assert_eq!((s.x_resolution, s.y_resolution, s.width, s.height), (150, 150, 1000, 2000));
        assert_eq!((s.document_format.as_str(), s.duplex), ("application/pdf", Some(false)));
        assert!(read_settings("<ScannerStatus/>").is_err());
        assert!(read_settings("<ScanSettings><XResolution>lots</XResolution></ScanSettings>").is_err());
        assert!(refusal(&EsclSimConfig::default(), &s).is_none());
        let odd = ReceivedSettings { x_resolution: 123, y_resolution: 123, ..s.clone() };
        assert!(refusal(&EsclSimConfig::default(), &odd).is_some());
    }

    #[test]
    fn pages_are_deterministic_and_sized_by_resolution() {
        let (kind, a) = page(&settings("RGB24", "image/jpeg", 75), 2).unwrap();
        let (_, b) = page(&settings("RGB24", "image/jpeg", 75), 2).unwrap();
        let (_, c) = page(&settings("RGB24", "image/jpeg", 75), 3).unwrap();
        assert_eq!(kind, "image/jpeg");
        assert_eq!(a, b);
        assert_ne!(a, c, "the page number shows");
        let decoded = image::load_from_memory(&a).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (620, 877));
        assert_eq!(decoded.color(), image::ColorType::Rgb8);
        let (_, grey) = page(&settings("Grayscale8", "image/jpeg", 100), 1).unwrap();
        assert_eq!(image::load_from_memory(&grey).unwrap().color(), image::ColorType::L8);
        let (kind, pdf) = page(&settings("RGB24", "application/pdf", 75), 1).unwrap();
        assert_eq!(kind, "application/pdf");
        assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        let startxref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[startxref..].starts_with(b"xref"), "startxref points at the table");
        assert!(text.contains("/Filter /DCTDecode") && text.contains("/MediaBox [0 0 595.20 841.92]"));
    }

    #[test]
    fn capabilities_and_status_name_what_the_scanner_has() {
        let sim = EsclSim::new(EsclSimConfig { make_and_model: "A & B <Scan>".into(), ..EsclSimConfig::default() });
        let caps = sim.capabilities_xml();
        assert!(caps.contains("A &amp; B &lt;Scan&gt;"));
        assert!(caps.contains("<scan:AdfSimplexInputCaps>") && caps.contains("<scan:PlatenInputCaps>"));
        assert!(sim.status_xml().contains("ScannerAdfLoaded"));
        sim.set_fault(Some(EsclFault::AdfEmpty));
        assert!(sim.status_xml().contains("ScannerAdfEmpty"));
        sim.set_fault(Some(EsclFault::Busy));
        assert!(sim.status_xml().contains("<pwg:State>Processing</pwg:State>"));
        let platen_only = EsclSim::new(EsclSimConfig { adf_pages: 0, pdf: false, ..EsclSimConfig::default() });
        assert!(!platen_only.capabilities_xml().contains("Adf"));
        assert!(!platen_only.capabilities_xml().contains("application/pdf"));
        assert!(!platen_only.status_xml().contains("AdfState"));
    }
}
