//! Content-addressed files (scans, photos, signatures, biometric records): the bytes live
//! sealed with the box's file key (see [`crate::crypt`]) under `DATA_DIR/blobs/ab/abcdef…`,
//! named by the SHA-256 of their plaintext so that the same file is stored once and syncs by
//! the same name everywhere; the `blobs` table says what they are.
//!
//! A file is written and synced to disk (file, then directory) before its row is inserted, so a
//! row never points at missing bytes; bytes without a row (a crash in between) are harmless and
//! are taken up again by the next upload of the same file. Names from users are never used to
//! find or store anything.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use simpul_domain::attachment::ContentType;
use time::OffsetDateTime;

use crate::crypt::{self, FileKey};
use crate::db::StoreError;
use crate::stamp;

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

/// The blob folder of a data directory and the key its files are sealed with. Every file is
/// sealed before it touches the disk: nothing readable is written, not even a temporary file.
#[derive(Debug, Clone)]
pub struct Files {
    root: PathBuf,
    key: FileKey,
}

impl Files {
    /// The blob folder `DATA_DIR/blobs`, sealed with `key`.
    pub fn new(data_dir: &Path, key: FileKey) -> Files {
        Files { root: data_dir.join("blobs"), key }
    }

    /// Where a blob's sealed bytes live.
    pub fn path(&self, sha256: &str) -> Option<PathBuf> {
        valid_digest(sha256).then(|| self.root.join(&sha256[..2]).join(sha256))
    }

    /// A partial file of `scope` (the office sending it to a hub; [`FROM_HUB`] on a box), so
    /// that one office can neither learn of nor add to another's upload.
    fn partial_path(&self, scope: &str, sha256: &str) -> Option<PathBuf> {
        (valid_digest(sha256) && valid_scope(scope))
            .then(|| self.root.join("partial").join(scope).join(format!("{sha256}.part")))
    }

    /// Seals and writes the bytes durably (no database access). Returns the digest. Call before
    /// [`record`], outside any transaction: it does file I/O.
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<String> {
        let sha = digest(bytes);
        let target = self.path(&sha).expect("a digest is valid");
        if let Ok(meta) = std::fs::metadata(&target)
            && meta.len() == bytes.len() as u64 + crypt::FILE_OVERHEAD
            && self.read(&sha).is_ok()
        {
            return Ok(sha);
        }
        let sealed = self.key.seal_file(&sha, bytes).map_err(std::io::Error::other)?;
        replace_durably(&target, &sha, &sealed)?;
        Ok(sha)
    }

    /// Reads a blob's bytes, opened with the box's key and checked against their name.
    pub fn read(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path(sha256).ok_or_else(|| std::io::Error::other("not a digest"))?;
        let sealed = std::fs::read(path)?;
        let bytes = self.key.open_file(sha256, &sealed).map_err(std::io::Error::other)?;
        if digest(&bytes) != sha256 {
            return Err(std::io::Error::other("blob content does not match its digest"));
        }
        Ok(bytes)
    }

    /// Up to `max` bytes of a stored file from `offset`, and the file's whole size.
    pub fn read_range(&self, sha256: &str, offset: u64, max: usize) -> std::io::Result<(Vec<u8>, u64)> {
        let bytes = self.read(sha256)?;
        let total = bytes.len() as u64;
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let end = (offset + max as u64).min(total);
        Ok((bytes[offset as usize..end as usize].to_vec(), total))
    }

    /// Hub side of a resumable upload: bytes of `sha256` received so far (kept sealed, chunk by
    /// chunk, in `DATA_DIR/blobs/partial/SCOPE/`).
    pub fn partial_len(&self, scope: &str, sha256: &str) -> u64 {
        self.partial_path(scope, sha256).map_or(0, |p| held_chunks(&p).held)
    }

    /// Drops what is held of a file being received (it is fetched again from the start).
    pub fn drop_partial(&self, scope: &str, sha256: &str) -> std::io::Result<()> {
        match self.partial_path(scope, sha256) {
            Some(p) if p.exists() => std::fs::remove_file(p),
            _ => Ok(()),
        }
    }

