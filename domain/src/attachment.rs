//! Attachments to requirements (scans, photos, uploads): what a file really is (by its bytes,
//! never by its name), the limits it must keep, and the requirement checklist they complete.

use serde::{Deserialize, Serialize};

use crate::text::fold;

/// Types of stored files, recognised by their first bytes: the attachments staff upload or
/// scan (PDF, JPEG, PNG) and the biometric records devices capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    /// application/pdf.
    Pdf,
    /// image/jpeg.
    Jpeg,
    /// image/png.
    Png,
    /// An ISO/IEC 19794 biometric data interchange record (finger, face or iris image, 2011
    /// editions), as a biometric device gives it. Never accepted as an upload.
    BiometricRecord,
}

impl ContentType {
    /// Every type.
    pub const ALL: [ContentType; 4] =
        [ContentType::Pdf, ContentType::Jpeg, ContentType::Png, ContentType::BiometricRecord];

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ContentType::Pdf => "application/pdf",
            ContentType::Jpeg => "image/jpeg",
            ContentType::Png => "image/png",
            ContentType::BiometricRecord => BIOMETRIC_RECORD_MIME,
        }
    }

    /// The type of a MIME type this crate names.
    pub fn from_mime(mime: &str) -> Option<ContentType> {
        ContentType::ALL.into_iter().find(|c| c.mime() == mime)
    }

    /// Whether staff may upload a file of this type (a document or a picture).
    pub fn uploadable(self) -> bool {
        !matches!(self, ContentType::BiometricRecord)
    }

    /// Recognises a file by its first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<ContentType> {
        if bytes.starts_with(b"%PDF-") {
            Some(ContentType::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ContentType::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(ContentType::Png)
        } else if [b"FIR\0", b"FAC\0", b"IIR\0"].iter().any(|m| bytes.starts_with(*m)) {
            Some(ContentType::BiometricRecord)
        } else {
            None
        }
    }
}

/// The MIME type Simpul gives an ISO/IEC 19794 record (none is registered).
pub const BIOMETRIC_RECORD_MIME: &str = "application/x-iso-19794";

/// Largest attachment accepted (a 300 dpi colour A4 scan as JPEG is 1-3 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// Why an upload was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum UploadProblem {
    /// No bytes.
    #[error("the file is empty")]
    Empty,
    /// Over the limit.
    #[error("the file has {0} bytes; at most {MAX_ATTACHMENT_BYTES} are accepted")]
    TooLarge(usize),
    /// Not PDF, JPEG or PNG, whatever its name says.
    #[error("only PDF, JPEG and PNG files are accepted")]
    WrongType,
    /// The name carries a path, control characters or is too long.
    #[error("the file name is not acceptable")]
    BadName,
}

/// A checked upload: its type from the bytes and a display name with no path in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedUpload {
    /// Type, from the bytes.
    pub content_type: ContentType,
    /// Name to show (never used to find or store the file).
    pub name: String,
    /// Size in bytes.
    pub size: usize,
}

/// Checks an uploaded file.
pub fn check_upload(name: &str, bytes: &[u8]) -> Result<CheckedUpload, UploadProblem> {
    if name.is_empty()
        || name.chars().count() > 200
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name == "."
        || name.starts_with("..")
    {
        return Err(UploadProblem::BadName);
    }
    if bytes.is_empty() {
        return Err(UploadProblem::Empty);
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(UploadProblem::TooLarge(bytes.len()));
    }
    let content_type = ContentType::sniff(bytes).filter(|c| c.uploadable()).ok_or(UploadProblem::WrongType)?;
    Ok(CheckedUpload { content_type, name: name.to_string(), size: bytes.len() })
}

