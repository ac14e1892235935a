//! Where the box's master key is kept and how it is taken at start.
//!
//! The key protects the database and every stored file (see `simpul_store::crypt`). It is
//! kept in one of these forms, looked for in this order:
//! 1. a credential systemd hands the service (`LoadCredentialEncrypted=simpul.key:…` puts it in
//!    `$CREDENTIALS_DIRECTORY/simpul.key`, unsealed by systemd itself);
//! 2. `KEY_DIR/simpul.key.cred`, sealed with `systemd-creds` (with the TPM2 and the host key when
//!    the box has a TPM, else with the host key `/var/lib/systemd/credential.secret`);
//! 3. `KEY_DIR/simpul.key.tpm2/`, sealed in the TPM through `tpm2-tools` (for a TPM that
//!    `systemd-creds` does not reach, e.g. a TCTI other than the kernel's resource manager);
//! 4. `KEY_DIR/simpul.key.pass`, wrapped under a passphrase typed at start (a single hub: hub
//!    nodes that restart unattended take a sealed credential or a key file);
//! 5. `KEY_DIR/simpul.key`, 64 hex digits in a file only its owner may read.
//!
//! `simpul key init` makes the key (or protects an existing one another way) and removes the
//! other forms; the first start of a box that has none makes a key file (form 5) so that an
//! existing data directory is encrypted at once, and `doctor` says that a sealed form is better.

mod disk;
mod error;
pub mod recovery;
mod seal;

use std::path::{Path, PathBuf};

use simpul_store::crypt::MasterKey;

use crate::config::Config;

use disk::{create_private_dir, read, write_private};
pub use error::KeyError;
pub use seal::Tools;

/// File names in the key folder.
const FILE: &str = "simpul.key";
const CREDENTIAL: &str = "simpul.key.cred";
const TPM2: &str = "simpul.key.tpm2";
const PASSPHRASE: &str = "simpul.key.pass";
pub use seal::CREDENTIAL_NAME;

/// How the key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Protection {
    /// Handed over by systemd from the unit's `LoadCredentialEncrypted=` (read only).
    #[value(skip)]
    Systemd,
    /// Sealed with `systemd-creds`: TPM2 plus host key when there is a TPM, else host key.
    Host,
    /// Sealed in a TPM through `tpm2-tools`.
    Tpm2,
    /// Wrapped under a passphrase typed at start.
    Passphrase,
    /// A key file readable by its owner only.
    File,
}

impl Protection {
    /// In a sentence, for `doctor`.
    pub fn describe(self) -> &'static str {
        match self {
            Protection::Systemd => "handed over by systemd (LoadCredentialEncrypted)",
            Protection::Host => "sealed with systemd-creds (TPM2 when the box has one, else the host key)",
            Protection::Tpm2 => "sealed in the TPM (tpm2-tools)",
            Protection::Passphrase => "wrapped under a passphrase typed at start",
            Protection::File => "a key file readable by the service user only (not sealed)",
        }
    }
}

/// The box's key folder and the tools that seal into it.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
    credentials: Option<PathBuf>,
    tools: Tools,
}

/// Asks for a passphrase (a terminal prompt at start; the tests give one directly).
pub type Prompt<'a> = &'a dyn Fn(&str) -> std::io::Result<String>;

