//! The counter PC's biometric device service, called from the browser: the device is plugged
//! into the PC the counter works at, not into the box, so the hydrated page speaks SBI to it
//! (discovery, then registration capture, with the custom verbs the service answers through
//! CORS) and hands the signed capture blocks to the box, which checks every signature itself.
//! Nothing here is trusted by the box.

use simpul_sbi::{self as sbi, BioSubType, DeviceType, DiscoveryEntry, Modality};
#[cfg(feature = "hydrate")]
use simpul_sbi::{CaptureResponse, DiscoverRequest};

/// What a capture in the browser gave: the signed blocks for the box and the transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserCapture {
    /// The transaction the blocks must carry.
    pub transaction: String,
    /// Signed capture blocks (compact JWS), as the device gave them.
    pub blocks: Vec<String>,
}

/// Why a capture in the browser failed, as a device code the UI translates.
pub type CaptureError = String;

/// The discovery type that finds devices of `modality`.
pub fn device_type(modality: Modality) -> DeviceType {
    match modality {
        Modality::Face => DeviceType::Face,
        Modality::Finger => DeviceType::Finger,
        Modality::Iris => DeviceType::Iris,
        Modality::Signature => DeviceType::Signature,
    }
}

/// The capture requests for `modality` on a discovered device (see [`sbi::capture_plan`]).
pub fn plan(
    modality: Modality,
    device: &DiscoveryEntry,
    transaction: &str,
    missing: &[BioSubType],
) -> Vec<sbi::CaptureRequest> {
    sbi::capture_plan(modality, &device.device.device_id, &device.device.device_sub_id, transaction, missing)
}

/// Captures `modality` on the device service at `base` (e.g. `http://127.0.0.1:4501`),
/// leaving out the `missing` fingers.
#[cfg(feature = "hydrate")]
pub async fn capture(
    base: &str,
    modality: Modality,
    missing: &[BioSubType],
    transaction: &str,
) -> Result<BrowserCapture, CaptureError> {
    let base = base.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err("unreachable".into());
    }
    let ask = serde_json::to_string(&DiscoverRequest { kind: device_type(modality) }).map_err(|_| "protocol")?;
    let found = discover(base, &ask, None).await?;
    let device = found
        .into_iter()
        // Discovery was asked for this modality's device type only.
        .find(|d| d.error.as_ref().is_none_or(|e| e.is_success()))
        .ok_or_else(|| "no_biometric_device".to_string())?;
    let transaction = transaction.to_string();
    let mut blocks = Vec::new();
    for request in plan(modality, &device, &transaction, missing) {
        let body = serde_json::to_string(&request).map_err(|_| "protocol")?;
        let answer = call(&format!("{base}{}", sbi::path::CAPTURE), sbi::verb::RCAPTURE, &body, None).await?;
        let response: CaptureResponse = serde_json::from_str(&answer).map_err(|_| "protocol".to_string())?;
        for entry in response.biometrics {
            match &entry.error {
                Some(e) if !e.is_success() => return Err(format!("other:SBI {}", e.error_code)),
                _ => blocks.push(entry.data),
            }
        }
    }
    if blocks.is_empty() {
        return Err("protocol".into());
    }
    Ok(BrowserCapture { transaction, blocks })
}

/// Discovery at `base` with MOSIP's verb, then the older one.
#[cfg(feature = "hydrate")]
async fn discover(base: &str, ask: &str, timeout_ms: Option<u32>) -> Result<Vec<DiscoveryEntry>, CaptureError> {
    let url = format!("{base}{}", sbi::path::DEVICE);
    let answer = match call(&url, sbi::verb::DISCOVER_MOSIP, ask, timeout_ms).await {
        Ok(a) => a,
        Err(_) => call(&url, sbi::verb::DISCOVER, ask, timeout_ms).await?,
    };
    serde_json::from_str(&answer).map_err(|_| "protocol".to_string())
}

/// A biometric device service found on this PC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundService {
    /// Its base URL (`http://127.0.0.1:4501`).
    pub base: String,
    /// How many devices it offers.
    pub devices: usize,
}

/// Looks for biometric device services on this PC: every port of the SBI range (4501-4600 on
/// 127.0.0.1) is asked for its devices at once, each bounded by a short timeout.
#[cfg(feature = "hydrate")]
pub async fn find_services() -> Vec<FoundService> {
    let Ok(ask) = serde_json::to_string(&DiscoverRequest { kind: DeviceType::Any }) else { return Vec::new() };
    let asks = sbi::PORTS.map(|port| {
        let (ask, base) = (ask.clone(), format!("http://127.0.0.1:{port}"));
        async move {
            match discover(&base, &ask, Some(1500)).await {
                Ok(found) if !found.is_empty() => Some(FoundService { base, devices: found.len() }),
                _ => None,
            }
        }
    });
    futures::future::join_all(asks).await.into_iter().flatten().collect()
}

