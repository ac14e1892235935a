//! Replication use-cases on the database: one exchange at the hub, preparing and applying
//! exchanges on a box, what follows a merge (projections, the conflict inbox), and settling a
//! conflict. Each public function runs in one transaction: refused means nothing applied.

use simpul_store::Connection;
use simpul_sync::merge::{MergeError, Settlement, conflicts, settle};
use simpul_sync::protocol::{DecodeError, Message, clamp_budget, decode, decode_versioned, encode, encode_version};
use simpul_sync::records::{APPLICATION_FIELDS, ApplicationDoc, KEEP_ONLY_FIELDS, ResolutionDoc};
use simpul_sync::reference::{CredentialChange, CredentialRefusal, MAX_ROWS_PER_BATCH};
use simpul_sync::session::{Sent, SyncError, box_push, box_receive, hub_answer};
use simpul_sync::{Cursor, DocumentId};
use time::OffsetDateTime;

use crate::office::applications;
use crate::sync::sameperson;
use simpul_store::audit::{self, Actor};
use simpul_store::db::StoreError;
use simpul_store::enroll::{self, BoxStanding};
use simpul_store::reference::{self, ReferenceError};
use simpul_store::replica::{ReplicaError, SqliteReplica};
use simpul_store::{conflicts as inbox, documents, settings, stamp};

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
    budget: usize,
    now: OffsetDateTime,
) -> Result<HubAnswer, ExchangeError> {
    let (Message::Push(push), version) = decode_versioned(body)? else { return Err(ExchangeError::Unexpected) };
    let tx = conn.transaction().map_err(StoreError::from)?;
    let office = match enroll::standing(&tx, fingerprint, now)? {
        BoxStanding::Enrolled(office) => office,
        BoxStanding::Revoked => return Err(ExchangeError::Revoked),
        BoxStanding::Unknown => return Err(ExchangeError::NotEnrolled),
    };
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    let peer = simpul_sync::session::BoxPeer { id: fingerprint, office: &office };
    let (mut pull, touched) = hub_answer(&mut replica, peer, &push, now.unix_timestamp(), clamp_budget(budget))?;
    after_merge(&tx, &touched, true, now)?;
    let office_code: simpul_domain::wilayah::RegionCode =
        office.parse().map_err(|_| StoreError::Corrupt(format!("enrolled office {office}")))?;
    take_credentials(&tx, &push.credentials, &office_code, now)?;
    pull.reference = reference::rows_after(&tx, push.reference_applied, &office_code, MAX_ROWS_PER_BATCH)?;
    let files_missing = simpul_store::blobs::missing_mark(&tx, &office)?;
    tx.commit().map_err(StoreError::from)?;
    if !touched.is_empty() {
        tracing::info!(office = %office, documents = touched.len(), "merged changes from a box");
    }
    // Answered in the version the box spoke, so a box not yet upgraded understands it.
    Ok(HubAnswer { bytes: encode_version(&Message::Pull(pull), version), files_missing })
}

/// The hub's answer to one exchange.
pub struct HubAnswer {
    /// The encoded pull.
    pub bytes: Vec<u8>,
    /// The office's records point at files the hub lacks (a hub restored onto a new disk, or
    /// files not sent yet): a mark of that set (see [`simpul_store::blobs::missing_mark`]). A
    /// box that has not asked about this set asks which, and sends those it holds.
    pub files_missing: Option<String>,
}

/// The hub takes the password changes of a push (before the reference rows of its answer are
/// read, so the account comes back down with its new revision).
fn take_credentials(
    tx: &Connection,
    changes: &[CredentialChange],
    office: &simpul_domain::wilayah::RegionCode,
    now: OffsetDateTime,
) -> Result<(), ExchangeError> {
    use simpul_store::staff::{CredentialOutcome, take_credential};
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
    /// What the box must remember of the push to take the answer.
    pub sent: Sent,
}