/// Checks what a biometric device captured before it is stored: a picture (JPEG, PNG) or an
/// ISO/IEC 19794 record, not empty and within the attachment limit. (The device driver has
/// already checked the image or the record's structure.)
pub fn check_capture(bytes: &[u8]) -> Result<CheckedUpload, UploadProblem> {
    if bytes.is_empty() {
        return Err(UploadProblem::Empty);
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(UploadProblem::TooLarge(bytes.len()));
    }
    let content_type = ContentType::sniff(bytes)
        .filter(|c| matches!(c, ContentType::Jpeg | ContentType::Png | ContentType::BiometricRecord))
        .ok_or(UploadProblem::WrongType)?;
    Ok(CheckedUpload { content_type, name: "capture".into(), size: bytes.len() })
}

/// What a requirement asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    /// A document to attach (a scan or upload).
    Document,
    /// A condition staff confirm by looking ("has turned 17").
    Condition,
    /// Contact data entered in the form (phone, e-mail).
    ContactData,
    /// A document needed only in some cases ("surat kuasa bila diwakilkan"): attached, or
    /// confirmed as not applicable.
    Conditional,
}

/// Guesses what a published requirement asks for.
pub fn classify_requirement(text: &str) -> RequirementKind {
    let f = format!(" {} ", fold(text));
    let has = |w: &str| f.contains(&format!(" {w} "));
    if has("bila") || has("apabila") || has("jika") || has("bagi yang") {
        RequirementKind::Conditional
    } else if has("nomor handphone") || has("nomor hp") || has("nomor telepon") || has("e mail") || has("email") {
        RequirementKind::ContactData
    } else if has("berusia") || has("telah berumur") || has("sudah kawin") || has("hadir") || has("datang sendiri") {
        RequirementKind::Condition
    } else {
        RequirementKind::Document
    }
}

/// One line of an application's requirement checklist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// The requirement as published.
    pub text: String,
    /// What it asks for.
    pub kind: RequirementKind,
    /// SHA-256 (hex) of the attached files.
    pub attachments: Vec<String>,
    /// Staff confirmed it (for conditions and contact data, and originals shown).
    pub confirmed: bool,
}

impl ChecklistItem {
    /// A fresh item for a requirement.
    pub fn new(text: &str) -> ChecklistItem {
        ChecklistItem {
            text: text.to_string(),
            kind: classify_requirement(text),
            attachments: Vec::new(),
            confirmed: false,
        }
    }

    /// A document has a file; anything else is confirmed.
    pub fn is_met(&self) -> bool {
        match self.kind {
            RequirementKind::Document => !self.attachments.is_empty(),
            RequirementKind::Condition | RequirementKind::ContactData => self.confirmed,
            RequirementKind::Conditional => self.confirmed || !self.attachments.is_empty(),
        }
    }
}

/// Indexes of the items not met yet.
pub fn missing(items: &[ChecklistItem]) -> Vec<usize> {
    items.iter().enumerate().filter(|(_, i)| !i.is_met()).map(|(n, _)| n).collect()
}