/// The largest preview frame shown.
pub const PREVIEW_FRAME_BYTES: usize = 4 * 1024 * 1024;

/// Shows the live preview (`STREAM`) of the `modality` device at `base` for up to `seconds`:
/// each frame is handed to `show` as an object URL, which is revoked when the next frame
/// replaces it; `show` answers whether to go on. Answers how many frames were shown.
#[cfg(feature = "hydrate")]
pub async fn preview(
    base: &str,
    modality: Modality,
    seconds: u32,
    show: impl FnMut(&str) -> bool,
) -> Result<u32, CaptureError> {
    use wasm_bindgen_futures::JsFuture;
    let base = base.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err("unreachable".into());
    }
    let ask = serde_json::to_string(&DiscoverRequest { kind: device_type(modality) }).map_err(|_| "protocol")?;
    let device = discover(base, &ask, None)
        .await?
        .into_iter()
        .find(|d| d.error.as_ref().is_none_or(|e| e.is_success()))
        .ok_or_else(|| "no_biometric_device".to_string())?;
    let request = sbi::StreamRequest {
        device_id: device.device.device_id.clone(),
        device_sub_id: device.device.device_sub_id.first().copied().unwrap_or(0),
        timeout: u64::from(seconds) * 1000,
    };
    let body = serde_json::to_string(&request).map_err(|_| "protocol")?;
    let response = send(&format!("{base}{}", sbi::path::STREAM), sbi::verb::STREAM, &body, None).await?;
    let content_type = response.headers().get("content-type").ok().flatten().unwrap_or_default();
    if content_type.starts_with("application/json") {
        // The device refused to stream: its answer is an SBI error.
        let text = JsFuture::from(response.text().map_err(|_| "protocol")?).await.map_err(|_| "dropped")?;
        let answer: serde_json::Value = serde_json::from_str(&text.as_string().unwrap_or_default()).unwrap_or_default();
        return Err(match answer["error"]["errorCode"].as_str() {
            Some(sbi::BUSY_CODE) => "busy".into(),
            Some(code) => format!("other:SBI {code}"),
            None => "protocol".into(),
        });
    }
    show_frames(response, &content_type, show).await
}

/// Shows the live preview of the `modality` device plugged into the box, which the box relays
/// from the device, for up to `seconds`, like [`preview`]. A refusal comes as the box's error.
#[cfg(feature = "hydrate")]
pub async fn preview_on_box(
    modality: Modality,
    seconds: u32,
    show: impl FnMut(&str) -> bool,
) -> Result<u32, crate::error::ApiError> {
    use crate::error::{ApiError, Refusal};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let device = |code: &str| ApiError::Refused(Refusal::Device(code.to_string()));
    let url = format!("{}/{}?detik={seconds}", crate::api::BOX_PREVIEW_PATH, modality.as_str());
    let window = web_sys::window().ok_or_else(|| device("unreachable"))?;
    let response =
        JsFuture::from(window.fetch_with_str(&url)).await.map_err(|_| ApiError::Unavailable("box".into()))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| device("protocol"))?;
    if !response.ok() {
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Err(serde_json::from_str::<ApiError>(&text)
            .unwrap_or_else(|_| device(&format!("other:HTTP {}", response.status()))));
    }
    let content_type = response.headers().get("content-type").ok().flatten().unwrap_or_default();
    show_frames(response, &content_type, show).await.map_err(|code| device(&code))
}

