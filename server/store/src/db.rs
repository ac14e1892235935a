//! The SQLite database: opening it with the box's key and the pragmas the appliance relies
//! on, forward-only migrations, and the async handle the server uses.
//!
//! The file is encrypted with SQLCipher (AES-256, each page authenticated). Every connection is
//! unlocked with [`DbKey`] as its first statement; a file in clear from an older version is
//! encrypted in place by [`encrypt_in_place`] before anything else opens it.
//!
//! `synchronous=FULL` is deliberate: with `NORMAL`, a simulated power cut lost acknowledged
//! commits on this hardware; with `FULL` none were lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::crypt::DbKey;

/// The first 16 bytes of an SQLite file in clear.
const CLEAR_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database thread has stopped.
    #[error("the database connection is closed")]
    Closed,
    /// The file was written by a newer Simpul.
    #[error("the database has schema version {found}, newer than this program knows ({known}); upgrade Simpul")]
    TooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this binary knows.
        known: u32,
    },
    /// Stored data does not decode.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// A record that must be there is not.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken (e.g. a username taken).
    #[error("{0}")]
    Conflict(String),
    /// The file does not open with this key (another box's key, or not a database at all).
    #[error("the database does not open with this box's key (a lost or wrong key, or a damaged file)")]
    WrongKey,
    /// Encrypting a database in clear failed before it was finished (the clear file is intact).
    #[error("encrypting the database failed: {0}")]
    Encrypting(String),
}

impl StoreError {
    /// Whether the disk (or the database's size limit) is full: new work must wait for space,
    /// what was committed is intact, and reads go on.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => e.code == rusqlite::ErrorCode::DiskFull,
            _ => false,
        }
    }
}

/// Whether an I/O error means the disk is full.
pub fn io_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

impl From<tokio_rusqlite::Error<StoreError>> for StoreError {
    fn from(e: tokio_rusqlite::Error<StoreError>) -> Self {
        match e {
            tokio_rusqlite::Error::Error(inner) => inner,
            tokio_rusqlite::Error::ConnectionClosed => StoreError::Closed,
            tokio_rusqlite::Error::Close((_, e)) => StoreError::Sqlite(e),
            _ => StoreError::Closed,
        }
    }
}

/// Runs `f` in one transaction: committed when it succeeds, rolled back when it refuses. A
/// refusal comes back inside `Ok`; a storage failure (which `storage` picks out of `E`) as
/// `Err`, so that callers tell the rules' answer from a broken database.
pub fn transaction<T, E>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>,
    storage: impl FnOnce(E) -> Result<StoreError, E>,
) -> Result<Result<T, E>, StoreError> {
    let tx = conn.transaction()?;
    match f(&tx) {
        Ok(v) => {
            tx.commit()?;
            Ok(Ok(v))
        }
        Err(e) => match storage(e) {
            Ok(store) => Err(store),
            Err(refusal) => Ok(Err(refusal)),
        },
    }
}

