//! Application use-cases on a real SQLite file with the demo catalog: each fixture-like service
//! from intake to hand-over, returns and resubmission, the centre's answers, refusals that write
//! nothing, and the projection with its due time.

use std::collections::HashSet;

use rusqlite::Connection;
use simpul_domain::applicant::{
    Applicant, MaritalStatus, Nationality, Passport, Permit, PermitKind, PoaScope, PowerOfAttorney,
};
use simpul_domain::application::{Action, Status};
use simpul_domain::catalog::ServiceKind;
use simpul_domain::nik::Sex;
use simpul_domain::office::BoxRole;
use simpul_domain::wilayah::RegionCode;
use simpul_domain::zone::Zone;
use simpul_server::office::applications::{self, ActDetails, AppError, HandoverInput, Intake, Needed, ProxyInput, Who};
use simpul_store::{catalog, regions};
use simpul_sync::records::CaptureDoc;
use time::macros::{date, datetime};

struct Office {
    _dir: tempfile::TempDir,
    conn: Connection,
    regions: HashSet<RegionCode>,
}

fn office() -> Office {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = simpul_store::db::open_sync(
        &dir.path().join("t.sqlite3"),
        &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
    )
    .unwrap();
    simpul_server::ops::demo::seed(&mut conn, BoxRole::Office, time::OffsetDateTime::now_utc()).unwrap();
    let regions = regions::all_codes(&conn).unwrap();
    Office { _dir: dir, conn, regions }
}

fn who(at: time::OffsetDateTime) -> Who {
    Who { staff: "staff-1".into(), office: "51.03.02".parse().unwrap(), at, zone: Zone::Wita }
}

fn service(o: &Office, kind: ServiceKind) -> String {
    catalog::list(&o.conn).unwrap().into_iter().find(|e| e.standard.kind == kind).unwrap().id
}

fn citizen() -> Applicant {
    Applicant {
        nik: "5103021205900001".into(),
        name: "I Made Contoh".into(),
        sex: Sex::Male,
        birth_place: "Badung".into(),
        birth_date: date!(1990 - 05 - 12),
        marital: MaritalStatus::Married,
        address: "Jl. Raya Mengwi No. 1".into(),
        region: "51.03.02".parse().unwrap(),
        kk_number: "5103021234567890".into(),
        nationality: Nationality::Indonesian,
        passport: None,
        permit: None,
        phone: Some("081234567890".into()),
        email: None,
    }
}

fn foreigner() -> Applicant {
    Applicant {
        nik: "5103025205900002".into(),
        name: "Jane Citizen".into(),
        sex: Sex::Female,
        nationality: Nationality::Foreign("AUS".into()),
        passport: Some(Passport { number: "PA1234567".into(), expires: date!(2031 - 01 - 01) }),
        permit: Some(Permit { kind: PermitKind::Itap, number: "2C11AB1234".into(), expires: date!(2030 - 06 - 30) }),
        ..citizen()
    }
}

const MON: time::OffsetDateTime = datetime!(2026-11-23 09:00 +08:00);

fn complete_checklist(o: &Office, id: &str) {
    let doc = applications::load(&o.conn, id).unwrap().doc;
    for (i, item) in doc.checklist.iter().enumerate() {
        match item.kind.as_str() {
            "document" => applications::attach(&o.conn, &who(MON), id, i, &"ab".repeat(32)).unwrap(),
            _ => applications::confirm(&o.conn, &who(MON), id, i, true).unwrap(),
        }
    }
}

fn act(o: &Office, id: &str, action: Action, details: ActDetails) -> Result<Status, AppError> {
    applications::act(&o.conn, &who(MON), id, action, &details, &o.regions)
}

fn changes(o: &Office) -> i64 {
    o.conn.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_second_box_of_the_office_numbers_in_its_own_block() {
    let o = office();
    let intake =
        Intake { service_id: service(&o, ServiceKind::Legalisation), applicant: citizen(), ticket: None, proxy: None };
    let (_, first) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    // The hub made this box the office's second at enrollment.
    simpul_store::settings::set_station(&o.conn, 2).unwrap();
    let (_, second) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("510302-20261123-0001", "510302-20261123-1002"));
}

