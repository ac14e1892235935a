//! Network scanners over eSCL (Apple AirScan, Mopria scan): HTTP under a base path (usually
//! `/eSCL`) with XML in the `scan` (`http://schemas.hp.com/imaging/escl/2011/05/03`) and `pwg`
//! (`http://www.pwg.org/schemas/2010/12/sm`) namespaces.
//!
//! A scan is one job: `GET ScannerCapabilities` and `ScannerStatus`, `POST ScanSettings` to
//! `ScanJobs` (answered `201 Created` with the job in `Location`), then `GET
//! {job}/NextDocument` once per page until `404` (feeder) or once (platen); `503` while the
//! scanner is still preparing a page; `DELETE {job}` to cancel. Every answer is read with a size
//! bound and a timeout; a page's type is checked against what was asked and against its bytes.
//!
//! Elements are matched by local name, whatever prefix or namespace the scanner uses: devices
//! differ there more than in the names.

use std::time::{Duration, Instant};

use roxmltree::{Document, Node, ParsingOptions};

use crate::driver::{Device, Pending, Report, Scanner, pending};
use crate::limited::body;
use crate::scan::{clip, sniff};
use crate::tls::DeviceHttp;
use crate::{Attention, DeviceError};

pub use crate::driver::{A4_HEIGHT, A4_WIDTH, ScanFormat, ScanRequest, ScanSource};
pub use crate::scan::{ColorMode, ScannedPage};

/// The eSCL namespace (`scan:`).
pub const SCAN_NS: &str = "http://schemas.hp.com/imaging/escl/2011/05/03";
/// The PWG semantic model namespace (`pwg:`).
pub const PWG_NS: &str = "http://www.pwg.org/schemas/2010/12/sm";
/// Largest capabilities or status document accepted (real ones are under 20 KB).
pub const MAX_XML_BYTES: usize = 256 * 1024;
/// Largest page accepted (an A4 colour JPEG at 600 dpi is about 10 MB).
pub const MAX_PAGE_BYTES: usize = 64 * 1024 * 1024;
/// Most pages taken from one job; a feeder that never says "no more" stops here.
pub const MAX_PAGES: usize = 200;
/// Largest whole job, all pages together: a feeder of pages that each stay under
/// [`MAX_PAGE_BYTES`] must still not fill the box's memory.
pub const MAX_JOB_BYTES: usize = 512 * 1024 * 1024;
/// What one input (glass or feeder) can do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputCaps {
    /// Smallest region width, 1/300 inch.
    pub min_width: u32,
    /// Largest region width, 1/300 inch (0 when not stated).
    pub max_width: u32,
    /// Smallest region height, 1/300 inch.
    pub min_height: u32,
    /// Largest region height, 1/300 inch (0 when not stated).
    pub max_height: u32,
    /// Colour modes offered.
    pub color_modes: Vec<ColorMode>,
    /// Resolutions offered (equal in both directions), ascending.
    pub resolutions: Vec<u32>,
    /// MIME types offered.
    pub formats: Vec<String>,
    /// The scanner names formats with `scan:DocumentFormatExt` (eSCL 2.1 and later) and
    /// expects it in the settings.
    pub format_ext: bool,
}

impl InputCaps {
    /// Whether this input delivers `mime`. A scanner that names no format is taken to deliver
    /// JPEG only.
    pub fn accepts(&self, mime: &str) -> bool {
        if self.formats.is_empty() {
            return mime == "image/jpeg";
        }
        self.formats.iter().any(|f| f.eq_ignore_ascii_case(mime))
    }

    /// The offered resolution nearest to `dpi` (the higher one on a tie); `dpi` itself when
    /// the scanner names none.
    pub fn nearest_resolution(&self, dpi: u32) -> u32 {
        self.resolutions.iter().copied().min_by_key(|&r| (r.abs_diff(dpi), u32::MAX - r)).unwrap_or(dpi)
    }

    /// `wanted` when offered, else the nearest offered mode (colour and grey stand in for each
    /// other); `wanted` when the scanner names none.
    pub fn nearest_color(&self, wanted: ColorMode) -> ColorMode {
        let order = match wanted {
            ColorMode::Rgb24 => [ColorMode::Rgb24, ColorMode::Grayscale8, ColorMode::BlackAndWhite1],
            ColorMode::Grayscale8 => [ColorMode::Grayscale8, ColorMode::Rgb24, ColorMode::BlackAndWhite1],
            ColorMode::BlackAndWhite1 => [ColorMode::BlackAndWhite1, ColorMode::Grayscale8, ColorMode::Rgb24],
        };
        order.into_iter().find(|m| self.color_modes.contains(m)).unwrap_or(wanted)
    }
}

