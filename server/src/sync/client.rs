//! The office box's side of sync: enrollment with a hub, and the loop that runs a session when
//! the link is up, backs off while it is down, and runs at once on demand.

use std::sync::Arc;
use std::time::Duration;

use simpul_sync::Cursor;
use simpul_sync::protocol::MAX_FRAME_BYTES;
use time::OffsetDateTime;

use crate::state::Core;
use crate::sync::exchange::{self, ExchangeError};
use crate::sync::link::{LinkProblem, describe};
pub use crate::sync::status::{Pace, SyncHandle, SyncStatus};
use simpul_installer::pki::{self, BoxIdentity};
use simpul_sync::wire::{self, header, path};

/// Settings key holding the hub address written at enrollment.
/// Setting: the end of the last successful session (kept across restarts).
const LAST_SUCCESS_SETTING: &str = "sync.last_success";

/// The hub's answer to one request, read whole (bounded).
struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(300)]).trim().to_string()
    }

    fn header_u64(&self, name: &str) -> Option<u64> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
    }
}

/// Sends a request carrying `sent` bytes and reads the answer, telling the pace how it went.
async fn request(handle: &SyncHandle, request: reqwest::RequestBuilder, sent: usize) -> Result<Answer, SessionError> {
    let started = std::time::Instant::now();
    let answer = async {
        let response = request.send().await.map_err(|e| SessionError::Link(describe(&e)))?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = read_bounded(response).await?;
        Ok(Answer { status, headers, body })
    }
    .await;
    match &answer {
        Ok(a) => handle.pace.observe(sent + a.body.len(), started.elapsed(), false),
        Err(SessionError::Link(LinkProblem::Timeout)) => handle.pace.observe(0, started.elapsed(), true),
        Err(_) => {}
    }
    answer
}

/// Why a session stopped.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The hub cannot be reached.
    #[error("{0}")]
    Link(LinkProblem),
    /// The hub refused, with its reason.
    #[error("the hub refused: {0}")]
    Refused(String),
    /// This box refused the hub's answer.
    #[error("{0}")]
    Local(#[from] ExchangeError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] simpul_store::db::StoreError),
    /// Keys or certificates are missing or unusable.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// Records went through, but some files could not be sent (the others were).
    #[error("{failed} file(s) could not be sent: {first}")]
    Files {
        /// How many.
        failed: usize,
        /// The first one's error.
        first: String,
    },
}

impl SessionError {
    /// Stable code of the failure, for the UI's translation.
    pub fn code(&self) -> &'static str {
        match self {
            SessionError::Link(problem) => problem.code(),
            SessionError::Refused(_) => "hub_refused",
            SessionError::Local(ExchangeError::Revoked) => "revoked",
            SessionError::Local(ExchangeError::NotEnrolled) => "not_enrolled",
            SessionError::Local(ExchangeError::Sync(simpul_sync::session::SyncError::ClockSkew(_))) => "clock_skew",
            SessionError::Local(ExchangeError::NoUnit) => "no_unit",
            SessionError::Local(ExchangeError::Store(_)) | SessionError::Store(_) => "storage",
            SessionError::Local(_) => "bad_answer",
            SessionError::Pki(pki::PkiError::Expired(_)) => "certificate_expired",
            SessionError::Pki(_) => "certificate",
            SessionError::Files { .. } => "files_refused",
        }
    }
}

/// A client with this box's certificate.
pub fn client(identity: &BoxIdentity, timeout: Duration) -> Result<reqwest::Client, SessionError> {
    reqwest::Client::builder()
        .use_preconfigured_tls(identity.client_config()?)
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| SessionError::Link(LinkProblem::Other(format!("cannot start the HTTP client: {e}"))))
}