#[test]
fn staff_find_an_application_by_nik_number_or_name() {
    use simpul_store::applications::Search;
    let o = office();
    let intake =
        Intake { service_id: service(&o, ServiceKind::Legalisation), applicant: citizen(), ticket: None, proxy: None };
    let (id, number) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    let someone = Applicant { nik: "5103021205900003".into(), name: "Komang Lain".into(), ..citizen() };
    let other = Intake { applicant: someone, ..intake.clone() };
    let (other_id, _) = applications::open(&o.conn, &who(MON), &other, &o.regions).unwrap();
    let one = vec![id.clone()];
    let ids = |q: &str| -> Vec<String> {
        let search = Search::parse(q).unwrap_or_else(|| panic!("{q} is searchable"));
        simpul_store::applications::search(&o.conn, &search, 50).unwrap().into_iter().map(|r| r.id).collect()
    };
    assert_eq!(Search::parse(&citizen().nik), Some(Search::Nik(citizen().nik)));
    assert_eq!(ids(&citizen().nik), one);
    assert_eq!(ids(&number), one);
    assert_eq!(ids(&number[number.len() - 4..]), one, "the end of a number is enough");
    let name = citizen().name;
    assert_eq!(ids(&name.to_lowercase()[..5]), one, "part of the name, in any case");
    assert_eq!(ids("komang"), [other_id]);
    // Too short to look for; wildcards are taken literally.
    assert_eq!(Search::parse(" ab "), None);
    assert!(ids("%%%").is_empty() && ids("___").is_empty());
}

#[test]
fn legalisation_from_intake_to_hand_over() {
    let o = office();
    let intake =
        Intake { service_id: service(&o, ServiceKind::Legalisation), applicant: citizen(), ticket: None, proxy: None };
    let (id, number) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    assert_eq!(number, "510302-20261123-0001");
    // Nothing attached yet: submission names what is missing.
    match act(&o, &id, Action::Submit, ActDetails::default()) {
        Err(AppError::RequirementsMissing(items)) => assert_eq!(items, vec![0, 1]),
        other => panic!("{other:?}"),
    }
    complete_checklist(&o, &id);
    assert_eq!(act(&o, &id, Action::Submit, ActDetails::default()).unwrap(), Status::Submitted);
    // Submitted: the data is locked for the counter.
    assert!(matches!(
        applications::attach(&o.conn, &who(MON), &id, 0, &"cd".repeat(32)),
        Err(AppError::Locked(Status::Submitted))
    ));
    assert_eq!(act(&o, &id, Action::Verify, ActDetails::default()).unwrap(), Status::Verified);
    assert_eq!(act(&o, &id, Action::Produce, ActDetails::default()).unwrap(), Status::Ready);
    let no_copies = ActDetails {
        handover: Some(HandoverInput { recipient_nik: citizen().nik, withdrawn: None, copies: None, proxy: None }),
        ..ActDetails::default()
    };
    assert!(matches!(act(&o, &id, Action::HandOver, no_copies), Err(AppError::HandOver(_))));
    // The applicant applied in person and sends someone to pick it up: without a power of
    // attorney they are refused; with one presented now (pick-up, valid today) they take it.
    let sent = "5103024101950003";
    let refused = ActDetails {
        handover: Some(HandoverInput { recipient_nik: sent.into(), withdrawn: None, copies: Some(3), proxy: None }),
        ..ActDetails::default()
    };
    assert!(matches!(act(&o, &id, Action::HandOver, refused), Err(AppError::HandOver(Needed::NoProxy))));
    let presented = |until: time::Date| ProxyInput {
        poa: PowerOfAttorney {
            grantor_nik: String::new(),
            grantor_name: String::new(),
            grantee_nik: sent.into(),
            grantee_name: "Ni Luh Kuasa".into(),
            scope: vec![PoaScope::Pickup],
            valid_from: date!(2026 - 11 - 23),
            valid_until: until,
            reason: "Pemohon bekerja di luar kota".into(),
        },
        document: None,
    };
    let expired = ActDetails {
        handover: Some(HandoverInput {
            recipient_nik: sent.into(),
            withdrawn: None,
            copies: Some(3),
            proxy: Some(presented(date!(2026 - 11 - 22))),
        }),
        ..ActDetails::default()
    };
    assert!(matches!(act(&o, &id, Action::HandOver, expired), Err(AppError::Poa(_))));
    let handover = ActDetails {
        handover: Some(HandoverInput {
            recipient_nik: sent.into(),
            withdrawn: None,
            copies: Some(3),
            proxy: Some(presented(date!(2026 - 11 - 30))),
        }),
        ..ActDetails::default()
    };
    assert_eq!(act(&o, &id, Action::HandOver, handover).unwrap(), Status::HandedOver);
    let doc = applications::load(&o.conn, &id).unwrap().doc;
    let kuasa = doc.pickup_proxy.clone().expect("the power of attorney is kept on the record");
    assert_eq!((kuasa.name.as_str(), kuasa.scope.as_str()), ("Ni Luh Kuasa", "pickup"));
    assert_eq!(doc.handover.as_ref().map(|h| h.recipient.as_str()), Some("proxy"));
    assert_eq!(doc.handover.unwrap().copies, Some(3));
    let actions: Vec<&str> = doc.steps.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["submit", "verify", "produce", "hand_over"]);
    assert!(doc.steps.iter().all(|s| s.by == "staff-1" && s.office == "51.03.02" && s.at.ends_with("+08:00")));
    // The projection follows.
    let rows = simpul_store::applications::list(&o.conn, &[Status::HandedOver], 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].number, number);
}

