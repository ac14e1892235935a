//! The hub's sync listener: HTTPS with mutual TLS. Which office is talking is known from the
//! client certificate (looked up among enrolled boxes), never from the request body. Without a
//! certificate a connection reaches only the CA, enrollment and the health report. Every other
//! route passes a gate first: the box is checked before any of the body is read, one box has
//! at most a few requests under way, and a request that takes too long is cut off.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use simpul_installer::enrollment::{self, Refusal};
use simpul_installer::pki::{HubPki, fingerprint};
use simpul_store::enroll;
use simpul_sync::protocol::MAX_FRAME_BYTES;
use simpul_sync::session::SyncError;
use simpul_sync::wire::{
    self, DOWNLOAD_CHUNK_BYTES, EnrollRequest, MAX_BLOB_BYTES, MIN_CHUNK_BYTES, MISSING_LIST_LIMIT, header, path,
};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::state::Core;
use crate::sync::exchange::{self, ExchangeError};

/// The fingerprint of the client certificate of this connection, if one was shown.
#[derive(Clone, Debug)]
pub struct PeerCert(pub Option<String>);

/// Requests one box may have under way at once; more are answered 429. A box's client sends
/// one at a time, so only a misbehaving or hostile box meets the limit.
pub const PER_BOX_REQUESTS: usize = 4;
/// How long one request may take, its body included: a box that trickles its bytes is cut off.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The office of the enrolled box behind a request, known from its certificate before a byte
/// of the request's body was read.
#[derive(Clone, Debug)]
struct BoxOffice(String);

/// Requests under way, per box (by certificate fingerprint).
#[derive(Default)]
struct UnderWay(Mutex<HashMap<String, Arc<Semaphore>>>);

impl UnderWay {
    /// A place for one more request of this box, if it has fewer than the limit under way.
    fn enter(&self, print: &str) -> Option<OwnedSemaphorePermit> {
        let semaphore = {
            let mut boxes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            boxes.entry(print.to_string()).or_insert_with(|| Arc::new(Semaphore::new(PER_BOX_REQUESTS))).clone()
        };
        semaphore.try_acquire_owned().ok()
    }
}

#[derive(Clone)]
struct SyncState {
    core: Arc<Core>,
    pki: Arc<HubPki>,
    under_way: Arc<UnderWay>,
}

fn router(state: SyncState) -> Router {
    // What only an enrolled box may ask, each request through the gate first.
    let boxes = Router::new()
        .route(path::EXCHANGE, post(exchange))
        .route(path::BLOB_ROUTE, get(blob_held).put(blob_chunk))
        .route(path::BLOB_CONTENT_ROUTE, get(blob_content))
        .route(path::BLOBS_MISSING, get(blobs_missing))
        .route_layer(middleware::from_fn_with_state(state.clone(), gate));
    Router::new()
        .route(path::HEALTH, get(health))
        .route(path::CA, get(ca))
        .route(path::ENROLL, post(enroll))
        .merge(boxes)
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        .with_state(state)
}

/// The gate of every box route: the certificate's box must be enrolled and not revoked (checked
/// before a byte of the body is read), may have only [`PER_BOX_REQUESTS`] requests under way,
/// and each must end within [`REQUEST_TIMEOUT`].
async fn gate(
    State(state): State<SyncState>,
    Extension(peer): Extension<PeerCert>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(print) = peer.0.clone() else {
        return plain(StatusCode::UNAUTHORIZED, "a box certificate is required");
    };
    // The place is taken before the box is looked up, so that one box cannot queue lookups
    // either (certificates come only from the hub's CA, so the places are few).
    let Some(_place) = state.under_way.enter(&print) else {
        tracing::warn!("a box sent more requests at once than allowed");
        let mut refusal =
            plain(StatusCode::TOO_MANY_REQUESTS, format!("at most {PER_BOX_REQUESTS} requests at once from one box"));
        refusal.headers_mut().insert(axum::http::header::RETRY_AFTER, HeaderValue::from_static("5"));
        return refusal;
    };
    let office = match enrolled(&state, &peer).await {
        Ok(office) => office,
        Err(refusal) => return refusal,
    };
    request.extensions_mut().insert(BoxOffice(office));
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("a box's request took too long and was cut off");
            plain(StatusCode::REQUEST_TIMEOUT, "the request took too long")
        }
    }
}

