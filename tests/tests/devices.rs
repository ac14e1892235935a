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
use simpul_tests::ipp::IppPeer;
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

/// A `-c` script for ippeveprinter: keeps each job's file and attributes in `out`, or fails
/// the job reporting an empty paper tray.
fn job_script(dir: &Path, out: &Path, fail: bool) -> String {
    let path = dir.join(if fail { "fail.sh" } else { "keep.sh" });
    let body = if fail {
        "#!/bin/sh\necho 'STATE: +media-empty-error' >&2\nexit 1\n".to_string()
    } else {
        format!(
            "#!/bin/sh\nn=$(basename \"$1\")\ncp \"$1\" \"{out}/$n\"\nenv | grep -E '^(IPP_|CONTENT_TYPE)' > \"{out}/$n.env\"\n",
            out = out.display()
        )
    };
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path.to_string_lossy().to_string()
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
    tokio::time::sleep(Duration::from_millis(200)).await;
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
    assert!(matches!(e, DeviceError::Dropped | DeviceError::Timeout), "{e:?}");
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
    use simpul_tests::{Running, eventually, simpul_binary, simpul_cli};
    let dir = tempfile::tempdir().unwrap();
    let office = Running::start(&simpul_binary(), dir.path(), &[], &[]);
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
    tokio::time::sleep(Duration::from_millis(200)).await;
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
}
