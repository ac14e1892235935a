//! The hub's CA in escrow. The CA key is what every box of the regency trusts: routine backups
//! never carry it (a stolen backup must not let anyone issue box certificates), so it is
//! escrowed once, encrypted to the regency's recovery key, and kept apart (a safe, not the
//! backup disk).
//!
//! What a hub restore does to the boxes' trust: a hub restored onto a disk that still holds
//! `tls/` keeps its CA, and boxes go on as before. A hub on a new disk puts the escrowed CA
//! back (`simpul key restore-ca`) before its first start: boxes pin the CA, not the hub's
//! server certificate, so they trust the hub again at once (its server certificate is made
//! anew from the CA). A hub that starts without its CA makes a new one, and every box must
//! enroll again: each says its hub is not the one it enrolled with.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::keys::KeyError;
use crate::keys::recovery::{Identity, Recipient};

/// The CA's certificate and key in a data directory's `tls/`.
const CA_CERT: &str = "hub-ca.pem";
const CA_KEY: &str = "hub-ca.key";
/// What the escrowed text starts with, so that another age file is not taken for it.
const HEADER: &str = "simpul hub ca escrow v1\n";

/// Why the CA could not be escrowed or put back.
#[derive(Debug, thiserror::Error)]
pub enum EscrowError {
    /// The data directory holds no CA (not a hub, or not started yet).
    #[error("{0} holds no hub CA: escrow it on the hub, after its first start")]
    NoCa(PathBuf),
    /// The escrow file exists.
    #[error("{0} already exists: an escrow is never overwritten")]
    Exists(PathBuf),
    /// The hub already has another CA.
    #[error(
        "this hub already has another CA ({0}): boxes enrolled with it would stop trusting the hub. Move tls/ aside \
         first if the escrowed CA is the one the boxes trust"
    )]
    OtherCa(PathBuf),
    /// The file is no escrowed CA.
    #[error("the file is not an escrowed hub CA")]
    NotAnEscrow,
    /// The recovery key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EscrowError + '_ {
    move |source| EscrowError::Io { path: path.to_path_buf(), source }
}

/// Writes the hub's CA (certificate and key) from `data_dir`, encrypted to `recovery`, into
/// the new file `to`.
pub fn escrow(data_dir: &Path, to: &Path, recovery: &Recipient) -> Result<(), EscrowError> {
    let tls = data_dir.join("tls");
    let (cert, key) = (tls.join(CA_CERT), tls.join(CA_KEY));
    if !cert.is_file() || !key.is_file() {
        return Err(EscrowError::NoCa(data_dir.to_path_buf()));
    }
    if to.exists() {
        return Err(EscrowError::Exists(to.to_path_buf()));
    }
    let cert_pem = std::fs::read_to_string(&cert).map_err(io(&cert))?;
    let key_pem = Zeroizing::new(std::fs::read_to_string(&key).map_err(io(&key))?);
    let text = Zeroizing::new(format!("{HEADER}{}\n{}", cert_pem.trim_end(), key_pem.trim_end()));
    let sealed = recovery.seal(text.as_bytes())?;
    write_new(to, &sealed, 0o600)
}

/// Puts the CA escrowed in `from` back into `data_dir`, opened with the recovery identity.
/// Returns whether it wrote anything (false: the same CA is already in place).
pub fn restore(data_dir: &Path, from: &Path, recovery: &Identity) -> Result<bool, EscrowError> {
    let sealed = std::fs::read(from).map_err(io(from))?;
    let text = recovery.open(&sealed)?;
    let text = std::str::from_utf8(&text).map_err(|_| EscrowError::NotAnEscrow)?;
    let body = text.strip_prefix(HEADER).ok_or(EscrowError::NotAnEscrow)?;
    let split = body.find("-----END CERTIFICATE-----").ok_or(EscrowError::NotAnEscrow)?;
    let (cert_pem, key_pem) = body.split_at(split + "-----END CERTIFICATE-----".len());
    let key_pem = key_pem.trim_start();
    if !key_pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        return Err(EscrowError::NotAnEscrow);
    }
    let tls = data_dir.join("tls");
    let cert = tls.join(CA_CERT);
    if cert.exists() {
        let current = std::fs::read_to_string(&cert).map_err(io(&cert))?;
        if current.trim_end() == cert_pem.trim_end() {
            return Ok(false);
        }
        return Err(EscrowError::OtherCa(cert));
    }
    std::fs::create_dir_all(&tls).map_err(io(&tls))?;
    write_new(&tls.join(CA_KEY), format!("{}\n", key_pem.trim_end()).as_bytes(), 0o600)?;
    write_new(&cert, format!("{}\n", cert_pem.trim_end()).as_bytes(), 0o600)?;
    // A server certificate left from another CA would not chain to this one: made anew at start.
    for stale in ["hub-server.pem", "hub-server.key", "hub-server.names"] {
        let _ = std::fs::remove_file(tls.join(stale));
    }
    Ok(true)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), EscrowError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io(path))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escrowed_ca_comes_back_only_with_the_recovery_identity_and_never_over_another() {
        let dir = tempfile::tempdir().unwrap();
        let hub = dir.path().join("hub");
        let pki = simpul_installer::pki::HubPki::ensure(&hub, &["localhost".into()], time::OffsetDateTime::now_utc())
            .unwrap();
        let id_path = dir.path().join("recovery.txt");
        let recipient = crate::keys::recovery::generate(&id_path, "test").unwrap();
        let identity = Identity::load(&id_path).unwrap();
        let file = dir.path().join("ca.age");
        escrow(&hub, &file, &recipient).unwrap();
        assert!(matches!(escrow(&hub, &file, &recipient), Err(EscrowError::Exists(_))));
        let sealed = std::fs::read(&file).unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"PRIVATE KEY"), "the CA key is not in clear");
        assert!(!restore(&hub, &file, &identity).unwrap(), "the same CA in place: nothing to do");

        // The hub's disk is lost: the CA comes back, byte for byte.
        let new_disk = dir.path().join("new");
        assert!(restore(&new_disk, &file, &identity).unwrap());
        assert_eq!(std::fs::read_to_string(new_disk.join("tls/hub-ca.pem")).unwrap().trim_end(), pki.ca_pem.trim_end());
        assert_eq!(
            std::fs::read_to_string(new_disk.join("tls/hub-ca.key")).unwrap(),
            std::fs::read_to_string(hub.join("tls/hub-ca.key")).unwrap()
        );
        // And the hub starts on it with the same CA.
        let again =
            simpul_installer::pki::HubPki::ensure(&new_disk, &["localhost".into()], time::OffsetDateTime::now_utc())
                .unwrap();
        assert_eq!(again.ca_pem, pki.ca_pem);

        // Another hub's CA is never replaced; a stranger's identity opens nothing.
        let other = dir.path().join("other");
        simpul_installer::pki::HubPki::ensure(&other, &["localhost".into()], time::OffsetDateTime::now_utc()).unwrap();
        assert!(matches!(restore(&other, &file, &identity), Err(EscrowError::OtherCa(_))));
        let stranger = dir.path().join("stranger.txt");
        crate::keys::recovery::generate(&stranger, "test").unwrap();
        let stranger = Identity::load(&stranger).unwrap();
        assert!(matches!(
            restore(&dir.path().join("x"), &file, &stranger),
            Err(EscrowError::Key(KeyError::NotForThisRecoveryKey))
        ));
    }
}
