//! The applicant as on form F-1.02 (the fields the counter services need), a power of attorney
//! (surat kuasa) for someone acting on their behalf, and every check that can be made offline.
//! Each problem names its field, so the form can show it next to the input.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::catalog::ServiceKind;
use crate::nik::{self, Sex};
use crate::wilayah::{RegionCode, RegionDirectory, RegionLevel};

/// Citizen or foreign resident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nationality {
    /// Warga Negara Indonesia.
    Indonesian,
    /// Warga Negara Asing, with the ICAO country code of the passport (e.g. "AUS").
    Foreign(String),
}

/// Marital status (status perkawinan), which opens the KTP-el to applicants under 17.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaritalStatus {
    /// Belum kawin.
    Single,
    /// Kawin.
    Married,
    /// Cerai hidup.
    Divorced,
    /// Cerai mati.
    Widowed,
}

/// The kind of stay permit a foreign resident holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermitKind {
    /// Kartu Izin Tinggal Tetap (permanent stay).
    Kitap,
    /// Izin Tinggal Tetap (the newer name of the same permit).
    Itap,
}

/// A passport (dokumen perjalanan).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passport {
    /// Number as printed.
    pub number: String,
    /// Expiry date.
    pub expires: Date,
}

/// A stay permit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permit {
    /// KITAP or ITAP.
    pub kind: PermitKind,
    /// Number as printed.
    pub number: String,
    /// Expiry date.
    pub expires: Date,
}

/// The applicant's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applicant {
    /// NIK.
    pub nik: String,
    /// Full name.
    pub name: String,
    /// Sex.
    pub sex: Sex,
    /// Place of birth.
    pub birth_place: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Marital status.
    pub marital: MaritalStatus,
    /// Street address (with RT/RW).
    pub address: String,
    /// Kelurahan/desa code (or the kecamatan when the village is not known).
    pub region: RegionCode,
    /// Family card (Kartu Keluarga) number.
    pub kk_number: String,
    /// Citizen or foreign resident.
    pub nationality: Nationality,
    /// Passport, for foreign residents.
    pub passport: Option<Passport>,
    /// Stay permit, for foreign residents.
    pub permit: Option<Permit>,
    /// Mobile number for notifications.
    pub phone: Option<String>,
    /// E-mail for notifications.
    pub email: Option<String>,
}

/// A field of the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// NIK.
    Nik,
    /// Name.
    Name,
    /// Sex.
    Sex,
    /// Place of birth.
    BirthPlace,
    /// Date of birth.
    BirthDate,
    /// Marital status.
    Marital,
    /// Address.
    Address,
    /// Region.
    Region,
    /// KK number.
    KkNumber,
    /// Nationality.
    Nationality,
    /// Passport.
    Passport,
    /// Permit.
    Permit,
    /// Phone.
    Phone,
    /// E-mail.
    Email,
}

/// One problem with the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field:?}: {problem}")]
pub struct FieldProblem {
    /// The field.
    pub field: Field,
    /// What is wrong.
    pub problem: Problem,
}

/// What can be wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Required and empty.
    #[error("required")]
    Missing,
    /// Too long for the form.
    #[error("too long (at most {0} characters)")]
    TooLong(usize),
    /// The NIK is not valid.
    #[error("invalid NIK: {0}")]
    Nik(String),
    /// The NIK says another birth date or sex than entered.
    #[error("does not match the NIK ({0})")]
    NikMismatch(String),
    /// A date in the future where the past is meant.
    #[error("in the future")]
    Future,
    /// Implausibly old.
    #[error("more than 130 years ago")]
    TooOld,
    /// Under 17 and never married: no KTP-el yet.
    #[error("under 17 and never married")]
    TooYoung,
    /// The KK number is not 16 digits with a known region.
    #[error("a KK number is 16 digits starting with a known kecamatan code")]
    KkNumber,
    /// The region code does not exist.
    #[error("unknown region {0}")]
    UnknownRegion(String),
    /// Not a kecamatan or village code.
    #[error("a kecamatan or village code is needed")]
    RegionLevel,
    /// The document has expired.
    #[error("expired on {0}")]
    Expired(Date),
    /// The passport runs out before the card would.
    #[error("expires on {passport}, before the card ({card})")]
    PassportBeforeCard {
        /// Passport expiry.
        passport: Date,
        /// Card expiry.
        card: Date,
    },
    /// A foreign resident needs this document.
    #[error("required for a foreign resident")]
    RequiredForForeigner,
    /// A citizen does not have this document.
    #[error("only for foreign residents")]
    OnlyForForeigner,
    /// Not an ICAO country code.
    #[error("not a three-letter country code")]
    CountryCode,
    /// Not a usable phone number.
    #[error("not a mobile number (08... or +62...)")]
    Phone,
    /// Not an e-mail address.
    #[error("not an e-mail address")]
    Email,
}

