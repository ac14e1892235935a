//! What the simulated devices capture, drawn from a seed so every run gives the same bytes:
//! faces, fingerprints, irises and signatures, preview frames, ISO/IEC 19794 records and an
//! oversized PNG for the fault that sends one.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma, Rgb, RgbImage};
use ring::digest::{SHA256, digest};

use super::kind::SimKind;

/// The quality score of a capture: 60-95, or 20-34 for a part presented poorly.
pub(super) fn quality(seed: u64, serial: &str, sub_type: &str, poor: bool) -> u32 {
    let spread = hash_of(seed, serial, sub_type)[0] as u32;
    if poor { 20 + spread % 15 } else { 60 + spread % 36 }
}

pub(super) fn hash_of(seed: u64, serial: &str, what: &str) -> [u8; 32] {
    let mut input = seed.to_le_bytes().to_vec();
    input.extend_from_slice(serial.as_bytes());
    input.push(0);
    input.extend_from_slice(what.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, &input).as_ref());
    out
}

/// A parameter in `[lo, hi)` from one byte of a hash.
pub(super) fn param(h: &[u8; 32], i: usize, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * (h[i % 32] as f32 / 256.0)
}

pub(super) fn draw(kind: SimKind, seed: u64, serial: &str, sub_type: &str) -> Vec<u8> {
    let h = hash_of(seed, serial, sub_type);
    match kind {
        SimKind::Face => encode_rgb(&face(&h), ImageFormat::Jpeg),
        SimKind::Finger => encode_gray(&fingerprint(&h), ImageFormat::Png),
        SimKind::Iris => encode_rgb(&iris(&h, sub_type == "Right"), ImageFormat::Jpeg),
        SimKind::Signature => encode_gray(&signature(&h), ImageFormat::Png),
    }
}