/// A box: the next push, its changes within about `budget` bytes.
pub fn box_outgoing(conn: &mut Connection, budget: usize, now: OffsetDateTime) -> Result<Outgoing, ExchangeError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    let mut push = box_push(&mut replica, now.unix_timestamp(), clamp_budget(budget))?;
    push.reference_applied = reference::applied(&tx)?;
    push.credentials = simpul_store::staff::pending_credentials(&tx)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(Outgoing {
        documents: push.changes.len(),
        more: push.more,
        upto: push.upto,
        credentials: push.credentials.clone(),
        sent: push.sent(),
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

/// A box: applies the hub's answer to the push it `sent`, which carried the password changes
/// `delivered`.
pub fn box_incoming(
    conn: &mut Connection,
    body: &[u8],
    now: OffsetDateTime,
    sent: Sent,
    delivered: &[CredentialChange],
) -> Result<Incoming, ExchangeError> {
    let Message::Pull(pull) = decode(body)? else { return Err(ExchangeError::Unexpected) };
    let skew = pull.sent_at - now.unix_timestamp();
    if skew.abs() > simpul_sync::session::MAX_CLOCK_SKEW_SECS {
        return Err(ExchangeError::Sync(SyncError::ClockSkew(-skew)));
    }
    let tx = conn.transaction().map_err(StoreError::from)?;
    let mut replica = SqliteReplica::new(&tx, stamp(now));
    let touched = box_receive(&mut replica, sent, &pull)?;
    after_merge(&tx, &touched, false, now)?;
    let (_, unit) = settings::unit(&tx)?.ok_or(ExchangeError::NoUnit)?;
    // The hub took them (or kept a later reset): from now on its copy of the account is right.
    simpul_store::staff::credentials_delivered(&tx, delivered)?;
    let applied = reference::apply(&tx, &pull.reference, &unit.code, now).map_err(|e| match e {
        ReferenceError::Invalid(why) => ExchangeError::InvalidReference(why),
        ReferenceError::Store(s) => ExchangeError::Store(s),
    })?;
    if applied.calendar_changed {
        applications::recompute_due(&tx)?;
    }
    tx.commit().map_err(StoreError::from)?;
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
pub fn box_rewind(
    conn: &mut Connection,
    held: Cursor,
    hub_epoch: u64,
    hub_held: Cursor,
    now: OffsetDateTime,
) -> Result<(), ExchangeError> {
    let tx = conn.transaction().map_err(StoreError::from)?;
    simpul_sync::session::box_rewind(&mut SqliteReplica::new(&tx, stamp(now)), held, hub_epoch, hub_held)?;
    tx.commit().map_err(StoreError::from)?;
    tracing::warn!(held = held.0, "the hub holds less than it acknowledged (restored from a backup?): sending again");
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
            applications::keep_numbers_ahead(conn, &doc.number)?;
            // The box tells the staff who worked on a record that the regency settled it.
            simpul_store::notices::note_settlements(conn, &key, &doc, now)?;
            continue;
        }
        let found = conflicts(&mut am, APPLICATION_FIELDS);
        let mut fields = Vec::new();
        for c in &found {
            inbox::open(conn, &key, &doc.office, &c.field, &c.values, now)?;
            fields.push(c.field.clone());
        }
        // The rule across records keeps its own cases (see `sameperson`).
        fields.push(sameperson::FIELD.to_string());
        sameperson::review(conn, &key, &doc, now)?;
        let closed = inbox::close_settled(conn, &key, &fields, now)?;
        if closed > 0 {
            // A later change that saw every value replaced them (boxes refuse to, but older
            // boxes may): closed without a person's decision, and the audit says so.
            audit::record(conn, now, &Actor::System, "conflict_closed_by_later_change", Some(&key), None)?;
        }
        if !found.is_empty() {
            tracing::warn!(document = %key, fields = found.len(), "merge left concurrent values for a person to settle");
        }
    }
    Ok(())
}

/// Why a settlement was refused.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// No open case with that number, or no such value in it.
    #[error("no open conflict with that number")]
    NotFound,
    /// A reason is required.
    #[error("a reason is required")]
    NoReason,
    /// The field's values changed since the case was read (a later sync replaced them).
    #[error("the values changed since the case was read; read it again")]
    Changed,
    /// The decision would leave the record broken or breaking a rule.
    #[error("{0}")]
    Refused(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the regency admin decided for a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Keep candidate number `i` (from 0, in the case's order) exactly as it was written.
    Keep(usize),
    /// A corrected value typed by the admin; `None` leaves an optional field empty.
    Corrected(Option<String>),
}

/// Settles case `id` with the admin's decision, made on the candidates of revision `seen`
/// (see [`inbox::ConflictRow::revision`]; `None` skips that check). The settlement is a new change of the
/// document, which syncs back to the box, and an entry in the record's resolutions, which the
/// box shows. A decision that would leave the record unreadable, or a corrected value that
/// breaks the field's rules (a NIK that does not validate, a birth date in the future, an
/// unknown status), is refused and nothing is written.
pub fn resolve(
    conn: &mut Connection,
    id: i64,
    decision: &Decision,
    seen: Option<&str>,
    reason: &str,
    admin: &str,
    now: OffsetDateTime,
) -> Result<(), ResolveError> {
    let reason = reason.trim();
    if reason.chars().count() < 5 {
        return Err(ResolveError::NoReason);
    }
    let tx = conn.transaction().map_err(StoreError::from)?;
    let case = inbox::get(&tx, id)?.filter(|c| c.resolved_at.is_none()).ok_or(ResolveError::NotFound)?;
    if seen.is_some_and(|s| s != case.revision()) {
        return Err(ResolveError::Changed);
    }
    let mut doc = documents::open(&tx, &case.doc_id)?.ok_or(ResolveError::NotFound)?.with_actor(documents::actor(&tx)?);
    let before = doc.get_heads();
    let value: Option<String> = if case.field == sameperson::FIELD {
        // The rule spans two records: the decision is recorded on this one, nothing is written.
        match decision {
            Decision::Keep(i) => Some(case.candidates.get(*i).ok_or(ResolveError::NotFound)?.value.clone()),
            Decision::Corrected(v) => v.clone(),
        }
    } else {
        let path: Vec<&str> = case.field.split('.').collect();
        let settlement = match decision {
            Decision::Keep(i) => Settlement::Keep(&case.candidates.get(*i).ok_or(ResolveError::NotFound)?.change),
            Decision::Corrected(_) if KEEP_ONLY_FIELDS.contains(&case.field.as_str()) => {
                return Err(ResolveError::Refused(format!("{}: keep one of its values", case.field)));
            }
            Decision::Corrected(v) => Settlement::Corrected(v.as_deref()),
        };
        let written = settle(&mut doc, &path, settlement, admin, now.unix_timestamp()).map_err(|e| match e {
            MergeError::CandidateGone => ResolveError::Changed,
            MergeError::NotText => {
                ResolveError::Refused(format!("{} is a nested record: keep one of its values", case.field))
            }
            other => ResolveError::Store(StoreError::Corrupt(format!("settle: {other}"))),
        })?;
        let settled: ApplicationDoc = autosurgeon::hydrate(&doc)
            .map_err(|_| ResolveError::Refused(format!("{} cannot hold that value", case.field)))?;
        check_settled(&tx, &settled, &case.field, matches!(decision, Decision::Corrected(_)), now)?;
        written
    };
    let value = value.as_deref();
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
    // Only the resolutions list is written: writing the whole record would pick a value for
    // every other field that still holds concurrent values, which is not this decision.
    autosurgeon::reconcile_prop(&mut doc, automerge::ROOT, "resolutions", &record.resolutions)
        .map_err(|e| StoreError::Corrupt(format!("reconcile: {e}")))?;
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
    // A corrected NIK or passport may join or leave a group of one person's records.
    sameperson::review(&tx, &case.doc_id, &record, now)?;
    audit::record(
        &tx,
        now,
        &Actor::Staff(admin.to_string()),
        "conflict_resolved",
        Some(&case.doc_id),
        Some(&case.field),
    )?;
    tx.commit().map_err(StoreError::from)?;
    Ok(())
}

/// Checks a settled record: it must still read as an application, and a corrected value must
/// keep its field's rules. Dates are judged in the easternmost zone (WIT), so no date that is
/// already today anywhere in Indonesia counts as the future.
fn check_settled(
    conn: &Connection,
    record: &ApplicationDoc,
    field: &str,
    corrected: bool,
    now: OffsetDateTime,
) -> Result<(), ResolveError> {
    use simpul_domain::applicant::{self, Field};
    let refused = |what: String| ResolveError::Refused(format!("{field}: {what}"));
    let kind = record.kind().map_err(|e| refused(e.to_string()))?;
    record.status().map_err(|e| refused(e.to_string()))?;
    let person = record.applicant.to_domain().map_err(|e| refused(e.to_string()))?;
    if !corrected {
        return Ok(());
    }
    let Some(checked) = simpul_sync::records::applicant_field(field) else { return Ok(()) };
    let regions = simpul_store::regions::all_codes(conn)?;
    let wit = time::UtcOffset::from_hms(9, 0, 0).expect("a valid offset");
    let today = now.to_offset(wit).date();
    let problems = applicant::check(kind, &person, &regions, today);
    // A corrected NIK must also agree with the birth date and sex the record holds.
    let concerns = |p: &&applicant::FieldProblem| {
        p.field == checked || (checked == Field::Nik && matches!(p.problem, applicant::Problem::NikMismatch(_)))
    };
    match problems.iter().find(concerns) {
        Some(p) => Err(refused(p.problem.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use automerge::AutoCommit;
    use simpul_domain::wilayah::Region;
    use simpul_sync::records::HandoverDoc;
    use simpul_tests::samples as tests_support;

    use super::*;

    const ID: &str = "0b6f1c55-93c4-4b8c-9a3f-5d6c1f0e2a11";

    /// A hub holding one application whose two boxes changed it concurrently with `a` and `b`,
    /// merged: returns the hub's connection and the open cases.
    fn hub_with(a: impl Fn(&mut ApplicationDoc), b: impl Fn(&mut ApplicationDoc)) -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = simpul_store::db::open_sync(
            &dir.path().join("hub.sqlite"),
            &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let now = OffsetDateTime::now_utc();
        let regions: Vec<Region> = ["51", "51.03", "51.03.02"]
            .iter()
            .map(|c| Region { code: c.parse().unwrap(), name: format!("Wilayah {c}") })
            .collect();
        simpul_store::regions::import(&conn, &regions, now).unwrap();
        documents::create(&conn, documents::DocKind::Application, ID, &tests_support::application(), now, "staff-1")
            .unwrap();
        let mut base = documents::open(&conn, ID).unwrap().unwrap();
        let edit = |doc: &mut AutoCommit, actor: u8, f: &dyn Fn(&mut ApplicationDoc), by: &str| {
            let mut doc = doc.fork().with_actor(automerge::ActorId::from(vec![actor; 16]));
            let mut record: ApplicationDoc = autosurgeon::hydrate(&doc).unwrap();
            f(&mut record);
            autosurgeon::reconcile(&mut doc, &record).unwrap();
            doc.commit_with(automerge::transaction::CommitOptions::default().with_message(by.to_string()));
            doc
        };
        let mut merged = edit(&mut base, 1, &a, "staff-a");
        merged.merge(&mut edit(&mut base, 2, &b, "staff-b")).unwrap();
        conn.execute("UPDATE documents SET state = ?2 WHERE id = ?1", rusqlite::params![ID, merged.save()]).unwrap();
        let id: DocumentId = DocumentId(ID.parse().unwrap());
        after_merge(&conn, &[id], true, now).unwrap();
        (dir, conn)
    }

    fn case_of(conn: &Connection, field: &str) -> (i64, Vec<String>) {
        let case = inbox::list_open(conn, 50).unwrap().into_iter().find(|c| c.field == field).expect("a case");
        (case.id, case.candidates.iter().map(|c| c.value.clone()).collect())
    }

    fn record(conn: &Connection) -> ApplicationDoc {
        documents::load(conn, ID).unwrap().unwrap()
    }

    fn decide(conn: &mut Connection, id: i64, decision: Decision) -> Result<(), ResolveError> {
        resolve(conn, id, &decision, None, "sesuai dokumen asli", "admin-1", OffsetDateTime::now_utc())
    }

    #[test]
    fn a_kept_handover_is_copied_whole_and_the_record_stays_readable() {
        let handover = |to: &'static str, copies: u64| {
            move |r: &mut ApplicationDoc| {
                r.handover = Some(HandoverDoc {
                    recipient: "applicant".into(),
                    recipient_nik: to.into(),
                    withdrawn_serial: None,
                    withdrawn_reason: None,
                    withdrawn_disposition: None,
                    copies: Some(copies),
                    at: "2026-11-21T10:00:00+08:00".into(),
                    by: "staff".into(),
                })
            }
        };
        let (_dir, mut conn) = hub_with(handover("5103025205900002", 2), handover("5103025205900003", 5));
        let (id, candidates) = case_of(&conn, "handover");
        assert!(candidates.iter().all(|c| c.contains("recipient_nik: 51030252059000")), "{candidates:?}");
        // A typed value cannot replace a nested record.
        assert!(matches!(decide(&mut conn, id, Decision::Corrected(Some("x".into()))), Err(ResolveError::Refused(_))));
        let five = candidates.iter().position(|c| c.contains("copies: 5")).unwrap();
        decide(&mut conn, id, Decision::Keep(five)).unwrap();
        let kept = record(&conn).handover.expect("the handover is kept");
        assert_eq!((kept.recipient_nik.as_str(), kept.copies), ("5103025205900003", Some(5)));
        assert!(inbox::list_open(&conn, 50).unwrap().is_empty());
        assert_eq!(record(&conn).resolutions.len(), 1);
    }

    #[test]
    fn corrected_values_keep_the_fields_rules_and_nothing_is_written_when_refused() {
        let (_dir, mut conn) =
            hub_with(|r| r.applicant.name = "Jane Citizen-Smith".into(), |r| r.applicant.name = "Jane Citisen".into());
        let (id, _) = case_of(&conn, "applicant.name");
        let before = record(&conn);
        // An empty name breaks the record's rules: refused, the case stays open, nothing written.
        assert!(matches!(decide(&mut conn, id, Decision::Corrected(None)), Err(ResolveError::Refused(_))));
        assert_eq!(record(&conn).resolutions, before.resolutions);
        assert!(matches!(decide(&mut conn, id, Decision::Keep(7)), Err(ResolveError::NotFound)));
        decide(&mut conn, id, Decision::Corrected(Some("Jane Citizen Smith".into()))).unwrap();
        assert_eq!(record(&conn).applicant.name, "Jane Citizen Smith");

        let (_dir, mut conn) = hub_with(|r| r.status = "submitted".into(), |r| r.status = "cancelled".into());
        let (id, _) = case_of(&conn, "status");
        assert!(matches!(
            decide(&mut conn, id, Decision::Corrected(Some("done-ish".into()))),
            Err(ResolveError::Refused(_))
        ));
        decide(&mut conn, id, Decision::Corrected(Some("submitted".into()))).unwrap();
        assert_eq!(record(&conn).status, "submitted");

        let (_dir, mut conn) = hub_with(
            |r| r.applicant.birth_date = "1990-05-13".into(),
            |r| r.applicant.birth_date = "1990-05-11".into(),
        );
        let (id, _) = case_of(&conn, "applicant.birth_date");
        // Not a date, then a date the NIK contradicts (the NIK says 12 May 1990).
        for bad in ["12/05/1990", "1990-05-14"] {
            let refused = decide(&mut conn, id, Decision::Corrected(Some(bad.into())));
            assert!(matches!(refused, Err(ResolveError::Refused(_))), "{bad}: {refused:?}");
        }
        decide(&mut conn, id, Decision::Corrected(Some("1990-05-12".into()))).unwrap();
        assert_eq!(record(&conn).applicant.birth_date, "1990-05-12");

        let (_dir, mut conn) = hub_with(|r| r.office = "51.03.01".into(), |r| r.office = "51.03.03".into());
        let (id, candidates) = case_of(&conn, "office");
        assert!(matches!(
            decide(&mut conn, id, Decision::Corrected(Some("51.03.02".into()))),
            Err(ResolveError::Refused(_))
        ));
        let first = candidates[0].clone();
        decide(&mut conn, id, Decision::Keep(0)).unwrap();
        assert_eq!(record(&conn).office, first);
    }

    #[test]
    fn settling_one_field_leaves_another_open_conflict_to_its_own_decision() {
        let (_dir, mut conn) = hub_with(
            |r| {
                r.applicant.name = "Jane Citizen-Smith".into();
                r.status = "submitted".into();
            },
            |r| {
                r.applicant.name = "Jane Citisen".into();
                r.status = "cancelled".into();
            },
        );
        let (name_case, _) = case_of(&conn, "applicant.name");
        decide(&mut conn, name_case, Decision::Corrected(Some("Jane Citizen".into()))).unwrap();
        // The status still holds both values, and either can still be kept.
        let mut doc = documents::open(&conn, ID).unwrap().unwrap();
        let open: Vec<String> = conflicts(&mut doc, APPLICATION_FIELDS).into_iter().map(|c| c.field).collect();
        assert_eq!(open, ["status"]);
        let (status_case, candidates) = case_of(&conn, "status");
        let cancelled = candidates.iter().position(|c| c == "cancelled").unwrap();
        decide(&mut conn, status_case, Decision::Keep(cancelled)).unwrap();
        assert_eq!(record(&conn).status, "cancelled");
        assert_eq!(record(&conn).applicant.name, "Jane Citizen");
        assert_eq!(record(&conn).resolutions.len(), 2);
    }

    #[test]
    fn a_merge_at_the_hub_puts_one_persons_records_at_two_offices_in_the_inbox_once() {
        let (_dir, conn) = hub_with(|_| {}, |_| {});
        assert!(inbox::list_open(&conn, 10).unwrap().is_empty());
        let other = "0b6f1c55-93c4-4b8c-9a3f-5d6c1f0e2a12";
        let mut elsewhere = tests_support::application();
        elsewhere.office = "51.03.03".into();
        elsewhere.number = "510303-20261121-0001".into();
        let now = OffsetDateTime::now_utc();
        documents::create(&conn, documents::DocKind::Application, other, &elsewhere, now, "staff-2").unwrap();
        let ids = [other, ID].map(|i| DocumentId(i.parse().unwrap()));
        after_merge(&conn, &ids, true, now).unwrap();
        after_merge(&conn, &ids, true, now).unwrap();
        let (_, candidates) = case_of(&conn, sameperson::FIELD);
        assert_eq!(candidates.len(), 2, "{candidates:?}");
        assert_eq!(inbox::list_open(&conn, 10).unwrap().len(), 1, "one situation, one case");
    }

    #[test]
    fn a_value_replaced_since_the_case_was_read_cannot_be_kept() {
        let (_dir, mut conn) =
            hub_with(|r| r.applicant.name = "Jane Citizen-Smith".into(), |r| r.applicant.name = "Jane Citisen".into());
        let (id, _) = case_of(&conn, "applicant.name");
        // A later change (another sync) replaces both values before the admin decides.
        let mut doc = documents::open(&conn, ID).unwrap().unwrap();
        let mut r: ApplicationDoc = autosurgeon::hydrate(&doc).unwrap();
        r.applicant.name = "Jane Citizen".into();
        autosurgeon::reconcile(&mut doc, &r).unwrap();
        doc.commit();
        conn.execute("UPDATE documents SET state = ?2 WHERE id = ?1", rusqlite::params![ID, doc.save()]).unwrap();
        assert!(matches!(decide(&mut conn, id, Decision::Keep(0)), Err(ResolveError::Changed)));
        // A decision made on an older list of candidates is refused before anything is read.
        let now = OffsetDateTime::now_utc();
        let stale = resolve(
            &mut conn,
            id,
            &Decision::Corrected(Some("Jane".into())),
            Some("0011223344556677"),
            "alasan ok",
            "a",
            now,
        );
        assert!(matches!(stale, Err(ResolveError::Changed)));
        let current = inbox::get(&conn, id).unwrap().unwrap().revision();
        resolve(
            &mut conn,
            id,
            &Decision::Corrected(Some("Jane Citizen".into())),
            Some(&current),
            "alasan ok",
            "a",
            now,
        )
        .unwrap();
    }
}
