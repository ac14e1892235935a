//! The office's work on applications: open, fill in, attach, submit, verify or return, record
//! biometrics and the centre's answers, produce, hand over, cancel.
//!
//! Each function is one unit of work inside the caller's transaction: the document change, its
//! projection and the audit entry commit together or not at all. The rules come from `domain`;
//! this module applies them to stored documents.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};
use simpul_domain::applicant::{self, Applicant, FieldProblem, PoaProblem, PoaScope, PowerOfAttorney};
use simpul_domain::application::{self, Action, IllegalTransition, Status};
use simpul_domain::attachment::ChecklistItem;
use simpul_domain::calendar::{Calendar, Pause};
use simpul_domain::catalog::{CompletionTime, ServiceKind, ServiceStandard};
use simpul_domain::wilayah::RegionCode;
use simpul_domain::zone::Zone;
use simpul_sync::records::{
    ApplicantDoc, ApplicationDoc, CaptureDoc, ChecklistDoc, HandoverDoc, IdentificationDoc, ProxyDoc, ReturnDoc,
    ReturnReasonDoc, StepDoc, code, date_text,
};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use crate::db::StoreError;
use crate::store::audit::{self, Actor};
use crate::store::documents::{self, DocKind, UpdateError};
use crate::store::{catalog, stamp};

/// Who acts, where, and when by their device.
#[derive(Debug, Clone)]
pub struct Who {
    /// Staff account id.
    pub staff: String,
    /// The office (kecamatan) this box serves.
    pub office: RegionCode,
    /// Device time of the action.
    pub at: OffsetDateTime,
    /// The office's time zone.
    pub zone: Zone,
}

impl Who {
    /// Today at the office.
    pub fn local_date(&self) -> Date {
        self.at.to_offset(self.zone.offset()).date()
    }

    pub(crate) fn time_text(&self) -> String {
        self.at.to_offset(self.zone.offset()).format(&Rfc3339).unwrap_or_default()
    }
}

/// Why an application action was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such application.
    #[error("application not found")]
    NotFound,
    /// No such catalog entry.
    #[error("service not found")]
    UnknownService,
    /// The applicant's data has problems.
    #[error("the applicant's data has {} problem(s)", .0.len())]
    Invalid(Vec<FieldProblem>),
    /// The lifecycle does not allow it.
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// Requirements not met (checklist indexes).
    #[error("requirements not met: {0:?}")]
    RequirementsMissing(Vec<usize>),
    /// A return needs at least one reason, each with words.
    #[error("a return needs a written reason for each missing item")]
    ReturnReasons,
    /// A checklist index that does not exist.
    #[error("no requirement number {0}")]
    NoSuchItem(usize),
    /// The data may not change any more (it was submitted).
    #[error("the application is {0} and can no longer be edited")]
    Locked(Status),
    /// The proxy's power of attorney does not cover the act.
    #[error("power of attorney: {0}")]
    Poa(PoaProblem),
    /// The hand-over lacks something it needs.
    #[error("hand-over: {0}")]
    HandOver(Needed),
    /// Biometrics incomplete.
    #[error("biometrics: {0}")]
    Biometrics(Needed),
    /// Another required detail is missing.
    #[error("{0}")]
    Detail(Needed),
    /// Identity or status fields hold concurrent values from a merge: the regency admin
    /// decides them before the record takes another step.
    #[error("waiting for the regency admin's decision on {0:?}")]
    AwaitingDecision(Vec<String>),
    /// The stored document does not decode.
    #[error("stored application is damaged: {0}")]
    Damaged(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UpdateError<AppError>> for AppError {
    fn from(e: UpdateError<AppError>) -> Self {
        match e {
            UpdateError::Refused(e) => e,
            UpdateError::Store(StoreError::NotFound) => AppError::NotFound,
            UpdateError::Store(e) => AppError::Store(e),
        }
    }
}

/// What a step still needs, with a stable code the UI translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Needed {
    /// Who took the product.
    #[error("who took it is not recorded")]
    Recipient,
    /// The recipient is neither the applicant nor a recorded proxy.
    #[error("the recipient is not the applicant and no proxy is recorded")]
    NoProxy,
    /// A reissue withdraws the old card.
    #[error("the old KTP-el must be withdrawn (serial, reason, what was done)")]
    Withdrawal,
    /// The withdrawal lacks a part.
    #[error("the withdrawal needs the serial, the reason and what was done")]
    WithdrawalDetails,
    /// Legalisation counts its copies.
    #[error("the number of stamped copies is needed")]
    Copies,
    /// Photo and signature before the biometric step closes.
    #[error("a photo and a signature are needed")]
    PhotoAndSignature,
    /// Some fingers were captured or excepted but not all ten.
    #[error("every finger needs a print or an exception")]
    AllFingers,
    /// Captures are taken between verification and sending.
    #[error("biometrics are recorded after verification, before sending")]
    CaptureWindow,
    /// A capture needs a known kind and an image or an exception.
    #[error("a capture has a known kind and either an image or an exception")]
    CaptureContent,
    /// A double identification names the other record.
    #[error("a double identification names the other record")]
    OtherReference,
    /// A cancellation says why.
    #[error("a cancellation needs a reason")]
    CancelReason,
}

