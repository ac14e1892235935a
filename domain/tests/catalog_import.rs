//! The catalog importer against the published fixtures (field by field) and against variants of
//! the two layouts that other offices publish.

use std::path::PathBuf;

use proptest::prelude::*;
use simpul_domain::catalog::{
    CompletionTime, ContactKind, FeeKind, ImportErrorKind, Section, ServiceKind, ServiceStandard, import_standard,
};

/// `../shared/fixtures` as seen from the workspace root (the project and its CI clones sit
/// beside `shared/`). `SIMPUL_FIXTURES` overrides it.
fn fixtures() -> PathBuf {
    if let Ok(dir) = std::env::var("SIMPUL_FIXTURES") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("../shared/fixtures");
    assert!(dir.is_dir(), "fixtures not found at {} (set SIMPUL_FIXTURES)", dir.display());
    dir
}

fn standard(file: &str) -> ServiceStandard {
    let bytes = std::fs::read(fixtures().join("standar-pelayanan").join(file)).expect("fixture readable");
    import_standard(&bytes).unwrap_or_else(|e| panic!("{file}: {e}")).standard
}

#[test]
fn denpasar_foreign_resident_ktp_markdown_layout() {
    let s = standard("000_a200f9219f51d82a.txt");
    assert_eq!(s.title, "Penerbitan Kartu Tanda Penduduk Elektronik Baru Untuk Orang Asing");
    assert_eq!(s.kind, ServiceKind::KtpElForeignNew);
    assert_eq!(s.sk_number.as_deref(), Some("000.8.3.4/2072/Disdukcapil"));
    assert_eq!(s.issuer.agency, "Dinas Kependudukan dan Pencatatan Sipil Kota Denpasar");
    assert_eq!(s.issuer.government.as_deref(), Some("Pemerintah Kota Denpasar"));
    assert_eq!(s.issuer.address.as_deref(), Some("Jl. Majapahit Nomor 1 Denpasar"));
    assert_eq!(s.issuer.postal_code.as_deref(), Some("80231"));
    assert_eq!(s.issuer.phone.as_deref(), Some("0361428597"));
    assert_eq!(s.issuer.website.as_deref(), Some("https://kependudukan.denpasarkota.go.id"));

    let reqs: Vec<&str> = s.requirements.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        reqs,
        [
            "Telah berusia 17 tahun, sudah kawin, atau pernah kawin",
            "Fotokopi KK.",
            "Fotokopi Dokumen Perjalanan",
            "Fotokopi Kartu izin tinggal tetap"
        ]
    );
    assert_eq!(s.procedure.len(), 6);
    assert_eq!(s.procedure[0].text, "Pemohon mempersiapkan permohonan dengan persyaratan lengkap");
    let step3 = &s.procedure[2];
    assert!(step3.text.starts_with("Mengajukan permohonan dokumen asli"));
    assert!(step3.text.contains("https://taringdukcapil.denpasarkota.go.id (apabila daring)"), "{}", step3.text);
    assert_eq!(
        step3.sub_steps,
        [
            "OA mengisi F.1.02",
            "OA melampirkan fotokopi KK",
            "OA menunjukkan fotokopi Dokumen perjalanan dan KITAP",
            "Disdukcapil menerbitkan KTP-el"
        ]
    );
    assert!(s.procedure[5].text.starts_with("Petugas menyerahkan KTP Elektronik"));

    let completion = s.completion.as_ref().expect("completion");
    assert_eq!(completion.time, CompletionTime::WorkingDays(1));
    assert_eq!(completion.stated, "1 Hari kerja");
    assert!(completion.condition.as_deref().unwrap().starts_with("Adapun jangka waktu"));

    // The fee sits after a page break: the repeated letterhead must not leak into it.
    assert_eq!(s.fee.kind, FeeKind::Free);
    assert_eq!(s.fee.text, "Tidak dipungut biaya");
    assert_eq!(s.products, ["Kartu Tanda Penduduk Elektronik"]);

    assert!(s.complaints_intro.as_deref().unwrap().starts_with("Penanganan Pengaduan"));
    let kinds: Vec<ContactKind> = s.complaints.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ContactKind::InPerson,
            ContactKind::Survey,
            ContactKind::Email,
            ContactKind::Website,
            ContactKind::Phone,
            ContactKind::WhatsApp,
            ContactKind::SuggestionBox
        ]
    );
    // A wrapped item keeps its continuation lines.
    assert!(s.complaints[0].text.ends_with("Telp. (0361) 428597, 428510"));
    assert_eq!(s.complaints[2].emails, ["dukcapildenpasar@gmail.com", "kependudukan@denpasarkota.go.id"]);
    assert_eq!(s.complaints[5].phones, ["087-860-892-401"]);
    assert!(s.complaints[1].text.contains("scan QRcode"));
}

