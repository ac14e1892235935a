//! Personal data at rest, as a thief with the disk or a USB backup would meet it: the data
//! directory of a box that worked a day holds no NIK, name, passport or scan in clear, SQLite
//! cannot open the database without the key, an older box's clear directory is encrypted in
//! place at its first start, and the key opens the data from every form it is kept in
//! (systemd-creds with the host key, a TPM through tpm2-tools against `swtpm`, a passphrase, a
//! key file), a USB backup opens with the regency's recovery key only and not after one
//! flipped byte, and every read of it is on a hash-chained audit trail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use simpul_tests::{Running, simpul_binary, simpul_cli};

const NIK: &str = "5103021205900001";
const NAME: &str = "I Wayan Sekarwana";
const FOREIGN_NIK: &str = "5103025205900002";
const FOREIGN_NAME: &str = "Jane Citizen-Smythe";
const PASSPORT: &str = "PA7654321";
/// Bytes inside the scan uploaded, found nowhere on disk afterwards.
const SCAN_MARK: &str = "KARTU-KELUARGA-5103021234567890";

fn applicant(nik: &str, name: &str, foreign: bool) -> serde_json::Value {
    serde_json::json!({
        "nik": nik, "name": name, "sex": if foreign { "female" } else { "male" }, "birth_place": "Badung",
        "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
        "region": "51.03.02", "kk_number": "5103021234567890", "foreign": foreign,
        "country": if foreign { "AUS" } else { "" },
        "passport_number": if foreign { PASSPORT } else { "" },
        "passport_expires": if foreign { simpul_tests::years_from_today(5) } else { String::new() },
        "permit_kind": if foreign { "itap" } else { "" },
        "permit_number": if foreign { "2C11AB1234" } else { "" },
        "permit_expires": if foreign { simpul_tests::years_from_today(4) } else { String::new() },
        "phone": "081234567890", "email": "pemohon@example.org"
    })
}

fn scan() -> Vec<u8> {
    format!("%PDF-1.4\n% {SCAN_MARK}\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n").into_bytes()
}

/// Opens an application and attaches the scan to its first document requirement; returns the
/// application's id and the scan's SHA-256.
async fn open_with_scan(base: &str, password: &str, kind: &str, who: serde_json::Value) -> (String, String) {
    let (http, csrf) = simpul_tests::log_in(base, "petugas", password).await;
    let intake: serde_json::Value =
        http.get(format!("{base}/api/permohonan/intake")).send().await.unwrap().json().await.unwrap();
    let service = intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == kind).unwrap()["id"].clone();
    let form = serde_json::json!({"service_id": service, "ticket": null, "proxy": null, "applicant": who});
    let body = serde_json::json!({"csrf": csrf, "client_id": format!("rest-{kind}"), "form": form});
    let opened = http.post(format!("{base}/api/permohonan/buka")).json(&body).send().await.unwrap();
    assert!(opened.status().is_success(), "open: {}", opened.status());
    let id = opened.json::<serde_json::Value>().await.unwrap().as_str().unwrap().to_string();
    let detail: serde_json::Value =
        http.get(format!("{base}/api/permohonan/detail?id={id}")).send().await.unwrap().json().await.unwrap();
    let item = detail["checklist"].as_array().unwrap().iter().position(|l| l["kind"] == "document").unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part("berkas", reqwest::multipart::Part::bytes(scan()).file_name("kk.pdf"));
    let r = http.post(format!("{base}/berkas/permohonan/{id}/syarat/{item}")).multipart(form).send().await.unwrap();
    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
    assert!(location.contains("unggah=ok"), "upload: {location}");
    let sha = sha256_hex(&scan());
    (id, sha)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every file under `dir` (the key folder left out: it holds the key, and nothing else).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "keys") {
                out.extend(files_under(&path));
            }
        } else {
            out.push(path);
        }
    }
    out
}

/// The secrets found in clear in the data directory, as "file: secret".
fn found_in_clear(data: &Path) -> Vec<String> {
    let secrets = [NIK, NAME, FOREIGN_NIK, FOREIGN_NAME, PASSPORT, "Sekarwana", "Smythe", SCAN_MARK, "SQLite format 3"];
    let mut found = Vec::new();
    for file in files_under(data) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for secret in secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push(format!("{}: {secret}", file.display()));
            }
        }
    }
    found
}