impl Needed {
    /// Stable code for the UI.
    pub fn code(self) -> &'static str {
        match self {
            Needed::Recipient => "recipient",
            Needed::NoProxy => "no_proxy",
            Needed::Withdrawal => "withdrawal",
            Needed::WithdrawalDetails => "withdrawal_details",
            Needed::Copies => "copies",
            Needed::PhotoAndSignature => "photo_and_signature",
            Needed::AllFingers => "all_fingers",
            Needed::CaptureWindow => "capture_window",
            Needed::CaptureContent => "capture_content",
            Needed::OtherReference => "other_reference",
            Needed::CancelReason => "cancel_reason",
        }
    }
}

/// The exception code of a modality closed without any capture: no device was used.
pub const NOT_CAPTURED: &str = "not_captured";

fn damaged(e: impl std::fmt::Display) -> AppError {
    AppError::Damaged(e.to_string())
}

/// A proxy as entered at the counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyInput {
    /// The power of attorney.
    pub poa: PowerOfAttorney,
    /// SHA-256 of its scan, if attached.
    pub document: Option<String>,
}

/// What the counter enters to open an application.
#[derive(Debug, Clone)]
pub struct Intake {
    /// Catalog entry id.
    pub service_id: String,
    /// The applicant.
    pub applicant: Applicant,
    /// Queue ticket it came from.
    pub ticket: Option<String>,
    /// A proxy submitting for the applicant.
    pub proxy: Option<ProxyInput>,
}

/// Everything a projection or a page needs about one application.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Id.
    pub id: String,
    /// The document.
    pub doc: ApplicationDoc,
}

