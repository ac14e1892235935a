//! PWG Raster (PWG 5102.4, `image/pwg-raster`) for document printers that take no PDF: IPP
//! Everywhere printers must take PWG raster, many cheap ones take nothing else.
//!
//! A PDF becomes 8-bit grey pages with poppler's `pdftoppm` (a child process, bounded in time,
//! pages and bytes), and the pages become a PWG raster stream in `sgray_8`: the sync word
//! `RaS2`, then per page a 1796-byte header and the page's lines, compressed.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::DeviceError;

/// The MIME type of a PWG raster stream, for Print-Job's `document-format`.
pub const FORMAT: &str = "image/pwg-raster";

/// The `pwg-raster-document-type-supported` keyword of what [`encode`] writes.
pub const GREY_8: &str = "sgray_8";

/// Most pages rasterised from one document.
pub const MAX_PAGES: usize = 20;

/// Most pixel bytes rasterised from one document (20 A4 pages at 300 dpi take about 175 MB).
pub const MAX_PIXEL_BYTES: usize = 300 * 1024 * 1024;

/// Lowest and highest resolution [`rasterise_pdf`] accepts, in dots per inch.
pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 72..=1200;

/// Largest page rasterised, in inches (A3 and legal fit); anything beyond is cropped, so an
/// odd PDF cannot make `pdftoppm` allocate gigabytes.
const MAX_PAGE_INCHES: (u32, u32) = (13, 19);

/// Size of a page header.
pub const HEADER_LEN: usize = 1796;

/// One page of 8-bit grey pixels (0 black, 255 white), row-major, `width * height` bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct GreyPage {
    /// Pixels per line.
    pub width: u32,
    /// Lines.
    pub height: u32,
    /// Resolution, the same across and along the feed.
    pub dpi: u32,
    /// `width * height` bytes; missing bytes are taken as white, extra bytes are ignored.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for GreyPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GreyPage({}x{} at {} dpi, {} bytes)", self.width, self.height, self.dpi, self.pixels.len())
    }
}

impl GreyPage {
    /// Line `y`, padded with white when the pixels run short.
    fn line(&self, y: u32) -> std::borrow::Cow<'_, [u8]> {
        let w = self.width as usize;
        let start = (y as usize).saturating_mul(w);
        let end = start.saturating_add(w);
        if end <= self.pixels.len() {
            std::borrow::Cow::Borrowed(&self.pixels[start..end])
        } else {
            let mut line = vec![0xFF; w];
            if start < self.pixels.len() {
                let have = &self.pixels[start..];
                line[..have.len()].copy_from_slice(have);
            }
            std::borrow::Cow::Owned(line)
        }
    }

    /// Page size in points (1/72 inch), rounded.
    pub fn size_points(&self) -> (u32, u32) {
        let dpi = u64::from(self.dpi.max(1));
        let pt = |px: u32| ((u64::from(px) * 72 + dpi / 2) / dpi) as u32;
        (pt(self.width), pt(self.height))
    }
}

/// The PWG media name of a page size in points, when it is a common one (within 2 points).
pub fn size_name(points: (u32, u32)) -> &'static str {
    const NAMES: [((u32, u32), &str); 5] = [
        ((595, 842), "iso_a4_210x297mm"),
        ((420, 595), "iso_a5_148x210mm"),
        ((842, 1191), "iso_a3_297x420mm"),
        ((612, 792), "na_letter_8.5x11in"),
        ((612, 1008), "na_legal_8.5x14in"),
    ];
    NAMES
        .iter()
        .find(|((w, h), _)| points.0.abs_diff(*w) <= 2 && points.1.abs_diff(*h) <= 2)
        .map_or("", |(_, name)| name)
}

// Header offsets (PWG 5102.4, table 1). Integers are 32-bit big-endian; strings are 64-byte
// NUL-terminated fields.
const PWG_RASTER: usize = 0;
const HW_RESOLUTION: usize = 276;
const NUM_COPIES: usize = 340;
const PAGE_SIZE: usize = 352;
const WIDTH: usize = 372;
const HEIGHT: usize = 376;
const BITS_PER_COLOR: usize = 384;
const BITS_PER_PIXEL: usize = 388;
const BYTES_PER_LINE: usize = 392;
const COLOR_ORDER: usize = 396;
const COLOR_SPACE: usize = 400;
const NUM_COLORS: usize = 420;
const TOTAL_PAGE_COUNT: usize = 452;
const CROSS_FEED_TRANSFORM: usize = 456;
const FEED_TRANSFORM: usize = 460;
const IMAGE_BOX_RIGHT: usize = 472;
const IMAGE_BOX_BOTTOM: usize = 476;
const ALTERNATE_PRIMARY: usize = 480;
const PAGE_SIZE_NAME: usize = 1732;