async fn read_bounded(response: reqwest::Response) -> Result<Vec<u8>, SessionError> {
    if response.content_length().is_some_and(|n| n > MAX_FRAME_BYTES as u64) {
        return Err(SessionError::Refused("the hub's answer is too large".into()));
    }
    let mut response = response;
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| SessionError::Link(describe(&e)))? {
        if out.len() + chunk.len() > MAX_FRAME_BYTES {
            return Err(SessionError::Refused("the hub's answer is too large".into()));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The hub's address for `path`.
/// A path of the contract under the hub's address (relative, so a hub behind a path prefix
/// keeps it).
fn endpoint(base: &reqwest::Url, path: &str) -> Result<reqwest::Url, SessionError> {
    base.join(path.trim_start_matches('/'))
        .map_err(|e| SessionError::Link(LinkProblem::Other(format!("bad hub address: {e}"))))
}

/// Runs one session: exchanges until neither side has anything more. Returns the exchanges.
pub async fn session(
    core: &Core,
    handle: &SyncHandle,
    client: &reqwest::Client,
    base: &reqwest::Url,
) -> Result<u64, SessionError> {
    let url = endpoint(base, path::EXCHANGE)?;
    let mut exchanges = 0u64;
    let mut rewinds = 0;
    let mut last_pull_had_changes = false;
    handle.update(|s| {
        s.running = true;
        s.exchanges = 0;
        s.bytes = 0;
        s.planned = s.waiting_bytes + s.waiting_blob_bytes;
    });
    loop {
        let now = OffsetDateTime::now_utc();
        let budget = handle.pace.bytes();
        let mut out = core.db.call(move |c| Ok(exchange::box_outgoing(c, budget, now))).await??;
        if out.documents == 0 && !out.more && exchanges > 0 && !last_pull_had_changes {
            return Ok(exchanges);
        }
        let sent = out.bytes.len() as u64;
        let post = client
            .post(url.clone())
            .header("content-type", wire::CONTENT_TYPE)
            .header(header::BUDGET, budget)
            .body(out.bytes);
        let answer = request(handle, post, sent as usize).await?;
        if answer.status == reqwest::StatusCode::CONFLICT && rewinds < 3 {
            // The hub holds less of our log than we thought: start again from what it holds.
            let held = answer.header_u64(header::HELD).unwrap_or(0);
            // The hub's timeline (0 from a hub that does not say: the box then echoes), and
            // what the box holds of the hub's log in it.
            let (epoch, hub_held) =
                (answer.header_u64(header::EPOCH).unwrap_or(0), answer.header_u64(header::HUB_HELD).unwrap_or(0));
            let now = OffsetDateTime::now_utc();
            core.db.call(move |c| Ok(exchange::box_rewind(c, Cursor(held), epoch, Cursor(hub_held), now))).await??;
            rewinds += 1;
            continue;
        }
        if !answer.status.is_success() {
            let text = answer.text();
            return Err(SessionError::Refused(if text.is_empty() {
                format!("HTTP {}", answer.status.as_u16())
            } else {
                text
            }));
        }
        let mark = answer
            .headers
            .get(header::FILES_MISSING)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(64).collect::<String>());
        *handle.hub_lacks_files.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = mark;
        let body = answer.body;
        let received = body.len() as u64;
        let now = OffsetDateTime::now_utc();
        let delivered = std::mem::take(&mut out.credentials);
        let sent_push = out.sent;
        let incoming =
            core.db.call(move |c| Ok(exchange::box_incoming(c, &body, now, sent_push, &delivered))).await??;
        exchanges += 1;
        handle.update(|s| {
            s.exchanges = exchanges;
            s.bytes += sent + received;
        });
        last_pull_had_changes = incoming.documents > 0;
        if !out.more && !incoming.more && !last_pull_had_changes {
            return Ok(exchanges);
        }
    }
}

async fn refresh_waiting(core: &Core, handle: &SyncHandle) {
    let totals =
        core.db.call(|c| Ok((simpul_store::replica::pending(c)?, simpul_store::blobs::pending_totals(c)?))).await;
    if let Ok(((records, bytes), (blobs, blob_bytes))) = totals {
        handle.update(|s| {
            s.waiting_records = records;
            s.waiting_bytes = bytes;
            s.waiting_blobs = blobs;
            s.waiting_blob_bytes = blob_bytes;
        });
    }
}

/// Blob bytes sent per session at most, so that a backlog of scans never delays the records
/// of the next session for long.
const BLOB_BUDGET_PER_SESSION: u64 = 16 * 1024 * 1024;

/// The setting that keeps the hub's mark of the set of files it lacked when this box last
/// asked which they were.
const FILES_MISSING_ASKED_SETTING: &str = "sync.files_missing.asked";

/// Pages of the hub's list of missing files asked for in one session at most.
const MISSING_PAGES_PER_SESSION: usize = 20;

/// Where to start asking the hub which files it lacks (an empty digest: from the first), or
/// `None` not to ask: the hub said it lacks some (`mark`), none of this box's own files are
/// still on their way (they would explain it), and this box has not already gone through the
/// same set (`asked`: the mark, and the last digest read when the list was read in part).
/// Files no box holds any more stay lacking, and asking about them every session would cost a
/// round trip each time for nothing.
fn resume_asking(mark: Option<&str>, asked: Option<&str>, waiting_files: u64) -> Option<String> {
    let mark = mark.filter(|_| waiting_files == 0)?;
    if !marks_the_set(mark) {
        // A hub from before marks says only that it lacks files: asked every time.
        return Some(String::new());
    }
    match asked.map(|a| a.split_once(' ').unwrap_or((a, ""))) {
        Some((m, "")) if m == mark => None,
        Some((m, after)) if m == mark && simpul_store::blobs::valid_digest(after) => Some(after.to_string()),
        _ => Some(String::new()),
    }
}

/// Whether the hub's `x-simpul-files-missing` value marks the set (epoch.count.sequence), as
/// hubs since marks do, rather than only saying that files are missing.
fn marks_the_set(mark: &str) -> bool {
    mark.contains('.')
}

/// When the hub said it lacks files of the office (a hub restored from a backup lost the ones
/// sent after it), asks which, page by page, and puts those this box holds back in line to go
/// up. A hub that does not know the question is left alone. Answers how many go again.
async fn resend_lost(
    core: &Core,
    handle: &SyncHandle,
    client: &reqwest::Client,
    base: &reqwest::Url,
) -> Result<u64, SessionError> {
    let mark = handle.hub_lacks_files.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let Some(mark) = mark else { return Ok(0) };
    let ((waiting, _), asked) = core
        .db
        .call(|c| {
            Ok((simpul_store::blobs::pending_totals(c)?, simpul_store::settings::get(c, FILES_MISSING_ASKED_SETTING)?))
        })
        .await?;
    let Some(mut after) = resume_asking(Some(&mark), asked.as_deref(), waiting) else { return Ok(0) };
    let mut again = 0;
    let mut ended = false;
    for _ in 0..MISSING_PAGES_PER_SESSION {
        let mut url = endpoint(base, path::BLOBS_MISSING)?;
        if !after.is_empty() {
            url.query_pairs_mut().append_pair("after", &after);
        }
        let answer = request(handle, client.get(url), 0).await?;
        if !answer.status.is_success() {
            return Ok(again);
        }
        let digests: Vec<String> = String::from_utf8_lossy(&answer.body)
            .lines()
            .map(str::trim)
            .filter(|l| simpul_store::blobs::valid_digest(l) && **l > *after)
            .take(wire::MISSING_LIST_LIMIT as usize)
            .map(str::to_string)
            .collect();
        let full_page = digests.len() >= wire::MISSING_LIST_LIMIT as usize;
        let last = digests.iter().max().cloned();
        again += core.db.call(move |c| simpul_store::blobs::send_again(c, &digests)).await? as u64;
        match last.filter(|_| full_page) {
            Some(last) => after = last,
            None => {
                ended = true;
                break;
            }
        }
    }
    // Gone through this set: not again until it changes (files arrived, or others went
    // missing); read in part: on from where this session stopped.
    if marks_the_set(&mark) {
        let asked = if ended { mark } else { format!("{mark} {after}") };
        core.db.call(move |c| simpul_store::settings::put(c, FILES_MISSING_ASKED_SETTING, &asked)).await?;
    }
    if again > 0 {
        tracing::warn!(files = again, "the hub lacks files it had taken (restored from a backup?): sending them again");
    }
    Ok(again)
}

/// Sends waiting blobs after the records, resuming each where the hub's copy ends.
pub async fn upload_blobs(
    core: &Core,
    handle: &SyncHandle,
    client: &reqwest::Client,
    base: &reqwest::Url,
) -> Result<u64, SessionError> {
    let mut sent_total = 0u64;
    let mut failures: Vec<String> = Vec::new();
    let pending = core.db.call(|c| simpul_store::blobs::pending_sync(c, 100)).await?;
    for (sha, size) in pending {
        if sent_total >= BLOB_BUDGET_PER_SESSION {
            break;
        }
        match upload_blob(core, handle, client, base, &sha, size).await {
            Ok(sent) => {
                sent_total += sent;
                let now = OffsetDateTime::now_utc();
                core.db.call(move |c| simpul_store::blobs::mark_synced(c, &sha, now)).await?;
            }
            // The link is down: no other file will get through either.
            Err(e @ (SessionError::Link(_) | SessionError::Store(_))) => return Err(e),
            // This file cannot go (unreadable here, refused there): note it, put it behind the
            // others and go on with them.
            Err(e) => {
                let error = e.to_string();
                tracing::warn!(error, "a file could not be sent to the hub; the others go on");
                core.db.call(move |c| simpul_store::blobs::note_sync_failure(c, &sha, &error)).await?;
                failures.push(e.to_string());
            }
        }
    }
    match failures.first() {
        None => Ok(sent_total),
        Some(first) => Err(SessionError::Files { failed: failures.len(), first: first.clone() }),
    }
}

/// Runs file work off the async threads; a failure is said as `what` and the reason.
async fn on_disk<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, SessionError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SessionError::Refused(e.to_string()))?
        .map_err(|e| SessionError::Refused(format!("{what}: {e}")))
}

