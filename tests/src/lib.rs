//! Helpers for the cross-crate scenarios: the real `simpul` binary started as a process in its
//! own directory, its console read for the address and the demo accounts, stopped on drop. A
//! server that panics fails the test when it is stopped, even when the panic stayed inside
//! one request or task and the test's own checks passed.

pub mod escpos;
pub mod ipp;
pub mod lan;
pub mod panics;
pub mod pwg;
pub mod samples;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// The `simpul` binary of the same build profile as the running test (or `SIMPUL_BIN`).
pub fn simpul_binary() -> PathBuf {
    if let Ok(bin) = std::env::var("SIMPUL_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // A test runs from target/<profile>/deps/, a bench binary from target/<profile>/.
    let here = exe.parent().expect("target/<profile>[/deps]");
    let profile_dir = if here.ends_with("deps") { here.parent().expect("target/<profile>") } else { here };
    let bin = profile_dir.join("simpul");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p simpul-server --bin simpul with the same profile)",
        bin.display()
    );
    bin
}

/// A running `simpul serve`.
pub struct Running {
    child: Child,
    /// Panics the server printed on stderr, and the reader's end-of-stream signal.
    stderr: StderrWatch,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Demo passwords by username, when the demo was created.
    pub passwords: HashMap<String, String>,
    /// Everything printed on stdout up to "listening".
    pub console: String,
}

impl Running {
    /// Starts `binary serve` in `dir` with `env`, listening on a free port, and waits until it
    /// says where it listens.
    pub fn start(binary: &Path, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Running {
        let mut cmd = Command::new(binary);
        clean_environment(&mut cmd);
        cmd.current_dir(dir)
            .arg("serve")
            .args(args)
            .env("SIMPUL_LISTEN", "127.0.0.1:0")
            .env("SIMPUL_DATA_DIR", dir.join("data"))
            .env("RUST_LOG", "warn")
            .env_remove("SIMPUL_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("simpul starts");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = StderrWatch::start(child.stderr.take().expect("stderr"));
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut console = String::new();
        let base = loop {
            let line = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("simpul did not report its address; console so far:\n{console}")
            });
            console.push_str(&line);
            console.push('\n');
            if let Some(url) = line.strip_prefix("Simpul is listening on ") {
                break url.trim().to_string();
            }
        };
        let passwords = console
            .lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols.len() == 3 && cols[2].len() == 19 && cols[2].matches('-').count() == 3)
                    .then(|| (cols[1].to_string(), cols[2].to_string()))
            })
            .collect();
        Running { child, stderr, base, passwords, console }
    }

    /// The token of the demo device printed as `label: URL?token=...` ("kiosk", "display").
    pub fn device_token(&self, label: &str) -> Option<String> {
        let prefix = format!("{label}:");
        self.console
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
            .and_then(|url| url.split("token=").nth(1))
            .map(|t| t.trim().to_string())
    }

    /// The last lines (up to a few thousand) the server printed on stderr so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lines.lock().expect("line list").iter().cloned().collect()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.stderr.assert_no_panic();
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("simpul did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process at once (a power cut, as far as the process can tell).
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr.assert_no_panic();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            self.stderr.assert_no_panic();
        }
    }
}

/// Reads a server's stderr, passes every line on to the test's stderr, and keeps the lines
/// that report a panic, and the last lines for a test to look at.
struct StderrWatch {
    panics: Arc<Mutex<Vec<String>>>,
    lines: Arc<Mutex<std::collections::VecDeque<String>>>,
    ended: mpsc::Receiver<()>,
    checked: bool,
}

impl StderrWatch {
    fn start(stderr: std::process::ChildStderr) -> StderrWatch {
        let panics = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::new(Mutex::new(std::collections::VecDeque::new()));
        let (done, ended) = mpsc::channel();
        let (seen, kept) = (panics.clone(), lines.clone());
        std::thread::spawn(move || {
            // Byte lines, so that output that is not UTF-8 neither stops the reading (and with
            // it the server, once the pipe is full) nor hides a panic after it.
            let mut reader = BufReader::new(stderr);
            let mut raw = Vec::new();
            while reader.read_until(b'\n', &mut raw).is_ok_and(|n| n > 0) {
                let line = String::from_utf8_lossy(&raw).trim_end().to_string();
                raw.clear();
                eprintln!("{line}");
                if is_unexpected_panic(&line) {
                    seen.lock().expect("panic list").push(line.clone());
                }
                let mut kept = kept.lock().expect("line list");
                if kept.len() == STDERR_KEPT {
                    kept.pop_front();
                }
                kept.push_back(line);
            }
            let _ = done.send(());
        });
        StderrWatch { panics, lines, ended, checked: false }
    }

