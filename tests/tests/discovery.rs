//! Finding devices on the LAN: on a test LAN of two network namespaces, CUPS's `ippeveprinter`
//! announces itself through a real Avahi, a scanner and a ticket printer are announced with
//! `avahi-publish` (one more announces a path that is not one), and `simpul device discover`
//! on the box side lists exactly the usable ones with addresses its drivers take. A real IPP
//! client (`ipptool`) then reaches the printer at the address that was found.

use std::time::{Duration, Instant};

use simpul_tests::lan::{DEVICES_IP, Lan};
use simpul_tests::simpul_binary;

/// Runs `simpul ARGS` on the box side with its data in `data`.
fn simpul(lan: &Lan, data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Lan::command(&lan.office, simpul_binary()).args(args).env("SIMPUL_DATA_DIR", data).output().unwrap()
}

fn discover(lan: &Lan, data: &std::path::Path) -> String {
    let out = simpul(lan, data, &["device", "discover", "--seconds", "3"]);
    assert!(out.status.success(), "device discover failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn devices_announced_on_the_lan_are_found_with_addresses_their_drivers_take() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let mut lan = Lan::new();
    let bus = lan.start_printer(&dir.path().join("printer"), "Printer Loket Satu", 8631);
    lan.publish(
        &bus,
        "Pemindai Loket Satu",
        "_uscan._tcp",
        8080,
        &["rs=eSCL", "ty=Simpul eSCL", "UUID=4509a320-00a0-008f-00b6-002507510eca"],
    );
    lan.publish(&bus, "Printer Tiket", "_pdl-datastream._tcp", 9100, &["ty=Thermal 80mm"]);
    // A device announcing a path that climbs out of its root: left out, not guessed at.
    lan.publish(&bus, "Printer Aneh", "_ipp._tcp", 8632, &["rp=../../etc/passwd"]);

    // Announcements take a moment to go out after Avahi starts: look a few times.
    let deadline = Instant::now() + Duration::from_secs(40);
    let found = loop {
        let found = discover(&lan, &data);
        let complete = found.contains("Printer Loket Satu")
            && found.contains("Pemindai Loket Satu")
            && found.contains("Printer Tiket");
        if complete || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let printer = format!("ipp://{DEVICES_IP}:8631/ipp/print");
    let line = |needle: &str| found.lines().find(|l| l.contains(needle)).map(str::to_string);
    let printer_line = line(&printer).unwrap_or_else(|| panic!("no IPP printer at {printer} in:\n{found}"));
    assert!(printer_line.starts_with("document_printer") && printer_line.contains("mdns"), "{printer_line}");
    let scanner_line =
        line(&format!("http://{DEVICES_IP}:8080/eSCL")).unwrap_or_else(|| panic!("no scanner in:\n{found}"));
    assert!(scanner_line.starts_with("scanner") && scanner_line.ends_with("Pemindai Loket Satu"), "{scanner_line}");
    let ticket_line = line(&format!("{DEVICES_IP}:9100")).unwrap_or_else(|| panic!("no ticket printer in:\n{found}"));
    assert!(ticket_line.starts_with("ticket_printer"), "{ticket_line}");
    assert!(!found.contains("Printer Aneh") && !found.contains("passwd"), "a bad announcement was listed:\n{found}");

    // The address found is the printer's: a real IPP client on the box side reaches it there.
    let ipp = lan.run_on_box("ipptool", &["-t", "-T", "5", &printer, "get-printer-attributes.test"]);
    let said = String::from_utf8_lossy(&ipp.stdout);
    assert!(
        ipp.status.success() && said.contains("PASS"),
        "ipptool at {printer}: {said}{}",
        String::from_utf8_lossy(&ipp.stderr)
    );

    // A configured device is not offered again.
    let add = simpul(
        &lan,
        &data,
        &["device", "add", "--kind", "document_printer", "--name", "Printer Loket Satu", "--address", &printer],
    );
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    let again = discover(&lan, &data);
    assert!(!again.contains(&printer), "a configured printer was offered again:\n{again}");
    assert!(again.contains("Pemindai Loket Satu"), "{again}");
}

#[test]
fn a_box_with_no_lan_finds_nothing_and_says_so_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let lan = Lan::new();
    // Cut the cable: the box side keeps only its loopback.
    let down = lan.run_on_box("ip", &["link", "set", "lan-box", "down"]);
    assert!(down.status.success());
    let out = simpul(&lan, dir.path(), &["device", "discover", "--seconds", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("No new device found."));
}
