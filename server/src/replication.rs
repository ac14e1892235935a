//! Replication use-cases on the database: one exchange at the hub, preparing and applying
//! exchanges on a box, what follows a merge (projections, the conflict inbox), and settling a
//! conflict. Each public function runs in one transaction: refused means nothing applied.

use rusqlite::Connection;
use simpul_sync::merge::{ConflictValue, conflicts, settle};
use simpul_sync::protocol::{BATCH_BUDGET, DecodeError, Message, decode, decode_versioned, encode, encode_version};
use simpul_sync::records::{APPLICATION_FIELDS, ApplicationDoc, ResolutionDoc};
use simpul_sync::reference::{CredentialChange, CredentialRefusal, MAX_ROWS_PER_BATCH};
use simpul_sync::session::{SyncError, box_push, box_receive, hub_answer};
use simpul_sync::{Cursor, DocumentId};
use time::OffsetDateTime;

use crate::applications;
use crate::db::StoreError;
use crate::store::audit::{self, Actor};
use crate::store::enroll::{self, BoxStanding};
use crate::store::reference::{self, ReferenceError};
use crate::store::replica::{ReplicaError, SqliteReplica};
use crate::store::{conflicts as inbox, documents, settings, stamp};

/// Why an exchange was refused. Nothing was applied.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The certificate belongs to no enrolled box.
    #[error("this box is not enrolled with the hub")]
    NotEnrolled,
    /// The box was revoked.
    #[error("this box's enrollment was revoked by the regency")]
    Revoked,
    /// The bytes are not a valid message.
    #[error("sync message refused: {0}")]
    Decode(#[from] DecodeError),
    /// The wrong kind of message for this side.
    #[error("unexpected sync message")]
    Unexpected,
    /// The protocol refused.
    #[error("{0}")]
    Sync(SyncError),
    /// A merged document is not a valid record.
    #[error("a record is not valid: {0}")]
    InvalidRecord(String),
    /// The hub's reference data breaks a rule.
    #[error("reference data from the hub is not valid: {0}")]
    InvalidReference(String),
    /// This box has no office set up.
    #[error("this box has no office set up")]
    NoUnit,
    /// A password change the box may not send (another office's account, not argon2id).
    #[error("a password change was refused: {0}")]
    Credential(CredentialRefusal),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<ReplicaError> for ExchangeError {
    fn from(e: ReplicaError) -> Self {
        match e {
            ReplicaError::Sync(s) => ExchangeError::Sync(s),
            ReplicaError::Store(s) => ExchangeError::Store(s),
        }
    }
}

impl From<StoreError> for ExchangeError {
    fn from(e: StoreError) -> Self {
        ExchangeError::Store(e)
    }
}

impl From<rusqlite::Error> for ExchangeError {
    fn from(e: rusqlite::Error) -> Self {
        ExchangeError::Store(e.into())
    }
}

impl From<applications::AppError> for ExchangeError {
    fn from(e: applications::AppError) -> Self {
        ExchangeError::Store(StoreError::Corrupt(e.to_string()))
    }
}

/// The hub's part of one exchange with the box holding certificate `fingerprint`.
pub fn hub_exchange(
    conn: &mut Connection,
    fingerprint: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<Vec<u8>, ExchangeError> {
    let (Message::Push(push), version) = decode_versioned(body)? else { return Err(ExchangeError::Unexpected) };
    let tx = conn.transaction()?;
    let office = match enroll::standing(&tx, fingerprint, now)? {
        BoxStanding::Enrolled(office) => office,
        BoxStanding::Revoked => return Err(ExchangeError::Revoked),
        BoxStanding::Unknown => return Err(ExchangeError::NotEnrolled),
    };
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    let peer = simpul_sync::session::BoxPeer { id: fingerprint, office: &office };
    let (mut pull, touched) = hub_answer(&mut replica, peer, &push, now.unix_timestamp(), BATCH_BUDGET)?;
    after_merge(&tx, &touched, true, now)?;
    let office_code: simpul_domain::wilayah::RegionCode =
        office.parse().map_err(|_| StoreError::Corrupt(format!("enrolled office {office}")))?;
    take_credentials(&tx, &push.credentials, &office_code, now)?;
    pull.reference = reference::rows_after(&tx, push.reference_applied, &office_code, MAX_ROWS_PER_BATCH)?;
    tx.commit()?;
    if !touched.is_empty() {
        tracing::info!(office = %office, documents = touched.len(), "merged changes from a box");
    }
    // Answered in the version the box spoke, so a box not yet upgraded understands it.
    Ok(encode_version(&Message::Pull(pull), version))
}

/// The hub takes the password changes of a push (before the reference rows of its answer are
/// read, so the account comes back down with its new revision).
fn take_credentials(
    tx: &Connection,
    changes: &[CredentialChange],
    office: &simpul_domain::wilayah::RegionCode,
    now: OffsetDateTime,
) -> Result<(), ExchangeError> {
    use crate::store::staff::{CredentialOutcome, take_credential};
    for change in changes {
        let subject = change.staff.to_string();
        match take_credential(tx, change, office, now)? {
            Ok(CredentialOutcome::Taken) => {
                audit::record(tx, now, &Actor::System, "password_changed_at_office", Some(&subject), None)?;
            }
            Ok(CredentialOutcome::Stale) => {
                audit::record(tx, now, &Actor::System, "password_change_superseded", Some(&subject), None)?;
            }
            Ok(CredentialOutcome::UnknownAccount) => {}
            // A malformed hash is no change a Simpul box makes: the message is refused whole.
            Err(CredentialRefusal::BadHash) => {
                tracing::warn!(office = %office, account = %subject, "a box sent a password hash it may not send");
                return Err(ExchangeError::Credential(CredentialRefusal::BadHash));
            }
            // The account is not (or no longer) the office's: the change is dropped and
            // audited, and the box's other work goes on.
            Err(refusal) => {
                tracing::warn!(office = %office, account = %subject, %refusal, "a password change from a box was refused");
                audit::record(
                    tx,
                    now,
                    &Actor::System,
                    "password_change_refused",
                    Some(&subject),
                    Some(&refusal.to_string()),
                )?;
            }
        }
    }
    Ok(())
}

/// What a box's next push is.
pub struct Outgoing {
    /// The message bytes.
    pub bytes: Vec<u8>,
    /// Documents in it.
    pub documents: usize,
    /// More local changes wait.
    pub more: bool,
    /// The box's log position the push reaches (to tell progress).
    pub upto: Cursor,
    /// The password changes it carries, to leave the outbox once the hub answers.
    pub credentials: Vec<CredentialChange>,
}

/// A box: the next push.
pub fn box_outgoing(conn: &mut Connection, now: OffsetDateTime) -> Result<Outgoing, ExchangeError> {
    let tx = conn.transaction()?;
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    let mut push = box_push(&mut replica, now.unix_timestamp(), BATCH_BUDGET)?;
    push.reference_applied = reference::applied(&tx)?;
    push.credentials = crate::store::staff::pending_credentials(&tx)?;
    tx.commit()?;
    Ok(Outgoing {
        documents: push.changes.len(),
        more: push.more,
        upto: push.upto,
        credentials: push.credentials.clone(),
        bytes: encode(&Message::Push(push)),
    })
}

/// What a box applied from the hub's answer.
pub struct Incoming {
    /// Documents changed.
    pub documents: usize,
    /// Reference rows (staff, catalog, regions, holidays) applied.
    pub reference_rows: usize,
    /// The hub has more for this box.
    pub more: bool,
}

/// A box: applies the hub's answer to a push that carried the password changes `delivered`.
pub fn box_incoming(
    conn: &mut Connection,
    body: &[u8],
    now: OffsetDateTime,
    delivered: &[CredentialChange],
) -> Result<Incoming, ExchangeError> {
    let Message::Pull(pull) = decode(body)? else { return Err(ExchangeError::Unexpected) };
    let skew = pull.sent_at - now.unix_timestamp();
    if skew.abs() > simpul_sync::session::MAX_CLOCK_SKEW_SECS {
        return Err(ExchangeError::Sync(SyncError::ClockSkew(-skew)));
    }
    let tx = conn.transaction()?;
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    let touched = box_receive(&mut replica, &pull)?;
    after_merge(&tx, &touched, false, now)?;
    let (_, unit) = settings::unit(&tx)?.ok_or(ExchangeError::NoUnit)?;
    // The hub took them (or kept a later reset): from now on its copy of the account is right.
    crate::store::staff::credentials_delivered(&tx, delivered)?;
    let applied = reference::apply(&tx, &pull.reference, &unit.code, now).map_err(|e| match e {
        ReferenceError::Invalid(why) => ExchangeError::InvalidReference(why),
        ReferenceError::Store(s) => ExchangeError::Store(s),
    })?;
    tx.commit()?;
    if applied.rows > 0 {
        tracing::info!(
            rows = applied.rows,
            displaced = applied.displaced_accounts,
            "applied reference data from the hub"
        );
    }
    Ok(Incoming { documents: touched.len(), reference_rows: applied.rows, more: pull.more || pull.reference.more })
}

/// A box: forgets what the hub acknowledged, so the next push starts from `held` (the hub lost
/// part of the box's log, e.g. it was restored from a backup).
pub fn box_rewind(conn: &Connection, held: Cursor) -> Result<(), StoreError> {
    let held = i64::try_from(held.0).unwrap_or(i64::MAX);
    conn.execute("UPDATE sync_peers SET acked = MIN(acked, ?1) WHERE peer = 'hub'", [held])?;
    Ok(())
}

/// After documents were merged: projections, and at the hub the conflict inbox.
fn after_merge(conn: &Connection, touched: &[DocumentId], hub: bool, now: OffsetDateTime) -> Result<(), ExchangeError> {
    for id in touched {
        let key = id.to_string();
        let Some(mut am) = documents::open(conn, &key)? else { continue };
        let doc: ApplicationDoc =
            autosurgeon::hydrate(&am).map_err(|e| ExchangeError::InvalidRecord(format!("document {key}: {e}")))?;
        applications::project_current(conn, &key, &doc)?;
        if !hub {
            // The box tells the staff who worked on a record that the regency settled it.
            crate::store::notices::note_settlements(conn, &key, &doc, now)?;
            continue;
        }
        let found = conflicts(&mut am, APPLICATION_FIELDS);
        let mut fields = Vec::new();
        for c in &found {
            inbox::open(conn, &key, &doc.office, &c.field, &c.values, now)?;
            fields.push(c.field.clone());
        }
        if let Some(other) = other_office_with_same_person(conn, &key, &doc)? {
            inbox::open(conn, &key, &doc.office, CROSS_OFFICE_FIELD, &other, now)?;
            fields.push(CROSS_OFFICE_FIELD.to_string());
        }
        inbox::close_settled(conn, &key, &fields, now)?;
        if !found.is_empty() {
            tracing::warn!(document = %key, fields = found.len(), "merge left concurrent values for a person to settle");
        }
    }
    Ok(())
}

/// The inbox field name of the rule "the same person has open applications at two offices".
pub const CROSS_OFFICE_FIELD: &str = "applicant.nik@other_office";

fn other_office_with_same_person(
    conn: &Connection,
    id: &str,
    doc: &ApplicationDoc,
) -> Result<Option<Vec<ConflictValue>>, StoreError> {
    let status = doc.status().ok();
    if status.is_none_or(|s| s.is_final()) {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT number, office, created_by, created_at FROM applications
         WHERE nik = ?1 AND office != ?2 AND id != ?3 AND status NOT IN ('handed_over', 'cancelled')",
    )?;
    let others: Vec<ConflictValue> = stmt
        .query_map(rusqlite::params![doc.applicant.nik, doc.office, id], |r| {
            let number: String = r.get(0)?;
            let office: String = r.get(1)?;
            let created_at: String = r.get(3)?;
            Ok(ConflictValue {
                value: format!("{number} ({office})"),
                change: String::new(),
                actor: office,
                time: crate::store::parse_stamp(&created_at).map_or(0, |t| t.unix_timestamp()),
                by: Some(r.get(2)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    if others.is_empty() {
        return Ok(None);
    }
    let mut all = vec![ConflictValue {
        value: format!("{} ({})", doc.number, doc.office),
        change: String::new(),
        actor: doc.office.clone(),
        time: crate::store::parse_stamp(&doc.created_at).map_or(0, |t| t.unix_timestamp()),
        by: Some(doc.created_by.clone()),
    }];
    all.extend(others);
    Ok(Some(all))
}

/// Why a settlement was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No open case with that number.
    #[error("no open conflict with that number")]
    NotFound,
    /// A reason is required.
    #[error("a reason is required")]
    NoReason,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ResolveError {
    fn from(e: rusqlite::Error) -> Self {
        ResolveError::Store(e.into())
    }
}

/// Settles case `id` with `value` (one of the candidates or a corrected value; `None` for an
/// optional field left empty). The settlement is a new change of the document, which syncs
/// back to the box, and an entry in the record's resolutions, which the box shows.
pub fn resolve(
    conn: &mut Connection,
    id: i64,
    value: Option<&str>,
    reason: &str,
    admin: &str,
    now: OffsetDateTime,
) -> Result<(), ResolveError> {
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(ResolveError::NoReason);
    }
    let tx = conn.transaction()?;
    let case = inbox::get(&tx, id)?.filter(|c| c.resolved_at.is_none()).ok_or(ResolveError::NotFound)?;
    let mut doc = documents::open(&tx, &case.doc_id)?.ok_or(ResolveError::NotFound)?.with_actor(documents::actor(&tx)?);
    let before = doc.get_heads();
    if case.field != CROSS_OFFICE_FIELD {
        let path: Vec<&str> = case.field.split('.').collect();
        settle(&mut doc, &path, value, admin, now.unix_timestamp())
            .map_err(|e| StoreError::Corrupt(format!("settle: {e}")))?;
    }
    let mut record: ApplicationDoc =
        autosurgeon::hydrate(&doc).map_err(|e| StoreError::Corrupt(format!("document {}: {e}", case.doc_id)))?;
    record.resolutions.push(ResolutionDoc {
        field: case.field.clone(),
        candidates: case.candidates.iter().map(|c| c.value.clone()).collect(),
        value: value.map(str::to_string),
        reason: reason.to_string(),
        by: admin.to_string(),
        at: stamp(now),
    });
    autosurgeon::reconcile(&mut doc, &record).map_err(|e| StoreError::Corrupt(format!("reconcile: {e}")))?;
    doc.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(admin.to_string())
            .with_time(now.unix_timestamp()),
    );
    let heads = doc.get_heads();
    let bytes = doc.save_after(&before);
    let stored = simpul_sync::session::StoredDoc {
        kind: documents::DocKind::Application,
        office: record.office.clone(),
        state: doc.save(),
    };
    let doc_id: DocumentId =
        case.doc_id.parse().map(DocumentId).map_err(|_| StoreError::Corrupt("document id".into()))?;
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    simpul_sync::session::Replica::store(
        &mut replica,
        doc_id,
        &stored,
        &simpul_sync::merge::heads_bytes(&heads),
        &bytes,
        simpul_sync::session::Origin::Local,
    )
    .map_err(|e| match e {
        ReplicaError::Store(s) => s,
        ReplicaError::Sync(s) => StoreError::Corrupt(s.to_string()),
    })?;
    applications::project_current(&tx, &case.doc_id, &record)?;
    inbox::resolve(&tx, id, admin, value, reason, now)?;
    audit::record(
        &tx,
        now,
        &Actor::Staff(admin.to_string()),
        "conflict_resolved",
        Some(&case.doc_id),
        Some(&case.field),
    )?;
    tx.commit()?;
    Ok(())
}
