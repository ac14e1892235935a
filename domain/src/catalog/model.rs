//! The shape of a service standard once read: what a citizen must bring, the steps, how long it
//! takes, what it costs, what it produces and where to complain.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::completion::Completion;
use crate::text::fold;

/// The sections a published standard is made of (PermenPAN-RB 15/2014 and the SIPP pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Section {
    /// Persyaratan.
    Requirements,
    /// Sistem, Mekanisme dan Prosedur.
    Procedure,
    /// Waktu Penyelesaian.
    CompletionTime,
    /// Biaya / Tarif.
    Fee,
    /// Produk Pelayanan.
    Products,
    /// Pengaduan Layanan.
    Complaints,
    /// Any other published component (Dasar Hukum, Sarana dan Prasarana, ...), kept as text.
    Other,
}

impl Section {
    /// The heading as published.
    pub fn heading(self) -> &'static str {
        match self {
            Section::Requirements => "Persyaratan",
            Section::Procedure => "Sistem, Mekanisme dan Prosedur",
            Section::CompletionTime => "Waktu Penyelesaian",
            Section::Fee => "Biaya / Tarif",
            Section::Products => "Produk Pelayanan",
            Section::Complaints => "Pengaduan Layanan",
            Section::Other => "Lainnya",
        }
    }

    /// Recognises a heading line (folded with [`fold`]); `None` for ordinary text.
    pub fn from_heading(folded: &str) -> Option<Section> {
        Some(match folded {
            "persyaratan"
            | "persyaratan pelayanan"
            | "persyaratan layanan"
            | "syarat"
            | "syarat syarat"
            | "persyaratan permohonan" => Section::Requirements,
            "sistem mekanisme dan prosedur"
            | "sistem mekanisme prosedur"
            | "mekanisme dan prosedur"
            | "sistem mekanisme dan prosedur pelayanan"
            | "prosedur"
            | "prosedur pelayanan"
            | "alur pelayanan"
            | "mekanisme pelayanan" => Section::Procedure,
            "waktu penyelesaian"
            | "jangka waktu penyelesaian"
            | "jangka waktu pelayanan"
            | "waktu pelayanan"
            | "waktu penyelesaian pelayanan"
            | "jangka waktu" => Section::CompletionTime,
            "biaya tarif" | "biaya" | "tarif" | "biaya tarif pelayanan" | "biaya pelayanan" | "tarif biaya" => {
                Section::Fee
            }
            "produk pelayanan" | "produk layanan" | "produk" | "hasil pelayanan" => Section::Products,
            "pengaduan layanan"
            | "pengaduan"
            | "penanganan pengaduan"
            | "penanganan pengaduan saran dan masukan"
            | "pengelolaan pengaduan"
            | "pengaduan pelayanan"
            | "penanganan pengaduan saran dan masukan pelayanan" => Section::Complaints,
            "dasar hukum"
            | "sarana dan prasarana"
            | "sarana prasarana"
            | "sarana prasarana dan atau fasilitas"
            | "sarana dan prasarana dan atau fasilitas"
            | "kompetensi pelaksana"
            | "pengawasan internal"
            | "jumlah pelaksana"
            | "jaminan pelayanan"
            | "jaminan keamanan dan keselamatan pelayanan"
            | "evaluasi kinerja pelaksana" => Section::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.heading())
    }
}

/// What a service does, as far as the application lifecycle cares. Guessed from the title at
/// import; a regency admin can correct it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// New KTP-el for a foreign resident with a permanent-stay permit (KITAP/ITAP).
    KtpElForeignNew,
    /// New KTP-el for a citizen.
    KtpElNew,
    /// KTP-el reissued after a change of data.
    KtpElReissue,
    /// KTP-el replaced because it was lost or damaged.
    KtpElReplacement,
    /// Legalisation (legalisir) of a document copy.
    Legalisation,
    /// Activation of the digital ID (Identitas Kependudukan Digital).
    IkdActivation,
    /// Anything else: handled with the generic lifecycle.
    Other,
}

impl ServiceKind {
    /// Every kind.
    pub const ALL: [ServiceKind; 7] = [
        ServiceKind::KtpElForeignNew,
        ServiceKind::KtpElNew,
        ServiceKind::KtpElReissue,
        ServiceKind::KtpElReplacement,
        ServiceKind::Legalisation,
        ServiceKind::IkdActivation,
        ServiceKind::Other,
    ];

    /// Guesses the kind from a standard's title.
    pub fn classify(title: &str) -> ServiceKind {
        let t = format!(" {} ", fold(title));
        let has = |w: &str| t.contains(&format!(" {w} "));
        let ktp = has("ktp el") || has("ktp") || has("kartu tanda penduduk") || has("ektp") || has("e ktp");
        if has("legalisir") || has("legalisasi") {
            ServiceKind::Legalisation
        } else if has("ikd") || has("identitas kependudukan digital") {
            ServiceKind::IkdActivation
        } else if ktp && (has("perubahan data") || has("perubahan")) {
            ServiceKind::KtpElReissue
        } else if ktp && (has("hilang") || has("rusak")) {
            ServiceKind::KtpElReplacement
        } else if ktp && (has("orang asing") || has("warga negara asing") || has("wna")) {
            ServiceKind::KtpElForeignNew
        } else if ktp && has("baru") {
            ServiceKind::KtpElNew
        } else {
            ServiceKind::Other
        }
    }