/// The migrations, in order. Version N is the N-th entry.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_office_day.sql"),
    include_str!("../migrations/0003_sync.sql"),
    include_str!("../migrations/0004_blob_sync.sql"),
    include_str!("../migrations/0005_reference.sql"),
    include_str!("../migrations/0006_devices.sql"),
    include_str!("../migrations/0007_device_identity.sql"),
    include_str!("../migrations/0008_scans.sql"),
    include_str!("../migrations/0009_resolution_notices.sql"),
    include_str!("../migrations/0010_device_removal.sql"),
    include_str!("../migrations/0011_device_certificate.sql"),
    include_str!("../migrations/0012_password_changes.sql"),
    include_str!("../migrations/0013_blob_failures.sql"),
    include_str!("../migrations/0014_receipt_keys.sql"),
    include_str!("../migrations/0015_box_stations.sql"),
    include_str!("../migrations/0016_restore_cursors.sql"),
    include_str!("../migrations/0017_blob_refs.sql"),
    include_str!("../migrations/0018_scan_jobs.sql"),
    include_str!("../migrations/0019_blob_fetches.sql"),
    include_str!("../migrations/0020_ticket_floors.sql"),
    include_str!("../migrations/0021_capture_transactions.sql"),
    include_str!("../migrations/0022_applications_by_passport.sql"),
    include_str!("../migrations/0023_print_handover.sql"),
    include_str!("../migrations/0024_blob_lacks.sql"),
    include_str!("../migrations/0025_audit_chain.sql"),
];

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Unlocks a connection with the key: the first statement on a new connection. Fails with
/// [`StoreError::WrongKey`] when the file does not open with it.
pub fn unlock(conn: &Connection, key: &DbKey) -> Result<(), StoreError> {
    cipher_ready();
    // A wrong key is reported as an error here; SQLCipher need not also print it to stderr.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let pragma = zeroize::Zeroizing::new(format!("PRAGMA key = {};", key.sql_literal().as_str()));
    conn.execute_batch(&pragma)?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::NotADatabase => {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

/// Waits, once per process, until SQLCipher has finished its own initialisation. SQLite marks
/// itself initialised before it runs SQLCipher's part, so a second thread that opens a
/// connection meanwhile gets a connection that cannot take a key yet ("An error occurred with
/// PRAGMA key"): seen in tests that open databases from many threads at once. Every keyed
/// connection passes here first; the first one keys a throwaway in-memory database until that
/// works (SQLCipher is ready), and the others wait for it.
fn cipher_ready() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        for _ in 0..2000 {
            let keyed = Connection::open_in_memory()
                .and_then(|c| c.execute_batch("PRAGMA cipher_log_level = NONE; PRAGMA key = 'warm-up';"));
            if keyed.is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Whether the file at `path` is an SQLite database in clear (not encrypted).
pub fn is_clear(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == CLEAR_HEADER
}

/// Encrypts, in place, a database file left in clear by a version before encryption. The clear
/// file is folded out of WAL mode, exported into `PATH.encrypting` under the key, synced, and
/// renamed over the clear file (folder synced): a power cut at any point leaves either the whole
/// clear file or the whole encrypted one, and the next start begins again. Returns whether it
/// encrypted anything.
pub fn encrypt_in_place(path: &Path, key: &DbKey) -> Result<bool, StoreError> {
    if !is_clear(path) {
        return Ok(false);
    }
    let fail = |e: &dyn std::fmt::Display| StoreError::Encrypting(e.to_string());
    let partial = sibling(path, ".encrypting");
    for stale in [partial.clone(), sibling(&partial, "-journal")] {
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| fail(&e))?;
        }
    }
    {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
        let version = schema_version(&conn)?;
        export(&conn, &partial, key, version)?;
    }
    std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| fail(&e))?;
    std::fs::rename(&partial, path).map_err(|e| fail(&e))?;
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| fail(&e))?;
    }
    for gone in [sibling(path, "-wal"), sibling(path, "-shm")] {
        let _ = std::fs::remove_file(gone);
    }
    Ok(true)
}

/// Re-encrypts the database file at `path` from key `from` to key `to`, in place. For a file no
/// one else has open (a restore's copy, never the live database): a crash midway leaves a file
/// to be made again from its source.
pub fn rekey(path: &Path, from: &DbKey, to: &DbKey) -> Result<(), StoreError> {
    let conn = Connection::open(path)?;
    unlock(&conn, from)?;
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    let pragma = zeroize::Zeroizing::new(format!("PRAGMA rekey = {};", to.sql_literal().as_str()));
    conn.execute_batch(&pragma)?;
    drop(conn);
    // The new key opens it, or the rekey did not happen.
    let conn = Connection::open(path)?;
    unlock(&conn, to)
}

/// `PATH` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes every table of `conn`'s main database into the new file `to`, encrypted with `key`,
/// with schema version `version`, in one read transaction (a consistent copy while others write).
fn export(conn: &Connection, to: &Path, key: &DbKey, version: u32) -> Result<(), StoreError> {
    let attach = zeroize::Zeroizing::new(format!("ATTACH DATABASE ?1 AS sealed KEY {}", key.sql_literal().as_str()));
    conn.execute(&attach, [to.to_string_lossy()])?;
    let copied = (|| {
        conn.execute_batch("BEGIN")?;
        let done = conn
            .query_row("SELECT sqlcipher_export('sealed')", [], |_| Ok(()))
            .and_then(|()| conn.pragma_update(Some("sealed"), "user_version", version));
        match done {
            Ok(()) => conn.execute_batch("COMMIT"),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    })();
    conn.execute("DETACH DATABASE sealed", [])?;
    Ok(copied?)
}

/// Sets the pragmas every connection needs.
pub fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(StoreError::Corrupt(format!("could not switch to WAL (journal mode is {mode})")));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;")?;
    Ok(())
}

