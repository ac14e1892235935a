//! The applicant's forms to domain values and back: every field parsed and checked, each
//! problem named by its field with a stable code the page translates.

use simpul_app::error::{ApiError, Refusal};
use simpul_app::wire::{ApplicantForm, ProxyForm};
use simpul_domain::applicant::{
    Applicant, Field, FieldProblem, MaritalStatus, Nationality, Passport, Permit, PermitKind, PoaProblem, PoaScope,
    PowerOfAttorney, Problem,
};
use simpul_domain::nik::Sex;
use simpul_domain::wilayah::RegionCode;
use simpul_sync::records::{ApplicantDoc, date_text};
use time::Date;
use time::format_description::well_known::Iso8601;

use crate::office::applications::ProxyInput;

pub(super) fn poa_code(p: &PoaProblem) -> &'static str {
    match p {
        PoaProblem::NotYetValid(_) => "not_yet_valid",
        PoaProblem::Expired(_) => "expired",
        PoaProblem::OutOfScope => "out_of_scope",
        PoaProblem::OtherGrantor => "other_grantor",
        PoaProblem::OtherGrantee => "other_grantee",
        PoaProblem::Malformed => "malformed",
    }
}

pub(super) fn code_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

pub(super) fn field_problem(p: &FieldProblem) -> (String, String, String) {
    let detail = match &p.problem {
        Problem::TooLong(n) => n.to_string(),
        Problem::Nik(reason) | Problem::NikMismatch(reason) => reason.clone(),
        Problem::UnknownRegion(code) => code.clone(),
        Problem::Expired(d) => date_text(*d),
        Problem::PassportBeforeCard { passport, card } => {
            format!("{} < {}", date_text(*passport), date_text(*card))
        }
        _ => String::new(),
    };
    (code_of(&p.field), code_of(&p.problem), detail)
}

pub(super) fn problem(field: Field, problem: Problem) -> FieldProblem {
    FieldProblem { field, problem }
}

pub(super) fn parse_date(field: Field, s: &str, problems: &mut Vec<FieldProblem>) -> Option<Date> {
    let s = s.trim();
    if s.is_empty() {
        problems.push(problem(field, Problem::Missing));
        return None;
    }
    match Date::parse(s, &Iso8601::DATE) {
        Ok(d) => Some(d),
        Err(_) => {
            problems.push(problem(field, Problem::Missing));
            None
        }
    }
}

pub(super) fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The form as a domain applicant, or every problem that stops it from being one (the domain
/// checks the rest).
pub fn applicant_from_form(f: &ApplicantForm) -> Result<Applicant, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let sex = match f.sex.as_str() {
        "male" => Some(Sex::Male),
        "female" => Some(Sex::Female),
        _ => {
            problems.push(problem(Field::Sex, Problem::Missing));
            None
        }
    };
    let marital = match f.marital.as_str() {
        "single" => Some(MaritalStatus::Single),
        "married" => Some(MaritalStatus::Married),
        "divorced" => Some(MaritalStatus::Divorced),
        "widowed" => Some(MaritalStatus::Widowed),
        _ => {
            problems.push(problem(Field::Marital, Problem::Missing));
            None
        }
    };
    let birth_date = parse_date(Field::BirthDate, &f.birth_date, &mut problems);
    let region = match f.region.trim().parse::<RegionCode>() {
        Ok(r) => Some(r),
        Err(_) if f.region.trim().is_empty() => {
            problems.push(problem(Field::Region, Problem::Missing));
            None
        }
        Err(_) => {
            problems.push(problem(Field::Region, Problem::UnknownRegion(f.region.trim().to_string())));
            None
        }
    };
    let (nationality, passport, permit) = if f.foreign {
        let country = f.country.trim().to_uppercase();
        let passport = match (optional(&f.passport_number), optional(&f.passport_expires)) {
            (Some(number), Some(_)) => parse_date(Field::Passport, &f.passport_expires, &mut problems)
                .map(|expires| Passport { number, expires }),
            (None, None) => None,
            _ => {
                problems.push(problem(Field::Passport, Problem::Missing));
                None
            }
        };
        let permit = match (optional(&f.permit_number), optional(&f.permit_expires)) {
            (Some(number), Some(_)) => {
                let kind = if f.permit_kind == "kitap" { PermitKind::Kitap } else { PermitKind::Itap };
                parse_date(Field::Permit, &f.permit_expires, &mut problems).map(|expires| Permit {
                    kind,
                    number,
                    expires,
                })
            }
            (None, None) => None,
            _ => {
                problems.push(problem(Field::Permit, Problem::Missing));
                None
            }
        };
        (Nationality::Foreign(country), passport, permit)
    } else {
        (Nationality::Indonesian, None, None)
    };
    match (sex, marital, birth_date, region) {
        (Some(sex), Some(marital), Some(birth_date), Some(region)) if problems.is_empty() => Ok(Applicant {
            nik: f.nik.trim().to_string(),
            name: f.name.trim().to_string(),
            sex,
            birth_place: f.birth_place.trim().to_string(),
            birth_date,
            marital,
            address: f.address.trim().to_string(),
            region,
            kk_number: f.kk_number.trim().to_string(),
            nationality,
            passport,
            permit,
            phone: optional(&f.phone),
            email: optional(&f.email),
        }),
        _ => Err(problems),
    }
}

