//! Tests of the SBI driver: signatures (EdDSA, RS256, ES256), pins, captures and their records.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;

use super::*;
use crate::iso19794::ImageEncoding;

fn key(n: u8) -> Ed25519KeyPair {
    Ed25519KeyPair::from_seed_unchecked(&[n; 32]).unwrap()
}

fn sign_with(alg: &str, header_key: &Ed25519KeyPair, signer: &Ed25519KeyPair, payload: &[u8]) -> String {
    let x = URL_SAFE_NO_PAD.encode(header_key.public_key().as_ref());
    let header = json!({"alg": alg, "typ": "JWT", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}});
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()), URL_SAFE_NO_PAD.encode(payload));
    let sig = signer.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

fn sign(k: &Ed25519KeyPair, payload: &[u8]) -> String {
    sign_with("EdDSA", k, k, payload)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The payload of a finger device's digital id.
fn digital_id_payload(serial: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"serialNo": serial, "make": "T", "model": "M", "type": "Finger",
            "deviceSubType": "Slap", "deviceProvider": "T", "dateTime": "2026-01-01T00:00:00Z"}))
    .unwrap()
}

/// The payload of one capture's `data`.
fn data_payload(digital_id: &str, serial: &str, image: &[u8], sub_type: &str, quality: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"digitalId": digital_id, "deviceCode": serial, "bioType": "Finger",
            "bioSubType": sub_type, "purpose": "Registration", "env": "Production",
            "bioValue": URL_SAFE_NO_PAD.encode(image), "transactionId": "T-9",
            "timestamp": "2026-01-01T00:00:00Z", "requestedScore": "40", "qualityScore": quality}))
    .unwrap()
}

fn capture(id_key: &Ed25519KeyPair, data_key: &Ed25519KeyPair, image: &[u8], serial: &str) -> String {
    let digital_id = sign(id_key, &digital_id_payload(serial));
    sign(data_key, &data_payload(&digital_id, serial, image, "Right Thumb", json!(77.6)))
}

#[test]
fn a_signed_capture_verifies_and_a_foreign_key_is_an_identity_problem() {
    let k = key(1);
    let jws = capture(&k, &k, &png(32, 40), "SERIAL000001");
    let fp = key_fingerprint(k.public_key().as_ref());
    let c = verify_capture(&jws, Some(&fp)).unwrap();
    assert_eq!((c.modality, c.sub_type, c.quality, c.requested), (Modality::Finger, BioSubType::RightThumb, 78, 40));
    assert_eq!(c.content_type, "image/png");
    assert_eq!(c.serial, "SERIAL000001");
    assert_eq!(c.transaction_id, "T-9");
    assert_eq!(c.key_fingerprint.len(), 64);
    assert!(verify_capture(&jws, None).is_ok());
    let other = key_fingerprint(key(2).public_key().as_ref());
    let e = verify_capture(&jws, Some(&other)).unwrap_err();
    assert_eq!(e.code(), "identity", "{e}");
}

#[test]
fn an_iso_19794_record_is_taken_with_its_picture_when_one_can_be_shown() {
    use crate::iso19794::tests::record;
    let k = key(1);
    let digital_id = sign(&k, &digital_id_payload("S1"));
    let signed = |bytes: &[u8]| sign(&k, &data_payload(&digital_id, "S1", bytes, "Right Thumb", json!(80)));
    // A finger record with a PNG inside: the record is kept, its picture shown.
    let inner = png(40, 50);
    let c = verify_capture(&signed(&record(RecordKind::Finger, 6, &inner, &[80], None)), None).unwrap();
    assert_eq!(c.content_type, BIOMETRIC_RECORD_MIME);
    assert!(c.image.starts_with(b"FIR\0"));
    let summary = c.record.expect("a record");
    assert_eq!((summary.kind, summary.encoding), (RecordKind::Finger, ImageEncoding::Png));
    assert_eq!(summary.picture, Some((inner, "image/png")));
    assert_eq!(summary.describe(), "ISO/IEC 19794-4:2011, PNG, 400 x 500");
    // WSQ (as most fingerprint devices send): kept as it is, nothing to show.
    let wsq = verify_capture(&signed(&record(RecordKind::Finger, 2, b"\xFF\xA0 wsq", &[80], None)), None).unwrap();
    assert_eq!(wsq.record.as_ref().map(|r| (r.encoding, r.picture.is_none())), Some((ImageEncoding::Wsq, true)));
    // A face record sent as a fingerprint, a broken record, a "PNG" inside that is not one.
    let face = verify_capture(&signed(&record(RecordKind::Face, 3, &png(8, 8), &[80], None)), None);
    assert!(matches!(face, Err(DeviceError::Protocol(ref m)) if m.contains("19794-5")), "{face:?}");
    let mut broken = record(RecordKind::Finger, 6, &png(8, 8), &[80], None);
    broken.truncate(broken.len() - 3);
    assert!(matches!(verify_capture(&signed(&broken), None), Err(DeviceError::Protocol(_))));
    let liar = record(RecordKind::Finger, 6, b"\x89PNG\r\n\x1a\n not really", &[80], None);
    assert!(matches!(verify_capture(&signed(&liar), None), Err(DeviceError::Protocol(_))));
}

