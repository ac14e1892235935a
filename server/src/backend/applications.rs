//! The UI's application work on the server: forms to domain values and back, one transaction
//! per user action (document change, projection, audit, and the idempotency record together),
//! views with the steps the caller may take, the dashboard, uploads and printouts.

use std::collections::{HashMap, HashSet};

use simpul_app::error::{ApiError, Refusal};
use simpul_app::wire::{
    ApplicantForm, ApplicationRow, ApplicationView, AttachmentView, CaptureView, ChecklistLine, DashboardView,
    HandoverView, IntakeForm, IntakeService, IntakeView, ProxyForm, StepForm, StepView, UserView,
};
use simpul_domain::application::{self, Action, Status};
use simpul_domain::attachment::{CheckedUpload, ContentType};
use simpul_domain::calendar::SlaStatus;
use simpul_domain::wilayah::RegionCode;
use simpul_store::Connection;
use simpul_sync::records::{ApplicationDoc, CaptureDoc, date_text};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::backend::forms::{applicant_from_form, field_problem, form_from_doc, optional, poa_code, proxy_from_form};
use crate::backend::{AppBackend, internal, local_datetime};
use crate::office::applications::{self, ActDetails, AppError, HandoverInput, Intake, ProxyInput, Who};
use simpul_app::backend::ApplicationBackend;
use simpul_store::db::StoreError;
use simpul_store::{blobs, catalog, regions, staff};

/// An upload's destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadTarget {
    /// A checklist line (index).
    Requirement(usize),
    /// A photo.
    Photo,
    /// A signature.
    Signature,
}

/// Maps an application refusal to what the UI shows.
pub fn app_error(e: AppError) -> ApiError {
    match e {
        AppError::NotFound | AppError::UnknownService => ApiError::NotFound,
        AppError::Invalid(problems) => ApiError::Refused(Refusal::Fields(problems.iter().map(field_problem).collect())),
        AppError::Illegal(t) => ApiError::Refused(Refusal::WrongState(t.from.code().into())),
        AppError::RequirementsMissing(items) => {
            ApiError::Refused(Refusal::RequirementsMissing(items.into_iter().map(|i| i + 1).collect()))
        }
        AppError::ReturnReasons => ApiError::Refused(Refusal::ReturnReasons),
        AppError::NoSuchItem(i) => ApiError::BadRequest(format!("no requirement number {}", i + 1)),
        AppError::Locked(s) => ApiError::Refused(Refusal::Locked(s.code().into())),
        AppError::Poa(p) => ApiError::Refused(Refusal::PowerOfAttorney(poa_code(&p).into())),
        AppError::HandOver(n) | AppError::Biometrics(n) | AppError::Detail(n) => {
            ApiError::Refused(Refusal::Missing(n.code().into()))
        }
        AppError::AwaitingDecision(fields) => ApiError::Refused(Refusal::AwaitingDecision(fields)),
        AppError::Damaged(detail) => {
            tracing::error!(detail, "stored application does not decode");
            ApiError::Internal
        }
        AppError::Store(e) => internal(e),
    }
}

pub(crate) fn parse_local(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

fn parse_due(s: &str) -> Option<PrimitiveDateTime> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    PrimitiveDateTime::parse(s, &format).ok()
}

struct Context {
    calendar: simpul_domain::calendar::Calendar,
    completion: HashMap<String, simpul_domain::catalog::CompletionTime>,
    names: HashMap<String, String>,
    now: PrimitiveDateTime,
    zone: simpul_domain::zone::Zone,
}

impl Context {
    fn load(conn: &Connection, zone: simpul_domain::zone::Zone) -> Result<Context, StoreError> {
        let calendar = simpul_store::holidays::calendar(conn)?;
        let completion =
            catalog::list(conn)?.into_iter().filter_map(|e| e.standard.completion.map(|c| (e.id, c.time))).collect();
        let names = staff::list(conn)?.into_iter().map(|a| (a.id, a.display_name)).collect();
        let now = OffsetDateTime::now_utc().to_offset(zone.offset());
        Ok(Context { calendar, completion, names, now: PrimitiveDateTime::new(now.date(), now.time()), zone })
    }

