//! Bounded reading of HTTP answers from devices.

use crate::DeviceError;

/// Reads a response body up to `limit` bytes; a longer body is refused, an endless stream
/// stops at the limit.
pub(crate) async fn body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, DeviceError> {
    if let Some(len) = response.content_length()
        && len > limit as u64
    {
        return Err(DeviceError::TooLarge(limit));
    }
    let mut out = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if out.len() + chunk.len() > limit {
                    return Err(DeviceError::TooLarge(limit));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(out),
            Err(e) if e.is_timeout() => return Err(DeviceError::Timeout),
            Err(_) => return Err(DeviceError::Dropped),
        }
    }
}

/// Maps a request failure.
pub(crate) fn request_error(e: &reqwest::Error) -> DeviceError {
    if e.is_timeout() {
        DeviceError::Timeout
    } else if e.is_connect() {
        DeviceError::Unreachable
    } else {
        DeviceError::Dropped
    }
}
