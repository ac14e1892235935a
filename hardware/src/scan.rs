//! What every scanner path shares: colour modes, a scanned page with its type checked against
//! its bytes, and the reduced copy of a page that goes to the hub (`for_sync`: grey, 200 dpi,
//! JPEG). The page as scanned stays on the box.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{ImageError, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::DeviceError;

/// How a page is captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorMode {
    /// Colour, 8 bits per channel.
    Rgb24,
    /// Grey, 8 bits.
    Grayscale8,
    /// Black and white, 1 bit.
    BlackAndWhite1,
}

impl ColorMode {
    /// Stable code, as stored.
    pub fn code(self) -> &'static str {
        match self {
            ColorMode::Rgb24 => "rgb24",
            ColorMode::Grayscale8 => "grayscale8",
            ColorMode::BlackAndWhite1 => "black_and_white1",
        }
    }
}

/// One page as the scanner delivered it.
#[derive(Clone, PartialEq, Eq)]
pub struct ScannedPage {
    /// MIME type, checked against the bytes: `image/jpeg`, `image/png` or `application/pdf`.
    pub content_type: String,
    /// The page as delivered.
    pub bytes: Vec<u8>,
    /// Resolution the page was scanned at (the one offered nearest to the one asked).
    pub dpi: u32,
}

impl std::fmt::Debug for ScannedPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScannedPage")
            .field("content_type", &self.content_type)
            .field("bytes", &self.bytes.len())
            .field("dpi", &self.dpi)
            .finish()
    }
}

/// The MIME type the bytes' first bytes announce, among the page formats scanners deliver.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Resolution of the copy sent to the hub.
pub const SYNC_DPI: u32 = 200;
/// JPEG quality of the copy sent to the hub.
pub const SYNC_JPEG_QUALITY: u8 = 60;
/// Widest and tallest page decoded, in pixels (a metre and a half at 300 dpi).
pub const MAX_SIDE_PX: u32 = 20_000;
/// Most memory the decoder may take for one page.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// The copy of a scanned page that goes to the hub: grey, at most [`SYNC_DPI`], JPEG at
/// [`SYNC_JPEG_QUALITY`]. `source_dpi` is the resolution the page was scanned at; a page at
/// 200 dpi or less keeps its size (never enlarged).
///
/// JPEG and PNG are read; a PDF page is `Unsupported` (kept as scanned). A header announcing
/// more than [`MAX_SIDE_PX`] on a side, or a page needing more than [`MAX_DECODE_BYTES`] to
/// decode, is refused before the memory is taken (`TooLarge`); bytes that do not decode are
/// `Protocol`.
pub fn for_sync(bytes: &[u8], source_dpi: u32) -> Result<Vec<u8>, DeviceError> {
    let format = match sniff(bytes) {
        Some("image/jpeg") => ImageFormat::Jpeg,
        Some("image/png") => ImageFormat::Png,
        Some(other) => return Err(DeviceError::Unsupported(format!("a {other} page is kept as scanned"))),
        None => return Err(DeviceError::Protocol("the page is not a JPEG or PNG image".into())),
    };
    if source_dpi == 0 || source_dpi > 10_000 {
        return Err(DeviceError::Unsupported(format!("a page at {source_dpi} dpi")));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        ImageError::Limits(_) => DeviceError::TooLarge(MAX_DECODE_BYTES as usize),
        other => DeviceError::Protocol(format!("the page does not decode: {}", clip(&other.to_string(), 120))),
    })?;
    let grey = decoded.into_luma8();
    let (width, height) = grey.dimensions();
    let grey = if source_dpi > SYNC_DPI {
        let dpi = u64::from(source_dpi);
        let scale = |side: u32| ((u64::from(side) * u64::from(SYNC_DPI) + dpi / 2) / dpi).max(1) as u32;
        image::imageops::resize(&grey, scale(width), scale(height), FilterType::Triangle)
    } else {
        grey
    };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, SYNC_JPEG_QUALITY)
        .encode_image(&grey)
        .map_err(|e| DeviceError::Protocol(format!("the page does not encode: {}", clip(&e.to_string(), 120))))?;
    Ok(out)
}