pub(super) fn form_from_doc(a: &ApplicantDoc) -> ApplicantForm {
    ApplicantForm {
        nik: a.nik.clone(),
        name: a.name.clone(),
        sex: a.sex.clone(),
        birth_place: a.birth_place.clone(),
        birth_date: a.birth_date.clone(),
        marital: a.marital.clone(),
        address: a.address.clone(),
        region: a.region.clone(),
        kk_number: a.kk_number.clone(),
        foreign: a.nationality != "IDN",
        country: if a.nationality == "IDN" { String::new() } else { a.nationality.clone() },
        passport_number: a.passport_number.clone().unwrap_or_default(),
        passport_expires: a.passport_expires.clone().unwrap_or_default(),
        permit_kind: a.permit_kind.clone().unwrap_or_default(),
        permit_number: a.permit_number.clone().unwrap_or_default(),
        permit_expires: a.permit_expires.clone().unwrap_or_default(),
        phone: a.phone.clone().unwrap_or_default(),
        email: a.email.clone().unwrap_or_default(),
    }
}

/// A power of attorney as the counter entered it, given by `grantor` (NIK, name).
pub(super) fn proxy_from_form(p: &ProxyForm, grantor: (&str, &str)) -> Result<ProxyInput, ApiError> {
    let date = |s: &str| {
        Date::parse(s.trim(), &Iso8601::DATE)
            .map_err(|_| ApiError::Refused(Refusal::PowerOfAttorney("malformed".into())))
    };
    let mut scope = Vec::new();
    if p.submit {
        scope.push(PoaScope::Submit);
    }
    if p.pickup {
        scope.push(PoaScope::Pickup);
    }
    Ok(ProxyInput {
        poa: PowerOfAttorney {
            grantor_nik: grantor.0.to_string(),
            grantor_name: grantor.1.to_string(),
            grantee_nik: p.nik.trim().to_string(),
            grantee_name: p.name.trim().to_string(),
            scope,
            valid_from: date(&p.valid_from)?,
            valid_until: date(&p.valid_until)?,
            reason: p.reason.trim().to_string(),
        },
        document: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ApplicantForm {
        ApplicantForm {
            nik: "5103021205900001".into(),
            name: "I Made Contoh".into(),
            sex: "male".into(),
            birth_place: "Badung".into(),
            birth_date: "1990-05-12".into(),
            marital: "married".into(),
            address: "Jl. Raya Mengwi 1".into(),
            region: "51.03.02".into(),
            kk_number: "5103021234567890".into(),
            ..ApplicantForm::default()
        }
    }

    #[test]
    fn a_form_round_trips_through_the_document() {
        let a = applicant_from_form(&form()).unwrap();
        assert_eq!(form_from_doc(&ApplicantDoc::from(&a)), form());
    }

    #[test]
    fn unreadable_fields_are_named() {
        let bad = ApplicantForm { birth_date: "12/05/1990".into(), sex: "x".into(), region: "Mengwi".into(), ..form() };
        let problems = applicant_from_form(&bad).unwrap_err();
        let fields: Vec<Field> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, vec![Field::Sex, Field::BirthDate, Field::Region]);
        let codes = field_problem(&problems[2]);
        assert_eq!((codes.0.as_str(), codes.1.as_str()), ("region", "unknown_region"));
    }

    #[test]
    fn a_foreigner_needs_both_parts_of_a_document() {
        let half = ApplicantForm { foreign: true, country: "aus".into(), passport_number: "X1".into(), ..form() };
        let problems = applicant_from_form(&half).unwrap_err();
        assert_eq!(problems[0].field, Field::Passport);
    }
}