fn next_sequence(conn: &Connection, scope: &str, day: Date) -> Result<u32, StoreError> {
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

/// A box received one of its office's applications from the hub: when its number is in this
/// box's station block, the day's count moves past it. A box restored from a backup thus never
/// gives out again a number its lost work had used, once the hub has given that work back.
pub fn keep_numbers_ahead(conn: &Connection, number: &str) -> Result<(), StoreError> {
    let Some((day, sequence)) = application::number_parts(number) else { return Ok(()) };
    let Some((station, n)) = application::sequence_parts(sequence) else { return Ok(()) };
    if station != application::station_block(crate::store::settings::station(conn)?) {
        return Ok(());
    }
    raise_daily_count(conn, day, n)
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

fn proxy_doc(p: &ProxyInput) -> ProxyDoc {
    let scope: Vec<&str> = p
        .poa
        .scope
        .iter()
        .map(|s| match s {
            PoaScope::Submit => "submit",
            PoaScope::Pickup => "pickup",
        })
        .collect();
    ProxyDoc {
        nik: p.poa.grantee_nik.clone(),
        name: p.poa.grantee_name.clone(),
        scope: scope.join(","),
        valid_from: date_text(p.poa.valid_from),
        valid_until: date_text(p.poa.valid_until),
        reason: p.poa.reason.clone(),
        document: p.document.clone(),
    }
}

fn poa_from(doc: &ApplicationDoc, p: &ProxyDoc) -> Result<PowerOfAttorney, AppError> {
    let date = |s: &str| {
        Date::parse(s, &time::format_description::well_known::Iso8601::DATE).map_err(|_| damaged("proxy date"))
    };
    Ok(PowerOfAttorney {
        grantor_nik: doc.applicant.nik.clone(),
        grantor_name: doc.applicant.name.clone(),
        grantee_nik: p.nik.clone(),
        grantee_name: p.name.clone(),
        scope: p
            .scope
            .split(',')
            .filter_map(|s| match s {
                "submit" => Some(PoaScope::Submit),
                "pickup" => Some(PoaScope::Pickup),
                _ => None,
            })
            .collect(),
        valid_from: date(&p.valid_from)?,
        valid_until: date(&p.valid_until)?,
        reason: p.reason.clone(),
    })
}

/// Opens an application for a catalog service. Returns its id and number.
pub fn open(
    conn: &Connection,
    who: &Who,
    intake: &Intake,
    regions: &HashSet<RegionCode>,
) -> Result<(String, String), AppError> {
    let entry = catalog::get(conn, &intake.service_id)?.ok_or(AppError::UnknownService)?;
    let standard = &entry.standard;
    let today = who.local_date();
    let problems = applicant::check(standard.kind, &intake.applicant, regions, today);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    if let Some(proxy) = &intake.proxy {
        proxy
            .poa
            .covers(PoaScope::Submit, &intake.applicant.nik, &proxy.poa.grantee_nik, today)
            .map_err(AppError::Poa)?;
    }
    let station = crate::store::settings::station(conn)?;
    let sequence = application::station_sequence(station, next_sequence(conn, "application", today)?);
    let number = application::application_number(who.office, today, sequence);
    let id = uuid::Uuid::new_v4().to_string();
    let doc = ApplicationDoc {
        schema: simpul_sync::records::APPLICATION_SCHEMA,
        number: number.clone(),
        office: who.office.to_string(),
        service_id: entry.id.clone(),
        service_kind: standard.kind.code().into(),
        service_title: standard.title.clone(),
        status: Status::Draft.code().into(),
        created_at: who.time_text(),
        created_by: who.staff.clone(),
        ticket: intake.ticket.clone(),
        applicant: ApplicantDoc::from(&intake.applicant),
        proxy: intake.proxy.as_ref().map(proxy_doc),
        pickup_proxy: None,
        checklist: standard.requirements.iter().map(|r| ChecklistDoc::from(&ChecklistItem::new(&r.text))).collect(),
        captures: Vec::new(),
        steps: Vec::new(),
        returns: Vec::new(),
        identification: None,
        handover: None,
        resolutions: Vec::new(),
    };
    documents::create(conn, DocKind::Application, &id, &doc, who.at, &who.staff)?;
    project(conn, &id, &doc, standard)?;
    audit::record(conn, who.at, &Actor::Staff(who.staff.clone()), "application_opened", Some(&id), Some(&number))?;
    Ok((id, number))
}

/// The id of the application with this number.
pub fn id_by_number(conn: &Connection, number: &str) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT id FROM applications WHERE number = ?1", [number], |r| r.get(0)).optional()?)
}

/// Reads an application.
pub fn load(conn: &Connection, id: &str) -> Result<Loaded, AppError> {
    let doc: ApplicationDoc = documents::load(conn, id)?.ok_or(AppError::NotFound)?;
    Ok(Loaded { id: id.to_string(), doc })
}

fn editable(doc: &ApplicationDoc) -> Result<(), AppError> {
    let status = doc.status().map_err(damaged)?;
    if matches!(status, Status::Draft | Status::Returned) { Ok(()) } else { Err(AppError::Locked(status)) }
}

/// Identity and status fields of a record that hold concurrent values after a merge (the
/// same cases the hub puts in its conflict inbox). While any is open the record takes no step
/// and no edit: whatever the box wrote would silently pick one of the values, which is the
/// regency admin's decision to make.
pub fn awaiting_decision(conn: &Connection, id: &str) -> Result<Vec<String>, AppError> {
    let mut doc = documents::open(conn, id)?.ok_or(AppError::NotFound)?;
    Ok(open_conflicts(&mut doc))
}

fn open_conflicts(doc: &mut automerge::AutoCommit) -> Vec<String> {
    simpul_sync::merge::conflicts(doc, simpul_sync::records::APPLICATION_FIELDS).into_iter().map(|c| c.field).collect()
}

fn change(
    conn: &Connection,
    who: &Who,
    id: &str,
    audit_action: &str,
    detail: Option<&str>,
    f: impl FnOnce(&mut ApplicationDoc) -> Result<(), AppError>,
) -> Result<ApplicationDoc, AppError> {
    let guard = |doc: &mut automerge::AutoCommit| {
        let waiting = open_conflicts(doc);
        if waiting.is_empty() { Ok(()) } else { Err(AppError::AwaitingDecision(waiting)) }
    };
    let doc: ApplicationDoc = documents::update_guarded(conn, id, who.at, &who.staff, guard, f)?;
    project_current(conn, id, &doc)?;
    audit::record(conn, who.at, &Actor::Staff(who.staff.clone()), audit_action, Some(id), detail)?;
    Ok(doc)
}

/// Replaces the applicant's data (while the application is a draft or returned).
pub fn set_applicant(
    conn: &Connection,
    who: &Who,
    id: &str,
    applicant_data: &Applicant,
    regions: &HashSet<RegionCode>,
) -> Result<(), AppError> {
    let today = who.local_date();
    change(conn, who, id, "applicant_updated", None, |doc| {
        editable(doc)?;
        let problems = applicant::check(doc.kind().map_err(damaged)?, applicant_data, regions, today);
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems));
        }
        doc.applicant = ApplicantDoc::from(applicant_data);
        Ok(())
    })?;
    Ok(())
}

