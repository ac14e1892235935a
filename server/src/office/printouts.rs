//! What goes on the papers the office hands out: the hand-over receipt (tanda terima / bukti
//! pengambilan) with its signed QR code, and the rejection slip (surat pengembalian berkas)
//! that lists what is missing. Composed here from a stored application; rendered to PDF by
//! `hardware::document`.

use simpul_hardware::document::{Block, Document};
use simpul_sync::records::ApplicationDoc;

/// The office as printed on the letterhead.
#[derive(Debug, Clone)]
pub struct Letterhead {
    /// Office name.
    pub office: String,
    /// Office code.
    pub code: String,
}

impl Letterhead {
    fn lines(&self) -> Vec<String> {
        vec![self.office.to_uppercase(), format!("Pelayanan Administrasi Kependudukan · Kode wilayah {}", self.code)]
    }
}

fn masked_nik(nik: &str) -> String {
    // Paper leaves the office: show enough to recognise the person, not the whole NIK.
    if nik.len() == 16 && nik.is_ascii() { format!("{}********{}", &nik[..6], &nik[14..]) } else { "-".into() }
}

/// The hand-over receipt.
pub fn receipt(
    head: &Letterhead,
    doc: &ApplicationDoc,
    printed_at: &str,
    staff_name: &str,
    signed_reference: &str,
) -> Document {
    let handover = doc.handover.as_ref();
    let mut blocks = vec![
        Block::Title("TANDA TERIMA / BUKTI PENGAMBILAN".into()),
        Block::Field("Nomor permohonan".into(), doc.number.clone()),
        Block::Field("Layanan".into(), doc.service_title.clone()),
        Block::Field("Nama pemohon".into(), doc.applicant.name.clone()),
        Block::Field("NIK".into(), masked_nik(&doc.applicant.nik)),
        Block::Rule,
    ];
    if let Some(h) = handover {
        let taker = if h.recipient == "proxy" {
            // Whoever's power of attorney names the person who took it.
            let name = [doc.pickup_proxy.as_ref(), doc.proxy.as_ref()]
                .into_iter()
                .flatten()
                .find(|p| p.nik == h.recipient_nik)
                .map_or_else(String::new, |p| p.name.clone());
            format!("Kuasa: {name} (NIK {})", masked_nik(&h.recipient_nik))
        } else {
            "Pemohon sendiri".to_string()
        };
        blocks.push(Block::Field("Diserahkan kepada".into(), taker));
        blocks.push(Block::Field("Waktu penyerahan".into(), h.at.clone()));
        if let Some(serial) = &h.withdrawn_serial {
            blocks.push(Block::Field("KTP-el lama ditarik".into(), format!("Nomor seri {serial}")));
            if let Some(reason) = &h.withdrawn_reason {
                blocks.push(Block::Field("Alasan penarikan".into(), reason.clone()));
            }
            if let Some(d) = &h.withdrawn_disposition {
                blocks.push(Block::Field("Tindakan atas KTP-el lama".into(), d.clone()));
            }
        }
        if let Some(copies) = h.copies {
            blocks.push(Block::Field("Jumlah salinan dilegalisir".into(), format!("{copies} lembar")));
        }
    }
    blocks.push(Block::Rule);
    blocks.push(Block::Qr {
        payload: signed_reference.to_string(),
        caption: "Kode ini ditandatangani secara elektronik oleh kantor. Dinas dapat memeriksa keasliannya.".into(),
    });
    blocks.push(Block::Space);
    blocks.push(Block::Text(format!("Petugas: {staff_name}")));
    Document {
        title: format!("Tanda terima {}", doc.number),
        letterhead: head.lines(),
        blocks,
        footer: format!("Dicetak {printed_at} · Simpul"),
    }
}

/// The rejection slip of the latest return.
pub fn return_slip(head: &Letterhead, doc: &ApplicationDoc, printed_at: &str, verifier_name: &str) -> Option<Document> {
    let last = doc.returns.last()?;
    let mut blocks = vec![
        Block::Title("SURAT PENGEMBALIAN BERKAS".into()),
        Block::Field("Nomor permohonan".into(), doc.number.clone()),
        Block::Field("Layanan".into(), doc.service_title.clone()),
        Block::Field("Nama pemohon".into(), doc.applicant.name.clone()),
        Block::Field("Tanggal".into(), last.at.clone()),
        Block::Rule,
        Block::Text(
            "Berkas permohonan Anda belum dapat diproses karena persyaratan berikut belum lengkap atau belum sesuai:"
                .into(),
        ),
        Block::Space,
    ];
    for (n, reason) in last.reasons.iter().enumerate() {
        let requirement = doc.checklist.get(reason.item as usize).map_or_else(String::new, |c| c.text.clone());
        blocks.push(Block::Item(format!("{}.", n + 1), format!("{requirement}: {}", reason.reason)));
    }
    blocks.push(Block::Space);
    blocks.push(Block::Text(format!(
        "Silakan lengkapi persyaratan tersebut dan kembali ke loket dengan membawa surat ini. Permohonan \
         Anda dilanjutkan dengan nomor yang sama ({}); tidak perlu mendaftar ulang.",
        doc.number
    )));
    blocks.push(Block::Space);
    blocks.push(Block::Text(format!("Verifikator: {verifier_name}")));
    Some(Document {
        title: format!("Pengembalian berkas {}", doc.number),
        letterhead: head.lines(),
        blocks,
        footer: format!("Dicetak {printed_at} · Simpul"),
    })
}

/// What the office's ticket printer prints for a queue ticket issued at `issued_at` (local).
pub fn queue_ticket(
    office: &str,
    ticket: &simpul_store::queue::Ticket,
    lane: simpul_domain::queue::Lane,
    issued_at: &str,
) -> simpul_hardware::escpos::Ticket {
    simpul_hardware::escpos::Ticket {
        office: office.to_string(),
        service: ticket.service.clone(),
        number: ticket.number.to_string(),
        lane: lane_words(lane),
        time: issued_at.to_string(),
        qr: format!("SPL-T:{}", ticket.id),
        footer: "Mohon menunggu panggilan".into(),
    }
}

/// The lane as printed on a queue ticket.
fn lane_words(lane: simpul_domain::queue::Lane) -> String {
    use simpul_domain::queue::{Lane, PriorityReason};
    match lane {
        Lane::Normal => "Antrean umum".into(),
        Lane::Priority(PriorityReason::Elderly) => "Prioritas: lansia".into(),
        Lane::Priority(PriorityReason::PregnantOrNursing) => "Prioritas: ibu hamil / menyusui".into(),
        Lane::Priority(PriorityReason::Disability) => "Prioritas: penyandang disabilitas".into(),
    }
}

/// A one-page PDF that tests a document printer.
pub fn test_page(printer: &str, at: time::OffsetDateTime) -> Result<Vec<u8>, simpul_hardware::document::RenderError> {
    simpul_hardware::document::render(&Document {
        title: "HALAMAN UJI PRINTER".into(),
        letterhead: vec!["SIMPUL".into()],
        blocks: vec![
            Block::Field("Printer".into(), printer.into()),
            Block::Field("Waktu".into(), simpul_store::stamp(at)),
            Block::Text("Jika halaman ini terbaca dengan jelas, printer siap dipakai.".into()),
            Block::Qr { payload: "SPL-UJI".into(), caption: "Kode QR uji".into() },
        ],
        footer: "Simpul".into(),
    })
}