    /// Once the process is gone: fails the test if it printed a panic. Waits briefly for the
    /// reader to reach the end of the stream, so a panic printed just before the end counts.
    fn assert_no_panic(&mut self) {
        if std::mem::replace(&mut self.checked, true) {
            return;
        }
        let _ = self.ended.recv_timeout(Duration::from_secs(2));
        let panics = self.panics.lock().expect("panic list");
        assert!(panics.is_empty(), "the server panicked: {panics:?}");
    }
}

/// How many of a server's last stderr lines are kept for a test to read.
const STDERR_KEPT: usize = 5000;

/// A line where Rust reports a panic. There are no exceptions: the only panics the product
/// expects (automerge's decoder on damaged bytes, inside the two sites of `simpul_sync` that
/// catch them) are reported by the server's panic hook as a warning without this mark.
fn is_unexpected_panic(line: &str) -> bool {
    line.contains("panicked at")
}

/// Logs in to the server at `base` as `username` the way the login form does, and answers a
/// client that keeps the session's cookie (and follows no redirects) with the session's CSRF
/// token.
pub async fn log_in(base: &str, username: &str, password: &str) -> (reqwest::Client, String) {
    let http =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let session: serde_json::Value =
        http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let login = http
        .post(format!("{base}/api/login"))
        .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "{username}: {}", login.status());
    let session: serde_json::Value =
        http.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    assert_eq!(session["user"]["username"], username, "{username} logs in");
    (http, session["csrf"].as_str().unwrap().to_string())
}

