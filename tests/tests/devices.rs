//! Device drivers against real peers: CUPS's `ippeveprinter` for IPP, a capturing ESC/POS
//! printer for tickets, and misbehaving devices (garbage, endless answers, silence, refusal,
//! a connection dropped mid-job). Every failure is a clear error, never a panic or a hang.

use std::path::Path;
use std::time::{Duration, Instant};

use simpul_hardware::document::{Block, Document, render};
use simpul_hardware::escpos::{EscPosPrinter, Ticket, ticket_bytes};
use simpul_hardware::ipp::{IppPrinter, JobState};
use simpul_hardware::{Attention, DeviceError};
use simpul_tests::escpos::{EscPosPeer, Mode};
use simpul_tests::eventually;
use simpul_tests::ipp::{IppPeer, job_script};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STEP: Duration = Duration::from_secs(3);
const PDF_AND_RASTER: &str = "application/pdf,image/pwg-raster";

fn receipt() -> Vec<u8> {
    render(&Document {
        title: "TANDA TERIMA".into(),
        letterhead: vec!["DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL".into()],
        blocks: vec![
            Block::Field("Nomor".into(), "510302-20261122-0001".into()),
            Block::Qr { payload: "SPL:510302-20261122-0001".into(), caption: "Pindai untuk memeriksa".into() },
        ],
        footer: "Simpul".into(),
    })
    .unwrap()
}

