//! A small office LAN made of two network namespaces joined by a veth pair: `devices`
//! (10.77.0.1, where printers and scanners run with their own Avahi) and `office box`
//! (10.77.0.2, where `simpul` runs). Multicast DNS works between them as on a real switch and
//! reaches nothing outside. Needs root (as CI runs); the namespaces go when this is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The devices side's address.
pub const DEVICES_IP: &str = "10.77.0.1";
/// The box side's address.
pub const BOX_IP: &str = "10.77.0.2";
/// The devices side's interface (Avahi is limited to it).
pub const DEVICES_IF: &str = "lan-dev";

/// Two namespaces and the cable between them.
pub struct Lan {
    /// Namespace of the devices.
    pub devices: String,
    /// Namespace of the office box.
    pub office: String,
    children: Vec<Child>,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("iproute2 runs");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

impl Lan {
    /// Makes the namespaces, the veth pair and the addresses.
    pub fn new() -> Lan {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let lan = Lan {
            devices: format!("simpul-dev-{pid}-{n}"),
            office: format!("simpul-box-{pid}-{n}"),
            children: Vec::new(),
        };
        ip(&["netns", "add", &lan.devices]);
        ip(&["netns", "add", &lan.office]);
        ip(&[
            "link",
            "add",
            DEVICES_IF,
            "netns",
            &lan.devices,
            "type",
            "veth",
            "peer",
            "name",
            "lan-box",
            "netns",
            &lan.office,
        ]);
        for (ns, dev, addr) in [(&lan.devices, DEVICES_IF, DEVICES_IP), (&lan.office, "lan-box", BOX_IP)] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/24"), "dev", dev]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        lan
    }

    /// A command run inside namespace `ns`.
    pub fn command(ns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns]).arg(program);
        cmd
    }

    /// Starts CUPS's `ippeveprinter` named `name` on the devices side, announced by a private
    /// Avahi on the LAN; returns its port. Its files and logs go to `dir`.
    pub fn start_printer(&mut self, dir: &Path, name: &str, port: u16) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/ippeveprinter.sh");
        let log = std::fs::File::create(dir.join("ippeveprinter.log")).unwrap();
        let child = Lan::command(&self.devices, "unshare")
            .args(["--mount", "--pid", "--fork", "--kill-child"])
            .arg(&script)
            .arg(dir)
            .arg(port.to_string())
            .args(["-v", name])
            .env("AVAHI_INTERFACES", DEVICES_IF)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("unshare runs (util-linux)");
        self.children.push(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let bus = dir.join("bus");
        while !(bus.exists()
            && std::fs::read_to_string(dir.join("avahi.log")).is_ok_and(|l| l.contains("Server startup complete")))
        {
            assert!(
                Instant::now() < deadline,
                "Avahi did not start beside ippeveprinter: {}",
                std::fs::read_to_string(dir.join("avahi.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        bus
    }

    /// Announces a service through the devices side's Avahi (reached at `bus`) with
    /// `avahi-publish`, as a device would announce itself; it stays announced while this lives.
    pub fn publish(&mut self, bus: &Path, name: &str, service_type: &str, port: u16, txt: &[&str]) {
        let child = Command::new("avahi-publish")
            .args(["-s", name, service_type, &port.to_string()])
            .args(txt)
            .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", bus.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("avahi-publish runs (avahi-utils)");
        self.children.push(child);
    }

    /// Runs a command on the office box side and returns what it printed.
    pub fn run_on_box(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
        Lan::command(&self.office, program).args(args).output().expect("ip netns exec runs")
    }
}

impl Default for Lan {
    fn default() -> Self {
        Lan::new()
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Deleting a namespace takes its end of the veth pair, and so the pair, with it.
        for ns in [&self.devices, &self.office] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
