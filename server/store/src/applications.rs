//! The applications' projection (one row per application document, for lists, search and due
//! times), the day's application numbering and the idempotency record of client submissions.
//! The documents themselves are in [`crate::documents`].

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::application::Status;
use simpul_domain::catalog::ServiceKind;
use simpul_sync::records::{ApplicationDoc, date_text};
use time::{Date, OffsetDateTime};

use crate::db::StoreError;
use crate::stamp;

/// The next number of the day in `scope` (the first is 1).
pub fn next_sequence(conn: &Connection, scope: &str, day: Date) -> Result<u32, StoreError> {
    let day = date_text(day);
    conn.execute(
        "INSERT INTO daily_sequences (scope, day, last) VALUES (?1, ?2, 1)
         ON CONFLICT (scope, day) DO UPDATE SET last = last + 1",
        params![scope, day],
    )?;
    let last: i64 =
        conn.query_row("SELECT last FROM daily_sequences WHERE scope = ?1 AND day = ?2", params![scope, day], |r| {
            r.get(0)
        })?;
    u32::try_from(last).map_err(|_| StoreError::Corrupt("daily sequence".into()))
}

/// The day's application count goes up to at least `count`, so the next number is past it.
pub fn raise_daily_count(conn: &Connection, day: Date, count: u32) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO daily_sequences (scope, day, last) VALUES ('application', ?1, ?2)
         ON CONFLICT (scope, day) DO UPDATE SET last = MAX(last, excluded.last)",
        params![date_text(day), count],
    )?;
    Ok(())
}

/// The answer stored for a client id, if this action was already done.
pub fn replay(conn: &Connection, client_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn.query_row("SELECT result FROM submissions WHERE client_id = ?1", [client_id], |r| r.get(0)).optional()?)
}

/// Remembers the answer to a client id.
pub fn remember(
    conn: &Connection,
    client_id: &str,
    action: &str,
    result: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO submissions (client_id, action, result, at) VALUES (?1, ?2, ?3, ?4)",
        params![client_id, action, result, stamp(at)],
    )?;
    Ok(())
}

/// The id of the application with this number.
pub fn id_by_number(conn: &Connection, number: &str) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT id FROM applications WHERE number = ?1", [number], |r| r.get(0)).optional()?)
}

/// Ids and statuses of every projected application.
pub fn statuses(conn: &Connection) -> Result<Vec<(String, Option<Status>)>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, status FROM applications")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    rows.map(|r| r.map(|(id, status)| (id, Status::from_code(&status))).map_err(StoreError::from)).collect()
}

/// An application document, or none when it is missing or does not read (left to the checks
/// that report it).
pub fn readable(conn: &Connection, id: &str) -> Result<Option<ApplicationDoc>, StoreError> {
    match crate::documents::load(conn, id) {
        Err(StoreError::Corrupt(_)) => Ok(None),
        other => other,
    }
}

/// Writes the projection of one application (inserted, or its changing columns updated), with
/// its due time as the caller computed it (office-local "YYYY-MM-DD HH:MM").
pub fn upsert_projection(
    conn: &Connection,
    id: &str,
    doc: &ApplicationDoc,
    due: Option<String>,
) -> Result<(), StoreError> {
    note_blob_refs(conn, doc)?;
    let updated = doc.steps.last().map_or(doc.created_at.clone(), |s| s.at.clone());
    // Two records with one number (a box restored by copying files, not by `simpul restore`,
    // gave out a number its lost work had used): both are kept and listed, the later one with
    // its id beside the number, and the sync goes on.
    let taken: Option<String> = conn
        .query_row("SELECT id FROM applications WHERE number = ?1 AND id != ?2", params![doc.number, id], |r| r.get(0))
        .optional()?;
    let number = match taken {
        Some(_) => {
            tracing::warn!(number = %doc.number, "two applications carry one number; the later is listed with its id");
            format!("{} ({})", doc.number, id.get(..8).unwrap_or(id))
        }
        None => doc.number.clone(),
    };
    conn.execute(
        "INSERT INTO applications (id, number, office, service_id, kind, status, nik, name, created_by, created_at, updated_at, due_at, ticket, passport)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, nik = excluded.nik, name = excluded.name,
           updated_at = excluded.updated_at, due_at = excluded.due_at, passport = excluded.passport",
        params![
            id,
            number,
            doc.office,
            doc.service_id,
            doc.service_kind,
            doc.status,
            doc.applicant.nik,
            doc.applicant.name,
            doc.created_by,
            doc.created_at,
            updated,
            due,
            doc.ticket,
            doc.applicant.passport_key()
        ],
    )?;
    Ok(())
}

