//! A hub and two office boxes as real `simpul` processes, talking HTTPS with mutual TLS through
//! a proxy this test controls: enrollment (a token works once), work on both boxes while the
//! link is cut, healing, convergence checked record by record in the SQLite files, and sessions
//! cut at random byte counts again and again without loss.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use simpul_tests::{Running, enrollment_token, eventually, query, simpul_binary, simpul_cli, start_hub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP proxy toward the hub: `up` false refuses and drops every connection; `cut_after`
/// above zero breaks each connection after that many bytes from the hub.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    cut_after: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    /// Connections dropped while the link was cut.
    refused: Arc<AtomicUsize>,
    generation: tokio::sync::watch::Sender<u64>,
    /// Bytes per second each way (0: as fast as loopback).
    rate: Arc<AtomicUsize>,
}

/// Copies `from` to `to`, at most `rate` bytes per second each way when it is above 0, and
/// at most `budget` bytes when that is above 0.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    rate: Arc<AtomicUsize>,
    budget: usize,
) {
    let mut buf = [0u8; 4096];
    let mut passed = 0usize;
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let n = if budget > 0 { n.min(budget.saturating_sub(passed)) } else { n };
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        passed += n;
        let rate = rate.load(Ordering::SeqCst);
        if rate > 0 {
            tokio::time::sleep(Duration::from_secs_f64(n as f64 / rate as f64)).await;
        }
    }
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let cut_after = Arc::new(AtomicUsize::new(0));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let connections = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let rate = Arc::new(AtomicUsize::new(0));
        let (up2, cut2, gen2, conns2, rate2, refused2) =
            (up.clone(), cut_after.clone(), generation.clone(), connections.clone(), rate.clone(), refused.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    refused2.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                conns2.fetch_add(1, Ordering::SeqCst);
                let budget = cut2.load(Ordering::SeqCst);
                let mut cut = gen2.subscribe();
                let rate = rate2.clone();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::select! {
                        _ = pump(cr, sw, rate.clone(), 0) => {}
                        _ = pump(sr, cw, rate, budget) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, up, cut_after, connections, refused, generation, rate }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Limits each direction to `bytes_per_second` (0: no limit).
    fn set_rate(&self, bytes_per_second: usize) {
        self.rate.store(bytes_per_second, Ordering::SeqCst);
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

struct Counter {
    http: reqwest::Client,
    base: String,
    csrf: String,
    service: String,
    legalisation: String,
}

impl Counter {
    async fn login(office: &Running) -> Counter {
        Counter::login_as(office, "petugas").await
    }

    /// Logs in as the demo account `username` (petugas, verifikator, kepala).
    async fn login_as(office: &Running, username: &str) -> Counter {
        let http = client();
        let base = office.base.clone();
        let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
        let csrf = session["csrf"].as_str().unwrap().to_string();
        let password = office.passwords[username].clone();
        http.post(format!("{base}/api/login"))
            .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
        let csrf = session["csrf"].as_str().unwrap().to_string();
        assert_eq!(session["user"]["username"], username, "{username} logs in");
        let mut counter = Counter { http, base, csrf, service: String::new(), legalisation: String::new() };
        // Only counter staff take applications, and see the services to take them for.
        if username == "petugas" {
            counter.service = counter.service_of("ikd_activation").await;
            counter.legalisation = counter.service_of("legalisation").await;
        }
        counter
    }

    /// The id of the catalog service of `kind`, as the intake offers it.
    async fn service_of(&self, kind: &str) -> String {
        let intake: Value =
            self.http.get(format!("{}/api/permohonan/intake", self.base)).send().await.unwrap().json().await.unwrap();
        intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == kind).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn open(&self, n: u32, nik: &str) -> String {
        self.open_for(&self.service, n, nik).await
    }

    async fn open_for(&self, service: &str, n: u32, nik: &str) -> String {
        let applicant = json!({
            "nik": nik, "name": format!("Pemohon {n}"), "sex": "male", "birth_place": "Badung",
            "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
            "region": "51.03.02", "kk_number": "5103021234567890", "foreign": false, "country": "",
            "passport_number": "", "passport_expires": "", "permit_kind": "", "permit_number": "",
            "permit_expires": "", "phone": "081234567890", "email": "contoh@example.org"
        });
        self.open_with(service, &format!("sync-open-{n}-{nik}-{service}"), applicant).await
    }

    async fn open_with(&self, service: &str, client_id: &str, applicant: Value) -> String {
        let form = json!({"service_id": service, "ticket": null, "proxy": null, "applicant": applicant});
        let body = json!({"csrf": self.csrf, "client_id": client_id, "form": form});
        let r = self.http.post(format!("{}/api/permohonan/buka", self.base)).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "open: {}", r.status());
        r.json::<Value>().await.unwrap().as_str().unwrap().to_string()
    }

    async fn detail(&self, id: &str) -> Value {
        let r = self.http.get(format!("{}/api/permohonan/detail?id={id}", self.base)).send().await.unwrap();
        assert!(r.status().is_success(), "detail: {}", r.status());
        r.json().await.unwrap()
    }

    /// Attaches `bytes` to the first document requirement of application `id`.
    async fn attach(&self, id: &str, bytes: Vec<u8>) {
        let detail = self.detail(id).await;
        let item = detail["checklist"].as_array().unwrap().iter().position(|l| l["kind"] == "document").unwrap();
        self.upload(&format!("{id}/syarat/{item}"), bytes, "scan.pdf").await;
    }

    /// Posts a file to `/berkas/permohonan/{target}` as the upload form does.
    async fn upload(&self, target: &str, bytes: Vec<u8>, name: &str) {
        let form = reqwest::multipart::Form::new()
            .text("csrf", self.csrf.clone())
            .part("berkas", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
        let r =
            self.http.post(format!("{}/berkas/permohonan/{target}", self.base)).multipart(form).send().await.unwrap();
        let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
        assert!(location.contains("unggah=ok"), "upload: {} {location}", r.status());
    }

    /// Meets every requirement of `id`: documents attached, the rest confirmed by staff.
    async fn complete_checklist(&self, id: &str) {
        let detail = self.detail(id).await;
        for (item, line) in detail["checklist"].as_array().unwrap().iter().enumerate() {
            if line["met"] == true {
                continue;
            }
            if line["kind"] == "document" {
                self.upload(&format!("{id}/syarat/{item}"), b"%PDF-1.4\n%%EOF\n".to_vec(), "syarat.pdf").await;
            } else {
                let item = item.to_string();
                let r = self
                    .http
                    .post(format!("{}/api/permohonan/konfirmasi", self.base))
                    .form(&[("csrf", self.csrf.as_str()), ("id", id), ("item", &item), ("confirmed", "true")])
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "confirm {item}: {}", r.status());
            }
        }
        let detail = self.detail(id).await;
        assert!(detail["checklist"].as_array().unwrap().iter().all(|l| l["met"] == true), "{detail}");
    }

    /// Takes lifecycle step `action` on `id`; returns the status the server answers with.
    async fn step(&self, id: &str, action: &str) -> Result<String, String> {
        let form = json!({
            "reasons": [], "note": "", "other_reference": "", "recipient_nik": "", "withdrawn_serial": "",
            "withdrawn_reason": "", "withdrawn_disposition": "", "copies": null
        });
        let client_id = uuid::Uuid::new_v4().to_string();
        let body = json!({"csrf": self.csrf, "client_id": client_id, "id": id, "action": action, "form": form});
        let r = self.http.post(format!("{}/api/permohonan/langkah", self.base)).json(&body).send().await.unwrap();
        let ok = r.status().is_success();
        let text = r.text().await.unwrap();
        if ok { Ok(serde_json::from_str::<String>(&text).unwrap()) } else { Err(text) }
    }
}

/// A "scan" of `len` bytes that does not compress: a PDF frame around pseudo-random bytes.
fn noisy_pdf(seed: u32, len: usize) -> Vec<u8> {
    let mut scan = b"%PDF-1.4\n".to_vec();
    let mut x = seed;
    scan.extend((0..len).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (x >> 16) as u8
    }));
    scan.extend_from_slice(b"\n%%EOF\n");
    scan
}

