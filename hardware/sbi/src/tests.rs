//! Requests as the specification spells them, answers as devices send them (numbers or
//! strings), capture plans, and preview streams split whatever their chunks.

use serde_json::{Value, json};

use super::*;

#[test]
fn a_ten_print_request_with_two_missing_fingers_uses_the_spec_names() {
    let r = capture_request(
        Modality::Finger,
        8,
        &[BioSubType::LeftLittle, BioSubType::RightThumb, BioSubType::LeftIris],
        "TX-1",
        40,
        "2",
        0,
    )
    .at("2026-05-01T09:00:00.000+08:00");
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["purpose"], "Registration");
    assert_eq!(v["specVersion"], "0.9.5");
    assert_eq!(v["timeout"], "10000");
    assert_eq!(v["captureTime"], "2026-05-01T09:00:00.000+08:00");
    assert_eq!(v["transactionId"], "TX-1");
    let bio = &v["bio"][0];
    assert_eq!(bio["type"], "Finger");
    assert_eq!(bio["count"], "8");
    assert_eq!(bio["requestedScore"], "40");
    assert_eq!(bio["deviceId"], "2");
    assert_eq!(bio["deviceSubId"], "0");
    assert_eq!(bio["previousHash"], FIRST_PREVIOUS_HASH);
    assert_eq!(bio["exception"], json!(["Left LittleFinger", "Right Thumb"]));
    let asked: Vec<&str> = bio["bioSubType"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(asked.len(), 8);
    assert!(asked.contains(&"Left IndexFinger") && asked.contains(&"Left Thumb"));
    assert!(!asked.contains(&"Right Thumb") && !asked.contains(&"Left LittleFinger"));
    let back: CaptureRequest = serde_json::from_value(v).unwrap();
    assert_eq!(back, r);
}

#[test]
fn face_iris_and_signature_requests() {
    let face = capture_request(Modality::Face, 1, &[BioSubType::RightIndex], "T", 50, "1", 0);
    let v = serde_json::to_value(&face).unwrap();
    assert!(v["bio"][0].get("bioSubType").is_none(), "a face has no bioSubType: {v}");
    assert_eq!(v["bio"][0]["exception"], json!(["Right IndexFinger"]));
    let iris = capture_request(Modality::Iris, 1, &[BioSubType::RightIris], "T", 50, "3", 3);
    assert_eq!(iris.bio[0].bio_sub_type, vec![BioSubType::LeftIris]);
    assert_eq!(serde_json::to_value(&iris).unwrap()["bio"][0]["exception"], json!(["Right"]));
    let sig = capture_request(Modality::Signature, 1, &[], "T", 0, "4", 0);
    let v = serde_json::to_value(&sig).unwrap();
    assert_eq!(v["bio"][0]["type"], "Signature");
    assert_eq!(v["bio"][0]["bioSubType"], json!(["UNKNOWN"]));
    let chained = sig.after("ABCD");
    assert_eq!(chained.bio[0].previous_hash, "ABCD");
}

#[test]
fn requests_read_numbers_or_strings() {
    let v = json!({
        "env": "Staging", "purpose": "Registration", "specVersion": "0.9.5", "timeout": 30000,
        "captureTime": "2024-01-01T00:00:00Z", "transactionId": "x",
        "bio": [{"type": "Iris", "count": 2, "bioSubType": ["Left", "Right"], "exception": [],
                 "requestedScore": "40", "deviceId": "3", "deviceSubId": 3, "previousHash": ""}]
    });
    let r: CaptureRequest = serde_json::from_value(v).unwrap();
    assert_eq!(r.timeout, 30000);
    assert_eq!(r.bio[0].count, 2);
    assert_eq!(r.bio[0].requested_score, 40);
    assert_eq!(r.bio[0].bio_sub_type, BioSubType::IRISES.to_vec());
    let bad = json!({"type": "Iris", "count": "-1", "requestedScore": 40, "deviceId": "3", "deviceSubId": 0});
    assert!(serde_json::from_value::<BioRequest>(bad).is_err());
    let bad = json!({"type": "Palm", "count": 1, "requestedScore": 40, "deviceId": "3", "deviceSubId": 0});
    assert!(serde_json::from_value::<BioRequest>(bad).is_err());
}

