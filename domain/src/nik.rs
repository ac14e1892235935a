//! The NIK (Nomor Induk Kependudukan): 16 digits that encode where a person was first
//! registered, their birth date and sex, and a serial.
//!
//! Digits 1-2 province, 3-4 regency or city, 5-6 kecamatan (Kemendagri codes), 7-12 the birth
//! date as DDMMYY with 40 added to the day for women, 13-16 a serial from 0001. There is no check
//! digit, so the checks here are what can be known offline: shape, known regions, a real date.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, Month};

use crate::wilayah::{RegionCode, RegionDirectory};

/// Sex as encoded in a NIK (jenis kelamin).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    /// Laki-laki.
    Male,
    /// Perempuan: the birth day is stored plus 40.
    Female,
}

/// A NIK that passed every offline check.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nik(String);

impl Nik {
    /// The 16 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The kecamatan where the person was first registered.
    pub fn kecamatan(&self) -> RegionCode {
        let d = self.0.as_bytes();
        let two = |i: usize| (d[i] - b'0') * 10 + (d[i + 1] - b'0');
        // Validated at construction: the code is well-formed.
        RegionCode::kecamatan(two(0), two(2), two(4)).expect("validated NIK region")
    }

    /// The last four digits as a number (1..=9999).
    pub fn serial(&self) -> u16 {
        self.0[12..].parse().expect("validated NIK serial")
    }

    /// The NIK with all but the region and the last two digits hidden, for screens and logs
    /// that must not show personal data in full: `510302********01`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print a full NIK through Debug: it ends up in logs.
        write!(f, "Nik({})", self.masked())
    }
}

impl From<Nik> for String {
    fn from(nik: Nik) -> String {
        nik.0
    }
}

impl TryFrom<String> for Nik {
    type Error = NikError;
    /// Checks the shape only (digits, length, region code format, date, serial). Use
    /// [`validate`] to also check the regions against a directory.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        check_shape(&value).map(|_| Nik(value))
    }
}

/// What a valid NIK says about its holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NikInfo {
    /// The NIK itself.
    pub nik: Nik,
    /// Kecamatan of first registration.
    pub kecamatan: RegionCode,
    /// Birth date, with the century chosen so that it is not in the future.
    pub birth_date: Date,
    /// Sex from the day field.
    pub sex: Sex,
    /// Serial (0001-9999).
    pub serial: u16,
}

/// Why a NIK was refused. Each variant is one precise reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NikError {
    /// Nothing was entered.
    #[error("the NIK is empty")]
    Empty,
    /// A character that is not 0-9, at a 1-based position.
    #[error("character {position} ('{found}') is not a digit")]
    NotDigit {
        /// 1-based position in the input.
        position: usize,
        /// The character found there.
        found: char,
    },
    /// Not 16 digits.
    #[error("a NIK has 16 digits, this one has {found}")]
    Length {
        /// How many digits were given.
        found: usize,
    },
    /// Digits 1-2 are not a known province.
    #[error("province code {0} (digits 1-2) is not known")]
    UnknownProvince(String),
    /// Digits 3-4 are not a known regency or city of that province.
    #[error("regency/city code {0} (digits 1-4) is not known")]
    UnknownRegency(String),
    /// Digits 5-6 are not a known kecamatan of that regency.
    #[error("kecamatan code {0} (digits 1-6) is not known")]
    UnknownKecamatan(String),
    /// Digits 7-8 are neither 01-31 (men) nor 41-71 (women).
    #[error("birth day {0:02} (digits 7-8) is neither 01-31 nor 41-71")]
    BirthDay(u8),
    /// Digits 9-10 are not 01-12.
    #[error("birth month {0:02} (digits 9-10) is not 01-12")]
    BirthMonth(u8),
    /// Day and month exist but not together in that year (31 April, 29 February 2023).
    #[error("{day:02}-{month:02}-{year} (digits 7-12) is not a date")]
    BirthDate {
        /// Day of month (women's +40 removed).
        day: u8,
        /// Month.
        month: u8,
        /// Four-digit year as resolved.
        year: i32,
    },
    /// Digits 13-16 are 0000; serials start at 0001.
    #[error("serial 0000 (digits 13-16) is not issued; serials start at 0001")]
    SerialZero,
}

struct Shape {
    province: u8,
    regency: u8,
    kecamatan: u8,
    day: u8,
    month: u8,
    yy: u8,
    serial: u16,
}