/// Leaves out of a child's environment every `SIMPUL_*` setting of the caller (a developer's
/// shell, a CI job): a test states what its servers get.
pub fn clean_environment(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SIMPUL_") {
            cmd.env_remove(key);
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on now: bound, then let go (never a fixed port that
/// a machine may happen to use).
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// The published fixtures (`../shared/fixtures`, or `SIMPUL_FIXTURES`).
pub fn fixtures() -> PathBuf {
    std::env::var_os("SIMPUL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
}

/// The date `years` years from today (UTC), as forms take it: a permit or passport that must be
/// valid whenever the test runs.
pub fn years_from_today(years: i32) -> String {
    let today = time::OffsetDateTime::now_utc().date();
    let later = today.replace_year(today.year() + years).unwrap_or(today);
    format!("{:04}-{:02}-{:02}", later.year(), u8::from(later.month()), later.day())
}

/// Polls `check` every 200 ms until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs `simpul ARGS` with its data in `dir/data`; returns the output.
pub fn simpul_cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(simpul_binary());
    clean_environment(&mut cmd);
    cmd.args(args).env("SIMPUL_DATA_DIR", dir.join("data")).current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("simpul runs")
}

/// A regency recovery key pair made by `simpul key recovery` in `dir`: the identity file (the
/// secret half, for `restore --identity`) and the public key (for `SIMPUL_KEY__RECOVERY`).
pub fn recovery_key(dir: &Path) -> (PathBuf, String) {
    let identity = dir.join("recovery-identity.txt");
    let out = simpul_cli(dir, &[], &["key", "recovery", "--out", identity.to_str().expect("a UTF-8 path")]);
    assert!(out.status.success(), "key recovery: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let public = stdout.lines().rev().find(|l| l.starts_with("age1")).expect("the public key is printed").to_string();
    (identity, public)
}

/// Starts a hub in `dir` with its sync listener on a free port; returns it and the sync
/// address (`https://127.0.0.1:PORT`).
pub fn start_hub(dir: &Path) -> (Running, String) {
    let hub = Running::start(
        &simpul_binary(),
        dir,
        &[("SIMPUL_ROLE", "hub"), ("SIMPUL_HUB__SYNC_LISTEN", "127.0.0.1:0")],
        &[],
    );
    let sync_url = hub
        .console
        .lines()
        .find_map(|l| l.strip_prefix("Simpul hub sync (mutual TLS) is listening on "))
        .expect("the hub reports its sync address")
        .trim()
        .to_string();
    (hub, sync_url)
}

/// Creates a one-time enrollment token for `office` on the hub whose directory is `hub_dir`.
pub fn enrollment_token(hub_dir: &Path, office: &str) -> String {
    let out = simpul_cli(hub_dir, &[("SIMPUL_ROLE", "hub")], &["enroll", "token", "create", "--office", office]);
    assert!(out.status.success(), "token: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().expect("the token is printed").trim().to_string()
}

/// Rows of a query on the database in the data directory `data`, one string per row.
pub fn query(data: &Path, sql: &str) -> Vec<String> {
    let conn = database(data);
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let columns = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            let cells: Vec<String> = (0..columns)
                .map(|i| match row.get_ref(i) {
                    Ok(rusqlite::types::ValueRef::Null) | Err(_) => String::new(),
                    Ok(rusqlite::types::ValueRef::Integer(n)) => n.to_string(),
                    Ok(rusqlite::types::ValueRef::Real(x)) => x.to_string(),
                    Ok(rusqlite::types::ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                    Ok(rusqlite::types::ValueRef::Blob(b)) => String::from_utf8_lossy(b).into_owned(),
                })
                .collect();
            Ok(cells.join("|"))
        })
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    rows.map(|r| r.unwrap()).collect()
}

/// Runs a statement on the database of the data directory `data` (beside a running server:
/// it waits for the write lock), as a test that stages a state no use-case reaches does.
pub fn execute(data: &Path, sql: &str) {
    database(data).execute_batch(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// The encrypted database of the data directory `data`, opened with the box's key file (the
/// form a server keeps its key in when nothing else is set up).
pub fn database(data: &Path) -> rusqlite::Connection {
    let key = box_key(data);
    let conn = rusqlite::Connection::open(data.join("simpul.sqlite3")).unwrap();
    simpul_store::db::unlock(&conn, &key.database_key()).expect("the database opens with the box's key");
    conn.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    conn
}

/// A stored file of the data directory `data`, opened with the box's key (None when it is not
/// there or does not open).
pub fn read_blob(data: &Path, sha256: &str) -> Option<Vec<u8>> {
    simpul_store::blobs::Files::new(data, box_key(data).file_key()).read(sha256).ok()
}

/// The master key of the data directory `data`, from its key file.
pub fn box_key(data: &Path) -> simpul_store::crypt::MasterKey {
    let hex = std::fs::read_to_string(data.join("keys/simpul.key")).expect("the box's key file");
    simpul_store::crypt::MasterKey::from_hex(&hex).expect("a key in the key file")
}

#[cfg(test)]
mod tests {
    use super::is_unexpected_panic;

    #[test]
    fn every_panic_line_counts_and_the_contained_decoder_warning_does_not() {
        let worker = "thread 'tokio-rt-worker' (8177) panicked at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/reactive_graph-0.2.16/src/traits.rs:394:39:";
        let decoder = "thread 'tokio-rt-worker' (12) panicked at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/automerge-0.12.0/src/storage/load.rs:10:5:";
        assert!(is_unexpected_panic(worker));
        assert!(is_unexpected_panic(decoder), "a decoder panic outside the containing sites is a defect too");
        let contained =
            "WARN simpul_server::logging: damaged document bytes refused (the decoder's panic was contained)";
        assert!(!is_unexpected_panic(contained));
        assert!(!is_unexpected_panic("WARN simpul_server::backend: ticket printer failed"));
    }

    #[test]
    fn test_files_are_told_from_product_code() {
        assert!(super::panics::is_test_location("server/tests/http.rs"));
        assert!(super::panics::is_test_location("/work/x/server/tests/common/mod.rs"));
        assert!(super::panics::is_test_location("hardware/src/escl/tests.rs"));
        assert!(!super::panics::is_test_location("server/src/backend/queue.rs"));
        assert!(!super::panics::is_test_location(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/reactive_graph-0.2.16/src/traits.rs"
        ));
    }
}
