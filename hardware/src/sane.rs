//! USB scanners through SANE: `scanimage` (sane-utils) run as a child process, one page per run,
//! the image read from its standard output with a size bound and a timeout (the child is killed
//! when either is passed, and when the caller gives up). Failures are read from the first line
//! `scanimage` writes on standard error, in the C locale.
//!
//! Tests use SANE's `test` backend through a configuration directory of their own
//! ([`Sane::with_config_dir`] sets `SANE_CONFIG_DIR` for the child only).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::driver::{Device, Pending, Report, ScanFormat, ScanRequest, ScanSource, Scanner, pending};
use crate::scan::{ColorMode, ScannedPage, clip, sniff};
use crate::{Attention, DeviceError};

/// Largest image accepted from `scanimage`.
pub const MAX_IMAGE_BYTES: usize = 64 * 1024 * 1024;
/// Largest device list accepted.
const MAX_LIST_BYTES: usize = 256 * 1024;
/// Standard error kept for the failure's reason.
const MAX_STDERR_BYTES: usize = 16 * 1024;

/// A scanner SANE can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaneDevice {
    /// Device name, as `scanimage -d` takes it (`genesys:libusb:001:004`, `test:0`).
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Model.
    pub model: String,
    /// Kind ("flatbed scanner", "virtual device").
    pub kind: String,
}

/// Image format asked of `scanimage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaneFormat {
    /// PNG (lossless).
    Png,
    /// JPEG.
    Jpeg,
}

impl SaneFormat {
    fn arg(self) -> &'static str {
        match self {
            SaneFormat::Png => "--format=png",
            SaneFormat::Jpeg => "--format=jpeg",
        }
    }

    fn mime(self) -> &'static str {
        match self {
            SaneFormat::Png => "image/png",
            SaneFormat::Jpeg => "image/jpeg",
        }
    }
}

/// What to scan.
#[derive(Clone, Debug, PartialEq)]
pub struct SaneRequest {
    /// Colour (`--mode Color`), grey (`Gray`) or line art (`Lineart`).
    pub color: ColorMode,
    /// Resolution (`--resolution`); a backend rounds it to one it offers.
    pub dpi: u32,
    /// Image format.
    pub format: SaneFormat,
    /// Width and height of the area from the top left corner, in millimetres (`-x`, `-y`);
    /// `None` for the backend's default area (usually the whole glass).
    pub area_mm: Option<(u32, u32)>,
}

impl Default for SaneRequest {
    /// The whole glass in colour at 300 dpi, as PNG.
    fn default() -> SaneRequest {
        SaneRequest { color: ColorMode::Rgb24, dpi: 300, format: SaneFormat::Png, area_mm: None }
    }
}

/// How `scanimage` is run.
#[derive(Clone, Debug)]
pub struct Sane {
    program: PathBuf,
    config_dir: Option<PathBuf>,
    timeout: Duration,
}

impl Sane {
    /// `scanimage` from `PATH` with the system's SANE configuration; each run is bounded by
    /// `timeout` (a scan at 300 dpi takes 10 to 60 seconds on USB scanners).
    pub fn new(timeout: Duration) -> Sane {
        Sane { program: PathBuf::from("scanimage"), config_dir: None, timeout }
    }

    /// Runs with `SANE_CONFIG_DIR` set to `dir` (its `dll.conf` says which backends load).
    pub fn with_config_dir(mut self, dir: impl Into<PathBuf>) -> Sane {
        self.config_dir = Some(dir.into());
        self
    }