/// A box directory enrolled at the hub (whose directory is `hub_dir`) for `office`.
fn enrolled(hub_dir: &Path, sync_url: &str, office: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let token = enrollment_token(hub_dir, office);
    let out = simpul_cli(dir.path(), &[], &["enroll", "--hub", sync_url, "--token", &token]);
    assert!(out.status.success(), "enroll: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

/// (id, heads) of every application document in a box's database.
fn documents(data: &Path) -> Vec<(String, String)> {
    query(data, "SELECT id || ' ' || heads FROM documents ORDER BY id")
        .into_iter()
        .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boxes_and_hub_converge_through_outages_and_cut_sessions() {
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub, sync_url) = start_hub(hub_dir.path());
    let sync_addr: std::net::SocketAddr = sync_url.trim_start_matches("https://").parse().unwrap();
    let proxy = Proxy::start(sync_addr).await;
    let hub_url = format!("https://{}", proxy.addr);

    // Enrollment: a token works once; a made-up token is refused.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let token_a = enrollment_token(hub_dir.path(), "51.03.02");
    let out = simpul_cli(dir_a.path(), &[], &["enroll", "--hub", &hub_url, "--token", &token_a]);
    assert!(out.status.success(), "enroll A: {}", String::from_utf8_lossy(&out.stderr));
    let again = simpul_cli(dir_b.path(), &[], &["enroll", "--hub", &hub_url, "--token", &token_a]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already used"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let forged = format!(
        "{}.{}",
        &token_a[..token_a.rfind('.').unwrap()].replace("SPL1.", "SPL1.x"),
        &token_a[token_a.rfind('.').unwrap() + 1..]
    );
    let out = simpul_cli(dir_b.path(), &[], &["enroll", "--hub", &hub_url, "--token", &forged]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not known"), "{}", String::from_utf8_lossy(&out.stderr));
    // Both refusals are kept in the hub's audit log, without the token.
    assert_eq!(
        query(
            &hub_dir.path().join("data"),
            "SELECT detail FROM audit_log WHERE action = 'enrollment_refused' ORDER BY seq"
        ),
        ["used", "unknown"]
    );
    // No token for an office outside the hub's regency.
    let foreign =
        simpul_cli(hub_dir.path(), &[("SIMPUL_ROLE", "hub")], &["enroll", "token", "create", "--office", "52.01.01"]);
    assert!(!foreign.status.success());
    assert!(String::from_utf8_lossy(&foreign.stderr).contains("not in this hub's regency"));
    let token_b = enrollment_token(hub_dir.path(), "51.03.01");
    let out = simpul_cli(dir_b.path(), &[], &["enroll", "--hub", &hub_url, "--token", &token_b]);
    assert!(out.status.success(), "enroll B: {}", String::from_utf8_lossy(&out.stderr));
    // The hub holds box A's receipt key from its enrollment: a receipt the box signs is
    // genuine at the hub, an altered one or another office's claim is not.
    {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let pkcs8 = query(&dir_a.path().join("data"), "SELECT value FROM settings WHERE key = 'receipt.signing_key'");
        let key = ring::signature::Ed25519KeyPair::from_pkcs8(&URL_SAFE_NO_PAD.decode(&pkcs8[0]).unwrap()).unwrap();
        let body = "SIMPUL-TT1|510302-20261122-0001|51.03.02|2026-11-22T10:00:00+08:00";
        let signed = format!("{body}|{}", URL_SAFE_NO_PAD.encode(key.sign(body.as_bytes()).as_ref()));
        let hub_env = [("SIMPUL_ROLE", "hub")];
        let out = simpul_cli(hub_dir.path(), &hub_env, &["receipt", "verify", &signed]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Genuine receipt: application 510302-20261122-0001"));
        let altered = signed.replace("-0001|", "-0002|");
        let out = simpul_cli(hub_dir.path(), &hub_env, &["receipt", "verify", &altered]);
        assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("NOT a genuine receipt"));
        let elsewhere = signed.replace("|51.03.02|", "|51.03.01|");
        let out = simpul_cli(hub_dir.path(), &hub_env, &["receipt", "verify", &elsewhere]);
        assert!(!out.status.success(), "another office's boxes never signed it");
    }
    // Each box of an office numbers applications in its own block: the hub gives a second box
    // of office A the next station.
    let station = |d: &Path| query(&d.join("data"), "SELECT value FROM settings WHERE key = 'numbering.station'");
    assert_eq!((station(dir_a.path()), station(dir_b.path())), (vec!["1".to_string()], vec!["1".to_string()]));
    let second_a = enrolled(hub_dir.path(), &hub_url, "51.03.02");
    assert_eq!(station(second_a.path()), ["2"]);

    let fast = [("SIMPUL_HUB__SYNC_INTERVAL_SECS", "1"), ("SIMPUL_HUB__RETRY_MAX_SECS", "1")];
    let box_a = Running::start(&simpul_binary(), dir_a.path(), &fast, &[]);
    let box_b = Running::start(&simpul_binary(), dir_b.path(), &fast, &[]);
    let (counter_a, counter_b) = (Counter::login(&box_a).await, Counter::login(&box_b).await);

    // Work on both boxes while the link is down.
    proxy.cut();
    let mut opened = 0u32;
    for n in 0..5 {
        counter_a.open(n, "5103021205900001").await;
        counter_b.open(n, "5103021205900002").await;
        opened += 2;
    }
    // Both boxes try to sync meanwhile (each attempt meets the cut): only then does "nothing
    // arrived" say something.
    let tried_before = proxy.refused.load(Ordering::SeqCst);
    let tried = eventually(Duration::from_secs(30), || async {
        (proxy.refused.load(Ordering::SeqCst) >= tried_before + 4).then_some(())
    })
    .await;
    assert!(tried.is_some(), "the boxes tried to sync through the cut link");
    assert!(documents(&hub_dir.path().join("data")).is_empty(), "nothing reached the hub through a cut link");

    // Heal: everything arrives, record by record.
    proxy.heal();
    let converged = |expected: usize| {
        let hub_docs = documents(&hub_dir.path().join("data"));
        let a = documents(&dir_a.path().join("data"));
        let b = documents(&dir_b.path().join("data"));
        let mut both: Vec<_> = a.iter().chain(b.iter()).cloned().collect();
        both.sort();
        (hub_docs.len() == expected && hub_docs == both).then_some(())
    };
    let expected = opened as usize;
    assert!(
        eventually(Duration::from_secs(60), || async { converged(expected) }).await.is_some(),
        "the hub holds every record of both boxes with the same heads"
    );
    // Office A's box holds nothing of office B's applicants.
    assert_eq!(documents(&dir_a.path().join("data")).len(), 5);

    // A scan larger than one chunk follows the records and survives the cuts below.
    let legal = counter_a.open_for(&counter_a.legalisation, 500, "5103021205900001").await;
    opened += 1;
    let scan = noisy_pdf(7, 2_500_000);
    // An older file this box can no longer read (its bytes do not match their digest): it
    // must not hold the scan back.
    let bad = "ab".repeat(32);
    let bad_dir = dir_a.path().join("data/blobs/ab");
    std::fs::create_dir_all(&bad_dir).unwrap();
    std::fs::write(bad_dir.join(&bad), b"\xff\xd8 not the bytes this name promises").unwrap();
    simpul_tests::execute(
        &dir_a.path().join("data"),
        &format!(
            "INSERT INTO blobs (sha256, size, content_type, created_at) VALUES ('{bad}', 42, 'image/jpeg', '2000-01-01T00:00:00Z')"
        ),
    );
    counter_a.attach(&legal, scan).await;

    // Sessions cut at random points, again and again: nothing lost, nothing doubled.
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let cuts: usize = std::env::var("SIMPUL_SYNC_CUTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let mut attempts = 0;
    for round in 0..cuts {
        proxy.cut_after.store(rng.gen_range(1..8000), Ordering::SeqCst);
        if round % 10 == 0 {
            counter_a.open(100 + round as u32, "5103021205900001").await;
            opened += 1;
        }
        // Wait for the boxes' next attempt, then let it run a random while before the cut.
        let before = proxy.connections.load(Ordering::SeqCst);
        let _ = eventually(Duration::from_secs(5), || async {
            (proxy.connections.load(Ordering::SeqCst) > before).then_some(())
        })
        .await;
        attempts += proxy.connections.load(Ordering::SeqCst) - before;
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..60))).await;
        proxy.generation.send_modify(|g| *g += 1);
    }
    assert!(attempts >= cuts, "every round saw a sync attempt ({attempts} attempts in {cuts} rounds)");
    proxy.cut_after.store(0, Ordering::SeqCst);
    let expected = opened as usize;
    assert!(
        eventually(Duration::from_secs(60), || async { converged(expected) }).await.is_some(),
        "after {cuts} cut sessions the hub and the boxes agree on every record"
    );
    let box_blobs =
        query(&dir_a.path().join("data"), &format!("SELECT sha256 FROM blobs WHERE sha256 != '{bad}' ORDER BY sha256"));
    assert_eq!(box_blobs.len(), 1);
    assert!(
        eventually(Duration::from_secs(60), || async {
            (query(&hub_dir.path().join("data"), "SELECT sha256 FROM blobs ORDER BY sha256") == box_blobs
                && query(&dir_a.path().join("data"), "SELECT sha256 FROM blobs WHERE synced_at IS NULL")
                    == [bad.clone()])
            .then_some(())
        })
        .await
        .is_some(),
        "the scan reached the hub whole and the box knows it; the unreadable file stayed behind"
    );
    let noted = query(
        &dir_a.path().join("data"),
        &format!("SELECT sync_failures > 0, sync_error FROM blobs WHERE sha256 = '{bad}'"),
    );
    assert!(noted[0].starts_with("1|") && noted[0].contains("cannot be read"), "{noted:?}");
    let sha = &box_blobs[0];
    let stored = simpul_tests::read_blob(&hub_dir.path().join("data"), sha).expect("the scan at the hub");
    assert_eq!(stored.len(), 2_500_000 + 16);
    drop((box_a, box_b, hub));
}

/// Opens a TLS connection to the hub with `config` and sends the head of a request announcing
/// `length` body bytes, and only four of them: the request stays under way while the stream is
/// held (or until the hub answers without waiting for the rest).
async fn stalled_request(
    sync_url: &str,
    config: rustls::ClientConfig,
    path: &str,
    length: usize,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let addr = sync_url.trim_start_matches("https://").to_string();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let host = addr.rsplit_once(':').unwrap().0.to_string();
    let name = rustls::pki_types::ServerName::try_from(host).unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\n\r\nSMPL");
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.flush().await.unwrap();
    tls
}

/// The head of the answer on a stream, or "" when none came within `wait` (or the hub closed).
async fn answer_head(tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>, wait: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(wait, tls.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).to_string(),
        _ => String::new(),
    }
}

