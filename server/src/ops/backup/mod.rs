//! Backup and restore of a box's (or hub's) data directory.
//!
//! A backup is a folder that reveals nothing without the regency's recovery key
//! (`key.recovery`, see [`crate::keys::recovery`]):
//! - `backup.key.age`: a key made for this backup alone, encrypted to the recovery key;
//! - `simpul.sqlite3`: a consistent copy of the database taken while the server runs,
//!   encrypted (SQLCipher) under the backup's key;
//! - `blobs/`: every attachment file, sealed under the backup's key;
//! - `SIMPUL-BACKUP.txt`: the manifest, each file's SHA-256 as stored, tagged under the
//!   backup's key (see [`manifest`]); written last, so a backup cut short has none.
//!
//! The box's own keys are never in it: not its data key (a restore re-encrypts everything
//! under the key of the box it lands on), not its TLS identity nor the hub's CA key (a box
//! restored onto a new disk enrolls again; the hub's CA is escrowed once, apart, with
//! `simpul key escrow-ca`). A restore needs the recovery identity and checks every byte
//! against the manifest before it touches the live data.
//!
//! A restore takes a box back in time, so it does what a plain file copy would not:
//! - the database it replaces is kept beside it, never deleted;
//! - the box makes its next changes under a new Automerge actor (see
//!   [`simpul_store::documents::rotate_actor`]);
//! - today's application numbers continue in the upper block of the box's station (from the
//!   1000th of the day), so that none collides with a number the lost work gave out before the
//!   next sync brings that work back;
//! - its change log starts a new timeline (`simpul_sync::protocol::LogEpoch`): the positions
//!   after the backup's end will hold new entries, and no peer takes them for the lost ones;
//! - the sync cursors are left as they were in the backup: the next session finds what each
//!   side lost (see `simpul_sync::session::PeerCursors`) and gives it back.

mod error;
pub mod manifest;

pub use error::BackupError;

use std::path::{Path, PathBuf};

use simpul_store::blobs::{self, Files};
use simpul_store::crypt::MasterKey;
use simpul_store::db::{self, FileCheck, StoreError};
use simpul_store::{Connection, audit, stamp};
use time::OffsetDateTime;

use crate::keys::KeyError;
use crate::keys::recovery::{Identity, Recipient};
use manifest::{DATABASE, Entry, Manifest};

/// The manifest's name inside a backup folder.
const MANIFEST: &str = manifest::NAME;
/// The backup's own key, encrypted to the recovery key, inside a backup folder.
const SEALED_KEY: &str = "backup.key.age";
/// The TLS identity's folder inside a data directory.
const TLS: &str = "tls";
/// The first count of the day after a restore (the upper block of a station).
const FIRST_AFTER_RESTORE: u32 = 999;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io { path: path.to_path_buf(), source }
}

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Bytes of the database copy.
    pub database_bytes: u64,
    /// Attachment blobs copied.
    pub blobs: u64,
    /// Where the replaced database was kept (restore only).
    pub kept: Option<PathBuf>,
    /// Whether the data directory holds a TLS identity (a box's enrollment or a hub's CA):
    /// backups never carry one, so a restore onto a new disk must enroll again (a box) or put
    /// the escrowed CA back (a hub).
    pub enrolled: bool,
    /// Who signed the backup (restore only; None: made by a box not enrolled).
    pub signer: Option<simpul_installer::signing::Signer>,
}