    /// Runs `program` instead of `scanimage` from `PATH`.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Sane {
        self.program = program.into();
        self
    }

    /// The scanners SANE finds.
    pub async fn list_devices(&self) -> Result<Vec<SaneDevice>, DeviceError> {
        // One device per line, fields separated by tabs (`%n` is scanimage's newline).
        let run = self.run(&["--formatted-device-list=%d\t%v\t%m\t%t%n".to_string()], MAX_LIST_BYTES).await?;
        if !run.success {
            return Err(failure(&run.stderr));
        }
        let text = String::from_utf8_lossy(&run.stdout);
        Ok(text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t').map(|f| clip(f.trim(), 200));
                let name = fields.next().filter(|n| !n.is_empty())?;
                Some(SaneDevice {
                    name,
                    vendor: fields.next().unwrap_or_default(),
                    model: fields.next().unwrap_or_default(),
                    kind: fields.next().unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Scans one page from `device`.
    pub async fn scan(&self, device: &str, request: &SaneRequest) -> Result<ScannedPage, DeviceError> {
        if device.is_empty() || device.len() > 200 || device.starts_with('-') || device.chars().any(char::is_control) {
            return Err(DeviceError::Unsupported(format!("'{}' is not a SANE device name", clip(device, 60))));
        }
        if request.dpi == 0 || request.dpi > 9600 {
            return Err(DeviceError::Unsupported(format!("a resolution of {} dpi", request.dpi)));
        }
        let mode = match request.color {
            ColorMode::Rgb24 => "Color",
            ColorMode::Grayscale8 => "Gray",
            ColorMode::BlackAndWhite1 => "Lineart",
        };
        let mut args = vec![
            format!("--device-name={device}"),
            request.format.arg().to_string(),
            format!("--resolution={}", request.dpi),
            format!("--mode={mode}"),
        ];
        if let Some((width, height)) = request.area_mm {
            args.extend(["-l".into(), "0".into(), "-t".into(), "0".into()]);
            args.extend(["-x".into(), width.to_string(), "-y".into(), height.to_string()]);
        }
        let run = self.run(&args, MAX_IMAGE_BYTES).await?;
        if !run.success {
            return Err(failure(&run.stderr));
        }
        let mime = request.format.mime();
        if run.stdout.is_empty() {
            return Err(DeviceError::Protocol("scanimage produced no image".into()));
        }
        if sniff(&run.stdout) != Some(mime) {
            return Err(DeviceError::Protocol(format!("scanimage's output is not {mime}")));
        }
        Ok(ScannedPage { content_type: mime.to_string(), bytes: run.stdout, dpi: request.dpi })
    }

    async fn run(&self, args: &[String], limit: usize) -> Result<Run, DeviceError> {
        let mut command = Command::new(&self.program);
        command
            .args(args)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &self.config_dir {
            command.env("SANE_CONFIG_DIR", dir);
        }
        let mut child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                DeviceError::Unreachable
            } else {
                DeviceError::Protocol(format!("scanimage does not start: {}", clip(&e.to_string(), 80)))
            }
        })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(DeviceError::Protocol("scanimage's output is not connected".into()));
        };
        // Standard error is drained on its own so that a chatty child never blocks on it.
        let stderr = tokio::spawn(read_bounded(stderr, MAX_STDERR_BYTES, true));
        let outcome = tokio::time::timeout(self.timeout, async {
            let bytes = read_bounded(stdout, limit, false).await?;
            let status = child.wait().await.map_err(|e| DeviceError::from_io(&e))?;
            Ok::<_, DeviceError>((bytes, status.success()))
        })
        .await;
        let result = outcome.unwrap_or(Err(DeviceError::Timeout));
        if result.is_err() {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        }
        let (stdout, success) = result?;
        let stderr = match tokio::time::timeout(Duration::from_secs(5), stderr).await {
            Ok(Ok(Ok(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        };
        Ok(Run { stdout, stderr, success })
    }
}

struct Run {
    stdout: Vec<u8>,
    stderr: String,
    success: bool,
}

/// Reads `reader` to its end. Past `limit` bytes: `TooLarge`, or, when `keep_going`, the rest
/// is read and dropped.
async fn read_bounded<R: AsyncRead + Unpin>(
    mut reader: R,
    limit: usize,
    keep_going: bool,
) -> Result<Vec<u8>, DeviceError> {
    let mut out = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buffer).await.map_err(|e| DeviceError::from_io(&e))?;
        if n == 0 {
            return Ok(out);
        }
        let room = limit - out.len();
        if n > room {
            if !keep_going {
                return Err(DeviceError::TooLarge(limit));
            }
            out.extend_from_slice(&buffer[..room]);
        } else {
            out.extend_from_slice(&buffer[..n]);
        }
    }
}

/// The error a failed run means, from the first line `scanimage` wrote about it. The texts
/// are SANE's status messages (`sane_strstatus`) in the C locale.
fn failure(stderr: &str) -> DeviceError {
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("scanimage:") && !l.contains("rounded value"))
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("no reason given");
    let line = clip(line.strip_prefix("scanimage:").unwrap_or(line).trim(), 160);
    let lower = line.to_ascii_lowercase();
    if lower.contains("device busy") {
        DeviceError::Busy
    } else if lower.contains("out of documents") {
        DeviceError::NeedsAttention(Attention::MediaEmpty)
    } else if lower.contains("jammed") {
        DeviceError::NeedsAttention(Attention::MediaJam)
    } else if lower.contains("cover is open") {
        DeviceError::NeedsAttention(Attention::CoverOpen)
    } else if lower.contains("open of device") || lower.contains("no scanners were identified") {
        DeviceError::Unreachable
    } else if lower.contains("error during device i/o") {
        DeviceError::Dropped
    } else if lower.contains("setting of option") || lower.contains("invalid argument") {
        DeviceError::Unsupported(line)
    } else {
        DeviceError::Protocol(format!("scanimage failed: {line}"))
    }
}