    fn sla(&self, service_id: &str, status: Status, due: Option<&str>) -> Option<SlaStatus> {
        // Handed over or cancelled, or ready and waiting for the applicant: the office's part
        // is done and no clock runs.
        if status.is_final() || status == Status::Ready {
            return None;
        }
        if status.pauses_sla() {
            return Some(SlaStatus::Paused);
        }
        let due = parse_due(due?)?;
        let time = self.completion.get(service_id)?;
        Some(self.calendar.status_by_due(*time, due, self.now))
    }

    fn name(&self, staff_id: &str) -> String {
        self.names.get(staff_id).cloned().unwrap_or_else(|| staff_id.to_string())
    }

    fn local(&self, rfc3339: &str) -> String {
        parse_local(rfc3339).map_or_else(|| rfc3339.to_string(), |t| local_datetime(t, self.zone))
    }
}

/// A projection row as the lists show it, with its SLA now.
fn row_view(ctx: &Context, r: &simpul_store::applications::Row) -> ApplicationRow {
    ApplicationRow {
        id: r.id.clone(),
        number: r.number.clone(),
        status: r.status,
        kind: r.kind,
        name: r.name.clone(),
        updated: ctx.local(&r.updated_at),
        due: r.due_at.clone(),
        sla: ctx.sla(&r.service_id, r.status, r.due_at.as_deref()),
    }
}

/// Longest list a page shows.
const LIST_LIMIT: u32 = 200;

/// Statuses still in the office's hands.
fn open_statuses() -> Vec<Status> {
    Status::ALL.into_iter().filter(|s| !s.is_final()).collect()
}

/// The statuses of a named list, and whether it holds only the caller's applications.
fn list_statuses(list: &str) -> Option<(Vec<Status>, bool)> {
    use Status as S;
    Some(match list {
        "open" => (open_statuses(), false),
        "mine" => (open_statuses(), true),
        "to_verify" => (vec![S::Submitted], false),
        "returned" => (vec![S::Returned], false),
        "ready" => (vec![S::Ready], false),
        "centre" => (
            vec![S::Verified, S::BiometricsRecorded, S::SentForIdentification, S::Clarification, S::ReadyToPrint],
            false,
        ),
        "closed" => (vec![S::HandedOver, S::Cancelled], false),
        "all" => (Vec::new(), false),
        _ => return None,
    })
}