#[test]
fn dharmasraya_reissue_plain_layout_with_page_breaks() {
    let s = standard("002_b11a949d96e5b3de.txt");
    assert_eq!(
        s.title,
        "Penerbitan KTP-el Baru Karena Perubahan Data Bagi Penduduk Orang Asing Yang Memiliki Izin Tinggal Tetap"
    );
    assert_eq!(s.kind, ServiceKind::KtpElReissue);
    assert_eq!(s.sk_number, None);
    assert_eq!(s.issuer.agency, "Dinas Kependudukan dan Pencatatan Sipil");
    assert_eq!(s.issuer.government.as_deref(), Some("Pemerintah Kab. Dharmasraya"));
    assert_eq!(s.issuer.postal_code.as_deref(), Some("27573"));
    assert_eq!(s.issuer.phone.as_deref(), Some("082288157965"));
    assert_eq!(s.requirements.len(), 8);
    assert_eq!(s.requirements[0].text, "Form F-1.02");
    assert_eq!(s.requirements[3].text, "Surat Keterangan Peristiwa Kependudukan/Peristiwa Penting");
    assert_eq!(s.requirements[7].text, "e-mail Pemohon");
    assert_eq!(s.procedure.len(), 8);
    assert!(s.procedure[0].text.ends_with("dengan disertai surat kuasa"));
    assert_eq!(s.procedure[6].text, "Dinas menarik KTP-el lama");

    // "10 Menit" follows a page break; its condition is the network caveat.
    let completion = s.completion.as_ref().expect("completion");
    assert_eq!(completion.time, CompletionTime::Minutes(10));
    assert_eq!(completion.stated, "10 Menit");
    assert!(completion.condition.as_deref().unwrap().contains("tidak terjadi gangguan jaringan komunikasi data"));
    assert_eq!(s.fee.kind, FeeKind::Free);
    assert_eq!(s.products, ["KTP-el"]);

    // Complaints: grouped under "a." / "b.", with a wrapped address and a nested bullet list.
    let groups: Vec<Option<&str>> = s.complaints.iter().map(|c| c.group.as_deref()).collect();
    assert_eq!(groups[0], Some("Pengaduan langsung"));
    assert_eq!(groups[2], Some("Pengaduan online"));
    assert_eq!(s.complaints.len(), 8);
    assert_eq!(s.complaints[0].kind, ContactKind::SuggestionBox);
    assert!(s.complaints[0].text.contains("Jalan Pasengrahan, Jorong Sungai Kilangan"));
    assert_eq!(s.complaints[2].emails, ["capildharmasraya@gmail.com"]);
    assert_eq!(s.complaints[3].kind, ContactKind::WhatsApp);
    assert_eq!(s.complaints[3].phones, ["0822 8815 7965"]);
    let social = &s.complaints[5];
    assert_eq!(social.kind, ContactKind::SocialMedia);
    assert_eq!(social.details.len(), 4);
    assert_eq!(social.details[1], "Twitter : @capildharmasraya");
    assert_eq!(s.complaints[6].kind, ContactKind::Survey);
    // Nothing of the letterhead leaked into any section.
    let everything = format!("{s:?}");
    assert_eq!(everything.matches("Jalan Pasenggerahan Sungai Dareh").count(), 1, "letterhead only in issuer");
}

