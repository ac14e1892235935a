//! The real binary as processes: it runs from an empty directory with the UI embedded, prints
//! its demo accounts, stops cleanly, and an office box sees its hub come and go.

use std::time::Duration;

use simpul_tests::{Running, eventually, simpul_binary, simpul_cli};

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

#[tokio::test]
async fn the_binary_runs_from_an_empty_directory_with_everything_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("simpul");
    std::fs::copy(simpul_binary(), &binary).unwrap();
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only the binary is there");

    let server = Running::start(&binary, dir.path(), &[], &[]);
    assert!(server.console.contains("Created the demo office"), "{}", server.console);
    for user in ["petugas", "verifikator", "kepala", "adminkab", "installer"] {
        assert!(server.passwords.contains_key(user), "{user} printed: {}", server.console);
    }
    let c = client();
    let page = c.get(format!("{}/masuk", server.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/pkg/simpul.js") && html.contains("Masuk"));
    let wasm = c.get(format!("{}/pkg/simpul_bg.wasm", server.base)).send().await.unwrap();
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let css = c.get(format!("{}/pkg/simpul.css", server.base)).send().await.unwrap();
    assert_eq!(css.status().as_u16(), 200);

    // The printed password logs in.
    let session: serde_json::Value =
        c.get(format!("{}/api/session", server.base)).send().await.unwrap().json().await.unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let login = c
        .post(format!("{}/api/login", server.base))
        .form(&[("csrf", csrf.as_str()), ("username", "kepala"), ("password", server.passwords["kepala"].as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    assert!(dir.path().join("data/demo-accounts.txt").exists());

    let status = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");

    // A second start keeps the data and creates no second demo.
    let again = Running::start(&binary, dir.path(), &[], &[]);
    assert!(!again.console.contains("Created the demo office"));
    assert!(again.passwords.is_empty());
}

#[tokio::test]
async fn the_ui_bundle_is_embedded_and_served_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let c = reqwest::Client::builder().no_gzip().build().unwrap();
    let url = |path: &str| format!("{}{path}", server.base);
    let js = c.get(url("/pkg/simpul.js")).header("accept-encoding", "identity").send().await.unwrap();
    assert_eq!(js.status().as_u16(), 200, "the UI bundle is not embedded: run scripts/build-site.sh first");
    assert!(js.headers()["content-type"].to_str().unwrap().contains("javascript"));
    let wasm = c.get(url("/pkg/simpul_bg.wasm")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(wasm.headers()["content-encoding"], "gzip");
    let etag = wasm.headers()["etag"].to_str().unwrap().to_string();
    let again = c.get(url("/pkg/simpul_bg.wasm")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert_eq!(c.get(url("/pkg/../Cargo.toml")).send().await.unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn a_real_deployment_starts_without_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&simpul_binary(), dir.path(), &[], &["--no-demo"]);
    assert!(server.console.contains("No accounts yet"), "{}", server.console);
    assert!(server.passwords.is_empty());
    let session: serde_json::Value =
        client().get(format!("{}/api/session", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(session["unit"], serde_json::Value::Null, "no office until one is set");
}

async fn link_state(c: &reqwest::Client, base: &str) -> Option<serde_json::Value> {
    c.get(format!("{base}/api/link")).send().await.ok()?.json().await.ok()
}

#[tokio::test]
async fn an_office_sees_its_hub_go_offline_and_come_back() {
    let hub_dir = tempfile::tempdir().unwrap();
    let office_dir = tempfile::tempdir().unwrap();
    let hub = Running::start(&simpul_binary(), hub_dir.path(), &[("SIMPUL_ROLE", "hub")], &[]);
    let hub_base = hub.base.clone();
    let hub_addr = hub_base.trim_start_matches("http://").to_string();
    let office = Running::start(
        &simpul_binary(),
        office_dir.path(),
        &[("SIMPUL_HUB__URL", &hub_base), ("SIMPUL_HUB__CHECK_INTERVAL_SECS", "1"), ("SIMPUL_HUB__TIMEOUT_SECS", "1")],
        &[],
    );
    let c = client();
    let hub_link = link_state(&c, &hub.base).await.unwrap();
    assert_eq!(hub_link["state"], "Hub");
    // The hub serves the same UI, for its regency.
    let hub_page = c.get(format!("{}/masuk", hub.base)).send().await.unwrap().text().await.unwrap();
    assert!(hub_page.contains("Dinas Dukcapil Kabupaten Badung"), "hub login page names the regency");

    let online = eventually(Duration::from_secs(15), || async {
        link_state(&c, &office.base).await.filter(|l| l["state"] == "Online")
    })
    .await;
    assert!(online.is_some(), "office never saw the hub");

    hub.kill();
    let offline = eventually(Duration::from_secs(15), || async {
        link_state(&c, &office.base).await.filter(|l| l["state"] == "Offline")
    })
    .await
    .expect("office noticed the hub is gone");
    let since = offline["since"].as_str().unwrap();
    assert!(since.ends_with(" WITA") && since.len() == 10, "local time of the office: {since}");
    assert!(offline["error"].as_str().unwrap().contains("cannot connect"), "{offline}");
    assert_eq!(offline["error_code"], "unreachable", "a code the UI translates: {offline}");

    // The hub comes back on the same address.
    let _hub =
        Running::start(&simpul_binary(), hub_dir.path(), &[("SIMPUL_ROLE", "hub"), ("SIMPUL_LISTEN", &hub_addr)], &[]);
    let back = eventually(Duration::from_secs(15), || async {
        link_state(&c, &office.base).await.filter(|l| l["state"] == "Online")
    })
    .await;
    assert!(back.is_some(), "office did not see the hub return");
}

#[tokio::test]
async fn an_office_pointed_at_another_office_says_so() {
    let other_dir = tempfile::tempdir().unwrap();
    let office_dir = tempfile::tempdir().unwrap();
    let other = Running::start(&simpul_binary(), other_dir.path(), &[], &[]);
    let office = Running::start(
        &simpul_binary(),
        office_dir.path(),
        &[("SIMPUL_HUB__URL", &other.base), ("SIMPUL_HUB__CHECK_INTERVAL_SECS", "1")],
        &[],
    );
    let c = client();
    let offline = eventually(Duration::from_secs(15), || async {
        link_state(&c, &office.base).await.filter(|l| l["state"] == "Offline")
    })
    .await
    .expect("not a hub is reported");
    assert!(offline["error"].as_str().unwrap().contains("not a hub"), "{offline}");
    assert_eq!(offline["error_code"], "not_a_hub", "{offline}");
}

#[tokio::test]
async fn sigterm_ends_open_display_streams_and_the_server_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let token = server.device_token("display").expect("the demo prints the display address");
    // Two waiting-room displays hold their live streams open.
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut r = client().get(format!("{}/api/layar/stream?token={token}", server.base)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let first = r.chunk().await.unwrap().expect("the state comes at once");
        assert!(String::from_utf8_lossy(&first).contains("event: antrian"));
        streams.push(r);
    }
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "clean exit: {status}");
    eprintln!("stopped in {} ms with two streams open", started.elapsed().as_millis());
    for mut s in streams {
        // The stream ends (or the connection closes); it does not hang.
        let end =
            tokio::time::timeout(Duration::from_secs(5), async { while let Ok(Some(_)) = s.chunk().await {} }).await;
        assert!(end.is_ok(), "the stream ended with the server");
    }
}

#[test]
fn logs_can_be_json_lines_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(simpul_binary())
        .current_dir(dir.path())
        .args(["serve"])
        .env("SIMPUL_LISTEN", "127.0.0.1:0")
        .env("SIMPUL_DATA_DIR", dir.path().join("data"))
        .env("SIMPUL_LOG__FORMAT", "json")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut first).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let line: serde_json::Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("not JSON ({e}): {first}"));
    assert_eq!(line["level"], "INFO");
    assert!(line["message"].is_string());
}

#[tokio::test]
async fn a_restore_waits_for_the_server_of_its_own_data_directory_only() {
    let (this, other, backups) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Running::start(&simpul_binary(), this.path(), &[], &[]);
    let backup = backups.path().join("box");
    let out = simpul_cli(this.path(), &[], &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "backup: {}", String::from_utf8_lossy(&out.stderr));

    // Refused under the running server of this directory, though it listens on another port than
    // the configured one.
    let out = simpul_cli(this.path(), &[], &["restore", backup.to_str().unwrap()]);
    assert!(!out.status.success(), "no restore under a running server");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("stop it") && said.contains(&format!("process {}", server.pid())), "{said}");

    // A server of another data directory answering on the configured address stops nothing.
    let address = server.base.trim_start_matches("http://").to_string();
    let out = simpul_cli(other.path(), &[("SIMPUL_LISTEN", address.as_str())], &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "restore beside another server: {}", String::from_utf8_lossy(&out.stderr));

    // Once the server is gone (killed: the kernel lets go of its lock), the restore goes ahead.
    server.kill();
    let out = simpul_cli(this.path(), &[], &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));

    // And a second server on the same directory is refused while the first runs.
    let first = Running::start(&simpul_binary(), this.path(), &[], &[]);
    let second = std::process::Command::new(simpul_binary())
        .args(["serve"])
        .env("SIMPUL_DATA_DIR", this.path().join("data"))
        .env("SIMPUL_LISTEN", "127.0.0.1:0")
        .env_remove("SIMPUL_CONFIG")
        .output()
        .unwrap();
    assert!(!second.status.success(), "a second server on one data directory");
    assert!(String::from_utf8_lossy(&second.stderr).contains("another simpul process uses the data directory"));
    drop(first);
}
