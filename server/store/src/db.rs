//! The SQLite database: opening it with the pragmas the appliance relies on, forward-only
//! migrations, and the async handle the server uses.
//!
//! `synchronous=FULL` is deliberate: with `NORMAL`, a simulated power cut lost acknowledged
//! commits on this hardware; with `FULL` none were lost.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

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
];

/// The newest schema version this binary knows.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

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

/// The schema version of an open database.
pub fn schema_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Opens (creating if needed) and migrates the database for command-line use.
pub fn open_sync(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    configure(&conn)?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens a database file to read it only (no pragmas, no migration).
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    Ok(Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?)
}

/// Writes a consistent copy of the database into the new file `to`, while others may be
/// writing to it (`VACUUM INTO`). Returns the copy's schema version.
pub fn copy_into(conn: &Connection, to: &Path) -> Result<u32, StoreError> {
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    schema_version(conn)
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
pub fn check_file(path: &Path) -> FileCheck {
    let conn = match open_read_only(path) {
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
pub fn checkpoint_file(path: &Path) -> bool {
    let Ok(conn) = Connection::open(path) else { return true };
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
    /// Opens, configures and migrates the database.
    pub async fn open(path: &Path) -> Result<Db, StoreError> {
        let conn = tokio_rusqlite::Connection::open(path).await?;
        let db = Db { conn, path: path.to_path_buf() };
        db.call(|c| {
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
        let conn = open_sync(&path).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), SCHEMA_VERSION);
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "synchronous must be FULL");
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
        drop(conn);
        // Opening again applies nothing.
        let conn = open_sync(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        drop(conn);
        assert!(matches!(open_sync(&path), Err(StoreError::TooNew { .. })));
    }

    #[test]
    fn the_audit_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_sync(&dir.path().join("t.sqlite3")).unwrap();
        conn.execute("INSERT INTO audit_log (at, actor, action) VALUES ('t', 'a', 'x')", []).unwrap();
        assert!(conn.execute("UPDATE audit_log SET action = 'y'", []).is_err());
        assert!(conn.execute("DELETE FROM audit_log", []).is_err());
    }
}