/// One scanner SANE names `device`, as a [`Scanner`]: one page from the glass per scan.
#[derive(Clone, Debug)]
pub struct SaneScanner {
    sane: Sane,
    device: String,
}

impl SaneScanner {
    /// The scanner SANE names `device`, run through `sane`.
    pub fn new(sane: Sane, device: impl Into<String>) -> SaneScanner {
        SaneScanner { sane, device: device.into() }
    }
}

impl Device for SaneScanner {
    /// Listed by SANE, or unreachable: unplugged, switched off, or on another USB port (its
    /// name changes with the port).
    fn report(&self) -> Pending<'_, Report> {
        pending(async move {
            let found = self.sane.list_devices().await?;
            let d = found.into_iter().find(|d| d.name == self.device).ok_or(DeviceError::Unreachable)?;
            Ok(Report {
                model: Some(format!("{} {}", d.vendor, d.model).trim().to_string()).filter(|m| !m.is_empty()),
                ..Report::default()
            })
        })
    }
}

impl Scanner for SaneScanner {
    /// The glass only, in the colour mode and resolution asked; JPEG or PNG.
    fn scan<'a>(&'a self, request: &'a ScanRequest) -> Pending<'a, Vec<ScannedPage>> {
        pending(async move {
            let format = match request.format {
                ScanFormat::Jpeg => SaneFormat::Jpeg,
                ScanFormat::Png => SaneFormat::Png,
                ScanFormat::Pdf => return Err(DeviceError::Unsupported("PDF from a SANE scanner".into())),
            };
            if request.source == ScanSource::Adf {
                return Err(DeviceError::Unsupported("the scanner has no feeder".into()));
            }
            let request = SaneRequest { color: request.color, dpi: request.dpi, format, area_mm: None };
            Ok(vec![self.sane.scan(&self.device, &request).await?])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanimage_failures_become_what_staff_can_act_on() {
        assert_eq!(failure("scanimage: open of device nosuch:0 failed: Invalid argument\n"), DeviceError::Unreachable);
        assert_eq!(failure("scanimage: open of device x failed: Device busy\n"), DeviceError::Busy);
        assert_eq!(
            failure("scanimage: sane_start: Document feeder out of documents\n"),
            DeviceError::NeedsAttention(Attention::MediaEmpty)
        );
        assert_eq!(
            failure("scanimage: sane_read: Document feeder jammed\n"),
            DeviceError::NeedsAttention(Attention::MediaJam)
        );
        assert_eq!(
            failure("scanimage: sane_start: Scanner cover is open"),
            DeviceError::NeedsAttention(Attention::CoverOpen)
        );
        assert_eq!(failure("scanimage: sane_read: Error during device I/O"), DeviceError::Dropped);
        assert!(matches!(
            failure("scanimage: rounded value of resolution from 5000 to 1200\nscanimage: setting of option --mode failed (Invalid argument)"),
            DeviceError::Unsupported(m) if m.contains("--mode")
        ));
        assert!(matches!(failure(""), DeviceError::Protocol(_)));
        assert!(matches!(failure("something odd\n"), DeviceError::Protocol(m) if m.contains("something odd")));
    }

    #[tokio::test]
    async fn device_names_that_look_like_options_are_refused() {
        let sane = Sane::new(Duration::from_secs(1)).with_program("/nonexistent/scanimage");
        for bad in ["", "--help", "a\nb"] {
            assert!(
                matches!(sane.scan(bad, &SaneRequest::default()).await, Err(DeviceError::Unsupported(_))),
                "{bad:?}"
            );
        }
        assert_eq!(sane.scan("test:0", &SaneRequest::default()).await, Err(DeviceError::Unreachable));
    }

    #[tokio::test]
    async fn a_child_that_never_ends_is_killed_at_the_timeout() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let script = dir.join("slow-scanimage");
        std::fs::write(&script, "#!/bin/sh\nprintf '\\211PNG'\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let sane = Sane::new(Duration::from_millis(300)).with_program(&script);
        // Bounded far above the 300 ms timeout: the test fails when the child is not killed
        // (it would run its 30 s), not when the machine is slow.
        let answer = tokio::time::timeout(Duration::from_secs(25), sane.scan("test:0", &SaneRequest::default())).await;
        assert_eq!(answer, Ok(Err(DeviceError::Timeout)), "the child was killed at the timeout");

        let endless = dir.join("endless-scanimage");
        std::fs::write(&endless, "#!/bin/sh\nexec cat /dev/zero\n").unwrap();
        std::fs::set_permissions(&endless, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let sane = Sane::new(Duration::from_secs(20)).with_program(&endless);
        assert_eq!(sane.scan("test:0", &SaneRequest::default()).await, Err(DeviceError::TooLarge(MAX_IMAGE_BYTES)));
    }
}
