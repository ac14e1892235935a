//! Configured devices and print jobs.

use rusqlite::{Connection, OptionalExtension, Row, params};
use simpul_hardware::DeviceKind;
use time::OffsetDateTime;

use super::stamp;

/// Scheduling times are kept to the second, so that their text sorts as time does.
fn second(at: OffsetDateTime) -> String {
    stamp(at.replace_nanosecond(0).unwrap_or(at))
}
use crate::db::StoreError;

/// A configured device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Id (UUID).
    pub id: String,
    /// Kind.
    pub kind: DeviceKind,
    /// Name staff know it by.
    pub name: String,
    /// Address: `ipp://…` for a document printer, `host:port` for a ticket printer.
    pub address: String,
    /// The counter that uses it (none: the whole office).
    pub counter: Option<String>,
    /// Its last reported state (JSON).
    pub state: Option<String>,
    /// When it was last checked.
    pub checked_at: Option<String>,
    /// The identity pinned at its first check (printer-uuid, scanner UUID, key fingerprint).
    pub identity: Option<String>,
}

const DEVICE_COLUMNS: &str = "id, kind, name, address, counter, state, checked_at, identity";

fn device_row(r: &Row<'_>) -> rusqlite::Result<Result<Device, StoreError>> {
    let kind: String = r.get(1)?;
    let Some(kind) = DeviceKind::from_code(&kind) else {
        return Ok(Err(StoreError::Corrupt(format!("device kind '{kind}'"))));
    };
    Ok(Ok(Device {
        id: r.get(0)?,
        kind,
        name: r.get(2)?,
        address: r.get(3)?,
        counter: r.get(4)?,
        state: r.get(5)?,
        checked_at: r.get(6)?,
        identity: r.get(7)?,
    }))
}

/// Adds a device; the same kind at the same address is a [`StoreError::Conflict`].
pub fn add(
    conn: &Connection,
    kind: DeviceKind,
    name: &str,
    address: &str,
    counter: Option<&str>,
    at: OffsetDateTime,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    match conn.execute(
        "INSERT INTO devices (id, kind, name, address, counter, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, kind.code(), name, address, counter, stamp(at)],
    ) {
        Ok(_) => Ok(id),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::Conflict(format!("a {} at {address} is already configured", kind.code())))
        }
        Err(e) => Err(e.into()),
    }
}

/// Every device.
pub fn list(conn: &Connection) -> Result<Vec<Device>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY kind, name"))?;
    let rows = stmt.query_map([], device_row)?;
    rows.map(|r| r?).collect()
}

/// One device.
pub fn get(conn: &Connection, id: &str) -> Result<Option<Device>, StoreError> {
    conn.query_row(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"), [id], device_row)
        .optional()?
        .transpose()
}

/// The device of `kind` for `counter`: the counter's own, else the office's.
pub fn for_counter(conn: &Connection, kind: DeviceKind, counter: Option<&str>) -> Result<Option<Device>, StoreError> {
    conn.query_row(
        &format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE kind = ?1 AND (counter = ?2 OR counter IS NULL)
             ORDER BY counter IS NULL, name LIMIT 1"
        ),
        params![kind.code(), counter],
        device_row,
    )
    .optional()?
    .transpose()
}

/// Keeps what a device said of itself.
pub fn set_state(conn: &Connection, id: &str, state: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute("UPDATE devices SET state = ?2, checked_at = ?3 WHERE id = ?1", params![id, state, stamp(at)])?;
    Ok(())
}

/// Pins a device's identity (`None`: forget it, so that the next check pins what answers).
pub fn set_identity(conn: &Connection, id: &str, identity: Option<&str>) -> Result<(), StoreError> {
    conn.execute("UPDATE devices SET identity = ?2 WHERE id = ?1", params![id, identity])?;
    Ok(())
}

/// Moves a device to a counter (`None`: the whole office).
pub fn set_counter(conn: &Connection, id: &str, counter: Option<&str>) -> Result<bool, StoreError> {
    Ok(conn.execute("UPDATE devices SET counter = ?2 WHERE id = ?1", params![id, counter])? == 1)
}

/// Where a print job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to be sent (again).
    Queued,
    /// At the printer.
    Sent,
    /// Printed.
    Done,
    /// Given up; a re-print is an explicit action.
    Failed,
}

impl JobStatus {
    fn code(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Sent => "sent",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }

    fn from_code(code: &str) -> Option<JobStatus> {
        [JobStatus::Queued, JobStatus::Sent, JobStatus::Done, JobStatus::Failed].into_iter().find(|s| s.code() == code)
    }
}

/// A print job without its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Id.
    pub id: String,
    /// The printer.
    pub device_id: String,
    /// Title ("Tanda terima 510302-…").
    pub title: String,
    /// What it belongs to (an application id).
    pub subject: Option<String>,
    /// MIME type of the document.
    pub format: String,
    /// Where it is.
    pub status: JobStatus,
    /// Tries so far.
    pub attempts: u32,
    /// Last error code.
    pub error: Option<String>,
    /// The printer's job id once sent.
    pub remote_job: Option<i32>,
    /// Updated.
    pub updated_at: String,
}

const JOB_COLUMNS: &str = "id, device_id, title, subject, format, status, attempts, error, remote_job, updated_at";