/// Backs up the data directory `data_dir` (database at `database`, `role` "office" or "hub")
/// into the new folder `to`, encrypted to the regency's recovery key, while the server may be
/// running.
pub fn backup(
    data_dir: &Path,
    database: &Path,
    to: &Path,
    key: &MasterKey,
    recovery: &Recipient,
    role: &str,
    now: OffsetDateTime,
) -> Result<Summary, BackupError> {
    if to.exists() && std::fs::read_dir(to).map_err(io(to))?.next().is_some() {
        return Err(BackupError::TargetNotEmpty(to.to_path_buf()));
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    let own = MasterKey::generate().map_err(|_| KeyError::Random)?;
    let conn = db::open_sync(database, &key.database_key())?;
    let copy = to.join(DATABASE);
    let schema = db::copy_into(&conn, &copy, &own.database_key())?;
    audit::record(&conn, now, &audit::Actor::Cli, "backup_made", None, None)?;
    drop(conn);
    std::fs::File::open(&copy).and_then(|f| f.sync_all()).map_err(io(&copy))?;
    let (box_files, backup_files) = (Files::new(data_dir, key.file_key()), Files::new(to, own.file_key()));
    let mut files = vec![entry_of(to, DATABASE)?];
    for sha in stored_digests(data_dir)? {
        // A file that does not open with the box's key, or does not match its name, is damaged:
        // the hub holds the good copy, and a backup carries only what it can vouch for.
        let Ok(bytes) = box_files.read(&sha) else {
            tracing::warn!(file = %sha, "a damaged file was left out of the backup");
            continue;
        };
        backup_files.write(&bytes).map_err(io(to))?;
        files.push(entry_of(to, &format!("blobs/{}/{sha}", &sha[..2]))?);
    }
    write_synced(&to.join(SEALED_KEY), &recovery.seal(own.bytes())?)?;
    let blobs = files.len() as u64 - 1;
    let listed = Manifest { created_at: stamp(now), schema, role: role.to_string(), files };
    let signed = manifest::sign(listed.render(&own), data_dir)?;
    write_synced(&to.join(MANIFEST), signed.as_bytes())?;
    if let Ok(dir) = std::fs::File::open(to) {
        let _ = dir.sync_all();
    }
    let database_bytes = listed.files[0].bytes;
    Ok(Summary { database_bytes, blobs, kept: None, enrolled: true, signer: None })
}

/// A file of the backup folder `to` as its manifest lists it.
fn entry_of(to: &Path, path: &str) -> Result<Entry, BackupError> {
    let (sha256, bytes) = manifest::hash_file(&to.join(path)).map_err(io(&to.join(path)))?;
    Ok(Entry { path: path.to_string(), sha256, bytes })
}

/// The digests of the files stored in a data directory (partial uploads are not files yet).
fn stored_digests(data_dir: &Path) -> Result<Vec<String>, BackupError> {
    let root = data_dir.join("blobs");
    let Ok(shards) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
    let mut found = Vec::new();
    for shard in shards.flatten() {
        if shard.file_name() == "partial" || !shard.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(shard.path()).map_err(io(&shard.path()))?.flatten() {
            let name = file.file_name().to_string_lossy().to_string();
            if blobs::valid_digest(&name) && file.path().is_file() {
                found.push(name);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// What a restore trusts: the recovery identity that opens the backup, and whose backups it
/// takes.
pub struct Trust<'a> {
    /// The regency's recovery identity.
    pub recovery: &'a Identity,
    /// The regency CA to check the backup's signer against, when the data directory trusts none
    /// yet (a new disk): the hub's CA certificate (PEM).
    pub ca_pem: Option<String>,
    /// Restore a backup whose maker cannot be checked (unsigned, or no CA to check against):
    /// the installer's word that it is a backup they took themselves.
    pub allow_unchecked: bool,
    /// This data directory's role ("office" or "hub"): a backup of the other is refused.
    pub role: &'a str,
}

/// Restores the backup in `from` into `data_dir` (database at `database`), opened with the
/// regency's recovery identity and re-encrypted under this box's `key`. The server must be
/// stopped. Every file is checked against the manifest first, then who made it; the database it
/// replaces is kept beside it.
pub fn restore(
    data_dir: &Path,
    database: &Path,
    from: &Path,
    key: &MasterKey,
    trust: &Trust<'_>,
    now: OffsetDateTime,
) -> Result<Summary, BackupError> {
    let manifest_path = from.join(MANIFEST);
    if !manifest_path.is_file() || !from.join(DATABASE).is_file() {
        return Err(BackupError::NotABackup(from.to_path_buf()));
    }
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|_| BackupError::Tampered(format!("{MANIFEST} is not text")))?;
    if text.starts_with("simpul backup\n") && !text.contains("\nformat=") {
        return Err(BackupError::Format("1".into()));
    }
    let sealed = std::fs::read(from.join(SEALED_KEY)).map_err(|_| BackupError::NotABackup(from.to_path_buf()))?;
    let own = MasterKey::from_bytes(&trust.recovery.open(&sealed)?)
        .map_err(|_| BackupError::Tampered(format!("{SEALED_KEY} holds no key")))?;
    let (tagged, signed) = manifest::signature(&text)?;
    let listed = Manifest::parse(tagged, &own)?;
    if listed.role != trust.role {
        return Err(BackupError::OtherRole { backup: listed.role.clone(), here: trust.role.to_string() });
    }
    // Every byte is checked before anything is changed, then who made it.
    for entry in &listed.files {
        manifest::check_file(from, entry)?;
    }
    let signer = check_signer(data_dir, signed, tagged, trust)?;
    let ready = database.with_extension("restoring");
    for stale in
        [ready.clone(), with_suffix(&ready, "-wal"), with_suffix(&ready, "-shm"), with_suffix(&ready, "-journal")]
    {
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(io(&stale))?;
        }
    }
    std::fs::copy(from.join(DATABASE), &ready).map_err(io(&ready))?;
    let checked = db::rekey(&ready, &own.database_key(), &key.database_key())
        .map_err(BackupError::from)
        .and_then(|_| check(&ready, key));
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&ready);
        return Err(e);
    }
    // Everything that takes long or can fail happens before the live database is touched: the
    // files first (named by their content, so adding them early is harmless), then a copy of
    // the backup's database made ready beside it, which only then takes its place.
    let (backup_files, box_files) = (Files::new(from, own.file_key()), Files::new(data_dir, key.file_key()));
    let made_ready = (|| {
        let mut blobs = 0;
        for entry in listed.files.iter().skip(1) {
            let sha = entry.path.rsplit('/').next().unwrap_or_default();
            let bytes = backup_files.read(sha).map_err(|e| BackupError::Tampered(format!("{}: {e}", entry.path)))?;
            box_files.write(&bytes).map_err(io(data_dir))?;
            blobs += 1;
        }
        prepare(&ready, data_dir, database, key, now)?;
        std::fs::File::open(&ready).and_then(|f| f.sync_all()).map_err(io(&ready))?;
        Ok(blobs)
    })();
    let blobs = match made_ready {
        Ok(blobs) => blobs,
        Err(e) => {
            let _ = std::fs::remove_file(&ready);
            return Err(e);
        }
    };
    let kept = if database.exists() { Some(set_aside(database, key, now)?) } else { None };
    std::fs::rename(&ready, database).map_err(io(database))?;
    if let Some(dir) = database.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    let database_bytes = std::fs::metadata(database).map_err(io(database))?.len();
    let tls = data_dir.join(TLS);
    let enrolled = tls.join("box.pem").exists() || tls.join("hub-ca.key").exists();
    Ok(Summary { database_bytes, blobs, kept, enrolled, signer })
}