/// Applies the migrations the file lacks, each in its own transaction. Refuses a file from a
/// newer version.
pub fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found: current, known: SCHEMA_VERSION });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(SCHEMA_VERSION)
}

/// The SQLCipher version of a connection's library (`None` when SQLite was built without it).
pub fn cipher_version(conn: &Connection) -> Option<String> {
    conn.query_row("PRAGMA cipher_version", [], |r| r.get(0)).ok()
}

/// The schema version of an open database.
pub fn schema_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Opens (creating if needed, encrypting a file in clear) and migrates the database for
/// command-line use.
pub fn open_sync(path: &Path, key: &DbKey) -> Result<Connection, StoreError> {
    encrypt_in_place(path, key)?;
    let mut conn = Connection::open(path)?;
    unlock(&conn, key)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens a database file to read it only (no pragmas, no migration).
pub fn open_read_only(path: &Path, key: &DbKey) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    unlock(&conn, key)?;
    Ok(conn)
}

/// Writes a consistent copy of the database, encrypted with `key`, into the new file `to`
/// while others may be writing to it. Returns the copy's schema version.
pub fn copy_into(conn: &Connection, to: &Path, key: &DbKey) -> Result<u32, StoreError> {
    let version = schema_version(conn)?;
    export(conn, to, key, version)?;
    Ok(version)
}

/// What a check of a database file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    /// Intact, with this schema version.
    Intact(u32),
    /// Not readable as an intact SQLite file (what SQLite said).
    Damaged(String),
    /// Intact, but written by a newer Simpul.
    TooNew(u32),
}

/// Opens a database file read-only and checks that it is intact and not newer than this binary.
pub fn check_file(path: &Path, key: &DbKey) -> FileCheck {
    let conn = match open_read_only(path, key) {
        Ok(conn) => conn,
        Err(e) => return FileCheck::Damaged(e.to_string()),
    };
    let verdict: Result<String, _> = conn.query_row("PRAGMA integrity_check(1)", [], |r| r.get(0));
    match verdict {
        Ok(v) if v == "ok" => {}
        Ok(v) => return FileCheck::Damaged(v),
        Err(e) => return FileCheck::Damaged(e.to_string()),
    }
    match schema_version(&conn) {
        Ok(found) if found > SCHEMA_VERSION => FileCheck::TooNew(found),
        Ok(found) => FileCheck::Intact(found),
        Err(e) => FileCheck::Damaged(e.to_string()),
    }
}

/// Folds the write-ahead log of the database at `path` into the file, when it opens. False
/// when another connection keeps it from finishing (the database is in use).
pub fn checkpoint_file(path: &Path, key: &DbKey) -> bool {
    let Ok(conn) = Connection::open(path) else { return true };
    if unlock(&conn, key).is_err() {
        return true;
    }
    let busy: Result<i64, _> = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0));
    !busy.is_ok_and(|b| b != 0)
}

/// Leaves WAL mode, so that the file stands alone (no `-wal` beside it).
pub fn leave_wal(conn: &Connection) -> Result<(), StoreError> {
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    Ok(())
}

/// Begins a transaction that takes the write lock at once: a command-line writer beside a
/// running server waits for its turn at the start instead of failing halfway.
pub fn write_transaction(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}

/// Whether the database answers a trivial query.
pub fn answers(conn: &Connection) -> bool {
    conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).is_ok()
}

