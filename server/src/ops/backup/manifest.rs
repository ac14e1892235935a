//! A backup's manifest: what the backup holds, each file's SHA-256 as stored, a tag over all
//! of it under the backup's own key (which only the regency's recovery key unwraps), and the
//! signature of the box (or hub) that made it. A flipped byte anywhere (in the manifest, the
//! database or a file) or a file taken out or swapped in is found before anything is restored;
//! the signature says which box made it, checked against the regency CA the restoring side
//! trusts.

use std::path::Path;

use simpul_installer::signing::Signed;
use simpul_store::blobs;
use simpul_store::crypt::MasterKey;

use super::error::BackupError;

/// The manifest's name inside a backup folder.
pub const NAME: &str = "SIMPUL-BACKUP.txt";
/// The database file's name inside a backup folder.
pub const DATABASE: &str = "simpul.sqlite3";
/// This version's backup format; a backup of another is refused with a clear message.
const FORMAT: u32 = 2;
/// What the tag is for, so that it can never be taken for another use of the key.
const PURPOSE: &[u8] = b"simpul backup manifest v2";

/// One file in a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the backup folder: the database or `blobs/AB/DIGEST`.
    pub path: String,
    /// SHA-256 of the file's bytes as stored (sealed), hex.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What a backup says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// The database's schema version.
    pub schema: u32,
    /// "office" or "hub".
    pub role: String,
    /// Every file, the database first.
    pub files: Vec<Entry>,
}

impl Manifest {
    /// The manifest as text, its last line the tag under `key`.
    pub fn render(&self, key: &MasterKey) -> String {
        let mut text = format!(
            "simpul backup\nformat={FORMAT}\ncreated_at={}\nschema={}\nrole={}\n",
            self.created_at, self.schema, self.role
        );
        for f in &self.files {
            text.push_str(&format!("file {} {} {}\n", f.sha256, f.bytes, f.path));
        }
        let tag = key.authenticate(PURPOSE, text.as_bytes());
        text.push_str(&format!("tag={tag}\n"));
        text
    }

    /// Reads a manifest, checking its tag under `key` before anything else in it is believed.
    pub fn parse(text: &str, key: &MasterKey) -> Result<Manifest, BackupError> {
        let tampered = |why: &str| BackupError::Tampered(format!("the manifest {why}"));
        // Backups of the first format (made before #7) named no format and carried no tag.
        if text.starts_with("simpul backup\n") && !text.contains("\nformat=") {
            return Err(BackupError::Format("1".into()));
        }
        let body_end = text.rfind("\ntag=").map(|at| at + 1).ok_or_else(|| tampered("has no tag"))?;
        let (body, tag_line) = text.split_at(body_end);
        let tag = tag_line.trim_start_matches("tag=").trim_end_matches('\n');
        if !key.verify(PURPOSE, body.as_bytes(), tag) {
            return Err(tampered("does not match its tag: it was changed, or made under another key"));
        }
        let mut lines = body.lines();
        if lines.next() != Some("simpul backup") {
            return Err(tampered("does not start as a Simpul backup's"));
        }
        let mut manifest = Manifest { created_at: String::new(), schema: 0, role: String::new(), files: Vec::new() };
        for line in lines {
            if let Some(rest) = line.strip_prefix("file ") {
                manifest.files.push(entry(rest).ok_or_else(|| tampered("lists a file it may not hold"))?);
            } else if let Some((name, value)) = line.split_once('=') {
                match name {
                    "format" if value != FORMAT.to_string() => {
                        return Err(BackupError::Format(value.to_string()));
                    }
                    "created_at" => manifest.created_at = value.to_string(),
                    "schema" => manifest.schema = value.parse().map_err(|_| tampered("has a bad schema"))?,
                    "role" => manifest.role = value.to_string(),
                    _ => {}
                }
            }
        }
        if manifest.files.first().is_none_or(|f| f.path != DATABASE) {
            return Err(tampered("lists no database"));
        }
        Ok(manifest)
    }
}

/// A `file` line's entry, when its path is one a backup may hold (no way out of the folder).
fn entry(rest: &str) -> Option<Entry> {
    let mut parts = rest.splitn(3, ' ');
    let (sha256, bytes, path) = (parts.next()?, parts.next()?, parts.next()?);
    if !blobs::valid_digest(sha256) || !allowed(path) {
        return None;
    }
    Some(Entry { path: path.to_string(), sha256: sha256.to_string(), bytes: bytes.parse().ok()? })
}