/// Fetches the files the box's records point at and it lacks (made on another box of the
/// office, or lost in a restore from a backup), in chunks that resume where the partial copy
/// ends, each checked against its digest. A file the hub does not hold yet is tried again at
/// the next session, behind the others. Answers the bytes received.
pub async fn download_blobs(
    core: &Core,
    handle: &SyncHandle,
    client: &reqwest::Client,
    base: &reqwest::Url,
) -> Result<u64, SessionError> {
    let mut received = 0u64;
    let wanted = core.db.call(|c| simpul_store::blobs::wanted(c, 100)).await?;
    for sha in wanted {
        if received >= BLOB_BUDGET_PER_SESSION {
            break;
        }
        let outcome = download_blob(core, handle, client, base, &sha).await;
        let now = OffsetDateTime::now_utc();
        let key = sha.clone();
        match outcome {
            Ok(Some(n)) => {
                received += n;
                core.db.call(move |c| simpul_store::blobs::fetched(c, &key)).await?;
            }
            // Not at the hub (yet), or refused: behind the others from now on.
            Ok(None) => core.db.call(move |c| simpul_store::blobs::note_fetch_failure(c, &key, now)).await?,
            Err(e @ (SessionError::Link(_) | SessionError::Store(_))) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "a file could not be fetched from the hub; the others go on");
                core.db.call(move |c| simpul_store::blobs::note_fetch_failure(c, &key, now)).await?;
            }
        }
    }
    Ok(received)
}