/// `ColorSpace` of sRGB grey (`sgray`).
const SGRAY: u32 = 18;

fn put_u32(header: &mut [u8], at: usize, v: u32) {
    header[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn put_str(header: &mut [u8], at: usize, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(63)];
    header[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The page header of `page`, one of `total` pages, as `sgray_8`.
///
/// Left at zero or empty, meaning "the printer's default" or "no": MediaColor, MediaType,
/// PrintContentOptimize, CutMedia, Duplex, ImagingBoundingBox, InsertSheet, Jog, LeadingEdge
/// (short edge first), MediaPosition, MediaWeight, Orientation (portrait), Tumble, PrintQuality,
/// VendorIdentifier and its data, RenderingIntent.
pub fn header(page: &GreyPage, total: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    put_str(&mut h, PWG_RASTER, "PwgRaster");
    put_u32(&mut h, HW_RESOLUTION, page.dpi);
    put_u32(&mut h, HW_RESOLUTION + 4, page.dpi);
    put_u32(&mut h, NUM_COPIES, 1);
    let points = page.size_points();
    put_u32(&mut h, PAGE_SIZE, points.0);
    put_u32(&mut h, PAGE_SIZE + 4, points.1);
    put_u32(&mut h, WIDTH, page.width);
    put_u32(&mut h, HEIGHT, page.height);
    put_u32(&mut h, BITS_PER_COLOR, 8);
    put_u32(&mut h, BITS_PER_PIXEL, 8);
    put_u32(&mut h, BYTES_PER_LINE, page.width);
    put_u32(&mut h, COLOR_ORDER, 0);
    put_u32(&mut h, COLOR_SPACE, SGRAY);
    put_u32(&mut h, NUM_COLORS, 1);
    put_u32(&mut h, TOTAL_PAGE_COUNT, u32::try_from(total).unwrap_or(0));
    put_u32(&mut h, CROSS_FEED_TRANSFORM, 1);
    put_u32(&mut h, FEED_TRANSFORM, 1);
    put_u32(&mut h, IMAGE_BOX_RIGHT, page.width);
    put_u32(&mut h, IMAGE_BOX_BOTTOM, page.height);
    put_u32(&mut h, ALTERNATE_PRIMARY, 0x00FF_FFFF);
    put_str(&mut h, PAGE_SIZE_NAME, size_name(points));
    h
}

/// Compresses one line of pixels of `pixel` bytes each: a run is a count byte `n` (0..=127)
/// and one pixel repeated `n + 1` times; a literal is a byte `257 - n` (129..=255) and `n`
/// different pixels (2..=128). A lone pixel is a run of one.
fn compress_line(line: &[u8], pixel: usize, out: &mut Vec<u8>) {
    let count = line.len() / pixel;
    let px = |i: usize| &line[i * pixel..(i + 1) * pixel];
    let mut i = 0;
    while i < count {
        let mut run = 1;
        while i + run < count && run < 128 && px(i + run) == px(i) {
            run += 1;
        }
        if run > 1 {
            out.push((run - 1) as u8);
            out.extend_from_slice(px(i));
            i += run;
            continue;
        }
        // Literal pixels up to the next pair of equal ones.
        let start = i;
        while i < count && i - start < 128 && !(i + 1 < count && px(i) == px(i + 1)) {
            i += 1;
        }
        let n = i - start;
        if n == 1 {
            out.push(0);
        } else {
            out.push((257 - n) as u8);
        }
        out.extend_from_slice(&line[start * pixel..i * pixel]);
    }
}

/// Appends one page (header and compressed lines) to `out`.
fn encode_page(page: &GreyPage, total: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(&header(page, total));
    if page.width == 0 {
        return;
    }
    let mut y = 0;
    while y < page.height {
        let line = page.line(y);
        let mut repeat = 1;
        while y + repeat < page.height && repeat < 256 && page.line(y + repeat) == line {
            repeat += 1;
        }
        out.push((repeat - 1) as u8);
        compress_line(&line, 1, out);
        y += repeat;
    }
}

/// A PWG raster stream (`sgray_8`, chunky, one page header per page) of `pages`.
pub fn encode(pages: &[GreyPage]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + pages.len() * (HEADER_LEN + 64 * 1024));
    out.extend_from_slice(b"RaS2");
    for page in pages {
        encode_page(page, pages.len(), &mut out);
    }
    out
}

/// Rasterises a PDF into 8-bit grey pages at `dpi` with poppler's `pdftoppm` (Debian
/// `poppler-utils`), within `timeout`.
///
/// The PDF goes to `pdftoppm` on stdin and the pages come back as PGM on stdout, so nothing
/// touches the disk. Refused: more than [`MAX_PAGES`] pages or [`MAX_PIXEL_BYTES`], a resolution
/// outside [`DPI_RANGE`], anything poppler cannot read (all [`DeviceError::Unsupported`]).
/// `pdftoppm` missing is `Unsupported("pdftoppm missing …")`; too slow is
/// [`DeviceError::Timeout`]. The child is killed if this future is dropped.
pub async fn rasterise_pdf(pdf: &[u8], dpi: u32, timeout: Duration) -> Result<Vec<GreyPage>, DeviceError> {
    if !DPI_RANGE.contains(&dpi) {
        return Err(DeviceError::Unsupported(format!("a resolution of {dpi} dpi")));
    }
    let mut child = tokio::process::Command::new("pdftoppm")
        .arg("-r")
        .arg(dpi.to_string())
        .arg("-gray")
        .arg("-l")
        .arg((MAX_PAGES + 1).to_string())
        .arg("-W")
        .arg((MAX_PAGE_INCHES.0 * dpi).to_string())
        .arg("-H")
        .arg((MAX_PAGE_INCHES.1 * dpi).to_string())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => DeviceError::Unsupported("pdftoppm missing (install poppler-utils)".into()),
            _ => DeviceError::Unsupported(format!("pdftoppm does not start: {e}")),
        })?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(DeviceError::Unsupported("pdftoppm has no pipes".into()));
    };
    let feed = async move {
        // pdftoppm may stop reading a document it cannot parse: a broken pipe is its answer,
        // not ours to report.
        let _ = stdin.write_all(pdf).await;
        drop(stdin);
        Ok::<(), DeviceError>(())
    };
    let complaints = async move {
        // Read to the end (a blocked stderr would stall the pages) and keep the last 4 KiB.
        let mut stderr = stderr;
        let (mut kept, mut chunk) = (Vec::new(), [0u8; 4096]);
        while let Ok(n @ 1..) = stderr.read(&mut chunk).await {
            kept.extend_from_slice(&chunk[..n]);
            if kept.len() > 8192 {
                kept.drain(..kept.len() - 4096);
            }
        }
        Ok::<Vec<u8>, DeviceError>(kept)
    };
    let run = async {
        let (_, pages, complaints) = tokio::try_join!(feed, read_pgm_pages(stdout, dpi), complaints)?;
        let status = child.wait().await.map_err(|e| DeviceError::Unsupported(format!("pdftoppm: {e}")))?;
        Ok::<_, DeviceError>((status, pages, complaints))
    };
    let (status, pages, complaints) = tokio::time::timeout(timeout, run).await.map_err(|_| DeviceError::Timeout)??;
    if !status.success() {
        let said = String::from_utf8_lossy(&complaints);
        let last = said.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
        let last: String = last.chars().take(120).collect();
        return Err(DeviceError::Unsupported(format!(
            "not a PDF poppler can read (pdftoppm exit {}): {last}",
            status.code().map_or_else(|| "by signal".to_string(), |c| c.to_string())
        )));
    }
    if pages.is_empty() {
        return Err(DeviceError::Unsupported("the PDF has no pages".into()));
    }
    Ok(pages)
}