/// The database, or `blobs/AB/DIGEST` where AB starts DIGEST.
fn allowed(path: &str) -> bool {
    if path == DATABASE {
        return true;
    }
    let mut parts = path.split('/');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("blobs"), Some(shard), Some(digest), None) if blobs::valid_digest(digest) && digest.starts_with(shard) && shard.len() == 2
    )
}

/// The manifest with the signature of the data directory's TLS identity over it appended (two
/// lines), or as it is when the directory has none (a box not enrolled yet).
pub fn sign(tagged: String, data_dir: &Path) -> Result<String, BackupError> {
    let signed = simpul_installer::signing::sign(data_dir, tagged.as_bytes())
        .map_err(|e| BackupError::Signing(e.to_string()))?;
    Ok(match signed {
        Some(s) => format!("{tagged}signer={}\nsignature={}\n", hex(&s.cert_der), hex(&s.signature)),
        None => tagged,
    })
}

/// Splits a manifest into its tagged part and its signature, if it is signed.
pub fn signature(text: &str) -> Result<(&str, Option<Signed>), BackupError> {
    let Some(at) = text.find("\nsigner=") else { return Ok((text, None)) };
    let (tagged, lines) = text.split_at(at + 1);
    let bad = || BackupError::Tampered("the manifest's signature is damaged".into());
    let mut lines = lines.lines();
    let cert_der = lines.next().and_then(|l| l.strip_prefix("signer=")).and_then(unhex).ok_or_else(bad)?;
    let signature = lines.next().and_then(|l| l.strip_prefix("signature=")).and_then(unhex).ok_or_else(bad)?;
    if lines.next().is_some() {
        return Err(bad());
    }
    Ok((tagged, Some(Signed { cert_der, signature })))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

/// The SHA-256 (hex) and size of a file, read in pieces (a database may be large).
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let (mut hasher, mut buf, mut total) = (Sha256::new(), vec![0u8; 1 << 16], 0u64);
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    let sum = hasher.finalize();
    Ok((sum.iter().map(|b| format!("{b:02x}")).collect(), total))
}

/// Checks that the file `path` of a backup is the one its manifest lists.
pub fn check_file(folder: &Path, entry: &Entry) -> Result<(), BackupError> {
    let path = folder.join(&entry.path);
    let (sha256, bytes) = hash_file(&path).map_err(|e| BackupError::Tampered(format!("{}: {e}", entry.path)))?;
    if sha256 != entry.sha256 || bytes != entry.bytes {
        return Err(BackupError::Tampered(format!("{} is not the file the manifest lists", entry.path)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            created_at: "2026-12-05T08:00:00Z".into(),
            schema: 25,
            role: "office".into(),
            files: vec![
                Entry { path: DATABASE.into(), sha256: "a".repeat(64), bytes: 4096 },
                Entry { path: format!("blobs/bb/{}", "b".repeat(64)), sha256: "c".repeat(64), bytes: 10 },
            ],
        }
    }

    #[test]
    fn a_manifest_reads_back_under_its_key_only_and_any_change_is_found() {
        let key = MasterKey::generate().unwrap();
        let text = sample().render(&key);
        assert_eq!(Manifest::parse(&text, &key).unwrap(), sample());
        let other = MasterKey::generate().unwrap();
        assert!(matches!(Manifest::parse(&text, &other), Err(BackupError::Tampered(_))));
        for (i, _) in text.char_indices().filter(|(_, c)| c.is_ascii_alphanumeric()) {
            let mut changed = text.clone().into_bytes();
            changed[i] = if changed[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(changed).unwrap();
            assert!(Manifest::parse(&changed, &key).is_err(), "a change at byte {i} was not found");
        }
    }

    #[test]
    fn a_path_out_of_the_backup_is_refused_even_under_a_good_tag() {
        let key = MasterKey::generate().unwrap();
        for path in ["../../etc/passwd", "blobs/aa/../../x", &format!("blobs/cc/{}", "b".repeat(64)), "tls/box.key"] {
            let mut m = sample();
            m.files[1].path = path.to_string();
            assert!(matches!(Manifest::parse(&m.render(&key), &key), Err(BackupError::Tampered(_))), "{path}");
        }
    }

    #[test]
    fn another_format_is_named() {
        let key = MasterKey::generate().unwrap();
        let text = sample().render(&key).replace("format=2", "format=1");
        // Re-tagged, as a backup of another version would be.
        let body = &text[..text.rfind("tag=").unwrap()];
        let text = format!("{body}tag={}\n", key.authenticate(PURPOSE, body.as_bytes()));
        assert!(matches!(Manifest::parse(&text, &key), Err(BackupError::Format(v)) if v == "1"));
    }
}
