//! Content-addressed files (scans, photos, signatures): the bytes live under
//! `DATA_DIR/blobs/ab/abcdef…` named by their SHA-256, the `blobs` table says what they are.
//!
//! A file is written and synced to disk (file, then directory) before its row is inserted, so a
//! row never points at missing bytes; bytes without a row (a crash in between) are harmless and
//! are taken up again by the next upload of the same file. Names from users are never used to
//! find or store anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use simpul_domain::attachment::ContentType;
use time::OffsetDateTime;

use crate::db::StoreError;
use crate::store::stamp;

/// A stored blob's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Type, from the bytes.
    pub content_type: ContentType,
}

/// The hex SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// True for 64 lower-case hex digits (anything else is never turned into a path).
pub fn valid_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Where a blob's bytes live.
pub fn path(data_dir: &Path, sha256: &str) -> Option<PathBuf> {
    valid_digest(sha256).then(|| data_dir.join("blobs").join(&sha256[..2]).join(sha256))
}

/// Writes the bytes to disk durably (no database access). Returns the digest. Call before
/// [`record`], outside any transaction: it does file I/O.
pub fn write(data_dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    let sha = digest(bytes);
    let target = path(data_dir, &sha).expect("a digest is valid");
    if let Ok(meta) = std::fs::metadata(&target)
        && meta.len() == bytes.len() as u64
    {
        return Ok(sha);
    }
    let dir = target.parent().expect("blob paths have a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{sha}.{}.tmp", std::process::id()));
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, &target)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(sha)
}

/// Records a written blob (inside the caller's transaction).
pub fn record(
    conn: &Connection,
    sha256: &str,
    size: usize,
    content_type: ContentType,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO blobs (sha256, size, content_type, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sha256) DO NOTHING",
        params![sha256, size as i64, content_type.mime(), stamp(at)],
    )?;
    Ok(())
}

/// A blob's row.
pub fn get(conn: &Connection, sha256: &str) -> Result<Option<Blob>, StoreError> {
    let row = conn
        .query_row("SELECT size, content_type FROM blobs WHERE sha256 = ?1", [sha256], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    let Some((size, mime)) = row else { return Ok(None) };
    let content_type = [ContentType::Pdf, ContentType::Jpeg, ContentType::Png]
        .into_iter()
        .find(|c| c.mime() == mime)
        .ok_or_else(|| StoreError::Corrupt(format!("blob type {mime}")))?;
    Ok(Some(Blob { sha256: sha256.to_string(), size: size as u64, content_type }))
}

/// Reads a blob's bytes and checks them against their name.
pub fn read(data_dir: &Path, sha256: &str) -> std::io::Result<Vec<u8>> {
    let path = path(data_dir, sha256).ok_or_else(|| std::io::Error::other("not a digest"))?;
    let bytes = std::fs::read(path)?;
    if digest(&bytes) != sha256 {
        return Err(std::io::Error::other("blob content does not match its digest"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_same_place_and_paths_only_from_digests() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), b"%PDF-1.4 hello").unwrap();
        let b = write(dir.path(), b"%PDF-1.4 hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(read(dir.path(), &a).unwrap(), b"%PDF-1.4 hello");
        assert!(path(dir.path(), "../../etc/passwd").is_none());
        assert!(path(dir.path(), &"A".repeat(64)).is_none());
        std::fs::write(path(dir.path(), &a).unwrap(), b"tampered").unwrap();
        assert!(read(dir.path(), &a).is_err());
    }
}
