//! Power cuts: the server is killed with SIGKILL at random moments while a client keeps opening
//! applications, meeting their requirements and advancing them (submitted by the counter,
//! verified by a verifier, produced) or cancelling them, each step with an idempotency key. After every
//! restart each action the client saw acknowledged is there, and retrying the action that was
//! in flight at the cut neither fails nor makes a duplicate. 200 cycles in the suite; for a
//! longer run set `SIMPUL_POWERCUT_CYCLES` (see README, "Benchmarks"). And a print job cut
//! short by a stop is neither lost nor printed twice.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use simpul_tests::{Running, simpul_binary};

/// What the client was told about one application.
#[derive(Debug, Clone, Default)]
struct Acked {
    /// Every requirement was acknowledged as met.
    met: bool,
    /// The status the last acknowledged step answered.
    status: Option<String>,
}

#[derive(Debug, Clone)]
enum InFlight {
    Open { client_id: String },
    Step { id: String, action: &'static str, client_id: String },
}

/// What the steps of the service's checklist need: (index, is a document).
type Checklist = Vec<(usize, bool)>;

struct Client {
    http: reqwest::Client,
    base: String,
    csrf: String,
    /// The verifier's session, for the verification step.
    verifier: (reqwest::Client, String),
    service: String,
    checklist: Checklist,
}

#[derive(Debug)]
struct Failed;

impl Client {
    async fn call(&self, path: &str, body: Value) -> Result<Value, Failed> {
        let response = self.http.post(format!("{}{path}", self.base)).json(&body).send().await.map_err(|_| Failed)?;
        if !response.status().is_success() {
            return Err(Failed);
        }
        response.json().await.map_err(|_| Failed)
    }

    async fn open(&self, client_id: &str) -> Result<String, Failed> {
        let form = json!({
            "service_id": self.service, "ticket": null, "proxy": null,
            "applicant": {
                "nik": "5103021205900001", "name": "I Made Contoh", "sex": "male", "birth_place": "Badung",
                "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
                "region": "51.03.02", "kk_number": "5103021234567890", "foreign": false, "country": "",
                "passport_number": "", "passport_expires": "", "permit_kind": "", "permit_number": "",
                "permit_expires": "", "phone": "081234567890", "email": "contoh@example.org"
            }
        });
        let v =
            self.call("/api/permohonan/buka", json!({"csrf": self.csrf, "client_id": client_id, "form": form})).await?;
        v.as_str().map(str::to_string).ok_or(Failed)
    }

    /// Meets every requirement: staff confirm what they check, a scan goes to each document.
    async fn meet(&self, id: &str) -> Result<(), Failed> {
        for &(item, document) in &self.checklist {
            let response = if document {
                let form = reqwest::multipart::Form::new().text("csrf", self.csrf.clone()).part(
                    "berkas",
                    reqwest::multipart::Part::bytes(b"%PDF-1.4\n%%EOF\n".to_vec()).file_name("syarat.pdf"),
                );
                self.http
                    .post(format!("{}/berkas/permohonan/{id}/syarat/{item}", self.base))
                    .multipart(form)
                    .send()
                    .await
            } else {
                let item = item.to_string();
                self.http
                    .post(format!("{}/api/permohonan/konfirmasi", self.base))
                    .form(&[("csrf", self.csrf.as_str()), ("id", id), ("item", item.as_str()), ("confirmed", "true")])
                    .send()
                    .await
            };
            let response = response.map_err(|_| Failed)?;
            let uploaded = response
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .is_some_and(|l| l.contains("unggah=ok"));
            if !(response.status().is_success() || uploaded) {
                return Err(Failed);
            }
        }
        Ok(())
    }

    /// Takes lifecycle step `action`; the verifier takes the verification.
    async fn step(&self, id: &str, action: &str, client_id: &str) -> Result<String, Failed> {
        let form = json!({
            "reasons": [], "note": "pemohon membatalkan", "other_reference": "", "recipient_nik": "",
            "withdrawn_serial": "", "withdrawn_reason": "", "withdrawn_disposition": "", "copies": null
        });
        let (http, csrf) =
            if action == "verify" { (&self.verifier.0, &self.verifier.1) } else { (&self.http, &self.csrf) };
        let body = json!({"csrf": csrf, "client_id": client_id, "id": id, "action": action, "form": form});
        let response =
            http.post(format!("{}/api/permohonan/langkah", self.base)).json(&body).send().await.map_err(|_| Failed)?;
        if !response.status().is_success() {
            return Err(Failed);
        }
        let v: Value = response.json().await.map_err(|_| Failed)?;
        v.as_str().map(str::to_string).ok_or(Failed)
    }