/// Whether a file may be attached now (to requirement `item`, or as a biometric capture when
/// `item` is `None`): checked before the bytes are written, so that a refused upload stores
/// nothing.
pub fn check_attach(conn: &Connection, id: &str, item: Option<usize>) -> Result<(), AppError> {
    let doc = load(conn, id)?.doc;
    match item {
        Some(item) => {
            editable(&doc)?;
            if item >= doc.checklist.len() {
                return Err(AppError::NoSuchItem(item));
            }
        }
        None => {
            if doc.status().map_err(damaged)? != Status::Verified {
                return Err(AppError::Biometrics(Needed::CaptureWindow));
            }
        }
    }
    Ok(())
}

/// Attaches a stored file to a requirement.
pub fn attach(conn: &Connection, who: &Who, id: &str, item: usize, sha256: &str) -> Result<(), AppError> {
    change(conn, who, id, "requirement_attached", Some(sha256), |doc| {
        editable(doc)?;
        let line = doc.checklist.get_mut(item).ok_or(AppError::NoSuchItem(item))?;
        if !line.attachments.iter().any(|a| a == sha256) {
            line.attachments.push(sha256.to_string());
        }
        Ok(())
    })?;
    Ok(())
}

/// Confirms (or un-confirms) a condition or a shown original.
pub fn confirm(conn: &Connection, who: &Who, id: &str, item: usize, confirmed: bool) -> Result<(), AppError> {
    change(conn, who, id, "requirement_confirmed", None, |doc| {
        editable(doc)?;
        let line = doc.checklist.get_mut(item).ok_or(AppError::NoSuchItem(item))?;
        line.confirmed = confirmed;
        Ok(())
    })?;
    Ok(())
}

