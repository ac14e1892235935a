//! The replicated records as Automerge documents, mapped from Rust types with autosurgeon.
//!
//! Documents hold plain strings and numbers (codes, ISO dates, RFC 3339 times) rather than Rust
//! enums, so that the stored format is a deliberate promise and old documents stay readable when
//! the Rust types change. [`ApplicationDoc::to_domain`] checks every field on the way back.

use autosurgeon::{Hydrate, Reconcile};
use simpul_domain::applicant::{Applicant, MaritalStatus, Nationality, Passport, Permit, PermitKind};
use simpul_domain::application::{Action, Status};
use simpul_domain::attachment::{ChecklistItem, RequirementKind};
use simpul_domain::catalog::ServiceKind;
use simpul_domain::nik::Sex;
use time::Date;
use time::format_description::well_known::Iso8601;

/// Version of the application document layout.
pub const APPLICATION_SCHEMA: u64 = 1;

/// An application (permohonan) as replicated.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ApplicationDoc {
    /// Layout version.
    pub schema: u64,
    /// Application number (`510302-20261121-0007`).
    pub number: String,
    /// Office code where it was taken.
    pub office: String,
    /// Catalog entry id.
    pub service_id: String,
    /// Service kind code.
    pub service_kind: String,
    /// Service title at intake.
    pub service_title: String,
    /// Lifecycle status code.
    pub status: String,
    /// When it was opened (RFC 3339, device time).
    pub created_at: String,
    /// Staff id who opened it.
    pub created_by: String,
    /// Queue ticket id it was opened from, if any.
    pub ticket: Option<String>,
    /// The applicant.
    pub applicant: ApplicantDoc,
    /// Someone acting for the applicant.
    pub proxy: Option<ProxyDoc>,
    /// Someone the applicant sent to pick the card or document up, under a power of attorney
    /// presented at hand-over (the applicant applied in person, or another proxy submitted).
    #[autosurgeon(missing = "Option::default")]
    pub pickup_proxy: Option<ProxyDoc>,
    /// Requirement checklist.
    pub checklist: Vec<ChecklistDoc>,
    /// Biometric captures.
    pub captures: Vec<CaptureDoc>,
    /// Lifecycle steps (append-only).
    pub steps: Vec<StepDoc>,
    /// Returns for incomplete files, each with its reasons.
    pub returns: Vec<ReturnDoc>,
    /// Result of the centre's uniqueness check.
    pub identification: Option<IdentificationDoc>,
    /// Hand-over record.
    pub handover: Option<HandoverDoc>,
    /// Conflicts a regency admin settled on this record (absent in documents written before
    /// sync existed).
    #[autosurgeon(missing = "Vec::new")]
    pub resolutions: Vec<ResolutionDoc>,
}

/// A conflict settled by a regency admin.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ResolutionDoc {
    /// Dotted field path, e.g. `applicant.name`.
    pub field: String,
    /// The values that competed.
    pub candidates: Vec<String>,
    /// The value chosen or entered (`None` clears an optional field).
    pub value: Option<String>,
    /// Why, in the admin's words.
    pub reason: String,
    /// Admin's staff id.
    pub by: String,
    /// When (RFC 3339, hub time).
    pub at: String,
}

/// Applicant fields as on form F-1.02.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ApplicantDoc {
    /// NIK.
    pub nik: String,
    /// Name.
    pub name: String,
    /// "male" / "female".
    pub sex: String,
    /// Place of birth.
    pub birth_place: String,
    /// Date of birth (YYYY-MM-DD).
    pub birth_date: String,
    /// "single" / "married" / "divorced" / "widowed".
    pub marital: String,
    /// Address.
    pub address: String,
    /// Region code.
    pub region: String,
    /// KK number.
    pub kk_number: String,
    /// "IDN" or the passport country code.
    pub nationality: String,
    /// Passport number.
    pub passport_number: Option<String>,
    /// Passport expiry (YYYY-MM-DD).
    pub passport_expires: Option<String>,
    /// "kitap" / "itap".
    pub permit_kind: Option<String>,
    /// Permit number.
    pub permit_number: Option<String>,
    /// Permit expiry (YYYY-MM-DD).
    pub permit_expires: Option<String>,
    /// Mobile number.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
}

/// A proxy acting under a power of attorney.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ProxyDoc {
    /// Proxy's NIK.
    pub nik: String,
    /// Proxy's name.
    pub name: String,
    /// "submit", "pickup" or "submit,pickup".
    pub scope: String,
    /// First valid day.
    pub valid_from: String,
    /// Last valid day.
    pub valid_until: String,
    /// Why the applicant cannot come.
    pub reason: String,
    /// SHA-256 of the scanned power of attorney.
    pub document: Option<String>,
}