#[test]
fn a_foreign_resident_ktp_is_returned_resubmitted_and_goes_through_the_centre() {
    let o = office();
    let proxy = ProxyInput {
        poa: PowerOfAttorney {
            grantor_nik: foreigner().nik,
            grantor_name: foreigner().name,
            grantee_nik: citizen().nik,
            grantee_name: citizen().name,
            scope: vec![PoaScope::Submit, PoaScope::Pickup],
            valid_from: date!(2026 - 11 - 01),
            valid_until: date!(2026 - 12 - 31),
            reason: "sakit".into(),
        },
        document: Some("ef".repeat(32)),
    };
    let intake = Intake {
        service_id: service(&o, ServiceKind::KtpElForeignNew),
        applicant: foreigner(),
        ticket: Some("510302-20261123-A001".into()),
        proxy: Some(proxy),
    };
    let (id, _) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    complete_checklist(&o, &id);
    act(&o, &id, Action::Submit, ActDetails::default()).unwrap();
    // A return needs a reason for every item it names.
    assert!(matches!(
        act(&o, &id, Action::Return, ActDetails { reasons: vec![(2, " ".into())], ..ActDetails::default() }),
        Err(AppError::ReturnReasons)
    ));
    let reasons =
        ActDetails { reasons: vec![(2, "Paspor sudah tidak terbaca, bawa yang asli".into())], ..ActDetails::default() };
    let due_before = simpul_store::applications::list(&o.conn, &[Status::Submitted], 10).unwrap()[0].due_at.clone();
    assert!(due_before.is_some());
    assert_eq!(act(&o, &id, Action::Return, reasons).unwrap(), Status::Returned);
    let rows = simpul_store::applications::list(&o.conn, &[Status::Returned], 10).unwrap();
    assert_eq!(rows[0].due_at, None, "the clock stops while the file is back with the applicant");
    applications::attach(&o.conn, &who(MON), &id, 2, &"12".repeat(32)).unwrap();
    assert_eq!(act(&o, &id, Action::Resubmit, ActDetails::default()).unwrap(), Status::Submitted);
    act(&o, &id, Action::Verify, ActDetails::default()).unwrap();

    // Biometrics: photo and signature needed; fingerprint and iris are recorded as not captured.
    assert!(matches!(act(&o, &id, Action::RecordBiometrics, ActDetails::default()), Err(AppError::Biometrics(_))));
    for modality in ["photo", "signature"] {
        let capture = CaptureDoc {
            modality: modality.into(),
            position: String::new(),
            blob: Some("34".repeat(32)),
            picture: None,
            record_format: None,
            quality: None,
            device: "upload".into(),
            exception: None,
            at: "2026-11-23T09:30:00+08:00".into(),
        };
        applications::record_capture(&o.conn, &who(MON), &id, capture).unwrap();
    }
    // One print of ten is not a set of fingerprints: every finger needs a print or a declared
    // exception before the step closes.
    use simpul_sbi::BioSubType;
    let capture = |modality: &str, position: String, blob: Option<String>, exception: Option<&str>| CaptureDoc {
        modality: modality.into(),
        position,
        blob,
        picture: None,
        record_format: None,
        quality: blob_quality(&exception),
        device: "sbi".into(),
        exception: exception.map(Into::into),
        at: "2026-11-23T09:31:00+08:00".into(),
    };
    let [first, rest @ ..] = BioSubType::FINGERS;
    let print = capture("fingerprint", first.position(), Some("56".repeat(32)), None);
    applications::record_capture(&o.conn, &who(MON), &id, print).unwrap();
    assert!(matches!(
        act(&o, &id, Action::RecordBiometrics, ActDetails::default()),
        Err(AppError::Biometrics(Needed::AllFingers))
    ));
    for finger in rest {
        let missing = capture("fingerprint", finger.position(), None, Some("missing"));
        applications::record_capture(&o.conn, &who(MON), &id, missing).unwrap();
    }
    // One eye taken by the iris camera: the other is recorded as not captured.
    let [left_eye, right_eye] = BioSubType::IRISES;
    let iris = capture("iris", left_eye.position(), Some("78".repeat(32)), None);
    applications::record_capture(&o.conn, &who(MON), &id, iris).unwrap();
    act(&o, &id, Action::RecordBiometrics, ActDetails::default()).unwrap();
    let doc = applications::load(&o.conn, &id).unwrap().doc;
    assert_eq!(doc.captures.iter().filter(|c| c.modality == "fingerprint").count(), 10);
    let eyes: Vec<_> = doc.captures.iter().filter(|c| c.modality == "iris").collect();
    assert_eq!(eyes.len(), 2);
    assert!(
        eyes.iter().any(|c| c.position == right_eye.position()
            && c.exception.as_deref() == Some(applications::NOT_CAPTURED)
            && c.device.contains("staff")),
        "{eyes:?}"
    );

    act(&o, &id, Action::SendForIdentification, ActDetails::default()).unwrap();
    let rows = simpul_store::applications::list(&o.conn, &[Status::SentForIdentification], 10).unwrap();
    assert_eq!(rows[0].due_at, None, "the SLA is paused while the centre works");
    assert!(matches!(act(&o, &id, Action::IdentifiedDouble, ActDetails::default()), Err(AppError::Detail(_))));
    let double = ActDetails { other_reference: Some("5171010101800001".into()), ..ActDetails::default() };
    assert_eq!(act(&o, &id, Action::IdentifiedDouble, double).unwrap(), Status::Clarification);
    act(&o, &id, Action::ResolveClarification, ActDetails::default()).unwrap();
    assert_eq!(act(&o, &id, Action::IdentifiedSingle, ActDetails::default()).unwrap(), Status::ReadyToPrint);
    let rows = simpul_store::applications::list(&o.conn, &[Status::ReadyToPrint], 10).unwrap();
    assert!(rows[0].due_at.is_some(), "the clock runs again");
    act(&o, &id, Action::Produce, ActDetails::default()).unwrap();

    // Picked up by the proxy named in the power of attorney; a stranger is refused.
    let stranger = ActDetails {
        handover: Some(HandoverInput {
            recipient_nik: "5103021205900009".into(),
            withdrawn: None,
            copies: None,
            proxy: None,
        }),
        ..ActDetails::default()
    };
    assert!(matches!(act(&o, &id, Action::HandOver, stranger), Err(AppError::Poa(_))));
    let by_proxy = ActDetails {
        handover: Some(HandoverInput { recipient_nik: citizen().nik, withdrawn: None, copies: None, proxy: None }),
        ..ActDetails::default()
    };
    assert_eq!(act(&o, &id, Action::HandOver, by_proxy).unwrap(), Status::HandedOver);
    let doc = applications::load(&o.conn, &id).unwrap().doc;
    assert_eq!(doc.handover.unwrap().recipient, "proxy");
    assert_eq!(doc.returns.len(), 1);
    assert_eq!(doc.identification.unwrap().result, "single");
}

