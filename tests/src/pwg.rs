//! A PWG Raster (PWG 5102.4) reader for the tests: what a printer receives, decoded from the
//! specification independently of the encoder it checks. Strict: a stream the specification
//! does not allow is an error naming what is wrong.

/// The page header fields the tests look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageHeader {
    /// `PwgRaster` (octets 0-63).
    pub media_class: String,
    /// HWResolution, cross-feed and feed, dpi.
    pub resolution: (u32, u32),
    /// PageSize in points.
    pub page_size: (u32, u32),
    /// Width in pixels.
    pub width: u32,
    /// Height in lines.
    pub height: u32,
    /// BitsPerColor.
    pub bits_per_color: u32,
    /// BitsPerPixel.
    pub bits_per_pixel: u32,
    /// BytesPerLine.
    pub bytes_per_line: u32,
    /// ColorOrder (0 chunky).
    pub color_order: u32,
    /// ColorSpace (18 sgray, 19 srgb, 3 black).
    pub color_space: u32,
    /// NumColors.
    pub num_colors: u32,
    /// TotalPageCount.
    pub total_page_count: u32,
    /// CrossFeedTransform and FeedTransform.
    pub transforms: (i32, i32),
    /// AlternatePrimary.
    pub alternate_primary: u32,
    /// PageSizeName.
    pub page_size_name: String,
}

/// One decoded page: its header and `bytes_per_line * height` bytes of pixels.
#[derive(Clone, PartialEq, Eq)]
pub struct RasterPage {
    /// The header.
    pub header: PageHeader,
    /// Uncompressed lines.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for RasterPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RasterPage({:?}, {} bytes)", self.header, self.pixels.len())
    }
}

const HEADER: usize = 1796;

fn be(h: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([h[offset], h[offset + 1], h[offset + 2], h[offset + 3]])
}

fn cstring(h: &[u8], offset: usize) -> Result<String, String> {
    let field = &h[offset..offset + 64];
    let end = field.iter().position(|b| *b == 0).ok_or_else(|| format!("string at {offset} has no NUL"))?;
    String::from_utf8(field[..end].to_vec()).map_err(|_| format!("string at {offset} is not text"))
}

fn parse_header(h: &[u8]) -> Result<PageHeader, String> {
    Ok(PageHeader {
        media_class: cstring(h, 0)?,
        resolution: (be(h, 276), be(h, 280)),
        page_size: (be(h, 352), be(h, 356)),
        width: be(h, 372),
        height: be(h, 376),
        bits_per_color: be(h, 384),
        bits_per_pixel: be(h, 388),
        bytes_per_line: be(h, 392),
        color_order: be(h, 396),
        color_space: be(h, 400),
        num_colors: be(h, 420),
        total_page_count: be(h, 452),
        transforms: (be(h, 456) as i32, be(h, 460) as i32),
        alternate_primary: be(h, 480),
        page_size_name: cstring(h, 1732)?,
    })
}

/// Decodes a whole PWG raster stream.
pub fn decode(stream: &[u8]) -> Result<Vec<RasterPage>, String> {
    let mut rest = stream.strip_prefix(b"RaS2").ok_or("no RaS2 sync word")?;
    let mut pages = Vec::new();
    while !rest.is_empty() {
        if rest.len() < HEADER {
            return Err(format!("page {}: header cut short ({} bytes)", pages.len() + 1, rest.len()));
        }
        let header = parse_header(&rest[..HEADER])?;
        rest = &rest[HEADER..];
        let page = pages.len() + 1;
        if header.media_class != "PwgRaster" {
            return Err(format!("page {page}: MediaClass is {:?}", header.media_class));
        }
        if header.bits_per_pixel == 0 || header.bits_per_pixel > 128 {
            return Err(format!("page {page}: {} bits per pixel", header.bits_per_pixel));
        }
        let bpl = (u64::from(header.width) * u64::from(header.bits_per_pixel)).div_ceil(8);
        if bpl != u64::from(header.bytes_per_line) {
            return Err(format!("page {page}: BytesPerLine {} for width {}", header.bytes_per_line, header.width));
        }
        // The unit of compression: a pixel, or a byte when pixels are smaller than one.
        let unit = (header.bits_per_pixel as usize).div_ceil(8);
        let bpl = bpl as usize;
        let size = bpl.checked_mul(header.height as usize).filter(|s| *s <= 1 << 30).ok_or("page too large")?;
        let mut pixels = Vec::with_capacity(size);
        while pixels.len() < size {
            let (&repeat, after) = rest.split_first().ok_or_else(|| format!("page {page}: cut short"))?;
            rest = after;
            let mut line = Vec::with_capacity(bpl);
            while line.len() < bpl {
                let (&op, after) = rest.split_first().ok_or_else(|| format!("page {page}: line cut short"))?;
                rest = after;
                let (count, literal) = match op {
                    0..=127 => (op as usize + 1, false),
                    128 => return Err(format!("page {page}: run byte 128")),
                    _ => (257 - op as usize, true),
                };
                if line.len() + count * unit > bpl {
                    return Err(format!("page {page}: a run crosses the end of a line"));
                }
                let take = if literal { count * unit } else { unit };
                if rest.len() < take {
                    return Err(format!("page {page}: run cut short"));
                }
                if literal {
                    line.extend_from_slice(&rest[..take]);
                } else {
                    for _ in 0..count {
                        line.extend_from_slice(&rest[..unit]);
                    }
                }
                rest = &rest[take..];
            }
            for _ in 0..=repeat {
                if pixels.len() == size {
                    return Err(format!("page {page}: lines repeat past the page's height"));
                }
                pixels.extend_from_slice(&line);
            }
        }
        pages.push(RasterPage { header, pixels });
    }
    Ok(pages)
}
