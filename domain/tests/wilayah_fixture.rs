//! The region importer against the published Kemendagri list, and NIK checks against it.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use simpul_domain::nik::{NikError, Sex, validate};
use simpul_domain::wilayah::{RegionCode, RegionLevel, parse_region_list};
use time::macros::date;

fn fixture() -> String {
    let dir = std::env::var("SIMPUL_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"));
    std::fs::read_to_string(dir.join("wilayah/kode-wilayah-kecamatan.csv")).expect("fixture readable")
}

#[test]
fn reads_the_whole_national_list() {
    let regions = parse_region_list(&fixture(), &HashSet::new()).expect("list is valid");
    let count = |level| regions.iter().filter(|r| r.code.level() == level).count();
    assert_eq!(count(RegionLevel::Province), 38);
    assert_eq!(count(RegionLevel::Regency), 514);
    assert_eq!(count(RegionLevel::Kecamatan), 7285);
    let by_code: BTreeMap<RegionCode, String> = regions.into_iter().map(|r| (r.code, r.name)).collect();
    assert_eq!(by_code[&"51.03".parse().unwrap()], "Kabupaten Badung");
    assert_eq!(by_code[&"51.03.02".parse().unwrap()], "Mengwi");
    assert_eq!(by_code[&"96".parse().unwrap()], "Papua Barat Daya");

    // NIK checks against the real list.
    let today = date!(2026 - 11 - 21);
    let info = validate("5103024512880007", &by_code, today).unwrap();
    assert_eq!(info.sex, Sex::Female);
    assert_eq!(info.birth_date, date!(1988 - 12 - 05));
    assert_eq!(validate("5103991205900001", &by_code, today), Err(NikError::UnknownKecamatan("51.03.99".into())));
    assert_eq!(validate("5110011205900001", &by_code, today), Err(NikError::UnknownRegency("51.10".into())));
    assert_eq!(validate("2001011205900001", &by_code, today), Err(NikError::UnknownProvince("20".into())));
}
