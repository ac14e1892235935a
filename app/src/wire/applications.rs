//! Applications (permohonan) on the wire: forms, the list, the file of one application,
//! intake and the dashboard.

use serde::{Deserialize, Serialize};
use simpul_domain::application::{Action, Status};
use simpul_domain::attachment::RequirementKind;
use simpul_domain::calendar::SlaStatus;
use simpul_domain::catalog::ServiceKind;

/// The applicant as the form holds it: text fields, parsed and checked on the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantForm {
    /// NIK (16 digits).
    pub nik: String,
    /// Full name.
    pub name: String,
    /// "male" / "female".
    pub sex: String,
    /// Place of birth.
    pub birth_place: String,
    /// Date of birth, YYYY-MM-DD.
    pub birth_date: String,
    /// "single" / "married" / "divorced" / "widowed".
    pub marital: String,
    /// Street address with RT/RW.
    pub address: String,
    /// Kelurahan/desa or kecamatan code.
    pub region: String,
    /// KK number.
    pub kk_number: String,
    /// Foreign resident.
    pub foreign: bool,
    /// Passport country (ICAO code), for foreign residents.
    pub country: String,
    /// Passport number.
    pub passport_number: String,
    /// Passport expiry, YYYY-MM-DD.
    pub passport_expires: String,
    /// "kitap" / "itap".
    pub permit_kind: String,
    /// Permit number.
    pub permit_number: String,
    /// Permit expiry, YYYY-MM-DD.
    pub permit_expires: String,
    /// Mobile number.
    pub phone: String,
    /// E-mail.
    pub email: String,
}

/// A power of attorney as the form holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyForm {
    /// Proxy's NIK.
    pub nik: String,
    /// Proxy's name.
    pub name: String,
    /// May submit.
    pub submit: bool,
    /// May pick up.
    pub pickup: bool,
    /// First valid day, YYYY-MM-DD.
    pub valid_from: String,
    /// Last valid day, YYYY-MM-DD.
    pub valid_until: String,
    /// Why the applicant cannot come.
    pub reason: String,
}

/// What intake sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeForm {
    /// Catalog entry.
    pub service_id: String,
    /// Queue ticket, when started from one.
    pub ticket: Option<String>,
    /// The applicant.
    pub applicant: ApplicantForm,
    /// A proxy, when someone submits for the applicant.
    pub proxy: Option<ProxyForm>,
}

/// What a lifecycle step may carry. Fields a client leaves out are empty, so that older
/// clients and scripts keep working as fields are added.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StepForm {
    /// Return reasons: (checklist index, reason).
    pub reasons: Vec<(usize, String)>,
    /// Note or cancellation reason.
    pub note: String,
    /// The other record of a double identification.
    pub other_reference: String,
    /// Hand-over: NIK of who takes it.
    pub recipient_nik: String,
    /// Old KTP-el serial withdrawn.
    pub withdrawn_serial: String,
    /// Why it was withdrawn.
    pub withdrawn_reason: String,
    /// What was done with it (cut, kept, destroyed).
    pub withdrawn_disposition: String,
    /// Copies stamped (legalisation).
    pub copies: Option<u32>,
    /// Hand-over by someone not named at intake: the name on the power of attorney presented
    /// now (empty: none presented).
    pub proxy_name: String,
    /// Its last valid day (YYYY-MM-DD).
    pub proxy_valid_until: String,
    /// Why the applicant does not come, as the power of attorney says.
    pub proxy_reason: String,
}

/// One line of an application list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRow {
    /// Id.
    pub id: String,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Service kind.
    pub kind: ServiceKind,
    /// Applicant's name.
    pub name: String,
    /// Last change, local "DD-MM HH:MM".
    pub updated: String,
    /// Due, local "YYYY-MM-DD HH:MM".
    pub due: Option<String>,
    /// Against the due time, now.
    pub sla: Option<SlaStatus>,
}

/// One attachment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    /// SHA-256.
    pub sha256: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
}

/// One requirement line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistLine {
    /// Requirement text from the catalog.
    pub text: String,
    /// What it asks for.
    pub kind: RequirementKind,
    /// Attached files.
    pub attachments: Vec<AttachmentView>,
    /// Confirmed by staff.
    pub confirmed: bool,
    /// Met.
    pub met: bool,
    /// Reason of the last return, if this line was returned.
    pub returned_because: Option<String>,
}

/// One biometric capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureView {
    /// "photo", "signature", "fingerprint", "iris".
    pub modality: String,
    /// Finger or eye.
    pub position: String,
    /// What was captured: an image, or an ISO/IEC 19794 record.
    pub blob: Option<String>,
    /// For a record: its image, when a browser can show it.
    pub picture: Option<String>,
    /// For a record: its standard, image encoding and size.
    pub record_format: Option<String>,
    /// Quality 0-100.
    pub quality: Option<u64>,
    /// Device ("upload" for a file).
    pub device: String,
    /// Exception instead of a capture.
    pub exception: Option<String>,
}