/// Records which files the record points at, for its office, and which of them this
/// database does not hold.
fn note_blob_refs(conn: &Connection, doc: &ApplicationDoc) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("INSERT OR IGNORE INTO blob_refs (sha256, office) VALUES (?1, ?2)")?;
    for sha in doc.blobs() {
        if crate::blobs::valid_digest(&sha) && stmt.execute(params![sha, doc.office])? > 0 {
            crate::blobs::note_lacking(conn, &sha, &doc.office)?;
        }
    }
    Ok(())
}

/// Fills the passport key of the records projected before the projection had one, once.
/// Returns how many records it read.
pub fn index_passports_once(conn: &Connection) -> Result<usize, StoreError> {
    once_per_record(
        conn,
        "applications.passport.indexed",
        "SELECT id FROM applications WHERE passport IS NULL",
        |id, doc| {
            if let Some(key) = doc.applicant.passport_key() {
                conn.execute("UPDATE applications SET passport = ?2 WHERE id = ?1", params![id, key])?;
            }
            Ok(())
        },
    )
}

/// Indexes the files of the records stored before this version knew `blob_refs`, once.
/// Returns how many records it read.
pub fn index_blob_refs_once(conn: &Connection) -> Result<usize, StoreError> {
    once_per_record(conn, "blob_refs.indexed", "SELECT id FROM documents WHERE kind = 'application'", |_, doc| {
        note_blob_refs(conn, doc)
    })
}

/// Runs `each` on every readable record `select` names, once per database (the setting `done`
/// remembers it). Returns how many records were named.
fn once_per_record(
    conn: &Connection,
    done: &str,
    select: &str,
    mut each: impl FnMut(&str, &ApplicationDoc) -> Result<(), StoreError>,
) -> Result<usize, StoreError> {
    if crate::settings::get(conn, done)?.is_some() {
        return Ok(0);
    }
    let ids: Vec<String> = {
        let mut stmt = conn.prepare(select)?;
        stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    for id in &ids {
        if let Some(doc) = readable(conn, id)? {
            each(id, &doc)?;
        }
    }
    crate::settings::put(conn, done, "1")?;
    Ok(ids.len())
}

/// One row of an application list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Id.
    pub id: String,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Service kind.
    pub kind: ServiceKind,
    /// Catalog entry.
    pub service_id: String,
    /// Applicant name.
    pub name: String,
    /// Staff who opened it.
    pub created_by: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// Due (office-local "YYYY-MM-DD HH:MM"), when known.
    pub due_at: Option<String>,
}

/// Applications by status (all when `statuses` is empty), newest first.
pub fn list(conn: &Connection, statuses: &[Status], limit: u32) -> Result<Vec<Row>, StoreError> {
    list_by(conn, statuses, None, limit)
}

/// Applications by status and, when given, by the staff member who opened them, newest first.
pub fn list_by(
    conn: &Connection,
    statuses: &[Status],
    created_by: Option<&str>,
    limit: u32,
) -> Result<Vec<Row>, StoreError> {
    let mut clauses = Vec::new();
    let mut values: Vec<rusqlite::types::Value> = vec![i64::from(limit).into()];
    if !statuses.is_empty() {
        let marks: Vec<String> = (0..statuses.len()).map(|i| format!("?{}", values.len() + i + 1)).collect();
        clauses.push(format!("status IN ({})", marks.join(", ")));
        values.extend(statuses.iter().map(|s| rusqlite::types::Value::from(s.code().to_string())));
    }
    if let Some(staff) = created_by {
        values.push(staff.to_string().into());
        clauses.push(format!("created_by = ?{}", values.len()));
    }
    let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    let sql = format!(
        "SELECT id, number, status, kind, service_id, name, created_by, updated_at, due_at FROM applications {filter}
         ORDER BY updated_at DESC LIMIT ?1"
    );
    rows_of(conn, &sql, values)
}

/// Applications in `statuses` that have a due time, earliest due first: the late ones come
/// before anything else, however long ago they were last touched.
pub fn by_due(conn: &Connection, statuses: &[Status], limit: u32) -> Result<Vec<Row>, StoreError> {
    let mut values: Vec<rusqlite::types::Value> = vec![i64::from(limit).into()];
    let marks: Vec<String> = (0..statuses.len()).map(|i| format!("?{}", i + 2)).collect();
    values.extend(statuses.iter().map(|s| rusqlite::types::Value::from(s.code().to_string())));
    let sql = format!(
        "SELECT id, number, status, kind, service_id, name, created_by, updated_at, due_at FROM applications
         WHERE due_at IS NOT NULL AND status IN ({}) ORDER BY due_at LIMIT ?1",
        marks.join(", ")
    );
    rows_of(conn, &sql, values)
}

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// Sixteen digits: a NIK.
    Nik(String),
    /// Digits and dashes: part of an application number.
    Number(String),
    /// Anything else: part of the applicant's name.
    Name(String),
}