    /// Appends a chunk at `offset` of a blob of `size` bytes, sealed and durably. When the blob
    /// is complete, checks it against its digest and returns its bytes (the caller writes and
    /// records it).
    pub fn append_partial(
        &self,
        scope: &str,
        sha256: &str,
        offset: u64,
        size: u64,
        bytes: &[u8],
    ) -> std::io::Result<Chunk> {
        let path = self.partial_path(scope, sha256).ok_or_else(|| std::io::Error::other("not a digest"))?;
        // One append at a time: two sessions sending the same blob (a retry racing the session
        // it replaces, or two boxes with the same scan) must not both append at the same offset.
        static APPENDING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = APPENDING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = held_chunks(&path);
        if offset != held.held || held.held + bytes.len() as u64 > size {
            return Ok(Chunk::WrongOffset(held.held));
        }
        std::fs::create_dir_all(path.parent().expect("partial paths have a parent"))?;
        let sealed = self.key.seal_chunk(sha256, offset, bytes).map_err(std::io::Error::other)?;
        {
            let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path)?;
            // A chunk torn by a power cut is cut off before the next one is appended.
            file.set_len(held.end)?;
            use std::io::Seek;
            file.seek(std::io::SeekFrom::Start(held.end))?;
            file.write_all(&sealed)?;
            file.sync_all()?;
        }
        let now_held = held.held + bytes.len() as u64;
        if now_held < size {
            return Ok(Chunk::Held(now_held));
        }
        let all = self.open_partial(&path, sha256);
        std::fs::remove_file(&path)?;
        match all {
            Ok(all) if digest(&all) == sha256 => Ok(Chunk::Complete(all)),
            _ => Ok(Chunk::Mismatch),
        }
    }

    fn open_partial(&self, path: &Path, sha256: &str) -> std::io::Result<Vec<u8>> {
        let sealed = std::fs::read(path)?;
        let mut out = Vec::new();
        let mut at = 0usize;
        while at < sealed.len() {
            let len = chunk_len(&sealed[at..]).ok_or_else(|| std::io::Error::other("a torn chunk"))?;
            let end = at + len as usize + crypt::CHUNK_OVERHEAD as usize;
            let chunk = sealed.get(at..end).ok_or_else(|| std::io::Error::other("a torn chunk"))?;
            out.extend(self.key.open_chunk(sha256, out.len() as u64, chunk).map_err(std::io::Error::other)?);
            at = end;
        }
        Ok(out)
    }

    /// Seals, in place, every file of the folder still in clear (written by a version before
    /// files were sealed): each is checked against its name, sealed into a temporary file,
    /// synced and renamed over the clear one, so a power cut at any point leaves either file
    /// whole and the next start goes on. Partial downloads in clear are dropped (they are
    /// fetched again). Returns how many files were sealed.
    pub fn seal_clear_files(&self) -> std::io::Result<usize> {
        let mut sealed = 0;
        let Ok(shards) = std::fs::read_dir(&self.root) else { return Ok(0) };
        for shard in shards {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            if shard.file_name().is_some_and(|n| n == "partial") {
                self.drop_clear_partials(&shard)?;
                continue;
            }
            for entry in std::fs::read_dir(&shard)? {
                let path = entry?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
                if name.starts_with('.') && name.ends_with(".tmp") {
                    // A temporary file left by a crash: never renamed, so never acknowledged.
                    std::fs::remove_file(&path)?;
                    continue;
                }
                if !valid_digest(&name) {
                    continue;
                }
                let bytes = std::fs::read(&path)?;
                if bytes.starts_with(crypt::FILE_MAGIC) || digest(&bytes) != name {
                    continue;
                }
                let out = self.key.seal_file(&name, &bytes).map_err(std::io::Error::other)?;
                replace_durably(&path, &name, &out)?;
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    /// Drops partial files untouched for `age` (an upload a box abandoned: the office's box was
    /// replaced, or its record was withdrawn); they would otherwise stay on the disk forever.
    /// Returns how many were dropped.
    pub fn drop_stale_partials(&self, age: std::time::Duration) -> std::io::Result<usize> {
        let Ok(scopes) = std::fs::read_dir(self.root.join("partial")) else { return Ok(0) };
        let mut dropped = 0;
        for scope in scopes {
            let scope = scope?.path();
            if !scope.is_dir() {
                continue;
            }
            for part in std::fs::read_dir(&scope)? {
                let part = part?.path();
                let idle = std::fs::metadata(&part)?.modified()?.elapsed().unwrap_or_default();
                if idle > age {
                    std::fs::remove_file(&part)?;
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }

    /// Partial files an older version left in clear (directly in `partial/`, or not sealed in a
    /// scope's folder) are dropped: they are fetched or sent again.
    fn drop_clear_partials(&self, partial: &Path) -> std::io::Result<()> {
        for entry in std::fs::read_dir(partial)? {
            let path = entry?.path();
            if !path.is_dir() {
                std::fs::remove_file(&path)?;
                continue;
            }
            for part in std::fs::read_dir(&path)? {
                let part = part?.path();
                let name = part.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                if !(name.ends_with(".part") && self.partial_is_sealed(&part, name.trim_end_matches(".part"))) {
                    std::fs::remove_file(&part)?;
                }
            }
        }
        Ok(())
    }

    fn partial_is_sealed(&self, path: &Path, sha256: &str) -> bool {
        let Ok(sealed) = std::fs::read(path) else { return false };
        let Some(len) = chunk_len(&sealed) else { return false };
        let end = (len as usize + crypt::CHUNK_OVERHEAD as usize).min(sealed.len());
        self.key.open_chunk(sha256, 0, &sealed[..end]).is_ok()
    }

    /// Every blob file in the folder, with whether it is sealed (`doctor` and the tests look).
    pub fn survey(&self) -> std::io::Result<Survey> {
        let mut survey = Survey::default();
        let Ok(shards) = std::fs::read_dir(&self.root) else { return Ok(survey) };
        for shard in shards {
            let shard = shard?.path();
            if !shard.is_dir() || shard.file_name().is_some_and(|n| n == "partial") {
                continue;
            }
            for entry in std::fs::read_dir(&shard)? {
                let path = entry?.path();
                if !path.file_name().and_then(|n| n.to_str()).is_some_and(valid_digest) {
                    continue;
                }
                let mut head = [0u8; 8];
                let sealed = std::fs::File::open(&path)
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
                    .is_ok_and(|()| &head == crypt::FILE_MAGIC);
                if sealed { survey.sealed += 1 } else { survey.clear += 1 }
            }
        }
        Ok(survey)
    }
}

/// The scope of a box's partial downloads from its hub.
pub const FROM_HUB: &str = "from-hub";

/// An office code or [`FROM_HUB`]: never anything that could leave the partial folder.
fn valid_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope.len() <= 32
        && !scope.starts_with('.')
        && scope.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'.' || b == b'-')
}

/// How many blob files are sealed and how many are not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Survey {
    /// Sealed with a key (this box's or another's).
    pub sealed: usize,
    /// Not sealed.
    pub clear: usize,
}

/// Where the complete chunks of a partial file end, and the plaintext bytes they hold.
struct Held {
    held: u64,
    end: u64,
}

fn held_chunks(path: &Path) -> Held {
    use std::io::{Read, Seek, SeekFrom};
    let mut held = Held { held: 0, end: 0 };
    let Ok(mut file) = std::fs::File::open(path) else { return held };
    let total = file.metadata().map_or(0, |m| m.len());
    loop {
        let mut prefix = [0u8; 4];
        if file.seek(SeekFrom::Start(held.end)).is_err() || file.read_exact(&mut prefix).is_err() {
            return held;
        }
        let len = u32::from_le_bytes(prefix) as u64;
        let end = held.end + len + crypt::CHUNK_OVERHEAD;
        if end > total {
            return held;
        }
        held = Held { held: held.held + len, end };
    }
}

fn chunk_len(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Writes `bytes` to `target` through a temporary file beside it: synced, renamed, and the
/// folder synced, so `target` is either its old self or whole.
fn replace_durably(target: &Path, sha: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = target.parent().expect("blob paths have a parent");
    std::fs::create_dir_all(dir)?;
    // Two uploads of the same file at once each write their own temporary file: the rename that
    // comes second replaces an equally good file, and neither sees the other's half-written one.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(".{sha}.{}.{}.tmp", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if let Err(e) = written {
        // A half-written file (a full disk) would hold on to the space that freeing the disk
        // gives back: gone at once, not at the next start.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
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
    conn.prepare_cached("DELETE FROM blob_lacks WHERE sha256 = ?1")?.execute([sha256])?;
    Ok(())
}

/// A record of `office` newly points at the file: noted as lacking unless it is held.
pub fn note_lacking(conn: &Connection, sha256: &str, office: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO blob_lacks (sha256, office)
         SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1)",
    )?
    .execute(params![sha256, office])?;
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
    let content_type = ContentType::from_mime(&mime).ok_or_else(|| StoreError::Corrupt(format!("blob type {mime}")))?;
    Ok(Some(Blob { sha256: sha256.to_string(), size: size as u64, content_type }))
}

/// Keeps a blob on this box only (an original scan whose smaller copy goes to the hub).
pub fn keep_local(conn: &Connection, sha256: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE blobs SET local_only = 1 WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// Links a copy to the original it was made from.
pub fn link_original(conn: &Connection, copy: &str, original: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE blobs SET original = ?2 WHERE sha256 = ?1", params![copy, original])?;
    Ok(())
}

/// The original a copy was made from, when this box keeps it.
pub fn original_of(conn: &Connection, copy: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT original FROM blobs WHERE sha256 = ?1", [copy], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Blobs not yet at the hub, oldest first, those that failed before last: (digest, size).
pub fn pending_sync(conn: &Connection, limit: u32) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT sha256, size FROM blobs WHERE synced_at IS NULL AND local_only = 0
         ORDER BY sync_failures, created_at LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many blobs and bytes wait for the hub.
pub fn pending_totals(conn: &Connection) -> Result<(u64, u64), StoreError> {
    let (n, bytes): (i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs WHERE synced_at IS NULL AND local_only = 0",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((n.max(0) as u64, bytes.max(0) as u64))
}

/// Notes that a blob could not be sent (this box cannot read it, or the hub refused it): it
/// goes behind the others.
pub fn note_sync_failure(conn: &Connection, sha256: &str, error: &str) -> Result<(), StoreError> {
    let error: String = error.chars().take(300).collect();
    conn.execute(
        "UPDATE blobs SET sync_failures = sync_failures + 1, sync_error = ?2 WHERE sha256 = ?1",
        params![sha256, error],
    )?;
    Ok(())
}

/// Notes that the hub holds a blob.
pub fn mark_synced(conn: &Connection, sha256: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE blobs SET synced_at = ?2, sync_failures = 0, sync_error = NULL WHERE sha256 = ?1",
        params![sha256, stamp(at)],
    )?;
    Ok(())
}

/// Whether a record of `office` points at the file (the hub hands files by this).
pub fn referenced_by(conn: &Connection, sha256: &str, office: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row("SELECT 1 FROM blob_refs WHERE sha256 = ?1 AND office = ?2", params![sha256, office], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Files the records point at that this box does not hold (made on another box of the office,
/// or lost in a restore), at most `limit`.
pub fn wanted(conn: &Connection, limit: u32) -> Result<Vec<String>, StoreError> {
    // Files that failed before go behind the others, the most failed last.
    let mut stmt = conn.prepare_cached(
        "SELECT l.sha256 FROM blob_lacks l LEFT JOIN blob_fetches f ON f.sha256 = l.sha256
         GROUP BY l.sha256
         ORDER BY COALESCE(MAX(f.failures), 0), MAX(f.last_at), l.sha256 LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Hub: files the records of `office` point at that the hub does not hold (lost in a restore
/// from a backup, or not sent yet), in digest order after `after` (empty: from the first), at
/// most `limit`.
pub fn missing_for(conn: &Connection, office: &str, after: &str, limit: u32) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT sha256 FROM blob_lacks WHERE office = ?1 AND sha256 > ?2 ORDER BY sha256 LIMIT ?3")?;
    let rows = stmt.query_map(params![office, after, limit], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Hub: a mark of the set of files `office`'s records point at that the hub lacks (`None`
/// when it lacks none). It changes whenever the set does: a file newly lacking raises the
/// highest sequence number (never reused), one that arrived lowers the count, and a restore
/// from a backup (which brings back older sequence numbers) starts a new log epoch.
pub fn missing_mark(conn: &Connection, office: &str) -> Result<Option<String>, StoreError> {
    let (count, highest): (i64, Option<i64>) = conn
        .prepare_cached("SELECT count(*), max(seq) FROM blob_lacks WHERE office = ?1")?
        .query_row([office], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let Some(highest) = highest.filter(|_| count > 0) else { return Ok(None) };
    let epoch = super::replica::epoch(conn)?.id;
    Ok(Some(format!("{epoch}.{count}.{highest}")))
}

/// Box: of `digests` the hub says it lacks, the files this box holds and took for sent go up
/// again. Returns how many.
pub fn send_again(conn: &Connection, digests: &[String]) -> Result<usize, StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE blobs SET synced_at = NULL WHERE sha256 = ?1 AND synced_at IS NOT NULL AND local_only = 0",
    )?;
    let mut n = 0;
    for sha in digests.iter().filter(|d| valid_digest(d)) {
        n += stmt.execute([sha])?;
    }
    Ok(n)
}

/// Records a file the hub holds (received there, or fetched from there): it never goes up.
pub fn record_held(
    conn: &Connection,
    sha256: &str,
    size: usize,
    content_type: ContentType,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    record(conn, sha256, size, content_type, at)?;
    mark_synced(conn, sha256, at)
}

/// A fetch of the file from the hub failed: it goes behind the others next time.
pub fn note_fetch_failure(conn: &Connection, sha256: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO blob_fetches (sha256, failures, last_at) VALUES (?1, 1, ?2)
         ON CONFLICT (sha256) DO UPDATE SET failures = failures + 1, last_at = excluded.last_at",
        params![sha256, stamp(at)],
    )?;
    Ok(())
}

/// The file arrived: its failed fetches are forgotten.
pub fn fetched(conn: &Connection, sha256: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM blob_fetches WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// What became of a received chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Appended; this many bytes are held now.
    Held(u64),
    /// The last chunk: the bytes match their digest and are stored as a blob.
    Complete(Vec<u8>),
    /// The chunk does not start where the held bytes end.
    WrongOffset(u64),
    /// The whole file does not match its digest; what was held is dropped.
    Mismatch,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An office's scope.
    const O: &str = "51.03.02";

    fn files(dir: &Path) -> Files {
        Files::new(dir, crate::crypt::MasterKey::generate().unwrap().file_key())
    }

    #[test]
    fn an_original_kept_on_the_box_never_waits_for_the_hub_and_its_copy_does() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        record(&conn, "a", 1000, ContentType::Jpeg, now).unwrap();
        keep_local(&conn, "a").unwrap();
        record(&conn, "b", 100, ContentType::Jpeg, now).unwrap();
        link_original(&conn, "b", "a").unwrap();
        assert_eq!(pending_sync(&conn, 10).unwrap(), vec![("b".to_string(), 100)]);
        assert_eq!(pending_totals(&conn).unwrap(), (1, 100));
        assert_eq!(original_of(&conn, "b").unwrap().as_deref(), Some("a"));
        assert_eq!(original_of(&conn, "a").unwrap(), None);
    }

    #[test]
    fn a_file_that_failed_goes_behind_the_others_until_it_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let t0 = OffsetDateTime::now_utc();
        for (i, sha) in ["a", "b", "c"].iter().enumerate() {
            record(&conn, sha, 10, ContentType::Jpeg, t0 + time::Duration::seconds(i as i64)).unwrap();
        }
        note_sync_failure(&conn, "a", "the hub refused: too large").unwrap();
        let order: Vec<String> = pending_sync(&conn, 10).unwrap().into_iter().map(|(s, _)| s).collect();
        assert_eq!(order, ["b", "c", "a"]);
        note_sync_failure(&conn, "b", "unreadable").unwrap();
        note_sync_failure(&conn, "b", "unreadable").unwrap();
        let order: Vec<String> = pending_sync(&conn, 10).unwrap().into_iter().map(|(s, _)| s).collect();
        assert_eq!(order, ["c", "a", "b"]);
        mark_synced(&conn, "a", t0).unwrap();
        assert_eq!(pending_totals(&conn).unwrap(), (2, 20));
    }

    #[test]
    fn files_lacking_are_kept_as_references_and_files_arrive_and_listed_in_pages() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let shas: Vec<String> = (0..5u8).map(|i| digest(&[i])).collect();
        let mut sorted = shas.clone();
        sorted.sort();
        let refer = |sha: &str, office: &str| {
            conn.execute("INSERT OR IGNORE INTO blob_refs (sha256, office) VALUES (?1, ?2)", params![sha, office])
                .unwrap();
            note_lacking(&conn, sha, office).unwrap();
        };
        // Held before any record points at it: never lacking.
        record(&conn, &shas[0], 1, ContentType::Pdf, now).unwrap();
        for sha in &shas {
            refer(sha, "51.03.02");
        }
        refer(&shas[4], "51.03.01");
        let lacking: Vec<String> = sorted.iter().filter(|s| **s != shas[0]).cloned().collect();
        assert_eq!(missing_for(&conn, "51.03.02", "", 10).unwrap(), lacking);
        // Pages after a digest, for the office asked about only.
        assert_eq!(missing_for(&conn, "51.03.02", "", 2).unwrap(), lacking[..2]);
        assert_eq!(missing_for(&conn, "51.03.02", &lacking[1], 10).unwrap(), lacking[2..]);
        assert_eq!(missing_for(&conn, "51.03.01", "", 10).unwrap(), vec![shas[4].clone()]);
        let mut wanted_now = wanted(&conn, 10).unwrap();
        wanted_now.sort();
        assert_eq!(wanted_now, lacking);
        // The mark changes as files arrive and as records point at new ones.
        let first = missing_mark(&conn, "51.03.02").unwrap().unwrap();
        record(&conn, &shas[1], 1, ContentType::Pdf, now).unwrap();
        let second = missing_mark(&conn, "51.03.02").unwrap().unwrap();
        assert_ne!(first, second);
        let new = digest(b"a file referred to later");
        refer(&new, "51.03.02");
        record(&conn, &shas[2], 1, ContentType::Pdf, now).unwrap();
        let third = missing_mark(&conn, "51.03.02").unwrap().unwrap();
        assert_ne!(third, second, "one arrived and one newly lacking still change the mark");
        for sha in shas.iter().chain([&new]) {
            record(&conn, sha, 1, ContentType::Pdf, now).unwrap();
        }
        assert_eq!(missing_mark(&conn, "51.03.02").unwrap(), None);
        assert!(wanted(&conn, 10).unwrap().is_empty());
        // A second reference to a held file adds nothing.
        refer(&shas[3], "51.03.01");
        assert_eq!(missing_for(&conn, "51.03.01", "", 10).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn same_bytes_same_place_and_paths_only_from_digests() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let a = files.write(b"%PDF-1.4 hello").unwrap();
        let b = files.write(b"%PDF-1.4 hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(files.read(&a).unwrap(), b"%PDF-1.4 hello");
        let on_disk = std::fs::read(files.path(&a).unwrap()).unwrap();
        assert!(on_disk.starts_with(crypt::FILE_MAGIC) && !on_disk.windows(8).any(|w| w == b"PDF-1.4 "));
        assert!(files.path("../../etc/passwd").is_none());
        assert!(files.path(&"A".repeat(64)).is_none());
        // Another box's key does not open it.
        assert!(self::files(dir.path()).read(&a).is_err());
        std::fs::write(files.path(&a).unwrap(), b"tampered").unwrap();
        assert!(files.read(&a).is_err());
        // A damaged file is written again whole by the next upload of the same bytes.
        assert_eq!(files.write(b"%PDF-1.4 hello").unwrap(), a);
        assert_eq!(files.read(&a).unwrap(), b"%PDF-1.4 hello");
        assert_eq!(files.survey().unwrap(), Survey { sealed: 1, clear: 0 });
    }

    #[test]
    fn a_resumable_upload_checks_offsets_and_the_digest() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let bytes = b"%PDF-1.4 a scanned requirement".to_vec();
        let sha = digest(&bytes);
        let size = bytes.len() as u64;
        assert_eq!(files.append_partial(O, &sha, 0, size, &bytes[..10]).unwrap(), Chunk::Held(10));
        // A repeated or skipped chunk is refused with what is held.
        assert_eq!(files.append_partial(O, &sha, 0, size, &bytes[..10]).unwrap(), Chunk::WrongOffset(10));
        assert_eq!(files.append_partial(O, &sha, 20, size, &bytes[20..]).unwrap(), Chunk::WrongOffset(10));
        assert_eq!(files.partial_len(O, &sha), 10);
        assert_eq!(files.append_partial(O, &sha, 10, size, &bytes[10..]).unwrap(), Chunk::Complete(bytes.clone()));
        assert_eq!(files.partial_len(O, &sha), 0);
        // Bytes that do not match the name are dropped.
        let wrong = digest(b"something else entirely");
        assert_eq!(files.append_partial(O, &wrong, 0, size, &bytes).unwrap(), Chunk::Mismatch);
        assert_eq!(files.partial_len(O, &wrong), 0);
        assert!(files.append_partial(O, "../x", 0, 1, b"x").is_err());
        assert!(files.append_partial("../..", &sha, 0, 1, b"x").is_err(), "a scope is never a path");
        // Another office's scope holds nothing of this one's upload, and adds to it nothing.
        assert_eq!(files.append_partial(O, &sha, 0, size, &bytes[..10]).unwrap(), Chunk::Held(10));
        assert_eq!(files.partial_len("51.03.01", &sha), 0);
        assert_eq!(files.append_partial("51.03.01", &sha, 10, size, &bytes[10..]).unwrap(), Chunk::WrongOffset(0));
        // Abandoned for long, it goes; fresh, it stays.
        assert_eq!(files.drop_stale_partials(std::time::Duration::from_secs(3600)).unwrap(), 0);
        let part = files.partial_path(O, &sha).unwrap();
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        std::fs::File::options().write(true).open(&part).unwrap().set_modified(old).unwrap();
        assert_eq!(files.drop_stale_partials(std::time::Duration::from_secs(3600)).unwrap(), 1);
        assert_eq!(files.partial_len(O, &sha), 0);
        // A chunk torn by a power cut counts for nothing and is cut off by the next append.
        assert_eq!(files.append_partial(O, &sha, 0, size, &bytes[..10]).unwrap(), Chunk::Held(10));
        let part = files.partial_path(O, &sha).unwrap();
        let whole = std::fs::read(&part).unwrap();
        let torn = files.key.seal_chunk(&sha, 10, &bytes[10..20]).unwrap();
        std::fs::write(&part, [whole.as_slice(), &torn[..torn.len() - 3]].concat()).unwrap();
        assert_eq!(files.partial_len(O, &sha), 10);
        assert!(!std::fs::read(&part).unwrap().windows(8).any(|w| w == b"PDF-1.4 "), "held in clear");
        assert_eq!(files.append_partial(O, &sha, 10, size, &bytes[10..]).unwrap(), Chunk::Complete(bytes.clone()));
    }

    #[test]
    fn the_same_file_uploaded_at_once_by_many_is_stored_whole_and_every_upload_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let bytes: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| files.write(&bytes))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &results {
            assert_eq!(r.as_ref().unwrap(), &digest(&bytes));
        }
        assert_eq!(files.read(&digest(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn files_in_clear_from_an_older_version_are_sealed_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let clear = b"\x89PNG a photo in clear".to_vec();
        let sha = digest(&clear);
        let at = files.path(&sha).unwrap();
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(&at, &clear).unwrap();
        let sealed_already = files.write(b"sealed already").unwrap();
        // A temporary file and a partial download in clear, both left by a crash.
        let tmp = at.parent().unwrap().join(format!(".{sha}.1.1.tmp"));
        std::fs::write(&tmp, &clear).unwrap();
        let part = files.partial_path(O, &digest(b"x")).unwrap();
        std::fs::create_dir_all(part.parent().unwrap()).unwrap();
        std::fs::write(&part, b"clear partial").unwrap();
        assert_eq!(files.survey().unwrap(), Survey { sealed: 1, clear: 1 });
        assert_eq!(files.seal_clear_files().unwrap(), 1);
        assert_eq!(files.survey().unwrap(), Survey { sealed: 2, clear: 0 });
        assert_eq!(files.read(&sha).unwrap(), clear);
        assert_eq!(files.read(&sealed_already).unwrap(), b"sealed already");
        assert!(!tmp.exists() && !part.exists());
        assert_eq!(files.seal_clear_files().unwrap(), 0, "done once");
    }

    #[test]
    fn two_sessions_sending_the_same_chunk_at_once_append_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let files = files(dir.path());
        let bytes: Vec<u8> = (0..400_000u32).map(|i| (i % 241) as u8).collect();
        let sha = digest(&bytes);
        let size = bytes.len() as u64;
        for _ in 0..20 {
            let outcomes: Vec<Chunk> = std::thread::scope(|s| {
                let handles: Vec<_> =
                    (0..4).map(|_| s.spawn(|| files.append_partial(O, &sha, 0, size, &bytes[..200_000]))).collect();
                handles.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
            });
            assert_eq!(outcomes.iter().filter(|c| **c == Chunk::Held(200_000)).count(), 1, "{outcomes:?}");
            assert_eq!(files.partial_len(O, &sha), 200_000);
            assert_eq!(
                files.append_partial(O, &sha, 200_000, size, &bytes[200_000..]).unwrap(),
                Chunk::Complete(bytes.clone())
            );
        }
    }
}
