//! `sync_load`: sync between real `simpul` processes, measured. Prints figures, asserts nothing.
//!
//! 1. A hub and BOXES office boxes (default 25), each holding APPS new applications (default
//!    40), all told to sync at the same moment: the hub's resident memory before and at its
//!    peak (VmHWM), and the time until every box is done.
//! 2. One box with 200 new applications behind a shaping proxy of 1 Mbit/s each way and 600 ms
//!    round trip: the session's wall time against the ideal (bytes at 1 Mbit/s plus one round
//!    trip per exchange and two for the TLS handshake).
//!
//! Usage: `target/release/sync_load [BOXES] [APPS]` after
//! `cargo build --release -p simpul-server --bin simpul -p simpul-tests`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simpul_tests::{Running, enrollment_token, simpul_binary, simpul_cli, start_hub};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn proc_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key).map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

async fn login(base: &str, user: &str, password: &str) -> (reqwest::Client, String) {
    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let s: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    let csrf = s["csrf"].as_str().unwrap().to_string();
    http.post(format!("{base}/api/login"))
        .form(&[("csrf", csrf.as_str()), ("username", user), ("password", password)])
        .send()
        .await
        .unwrap();
    let s: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    (http, s["csrf"].as_str().unwrap().to_string())
}

async fn open_applications(office: &Running, code: &str, n: usize) {
    let (http, csrf) = login(&office.base, "petugas", &office.passwords["petugas"]).await;
    let intake: Value =
        http.get(format!("{}/api/permohonan/intake", office.base)).send().await.unwrap().json().await.unwrap();
    let service =
        intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == "ikd_activation").unwrap()["id"].clone();
    for i in 0..n {
        let form = json!({"service_id": service, "ticket": null, "proxy": null, "applicant": {
            "nik": "5103021205900001", "name": format!("Pemohon {code} {i}"), "sex": "male", "birth_place": "Badung",
            "birth_date": "1990-05-12", "marital": "married", "address": format!("Jl. Raya Mengwi {i}"),
            "region": "51.03.02", "kk_number": "5103021234567890", "foreign": false, "country": "",
            "passport_number": "", "passport_expires": "", "permit_kind": "", "permit_number": "",
            "permit_expires": "", "phone": "081234567890", "email": ""}});
        let body = json!({"csrf": csrf, "client_id": format!("load-{}-{i}", code.replace('.', "")), "form": form});
        let r = http.post(format!("{}/api/permohonan/buka", office.base)).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "open: {}", r.status());
    }
}

/// Tells a box to sync and waits until that session is over; returns (exchanges, bytes).
async fn sync_and_wait(base: String, password: String) -> (u64, u64) {
    let (http, csrf) = login(&base, "kepala", &password).await;
    let status =
        || async { http.get(format!("{base}/api/sinkron")).send().await.unwrap().json::<Value>().await.unwrap() };
    let before = status().await["sessions"].as_u64().unwrap_or(0);
    http.post(format!("{base}/api/sinkron/sekarang")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    loop {
        let s = status().await;
        if s["sessions"].as_u64().unwrap_or(0) > before && !s["running"].as_bool().unwrap_or(true) {
            return (s["exchanges"].as_u64().unwrap_or(0), s["bytes"].as_u64().unwrap_or(0));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TCP proxy that delays every chunk by `delay` and paces each direction at `bits_per_sec`.
async fn shaping_proxy(target: std::net::SocketAddr, delay: Duration, bits_per_sec: u64) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pipe(cr, sw, delay, bits_per_sec), pipe(sr, cw, delay, bits_per_sec));
            });
        }
    });
    addr
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    bits_per_sec: u64,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((at, bytes)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut free_at = tokio::time::Instant::now();
    let mut buf = vec![0u8; 1500];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let now = tokio::time::Instant::now();
        let on_wire = Duration::from_secs_f64(n as f64 * 8.0 / bits_per_sec as f64);
        free_at = free_at.max(now) + on_wire;
        if tx.send((free_at + delay, buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (boxes, apps) = (args.first().copied().unwrap_or(25), args.get(1).copied().unwrap_or(40));
    let hub_dir = tempfile::tempdir().unwrap();
    let (hub, sync_url) = start_hub(hub_dir.path());
    let enroll = |dir: &Path, office: &str, url: &str| {
        let token = enrollment_token(hub_dir.path(), office);
        let out = simpul_cli(dir, &[], &["enroll", "--hub", url, "--token", &token]);
        assert!(out.status.success(), "enroll: {}", String::from_utf8_lossy(&out.stderr));
    };
    let on_demand = [("SIMPUL_HUB__SYNC_INTERVAL_SECS", "3600"), ("SIMPUL_HUB__RETRY_MAX_SECS", "3600")];

    // 1. Many boxes at once.
    let mut dirs = Vec::new();
    let mut running = Vec::new();
    for i in 0..boxes {
        let dir = tempfile::tempdir().unwrap();
        // Offices of the hub's regency (Badung, 51.03): the hub enrolls no other.
        let office = format!("51.03.{:02}", 1 + i % 89);
        enroll(dir.path(), &office, &sync_url);
        let r = Running::start(&simpul_binary(), dir.path(), &on_demand, &[]);
        open_applications(&r, &office, apps).await;
        running.push(r);
        dirs.push(dir);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = proc_kib(hub.pid(), "VmRSS:");
    let started = Instant::now();
    let tasks: Vec<_> =
        running.iter().map(|r| tokio::spawn(sync_and_wait(r.base.clone(), r.passwords["kepala"].clone()))).collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    let peak = proc_kib(hub.pid(), "VmHWM:");
    let bytes: u64 = results.iter().map(|r| r.1).sum();
    println!("sync_load: {boxes} boxes x {apps} new applications, all syncing at once");
    println!("  hub RSS before {:>8.1} MB, peak {:>8.1} MB", rss_before as f64 / 1024.0, peak as f64 / 1024.0);
    println!("  all sessions done in {:.2} s; {} bytes on the wire in total", elapsed.as_secs_f64(), bytes);
    drop(running);

    // 2. One box behind a slow, far link.
    let target: std::net::SocketAddr = sync_url.trim_start_matches("https://").parse().unwrap();
    let one_way = Duration::from_millis(300);
    let proxy = shaping_proxy(target, one_way, 1_000_000).await;
    let dir = tempfile::tempdir().unwrap();
    enroll(dir.path(), "51.03.90", &format!("https://{proxy}"));
    let slow = Running::start(&simpul_binary(), dir.path(), &on_demand, &[]);
    open_applications(&slow, "51.03.90", 200).await;
    let started = Instant::now();
    let (exchanges, bytes) = sync_and_wait(slow.base.clone(), slow.passwords["kepala"].clone()).await;
    let wall = started.elapsed().as_secs_f64();
    // Ideal: the bytes at 1 Mbit/s, one round trip per exchange, two for TCP + TLS set-up.
    let ideal = bytes as f64 * 8.0 / 1e6 + (exchanges as f64 + 2.0) * 0.6;
    println!("1 Mbit/s, 600 ms RTT, 200 new applications:");
    println!(
        "  {exchanges} exchange(s), {bytes} bytes; wall {wall:.2} s against ideal {ideal:.2} s (x{:.2})",
        wall / ideal
    );
}
