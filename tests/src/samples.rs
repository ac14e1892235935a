//! Sample records for the tests of every crate: one complete application document of a
//! foreign resident, as the office would write it.

use simpul_domain::applicant::{Applicant, MaritalStatus, Nationality, Passport, Permit, PermitKind};
use simpul_domain::application::Status;
use simpul_domain::attachment::ChecklistItem;
use simpul_domain::catalog::ServiceKind;
use simpul_domain::nik::Sex;
use time::macros::date;

use simpul_sync::records::*;

/// A foreign resident applicant.
pub fn applicant() -> Applicant {
    Applicant {
        nik: "5103025205900002".into(),
        name: "Jane Citizen".into(),
        sex: Sex::Female,
        birth_place: "Sydney".into(),
        birth_date: date!(1990 - 05 - 12),
        marital: MaritalStatus::Married,
        address: "Jl. Raya Mengwi 1".into(),
        region: "51.03.02".parse().unwrap(),
        kk_number: "5103021234567890".into(),
        nationality: Nationality::Foreign("AUS".into()),
        passport: Some(Passport { number: "PA1234567".into(), expires: date!(2031 - 01 - 01) }),
        permit: Some(Permit { kind: PermitKind::Itap, number: "2C11AB1234".into(), expires: date!(2030 - 06 - 30) }),
        phone: None,
        email: Some("jane@example.com".into()),
    }
}

/// A draft application of that applicant.
pub fn application() -> ApplicationDoc {
    ApplicationDoc {
        schema: APPLICATION_SCHEMA,
        number: "510302-20261121-0001".into(),
        office: "51.03.02".into(),
        service_id: "svc".into(),
        service_kind: ServiceKind::KtpElForeignNew.code().into(),
        service_title: "KTP-el OA".into(),
        status: Status::Draft.code().into(),
        created_at: "2026-11-21T09:00:00+08:00".into(),
        created_by: "staff-1".into(),
        ticket: None,
        applicant: ApplicantDoc::from(&applicant()),
        proxy: None,
        pickup_proxy: None,
        checklist: vec![ChecklistDoc::from(&ChecklistItem::new("Fotokopi KK"))],
        captures: vec![],
        steps: vec![],
        returns: vec![],
        identification: None,
        handover: None,
        resolutions: vec![],
    }
}

/// A copy of `saved` (an Automerge document as `save` writes it) damaged so that automerge's
/// decoder panics on it: one byte of the chunk's contents changed and the chunk's checksum made
/// to match again (plain damage is refused by the checksum before the decoder sees it). `None`
/// when no such single change makes it panic (a decoder that no longer panics).
pub fn panicking_document(saved: &[u8]) -> Option<Vec<u8>> {
    use sha2::{Digest, Sha256};
    // magic (4) | checksum (4) | chunk type (1) | length (LEB128) | contents
    let mut at = 9;
    while saved.get(at)? & 0x80 != 0 {
        at += 1;
    }
    let contents = at + 1;
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut found = None;
    'search: for i in contents..saved.len() {
        for flip in [0x01u8, 0x02, 0x10, 0x80, 0xFF] {
            let mut bytes = saved.to_vec();
            bytes[i] ^= flip;
            let checksum = Sha256::digest(&bytes[8..]);
            bytes[4..8].copy_from_slice(&checksum[..4]);
            let panicked = std::panic::catch_unwind(|| automerge::AutoCommit::load(&bytes)).is_err();
            if panicked {
                found = Some(bytes);
                break 'search;
            }
        }
    }
    std::panic::set_hook(hook);
    found
}