/// Details some actions need.
#[derive(Debug, Clone, Default)]
pub struct ActDetails {
    /// Reasons of a return: (checklist index, reason).
    pub reasons: Vec<(usize, String)>,
    /// Reason of a cancellation or a note.
    pub note: Option<String>,
    /// For a double identification: the other record's reference.
    pub other_reference: Option<String>,
    /// For a hand-over.
    pub handover: Option<HandoverInput>,
}

/// What the counter records at hand-over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoverInput {
    /// NIK of the person taking it (the applicant or the proxy).
    pub recipient_nik: String,
    /// Old KTP-el withdrawn: serial, reason, what was done with it.
    pub withdrawn: Option<(String, String, String)>,
    /// Copies stamped (legalisation).
    pub copies: Option<u32>,
    /// A power of attorney presented now by the person taking it, when the applicant sends
    /// someone who was not named at intake.
    pub proxy: Option<ProxyInput>,
}

fn step(doc: &mut ApplicationDoc, who: &Who, from: Status, to: Status, action: Action, note: Option<String>) {
    doc.status = to.code().into();
    doc.steps.push(StepDoc {
        from: from.code().into(),
        to: to.code().into(),
        action: code::action(action).into(),
        by: who.staff.clone(),
        at: who.time_text(),
        office: who.office.to_string(),
        note,
    });
}

