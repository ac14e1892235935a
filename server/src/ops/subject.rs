//! `simpul subject export`: everything this box (or hub) holds about one person, for the person
//! (UU PDP 27/2022 gives a data subject the right to it): each application whose applicant
//! they are, as the full record (JSON) and a readable summary (PDF), the files attached to it
//! and captured for it, and who wrote, read or printed each of them (the audit trail). The
//! person is named by their NIK, or by country and passport number, read from standard input
//! so that it lands in no shell history, log line or file name. Each export is itself audited,
//! once per application.

use std::path::{Path, PathBuf};

use simpul_domain::attachment::ContentType;
use simpul_hardware::document::{Block, Document};
use simpul_store::applications::PersonKey;
use simpul_store::blobs::{self, Files};
use simpul_store::db::StoreError;
use simpul_store::{Connection, audit, stamp};
use simpul_sync::records::ApplicationDoc;
use time::OffsetDateTime;

/// The summary's and the data's names inside the export folder.
const SUMMARY: &str = "ringkasan.pdf";
const DATA: &str = "data.json";

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// The person could not be read from what was typed.
    #[error("type a NIK (16 digits), or a country code and a passport number (e.g. AUS PA1234567)")]
    NotAPerson,
    /// The target is not a new or empty folder.
    #[error("{0} already exists and is not empty: choose a new folder")]
    TargetNotEmpty(PathBuf),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The summary could not be made.
    #[error("the summary could not be made: {0}")]
    Summary(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a person is named: NIK, or the passport key of a foreign resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    /// A 16-digit NIK.
    Nik(String),
    /// `COUNTRY:NUMBER` (see `simpul_domain::applicant::passport_key`).
    Passport(String),
}

impl Person {
    /// Reads what was typed: 16 digits, or a country code and a passport number.
    pub fn parse(typed: &str) -> Result<Person, SubjectError> {
        let typed = typed.trim();
        if typed.len() == 16 && typed.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Person::Nik(typed.to_string()));
        }
        let (country, number) = typed.split_once(char::is_whitespace).ok_or(SubjectError::NotAPerson)?;
        simpul_domain::applicant::passport_key(country, number).map(Person::Passport).ok_or(SubjectError::NotAPerson)
    }

    fn key(&self) -> PersonKey<'_> {
        match self {
            Person::Nik(nik) => PersonKey::Nik(nik),
            Person::Passport(key) => PersonKey::Passport(key),
        }
    }
}

/// What an export holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Applications of the person.
    pub applications: usize,
    /// Files copied.
    pub files: usize,
    /// Audit entries about them.
    pub entries: usize,
}