fn view(conn: &Connection, ctx: &Context, user: &UserView, id: &str) -> Result<ApplicationView, AppError> {
    let doc = applications::load(conn, id)?.doc;
    let status = doc.status().map_err(|e| AppError::Damaged(e.to_string()))?;
    let kind = doc.kind().map_err(|e| AppError::Damaged(e.to_string()))?;
    let awaiting_decision = applications::awaiting_decision(conn, id)?;
    let entry = catalog::get(conn, &doc.service_id)?;
    let procedure = entry.as_ref().map_or_else(Vec::new, |e| {
        e.standard
            .procedure
            .iter()
            .map(|p| {
                if p.sub_steps.is_empty() { p.text.clone() } else { format!("{} ({})", p.text, p.sub_steps.join("; ")) }
            })
            .collect()
    });
    let last_return = doc.returns.last();
    let mut checklist = Vec::new();
    for (i, line) in doc.checklist.iter().enumerate() {
        let item = line.to_domain().map_err(|e| AppError::Damaged(e.to_string()))?;
        let mut attachments = Vec::new();
        for sha in &line.attachments {
            if let Some(b) = blobs::get(conn, sha)? {
                attachments.push(AttachmentView {
                    sha256: b.sha256,
                    content_type: b.content_type.mime().into(),
                    size: b.size,
                });
            }
        }
        let returned_because = if status == Status::Returned {
            last_return.and_then(|r| r.reasons.iter().find(|x| x.item as usize == i)).map(|x| x.reason.clone())
        } else {
            None
        };
        checklist.push(ChecklistLine {
            text: line.text.clone(),
            kind: item.kind,
            attachments,
            confirmed: line.confirmed,
            met: item.is_met(),
            returned_because,
        });
    }
    let steps = doc
        .steps
        .iter()
        .filter_map(|s| {
            let action = Action::ALL.into_iter().find(|a| simpul_sync::records::code::action(*a) == s.action)?;
            Some(StepView {
                action,
                to: Status::from_code(&s.to)?,
                by: ctx.name(&s.by),
                at: ctx.local(&s.at),
                office: s.office.clone(),
                note: s.note.clone(),
            })
        })
        .collect();
    let card_expires =
        doc.applicant.to_domain().ok().and_then(|a| simpul_domain::applicant::card_expiry(&a)).map(date_text);
    let due = simpul_store::applications::due_at(conn, id)?;
    let actions = if awaiting_decision.is_empty() {
        application::available(kind, status).into_iter().filter(|a| user.role.allows(a.permission())).collect()
    } else {
        Vec::new()
    };
    let ticket_number =
        doc.ticket.as_deref().and_then(|t| crate::office::queue::ticket(conn, t).ok()).map(|t| t.number.to_string());
    Ok(ApplicationView {
        id: id.to_string(),
        number: doc.number.clone(),
        status,
        kind,
        service: doc.service_title.clone(),
        opened: ctx.local(&doc.created_at),
        opened_by: ctx.name(&doc.created_by),
        ticket: ticket_number,
        applicant: form_from_doc(&doc.applicant),
        card_expires,
        proxy: doc.proxy.as_ref().map(|p| ProxyForm {
            nik: p.nik.clone(),
            name: p.name.clone(),
            submit: p.scope.contains("submit"),
            pickup: p.scope.contains("pickup"),
            valid_from: p.valid_from.clone(),
            valid_until: p.valid_until.clone(),
            reason: p.reason.clone(),
        }),
        checklist,
        procedure,
        captures: doc
            .captures
            .iter()
            .map(|c| CaptureView {
                modality: c.modality.clone(),
                position: c.position.clone(),
                blob: c.blob.clone(),
                picture: c.picture.clone(),
                record_format: c.record_format.clone(),
                quality: c.quality,
                device: c.device.clone(),
                exception: c.exception.clone(),
            })
            .collect(),
        needs_biometrics: application::Lifecycle::of(kind).biometrics,
        steps,
        identification: doc.identification.as_ref().map(|i| (i.result.clone(), i.other_reference.clone())),
        handover: doc.handover.as_ref().map(|h| HandoverView {
            recipient: h.recipient.clone(),
            recipient_nik: h.recipient_nik.clone(),
            withdrawn_serial: h.withdrawn_serial.clone(),
            copies: h.copies,
            at: ctx.local(&h.at),
        }),
        sla: ctx.sla(&doc.service_id, status, due.as_deref()),
        due,
        actions,
        editable: matches!(status, Status::Draft | Status::Returned) && awaiting_decision.is_empty(),
        can_edit: user.role.allows(simpul_domain::auth::Permission::TakeApplications),
        has_return_slip: !doc.returns.is_empty(),
        resolutions: doc
            .resolutions
            .iter()
            .map(|r| simpul_app::wire::ResolutionView {
                field: r.field.clone(),
                candidates: r.candidates.clone(),
                value: r.value.clone(),
                reason: r.reason.clone(),
                at: ctx.local(&r.at),
            })
            .collect(),
        awaiting_decision,
    })
}

impl AppBackend {
    pub(crate) async fn who(&self, user: &UserView) -> Result<Who, ApiError> {
        let (unit, zone) = self.office().await?;
        Ok(Who { staff: user.id.clone(), office: unit.code, at: OffsetDateTime::now_utc(), zone })
    }