fn problem(field: Field, problem: Problem) -> FieldProblem {
    FieldProblem { field, problem }
}

/// The date the applicant turns `years` old (29 February birthdays count from 1 March).
fn anniversary(birth: Date, years: i32) -> Date {
    Date::from_calendar_date(birth.year() + years, birth.month(), birth.day())
        .unwrap_or_else(|_| Date::from_calendar_date(birth.year() + years, time::Month::March, 1).expect("valid"))
}

/// When a KTP-el issued `today` would expire: never for a citizen (the KTP-el is valid for
/// life), with the stay permit for a foreign resident.
pub fn card_expiry(applicant: &Applicant) -> Option<Date> {
    match applicant.nationality {
        Nationality::Indonesian => None,
        Nationality::Foreign(_) => applicant.permit.as_ref().map(|p| p.expires),
    }
}

/// The key under which two records name the same passport: the issuing country and the number
/// as letters and digits only, upper case (staff type "pa 123-4567" as often as "PA1234567").
/// None for a citizen, or when either part is empty.
pub fn passport_key(country: &str, number: &str) -> Option<String> {
    let clean = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    let (country, number) = (clean(country), clean(number));
    if country.is_empty() || country == "IDN" || number.is_empty() {
        return None;
    }
    Some(format!("{country}:{number}"))
}

impl Applicant {
    /// See [`passport_key`].
    pub fn passport_key(&self) -> Option<String> {
        match (&self.nationality, &self.passport) {
            (Nationality::Foreign(country), Some(p)) => passport_key(country, &p.number),
            _ => None,
        }
    }
}

