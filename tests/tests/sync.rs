//! A hub and two office boxes as real `simpul` processes, talking HTTPS with mutual TLS through
//! a proxy this test controls: enrollment (a token works once), work on both boxes while the
//! link is cut, healing, convergence checked record by record in the SQLite files, and sessions
//! cut at random byte counts again and again without loss.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use simpul_tests::{Running, eventually, simpul_binary};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP proxy toward the hub: `up` false refuses and drops every connection; `cut_after`
/// above zero breaks each connection after that many bytes from the hub.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    cut_after: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let cut_after = Arc::new(AtomicUsize::new(0));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let connections = Arc::new(AtomicUsize::new(0));
        let (up2, cut2, gen2, conns2) = (up.clone(), cut_after.clone(), generation.clone(), connections.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                conns2.fetch_add(1, Ordering::SeqCst);
                let budget = cut2.load(Ordering::SeqCst);
                let mut cut = gen2.subscribe();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else { return };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        let mut buf = [0u8; 8192];
                        while let Ok(n) = cr.read(&mut buf).await {
                            if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let down = async {
                        let mut buf = [0u8; 8192];
                        let mut passed = 0usize;
                        while let Ok(n) = sr.read(&mut buf).await {
                            if n == 0 {
                                break;
                            }
                            let n = if budget > 0 { n.min(budget.saturating_sub(passed)) } else { n };
                            if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                            passed += n;
                        }
                    };
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, up, cut_after, connections, generation }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn simpul(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(simpul_binary());
    cmd.args(args).env("SIMPUL_DATA_DIR", dir.join("data")).env_remove("SIMPUL_CONFIG").current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn token_for(hub_dir: &Path, office: &str) -> String {
    let out = simpul(hub_dir, &[("SIMPUL_ROLE", "hub")], &["enroll", "token", "create", "--office", office]);
    assert!(out.status.success(), "token: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap().trim().to_string()
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
}

impl Counter {
    async fn login(office: &Running) -> Counter {
        let http = client();
        let base = office.base.clone();
        let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
        let csrf = session["csrf"].as_str().unwrap().to_string();
        let password = office.passwords["petugas"].clone();
        http.post(format!("{base}/api/login"))
            .form(&[("csrf", csrf.as_str()), ("username", "petugas"), ("password", password.as_str())])
            .send()
            .await
            .unwrap();
        let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
        let csrf = session["csrf"].as_str().unwrap().to_string();
        let intake: Value =
            http.get(format!("{base}/api/permohonan/intake")).send().await.unwrap().json().await.unwrap();
        let service =
            intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == "ikd_activation").unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
        Counter { http, base, csrf, service }
    }

    async fn open(&self, n: u32, nik: &str) -> String {
        let form = json!({
            "service_id": self.service, "ticket": null, "proxy": null,
            "applicant": {
                "nik": nik, "name": format!("Pemohon {n}"), "sex": "male", "birth_place": "Badung",
                "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
                "region": "51.03.02", "kk_number": "5103021234567890", "foreign": false, "country": "",
                "passport_number": "", "passport_expires": "", "permit_kind": "", "permit_number": "",
                "permit_expires": "", "phone": "081234567890", "email": "contoh@example.org"
            }
        });
        let body = json!({"csrf": self.csrf, "client_id": format!("sync-open-{n}-{nik}"), "form": form});
        let r = self.http.post(format!("{}/api/permohonan/buka", self.base)).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "open: {}", r.status());
        r.json::<Value>().await.unwrap().as_str().unwrap().to_string()
    }
}

/// (id, heads) of every application document in a box's database.
fn documents(data: &Path) -> Vec<(String, String)> {
    let out = Command::new("sqlite3")
        .arg("-readonly")
        .arg(data.join("simpul.sqlite3"))
        .arg("SELECT id || ' ' || heads FROM documents ORDER BY id")
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect(),
        _ => panic!("sqlite3 is needed to read the databases (apt install sqlite3)"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boxes_and_hub_converge_through_outages_and_cut_sessions() {
    let hub_dir = tempfile::tempdir().unwrap();
    let hub = Running::start(
        &simpul_binary(),
        hub_dir.path(),
        &[("SIMPUL_ROLE", "hub"), ("SIMPUL_HUB__SYNC_LISTEN", "127.0.0.1:0")],
        &[],
    );
    let sync_addr: std::net::SocketAddr = hub
        .console
        .lines()
        .find_map(|l| l.strip_prefix("Simpul hub sync (mutual TLS) is listening on https://"))
        .expect("the hub reports its sync address")
        .trim()
        .parse()
        .unwrap();
    let proxy = Proxy::start(sync_addr).await;
    let hub_url = format!("https://{}", proxy.addr);

    // Enrollment: a token works once; a made-up token is refused.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let token_a = token_for(hub_dir.path(), "51.03.02");
    let out = simpul(dir_a.path(), &[], &["enroll", "--hub", &hub_url, "--token", &token_a]);
    assert!(out.status.success(), "enroll A: {}", String::from_utf8_lossy(&out.stderr));
    let again = simpul(dir_b.path(), &[], &["enroll", "--hub", &hub_url, "--token", &token_a]);
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
    let out = simpul(dir_b.path(), &[], &["enroll", "--hub", &hub_url, "--token", &forged]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not known"), "{}", String::from_utf8_lossy(&out.stderr));
    let token_b = token_for(hub_dir.path(), "51.03.01");
    let out = simpul(dir_b.path(), &[], &["enroll", "--hub", &hub_url, "--token", &token_b]);
    assert!(out.status.success(), "enroll B: {}", String::from_utf8_lossy(&out.stderr));

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
    tokio::time::sleep(Duration::from_secs(3)).await;
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
    drop((box_a, box_b, hub));
}