/// The database as the server uses it: one connection on its own thread, shared by the
/// sessions store and the application. Every call runs in the caller's tracing span.
#[derive(Clone)]
pub struct Db {
    conn: tokio_rusqlite::Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (encrypting a file in clear first), configures and migrates the database.
    pub async fn open(path: &Path, key: DbKey) -> Result<Db, StoreError> {
        let at = path.to_path_buf();
        let key = std::sync::Arc::new(key);
        let for_encrypt = key.clone();
        let encrypted = tokio::task::spawn_blocking(move || encrypt_in_place(&at, &for_encrypt))
            .await
            .map_err(|e| StoreError::Encrypting(e.to_string()))??;
        if encrypted {
            tracing::warn!("the database was in clear; it is encrypted now and the clear file is gone");
        }
        let conn = tokio_rusqlite::Connection::open(path).await?;
        let db = Db { conn, path: path.to_path_buf() };
        db.call(move |c| {
            unlock(c, &key)?;
            configure(c)?;
            migrate(c)?;
            Ok(())
        })
        .await?;
        Ok(db)
    }

    /// Runs `f` on the database thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let span = tracing::Span::current();
        Ok(self.conn.call(move |c| span.in_scope(|| f(c))).await?)
    }

    /// The connection, for the sessions store.
    pub fn connection(&self) -> tokio_rusqlite::Connection {
        self.conn.clone()
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypt::MasterKey;

    fn key() -> DbKey {
        MasterKey::generate().unwrap().database_key()
    }

    #[test]
    fn the_file_is_encrypted_and_opens_with_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let key = key();
        let conn = open_sync(&path, &key).unwrap();
        conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'Ni Luh Putu Sari', 'x')", []).unwrap();
        drop(conn);
        assert!(!is_clear(&path));
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(8).any(|w| w == b"Ni Luh P"), "a name in clear in the file");
        assert!(matches!(open_sync(&path, &self::key()), Err(StoreError::WrongKey)));
        assert!(matches!(check_file(&path, &self::key()), FileCheck::Damaged(_)));
        assert_eq!(check_file(&path, &key), FileCheck::Intact(SCHEMA_VERSION));
        // Without any key, SQLite sees no database at all.
        let bare = Connection::open(&path).unwrap();
        assert!(bare.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)).is_err());
    }

    #[test]
    fn a_clear_file_is_encrypted_in_place_and_a_crash_halfway_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        {
            // A database as an older version left it: in clear, in WAL mode, a row in the log.
            let mut conn = Connection::open(&path).unwrap();
            configure(&conn).unwrap();
            migrate(&mut conn).unwrap();
            conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'Ni Luh Putu Sari', 'x')", [])
                .unwrap();
        }
        assert!(is_clear(&path));
        // A crash in the middle of an earlier attempt left a half-written copy: it is redone.
        std::fs::write(sibling(&path, ".encrypting"), b"half a file").unwrap();
        let key = key();
        assert!(encrypt_in_place(&path, &key).unwrap());
        assert!(!is_clear(&path));
        assert!(!sibling(&path, ".encrypting").exists());
        assert!(!encrypt_in_place(&path, &key).unwrap(), "done once");
        let conn = open_sync(&path, &key).unwrap();
        let actor: String = conn.query_row("SELECT actor FROM audit_log", [], |r| r.get(0)).unwrap();
        assert_eq!(actor, "Ni Luh Putu Sari");
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let copy = dir.path().join("copy.sqlite3");
        assert_eq!(copy_into(&conn, &copy, &key).unwrap(), SCHEMA_VERSION);
        assert!(!is_clear(&copy));
        assert_eq!(check_file(&copy, &key), FileCheck::Intact(SCHEMA_VERSION));
    }

    #[test]
    fn every_migration_file_is_applied() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "sql"))
            .count();
        assert_eq!(files, MIGRATIONS.len(), "a migration file is missing from MIGRATIONS");
    }

    #[test]
    fn migrates_once_and_refuses_newer_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let key = key();
        let conn = open_sync(&path, &key).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "synchronous must be FULL");
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        drop(conn);
        // Opening again applies nothing.
        let conn = open_sync(&path, &key).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(conn);
        assert!(matches!(open_sync(&path, &key), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn the_audit_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_sync(&dir.path().join("t.sqlite3"), &key()).unwrap();
        conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'a', 'x')", []).unwrap();
        assert!(conn.execute("UPDATE audit_log SET action = 'y'", []).is_err());
        assert!(conn.execute("DELETE FROM audit_log", []).is_err());
    }
}