#[test]
fn positions_and_exception_reasons_round_trip() {
    for sub in BioSubType::ALL.into_iter().filter(|s| *s != BioSubType::Unknown) {
        assert_eq!(BioSubType::from_position(&sub.position()), Some(sub), "{sub:?}");
    }
    assert_eq!(BioSubType::LeftThumb.position(), "left_thumb");
    assert_eq!(BioSubType::RightIndex.position(), "right_indexfinger");
    assert_eq!(BioSubType::Unknown.position(), "");
    assert_eq!(BioSubType::from_position(""), None);
    assert_eq!(BioSubType::from_position("left thumb"), None);
    for r in ExceptionReason::ALL {
        assert_eq!(ExceptionReason::from_code(r.code()), Some(r));
    }
    assert_eq!(ExceptionReason::from_code("lost"), None);
}

#[test]
fn discovery_and_info_answers_read_with_the_spec_names() {
    assert_eq!(
        serde_json::to_value(DiscoverRequest { kind: DeviceType::Any }).unwrap(),
        json!({"type": "Biometric Device"})
    );
    assert_eq!(serde_json::to_value(DiscoverRequest { kind: DeviceType::Finger }).unwrap(), json!({"type": "Finger"}));
    let answer = json!([{
        "deviceId": "2", "deviceStatus": "Not Ready", "certification": "L0", "serviceVersion": "1.0",
        "deviceSubId": ["1", 2, 3], "callbackId": "http://127.0.0.1:4501/", "digitalId": "eyJ9",
        "deviceCode": "SLAP000000000002", "specVersion": ["0.9.5"], "purpose": "Registration",
        "error": {"errorCode": "0", "errorInfo": "Success"}
    }, {
        "deviceId": "9", "deviceStatus": "Warming", "digitalId": "",
        "error": {"errorcode": 106, "errorinfo": "Device not found"}
    }]);
    let entries: Vec<DiscoveryEntry> = serde_json::from_value(answer).unwrap();
    assert_eq!(entries[0].device.device_status, DeviceStatus::NotReady);
    assert_eq!(entries[0].device.device_sub_id, vec![1, 2, 3]);
    assert!(entries[0].error.as_ref().unwrap().is_success());
    assert_eq!(entries[1].device.device_status, DeviceStatus::Unknown);
    let e = entries[1].error.as_ref().unwrap();
    assert_eq!(e.error_code, "106");
    assert!(!e.is_success());
    let v = serde_json::to_value(&entries[0]).unwrap();
    assert_eq!(v["deviceStatus"], "Not Ready");
    assert_eq!(v["deviceCode"], "SLAP000000000002");
    assert!(v.get("firmware").is_none());

    let info: Vec<InfoEntry> = serde_json::from_value(json!([{"deviceInfo": "a.b.c"}])).unwrap();
    assert_eq!(info[0].device_info, "a.b.c");
    assert_eq!(info[0].error, None);

    let id: DigitalId = serde_json::from_value(json!({
        "serialNo": "SLAP000000000002", "make": "Simpul", "model": "Sim", "type": "Finger",
        "deviceSubType": "Slap", "deviceProvider": "Simpul", "deviceProviderId": "simpul",
        "dateTime": "2026-01-01T00:00:00Z"
    }))
    .unwrap();
    assert_eq!(id.modality(), Some(Modality::Finger));
    assert_eq!(serde_json::to_value(&id).unwrap()["type"], "Finger");
}

#[test]
fn capture_answers_and_payloads_read_with_the_spec_names() {
    let answer: CaptureResponse = serde_json::from_value(json!({"biometrics": [{
        "specVersion": "0.9.5", "data": "h.p.s", "hash": "AB",
        "error": {"errorCode": "0", "errorInfo": "Success"}
    }]}))
    .unwrap();
    assert_eq!(answer.biometrics[0].data, "h.p.s");
    let payload: CapturePayload = serde_json::from_value(json!({
        "digitalId": "h.p.s", "deviceCode": "X", "deviceServiceVersion": "1.0", "bioType": "Finger",
        "bioSubType": "Left Thumb", "purpose": "Registration", "env": "Production", "bioValue": "AAAA",
        "transactionId": "T", "timestamp": "2026-01-01T00:00:00Z", "requestedScore": "40",
        "qualityScore": 81.5
    }))
    .unwrap();
    assert_eq!(payload.bio_sub_type, BioSubType::LeftThumb);
    assert_eq!(payload.requested_score, 40.0);
    assert_eq!(payload.quality_score, 81.5);
    let v = serde_json::to_value(&payload).unwrap();
    assert_eq!(v["qualityScore"], "81.5");
    assert_eq!(v["bioSubType"], "Left Thumb");
    let face: CapturePayload = serde_json::from_value(json!({
        "digitalId": "h.p.s", "bioType": "Face", "bioSubType": "", "bioValue": "AAAA",
        "transactionId": "T", "qualityScore": "90"
    }))
    .unwrap();
    assert_eq!(face.bio_sub_type, BioSubType::Unknown);
    let no_sub: Value =
        json!({"digitalId": "x", "bioType": "Signature", "bioValue": "", "transactionId": "T", "qualityScore": 1});
    assert_eq!(serde_json::from_value::<CapturePayload>(no_sub).unwrap().bio_sub_type, BioSubType::Unknown);
    let bad: Value = json!({"digitalId": "x", "bioType": "Finger", "bioSubType": "Left Pinky", "bioValue": "", "transactionId": "T", "qualityScore": 1});
    assert!(serde_json::from_value::<CapturePayload>(bad).is_err());
}