async fn download_blob(
    core: &Core,
    handle: &SyncHandle,
    client: &reqwest::Client,
    base: &reqwest::Url,
    sha: &str,
) -> Result<Option<u64>, SessionError> {
    use simpul_store::blobs::{self, Chunk};
    let url = endpoint(base, &path::blob_content(sha))?;
    let dir = core.files.clone();
    let mut received = 0u64;
    // Each round either moves forward or stops; the bound only guards against a hub that
    // keeps answering nonsense.
    for _ in 0..64 {
        let offset = dir.partial_len(blobs::FROM_HUB, sha);
        let mut get = url.clone();
        get.set_query(Some(&format!("offset={offset}&len={}", handle.pace.bytes())));
        let r = request(handle, client.get(get), 0).await?;
        match r.status.as_u16() {
            200 => {}
            // Not at the hub yet (the box that made it has not sent it): next session.
            404 => return Ok(None),
            // What is held here is as long as the file or longer (a stop after the last chunk
            // was written): start again from nothing.
            416 => {
                let (d, key) = (dir.clone(), sha.to_string());
                on_disk("a partial file cannot be dropped", move || d.drop_partial(blobs::FROM_HUB, &key)).await?;
                continue;
            }
            _ => return Err(SessionError::Refused(r.text())),
        }
        let size = r
            .header_u64(header::SIZE)
            .filter(|n| *n > 0 && *n <= wire::MAX_BLOB_BYTES)
            .ok_or_else(|| SessionError::Refused("the hub did not say how large the file is".into()))?;
        let body = r.body;
        if body.is_empty() || body.len() > wire::DOWNLOAD_CHUNK_BYTES {
            return Err(SessionError::Refused("the hub sent a chunk of a size it may not send".into()));
        }
        received += body.len() as u64;
        handle.update(|s| s.bytes += body.len() as u64);
        let (d, key) = (dir.clone(), sha.to_string());
        let chunk =
            on_disk("a file cannot be stored", move || d.append_partial(blobs::FROM_HUB, &key, offset, size, &body))
                .await?;
        match chunk {
            Chunk::Held(_) => continue,
            Chunk::WrongOffset(_) => {
                // Started again from nothing at the next session.
                let (d, key) = (dir.clone(), sha.to_string());
                on_disk("a partial file cannot be dropped", move || d.drop_partial(blobs::FROM_HUB, &key)).await?;
                return Err(SessionError::Refused("a fetched file's chunks do not line up".into()));
            }
            Chunk::Mismatch => return Err(SessionError::Refused("a fetched file does not match its SHA-256".into())),
            Chunk::Complete(bytes) => {
                let Some(content_type) = simpul_domain::attachment::ContentType::sniff(&bytes) else {
                    return Err(SessionError::Refused(
                        "a fetched file is not a PDF, JPEG, PNG or biometric record".into(),
                    ));
                };
                let len = bytes.len();
                let d = dir.clone();
                on_disk("a file cannot be stored", move || d.write(&bytes)).await?;
                let (key, now) = (sha.to_string(), OffsetDateTime::now_utc());
                core.db.call(move |c| blobs::record_held(c, &key, len, content_type, now)).await?;
                return Ok(Some(received));
            }
        }
    }
    Err(SessionError::Refused("the hub kept sending a file without end".into()))
}