/// Applies a lifecycle action, with the checks it needs.
pub fn act(
    conn: &Connection,
    who: &Who,
    id: &str,
    action: Action,
    details: &ActDetails,
    regions: &HashSet<RegionCode>,
) -> Result<Status, AppError> {
    let today = who.local_date();
    let doc = change(conn, who, id, code::action(action), details.note.as_deref(), |doc| {
        let from = doc.status().map_err(damaged)?;
        let kind = doc.kind().map_err(damaged)?;
        let to = application::transition(kind, from, action)?;
        let mut note = details.note.clone().filter(|n| !n.trim().is_empty());
        match action {
            Action::Submit | Action::Resubmit => {
                let applicant = doc.applicant.to_domain().map_err(damaged)?;
                let problems = applicant::check(kind, &applicant, regions, today);
                if !problems.is_empty() {
                    return Err(AppError::Invalid(problems));
                }
                let items = doc.checklist().map_err(damaged)?;
                let missing = simpul_domain::attachment::missing(&items);
                if !missing.is_empty() {
                    return Err(AppError::RequirementsMissing(missing));
                }
                // What the last return named must have been answered, not just sent again.
                if let (Action::Resubmit, Some(last)) = (action, doc.returns.last()) {
                    let returned: Vec<(usize, &[String])> =
                        last.reasons.iter().map(|r| (r.item as usize, r.files_then.as_slice())).collect();
                    let unanswered = simpul_domain::attachment::unanswered(&items, &returned);
                    if !unanswered.is_empty() {
                        return Err(AppError::RequirementsMissing(unanswered));
                    }
                }
            }
            Action::Return => {
                let reasons: Vec<ReturnReasonDoc> = details
                    .reasons
                    .iter()
                    .filter(|(_, r)| !r.trim().is_empty())
                    .map(|(item, reason)| ReturnReasonDoc {
                        item: *item as u64,
                        reason: reason.trim().to_string(),
                        files_then: doc.checklist.get(*item).map(|i| i.attachments.clone()).unwrap_or_default(),
                    })
                    .collect();
                if reasons.is_empty() || reasons.len() != details.reasons.len() {
                    return Err(AppError::ReturnReasons);
                }
                if let Some(bad) = details.reasons.iter().find(|(i, _)| *i >= doc.checklist.len()) {
                    return Err(AppError::NoSuchItem(bad.0));
                }
                // A returned item's old confirmation no longer stands.
                for r in &reasons {
                    if let Some(item) = doc.checklist.get_mut(r.item as usize) {
                        item.confirmed = false;
                    }
                }
                doc.returns.push(ReturnDoc { at: who.time_text(), by: who.staff.clone(), reasons });
            }
            Action::RecordBiometrics => {
                let has = |captures: &[CaptureDoc], m: &str| {
                    captures.iter().any(|c| c.modality == m && (c.blob.is_some() || c.exception.is_some()))
                };
                if !has(&doc.captures, "photo") || !has(&doc.captures, "signature") {
                    return Err(AppError::Biometrics(Needed::PhotoAndSignature));
                }
                // Once fingerprints were started, every finger needs a print or a declared
                // exception (missing, injured): one print of ten is not a set of fingerprints.
                use simpul_domain::sbi::BioSubType;
                let covered = |m: &str, p: BioSubType| {
                    doc.captures.iter().any(|c| {
                        c.modality == m && c.position == p.position() && (c.blob.is_some() || c.exception.is_some())
                    })
                };
                if has(&doc.captures, "fingerprint") && !BioSubType::FINGERS.iter().all(|f| covered("fingerprint", *f))
                {
                    return Err(AppError::Biometrics(Needed::AllFingers));
                }
                // A modality nobody captured, or an eye the iris camera did not take, is
                // recorded as not captured, with who closed the step, rather than left looking
                // complete.
                let mut not_captured: Vec<(&str, String)> = Vec::new();
                if !has(&doc.captures, "fingerprint") {
                    not_captured.push(("fingerprint", String::new()));
                }
                if has(&doc.captures, "iris") {
                    for eye in BioSubType::IRISES.into_iter().filter(|e| !covered("iris", *e)) {
                        not_captured.push(("iris", eye.position()));
                    }
                } else {
                    not_captured.push(("iris", String::new()));
                }
                for (modality, position) in not_captured {
                    doc.captures.push(CaptureDoc {
                        modality: modality.into(),
                        position,
                        blob: None,
                        picture: None,
                        record_format: None,
                        quality: None,
                        device: format!("none ({})", who.staff),
                        exception: Some(NOT_CAPTURED.into()),
                        at: who.time_text(),
                    });
                }
            }
            Action::IdentifiedSingle => {
                doc.identification =
                    Some(IdentificationDoc { result: "single".into(), other_reference: None, at: who.time_text() });
            }
            Action::IdentifiedDouble => {
                let other = details
                    .other_reference
                    .clone()
                    .filter(|r| !r.trim().is_empty())
                    .ok_or(AppError::Detail(Needed::OtherReference))?;
                note = note.or_else(|| Some(format!("ganda dengan {other}")));
                doc.identification = Some(IdentificationDoc {
                    result: "double".into(),
                    other_reference: Some(other),
                    at: who.time_text(),
                });
            }
            Action::HandOver => {
                let input = details.handover.as_ref().ok_or(AppError::HandOver(Needed::Recipient))?;
                let recipient = if input.recipient_nik == doc.applicant.nik {
                    "applicant"
                } else if let Some(presented) = &input.proxy {
                    // A power of attorney the applicant gave the person at the counter now: it
                    // must name this person, cover pick-up and hold today.
                    let mut given = presented.clone();
                    given.poa.grantor_nik = doc.applicant.nik.clone();
                    given.poa.grantor_name = doc.applicant.name.clone();
                    if given.poa.grantee_name.trim().is_empty() || given.poa.reason.trim().is_empty() {
                        return Err(AppError::Poa(PoaProblem::Malformed));
                    }
                    given
                        .poa
                        .covers(PoaScope::Pickup, &doc.applicant.nik, &input.recipient_nik, today)
                        .map_err(AppError::Poa)?;
                    doc.pickup_proxy = Some(proxy_doc(&given));
                    "proxy"
                } else {
                    // The proxy named at intake, or one recorded at an earlier hand-over try.
                    let known = [doc.pickup_proxy.as_ref(), doc.proxy.as_ref()];
                    let mut outcome = Err(AppError::HandOver(Needed::NoProxy));
                    for p in known.into_iter().flatten() {
                        let poa = poa_from(doc, p)?;
                        outcome = poa
                            .covers(PoaScope::Pickup, &doc.applicant.nik, &input.recipient_nik, today)
                            .map_err(AppError::Poa);
                        if outcome.is_ok() {
                            break;
                        }
                    }
                    outcome?;
                    "proxy"
                };
                let needs_withdrawal = matches!(kind, ServiceKind::KtpElReissue);
                if needs_withdrawal && input.withdrawn.is_none() {
                    return Err(AppError::HandOver(Needed::Withdrawal));
                }
                if let Some((serial, reason, disposition)) = &input.withdrawn
                    && (serial.trim().is_empty() || reason.trim().is_empty() || disposition.trim().is_empty())
                {
                    return Err(AppError::HandOver(Needed::WithdrawalDetails));
                }
                if kind == ServiceKind::Legalisation && input.copies.is_none_or(|c| c == 0) {
                    return Err(AppError::HandOver(Needed::Copies));
                }
                doc.handover = Some(HandoverDoc {
                    recipient: recipient.into(),
                    recipient_nik: input.recipient_nik.clone(),
                    withdrawn_serial: input.withdrawn.as_ref().map(|w| w.0.trim().to_string()),
                    withdrawn_reason: input.withdrawn.as_ref().map(|w| w.1.trim().to_string()),
                    withdrawn_disposition: input.withdrawn.as_ref().map(|w| w.2.trim().to_string()),
                    copies: input.copies.map(u64::from),
                    at: who.time_text(),
                    by: who.staff.clone(),
                });
            }
            Action::Cancel => {
                if note.is_none() {
                    return Err(AppError::Detail(Needed::CancelReason));
                }
            }
            Action::Verify | Action::SendForIdentification | Action::ResolveClarification | Action::Produce => {}
        }
        step(doc, who, from, to, action, note);
        Ok(())
    })?;
    doc.status().map_err(damaged)
}