/// Checks an applicant for a service of `kind` on `today`. Returns every problem found.
pub fn check(kind: ServiceKind, a: &Applicant, regions: &dyn RegionDirectory, today: Date) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let mut text = |field: Field, value: &str, max: usize, required: bool| {
        let value = value.trim();
        if required && value.is_empty() {
            problems.push(problem(field, Problem::Missing));
        } else if value.chars().count() > max {
            problems.push(problem(field, Problem::TooLong(max)));
        }
    };
    text(Field::Name, &a.name, 120, true);
    text(Field::BirthPlace, &a.birth_place, 80, true);
    text(Field::Address, &a.address, 200, true);

    match nik::validate(&a.nik, regions, today) {
        Err(e) => problems.push(problem(Field::Nik, Problem::Nik(e.to_string()))),
        Ok(info) => {
            if info.birth_date != a.birth_date {
                problems.push(problem(Field::BirthDate, Problem::NikMismatch(info.birth_date.to_string())));
            }
            if info.sex != a.sex {
                let sex = match info.sex {
                    Sex::Male => "laki-laki",
                    Sex::Female => "perempuan",
                };
                problems.push(problem(Field::Sex, Problem::NikMismatch(sex.to_string())));
            }
        }
    }
    if a.birth_date > today {
        problems.push(problem(Field::BirthDate, Problem::Future));
    } else if a.birth_date < anniversary(today, -130) {
        problems.push(problem(Field::BirthDate, Problem::TooOld));
    }
    let ktp = matches!(
        kind,
        ServiceKind::KtpElForeignNew
            | ServiceKind::KtpElNew
            | ServiceKind::KtpElReissue
            | ServiceKind::KtpElReplacement
    );
    if ktp && a.birth_date <= today && anniversary(a.birth_date, 17) > today && a.marital == MaritalStatus::Single {
        problems.push(problem(Field::Marital, Problem::TooYoung));
    }

    let kk_ok = a.kk_number.len() == 16
        && a.kk_number.bytes().all(|b| b.is_ascii_digit())
        && format!("{}.{}.{}", &a.kk_number[..2], &a.kk_number[2..4], &a.kk_number[4..6])
            .parse::<RegionCode>()
            .is_ok_and(|c| regions.contains(&c));
    if !kk_ok {
        problems.push(problem(Field::KkNumber, Problem::KkNumber));
    }
    if !matches!(a.region.level(), RegionLevel::Kecamatan | RegionLevel::Village) {
        problems.push(problem(Field::Region, Problem::RegionLevel));
    } else if let Some(kecamatan) = a.region.at_level(RegionLevel::Kecamatan)
        && !regions.contains(&kecamatan)
    {
        problems.push(problem(Field::Region, Problem::UnknownRegion(kecamatan.to_string())));
    }

    match &a.nationality {
        Nationality::Indonesian => {
            if kind == ServiceKind::KtpElForeignNew {
                problems.push(problem(Field::Nationality, Problem::RequiredForForeigner));
            }
            if a.permit.is_some() {
                problems.push(problem(Field::Permit, Problem::OnlyForForeigner));
            }
        }
        Nationality::Foreign(country) => {
            if country.len() != 3 || !country.bytes().all(|b| b.is_ascii_uppercase()) || country == "IDN" {
                problems.push(problem(Field::Nationality, Problem::CountryCode));
            }
            match &a.permit {
                None => problems.push(problem(Field::Permit, Problem::RequiredForForeigner)),
                Some(p) if p.number.trim().is_empty() => problems.push(problem(Field::Permit, Problem::Missing)),
                Some(p) if p.expires < today => problems.push(problem(Field::Permit, Problem::Expired(p.expires))),
                Some(_) => {}
            }
            match &a.passport {
                None => problems.push(problem(Field::Passport, Problem::RequiredForForeigner)),
                Some(p) if p.number.trim().is_empty() => problems.push(problem(Field::Passport, Problem::Missing)),
                Some(p) if p.expires < today => problems.push(problem(Field::Passport, Problem::Expired(p.expires))),
                Some(p) => {
                    if let Some(card) = card_expiry(a).filter(|card| p.expires < *card) {
                        problems
                            .push(problem(Field::Passport, Problem::PassportBeforeCard { passport: p.expires, card }));
                    }
                }
            }
        }
    }

    if let Some(phone) = a.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        let digits: String = phone.chars().filter(|c| !matches!(c, ' ' | '-' | '.')).collect();
        let national = digits.strip_prefix("+62").map(|d| format!("0{d}")).unwrap_or(digits);
        if !(national.starts_with("08")
            && (10..=14).contains(&national.len())
            && national.bytes().all(|b| b.is_ascii_digit()))
        {
            problems.push(problem(Field::Phone, Problem::Phone));
        }
    }
    if let Some(email) = a.email.as_deref().filter(|e| !e.trim().is_empty()) {
        let ok = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !local.contains(char::is_whitespace)
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            });
        if !ok {
            problems.push(problem(Field::Email, Problem::Email));
        }
    }
    problems
}

/// What a power of attorney allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoaScope {
    /// Submitting the application.
    Submit,
    /// Picking up the product.
    Pickup,
}

/// A power of attorney (surat kuasa): someone acts for the applicant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerOfAttorney {
    /// The applicant giving the power (pemberi kuasa).
    pub grantor_nik: String,
    /// Grantor's name.
    pub grantor_name: String,
    /// The person receiving it (penerima kuasa).
    pub grantee_nik: String,
    /// Grantee's name.
    pub grantee_name: String,
    /// What it allows.
    pub scope: Vec<PoaScope>,
    /// First day it holds.
    pub valid_from: Date,
    /// Last day it holds.
    pub valid_until: Date,
    /// Why the applicant cannot come (uzur, sakit, ...), as written.
    pub reason: String,
}