/// One checklist line.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ChecklistDoc {
    /// Requirement text.
    pub text: String,
    /// "document" / "condition" / "contact_data" / "conditional".
    pub kind: String,
    /// SHA-256 (hex) of attached files.
    pub attachments: Vec<String>,
    /// Confirmed by staff.
    pub confirmed: bool,
}

/// One biometric capture (or a recorded exception).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct CaptureDoc {
    /// "photo", "signature", "fingerprint", "iris".
    pub modality: String,
    /// Position for fingers and eyes ("left_thumb", "right_iris"), empty otherwise.
    pub position: String,
    /// SHA-256 of what was captured: an image, or the ISO/IEC 19794 record the device gave.
    pub blob: Option<String>,
    /// For a record: SHA-256 of its image, when a browser can show it (JPEG or PNG inside).
    #[autosurgeon(missing = "Option::default")]
    pub picture: Option<String>,
    /// For a record: its standard, image encoding and size ("ISO/IEC 19794-4:2011, WSQ,
    /// 400 x 500").
    #[autosurgeon(missing = "Option::default")]
    pub record_format: Option<String>,
    /// Quality score 0-100 as reported by the device.
    pub quality: Option<u64>,
    /// Device that captured it ("upload" for a file).
    pub device: String,
    /// Exception instead of a capture ("missing finger", "bandaged").
    pub exception: Option<String>,
    /// When (RFC 3339, device time).
    pub at: String,
}

/// One lifecycle step.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct StepDoc {
    /// Status before.
    pub from: String,
    /// Status after.
    pub to: String,
    /// Action code.
    pub action: String,
    /// Staff id.
    pub by: String,
    /// Device time (RFC 3339).
    pub at: String,
    /// Office code.
    pub office: String,
    /// Reason or note.
    pub note: Option<String>,
}

/// A return of an incomplete file.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ReturnDoc {
    /// When (RFC 3339).
    pub at: String,
    /// Verifier id.
    pub by: String,
    /// Reasons, one per missing or wrong item.
    pub reasons: Vec<ReturnReasonDoc>,
}

/// One reason of a return.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct ReturnReasonDoc {
    /// Checklist index the reason is about.
    pub item: u64,
    /// What is missing or wrong, in words for the applicant.
    pub reason: String,
    /// The files the item had when it was returned (a resubmission needs another).
    #[autosurgeon(missing = "Vec::new")]
    pub files_then: Vec<String>,
}

/// The centre's answer.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct IdentificationDoc {
    /// "single" / "double".
    pub result: String,
    /// For a double: the other record's reference.
    pub other_reference: Option<String>,
    /// When recorded.
    pub at: String,
}

/// The hand-over.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct HandoverDoc {
    /// "applicant" or "proxy".
    pub recipient: String,
    /// NIK of whoever took it.
    pub recipient_nik: String,
    /// Old KTP-el serial, when one was withdrawn.
    pub withdrawn_serial: Option<String>,
    /// Why it was withdrawn.
    pub withdrawn_reason: Option<String>,
    /// What was done with it ("cut", "kept").
    pub withdrawn_disposition: Option<String>,
    /// Copies stamped, for legalisation.
    pub copies: Option<u64>,
    /// When.
    pub at: String,
    /// Staff id.
    pub by: String,
}

/// A document field that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the document field '{field}' holds '{value}', which is not valid")]
pub struct BadField {
    /// Field name.
    pub field: &'static str,
    /// Value found.
    pub value: String,
}

fn bad(field: &'static str, value: &str) -> BadField {
    BadField { field, value: value.to_string() }
}

/// YYYY-MM-DD.
pub fn date_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn date(field: &'static str, s: &str) -> Result<Date, BadField> {
    Date::parse(s, &Iso8601::DATE).map_err(|_| bad(field, s))
}

/// Stable codes of the domain enums used in documents.
pub mod code {
    use super::*;

    /// Sex.
    pub fn sex(s: Sex) -> &'static str {
        match s {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    /// Marital status.
    pub fn marital(m: MaritalStatus) -> &'static str {
        match m {
            MaritalStatus::Single => "single",
            MaritalStatus::Married => "married",
            MaritalStatus::Divorced => "divorced",
            MaritalStatus::Widowed => "widowed",
        }
    }