/// What the scanner says it can do (`ScannerCapabilities`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScannerCapabilities {
    /// `pwg:Version`, the eSCL version the scanner speaks.
    pub version: String,
    /// `pwg:MakeAndModel`.
    pub make_and_model: String,
    /// `pwg:SerialNumber`.
    pub serial: Option<String>,
    /// `scan:UUID`, the scanner's identity, as sent (see [`ScannerCapabilities::identity`]).
    pub uuid: Option<String>,
    /// It has a glass.
    pub platen: bool,
    /// It has a feeder.
    pub adf: bool,
    /// The feeder scans both sides.
    pub adf_duplex: bool,
    /// Colour modes of any input.
    pub color_modes: Vec<ColorMode>,
    /// Resolutions of any input, ascending.
    pub resolutions: Vec<u32>,
    /// MIME types of any input.
    pub formats: Vec<String>,
    /// The glass.
    pub platen_caps: Option<InputCaps>,
    /// The feeder (simplex).
    pub adf_caps: Option<InputCaps>,
}

impl ScannerCapabilities {
    /// The UUID in a comparable form: lower case, without `urn:uuid:` or braces.
    pub fn identity(&self) -> Option<String> {
        self.uuid.as_deref().map(normalize_uuid).filter(|u| !u.is_empty())
    }

    /// Whether this is the scanner whose identity was pinned as `uuid`.
    pub fn is_device(&self, uuid: &str) -> bool {
        self.identity().is_some_and(|mine| mine == normalize_uuid(uuid))
    }

    /// The capabilities of one input (`Auto` has none of its own).
    pub fn input(&self, source: ScanSource) -> Option<&InputCaps> {
        match source {
            ScanSource::Platen => self.platen_caps.as_ref(),
            ScanSource::Adf => self.adf_caps.as_ref(),
            ScanSource::Auto => None,
        }
    }
}

/// A UUID in a comparable form: trimmed, lower case, without `urn:uuid:` or braces.
pub fn normalize_uuid(uuid: &str) -> String {
    let t = uuid.trim();
    let t = if t.len() >= 9 && t[..9].eq_ignore_ascii_case("urn:uuid:") { &t[9..] } else { t };
    t.trim_matches(|c| c == '{' || c == '}').to_ascii_lowercase()
}

/// `pwg:State` of the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScannerState {
    /// Ready.
    Idle,
    /// Scanning.
    Processing,
    /// Calibrating or warming up.
    Testing,
    /// Stopped by an error.
    Stopped,
    /// Unavailable.
    Down,
    /// A value eSCL does not define, as sent.
    Other(String),
}

/// `scan:AdfState` of the feeder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdfState {
    /// Paper is loaded.
    Loaded,
    /// No paper.
    Empty,
    /// Feeding.
    Processing,
    /// Paper jammed.
    Jam,
    /// A sheet was not picked.
    Mispick,
    /// The feeder's hatch is open.
    HatchOpen,
    /// Duplex: the page is too short.
    DuplexPageTooShort,
    /// Duplex: the page is too long.
    DuplexPageTooLong,
    /// Several sheets were picked at once.
    MultipickDetected,
    /// The input tray failed.
    InputTrayFailed,
    /// The input tray holds too much paper.
    InputTrayOverloaded,
    /// A value eSCL does not define, as sent.
    Other(String),
}

impl AdfState {
    fn from_escl(text: &str) -> AdfState {
        match text {
            // "ScannedAdfLoaded" is a misspelling some implementations send.
            "ScannerAdfLoaded" | "ScannedAdfLoaded" => AdfState::Loaded,
            "ScannerAdfEmpty" => AdfState::Empty,
            "ScannerAdfProcessing" => AdfState::Processing,
            "ScannerAdfJam" => AdfState::Jam,
            "ScannerAdfMispick" => AdfState::Mispick,
            "ScannerAdfHatchOpen" | "ScannerAdfDoorOpen" => AdfState::HatchOpen,
            "ScannerAdfDuplexPageTooShort" => AdfState::DuplexPageTooShort,
            "ScannerAdfDuplexPageTooLong" => AdfState::DuplexPageTooLong,
            "ScannerAdfMultipickDetected" => AdfState::MultipickDetected,
            "ScannerAdfInputTrayFailed" => AdfState::InputTrayFailed,
            "ScannerAdfInputTrayOverloaded" => AdfState::InputTrayOverloaded,
            other => AdfState::Other(clip(other, 60)),
        }
    }