    async fn detail(&self, id: &str) -> Value {
        let r = self.http.get(format!("{}/api/permohonan/detail?id={id}", self.base)).send().await.unwrap();
        assert!(r.status().is_success(), "application {id} must exist after the restart: {}", r.status());
        r.json().await.unwrap()
    }
}

/// The steps an application takes after its requirements are met: cancelled, or submitted and
/// verified, and every third one produced too.
fn path(n: u64) -> &'static [(&'static str, &'static str)] {
    match n % 3 {
        0 => &[("cancel", "cancelled")],
        1 => &[("submit", "submitted"), ("verify", "verified")],
        _ => &[("submit", "submitted"), ("verify", "verified"), ("produce", "ready")],
    }
}

/// Runs actions until the server goes away; returns what was acknowledged and what was in flight.
async fn work(c: &Client, counter: &mut u64, acked: &mut HashMap<String, Acked>) -> Option<InFlight> {
    loop {
        *counter += 1;
        let open_id = format!("open-{counter}");
        let id = match c.open(&open_id).await {
            Ok(id) => id,
            Err(Failed) => return Some(InFlight::Open { client_id: open_id }),
        };
        acked.insert(id.clone(), Acked::default());
        if c.meet(&id).await.is_err() {
            return None;
        }
        acked.get_mut(&id).expect("just inserted").met = true;
        for &(action, status) in path(*counter) {
            let client_id = format!("{action}-{counter}");
            match c.step(&id, action, &client_id).await {
                Ok(answer) => {
                    assert_eq!(answer, status, "{action} on {id}");
                    acked.get_mut(&id).expect("just inserted").status = Some(answer);
                }
                Err(Failed) => return Some(InFlight::Step { id, action, client_id }),
            }
        }
    }
}

