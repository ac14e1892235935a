//! The office's work on applications: open, fill in, attach, submit, verify or return, record
//! biometrics and the centre's answers, produce, hand over, cancel.
//!
//! Each function is one unit of work inside the caller's transaction: the document change, its
//! projection and the audit entry commit together or not at all. The rules come from `domain`;
//! this module applies them to stored documents.

use std::collections::HashSet;

use simpul_domain::applicant::{self, Applicant, FieldProblem, PoaProblem, PoaScope, PowerOfAttorney};
use simpul_domain::application::{self, Action, IllegalTransition, Status};
use simpul_domain::attachment::ChecklistItem;
use simpul_domain::calendar::Pause;
use simpul_domain::catalog::{CompletionTime, ServiceKind, ServiceStandard};
use simpul_domain::wilayah::RegionCode;
use simpul_domain::zone::Zone;
use simpul_sync::records::{
    ApplicantDoc, ApplicationDoc, CaptureDoc, ChecklistDoc, HandoverDoc, IdentificationDoc, ProxyDoc, ReturnDoc,
    ReturnReasonDoc, StepDoc, code, date_text,
};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use simpul_store::audit::{self, Actor};
use simpul_store::documents::{self, DocKind, UpdateError};
use simpul_store::{self as store, Connection, StoreError, catalog};

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

/// A box received one of its office's applications from the hub: when its number is in this
/// box's station block, the day's count moves past it. A box restored from a backup thus never
/// gives out again a number its lost work had used, once the hub has given that work back.
pub fn keep_numbers_ahead(conn: &Connection, number: &str) -> Result<(), StoreError> {
    let Some((day, sequence)) = application::number_parts(number) else { return Ok(()) };
    let Some((station, n)) = application::sequence_parts(sequence) else { return Ok(()) };
    if station != application::station_block(store::settings::station(conn)?) {
        return Ok(());
    }
    store::applications::raise_daily_count(conn, day, n)
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
    let station = store::settings::station(conn)?;
    let sequence =
        application::station_sequence(station, store::applications::next_sequence(conn, "application", today)?);
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
                use simpul_sbi::BioSubType;
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

fn project(conn: &Connection, id: &str, doc: &ApplicationDoc, standard: &ServiceStandard) -> Result<(), StoreError> {
    let due = match sla_inputs(doc, standard) {
        Some((time, start, pauses)) => store::holidays::calendar(conn)?.due(time, start, &pauses),
        None => None,
    };
    let due = due.map(|d| format!("{} {:02}:{:02}", date_text(d.date()), d.hour(), d.minute()));
    store::applications::upsert_projection(conn, id, doc, due)
}

/// Brings the projection of a document up to date (after a local action, or after changes
/// from a peer were merged).
pub fn project_current(conn: &Connection, id: &str, doc: &ApplicationDoc) -> Result<(), StoreError> {
    match catalog::get(conn, &doc.service_id)? {
        Some(entry) => project(conn, id, doc, &entry.standard),
        // The catalog entry is unknown here (removed, or not yet synced): no due time.
        None => store::applications::upsert_projection(conn, id, doc, None),
    }
}

/// Due times follow the calendar and the catalog: after holidays or a service's completion
/// time changed, every open application is projected again. Returns how many were.
pub fn recompute_due(conn: &Connection) -> Result<usize, StoreError> {
    let open: Vec<String> = store::applications::statuses(conn)?
        .into_iter()
        .filter(|(_, status)| status.is_some_and(|s| !s.is_final()))
        .map(|(id, _)| id)
        .collect();
    for id in &open {
        if let Some(doc) = store::applications::readable(conn, id)? {
            project_current(conn, id, &doc)?;
        }
    }
    Ok(open.len())
}