/// Reads the PGM (P5, maxval 255) pages `pdftoppm` writes one after another, within the
/// page and byte bounds.
async fn read_pgm_pages<R: AsyncRead + Unpin>(source: R, dpi: u32) -> Result<Vec<GreyPage>, DeviceError> {
    let mut reader = BufReader::with_capacity(256 * 1024, source);
    let mut pages = Vec::new();
    let mut total = 0usize;
    let odd = |what: &str| DeviceError::Unsupported(format!("pdftoppm wrote {what}"));
    loop {
        if reader.fill_buf().await.map_err(|_| odd("nothing readable"))?.is_empty() {
            return Ok(pages);
        }
        let magic = pgm_token(&mut reader).await?;
        if magic != "P5" {
            return Err(odd("something that is not grey PGM"));
        }
        let mut numbers = [0usize; 3];
        for n in &mut numbers {
            *n = pgm_token(&mut reader).await?.parse().map_err(|_| odd("a PGM header without its sizes"))?;
        }
        let [width, height, maxval] = numbers;
        if maxval != 255 {
            return Err(odd("PGM that is not 8-bit"));
        }
        if pages.len() == MAX_PAGES {
            return Err(DeviceError::Unsupported(format!("more than {MAX_PAGES} pages to rasterise")));
        }
        let bytes = width.checked_mul(height).filter(|b| total + b <= MAX_PIXEL_BYTES).ok_or_else(|| {
            DeviceError::Unsupported(format!("more than {} MiB of pixels to rasterise", MAX_PIXEL_BYTES >> 20))
        })?;
        total += bytes;
        let mut pixels = vec![0u8; bytes];
        reader.read_exact(&mut pixels).await.map_err(|_| odd("a page cut short"))?;
        let (width, height) = (u32::try_from(width), u32::try_from(height));
        let (Ok(width), Ok(height)) = (width, height) else {
            return Err(odd("a page too large"));
        };
        pages.push(GreyPage { width, height, dpi, pixels });
    }
}

