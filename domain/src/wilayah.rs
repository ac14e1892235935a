//! Kemendagri region codes (kode wilayah) and the import of the published list.
//!
//! A code has the shape `xx.xx.xx.xxxx`: province, regency or city (01-69 regencies, 71-99
//! cities), kecamatan, village. The list changes by decree, so it is data to import, never code:
//! this module only knows the shape of a code and how to read a list.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How deep a code reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RegionLevel {
    /// Provinsi, e.g. `51`.
    Province,
    /// Kabupaten or kota, e.g. `51.03`.
    Regency,
    /// Kecamatan, e.g. `51.03.02`.
    Kecamatan,
    /// Kelurahan or desa, e.g. `51.03.02.2001`.
    Village,
}

/// Whether a second-level region is a kabupaten (01-69) or a kota (71-99).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegencyKind {
    /// Kabupaten (regency).
    Kabupaten,
    /// Kota (city).
    Kota,
}

/// A Kemendagri region code. Ordered so that a parent sorts before its children.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode {
    province: u8,
    regency: Option<u8>,
    kecamatan: Option<u8>,
    village: Option<u16>,
}

/// Why a text is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    /// Nothing was given.
    #[error("the region code is empty")]
    Empty,
    /// More than four dotted parts, or a part of the wrong width.
    #[error("'{0}' does not have the shape xx, xx.xx, xx.xx.xx or xx.xx.xx.xxxx")]
    Shape(String),
    /// A part holds something other than digits.
    #[error("'{0}' contains a character that is not a digit")]
    NotDigits(String),
    /// Province 00 or below 11 does not exist.
    #[error("province code {0:02} is not valid (11-99)")]
    Province(u8),
    /// Regency part outside 01-69 and 71-99.
    #[error("regency code {0:02} is not valid (01-69 for a kabupaten, 71-99 for a kota)")]
    Regency(u8),
    /// Kecamatan part 00.
    #[error("kecamatan code 00 is not valid")]
    Kecamatan,
    /// Village part 0000.
    #[error("village code 0000 is not valid")]
    Village,
}

impl RegionCode {
    /// A province code such as `51`.
    pub fn province(province: u8) -> Result<Self, RegionCodeError> {
        if !(11..=99).contains(&province) {
            return Err(RegionCodeError::Province(province));
        }
        Ok(Self { province, regency: None, kecamatan: None, village: None })
    }

    /// A regency or city code such as `51.03`.
    pub fn regency(province: u8, regency: u8) -> Result<Self, RegionCodeError> {
        let mut code = Self::province(province)?;
        if !(1..=69).contains(&regency) && !(71..=99).contains(&regency) {
            return Err(RegionCodeError::Regency(regency));
        }
        code.regency = Some(regency);
        Ok(code)
    }

    /// A kecamatan code such as `51.03.02`.
    pub fn kecamatan(province: u8, regency: u8, kecamatan: u8) -> Result<Self, RegionCodeError> {
        let mut code = Self::regency(province, regency)?;
        if kecamatan == 0 || kecamatan > 99 {
            return Err(RegionCodeError::Kecamatan);
        }
        code.kecamatan = Some(kecamatan);
        Ok(code)
    }

    /// How deep this code reaches.
    pub fn level(&self) -> RegionLevel {
        match (self.regency, self.kecamatan, self.village) {
            (None, _, _) => RegionLevel::Province,
            (Some(_), None, _) => RegionLevel::Regency,
            (Some(_), Some(_), None) => RegionLevel::Kecamatan,
            (Some(_), Some(_), Some(_)) => RegionLevel::Village,
        }
    }

    /// The province number (first two digits).
    pub fn province_number(&self) -> u8 {
        self.province
    }

    /// The code one level up, or `None` for a province.
    pub fn parent(&self) -> Option<RegionCode> {
        let mut parent = *self;
        if parent.village.take().is_some() {
            return Some(parent);
        }
        if parent.kecamatan.take().is_some() {
            return Some(parent);
        }
        if parent.regency.take().is_some() {
            return Some(parent);
        }
        None
    }

    /// This code and every ancestor, from the province down.
    pub fn lineage(&self) -> Vec<RegionCode> {
        let mut chain = vec![*self];
        while let Some(parent) = chain.last().and_then(RegionCode::parent) {
            chain.push(parent);
        }
        chain.reverse();
        chain
    }

    /// The ancestor at `level`, if this code reaches that deep.
    pub fn at_level(&self, level: RegionLevel) -> Option<RegionCode> {
        self.lineage().into_iter().find(|c| c.level() == level)
    }

