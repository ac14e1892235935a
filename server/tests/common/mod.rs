//! A real Simpul server on a port-0 listener with its own temporary data directory, and an HTTP
//! client with a cookie jar that speaks to it like a browser does.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use simpul_server::Appliance;
use simpul_server::config::Config;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub passwords: HashMap<String, String>,
    pub kiosk_token: String,
    pub display_token: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// A demo office box.
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        simpul_tests::panics::watch();
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config { data_dir: dir.path().join("data"), ..Config::default() };
        adjust(&mut config);
        let appliance = Appliance::open(config).await.expect("appliance opens");
        let demo = appliance.seed_demo_if_empty().await.unwrap().expect("demo seeded");
        let (kiosk_token, display_token) = (demo.kiosk_token.clone(), demo.display_token.clone());
        let passwords = demo.accounts.into_iter().map(|a| (a.username, a.password)).collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            appliance
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestApp { addr, dir, passwords, kiosk_token, display_token, stop: Some(tx), task: Some(task) }
    }

    /// The database key of the server's data directory (its key file, made at first start).
    pub fn database_key(&self) -> simpul_store::crypt::DbKey {
        self.master_key().database_key()
    }

    /// The master key of the server's data directory (its key file, made at first start).
    pub fn master_key(&self) -> simpul_store::crypt::MasterKey {
        let hex = std::fs::read_to_string(self.dir.path().join("data/keys/simpul.key")).expect("the box's key file");
        simpul_store::crypt::MasterKey::from_hex(&hex).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser-like client: cookie jar, no automatic redirects.
    pub fn browser(&self) -> Browser {
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { client, base: format!("http://{}", self.addr) }
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("the server's task ended with a panic");
        }
        simpul_tests::panics::assert_none();
    }
}

impl Drop for TestApp {
    /// A test that ends without `stop` still fails on a product panic.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            simpul_tests::panics::assert_none();
        }
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok())
    }
    pub fn cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(String::from).collect()
    }
}

impl Browser {
    /// GETs like a browser: pages ask for HTML, `/api` for JSON.
    pub async fn get(&self, path: &str) -> Reply {
        let accept = if path.starts_with("/api") { "application/json" } else { "text/html,application/xhtml+xml" };
        let r = self.client.get(format!("{}{path}", self.base)).header("accept", accept).send().await.unwrap();
        Self::reply(r).await
    }

    /// Posts a form to a server function, as the hydrated UI does (JSON answer).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        Self::reply(r).await
    }

    async fn reply(r: reqwest::Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap();
        Reply { status, headers, body }
    }

    /// The CSRF token the login page hands out.
    pub async fn csrf(&self) -> String {
        let session = self.get("/api/session").await;
        assert_eq!(session.status, 200, "{}", session.body);
        session.json()["csrf"].as_str().unwrap().to_string()
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        let csrf = self.csrf().await;
        self.post("/api/login", &[("csrf", &csrf), ("username", username), ("password", password)]).await
    }
}