#[tokio::test]
async fn a_box_that_worked_a_day_holds_nothing_readable_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = server.passwords["petugas"].clone();
    let (_, sha) = open_with_scan(&server.base, &password, "ikd_activation", applicant(NIK, NAME, false)).await;
    open_with_scan(&server.base, &password, "ktp_el_foreign_new", applicant(FOREIGN_NIK, FOREIGN_NAME, true)).await;
    // Read while the server runs (the write-ahead log holds the day's pages), and after it stopped.
    assert_eq!(found_in_clear(&data), Vec::<String>::new(), "personal data in clear while serving");
    assert!(data.join("simpul.sqlite3-wal").exists(), "the log was looked at too");
    assert!(server.terminate().success());
    assert_eq!(found_in_clear(&data), Vec::<String>::new(), "personal data in clear after a stop");
    assert!(data.join("blobs").join(&sha[..2]).join(&sha).exists(), "the scan is stored under its SHA-256");

    // SQLite itself sees no database without the key.
    let out = Command::new("sqlite3")
        .arg(data.join("simpul.sqlite3"))
        .arg("SELECT count(*) FROM sqlite_master")
        .output()
        .expect("sqlite3 is needed (apt install sqlite3)");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("file is not a database"), "{out:?}");

    // With its key, the box reads it all back.
    assert_eq!(simpul_tests::read_blob(&data, &sha), Some(scan()));
    let names = simpul_tests::query(&data, "SELECT count(*) FROM applications");
    assert_eq!(names, ["2"]);
    let doctor = simpul_cli(dir.path(), &[], &["doctor"]);
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{said}{}", String::from_utf8_lossy(&doctor.stderr));
    assert!(said.contains("encrypted (SQLCipher 4."), "{said}");
    // Both applications carry the same scan: stored once, by its content.
    assert!(said.contains("1 stored file, all sealed"), "{said}");
    assert!(said.contains("warn  key") && said.contains("key file"), "an unsealed key is a warning: {said}");
}

#[tokio::test]
async fn a_usb_backup_opens_with_the_recovery_key_only_on_any_box_and_not_after_one_flipped_byte() {
    let (dir, stick, regency) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (identity, recovery) = simpul_tests::recovery_key(regency.path());
    let identity = identity.to_str().unwrap().to_string();
    let other_regency = tempfile::tempdir().unwrap();
    let (stranger, _) = simpul_tests::recovery_key(other_regency.path());
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = server.passwords["petugas"].clone();
    let (_, sha) =
        open_with_scan(&server.base, &password, "ktp_el_foreign_new", applicant(FOREIGN_NIK, FOREIGN_NAME, true)).await;
    // Taken while the box serves, onto the stick.
    let backup = stick.path().join("backup");
    let out = simpul_cli(dir.path(), &[("SIMPUL_KEY__RECOVERY", &recovery)], &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "backup: {}", text(&out));
    assert!(server.terminate().success());
    // A thief with the stick finds no personal data, no database SQLite can read, and no key of
    // the box (neither its data key nor its TLS key).
    assert_eq!(found_in_clear(&backup), Vec::<String>::new(), "personal data in clear on the stick");
    let box_key = std::fs::read_to_string(dir.path().join("data/keys/simpul.key")).unwrap();
    for file in files_under(&backup) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [box_key.trim().as_bytes(), b"PRIVATE KEY"] {
            assert!(!bytes.windows(secret.len()).any(|w| w == secret), "{} holds a key of the box", file.display());
        }
    }

    // One flipped byte anywhere in the database copy, and nothing is restored.
    let flipped = stick.path().join("flipped");
    copy_tree(&backup, &flipped);
    let db = flipped.join("simpul.sqlite3");
    let mut bytes = std::fs::read(&db).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    std::fs::write(&db, bytes).unwrap();
    let new_box = tempfile::tempdir().unwrap();
    let out = simpul_cli(
        new_box.path(),
        &[],
        &["restore", flipped.to_str().unwrap(), "--identity", &identity, "--allow-unchecked"],
    );
    assert!(!out.status.success() && text(&out).contains("changed or damaged"), "{}", text(&out));
    assert!(!new_box.path().join("data/simpul.sqlite3").exists(), "nothing restored");
    // Another regency's identity opens nothing.
    let out = simpul_cli(
        new_box.path(),
        &[],
        &["restore", backup.to_str().unwrap(), "--identity", stranger.to_str().unwrap()],
    );
    assert!(!out.status.success() && text(&out).contains("another recovery key"), "{}", text(&out));

    // A box not enrolled signs nothing: who made it cannot be checked, and the installer must
    // say they take it.
    let out = simpul_cli(new_box.path(), &[], &["restore", backup.to_str().unwrap(), "--identity", &identity]);
    assert!(!out.status.success() && text(&out).contains("cannot be checked"), "{}", text(&out));
    // The regency's identity restores it on a new box, under that box's own key; the box is
    // told to enroll again, as no backup carries an enrollment.
    let out = simpul_cli(
        new_box.path(),
        &[],
        &["restore", backup.to_str().unwrap(), "--identity", &identity, "--allow-unchecked"],
    );
    assert!(out.status.success(), "restore: {}", text(&out));
    assert!(text(&out).contains("enroll the box"), "{}", text(&out));
    let data = new_box.path().join("data");
    assert_ne!(std::fs::read_to_string(data.join("keys/simpul.key")).unwrap(), box_key, "a key of its own");
    assert_eq!(simpul_tests::query(&data, "SELECT count(*) FROM applications"), ["1"]);
    assert_eq!(simpul_tests::read_blob(&data, &sha), Some(scan()));
    assert_eq!(found_in_clear(&data), Vec::<String>::new(), "restored encrypted");
}

