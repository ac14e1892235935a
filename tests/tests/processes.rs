//! The real binary as processes: it runs from an empty directory with the UI embedded, prints
//! its demo accounts, stops cleanly, and an office box sees its hub come and go.

use std::time::Duration;

use simpul_tests::{Running, eventually, simpul_binary, simpul_cli};

/// Opens an application of service `kind` for `applicant` (JSON as the intake form sends it).
async fn open_application(
    http: &reqwest::Client,
    base: &str,
    csrf: &str,
    kind: &str,
    client_id: &str,
    applicant: serde_json::Value,
) -> reqwest::Response {
    let intake: serde_json::Value =
        http.get(format!("{base}/api/permohonan/intake")).send().await.unwrap().json().await.unwrap();
    let service = intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == kind).unwrap()["id"].clone();
    let form = serde_json::json!({"service_id": service, "ticket": null, "proxy": null, "applicant": applicant});
    let body = serde_json::json!({"csrf": csrf, "client_id": client_id, "form": form});
    http.post(format!("{base}/api/permohonan/buka")).json(&body).send().await.unwrap()
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_can_be_json_lines_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(simpul_binary());
    simpul_tests::clean_environment(&mut command);
    let mut child = command
        .current_dir(dir.path())
        .args(["serve"])
        .env("SIMPUL_LISTEN", "127.0.0.1:0")
        .env("SIMPUL_DATA_DIR", dir.path().join("data"))
        .env("SIMPUL_LOG__FORMAT", "json")
        // As much as the product logs: its own debug lines and every request and response.
        .env("RUST_LOG", "info,tower_http=debug,simpul_server=debug,simpul_store=debug,simpul_installer=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut all = String::new();
        std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut all).unwrap();
        all
    });
    let mut console = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let base = loop {
        let mut line = String::new();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "the server ended: {console}");
        console.push_str(&line);
        if let Some(address) = line.trim().strip_prefix("Simpul is listening on ") {
            break address.to_string();
        }
    };
    let password = |user: &str| {
        console
            .lines()
            .find_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols.len() == 3 && cols[1] == user).then(|| cols[2].to_string())
            })
            .expect("the demo password is printed")
    };

    // A day's work with the personal data of three people: a citizen, a foreign resident and a
    // proxy; refusals and searches too, which are where data leaks into messages.
    let (nik, name) = ("5103021205900001", "I Wayan Sekarwana");
    let (foreign_nik, foreign_name, passport) = ("5103025205900002", "Jane Citizen-Smythe", "PA7654321");
    let refuses = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let session: serde_json::Value =
        refuses.get(format!("{base}/api/session")).send().await.unwrap().json().await.unwrap();
    let csrf = session["csrf"].as_str().unwrap().to_string();
    let wrong = refuses
        .post(format!("{base}/api/login"))
        .form(&[("csrf", csrf.as_str()), ("username", "petugas"), ("password", name)])
        .send()
        .await
        .unwrap();
    assert!(!wrong.status().is_success(), "a wrong password is refused");
    let (http, csrf) = simpul_tests::log_in(&base, "petugas", &password("petugas")).await;
    let applicant = |nik: &str, name: &str, foreign: bool| {
        serde_json::json!({
            "nik": nik, "name": name, "sex": if foreign { "female" } else { "male" }, "birth_place": "Badung",
            "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
            "region": "51.03.02", "kk_number": "5103021234567890", "foreign": foreign,
            "country": if foreign { "AUS" } else { "" },
            "passport_number": if foreign { passport } else { "" },
            "passport_expires": if foreign { simpul_tests::years_from_today(5) } else { String::new() },
            "permit_kind": if foreign { "itap" } else { "" },
            "permit_number": if foreign { "2C11AB1234" } else { "" },
            "permit_expires": if foreign { simpul_tests::years_from_today(4) } else { String::new() },
            "phone": "081234567890", "email": "pemohon@example.org"
        })
    };
    let open = |kind: &'static str, client: &'static str, who: serde_json::Value| {
        let (http, base, csrf) = (http.clone(), base.clone(), csrf.clone());
        async move { open_application(&http, &base, &csrf, kind, client, who).await }
    };
    let ok = open("ikd_activation", "log-1", applicant(nik, name, false)).await;
    assert!(ok.status().is_success(), "open: {}", ok.status());
    let ok = open("ktp_el_foreign_new", "log-2", applicant(foreign_nik, foreign_name, true)).await;
    assert!(ok.status().is_success(), "open a foreign resident's: {}", ok.status());
    // A NIK that does not fit the birth date, and a foreign resident without a permit: refused
    // with reasons.
    let refused = open("ikd_activation", "log-3", applicant("5103021305900099", name, false)).await;
    assert!(!refused.status().is_success(), "a NIK that does not fit the birth date is refused");
    let mut without_permit = applicant(foreign_nik, foreign_name, true);
    without_permit["permit_number"] = serde_json::json!("");
    let refused = open("ktp_el_foreign_new", "log-4", without_permit).await;
    assert!(!refused.status().is_success(), "a foreign resident without a permit is refused");
    for typed in [nik, "Sekarwana", passport] {
        let r = http.post(format!("{base}/api/permohonan/cari")).form(&[("q", typed)]).send().await.unwrap();
        assert!(r.status().is_success(), "search: {}", r.status());
        let in_url = http.get(format!("{base}/api/permohonan/cari")).query(&[("q", typed)]).send().await.unwrap();
        assert!(!in_url.status().is_success(), "a search in a URL is not served: {}", in_url.status());
    }

    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    let log = log.join().unwrap();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "the server logged its start and its stop: {log}");
    for line in &lines {
        let json: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(json["level"].is_string() && json["message"].is_string(), "{line}");
        for secret in [nik, name, foreign_nik, foreign_name, passport, "5103021305900099", "Sekarwana", "Smythe"] {
            assert!(!line.contains(secret), "personal data in a log line: {line}");
        }
    }
    assert!(lines.iter().any(|l| l.contains("\"level\":\"DEBUG\"")), "debug lines were on and read");
}