    /// Runs an application action in one transaction.
    pub(crate) async fn app_tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&simpul_store::Transaction<'_>) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.core
            .db
            .call(move |c| {
                simpul_store::db::transaction(c, f, |e| match e {
                    AppError::Store(e) => Ok(e),
                    other => Err(other),
                })
            })
            .await
            .map_err(internal)?
            .map_err(app_error)
    }

    /// Stores an uploaded file and attaches it, in one transaction after the bytes are on disk.
    pub(crate) async fn app_upload(
        &self,
        user: &UserView,
        id: &str,
        target: UploadTarget,
        checked: CheckedUpload,
        bytes: Vec<u8>,
    ) -> Result<(), ApiError> {
        let who = self.who(user).await?;
        let (check_id, item) = (id.to_string(), if let UploadTarget::Requirement(i) = target { Some(i) } else { None });
        self.core
            .db
            .call(move |c| Ok(applications::check_attach(c, &check_id, item)))
            .await
            .map_err(internal)?
            .map_err(app_error)?;
        let sha = self.write_blob(bytes).await?;
        let id = id.to_string();
        self.app_tx(move |tx| {
            blobs::record(tx, &sha, checked.size, checked.content_type, who.at)?;
            match target {
                UploadTarget::Requirement(item) => applications::attach(tx, &who, &id, item, &sha),
                UploadTarget::Photo | UploadTarget::Signature => {
                    if checked.content_type == ContentType::Pdf {
                        return Err(AppError::Biometrics(applications::Needed::CaptureContent));
                    }
                    let modality = if target == UploadTarget::Photo { "photo" } else { "signature" };
                    let capture = CaptureDoc {
                        modality: modality.into(),
                        position: String::new(),
                        blob: Some(sha.clone()),
                        picture: None,
                        record_format: None,
                        quality: None,
                        device: "upload".into(),
                        exception: None,
                        at: who.time_text(),
                    };
                    applications::record_capture(tx, &who, &id, capture)
                }
            }
        })
        .await
    }

    /// Writes a file's bytes to disk (sealed, synced, content-addressed) off the async threads; its
    /// row is the caller's, in the caller's transaction.
    pub(crate) async fn write_blob(&self, bytes: Vec<u8>) -> Result<String, ApiError> {
        let files = self.core.files.clone();
        tokio::task::spawn_blocking(move || files.write(&bytes)).await.map_err(|_| ApiError::Internal)?.map_err(|e| {
            if simpul_store::db::io_disk_full(&e) {
                tracing::warn!("the disk is full: a file was refused");
                return ApiError::DiskFull;
            }
            tracing::error!(error = %e, "cannot store a file");
            ApiError::Internal
        })
    }

    /// The bytes of a stored file, when it belongs to an application this box keeps.
    pub(crate) async fn blob(&self, user: &UserView, sha: &str) -> Result<(ContentType, Vec<u8>), ApiError> {
        if !blobs::valid_digest(sha) {
            return Err(ApiError::NotFound);
        }
        let key = sha.to_string();
        let row = self.core.db.call(move |c| blobs::get(c, &key)).await.map_err(internal)?.ok_or(ApiError::NotFound)?;
        let sha_read = sha.to_string();
        let files = self.core.files.clone();
        let sha = sha.to_string();
        let bytes = tokio::task::spawn_blocking(move || files.read(&sha))
            .await
            .map_err(|_| ApiError::Internal)?
            .map_err(|e| {
                tracing::error!(error = %e, "a stored file cannot be read");
                ApiError::Internal
            })?;
        self.core.reads.note(&user.id, "file_viewed", Some(&sha_read), None);
        Ok((row.content_type, bytes))
    }

    /// The receipt or the rejection slip as PDF.
    pub(crate) async fn printout(
        &self,
        user: &UserView,
        id: &str,
        receipt: bool,
    ) -> Result<(String, Vec<u8>), ApiError> {
        let (unit, zone) = self.office().await?;
        let kind = if receipt { "receipt" } else { "rejection" };
        self.core.reads.note(&user.id, "printout_viewed", Some(id), Some(kind.to_string()));
        let id = id.to_string();
        let printer = user.display_name.clone();
        let document = self
            .core
            .db
            .call(move |c| {
                let loaded = match applications::load(c, &id) {
                    Ok(l) => l,
                    Err(AppError::Store(e)) => return Err(e),
                    Err(_) => return Ok(None),
                };
                let doc: ApplicationDoc = loaded.doc;
                let head =
                    crate::office::printouts::Letterhead { office: unit.name.clone(), code: unit.code.to_string() };
                let printed_at = local_datetime(OffsetDateTime::now_utc(), zone);
                let name = |id: &str| -> Result<String, StoreError> {
                    Ok(staff::by_id(c, id)?.map_or_else(|| id.to_string(), |a| a.display_name))
                };
                if receipt {
                    let Some(h) = &doc.handover else { return Ok(None) };
                    let key = crate::office::receipts::key(c)?;
                    let reference = crate::office::receipts::sign(
                        &key,
                        &crate::office::receipts::Reference {
                            number: doc.number.clone(),
                            office: doc.office.clone(),
                            handed_over_at: h.at.clone(),
                        },
                    );
                    let staff_name = name(&h.by)?;
                    Ok(Some((
                        format!("tanda-terima-{}.pdf", doc.number),
                        crate::office::printouts::receipt(&head, &doc, &printed_at, &staff_name, &reference),
                    )))
                } else {
                    let verifier = match doc.returns.last() {
                        Some(r) => name(&r.by)?,
                        None => printer.clone(),
                    };
                    Ok(crate::office::printouts::return_slip(&head, &doc, &printed_at, &verifier)
                        .map(|d| (format!("pengembalian-{}.pdf", doc.number), d)))
                }
            })
            .await
            .map_err(internal)?
            .ok_or(ApiError::NotFound)?;
        let (name, document) = document;
        let bytes = simpul_hardware::document::render(&document).map_err(|e| {
            tracing::error!(error = %e, "a printout does not render");
            ApiError::Internal
        })?;
        Ok((name, bytes))
    }
}