#[test]
fn bad_signatures_and_keys_are_refused() {
    let (k, j) = (key(1), key(2));
    // Signed by another key than the one the header names.
    let forged = sign_with("EdDSA", &k, &j, b"{}");
    assert!(matches!(verify_jws(&forged, "x"), Err(DeviceError::Identity(_))));
    // A payload changed after signing.
    let jws = capture(&k, &k, &png(8, 8), "S1");
    let parts: Vec<&str> = jws.split('.').collect();
    let changed = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(b"{\"x\":1}"), parts[2]);
    assert!(matches!(verify_capture(&changed, None), Err(DeviceError::Identity(_))));
    // Digital id signed by another key than the data.
    let mixed = capture(&j, &k, &png(8, 8), "S1");
    assert!(matches!(verify_capture(&mixed, None), Err(DeviceError::Identity(_))));
    // Algorithms Simpul does not verify; RS256 without the certificate it needs; unsigned
    // blocks; garbage.
    assert!(matches!(verify_jws(&sign_with("HS256", &k, &k, b"{}"), "x"), Err(DeviceError::Unsupported(_))));
    assert!(matches!(verify_jws(&sign_with("RS256", &k, &k, b"{}"), "x"), Err(DeviceError::Protocol(_))));
    assert!(matches!(verify_jws("eyJ9", "x"), Err(DeviceError::Identity(_))));
    assert!(matches!(verify_jws("a.b", "x"), Err(DeviceError::Protocol(_))));
    assert!(matches!(verify_jws("!!.??.**", "x"), Err(DeviceError::Protocol(_))));
    assert!(matches!(verify_capture("", None), Err(DeviceError::Protocol(_))));
}

/// A device key and certificate as an SBI device provider issues them: `alg` and the
/// signing function.
type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;

struct CertifiedSigner {
    alg: &'static str,
    certificate: Vec<u8>,
    sign: SignFn,
}

impl CertifiedSigner {
    /// An RSA-2048 key and self-signed certificate made by the openssl command.
    fn rsa(dir: &std::path::Path) -> CertifiedSigner {
        let (key_pem, cert_der, key_der) = (dir.join("k.pem"), dir.join("c.der"), dir.join("k.der"));
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl").args(args).output().expect("the openssl command runs");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let (kp, cd, kd) = (key_pem.to_str().unwrap(), cert_der.to_str().unwrap(), key_der.to_str().unwrap());
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=SIM RS256 DEVICE",
            "-days",
            "2",
            "-keyout",
            kp,
            "-outform",
            "DER",
            "-out",
            cd,
        ]);
        run(&["pkcs8", "-topk8", "-nocrypt", "-in", kp, "-outform", "DER", "-out", kd]);
        let pair = ring::signature::RsaKeyPair::from_pkcs8(&std::fs::read(&key_der).unwrap()).unwrap();
        CertifiedSigner {
            alg: "RS256",
            certificate: std::fs::read(&cert_der).unwrap(),
            sign: Box::new(move |input| {
                let mut sig = vec![0; pair.public().modulus_len()];
                pair.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input, &mut sig)
                    .unwrap();
                sig
            }),
        }
    }

    /// A P-256 key and self-signed certificate.
    fn p256() -> CertifiedSigner {
        let made = rcgen::generate_simple_self_signed(vec!["sim-es256-device".to_string()]).unwrap();
        let rng = ring::rand::SystemRandom::new();
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &made.key_pair.serialize_der(),
            &rng,
        )
        .unwrap();
        CertifiedSigner {
            alg: "ES256",
            certificate: made.cert.der().to_vec(),
            sign: Box::new(move |input| pair.sign(&ring::rand::SystemRandom::new(), input).unwrap().as_ref().to_vec()),
        }
    }

    fn jws(&self, payload: &[u8]) -> String {
        use base64::engine::general_purpose::STANDARD;
        let header = json!({"alg": self.alg, "typ": "JWT", "x5c": [STANDARD.encode(&self.certificate)]});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        format!("{input}.{}", URL_SAFE_NO_PAD.encode((self.sign)(input.as_bytes())))
    }

    fn capture(&self, image: &[u8], serial: &str) -> String {
        let digital_id = self.jws(&digital_id_payload(serial));
        self.jws(&data_payload(&digital_id, serial, image, "Left Thumb", json!("61")))
    }
}