    /// What a person must do about the feeder, if anything.
    pub fn attention(&self) -> Option<Attention> {
        match self {
            AdfState::Loaded | AdfState::Processing | AdfState::Other(_) => None,
            AdfState::Empty => Some(Attention::MediaEmpty),
            AdfState::Jam
            | AdfState::Mispick
            | AdfState::MultipickDetected
            | AdfState::DuplexPageTooShort
            | AdfState::DuplexPageTooLong => Some(Attention::MediaJam),
            AdfState::HatchOpen => Some(Attention::CoverOpen),
            AdfState::InputTrayFailed => Some(Attention::Other("adf-input-tray-failed".into())),
            AdfState::InputTrayOverloaded => Some(Attention::Other("adf-input-tray-overloaded".into())),
        }
    }
}

/// Where the scanner is (`ScannerStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannerStatus {
    /// The scanner's state.
    pub state: ScannerState,
    /// The feeder's state, when the scanner reports one.
    pub adf: Option<AdfState>,
}

impl ScannerStatus {
    /// Everything a person must act on. An empty feeder is listed (`MediaEmpty`), though it
    /// stops only a feeder scan; see [`ScannerStatus::blocking`].
    pub fn attention(&self) -> Vec<Attention> {
        let mut out: Vec<Attention> = self.adf.iter().filter_map(AdfState::attention).collect();
        if matches!(self.state, ScannerState::Stopped | ScannerState::Down)
            && out.iter().all(|a| *a == Attention::MediaEmpty)
        {
            out.push(Attention::Offline);
        }
        out
    }

    /// What stops a scan from `source` now, if anything.
    pub fn blocking(&self, source: ScanSource) -> Option<Attention> {
        let feeder = self.adf.as_ref().and_then(AdfState::attention);
        let stopped = matches!(self.state, ScannerState::Stopped | ScannerState::Down);
        match source {
            ScanSource::Adf | ScanSource::Auto => feeder.or(stopped.then_some(Attention::Offline)),
            ScanSource::Platen if stopped => {
                Some(feeder.filter(|a| *a != Attention::MediaEmpty).unwrap_or(Attention::Offline))
            }
            ScanSource::Platen => None,
        }
    }
}

fn parse_xml(bytes: &[u8]) -> Result<Document<'_>, DeviceError> {
    let text = std::str::from_utf8(bytes).map_err(|_| DeviceError::Protocol("the XML is not UTF-8".into()))?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let options = ParsingOptions { allow_dtd: false, nodes_limit: 100_000 };
    Document::parse_with_options(text, options)
        .map_err(|e| DeviceError::Protocol(format!("malformed XML: {}", clip(&e.to_string(), 80))))
}

fn children<'a, 'input: 'a>(node: Node<'a, 'input>, name: &'static str) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &'static str) -> Option<Node<'a, 'input>> {
    children(node, name).next()
}

fn text_of(node: Node<'_, '_>) -> String {
    clip(node.text().unwrap_or_default().trim(), 200)
}

fn child_text(node: Node<'_, '_>, name: &'static str) -> Option<String> {
    child(node, name).map(text_of).filter(|t| !t.is_empty())
}

fn number(node: Node<'_, '_>, name: &'static str) -> Result<Option<u32>, DeviceError> {
    match child(node, name) {
        None => Ok(None),
        Some(n) => {
            text_of(n).parse().map(Some).map_err(|_| DeviceError::Protocol(format!("scan:{name} is not a number")))
        }
    }
}

fn color_from_escl(text: &str) -> Option<ColorMode> {
    match text {
        "RGB24" => Some(ColorMode::Rgb24),
        "Grayscale8" => Some(ColorMode::Grayscale8),
        "BlackAndWhite1" => Some(ColorMode::BlackAndWhite1),
        _ => None,
    }
}