/// One whitespace-separated token of a PGM header (comments skipped); the single whitespace
/// byte after it is consumed, as PGM wants before the pixels.
async fn pgm_token<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Result<String, DeviceError> {
    let bad = || DeviceError::Unsupported("pdftoppm wrote a broken PGM header".into());
    let mut token = String::new();
    let mut comment = false;
    loop {
        let byte = reader.read_u8().await.map_err(|_| bad())?;
        if comment {
            comment = byte != b'\n';
        } else if byte == b'#' && token.is_empty() {
            comment = true;
        } else if byte.is_ascii_whitespace() {
            if !token.is_empty() {
                return Ok(token);
            }
        } else if token.len() < 16 {
            token.push(char::from(byte));
        } else {
            return Err(bad());
        }
    }
}

/// Rasterises a PDF at `dpi` and encodes it as a PWG raster stream ([`FORMAT`]): what a
/// printer that takes no PDF but takes `image/pwg-raster` in `sgray_8` is sent. The encoding
/// runs on a blocking thread.
pub async fn pdf_to_pwg(pdf: &[u8], dpi: u32, timeout: Duration) -> Result<Vec<u8>, DeviceError> {
    let pages = rasterise_pdf(pdf, dpi, timeout).await?;
    tokio::task::spawn_blocking(move || encode(&pages))
        .await
        .map_err(|_| DeviceError::Unsupported("the raster encoder stopped".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    fn str_at(b: &[u8], at: usize) -> &str {
        let field = &b[at..at + 64];
        std::str::from_utf8(&field[..field.iter().position(|&c| c == 0).unwrap()]).unwrap()
    }

    /// A decoder for these tests only (the tests crate has its own, written from the spec).
    fn decode_lines(mut data: &[u8], width: usize, height: usize) -> (Vec<u8>, usize) {
        let start = data.len();
        let mut pixels = Vec::new();
        while pixels.len() < width * height {
            let repeat = data[0] as usize + 1;
            data = &data[1..];
            let mut line = Vec::new();
            while line.len() < width {
                let n = data[0];
                if n <= 127 {
                    line.extend(std::iter::repeat_n(data[1], n as usize + 1));
                    data = &data[2..];
                } else {
                    let count = 257 - n as usize;
                    line.extend_from_slice(&data[1..1 + count]);
                    data = &data[1 + count..];
                }
            }
            assert_eq!(line.len(), width, "runs end at the line's end");
            for _ in 0..repeat {
                pixels.extend_from_slice(&line);
            }
        }
        (pixels, start - data.len())
    }

    fn page(width: u32, height: u32, pixels: Vec<u8>) -> GreyPage {
        GreyPage { width, height, dpi: 300, pixels }
    }

    #[test]
    fn the_header_holds_each_field_at_its_offset() {
        let p = page(2480, 3508, vec![255; 2480 * 3508]);
        let h = header(&p, 2);
        assert_eq!(h.len(), 1796);
        assert_eq!(str_at(&h, 0), "PwgRaster");
        assert_eq!(str_at(&h, 64), "", "MediaColor");
        assert_eq!(str_at(&h, 128), "", "MediaType");
        assert_eq!(str_at(&h, 192), "", "PrintContentOptimize");
        assert_eq!((u32_at(&h, 268), u32_at(&h, 272)), (0, 0), "CutMedia, Duplex");
        assert_eq!((u32_at(&h, 276), u32_at(&h, 280)), (300, 300), "HWResolution");
        assert!(h[284..300].iter().all(|&b| b == 0), "ImagingBoundingBox");
        assert_eq!(u32_at(&h, 340), 1, "NumCopies");
        assert_eq!(u32_at(&h, 344), 0, "Orientation");
        assert_eq!((u32_at(&h, 352), u32_at(&h, 356)), (595, 842), "PageSize");
        assert_eq!(u32_at(&h, 368), 0, "Tumble");
        assert_eq!((u32_at(&h, 372), u32_at(&h, 376)), (2480, 3508), "Width, Height");
        assert_eq!((u32_at(&h, 384), u32_at(&h, 388), u32_at(&h, 392)), (8, 8, 2480), "bits, bytes per line");
        assert_eq!((u32_at(&h, 396), u32_at(&h, 400), u32_at(&h, 420)), (0, 18, 1), "chunky sgray, 1 color");
        assert_eq!(u32_at(&h, 452), 2, "TotalPageCount");
        assert_eq!((u32_at(&h, 456), u32_at(&h, 460)), (1, 1), "Cross/FeedTransform");
        assert_eq!((u32_at(&h, 472), u32_at(&h, 476)), (2480, 3508), "ImageBoxRight/Bottom");
        assert_eq!(u32_at(&h, 480), 0xFF_FFFF, "AlternatePrimary");
        assert_eq!(u32_at(&h, 484), 0, "PrintQuality");
        assert_eq!(u32_at(&h, 508), 0, "VendorIdentifier");
        assert_eq!(str_at(&h, 1668), "", "RenderingIntent");
        assert_eq!(str_at(&h, 1732), "iso_a4_210x297mm");
        let letter = header(&GreyPage { width: 1275, height: 1650, dpi: 150, pixels: vec![] }, 1);
        assert_eq!(str_at(&letter, 1732), "na_letter_8.5x11in");
        assert_eq!(str_at(&header(&page(100, 100, vec![]), 1), 1732), "", "no name for an odd size");
    }

    #[test]
    fn uniform_lines_are_runs_of_at_most_128_and_lines_repeat() {
        let p = page(300, 3, vec![255; 900]);
        let out = encode(std::slice::from_ref(&p));
        assert_eq!(&out[..4], b"RaS2");
        assert_eq!(&out[4 + HEADER_LEN..], [2, 127, 255, 127, 255, 43, 255], "3 lines, 128 + 128 + 44 white");
        // 300 equal lines: a repeat byte holds at most 256.
        let tall = page(2, 300, vec![0; 600]);
        let out = encode(&[tall]);
        assert_eq!(&out[4 + HEADER_LEN..], [255, 1, 0, 43, 1, 0]);
    }

    #[test]
    fn varied_lines_mix_literals_and_runs() {
        let mut line = vec![1, 2, 3, 3, 3, 4];
        line.extend((0..130).map(|i| (i % 251) as u8));
        line.push(9);
        let p = page(line.len() as u32, 1, line.clone());
        let out = encode(&[p]);
        let body = &out[4 + HEADER_LEN..];
        assert_eq!(&body[..8], [0, 255, 1, 2, 2, 3, 129, 4], "literal 1 2, run of 3 threes, literal of 128");
        assert_eq!(&body[7..7 + 128], &line[5..133]);
        assert_eq!(&body[135..], [253, 127, 128, 129, 9], "the rest: a literal of 4");
        let (pixels, used) = decode_lines(body, line.len(), 1);
        assert_eq!((pixels, used), (line, body.len()));
    }

    #[test]
    fn short_pixels_read_as_white_and_nothing_panics() {
        let p = page(4, 2, vec![0, 0]);
        let out = encode(&[p]);
        let (pixels, _) = decode_lines(&out[4 + HEADER_LEN..], 4, 2);
        assert_eq!(pixels, [0, 0, 255, 255, 255, 255, 255, 255]);
        assert_eq!(encode(&[page(0, 5, vec![])]).len(), 4 + HEADER_LEN);
        assert_eq!(encode(&[]), b"RaS2");
    }

    /// Paper, ink, or anything: runs and literals both occur.
    fn pixel() -> impl proptest::strategy::Strategy<Value = u8> {
        use proptest::strategy::Just;
        proptest::prop_oneof![Just(0u8), Just(255u8), proptest::num::u8::ANY]
    }

    proptest::proptest! {
        #[test]
        fn pages_decode_to_their_pixels(
            width in 1usize..300,
            rows in proptest::collection::vec(proptest::collection::vec(pixel(), 1..300), 1..12),
            dup in 0usize..300,
        ) {
            let mut pixels = Vec::new();
            for (i, row) in rows.iter().enumerate() {
                let line: Vec<u8> = (0..width).map(|x| row[x % row.len()]).collect();
                let times = if i == 0 { dup + 1 } else { 1 };
                for _ in 0..times {
                    pixels.extend_from_slice(&line);
                }
            }
            let height = pixels.len() / width;
            let p = GreyPage { width: width as u32, height: height as u32, dpi: 150, pixels: pixels.clone() };
            let out = encode(&[p]);
            let (decoded, used) = decode_lines(&out[4 + HEADER_LEN..], width, height);
            proptest::prop_assert_eq!(decoded, pixels);
            proptest::prop_assert_eq!(used, out.len() - 4 - HEADER_LEN);
        }
    }

    #[tokio::test]
    async fn pgm_pages_are_read_within_bounds() {
        let mut two = b"P5\n3 2\n255\n".to_vec();
        two.extend_from_slice(&[0, 1, 2, 3, 4, 5]);
        two.extend_from_slice(b"P5 # a comment\n1 1 255\n");
        two.push(7);
        let pages = read_pgm_pages(&two[..], 72).await.unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!((pages[0].width, pages[0].height, &pages[0].pixels[..]), (3, 2, &[0u8, 1, 2, 3, 4, 5][..]));
        assert_eq!(pages[1].pixels, [7]);
        assert!(matches!(read_pgm_pages(&b"P6\n1 1\n255\n\0\0\0"[..], 72).await, Err(DeviceError::Unsupported(_))));
        assert!(matches!(read_pgm_pages(&b"P5\n4 4\n255\n\0"[..], 72).await, Err(DeviceError::Unsupported(_))));
        let huge = b"P5\n100000 100000\n255\n";
        assert!(matches!(read_pgm_pages(&huge[..], 72).await, Err(DeviceError::Unsupported(m)) if m.contains("MiB")));
        let mut many = Vec::new();
        for _ in 0..=MAX_PAGES {
            many.extend_from_slice(b"P5\n1 1\n255\n\xff");
        }
        assert!(matches!(read_pgm_pages(&many[..], 72).await, Err(DeviceError::Unsupported(m)) if m.contains("pages")));
        assert_eq!(read_pgm_pages(&b""[..], 72).await.unwrap(), vec![]);
    }

    #[tokio::test]
    async fn a_receipt_rasterises_to_a4_and_garbage_is_refused() {
        assert!(
            std::process::Command::new("pdftoppm").arg("-v").output().is_ok(),
            "pdftoppm is needed (poppler-utils, a runtime dependency of the box): apt install poppler-utils"
        );
        let pdf = crate::document::render(&crate::document::Document {
            title: "Uji".into(),
            letterhead: vec!["DINAS KEPENDUDUKAN".into()],
            blocks: vec![crate::document::Block::Title("TANDA TERIMA".into())],
            footer: "Simpul".into(),
        })
        .unwrap();
        let pages = rasterise_pdf(&pdf, 100, Duration::from_secs(30)).await.unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].size_points(), (595, 842), "{:?}", pages[0]);
        assert!(pages[0].pixels.iter().any(|&p| p < 128), "some ink");
        let e = rasterise_pdf(b"not a pdf at all", 100, Duration::from_secs(30)).await.unwrap_err();
        assert!(matches!(e, DeviceError::Unsupported(ref m) if m.contains("PDF")), "{e:?}");
        assert!(!e.retryable());
        let e = rasterise_pdf(&pdf, 5000, Duration::from_secs(30)).await.unwrap_err();
        assert!(matches!(e, DeviceError::Unsupported(_)), "{e:?}");
        // A rasteriser that takes longer than allowed is a timeout: a page at 1200 dpi is far
        // more work than a budget of a millisecond, on any machine.
        let e = rasterise_pdf(&pdf, 1200, Duration::from_millis(1)).await.unwrap_err();
        assert_eq!(e, DeviceError::Timeout);
    }
}