#[test]
fn badung_legalisation_with_duplicated_steps_in_capitals() {
    let s = standard("003_13cc4f215da7530e.txt");
    assert_eq!(s.title, "Legalisir Kartu tanda Penduduk Elektronik");
    assert_eq!(s.kind, ServiceKind::Legalisation);
    assert_eq!(s.issuer.government.as_deref(), Some("Pemerintah Kab. Badung"));
    assert_eq!(
        s.issuer.address.as_deref(),
        Some("PUSAT PEMERINTAHAN MANGUPRAJA MANDALA JL. RAYA SEMPIDI MENGWI BADUNG")
    );
    assert_eq!(s.issuer.postal_code.as_deref(), Some("80351"));
    assert_eq!(s.issuer.phone.as_deref(), Some("03618947979"));
    assert_eq!(s.issuer.website.as_deref(), Some("badungkab.go.id/instansi/dukcapil"));
    assert_eq!(s.requirements.len(), 2);
    assert_eq!(s.requirements[1].text, "FOTO COPY KARTU TANDA PENDUDUK ELEKTRONIK");
    // Five steps, not ten: the capitals copy is dropped and the mixed-case one kept.
    assert_eq!(s.procedure.len(), 5);
    assert_eq!(s.procedure[0].text, "Masyarakat datang mengambil nomor antrean pada mesin antrean yang tersedia.");
    assert!(s.procedure_notes.is_empty(), "{:?}", s.procedure_notes);
    let completion = s.completion.as_ref().expect("completion");
    assert_eq!(completion.time, CompletionTime::CalendarDays(1));
    assert!(completion.condition.as_deref().unwrap().starts_with("WAKTU YANG TERTERA"));
    assert_eq!(s.fee.kind, FeeKind::Free);
    assert_eq!(s.products, ["LEGALISIR EKTP"]);
    assert_eq!(s.complaints.len(), 7);
    assert_eq!(s.complaints[4].emails, ["disdukcapil@badungkab.go.id"]);
    assert_eq!(s.complaints[5].kind, ContactKind::Lapor);
}

#[test]
fn fixtures_give_warnings_not_errors_for_their_quirks() {
    let bytes = std::fs::read(fixtures().join("standar-pelayanan/003_13cc4f215da7530e.txt")).unwrap();
    let imported = import_standard(&bytes).unwrap();
    let text: Vec<String> = imported.warnings.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|w| w.contains("printed twice")), "{text:?}");
    assert!(text.iter().any(|w| w.contains("letterhead repeated")), "{text:?}");
}

const LETTERHEAD: &str = "Dinas Kependudukan dan Pencatatan Sipil\n\nJl. Contoh No. 5 Kota Contoh 12345 0211234567\n\nhttps://disdukcapil.contoh.go.id\n\nPemerintah Kota Contoh / Dinas Kependudukan dan Pencatatan Sipil\n";

/// A standard in the plain layout with every quirk the other offices show: a page break inside a
/// wrapped requirement, sub-steps on their own lines, a fee in rupiah, completion time in words,
/// an empty products section, components numbered "A." / "B.", an extra "Dasar Hukum".
fn plain_variant() -> String {
    format!(
        "\n{LETTERHEAD}\nPenerbitan Kartu Keluarga Baru\n\nNo. SK : 470/123/DKPS/2024\n\nA. Dasar Hukum\n\nUndang-Undang Nomor 24 Tahun 2013\n\nB. PERSYARATAN PELAYANAN\n\n1. Surat pengantar dari RT/RW yang\ndiketahui kelurahan\n2. Fotokopi buku nikah\n\n\n\n{LETTERHEAD}\n3. Surat pindah bagi yang\n\n\n\n{LETTERHEAD}\nberasal dari luar daerah\n\nC. Sistem, Mekanisme, dan Prosedur\n\n1) Pemohon mengisi formulir\na) formulir F-1.01\nb) formulir F-1.02\n2) Petugas memverifikasi\n\nCatatan: berkas asli dibawa saat pengambilan.\n\nD. Jangka Waktu Penyelesaian\n\nEmpat belas (14) hari kerja sejak berkas lengkap\n\nE. Biaya/Tarif\n\nRp. 15.000,- (lima belas ribu rupiah)\n\nF. Produk Pelayanan\n\n\nG. Pengaduan\n\n- Kotak saran\n- SMS 081234567890\n"
    )
}

