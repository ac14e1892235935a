//! Reference data between hub and box (staff of one office, catalog, regions, holidays, the
//! password changes going up) on real SQLite files seeded like the demo.

use simpul_domain::auth::{Role, Username};
use simpul_domain::calendar::HolidayKind;
use simpul_domain::office::BoxRole;
use simpul_domain::wilayah::RegionCode;
use simpul_store::Connection;
use simpul_store::reference::*;
use simpul_store::staff::{self, NewAccount};
use simpul_sync::reference::{HolidayRow, ReferenceBatch, ReferenceRow, Revision, ServiceRow, StaffRow};
use time::OffsetDateTime;

fn db(role: BoxRole) -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = simpul_store::db::open_sync(
        &dir.path().join("t.sqlite3"),
        &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
    )
    .unwrap();
    simpul_server::ops::demo::seed(&mut conn, role, OffsetDateTime::now_utc()).unwrap();
    (dir, conn)
}

fn add(conn: &Connection, username: &str, role: Role, office: &str) -> String {
    let username = Username::parse(username).unwrap();
    let hash = simpul_server::office::auth::hash_password("rahasia-sekali-123").unwrap();
    let new = NewAccount {
        username: &username,
        display_name: "Akun Hub",
        role,
        office: Some(office.parse().unwrap()),
        password_hash: &hash,
    };
    staff::insert(conn, &new, OffsetDateTime::now_utc()).unwrap()
}

fn pull_all(hub: &Connection, boxed: &Connection, office: &RegionCode, limit: usize) -> usize {
    let mut batches = 0;
    loop {
        let batch = rows_after(hub, applied(boxed).unwrap(), office, limit).unwrap();
        assert!(batch.rows.len() <= limit);
        apply(boxed, &batch, office, OffsetDateTime::now_utc()).unwrap();
        batches += 1;
        if !batch.more {
            return batches;
        }
    }
}