    /// Requirement kind.
    pub fn requirement(k: RequirementKind) -> &'static str {
        match k {
            RequirementKind::Document => "document",
            RequirementKind::Condition => "condition",
            RequirementKind::ContactData => "contact_data",
            RequirementKind::Conditional => "conditional",
        }
    }

    /// Lifecycle action.
    pub fn action(a: Action) -> &'static str {
        match a {
            Action::Submit => "submit",
            Action::Return => "return",
            Action::Resubmit => "resubmit",
            Action::Verify => "verify",
            Action::RecordBiometrics => "record_biometrics",
            Action::SendForIdentification => "send_for_identification",
            Action::IdentifiedSingle => "identified_single",
            Action::IdentifiedDouble => "identified_double",
            Action::ResolveClarification => "resolve_clarification",
            Action::Produce => "produce",
            Action::HandOver => "hand_over",
            Action::Cancel => "cancel",
        }
    }
}

impl From<&Applicant> for ApplicantDoc {
    fn from(a: &Applicant) -> Self {
        let (nationality, passport, permit) = match &a.nationality {
            Nationality::Indonesian => ("IDN".to_string(), None, None),
            Nationality::Foreign(c) => (c.clone(), a.passport.as_ref(), a.permit.as_ref()),
        };
        ApplicantDoc {
            nik: a.nik.clone(),
            name: a.name.clone(),
            sex: code::sex(a.sex).into(),
            birth_place: a.birth_place.clone(),
            birth_date: date_text(a.birth_date),
            marital: code::marital(a.marital).into(),
            address: a.address.clone(),
            region: a.region.to_string(),
            kk_number: a.kk_number.clone(),
            nationality,
            passport_number: passport.map(|p| p.number.clone()),
            passport_expires: passport.map(|p| date_text(p.expires)),
            permit_kind: permit.map(|p| match p.kind {
                PermitKind::Kitap => "kitap".into(),
                PermitKind::Itap => "itap".into(),
            }),
            permit_number: permit.map(|p| p.number.clone()),
            permit_expires: permit.map(|p| date_text(p.expires)),
            phone: a.phone.clone(),
            email: a.email.clone(),
        }
    }
}

impl ApplicantDoc {
    /// The passport as a key two records can be matched on (see
    /// [`simpul_domain::applicant::passport_key`]); read from the stored text, so it works on a
    /// record that no longer passes every check.
    pub fn passport_key(&self) -> Option<String> {
        simpul_domain::applicant::passport_key(&self.nationality, self.passport_number.as_deref()?)
    }

    /// Back to the domain type, checking every field.
    pub fn to_domain(&self) -> Result<Applicant, BadField> {
        let sex = match self.sex.as_str() {
            "male" => Sex::Male,
            "female" => Sex::Female,
            other => return Err(bad("sex", other)),
        };
        let marital = match self.marital.as_str() {
            "single" => MaritalStatus::Single,
            "married" => MaritalStatus::Married,
            "divorced" => MaritalStatus::Divorced,
            "widowed" => MaritalStatus::Widowed,
            other => return Err(bad("marital", other)),
        };
        let nationality = if self.nationality == "IDN" {
            Nationality::Indonesian
        } else {
            Nationality::Foreign(self.nationality.clone())
        };
        let passport = match (&self.passport_number, &self.passport_expires) {
            (Some(number), Some(expires)) => {
                Some(Passport { number: number.clone(), expires: date("passport_expires", expires)? })
            }
            _ => None,
        };
        let permit = match (&self.permit_kind, &self.permit_number, &self.permit_expires) {
            (Some(kind), Some(number), Some(expires)) => Some(Permit {
                kind: match kind.as_str() {
                    "kitap" => PermitKind::Kitap,
                    "itap" => PermitKind::Itap,
                    other => return Err(bad("permit_kind", other)),
                },
                number: number.clone(),
                expires: date("permit_expires", expires)?,
            }),
            _ => None,
        };
        Ok(Applicant {
            nik: self.nik.clone(),
            name: self.name.clone(),
            sex,
            birth_place: self.birth_place.clone(),
            birth_date: date("birth_date", &self.birth_date)?,
            marital,
            address: self.address.clone(),
            region: self.region.parse().map_err(|_| bad("region", &self.region))?,
            kk_number: self.kk_number.clone(),
            nationality,
            passport,
            permit,
            phone: self.phone.clone(),
            email: self.email.clone(),
        })
    }
}

impl From<&ChecklistItem> for ChecklistDoc {
    fn from(i: &ChecklistItem) -> Self {
        ChecklistDoc {
            text: i.text.clone(),
            kind: code::requirement(i.kind).into(),
            attachments: i.attachments.clone(),
            confirmed: i.confirmed,
        }
    }
}