impl KeyStore {
    /// The key folder of `config` (`key.dir`, default `DATA_DIR/keys`) and systemd's credential
    /// folder when the service was started with one.
    pub fn of(config: &Config) -> KeyStore {
        KeyStore {
            dir: config.key_dir(),
            credentials: std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from),
            tools: Tools::of(config),
        }
    }

    /// The key folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The form the key is kept in now, if any (looked for in the order of the module's list).
    pub fn protection(&self) -> Option<Protection> {
        if self.credentials.as_ref().is_some_and(|d| d.join(CREDENTIAL_NAME).exists()) {
            return Some(Protection::Systemd);
        }
        [
            (CREDENTIAL, Protection::Host),
            (TPM2, Protection::Tpm2),
            (PASSPHRASE, Protection::Passphrase),
            (FILE, Protection::File),
        ]
        .into_iter()
        .find(|(name, _)| self.dir.join(name).exists())
        .map(|(_, p)| p)
    }

    /// The key, from the first form found; `None` when there is none. `prompt` is asked for a
    /// passphrase only when the key is wrapped under one.
    pub fn load(&self, prompt: Option<Prompt<'_>>) -> Result<Option<MasterKey>, KeyError> {
        let Some(protection) = self.protection() else { return Ok(None) };
        let key = match protection {
            Protection::Systemd => {
                let path = self.credentials.as_ref().expect("found above").join(CREDENTIAL_NAME);
                let bytes = zeroize::Zeroizing::new(read(&path)?);
                key_from(&bytes, &path)?
            }
            Protection::Host => {
                let path = self.dir.join(CREDENTIAL);
                key_from(&self.tools.unseal_credential(&path)?, &path)?
            }
            Protection::Tpm2 => {
                let path = self.dir.join(TPM2);
                key_from(&self.tools.tpm2_unseal(&path)?, &path)?
            }
            Protection::Passphrase => {
                let path = self.dir.join(PASSPHRASE);
                let prompt = prompt.ok_or_else(|| KeyError::NeedsPassphrase(path.clone()))?;
                let typed = zeroize::Zeroizing::new(
                    prompt("Passphrase of the box key / Frasa sandi kunci: ")
                        .map_err(|e| KeyError::Io { path: path.clone(), source: e })?,
                );
                unwrap_passphrase(&read(&path)?, typed.trim_end_matches(['\r', '\n']), &path)?
            }
            Protection::File => {
                let path = self.dir.join(FILE);
                refuse_open_file(&path)?;
                key_from(&read(&path)?, &path)?
            }
        };
        Ok(Some(key))
    }

    /// Keeps `key` in the form `protection` (a passphrase from `prompt` when it is one) and
    /// removes every other form from the key folder, the new form written before any old one
    /// goes so a failure halfway leaves the key somewhere.
    pub fn store(&self, key: &MasterKey, protection: Protection, prompt: Option<Prompt<'_>>) -> Result<(), KeyError> {
        create_private_dir(&self.dir)?;
        match protection {
            Protection::Systemd => {
                return Err(KeyError::Tool {
                    tool: "systemd".into(),
                    reason: "a credential handed over by systemd is made with `systemd-creds encrypt`, not here".into(),
                });
            }
            Protection::Host => self.tools.seal_credential(key, &self.dir.join(CREDENTIAL))?,
            Protection::Tpm2 => self.tools.tpm2_seal(key, &self.dir.join(TPM2))?,
            Protection::Passphrase => {
                let path = self.dir.join(PASSPHRASE);
                let prompt = prompt.ok_or_else(|| KeyError::NeedsPassphrase(path.clone()))?;
                let first = zeroize::Zeroizing::new(
                    prompt("New passphrase / Frasa sandi baru: ")
                        .map_err(|e| KeyError::Io { path: path.clone(), source: e })?,
                );
                let first = first.trim_end_matches(['\r', '\n']);
                if first.chars().count() < 12 {
                    return Err(KeyError::Tool {
                        tool: "passphrase".into(),
                        reason: "a passphrase needs at least 12 characters".into(),
                    });
                }
                write_private(&path, &wrap_passphrase(key, first)?)?;
            }
            Protection::File => write_private(&self.dir.join(FILE), key.to_hex().as_bytes())?,
        }
        for (name, form) in [
            (CREDENTIAL, Protection::Host),
            (TPM2, Protection::Tpm2),
            (PASSPHRASE, Protection::Passphrase),
            (FILE, Protection::File),
        ] {
            let path = self.dir.join(name);
            if form != protection && path.exists() {
                let gone = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
                gone.map_err(|e| KeyError::Io { path, source: e })?;
            }
        }
        Ok(())
    }

    /// The best protection this machine offers: a TPM through `tpm2-tools` when one is
    /// configured, `systemd-creds` when it works here, else a key file.
    pub fn best_protection(&self) -> Protection {
        if self.tools.tpm2_configured() {
            Protection::Tpm2
        } else if self.tools.credentials_work() {
            Protection::Host
        } else {
            Protection::File
        }
    }
}

/// Salt length and Argon2id cost for passphrase wrapping (about a second on a small box).
const SALT_LEN: usize = 16;

fn passphrase_kek(passphrase: &str, salt: &[u8]) -> Result<zeroize::Zeroizing<[u8; 32]>, KeyError> {
    let params = argon2::Params::new(64 * 1024, 3, 1, Some(32))
        .map_err(|e| KeyError::Tool { tool: "argon2".into(), reason: e.to_string() })?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut kek = zeroize::Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, kek.as_mut())
        .map_err(|e| KeyError::Tool { tool: "argon2".into(), reason: e.to_string() })?;
    Ok(kek)
}

fn wrap_passphrase(key: &MasterKey, passphrase: &str) -> Result<Vec<u8>, KeyError> {
    use rand::RngCore;
    let mut salt = [0u8; SALT_LEN];
    rand::rngs::OsRng.try_fill_bytes(&mut salt).map_err(|_| KeyError::Random)?;
    let kek = passphrase_kek(passphrase, &salt)?;
    let mut out = salt.to_vec();
    out.extend(key.wrap(&kek).map_err(|_| KeyError::Random)?);
    Ok(out)
}

fn unwrap_passphrase(stored: &[u8], passphrase: &str, path: &Path) -> Result<MasterKey, KeyError> {
    if stored.len() <= SALT_LEN {
        return Err(KeyError::Damaged(path.to_path_buf()));
    }
    let (salt, wrapped) = stored.split_at(SALT_LEN);
    let kek = passphrase_kek(passphrase, salt)?;
    MasterKey::unwrap(wrapped, &kek).map_err(|_| KeyError::WrongPassphrase(path.to_path_buf()))
}