/// An mTLS client that trusts the hub's CA and shows the identity in `cert`/`key` (PEM files).
fn tls_client(ca: &Path, identity: Option<(&Path, &Path)>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        // A connection the hub closed after a refusal must not be reused for the next request.
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20));
    if let Some((cert, key)) = identity {
        let mut pem = std::fs::read(cert).unwrap();
        pem.extend_from_slice(&std::fs::read(key).unwrap());
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

fn push(sent_at: i64, changes: Vec<simpul_sync::protocol::DocChanges>) -> Vec<u8> {
    push_with(sent_at, changes, Vec::new())
}

fn push_with(
    sent_at: i64,
    changes: Vec<simpul_sync::protocol::DocChanges>,
    credentials: Vec<simpul_sync::reference::CredentialChange>,
) -> Vec<u8> {
    use simpul_sync::Cursor;
    use simpul_sync::protocol::{Message, Push, encode};
    let upto = if changes.is_empty() { Cursor(0) } else { Cursor(1) };
    encode(&Message::Push(Push {
        sent_at,
        after: Cursor(0),
        upto,
        applied_hub: Cursor(0),
        changes,
        more: false,
        reference_applied: Default::default(),
        credentials,
        lineage: Default::default(),
    }))
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A new document that holds nothing but its office.
fn bare_document(office: &str) -> simpul_sync::protocol::DocChanges {
    let mut doc = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "office", office).unwrap();
    let heads = doc.get_heads().iter().map(|h| h.0).collect();
    simpul_sync::protocol::DocChanges {
        doc: simpul_sync::DocumentId(uuid::Uuid::new_v4()),
        kind: simpul_sync::protocol::DocKind::Application,
        bytes: doc.save(),
        heads,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_refuses_bad_sync_traffic_and_keeps_running() {
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub, sync_url) = start_hub(hub_dir.path());
    let box_dir = enrolled(hub_dir.path(), &sync_url, "51.03.02");
    let tls = box_dir.path().join("data/tls");
    let ca = tls.join("hub-ca.pem");
    let client = tls_client(&ca, Some((&tls.join("box.pem"), &tls.join("box.key"))));
    let exchange = format!("{sync_url}/sync/v1/exchange");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let send = |body: Vec<u8>| {
        let (client, url) = (client.clone(), exchange.clone());
        async move {
            let r = client.post(url).body(body).send().await.expect("the hub answers");
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
    };

    // A good empty push, twice (a replay): both answered, nothing changes.
    assert_eq!(send(push(now, vec![])).await.0, 200);
    assert_eq!(send(push(now, vec![])).await.0, 200);
    // Garbage, a truncated message, an oversized one.
    let (status, text) = send(b"GET / HTTP/1.1\r\n\r\n".to_vec()).await;
    assert_eq!((status, text.contains("not a Simpul sync message")), (400, true), "{text}");
    let good = push(now, vec![]);
    let (status, text) = send(good[..good.len() - 3].to_vec()).await;
    assert_eq!(status, 400, "{text}");
    // Too large: refused before it is read (the hub may close the connection mid-upload).
    match client.post(&exchange).body(vec![0u8; 9 * 1024 * 1024]).send().await {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // A clock three days off.
    let (status, text) = send(push(now - 3 * 86_400, vec![])).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("clocks differ"), "{text}");
    // A document of another office.
    let foreign = bare_document("51.03.01");
    let (status, text) = send(push(now, vec![foreign])).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("belongs to office 51.03.01"), "{text}");
    // A document of the right office that is not a valid application record.
    let odd = bare_document("51.03.02");
    let (status, text) = send(push(now, vec![odd])).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("not valid"), "{text}");
    // A password for an account that is not this office's (here the regency admin's).
    let admin = query(&hub_dir.path().join("data"), "SELECT id FROM staff WHERE role = 'admin_kabupaten' LIMIT 1");
    let admin_hash = "SELECT password_hash FROM staff WHERE role = 'admin_kabupaten' LIMIT 1";
    let before = query(&hub_dir.path().join("data"), admin_hash);
    let forged = simpul_sync::reference::CredentialChange {
        staff: uuid::Uuid::parse_str(&admin[0]).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        changed_at: now,
    };
    let (status, text) = send(push_with(now, vec![], vec![forged.clone()])).await;
    assert_eq!(status, 200, "dropped and audited, the box's other work goes on: {text}");
    assert_eq!(query(&hub_dir.path().join("data"), admin_hash), before, "the admin's password is untouched");
    assert_eq!(
        query(&hub_dir.path().join("data"), "SELECT COUNT(*) FROM audit_log WHERE action = 'password_change_refused'"),
        ["1"]
    );
    // A hash no Simpul box makes (a cost of gigabytes per login check): the message is refused.
    let greedy = simpul_sync::reference::CredentialChange {
        password_hash: "$argon2id$v=19$m=4194304,t=1000,p=1$c2FsdA$aGFzaA".into(),
        ..forged
    };
    let (status, text) = send(push_with(now, vec![], vec![greedy])).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("password change was refused"), "{text}");
    assert_eq!(query(&hub_dir.path().join("data"), admin_hash), before);
    assert!(documents(&hub_dir.path().join("data")).is_empty(), "nothing refused was applied");
    // No certificate, and a certificate from another CA.
    let anonymous = tls_client(&ca, None);
    let r = anonymous.post(&exchange).body(push(now, vec![])).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let other_hub = tempfile::tempdir().unwrap();
    enrollment_token(other_hub.path(), "51.03.02");
    let other_tls = other_hub.path().join("data/tls");
    let stranger = tls_client(&ca, Some((&other_tls.join("hub-ca.pem"), &other_tls.join("hub-ca.key"))));
    assert!(
        stranger.post(&exchange).body(push(now, vec![])).send().await.is_err(),
        "a foreign CA's certificate is refused"
    );
    // Without a certificate the refusal comes before the body is read: a body announced and
    // never sent does not hold the answer back.
    let ca_pem = std::fs::read_to_string(&ca).unwrap();
    let anonymous_tls = simpul_installer::pki::ca_only_config(&ca_pem).unwrap();
    let mut unread = stalled_request(&sync_url, anonymous_tls, "/sync/v1/exchange", 1_000_000).await;
    let head = answer_head(&mut unread, Duration::from_secs(20)).await;
    assert!(head.starts_with("HTTP/1.1 401"), "answered before the body: {head:?}");
    // One box may have only so many requests under way at once; more are told to come back
    // later, another office's box is served meanwhile, and once they end the box is served again.
    let identity = simpul_installer::pki::BoxIdentity::load(&box_dir.path().join("data")).unwrap();
    let mut under_way = Vec::new();
    for _ in 0..4 {
        under_way
            .push(stalled_request(&sync_url, identity.client_config().unwrap(), "/sync/v1/exchange", 1_000_000).await);
    }
    let busy = eventually(Duration::from_secs(30), || async {
        let (status, text) = send(push(now, vec![])).await;
        (status == 429).then_some(text)
    })
    .await;
    assert!(busy.is_some_and(|t| t.contains("at once")), "a fifth request at once is refused");
    let neighbour = enrolled(hub_dir.path(), &sync_url, "51.03.01");
    let tls = neighbour.path().join("data/tls");
    let neighbour_client = tls_client(&ca, Some((&tls.join("box.pem"), &tls.join("box.key"))));
    let r = neighbour_client.post(&exchange).body(push(now, vec![])).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "another box is not held up");
    drop(under_way);
    assert!(
        eventually(Duration::from_secs(30), || async { (send(push(now, vec![])).await.0 == 200).then_some(()) })
            .await
            .is_some(),
        "served again once its requests ended"
    );
    // A revoked box.
    let out = simpul_cli(hub_dir.path(), &[("SIMPUL_ROLE", "hub")], &["enroll", "revoke", "--office", "51.03.02"]);
    assert!(out.status.success());
    let (status, text) = send(push(now, vec![])).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("revoked"), "{text}");
    // Through all of it the hub kept serving.
    let health = anonymous.get(format!("{sync_url}/healthz")).send().await.unwrap();
    assert!(health.status().is_success());
    let ui = reqwest::get(format!("{}/healthz", hub.base)).await.unwrap();
    assert!(ui.status().is_success());
}