#[tokio::test]
async fn a_person_gets_everything_held_about_them_and_the_export_is_audited() {
    let (dir, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = server.passwords["petugas"].clone();
    let (citizen, sha) = open_with_scan(&server.base, &password, "ikd_activation", applicant(NIK, NAME, false)).await;
    let (foreigner, _) =
        open_with_scan(&server.base, &password, "ktp_el_foreign_new", applicant(FOREIGN_NIK, FOREIGN_NAME, true)).await;

    // The NIK is typed on standard input: it is in no argument, so in no shell history.
    let folder = out.path().join("wayan");
    let export = with_stdin(dir.path(), &[], &["subject", "export", "--out", folder.to_str().unwrap()], NIK);
    assert!(export.status.success(), "{}", text(&export));
    assert!(text(&export).contains("1 application(s), 1 file(s)"), "{}", text(&export));
    let data = std::fs::read_to_string(folder.join("data.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(json["applications"][0]["id"], citizen.as_str());
    assert_eq!(json["applications"][0]["record"]["applicant"]["nik"], NIK);
    assert_eq!(json["applications"][0]["record"]["applicant"]["name"], NAME);
    assert!(
        json["applications"][0]["accesses"].as_array().unwrap().iter().any(|a| a["action"] == "application_opened"),
        "{data}"
    );
    assert!(!data.contains(FOREIGN_NIK) && !data.contains(FOREIGN_NAME), "nobody else's data");
    assert_eq!(std::fs::read(folder.join("files").join(format!("{sha}.pdf"))).unwrap(), scan());
    assert!(std::fs::read(folder.join("ringkasan.pdf")).unwrap().starts_with(b"%PDF-"));
    use std::os::unix::fs::PermissionsExt;
    for path in [folder.clone(), folder.join("data.json"), folder.join("files")] {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is for its owner only: {mode:o}", path.display());
    }
    let names: Vec<String> = files_under(&folder).iter().map(|p| p.display().to_string()).collect();
    assert!(names.iter().all(|n| !n.contains(NIK)), "no NIK in a file name: {names:?}");

    // A foreign resident is found by country and passport number, as staff type them.
    let folder = out.path().join("jane");
    let export =
        with_stdin(dir.path(), &[], &["subject", "export", "--out", folder.to_str().unwrap()], "aus pa 7654321\n");
    assert!(export.status.success(), "{}", text(&export));
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("data.json")).unwrap()).unwrap();
    assert_eq!(data["applications"][0]["id"], foreigner.as_str());
    // Someone the box holds nothing about gets an export that says so; a typo is refused.
    let folder = out.path().join("nobody");
    let export =
        with_stdin(dir.path(), &[], &["subject", "export", "--out", folder.to_str().unwrap()], "5103029999999999");
    assert!(export.status.success() && text(&export).contains("0 application(s)"), "{}", text(&export));
    let export =
        with_stdin(dir.path(), &[], &["subject", "export", "--out", out.path().join("x").to_str().unwrap()], "51030");
    assert!(!export.status.success() && text(&export).contains("16 digits"), "{}", text(&export));

    // The export is on the record's audit trail.
    let listed = simpul_cli(dir.path(), &[], &["audit", "list", "--subject", &citizen]);
    assert!(text(&listed).contains("subject_exported"), "{}", text(&listed));
    drop(server);
}

fn copy_tree(from: &Path, to: &Path) {
    for file in files_under(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// Turns a data directory back into what a version before encryption left: the database and
/// files in clear, no key.
fn make_clear_as_an_older_version_left_it(data: &Path) {
    let conn = simpul_tests::database(data);
    let clear = data.join("clear.sqlite3");
    conn.execute("ATTACH DATABASE ?1 AS clear KEY ''", [clear.to_string_lossy()]).unwrap();
    conn.query_row("SELECT sqlcipher_export('clear')", [], |_| Ok(())).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    conn.execute_batch(&format!("PRAGMA clear.user_version = {version}; DETACH DATABASE clear;")).unwrap();
    drop(conn);
    std::fs::rename(&clear, data.join("simpul.sqlite3")).unwrap();
    for gone in ["simpul.sqlite3-wal", "simpul.sqlite3-shm"] {
        let _ = std::fs::remove_file(data.join(gone));
    }
    for file in files_under(&data.join("blobs")) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if name.len() == 64 {
            let bytes = simpul_tests::read_blob(data, &name).expect("a sealed file opens");
            std::fs::write(&file, bytes).unwrap();
        }
    }
    std::fs::remove_dir_all(data.join("keys")).unwrap();
}

#[tokio::test]
async fn an_older_boxs_clear_data_is_encrypted_in_place_at_its_first_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = server.passwords["petugas"].clone();
    let (id, sha) = open_with_scan(&server.base, &password, "ikd_activation", applicant(NIK, NAME, false)).await;
    assert!(server.terminate().success());
    make_clear_as_an_older_version_left_it(&data);
    assert!(!found_in_clear(&data).is_empty(), "the staged directory is in clear");
    // A crash of an earlier attempt left a half-written copy and a temporary file behind.
    std::fs::write(data.join("simpul.sqlite3.encrypting"), b"half").unwrap();

    let server = Running::start(&simpul_binary(), dir.path(), &[("RUST_LOG", "warn")], &[]);
    let (http, _) = simpul_tests::log_in(&server.base, "petugas", &password).await;
    let detail: serde_json::Value =
        http.get(format!("{}/api/permohonan/detail?id={id}", server.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["applicant"]["nik"], NIK, "the application survived: {detail}");
    let file = http.get(format!("{}/berkas/{sha}", server.base)).send().await.unwrap();
    assert_eq!(file.bytes().await.unwrap().to_vec(), scan(), "the scan survived");
    let said = server.stderr_lines().join("\n");
    assert!(said.contains("encrypted now"), "the migration is reported: {said}");
    assert!(server.terminate().success());
    assert_eq!(found_in_clear(&data), Vec::<String>::new());
    assert!(!data.join("simpul.sqlite3.encrypting").exists());
    assert!(data.join("keys/simpul.key").exists(), "a key was made for the upgraded box");
}

/// A software TPM on a free port, for `tpm2-tools`.
struct Swtpm {
    child: Child,
    tcti: String,
}

impl Swtpm {
    fn start(state: &Path) -> Swtpm {
        std::fs::create_dir_all(state).unwrap();
        let port = simpul_tests::closed_port();
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "not-need-init,startup-clear"])
            .arg("--tpmstate")
            .arg(format!("dir={}", state.display()))
            .args(["--server", &format!("type=tcp,port={port}"), "--ctrl", &format!("type=tcp,port={}", port + 1)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("swtpm is needed (apt install swtpm swtpm-tools tpm2-tools)");
        let tcti = format!("swtpm:host=127.0.0.1,port={port}");
        let up = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(50));
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        assert!(up, "swtpm listens");
        Swtpm { child, tcti }
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_stdin(dir: &Path, env: &[(&str, &str)], args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut cmd = Command::new(simpul_binary());
    simpul_tests::clean_environment(&mut cmd);
    cmd.args(args).env("SIMPUL_DATA_DIR", dir.join("data")).current_dir(dir);
    cmd.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn key_forms(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("keys"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_key_opens_the_data_from_every_form_it_is_kept_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A new key, sealed with systemd-creds (the host key here: this machine has no TPM driver).
    let out = simpul_cli(dir.path(), &[], &["key", "init", "--protect", "host"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("A new key"), "{}", text(&out));
    assert_eq!(key_forms(&data), ["simpul.key.cred"]);
    let sealed = std::fs::read(data.join("keys/simpul.key.cred")).unwrap();
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = server.passwords["petugas"].clone();
    let (id, sha) = open_with_scan(&server.base, &password, "ikd_activation", applicant(NIK, NAME, false)).await;
    assert!(server.terminate().success());
    assert_eq!(found_in_clear(&data), Vec::<String>::new());
    let doctor = simpul_cli(dir.path(), &[], &["doctor"]);
    assert!(doctor.status.success() && text(&doctor).contains("sealed with systemd-creds"), "{}", text(&doctor));
    let fingerprint = |out: &std::process::Output| {
        let said = text(out);
        said.lines().find(|l| l.contains("  key ")).and_then(|l| l.split_whitespace().nth(2)).unwrap().to_string()
    };
    let first = fingerprint(&doctor);

    // The same key, moved into a TPM (a software one, through tpm2-tools).
    let tpm = Swtpm::start(&dir.path().join("tpm"));
    let tcti = tpm.tcti.clone();
    let env = [("SIMPUL_KEY__TPM_TCTI", tcti.as_str())];
    let out = simpul_cli(dir.path(), &env, &["key", "init", "--protect", "tpm2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("The key {first}")), "the same key: {}", text(&out));
    assert_eq!(key_forms(&data), ["simpul.key.tpm2"], "the credential is gone");
    assert!(!sealed.is_empty());
    let doctor = simpul_cli(dir.path(), &env, &["doctor"]);
    assert!(doctor.status.success() && text(&doctor).contains("sealed in the TPM"), "{}", text(&doctor));
    let listed = simpul_cli(dir.path(), &env, &["device", "list"]);
    assert!(listed.status.success(), "the data opens with the TPM's key: {}", text(&listed));
    // Without the TPM, nothing opens, and the message says why.
    drop(tpm);
    let out = simpul_cli(dir.path(), &env, &["device", "list"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("tpm2"), "{}", text(&out));
    // The TPM back (its state kept), the data opens again: a server starts and serves the record.
    let tpm = Swtpm::start(&dir.path().join("tpm"));
    let tcti = tpm.tcti.clone();
    let env = [("SIMPUL_KEY__TPM_TCTI", tcti.as_str())];
    let server = Running::start(&simpul_binary(), dir.path(), &env, &[]);
    let (http, _) = simpul_tests::log_in(&server.base, "petugas", &password).await;
    let got = http.get(format!("{}/berkas/{sha}", server.base)).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().to_vec(), scan());
    assert!(server.terminate().success());

    // A passphrase (a single hub's choice): asked at every start, a wrong one refused.
    let out = with_stdin(dir.path(), &env, &["key", "init", "--protect", "passphrase"], "tiga kata rahasia panjang\n");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(key_forms(&data), ["simpul.key.pass"]);
    let out = with_stdin(dir.path(), &[], &["device", "list"], "tiga kata rahasia pendek\n");
    assert!(!out.status.success() && text(&out).contains("passphrase does not open"), "{}", text(&out));
    let out = with_stdin(dir.path(), &[], &["doctor"], "tiga kata rahasia panjang\n");
    assert!(out.status.success() && fingerprint(&out) == first, "{}", text(&out));
    assert!(text(&out).contains("must start unattended"), "an office box is told to seal it: {}", text(&out));

    // Back to a key file; one others can read is refused.
    let out = with_stdin(dir.path(), &[], &["key", "init", "--protect", "file"], "tiga kata rahasia panjang\n");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(key_forms(&data), ["simpul.key"]);
    assert_eq!(simpul_tests::query(&data, &format!("SELECT count(*) FROM applications WHERE id = '{id}'")), ["1"]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(data.join("keys/simpul.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = simpul_cli(dir.path(), &[], &["device", "list"]);
    assert!(!out.status.success() && text(&out).contains("chmod 600"), "{}", text(&out));

    // The key gone altogether: refused with what to do, and no new key made over the data.
    std::fs::remove_dir_all(data.join("keys")).unwrap();
    let out = simpul_cli(dir.path(), &[], &["device", "list"]);
    assert!(!out.status.success() && text(&out).contains("restore this box from the regency hub"), "{}", text(&out));
    assert!(!data.join("keys").exists());
    drop(tpm);
}

#[tokio::test]
async fn every_read_of_personal_data_is_on_a_chain_that_shows_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let password = server.passwords["petugas"].clone();
    let (id, sha) = open_with_scan(&server.base, &password, "ikd_activation", applicant(NIK, NAME, false)).await;
    // Another member of staff looks the person up, opens the file and the scan.
    let (http, _) = simpul_tests::log_in(&server.base, "verifikator", &server.passwords["verifikator"]).await;
    let found = http.post(format!("{}/api/permohonan/cari", server.base)).form(&[("q", NIK)]).send().await.unwrap();
    assert!(found.status().is_success());
    let opened = http.get(format!("{}/api/permohonan/detail?id={id}", server.base)).send().await.unwrap();
    assert!(opened.status().is_success());
    let scan = http.get(format!("{}/berkas/{sha}", server.base)).send().await.unwrap();
    assert_eq!(scan.bytes().await.unwrap().to_vec(), self::scan());
    // Reads are written in batches; the last batch at the latest when the server stops.
    assert!(server.terminate().success());

    let verifier = simpul_tests::query(&data, "SELECT id FROM staff WHERE username = 'verifikator'");
    let actor = format!("staff:{}", verifier[0]);
    let out = simpul_cli(dir.path(), &[], &["audit", "list", "--subject", &id]);
    let listed = text(&out);
    assert!(out.status.success(), "{listed}");
    for action in ["applications_searched", "application_viewed"] {
        assert!(listed.lines().any(|l| l.contains(&actor) && l.contains(action)), "{action} by {actor}:\n{listed}");
    }
    let out = simpul_cli(dir.path(), &[], &["audit", "list", "--subject", &sha]);
    assert!(text(&out).lines().any(|l| l.contains(&actor) && l.contains("file_viewed")), "{}", text(&out));
    // The trail names records and staff by id, never the person.
    let trail = simpul_tests::query(
        &data,
        "SELECT actor || action || ifnull(subject, '') || ifnull(detail, '') FROM audit_log",
    );
    assert!(trail.len() > 5);
    for secret in [NIK, NAME, "Sekarwana"] {
        assert!(trail.iter().all(|row| !row.contains(secret)), "{secret} in the audit trail");
    }

    let out = simpul_cli(dir.path(), &[], &["audit", "verify"]);
    assert!(out.status.success() && text(&out).contains("intact"), "{}", text(&out));
    // Someone with the key rewrites who opened the file: found, at that entry.
    let seq = simpul_tests::query(&data, "SELECT max(seq) FROM audit_log WHERE action = 'application_viewed'");
    simpul_tests::execute(
        &data,
        &format!(
            "DROP TRIGGER audit_log_append_only_update; UPDATE audit_log SET actor = 'staff:nobody' WHERE seq = {}",
            seq[0]
        ),
    );
    let out = simpul_cli(dir.path(), &[], &["audit", "verify"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("broken at entry {}", seq[0])), "{}", text(&out));
}
