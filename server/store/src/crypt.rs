//! The box's data key and what it protects at rest: the SQLite file (SQLCipher, keyed with a
//! raw 256-bit key so no passphrase stretching runs at each open) and every file in the blob
//! folder (ChaCha20-Poly1305 from `ring`, a fresh random nonce per file or chunk).
//!
//! One 256-bit master key per box; the database key and the file key are derived from it with
//! HKDF-SHA256, so that neither can be computed from the other. Where the master key is kept
//! (sealed by systemd-creds or a TPM, a key file, a passphrase) is the server's business; this
//! module never touches the disk.
//!
//! A sealed file is bound to its name (the plaintext's SHA-256) through the AEAD's associated
//! data: a file moved to another digest's place does not open.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;

/// What a sealed file begins with (and a plaintext file of ours never does).
pub const FILE_MAGIC: &[u8; 8] = b"SMPLBLB1";

/// Bytes a sealed file adds to its plaintext: magic, nonce, tag.
pub const FILE_OVERHEAD: u64 = (FILE_MAGIC.len() + NONCE_LEN + TAG_LEN) as u64;

/// Bytes a sealed chunk of a partial file adds: length, nonce, tag.
pub const CHUNK_OVERHEAD: u64 = (4 + NONCE_LEN + TAG_LEN) as u64;

const TAG_LEN: usize = 16;

/// Why sealed bytes did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    /// Not one of our sealed files (too short, wrong magic).
    #[error("not a sealed file")]
    NotSealed,
    /// Wrong key, damaged bytes, or a file under another file's name.
    #[error("the file does not open with this box's key (damaged, or sealed by another box)")]
    Rejected,
    /// The system's random source failed.
    #[error("no randomness available")]
    NoRandomness,
    /// A key of the wrong length or form.
    #[error("a key must be {KEY_LEN} bytes ({} hex digits)", KEY_LEN * 2)]
    BadKey,
}

/// The box's master key. Never printed: `Debug` shows nothing of it.
pub struct MasterKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Result<MasterKey, CryptError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new().fill(key.as_mut()).map_err(|_| CryptError::NoRandomness)?;
        Ok(MasterKey(key))
    }

    /// The key from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, CryptError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptError::BadKey)?;
        Ok(MasterKey(Zeroizing::new(array)))
    }

    /// The key from 64 hex digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<MasterKey, CryptError> {
        let text = text.trim();
        if text.len() != KEY_LEN * 2 {
            return Err(CryptError::BadKey);
        }
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        for (i, pair) in text.as_bytes().chunks(2).enumerate() {
            let digits = std::str::from_utf8(pair).map_err(|_| CryptError::BadKey)?;
            key[i] = u8::from_str_radix(digits, 16).map_err(|_| CryptError::BadKey)?;
        }
        Ok(MasterKey(key))
    }

    /// The key as 64 lower-case hex digits, for a key file or a sealing tool's input.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex(self.0.as_ref()))
    }

    /// The key's raw bytes, for a sealing tool's input.
    pub fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A short fingerprint that names the key without revealing it (shown by `doctor`).
    pub fn fingerprint(&self) -> String {
        let mut out = [0u8; 8];
        self.derive(b"fingerprint", &mut out);
        hex(&out)
    }

    /// The database's key.
    pub fn database_key(&self) -> DbKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        self.derive(b"sqlcipher database", key.as_mut());
        DbKey(key)
    }

    /// The file key.
    pub fn file_key(&self) -> FileKey {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        self.derive(b"blob files", key.as_mut());
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, key.as_ref()).expect("a 256-bit key fits ChaCha20-Poly1305");
        FileKey(std::sync::Arc::new(LessSafeKey::new(unbound)))
    }

    /// The key sealed under a key-encryption key (one derived from a passphrase): nonce,
    /// ciphertext and tag.
    pub fn wrap(&self, kek: &[u8; KEY_LEN]) -> Result<Vec<u8>, CryptError> {
        let mut out = Vec::with_capacity(NONCE_LEN + KEY_LEN + TAG_LEN);
        wrapping_key(kek).seal_into(b"simpul wrapped key", self.0.as_ref(), &mut out)?;
        Ok(out)
    }

    /// The key unsealed from [`MasterKey::wrap`]'s output; [`CryptError::Rejected`] when the
    /// key-encryption key is not the one it was wrapped with.
    pub fn unwrap(wrapped: &[u8], kek: &[u8; KEY_LEN]) -> Result<MasterKey, CryptError> {
        let bytes = Zeroizing::new(wrapping_key(kek).open_from(b"simpul wrapped key", wrapped)?);
        MasterKey::from_bytes(&bytes)
    }

    /// A tag (HMAC-SHA256, hex) that authenticates `bytes` under this key for `purpose`, e.g. a
    /// backup's manifest.
    pub fn authenticate(&self, purpose: &[u8], bytes: &[u8]) -> String {
        hex(ring::hmac::sign(&self.mac_key(purpose), bytes).as_ref())
    }

    /// Whether `tag` is [`MasterKey::authenticate`]'s for these bytes (compared in constant time).
    pub fn verify(&self, purpose: &[u8], bytes: &[u8], tag: &str) -> bool {
        let Ok(tag) = MasterKey::from_hex_any(tag) else { return false };
        ring::hmac::verify(&self.mac_key(purpose), bytes, &tag).is_ok()
    }

    fn mac_key(&self, purpose: &[u8]) -> ring::hmac::Key {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        self.derive(&[b"authentication: ", purpose].concat(), key.as_mut());
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_ref())
    }

    /// Bytes from hex digits of any even length.
    fn from_hex_any(text: &str) -> Result<Vec<u8>, CryptError> {
        if !text.len().is_multiple_of(2) || !text.is_ascii() {
            return Err(CryptError::BadKey);
        }
        text.as_bytes()
            .chunks(2)
            .map(|pair| {
                std::str::from_utf8(pair).ok().and_then(|d| u8::from_str_radix(d, 16).ok()).ok_or(CryptError::BadKey)
            })
            .collect()
    }

    fn derive(&self, purpose: &[u8], out: &mut [u8]) {
        struct Len(usize);
        impl hkdf::KeyType for Len {
            fn len(&self) -> usize {
                self.0
            }
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"simpul master key v1").extract(self.0.as_ref());
        let info = [purpose];
        let okm = prk.expand(&info, Len(out.len())).expect("an output of at most 32 bytes");
        okm.fill(out).expect("the length asked for");
    }
}