/// `image` (a PNG or JPEG this simulator drew) as the ISO/IEC 19794 record a MOSIP device would
/// send for it: part 4 for a finger, 5 for a face, 6 for an eye, 2011 editions, one
/// representation with one quality block. `None` for a signature (no such standard) or an
/// image whose size cannot be read.
pub fn iso_record(kind: SimKind, sub_type: &str, image: &[u8], quality: u32) -> Option<Vec<u8>> {
    let png = image.starts_with(b"\x89PNG");
    let (width, height) =
        image::ImageReader::new(Cursor::new(image)).with_guessed_format().ok()?.into_dimensions().ok()?;
    let (width, height) = (u16::try_from(width).ok()?, u16::try_from(height).ok()?);
    let mut body = Vec::new();
    // Capture date and time (a fixed one: the simulator is deterministic), the capture device
    // technology, its vendor and type, one quality block (score, algorithm vendor and id).
    body.extend_from_slice(&2026u16.to_be_bytes());
    body.extend_from_slice(&[1, 1, 8, 0, 0, 0, 0]);
    body.push(1);
    body.extend_from_slice(&[0x53, 0x49, 0x00, 0x01]);
    body.extend_from_slice(&[1, quality.min(100) as u8, 0x53, 0x49, 0x00, 0x01]);
    let (magic, version, general): (&[u8], &[u8], Vec<u8>) = match kind {
        SimKind::Finger => {
            // ISO finger positions: right thumb 1 to right little 5, left thumb 6 to left little 10.
            let order = [
                "Right Thumb",
                "Right IndexFinger",
                "Right MiddleFinger",
                "Right RingFinger",
                "Right LittleFinger",
                "Left Thumb",
                "Left IndexFinger",
                "Left MiddleFinger",
                "Left RingFinger",
                "Left LittleFinger",
            ];
            let position = order.iter().position(|n| *n == sub_type).map_or(0, |i| i as u8 + 1);
            body.extend_from_slice(&[position, 0, 1]); // representation 0, pixels per inch
            for _ in 0..4 {
                body.extend_from_slice(&500u16.to_be_bytes()); // capture and image sampling rates
            }
            body.extend_from_slice(&[8, if png { 6 } else { 3 }, 0]); // bit depth, compression, live-scan plain
            body.extend_from_slice(&width.to_be_bytes());
            body.extend_from_slice(&height.to_be_bytes());
            (b"FIR\0", b"020\0", vec![1]) // one finger
        }
        SimKind::Face => {
            body.extend_from_slice(&[0, 0]); // no landmark points
            body.extend_from_slice(&[0; 15]); // gender .. pose uncertainty: unspecified
            body.extend_from_slice(&[1, if png { 3 } else { 0 }]); // full frontal; PNG or JPEG
            body.extend_from_slice(&width.to_be_bytes());
            body.extend_from_slice(&height.to_be_bytes());
            body.extend_from_slice(&[0, 0, 0, 0, 1]); // sampling level, processing, cross ref, 24-bit RGB
            (b"FAC\0", b"030\0", vec![0, 0]) // temporal semantics: one image
        }
        SimKind::Iris => {
            body.extend_from_slice(&[0, 1, if sub_type == "Right" { 1 } else { 2 }, 3]); // representation, eye, cropped
            body.extend_from_slice(&[if png { 0x10 } else { 0x08 }, 0b0100_0101]); // RGB PNG / JPEG; base orientation, lossless
            body.extend_from_slice(&width.to_be_bytes());
            body.extend_from_slice(&height.to_be_bytes());
            body.extend_from_slice(&[8, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]); // bit depth, range, roll angle and uncertainty
            body.extend_from_slice(&[0; 12]); // iris centre and diameter: unknown
            (b"IIR\0", b"020\0", vec![1]) // one eye
        }
        SimKind::Signature => return None,
    };
    body.extend_from_slice(&(image.len() as u32).to_be_bytes());
    body.extend_from_slice(image);
    let representation_length = (body.len() + 4) as u32;
    let header_length = 4 + 4 + 4 + 2 + 1 + general.len();
    let mut out = magic.to_vec();
    out.extend_from_slice(version);
    out.extend_from_slice(&((header_length as u32) + representation_length).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0]); // one representation, not certified
    out.extend_from_slice(&general);
    out.extend_from_slice(&representation_length.to_be_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

pub(super) fn encode_rgb(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    // Encoding an in-memory RGB buffer to JPEG or PNG does not fail.
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

pub(super) fn encode_gray(img: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// Inside the ellipse centred at (cx, cy) with radii (rx, ry): its normalised radius squared.
pub(super) fn ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> f32 {
    ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)
}

/// A passport-style photo, 480 x 640: background, shoulders, head, hair, eyes, nose, mouth.
pub(super) fn face(h: &[u8; 32]) -> RgbImage {
    let tones = [[224u8, 187, 152], [198, 150, 110], [160, 112, 80], [120, 84, 60]];
    let skin = tones[(h[0] % 4) as usize];
    let cloth = [h[1] / 3, h[2] / 3 + 40, h[3] / 2 + 60];
    let head_ry = param(h, 4, 180.0, 215.0);
    let eye_y = param(h, 5, 275.0, 300.0);
    let mouth_w = param(h, 6, 40.0, 60.0);
    RgbImage::from_fn(480, 640, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let px = if ellipse(x, y, 240.0, 700.0, 270.0, 170.0) < 1.0 {
            cloth
        } else if ellipse(x, y, 240.0, 300.0, 150.0, head_ry) < 1.0 {
            if y < 190.0 && ellipse(x, y, 240.0, 300.0, 150.0, head_ry) > 0.55 {
                [40, 30, 25]
            } else if ellipse(x, y, 185.0, eye_y, 22.0, 11.0) < 1.0 || ellipse(x, y, 295.0, eye_y, 22.0, 11.0) < 1.0 {
                if ellipse(x, y, 185.0, eye_y, 8.0, 8.0) < 1.0 || ellipse(x, y, 295.0, eye_y, 8.0, 8.0) < 1.0 {
                    [50, 35, 30]
                } else {
                    [245, 245, 240]
                }
            } else if (x - 240.0).abs() < 4.0 && (eye_y + 20.0..eye_y + 80.0).contains(&y) {
                [skin[0] - 30, skin[1] - 30, skin[2] - 30]
            } else if ellipse(x, y, 240.0, eye_y + 120.0, mouth_w, 12.0) < 1.0 {
                [170, 70, 70]
            } else {
                skin
            }
        } else if ellipse(x, y, 240.0, 270.0, 165.0, head_ry + 25.0) < 1.0 && y < 260.0 {
            [40, 30, 25]
        } else {
            let shade = 200 + (y / 640.0 * 40.0) as u8;
            [shade - 20, shade, 235]
        };
        Rgb(px)
    })
}

/// One fingertip, 256 x 320: ridges around a core whose place, spacing, twist and shape come
/// from the finger's hash, inside an oval.
pub(super) fn fingerprint(h: &[u8; 32]) -> GrayImage {
    let (cx, cy) = (param(h, 0, 95.0, 160.0), param(h, 1, 120.0, 200.0));
    let period = param(h, 2, 7.0, 10.0);
    let twist = param(h, 3, -2.0, 2.0);
    let stretch = param(h, 4, 0.7, 1.4);
    let arch = param(h, 5, 0.0, 1.0);
    GrayImage::from_fn(256, 320, |x, y| {
        let (x, y) = (x as f32, y as f32);
        if ellipse(x, y, 128.0, 160.0, 110.0, 150.0) > 1.0 {
            return Luma([255]);
        }
        let (dx, dy) = (x - cx, (y - cy) * stretch);
        let r = (dx * dx + dy * dy).sqrt();
        let theta = dy.atan2(dx);
        let phase = (1.0 - arch) * r + arch * (y + 18.0 * (x / 40.0).sin()) + twist * theta * period;
        let v = (phase / period * std::f32::consts::TAU).sin();
        Luma([(140.0 - 110.0 * v) as u8])
    })
}

/// One eye, 640 x 480: white, an iris with rings and spokes in a colour from the hash, pupil
/// and highlight.
pub(super) fn iris(h: &[u8; 32], right: bool) -> RgbImage {
    let base = [param(h, 0, 60.0, 140.0), param(h, 1, 40.0, 90.0), param(h, 2, 20.0, 60.0)];
    let rings = param(h, 3, 0.25, 0.5);
    let spokes = param(h, 4, 18.0, 40.0).round();
    let pupil = param(h, 5, 32.0, 48.0);
    let cx = if right { 330.0 } else { 310.0 };
    RgbImage::from_fn(640, 480, |x, y| {
        let (x, y) = (x as f32, y as f32);
        let (dx, dy) = (x - cx, y - 240.0);
        let r = (dx * dx + dy * dy).sqrt();
        let px = if ellipse(x, y, 320.0, 240.0, 280.0, 140.0) > 1.0 {
            [200, 160, 140]
        } else if r < pupil {
            [10, 10, 12]
        } else if r < 115.0 {
            let t = 0.75 + 0.15 * (r * rings).sin() + 0.1 * (dy.atan2(dx) * spokes).sin();
            [(base[0] * t) as u8, (base[1] * t) as u8, (base[2] * t) as u8]
        } else {
            [235, 232, 228]
        };
        let highlight = ellipse(x, y, cx - 25.0, 215.0, 9.0, 9.0) < 1.0;
        Rgb(if highlight { [250, 250, 250] } else { px })
    })
}

/// A handwritten signature, 600 x 200: a looping stroke and an underline.
pub(super) fn signature(h: &[u8; 32]) -> GrayImage {
    let mut img = GrayImage::from_pixel(600, 200, Luma([255]));
    let (a, b) = (param(h, 0, 25.0, 45.0), param(h, 1, 8.0, 20.0));
    let (w, phi) = (param(h, 2, 12.0, 22.0), param(h, 3, 0.0, 6.0));
    let mut dot = |x: f32, y: f32| {
        for oy in -1..=1 {
            for ox in -1..=1 {
                let (px, py) = (x as i32 + ox, y as i32 + oy);
                if (0..600).contains(&px) && (0..200).contains(&py) {
                    img.put_pixel(px as u32, py as u32, Luma([20]));
                }
            }
        }
    };
    for i in 0..4000 {
        let t = i as f32 / 4000.0;
        let x = 50.0 + 480.0 * t + 18.0 * (w * t * 2.0 + phi).cos();
        let y = 95.0 + a * (w * t + phi).sin() * (1.0 - 0.5 * t) + b * (3.0 * w * t).sin();
        dot(x, y);
    }
    for x in 60..520 {
        dot(x as f32, 165.0 + 3.0 * (x as f32 / 50.0).sin());
    }
    img
}

/// One preview frame, 320 x 240: a bar sweeping across.
pub(super) fn preview_frame(n: u64, shade: u8) -> Vec<u8> {
    let bar = (n * 32 % 320) as u32;
    let img = RgbImage::from_fn(320, 240, |x, y| {
        if x.abs_diff(bar) < 12 { Rgb([250, 250, 250]) } else { Rgb([shade, (y / 2) as u8, (x / 2) as u8]) }
    });
    encode_rgb(&img, ImageFormat::Jpeg)
}

/// A small PNG whose header claims 60000 x 60000 pixels of grey.
pub(super) fn huge_png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut png, b"IEND", &[]);
    png
}

pub(super) fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO-HDLC), as PNG chunks carry it.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