    /// Kabupaten or kota, for codes that reach the second level.
    pub fn regency_kind(&self) -> Option<RegencyKind> {
        self.regency.map(|r| if r >= 71 { RegencyKind::Kota } else { RegencyKind::Kabupaten })
    }

    /// True when `self` is `other` or lies inside it.
    pub fn is_within(&self, other: &RegionCode) -> bool {
        self.lineage().contains(other)
    }

    /// The code without dots, as it appears at the start of a NIK (`510302`).
    pub fn compact(&self) -> String {
        self.to_string().replace('.', "")
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.province)?;
        if let Some(r) = self.regency {
            write!(f, ".{r:02}")?;
        }
        if let Some(k) = self.kecamatan {
            write!(f, ".{k:02}")?;
        }
        if let Some(v) = self.village {
            write!(f, ".{v:04}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({self})")
    }
}

fn digits(part: &str, width: usize, whole: &str) -> Result<u16, RegionCodeError> {
    if part.len() != width {
        return Err(RegionCodeError::Shape(whole.to_string()));
    }
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RegionCodeError::NotDigits(whole.to_string()));
    }
    part.parse::<u16>().map_err(|_| RegionCodeError::Shape(whole.to_string()))
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;

    /// Reads `51`, `51.03`, `51.03.02` or `51.03.02.2001`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(RegionCodeError::Empty);
        }
        let parts: Vec<&str> = s.split('.').collect();
        if parts.len() > 4 {
            return Err(RegionCodeError::Shape(s.to_string()));
        }
        let widths = [2, 2, 2, 4];
        let mut numbers = Vec::with_capacity(parts.len());
        for (part, width) in parts.iter().zip(widths) {
            numbers.push(digits(part, width, s)?);
        }
        // Each number fits its field: two-digit parts are below 100, the village below 10000.
        let mut code = RegionCode::province(numbers[0] as u8)?;
        if let Some(&r) = numbers.get(1) {
            code = RegionCode::regency(code.province, r as u8)?;
        }
        if let Some(&k) = numbers.get(2) {
            code = RegionCode::kecamatan(code.province, numbers[1] as u8, k as u8)?;
        }
        if let Some(&v) = numbers.get(3) {
            if v == 0 {
                return Err(RegionCodeError::Village);
            }
            code.village = Some(v);
        }
        Ok(code)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One named region from the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// Its code.
    pub code: RegionCode,
    /// Its name as published ("Kabupaten Badung", "Mengwi").
    pub name: String,
}

/// Something that knows which region codes exist.
///
/// Codes that a newer decree retired stay known: a NIK keeps the kecamatan where it was first
/// registered, even after that kecamatan was split or renamed.
pub trait RegionDirectory {
    /// True when the code is (or was) a region.
    fn contains(&self, code: &RegionCode) -> bool;
}

impl RegionDirectory for HashSet<RegionCode> {
    fn contains(&self, code: &RegionCode) -> bool {
        HashSet::contains(self, code)
    }
}

impl RegionDirectory for BTreeMap<RegionCode, String> {
    fn contains(&self, code: &RegionCode) -> bool {
        self.contains_key(code)
    }
}

impl<T: RegionDirectory + ?Sized> RegionDirectory for &T {
    fn contains(&self, code: &RegionCode) -> bool {
        (**self).contains(code)
    }
}

/// A problem in a region list, with the line it is on (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RegionListError {
    /// Line in the file, counting the header as line 1.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

/// Largest list accepted (the full national list down to kecamatan is about 8,000 lines; with
/// villages about 92,000).
pub const MAX_REGION_LIST_LINES: usize = 200_000;