fn check_shape(input: &str) -> Result<Shape, NikError> {
    if input.is_empty() {
        return Err(NikError::Empty);
    }
    if let Some((index, found)) = input.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(NikError::NotDigit { position: index + 1, found });
    }
    if input.len() != 16 {
        return Err(NikError::Length { found: input.len() });
    }
    let d = input.as_bytes();
    let two = |i: usize| (d[i] - b'0') * 10 + (d[i + 1] - b'0');
    let serial = input[12..].parse::<u16>().map_err(|_| NikError::SerialZero)?;
    let shape =
        Shape { province: two(0), regency: two(2), kecamatan: two(4), day: two(6), month: two(8), yy: two(10), serial };
    if RegionCode::province(shape.province).is_err() {
        return Err(NikError::UnknownProvince(input[..2].to_string()));
    }
    if RegionCode::regency(shape.province, shape.regency).is_err() {
        return Err(NikError::UnknownRegency(format!("{}.{}", &input[..2], &input[2..4])));
    }
    if RegionCode::kecamatan(shape.province, shape.regency, shape.kecamatan).is_err() {
        return Err(NikError::UnknownKecamatan(format!("{}.{}.{}", &input[..2], &input[2..4], &input[4..6])));
    }
    let day = match shape.day {
        1..=31 => shape.day,
        41..=71 => shape.day - 40,
        other => return Err(NikError::BirthDay(other)),
    };
    if !(1..=12).contains(&shape.month) {
        return Err(NikError::BirthMonth(shape.month));
    }
    if shape.serial == 0 {
        return Err(NikError::SerialZero);
    }
    // Day 29-31 may or may not exist depending on month and year; checked in `birth_date`.
    debug_assert!((1..=31).contains(&day));
    Ok(shape)
}

/// Resolves the two-digit year: the latest century that does not put the birth in the future.
fn birth_date(shape: &Shape, today: Date) -> Result<Date, NikError> {
    let day = if shape.day > 40 { shape.day - 40 } else { shape.day };
    let month = Month::try_from(shape.month).map_err(|_| NikError::BirthMonth(shape.month))?;
    let this_century = (today.year() / 100) * 100;
    let mut year = this_century + i32::from(shape.yy);
    // A date later than today belongs to the previous century. Compare day-of-year loosely by
    // (month, day) so that an impossible date (31 April) still resolves a year to report.
    if (year, shape.month, day) > (today.year(), u8::from(today.month()), today.day()) {
        year -= 100;
    }
    Date::from_calendar_date(year, month, day).map_err(|_| NikError::BirthDate { day, month: shape.month, year })
}

/// Checks a NIK fully: shape, the three region levels against `regions`, the birth date
/// (resolved against `today`), the serial. Leading and trailing whitespace is ignored.
pub fn validate(input: &str, regions: &dyn RegionDirectory, today: Date) -> Result<NikInfo, NikError> {
    let input = input.trim();
    let shape = check_shape(input)?;
    let province = RegionCode::province(shape.province).map_err(|_| NikError::UnknownProvince(input[..2].into()))?;
    if !regions.contains(&province) {
        return Err(NikError::UnknownProvince(input[..2].to_string()));
    }
    let regency = RegionCode::regency(shape.province, shape.regency)
        .map_err(|_| NikError::UnknownRegency(format!("{}.{}", &input[..2], &input[2..4])))?;
    if !regions.contains(&regency) {
        return Err(NikError::UnknownRegency(regency.to_string()));
    }
    let kecamatan = RegionCode::kecamatan(shape.province, shape.regency, shape.kecamatan)
        .map_err(|_| NikError::UnknownKecamatan(format!("{regency}.{}", &input[4..6])))?;
    if !regions.contains(&kecamatan) {
        return Err(NikError::UnknownKecamatan(kecamatan.to_string()));
    }
    let birth_date = birth_date(&shape, today)?;
    let sex = if shape.day > 40 { Sex::Female } else { Sex::Male };
    Ok(NikInfo { nik: Nik(input.to_string()), kecamatan, birth_date, sex, serial: shape.serial })
}