/// The SQLCipher key, derived from the master key.
pub struct DbKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbKey(…)")
    }
}

impl DbKey {
    /// The value for `PRAGMA key` and `ATTACH … KEY`: a raw key, so SQLCipher runs no key
    /// derivation at each open.
    pub fn sql_literal(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("\"x'{}'\"", hex(self.0.as_ref())))
    }
}

/// The key that seals blob files. Cheap to clone.
#[derive(Clone)]
pub struct FileKey(std::sync::Arc<LessSafeKey>);

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(…)")
    }
}

impl FileKey {
    /// Seals a whole file named `sha256`.
    pub fn seal_file(&self, sha256: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptError> {
        let mut out = Vec::with_capacity(plaintext.len() + FILE_OVERHEAD as usize);
        out.extend_from_slice(FILE_MAGIC);
        self.seal_into(&file_aad(sha256), plaintext, &mut out)?;
        Ok(out)
    }

    /// Opens a sealed file named `sha256`.
    pub fn open_file(&self, sha256: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptError> {
        let body = sealed.strip_prefix(FILE_MAGIC.as_slice()).ok_or(CryptError::NotSealed)?;
        self.open_from(&file_aad(sha256), body)
    }

    /// Seals one chunk of a partial file named `sha256`, starting at plaintext `offset`:
    /// length (4 bytes, little-endian), nonce, ciphertext and tag.
    pub fn seal_chunk(&self, sha256: &str, offset: u64, plaintext: &[u8]) -> Result<Vec<u8>, CryptError> {
        let len = u32::try_from(plaintext.len()).map_err(|_| CryptError::NotSealed)?;
        let mut out = Vec::with_capacity(plaintext.len() + CHUNK_OVERHEAD as usize);
        out.extend_from_slice(&len.to_le_bytes());
        self.seal_into(&chunk_aad(sha256, offset), plaintext, &mut out)?;
        Ok(out)
    }

    /// Opens a chunk sealed by [`FileKey::seal_chunk`] (its length prefix included).
    pub fn open_chunk(&self, sha256: &str, offset: u64, sealed: &[u8]) -> Result<Vec<u8>, CryptError> {
        let body = sealed.get(4..).ok_or(CryptError::NotSealed)?;
        self.open_from(&chunk_aad(sha256, offset), body)
    }

    fn seal_into(&self, aad: &[u8], plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), CryptError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| CryptError::NoRandomness)?;
        out.extend_from_slice(&nonce);
        let start = out.len();
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(start);
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut body)
            .map_err(|_| CryptError::Rejected)?;
        out.append(&mut body);
        Ok(())
    }

    fn open_from(&self, aad: &[u8], body: &[u8]) -> Result<Vec<u8>, CryptError> {
        if body.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptError::NotSealed);
        }
        let (nonce, rest) = body.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptError::NotSealed)?;
        let mut buf = rest.to_vec();
        let plain = self.0.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| CryptError::Rejected)?;
        let len = plain.len();
        buf.truncate(len);
        Ok(buf)
    }
}