/// Reads a `multipart/x-mixed-replace` answer frame by frame: each frame is handed to `show`
/// as an object URL, which is revoked when the next frame replaces it; `show` answers whether
/// to go on. Answers how many frames were shown.
#[cfg(feature = "hydrate")]
async fn show_frames(
    response: web_sys::Response,
    content_type: &str,
    mut show: impl FnMut(&str) -> bool,
) -> Result<u32, CaptureError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let mut frames = sbi::FrameSplitter::new(content_type, PREVIEW_FRAME_BYTES).map_err(|_| "protocol")?;
    let reader: web_sys::ReadableStreamDefaultReader =
        response.body().ok_or("protocol")?.get_reader().dyn_into().map_err(|_| "protocol")?;
    let mut shown = 0u32;
    let mut current: Option<String> = None;
    let outcome = loop {
        let Ok(next) = JsFuture::from(reader.read()).await else { break Err("dropped".to_string()) };
        let field = |name: &str| js_sys::Reflect::get(&next, &wasm_bindgen::JsValue::from_str(name));
        if field("done").ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            break Ok(shown);
        }
        let Ok(chunk) = field("value").and_then(|v| v.dyn_into::<js_sys::Uint8Array>()) else {
            break Err("protocol".to_string());
        };
        let got = match frames.push(&chunk.to_vec()) {
            Ok(got) => got,
            Err(sbi::StreamProblem::TooLarge(_)) => break Err("too_large".to_string()),
            Err(_) => break Err("protocol".to_string()),
        };
        let mut go_on = true;
        for frame in got {
            let Some(url) = object_url(&frame) else { continue };
            go_on = show(&url);
            if !go_on {
                // Stopped: this frame is not shown, and the one shown is let go too.
                let _ = web_sys::Url::revoke_object_url(&url);
                if let Some(old) = current.take() {
                    let _ = web_sys::Url::revoke_object_url(&old);
                }
                break;
            }
            if let Some(old) = current.replace(url) {
                let _ = web_sys::Url::revoke_object_url(&old);
            }
            shown += 1;
        }
        if !go_on || frames.ended() {
            break Ok(shown);
        }
    };
    // The device stops streaming when the reader goes away.
    let _ = reader.cancel();
    outcome
}

#[cfg(feature = "hydrate")]
fn object_url(frame: &sbi::PreviewFrame) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(frame.bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(frame.mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// One request with a custom verb; answers the body text. Answers above 16 MiB are refused.
#[cfg(feature = "hydrate")]
async fn call(url: &str, verb: &str, body: &str, timeout_ms: Option<u32>) -> Result<String, CaptureError> {
    use wasm_bindgen_futures::JsFuture;
    let response = send(url, verb, body, timeout_ms).await?;
    let text = JsFuture::from(response.text().map_err(|_| "protocol")?).await.map_err(|_| "dropped")?;
    let text = text.as_string().ok_or("protocol")?;
    if text.len() > 16 * 1024 * 1024 {
        return Err("too_large".into());
    }
    Ok(text)
}

/// One request with a custom verb; answers the response when its status is a success.
#[cfg(feature = "hydrate")]
async fn send(url: &str, verb: &str, body: &str, timeout_ms: Option<u32>) -> Result<web_sys::Response, CaptureError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let init = web_sys::RequestInit::new();
    init.set_method(verb);
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    if let Some(ms) = timeout_ms {
        init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(ms)));
    }
    if let Ok(headers) = web_sys::Headers::new() {
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
    }
    let window = web_sys::window().ok_or("unreachable")?;
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(|_| "unreachable")?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "protocol")?;
    if response.status() == 503 {
        return Err("busy".into());
    }
    if !response.ok() {
        return Err(format!("other:HTTP {}", response.status()));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, subs: &[u32]) -> DiscoveryEntry {
        serde_json::from_value(serde_json::json!({
            "deviceId": id, "deviceStatus": "Ready", "deviceSubId": subs, "digitalId": "e30",
        }))
        .unwrap()
    }

    #[test]
    fn fingerprints_are_taken_slap_by_slap_and_faces_once() {
        let fingers = plan(Modality::Finger, &device("2", &[1, 2, 3]), "t", &[]);
        assert_eq!(fingers.len(), 3);
        assert_eq!(fingers.iter().map(|r| r.bio[0].count).sum::<u32>(), 10);
        // A missing thumb goes as the thumbs slap's exception; both thumbs missing drop it.
        let missing = plan(Modality::Finger, &device("2", &[1, 2, 3]), "t", &[BioSubType::LeftThumb]);
        assert_eq!(missing.iter().map(|r| r.bio[0].count).sum::<u32>(), 9);
        assert_eq!(missing[2].bio[0].exception, vec![BioSubType::LeftThumb]);
        let no_thumbs =
            plan(Modality::Finger, &device("2", &[1, 2, 3]), "t", &[BioSubType::LeftThumb, BioSubType::RightThumb]);
        assert_eq!(no_thumbs.len(), 2);
        assert!(fingers.iter().all(|r| r.transaction_id == "t" && r.bio[0].device_id == "2"));
        assert_eq!(plan(Modality::Face, &device("1", &[0]), "t", &[]).len(), 1);
        let iris = plan(Modality::Iris, &device("3", &[1, 2, 3]), "t", &[]);
        assert_eq!(iris[0].bio[0].count, 2);
    }
}
