//! Tests of the SBI simulator.

use std::io::Cursor;

use image::ImageFormat;

use super::*;

#[test]
fn drawings_are_deterministic_and_distinct_per_finger() {
    let a = draw(SimKind::Finger, 1, "S", "Left Thumb");
    assert_eq!(a, draw(SimKind::Finger, 1, "S", "Left Thumb"));
    assert_ne!(a, draw(SimKind::Finger, 1, "S", "Right Thumb"));
    assert_ne!(a, draw(SimKind::Finger, 2, "S", "Left Thumb"));
    assert!(a.starts_with(b"\x89PNG"));
    let face = draw(SimKind::Face, 1, "S", "");
    assert!(face.starts_with(&[0xFF, 0xD8, 0xFF]));
    assert_eq!(image::load_from_memory(&face).unwrap().to_rgb8().dimensions(), (480, 640));
    let eye = draw(SimKind::Iris, 1, "S", "Left");
    assert_eq!(image::load_from_memory(&eye).unwrap().to_rgb8().dimensions(), (640, 480));
    assert_ne!(eye, draw(SimKind::Iris, 1, "S", "Right"));
    assert!(draw(SimKind::Signature, 1, "S", "UNKNOWN").starts_with(b"\x89PNG"));
    for s in ["Left Thumb", "Right IndexFinger", "Left"] {
        assert!((60..=95).contains(&quality(7, "S", s, false)));
        assert!((20..=34).contains(&quality(7, "S", s, true)));
    }
}

#[test]
fn the_huge_png_is_well_formed_but_claims_a_huge_size() {
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    let png = huge_png();
    let d = image::ImageReader::with_format(Cursor::new(&png), ImageFormat::Png).into_dimensions();
    match d {
        Ok(dims) => assert_eq!(dims, (60_000, 60_000)),
        Err(e) => assert!(matches!(e, image::ImageError::Limits(_)), "{e}"),
    }
}

#[test]
fn keys_follow_seed_and_serial() {
    let a = derive_key("device", 1, "X").public();
    assert_eq!(a, derive_key("device", 1, "X").public());
    assert_ne!(a, derive_key("device", 2, "X").public());
    assert_ne!(a, derive_key("impostor", 1, "X").public());
    // Certified keys are made afresh, each with a certificate naming the device.
    let (b, c) = (certified_key("X"), certified_key("X"));
    assert_ne!(b.public(), c.public());
    assert!(matches!(&b, DeviceKey::P256 { certificate, .. } if certificate.len() > 100));
    assert_eq!(b.header()["alg"], "ES256");
    assert_eq!(unhex("0aFF"), Some(vec![10, 255]));
    assert_eq!(unhex("0a F"), None);
    assert_eq!(iso_now().len(), 24);
}
