//! The hub's sync listener: HTTPS with mutual TLS. Which office is talking is known from the
//! client certificate (looked up among enrolled boxes), never from the request body. Without a
//! certificate a connection reaches only the CA, enrollment and the health report.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use simpul_sync::protocol::MAX_FRAME_BYTES;
use simpul_sync::session::SyncError;
use time::OffsetDateTime;

use crate::pki::{HubPki, fingerprint};
use crate::replication::{self, ExchangeError};
use crate::state::Core;
use crate::store::enroll::{self, TokenRefusal};

/// The fingerprint of the client certificate of this connection, if one was shown.
#[derive(Clone, Debug)]
pub struct PeerCert(pub Option<String>);

#[derive(Clone)]
struct SyncState {
    core: Arc<Core>,
    pki: Arc<HubPki>,
}

/// An enrollment request.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time token.
    pub token: String,
    /// The box's CSR (PEM).
    pub csr: String,
    /// The public half of the box's receipt key (base64url Ed25519), so that the hub can check
    /// the receipts the box prints. Absent from older boxes.
    #[serde(default)]
    pub receipt_key: Option<String>,
}

/// What an enrolled box receives.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// Office code the certificate is for.
    pub office: String,
    /// Office name.
    pub office_name: String,
    /// The box certificate (PEM).
    pub certificate: String,
    /// The hub CA (PEM).
    pub ca: String,
    /// The box's numbering station among its office's boxes (absent from older hubs: 1).
    #[serde(default = "first_station")]
    pub station: u32,
}

fn first_station() -> u32 {
    1
}

fn router(state: SyncState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/sync/v1/ca", get(ca))
        .route("/sync/v1/enroll", post(enroll_box))
        .route("/sync/v1/exchange", post(exchange))
        .route("/sync/v1/blob/{sha}", get(blob_held).put(blob_chunk))
        .route("/sync/v1/blob/{sha}/content", get(blob_content))
        .route("/sync/v1/blobs/missing", get(blobs_missing))
        .layer(DefaultBodyLimit::max(MAX_FRAME_BYTES))
        .with_state(state)
}

async fn health() -> Response {
    let body = serde_json::json!({ "service": "simpul", "role": "hub", "version": env!("CARGO_PKG_VERSION") });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn ca(State(state): State<SyncState>) -> Response {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], state.pki.ca_pem.clone()).into_response()
}

fn plain(status: StatusCode, message: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.into()).into_response()
}

async fn enroll_box(State(state): State<SyncState>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<EnrollRequest>(&body) else {
        return plain(StatusCode::BAD_REQUEST, "the enrollment request is not valid JSON");
    };
    if request.token.len() > 200 || request.csr.len() > 16 * 1024 {
        return plain(StatusCode::BAD_REQUEST, "the enrollment request is too large");
    }
    if request.receipt_key.as_deref().is_some_and(|k| !crate::receipts::valid_public_key(k)) {
        return plain(StatusCode::BAD_REQUEST, "the receipt key is not an Ed25519 public key");
    }
    let now = OffsetDateTime::now_utc();
    let pki = state.pki.clone();
    let result = state
        .core
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let office = match enroll::token_office(&tx, &request.token, now)? {
                Ok(office) => office,
                Err(refusal) => {
                    drop(tx);
                    // Kept for the regency: a replayed or guessed token is someone trying.
                    crate::store::audit::record(
                        conn,
                        now,
                        &crate::store::audit::Actor::System,
                        "enrollment_refused",
                        None,
                        Some(refusal.code()),
                    )?;
                    return Ok(Err(EnrollFailure::Token(refusal)));
                }
            };
            let certificate = match pki.sign_box(&request.csr, &office, now) {
                Ok(c) => c,
                Err(e) => return Ok(Err(EnrollFailure::Csr(e.to_string()))),
            };
            let print = match crate::pki::cert_der(&certificate) {
                Ok(der) => fingerprint(&der),
                Err(e) => return Ok(Err(EnrollFailure::Csr(e.to_string()))),
            };
            if let Err(refusal) = enroll::redeem(&tx, &request.token, &print, request.receipt_key.as_deref(), now)? {
                return Ok(Err(EnrollFailure::Token(refusal)));
            }
            let station = enroll::assign_station(&tx, &print, &office, now)?;
            let office_name = office
                .parse()
                .ok()
                .and_then(|code| crate::store::regions::name(&tx, &code).ok().flatten())
                .map_or_else(|| format!("Kecamatan {office}"), |n| format!("Kantor Kecamatan {n}"));
            crate::store::audit::record(
                &tx,
                now,
                &crate::store::audit::Actor::System,
                "box_enrolled",
                Some(&office),
                Some(&print),
            )?;
            tx.commit()?;
            Ok(Ok(EnrollResponse { office, office_name, certificate, ca: pki.ca_pem.clone(), station }))
        })
        .await;
    match result {
        Ok(Ok(response)) => {
            tracing::info!(office = %response.office, "box enrolled");
            Json(response).into_response()
        }
        Ok(Err(EnrollFailure::Token(refusal))) => {
            tracing::warn!(reason = %refusal, "enrollment refused");
            plain(StatusCode::FORBIDDEN, refusal.to_string())
        }
        Ok(Err(EnrollFailure::Csr(e))) => {
            tracing::warn!(error = %e, "enrollment CSR refused");
            plain(StatusCode::BAD_REQUEST, format!("the certificate request is not valid: {e}"))
        }
        Err(e) => {
            tracing::error!(error = %e, "enrollment failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not enroll the box; try again")
        }
    }
}

enum EnrollFailure {
    Token(TokenRefusal),
    Csr(String),
}