#[test]
fn captures_signed_as_mosip_devices_sign_verify_by_their_certificate() {
    let dir = std::env::temp_dir().join(format!("simpul-sbi-rsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (rsa, p256) = (CertifiedSigner::rsa(&dir), CertifiedSigner::p256());
    let _ = std::fs::remove_dir_all(&dir);
    for signer in [&rsa, &p256] {
        let jws = signer.capture(&png(16, 16), "SBI-CERT-0001");
        let c = verify_capture(&jws, None).unwrap_or_else(|e| panic!("{}: {e}", signer.alg));
        assert_eq!((c.sub_type, c.quality, c.serial.as_str()), (BioSubType::LeftThumb, 61, "SBI-CERT-0001"));
        // Pinned by the certificate's key: the same key verifies, another is refused.
        assert!(verify_capture(&jws, Some(&c.key_fingerprint)).is_ok());
        let other = if signer.alg == "RS256" { &p256 } else { &rsa };
        let foreign = verify_capture(&other.capture(&png(16, 16), "SBI-CERT-0001"), Some(&c.key_fingerprint));
        assert_eq!(foreign.unwrap_err().code(), "identity", "{}", signer.alg);
        // A payload changed after signing, or a certificate swapped in for another's.
        let parts: Vec<&str> = jws.split('.').collect();
        let changed = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(b"{\"x\":1}"), parts[2]);
        assert!(matches!(verify_capture(&changed, None), Err(DeviceError::Identity(_))), "{}", signer.alg);
        let swapped_header = other.jws(b"{}").split('.').next().unwrap().to_string();
        let swapped = format!("{swapped_header}.{}.{}", parts[1], parts[2]);
        assert!(verify_capture(&swapped, None).is_err(), "{}", signer.alg);
    }
    // A certificate that is not one, or none at all.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","x5c":["bm90IGEgY2VydGlmaWNhdGU="]}"#);
    assert!(matches!(verify_jws(&format!("{header}.e30.AAAA"), "x"), Err(DeviceError::Protocol(_))));
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","x5c":[]}"#);
    assert!(matches!(verify_jws(&format!("{header}.e30.AAAA"), "x"), Err(DeviceError::Protocol(_))));
}

#[test]
fn images_are_checked() {
    let k = key(3);
    let not_image = capture(&k, &k, b"GIF89a a picture in a format devices do not send", "S1");
    assert!(matches!(verify_capture(&not_image, None), Err(DeviceError::Unsupported(_))));
    // Something that begins like an ISO 19794-4 record and is not one.
    let not_record = capture(&k, &k, b"FIR\0 an ISO 19794-4 record", "S1");
    assert!(matches!(verify_capture(&not_record, None), Err(DeviceError::Protocol(_))));
    let too_wide = capture(&k, &k, &png(MAX_IMAGE_SIDE + 1, 1), "S1");
    assert!(matches!(verify_capture(&too_wide, None), Err(DeviceError::TooLarge(_))));
    let mut truncated = png(8, 8);
    truncated.truncate(12);
    let truncated = capture(&k, &k, &truncated, "S1");
    assert!(matches!(verify_capture(&truncated, None), Err(DeviceError::Protocol(_))));
    assert!(matches!(
        verify_capture(&"a".repeat(MAX_CAPTURE_BYTES + 1), None),
        Err(DeviceError::TooLarge(MAX_CAPTURE_BYTES))
    ));
}

#[test]
fn pins_name_what_changed() {
    let pins = [Pin { serial: "A".into(), key_fingerprint: "aa".into() }];
    assert!(check_pins(&[], "B", "bb").is_ok());
    assert!(check_pins(&pins, "A", "AA").is_ok());
    let e = check_pins(&pins, "A", "bb").unwrap_err().to_string();
    assert!(e.contains("now signs with key"), "{e}");
    let e = check_pins(&pins, "B", "aa").unwrap_err().to_string();
    assert!(e.contains("now claims serial 'B'"), "{e}");
    let e = check_pins(&pins, "B", "bb").unwrap_err().to_string();
    assert!(e.contains("not configured here"), "{e}");
}

#[test]
fn sbi_errors_become_device_errors() {
    let e = |code: &str, info: &str| sbi_error(&SbiError { error_code: code.into(), error_info: info.into() });
    assert_eq!(e("106", "Device not found"), DeviceError::NeedsAttention(Attention::Offline));
    assert_eq!(e("100", "").code(), "identity");
    assert_eq!(e("101", "x").code(), "other:sbi-101 no biometric detected");
    assert_eq!(e("503", "Device busy"), DeviceError::Busy);
    assert_eq!(e("577", "Busy, try later"), DeviceError::Busy);
    assert!(matches!(e("109", "too many"), DeviceError::Unsupported(_)));
    assert_eq!(e("599", "Lens dirty").code(), "other:sbi-599 Lens dirty");
}

#[test]
fn bases_and_scores() {
    assert_eq!(
        SbiService::new("http://127.0.0.1:4501/", Duration::from_secs(1)).unwrap().base(),
        "http://127.0.0.1:4501"
    );
    assert!(SbiService::new("127.0.0.1:4501", Duration::from_secs(1)).is_err());
    assert!(SbiService::new("http:///x", Duration::from_secs(1)).is_err());
    assert_eq!(score(99.6, "q").unwrap(), 100);
    assert!(score(100.5, "q").is_err());
    assert!(score(-1.0, "q").is_err());
}