fn color_to_escl(mode: ColorMode) -> &'static str {
    match mode {
        ColorMode::Rgb24 => "RGB24",
        ColorMode::Grayscale8 => "Grayscale8",
        ColorMode::BlackAndWhite1 => "BlackAndWhite1",
    }
}

/// Resolutions usually offered, used to turn a range into a list.
const COMMON_RESOLUTIONS: [u32; 9] = [75, 100, 150, 200, 240, 300, 400, 600, 1200];
const MAX_LISTED: usize = 64;

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_LISTED && !list.contains(&item) {
        list.push(item);
    }
}

fn read_profile(profile: Node<'_, '_>, caps: &mut InputCaps) -> Result<(), DeviceError> {
    for modes in children(profile, "ColorModes") {
        for mode in children(modes, "ColorMode") {
            if let Some(m) = color_from_escl(&text_of(mode)) {
                push_unique(&mut caps.color_modes, m);
            }
        }
    }
    for formats in children(profile, "DocumentFormats") {
        for format in formats.children().filter(|n| n.is_element()) {
            let name = format.tag_name().name();
            if name == "DocumentFormat" || name == "DocumentFormatExt" {
                caps.format_ext |= name == "DocumentFormatExt";
                let mime = text_of(format).to_ascii_lowercase();
                if !mime.is_empty() {
                    push_unique(&mut caps.formats, mime);
                }
            }
        }
    }
    for supported in children(profile, "SupportedResolutions") {
        for discrete in children(supported, "DiscreteResolutions") {
            for res in children(discrete, "DiscreteResolution") {
                let x = number(res, "XResolution")?;
                let y = number(res, "YResolution")?;
                if let Some(x) = x.filter(|&x| x > 0 && y.is_none_or(|y| y == x)) {
                    push_unique(&mut caps.resolutions, x);
                }
            }
        }
        for range in children(supported, "ResolutionRange") {
            let Some(x) = child(range, "XResolutionRange").or_else(|| child(range, "XResolution")) else {
                continue;
            };
            let (min, max) = (number(x, "Min")?.unwrap_or(0), number(x, "Max")?.unwrap_or(0));
            let step = number(x, "Step")?.unwrap_or(1).max(1);
            if min == 0 || min > max {
                return Err(DeviceError::Protocol(format!("the resolution range {min}..{max} is empty")));
            }
            let mut found = false;
            for r in COMMON_RESOLUTIONS.into_iter().filter(|&r| r >= min && r <= max && (r - min) % step == 0) {
                push_unique(&mut caps.resolutions, r);
                found = true;
            }
            if !found {
                push_unique(&mut caps.resolutions, min);
            }
        }
    }
    Ok(())
}

fn read_input(input: Node<'_, '_>, root: Node<'_, '_>) -> Result<InputCaps, DeviceError> {
    let mut caps = InputCaps {
        min_width: number(input, "MinWidth")?.unwrap_or(0),
        max_width: number(input, "MaxWidth")?.unwrap_or(0),
        min_height: number(input, "MinHeight")?.unwrap_or(0),
        max_height: number(input, "MaxHeight")?.unwrap_or(0),
        ..InputCaps::default()
    };
    if (caps.max_width > 0 && caps.min_width > caps.max_width)
        || (caps.max_height > 0 && caps.min_height > caps.max_height)
    {
        return Err(DeviceError::Protocol("the scan area's minimum exceeds its maximum".into()));
    }
    for profiles in children(input, "SettingProfiles") {
        for profile in children(profiles, "SettingProfile") {
            // A profile may be a reference to one listed at the top level by name.
            let profile = match profile.attribute("ref") {
                Some(name) if !profile.children().any(|n| n.is_element()) => children(root, "SettingProfiles")
                    .flat_map(|p| children(p, "SettingProfile"))
                    .find(|p| p.attribute("name") == Some(name))
                    .ok_or_else(|| DeviceError::Protocol("a setting profile refers to none".into()))?,
                _ => profile,
            };
            read_profile(profile, &mut caps)?;
        }
    }
    caps.resolutions.sort_unstable();
    Ok(caps)
}