impl ChecklistDoc {
    /// Back to the domain type.
    pub fn to_domain(&self) -> Result<ChecklistItem, BadField> {
        let kind = match self.kind.as_str() {
            "document" => RequirementKind::Document,
            "condition" => RequirementKind::Condition,
            "contact_data" => RequirementKind::ContactData,
            "conditional" => RequirementKind::Conditional,
            other => return Err(bad("checklist.kind", other)),
        };
        Ok(ChecklistItem {
            text: self.text.clone(),
            kind,
            attachments: self.attachments.clone(),
            confirmed: self.confirmed,
        })
    }
}

/// The merge policy of every field of an application document, declared next to the type. A
/// test checks that every field the document holds is listed here, so a new field cannot slip
/// in without a decision. Identity and status go to a person; contact data, notes and the
/// append-only lists merge by Automerge's rules (lists keep both sides' entries).
pub const APPLICATION_FIELDS: &[(&[&str], crate::MergePolicy)] = {
    use crate::MergePolicy::{Person, Rule};
    &[
        (&["schema"], Rule),
        (&["number"], Person),
        (&["office"], Person),
        (&["service_id"], Person),
        (&["service_kind"], Person),
        (&["service_title"], Rule),
        (&["status"], Person),
        (&["created_at"], Rule),
        (&["created_by"], Rule),
        (&["ticket"], Rule),
        (&["applicant", "nik"], Person),
        (&["applicant", "name"], Person),
        (&["applicant", "sex"], Person),
        (&["applicant", "birth_place"], Person),
        (&["applicant", "birth_date"], Person),
        (&["applicant", "marital"], Person),
        (&["applicant", "address"], Rule),
        (&["applicant", "region"], Rule),
        (&["applicant", "kk_number"], Person),
        (&["applicant", "nationality"], Person),
        (&["applicant", "passport_number"], Person),
        (&["applicant", "passport_expires"], Person),
        (&["applicant", "permit_kind"], Person),
        (&["applicant", "permit_number"], Person),
        (&["applicant", "permit_expires"], Person),
        (&["applicant", "phone"], Rule),
        (&["applicant", "email"], Rule),
        (&["proxy"], Person),
        (&["pickup_proxy"], Person),
        (&["checklist"], Rule),
        (&["captures"], Rule),
        (&["steps"], Rule),
        (&["returns"], Rule),
        (&["identification"], Person),
        (&["handover"], Person),
        (&["resolutions"], Rule),
    ]
};

/// Person-settled fields a conflict is settled on only by keeping one of their values: the
/// nested records (copied whole), and the fields that name the record, its office or its
/// service (a typo there would move the record out of its office's reach).
pub const KEEP_ONLY_FIELDS: &[&str] =
    &["number", "office", "service_id", "service_kind", "proxy", "pickup_proxy", "identification", "handover"];

/// The applicant form field a dotted document path belongs to (`applicant.passport_expires`
/// is the passport), for judging a value written there by the form's rules.
pub fn applicant_field(path: &str) -> Option<simpul_domain::applicant::Field> {
    use simpul_domain::applicant::Field;
    Some(match path.strip_prefix("applicant.")? {
        "nik" => Field::Nik,
        "name" => Field::Name,
        "sex" => Field::Sex,
        "birth_place" => Field::BirthPlace,
        "birth_date" => Field::BirthDate,
        "marital" => Field::Marital,
        "kk_number" => Field::KkNumber,
        "nationality" => Field::Nationality,
        "passport_number" | "passport_expires" => Field::Passport,
        "permit_kind" | "permit_number" | "permit_expires" => Field::Permit,
        _ => return None,
    })
}

impl ApplicationDoc {
    /// The files the record points at (attachments and captures), each once, in order.
    pub fn blobs(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let attached = self.checklist.iter().flat_map(|c| c.attachments.iter());
        let captured = self.captures.iter().flat_map(|c| c.blob.iter().chain(c.picture.iter()));
        for sha in attached.chain(captured) {
            if !out.contains(sha) {
                out.push(sha.clone());
            }
        }
        out
    }

    /// The status, checked.
    pub fn status(&self) -> Result<Status, BadField> {
        Status::from_code(&self.status).ok_or_else(|| bad("status", &self.status))
    }

    /// The service kind, checked.
    pub fn kind(&self) -> Result<ServiceKind, BadField> {
        ServiceKind::from_code(&self.service_kind).ok_or_else(|| bad("service_kind", &self.service_kind))
    }

    /// The checklist, checked.
    pub fn checklist(&self) -> Result<Vec<ChecklistItem>, BadField> {
        self.checklist.iter().map(ChecklistDoc::to_domain).collect()
    }
}
