//! Backup and restore of a box's (or hub's) data directory.
//!
//! A backup is a folder: a consistent copy of the database taken while the server runs
//! (encrypted with the box's database key), the attachment blobs (sealed with its file key)
//! and the TLS identity. It restores onto the box whose key made it; encrypting backups to the
//! regency's recovery key, so that another box can restore them, is still to come (issue #7). A restore takes a box back in
//! time, so it does what a plain file copy would not:
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

use std::path::{Path, PathBuf};

use simpul_store::crypt::MasterKey;
use simpul_store::db::{self, FileCheck, StoreError};
use simpul_store::{Connection, audit, stamp};
use time::OffsetDateTime;

/// The database file's name inside a backup folder.
const DATABASE: &str = "simpul.sqlite3";
/// The manifest's name inside a backup folder.
const MANIFEST: &str = "SIMPUL-BACKUP.txt";
/// The TLS identity's folder inside a data directory and a backup.
const TLS: &str = "tls";
/// The first count of the day after a restore (the upper block of a station).
const FIRST_AFTER_RESTORE: u32 = 999;

/// Why a backup or restore failed. Nothing of the running data was changed unless it says so.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target of a backup is not an empty or new folder.
    #[error("{0} already exists and is not empty: choose a new folder for the backup")]
    TargetNotEmpty(PathBuf),
    /// The folder is no Simpul backup.
    #[error("{0} is not a Simpul backup (no {MANIFEST} and {DATABASE} in it)")]
    NotABackup(PathBuf),
    /// The backup's database is damaged.
    #[error("the backup's database is damaged: {0}")]
    Damaged(String),
    /// The backup comes from a newer version.
    #[error("the backup was made by a newer Simpul (schema {found}, this one knows {known}); update first")]
    TooNew {
        /// Schema version in the backup.
        found: u32,
        /// Schema version this binary knows.
        known: u32,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another program has the database open.
    #[error("another program is using the database: stop the server (and any simpul command) first")]
    InUse,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
}

/// Backs up the data directory `data_dir` (database at `database`) into the new folder `to`,
/// while the server may be running.
pub fn backup(
    data_dir: &Path,
    database: &Path,
    to: &Path,
    key: &MasterKey,
    now: OffsetDateTime,
) -> Result<Summary, BackupError> {
    if to.exists() && std::fs::read_dir(to).map_err(io(to))?.next().is_some() {
        return Err(BackupError::TargetNotEmpty(to.to_path_buf()));
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    let conn = db::open_sync(database, &key.database_key())?;
    let copy = to.join(DATABASE);
    let schema = db::copy_into(&conn, &copy, &key.database_key())?;
    audit::record(&conn, now, &audit::Actor::Cli, "backup_made", None, None)?;
    drop(conn);
    let blobs = copy_tree(&data_dir.join("blobs"), &to.join("blobs"), &|p| !p.ends_with("partial"))?;
    copy_tree(&data_dir.join(TLS), &to.join(TLS), &|_| true)?;
    let manifest = format!("simpul backup\ncreated_at={}\nschema={schema}\n", stamp(now));
    write_synced(&to.join(MANIFEST), manifest.as_bytes())?;
    let database_bytes = std::fs::metadata(&copy).map_err(io(&copy))?.len();
    Ok(Summary { database_bytes, blobs, kept: None })
}

/// Restores the backup in `from` into `data_dir` (database at `database`). The server must be
/// stopped. The database it replaces is kept beside it.
pub fn restore(
    data_dir: &Path,
    database: &Path,
    from: &Path,
    key: &MasterKey,
    now: OffsetDateTime,
) -> Result<Summary, BackupError> {
    let source = from.join(DATABASE);
    if !source.is_file() || !from.join(MANIFEST).is_file() {
        return Err(BackupError::NotABackup(from.to_path_buf()));
    }
    let ready = database.with_extension("restoring");
    for stale in [ready.clone(), with_suffix(&ready, "-wal"), with_suffix(&ready, "-shm")] {
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(io(&stale))?;
        }
    }
    std::fs::copy(&source, &ready).map_err(io(&ready))?;
    // A backup made before encryption holds its database in clear: the copy is encrypted here
    // (its files, in clear too, are sealed at the next start).
    let checked =
        db::encrypt_in_place(&ready, &key.database_key()).map_err(BackupError::from).and_then(|_| check(&ready, key));
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&ready);
        return Err(e);
    }
    // Everything that takes long or can fail happens before the live database is touched: the
    // files first (named by their content, so adding them early is harmless), then a copy of
    // the backup's database made ready beside it, which only then takes its place.
    let blobs = copy_tree(&from.join("blobs"), &data_dir.join("blobs"), &|_| true)?;
    // The identity the box has now is kept (it may have enrolled again since the backup).
    let tls = data_dir.join(TLS);
    if !tls.join("box.pem").exists() && !tls.join("hub-ca.key").exists() {
        copy_tree(&from.join(TLS), &tls, &|_| true)?;
    }
    prepare(&ready, data_dir, database, key, now)?;
    std::fs::File::open(&ready).and_then(|f| f.sync_all()).map_err(io(&ready))?;
    let kept = if database.exists() { Some(set_aside(database, key, now)?) } else { None };
    std::fs::rename(&ready, database).map_err(io(database))?;
    if let Some(dir) = database.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    }
    let database_bytes = std::fs::metadata(database).map_err(io(database))?.len();
    Ok(Summary { database_bytes, blobs, kept })
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
    audit::record(&tx, now, &audit::Actor::Cli, "restored_from_backup", None, None)?;
    tx.commit().map_err(StoreError::from)?;
    db::leave_wal(&conn)?;
    Ok(())
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

