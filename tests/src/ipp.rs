//! CUPS's `ippeveprinter`, a real IPP Everywhere printer, started for a test in its own mount
//! and PID namespaces (see `tests/peers/ippeveprinter.sh`; needs root, as CI runs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running printer.
pub struct IppPeer {
    child: Child,
    /// `ipp://127.0.0.1:PORT/ipp/print`.
    pub uri: String,
    /// Its directory (spool, logs).
    pub dir: PathBuf,
}

/// Held by a test while its `ippeveprinter`s run: printers of parallel tests, each with its
/// own Avahi on the loopback, were seen to keep one another from starting (or to come back
/// under another identity) when one was restarted on its port.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static PRINTERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    PRINTERS.lock().await
}

impl IppPeer {
    /// Starts a printer named `name` in `dir` with extra `ippeveprinter` arguments; waits
    /// until it accepts connections.
    pub fn start(dir: &Path, name: &str, args: &[&str]) -> IppPeer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        IppPeer::start_on(dir, port, name, args)
    }

    /// Starts a printer on a given port.
    pub fn start_on(dir: &Path, port: u16, name: &str, args: &[&str]) -> IppPeer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/ippeveprinter.sh");
        std::fs::create_dir_all(dir).unwrap();
        let spawn = || {
            let log = std::fs::File::create(dir.join("ippeveprinter.log")).unwrap();
            Command::new("unshare")
                .args(["--mount", "--pid", "--fork", "--kill-child"])
                .arg(&script)
                .arg(dir)
                .arg(port.to_string())
                .args(args)
                .arg("-v")
                .arg(name)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("unshare runs (util-linux)")
        };
        // A printer that was on this port before may still be going away: the new one is
        // only taken for ready once the old one no longer answers.
        let gone = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut child = spawn();
        // ippeveprinter sometimes dies at start when its private Avahi is not ready yet
        // (an assertion in avahi_entry_group_add_service_strlst): it is started again.
        let mut starts = 1;
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = || std::fs::read_to_string(dir.join("ippeveprinter.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "ippeveprinter did not start: {}", log());
            if matches!(child.try_wait(), Ok(Some(_))) {
                assert!(starts < 3, "ippeveprinter died at start {starts} times: {}", log());
                starts += 1;
                child = spawn();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        IppPeer { child, uri: format!("ipp://127.0.0.1:{port}/ipp/print"), dir: dir.to_path_buf() }
    }

    /// The printer's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ippeveprinter.log")).unwrap_or_default()
    }
}

impl Drop for IppPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `-c` script for ippeveprinter: keeps each job's file and attributes in `out`, or fails
/// the job reporting an empty paper tray.
pub fn job_script(dir: &Path, out: &Path, fail: bool) -> String {
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