fn job_row(r: &Row<'_>) -> rusqlite::Result<Result<Job, StoreError>> {
    let status: String = r.get(5)?;
    let Some(status) = JobStatus::from_code(&status) else {
        return Ok(Err(StoreError::Corrupt(format!("print job status '{status}'"))));
    };
    Ok(Ok(Job {
        id: r.get(0)?,
        device_id: r.get(1)?,
        title: r.get(2)?,
        subject: r.get(3)?,
        format: r.get(4)?,
        status,
        attempts: r.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
        error: r.get(7)?,
        remote_job: r.get(8)?,
        updated_at: r.get(9)?,
    }))
}

/// A job to add.
pub struct NewJob<'a> {
    /// Printer.
    pub device_id: &'a str,
    /// Title.
    pub title: &'a str,
    /// What it belongs to.
    pub subject: Option<&'a str>,
    /// MIME type.
    pub format: &'a str,
    /// The document.
    pub document: &'a [u8],
    /// Who asked.
    pub created_by: &'a str,
    /// The job this one prints again.
    pub reprint_of: Option<&'a str>,
}

/// Queues a job, due now.
pub fn enqueue(conn: &Connection, job: &NewJob<'_>, at: OffsetDateTime) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = second(at);
    conn.execute(
        "INSERT INTO print_jobs (id, device_id, title, subject, format, document, status, next_at, reprint_of,
                                 created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, ?7, ?7)",
        params![
            id,
            job.device_id,
            job.title,
            job.subject,
            job.format,
            job.document,
            now,
            job.reprint_of,
            job.created_by
        ],
    )?;
    Ok(id)
}

/// Prints a job again: a new job with the same document. Returns its id.
pub fn reprint(conn: &Connection, id: &str, by: &str, at: OffsetDateTime) -> Result<String, StoreError> {
    let (device_id, title, subject, format, document): (String, String, Option<String>, String, Vec<u8>) = conn
        .query_row("SELECT device_id, title, subject, format, document FROM print_jobs WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let new = NewJob {
        device_id: &device_id,
        title: &title,
        subject: subject.as_deref(),
        format: &format,
        document: &document,
        created_by: by,
        reprint_of: Some(id),
    };
    enqueue(conn, &new, at)
}

/// Jobs due at `now` (queued and due, or sent and to be followed), oldest first.
pub fn due(conn: &Connection, now: OffsetDateTime, limit: usize) -> Result<Vec<Job>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs WHERE status IN ('queued', 'sent') AND next_at <= ?1
         ORDER BY next_at LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![second(now), i64::try_from(limit).unwrap_or(i64::MAX)], job_row)?;
    rows.map(|r| r?).collect()
}

/// A job's document.
pub fn document(conn: &Connection, id: &str) -> Result<Vec<u8>, StoreError> {
    conn.query_row("SELECT document FROM print_jobs WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// One job.
pub fn job(conn: &Connection, id: &str) -> Result<Option<Job>, StoreError> {
    conn.query_row(&format!("SELECT {JOB_COLUMNS} FROM print_jobs WHERE id = ?1"), [id], job_row)
        .optional()?
        .transpose()
}

/// Jobs of a subject (an application), newest first.
pub fn jobs_of(conn: &Connection, subject: &str) -> Result<Vec<Job>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {JOB_COLUMNS} FROM print_jobs WHERE subject = ?1 ORDER BY created_at DESC LIMIT 50"
    ))?;
    let rows = stmt.query_map([subject], job_row)?;
    rows.map(|r| r?).collect()
}

/// The newest jobs.
pub fn recent(conn: &Connection, limit: usize) -> Result<Vec<Job>, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {JOB_COLUMNS} FROM print_jobs ORDER BY created_at DESC LIMIT ?1"))?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], job_row)?;
    rows.map(|r| r?).collect()
}

/// What happened to a job in one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the printer as its job `remote`; follow it from `next`.
    Sent {
        /// The printer's job id.
        remote: i32,
        /// When to look again.
        next: OffsetDateTime,
    },
    /// Still at the printer; look again at `next`.
    Waiting(OffsetDateTime),
    /// Printed.
    Done,
    /// Failed for now with `error`; try again at `next`.
    Retry {
        /// Error code.
        error: String,
        /// When.
        next: OffsetDateTime,
    },
    /// Failed for good with `error`.
    Failed(String),
}

/// Records an attempt's outcome.
pub fn record(conn: &Connection, id: &str, outcome: &Outcome, at: OffsetDateTime) -> Result<(), StoreError> {
    let now = stamp(at);
    match outcome {
        Outcome::Sent { remote, next } => conn.execute(
            "UPDATE print_jobs SET status = 'sent', remote_job = ?2, attempts = attempts + 1, error = NULL,
             next_at = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, remote, second(*next), now],
        )?,
        Outcome::Waiting(next) => {
            conn.execute("UPDATE print_jobs SET next_at = ?2 WHERE id = ?1", params![id, second(*next)])?
        }
        Outcome::Done => conn.execute(
            "UPDATE print_jobs SET status = 'done', error = NULL, updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?,
        Outcome::Retry { error, next } => conn.execute(
            "UPDATE print_jobs SET status = 'queued', remote_job = NULL, attempts = attempts + 1, error = ?2,
             next_at = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, error, second(*next), now],
        )?,
        Outcome::Failed(error) => conn.execute(
            "UPDATE print_jobs SET status = 'failed', attempts = attempts + 1, error = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, error, now],
        )?,
    };
    Ok(())
}
