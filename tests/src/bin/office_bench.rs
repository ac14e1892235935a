//! `office_bench`: plays an office day against the release binary over real HTTP and prints the
//! latency of the main actions (p50, p99, max) and the server's memory after the day.
//!
//! Usage: `cargo run --release -p simpul-tests --bin office_bench [APPLICATIONS]` (default 200),
//! after `cargo build --release -p simpul-server --bin simpul`. Figures, not assertions.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use simpul_tests::{Running, simpul_binary};

struct Timings(BTreeMap<&'static str, Vec<Duration>>);

impl Timings {
    async fn time<T>(&mut self, name: &'static str, f: impl std::future::Future<Output = T>) -> T {
        let start = Instant::now();
        let out = f.await;
        self.0.entry(name).or_default().push(start.elapsed());
        out
    }

    fn print(&self) {
        println!("{:<28} {:>6} {:>9} {:>9} {:>9}", "action", "count", "p50 ms", "p99 ms", "max ms");
        for (name, samples) in &self.0 {
            let mut s = samples.clone();
            s.sort();
            let pick = |q: f64| s[((s.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
            println!("{name:<28} {:>6} {:>9.2} {:>9.2} {:>9.2}", s.len(), pick(0.5), pick(0.99), pick(1.0));
        }
    }
}

struct Staff {
    http: reqwest::Client,
    csrf: String,
}

async fn login(base: &str, user: &str, password: &str) -> Staff {
    let (http, csrf) = simpul_tests::log_in(base, user, password).await;
    Staff { http, csrf }
}

fn ok(r: reqwest::Response, what: &str) -> reqwest::Response {
    assert!(r.status().is_success() || r.status().is_redirection(), "{what}: {}", r.status());
    r
}

fn step_form(recipient: &str) -> Value {
    json!({"reasons": [], "note": "", "other_reference": "", "recipient_nik": recipient, "withdrawn_serial": "",
           "withdrawn_reason": "", "withdrawn_disposition": "", "copies": 2})
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let applications: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Running::start(&simpul_binary(), dir.path(), &[("SIMPUL_HUB__URL", "http://127.0.0.1:9")], &[]);
    let base = server.base.clone();
    let token = server.device_token("kiosk").expect("the demo prints a kiosk address");
    let rss_start = rss_kib(server.pid());
    let counter = login(&base, "petugas", &server.passwords["petugas"]).await;
    let verifier = login(&base, "verifikator", &server.passwords["verifikator"]).await;
    let kiosk = reqwest::Client::new();
    let mut t = Timings(BTreeMap::new());
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".repeat(2000); // ~90 KB, like a scan

    let intake: Value =
        counter.http.get(format!("{base}/api/permohonan/intake")).send().await.unwrap().json().await.unwrap();
    let service = intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == "legalisation").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        counter
            .http
            .post(format!("{base}/api/counter/open"))
            .form(&[("csrf", counter.csrf.as_str()), ("counter", "L1"), ("open", "true")])
            .send()
            .await
            .unwrap(),
        "open counter",
    );

    let started = Instant::now();
    for n in 0..applications {
        // Kiosk: a ticket, printed.
        let ticket: Value = t
            .time("kiosk: take ticket", async {
                let client_id = format!("bench-{n}");
                let r = kiosk
                    .post(format!("{base}/api/kiosk/ticket"))
                    .form(&[
                        ("token", token.as_str()),
                        ("service_id", service.as_str()),
                        ("lane", "normal"),
                        ("client_id", client_id.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                ok(r, "ticket").json().await.unwrap()
            })
            .await;
        let ticket_id = ticket["id"].as_str().unwrap().to_string();
        t.time("kiosk: ticket printed", async {
            let r = kiosk
                .post(format!("{base}/api/kiosk/printed"))
                .form(&[("token", token.as_str()), ("ticket_id", ticket_id.as_str()), ("ok", "true")])
                .send()
                .await
                .unwrap();
            ok(r, "printed");
        })
        .await;
        // Counter: call and start.
        let called: Value = t
            .time("counter: call next", async {
                let r = counter
                    .http
                    .post(format!("{base}/api/counter/call"))
                    .form(&[("csrf", counter.csrf.as_str()), ("counter", "L1")])
                    .send()
                    .await
                    .unwrap();
                ok(r, "call").json().await.unwrap()
            })
            .await;
        let called_id = called["id"].as_str().unwrap().to_string();
        ok(
            counter
                .http
                .post(format!("{base}/api/counter/act"))
                .form(&[("csrf", counter.csrf.as_str()), ("ticket", called_id.as_str()), ("action", "start")])
                .send()
                .await
                .unwrap(),
            "start",
        );
        // Intake.
        let nik = "5103021205900001";
        let form = json!({"service_id": service, "ticket": called_id, "proxy": null, "applicant": {
            "nik": nik, "name": "I Made Contoh", "sex": "male", "birth_place": "Badung", "birth_date": "1990-05-12",
            "marital": "married", "address": "Jl. Raya Mengwi 1", "region": "51.03.02", "kk_number": "5103021234567890",
            "foreign": false, "country": "", "passport_number": "", "passport_expires": "", "permit_kind": "",
            "permit_number": "", "permit_expires": "", "phone": "081234567890", "email": ""}});
        let id: String = t
            .time("application: open", async {
                let body = json!({"csrf": counter.csrf, "client_id": format!("open-{n}"), "form": form});
                let r = counter.http.post(format!("{base}/api/permohonan/buka")).json(&body).send().await.unwrap();
                ok(r, "open").json().await.unwrap()
            })
            .await;
        let detail: Value = t
            .time("application: detail (api)", async {
                let r = counter.http.get(format!("{base}/api/permohonan/detail?id={id}")).send().await.unwrap();
                ok(r, "detail").json().await.unwrap()
            })
            .await;
        for (i, line) in detail["checklist"].as_array().unwrap().iter().enumerate() {
            if line["kind"] == "document" {
                let mut body = pdf.clone();
                body.extend_from_slice(format!("% {n}-{i}\n").as_bytes()); // distinct files
                t.time("application: upload 90 KB", async {
                    let form = reqwest::multipart::Form::new().text("csrf", counter.csrf.clone()).part(
                        "berkas",
                        reqwest::multipart::Part::bytes(body)
                            .file_name("scan.pdf")
                            .mime_str("application/pdf")
                            .unwrap(),
                    );
                    let r = counter
                        .http
                        .post(format!("{base}/berkas/permohonan/{id}/syarat/{i}"))
                        .multipart(form)
                        .send()
                        .await
                        .unwrap();
                    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string();
                    assert!(location.contains("unggah=ok"), "upload: {location}");
                })
                .await;
            } else {
                t.time("application: confirm item", async {
                    let item = i.to_string();
                    let r = counter
                        .http
                        .post(format!("{base}/api/permohonan/konfirmasi"))
                        .form(&[
                            ("csrf", counter.csrf.as_str()),
                            ("id", id.as_str()),
                            ("item", item.as_str()),
                            ("confirmed", "true"),
                        ])
                        .send()
                        .await
                        .unwrap();
                    ok(r, "confirm");
                })
                .await;
            }
        }
        for (who, action, name) in [
            (&counter, "submit", "application: submit"),
            (&verifier, "verify", "application: verify"),
            (&counter, "produce", "application: produce"),
            (&counter, "hand_over", "application: hand over"),
        ] {
            t.time(name, async {
                let body = json!({"csrf": who.csrf, "client_id": format!("{action}-{n}"), "id": id, "action": action, "form": step_form(nik)});
                let r = who.http.post(format!("{base}/api/permohonan/langkah")).json(&body).send().await.unwrap();
                ok(r, action);
            })
            .await;
        }
        t.time("receipt PDF", async {
            let r = counter.http.get(format!("{base}/dokumen/permohonan/{id}/tanda-terima.pdf")).send().await.unwrap();
            let bytes = ok(r, "receipt").bytes().await.unwrap();
            assert!(bytes.starts_with(b"%PDF-"));
        })
        .await;
        t.time("page: application (SSR)", async {
            let r = counter.http.get(format!("{base}/permohonan/{id}")).send().await.unwrap();
            ok(r, "page").bytes().await.unwrap();
        })
        .await;
        ok(
            counter
                .http
                .post(format!("{base}/api/counter/act"))
                .form(&[("csrf", counter.csrf.as_str()), ("ticket", called_id.as_str()), ("action", "finish")])
                .send()
                .await
                .unwrap(),
            "finish",
        );
        if n.is_multiple_of(20) {
            t.time("dashboard (api)", async {
                ok(counter.http.get(format!("{base}/api/dasbor")).send().await.unwrap(), "dashboard");
            })
            .await;
            t.time("list: open (api)", async {
                ok(counter.http.get(format!("{base}/api/permohonan?list=all")).send().await.unwrap(), "list");
            })
            .await;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "Simpul office day: {applications} applications (legalisation: ticket, intake, uploads, verify, hand-over, receipt)"
    );
    println!(
        "wall time {:.1} s, one client per role, sequential, release binary, data on {}",
        elapsed.as_secs_f64(),
        dir.path().display()
    );
    t.print();
    let db = std::fs::metadata(dir.path().join("data/simpul.sqlite3")).map(|m| m.len()).unwrap_or(0);
    println!(
        "server RSS: {} KiB at start, {} KiB after the day; database file {} KiB",
        rss_start.map_or("?".into(), |v| v.to_string()),
        rss_kib(server.pid()).map_or("?".into(), |v| v.to_string()),
        db / 1024
    );
}