/// Who made the backup, checked against the regency CA this data directory trusts (or the one
/// the installer gave). A backup whose maker cannot be checked is refused unless the installer
/// said to take it anyway: anyone holding the recovery key's public half can make one.
fn check_signer(
    data_dir: &Path,
    signed: Option<simpul_installer::signing::Signed>,
    tagged: &str,
    trust: &Trust<'_>,
) -> Result<Option<simpul_installer::signing::Signer>, BackupError> {
    use simpul_installer::signing::{Signer, verify};
    let ca = trust.ca_pem.clone().or_else(|| std::fs::read_to_string(data_dir.join(TLS).join("hub-ca.pem")).ok());
    let unchecked = |why: &str| {
        if trust.allow_unchecked { Ok(()) } else { Err(BackupError::Unchecked(why.to_string())) }
    };
    match signed {
        None => {
            unchecked("it is not signed (made by a box that was not enrolled, or its signature was removed)")?;
            Ok(None)
        }
        Some(s) => {
            let signer =
                verify(&s, tagged.as_bytes(), ca.as_deref()).map_err(|e| BackupError::Tampered(e.to_string()))?;
            if let Signer::Unchecked(name) = &signer {
                unchecked(&format!(
                    "it is signed by {name}, but this disk trusts no regency CA to check that against"
                ))?;
            }
            Ok(Some(signer))
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes the copy of a backup's database ready to be the live one: migrated, a new log
/// timeline and actor, today's numbers in the upper block, files on disk the backup does not
/// list recorded; left as a single file (no WAL beside it).
fn prepare(copy: &Path, data_dir: &Path, live: &Path, key: &MasterKey, now: OffsetDateTime) -> Result<(), BackupError> {
    let mut conn = db::open_sync(copy, &key.database_key())?;
    let tx = conn.transaction().map_err(StoreError::from)?;
    simpul_store::documents::rotate_actor(&tx)?;
    simpul_store::replica::fork_epoch(&tx)?;
    // Numbers carry the office's local date, which is not the UTC one for part of the day.
    let zone = simpul_store::settings::unit(&tx)?.map_or(simpul_domain::zone::Zone::Wib, |(_, unit)| unit.zone());
    let today = now.to_offset(zone.offset()).date();
    simpul_store::applications::raise_daily_count(&tx, today, FIRST_AFTER_RESTORE)?;
    // Tickets handed out after the backup are held by people in the waiting room.
    let floor = crate::office::queue::skip_ahead_after_restore(&tx, today, highest_ticket(live, key, today))?;
    tracing::info!(floor, "queue tickets today continue above the restored ones");
    let files = simpul_store::blobs::Files::new(data_dir, key.file_key());
    let listed = record_unlisted_files(&tx, data_dir, &files, now)?;
    if listed > 0 {
        tracing::info!(files = listed, "files made after the backup are listed again");
    }
    simpul_store::settings::put(&tx, "restore.at", &stamp(now))?;
    // The restored trail goes on from the backup's last entry, and says which trail it replaces:
    // the entries written after the backup are in the database kept beside it, not lost unseen.
    let replaced = replaced_head(live, key)
        .map(|(seq, hash)| format!("replaces a trail that ended at entry {seq} ({hash}), kept beside it"))
        .unwrap_or_else(|| "replaces no readable trail".into());
    audit::record(&tx, now, &audit::Actor::Cli, "restored_from_backup", None, Some(&replaced))?;
    tx.commit().map_err(StoreError::from)?;
    db::leave_wal(&conn)?;
    Ok(())
}

/// The last audit entry of the database a restore replaces, when it can still be read.
fn replaced_head(live: &Path, key: &MasterKey) -> Option<(i64, String)> {
    let conn = db::open_read_only(live, &key.database_key()).ok()?;
    audit::head(&conn).ok()?
}

/// The highest queue ticket number of `day` in the database a restore replaces, when it can
/// still be read (it may be the damaged one the restore is for): tickets it knows of are held
/// by people in the waiting room too.
fn highest_ticket(live: &Path, key: &MasterKey, day: time::Date) -> Option<u16> {
    let conn = db::open_read_only(live, &key.database_key()).ok()?;
    // A database from before ticket floors has issued numbers only.
    let (today, issued) = (simpul_store::queue::highest_today, simpul_store::queue::highest_issued);
    today(&conn, day).or_else(|_| issued(&conn, day)).ok()?
}

/// Files in the data directory the restored database does not list (made after the backup,
/// and kept by the restore) are listed again, each checked against its name: a hub hands them
/// to boxes again, a box sends them up again (the hub answers at once for what it holds).
fn record_unlisted_files(
    conn: &Connection,
    data_dir: &Path,
    files: &simpul_store::blobs::Files,
    now: OffsetDateTime,
) -> Result<usize, BackupError> {
    use simpul_store::blobs;
    let root = data_dir.join("blobs");
    let Ok(shards) = std::fs::read_dir(&root) else { return Ok(0) };
    let mut listed = 0;
    for shard in shards.flatten() {
        if shard.file_name() == "partial" || !shard.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(shard.path()).map_err(io(&shard.path()))?.flatten() {
            let name = file.file_name().to_string_lossy().to_string();
            if !blobs::valid_digest(&name) || blobs::get(conn, &name)?.is_some() {
                continue;
            }
            // A file that does not open with this box's key or match its name, or of a type
            // never taken, stays unlisted.
            let Ok(bytes) = files.read(&name) else { continue };
            let Some(content_type) = simpul_domain::attachment::ContentType::sniff(&bytes) else { continue };
            blobs::record(conn, &name, bytes.len(), content_type, now)?;
            listed += 1;
        }
    }
    Ok(listed)
}

/// The backup's database opens, is intact and not newer than this binary.
fn check(path: &Path, key: &MasterKey) -> Result<(), BackupError> {
    match db::check_file(path, &key.database_key()) {
        FileCheck::Intact(0) => Err(BackupError::Damaged("it holds no Simpul data".into())),
        FileCheck::Intact(_) => Ok(()),
        FileCheck::Damaged(why) => Err(BackupError::Damaged(why)),
        FileCheck::TooNew(found) => Err(BackupError::TooNew { found, known: db::SCHEMA_VERSION }),
    }
}

/// Keeps the database under a second name (and moves its WAL files to match); returns it.
fn set_aside(database: &Path, key: &MasterKey, now: OffsetDateTime) -> Result<PathBuf, BackupError> {
    // Folds the WAL into the file first when it still opens, so the kept copy stands alone;
    // a program still using the database is found here and nothing is moved.
    if !db::checkpoint_file(database, &key.database_key()) {
        return Err(BackupError::InUse);
    }
    let suffix = format!("before-restore-{}", now.unix_timestamp());
    let name = database.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| DATABASE.into());
    let kept = database.with_file_name(format!("{name}.{suffix}"));
    for extra in ["-wal", "-shm"] {
        let from = database.with_file_name(format!("{name}{extra}"));
        if from.exists() {
            let to = database.with_file_name(format!("{name}.{suffix}{extra}"));
            std::fs::rename(&from, &to).map_err(io(&from))?;
        }
    }
    // A second name for the file, not a move: the live name keeps a whole database until the
    // restored one is renamed over it, so a power cut in between leaves the old one in place.
    std::fs::hard_link(database, &kept).map_err(io(database))?;
    Ok(kept)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trust for a test restore of an office's backup.
    fn taking<'a>(identity: &'a Identity, allow_unchecked: bool, ca_pem: Option<String>) -> Trust<'a> {
        Trust { recovery: identity, ca_pem, allow_unchecked, role: "office" }
    }

    /// A regency recovery key pair in `dir`.
    fn recovery(dir: &Path, name: &str) -> (Recipient, Identity) {
        let path = dir.join(name);
        let recipient = crate::keys::recovery::generate(&path, "test").unwrap();
        (recipient, Identity::load(&path).unwrap())
    }

    /// A data directory with a marked database, one stored scan and a TLS identity.
    fn office(dir: &Path, key: &MasterKey) -> (PathBuf, PathBuf, String) {
        let data = dir.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let database = data.join(DATABASE);
        let conn = db::open_sync(&database, &key.database_key()).unwrap();
        simpul_store::settings::put(&conn, "marker", "Ni Luh Putu Sekarwati").unwrap();
        drop(conn);
        let sha = Files::new(&data, key.file_key()).write(b"%PDF-1.4 the family card of Ni Luh Putu").unwrap();
        std::fs::create_dir_all(data.join(TLS)).unwrap();
        std::fs::write(data.join(TLS).join("box.key"), b"-----BEGIN PRIVATE KEY----- the box's own").unwrap();
        (data, database, sha)
    }

    #[test]
    fn a_restore_keeps_what_it_replaces_and_numbers_in_the_upper_block() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let (seal_to, identity) = recovery(dir.path(), "recovery.txt");
        let (data, database, sha) = office(dir.path(), &key);
        let now = OffsetDateTime::now_utc();
        let to = dir.path().join("backup");
        let made = backup(&data, &database, &to, &key, &seal_to, "office", now).unwrap();
        assert_eq!(made.blobs, 1);
        assert!(matches!(
            backup(&data, &database, &to, &key, &seal_to, "office", now),
            Err(BackupError::TargetNotEmpty(_))
        ));

        let conn = db::open_sync(&database, &key.database_key()).unwrap();
        simpul_store::settings::put(&conn, "marker", "after").unwrap();
        // The box had handed out tickets up to 350 today when it failed.
        let today = now.to_offset(simpul_domain::zone::Zone::Wib.offset()).date();
        conn.execute(
            "INSERT INTO queue_floors (day, floor) VALUES (?1, 350)",
            [simpul_sync::records::date_text(today)],
        )
        .unwrap();
        drop(conn);
        std::fs::remove_dir_all(data.join("blobs")).unwrap();
        let restored = restore(&data, &database, &to, &key, &taking(&identity, true, None), now).unwrap();
        assert_eq!(restored.blobs, 1, "the blob comes back");
        assert!(Files::new(&data, key.file_key()).read(&sha).is_ok());
        let conn = db::open_sync(&database, &key.database_key()).unwrap();
        assert_eq!(simpul_store::settings::get(&conn, "marker").unwrap().as_deref(), Some("Ni Luh Putu Sekarwati"));
        let last: u32 =
            conn.query_row("SELECT last FROM daily_sequences WHERE scope = 'application'", [], |r| r.get(0)).unwrap();
        assert_eq!(last, FIRST_AFTER_RESTORE);
        // Queue tickets of the day go on above any handed out between backup and restore.
        let floor: u16 = conn.query_row("SELECT floor FROM queue_floors", [], |r| r.get(0)).unwrap();
        assert_eq!(floor, 500, "above what the replaced database had handed out");
        let kept = db::open_sync(&restored.kept.unwrap(), &key.database_key()).unwrap();
        assert_eq!(simpul_store::settings::get(&kept, "marker").unwrap().as_deref(), Some("after"), "kept, not lost");
        // The restored trail is whole, and names the trail it replaced.
        let (old_seq, old_hash) = audit::head(&kept).unwrap().unwrap();
        assert!(matches!(audit::verify(&conn).unwrap(), audit::Verdict::Intact { .. }));
        let restored_entry = audit::recent(&conn, 1).unwrap().remove(0);
        assert_eq!(restored_entry.action, "restored_from_backup");
        let detail = restored_entry.detail.unwrap();
        assert!(detail.contains(&format!("entry {old_seq} ({old_hash})")), "{detail}");
    }

    #[test]
    fn a_backup_reveals_nothing_and_opens_on_another_box_with_the_recovery_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let (seal_to, identity) = recovery(dir.path(), "recovery.txt");
        let (_, stranger) = recovery(dir.path(), "stranger.txt");
        let (data, database, sha) = office(dir.path(), &key);
        let now = OffsetDateTime::now_utc();
        let to = dir.path().join("backup");
        backup(&data, &database, &to, &key, &seal_to, "office", now).unwrap();
        // Nothing readable, and no key of the box, in any file of the backup.
        let mut names = Vec::new();
        for entry in walk(&to) {
            let bytes = std::fs::read(&entry).unwrap();
            names.push(entry.strip_prefix(&to).unwrap().to_string_lossy().to_string());
            for clear in [&b"Sekarwati"[..], b"family card", b"PRIVATE KEY", b"SQLite format 3"] {
                assert!(!bytes.windows(clear.len()).any(|w| w == clear), "{} holds it in clear", entry.display());
            }
        }
        assert!(!names.iter().any(|n| n.starts_with("tls")), "no TLS identity in a backup: {names:?}");

        // Another box (another key, a fresh disk) restores it with the recovery identity.
        let other_key = MasterKey::generate().unwrap();
        let other = dir.path().join("other");
        let other_db = other.join(DATABASE);
        std::fs::create_dir_all(&other).unwrap();
        assert!(matches!(
            restore(&other, &other_db, &to, &other_key, &taking(&stranger, true, None), now),
            Err(BackupError::Key(KeyError::NotForThisRecoveryKey))
        ));
        assert!(!other_db.exists(), "a refused restore leaves nothing");
        let done = restore(&other, &other_db, &to, &other_key, &taking(&identity, true, None), now).unwrap();
        assert!(!done.enrolled, "a new disk holds no identity: the box enrolls again");
        let conn = db::open_sync(&other_db, &other_key.database_key()).unwrap();
        assert_eq!(simpul_store::settings::get(&conn, "marker").unwrap().as_deref(), Some("Ni Luh Putu Sekarwati"));
        assert_eq!(
            Files::new(&other, other_key.file_key()).read(&sha).unwrap(),
            b"%PDF-1.4 the family card of Ni Luh Putu"
        );
    }

    #[test]
    fn an_enrolled_box_signs_its_backup_and_the_regency_ca_vouches_for_it() {
        use simpul_installer::pki::{BoxIdentity, HubPki, box_key_and_csr};
        use simpul_installer::signing::Signer;
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let key = MasterKey::generate().unwrap();
        let (seal_to, identity) = recovery(dir.path(), "recovery.txt");
        let (data, database, _) = office(dir.path(), &key);
        let hub = HubPki::ensure(&dir.path().join("hub"), &["localhost".into()], now).unwrap();
        let (key_pem, csr) = box_key_and_csr("51.03.02").unwrap();
        let cert_pem = hub.sign_box(&csr, "51.03.02", now).unwrap();
        BoxIdentity { key_pem, cert_pem, ca_pem: hub.ca_pem.clone() }.save(&data).unwrap();
        let to = dir.path().join("backup");
        backup(&data, &database, &to, &key, &seal_to, "office", now).unwrap();
        assert!(std::fs::read_to_string(to.join(MANIFEST)).unwrap().contains("\nsignature="));

        // On a box of the same regency: the signer is named and vouched for, nothing else asked.
        let done = restore(&data, &database, &to, &key, &taking(&identity, false, None), now).unwrap();
        assert_eq!(done.signer, Some(Signer::Trusted("simpul-office-51.03.02".into())));
        // On a new disk: refused until the installer gives the regency's CA (or takes it anyway).
        let fresh = dir.path().join("fresh");
        std::fs::create_dir_all(&fresh).unwrap();
        let fresh_db = fresh.join(DATABASE);
        assert!(matches!(
            restore(&fresh, &fresh_db, &to, &key, &taking(&identity, false, None), now),
            Err(BackupError::Unchecked(why)) if why.contains("simpul-office-51.03.02")
        ));
        assert!(!fresh_db.exists(), "nothing restored");
        let done = restore(&fresh, &fresh_db, &to, &key, &taking(&identity, false, Some(hub.ca_pem.clone())), now);
        assert_eq!(done.unwrap().signer, Some(Signer::Trusted("simpul-office-51.03.02".into())));
        // Its signature taken off, it is no longer taken as the box's.
        let stripped = dir.path().join("stripped");
        std::fs::create_dir_all(&stripped).unwrap();
        for name in [MANIFEST, SEALED_KEY, DATABASE] {
            std::fs::copy(to.join(name), stripped.join(name)).unwrap();
        }
        copy_dir(&to.join("blobs"), &stripped.join("blobs"));
        let text = std::fs::read_to_string(stripped.join(MANIFEST)).unwrap();
        std::fs::write(stripped.join(MANIFEST), &text[..text.find("signer=").unwrap()]).unwrap();
        assert!(matches!(
            restore(&data, &database, &stripped, &key, &taking(&identity, false, None), now),
            Err(BackupError::Unchecked(why)) if why.contains("not signed")
        ));
        // On a box of another regency: refused, whatever the installer says.
        let other = dir.path().join("other");
        let other_hub = HubPki::ensure(&dir.path().join("other-hub"), &["localhost".into()], now).unwrap();
        std::fs::create_dir_all(other.join(TLS)).unwrap();
        std::fs::write(other.join(TLS).join("hub-ca.pem"), &other_hub.ca_pem).unwrap();
        assert!(matches!(
            restore(&other, &other.join(DATABASE), &to, &key, &taking(&identity, true, None), now),
            Err(BackupError::Tampered(why)) if why.contains("regency's CA")
        ));
        // Nor does an office's backup go onto a hub.
        let hub_trust = Trust { recovery: &identity, ca_pem: None, allow_unchecked: true, role: "hub" };
        assert!(matches!(restore(&fresh, &fresh_db, &to, &key, &hub_trust, now), Err(BackupError::OtherRole { .. })));
    }

    fn copy_dir(from: &Path, to: &Path) {
        for file in walk(from) {
            let target = to.join(file.strip_prefix(from).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&file, &target).unwrap();
        }
    }

    #[test]
    fn one_flipped_byte_or_a_missing_file_refuses_the_whole_restore() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let (seal_to, identity) = recovery(dir.path(), "recovery.txt");
        let (data, database, sha) = office(dir.path(), &key);
        let now = OffsetDateTime::now_utc();
        let good = dir.path().join("backup");
        backup(&data, &database, &good, &key, &seal_to, "office", now).unwrap();
        let blob = format!("blobs/{}/{sha}", &sha[..2]);
        for (n, (file, at)) in
            [(DATABASE, 5000usize), (blob.as_str(), 20), (MANIFEST, 40), (SEALED_KEY, 60)].into_iter().enumerate()
        {
            let copy = dir.path().join(format!("copy-{n}"));
            for entry in walk(&good) {
                let target = copy.join(entry.strip_prefix(&good).unwrap());
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                std::fs::copy(&entry, &target).unwrap();
            }
            let path = copy.join(file);
            let mut bytes = std::fs::read(&path).unwrap();
            let at = at.min(bytes.len() - 1);
            bytes[at] ^= 0x01;
            std::fs::write(&path, bytes).unwrap();
            let target = dir.path().join(format!("target-{n}"));
            std::fs::create_dir_all(&target).unwrap();
            let result = restore(&target, &target.join(DATABASE), &copy, &key, &taking(&identity, true, None), now);
            assert!(result.is_err(), "a flipped byte in {file} was restored");
            assert!(!target.join(DATABASE).exists() && !target.join("blobs").exists(), "{file}: nothing restored");
        }
        let copy = dir.path().join("missing");
        for entry in walk(&good).into_iter().filter(|p| !p.ends_with(&sha)) {
            let target = copy.join(entry.strip_prefix(&good).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&entry, &target).unwrap();
        }
        let target = dir.path().join("target-missing");
        assert!(matches!(
            restore(&target, &target.join(DATABASE), &copy, &key, &taking(&identity, true, None), now),
            Err(BackupError::Tampered(_))
        ));
    }

    #[test]
    fn a_damaged_foreign_or_old_backup_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let (_, identity) = recovery(dir.path(), "recovery.txt");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let database = data.join(DATABASE);
        drop(db::open_sync(&database, &key.database_key()).unwrap());
        let now = OffsetDateTime::now_utc();
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(
            restore(&data, &database, &empty, &key, &taking(&identity, true, None), now),
            Err(BackupError::NotABackup(_))
        ));
        let old = dir.path().join("old");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::write(old.join(MANIFEST), b"simpul backup\ncreated_at=2026-11-01T00:00:00Z\nschema=20\n").unwrap();
        std::fs::write(old.join(DATABASE), vec![0x5a; 8192]).unwrap();
        assert!(
            matches!(restore(&data, &database, &old, &key, &taking(&identity, true, None), now), Err(BackupError::Format(v)) if v == "1")
        );
        assert!(database.exists(), "the database in place was not touched");
        assert_eq!(
            std::fs::read_dir(&data)
                .unwrap()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
                .count(),
            0
        );
        assert!(!database.with_extension("restoring").exists(), "nothing left behind");
    }

    /// Every file under `dir`.
    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
        }
        out
    }
}