#[test]
fn a_capture_below_the_asked_quality_is_low() {
    assert!(low_quality(0) && low_quality(u64::from(REQUESTED_QUALITY) - 1));
    assert!(!low_quality(u64::from(REQUESTED_QUALITY)) && !low_quality(100));
    let plan = capture_plan(Modality::Face, "1", &[0], "t", &[]);
    assert_eq!(plan[0].bio[0].requested_score, REQUESTED_QUALITY);
}

#[test]
fn eyes_for_missing_eyes() {
    let asked = |plan: &[CaptureRequest]| -> Vec<(u32, u32, Vec<BioSubType>, Vec<BioSubType>)> {
        plan.iter()
            .map(|r| {
                let b = &r.bio[0];
                (b.device_sub_id, b.count, b.bio_sub_type.clone(), b.exception.clone())
            })
            .collect()
    };
    let (l, r) = (BioSubType::LeftIris, BioSubType::RightIris);
    // A double-eye camera takes both in one request, or one with the other as its exception.
    assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[1, 2, 3], "t", &[])), vec![(3, 2, vec![l, r], vec![])]);
    assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[1, 2, 3], "t", &[r])), vec![(3, 1, vec![l], vec![r])]);
    assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[], "t", &[l])), vec![(0, 1, vec![r], vec![l])]);
    // Fingers left out of a finger capture do not touch the eyes.
    let fingers_missing = [BioSubType::LeftThumb, BioSubType::RightLittle];
    assert_eq!(
        asked(&capture_plan(Modality::Iris, "3", &[3], "t", &fingers_missing)),
        vec![(3, 2, vec![l, r], vec![])]
    );
    // Both missing: nothing to ask the camera.
    assert!(capture_plan(Modality::Iris, "3", &[1, 2, 3], "t", &[l, r]).is_empty());
    assert!(nothing_to_capture(Modality::Iris, &[r, l]) && !nothing_to_capture(Modality::Iris, &[r]));
    assert!(!nothing_to_capture(Modality::Finger, &[l, r]) && !nothing_to_capture(Modality::Face, &[]));
    // A camera with one sub-device per eye: one request per eye still wanted.
    assert_eq!(
        asked(&capture_plan(Modality::Iris, "3", &[1, 2], "t", &[])),
        vec![(1, 1, vec![l], vec![]), (2, 1, vec![r], vec![])]
    );
    assert_eq!(asked(&capture_plan(Modality::Iris, "3", &[1, 2], "t", &[l])), vec![(2, 1, vec![r], vec![])]);
    assert_eq!(Modality::Iris.record_kind(), "iris");
    assert!(Modality::Iris.has_parts() && !Modality::Face.has_parts());
}