fn wrapping_key(kek: &[u8; KEY_LEN]) -> FileKey {
    let unbound = UnboundKey::new(&CHACHA20_POLY1305, kek).expect("a 256-bit key fits ChaCha20-Poly1305");
    FileKey(std::sync::Arc::new(LessSafeKey::new(unbound)))
}

fn file_aad(sha256: &str) -> Vec<u8> {
    let mut aad = b"simpul file\0".to_vec();
    aad.extend_from_slice(sha256.as_bytes());
    aad
}

fn chunk_aad(sha256: &str, offset: u64) -> Vec<u8> {
    let mut aad = b"simpul chunk\0".to_vec();
    aad.extend_from_slice(sha256.as_bytes());
    aad.extend_from_slice(&offset.to_le_bytes());
    aad
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_opens_under_its_own_name_with_its_own_key_only() {
        let key = MasterKey::generate().unwrap();
        let files = key.file_key();
        let sealed = files.seal_file("aa", b"KTP scan").unwrap();
        assert_eq!(sealed.len() as u64, 8 + FILE_OVERHEAD);
        assert!(!sealed.windows(8).any(|w| w == b"KTP scan"));
        assert_eq!(files.open_file("aa", &sealed).unwrap(), b"KTP scan");
        assert_eq!(files.open_file("bb", &sealed), Err(CryptError::Rejected));
        let other = MasterKey::generate().unwrap().file_key();
        assert_eq!(other.open_file("aa", &sealed), Err(CryptError::Rejected));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(files.open_file("aa", &flipped), Err(CryptError::Rejected));
        assert_eq!(files.open_file("aa", b"KTP scan"), Err(CryptError::NotSealed));
        // Two seals of the same bytes differ (fresh nonces).
        assert_ne!(files.seal_file("aa", b"KTP scan").unwrap(), sealed);
    }

    #[test]
    fn a_wrapped_key_opens_with_its_wrapping_key_only() {
        let key = MasterKey::generate().unwrap();
        let wrapped = key.wrap(&[1; 32]).unwrap();
        assert_eq!(MasterKey::unwrap(&wrapped, &[1; 32]).unwrap().bytes(), key.bytes());
        assert_eq!(MasterKey::unwrap(&wrapped, &[2; 32]).unwrap_err(), CryptError::Rejected);
    }

    #[test]
    fn a_chunk_is_bound_to_its_offset() {
        let files = MasterKey::generate().unwrap().file_key();
        let sealed = files.seal_chunk("aa", 10, b"part").unwrap();
        assert_eq!(sealed.len() as u64, 4 + CHUNK_OVERHEAD);
        assert_eq!(&sealed[..4], &4u32.to_le_bytes());
        assert_eq!(files.open_chunk("aa", 10, &sealed).unwrap(), b"part");
        assert_eq!(files.open_chunk("aa", 0, &sealed), Err(CryptError::Rejected));
    }

    #[test]
    fn keys_round_trip_through_hex_and_derive_apart() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_hex(&format!(" {}\n", key.to_hex().as_str())).unwrap();
        assert_eq!(key.bytes(), again.bytes());
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert_eq!(key.fingerprint().len(), 16);
        assert!(MasterKey::from_hex("zz").is_err());
        assert!(MasterKey::from_hex(&"g".repeat(64)).is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(…)");
        let literal = key.database_key().sql_literal();
        assert!(literal.starts_with("\"x'") && literal.len() == 64 + 5);
        assert!(!literal.contains(key.to_hex().as_str()), "the database key is derived, not the master key");
    }
}