/// Records one biometric capture (from a device, or an uploaded photo or signature).
pub fn record_capture(conn: &Connection, who: &Who, id: &str, capture: CaptureDoc) -> Result<(), AppError> {
    let modality = capture.modality.clone();
    change(conn, who, id, "biometric_captured", Some(&modality), |doc| {
        let status = doc.status().map_err(damaged)?;
        if status != Status::Verified {
            return Err(AppError::Biometrics(Needed::CaptureWindow));
        }
        let valid = ["photo", "signature", "fingerprint", "iris"].contains(&capture.modality.as_str());
        if !valid || (capture.blob.is_none() && capture.exception.is_none()) {
            return Err(AppError::Biometrics(Needed::CaptureContent));
        }
        doc.captures.retain(|c| !(c.modality == capture.modality && c.position == capture.position));
        doc.captures.push(capture);
        Ok(())
    })?;
    Ok(())
}

/// The SLA of an application: its completion time, start and pauses from its steps.
pub fn sla_inputs(
    doc: &ApplicationDoc,
    standard: &ServiceStandard,
) -> Option<(CompletionTime, PrimitiveDateTime, Vec<Pause>)> {
    let time = standard.completion.as_ref()?.time;
    let local = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| PrimitiveDateTime::new(t.date(), t.time()));
    // The clock starts when the file is first submitted complete.
    let start = doc.steps.iter().find(|s| s.action == "submit").and_then(|s| local(&s.at))?;
    let mut pauses = Vec::new();
    for s in &doc.steps {
        let paused_after = Status::from_code(&s.to).is_some_and(Status::pauses_sla);
        let paused_before = Status::from_code(&s.from).is_some_and(Status::pauses_sla);
        if paused_after && !paused_before {
            pauses.push(Pause { from: local(&s.at)?, until: None });
        } else if paused_before
            && !paused_after
            && let Some(open) = pauses.last_mut().filter(|p| p.until.is_none())
        {
            open.until = local(&s.at);
        }
    }
    Some((time, start, pauses))
}