/// Items a return named that nothing was done about since, given each returned item with the
/// files it had when it was returned: a document needs a file it did not have then; a
/// condition or contact data a fresh confirmation (a return clears the old one); a conditional
/// item either. Resubmitting the same file does not answer a return.
pub fn unanswered(items: &[ChecklistItem], returned: &[(usize, &[String])]) -> Vec<usize> {
    let mut out: Vec<usize> = returned
        .iter()
        .filter(|(n, then)| {
            let Some(item) = items.get(*n) else { return false };
            let new_file = item.attachments.iter().any(|a| !then.contains(a));
            let answered = match item.kind {
                RequirementKind::Document => new_file,
                RequirementKind::Condition | RequirementKind::ContactData => item.confirmed,
                RequirementKind::Conditional => new_file || item.confirmed,
            };
            !answered
        })
        .map(|(n, _)| *n)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_item_needs_a_new_file_or_a_new_confirmation() {
        let mut doc = ChecklistItem::new("Fotokopi paspor");
        doc.attachments = vec!["old".into()];
        let mut condition = ChecklistItem::new("Hadir sendiri");
        assert_eq!(condition.kind, RequirementKind::Condition);
        let then = vec!["old".to_string()];
        let returned: Vec<(usize, &[String])> = vec![(0, &then), (1, &[])];
        // As returned: the same file, the confirmation cleared.
        assert_eq!(unanswered(&[doc.clone(), condition.clone()], &returned), vec![0, 1]);
        doc.attachments.push("new".into());
        condition.confirmed = true;
        assert!(unanswered(&[doc.clone(), condition.clone()], &returned).is_empty());
        // An item that is not there (a shorter checklist) is not asked for.
        assert!(unanswered(&[doc], &[(7, &[])]).is_empty());
    }

    #[test]
    fn uploads_are_judged_by_their_bytes() {
        let pdf = b"%PDF-1.7\n...";
        assert_eq!(check_upload("kk.pdf", pdf).unwrap().content_type, ContentType::Pdf);
        assert_eq!(check_upload("kk.pdf.exe", pdf).unwrap().content_type, ContentType::Pdf, "name does not matter");
        assert_eq!(check_upload("foto.jpg", b"MZ\x90\x00"), Err(UploadProblem::WrongType));
        assert_eq!(check_upload("kosong.pdf", b""), Err(UploadProblem::Empty));
        assert_eq!(check_upload("../../etc/passwd", pdf), Err(UploadProblem::BadName));
        assert_eq!(check_upload("C:\\x.pdf", pdf), Err(UploadProblem::BadName));
        assert_eq!(check_upload("a\nb.pdf", pdf), Err(UploadProblem::BadName));
        let big = vec![0xFFu8; MAX_ATTACHMENT_BYTES + 1];
        assert_eq!(check_upload("big.jpg", &big), Err(UploadProblem::TooLarge(MAX_ATTACHMENT_BYTES + 1)));
        assert_eq!(ContentType::sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]), Some(ContentType::Png));
        // A biometric record is a device's, never an upload.
        let record = b"FIR\x00020\x00\0\0\0\x10";
        assert_eq!(ContentType::sniff(record), Some(ContentType::BiometricRecord));
        assert_eq!(check_upload("sidik.iso", record), Err(UploadProblem::WrongType));
    }

    #[test]
    fn a_capture_is_a_picture_or_a_biometric_record_and_nothing_else() {
        let record = b"IIR\x00020\x00\0\0\0\x10";
        assert_eq!(check_capture(record).unwrap().content_type, ContentType::BiometricRecord);
        assert_eq!(check_capture(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap().content_type, ContentType::Jpeg);
        assert_eq!(check_capture(b"%PDF-1.7"), Err(UploadProblem::WrongType));
        assert_eq!(check_capture(b""), Err(UploadProblem::Empty));
        for c in ContentType::ALL {
            assert_eq!(ContentType::from_mime(c.mime()), Some(c));
        }
    }

    #[test]
    fn requirements_are_classified() {
        assert_eq!(classify_requirement("Fotokopi KK."), RequirementKind::Document);
        assert_eq!(classify_requirement("Kartu Izin Tinggal Tetap"), RequirementKind::Document);
        assert_eq!(
            classify_requirement("Telah berusia 17 tahun, sudah kawin, atau pernah kawin"),
            RequirementKind::Condition
        );
        assert_eq!(classify_requirement("Nomor Handphone Pemohon"), RequirementKind::ContactData);
        assert_eq!(classify_requirement("e-mail Pemohon"), RequirementKind::ContactData);
        assert_eq!(classify_requirement("Surat kuasa bila diwakilkan"), RequirementKind::Conditional);
        let mut items = vec![ChecklistItem::new("Fotokopi KK."), ChecklistItem::new("Telah berusia 17 tahun")];
        assert_eq!(missing(&items), vec![0, 1]);
        items[0].attachments.push("ab".repeat(32));
        items[1].confirmed = true;
        assert!(missing(&items).is_empty());
    }
}