fn figures(
    stats: &simpul_domain::queue::QueueStats,
    labels: &HashMap<String, String>,
) -> Vec<simpul_app::wire::QueueFigure> {
    let one = |group: &str, key: &str, f: &simpul_domain::queue::Figures| simpul_app::wire::QueueFigure {
        group: group.into(),
        key: key.into(),
        label: match group {
            "service" => labels.get(key).cloned(),
            "counter" => labels.get(&format!("counter:{key}")).cloned(),
            _ => None,
        },
        issued: f.issued,
        served: f.served,
        mean_wait_minutes: f.mean_wait_secs.map(|s| (s as f64 / 60.0 * 10.0).round() / 10.0),
        mean_service_minutes: f.mean_service_secs.map(|s| (s as f64 / 60.0 * 10.0).round() / 10.0),
    };
    let mut out = Vec::new();
    for (k, f) in &stats.by_service {
        out.push(one("service", k, f));
    }
    for (k, f) in &stats.by_counter {
        out.push(one("counter", k, f));
    }
    for (k, f) in &stats.by_lane {
        out.push(one("lane", k, f));
    }
    out
}

/// The power of attorney presented at hand-over by someone not named at intake, as the counter
/// entered it: for pick-up, valid from today; the hand-over fills in the applicant as grantor.
fn presented_proxy(form: &StepForm, who: &applications::Who) -> Result<Option<ProxyInput>, ApiError> {
    if form.proxy_name.trim().is_empty() {
        return Ok(None);
    }
    let entered = ProxyForm {
        nik: form.recipient_nik.clone(),
        name: form.proxy_name.clone(),
        submit: false,
        pickup: true,
        valid_from: date_text(who.local_date()),
        valid_until: form.proxy_valid_until.clone(),
        reason: form.proxy_reason.clone(),
    };
    proxy_from_form(&entered, ("", "")).map(Some)
}

fn check_client_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 80 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::BadRequest("client id".into()));
    }
    Ok(())
}

#[async_trait::async_trait]
impl ApplicationBackend for AppBackend {
    async fn list_applications(&self, user: &UserView, list: &str) -> Result<Vec<ApplicationRow>, ApiError> {
        let (statuses, mine) =
            list_statuses(list).ok_or_else(|| ApiError::BadRequest(format!("unknown list '{list}'")))?;
        let (_, zone) = self.office().await?;
        let author = mine.then(|| user.id.clone());
        self.core
            .db
            .call(move |c| {
                let ctx = Context::load(c, zone)?;
                let rows = simpul_store::applications::list_by(c, &statuses, author.as_deref(), LIST_LIMIT)?;
                Ok(rows.iter().map(|r| row_view(&ctx, r)).collect())
            })
            .await
            .map_err(internal)
    }

    /// Applications by NIK, number or name (at most 50, newest first).
    async fn search_applications(&self, user: &UserView, typed: &str) -> Result<Vec<ApplicationRow>, ApiError> {
        let Some(search) = simpul_store::applications::Search::parse(typed) else {
            return Err(ApiError::BadRequest("ketik minimal 3 huruf atau angka / type at least 3 characters".into()));
        };
        let (_, zone) = self.office().await?;
        let rows: Vec<ApplicationRow> = self
            .core
            .db
            .call(move |c| {
                let ctx = Context::load(c, zone)?;
                let rows = simpul_store::applications::search(c, &search, 50)?;
                Ok(rows.iter().map(|r| row_view(&ctx, r)).collect())
            })
            .await
            .map_err(internal)?;
        // What was typed is personal data and stays out of the trail; which records it showed
        // (their ids) goes in.
        let found: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        self.core.reads.note(&user.id, "applications_searched", None, Some(format!("found: {}", found.join(","))));
        Ok(rows)
    }