/// One lifecycle step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    /// Action.
    pub action: Action,
    /// Status after.
    pub to: Status,
    /// Staff display name.
    pub by: String,
    /// Local time "DD-MM-YYYY HH:MM".
    pub at: String,
    /// Office code.
    pub office: String,
    /// Note.
    pub note: Option<String>,
}

/// The hand-over as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverView {
    /// "applicant" / "proxy".
    pub recipient: String,
    /// Who took it.
    pub recipient_nik: String,
    /// Old card serial withdrawn.
    pub withdrawn_serial: Option<String>,
    /// Copies stamped.
    pub copies: Option<u64>,
    /// When, local.
    pub at: String,
}

/// One application in full.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationView {
    /// Id.
    pub id: String,
    /// Number.
    pub number: String,
    /// Status.
    pub status: Status,
    /// Service kind.
    pub kind: ServiceKind,
    /// Service title.
    pub service: String,
    /// Opened, local time.
    pub opened: String,
    /// Opened by (display name).
    pub opened_by: String,
    /// Queue ticket number.
    pub ticket: Option<String>,
    /// Applicant.
    pub applicant: ApplicantForm,
    /// When a KTP-el issued now would expire (foreign residents), YYYY-MM-DD.
    pub card_expires: Option<String>,
    /// The proxy.
    pub proxy: Option<ProxyForm>,
    /// Requirements.
    pub checklist: Vec<ChecklistLine>,
    /// Procedure from the catalog.
    pub procedure: Vec<String>,
    /// Captures.
    pub captures: Vec<CaptureView>,
    /// Whether this service records biometrics at the office.
    pub needs_biometrics: bool,
    /// History.
    pub steps: Vec<StepView>,
    /// Centre's answer: ("single"|"double", other reference).
    pub identification: Option<(String, Option<String>)>,
    /// Hand-over.
    pub handover: Option<HandoverView>,
    /// Due, local.
    pub due: Option<String>,
    /// SLA now.
    pub sla: Option<SlaStatus>,
    /// Steps the caller may take now.
    pub actions: Vec<Action>,
    /// The data and checklist may still change.
    pub editable: bool,
    /// The caller may edit (takes applications).
    pub can_edit: bool,
    /// A rejection slip exists (the application was returned at least once).
    pub has_return_slip: bool,
    /// Conflicts the regency admin settled on this record.
    pub resolutions: Vec<ResolutionView>,
    /// Fields holding concurrent values that wait for the regency admin (dotted paths): until
    /// then the record takes no step.
    pub awaiting_decision: Vec<String>,
}

/// A conflict settled by the regency admin, as the box shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionView {
    /// Dotted field path.
    pub field: String,
    /// The values that competed.
    pub candidates: Vec<String>,
    /// The value kept (`None`: left empty).
    pub value: Option<String>,
    /// The admin's reason.
    pub reason: String,
    /// Local time.
    pub at: String,
}

/// A service to start an application for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeService {
    /// Catalog id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Kind.
    pub kind: ServiceKind,
    /// Requirements.
    pub requirements: Vec<String>,
}

/// What the intake page needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeView {
    /// Services.
    pub services: Vec<IntakeService>,
    /// The office's kecamatan code (default region).
    pub office_code: String,
    /// Queue ticket number, when started from one.
    pub ticket_number: Option<String>,
}

/// Dashboard figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    /// Tickets waiting (normal, priority).
    pub waiting: (u32, u32),
    /// Tickets issued today.
    pub tickets_today: u32,
    /// Tickets finished today.
    pub served_today: u32,
    /// Average wait today in minutes.
    pub average_wait_minutes: Option<u32>,
    /// Applications opened today.
    pub opened_today: u32,
    /// Applications handed over today.
    pub handed_over_today: u32,
    /// Applications I opened that are still open.
    pub mine_open: Vec<ApplicationRow>,
    /// Waiting for verification.
    pub to_verify: Vec<ApplicationRow>,
    /// Ready to hand over.
    pub ready: Vec<ApplicationRow>,
    /// Due today.
    pub due_today: Vec<ApplicationRow>,
    /// About to breach.
    pub about_to_breach: Vec<ApplicationRow>,
    /// Late.
    pub late: Vec<ApplicationRow>,
    /// Today's queue figures per service, counter and lane.
    pub queue_figures: Vec<QueueFigure>,
    /// Records I worked on that the regency admin settled, not opened since.
    pub settled: Vec<SettledNotice>,
}

/// A record the caller worked on that the regency admin settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledNotice {
    /// Application id.
    pub id: String,
    /// Application number.
    pub number: String,
    /// The settled field (dotted path).
    pub field: String,
    /// When the settlement reached this box (local time).
    pub at: String,
}

/// Queue figures of one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueFigure {
    /// "service", "counter" or "lane".
    pub group: String,
    /// Service id, counter id or lane code.
    pub key: String,
    /// The service's title or the counter's name, when known (lanes are named by the UI).
    pub label: Option<String>,
    /// Tickets issued.
    pub issued: u32,
    /// Served to the end.
    pub served: u32,
    /// Mean wait (minutes, one decimal).
    pub mean_wait_minutes: Option<f64>,
    /// Mean service time (minutes, one decimal).
    pub mean_service_minutes: Option<f64>,
}
