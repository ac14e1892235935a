//! Sealing the key with the machine's own tools: `systemd-creds` (TPM2 and/or the host key) and
//! `tpm2-tools`. The key goes to a tool through a pipe and comes back through one; it is never
//! written to disk in clear, nor put on a command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use simpul_store::crypt::MasterKey;
use zeroize::Zeroizing;

use super::disk::write_private;
use super::error::KeyError;
use crate::config::Config;

/// The credential's name, bound into the sealed credential and used by the unit.
pub const CREDENTIAL_NAME: &str = "simpul.key";

/// The sealing tools and how to reach the TPM.
#[derive(Debug, Clone, Default)]
pub struct Tools {
    /// `tpm2-tools`' TCTI (`device:/dev/tpmrm0`, `swtpm:host=…,port=…`), when a TPM is to be used
    /// through them.
    tpm_tcti: Option<String>,
}

impl Tools {
    /// The tools as `config` sets them up.
    pub fn of(config: &Config) -> Tools {
        Tools { tpm_tcti: config.key.tpm_tcti.clone() }
    }

    /// Whether a TPM is configured for `tpm2-tools`.
    pub fn tpm2_configured(&self) -> bool {
        self.tpm_tcti.is_some()
    }

    /// Whether `systemd-creds` can seal here (it is installed and can make or read the host key).
    pub fn credentials_work(&self) -> bool {
        let out = run("systemd-creds", &["encrypt", "--name=probe", "--with-key=host", "-", "-"], b"probe", &[]);
        out.is_ok()
    }

    /// Seals `key` with `systemd-creds` into the file `to`: TPM2 and host key when the box has a
    /// TPM, the host key otherwise (`--with-key=auto`).
    pub fn seal_credential(&self, key: &MasterKey, to: &Path) -> Result<(), KeyError> {
        let sealed = run(
            "systemd-creds",
            &["encrypt", &format!("--name={CREDENTIAL_NAME}"), "--with-key=auto", "-", "-"],
            key.to_hex().as_bytes(),
            &[],
        )?;
        write_private(to, &sealed)
    }

    /// Unseals a credential made by [`Tools::seal_credential`].
    pub fn unseal_credential(&self, from: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let path = from.to_string_lossy();
        Ok(Zeroizing::new(run(
            "systemd-creds",
            &["decrypt", &format!("--name={CREDENTIAL_NAME}"), &path, "-"],
            b"",
            &[],
        )?))
    }

    /// Seals `key` in the TPM: a sealed-data object under the owner hierarchy's primary key,
    /// whose public and private parts are kept in the folder `to`.
    pub fn tpm2_seal(&self, key: &MasterKey, to: &Path) -> Result<(), KeyError> {
        let env = self.tpm2_env()?;
        let work = Scratch::new(to)?;
        let primary = work.path("primary.ctx");
        self.primary(&primary, &env)?;
        let (public, private) = (work.path("seal.pub"), work.path("seal.priv"));
        let args = ["-Q", "-C", &s(&primary), "-g", "sha256", "-u", &s(&public), "-r", &s(&private), "-i", "-"];
        let done = run("tpm2_create", &args, key.to_hex().as_bytes(), &env);
        flush(&env);
        done?;
        let folder = to.to_path_buf();
        let io = |e| KeyError::Io { path: folder.clone(), source: e };
        let staged = to.with_extension("tpm2.new");
        if staged.exists() {
            std::fs::remove_dir_all(&staged).map_err(io)?;
        }
        std::fs::create_dir(&staged).map_err(io)?;
        std::fs::copy(&public, staged.join("seal.pub")).map_err(io)?;
        std::fs::copy(&private, staged.join("seal.priv")).map_err(io)?;
        if to.exists() {
            std::fs::remove_dir_all(to).map_err(io)?;
        }
        std::fs::rename(&staged, to).map_err(io)?;
        Ok(())
    }

    /// Unseals the key kept in the folder `from` by [`Tools::tpm2_seal`].
    pub fn tpm2_unseal(&self, from: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let env = self.tpm2_env()?;
        let work = Scratch::new(from)?;
        let primary = work.path("primary.ctx");
        self.primary(&primary, &env)?;
        let object = work.path("seal.ctx");
        let (public, private) = (from.join("seal.pub"), from.join("seal.priv"));
        let load = ["-Q", "-C", &s(&primary), "-u", &s(&public), "-r", &s(&private), "-c", &s(&object)];
        let loaded = run("tpm2_load", &load, b"", &env);
        flush(&env);
        loaded?;
        let key = run("tpm2_unseal", &["-c", &s(&object)], b"", &env);
        flush(&env);
        Ok(Zeroizing::new(key?))
    }

    /// The owner hierarchy's primary key (the same key each time for the same template).
    fn primary(&self, context: &Path, env: &[(&str, String)]) -> Result<(), KeyError> {
        flush(env);
        let made =
            run("tpm2_createprimary", &["-Q", "-C", "o", "-g", "sha256", "-G", "ecc", "-c", &s(context)], b"", env);
        // Without a resource manager (a TPM simulator) loaded objects stay until flushed.
        flush(env);
        made.map(|_| ())
    }

    fn tpm2_env(&self) -> Result<Vec<(&'static str, String)>, KeyError> {
        let tcti = self.tpm_tcti.clone().ok_or_else(|| KeyError::Tool {
            tool: "tpm2-tools".into(),
            reason: "no TPM configured: set key.tpm_tcti (e.g. device:/dev/tpmrm0)".into(),
        })?;
        Ok(vec![("TPM2TOOLS_TCTI", tcti)])
    }
}

fn flush(env: &[(&str, String)]) {
    let _ = run("tpm2_flushcontext", &["-t"], b"", env);
}

fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A private scratch folder beside the key for the TPM's context files (not secret, but not
/// left behind either).
struct Scratch(PathBuf);

impl Scratch {
    fn new(beside: &Path) -> Result<Scratch, KeyError> {
        use std::os::unix::fs::DirBuilderExt;
        let parent = beside.parent().unwrap_or(Path::new("."));
        let dir = parent.join(format!(".tpm2-work-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| KeyError::Io { path: dir.clone(), source: e })?;
        Ok(Scratch(dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `tool` with `input` on its standard input and returns its standard output; a failure
/// carries the tool's own message (which never holds the key: it only travels through pipes).
fn run(tool: &str, args: &[&str], input: &[u8], env: &[(&str, String)]) -> Result<Vec<u8>, KeyError> {
    let fail = |reason: String| KeyError::Tool { tool: tool.to_string(), reason };
    let mut child = Command::new(tool)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it ({e}); is it installed?")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let written = stdin.write_all(input);
    drop(stdin);
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    written.map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stderr);
        let said = said.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("failed").trim().to_string();
        return Err(fail(said));
    }
    Ok(out.stdout)
}