    async fn get_application(&self, user: &UserView, id: &str) -> Result<ApplicationView, ApiError> {
        let (_, zone) = self.office().await?;
        let (user_id, id_read) = (user.id.clone(), id.to_string());
        let (user, id) = (user.clone(), id.to_string());
        self.core
            .db
            .call(move |c| {
                let ctx = Context::load(c, zone)?;
                let shown = view(c, &ctx, &user, &id);
                // Opening the application is reading what the regency settled on it.
                if shown.is_ok() {
                    simpul_store::notices::mark_read(c, &id, &user.id, OffsetDateTime::now_utc())?;
                }
                Ok(shown)
            })
            .await
            .map_err(internal)?
            .map_err(app_error)
            .inspect(|_| self.core.reads.note(&user_id, "application_viewed", Some(&id_read), None))
    }

    async fn get_intake(&self, ticket: Option<&str>) -> Result<IntakeView, ApiError> {
        let (unit, _) = self.office().await?;
        let ticket = ticket.map(str::to_string);
        self.core
            .db
            .call(move |c| {
                let services = catalog::list(c)?
                    .into_iter()
                    .map(|e| IntakeService {
                        id: e.id,
                        title: e.standard.title,
                        kind: e.standard.kind,
                        requirements: e.standard.requirements.into_iter().map(|r| r.text).collect(),
                    })
                    .collect();
                let ticket_number = ticket
                    .as_deref()
                    .and_then(|t| crate::office::queue::ticket(c, t).ok())
                    .map(|t| t.number.to_string());
                Ok(IntakeView { services, office_code: unit.code.to_string(), ticket_number })
            })
            .await
            .map_err(internal)
    }

    async fn open_application(&self, user: &UserView, client_id: &str, form: IntakeForm) -> Result<String, ApiError> {
        check_client_id(client_id)?;
        let who = self.who(user).await?;
        let applicant = applicant_from_form(&form.applicant)
            .map_err(|p| ApiError::Refused(Refusal::Fields(p.iter().map(field_problem).collect())))?;
        let proxy = match &form.proxy {
            Some(p) => Some(proxy_from_form(p, (&applicant.nik, &applicant.name))?),
            None => None,
        };
        let intake = Intake { service_id: form.service_id.clone(), applicant, ticket: form.ticket.clone(), proxy };
        let client_id = client_id.to_string();
        self.app_tx(move |tx| {
            if let Some(id) = simpul_store::applications::replay(tx, &client_id)? {
                return Ok(id);
            }
            if let Some(t) = &intake.ticket
                && crate::office::queue::ticket(tx, t).is_err()
            {
                return Err(AppError::NotFound);
            }
            let regions = regions::all_codes(tx)?;
            let (id, _) = applications::open(tx, &who, &intake, &regions)?;
            simpul_store::applications::remember(tx, &client_id, "open", &id, who.at)?;
            Ok(id)
        })
        .await
    }

    async fn update_applicant(&self, user: &UserView, id: &str, form: ApplicantForm) -> Result<(), ApiError> {
        let who = self.who(user).await?;
        let applicant = applicant_from_form(&form)
            .map_err(|p| ApiError::Refused(Refusal::Fields(p.iter().map(field_problem).collect())))?;
        let id = id.to_string();
        self.app_tx(move |tx| {
            let regions: HashSet<RegionCode> = regions::all_codes(tx)?;
            applications::set_applicant(tx, &who, &id, &applicant, &regions)
        })
        .await
    }

    async fn confirm_requirement(
        &self,
        user: &UserView,
        id: &str,
        item: usize,
        confirmed: bool,
    ) -> Result<(), ApiError> {
        let who = self.who(user).await?;
        let id = id.to_string();
        self.app_tx(move |tx| applications::confirm(tx, &who, &id, item, confirmed)).await
    }