/// Sends one file in chunks, from where the hub's copy ends. Answers the bytes sent.
async fn upload_blob(
    core: &Core,
    handle: &SyncHandle,
    client: &reqwest::Client,
    base: &reqwest::Url,
    sha: &str,
    size: u64,
) -> Result<u64, SessionError> {
    let mut sent_total = 0u64;
    let url = endpoint(base, &path::blob(sha))?;
    let held = request(handle, client.get(url.clone()), 0).await?;
    if !held.status.is_success() {
        return Err(SessionError::Refused(held.text()));
    }
    let held = held.text();
    let mut offset = if held.trim() == "complete" { size } else { held.trim().parse::<u64>().unwrap_or(0) };
    if offset >= size {
        return Ok(0);
    }
    let files = core.files.clone();
    let key = sha.to_string();
    let bytes = on_disk("a stored file cannot be read", move || files.read(&key)).await?;
    while offset < size {
        let end = (offset as usize + handle.pace.bytes()).min(bytes.len());
        let chunk = bytes[offset as usize..end].to_vec();
        let sent = chunk.len() as u64;
        let mut put = url.clone();
        put.set_query(Some(&format!("offset={offset}&size={size}")));
        let r = request(handle, client.put(put).body(chunk), sent as usize).await?;
        match r.status.as_u16() {
            200..=299 => offset += sent,
            409 => {
                // The hub holds a different amount (an earlier chunk did arrive): go on from there.
                let held: u64 = r.text().parse().unwrap_or(u64::MAX);
                if held == offset || held > size {
                    return Err(SessionError::Refused("the hub refuses the file's chunks".into()));
                }
                offset = held;
                continue;
            }
            _ => {
                return Err(SessionError::Refused(r.text()));
            }
        }
        sent_total += sent;
        handle.update(|s| s.bytes += sent);
    }
    Ok(sent_total)
}