fn calendar(conn: &Connection) -> Result<Calendar, StoreError> {
    let mut stmt = conn.prepare("SELECT date, name, kind FROM holidays")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    let mut holidays = Vec::new();
    for row in rows {
        let (date, name, kind) = row?;
        let date = Date::parse(&date, &time::format_description::well_known::Iso8601::DATE)
            .map_err(|_| StoreError::Corrupt(format!("holiday {date}")))?;
        let kind = match kind.as_str() {
            "national" => simpul_domain::calendar::HolidayKind::National,
            "cuti_bersama" => simpul_domain::calendar::HolidayKind::CutiBersama,
            _ => simpul_domain::calendar::HolidayKind::Regional,
        };
        holidays.push(simpul_domain::calendar::Holiday { date, name, kind });
    }
    Ok(Calendar::with_holidays(holidays))
}

/// The office calendar (holidays as imported).
pub fn office_calendar(conn: &Connection) -> Result<Calendar, StoreError> {
    calendar(conn)
}

fn project(conn: &Connection, id: &str, doc: &ApplicationDoc, standard: &ServiceStandard) -> Result<(), StoreError> {
    let due = match sla_inputs(doc, standard) {
        Some((time, start, pauses)) => calendar(conn)?.due(time, start, &pauses),
        None => None,
    };
    let due = due.map(|d| format!("{} {:02}:{:02}", date_text(d.date()), d.hour(), d.minute()));
    upsert_projection(conn, id, doc, due)
}

/// Brings the projection of a document up to date (after a local action, or after changes
/// from a peer were merged).
pub fn project_current(conn: &Connection, id: &str, doc: &ApplicationDoc) -> Result<(), StoreError> {
    match catalog::get(conn, &doc.service_id)? {
        Some(entry) => project(conn, id, doc, &entry.standard),
        // The catalog entry is unknown here (removed, or not yet synced): no due time.
        None => project_without_standard(conn, id, doc),
    }
}

/// Due times follow the calendar and the catalog: after holidays or a service's completion
/// time changed, every open application is projected again. Returns how many were.
pub fn recompute_due(conn: &Connection) -> Result<usize, StoreError> {
    let open: Vec<String> = {
        let mut stmt = conn.prepare("SELECT id, status FROM applications")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.filter_map(Result::ok)
            .filter(|(_, status)| Status::from_code(status).is_some_and(|s| !s.is_final()))
            .map(|(id, _)| id)
            .collect()
    };
    for id in &open {
        if let Some(doc) = readable(conn, id)? {
            project_current(conn, id, &doc)?;
        }
    }
    Ok(open.len())
}

/// An application document, or none when it is missing or does not read (left to the checks
/// that report it).
pub(crate) fn readable(conn: &Connection, id: &str) -> Result<Option<ApplicationDoc>, StoreError> {
    match crate::store::documents::load(conn, id) {
        Err(StoreError::Corrupt(_)) => Ok(None),
        other => other,
    }
}

fn project_without_standard(conn: &Connection, id: &str, doc: &ApplicationDoc) -> Result<(), StoreError> {
    upsert_projection(conn, id, doc, None)
}

fn upsert_projection(conn: &Connection, id: &str, doc: &ApplicationDoc, due: Option<String>) -> Result<(), StoreError> {
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
        if crate::store::blobs::valid_digest(&sha) && stmt.execute(params![sha, doc.office])? > 0 {
            crate::store::blobs::note_lacking(conn, &sha, &doc.office)?;
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
    if crate::store::settings::get(conn, done)?.is_some() {
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
    crate::store::settings::put(conn, done, "1")?;
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