impl Search {
    /// Reads what staff typed; `None` when it is too short to look for (under 3 characters).
    pub fn parse(typed: &str) -> Option<Search> {
        let q = typed.trim();
        if q.chars().count() < 3 || q.chars().count() > 100 {
            return None;
        }
        if q.len() == 16 && q.bytes().all(|b| b.is_ascii_digit()) {
            Some(Search::Nik(q.to_string()))
        } else if q.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            Some(Search::Number(q.to_string()))
        } else {
            Some(Search::Name(q.to_string()))
        }
    }
}

/// Applications found by NIK, number or name, newest first. Wildcards typed by staff are taken
/// literally.
pub fn search(conn: &Connection, search: &Search, limit: u32) -> Result<Vec<Row>, StoreError> {
    let literal = |s: &str| s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let (clause, value) = match search {
        Search::Nik(nik) => ("nik = ?2", nik.clone()),
        Search::Number(n) => ("number LIKE ?2 ESCAPE '\\'", format!("%{}%", literal(n))),
        Search::Name(name) => ("name LIKE ?2 ESCAPE '\\'", format!("%{}%", literal(name))),
    };
    let sql = format!(
        "SELECT id, number, status, kind, service_id, name, created_by, updated_at, due_at FROM applications
         WHERE {clause} ORDER BY updated_at DESC LIMIT ?1"
    );
    rows_of(conn, &sql, vec![i64::from(limit).into(), value.into()])
}

fn rows_of(conn: &Connection, sql: &str, values: Vec<rusqlite::types::Value>) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, number, status, kind, service_id, name, created_by, updated_at, due_at) = row?;
        let status = Status::from_code(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?;
        let kind = ServiceKind::from_code(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?;
        out.push(Row { id, number, status, kind, service_id, name, created_by, updated_at, due_at });
    }
    Ok(out)
}

/// The projected due time of one application.
pub fn due_at(conn: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT due_at FROM applications WHERE id = ?1", [id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Applications opened on `day`, and handed over on `day` (office-local dates).
pub fn counts_on(conn: &Connection, day: Date) -> Result<(u32, u32), StoreError> {
    let like = format!("{}%", date_text(day));
    let opened: i64 =
        conn.query_row("SELECT count(*) FROM applications WHERE created_at LIKE ?1", [&like], |r| r.get(0))?;
    let handed: i64 = conn.query_row(
        "SELECT count(*) FROM applications WHERE status = 'handed_over' AND updated_at LIKE ?1",
        [&like],
        |r| r.get(0),
    )?;
    Ok((opened as u32, handed as u32))
}

/// What names one person across records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonKey<'a> {
    /// A NIK.
    Nik(&'a str),
    /// A passport key (`simpul_sync::records::ApplicantDoc::passport_key`).
    Passport(&'a str),
}

/// An open application of one person, as the projection holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// Record id.
    pub id: String,
    /// Application number.
    pub number: String,
    /// Office code.
    pub office: String,
    /// Staff who opened it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// Every application carrying `key`, whatever its status, oldest first (a data subject's export).
pub fn of_person(conn: &Connection, key: PersonKey<'_>) -> Result<Vec<String>, StoreError> {
    let sql = match key {
        PersonKey::Nik(_) => "SELECT id FROM applications WHERE nik = ?1 ORDER BY created_at",
        PersonKey::Passport(_) => "SELECT id FROM applications WHERE passport = ?1 ORDER BY created_at",
    };
    let value = match key {
        PersonKey::Nik(v) | PersonKey::Passport(v) => v,
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([value], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The open (not final) applications carrying `key`, other than `except`. Each key has its own
/// index, so a caller looking by NIK and by passport asks twice rather than once with an OR
/// that may scan the table.
pub fn open_of_person(conn: &Connection, key: PersonKey<'_>, except: &str) -> Result<Vec<PersonRecord>, StoreError> {
    let (column, value) = match key {
        PersonKey::Nik(nik) => ("nik", nik),
        PersonKey::Passport(passport) => ("passport", passport),
    };
    let finals: Vec<&str> = Status::ALL.iter().filter(|s| s.is_final()).map(|s| s.code()).collect();
    let marks: Vec<String> = (0..finals.len()).map(|i| format!("?{}", i + 3)).collect();
    let sql = format!(
        "SELECT id, number, office, created_by, created_at FROM applications
         WHERE {column} = ?1 AND id != ?2 AND status NOT IN ({})",
        marks.join(", ")
    );
    let mut values: Vec<rusqlite::types::Value> = vec![value.to_string().into(), except.to_string().into()];
    values.extend(finals.iter().map(|c| rusqlite::types::Value::from(c.to_string())));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
        Ok(PersonRecord {
            id: r.get(0)?,
            number: r.get(1)?,
            office: r.get(2)?,
            created_by: r.get(3)?,
            created_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The office of some projected application that is not `office`'s, if any (a box about to
/// take an office's identity checks it holds no other office's records).
pub fn other_office_than(conn: &Connection, office: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT office FROM applications WHERE office != ?1 LIMIT 1", [office], |r| r.get(0))
        .optional()?)
}