async fn health() -> Response {
    let body = serde_json::json!({ "service": "simpul", "role": "hub", "version": env!("CARGO_PKG_VERSION") });
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn ca(State(state): State<SyncState>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/x-pem-file")], state.pki.ca_pem.clone()).into_response()
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

/// A box enrolls with a one-time token (see `simpul_installer::enrollment`).
async fn enroll(State(state): State<SyncState>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<EnrollRequest>(&body) else {
        return plain(StatusCode::BAD_REQUEST, "the enrollment request is not valid JSON");
    };
    if request.token.len() > wire::MAX_TOKEN_BYTES || request.csr.len() > wire::MAX_CSR_BYTES {
        return plain(StatusCode::BAD_REQUEST, "the enrollment request is too large");
    }
    if request.receipt_key.as_deref().is_some_and(|k| !crate::office::receipts::valid_public_key(k)) {
        return plain(StatusCode::BAD_REQUEST, "the receipt key is not an Ed25519 public key");
    }
    let now = OffsetDateTime::now_utc();
    let pki = state.pki.clone();
    match state.core.db.call(move |conn| enrollment::admit(conn, &pki, &request, now)).await {
        Ok(Ok(response)) => {
            tracing::info!(office = %response.office, "box enrolled");
            Json(response).into_response()
        }
        Ok(Err(refusal @ Refusal::Token(_))) => {
            tracing::warn!(reason = %refusal, "enrollment refused");
            plain(StatusCode::FORBIDDEN, refusal.to_string())
        }
        Ok(Err(refusal @ Refusal::Csr(_))) => {
            tracing::warn!(error = %refusal, "enrollment CSR refused");
            plain(StatusCode::BAD_REQUEST, refusal.to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "enrollment failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not enroll the box; try again")
        }
    }
}

async fn exchange(
    State(state): State<SyncState>,
    Extension(peer): Extension<PeerCert>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let Some(print) = peer.0 else {
        return plain(StatusCode::UNAUTHORIZED, "a box certificate is required");
    };
    let budget = headers
        .get(header::BUDGET)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(simpul_sync::protocol::BATCH_BUDGET);
    let now = OffsetDateTime::now_utc();
    let result = state.core.db.call(move |conn| Ok(exchange::hub_exchange(conn, &print, &body, budget, now))).await;
    match result {
        Ok(Ok(answer)) => {
            let mut response = ([(axum::http::header::CONTENT_TYPE, wire::CONTENT_TYPE)], answer.bytes).into_response();
            if let Some(mark) = answer.files_missing.and_then(|m| HeaderValue::from_str(&m).ok()) {
                response.headers_mut().insert(header::FILES_MISSING, mark);
            }
            response
        }
        Ok(Err(e)) => {
            let status = match &e {
                ExchangeError::NotEnrolled => StatusCode::UNAUTHORIZED,
                ExchangeError::Revoked => StatusCode::FORBIDDEN,
                ExchangeError::Decode(_) | ExchangeError::Unexpected => StatusCode::BAD_REQUEST,
                ExchangeError::Sync(SyncError::Gap { .. }) => StatusCode::CONFLICT,
                ExchangeError::Sync(_)
                | ExchangeError::InvalidRecord(_)
                | ExchangeError::InvalidReference(_)
                | ExchangeError::Credential(_) => StatusCode::UNPROCESSABLE_ENTITY,
                ExchangeError::NoUnit => StatusCode::INTERNAL_SERVER_ERROR,
                ExchangeError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            tracing::warn!(error = %e, status = status.as_u16(), "sync exchange refused");
            let mut response = plain(status, e.to_string());
            if let ExchangeError::Sync(SyncError::Gap { held, hub_epoch, hub_held, .. }) = &e {
                for (name, value) in
                    [(header::HELD, held.0), (header::EPOCH, *hub_epoch), (header::HUB_HELD, hub_held.0)]
                {
                    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
                        response.headers_mut().insert(name, v);
                    }
                }
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "sync exchange failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not process the exchange")
        }
    }
}

/// The office of the enrolled box behind this connection, or the refusal to send.
async fn enrolled(state: &SyncState, peer: &PeerCert) -> Result<String, Response> {
    let Some(print) = peer.0.clone() else {
        return Err(plain(StatusCode::UNAUTHORIZED, "a box certificate is required"));
    };
    let now = OffsetDateTime::now_utc();
    match state.core.db.call(move |c| enroll::standing(c, &print, now)).await {
        Ok(enroll::BoxStanding::Enrolled(office)) => Ok(office),
        Ok(enroll::BoxStanding::Revoked) => {
            Err(plain(StatusCode::FORBIDDEN, "this box's enrollment was revoked by the regency"))
        }
        Ok(enroll::BoxStanding::Unknown) => {
            Err(plain(StatusCode::UNAUTHORIZED, "this box is not enrolled with the hub"))
        }
        Err(e) => {
            tracing::error!(error = %e, "looking up a box failed");
            Err(plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not check the box"))
        }
    }
}

/// How much of a blob the hub holds: `complete` or the byte count of a partial upload.
async fn blob_held(
    State(state): State<SyncState>,
    Extension(BoxOffice(office)): Extension<BoxOffice>,
    axum::extract::Path(sha): axum::extract::Path<String>,
) -> Response {
    if !simpul_store::blobs::valid_digest(&sha) {
        return plain(StatusCode::BAD_REQUEST, "not a SHA-256 digest");
    }
    let (key, of) = (sha.clone(), office.clone());
    // Held for this office only when one of its records points at it: another office's box
    // learns nothing of which files the hub holds (it sends the bytes, and they are kept once).
    let held = state
        .core
        .db
        .call(move |c| {
            Ok(simpul_store::blobs::get(c, &key)?.is_some() && simpul_store::blobs::referenced_by(c, &key, &of)?)
        })
        .await;
    match held {
        Ok(true) => plain(StatusCode::OK, "complete"),
        Ok(false) => plain(StatusCode::OK, state.core.files.partial_len(&office, &sha).to_string()),
        Err(e) => {
            tracing::error!(error = %e, "blob lookup failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not look the file up")
        }
    }
}

#[derive(Deserialize)]
struct MissingQuery {
    /// List the digests after this one (the last of the previous page).
    #[serde(default)]
    after: String,
}

/// The files the box's office's records point at that the hub lacks, one digest per line, at
/// most [`MISSING_LIST_LIMIT`] in digest order after `after`: a hub restored from a backup
/// lost the files sent after it, and the boxes that hold them send them again.
async fn blobs_missing(
    State(state): State<SyncState>,
    Extension(BoxOffice(office)): Extension<BoxOffice>,
    axum::extract::Query(q): axum::extract::Query<MissingQuery>,
) -> Response {
    if !q.after.is_empty() && !simpul_store::blobs::valid_digest(&q.after) {
        return plain(StatusCode::BAD_REQUEST, "after: a SHA-256 digest in lower-case hex");
    }
    match state.core.db.call(move |c| simpul_store::blobs::missing_for(c, &office, &q.after, MISSING_LIST_LIMIT)).await
    {
        Ok(list) => list.join("\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "missing files lookup failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not look its files up")
        }
    }
}

#[derive(Deserialize)]
struct ContentQuery {
    offset: u64,
    /// The most bytes the box wants in this chunk (a slow link asks for less).
    len: Option<usize>,
}

/// One chunk of a file, from `offset`, to a box whose office's records point at it; the file's
/// whole size in `x-simpul-size`. Any other box is told the file is not there.
async fn blob_content(
    State(state): State<SyncState>,
    Extension(BoxOffice(office)): Extension<BoxOffice>,
    axum::extract::Path(sha): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<ContentQuery>,
) -> Response {
    if !simpul_store::blobs::valid_digest(&sha) {
        return plain(StatusCode::BAD_REQUEST, "not a SHA-256 digest");
    }
    let key = sha.clone();
    let allowed = state
        .core
        .db
        .call(move |c| {
            Ok(simpul_store::blobs::referenced_by(c, &key, &office)? && simpul_store::blobs::get(c, &key)?.is_some())
        })
        .await;
    match allowed {
        Ok(true) => {}
        Ok(false) => return plain(StatusCode::NOT_FOUND, "the hub holds no such file for this office"),
        Err(e) => {
            tracing::error!(error = %e, "blob lookup failed");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not look the file up");
        }
    }
    let dir = state.core.files.clone();
    let read = tokio::task::spawn_blocking(move || {
        let len = q.len.unwrap_or(DOWNLOAD_CHUNK_BYTES).clamp(MIN_CHUNK_BYTES, DOWNLOAD_CHUNK_BYTES);
        dir.read_range(&sha, q.offset, len)
    })
    .await;
    let Ok(Ok((chunk, total))) = read else {
        tracing::error!("a held file cannot be read");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub cannot read the file");
    };
    if chunk.is_empty() {
        return plain(StatusCode::RANGE_NOT_SATISFIABLE, total.to_string());
    }
    let mut response = chunk.into_response();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        response.headers_mut().insert(header::SIZE, v);
    }
    response
}

#[derive(Deserialize)]
struct ChunkQuery {
    offset: u64,
    size: u64,
}

/// One chunk of a blob, appended at `offset`; the last one is checked against the digest.
async fn blob_chunk(
    State(state): State<SyncState>,
    Extension(BoxOffice(office)): Extension<BoxOffice>,
    axum::extract::Path(sha): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<ChunkQuery>,
    body: Bytes,
) -> Response {
    use simpul_store::blobs::{self, Chunk};
    if !blobs::valid_digest(&sha) {
        return plain(StatusCode::BAD_REQUEST, "not a SHA-256 digest");
    }
    if q.size == 0 || q.size > MAX_BLOB_BYTES {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "the file is larger than accepted");
    }
    let data_dir = state.core.files.clone();
    let (key, dir) = (sha.clone(), data_dir.clone());
    let appended =
        tokio::task::spawn_blocking(move || dir.append_partial(&office, &key, q.offset, q.size, &body)).await;
    let chunk = match appended {
        Ok(Ok(chunk)) => chunk,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "storing a blob chunk failed");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not store the file");
        }
        Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not store the file"),
    };
    match chunk {
        Chunk::Held(n) => plain(StatusCode::ACCEPTED, n.to_string()),
        Chunk::WrongOffset(held) => {
            let mut r = plain(StatusCode::CONFLICT, held.to_string());
            if let Ok(v) = HeaderValue::from_str(&held.to_string()) {
                r.headers_mut().insert(header::HELD, v);
            }
            r
        }
        Chunk::Mismatch => {
            tracing::warn!("a blob did not match its digest; dropped");
            plain(StatusCode::UNPROCESSABLE_ENTITY, "the file does not match its SHA-256")
        }
        Chunk::Complete(bytes) => {
            let Some(content_type) = simpul_domain::attachment::ContentType::sniff(&bytes) else {
                return plain(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "the file is not a PDF, JPEG, PNG or biometric record",
                );
            };
            let size = bytes.len();
            let dir = data_dir.clone();
            if !matches!(tokio::task::spawn_blocking(move || dir.write(&bytes)).await, Ok(Ok(_))) {
                return plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not store the file");
            }
            let now = OffsetDateTime::now_utc();
            let recorded = state.core.db.call(move |c| blobs::record_held(c, &sha, size, content_type, now)).await;
            match recorded {
                Ok(()) => plain(StatusCode::CREATED, "complete"),
                Err(e) => {
                    tracing::error!(error = %e, "recording a blob failed");
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not store the file")
                }
            }
        }
    }
}

/// Serves the sync listener until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    core: Arc<Core>,
    pki: Arc<HubPki>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let config = match pki.server_config() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the sync listener cannot start");
            return;
        }
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let app = router(SyncState { core, pki, under_way: Arc::new(UnderWay::default()) });
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, addr)) = accepted else { continue };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(15), acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::warn!(peer = %addr.ip(), error = %e, "sync TLS handshake refused");
                    return;
                }
                Err(_) => return,
            };
            let print = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| fingerprint(c.as_ref()));
            let service = hyper_util::service::TowerToHyperService::new(app.layer(Extension(PeerCert(print))));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await;
        });
    }
}