/// Reads a `ScannerCapabilities` document.
pub fn parse_capabilities(xml: &[u8]) -> Result<ScannerCapabilities, DeviceError> {
    let doc = parse_xml(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "ScannerCapabilities" {
        return Err(DeviceError::Protocol(format!(
            "expected ScannerCapabilities, got {}",
            clip(root.tag_name().name(), 60)
        )));
    }
    let platen_caps =
        child(root, "Platen").and_then(|p| child(p, "PlatenInputCaps")).map(|n| read_input(n, root)).transpose()?;
    let adf = child(root, "Adf");
    let adf_caps = adf.and_then(|a| child(a, "AdfSimplexInputCaps")).map(|n| read_input(n, root)).transpose()?;
    if platen_caps.is_none() && adf_caps.is_none() {
        return Err(DeviceError::Protocol("the scanner names neither a platen nor a feeder".into()));
    }
    let mut caps = ScannerCapabilities {
        version: child_text(root, "Version").unwrap_or_else(|| "2.0".into()),
        make_and_model: child_text(root, "MakeAndModel").unwrap_or_default(),
        serial: child_text(root, "SerialNumber"),
        uuid: child_text(root, "UUID"),
        platen: platen_caps.is_some(),
        adf: adf_caps.is_some(),
        adf_duplex: adf.and_then(|a| child(a, "AdfDuplexInputCaps")).is_some(),
        ..ScannerCapabilities::default()
    };
    for input in platen_caps.iter().chain(adf_caps.iter()) {
        for m in &input.color_modes {
            push_unique(&mut caps.color_modes, *m);
        }
        for r in &input.resolutions {
            push_unique(&mut caps.resolutions, *r);
        }
        for f in &input.formats {
            push_unique(&mut caps.formats, f.clone());
        }
    }
    caps.resolutions.sort_unstable();
    caps.platen_caps = platen_caps;
    caps.adf_caps = adf_caps;
    Ok(caps)
}

/// Reads a `ScannerStatus` document.
pub fn parse_status(xml: &[u8]) -> Result<ScannerStatus, DeviceError> {
    let doc = parse_xml(xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "ScannerStatus" {
        return Err(DeviceError::Protocol(format!("expected ScannerStatus, got {}", clip(root.tag_name().name(), 60))));
    }
    let state = match child_text(root, "State").as_deref() {
        Some("Idle") => ScannerState::Idle,
        Some("Processing") => ScannerState::Processing,
        Some("Testing") => ScannerState::Testing,
        Some("Stopped") => ScannerState::Stopped,
        Some("Down") => ScannerState::Down,
        Some(other) => ScannerState::Other(clip(other, 60)),
        None => return Err(DeviceError::Protocol("the status names no pwg:State".into())),
    };
    let adf = child_text(root, "AdfState").map(|s| AdfState::from_escl(&s));
    Ok(ScannerStatus { state, adf })
}

/// The settings chosen for a job, after matching the request to the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Settings {
    source: ScanSource,
    color: ColorMode,
    dpi: u32,
    mime: &'static str,
    format_ext: bool,
    width: u32,
    height: u32,
}

impl Settings {
    fn choose(request: &ScanRequest, source: ScanSource, input: &InputCaps) -> Result<Settings, DeviceError> {
        let mime = request.format.mime();
        if !input.accepts(mime) {
            return Err(DeviceError::Unsupported(format!("the scanner does not deliver {mime}")));
        }
        let clamp = |v: u32, min: u32, max: u32| {
            let v = v.max(min).max(1);
            if max > 0 { v.min(max) } else { v }
        };
        Ok(Settings {
            source,
            color: input.nearest_color(request.color),
            dpi: input.nearest_resolution(request.dpi.max(1)),
            mime,
            format_ext: input.format_ext,
            width: clamp(request.width, input.min_width, input.max_width),
            height: clamp(request.height, input.min_height, input.max_height),
        })
    }

    /// The `ScanSettings` document. Every value is a number or one of our constants, so
    /// nothing needs escaping.
    fn xml(&self, version: &str) -> String {
        let version =
            if !version.is_empty() && version.len() <= 8 && version.chars().all(|c| c.is_ascii_digit() || c == '.') {
                version
            } else {
                "2.0"
            };
        let (input, duplex) = match self.source {
            ScanSource::Adf | ScanSource::Auto => ("Feeder", "\n  <scan:Duplex>false</scan:Duplex>"),
            ScanSource::Platen => ("Platen", ""),
        };
        let ext = if self.format_ext {
            format!("\n  <scan:DocumentFormatExt>{}</scan:DocumentFormatExt>", self.mime)
        } else {
            String::new()
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<scan:ScanSettings xmlns:scan="{SCAN_NS}" xmlns:pwg="{PWG_NS}">
  <pwg:Version>{version}</pwg:Version>
  <pwg:ScanRegions>
    <pwg:ScanRegion>
      <pwg:ContentRegionUnits>escl:ThreeHundredthsOfInches</pwg:ContentRegionUnits>
      <pwg:XOffset>0</pwg:XOffset>
      <pwg:YOffset>0</pwg:YOffset>
      <pwg:Width>{width}</pwg:Width>
      <pwg:Height>{height}</pwg:Height>
    </pwg:ScanRegion>
  </pwg:ScanRegions>
  <pwg:InputSource>{input}</pwg:InputSource>
  <scan:ColorMode>{color}</scan:ColorMode>
  <pwg:DocumentFormat>{mime}</pwg:DocumentFormat>{ext}
  <scan:XResolution>{dpi}</scan:XResolution>
  <scan:YResolution>{dpi}</scan:YResolution>{duplex}
</scan:ScanSettings>
"#,
            width = self.width,
            height = self.height,
            color = color_to_escl(self.color),
            mime = self.mime,
            dpi = self.dpi,
        )
    }
}

/// An eSCL scanner at a base URL such as `http://10.0.0.5:8080/eSCL`.
#[derive(Clone, Debug)]
pub struct EsclScanner {
    /// `scheme://host:port`, where job paths from `Location` are taken.
    origin: String,
    /// The origin and base path, without a trailing slash.
    base: String,
    http: DeviceHttp,
    timeout: Duration,
    page_timeout: Duration,
    expected: Option<String>,
    job_limit: usize,
}

impl EsclScanner {
    /// A scanner at `base` (`http` or `https`); each request is bounded by `timeout`, a page's
    /// transfer included (see [`EsclScanner::with_page_timeout`]).
    pub fn new(base: &str, timeout: Duration) -> Result<EsclScanner, DeviceError> {
        let url = reqwest::Url::parse(base.trim())
            .map_err(|_| DeviceError::Protocol(format!("'{}' is not a scanner URL", clip(base, 100))))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DeviceError::Protocol(format!("'{}' is not an http:// or https:// URL", clip(base, 100))));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| DeviceError::Protocol("the URL has no host".into()))?;
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(DeviceError::Protocol("the scanner URL has a query, fragment or user".into()));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        let origin = format!("{}://{host}:{port}", url.scheme());
        let base = format!("{origin}{}", url.path().trim_end_matches('/'));
        let http = DeviceHttp::new(timeout, None)?;
        Ok(EsclScanner { origin, base, http, timeout, page_timeout: timeout, expected: None, job_limit: MAX_JOB_BYTES })
    }

    /// Over HTTPS, accepts only the certificate with this SHA-256 fingerprint (see
    /// [`crate::tls`]); another one is refused with `Identity` before anything is sent.
    pub fn with_certificate_pin(mut self, pin: &str) -> Result<EsclScanner, DeviceError> {
        self.http = DeviceHttp::new(self.timeout, Some(pin))?;
        Ok(self)
    }

    /// The fingerprint of the certificate the scanner presented last (HTTPS only).
    pub fn certificate(&self) -> Option<String> {
        self.http.certificate()
    }

    /// Bounds each page request (waiting for the scanner to prepare it and the transfer)
    /// by `timeout` instead of the general one.
    pub fn with_page_timeout(mut self, timeout: Duration) -> EsclScanner {
        self.page_timeout = timeout;
        self
    }

    /// Bounds a whole job, all pages together, by `bytes` instead of [`MAX_JOB_BYTES`].
    pub fn with_job_limit(mut self, bytes: usize) -> EsclScanner {
        self.job_limit = bytes;
        self
    }

    /// Pins the scanner's identity: capabilities (and so every scan) are refused with
    /// `Identity` when the device at the address has another `scan:UUID`, or none.
    pub fn expect_uuid(mut self, uuid: &str) -> EsclScanner {
        self.expected = Some(normalize_uuid(uuid));
        self
    }

    /// The base URL, normalized.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn get_xml(&self, path: &str) -> Result<Vec<u8>, DeviceError> {
        let response =
            self.http.client().get(format!("{}/{path}", self.base)).send().await.map_err(|e| self.http.error(&e))?;
        match response.status().as_u16() {
            200 => body(response, MAX_XML_BYTES).await,
            503 => Err(DeviceError::Busy),
            other => Err(DeviceError::Protocol(format!("{path} answered HTTP {other}"))),
        }
    }

    /// What the scanner can do, and who it is.
    pub async fn capabilities(&self) -> Result<ScannerCapabilities, DeviceError> {
        let caps = parse_capabilities(&self.get_xml("ScannerCapabilities").await?)?;
        if let Some(expected) = &self.expected
            && !caps.is_device(expected)
        {
            return Err(DeviceError::Identity(format!(
                "another scanner answers at this address ({})",
                caps.uuid.as_deref().unwrap_or("no UUID")
            )));
        }
        Ok(caps)
    }

    /// The scanner's state and its feeder's.
    pub async fn status(&self) -> Result<ScannerStatus, DeviceError> {
        parse_status(&self.get_xml("ScannerStatus").await?)
    }

    /// Scans: settings matched to the capabilities, one job, every page it gives (one from the
    /// glass, all from the feeder). The job is cancelled when anything fails on the way.
    pub async fn scan(&self, request: &ScanRequest) -> Result<Vec<ScannedPage>, DeviceError> {
        let caps = self.capabilities().await?;
        let status = self.status().await?;
        let source = match request.source {
            ScanSource::Auto if caps.adf && status.adf == Some(AdfState::Loaded) => ScanSource::Adf,
            ScanSource::Auto if caps.platen => ScanSource::Platen,
            ScanSource::Auto => ScanSource::Adf,
            other => other,
        };
        let input = caps.input(source).ok_or_else(|| {
            DeviceError::Unsupported(
                if source == ScanSource::Adf { "the scanner has no feeder" } else { "the scanner has no glass" }.into(),
            )
        })?;
        if let Some(attention) = status.blocking(source) {
            return Err(DeviceError::NeedsAttention(attention));
        }
        let settings = Settings::choose(request, source, input)?;
        let job = self.create_job(&settings, &caps.version).await?;
        let result = self.pages(&job, &settings).await;
        if result.is_err() {
            self.cancel(&job).await;
        }
        result
    }

    /// Posts the settings; answers the job's URL.
    async fn create_job(&self, settings: &Settings, version: &str) -> Result<String, DeviceError> {
        let response = self
            .http
            .client()
            .post(format!("{}/ScanJobs", self.base))
            .header("content-type", "text/xml")
            .body(settings.xml(version))
            .send()
            .await
            .map_err(|e| self.http.error(&e))?;
        let status = response.status().as_u16();
        match status {
            200 | 201 => {}
            503 => return Err(DeviceError::Busy),
            409 => return Err(self.why_refused(settings.source).await.unwrap_or(DeviceError::Busy)),
            400 | 406 | 415 | 422 => {
                return Err(DeviceError::Unsupported(format!("the scanner refused the settings (HTTP {status})")));
            }
            other => return Err(DeviceError::Protocol(format!("ScanJobs answered HTTP {other}"))),
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| DeviceError::Protocol("the scanner named no job (no Location)".into()))?
            .to_string();
        self.job_url(&location)
    }

    /// The job's URL from `Location`: only its path is taken, on the scanner's own origin (a
    /// scanner may name itself by a host name the box cannot resolve; and the job must not
    /// send the box elsewhere).
    fn job_url(&self, location: &str) -> Result<String, DeviceError> {
        let base = reqwest::Url::parse(&format!("{}/", self.base))
            .map_err(|_| DeviceError::Protocol("the base URL does not parse".into()))?;
        let url = base
            .join(location)
            .map_err(|_| DeviceError::Protocol(format!("'{}' is not a job location", clip(location, 100))))?;
        let path = url.path().trim_end_matches('/');
        if path.is_empty() {
            return Err(DeviceError::Protocol("the job location has no path".into()));
        }
        Ok(format!("{}{path}", self.origin))
    }

    async fn pages(&self, job: &str, settings: &Settings) -> Result<Vec<ScannedPage>, DeviceError> {
        let mut pages = Vec::new();
        let mut total = 0usize;
        loop {
            if pages.len() >= MAX_PAGES {
                return Err(DeviceError::Protocol(format!("the job gave more than {MAX_PAGES} pages")));
            }
            let room = self.job_limit.saturating_sub(total);
            match self.next_document(job, settings, room).await? {
                Some(page) => {
                    total += page.bytes.len();
                    pages.push(page);
                    if settings.source == ScanSource::Platen {
                        break;
                    }
                }
                None => break,
            }
        }
        if pages.is_empty() {
            return Err(self
                .why_refused(settings.source)
                .await
                .unwrap_or_else(|| DeviceError::Protocol("the job ended without a page".into())));
        }
        Ok(pages)
    }

    /// The next page, or `None` when the job has no more. A `503` (page not ready) is asked
    /// again until the page timeout has passed.
    /// `room` bounds the page by what the job may still hold.
    async fn next_document(
        &self,
        job: &str,
        settings: &Settings,
        room: usize,
    ) -> Result<Option<ScannedPage>, DeviceError> {
        let url = format!("{job}/NextDocument");
        let started = Instant::now();
        let mut delay = Duration::from_millis(200);
        loop {
            let response = self
                .http
                .client()
                .get(&url)
                .timeout(self.page_timeout)
                .send()
                .await
                .map_err(|e| self.http.error(&e))?;
            match response.status().as_u16() {
                200 => return self.page(response, settings, room).await.map(Some),
                404 => return Ok(None),
                503 => {
                    if started.elapsed() + delay > self.page_timeout {
                        return Err(DeviceError::Busy);
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
                other => {
                    return Err(self
                        .why_refused(settings.source)
                        .await
                        .unwrap_or_else(|| DeviceError::Protocol(format!("NextDocument answered HTTP {other}"))));
                }
            }
        }
    }

    async fn page(
        &self,
        response: reqwest::Response,
        settings: &Settings,
        room: usize,
    ) -> Result<ScannedPage, DeviceError> {
        let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = kind.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != settings.mime {
            return Err(DeviceError::Protocol(format!(
                "a page of type '{}' where {} was asked",
                clip(kind, 60),
                settings.mime
            )));
        }
        let limit = MAX_PAGE_BYTES.min(room);
        let bytes = match body(response, limit).await {
            // Over the job's limit rather than the page's: say which.
            Err(DeviceError::TooLarge(_)) if limit < MAX_PAGE_BYTES => {
                return Err(DeviceError::TooLarge(self.job_limit));
            }
            other => other?,
        };
        if sniff(&bytes) != Some(settings.mime) {
            return Err(DeviceError::Protocol(format!("the page's bytes are not {}", settings.mime)));
        }
        Ok(ScannedPage { content_type: settings.mime.to_string(), bytes, dpi: settings.dpi })
    }

    /// After a refusal: what the status says stops a scan from `source`, if it can be read.
    async fn why_refused(&self, source: ScanSource) -> Option<DeviceError> {
        let status = self.status().await.ok()?;
        status.blocking(source).map(DeviceError::NeedsAttention)
    }

    /// Cancels a job, best effort: the scanner may have ended it already.
    async fn cancel(&self, job: &str) {
        let _ = self.http.client().delete(job).timeout(self.timeout.min(Duration::from_secs(5))).send().await;
    }
}

impl Device for EsclScanner {
    /// The scanner's capabilities and state. The UUID it answers with is reported as it is,
    /// pinned or not, so that a stranger at the address is seen.
    fn report(&self) -> Pending<'_, Report> {
        pending(async move {
            let caps = parse_capabilities(&self.get_xml("ScannerCapabilities").await?)?;
            let status = self.status().await?;
            // An empty feeder does not stop the glass: a warning then, unless there is no glass.
            let blocking = status.blocking(if caps.platen { ScanSource::Platen } else { ScanSource::Adf });
            Ok(Report {
                warnings: status
                    .attention()
                    .iter()
                    .filter(|a| Some(*a) != blocking.as_ref())
                    .map(|a| a.code())
                    .collect(),
                problems: blocking.into_iter().collect(),
                model: Some(caps.make_and_model.clone()).filter(|m| !m.is_empty()),
                supplies: Vec::new(),
                identity: caps.identity(),
                certificate: self.certificate(),
            })
        })
    }
}

impl Scanner for EsclScanner {
    fn scan<'a>(&'a self, request: &'a ScanRequest) -> Pending<'a, Vec<ScannedPage>> {
        pending(EsclScanner::scan(self, request))
    }
}

#[cfg(test)]
mod tests;