/// Logs in at `base`; answers the client and the session it has afterwards.
async fn log_in(base: &str, username: &str, password: &str) -> (reqwest::Client, Value) {
    let http = client();
    let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_string();
    http.post(format!("{base}/api/login"))
        .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    (http, session)
}

/// Logs in at `base`; true when the box accepted the account.
async fn can_log_in(base: &str, username: &str, password: &str) -> bool {
    log_in(base, username, password).await.1["user"]["username"] == username
}

/// Logs in at `base` and changes the password on the account page's form; true when the box
/// sent the caller to log in again, as it does after a change.
async fn change_password(base: &str, username: &str, old: &str, new: &str) -> bool {
    let (http, session) = log_in(base, username, old).await;
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{base}/api/akun/sandi"))
        .form(&[("csrf", csrf.as_str()), ("current", old), ("new_password", new), ("repeat", new)])
        .send()
        .await
        .unwrap();
    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
    location.contains("sandi=diganti")
}

/// Creates an account on the hub; returns its generated password.
fn hub_account(hub_dir: &Path, username: &str, role: &str, office: Option<&str>) -> String {
    let mut args = vec!["user", "add", "--username", username, "--name", "Akun Kabupaten", "--role", role];
    if let Some(office) = office {
        args.extend(["--office", office]);
    }
    let out = simpul_cli(hub_dir, &[("SIMPUL_ROLE", "hub")], &args);
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    stdout.lines().find_map(|l| l.strip_prefix("Password: ")).expect("the password is printed").trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_hands_down_accounts_catalog_regions_and_holidays() {
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub, sync_url) = start_hub(hub_dir.path());
    let sari = hub_account(hub_dir.path(), "sari", "petugas", Some("51.03.02"));
    let budi = hub_account(hub_dir.path(), "budi", "verifikator", Some("51.03.02"));
    hub_account(hub_dir.path(), "luar", "petugas", Some("51.03.01"));
    hub_account(hub_dir.path(), "adminkab2", "admin_kabupaten", None);
    let holidays = hub_dir.path().join("libur-daerah.csv");
    std::fs::write(&holidays, "tanggal,nama,jenis\n2026-08-05,Hari Raya Galungan,libur_daerah\n").unwrap();
    let out =
        simpul_cli(hub_dir.path(), &[("SIMPUL_ROLE", "hub")], &["holidays", "import", holidays.to_str().unwrap()]);
    assert!(out.status.success(), "holidays: {}", String::from_utf8_lossy(&out.stderr));
    let standard = simpul_tests::fixtures().join("standar-pelayanan/000_a200f9219f51d82a.txt");
    let out = simpul_cli(hub_dir.path(), &[("SIMPUL_ROLE", "hub")], &["catalog", "import", standard.to_str().unwrap()]);
    assert!(out.status.success(), "catalog: {}", String::from_utf8_lossy(&out.stderr));

    // A new box, installed without demo data, is enrolled while its server runs: sync starts
    // without a restart.
    let dir = tempfile::tempdir().unwrap();
    let fast = [("SIMPUL_HUB__SYNC_INTERVAL_SECS", "1"), ("SIMPUL_HUB__RETRY_MAX_SECS", "1")];
    let office = Running::start(&simpul_binary(), dir.path(), &fast, &["--no-demo"]);
    let token = enrollment_token(hub_dir.path(), "51.03.02");
    let out = simpul_cli(dir.path(), &[], &["enroll", "--hub", &sync_url, "--token", &token]);
    assert!(out.status.success(), "enroll: {}", String::from_utf8_lossy(&out.stderr));
    let data = dir.path().join("data");
    let hub_data = hub_dir.path().join("data");

    let arrived = eventually(Duration::from_secs(30), || async {
        let rows = query(
            &data,
            "SELECT username || ':' || active FROM staff WHERE username IN ('sari', 'budi') ORDER BY username",
        );
        (rows == ["budi:1", "sari:1"]).then_some(())
    })
    .await;
    assert!(arrived.is_some(), "the office's accounts reach the box");
    assert!(
        query(&data, "SELECT username FROM staff WHERE username IN ('luar', 'adminkab2')").is_empty(),
        "another office's and regency accounts stay at the hub"
    );
    assert_eq!(
        query(&data, "SELECT name || '|' || kind FROM holidays WHERE date = '2026-08-05'"),
        ["Hari Raya Galungan|regional"]
    );
    let catalog = "SELECT id || '|' || title FROM catalog_services ORDER BY id";
    assert_eq!(query(&data, catalog), query(&hub_data, catalog), "the catalog matches the hub's, ids included");
    let regions = "SELECT code || '|' || name FROM regions ORDER BY code";
    assert_eq!(query(&data, regions), query(&hub_data, regions));
    assert!(can_log_in(&office.base, "sari", &sari).await, "an account made at the hub logs in at the box");

    // Sari changes her password at the box: it works there at once, reaches the hub with the
    // next sync, and the hub's copy coming back down does not undo it.
    assert!(change_password(&office.base, "sari", &sari, "kopi-bali-pagi-9").await);
    assert!(can_log_in(&office.base, "sari", "kopi-bali-pagi-9").await);
    assert!(!can_log_in(&office.base, "sari", &sari).await, "the old password no longer works");
    let hash = "SELECT password_hash FROM staff WHERE username = 'sari'";
    let reached = eventually(Duration::from_secs(30), || async {
        (query(&hub_data, hash) == query(&data, hash)
            && query(&data, "SELECT COUNT(*) FROM credential_outbox") == ["0"])
        .then_some(())
    })
    .await;
    assert!(reached.is_some(), "the new password reached the hub and left the box's outbox");
    assert_eq!(query(&hub_data, "SELECT COUNT(*) FROM audit_log WHERE action = 'password_changed_at_office'"), ["1"]);
    // Two more sessions complete (their end is kept in the box's settings) before the check.
    let last_success = || query(&data, "SELECT value FROM settings WHERE key = 'sync.last_success'");
    let mut seen = last_success();
    for _ in 0..2 {
        let before = seen.clone();
        let next = eventually(Duration::from_secs(30), || async {
            let now = last_success();
            (now != before).then_some(now)
        })
        .await;
        seen = next.expect("the box keeps syncing");
    }
    assert!(can_log_in(&office.base, "sari", "kopi-bali-pagi-9").await, "still the new one after more syncs");

    // Disabled at the hub: refused at the box after its next sync.
    let out = simpul_cli(hub_dir.path(), &[("SIMPUL_ROLE", "hub")], &["user", "disable", "sari"]);
    assert!(out.status.success());
    let disabled = eventually(Duration::from_secs(30), || async {
        (query(&data, "SELECT active FROM staff WHERE username = 'sari'") == ["0"]).then_some(())
    })
    .await;
    assert!(disabled.is_some(), "disabling reaches the box");
    assert!(!can_log_in(&office.base, "sari", &sari).await);

    // The hub gone: logins at the box go on.
    hub.kill();
    assert!(can_log_in(&office.base, "budi", &budi).await, "login works with the hub down");
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0xe2, 0x21, 0xbc, 0x33, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The hub stands in for the national identification system: it lists what waits on the
/// centre, marks an application sent, records a double identification (pointing to the other
/// record) and, after the office's clarification, a single one; each answer reaches the office
/// at its next sync. Steps that do not fit the record's state are refused and change nothing.
/// A foreign resident's new KTP-el, through verification and the biometric step at the office,
/// ready for the hub to send to the centre: (id, number).
async fn through_biometrics(counter: &Counter, verifier: &Counter, client_id: &str) -> (String, String) {
    let service = counter.service_of("ktp_el_foreign_new").await;
    // Documents valid whenever the test runs.
    let (passport_expires, permit_expires) = (simpul_tests::years_from_today(5), simpul_tests::years_from_today(4));
    let applicant = json!({
        "nik": "5103025205900002", "name": "Jane Citizen", "sex": "female", "birth_place": "Perth",
        "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Kapal No. 7",
        "region": "51.03.02", "kk_number": "5103021234567891", "foreign": true, "country": "AUS",
        "passport_number": "PA1234567", "passport_expires": passport_expires, "permit_kind": "itap",
        "permit_number": "2C11AB1234", "permit_expires": permit_expires, "phone": "081234567890", "email": ""
    });
    let id = counter.open_with(&service, client_id, applicant).await;
    counter.complete_checklist(&id).await;
    assert_eq!(counter.step(&id, "submit").await.unwrap(), "submitted");
    assert_eq!(verifier.step(&id, "verify").await.unwrap(), "verified");
    counter.upload(&format!("{id}/biometrik/foto"), PNG.to_vec(), "foto.png").await;
    counter.upload(&format!("{id}/biometrik/tanda-tangan"), PNG.to_vec(), "ttd.png").await;
    assert_eq!(counter.step(&id, "record_biometrics").await.unwrap(), "biometrics_recorded");
    let number = counter.detail(&id).await["number"].as_str().unwrap().to_string();
    (id, number)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_relays_the_centres_identification_results() {
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub, sync_url) = start_hub(hub_dir.path());
    let dir = enrolled(hub_dir.path(), &sync_url, "51.03.02");
    let fast = [("SIMPUL_HUB__SYNC_INTERVAL_SECS", "1"), ("SIMPUL_HUB__RETRY_MAX_SECS", "1")];
    let office = Running::start(&simpul_binary(), dir.path(), &fast, &[]);
    let hub_data = hub_dir.path().join("data");
    let hub_cli = |args: &[&str]| simpul_cli(hub_dir.path(), &[("SIMPUL_ROLE", "hub")], args);

    let counter = Counter::login(&office).await;
    let verifier = Counter::login_as(&office, "verifikator").await;
    let head = Counter::login_as(&office, "kepala").await;
    let (id, number) = through_biometrics(&counter, &verifier, "identify-open").await;

    // The record reaches the hub and waits there to be sent.
    let hub_status = || query(&hub_data, &format!("SELECT status FROM applications WHERE number = '{number}'"));
    let status_is = |want: &'static str| {
        let hub_status = &hub_status;
        async move { (hub_status() == [want]).then_some(()) }
    };
    assert!(eventually(Duration::from_secs(30), || status_is("biometrics_recorded")).await.is_some());
    let pending = hub_cli(&["hub", "pending"]);
    let listed = String::from_utf8_lossy(&pending.stdout).to_string();
    assert!(listed.contains(&number) && listed.contains("to send"), "{listed}");
    assert!(!listed.contains("Jane"), "the work list carries no personal data: {listed}");

    // A result before the record was sent is refused, and nothing changes.
    let early = hub_cli(&["hub", "identify", "--number", &number, "--result", "single"]);
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains(&number), "{}", String::from_utf8_lossy(&early.stderr));
    assert_eq!(hub_status(), ["biometrics_recorded"]);
    let unknown = hub_cli(&["hub", "send", "--number", "510302-20260101-9999"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("has reached this hub"));
    // Only a hub records central steps.
    let on_box = simpul_cli(dir.path(), &[], &["hub", "send", "--number", &number]);
    assert!(!on_box.status.success());
    assert!(String::from_utf8_lossy(&on_box.stderr).contains("on the hub"));

    // Sent by the hub; the centre answers with a match in another record.
    let sent = hub_cli(&["hub", "send", "--number", &number]);
    assert!(sent.status.success(), "send: {}", String::from_utf8_lossy(&sent.stderr));
    let other = "510301-20261002-0031";
    let double = hub_cli(&["hub", "identify", "--number", &number, "--result", "double", "--other", other]);
    assert!(double.status.success(), "identify: {}", String::from_utf8_lossy(&double.stderr));
    assert!(String::from_utf8_lossy(&double.stdout).contains("clarification"));
    let at_office = || async {
        let detail = head.detail(&id).await;
        Some(detail)
    };
    let clarified =
        eventually(Duration::from_secs(30), || async { at_office().await.filter(|d| d["status"] == "clarification") })
            .await
            .expect("the double identification reaches the office");
    assert_eq!(clarified["identification"], json!(["double", other]), "the office sees which record matched");

    // The office clarifies and sends it again; the hub records the single identification.
    assert_eq!(head.step(&id, "resolve_clarification").await.unwrap(), "sent_for_identification");
    assert!(eventually(Duration::from_secs(30), || status_is("sent_for_identification")).await.is_some());
    let single = hub_cli(&["hub", "identify", "--number", &number, "--result", "single"]);
    assert!(single.status.success(), "identify: {}", String::from_utf8_lossy(&single.stderr));
    let ready =
        eventually(Duration::from_secs(30), || async { at_office().await.filter(|d| d["status"] == "ready_to_print") })
            .await
            .expect("the single identification reaches the office");
    assert_eq!(ready["identification"][0], "single");
    assert_eq!(counter.step(&id, "produce").await.unwrap(), "ready");
    let pending = hub_cli(&["hub", "pending"]);
    assert!(!String::from_utf8_lossy(&pending.stdout).contains(&number));
    // Each central step is in the record's history, recorded at the hub, not at the office.
    let central: Vec<String> = ready["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["office"] != "51.03.02")
        .map(|s| s["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(central, ["send_for_identification", "identified_double", "identified_single"], "{}", ready["steps"]);
    drop((office, hub));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_or_hub_restored_from_a_backup_gets_back_what_the_other_side_holds() {
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub, sync_url) = start_hub(hub_dir.path());
    let dir = enrolled(hub_dir.path(), &sync_url, "51.03.02");
    let fast = [("SIMPUL_HUB__SYNC_INTERVAL_SECS", "1"), ("SIMPUL_HUB__RETRY_MAX_SECS", "1")];
    let (hub_data, box_data) = (hub_dir.path().join("data"), dir.path().join("data"));
    let backups = tempfile::tempdir().unwrap();
    // Backups are encrypted to the regency's recovery key, and open with its identity only.
    let (identity, recovery) = simpul_tests::recovery_key(backups.path());
    let identity = identity.to_str().unwrap().to_string();
    let sealing = [("SIMPUL_KEY__RECOVERY", recovery.as_str())];
    let hub_env = [("SIMPUL_ROLE", "hub"), ("SIMPUL_KEY__RECOVERY", recovery.as_str())];
    let at_hub = |number: &str| query(&hub_data, &format!("SELECT status FROM applications WHERE number = '{number}'"));
    let reaches_hub = |number: String, status: &'static str| {
        let at_hub = &at_hub;
        async move {
            eventually(Duration::from_secs(30), || async { (at_hub(&number) == [status]).then_some(()) })
                .await
                .is_some()
        }
    };
    let same_records = || async {
        eventually(Duration::from_secs(60), || async { (documents(&hub_data) == documents(&box_data)).then_some(()) })
            .await
            .is_some()
    };

    // The box is backed up while it runs, then works on; its work reaches the hub.
    let office = Running::start(&simpul_binary(), dir.path(), &fast, &[]);
    let passwords = office.passwords.clone();
    let counter = Counter::login(&office).await;
    let first = counter.open(1, "5103021205900001").await;
    let first_number = counter.detail(&first).await["number"].as_str().unwrap().to_string();
    assert!(reaches_hub(first_number.clone(), "draft").await);
    let box_backup = backups.path().join("box");
    let out = simpul_cli(dir.path(), &[], &["backup", box_backup.to_str().unwrap()]);
    assert!(!out.status.success(), "no backup without a recovery key to encrypt it to");
    assert!(String::from_utf8_lossy(&out.stderr).contains("key.recovery"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = simpul_cli(dir.path(), &sealing, &["backup", box_backup.to_str().unwrap()]);
    assert!(out.status.success(), "backup: {}", String::from_utf8_lossy(&out.stderr));
    let lost = counter.open(2, "5103021205900002").await;
    let lost_number = counter.detail(&lost).await["number"].as_str().unwrap().to_string();
    let scan = b"%PDF-1.4\n% the scan made after the backup\n%%EOF\n".to_vec();
    let scan_sha = sha256_hex(&scan);
    counter.attach(&lost, scan.clone()).await;
    assert!(reaches_hub(lost_number.clone(), "draft").await);
    let hub_holds_scan =
        || query(&hub_data, &format!("SELECT size FROM blobs WHERE sha256 = '{scan_sha}'")) == [scan.len().to_string()];
    assert!(
        eventually(Duration::from_secs(30), || async { hub_holds_scan().then_some(()) }).await.is_some(),
        "the scan reaches the hub"
    );
    // The server listens on a port of its own, not the configured one: the data directory's
    // lock, not a port, says it runs.
    let out = simpul_cli(dir.path(), &[], &["restore", box_backup.to_str().unwrap(), "--identity", &identity]);
    assert!(!out.status.success(), "no restore under a running server");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stop it"), "{}", String::from_utf8_lossy(&out.stderr));

    // The box's disk dies; the backup goes back in.
    office.kill();
    let out = simpul_cli(dir.path(), &[], &["restore", box_backup.to_str().unwrap(), "--identity", &identity]);
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept at"), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(query(&box_data, &format!("SELECT id FROM documents WHERE id = '{lost}'")).is_empty());
    let mut office = Running::start(&simpul_binary(), dir.path(), &fast, &[]);
    office.passwords = passwords.clone();
    let counter = Counter::login(&office).await;
    // New work never takes the number of the lost work, even before the first sync.
    let after = counter.open(3, "5103021205900003").await;
    let after_number = counter.detail(&after).await["number"].as_str().unwrap().to_string();
    assert_ne!(after_number, lost_number);
    assert!(after_number.ends_with("-11000"), "the upper block of station 1: {after_number}");
    // The hub gives the lost work back, and takes the new.
    assert!(reaches_hub(after_number.clone(), "draft").await, "the restored box's new work reaches the hub");
    assert!(same_records().await, "the restored box got back what the hub held of it");
    assert_eq!(counter.detail(&lost).await["number"], lost_number.as_str());
    // The scan the box lost comes back from the hub, checked against its digest.
    let box_holds_scan = |data: &Path| {
        simpul_tests::read_blob(data, &scan_sha).as_deref() == Some(scan.as_slice())
            && query(data, &format!("SELECT synced_at IS NOT NULL FROM blobs WHERE sha256 = '{scan_sha}'")) == ["1"]
    };
    assert!(
        eventually(Duration::from_secs(30), || async { box_holds_scan(&box_data).then_some(()) }).await.is_some(),
        "the restored box fetched back the scan it lost"
    );
    // A second box of the office gets the file too; a box of another office cannot fetch it.
    let second = enrolled(hub_dir.path(), &sync_url, "51.03.02");
    let second_box = Running::start(&simpul_binary(), second.path(), &fast, &[]);
    assert!(
        eventually(Duration::from_secs(30), || async { box_holds_scan(&second.path().join("data")).then_some(()) })
            .await
            .is_some(),
        "the office's other box fetched the scan"
    );
    drop(second_box);
    let foreign = enrolled(hub_dir.path(), &sync_url, "51.03.01");
    let fetch = |dir: &Path| {
        let tls = dir.join("data/tls");
        let client = tls_client(&tls.join("hub-ca.pem"), Some((&tls.join("box.pem"), &tls.join("box.key"))));
        let url = format!("{sync_url}/sync/v1/blob/{scan_sha}/content?offset=0");
        async move { client.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(fetch(foreign.path()).await, 404, "another office's box is told the file is not there");
    assert_eq!(fetch(second.path()).await, 200);
    // Nor can it learn that the hub holds the file, nor see or add to another office's upload.
    let client_of = |dir: &Path| {
        let tls = dir.join("data/tls");
        tls_client(&tls.join("hub-ca.pem"), Some((&tls.join("box.pem"), &tls.join("box.key"))))
    };
    let held = |dir: &Path, sha: String| {
        let client = client_of(dir);
        let url = format!("{sync_url}/sync/v1/blob/{sha}");
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(held(second.path(), scan_sha.clone()).await, "complete");
    assert_eq!(held(foreign.path(), scan_sha.clone()).await, "0", "the hub's holdings stay the office's");
    let upload = b"%PDF-1.4 a scan half sent by the office".to_vec();
    let upload_sha = sha256_hex(&upload);
    let put = |dir: &Path, offset: usize, part: &[u8]| {
        let client = client_of(dir);
        let url = format!("{sync_url}/sync/v1/blob/{upload_sha}?offset={offset}&size={}", upload.len());
        let body = part.to_vec();
        async move { client.put(url).body(body).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(put(second.path(), 0, &upload[..10]).await, 202);
    assert_eq!(held(second.path(), upload_sha.clone()).await, "10");
    assert_eq!(held(foreign.path(), upload_sha.clone()).await, "0", "another office's partial upload is not seen");
    assert_eq!(put(foreign.path(), 10, &upload[10..]).await, 409, "nor finished by another office");
    // Numbers given out after the lost work came back continue past it.
    let later = counter.open(4, "5103021205900004").await;
    let later_number = counter.detail(&later).await["number"].as_str().unwrap().to_string();
    assert!(later_number.ends_with("-11001"), "{later_number}");

    // Now the hub: backed up, then it takes a box's work and records a central step itself.
    let verifier = Counter::login_as(&office, "verifikator").await;
    let (central, central_number) = through_biometrics(&counter, &verifier, "restore-central").await;
    assert!(reaches_hub(central_number.clone(), "biometrics_recorded").await);
    let hub_backup = backups.path().join("hub");
    let out = simpul_cli(hub_dir.path(), &hub_env, &["backup", hub_backup.to_str().unwrap()]);
    assert!(out.status.success(), "hub backup: {}", String::from_utf8_lossy(&out.stderr));
    let after_hub_backup = counter.open(5, "5103021205900005").await;
    let after_hub_backup_number = counter.detail(&after_hub_backup).await["number"].as_str().unwrap().to_string();
    assert!(reaches_hub(after_hub_backup_number.clone(), "draft").await);
    // A scan sent after the hub's backup: the box takes it for delivered.
    let late_scan = b"%PDF-1.4\n% a scan the hub took after its backup\n%%EOF\n".to_vec();
    let late_sha = sha256_hex(&late_scan);
    counter.attach(&after_hub_backup, late_scan.clone()).await;
    let hub_holds_late = || {
        query(&hub_data, &format!("SELECT size FROM blobs WHERE sha256 = '{late_sha}'"))
            == [late_scan.len().to_string()]
    };
    assert!(
        eventually(Duration::from_secs(30), || async {
            (hub_holds_late()
                && query(&box_data, &format!("SELECT synced_at IS NOT NULL FROM blobs WHERE sha256 = '{late_sha}'"))
                    == ["1"])
            .then_some(())
        })
        .await
        .is_some(),
        "the late scan reaches the hub"
    );
    let sent = simpul_cli(hub_dir.path(), &hub_env, &["hub", "send", "--number", &central_number]);
    assert!(sent.status.success(), "send: {}", String::from_utf8_lossy(&sent.stderr));
    assert!(
        eventually(Duration::from_secs(30), || async {
            (counter.detail(&central).await["status"] == "sent_for_identification").then_some(())
        })
        .await
        .is_some(),
        "the hub's step reaches the box"
    );

    // The hub's disk dies, files and all; its backup goes back in, and it listens where the
    // box expects it.
    hub.kill();
    std::fs::remove_dir_all(hub_data.join("blobs")).unwrap();
    let out = simpul_cli(hub_dir.path(), &hub_env, &["restore", hub_backup.to_str().unwrap(), "--identity", &identity]);
    assert!(out.status.success(), "hub restore: {}", String::from_utf8_lossy(&out.stderr));
    assert!(at_hub(&after_hub_backup_number).is_empty());
    assert_eq!(at_hub(&central_number), ["biometrics_recorded"]);
    let sync_addr = sync_url.trim_start_matches("https://").to_string();
    let hub = Running::start(
        &simpul_binary(),
        hub_dir.path(),
        &[("SIMPUL_ROLE", "hub"), ("SIMPUL_HUB__SYNC_LISTEN", sync_addr.as_str())],
        &[],
    );
    // The box's work since the backup, and the hub's own step it lost, come back from the box.
    assert!(reaches_hub(after_hub_backup_number, "draft").await, "the box sends again what the hub lost");
    assert!(
        reaches_hub(central_number, "sent_for_identification").await,
        "the hub's own lost step comes back from the box"
    );
    assert!(same_records().await, "hub and box agree record by record");
    // The hub lost the late scan with its disk; the box, asked, sends it again.
    assert!(
        eventually(Duration::from_secs(30), || async { hub_holds_late().then_some(()) }).await.is_some(),
        "the scan the hub lost in its restore came back from the box"
    );
    let stored = simpul_tests::read_blob(&hub_data, &late_sha).expect("the late scan at the hub");
    assert_eq!(stored, late_scan);
    drop((office, hub));
}

/// A weak mobile link: at 24 KiB/s a 300 KB scan cannot cross in one request within the box's
/// 6-second request timeout, so a box that kept sending full-size chunks would never get it
/// across. The box sends in smaller steps after a timeout, says so, and the file arrives whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_link_still_gets_the_files_across_in_smaller_steps() {
    let hub_dir = tempfile::tempdir().unwrap();
    let (_hub, sync_url) = start_hub(hub_dir.path());
    let proxy = Proxy::start(sync_url.trim_start_matches("https://").parse().unwrap()).await;
    let dir = enrolled(hub_dir.path(), &format!("https://{}", proxy.addr), "51.03.02");
    let env = [
        ("SIMPUL_HUB__SYNC_INTERVAL_SECS", "1"),
        ("SIMPUL_HUB__RETRY_MAX_SECS", "1"),
        ("SIMPUL_HUB__TIMEOUT_SECS", "1"),
    ];
    let office = Running::start(&simpul_binary(), dir.path(), &env, &[]);
    let counter = Counter::login(&office).await;
    let id = counter.open(1, "5103021205900001").await;
    proxy.set_rate(24 * 1024);
    let scan = noisy_pdf(11, 300_000);
    let sha = sha256_hex(&scan);
    counter.attach(&id, scan.clone()).await;
    let hub_data = hub_dir.path().join("data");
    let arrived = eventually(Duration::from_secs(150), || {
        let (hub_data, sha, len) = (hub_data.clone(), sha.clone(), scan.len());
        async move {
            (query(&hub_data, &format!("SELECT size FROM blobs WHERE sha256 = '{sha}'")) == [len.to_string()])
                .then_some(())
        }
    })
    .await;
    assert!(arrived.is_some(), "the scan reached the hub through the slow link");
    let stored = simpul_tests::read_blob(&hub_data, &sha).expect("the scan at the hub");
    assert_eq!(sha256_hex(&stored), sha);
    // The office head sees why it went slowly.
    let head = Counter::login_as(&office, "kepala").await;
    let status: Value = head.http.get(format!("{}/api/sinkron", head.base)).send().await.unwrap().json().await.unwrap();
    let step = status["slow_link_step"].as_u64().expect("a slow link is reported");
    assert!(step < 300_000, "{status}");
}
