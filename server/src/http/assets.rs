//! The WASM, JavaScript, CSS and icons of the UI, embedded in the binary at build time so that
//! `simpul` runs from any directory with no site folder beside it.

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// The site built by `scripts/build-site.sh` (`target/site`).
#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/site/"]
pub struct Site;

/// True when the hydration bundle was embedded (a build without it serves pages that work
/// without JavaScript only).
pub fn bundle_present() -> bool {
    Site::get("pkg/simpul.js").is_some() && Site::get("pkg/simpul_bg.wasm").is_some()
}

/// Serves `/pkg/{path}`: the gzip variant when the browser takes it, ETag revalidation.
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let name = format!("pkg/{path}");
    let Some(file) = Site::get(&name) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzipped = if accepts_gzip { Site::get(&format!("{name}.gz")) } else { None };
    let mime = file.metadata.mimetype().to_string();
    let mut response = match &gzipped {
        Some(gz) => Response::new(Body::from(gz.data.clone().into_owned())),
        None => Response::new(Body::from(file.data.clone().into_owned())),
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
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
