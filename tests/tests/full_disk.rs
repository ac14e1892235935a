//! A box whose data disk fills up (a small tmpfs mounted as its data directory): new work is
//! refused with a message that says so, what was acknowledged stays, pages keep being served,
//! and once space returns the box takes work again without a restart.

use std::path::{Path, PathBuf};
use std::process::Command;

use simpul_tests::{Running, simpul_binary};

/// A tmpfs of `megabytes` mounted at `at` for the life of the value.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, megabytes: u32) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(at)
            .output()
            .expect("mount runs");
        assert!(out.status.success(), "mounting a tmpfs needs root: {}", String::from_utf8_lossy(&out.stderr));
        SmallDisk(at.to_path_buf())
    }

    /// Fills the disk with a file `name` until no byte more fits.
    fn fill(&self, name: &str) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.0.join(name)).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn applicant(nik: &str) -> serde_json::Value {
    serde_json::json!({
        "nik": nik, "name": "I Made Penuh", "sex": "male", "birth_place": "Badung",
        "birth_date": "1990-05-12", "marital": "married", "address": "Jl. Raya Mengwi 1",
        "region": "51.03.02", "kk_number": "5103021234567890", "foreign": false,
        "country": "", "passport_number": "", "passport_expires": "", "permit_kind": "",
        "permit_number": "", "permit_expires": "", "phone": "081234567890", "email": ""
    })
}

/// Opens an application; the status and body of the answer.
async fn open(base: &str, http: &reqwest::Client, csrf: &str, client_id: &str, nik: &str) -> (u16, String) {
    let intake: serde_json::Value =
        http.get(format!("{base}/api/permohonan/intake")).send().await.unwrap().json().await.unwrap();
    let service =
        intake["services"].as_array().unwrap().iter().find(|s| s["kind"] == "ikd_activation").unwrap()["id"].clone();
    let form = serde_json::json!({"service_id": service, "ticket": null, "proxy": null, "applicant": applicant(nik)});
    let body = serde_json::json!({"csrf": csrf, "client_id": client_id, "form": form});
    let r = http.post(format!("{base}/api/permohonan/buka")).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_full_disk_refuses_new_work_plainly_keeps_serving_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("data"), 48);
    let server = Running::start(&simpul_binary(), dir.path(), &[], &[]);
    let (http, csrf) = simpul_tests::log_in(&server.base, "petugas", &server.passwords["petugas"]).await;
    let (status, first) = open(&server.base, &http, &csrf, "full-1", "5103021205900001").await;
    assert_eq!(status, 200, "{first}");
    let first: String = serde_json::from_str(&first).unwrap();

    disk.fill("filler");
    // New work is refused with a message that names the cause, again and again.
    for attempt in 0..3 {
        let (status, text) = open(&server.base, &http, &csrf, &format!("full-2-{attempt}"), "5103021205900002").await;
        assert_eq!(status, 507, "attempt {attempt}: {text}");
        assert!(text.contains("DiskFull"), "{text}");
    }
    let page = http.get(format!("{}/permohonan/baru", server.base)).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "pages are still served");
    // What was acknowledged is there, and is read.
    let detail = http.get(format!("{}/api/permohonan/detail?id={first}", server.base)).send().await.unwrap();
    assert_eq!(detail.status().as_u16(), 200);
    let detail: serde_json::Value = detail.json().await.unwrap();
    assert_eq!(detail["applicant"]["nik"], "5103021205900001");
    // An upload is refused, plainly.
    let item = detail["checklist"].as_array().unwrap().iter().position(|l| l["kind"] == "document").unwrap();
    let form = reqwest::multipart::Form::new().text("csrf", csrf.clone()).part(
        "berkas",
        reqwest::multipart::Part::bytes(b"%PDF-1.4\n% a scan\n%%EOF\n".repeat(2000)).file_name("kk.pdf"),
    );
    let r = http
        .post(format!("{}/berkas/permohonan/{first}/syarat/{item}", server.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
    assert!(location.contains("galat=disk_full"), "upload on a full disk: {} {location}", r.status());

    // Space returns: the box takes work again, without a restart.
    std::fs::remove_file(dir.path().join("data/filler")).unwrap();
    let (status, text) = open(&server.base, &http, &csrf, "full-3", "5103021205900002").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(simpul_tests::query(&dir.path().join("data"), "SELECT count(*) FROM applications"), ["2"]);
    drop(server);
    drop(disk);
}
