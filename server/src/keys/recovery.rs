//! The regency's recovery key: an age X25519 key pair (the `age` format, which `rage` and
//! `age` read too). Its public half (`age1…`, config `key.recovery`) is on every box and hub;
//! its secret half (`AGE-SECRET-KEY-1…`) stays at the regency, offline. What a box writes for
//! the regency to open later (a backup's key, the hub's CA in escrow) is encrypted to it: a
//! stolen USB stick yields nothing without the secret half, and a backup opens on any box whose
//! installer holds it, not only on the box that made it.

use std::path::Path;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::KeyError;
use super::disk::write_private;

/// The public half, that anything can be encrypted to.
#[derive(Clone)]
pub struct Recipient(age::x25519::Recipient);

/// The secret half, that opens what was encrypted to it.
pub struct Identity(age::x25519::Identity);

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({})", self.0)
    }
}

impl Recipient {
    /// Reads a public key `age1…`.
    pub fn parse(text: &str) -> Result<Recipient, KeyError> {
        text.trim().parse().map(Recipient).map_err(|_| KeyError::NotARecoveryKey)
    }

    /// `bytes` encrypted to this key (an age file).
    pub fn seal(&self, bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
        age::encrypt(&self.0, bytes).map_err(|e| KeyError::Recovery(e.to_string()))
    }
}

impl Identity {
    /// Reads the secret half from an identity file: `#` comments and the line
    /// `AGE-SECRET-KEY-1…` (as `simpul key recovery` and `age-keygen` write it).
    pub fn load(path: &Path) -> Result<Identity, KeyError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.to_path_buf(), source })?,
        );
        text.lines()
            .map(str::trim)
            .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
            .and_then(|line| line.parse().ok())
            .map(Identity)
            .ok_or_else(|| KeyError::NoRecoveryIdentity(path.to_path_buf()))
    }

    /// Opens what was encrypted to this key's public half.
    pub fn open(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match age::decrypt(&self.0, sealed) {
            Ok(bytes) => Ok(Zeroizing::new(bytes)),
            Err(age::DecryptError::NoMatchingKeys) => Err(KeyError::NotForThisRecoveryKey),
            Err(e) => Err(KeyError::Recovery(e.to_string())),
        }
    }

    /// The public half.
    pub fn recipient(&self) -> Recipient {
        Recipient(self.0.to_public())
    }
}

/// Makes a new recovery key pair, writes its secret half to the new file `out` (readable by
/// its owner only; never overwritten) and returns the public half.
pub fn generate(out: &Path, made_at: &str) -> Result<Recipient, KeyError> {
    if out.exists() {
        return Err(KeyError::RecoveryExists(out.to_path_buf()));
    }
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public();
    let text = Zeroizing::new(format!(
        "# Simpul regency recovery key, made {made_at}.\n\
         # Keep this file offline (a safe, two USB sticks). It opens every backup of the regency's\n\
         # boxes and hub, and the hub's CA in escrow. Its public key goes into key.recovery:\n\
         # public key: {public}\n{}\n",
        identity.to_string().expose_secret()
    ));
    write_private(out, text.as_bytes())?;
    Ok(Recipient(public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_to_a_recovery_key_opens_with_its_identity_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recovery.txt");
        let recipient = generate(&path, "today").unwrap();
        assert!(matches!(generate(&path, "today"), Err(KeyError::RecoveryExists(_))), "never overwritten");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o077, 0);
        let identity = Identity::load(&path).unwrap();
        assert_eq!(identity.recipient().to_string(), recipient.to_string());
        assert_eq!(Recipient::parse(&recipient.to_string()).unwrap().to_string(), recipient.to_string());

        let sealed = recipient.seal(b"backup key").unwrap();
        assert_eq!(identity.open(&sealed).unwrap().as_slice(), b"backup key");
        let other = dir.path().join("other.txt");
        generate(&other, "today").unwrap();
        assert!(matches!(Identity::load(&other).unwrap().open(&sealed), Err(KeyError::NotForThisRecoveryKey)));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(identity.open(&flipped).is_err());
    }

    #[test]
    fn a_wrong_key_or_file_says_so() {
        assert!(matches!(Recipient::parse("age1notakey"), Err(KeyError::NotARecoveryKey)));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.txt");
        std::fs::write(&path, "# nothing here\n").unwrap();
        assert!(matches!(Identity::load(&path), Err(KeyError::NoRecoveryIdentity(_))));
    }
}