/// Reads a region list in the published `kode,nama` CSV format.
///
/// Every row is checked: the code's shape, a non-empty name, no code twice, and a parent that
/// exists either earlier in the file or in `existing` (what the box already knows). All problems
/// are reported, up to 50, so a bad file can be fixed in one pass; nothing is returned unless the
/// whole file is good.
pub fn parse_region_list(text: &str, existing: &dyn RegionDirectory) -> Result<Vec<Region>, Vec<RegionListError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let push = |errors: &mut Vec<RegionListError>, line: usize, message: String| {
        if errors.len() < 50 {
            errors.push(RegionListError { line, message });
        }
    };
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut regions: Vec<Region> = Vec::new();
    let mut seen: HashSet<RegionCode> = HashSet::new();
    let mut header_seen = false;
    for (index, record) in reader.records().enumerate() {
        let line = record.as_ref().ok().and_then(|r| r.position()).map_or(index + 1, |p| p.line() as usize);
        if index >= MAX_REGION_LIST_LINES {
            push(&mut errors, line, format!("the list is longer than {MAX_REGION_LIST_LINES} lines"));
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                push(&mut errors, line, format!("unreadable CSV: {e}"));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        if !header_seen {
            header_seen = true;
            let fields: Vec<String> = record.iter().map(str::to_lowercase).collect();
            if fields.len() >= 2 && fields[0] == "kode" && fields[1] == "nama" {
                continue;
            }
            push(&mut errors, line, "the first line must be the header 'kode,nama'".to_string());
            break;
        }
        if record.len() != 2 {
            push(&mut errors, line, format!("expected 2 fields (kode,nama), found {}", record.len()));
            continue;
        }
        let code: RegionCode = match record[0].parse() {
            Ok(c) => c,
            Err(e) => {
                push(&mut errors, line, e.to_string());
                continue;
            }
        };
        let name = record[1].trim();
        if name.is_empty() {
            push(&mut errors, line, format!("region {code} has no name"));
            continue;
        }
        if name.chars().count() > 200 || name.chars().any(char::is_control) {
            push(&mut errors, line, format!("region {code} has an implausible name"));
            continue;
        }
        if !seen.insert(code) {
            push(&mut errors, line, format!("region {code} appears twice"));
            continue;
        }
        if let Some(parent) = code.parent()
            && !seen.contains(&parent)
            && !existing.contains(&parent)
        {
            push(&mut errors, line, format!("region {code} comes before (or without) its parent {parent}"));
            continue;
        }
        regions.push(Region { code, name: name.to_string() });
    }
    if !header_seen {
        push(&mut errors, 1, "the file is empty".to_string());
    } else if regions.is_empty() && errors.is_empty() {
        push(&mut errors, 1, "the file holds a header but no regions".to_string());
    }
    if errors.is_empty() { Ok(regions) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_every_level() {
        for s in ["51", "51.03", "51.03.02", "51.03.02.2001", "96.71.10"] {
            assert_eq!(code(s).to_string(), s);
        }
        assert_eq!(code("51.03.02").level(), RegionLevel::Kecamatan);
        assert_eq!(code("51.03.02").parent(), Some(code("51.03")));
        assert_eq!(code("51").parent(), None);
        assert_eq!(code("51.71").regency_kind(), Some(RegencyKind::Kota));
        assert_eq!(code("51.03").regency_kind(), Some(RegencyKind::Kabupaten));
        assert_eq!(code("51.03.02").compact(), "510302");
        assert!(code("51.03.02").is_within(&code("51.03")));
        assert!(!code("51.03.02").is_within(&code("51.71")));
        assert_eq!(code("51.03.02").at_level(RegionLevel::Regency), Some(code("51.03")));
    }

    #[test]
    fn rejects_bad_shapes_with_a_reason() {
        let cases: &[(&str, RegionCodeError)] = &[
            ("", RegionCodeError::Empty),
            ("5", RegionCodeError::Shape("5".into())),
            ("51.3", RegionCodeError::Shape("51.3".into())),
            ("5a", RegionCodeError::NotDigits("5a".into())),
            ("05", RegionCodeError::Province(5)),
            ("51.00", RegionCodeError::Regency(0)),
            ("51.70", RegionCodeError::Regency(70)),
            ("51.03.00", RegionCodeError::Kecamatan),
            ("51.03.02.0000", RegionCodeError::Village),
            ("51.03.02.2001.1", RegionCodeError::Shape("51.03.02.2001.1".into())),
        ];
        for (input, expected) in cases {
            assert_eq!(input.parse::<RegionCode>().unwrap_err(), *expected, "input {input:?}");
        }
    }

    #[test]
    fn reads_a_list_and_reports_every_problem() {
        let ok = "kode,nama\r\n51,Bali\r\n51.03,Kabupaten Badung\r\n51.03.02,Mengwi\r\n";
        let regions = parse_region_list(ok, &HashSet::new()).unwrap();
        assert_eq!(regions.len(), 3);
        assert_eq!(regions[2], Region { code: code("51.03.02"), name: "Mengwi".into() });

        let bad = "kode,nama\n51,Bali\n51.03.02,Mengwi\n51.7x,Kota\n51,Bali lagi\n52,\n";
        let errors = parse_region_list(bad, &HashSet::new()).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(errors[0].message.contains("parent 51.03"));

        // A parent the box already knows is enough.
        let known: HashSet<RegionCode> = [code("51"), code("51.03")].into_iter().collect();
        assert!(parse_region_list("kode,nama\n51.03.06,Kuta Utara\n", &known).is_ok());

        assert!(parse_region_list("", &HashSet::new()).is_err());
        assert!(parse_region_list("code;name\n51;Bali\n", &HashSet::new()).is_err());
        assert!(parse_region_list("kode,nama\n", &HashSet::new()).is_err());
    }
}