/// Why a power of attorney does not cover an act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum PoaProblem {
    /// Not yet valid.
    #[error("valid only from {0}")]
    NotYetValid(Date),
    /// No longer valid.
    #[error("expired on {0}")]
    Expired(Date),
    /// Does not include this act.
    #[error("does not cover this act")]
    OutOfScope,
    /// Made out for another applicant.
    #[error("given by someone else")]
    OtherGrantor,
    /// The person present is not the grantee.
    #[error("the person present is not the one named")]
    OtherGrantee,
    /// Ends before it starts, or a party is missing.
    #[error("incomplete or inconsistent")]
    Malformed,
}

impl PowerOfAttorney {
    /// Checks that it lets `present_nik` do `act` for `applicant_nik` on `on`.
    pub fn covers(&self, act: PoaScope, applicant_nik: &str, present_nik: &str, on: Date) -> Result<(), PoaProblem> {
        if self.valid_until < self.valid_from
            || self.grantee_nik.trim().is_empty()
            || self.grantor_nik.trim().is_empty()
            || self.grantee_nik == self.grantor_nik
        {
            return Err(PoaProblem::Malformed);
        }
        if self.grantor_nik != applicant_nik {
            return Err(PoaProblem::OtherGrantor);
        }
        if self.grantee_nik != present_nik {
            return Err(PoaProblem::OtherGrantee);
        }
        if on < self.valid_from {
            return Err(PoaProblem::NotYetValid(self.valid_from));
        }
        if on > self.valid_until {
            return Err(PoaProblem::Expired(self.valid_until));
        }
        if !self.scope.contains(&act) {
            return Err(PoaProblem::OutOfScope);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_passport_typed_two_ways_is_one_key_and_citizens_have_none() {
        assert_eq!(passport_key("aus", " pa 123-4567 "), Some("AUS:PA1234567".into()));
        assert_eq!(passport_key("AUS", "PA1234567"), passport_key("Aus", "pa1234567"));
        assert_ne!(passport_key("AUS", "PA1234567"), passport_key("NZL", "PA1234567"));
        assert_eq!(passport_key("IDN", "B1234567"), None);
        assert_eq!(passport_key("AUS", " - "), None);
        assert_eq!(passport_key("", "PA1234567"), None);
    }

    use std::collections::HashSet;

    use time::macros::date;

    use super::*;

    const TODAY: Date = date!(2026 - 11 - 21);

    fn regions() -> HashSet<RegionCode> {
        ["51", "51.03", "51.03.02", "51.03.02.2001"].iter().map(|s| s.parse().unwrap()).collect()
    }

    fn citizen() -> Applicant {
        Applicant {
            nik: "5103021205900001".into(),
            name: "I Made Contoh".into(),
            sex: Sex::Male,
            birth_place: "Badung".into(),
            birth_date: date!(1990 - 05 - 12),
            marital: MaritalStatus::Married,
            address: "Jl. Raya Mengwi No. 1, RT 001/RW 002".into(),
            region: "51.03.02.2001".parse().unwrap(),
            kk_number: "5103021234567890".into(),
            nationality: Nationality::Indonesian,
            passport: None,
            permit: None,
            phone: Some("0812-3456-7890".into()),
            email: Some("made@example.id".into()),
        }
    }

    fn foreigner() -> Applicant {
        Applicant {
            nik: "5103025205900002".into(),
            name: "Jane Citizen".into(),
            sex: Sex::Female,
            birth_date: date!(1990 - 05 - 12),
            nationality: Nationality::Foreign("AUS".into()),
            passport: Some(Passport { number: "PA1234567".into(), expires: date!(2031 - 01 - 01) }),
            permit: Some(Permit {
                kind: PermitKind::Itap,
                number: "2C11AB1234".into(),
                expires: date!(2030 - 06 - 30),
            }),
            ..citizen()
        }
    }

    fn fields(kind: ServiceKind, a: &Applicant) -> Vec<(Field, Problem)> {
        check(kind, a, &regions(), TODAY).into_iter().map(|p| (p.field, p.problem)).collect()
    }

    #[test]
    fn valid_applicants_pass() {
        assert_eq!(fields(ServiceKind::KtpElReissue, &citizen()), vec![]);
        assert_eq!(fields(ServiceKind::KtpElForeignNew, &foreigner()), vec![]);
        assert_eq!(card_expiry(&foreigner()), Some(date!(2030 - 06 - 30)));
        assert_eq!(card_expiry(&citizen()), None);
    }

    #[test]
    fn each_problem_is_named() {
        let mut a = citizen();
        a.birth_date = date!(2027 - 01 - 01);
        let got = fields(ServiceKind::Legalisation, &a);
        assert!(got.contains(&(Field::BirthDate, Problem::Future)), "{got:?}");
        assert!(got.iter().any(|(f, p)| *f == Field::BirthDate && matches!(p, Problem::NikMismatch(_))));

        let mut a = citizen();
        a.sex = Sex::Female;
        a.nik = "51030212059000x1".into();
        a.kk_number = "123".into();
        a.phone = Some("12345".into());
        a.email = Some("not-an-email".into());
        a.name = " ".into();
        let got = fields(ServiceKind::Legalisation, &a);
        for f in [Field::Nik, Field::KkNumber, Field::Phone, Field::Email, Field::Name] {
            assert!(got.iter().any(|(g, _)| *g == f), "{f:?} in {got:?}");
        }

        let mut young = citizen();
        young.nik = "5103021205120001".into();
        young.birth_date = date!(2012 - 05 - 12);
        young.marital = MaritalStatus::Single;
        assert_eq!(fields(ServiceKind::KtpElNew, &young), vec![(Field::Marital, Problem::TooYoung)]);
        young.marital = MaritalStatus::Married;
        assert_eq!(fields(ServiceKind::KtpElNew, &young), vec![]);
    }

    #[test]
    fn foreign_residents_need_valid_documents() {
        let mut a = foreigner();
        a.permit.as_mut().unwrap().expires = date!(2026 - 11 - 20);
        assert!(
            fields(ServiceKind::KtpElForeignNew, &a)
                .contains(&(Field::Permit, Problem::Expired(date!(2026 - 11 - 20))))
        );

        let mut a = foreigner();
        a.passport.as_mut().unwrap().expires = date!(2029 - 01 - 01);
        assert_eq!(
            fields(ServiceKind::KtpElForeignNew, &a),
            vec![(
                Field::Passport,
                Problem::PassportBeforeCard { passport: date!(2029 - 01 - 01), card: date!(2030 - 06 - 30) }
            )]
        );

        let mut a = foreigner();
        a.permit = None;
        a.nationality = Nationality::Foreign("id".into());
        let got = fields(ServiceKind::KtpElForeignNew, &a);
        assert!(got.contains(&(Field::Permit, Problem::RequiredForForeigner)));
        assert!(got.contains(&(Field::Nationality, Problem::CountryCode)));

        assert!(
            fields(ServiceKind::KtpElForeignNew, &citizen())
                .contains(&(Field::Nationality, Problem::RequiredForForeigner))
        );
    }

    #[test]
    fn powers_of_attorney() {
        let poa = PowerOfAttorney {
            grantor_nik: "5103021205900001".into(),
            grantor_name: "I Made Contoh".into(),
            grantee_nik: "5103025205900002".into(),
            grantee_name: "Ni Luh Contoh".into(),
            scope: vec![PoaScope::Pickup],
            valid_from: date!(2026 - 11 - 01),
            valid_until: date!(2026 - 11 - 30),
            reason: "sakit".into(),
        };
        let (a, g) = ("5103021205900001", "5103025205900002");
        assert_eq!(poa.covers(PoaScope::Pickup, a, g, TODAY), Ok(()));
        assert_eq!(poa.covers(PoaScope::Submit, a, g, TODAY), Err(PoaProblem::OutOfScope));
        assert_eq!(
            poa.covers(PoaScope::Pickup, a, g, date!(2026 - 12 - 01)),
            Err(PoaProblem::Expired(date!(2026 - 11 - 30)))
        );
        assert_eq!(
            poa.covers(PoaScope::Pickup, a, g, date!(2026 - 10 - 31)),
            Err(PoaProblem::NotYetValid(date!(2026 - 11 - 01)))
        );
        assert_eq!(poa.covers(PoaScope::Pickup, "5103021205900009", g, TODAY), Err(PoaProblem::OtherGrantor));
        assert_eq!(poa.covers(PoaScope::Pickup, a, a, TODAY), Err(PoaProblem::OtherGrantee));
    }
}