#[test]
fn slaps_for_missing_fingers() {
    let plan = finger_slaps(&[BioSubType::LeftLittle, BioSubType::RightThumb]);
    assert_eq!(plan.len(), 3);
    assert_eq!(plan[0], SlapPlan { sub_id: 1, count: 3, exceptions: vec![BioSubType::LeftLittle] });
    assert_eq!(plan[1], SlapPlan { sub_id: 2, count: 4, exceptions: vec![] });
    assert_eq!(plan[2], SlapPlan { sub_id: 3, count: 1, exceptions: vec![BioSubType::RightThumb] });
    let no_thumbs = finger_slaps(&[BioSubType::LeftThumb, BioSubType::RightThumb, BioSubType::LeftIris]);
    assert_eq!(no_thumbs.iter().map(|p| p.sub_id).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(
        finger_exceptions(&[BioSubType::RightThumb, BioSubType::LeftIndex, BioSubType::RightIris]),
        vec![BioSubType::LeftIndex, BioSubType::RightThumb]
    );
    assert_eq!(BioSubType::of_sub_device(Modality::Face, 0), &[] as &[BioSubType]);
    for s in BioSubType::ALL {
        assert_eq!(BioSubType::from_name(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}

const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9];

fn preview(frames: &[&[u8]], with_length: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        out.extend_from_slice(b"--frame\r\nContent-Type: image/jpeg\r\n");
        if with_length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", f.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(f);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"--frame--\r\n");
    out
}

fn split(bytes: &[u8], chunk: usize, limit: usize) -> Result<(Vec<PreviewFrame>, bool), StreamProblem> {
    let mut s = FrameSplitter::new("multipart/x-mixed-replace; boundary=\"frame\"", limit)?;
    let mut frames = Vec::new();
    for c in bytes.chunks(chunk.max(1)) {
        frames.extend(s.push(c)?);
    }
    Ok((frames, s.ended()))
}

#[test]
fn preview_frames_come_out_whole_however_the_bytes_arrive() {
    // A frame that itself contains the boundary's text is cut by its length, not the text.
    let tricky = [JPEG, b"--frame\r\n", JPEG].concat();
    for with_length in [true, false] {
        let frames: Vec<&[u8]> = if with_length { vec![JPEG, &tricky, JPEG] } else { vec![JPEG, JPEG, JPEG] };
        let bytes = preview(&frames, with_length);
        for chunk in [1, 2, 3, 5, 8, 13, 64, bytes.len()] {
            let (got, ended) = split(&bytes, chunk, 1024).unwrap();
            assert!(ended, "chunk {chunk}");
            let got: Vec<&[u8]> = got.iter().map(|f| f.bytes.as_slice()).collect();
            assert_eq!(got, frames, "chunk {chunk}, length {with_length}");
        }
    }
}

#[test]
fn preview_streams_that_are_not_images_or_too_big_are_refused() {
    assert_eq!(FrameSplitter::new("image/jpeg", 10).unwrap_err(), StreamProblem::NotMultipart);
    assert_eq!(FrameSplitter::new("multipart/x-mixed-replace", 10).unwrap_err(), StreamProblem::NotMultipart);
    assert!(FrameSplitter::new("Multipart/X-Mixed-Replace;boundary=--frame", 10).is_ok());
    // A boundary that begins with dashes, used as RFC 2046 says and as some devices do.
    let frame = |delimiter: &str| {
        let mut b = format!("{delimiter}\r\nContent-Type: image/jpeg\r\n\r\n").into_bytes();
        b.extend_from_slice(JPEG);
        b.extend_from_slice(format!("\r\n{delimiter}--\r\n").as_bytes());
        b
    };
    for delimiter in ["----myboundary", "--myboundary"] {
        let mut s = FrameSplitter::new("multipart/x-mixed-replace; boundary=--myboundary", 1024).unwrap();
        let mut got = Vec::new();
        for c in frame(delimiter).chunks(3) {
            got.extend(s.push(c).unwrap());
        }
        assert_eq!(got.len(), 1, "{delimiter}");
        assert_eq!(got[0].bytes, JPEG);
        assert!(s.ended(), "{delimiter}");
    }
    let big = [JPEG, &[0u8; 2000][..]].concat();
    assert_eq!(split(&preview(&[&big], true), 7, 1024).unwrap_err(), StreamProblem::TooLarge(1024));
    assert_eq!(split(&preview(&[&big], false), 7, 1024).unwrap_err(), StreamProblem::TooLarge(1024));
    let mut endless = b"--frame\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    endless.extend(std::iter::repeat_n(b'x', 10_000));
    assert_eq!(split(&endless, 512, 1024).unwrap_err(), StreamProblem::TooLarge(1024));
    let text = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\nhello\r\n".to_vec();
    assert_eq!(split(&text, 4, 1024).unwrap_err(), StreamProblem::NotAnImage);
    let bad = b"--frame\r\nContent-Length: many\r\n\r\n".to_vec();
    assert_eq!(split(&bad, 4, 1024).unwrap_err(), StreamProblem::BadHeaders);
    let headers = [b"--frame\r\n".to_vec(), vec![b'a'; 5000]].concat();
    assert_eq!(split(&headers, 100, 100_000).unwrap_err(), StreamProblem::BadHeaders);
}

proptest::proptest! {
    #[test]
    fn preview_splitting_never_panics_and_keeps_memory_bounded(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        chunk in 1usize..300,
    ) {
        let mut s = FrameSplitter::new("multipart/x-mixed-replace; boundary=frame", 256).unwrap();
        for c in bytes.chunks(chunk) {
            if s.push(c).is_err() {
                break;
            }
            proptest::prop_assert!(s.buffer.len() <= 256 + 4096);
        }
    }
}