#[test]
fn a_reissue_needs_the_old_card_withdrawn() {
    let o = office();
    let intake =
        Intake { service_id: service(&o, ServiceKind::KtpElReissue), applicant: citizen(), ticket: None, proxy: None };
    let (id, _) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    complete_checklist(&o, &id);
    for a in [Action::Submit, Action::Verify, Action::Produce] {
        act(&o, &id, a, ActDetails::default()).unwrap();
    }
    let without = ActDetails {
        handover: Some(HandoverInput { recipient_nik: citizen().nik, withdrawn: None, copies: None, proxy: None }),
        ..ActDetails::default()
    };
    assert!(matches!(act(&o, &id, Action::HandOver, without), Err(AppError::HandOver(_))));
    let with = ActDetails {
        handover: Some(HandoverInput {
            recipient_nik: citizen().nik,
            withdrawn: Some(("5103021205900001-01".into(), "perubahan data".into(), "dipotong".into())),
            copies: None,
            proxy: None,
        }),
        ..ActDetails::default()
    };
    assert_eq!(act(&o, &id, Action::HandOver, with).unwrap(), Status::HandedOver);
}

#[test]
fn refusals_write_nothing() {
    let o = office();
    let mut bad = citizen();
    bad.birth_date = date!(2030 - 01 - 01);
    let intake =
        Intake { service_id: service(&o, ServiceKind::Legalisation), applicant: bad, ticket: None, proxy: None };
    match applications::open(&o.conn, &who(MON), &intake, &o.regions) {
        Err(AppError::Invalid(problems)) => assert!(!problems.is_empty()),
        other => panic!("{other:?}"),
    }
    assert_eq!(changes(&o), 0);
    let intake =
        Intake { service_id: service(&o, ServiceKind::Legalisation), applicant: citizen(), ticket: None, proxy: None };
    let (id, _) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    let before = changes(&o);
    assert!(act(&o, &id, Action::HandOver, ActDetails::default()).is_err());
    assert!(act(&o, &id, Action::Cancel, ActDetails::default()).is_err(), "a cancellation needs a reason");
    assert!(applications::attach(&o.conn, &who(MON), &id, 99, &"ab".repeat(32)).is_err());
    assert_eq!(changes(&o), before, "nothing written by refused actions");
    assert!(matches!(applications::load(&o.conn, "nope"), Err(AppError::NotFound)));
}