#[test]
fn a_box_gets_its_office_accounts_catalog_regions_and_holidays_in_pages() {
    let (_h, hub) = db(BoxRole::Hub);
    let (_b, boxed) = db(BoxRole::Office);
    let office: RegionCode = "51.03.02".parse().unwrap();
    let sari = add(&hub, "sari", Role::Petugas, "51.03.02");
    add(&hub, "luar", Role::Petugas, "51.03.01");
    hub.execute("INSERT INTO holidays (date, name, kind) VALUES ('2026-08-05', 'Hari Raya Galungan', 'regional')", [])
        .unwrap();
    let batches = pull_all(&hub, &boxed, &office, 7);
    assert!(batches > 3, "small pages: {batches}");
    assert_eq!(applied(&boxed).unwrap(), current(&hub).unwrap());
    let got = staff::by_username(&boxed, "sari").unwrap().unwrap();
    assert_eq!((got.id, got.role, got.active), (sari.clone(), Role::Petugas, true));
    assert!(staff::by_username(&boxed, "luar").unwrap().is_none(), "another office's account stayed away");
    let kind: String =
        boxed.query_row("SELECT kind FROM holidays WHERE date = '2026-08-05'", [], |r| r.get(0)).unwrap();
    assert_eq!(kind, "regional");
    let ids = |c: &Connection| {
        let mut s = c.prepare("SELECT id FROM catalog_services ORDER BY id").unwrap();
        s.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
    };
    assert_eq!(ids(&hub), ids(&boxed), "a standard has the same id everywhere");
    let orphans: i64 = boxed
        .query_row("SELECT COUNT(*) FROM regions WHERE parent IS NULL AND level != 'province'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orphans, 0);

    // Nothing new: nothing sent. Importing the same list again changes no revision.
    let list = simpul_domain::wilayah::parse_region_list(
        include_str!("../demo/wilayah-demo.csv"),
        &std::collections::HashSet::new(),
    )
    .unwrap();
    simpul_store::regions::import(&hub, &list, OffsetDateTime::now_utc()).unwrap();
    let batch = rows_after(&hub, applied(&boxed).unwrap(), &office, 100).unwrap();
    assert!(batch.rows.is_empty() && !batch.more);

    // Disabling at the hub reaches the box and ends the account's sessions there.
    let epoch = staff::by_id(&boxed, &sari).unwrap().unwrap().session_epoch;
    staff::set_active(&hub, &sari, false, OffsetDateTime::now_utc()).unwrap();
    pull_all(&hub, &boxed, &office, 100);
    let got = staff::by_id(&boxed, &sari).unwrap().unwrap();
    assert!(!got.active && got.session_epoch > epoch);

    // Moved to another office: the box disables its copy.
    staff::set_active(&hub, &sari, true, OffsetDateTime::now_utc()).unwrap();
    pull_all(&hub, &boxed, &office, 100);
    assert!(staff::by_id(&boxed, &sari).unwrap().unwrap().active);
    hub.execute("UPDATE staff SET office_code = '51.03.01' WHERE id = ?1", [&sari]).unwrap();
    pull_all(&hub, &boxed, &office, 100);
    assert!(!staff::by_id(&boxed, &sari).unwrap().unwrap().active);
}

#[test]
fn a_password_changed_at_the_box_reaches_the_hub_and_a_later_reset_there_wins() {
    use staff::CredentialOutcome;
    let (_h, hub) = db(BoxRole::Hub);
    let (_b, boxed) = db(BoxRole::Office);
    let office: RegionCode = "51.03.02".parse().unwrap();
    let sari = add(&hub, "sari", Role::Petugas, "51.03.02");
    pull_all(&hub, &boxed, &office, 1000);
    let t0 = OffsetDateTime::now_utc();
    let hash = |c: &Connection| staff::by_id(c, &sari).unwrap().unwrap().password_hash;

    // The owner changes it at the box; the hub's copy coming down does not undo it.
    let mine = simpul_server::office::auth::hash_password("kopi-bali-pagi-9").unwrap();
    staff::change_own_password(&boxed, &sari, &mine, t0).unwrap();
    hub.execute("UPDATE staff SET display_name = 'Sari Dewi' WHERE id = ?1", [&sari]).unwrap();
    pull_all(&hub, &boxed, &office, 1000);
    assert_eq!(hash(&boxed), mine, "a change waiting for the hub stays");
    let pending = staff::pending_credentials(&boxed).unwrap();
    assert_eq!(pending.len(), 1);

    // At the hub: taken, audited by the caller; another office's box may not send it.
    let other: RegionCode = "51.03.01".parse().unwrap();
    assert_eq!(
        staff::take_credential(&hub, &pending[0], &other, t0).unwrap(),
        Err(simpul_sync::reference::CredentialRefusal::OtherOffice)
    );
    assert_eq!(staff::take_credential(&hub, &pending[0], &office, t0).unwrap(), Ok(CredentialOutcome::Taken));
    assert_eq!(hash(&hub), mine);
    // Sent again (the answer was lost): still taken, nothing else happens.
    assert_eq!(staff::take_credential(&hub, &pending[0], &office, t0).unwrap(), Ok(CredentialOutcome::Taken));
    let unknown = simpul_sync::reference::CredentialChange { staff: uuid::Uuid::from_u128(9), ..pending[0].clone() };
    assert_eq!(staff::take_credential(&hub, &unknown, &office, t0).unwrap(), Ok(CredentialOutcome::UnknownAccount));
    staff::credentials_delivered(&boxed, &pending).unwrap();
    assert!(staff::pending_credentials(&boxed).unwrap().is_empty());

    // An admin resets it at the hub later: the reset stands against the older change and
    // reaches the box.
    let reset = simpul_server::office::auth::hash_password("reset-oleh-admin-7").unwrap();
    staff::set_password(&hub, &sari, &reset, t0 + time::Duration::seconds(60)).unwrap();
    // Meanwhile the box still held its own hash: a stale change sends the hub's row again.
    boxed.execute("UPDATE staff SET password_hash = ?2 WHERE id = ?1", [&sari, &mine]).unwrap();
    let before = current(&hub).unwrap();
    assert_eq!(staff::take_credential(&hub, &pending[0], &office, t0).unwrap(), Ok(CredentialOutcome::Stale));
    assert!(current(&hub).unwrap() > before);
    assert_eq!(hash(&hub), reset);
    pull_all(&hub, &boxed, &office, 1000);
    assert_eq!(hash(&boxed), reset);

    // A box clock an hour ahead: the change counts as made now, so a reset later still wins.
    let ahead = simpul_sync::reference::CredentialChange {
        password_hash: simpul_server::office::auth::hash_password("jam-kotak-maju-5").unwrap(),
        changed_at: OffsetDateTime::now_utc().unix_timestamp() + 3600,
        ..pending[0].clone()
    };
    // (The hub's clock two minutes on, past the reset above.)
    let now = OffsetDateTime::now_utc() + time::Duration::seconds(120);
    assert_eq!(staff::take_credential(&hub, &ahead, &office, now).unwrap(), Ok(CredentialOutcome::Taken));
    let set_at: i64 = hub.query_row("SELECT password_set_at FROM staff WHERE id = ?1", [&sari], |r| r.get(0)).unwrap();
    assert_eq!(set_at, now.unix_timestamp());
}

#[test]
fn a_hub_account_takes_a_local_username_and_the_local_one_is_disabled() {
    let (_h, hub) = db(BoxRole::Hub);
    let (_b, boxed) = db(BoxRole::Office);
    let office: RegionCode = "51.03.02".parse().unwrap();
    let local = staff::by_username(&boxed, "petugas").unwrap().unwrap();
    let from_hub = add(&hub, "petugas", Role::Petugas, "51.03.02");
    pull_all(&hub, &boxed, &office, 1000);
    assert_eq!(staff::by_username(&boxed, "petugas").unwrap().unwrap().id, from_hub);
    let moved = staff::by_id(&boxed, &local.id).unwrap().unwrap();
    assert!(!moved.active && moved.username.as_str().starts_with("petugas-"));
}

#[test]
fn a_bad_batch_is_refused_whole() {
    let (_b, boxed) = db(BoxRole::Office);
    let office: RegionCode = "51.03.02".parse().unwrap();
    let before = staff::count(&boxed).unwrap();
    let good = StaffRow {
        id: uuid::Uuid::from_u128(5),
        username: "baru".into(),
        display_name: "Baru".into(),
        role: Role::Petugas,
        office: Some(office),
        password_hash: simpul_server::office::auth::hash_password("rahasia-sekali-123").unwrap(),
        active: true,
        session_epoch: 0,
    };
    let cases = [
        ReferenceRow::Staff(StaffRow { role: Role::AdminKabupaten, ..good.clone() }),
        ReferenceRow::Staff(StaffRow { office: Some("51.03.01".parse().unwrap()), ..good.clone() }),
        ReferenceRow::Staff(StaffRow { password_hash: "plain".into(), ..good.clone() }),
        ReferenceRow::Staff(StaffRow { username: "../root".into(), ..good.clone() }),
        ReferenceRow::Service(ServiceRow { id: uuid::Uuid::from_u128(6), standard_json: "{".into(), source: None }),
        ReferenceRow::Holiday(HolidayRow { date: "2026-02-30".into(), name: "X".into(), kind: HolidayKind::National }),
    ];
    for bad in cases {
        let batch = ReferenceBatch {
            rows: vec![ReferenceRow::Staff(good.clone()), bad.clone()],
            upto: Revision(99),
            more: false,
        };
        let tx = boxed.unchecked_transaction().unwrap();
        let result = apply(&tx, &batch, &office, OffsetDateTime::now_utc());
        assert!(matches!(result, Err(ReferenceError::Invalid(_))), "{bad:?}: {result:?}");
        drop(tx);
        assert_eq!(staff::count(&boxed).unwrap(), before);
        assert_eq!(applied(&boxed).unwrap(), Revision(0));
    }
}
