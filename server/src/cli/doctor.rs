//! `simpul doctor`: what protects this box's data, and what does not yet. Each line is `ok`,
//! `warn` (works, could be safer) or `FAIL` (must be fixed); the exit status is non-zero when
//! any line fails.

use anyhow::{Result, bail};
use simpul_domain::office::BoxRole;
use simpul_store::db::{self, FileCheck};

use crate::config::Config;
use crate::keys::{KeyStore, Protection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

struct Report {
    failed: usize,
}

impl Report {
    fn line(&mut self, verdict: Verdict, topic: &str, text: impl AsRef<str>) {
        let mark = match verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => {
                self.failed += 1;
                "FAIL"
            }
        };
        println!("{mark}  {topic:<9} {}", text.as_ref());
    }
}

pub(super) fn doctor(config: &Config) -> Result<()> {
    let mut report = Report { failed: 0 };
    let store = KeyStore::of(config);
    let database = config.database_path();
    let key = match store.protection() {
        None if database.exists() && !db::is_clear(&database) => {
            report.line(
                Verdict::Fail,
                "key",
                format!("none found in {}, and the database is encrypted", store.dir().display()),
            );
            None
        }
        None => {
            report.line(
                Verdict::Warn,
                "key",
                "none yet: the first start makes a key file; `simpul key init` seals one",
            );
            None
        }
        Some(protection) => match store.load(Some(&crate::keys::terminal_prompt)) {
            Ok(Some(key)) => {
                let (verdict, advice) = advice(config, protection);
                report.line(verdict, "key", format!("{} {}{advice}", key.fingerprint(), protection.describe()));
                Some(key)
            }
            Ok(None) => None,
            Err(e) => {
                report.line(Verdict::Fail, "key", e.to_string());
                None
            }
        },
    };
    if !database.exists() {
        report.line(Verdict::Warn, "database", "none yet (made at the first start, encrypted)");
    } else if db::is_clear(&database) {
        report.line(Verdict::Fail, "database", "in clear: start the server once to encrypt it in place");
    } else if let Some(key) = &key {
        match db::check_file(&database, &key.database_key()) {
            FileCheck::Intact(version) => {
                let cipher = db::open_read_only(&database, &key.database_key())
                    .ok()
                    .and_then(|c| db::cipher_version(&c))
                    .unwrap_or_else(|| "?".into());
                report.line(Verdict::Ok, "database", format!("encrypted (SQLCipher {cipher}), schema {version}"));
            }
            FileCheck::TooNew(found) => {
                report.line(Verdict::Fail, "database", format!("schema {found} is newer than this program: upgrade"))
            }
            FileCheck::Damaged(why) => report.line(Verdict::Fail, "database", format!("does not open: {why}")),
        }
    }
    if let Some(key) = &key {
        let files = simpul_store::blobs::Files::new(&config.data_dir, key.file_key());
        match files.survey() {
            Ok(s) if s.clear > 0 => report.line(
                Verdict::Fail,
                "files",
                format!("{} in clear (and {} sealed): start the server once to seal them", s.clear, s.sealed),
            ),
            Ok(s) => {
                let plural = if s.sealed == 1 { "" } else { "s" };
                let text = format!("{} stored file{plural}, all sealed (ChaCha20-Poly1305)", s.sealed);
                report.line(Verdict::Ok, "files", text)
            }
            Err(e) => report.line(Verdict::Fail, "files", format!("cannot be listed: {e}")),
        }
    }
    disk(config, &mut report);
    if config.listen.ip().is_loopback() {
        report.line(Verdict::Ok, "web UI", format!("listens on {} (this machine only)", config.listen));
    } else {
        report.line(
            Verdict::Warn,
            "web UI",
            format!("served over plain HTTP on {}: HTTPS for the LAN is not built yet", config.listen),
        );
    }
    match config.key.recovery.as_deref().map(crate::keys::recovery::Recipient::parse) {
        Some(Ok(recipient)) => report.line(
            Verdict::Ok,
            "backups",
            format!("encrypted to the regency's recovery key {recipient}; the box's own keys stay out of them"),
        ),
        Some(Err(e)) => report.line(Verdict::Fail, "backups", e.to_string()),
        None => report.line(
            Verdict::Warn,
            "backups",
            "no recovery key (key.recovery): `simpul backup` refuses until the regency's public key is set",
        ),
    }
    if report.failed > 0 {
        bail!("{} check(s) failed", report.failed);
    }
    Ok(())
}

/// How good a protection is on this machine, and what would be better.
fn advice(config: &Config, protection: Protection) -> (Verdict, String) {
    match protection {
        Protection::File => {
            (Verdict::Warn, ": a stolen disk yields it; seal it with `simpul key init --protect host` (or tpm2)".into())
        }
        Protection::Host if !has_tpm2() => (
            Verdict::Warn,
            ": with the host key only (no TPM2 here), which lives on the same disk: a stolen disk yields it".into(),
        ),
        Protection::Passphrase if config.role == BoxRole::Office => {
            (Verdict::Warn, ": an office box must start unattended after a power cut; seal the key instead".into())
        }
        _ => (Verdict::Ok, String::new()),
    }
}

fn has_tpm2() -> bool {
    std::process::Command::new("systemd-creds")
        .arg("has-tpm2")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Free space where the data lives: a full disk stops intake, uploads and sync.
fn disk(config: &Config, report: &mut Report) {
    const GIB: u64 = 1 << 30;
    let at = if config.data_dir.exists() { config.data_dir.clone() } else { std::path::PathBuf::from(".") };
    match rustix::fs::statvfs(&at) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let total = s.f_blocks.saturating_mul(s.f_frsize).max(1);
            let percent = free.saturating_mul(100) / total;
            let text = format!(
                "{:.1} GiB free of {:.1} GiB ({percent}%)",
                free as f64 / GIB as f64,
                total as f64 / GIB as f64
            );
            let verdict = if free < GIB / 2 || percent < 5 {
                Verdict::Fail
            } else if free < 2 * GIB || percent < 15 {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
            report.line(verdict, "disk", text);
        }
        Err(e) => report.line(Verdict::Warn, "disk", format!("free space unknown: {e}")),
    }
}