#[test]
fn the_projection_carries_the_due_time_from_the_catalog() {
    let o = office();
    let intake =
        Intake { service_id: service(&o, ServiceKind::KtpElReissue), applicant: citizen(), ticket: None, proxy: None };
    let (id, _) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    complete_checklist(&o, &id);
    act(&o, &id, Action::Submit, ActDetails::default()).unwrap();
    let row = simpul_store::applications::list(&o.conn, &[], 10).unwrap().remove(0);
    // "10 Menit" from Monday 09:00 local.
    assert_eq!(row.due_at.as_deref(), Some("2026-11-23 09:10"));
}

fn blob_quality(exception: &Option<&str>) -> Option<u64> {
    exception.is_none().then_some(80)
}

#[test]
fn due_times_move_when_a_holiday_is_declared_after_submission() {
    let o = office();
    let intake = Intake {
        service_id: service(&o, ServiceKind::KtpElForeignNew),
        applicant: foreigner(),
        ticket: None,
        proxy: None,
    };
    let (id, _) = applications::open(&o.conn, &who(MON), &intake, &o.regions).unwrap();
    complete_checklist(&o, &id);
    act(&o, &id, Action::Submit, ActDetails::default()).unwrap();
    let due =
        || simpul_store::applications::list(&o.conn, &[Status::Submitted], 10).unwrap()[0].due_at.clone().unwrap();
    let before = due();
    // The regency declares the Tuesday a holiday (cuti bersama): one working day fewer before
    // the deadline, so it moves a day on.
    simpul_store::holidays::upsert(
        &o.conn,
        date!(2026 - 11 - 24),
        "Cuti bersama",
        simpul_domain::calendar::HolidayKind::CutiBersama,
    )
    .unwrap();
    assert_eq!(due(), before, "the projection does not know yet");
    assert_eq!(applications::recompute_due(&o.conn).unwrap(), 1);
    let after = due();
    assert!(after > before, "{before} -> {after}");
}
