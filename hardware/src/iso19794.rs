//! ISO/IEC 19794 biometric data interchange records, 2011 editions, as MOSIP SBI devices put
//! them in a capture's `bioValue`: finger images (part 4, `FIR`, version `020`), face images
//! (part 5, `FAC`, version `030`) and iris images (part 6, `IIR`, version `020`).
//!
//! Only the structure is read: what the record holds, its quality score and where its image
//! lies. The image itself is opaque here (WSQ and JPEG 2000 are not decoded; a JPEG or PNG
//! inside can be shown). Every length in the record is checked against the bytes there are,
//! so a truncated or lying record is an error, never a read out of bounds. All numbers are
//! big-endian.

use std::ops::Range;

use simpul_sbi::Modality;

/// Most representations taken from one record (MOSIP devices send one).
pub const MAX_REPRESENTATIONS: u16 = 16;

/// Which part of ISO/IEC 19794 a record follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// Part 4, finger images (`FIR`).
    Finger,
    /// Part 5, face images (`FAC`).
    Face,
    /// Part 6, iris images (`IIR`).
    Iris,
}

impl RecordKind {
    /// The record kind a record's first four bytes announce.
    pub fn of(bytes: &[u8]) -> Option<RecordKind> {
        match bytes.get(..4)? {
            b"FIR\0" => Some(RecordKind::Finger),
            b"FAC\0" => Some(RecordKind::Face),
            b"IIR\0" => Some(RecordKind::Iris),
            _ => None,
        }
    }

    /// What the record is a capture of.
    pub fn modality(self) -> Modality {
        match self {
            RecordKind::Finger => Modality::Finger,
            RecordKind::Face => Modality::Face,
            RecordKind::Iris => Modality::Iris,
        }
    }

    /// "ISO/IEC 19794-4" and so on.
    pub fn standard(self) -> &'static str {
        match self {
            RecordKind::Finger => "ISO/IEC 19794-4:2011",
            RecordKind::Face => "ISO/IEC 19794-5:2011",
            RecordKind::Iris => "ISO/IEC 19794-6:2011",
        }
    }

    /// The edition read (version field).
    fn version(self) -> &'static [u8; 4] {
        match self {
            RecordKind::Finger | RecordKind::Iris => b"020\0",
            RecordKind::Face => b"030\0",
        }
    }
}

/// How a representation's image is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageEncoding {
    /// Uncompressed pixels.
    Raw,
    /// Wavelet Scalar Quantization (fingerprints).
    Wsq,
    /// JPEG.
    Jpeg,
    /// JPEG 2000, lossy or lossless.
    Jpeg2000,
    /// PNG.
    Png,
}

impl ImageEncoding {
    /// Whether a browser can show it as it is.
    pub fn displayable(self) -> bool {
        matches!(self, ImageEncoding::Jpeg | ImageEncoding::Png)
    }

    /// A short name ("WSQ", "JPEG 2000").
    pub fn name(self) -> &'static str {
        match self {
            ImageEncoding::Raw => "raw",
            ImageEncoding::Wsq => "WSQ",
            ImageEncoding::Jpeg => "JPEG",
            ImageEncoding::Jpeg2000 => "JPEG 2000",
            ImageEncoding::Png => "PNG",
        }
    }
}

/// One representation (one finger, face or eye image) of a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Representation {
    /// Finger position (1-10 single fingers, 13-15 slaps, ...), eye label (1 right, 2 left,
    /// 0 unspecified), 0 for a face.
    pub position: u8,
    /// The first quality block's score, 0-100; `None` without a block or when it says the
    /// quality could not be computed (255).
    pub quality: Option<u8>,
    /// The image's encoding.
    pub encoding: ImageEncoding,
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Where the image lies in the record's bytes.
    pub image: Range<usize>,
}

/// A record's structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Which part it follows.
    pub kind: RecordKind,
    /// Its representations, at least one.
    pub representations: Vec<Representation>,
}