/// Header on an exchange's answer: the hub lacks files the office's records point at.
pub const FILES_MISSING_HEADER: &str = "x-simpul-files-missing";

/// Header in which a box on a slow link asks for smaller answers (bytes of changes).
pub const BUDGET_HEADER: &str = "x-simpul-budget";

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
        .get(BUDGET_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(simpul_sync::protocol::BATCH_BUDGET);
    let now = OffsetDateTime::now_utc();
    let result = state.core.db.call(move |conn| Ok(replication::hub_exchange(conn, &print, &body, budget, now))).await;
    match result {
        Ok(Ok(answer)) => {
            let mut response = ([(header::CONTENT_TYPE, "application/x-simpul-sync")], answer.bytes).into_response();
            if let Some(mark) = answer.files_missing.and_then(|m| HeaderValue::from_str(&m).ok()) {
                response.headers_mut().insert(FILES_MISSING_HEADER, mark);
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
                    [("x-simpul-held", held.0), ("x-simpul-epoch", *hub_epoch), ("x-simpul-hub-held", hub_held.0)]
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

/// Largest blob accepted (the upload limit of the counter, plus room), and fetched by a box.
pub const MAX_BLOB_BYTES: u64 = 10 * 1024 * 1024 + 64 * 1024;

/// How much of a blob the hub holds: `complete` or the byte count of a partial upload.
async fn blob_held(
    State(state): State<SyncState>,
    Extension(peer): Extension<PeerCert>,
    axum::extract::Path(sha): axum::extract::Path<String>,
) -> Response {
    if let Err(refusal) = enrolled(&state, &peer).await {
        return refusal;
    }
    if !crate::store::blobs::valid_digest(&sha) {
        return plain(StatusCode::BAD_REQUEST, "not a SHA-256 digest");
    }
    let key = sha.clone();
    match state.core.db.call(move |c| crate::store::blobs::get(c, &key)).await {
        Ok(Some(_)) => plain(StatusCode::OK, "complete"),
        Ok(None) => {
            plain(StatusCode::OK, crate::store::blobs::partial_len(&state.core.config.data_dir, &sha).to_string())
        }
        Err(e) => {
            tracing::error!(error = %e, "blob lookup failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "the hub could not look the file up")
        }
    }
}

/// Most digests listed in one answer of [`blobs_missing`].
pub const MISSING_LIST_LIMIT: u32 = 500;

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
    Extension(peer): Extension<PeerCert>,
    axum::extract::Query(q): axum::extract::Query<MissingQuery>,
) -> Response {
    let office = match enrolled(&state, &peer).await {
        Ok(office) => office,
        Err(refusal) => return refusal,
    };
    if !q.after.is_empty() && !crate::store::blobs::valid_digest(&q.after) {
        return plain(StatusCode::BAD_REQUEST, "after: a SHA-256 digest in lower-case hex");
    }
    match state.core.db.call(move |c| crate::store::blobs::missing_for(c, &office, &q.after, MISSING_LIST_LIMIT)).await
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

/// Size of one chunk of a file the hub hands down.
pub const DOWNLOAD_CHUNK_BYTES: usize = 1024 * 1024;
/// The smallest chunk a box may ask for.
pub const MIN_CHUNK_BYTES: usize = 16 * 1024;

/// One chunk of a file, from `offset`, to a box whose office's records point at it; the file's
/// whole size in `x-simpul-size`. Any other box is told the file is not there.
async fn blob_content(
    State(state): State<SyncState>,
    Extension(peer): Extension<PeerCert>,
    axum::extract::Path(sha): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<ContentQuery>,
) -> Response {
    let office = match enrolled(&state, &peer).await {
        Ok(office) => office,
        Err(refusal) => return refusal,
    };
    if !crate::store::blobs::valid_digest(&sha) {
        return plain(StatusCode::BAD_REQUEST, "not a SHA-256 digest");
    }
    let key = sha.clone();
    let allowed = state
        .core
        .db
        .call(move |c| {
            Ok(crate::store::blobs::referenced_by(c, &key, &office)? && crate::store::blobs::get(c, &key)?.is_some())
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
    let dir = state.core.config.data_dir.clone();
    let read = tokio::task::spawn_blocking(move || {
        let len = q.len.unwrap_or(DOWNLOAD_CHUNK_BYTES).clamp(MIN_CHUNK_BYTES, DOWNLOAD_CHUNK_BYTES);
        crate::store::blobs::read_range(&dir, &sha, q.offset, len)
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
        response.headers_mut().insert("x-simpul-size", v);
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
    Extension(peer): Extension<PeerCert>,
    axum::extract::Path(sha): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<ChunkQuery>,
    body: Bytes,
) -> Response {
    use crate::store::blobs::{self, Chunk};
    if let Err(refusal) = enrolled(&state, &peer).await {
        return refusal;
    }
    if !blobs::valid_digest(&sha) {
        return plain(StatusCode::BAD_REQUEST, "not a SHA-256 digest");
    }
    if q.size == 0 || q.size > MAX_BLOB_BYTES {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "the file is larger than accepted");
    }
    let data_dir = state.core.config.data_dir.clone();
    let (key, dir) = (sha.clone(), data_dir.clone());
    let appended =
        tokio::task::spawn_blocking(move || blobs::append_partial(&dir, &key, q.offset, q.size, &body)).await;
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
                r.headers_mut().insert("x-simpul-held", v);
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
            if !matches!(tokio::task::spawn_blocking(move || blobs::write(&dir, &bytes)).await, Ok(Ok(_))) {
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
    let app = router(SyncState { core, pki });
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