async fn until_final(printer: &IppPrinter, job: i32) -> JobState {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = printer.job(job).await.unwrap();
        if status.state.is_final() || Instant::now() > deadline {
            return status.state;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipp_printer_gets_the_receipt_and_an_empty_tray_is_reported() {
    let _printers = simpul_tests::ipp::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received");
    std::fs::create_dir_all(&out).unwrap();

    let keep = job_script(dir.path(), &out, false);
    let peer = IppPeer::start(
        &dir.path().join("ok"),
        "Simpul Uji",
        &["-c", &keep, "-k", "-f", PDF_AND_RASTER, "-M", "Simpul", "-m", "Uji IPP"],
    );
    let printer = IppPrinter::new(&peer.uri, STEP).unwrap();
    let info = printer.info().await.unwrap();
    assert_eq!(info.state, 3, "idle: {info:?}");
    assert!(info.accepts("application/pdf"), "{:?}", info.formats);
    assert!(info.make_model.contains("Simpul"), "{info:?}");
    assert!(info.uuid.as_deref().is_some_and(|u| u.starts_with("urn:uuid:")));
    assert!(info.attention().is_empty());
    // ippeveprinter loads US Letter by default: what is loaded is read, and the missing A4 said.
    assert!(info.media_ready.iter().any(|m| m == "na_letter_8.5x11in"), "{:?}", info.media_ready);
    assert_eq!((info.a4_ready(), info.warnings()), (Some(false), vec!["no_a4".to_string()]));

    let pdf = receipt();
    let job = printer.print(&pdf, "application/pdf", "Tanda terima 510302-20261122-0001", "petugas").await.unwrap();
    assert_eq!(until_final(&printer, job).await, JobState::Completed, "{}", peer.log());
    // What the printer received is exactly the receipt, with the job's attributes.
    let received: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    let file = received.iter().find(|p| p.extension().is_none_or(|e| e != "env")).expect("a job file");
    assert_eq!(std::fs::read(file).unwrap(), pdf);
    let env = std::fs::read_to_string(format!("{}.env", file.display())).unwrap();
    assert!(env.contains("CONTENT_TYPE=application/pdf"), "{env}");
    assert!(env.contains("Tanda terima 510302-20261122-0001"), "{env}");
    // The printer finds the job again by its name and sender (how the box learns, after a
    // hand-over cut short, that a document arrived); another name or sender is not it.
    let name = "Tanda terima 510302-20261122-0001";
    assert_eq!(printer.job_named(name, "petugas").await.unwrap(), Some(job), "{}", peer.log());
    assert_eq!(printer.job_named("Tanda terima 510302-20261122-0002", "petugas").await.unwrap(), None);
    let second = printer.print(&pdf, "application/pdf", name, "petugas").await.unwrap();
    assert_eq!(printer.job_named(name, "petugas").await.unwrap(), Some(second.max(job)), "the newest");

    // A printer whose tray is empty: the job is aborted and the state says why.
    let fail = job_script(dir.path(), &out, true);
    let empty = IppPeer::start(&dir.path().join("empty"), "Simpul Kosong", &["-c", &fail, "-f", PDF_AND_RASTER]);
    let printer = IppPrinter::new(&empty.uri, STEP).unwrap();
    let job = printer.print(&pdf, "application/pdf", "Tanda terima", "petugas").await.unwrap();
    assert_eq!(until_final(&printer, job).await, JobState::Aborted);
    let info = printer.info().await.unwrap();
    assert!(info.attention().contains(&Attention::MediaEmpty), "{:?}", info.reasons);

    // A printer without PDF says so in its formats.
    let raster = IppPeer::start(&dir.path().join("raster"), "Simpul Raster", &["-f", "image/pwg-raster"]);
    let info = IppPrinter::new(&raster.uri, STEP).unwrap().info().await.unwrap();
    assert!(!info.accepts("application/pdf"), "{:?}", info.formats);
    assert!(info.accepts("image/pwg-raster"));
}

/// The SHA-256 fingerprint of the PEM certificate at `path` as `openssl` computes it, lower-case
/// hex without colons.
fn openssl_fingerprint(path: &Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(path)
        .output()
        .expect("openssl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split('=').nth(1).expect("a fingerprint").trim().replace(':', "").to_ascii_lowercase()
}

/// IPPS against the real printer: ippeveprinter answers TLS on its port with a self-signed
/// certificate it made itself. The first certificate is what gets pinned; the printer prints
/// through the pin; once the printer has made a new certificate (its key store wiped, as after
/// a factory reset or a swapped device), the pinned client refuses it at the handshake and the
/// document never reaches the printer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipps_printer_is_pinned_by_its_certificate_and_a_new_one_gets_no_document() {
    let _printers = simpul_tests::ipp::exclusive().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received");
    std::fs::create_dir_all(&out).unwrap();
    let keep = job_script(dir.path(), &out, false);
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let keys_arg = keys.to_string_lossy().to_string();
    let args = ["-c", keep.as_str(), "-f", PDF_AND_RASTER, "-K", keys_arg.as_str(), "-n", "localhost"];
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let peer = IppPeer::start_on(&dir.path().join("tls"), port, "Simpul TLS", &args);
    let uri = format!("ipps://127.0.0.1:{port}/ipp/print");

    let first = IppPrinter::new(&uri, STEP).unwrap();
    let info = first.info().await.unwrap();
    assert!(info.accepts("application/pdf"), "{:?}\n{}", info.formats, peer.log());
    let pin = first.certificate().expect("the printer presented a certificate");
    assert_eq!(pin, openssl_fingerprint(&keys.join("localhost.crt")), "the pin is the printer's own certificate");
    assert!(peer.log().contains("Connection now encrypted"), "{}", peer.log());

    let pinned = IppPrinter::new(&uri, STEP).unwrap().with_certificate_pin(&pin).unwrap();
    let pdf = receipt();
    let job = pinned.print(&pdf, "application/pdf", "Tanda terima", "petugas").await.unwrap();
    assert_eq!(until_final(&pinned, job).await, JobState::Completed, "{}", peer.log());
    let received = || {
        let files = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path());
        files.filter(|p| p.extension().is_none_or(|x| x != "env")).count()
    };
    assert_eq!(received(), 1);

    // The printer comes back with a new certificate at the same address (once the old one has
    // let go of the port: a new peer must not be taken for ready while the old one still
    // answers).
    drop(peer);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_dir_all(&keys).unwrap();
    std::fs::create_dir_all(&keys).unwrap();
    // The new printer keeps what it receives in a folder of its own (its job numbers start
    // again at 1, so its files would take the first printer's names).
    let second = dir.path().join("second");
    let out = second.join("received");
    std::fs::create_dir_all(&out).unwrap();
    let keep = job_script(&second, &out, false);
    let args = ["-c", keep.as_str(), "-f", PDF_AND_RASTER, "-K", keys_arg.as_str(), "-n", "localhost"];
    let received = || {
        let files = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path());
        files.filter(|p| p.extension().is_none_or(|x| x != "env")).count()
    };
    let peer = IppPeer::start_on(&dir.path().join("tls2"), port, "Simpul TLS", &args);
    // A client per use, as the box makes them (a kept-alive connection to the printer that was
    // switched off would fail as dropped, before any handshake).
    let pinned = IppPrinter::new(&uri, STEP).unwrap().with_certificate_pin(&pin).unwrap();
    let refused = pinned.print(&pdf, "application/pdf", "Tanda terima", "petugas").await.unwrap_err();
    assert!(matches!(refused, DeviceError::Identity(_)), "{refused:?}");
    assert_eq!(refused.code(), "identity");
    assert!(matches!(pinned.info().await, Err(DeviceError::Identity(_))));
    // Without the pin, the new certificate is what the printer presents now.
    let fresh = IppPrinter::new(&uri, STEP).unwrap();
    fresh.info().await.unwrap();
    assert_eq!(fresh.certificate(), Some(openssl_fingerprint(&keys.join("localhost.crt"))));
    assert_ne!(fresh.certificate(), Some(pin));
    // A job sent without the pin arrives, so the refused one would have been kept by now:
    // exactly one job at the new printer, this one.
    let job = fresh.print(&pdf, "application/pdf", "Tanda terima", "petugas").await.unwrap();
    assert_eq!(until_final(&fresh, job).await, JobState::Completed, "{}", peer.log());
    let arrived = eventually(Duration::from_secs(10), || async { (received() >= 1).then_some(()) }).await;
    assert!(arrived.is_some(), "the job without the pin reaches the printer");
    assert_eq!(received(), 1, "nothing reached the printer with the new certificate");
    drop(peer);
}