/// A key from 64 hex digits or 32 raw bytes.
fn key_from(bytes: &[u8], path: &Path) -> Result<MasterKey, KeyError> {
    let damaged = || KeyError::Damaged(path.to_path_buf());
    if bytes.len() == 32 {
        return MasterKey::from_bytes(bytes).map_err(|_| damaged());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| damaged())?;
    MasterKey::from_hex(text).map_err(|_| damaged())
}

/// Refuses a key file that others than its owner can read or write.
fn refuse_open_file(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| KeyError::Io { path: path.to_path_buf(), source: e })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(KeyError::TooOpen(path.to_path_buf()));
    }
    Ok(())
}

/// The key the server starts with: the stored one, or, when there is none and the data
/// directory holds nothing encrypted yet (a new box, or one upgraded from a version without
/// encryption), a new key kept as a key file (`doctor` then advises sealing it).
pub fn for_start(config: &Config, prompt: Option<Prompt<'_>>) -> Result<MasterKey, KeyError> {
    let store = KeyStore::of(config);
    if let Some(key) = store.load(prompt)? {
        return Ok(key);
    }
    let key = new_key(config)?;
    store.store(&key, Protection::File, None)?;
    tracing::warn!(
        dir = %store.dir.display(),
        "made a new key for this box's data, kept in a key file; seal it with `simpul key init --protect host`"
    );
    Ok(key)
}

/// A new key for a data directory that has none, unless it already holds an encrypted
/// database (whose key must be found, not replaced).
pub fn new_key(config: &Config) -> Result<MasterKey, KeyError> {
    let database = config.database_path();
    if database.exists() && !simpul_store::db::is_clear(&database) {
        return Err(KeyError::Missing { data_dir: config.data_dir.clone(), dir: config.key_dir() });
    }
    MasterKey::generate().map_err(|_| KeyError::Random)
}

/// Reads a passphrase from the terminal without echo (standard input otherwise).
pub fn terminal_prompt(question: &str) -> std::io::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    eprint!("{question}");
    std::io::stderr().flush()?;
    let tty = stdin.is_terminal();
    let stty = |arg: &str| std::process::Command::new("stty").arg(arg).stdin(std::process::Stdio::inherit()).status();
    if tty {
        let _ = stty("-echo");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if tty {
        let _ = stty("echo");
        eprintln!();
    }
    read?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> Config {
        Config { data_dir: dir.join("data"), ..Config::default() }
    }

    #[test]
    fn a_new_box_gets_a_private_key_file_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let key = for_start(&config, None).unwrap();
        let store = KeyStore::of(&config);
        assert_eq!(store.protection(), Some(Protection::File));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.dir().join(FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(for_start(&config, None).unwrap().bytes(), key.bytes());
        std::fs::set_permissions(store.dir().join(FILE), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(for_start(&config, None), Err(KeyError::TooOpen(_))));
    }

    #[test]
    fn an_encrypted_database_without_its_key_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let key = for_start(&config, None).unwrap();
        std::fs::create_dir_all(&config.data_dir).unwrap();
        drop(simpul_store::db::open_sync(&config.database_path(), &key.database_key()).unwrap());
        std::fs::remove_dir_all(config.key_dir()).unwrap();
        let err = for_start(&config, None).unwrap_err();
        assert!(matches!(err, KeyError::Missing { .. }));
        assert!(err.to_string().contains("restore this box from the regency hub"), "{err}");
        assert!(!config.key_dir().exists(), "no new key made");
    }

    #[test]
    fn a_passphrase_wraps_the_key_and_a_wrong_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let key = for_start(&config, None).unwrap();
        let store = KeyStore::of(&config);
        let short: Prompt<'_> = &|_| Ok("short\n".into());
        assert!(store.store(&key, Protection::Passphrase, Some(short)).is_err());
        assert_eq!(store.protection(), Some(Protection::File), "the old form stays when the new one fails");
        let good: Prompt<'_> = &|_| Ok("kantor camat kuta utara\n".into());
        store.store(&key, Protection::Passphrase, Some(good)).unwrap();
        assert_eq!(store.protection(), Some(Protection::Passphrase));
        assert!(!store.dir().join(FILE).exists(), "the key file is gone");
        assert!(matches!(store.load(None), Err(KeyError::NeedsPassphrase(_))));
        let wrong: Prompt<'_> = &|_| Ok("kantor camat kuta selatan\n".into());
        assert!(matches!(store.load(Some(wrong)), Err(KeyError::WrongPassphrase(_))));
        assert_eq!(store.load(Some(good)).unwrap().unwrap().bytes(), key.bytes());
    }
}