    /// Stable code for storage.
    pub fn code(self) -> &'static str {
        match self {
            ServiceKind::KtpElForeignNew => "ktp_el_foreign_new",
            ServiceKind::KtpElNew => "ktp_el_new",
            ServiceKind::KtpElReissue => "ktp_el_reissue",
            ServiceKind::KtpElReplacement => "ktp_el_replacement",
            ServiceKind::Legalisation => "legalisation",
            ServiceKind::IkdActivation => "ikd_activation",
            ServiceKind::Other => "other",
        }
    }

    /// Reads a stored code.
    pub fn from_code(code: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// The office that published a standard, from its letterhead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuingOffice {
    /// The agency, e.g. "Dinas Kependudukan dan Pencatatan Sipil Kota Denpasar".
    pub agency: String,
    /// The local government, e.g. "Pemerintah Kota Denpasar".
    pub government: Option<String>,
    /// Street address as printed.
    pub address: Option<String>,
    /// Five-digit postal code, when printed.
    pub postal_code: Option<String>,
    /// Telephone number printed after the address.
    pub phone: Option<String>,
    /// Website.
    pub website: Option<String>,
}

/// One requirement (persyaratan): a document or condition, with sub-points if it had any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    /// The requirement as published.
    pub text: String,
    /// Sub-points (alternatives or details) listed under it.
    pub details: Vec<String>,
}

/// One procedure step, with sub-steps when the standard lists them ("a. ... b. ...").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcedureStep {
    /// The step.
    pub text: String,
    /// Its sub-steps, in order.
    pub sub_steps: Vec<String>,
}

/// Whether a fee is charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    /// Free of charge (tidak dipungut biaya).
    Free,
    /// A stated amount in rupiah.
    Rupiah(u64),
    /// Text that states a fee without one plain amount (e.g. per regulation).
    AsStated,
    /// The section was empty or missing.
    Unstated,
}

/// The fee (biaya/tarif) and the text it was read from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// What was understood.
    pub kind: FeeKind,
    /// The text as published.
    pub text: String,
}

/// What a complaint channel is, as far as it can be told from its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    /// In person at an office or a named officer.
    InPerson,
    /// A suggestion or complaint box.
    SuggestionBox,
    /// E-mail.
    Email,
    /// Telephone or SMS.
    Phone,
    /// WhatsApp.
    WhatsApp,
    /// A website or app.
    Website,
    /// Social media accounts.
    SocialMedia,
    /// The satisfaction survey (SKM).
    Survey,
    /// LAPOR! / SP4N, the national complaints system.
    Lapor,
    /// Anything else.
    Other,
}

/// One way to complain (pengaduan), with the addresses found in its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintChannel {
    /// The group it was listed under ("Pengaduan langsung", "Pengaduan online").
    pub group: Option<String>,
    /// The channel as published.
    pub text: String,
    /// Sub-points under it (e.g. the social-media accounts).
    pub details: Vec<String>,
    /// What kind of channel it is.
    pub kind: ContactKind,
    /// E-mail addresses found in it.
    pub emails: Vec<String>,
    /// Web addresses found in it.
    pub urls: Vec<String>,
    /// Telephone / WhatsApp numbers found in it.
    pub phones: Vec<String>,
}

/// A service standard (standar pelayanan) as published by a regency or city office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStandard {
    /// The service's name as published.
    pub title: String,
    /// The lifecycle this service follows.
    pub kind: ServiceKind,
    /// Number of the decree (SK) that set the standard, when given.
    pub sk_number: Option<String>,
    /// The office that published it.
    pub issuer: IssuingOffice,
    /// Persyaratan.
    pub requirements: Vec<Requirement>,
    /// Notes printed with the requirements.
    pub requirement_notes: Vec<String>,
    /// Sistem, mekanisme dan prosedur.
    pub procedure: Vec<ProcedureStep>,
    /// Notes printed with the procedure (e.g. "keterangan" under a flow chart).
    pub procedure_notes: Vec<String>,
    /// Waktu penyelesaian; `None` when the standard does not state one.
    pub completion: Option<Completion>,
    /// Biaya / tarif.
    pub fee: Fee,
    /// Produk pelayanan.
    pub products: Vec<String>,
    /// Text introducing the complaint channels.
    pub complaints_intro: Option<String>,
    /// Pengaduan layanan.
    pub complaints: Vec<ComplaintChannel>,
    /// Other published components, by heading, as text.
    pub other_sections: Vec<(String, String)>,
}

impl ServiceStandard {
    /// The key that identifies "the same standard" across re-imports: government, agency and
    /// title, folded (many agencies share the name "Dinas Kependudukan dan Pencatatan Sipil").
    pub fn natural_key(&self) -> String {
        format!(
            "{}|{}|{}",
            fold(self.issuer.government.as_deref().unwrap_or_default()),
            fold(&self.issuer.agency),
            fold(&self.title)
        )
    }
}
