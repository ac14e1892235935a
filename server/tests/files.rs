//! Files over real HTTP: requirement uploads refused for every kind of bad input with a clear
//! code and nothing stored, a good upload stored by content and served back only to staff, and
//! printouts only when there is something to print.

mod common;

use common::{Browser, TestApp};
use serde_json::{Value, json};

async fn open_application(b: &Browser, client_id: &str) -> String {
    let csrf = b.csrf().await;
    let catalog = b.get("/api/catalog").await.json();
    let service = catalog.as_array().unwrap().iter().find(|s| s["kind"] == "legalisation").unwrap()["id"].clone();
    let body = json!({"csrf": csrf, "client_id": client_id, "form": {"service_id": service, "ticket": null, "proxy": null,
        "applicant": {"nik": "5103021205900001", "name": "I Made Contoh", "sex": "male", "birth_place": "Badung",
        "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1", "region": "51.03.02",
        "kk_number": "5103021234567890", "foreign": false, "country": "", "passport_number": "", "passport_expires": "",
        "permit_kind": "", "permit_number": "", "permit_expires": "", "phone": "081234567890", "email": ""}}});
    let r = b.client.post(format!("{}/api/permohonan/buka", b.base)).json(&body).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json::<String>().await.unwrap()
}

async fn upload(b: &Browser, id: &str, item: usize, csrf: Option<&str>, name: &str, bytes: Vec<u8>) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    if let Some(csrf) = csrf {
        form = form.text("csrf", csrf.to_string());
    }
    form = form.part("berkas", reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()));
    let r =
        b.client.post(format!("{}/berkas/permohonan/{id}/syarat/{item}", b.base)).multipart(form).send().await.unwrap();
    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
    (r.status().as_u16(), location)
}

async fn detail(b: &Browser, id: &str) -> Value {
    b.get(&format!("/api/permohonan/detail?id={id}")).await.json()
}

#[tokio::test]
async fn bad_uploads_are_refused_with_a_reason_and_store_nothing() {
    let app = TestApp::start().await;
    let b = app.browser();
    b.login("petugas", &app.passwords["petugas"]).await;
    let id = open_application(&b, "files-1").await;
    let csrf = b.csrf().await;
    let item = detail(&b, &id).await["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .position(|l| l["kind"] == "document")
        .expect("legalisation asks for a document");
    let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
    let cases: Vec<(&str, Option<&str>, Vec<u8>, &str)> = vec![
        ("kosong.pdf", Some(&csrf), Vec::new(), "galat=upload_empty"),
        ("besar.pdf", Some(&csrf), [pdf.clone(), vec![b' '; 11 * 1024 * 1024]].concat(), "galat=upload_too_large"),
        ("program.pdf", Some(&csrf), b"MZ\x90\x00 an executable".to_vec(), "galat=upload_wrong_type"),
        ("../../etc/passwd.pdf", Some(&csrf), pdf.clone(), "galat=upload_bad_name"),
        ("ktp.pdf", None, pdf.clone(), "galat=csrf"),
        ("ktp.pdf", Some("not-the-token"), pdf.clone(), "galat=csrf"),
    ];
    for (name, token, bytes, expected) in cases {
        let (status, location) = upload(&b, &id, item, token, name, bytes).await;
        assert_eq!(status, 303, "{name}");
        assert!(location.starts_with(&format!("/permohonan/{id}?{expected}")), "{name}: {location}");
    }
    // A requirement that does not exist, and an application that does not.
    let (_, location) = upload(&b, &id, 99, Some(&csrf), "ktp.pdf", pdf.clone()).await;
    assert!(location.contains("galat="), "{location}");
    let (_, location) = upload(&b, "no-such-id", item, Some(&csrf), "ktp.pdf", pdf.clone()).await;
    assert!(location.contains("galat=not_found"), "{location}");
    let lines = detail(&b, &id).await["checklist"].clone();
    assert!(lines.as_array().unwrap().iter().all(|l| l["attachments"].as_array().unwrap().is_empty()));
    let blobs = app.dir.path().join("data/blobs");
    let stored = walk(&blobs);
    assert!(stored.is_empty(), "nothing stored, found {stored:?}");
    // The place looked at is where files go: an accepted upload lands there, alone.
    let (status, location) = upload(&b, &id, item, Some(&csrf), "ktp.pdf", pdf.clone()).await;
    assert_eq!(status, 303);
    assert!(!location.contains("galat="), "{location}");
    assert_eq!(walk(&blobs).len(), 1, "the accepted file is the only one stored");

    // A role without intake may not upload; nobody logged in is sent to the login page.
    let verifier = app.browser();
    verifier.login("verifikator", &app.passwords["verifikator"]).await;
    let token = verifier.csrf().await;
    let (_, location) = upload(&verifier, &id, item, Some(&token), "ktp.pdf", pdf.clone()).await;
    assert!(location.contains("galat=forbidden"), "{location}");
    let stranger = app.browser();
    let (_, location) = upload(&stranger, &id, item, None, "ktp.pdf", pdf).await;
    assert!(location.starts_with("/masuk"), "{location}");
    app.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

#[tokio::test]
async fn a_good_upload_is_stored_by_content_and_served_only_to_staff() {
    let app = TestApp::start().await;
    let b = app.browser();
    b.login("petugas", &app.passwords["petugas"]).await;
    let id = open_application(&b, "files-2").await;
    let csrf = b.csrf().await;
    let png = hex("89504e470d0a1a0a0000000d4948445200000001000000010806000000");
    let (status, location) = upload(&b, &id, 0, Some(&csrf), "scan ktp.png", png.clone()).await;
    assert_eq!((status, location.starts_with(&format!("/permohonan/{id}?unggah=ok"))), (303, true), "{location}");
    // The same file twice is one attachment.
    upload(&b, &id, 0, Some(&csrf), "lagi.png", png.clone()).await;
    let attachments = detail(&b, &id).await["checklist"][0]["attachments"].clone();
    assert_eq!(attachments.as_array().unwrap().len(), 1);
    let sha = attachments[0]["sha256"].as_str().unwrap().to_string();
    assert_eq!(attachments[0]["content_type"], "image/png", "typed by its bytes");
    let file = app.dir.path().join("data/blobs").join(&sha[..2]).join(&sha);
    let sealed = std::fs::read(&file).unwrap();
    assert!(!sealed.windows(png.len()).any(|w| w == png), "stored sealed, not in clear");
    let files = simpul_store::blobs::Files::new(&app.dir.path().join("data"), app.master_key().file_key());
    assert_eq!(files.read(&sha).unwrap(), png, "stored under the SHA-256 of its bytes");

    let got = b.client.get(format!("{}/berkas/{sha}", b.base)).send().await.unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.headers()["cache-control"], "no-store", "never kept in the counter PC's cache");
    assert_eq!(got.bytes().await.unwrap().to_vec(), png);
    assert_eq!(b.get(&format!("/berkas/{}", "0".repeat(64))).await.status, 404);
    assert_eq!(b.get("/berkas/..%2F..%2Fsimpul.sqlite3").await.status, 404);
    assert_eq!(app.browser().get(&format!("/berkas/{sha}")).await.status, 401, "not without a login");

    // Nothing to print yet: no hand-over, no return.
    assert_eq!(b.get(&format!("/dokumen/permohonan/{id}/tanda-terima.pdf")).await.status, 404);
    assert_eq!(b.get(&format!("/dokumen/permohonan/{id}/pengembalian.pdf")).await.status, 404);
    app.stop().await;
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