/// Writes everything held about `person` into the new folder `out`: `data.json`, a summary
/// `ringkasan.pdf` and `files/`. Audits the export, once per application, as done by `by`.
pub fn export(
    conn: &Connection,
    files: &Files,
    person: &Person,
    out: &Path,
    office_name: &str,
    now: OffsetDateTime,
) -> Result<Exported, SubjectError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SubjectError::Io { path, source }
    };
    if out.exists() && std::fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(SubjectError::TargetNotEmpty(out.to_path_buf()));
    }
    let ids = simpul_store::applications::of_person(conn, person.key())?;
    // Audited before a byte is written: an export cut short still shows on the record's trail.
    for id in &ids {
        audit::record(conn, now, &audit::Actor::Cli, "subject_exported", Some(id), None)?;
    }
    // Readable by the operator only: it holds personal data in clear until it is handed over.
    let folder = out.join("files");
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&folder).map_err(io(&folder))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o700)).map_err(io(out))?;
    }
    let (mut records, mut blocks, mut copied, mut entries) = (Vec::new(), Vec::new(), 0, 0);
    for id in &ids {
        let Some(raw) = simpul_store::documents::open(conn, id)? else { continue };
        let Some(doc) = simpul_store::documents::load::<ApplicationDoc>(conn, id)? else { continue };
        let mut digests: Vec<String> = doc.checklist.iter().flat_map(|l| l.attachments.iter().cloned()).collect();
        digests.extend(doc.captures.iter().flat_map(|c| c.blob.iter().chain(c.picture.iter()).cloned()));
        digests.sort();
        digests.dedup();
        let mut held = Vec::new();
        for sha in &digests {
            let Some(row) = blobs::get(conn, sha)? else { continue };
            // A file this box never received (or lost) is listed, not copied.
            let Ok(bytes) = files.read(sha) else {
                held.push(serde_json::json!({ "sha256": sha, "type": row.content_type.mime(), "copied": false }));
                continue;
            };
            let name = format!("{sha}.{}", extension(row.content_type));
            write_private(&folder.join(&name), &bytes).map_err(io(&folder.join(&name)))?;
            copied += 1;
            held.push(
                serde_json::json!({ "sha256": sha, "type": row.content_type.mime(), "file": format!("files/{name}") }),
            );
        }
        let mut trail = audit::about(conn, id, 10_000)?;
        for sha in &digests {
            trail.extend(audit::about(conn, sha, 10_000)?);
        }
        trail.sort_by_key(|e| e.seq);
        entries += trail.len();
        blocks.extend(summary_of(&doc, &digests, &trail));
        records.push(serde_json::json!({
            "id": id,
            "record": automerge::AutoSerde::from(&raw),
            "files": held,
            "accesses": trail.iter().map(|e| serde_json::json!({
                "at": e.at, "by": e.actor, "action": e.action, "subject": e.subject,
            })).collect::<Vec<_>>(),
        }));
    }
    let data = serde_json::json!({
        "exported_at": stamp(now),
        "office": office_name,
        "applications": records,
    });
    let text = serde_json::to_vec_pretty(&data).map_err(|e| SubjectError::Summary(e.to_string()))?;
    write_private(&out.join(DATA), &text).map_err(io(&out.join(DATA)))?;
    let mut summary = vec![
        Block::Text(format!(
            "Data pribadi yang disimpan kantor ini tentang pemohon, per {} (UU 27/2022 tentang Pelindungan Data \
             Pribadi). Rincian lengkap ada di {DATA}, berkasnya di folder files.",
            stamp(now)
        )),
        Block::Field("Permohonan".into(), ids.len().to_string()),
        Block::Field("Berkas".into(), copied.to_string()),
        Block::Rule,
    ];
    if ids.is_empty() {
        summary.push(Block::Text("Tidak ada data tentang orang ini di kantor ini.".into()));
    }
    summary.extend(blocks);
    let pdf = simpul_hardware::document::render(&Document {
        title: "Data pribadi pemohon".into(),
        letterhead: vec![office_name.to_string()],
        blocks: summary,
        footer: format!("Simpul · dibuat {}", stamp(now)),
    })
    .map_err(|e| SubjectError::Summary(e.to_string()))?;
    write_private(&out.join(SUMMARY), &pdf).map_err(io(&out.join(SUMMARY)))?;
    Ok(Exported { applications: ids.len(), files: copied, entries })
}

/// The summary's part for one application.
fn summary_of(doc: &ApplicationDoc, digests: &[String], trail: &[audit::Entry]) -> Vec<Block> {
    let a = &doc.applicant;
    let mut blocks = vec![
        Block::Heading(format!("{} · {}", doc.number, doc.service_title)),
        Block::Field("Status".into(), doc.status.clone()),
        Block::Field("Dibuka".into(), doc.created_at.clone()),
        Block::Field("Nama".into(), a.name.clone()),
        Block::Field("NIK".into(), a.nik.clone()),
        Block::Field("Tempat, tanggal lahir".into(), format!("{}, {}", a.birth_place, a.birth_date)),
        Block::Field("Alamat".into(), a.address.clone()),
        Block::Field("Berkas dan rekaman biometrik".into(), digests.len().to_string()),
    ];
    if let Some(passport) = &a.passport_number {
        blocks.push(Block::Field("Paspor".into(), format!("{} ({})", passport, a.nationality)));
    }
    let contact = [a.phone.as_deref(), a.email.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if !contact.trim().is_empty() {
        blocks.push(Block::Field("Kontak".into(), contact));
    }
    blocks.push(Block::Text("Siapa yang mencatat, membuka, mencetak atau mengirim data ini:".into()));
    for e in trail {
        blocks.push(Block::Item(e.at.clone(), format!("{} · {}", e.actor, e.action)));
    }
    blocks.push(Block::Space);
    blocks
}

/// A new file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

fn extension(content_type: ContentType) -> &'static str {
    match content_type {
        ContentType::Pdf => "pdf",
        ContentType::Jpeg => "jpg",
        ContentType::Png => "png",
        ContentType::BiometricRecord => "bin",
    }
}