#[tokio::test]
async fn a_restore_waits_for_the_server_of_its_own_data_directory_only() {
    let (this, other, backups) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Running::start(&simpul_binary(), this.path(), &[], &[]);
    let backup = backups.path().join("box");
    let (identity, recovery) = simpul_tests::recovery_key(backups.path());
    let identity = identity.to_str().unwrap().to_string();
    let out =
        simpul_cli(this.path(), &[("SIMPUL_KEY__RECOVERY", recovery.as_str())], &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "backup: {}", String::from_utf8_lossy(&out.stderr));

    // Refused under the running server of this directory, though it listens on another port than
    // the configured one.
    let out = simpul_cli(
        this.path(),
        &[],
        &["restore", backup.to_str().unwrap(), "--identity", &identity, "--allow-unchecked"],
    );
    assert!(!out.status.success(), "no restore under a running server");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("stop it") && said.contains(&format!("process {}", server.pid())), "{said}");

    // A server of another data directory answering on the configured address stops nothing.
    // (The other directory is a new box, with a key of its own: the recovery identity opens the
    // backup, and the restore encrypts it under the new box's key.)
    let address = server.base.trim_start_matches("http://").to_string();
    let out = simpul_cli(
        other.path(),
        &[("SIMPUL_LISTEN", address.as_str())],
        &["restore", backup.to_str().unwrap(), "--identity", &identity, "--allow-unchecked"],
    );
    assert!(out.status.success(), "restore beside another server: {}", String::from_utf8_lossy(&out.stderr));

    // Once the server is gone (killed: the kernel lets go of its lock), the restore goes ahead.
    server.kill();
    let out = simpul_cli(
        this.path(),
        &[],
        &["restore", backup.to_str().unwrap(), "--identity", &identity, "--allow-unchecked"],
    );
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));

    // And a second server on the same directory is refused while the first runs.
    let first = Running::start(&simpul_binary(), this.path(), &[], &[]);
    let mut second = std::process::Command::new(simpul_binary());
    simpul_tests::clean_environment(&mut second);
    let second = second
        .args(["serve"])
        .env("SIMPUL_DATA_DIR", this.path().join("data"))
        .env("SIMPUL_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!second.status.success(), "a second server on one data directory");
    assert!(String::from_utf8_lossy(&second.stderr).contains("another simpul process uses the data directory"));
    drop(first);
}

/// The one panic the product expects: automerge's decoder on damaged bytes, here a record
/// damaged on disk. The server refuses the record, keeps serving, reports a warning and prints
/// no panic (the harness fails the test on any `panicked at`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_damaged_on_disk_is_refused_and_the_decoders_panic_is_contained() {
    use simpul_sync::{LoadError, load_document};
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let (http, csrf) = simpul_tests::log_in(&server.base, "petugas", &server.passwords["petugas"]).await;
    let applicant = serde_json::json!({
        "nik": "5103021205900001", "name": "Pemohon Uji", "sex": "male", "birth_place": "Badung",
        "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
        "region": "51.03.02", "kk_number": "5103021234567890", "foreign": false, "country": "",
        "passport_number": "", "passport_expires": "", "permit_kind": "", "permit_number": "",
        "permit_expires": "", "phone": "081234567890", "email": ""
    });
    let opened = open_application(&http, &server.base, &csrf, "ikd_activation", "damaged-1", applicant).await;
    assert!(opened.status().is_success(), "open: {}", opened.status());
    let id = opened.json::<serde_json::Value>().await.unwrap().as_str().unwrap().to_string();

    // Bytes the decoder panics on: the stored document with one byte damaged.
    let data = dir.path().join("data");
    let state = simpul_tests::query(&data, &format!("SELECT hex(state) FROM documents WHERE id = '{id}'"));
    let stored: Vec<u8> =
        (0..state[0].len()).step_by(2).map(|i| u8::from_str_radix(&state[0][i..i + 2], 16).unwrap()).collect();
    let damaged = simpul_tests::samples::panicking_document(&stored).expect("a damaged copy the decoder panics on");
    assert!(matches!(load_document(&damaged), Err(LoadError::Corrupt)));
    let hex: String = damaged.iter().map(|b| format!("{b:02X}")).collect();
    simpul_tests::execute(&data, &format!("UPDATE documents SET state = X'{hex}' WHERE id = '{id}'"));

    let detail = http.get(format!("{}/api/permohonan/detail", server.base)).query(&[("id", &id)]).send().await.unwrap();
    assert!(detail.status().is_server_error(), "the damaged record is refused: {}", detail.status());
    let health = http.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200, "and the server keeps serving");
    let warned = eventually(Duration::from_secs(10), || async {
        server.stderr_lines().iter().any(|l| l.contains("damaged document bytes refused")).then_some(())
    })
    .await;
    assert!(warned.is_some(), "the contained panic is reported as a warning: {:?}", server.stderr_lines());
    let status = server.terminate();
    assert!(status.success(), "{status}");
}
