//! Configured devices and print jobs.

use rusqlite::{Connection, OptionalExtension, Row, params};
use simpul_domain::office::DeviceKind;
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
    /// The SHA-256 fingerprint of its TLS certificate, pinned at its first check over HTTPS.
    pub certificate: Option<String>,
}

const DEVICE_COLUMNS: &str = "id, kind, name, address, counter, state, checked_at, identity, certificate";

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
        certificate: r.get(8)?,
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
            // A device removed earlier at this address comes back, as a new device would: new
            // name and counter, nothing remembered of what answered there before.
            let revived = conn
                .query_row(
                    "UPDATE devices SET retired_at = NULL, name = ?3, counter = ?4, state = NULL, checked_at = NULL,
                            identity = NULL, certificate = NULL, added_at = ?5
                     WHERE kind = ?1 AND address = ?2 AND retired_at IS NOT NULL RETURNING id",
                    params![kind.code(), address, name, counter, stamp(at)],
                    |r| r.get::<_, String>(0),
                )
                .optional()?;
            revived.ok_or_else(|| StoreError::Conflict(format!("a {} at {address} is already configured", kind.code())))
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes device `id` out of service: no longer listed, offered or printed to. Its unfinished
/// jobs fail with `device_removed` (their documents stay, for printing elsewhere). Answers how
/// many jobs were stopped; `NotFound` when there is no such device in service.
pub fn retire(conn: &Connection, id: &str, at: OffsetDateTime) -> Result<usize, StoreError> {
    let changed = conn
        .execute("UPDATE devices SET retired_at = ?2 WHERE id = ?1 AND retired_at IS NULL", params![id, stamp(at)])?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(conn.execute(
        "UPDATE print_jobs SET status = 'failed', error = 'device_removed', updated_at = ?2
         WHERE device_id = ?1 AND status IN ('queued', 'sent')",
        params![id, stamp(at)],
    )?)
}

/// Gives device `id` a new name (already checked). `false` when there is no such device in
/// service.
pub fn rename(conn: &Connection, id: &str, name: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("UPDATE devices SET name = ?2 WHERE id = ?1 AND retired_at IS NULL", params![id, name])? == 1)
}

/// Every device.
pub fn list(conn: &Connection) -> Result<Vec<Device>, StoreError> {
    let mut stmt =
        conn.prepare(&format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE retired_at IS NULL ORDER BY kind, name"))?;
    let rows = stmt.query_map([], device_row)?;
    rows.map(|r| r?).collect()
}

/// Every device's name by id, removed ones included (their jobs still name them).
pub fn names(conn: &Connection) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM devices")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
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
            "SELECT {DEVICE_COLUMNS} FROM devices
             WHERE kind = ?1 AND (counter = ?2 OR counter IS NULL) AND retired_at IS NULL
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

/// Pins a device's TLS certificate fingerprint, unless one is pinned already (two checks at
/// once must not let the second replace the first).
pub fn pin_certificate(conn: &Connection, id: &str, certificate: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE devices SET certificate = ?2 WHERE id = ?1 AND certificate IS NULL",
        params![id, certificate],
    )?;
    Ok(())
}

/// Forgets a device's TLS certificate fingerprint: the next check pins what it presents.
pub fn forget_certificate(conn: &Connection, id: &str) -> Result<(), StoreError> {
    conn.execute("UPDATE devices SET certificate = NULL WHERE id = ?1", [id])?;
    Ok(())
}

/// Moves a device to a counter (`None`: the whole office).
pub fn set_counter(conn: &Connection, id: &str, counter: Option<&str>) -> Result<bool, StoreError> {
    Ok(conn.execute("UPDATE devices SET counter = ?2 WHERE id = ?1 AND retired_at IS NULL", params![id, counter])? == 1)
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
    /// A hand-over to the printer began and its answer was never recorded (the box stopped,
    /// or the connection broke mid-way): the printer may hold the document already.
    pub uncertain: bool,
}

impl Job {
    /// The name the job carries at the printer: its title and a part of its id that tells it
    /// from every other job, so the box can find it there again.
    pub fn printer_name(&self) -> String {
        let tail = self.id.get(self.id.len().saturating_sub(12)..).unwrap_or(&self.id);
        format!("{} [{tail}]", self.title)
    }
}

const JOB_COLUMNS: &str =
    "id, device_id, title, subject, format, status, attempts, error, remote_job, updated_at, handed_at IS NOT NULL";

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
        uncertain: r.get(10)?,
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

