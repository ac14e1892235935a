//! Unit tests of the importer's steps (the published fixtures are read in `tests/`).

use super::*;

#[test]
fn markers() {
    assert_eq!(split_marker("1. Fotokopi KK"), Some((MarkerKind::NumberDot, 1, "Fotokopi KK")));
    assert_eq!(split_marker("12.Foo"), Some((MarkerKind::NumberDot, 12, "Foo")));
    assert_eq!(split_marker("3) Foo"), Some((MarkerKind::NumberParen, 3, "Foo")));
    assert_eq!(split_marker("b. Pengaduan online :"), Some((MarkerKind::LowerDot, 2, "Pengaduan online :")));
    assert_eq!(split_marker("- Facebook"), Some((MarkerKind::Bullet, 0, "Facebook")));
    assert_eq!(split_marker("10 Menit"), None);
    assert_eq!(split_marker("1.02 dan"), None);
    assert_eq!(split_marker("Jl. Majapahit"), None);
    assert_eq!(split_marker("-5 derajat"), None);
}

#[test]
fn inline_sub_steps() {
    let (head, parts) = split_inline(
        "Mengajukan permohonan (apabila daring) Mekanisme : a. OA mengisi F.1.02 b. OA melampirkan fotokopi KK c. OA menunjukkan KITAP",
    );
    assert_eq!(head, "Mengajukan permohonan (apabila daring) Mekanisme :");
    assert_eq!(parts, vec!["OA mengisi F.1.02", "OA melampirkan fotokopi KK", "OA menunjukkan KITAP"]);
    let (head, parts) = split_inline("Bawa berkas 1) KK 2) KTP");
    assert_eq!((head.as_str(), parts.len()), ("Bawa berkas", 2));
    // One marker alone is not a list; letters out of order are not either.
    assert_eq!(split_inline("Vitamin a. saja").1.len(), 0);
    assert_eq!(split_inline("x b. y a. z").1.len(), 0);
}

#[test]
fn markdown_cleaning() {
    assert_eq!(clean_markdown("<https://a.go.id>"), "https://a.go.id");
    assert_eq!(clean_markdown("Email: [x@y.id](mailto:x@y.id) atau"), "Email: x@y.id atau");
    assert_eq!(
        clean_markdown("[www.badungkab.go.id\\(LAPOR!-SP4N\\)](http://www.badungkab.go.id(LAPOR!-SP4N))"),
        "www.badungkab.go.id(LAPOR!-SP4N)"
    );
    assert_eq!(clean_markdown("**Persyaratan**"), "Persyaratan");
}

#[test]
fn phones_and_addresses() {
    assert_eq!(find_phones("Telp. (0361) 428597, 428510"), vec!["(0361) 428597", "428510"]);
    assert_eq!(find_phones("Whatsapp : 0822 8815 7965"), vec!["0822 8815 7965"]);
    assert_eq!(find_phones("SK 000.8.3.4/2072/Disdukcapil dan F1.02"), Vec::<String>::new());
    assert_eq!(find_emails("AMAIL (disdukcapil@badungkab.go.id)"), vec!["disdukcapil@badungkab.go.id"]);
}

#[test]
fn headings() {
    let line = |t: &str| Line { no: 1, text: t.into(), level: 0, hard_break: false };
    assert_eq!(heading_of(&line("Biaya / Tarif")), Some(Section::Fee));
    assert_eq!(heading_of(&line("SISTEM, MEKANISME, DAN PROSEDUR")), Some(Section::Procedure));
    assert_eq!(heading_of(&line("A. Persyaratan Pelayanan")), Some(Section::Requirements));
    assert_eq!(heading_of(&line("II. Waktu Penyelesaian")), Some(Section::CompletionTime));
    assert_eq!(heading_of(&line("1. Fotokopi KK")), None);
    assert_eq!(heading_of(&line("Pemohon membawa persyaratan")), None);
}