/// Moves the database and its WAL files aside under one new name; returns it.
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
    std::fs::rename(database, &kept).map_err(io(database))?;
    Ok(kept)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    use std::io::Write;
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io(path))
}

/// Copies the files under `from` into `to` that `to` lacks; skips folders `keep` refuses.
/// Returns how many files it copied. A missing `from` copies nothing.
fn copy_tree(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<u64, BackupError> {
    if !from.is_dir() {
        return Ok(0);
    }
    std::fs::create_dir_all(to).map_err(io(to))?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            if keep(&path) {
                copied += copy_tree(&path, &target, keep)?;
            }
        } else if kind.is_file() && !target.exists() {
            std::fs::copy(&path, &target).map_err(io(&path))?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_keeps_what_it_replaces_and_numbers_in_the_upper_block() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("blobs/ab")).unwrap();
        std::fs::write(data.join("blobs/ab/abcd"), b"scan").unwrap();
        let database = data.join(DATABASE);
        let now = OffsetDateTime::now_utc();
        let conn = db::open_sync(&database, &key.database_key()).unwrap();
        simpul_store::settings::put(&conn, "marker", "before").unwrap();
        drop(conn);
        let to = dir.path().join("backup");
        let made = backup(&data, &database, &to, &key, now).unwrap();
        assert_eq!(made.blobs, 1);
        assert!(matches!(backup(&data, &database, &to, &key, now), Err(BackupError::TargetNotEmpty(_))));

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
        let restored = restore(&data, &database, &to, &key, now).unwrap();
        assert_eq!(restored.blobs, 1, "the blob comes back");
        let conn = db::open_sync(&database, &key.database_key()).unwrap();
        assert_eq!(simpul_store::settings::get(&conn, "marker").unwrap().as_deref(), Some("before"));
        let last: u32 =
            conn.query_row("SELECT last FROM daily_sequences WHERE scope = 'application'", [], |r| r.get(0)).unwrap();
        assert_eq!(last, FIRST_AFTER_RESTORE);
        // Queue tickets of the day go on above any handed out between backup and restore.
        let floor: u16 = conn.query_row("SELECT floor FROM queue_floors", [], |r| r.get(0)).unwrap();
        assert_eq!(floor, 500, "above what the replaced database had handed out");
        let kept = db::open_sync(&restored.kept.unwrap(), &key.database_key()).unwrap();
        assert_eq!(simpul_store::settings::get(&kept, "marker").unwrap().as_deref(), Some("after"), "kept, not lost");
    }

    #[test]
    fn a_damaged_or_foreign_backup_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let database = data.join(DATABASE);
        drop(db::open_sync(&database, &key.database_key()).unwrap());
        let now = OffsetDateTime::now_utc();
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(restore(&data, &database, &empty, &key, now), Err(BackupError::NotABackup(_))));
        let bad = dir.path().join("bad");
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join(MANIFEST), b"simpul backup\n").unwrap();
        std::fs::write(bad.join(DATABASE), vec![0x5a; 8192]).unwrap();
        assert!(matches!(restore(&data, &database, &bad, &key, now), Err(BackupError::Damaged(_))));
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
}
