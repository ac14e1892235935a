//! Power cuts: the server is killed with SIGKILL at random moments while a client keeps opening
//! applications, ticking requirements and cancelling, each with an idempotency key. After every
//! restart each action the client saw acknowledged is there, and retrying the action that was
//! in flight at the cut neither fails nor makes a duplicate. 200 cycles in the suite; for a
//! longer run set `SIMPUL_POWERCUT_CYCLES` (see README, "Benchmarks").

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use serde_json::{Value, json};
use simpul_tests::{Running, simpul_binary};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// What the client was told about one application.
#[derive(Debug, Clone, Default)]
struct Acked {
    confirmed_item: Option<usize>,
    cancelled: bool,
}

#[derive(Debug, Clone)]
enum InFlight {
    Open { client_id: String },
    Cancel { id: String, client_id: String },
}

struct Client {
    http: reqwest::Client,
    base: String,
    csrf: String,
    service: String,
    item: usize,
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

    async fn confirm(&self, id: &str) -> Result<(), Failed> {
        let item = self.item.to_string();
        let response = self
            .http
            .post(format!("{}/api/permohonan/konfirmasi", self.base))
            .form(&[("csrf", self.csrf.as_str()), ("id", id), ("item", item.as_str()), ("confirmed", "true")])
            .send()
            .await
            .map_err(|_| Failed)?;
        if response.status().is_success() { Ok(()) } else { Err(Failed) }
    }

    async fn cancel(&self, id: &str, client_id: &str) -> Result<String, Failed> {
        let form = json!({
            "reasons": [], "note": "pemohon membatalkan", "other_reference": "", "recipient_nik": "",
            "withdrawn_serial": "", "withdrawn_reason": "", "withdrawn_disposition": "", "copies": null
        });
        let body = json!({"csrf": self.csrf, "client_id": client_id, "id": id, "action": "cancel", "form": form});
        let v = self.call("/api/permohonan/langkah", body).await?;
        v.as_str().map(str::to_string).ok_or(Failed)
    }

    async fn detail(&self, id: &str) -> Value {
        let r = self.http.get(format!("{}/api/permohonan/detail?id={id}", self.base)).send().await.unwrap();
        assert!(r.status().is_success(), "application {id} must exist after the restart: {}", r.status());
        r.json().await.unwrap()
    }
}

async fn logged_in(base: &str, password: &str) -> (reqwest::Client, String) {
    let http = client();
    let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let login = http
        .post(format!("{base}/api/login"))
        .form(&[("csrf", csrf.as_str()), ("username", "petugas"), ("password", password)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "login: {}", login.status());
    let session: Value = http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    (http, session["csrf"].as_str().unwrap().to_string())
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
        if c.confirm(&id).await.is_err() {
            return None;
        }
        acked.get_mut(&id).expect("just inserted").confirmed_item = Some(c.item);
        if counter.is_multiple_of(2) {
            let cancel_id = format!("cancel-{counter}");
            match c.cancel(&id, &cancel_id).await {
                Ok(status) => {
                    assert_eq!(status, "cancelled");
                    acked.get_mut(&id).expect("just inserted").cancelled = true;
                }
                Err(Failed) => return Some(InFlight::Cancel { id, client_id: cancel_id }),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_action_survives_sigkill_at_random_moments() {
    let cycles: usize = std::env::var("SIMPUL_POWERCUT_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let first = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = first.passwords["petugas"].clone();
    // The IKD activation: contact data is ticked by staff, so it has a requirement to confirm.
    let (http, csrf) = logged_in(&first.base, &password).await;
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
    let mut probe = Client { http, base: first.base.clone(), csrf, service, item: 0 };
    let id = probe.open("probe").await.unwrap();
    let detail = probe.detail(&id).await;
    probe.item = detail["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["kind"] != "document")
        .expect("a requirement checked by staff");
    let (service, item) = (probe.service.clone(), probe.item);
    drop(probe);
    first.kill();

    let mut acked: HashMap<String, Acked> = HashMap::new();
    let mut counter = 0u64;
    let mut retried = 0usize;
    let mut rng = rand::thread_rng();
    for cycle in 0..cycles {
        let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
        let (http, csrf) = logged_in(&server.base, &password).await;
        let c = Client { http, base: server.base.clone(), csrf, service: service.clone(), item };

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
            let (http, csrf) = logged_in(&server.base, &password).await;
            let c = Client { http, base: server.base.clone(), csrf, service: service.clone(), item };
            match in_flight {
                InFlight::Open { client_id } => {
                    let id = c.open(&client_id).await.unwrap_or_else(|_| panic!("cycle {cycle}: retry of {client_id}"));
                    let again = c.open(&client_id).await.unwrap();
                    assert_eq!(id, again, "a retried open gives the same application");
                    acked.insert(id, Acked::default());
                }
                InFlight::Cancel { id, client_id } => {
                    let status = c.cancel(&id, &client_id).await.unwrap_or_else(|_| panic!("cycle {cycle}: retry"));
                    assert_eq!(status, "cancelled");
                    acked.get_mut(&id).expect("known").cancelled = true;
                }
            }
            retried += 1;
            server.kill();
        }
    }

    // Everything, at the end, after one more cut.
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let (http, csrf) = logged_in(&server.base, &password).await;
    let c = Client { http, base: server.base.clone(), csrf, service, item };
    for (id, a) in &acked {
        check(&c, id, a).await;
    }
    assert!(acked.len() > cycles, "the client got work done between cuts ({} applications)", acked.len());
    eprintln!(
        "{cycles} SIGKILL cycles: {} applications acknowledged, {retried} in-flight actions retried",
        acked.len()
    );
}

async fn check(c: &Client, id: &str, a: &Acked) {
    let detail = c.detail(id).await;
    if let Some(item) = a.confirmed_item {
        assert_eq!(detail["checklist"][item]["confirmed"], true, "{id}: acknowledged confirmation lost");
    }
    if a.cancelled {
        assert_eq!(detail["status"], "cancelled", "{id}: acknowledged cancellation lost");
    }
}