#[test]
fn plain_layout_variant_from_another_office() {
    let imported = import_standard(plain_variant().as_bytes()).unwrap();
    let s = imported.standard;
    assert_eq!(s.title, "Penerbitan Kartu Keluarga Baru");
    assert_eq!(s.kind, ServiceKind::Other);
    assert_eq!(s.sk_number.as_deref(), Some("470/123/DKPS/2024"));
    assert_eq!(s.issuer.government.as_deref(), Some("Pemerintah Kota Contoh"));
    let reqs: Vec<&str> = s.requirements.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(
        reqs,
        [
            "Surat pengantar dari RT/RW yang diketahui kelurahan",
            "Fotokopi buku nikah",
            "Surat pindah bagi yang berasal dari luar daerah"
        ]
    );
    assert_eq!(s.procedure.len(), 2);
    assert_eq!(s.procedure[0].text, "Pemohon mengisi formulir");
    assert_eq!(s.procedure[0].sub_steps, ["formulir F-1.01", "formulir F-1.02"]);
    assert_eq!(s.procedure_notes, ["Catatan: berkas asli dibawa saat pengambilan."]);
    let completion = s.completion.unwrap();
    assert_eq!(completion.time, CompletionTime::WorkingDays(14));
    assert_eq!(completion.condition.as_deref(), Some("sejak berkas lengkap"));
    assert_eq!(s.fee.kind, FeeKind::Rupiah(15_000));
    assert!(s.products.is_empty());
    assert_eq!(s.complaints.len(), 2);
    assert_eq!(s.complaints[1].kind, ContactKind::Phone);
    assert_eq!(s.other_sections.len(), 1);
    assert_eq!(s.other_sections[0].0, "A. Dasar Hukum");
    assert!(imported.warnings.iter().any(|w| w.section == Some(Section::Products)));
}

#[test]
fn markdown_variant_without_sk_and_with_bullets() {
    let text = "## Dinas Dukcapil Kabupaten Contoh\n\nJl. Raya 1 55555 0274123456\n\n<https://dukcapil.contoh.go.id>\n\n# Aktivasi Identitas Kependudukan Digital (IKD)\n\n## Persyaratan\n\n- NIK\n- Email aktif\n- Telepon genggam\n\n## Sistem, Mekanisme dan Prosedur\n\n1. Pemohon datang ke loket\n2. Petugas memindai QR\n\n## Waktu Penyelesaian\n\n15 Menit\n\n## Biaya / Tarif\n\nGratis\n\n### Produk Pelayanan\n\n1. IKD aktif\n\n### Pengaduan Layanan\n\n1. [Lapor](https://www.lapor.go.id)\n";
    let s = import_standard(text.as_bytes()).unwrap().standard;
    assert_eq!(s.title, "Aktivasi Identitas Kependudukan Digital (IKD)");
    assert_eq!(s.kind, ServiceKind::IkdActivation);
    assert_eq!(s.sk_number, None);
    assert_eq!(s.issuer.agency, "Dinas Dukcapil Kabupaten Contoh");
    assert_eq!(s.requirements.len(), 3);
    assert_eq!(s.completion.unwrap().time, CompletionTime::Minutes(15));
    assert_eq!(s.fee.kind, FeeKind::Free);
    assert_eq!(s.products, ["IKD aktif"]);
    assert_eq!(s.complaints[0].kind, ContactKind::Lapor);
    assert_eq!(s.complaints[0].urls, ["https://www.lapor.go.id"]);
}