/// A client logged in as the counter and as the verifier.
async fn client_for(base: &str, passwords: &(String, String), service: &str, checklist: &Checklist) -> Client {
    let (http, csrf) = simpul_tests::log_in(base, "petugas", &passwords.0).await;
    let verifier = simpul_tests::log_in(base, "verifikator", &passwords.1).await;
    Client { http, base: base.to_string(), csrf, verifier, service: service.to_string(), checklist: checklist.clone() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_action_survives_sigkill_at_random_moments() {
    let cycles: usize = std::env::var("SIMPUL_POWERCUT_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let first = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let passwords = (first.passwords["petugas"].clone(), first.passwords["verifikator"].clone());
    // The IKD activation: no biometric step, so an application goes from submission to
    // production at the office.
    let (http, _) = simpul_tests::log_in(&first.base, "petugas", &passwords.0).await;
    let intake: Value =
        http.get(format!("{}/api/permohonan/intake", first.base)).send().await.unwrap().json().await.unwrap();
    let service = intake["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "ikd_activation")
        .expect("the demo catalog has the IKD activation")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let probe = client_for(&first.base, &passwords, &service, &Vec::new()).await;
    let id = probe.open("probe").await.unwrap();
    let detail = probe.detail(&id).await;
    let checklist: Checklist =
        detail["checklist"].as_array().unwrap().iter().enumerate().map(|(i, l)| (i, l["kind"] == "document")).collect();
    assert!(!checklist.is_empty(), "the service has requirements to meet");
    drop(probe);
    first.kill();

    let mut acked: HashMap<String, Acked> = HashMap::new();
    let mut counter = 0u64;
    let mut retried = 0usize;
    let mut rng = rand::thread_rng();
    for cycle in 0..cycles {
        let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
        let c = client_for(&server.base, &passwords, &service, &checklist).await;

        // Every earlier acknowledgement is still true (the last cycle's in full; older ones by
        // sample, then everything at the end).
        let mut keys: Vec<&String> = acked.keys().collect();
        keys.sort();
        for id in keys.iter().rev().take(12) {
            check(&c, id, &acked[*id]).await;
        }

        // Work, and cut the power after a random while.
        let killer = {
            let wait = Duration::from_millis(rng.gen_range(5..120));
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                server.kill();
            })
        };
        let mut local = acked.clone();
        let in_flight = work(&c, &mut counter, &mut local).await;
        killer.await.unwrap();
        acked = local;

        // After the restart, the action in flight is retried with the same key: it succeeds once.
        if let Some(in_flight) = in_flight {
            let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
            let c = client_for(&server.base, &passwords, &service, &checklist).await;
            match in_flight {
                InFlight::Open { client_id } => {
                    let id = c.open(&client_id).await.unwrap_or_else(|_| panic!("cycle {cycle}: retry of {client_id}"));
                    let again = c.open(&client_id).await.unwrap();
                    assert_eq!(id, again, "a retried open gives the same application");
                    acked.insert(id, Acked::default());
                }
                InFlight::Step { id, action, client_id } => {
                    let status = c
                        .step(&id, action, &client_id)
                        .await
                        .unwrap_or_else(|_| panic!("cycle {cycle}: retry of {action} {client_id}"));
                    let again = c.step(&id, action, &client_id).await.unwrap();
                    assert_eq!(status, again, "a retried step gives the same answer");
                    acked.get_mut(&id).expect("known").status = Some(status);
                }
            }
            retried += 1;
            server.kill();
        }
    }

    // Everything, at the end, after one more cut.
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let c = client_for(&server.base, &passwords, &service, &checklist).await;
    for (id, a) in &acked {
        check(&c, id, a).await;
    }
    assert!(acked.len() > cycles, "the client got work done between cuts ({} applications)", acked.len());
    let advanced = acked.values().filter(|a| matches!(a.status.as_deref(), Some("verified" | "ready"))).count();
    assert!(advanced > 0, "applications were advanced between cuts");
    eprintln!(
        "{cycles} SIGKILL cycles: {} applications acknowledged ({advanced} verified or produced), {retried} in-flight actions retried",
        acked.len()
    );
}

async fn check(c: &Client, id: &str, a: &Acked) {
    let detail = c.detail(id).await;
    if a.met {
        let lines = detail["checklist"].as_array().unwrap();
        assert!(lines.iter().all(|l| l["met"] == true), "{id}: an acknowledged requirement was lost: {lines:?}");
    }
    if let Some(status) = &a.status {
        assert_eq!(detail["status"], status.as_str(), "{id}: the acknowledged step to {status} was lost");
    }
}

/// The box stopped (power cut, kill -9) after a job's document went out and before the
/// printer's answer was recorded. At restart the box asks the printer: a job it holds is
/// followed to the end, not printed a second time; one that never arrived is sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_over_a_crash_cut_short_is_not_printed_twice() {
    let _printers = simpul_tests::ipp::exclusive().await;
    use simpul_hardware::ipp::IppPrinter;
    use simpul_tests::ipp::{IppPeer, job_script};
    use simpul_tests::{eventually, query, simpul_cli};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let spool = dir.path().join("printer");
    let out_dir = spool.join("received");
    std::fs::create_dir_all(&out_dir).unwrap();
    let keep = job_script(dir.path(), &out_dir, false);
    // Its own service name: two tests' printers announcing one name on the loopback's mDNS
    // would collide.
    let peer = IppPeer::start(&spool, "Printer Pemulihan", &["-c", &keep, "-f", "application/pdf"]);
    let received = || {
        std::fs::read_dir(&out_dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_none_or(|x| x != "env"))
            .count()
    };

    // The office is set up and stopped; two test pages wait in its queue, both marked as
    // handed over when it stopped. The first did reach the printer before the cut.
    Running::start(&simpul_binary(), dir.path(), &[], &[]).terminate();
    let args = ["device", "add", "--kind", "document_printer", "--name", "Printer Pemulihan", "--address", &peer.uri];
    let out = simpul_cli(dir.path(), &[], &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let device =
        String::from_utf8_lossy(&out.stdout).split_whitespace().last().unwrap().trim_end_matches('.').to_string();
    for _ in 0..2 {
        let out = simpul_cli(dir.path(), &[], &["device", "test-print", &device]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let jobs = query(&data, "SELECT id || '|' || title FROM print_jobs ORDER BY created_at, id");
    assert_eq!(jobs.len(), 2);
    let (arrived, _) = jobs[0].split_once('|').unwrap();
    let title = jobs[0].split_once('|').unwrap().1;
    simpul_tests::execute(&data, "UPDATE print_jobs SET handed_at = '2026-11-22T10:00:00Z'");
    let name = format!("{title} [{}]", &arrived[arrived.len() - 12..]);
    let printer = IppPrinter::new(&peer.uri, Duration::from_secs(3)).unwrap();
    let page = b"%PDF-1.4\n% the page that arrived before the cut\n%%EOF\n";
    let at_printer = printer.print(page, "application/pdf", &name, &device).await.unwrap();
    let printed = eventually(Duration::from_secs(30), || async { (received() == 1).then_some(()) }).await;
    assert!(printed.is_some(), "{}", peer.log());

    let office = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let done = eventually(Duration::from_secs(40), || async {
        (query(&data, "SELECT status FROM print_jobs ORDER BY created_at, id") == ["done", "done"]).then_some(())
    })
    .await;
    assert!(done.is_some(), "{:?} {}", query(&data, "SELECT status, error FROM print_jobs"), peer.log());
    assert_eq!(received(), 2, "the page that had arrived was not printed again; the other was printed once");
    let remote = query(&data, &format!("SELECT remote_job FROM print_jobs WHERE id = '{arrived}'"));
    assert_eq!(remote, [at_printer.to_string()], "the job found at the printer is the one followed");
    drop(office);
}
