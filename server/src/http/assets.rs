//! Serving the UI bundle (WASM, JavaScript, CSS, icons) at `/pkg/`. The files come from the
//! [`Bundle`] in the router's state, which the caller hands over: the `simpul` binary embeds them
//! (`simpul-assets`), so this library compiles without them; a server given none serves pages
//! that work without JavaScript.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
pub use crate::state::{Asset, Bundle, NoBundle, bundle_present};

/// Serves `/pkg/{path}`: the gzip variant when the browser takes it, ETag revalidation.
pub async fn serve(State(state): State<AppState>, Path(path): Path<String>, headers: HeaderMap) -> Response {
    let bundle = &state.bundle;
    let name = format!("pkg/{path}");
    let Some(file) = bundle.get(&name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.sha256[..16]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzipped = if accepts_gzip { bundle.get(&format!("{name}.gz")) } else { None };
    let mut response = match &gzipped {
        Some(gz) => Response::new(Body::from(gz.data.clone().into_owned())),
        None => Response::new(Body::from(file.data.clone().into_owned())),
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if gzipped.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