#[test]
fn unreadable_files_are_refused_with_line_and_section() {
    let check = |bytes: &[u8], kind: ImportErrorKind, line: Option<usize>, section: Option<Section>| {
        let e = import_standard(bytes).unwrap_err();
        assert_eq!((e.kind.clone(), e.line, e.section), (kind, line, section), "{e}");
    };
    check(b"", ImportErrorKind::Empty, None, None);
    check(b"   \n\n", ImportErrorKind::Empty, None, None);
    check(b"\x89PNG\r\n\x1a\n\0\0\0", ImportErrorKind::NotText, None, None);
    check(b"abc\n\xff\xfe", ImportErrorKind::NotText, Some(2), None);
    check(b"Resep nasi goreng\n\nBahan: nasi, telur\n", ImportErrorKind::NoSections, None, None);
    check(
        b"Judul\n\nPersyaratan\n\n1. KK\n\nWaktu Penyelesaian\n\n1 hari\n",
        ImportErrorKind::MissingSection(Section::Procedure),
        None,
        Some(Section::Procedure),
    );
    // The completion time that cannot be read is named with its line.
    let bad = "Layanan X\n\nPersyaratan\n\n1. KK\n\nProsedur\n\n1. Datang\n\nWaktu Penyelesaian\n\nSesuai ketentuan\n";
    let e = import_standard(bad.as_bytes()).unwrap_err();
    assert_eq!(e.line, Some(13));
    assert_eq!(e.section, Some(Section::CompletionTime));
    assert_eq!(
        e.to_string(),
        "line 13, section 'Waktu Penyelesaian': cannot read a completion time (e.g. '1 Hari kerja', '10 Menit') from \"Sesuai ketentuan\""
    );
    let huge = vec![b'a'; simpul_domain::catalog::MAX_STANDARD_BYTES + 1];
    assert!(matches!(import_standard(&huge).unwrap_err().kind, ImportErrorKind::TooLarge(_)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = import_standard(&bytes);
    }

    /// Dropping or duplicating lines of a real standard yields a standard or an error, never a
    /// panic; and whatever is read has a title.
    #[test]
    fn never_panics_on_damaged_standards(
        seed_lines in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3), 0..30),
        file in prop::sample::select(vec!["000_a200f9219f51d82a.txt", "002_b11a949d96e5b3de.txt", "003_13cc4f215da7530e.txt"]),
    ) {
        let text = std::fs::read_to_string(fixtures().join("standar-pelayanan").join(file)).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for (index, op) in seed_lines {
            if lines.is_empty() { break; }
            let i = index.index(lines.len());
            match op {
                0 => { lines.remove(i); }
                1 => { let l = lines[i].clone(); lines.insert(i, l); }
                _ => { lines[i] = lines[i].to_uppercase(); }
            }
        }
        // Either branch is checked: a standard read has a title, a refusal says where or what.
        match import_standard(lines.join("\n").as_bytes()) {
            Ok(imported) => prop_assert!(!imported.standard.title.is_empty()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn requirements_printed_twice_and_immediate_completion() {
    let text = "Dinas Kependudukan dan Pencatatan Sipil\n\nJl. Raya 2 Kota 12345 0211234567\n\nPemerintah Kota Contoh / Dinas Kependudukan dan Pencatatan Sipil\n\nPencetakan KTP-el Karena Rusak\n\nNo. SK : -\n\nPersyaratan\n\n1. KTP-el yang rusak\n2. Kartu Keluarga\n\n1. KTP-EL YANG RUSAK\n2. KARTU KELUARGA\n\nSistem, Mekanisme dan Prosedur\n\n1. Pemohon datang\n\nWaktu Penyelesaian\n\nLangsung jadi\n\nBiaya / Tarif\n\nGratis\n";
    let imported = import_standard(text.as_bytes()).unwrap();
    let s = imported.standard;
    assert_eq!(s.kind, ServiceKind::KtpElReplacement);
    assert_eq!(s.sk_number, None, "a dash is no SK number");
    let reqs: Vec<&str> = s.requirements.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(reqs, ["KTP-el yang rusak", "Kartu Keluarga"]);
    assert_eq!(s.completion.unwrap().time, CompletionTime::Minutes(0));
    assert!(imported.warnings.iter().any(|w| w.section == Some(Section::Requirements)));
}