    async fn application_step(
        &self,
        user: &UserView,
        client_id: &str,
        id: &str,
        action: Action,
        form: StepForm,
    ) -> Result<Status, ApiError> {
        check_client_id(client_id)?;
        if !user.role.allows(action.permission()) {
            return Err(ApiError::Forbidden);
        }
        let who = self.who(user).await?;
        let presented = presented_proxy(&form, &who)?;
        let details = ActDetails {
            reasons: form.reasons.clone(),
            note: optional(&form.note),
            other_reference: optional(&form.other_reference),
            handover: (action == Action::HandOver && !form.recipient_nik.trim().is_empty()).then(|| HandoverInput {
                recipient_nik: form.recipient_nik.trim().to_string(),
                withdrawn: (!form.withdrawn_serial.trim().is_empty()
                    || !form.withdrawn_reason.trim().is_empty()
                    || !form.withdrawn_disposition.trim().is_empty())
                .then(|| {
                    (form.withdrawn_serial.clone(), form.withdrawn_reason.clone(), form.withdrawn_disposition.clone())
                }),
                copies: form.copies,
                proxy: presented,
            }),
        };
        let (client_id, id) = (client_id.to_string(), id.to_string());
        self.app_tx(move |tx| {
            if let Some(status) = simpul_store::applications::replay(tx, &client_id)? {
                return Status::from_code(&status).ok_or_else(|| AppError::Damaged("stored answer".into()));
            }
            let regions = regions::all_codes(tx)?;
            let status = applications::act(tx, &who, &id, action, &details, &regions)?;
            simpul_store::applications::remember(
                tx,
                &client_id,
                simpul_sync::records::code::action(action),
                status.code(),
                who.at,
            )?;
            Ok(status)
        })
        .await
    }

    async fn get_dashboard(&self, user: &UserView) -> Result<DashboardView, ApiError> {
        let (_, zone) = self.office().await?;
        let user = user.clone();
        self.core
            .db
            .call(move |c| {
                let ctx = Context::load(c, zone)?;
                let now = OffsetDateTime::now_utc();
                let (opened_today, handed_over_today) =
                    simpul_store::applications::counts_on(c, now.to_offset(zone.offset()).date())?;
                let rows = simpul_store::applications::list_by(c, &open_statuses(), None, LIST_LIMIT)?;
                let mine_open = rows.iter().filter(|r| r.created_by == user.id).map(|r| row_view(&ctx, r)).collect();
                let open: Vec<ApplicationRow> = rows.iter().map(|r| row_view(&ctx, r)).collect();
                // The SLA lists come from the earliest due, so that the oldest late files are
                // never the ones left out.
                let running: Vec<Status> =
                    open_statuses().into_iter().filter(|s| !s.pauses_sla() && *s != Status::Ready).collect();
                let by_due: Vec<ApplicationRow> = simpul_store::applications::by_due(c, &running, LIST_LIMIT)?
                    .iter()
                    .map(|r| row_view(&ctx, r))
                    .collect();
                let pick = |s: SlaStatus| by_due.iter().filter(|r| r.sla == Some(s)).cloned().collect::<Vec<_>>();
                let stats =
                    crate::office::queue::stats(c, now, zone).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                // Services and counters by the names staff know them by.
                let mut labels: HashMap<String, String> =
                    catalog::list(c)?.into_iter().map(|e| (e.id, e.standard.title)).collect();
                let counters = simpul_store::queue::counters(c)?;
                labels.extend(counters.into_iter().map(|k| (format!("counter:{}", k.id), k.name)));
                let waiting =
                    crate::office::queue::display(c, now, zone).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let settled = simpul_store::notices::unread(c, &user.id, 20)?
                    .into_iter()
                    .map(|n| simpul_app::wire::SettledNotice {
                        at: simpul_store::parse_stamp(&n.created_at)
                            .map(|t| local_datetime(t, zone))
                            .unwrap_or_default(),
                        id: n.doc_id,
                        number: n.number,
                        field: n.field,
                    })
                    .collect();
                Ok(DashboardView {
                    settled,
                    waiting: waiting.waiting,
                    tickets_today: stats.total.issued,
                    served_today: stats.total.served,
                    average_wait_minutes: stats.total.mean_wait_secs.map(|s| (s / 60) as u32),
                    opened_today,
                    handed_over_today,
                    mine_open,
                    to_verify: open.iter().filter(|r| r.status == Status::Submitted).cloned().collect(),
                    ready: open.iter().filter(|r| r.status == Status::Ready).cloned().collect(),
                    due_today: pick(SlaStatus::DueToday),
                    about_to_breach: pick(SlaStatus::AboutToBreach),
                    late: pick(SlaStatus::Late),
                    queue_figures: figures(&stats, &labels),
                })
            })
            .await
            .map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_plain() {
        assert!(check_client_id("18c3f-00ab12").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id("a'; drop").is_err());
    }
}