/// Builds the NIK a person with these facts would get (used by tests and the demo data).
pub fn compose(kecamatan: RegionCode, birth_date: Date, sex: Sex, serial: u16) -> Option<String> {
    if kecamatan.level() != crate::wilayah::RegionLevel::Kecamatan || serial == 0 || serial > 9999 {
        return None;
    }
    let day = birth_date.day() + if sex == Sex::Female { 40 } else { 0 };
    Some(format!(
        "{}{:02}{:02}{:02}{:04}",
        kecamatan.compact(),
        day,
        u8::from(birth_date.month()),
        birth_date.year().rem_euclid(100),
        serial
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 21);

    fn regions() -> HashSet<RegionCode> {
        ["51", "51.03", "51.03.02", "51.03.06", "51.71", "51.71.01", "11", "11.01", "11.01.01"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect()
    }

    fn check(input: &str, expected: Result<(Date, Sex), NikError>) {
        let got = validate(input, &regions(), TODAY).map(|i| (i.birth_date, i.sex));
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn table_of_cases() {
        use NikError::*;
        // Valid: man born 12 May 1990; woman born 12 May 1990 (day 52); born 2005.
        check("5103021205900001", Ok((date!(1990 - 05 - 12), Sex::Male)));
        check("5103025205900002", Ok((date!(1990 - 05 - 12), Sex::Female)));
        check("5171010101050003", Ok((date!(2005 - 01 - 01), Sex::Male)));
        check(" 5103021205900001 ", Ok((date!(1990 - 05 - 12), Sex::Male)));
        // Born 29 Feb 2000 is a date; the century is 2000 because that is not in the future.
        check("5103022902000001", Ok((date!(2000 - 02 - 29), Sex::Male)));
        // Day 21-11-26 is today: still this century. 22-11-26 would be future: 1926.
        check("5103022111260001", Ok((date!(2026 - 11 - 21), Sex::Male)));
        check("5103022211260001", Ok((date!(1926 - 11 - 22), Sex::Male)));
        check("", Err(Empty));
        check("51030212059000", Err(Length { found: 14 }));
        check("51030212059000011", Err(Length { found: 17 }));
        check("5103021205900O01", Err(NotDigit { position: 14, found: 'O' }));
        check("5103-02120590001", Err(NotDigit { position: 5, found: '-' }));
        check("5203021205900001", Err(UnknownProvince("52".into())));
        check("0003021205900001", Err(UnknownProvince("00".into())));
        check("5104021205900001", Err(UnknownRegency("51.04".into())));
        check("5100021205900001", Err(UnknownRegency("51.00".into())));
        check("5103031205900001", Err(UnknownKecamatan("51.03.03".into())));
        check("5103001205900001", Err(UnknownKecamatan("51.03.00".into())));
        check("5103020005900001", Err(BirthDay(0)));
        check("5103023505900001", Err(BirthDay(35)));
        check("5103027205900001", Err(BirthDay(72)));
        check("5103021213900001", Err(BirthMonth(13)));
        check("5103021200900001", Err(BirthMonth(0)));
        check("5103023104900001", Err(BirthDate { day: 31, month: 4, year: 1990 }));
        check("5103026904900001", Ok((date!(1990 - 04 - 29), Sex::Female)));
        check("5103027104900001", Err(BirthDate { day: 31, month: 4, year: 1990 }));
        check("5103022902230001", Err(BirthDate { day: 29, month: 2, year: 2023 }));
        check("5103021205900000", Err(SerialZero));
    }

    #[test]
    fn masked_hides_the_personal_digits() {
        let info = validate("5103021205900001", &regions(), TODAY).unwrap();
        assert_eq!(info.nik.masked(), "510302********01");
        assert_eq!(format!("{:?}", info.nik), "Nik(510302********01)");
        assert_eq!(info.kecamatan.to_string(), "51.03.02");
        assert_eq!(info.serial, 1);
    }

    fn any_kecamatan() -> impl Strategy<Value = RegionCode> {
        prop::sample::select(vec!["51.03.02", "51.03.06", "51.71.01", "11.01.01"])
            .prop_map(|s| s.parse::<RegionCode>().unwrap())
    }

    proptest! {
        #[test]
        fn composed_niks_validate_back_to_their_facts(
            kecamatan in any_kecamatan(),
            days in 0i64..(365 * 99),
            female in any::<bool>(),
            serial in 1u16..=9999,
        ) {
            let birth = TODAY - time::Duration::days(days);
            let sex = if female { Sex::Female } else { Sex::Male };
            let nik = compose(kecamatan, birth, sex, serial).unwrap();
            let info = validate(&nik, &regions(), TODAY).unwrap();
            prop_assert_eq!(info.birth_date, birth);
            prop_assert_eq!(info.sex, sex);
            prop_assert_eq!(info.kecamatan, kecamatan);
            prop_assert_eq!(info.serial, serial);
        }

        #[test]
        fn wrong_lengths_are_refused_with_the_length(digits in "[0-9]{0,40}") {
            prop_assume!(digits.len() != 16);
            let result = validate(&digits, &regions(), TODAY);
            if digits.is_empty() {
                prop_assert_eq!(result, Err(NikError::Empty));
            } else {
                prop_assert_eq!(result, Err(NikError::Length { found: digits.len() }));
            }
        }

        #[test]
        fn any_text_is_answered_without_panic(input in "\\PC{0,24}") {
            let _ = validate(&input, &regions(), TODAY);
        }

        #[test]
        fn a_non_digit_is_reported_where_it_is(pos in 0usize..16, c in "[^0-9\\s]") {
            let mut chars: Vec<char> = "5103021205900001".chars().collect();
            let c = c.chars().next().unwrap();
            chars[pos] = c;
            let input: String = chars.into_iter().collect();
            prop_assert_eq!(
                validate(&input, &regions(), TODAY),
                Err(NikError::NotDigit { position: pos + 1, found: c })
            );
        }
    }
}
