//! The live preview of a biometric device plugged into the box: the box reads the device's
//! `STREAM` and relays its frames to the counter's browser as `multipart/x-mixed-replace`, so
//! staff see the face or eye before capturing, as they do with a device on the counter PC.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use simpul_app::backend::SessionBackend;
use simpul_app::error::ApiError;
use simpul_domain::auth::Permission;

use crate::backend::AppBackend;
use crate::state::AppState;

/// The boundary between relayed frames.
const BOUNDARY: &str = "simpul-frame";

/// How long a preview runs when the page does not say.
const DEFAULT_SECONDS: u32 = 20;

#[derive(serde::Deserialize)]
pub struct PreviewQuery {
    /// Seconds (capped by the driver).
    detik: Option<u32>,
}

/// `GET /perangkat/pratinjau/{modality}`: the preview of the caller's counter's (else the
/// office's) biometric device on the box, for staff who take applications. A refusal (no
/// device, busy, a stranger's identity) answers its status with the error as JSON, which the
/// page shows as it shows a capture's.
pub async fn preview(
    State(state): State<AppState>,
    Path(modality): Path<String>,
    Query(q): Query<PreviewQuery>,
    req: Request,
) -> Response {
    let backend = AppBackend::new(state.core.clone());
    let (parts, _) = req.into_parts();
    let user = match backend.authorize(&parts, Permission::TakeApplications).await {
        Ok(user) => user,
        Err(e) => return refused(e),
    };
    let seconds = q.detik.unwrap_or(DEFAULT_SECONDS);
    let preview = match backend.preview_on_box(&user, &modality, seconds).await {
        Ok(preview) => preview,
        Err(e) => return refused(e),
    };
    // Each step reads the device's next frame. A page that went away is noticed when the next
    // frame is written to it (or when the preview's time is up): the stream is dropped, and
    // with it the preview, which closes the device's connection.
    let frames = futures::stream::unfold(Some(preview), |state| async move {
        let mut preview = state?;
        let closing = Bytes::from(format!("--{BOUNDARY}--\r\n"));
        match preview.next().await {
            Some(Ok(frame)) => {
                let mut part = format!(
                    "--{BOUNDARY}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
                    frame.mime,
                    frame.bytes.len()
                )
                .into_bytes();
                part.extend_from_slice(&frame.bytes);
                part.extend_from_slice(b"\r\n");
                Some((Ok::<_, std::io::Error>(Bytes::from(part)), Some(preview)))
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the box device's preview broke off");
                Some((Ok(closing), None))
            }
            None => Some((Ok(closing), None)),
        }
    });
    let mut response = Response::new(Body::from_stream(frames));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&format!("multipart/x-mixed-replace; boundary={BOUNDARY}"))
            .unwrap_or(HeaderValue::from_static("multipart/x-mixed-replace")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn refused(e: ApiError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(e)).into_response()
}