pub(crate) fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgb, RgbImage};

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        let mut chunk = kind.to_vec();
        chunk.extend(data);
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(&chunk);
        out.extend(crc32(&chunk).to_be_bytes());
    }

    /// A well-formed PNG claiming `width` x `height` RGB, with no pixel data.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        let mut ihdr = Vec::new();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        png_chunk(&mut out, b"IHDR", &ihdr);
        png_chunk(&mut out, b"IDAT", &[]);
        png_chunk(&mut out, b"IEND", &[]);
        out
    }

    /// An A4 page at 300 dpi in colour, like a form: paper with a little noise, lines of
    /// "text", a coloured stamp.
    fn colour_page() -> Vec<u8> {
        let img = RgbImage::from_fn(2480, 3508, |x, y| {
            let noise = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 7;
            let paper = 244 + noise as u8;
            let in_text = y % 60 < 22 && (x / 18) % 7 != 0 && (200..2280).contains(&x) && y > 300;
            let in_stamp = (1700..2100).contains(&x) && (2900..3300).contains(&y);
            if in_stamp {
                Rgb([40, 60, 160 + (x % 60) as u8])
            } else if in_text {
                Rgb([30, 30, 30 + noise as u8])
            } else {
                Rgb([paper, paper, paper - 8])
            }
        });
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
        out
    }

    #[test]
    fn a_300_dpi_colour_page_becomes_a_smaller_grey_200_dpi_jpeg() {
        let page = colour_page();
        let small = for_sync(&page, 300).unwrap();
        assert!(small.len() < page.len(), "{} >= {}", small.len(), page.len());
        assert_eq!(sniff(&small), Some("image/jpeg"));
        let decoded = image::load_from_memory(&small).unwrap();
        assert_eq!(decoded.dimensions(), (1653, 2339));
        assert_eq!(decoded.color(), image::ColorType::L8);
    }

    #[test]
    fn a_page_at_200_dpi_or_less_keeps_its_size() {
        let img = RgbImage::from_pixel(100, 140, Rgb([10, 200, 10]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let out = for_sync(&png, 150).unwrap();
        assert_eq!(image::load_from_memory(&out).unwrap().dimensions(), (100, 140));
    }

    #[test]
    fn a_huge_claimed_size_is_refused_before_allocation() {
        let e = for_sync(&png_header(100_000, 100_000), 300).unwrap_err();
        assert!(matches!(e, DeviceError::TooLarge(_)), "{e:?}");
        // Within the side limit but beyond the memory bound: 20000 x 20000 x 3 bytes.
        let e = for_sync(&png_header(20_000, 20_000), 300).unwrap_err();
        assert!(matches!(e, DeviceError::TooLarge(_)), "{e:?}");
    }

    #[test]
    fn garbage_and_other_formats_are_refused() {
        assert!(matches!(for_sync(b"hello, not an image", 300), Err(DeviceError::Protocol(_))));
        assert!(matches!(for_sync(&[], 300), Err(DeviceError::Protocol(_))));
        let mut broken = vec![0xFF, 0xD8, 0xFF, 0xE0];
        broken.extend([0x13; 200]);
        assert!(matches!(for_sync(&broken, 300), Err(DeviceError::Protocol(_))));
        assert!(matches!(for_sync(b"%PDF-1.4\n", 300), Err(DeviceError::Unsupported(_))));
        assert!(matches!(for_sync(&colour_page(), 0), Err(DeviceError::Unsupported(_))));
    }

    #[test]
    fn pages_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xDB]), Some("image/jpeg"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(&png_header(1, 1)), Some("image/png"));
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }
}