/// Why a record cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The bytes do not begin with `FIR`, `FAC` or `IIR`.
    #[error("not an ISO/IEC 19794 finger, face or iris record")]
    NotARecord,
    /// Another edition than the 2011 one (say, the 2005 one, laid out differently).
    #[error("{0} records of version '{1}' are not read (only the 2011 edition)")]
    Edition(&'static str, String),
    /// The bytes end before a field.
    #[error("the record ends inside its {0}")]
    Truncated(&'static str),
    /// A length field disagrees with the bytes there are.
    #[error("the record's {0} does not match its bytes")]
    Length(&'static str),
    /// A field holds a value the standard does not define.
    #[error("the record's {0} holds an undefined value ({1})")]
    Value(&'static str, u32),
}

/// Reads a record's structure.
pub fn parse(bytes: &[u8]) -> Result<Record, RecordError> {
    let kind = RecordKind::of(bytes).ok_or(RecordError::NotARecord)?;
    let mut r = Reader { bytes, at: 4 };
    let version = r.take(4, "version")?;
    if version != kind.version() {
        let shown = String::from_utf8_lossy(version).trim_end_matches('\0').chars().take(4).collect();
        return Err(RecordError::Edition(kind.standard(), shown));
    }
    let length = r.u32("record length")? as usize;
    if length != bytes.len() {
        return Err(RecordError::Length("record length"));
    }
    let count = r.u16("number of representations")?;
    if count == 0 || count > MAX_REPRESENTATIONS {
        return Err(RecordError::Value("number of representations", u32::from(count)));
    }
    let certified = match r.u8("certification flag")? {
        0 => false,
        1 => true,
        other => return Err(RecordError::Value("certification flag", u32::from(other))),
    };
    match kind {
        // Number of fingers or palms; temporal semantics; eyes represented.
        RecordKind::Finger => r.skip(1, "general header")?,
        RecordKind::Face => r.skip(2, "general header")?,
        RecordKind::Iris => r.skip(1, "general header")?,
    }
    let mut representations = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let start = r.at;
        let length = r.u32("representation length")? as usize;
        let end = start.checked_add(length).filter(|&e| e <= bytes.len() && length >= 4);
        let end = end.ok_or(RecordError::Length("representation length"))?;
        // The representation is read on its own bytes: nothing in it may reach past its end.
        let mut rep = Reader { bytes: &bytes[..end], at: r.at };
        representations.push(representation(kind, certified, &mut rep)?);
        // Whatever follows the image inside the representation (a finger record's extended
        // data blocks) is skipped by the representation's length.
        r.at = end;
    }
    if r.at != bytes.len() {
        return Err(RecordError::Length("record length"));
    }
    Ok(Record { kind, representations })
}

fn representation(kind: RecordKind, certified: bool, r: &mut Reader<'_>) -> Result<Representation, RecordError> {
    // Capture date and time (9), capture device technology (1), vendor (2), type (2).
    r.skip(14, "representation header")?;
    let blocks = r.u8("quality blocks")?;
    let mut quality = None;
    for i in 0..blocks {
        let score = r.u8("quality block")?;
        r.skip(4, "quality block")?;
        if i == 0 {
            quality = match score {
                0..=100 => Some(score),
                255 => None,
                other => return Err(RecordError::Value("quality score", u32::from(other))),
            };
        }
    }
    let (position, encoding, width, height) = match kind {
        RecordKind::Finger => {
            if certified {
                let certifications = r.u8("certification blocks")?;
                r.skip(3 * usize::from(certifications), "certification blocks")?;
            }
            let position = r.u8("finger position")?;
            // Representation number, scale units, capture and image sampling rates, bit depth.
            r.skip(1 + 1 + 4 + 4 + 1, "finger image header")?;
            let encoding = match r.u8("compression algorithm")? {
                0 | 1 => ImageEncoding::Raw,
                2 => ImageEncoding::Wsq,
                3 => ImageEncoding::Jpeg,
                4 | 5 => ImageEncoding::Jpeg2000,
                6 => ImageEncoding::Png,
                other => return Err(RecordError::Value("compression algorithm", u32::from(other))),
            };
            r.skip(1, "impression type")?;
            let (width, height) = (r.u16("image width")?, r.u16("image height")?);
            (position, encoding, width, height)
        }
        RecordKind::Face => {
            let landmarks = r.u16("facial information")?;
            // The rest of the facial information: gender, eye and hair colour, height,
            // property mask, expression, pose and its uncertainty.
            r.skip(15, "facial information")?;
            r.skip(8 * usize::from(landmarks), "landmark points")?;
            r.skip(1, "face image type")?;
            let encoding = match r.u8("image data type")? {
                0 => ImageEncoding::Jpeg,
                1 | 2 => ImageEncoding::Jpeg2000,
                3 => ImageEncoding::Png,
                other => return Err(RecordError::Value("image data type", u32::from(other))),
            };
            let (width, height) = (r.u16("image width")?, r.u16("image height")?);
            // Spatial sampling rate level, post-acquisition processing, cross reference,
            // colour space.
            r.skip(1 + 2 + 1 + 1, "image information")?;
            (0, encoding, width, height)
        }
        RecordKind::Iris => {
            r.skip(2, "representation number")?;
            let eye = r.u8("eye label")?;
            if eye > 2 {
                return Err(RecordError::Value("eye label", u32::from(eye)));
            }
            r.skip(1, "image type")?;
            let encoding = match r.u8("image format")? {
                0x02 | 0x04 => ImageEncoding::Raw,
                0x06 | 0x08 => ImageEncoding::Jpeg,
                0x0A | 0x0C => ImageEncoding::Jpeg2000,
                0x0E | 0x10 => ImageEncoding::Png,
                other => return Err(RecordError::Value("image format", u32::from(other))),
            };
            r.skip(1, "image properties")?;
            let (width, height) = (r.u16("image width")?, r.u16("image height")?);
            // Bit depth, range, roll angle and its uncertainty, iris centre and diameter.
            r.skip(1 + 2 + 2 + 2 + 8 + 4, "iris image information")?;
            (eye, encoding, width, height)
        }
    };
    let length = r.u32("image length")? as usize;
    let start = r.at;
    r.skip(length, "image")?;
    if length == 0 || width == 0 || height == 0 {
        return Err(RecordError::Length("image"));
    }
    Ok(Representation { position, quality, encoding, width, height, image: start..start + length })
}

/// Reads fields from a slice, each read checked against its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], RecordError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or(RecordError::Truncated(what))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn skip(&mut self, n: usize, what: &'static str) -> Result<(), RecordError> {
        self.take(n, what).map(|_| ())
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, RecordError> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, RecordError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, RecordError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A one-representation record laid out field by field as the 2011 editions describe,
    /// written here independently of the parser (the simulator has its own writer).
    pub(crate) fn record(
        kind: RecordKind,
        code: u8,
        image: &[u8],
        quality: &[u8],
        certified_blocks: Option<u8>,
    ) -> Vec<u8> {
        let mut rep = Vec::new();
        rep.extend_from_slice(&[0x07, 0xEA, 11, 23, 10, 30, 0, 0x01, 0xF4]); // 2026-11-23 10:30:00.500
        rep.push(1); // capture device technology
        rep.extend_from_slice(&[0x00, 0x0F, 0x00, 0x01]); // vendor, type
        rep.push(quality.len() as u8);
        for q in quality {
            rep.extend_from_slice(&[*q, 0x00, 0x0F, 0x00, 0x01]);
        }
        match kind {
            RecordKind::Finger => {
                if let Some(n) = certified_blocks {
                    rep.push(n);
                    for _ in 0..n {
                        rep.extend_from_slice(&[0, 1, 2]);
                    }
                }
                rep.extend_from_slice(&[2, 0, 1]); // right index, representation 0, pixels per inch
                rep.extend_from_slice(&[0x01, 0xF4, 0x01, 0xF4, 0x01, 0xF4, 0x01, 0xF4]); // 500 ppi
                rep.extend_from_slice(&[8, code, 0]); // 8 bits, compression, live-scan plain
                rep.extend_from_slice(&[0x01, 0x90, 0x01, 0xF4]); // 400 x 500
            }
            RecordKind::Face => {
                rep.extend_from_slice(&[0, 1]); // one landmark
                rep.extend_from_slice(&[0; 15]);
                rep.extend_from_slice(&[1, 12, 0, 100, 0, 120, 0, 0]); // the landmark
                rep.extend_from_slice(&[1, code, 0x02, 0x80, 0x01, 0xE0]); // full frontal, 640 x 480
                rep.extend_from_slice(&[0, 0, 0, 0, 1]);
            }
            RecordKind::Iris => {
                rep.extend_from_slice(&[0, 1, 2, 3, code, 0b0100_0101]); // left eye, cropped
                rep.extend_from_slice(&[0x02, 0x80, 0x01, 0xE0, 8]); // 640 x 480, 8 bits
                rep.extend_from_slice(&[0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
                rep.extend_from_slice(&[0; 12]);
            }
        }
        rep.extend_from_slice(&(image.len() as u32).to_be_bytes());
        rep.extend_from_slice(image);
        let mut rep_with_length = ((rep.len() + 4) as u32).to_be_bytes().to_vec();
        rep_with_length.extend_from_slice(&rep);
        let (magic, version, header): (&[u8], &[u8], usize) = match kind {
            RecordKind::Finger => (b"FIR\0", b"020\0", 16),
            RecordKind::Face => (b"FAC\0", b"030\0", 17),
            RecordKind::Iris => (b"IIR\0", b"020\0", 16),
        };
        let mut out = magic.to_vec();
        out.extend_from_slice(version);
        out.extend_from_slice(&((header + rep_with_length.len()) as u32).to_be_bytes());
        out.extend_from_slice(&[0, 1, u8::from(certified_blocks.is_some())]);
        out.extend_from_slice(if kind == RecordKind::Face { &[0, 0][..] } else { &[1][..] });
        out.extend_from_slice(&rep_with_length);
        out
    }

    #[test]
    fn each_part_is_read_to_its_image() {
        let image = b"\xFF\xD8\xFF\xE0 a jpeg";
        for (kind, code, encoding, position, width) in [
            (RecordKind::Finger, 3, ImageEncoding::Jpeg, 2, 400),
            (RecordKind::Face, 0, ImageEncoding::Jpeg, 0, 640),
            (RecordKind::Iris, 0x06, ImageEncoding::Jpeg, 2, 640),
        ] {
            let bytes = record(kind, code, image, &[77], None);
            let parsed = parse(&bytes).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(parsed.kind, kind);
            let rep = &parsed.representations[0];
            assert_eq!((rep.position, rep.quality, rep.encoding, rep.width), (position, Some(77), encoding, width));
            assert_eq!(&bytes[rep.image.clone()], image, "{kind:?}");
        }
        // Where MOSIP's readers expect the image to start with one quality block: byte 62 of
        // a finger record, 73 of a face (no landmark) and of an iris record.
        let finger = parse(&record(RecordKind::Finger, 5, image, &[40], None)).unwrap();
        assert_eq!(finger.representations[0].image.start, 62);
        assert_eq!(finger.representations[0].encoding, ImageEncoding::Jpeg2000);
        let iris = parse(&record(RecordKind::Iris, 0x0A, image, &[80], None)).unwrap();
        assert_eq!(iris.representations[0].image.start, 73);
    }

    #[test]
    fn every_encoding_code_is_named_and_undefined_ones_refused() {
        let img = b"x";
        let code = |kind, c| parse(&record(kind, c, img, &[50], None)).map(|r| r.representations[0].encoding);
        assert_eq!(code(RecordKind::Finger, 2), Ok(ImageEncoding::Wsq));
        assert_eq!(code(RecordKind::Finger, 6), Ok(ImageEncoding::Png));
        assert_eq!(code(RecordKind::Finger, 0), Ok(ImageEncoding::Raw));
        assert_eq!(code(RecordKind::Face, 2), Ok(ImageEncoding::Jpeg2000));
        assert_eq!(code(RecordKind::Face, 3), Ok(ImageEncoding::Png));
        assert_eq!(code(RecordKind::Iris, 0x10), Ok(ImageEncoding::Png));
        assert_eq!(code(RecordKind::Iris, 0x0C), Ok(ImageEncoding::Jpeg2000));
        assert_eq!(code(RecordKind::Finger, 7), Err(RecordError::Value("compression algorithm", 7)));
        assert_eq!(code(RecordKind::Face, 4), Err(RecordError::Value("image data type", 4)));
        assert_eq!(code(RecordKind::Iris, 0x0B), Err(RecordError::Value("image format", 0x0B)));
        assert!(ImageEncoding::Png.displayable() && !ImageEncoding::Wsq.displayable());
    }

    #[test]
    fn quality_blocks_and_certification_blocks_are_stepped_over() {
        let img = b"\x89PNG";
        // No quality block; a failed score (255); two blocks, the first counts.
        assert_eq!(parse(&record(RecordKind::Iris, 0x0E, img, &[], None)).unwrap().representations[0].quality, None);
        assert_eq!(parse(&record(RecordKind::Face, 3, img, &[255], None)).unwrap().representations[0].quality, None);
        let two = parse(&record(RecordKind::Finger, 6, img, &[91, 12], None)).unwrap();
        assert_eq!(two.representations[0].quality, Some(91));
        assert_eq!(
            parse(&record(RecordKind::Finger, 6, img, &[101], None)),
            Err(RecordError::Value("quality score", 101))
        );
        // A certified finger record carries certification blocks before the position.
        let certified = record(RecordKind::Finger, 6, img, &[60], Some(2));
        let rep = &parse(&certified).unwrap().representations[0];
        assert_eq!((rep.position, &certified[rep.image.clone()]), (2, &img[..]));
    }

    #[test]
    fn lengths_that_lie_are_refused() {
        let good = record(RecordKind::Finger, 2, b"wsq bytes", &[70], None);
        assert!(parse(&good).is_ok());
        // Truncated anywhere, with the record and representation lengths made to agree with
        // the cut so that the reading goes on into the representation: an error naming where,
        // never a panic.
        for cut in 0..good.len() {
            let mut short = good[..cut].to_vec();
            agree_lengths(&mut short, 16);
            let e = parse(&short).expect_err("a truncated record");
            if cut >= 40 {
                assert!(matches!(e, RecordError::Truncated(_) | RecordError::Length("image")), "cut at {cut}: {e}");
            }
        }
        // A record length of more (or less) than there is.
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(parse(&longer), Err(RecordError::Length("record length")));
        // An image length reaching past its representation.
        let mut image_long = good.clone();
        let at = 58; // the image length field with one quality block
        image_long[at..at + 4].copy_from_slice(&1000u32.to_be_bytes());
        assert!(matches!(parse(&image_long), Err(RecordError::Truncated("image"))));
        // A representation length of zero or past the end.
        let mut rep_zero = good.clone();
        rep_zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(parse(&rep_zero), Err(RecordError::Length("representation length")));
        // No representation, or thousands announced.
        let mut none = good.clone();
        none[12..14].copy_from_slice(&0u16.to_be_bytes());
        assert_eq!(parse(&none), Err(RecordError::Value("number of representations", 0)));
        // The 2005 edition is another layout: named, not misread.
        let mut old = good.clone();
        old[4..8].copy_from_slice(b"010\0");
        assert_eq!(parse(&old), Err(RecordError::Edition("ISO/IEC 19794-4:2011", "010".into())));
        assert_eq!(parse(b"%PDF-1.7"), Err(RecordError::NotARecord));
    }

    /// Sets the record length and the one representation's length to what `bytes` holds, for a
    /// general header of `header` bytes.
    fn agree_lengths(bytes: &mut [u8], header: usize) {
        let total = bytes.len();
        if total >= 12 {
            bytes[8..12].copy_from_slice(&(total as u32).to_be_bytes());
        }
        if total >= header + 4 {
            bytes[header..header + 4].copy_from_slice(&((total - header) as u32).to_be_bytes());
        }
    }

    /// The property below reads records, not only refusals: a well-formed record of each part,
    /// split into its magic and its tail, is within what the property generates, and parses.
    #[test]
    fn the_property_reaches_records() {
        for (kind, magic, header) in [
            (RecordKind::Finger, &b"FIR\x00020\x00"[..], 16),
            (RecordKind::Face, b"FAC\x00030\x00", 17),
            (RecordKind::Iris, b"IIR\x00020\x00", 16),
        ] {
            let good = record(kind, 2, b"image bytes", &[70], None);
            assert!(good.starts_with(magic) && good.len() - magic.len() < 300, "{kind:?}");
            let mut bytes = magic.to_vec();
            bytes.extend_from_slice(&good[magic.len()..]);
            bytes[12..15].copy_from_slice(&[0, 1, 0]);
            agree_lengths(&mut bytes, header);
            assert!(parse(&bytes).is_ok(), "{kind:?}: {:?}", parse(&bytes));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_after_a_magic_are_an_answer_not_a_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            for (magic, header) in [(&b"FIR\x00020\x00"[..], 16), (b"FAC\x00030\x00", 17), (b"IIR\x00020\x00", 16)] {
                let mut bytes = magic.to_vec();
                bytes.extend_from_slice(&tail);
                // One representation, lengths that agree: the reading goes into it.
                if bytes.len() >= 15 {
                    bytes[12..15].copy_from_slice(&[0, 1, 0]);
                }
                agree_lengths(&mut bytes, header);
                // Either branch is checked: a record's images lie within the bytes, a refusal
                // names what it refuses (`the_property_reaches_records` shows records come).
                match parse(&bytes) {
                    Ok(record) => {
                        for rep in record.representations {
                            proptest::prop_assert!(rep.image.end <= bytes.len());
                        }
                    }
                    Err(e) => proptest::prop_assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
}