/// Queues job `id`'s document again, on its device or, when that device was removed, on the
/// device of the same kind now serving the same counter. `None` when no such device is in
/// service.
pub fn reprint(conn: &Connection, id: &str, by: &str, at: OffsetDateTime) -> Result<Option<String>, StoreError> {
    let (device_id, title, subject, format, document): (String, String, Option<String>, String, Vec<u8>) = conn
        .query_row("SELECT device_id, title, subject, format, document FROM print_jobs WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let (kind, counter, retired): (String, Option<String>, bool) =
        conn.query_row("SELECT kind, counter, retired_at IS NOT NULL FROM devices WHERE id = ?1", [&device_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let target = if retired {
        let kind = DeviceKind::from_code(&kind).ok_or_else(|| StoreError::Corrupt(format!("device kind '{kind}'")))?;
        match for_counter(conn, kind, counter.as_deref())? {
            Some(d) => d.id,
            None => return Ok(None),
        }
    } else {
        device_id
    };
    let new = NewJob {
        device_id: &target,
        title: &title,
        subject: subject.as_deref(),
        format: &format,
        document: &document,
        created_by: by,
        reprint_of: Some(id),
    };
    enqueue(conn, &new, at).map(Some)
}

/// The printers with a job due at `now` (queued and due, or sent and to be followed).
pub fn due_printers(conn: &Connection, now: OffsetDateTime) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT DISTINCT device_id FROM print_jobs WHERE status IN ('queued', 'sent') AND next_at <= ?1")?;
    let rows = stmt.query_map(params![second(now)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The job of `device` that is due first at `now`, read as it is now.
pub fn next_due(conn: &Connection, device: &str, now: OffsetDateTime) -> Result<Option<Job>, StoreError> {
    conn.query_row(
        &format!(
            "SELECT {JOB_COLUMNS} FROM print_jobs
             WHERE device_id = ?1 AND status IN ('queued', 'sent') AND next_at <= ?2 ORDER BY next_at LIMIT 1"
        ),
        params![device, second(now)],
        job_row,
    )
    .optional()?
    .transpose()
}

/// Notes, before job `id`'s document goes to its printer, that a hand-over began (kept from an
/// earlier one that never got its answer).
pub fn begin_handover(conn: &Connection, id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE print_jobs SET handed_at = COALESCE(handed_at, ?2) WHERE id = ?1 AND status = 'queued'",
        params![id, stamp(at)],
    )?;
    Ok(())
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
    /// Still at the printer; look again at `next`. `reason` says why it does not move (the
    /// printer is out of paper, or does not answer): the job stays sent, is not sent again (it
    /// may still come out), and staff see the reason.
    Waiting {
        /// When to look again.
        next: OffsetDateTime,
        /// Why the job does not move, as an error code; `None` while it simply prints.
        reason: Option<String>,
    },
    /// Printed.
    Done,
    /// Failed for now with `error`; try again at `next`.
    Retry {
        /// Error code.
        error: String,
        /// When.
        next: OffsetDateTime,
        /// The document may have reached the printer (the connection broke or timed out
        /// during the hand-over): ask the printer before sending it again.
        uncertain: bool,
    },
    /// Failed for good with `error`.
    Failed(String),
}

/// Records an attempt's outcome. A job that is no longer under way (stopped because its device
/// was removed while the attempt ran) keeps its state: a late outcome changes nothing.
pub fn record(conn: &Connection, id: &str, outcome: &Outcome, at: OffsetDateTime) -> Result<(), StoreError> {
    let now = stamp(at);
    match outcome {
        Outcome::Sent { remote, next } => conn.execute(
            "UPDATE print_jobs SET status = 'sent', remote_job = ?2, attempts = attempts + 1, error = NULL,
             next_at = ?3, updated_at = ?4, handed_at = NULL WHERE id = ?1 AND status IN ('queued', 'sent')",
            params![id, remote, second(*next), now],
        )?,
        Outcome::Waiting { next, reason } => conn.execute(
            "UPDATE print_jobs SET next_at = ?2, error = ?3 WHERE id = ?1 AND status IN ('queued', 'sent')",
            params![id, second(*next), reason],
        )?,
        Outcome::Done => conn.execute(
            "UPDATE print_jobs SET status = 'done', error = NULL, updated_at = ?2, handed_at = NULL
             WHERE id = ?1 AND status IN ('queued', 'sent')",
            params![id, now],
        )?,
        Outcome::Retry { error, next, uncertain } => conn.execute(
            "UPDATE print_jobs SET status = 'queued', remote_job = NULL, attempts = attempts + 1, error = ?2,
             next_at = ?3, updated_at = ?4, handed_at = CASE WHEN ?5 THEN handed_at END
             WHERE id = ?1 AND status IN ('queued', 'sent')",
            params![id, error, second(*next), now, uncertain],
        )?,
        Outcome::Failed(error) => conn.execute(
            "UPDATE print_jobs SET status = 'failed', attempts = attempts + 1, error = ?2, updated_at = ?3,
             handed_at = NULL WHERE id = ?1 AND status IN ('queued', 'sent')",
            params![id, error, now],
        )?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job<'a>(device: &'a str, document: &'a [u8]) -> NewJob<'a> {
        NewJob {
            device_id: device,
            title: "Tanda terima",
            subject: Some("app-1"),
            format: "application/pdf",
            document,
            created_by: "staff-1",
            reprint_of: None,
        }
    }

    #[test]
    fn a_hand_over_stays_uncertain_until_the_printer_answers() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let printer = add(&conn, DeviceKind::DocumentPrinter, "P", "ipp://10.0.0.9/ipp/print", None, now).unwrap();
        let id = enqueue(&conn, &new_job(&printer, b"%PDF-1.7"), now).unwrap();
        let uncertain = |conn: &Connection| super::job(conn, &id).unwrap().unwrap().uncertain;
        assert!(!uncertain(&conn));
        begin_handover(&conn, &id, now).unwrap();
        assert!(uncertain(&conn), "a crash from here on leaves the job uncertain");
        let cut = Outcome::Retry { error: "dropped".into(), next: now, uncertain: true };
        record(&conn, &id, &cut, now).unwrap();
        assert!(uncertain(&conn), "a broken hand-over stays uncertain");
        record(&conn, &id, &Outcome::Retry { error: "unreachable".into(), next: now, uncertain: false }, now).unwrap();
        assert!(!uncertain(&conn), "nothing answered: nothing went out");
        begin_handover(&conn, &id, now).unwrap();
        record(&conn, &id, &Outcome::Sent { remote: 3, next: now }, now).unwrap();
        let sent = super::job(&conn, &id).unwrap().unwrap();
        assert_eq!((sent.status, sent.uncertain), (JobStatus::Sent, false));
        assert!(sent.printer_name().starts_with("Tanda terima ["), "{}", sent.printer_name());
        assert!(sent.printer_name().ends_with(&format!("{}]", &id[id.len() - 12..])));
    }

    #[test]
    fn a_removed_printer_stops_its_jobs_keeps_their_documents_and_hands_reprints_to_its_successor() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let old = add(&conn, DeviceKind::DocumentPrinter, "Lama", "ipp://10.0.0.9/ipp/print", None, now).unwrap();
        let waiting = enqueue(&conn, &new_job(&old, b"%PDF-1.7 tanda terima"), now).unwrap();

        assert_eq!(retire(&conn, &old, now).unwrap(), 1);
        assert!(list(&conn).unwrap().is_empty(), "a removed device is not listed");
        assert!(for_counter(&conn, DeviceKind::DocumentPrinter, None).unwrap().is_none());
        let stopped = super::job(&conn, &waiting).unwrap().unwrap();
        assert_eq!(stopped.status, JobStatus::Failed);
        assert_eq!(stopped.error.as_deref(), Some("device_removed"));
        assert_eq!(document(&conn, &waiting).unwrap(), b"%PDF-1.7 tanda terima");
        assert!(due_printers(&conn, now + time::Duration::hours(1)).unwrap().is_empty());
        assert!(matches!(retire(&conn, &old, now), Err(StoreError::NotFound)));
        assert!(!rename(&conn, &old, "x").unwrap());
        assert_eq!(names(&conn).unwrap().get(&old).map(String::as_str), Some("Lama"), "its jobs still name it");

        // No printer in service: a re-print has nowhere to go; then the successor takes it.
        assert_eq!(reprint(&conn, &waiting, "staff-2", now).unwrap(), None);
        let new = add(&conn, DeviceKind::DocumentPrinter, "Baru", "ipp://10.0.0.10/ipp/print", None, now).unwrap();
        let again = reprint(&conn, &waiting, "staff-2", now).unwrap().unwrap();
        assert_eq!(super::job(&conn, &again).unwrap().unwrap().device_id, new);

        // The old address added again brings the row back, with nothing pinned.
        set_identity(&conn, &old, Some("urn:uuid:1")).unwrap();
        pin_certificate(&conn, &old, "ab12").unwrap();
        pin_certificate(&conn, &old, "cd34").unwrap();
        assert_eq!(get(&conn, &old).unwrap().unwrap().certificate.as_deref(), Some("ab12"), "the first pin stays");
        let back =
            add(&conn, DeviceKind::DocumentPrinter, "Kembali", "ipp://10.0.0.9/ipp/print", Some("L1"), now).unwrap();
        assert_eq!(back, old);
        let revived = get(&conn, &old).unwrap().unwrap();
        assert_eq!(
            (revived.name.as_str(), revived.counter.as_deref(), revived.identity, revived.certificate),
            ("Kembali", Some("L1"), None, None)
        );
        // A device in service at the same address is still refused.
        assert!(matches!(
            add(&conn, DeviceKind::DocumentPrinter, "Dua", "ipp://10.0.0.10/ipp/print", None, now),
            Err(StoreError::Conflict(_))
        ));
    }

    #[test]
    fn an_attempt_that_ends_after_its_device_was_removed_leaves_the_stopped_job_alone() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &crate::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let printer = add(&conn, DeviceKind::DocumentPrinter, "P", "ipp://10.0.0.9/ipp/print", None, now).unwrap();
        let id = enqueue(&conn, &new_job(&printer, b"%PDF-1.7"), now).unwrap();
        retire(&conn, &printer, now).unwrap();
        record(&conn, &id, &Outcome::Retry { error: "unreachable".into(), next: now, uncertain: false }, now).unwrap();
        let job = super::job(&conn, &id).unwrap().unwrap();
        assert_eq!((job.status, job.error.as_deref()), (JobStatus::Failed, Some("device_removed")));
    }
}