/// The sync loop of an office box, until `stop` turns true.
pub async fn run(
    core: Arc<Core>,
    handle: Arc<SyncHandle>,
    base: reqwest::Url,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let base = if base.path().ends_with('/') {
        base
    } else {
        let mut b = base.clone();
        b.set_path(&format!("{}/", base.path()));
        b
    };
    let interval = Duration::from_secs(core.config.hub.sync_interval_secs.max(1));
    let retry_max = Duration::from_secs(core.config.hub.retry_max_secs.max(1));
    let timeout = Duration::from_secs(core.config.hub.timeout_secs.max(1) * 6);
    handle.pace.set_timeout(timeout);
    let mut failures = 0u32;
    // The last success survives a restart: staff judge how fresh the hub's copy is by it.
    if let Ok(Some(at)) = core.db.call(|c| simpul_store::settings::get(c, LAST_SUCCESS_SETTING)).await {
        let at = simpul_store::parse_stamp(&at);
        handle.update(|s| s.last_success = s.last_success.or(at));
    }
    loop {
        refresh_waiting(&core, &handle).await;
        let identity = BoxIdentity::load(&core.config.data_dir);
        let outcome = match identity {
            Err(e) => Err(SessionError::Pki(e)),
            Ok(identity) => {
                let expires = pki::not_after(&identity.cert_pem).ok();
                handle.update(|s| {
                    s.enrolled = true;
                    s.certificate_expires = expires;
                });
                // An expired certificate is said as such, not as a network fault.
                let expired = expires.filter(|end| *end <= OffsetDateTime::now_utc());
                match expired
                    .map_or_else(|| client(&identity, timeout), |end| Err(pki::PkiError::Expired(end.date()).into()))
                {
                    // Records first; files only once the records are across.
                    Ok(client) => match session(&core, &handle, &client, &base).await {
                        Ok(exchanges) => {
                            let resent = resend_lost(&core, &handle, &client, &base).await;
                            refresh_waiting(&core, &handle).await;
                            match resent.and(upload_blobs(&core, &handle, &client, &base).await) {
                                Err(e @ (SessionError::Link(_) | SessionError::Store(_))) => Err(e),
                                // Files the records point at come down once ours went up.
                                up => download_blobs(&core, &handle, &client, &base).await.and(up).map(|_| exchanges),
                            }
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
        };
        let now = OffsetDateTime::now_utc();
        if matches!(outcome, Ok(_) | Err(SessionError::Files { .. })) {
            let at = simpul_store::stamp(now);
            if let Err(e) = core.db.call(move |c| simpul_store::settings::put(c, LAST_SUCCESS_SETTING, &at)).await {
                tracing::warn!(error = %e, "cannot keep the time of the last sync");
            }
        }
        let wait = match outcome {
            Ok(exchanges) => {
                failures = 0;
                core.link.record(Ok(()), now);
                handle.update(|s| {
                    s.running = false;
                    s.last_success = Some(now);
                    s.last_error = None;
                    s.last_error_code = None;
                    s.sessions += 1;
                });
                tracing::debug!(exchanges, "sync session done");
                interval
            }
            // The records and the other files went through: a session like any other, with
            // the files that stayed behind said plainly.
            Err(e @ SessionError::Files { .. }) => {
                failures = 0;
                core.link.record(Ok(()), now);
                handle.update(|s| {
                    s.running = false;
                    s.last_success = Some(now);
                    s.last_error = Some(e.to_string());
                    s.last_error_code = Some(e.code());
                    s.sessions += 1;
                });
                interval
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                if let SessionError::Link(problem) = &e {
                    core.link.record(Err(problem.clone()), now);
                } else if let SessionError::Pki(_) = &e {
                    // Nothing was sent: the link's state is not known from this attempt.
                    tracing::warn!(error = %e, "sync cannot start");
                } else {
                    // The hub answered: the link is up even though the session failed.
                    core.link.record(Ok(()), now);
                    tracing::warn!(error = %e, "sync session failed");
                }
                handle.update(|s| {
                    s.running = false;
                    s.last_error = Some(e.to_string());
                    s.last_error_code = Some(e.code());
                });
                // 0.5 s, 1 s, 2 s, ... up to `retry_max`: a short blip heals fast, a long
                // outage costs one attempt every few minutes.
                let backoff = Duration::from_millis(250u64.saturating_mul(2u64.saturating_pow(failures.min(20))));
                backoff.min(retry_max)
            }
        };
        refresh_waiting(&core, &handle).await;
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = handle.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simpul_sync::protocol::{BATCH_BUDGET, MIN_BATCH_BUDGET};

    #[test]
    fn the_step_shrinks_on_a_timeout_and_grows_back_only_on_quick_full_requests() {
        let pace = Pace::default();
        pace.set_timeout(Duration::from_secs(8));
        assert_eq!(pace.bytes(), BATCH_BUDGET);
        pace.observe(0, Duration::from_secs(8), true);
        assert_eq!(pace.bytes(), BATCH_BUDGET / 4);
        for _ in 0..10 {
            pace.observe(0, Duration::from_secs(8), true);
        }
        assert_eq!(pace.bytes(), MIN_BATCH_BUDGET, "never below the smallest batch");
        // Small requests (a check, an empty exchange) say nothing about the link's speed.
        pace.observe(300, Duration::from_millis(10), false);
        assert_eq!(pace.bytes(), MIN_BATCH_BUDGET);
        // A full step that took most of the timeout: the link is at its limit.
        pace.observe(MIN_BATCH_BUDGET, Duration::from_secs(5), false);
        assert_eq!(pace.bytes(), MIN_BATCH_BUDGET);
        // Quick full steps: back up, and no further than a full batch.
        for _ in 0..20 {
            pace.observe(pace.bytes(), Duration::from_millis(200), false);
        }
        assert_eq!(pace.bytes(), BATCH_BUDGET);
    }

    #[test]
    fn the_hub_is_asked_which_files_it_lacks_once_per_state_of_that_set() {
        let from_start = Some(String::new());
        assert_eq!(resume_asking(Some("9.3.17"), None, 0), from_start);
        assert_eq!(resume_asking(None, None, 0), None, "the hub lacks nothing");
        assert_eq!(resume_asking(Some("9.3.17"), None, 2), None, "this box's own files are still on their way");
        assert_eq!(resume_asking(Some("9.3.17"), Some("9.3.17"), 0), None, "gone through this very set already");
        assert_eq!(resume_asking(Some("9.2.17"), Some("9.3.17"), 0), from_start, "files arrived since");
        assert_eq!(resume_asking(Some("9.4.18"), Some("9.3.17"), 0), from_start, "more went missing since");
        assert_eq!(resume_asking(Some("8.3.17"), Some("9.3.17"), 0), from_start, "a restored hub");
        // A list read in part goes on from where it stopped, while the set is the same.
        let after = "ab".repeat(32);
        let partly = format!("9.3.17 {after}");
        assert_eq!(resume_asking(Some("9.3.17"), Some(&partly), 0), Some(after));
        assert_eq!(resume_asking(Some("9.3.18"), Some(&partly), 0), from_start);
        assert_eq!(resume_asking(Some("9.3.17"), Some("9.3.17 ../x"), 0), from_start);
        // A hub from before marks: asked each time it says files are missing.
        assert_eq!(resume_asking(Some("1"), Some("1"), 0), from_start);
    }
}