/// A fake device on HTTP that answers every request with `answer`.
async fn http_device(answer: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(&answer).await;
                // An endless body keeps coming until the client hangs up.
                if answer.ends_with(b"\r\n\r\n") {
                    let chunk = vec![0x42u8; 65536];
                    while s.write_all(&chunk).await.is_ok() {}
                }
            });
        }
    });
    format!("ipp://{addr}/ipp/print")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_ipp_device_gives_clear_errors() {
    let garbage = http_device(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/ipp\r\ncontent-length: 12\r\n\r\n\x02\x00\x00\x00\x00\x00\x00\x01\xff\xfe\x00\x00"
            .to_vec(),
    )
    .await;
    let e = IppPrinter::new(&garbage, STEP).unwrap().info().await.unwrap_err();
    assert!(matches!(e, DeviceError::Protocol(_)), "{e:?}");

    let html =
        http_device(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\nhello".to_vec()).await;
    let e = IppPrinter::new(&html, STEP).unwrap().info().await.unwrap_err();
    assert!(matches!(e, DeviceError::Protocol(ref m) if m.contains("text/html")), "{e:?}");

    let endless = http_device(b"HTTP/1.1 200 OK\r\ncontent-type: application/ipp\r\n\r\n".to_vec()).await;
    let e = IppPrinter::new(&endless, STEP).unwrap().info().await.unwrap_err();
    assert!(matches!(e, DeviceError::TooLarge(_)), "{e:?}");

    let claims =
        http_device(b"HTTP/1.1 200 OK\r\ncontent-type: application/ipp\r\ncontent-length: 3000000000\r\n\r\n".to_vec())
            .await;
    let e = IppPrinter::new(&claims, STEP).unwrap().info().await.unwrap_err();
    assert!(matches!(e, DeviceError::TooLarge(_)), "{e:?}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let e = IppPrinter::new(&format!("ipp://{closed}/ipp/print"), STEP).unwrap().info().await.unwrap_err();
    assert_eq!(e, DeviceError::Unreachable);
}

fn ticket() -> Ticket {
    Ticket {
        office: "Kantor Kecamatan Mengwi".into(),
        service: "Aktivasi Identitas Kependudukan Digital".into(),
        number: "P-003".into(),
        lane: "Prioritas: lansia".into(),
        time: "22-11-2026 08:15 WITA".into(),
        qr: "SPL-T:510302-20261122-P003".into(),
        footer: "Mohon menunggu panggilan".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_printer_prints_the_ticket_and_refuses_when_it_cannot() {
    let peer = EscPosPeer::start(Mode::Ready).await;
    let printer = EscPosPrinter::new(peer.address.clone(), STEP);
    printer.print(&ticket_bytes(&ticket())).await.unwrap();
    // The fake printer records a job once the connection closes, in its own task.
    assert!(eventually(Duration::from_secs(10), || async { (!peer.jobs().is_empty()).then_some(()) }).await.is_some());
    let jobs = peer.jobs();
    assert_eq!(jobs.len(), 1);
    let printed = &jobs[0];
    assert!(printed.initialised && printed.unknown.is_empty(), "{printed:?}");
    assert_eq!(printed.cuts, 1);
    assert_eq!(printed.qr_codes, ["SPL-T:510302-20261122-P003"]);
    let number = printed.lines.iter().find(|l| l.text == "P-003").expect("the number is printed");
    assert!(number.size >= 0x11 && number.align == 1, "large and centred: {number:?}");
    let office = printed.lines.iter().find(|l| l.text == "Kantor Kecamatan Mengwi").unwrap();
    assert!(office.bold);
    let text = printed.text();
    for expected in ["Aktivasi Identitas Kependudukan Digital", "Prioritas: lansia", "22-11-2026 08:15 WITA"] {
        assert!(text.contains(expected), "{text}");
    }

    // Out of paper, cover open: refused before anything is sent.
    peer.set_mode(Mode::PaperOut);
    assert_eq!(printer.print(&ticket_bytes(&ticket())).await, Err(DeviceError::NeedsAttention(Attention::MediaEmpty)));
    peer.set_mode(Mode::CoverOpen);
    assert_eq!(printer.print(&ticket_bytes(&ticket())).await, Err(DeviceError::NeedsAttention(Attention::CoverOpen)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(peer.jobs().len(), 1, "nothing more was printed");

    // Answers that are not statuses, silence, a dropped connection, nobody there.
    peer.set_mode(Mode::Garbage);
    assert!(matches!(printer.print(&ticket_bytes(&ticket())).await, Err(DeviceError::Protocol(_))));
    peer.set_mode(Mode::Silent);
    let quick = EscPosPrinter::new(peer.address.clone(), Duration::from_millis(500));
    assert_eq!(quick.print(&ticket_bytes(&ticket())).await, Err(DeviceError::Timeout));
    peer.set_mode(Mode::DropAfter(10));
    let e = printer.print(&ticket_bytes(&ticket())).await.unwrap_err();
    // Cut while the ticket went out: said as such, since it may have printed.
    let cut = match &e {
        DeviceError::AfterSending(inner) => inner.as_ref(),
        other => other,
    };
    assert!(matches!(cut, DeviceError::Dropped | DeviceError::Timeout), "{e:?}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    assert_eq!(EscPosPrinter::new(closed.to_string(), STEP).status().await, Err(DeviceError::Unreachable));
}

/// Takes a kiosk ticket on `base`; returns the answer.
async fn take_ticket(base: &str, token: &str, service: &str, n: u32) -> serde_json::Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/kiosk/ticket"))
        .form(&[("token", token), ("service_id", service), ("lane", "lansia"), ("client_id", &format!("dev-{n}"))])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "kiosk: {}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_box_prints_tickets_and_queued_pages_and_keeps_a_job_until_the_printer_is_back() {
    let _printers = simpul_tests::ipp::exclusive().await;
    use simpul_tests::{Running, simpul_binary, simpul_cli};
    let dir = tempfile::tempdir().unwrap();
    // An office whose link to the regency goes through an HTTP proxy (here one that is not
    // there): printers on the LAN are reached directly, never through it.
    let nowhere = format!("http://127.0.0.1:{}", simpul_tests::closed_port());
    let proxy =
        [("HTTP_PROXY", nowhere.as_str()), ("http_proxy", nowhere.as_str()), ("SIMPUL_DEVICES__WATCH_SECS", "2")];
    let office = Running::start(&simpul_binary(), dir.path(), &proxy, &[]);
    let token = office.device_token("kiosk").expect("the demo prints a kiosk address");
    let kiosk: serde_json::Value =
        reqwest::get(format!("{}/api/kiosk?token={token}", office.base)).await.unwrap().json().await.unwrap();
    let service = kiosk["services"][0]["id"].as_str().unwrap().to_string();

    // The kiosk's ticket printer: the box prints, and the ticket counts only if it printed.
    let peer = EscPosPeer::start(Mode::Ready).await;
    let out = simpul_cli(
        dir.path(),
        &[],
        &["device", "add", "--kind", "ticket_printer", "--name", "Printer Tiket", "--address", &peer.address],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ticket = take_ticket(&office.base, &token, &service, 1).await;
    assert_eq!(ticket["state"], "waiting", "{ticket}");
    // The fake printer records a job once the connection closes, in its own task.
    assert!(eventually(Duration::from_secs(10), || async { (!peer.jobs().is_empty()).then_some(()) }).await.is_some());
    let printed = peer.jobs();
    assert_eq!(printed.len(), 1);
    let text = printed[0].text();
    let number = ticket["number"].as_str().unwrap();
    assert!(printed[0].lines.iter().any(|l| l.text == number), "{text}");
    assert!(text.contains("Kantor Kecamatan Mengwi") && text.contains("Prioritas: lansia"), "{text}");
    assert_eq!(printed[0].qr_codes, [format!("SPL-T:{}", ticket["id"].as_str().unwrap())]);
    assert_eq!(printed[0].cuts, 1);

    peer.set_mode(Mode::PaperOut);
    let refused = take_ticket(&office.base, &token, &service, 2).await;
    assert_eq!(refused["state"], "void", "{refused}");
    assert_eq!(refused["print_error"], "media_empty");
    assert_eq!(peer.jobs().len(), 1, "nothing printed");
    let stats = simpul_tests::query(&dir.path().join("data"), "SELECT state FROM queue_tickets ORDER BY ord");
    assert_eq!(stats, ["waiting", "void"], "a ticket that did not print is not issued");

    // A document printer that is off: the test page waits in the queue with the reason, and
    // prints once the printer is there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let uri = format!("ipp://127.0.0.1:{port}/ipp/print");
    let out = simpul_cli(
        dir.path(),
        &[],
        &[
            "device",
            "add",
            "--kind",
            "document_printer",
            "--name",
            "Printer Loket 1",
            "--address",
            &uri,
            "--counter",
            "L1",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).split_whitespace().last().unwrap().trim_end_matches('.').to_string();
    let out = simpul_cli(dir.path(), &[], &["device", "test-print", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jobs = || {
        let out = simpul_cli(dir.path(), &[], &["device", "jobs"]);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let waiting = eventually(Duration::from_secs(20), || async {
        let j = jobs();
        (j.contains("queued") && j.contains("unreachable")).then_some(j)
    })
    .await;
    assert!(waiting.is_some(), "the job waits with its reason: {}", jobs());

    let spool = dir.path().join("printer");
    let out_dir = spool.join("received");
    std::fs::create_dir_all(&out_dir).unwrap();
    let keep = job_script(dir.path(), &out_dir, false);
    let _printer = IppPeer::start_on(&spool, port, "Printer Loket 1", &["-c", &keep, "-f", PDF_AND_RASTER]);
    let done = eventually(Duration::from_secs(60), || async { jobs().contains("done").then_some(()) }).await;
    assert!(done.is_some(), "printed once the printer is back: {}", jobs());
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().path()).collect();
    let pdf = files.iter().find(|p| p.extension().is_none_or(|e| e != "env")).expect("the printer got the page");
    let bytes = std::fs::read(pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "a PDF");

    // Nobody pressed "check": the box looked at the printer by itself and pinned who it is.
    let watched = eventually(Duration::from_secs(20), || async {
        let row = simpul_tests::query(
            &dir.path().join("data"),
            &format!("SELECT checked_at IS NOT NULL AND identity LIKE 'urn:uuid:%' FROM devices WHERE id = '{id}'"),
        );
        (row == ["1"]).then_some(())
    })
    .await;
    assert!(watched.is_some(), "the device watch checked the printer and pinned its identity");

    // A printer that goes quiet while it holds an accepted job may still print it: the job
    // stays sent, says why it does not move, and is not sent a second time.
    drop(_printer);
    let slow = dir.path().join("slow.sh");
    std::fs::write(
        &slow,
        "#!/bin/sh
sleep 120
",
    )
    .unwrap();
    std::fs::set_permissions(&slow, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let busy =
        IppPeer::start_on(&spool, port, "Printer Loket 1", &["-c", &slow.to_string_lossy(), "-f", PDF_AND_RASTER]);
    let out = simpul_cli(dir.path(), &[], &["device", "test-print", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let newest = || jobs().lines().next().unwrap_or_default().to_string();
    let sent = eventually(Duration::from_secs(30), || async { newest().contains(" sent ").then_some(()) }).await;
    assert!(sent.is_some(), "the printer took the job: {}", jobs());
    drop(busy);
    let held = eventually(Duration::from_secs(30), || async {
        let line = newest();
        (line.contains(" sent ") && line.contains("unreachable")).then_some(line)
    })
    .await;
    assert!(held.is_some_and(|l| l.contains("tries 1")), "held at the printer with the reason, sent once: {}", jobs());
}

/// A4 in pixels at `dpi`.
fn a4_at(dpi: u32) -> (f64, f64) {
    (210.0 / 25.4 * f64::from(dpi), 297.0 / 25.4 * f64::from(dpi))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printer_without_pdf_gets_the_receipt_as_pwg_raster() {
    let _printers = simpul_tests::ipp::exclusive().await;
    use simpul_hardware::pwg;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("received");
    std::fs::create_dir_all(&out).unwrap();
    let keep = job_script(dir.path(), &out, false);
    let peer = IppPeer::start(&dir.path().join("raster"), "Simpul Raster", &["-c", &keep, "-k", "-f", pwg::FORMAT]);
    let printer = IppPrinter::new(&peer.uri, STEP).unwrap();
    let info = printer.info().await.unwrap();
    assert!(!info.accepts("application/pdf"), "{:?}", info.formats);
    assert!(info.accepts(pwg::FORMAT), "{:?}", info.formats);
    let raster = info.raster.clone().expect("the printer says what raster it takes");
    assert!(raster.takes(pwg::GREY_8), "{raster:?}");
    assert!(!raster.resolutions.is_empty(), "{raster:?}");
    let dpi = info.raster_fallback().expect("a PDF goes to this printer as raster");
    assert!(raster.resolutions.contains(&dpi) && dpi <= 600, "{dpi} of {raster:?}");

    let pdf = receipt();
    let stream = pwg::pdf_to_pwg(&pdf, dpi, Duration::from_secs(60)).await.unwrap();
    let job = printer.print(&stream, pwg::FORMAT, "Tanda terima 510302-20261122-0001", "petugas").await.unwrap();
    assert_eq!(until_final(&printer, job).await, JobState::Completed, "{}", peer.log());

    // What the printer received, decoded independently of the encoder.
    let received: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    let file = received.iter().find(|p| p.extension().is_none_or(|e| e != "env")).expect("a job file");
    let env = std::fs::read_to_string(format!("{}.env", file.display())).unwrap();
    assert!(env.contains("CONTENT_TYPE=image/pwg-raster"), "{env}");
    let bytes = std::fs::read(file).unwrap();
    assert!(bytes.starts_with(b"RaS2"));
    let pages = simpul_tests::pwg::decode(&bytes).unwrap();
    assert_eq!(pages.len(), 1, "{pages:?}");
    let page = &pages[0];
    let h = &page.header;
    assert_eq!(h.resolution, (dpi, dpi));
    assert_eq!((h.bits_per_color, h.bits_per_pixel, h.num_colors, h.color_space, h.color_order), (8, 8, 1, 18, 0));
    assert_eq!((h.total_page_count, h.transforms, h.alternate_primary), (1, (1, 1), 0xFF_FFFF));
    assert_eq!((h.page_size, h.page_size_name.as_str()), ((595, 842), "iso_a4_210x297mm"));
    let (w, l) = a4_at(dpi);
    assert!((f64::from(h.width) - w).abs() <= 2.0 && (f64::from(h.height) - l).abs() <= 2.0, "{h:?} vs A4 {w}x{l}");
    // Not blank: ink where the text and the QR code are, paper around it.
    let dark = page.pixels.iter().filter(|&&p| p < 128).count();
    assert!(dark > 1000, "{dark} dark pixels");
    assert!(dark < page.pixels.len() / 10, "{dark} dark pixels: mostly paper");
    let width = h.width as usize;
    let top_fifth = &page.pixels[..width * (h.height as usize / 5)];
    assert!(top_fifth.iter().any(|&p| p < 128), "the letterhead and title are at the top");
    let margin = dpi as usize / 2;
    assert!(page.pixels.chunks(width).all(|row| row[..margin].iter().all(|&p| p > 200)), "a blank left margin");

    // A printer that takes neither PDF nor grey raster gets nothing rasterised for it.
    let colour = IppPeer::start(&dir.path().join("jpeg"), "Simpul JPEG", &["-f", "image/jpeg"]);
    let info = IppPrinter::new(&colour.uri, STEP).unwrap().info().await.unwrap();
    assert_eq!(info.raster_fallback(), None, "{info:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rasterising_garbage_or_too_much_is_a_clear_error() {
    let _printers = simpul_tests::ipp::exclusive().await;
    use simpul_hardware::pwg;
    let e = pwg::rasterise_pdf(b"%PDF-1.7 this is not really a PDF", 300, STEP).await.unwrap_err();
    assert!(matches!(e, DeviceError::Unsupported(ref m) if m.contains("PDF")), "{e:?}");
    assert!(!e.retryable(), "the same document would fail again");
    let e = pwg::rasterise_pdf(&[], 300, STEP).await.unwrap_err();
    assert!(matches!(e, DeviceError::Unsupported(_)), "{e:?}");
    let half = receipt();
    let e = pwg::rasterise_pdf(&half[..200], 300, STEP).await.unwrap_err();
    assert!(matches!(e, DeviceError::Unsupported(_)), "{e:?}");
    let e = pwg::rasterise_pdf(&receipt(), 20_000, STEP).await.unwrap_err();
    assert!(matches!(e, DeviceError::Unsupported(_)), "{e:?}");

    // A document longer than the bound is refused whole, not cut.
    let long = render(&Document {
        title: "Panjang".into(),
        letterhead: vec![],
        blocks: (0..2000).map(|i| Block::Text(format!("Baris {i}"))).collect(),
        footer: "Simpul".into(),
    })
    .unwrap();
    let e = pwg::rasterise_pdf(&long, 72, Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(e, DeviceError::Unsupported(ref m) if m.contains("pages")), "{e:?}");
}

#[test]
fn the_test_raster_decoder_follows_the_specification() {
    fn stream(width: u32, height: u32, body: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 1796];
        h[..9].copy_from_slice(b"PwgRaster");
        for (at, v) in [(372, width), (376, height), (384, 8), (388, 8), (392, width), (400, 18), (420, 1)] {
            h[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
        [b"RaS2".as_slice(), &h, body].concat()
    }
    // Two equal lines of "5 5 5 1 2" (repeat 1, a run of 3, a literal of 2), then four 0 and a 9.
    let pages = simpul_tests::pwg::decode(&stream(5, 3, &[1, 2, 5, 255, 1, 2, 0, 3, 0, 0, 9])).unwrap();
    assert_eq!(pages[0].pixels, [5, 5, 5, 1, 2, 5, 5, 5, 1, 2, 0, 0, 0, 0, 9]);
    assert!(simpul_tests::pwg::decode(&stream(5, 1, &[0, 5, 0])).is_err(), "a run past the line");
    assert!(simpul_tests::pwg::decode(&stream(5, 1, &[1, 4, 0])).is_err(), "lines past the page");
    assert!(simpul_tests::pwg::decode(&stream(5, 1, &[0, 128])).is_err());
    assert!(simpul_tests::pwg::decode(&stream(5, 2, &[0, 4, 0])).is_err(), "a page cut short");
    assert!(simpul_tests::pwg::decode(b"RaS3").is_err());
}
