//! Demo data for a first start on an empty database: a few region codes, the box's unit, four
//! service standards (written for the demo, marked DEMO) and one account per role with a fresh
//! random password, printed once and kept in `demo-accounts.txt` in the data directory.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use simpul_domain::auth::{Role, Username};
use simpul_domain::catalog::import_standard;
use simpul_domain::office::{BoxRole, Unit};
use simpul_domain::wilayah::parse_region_list;
use simpul_store::Connection;
use time::OffsetDateTime;

use crate::office::auth::{hash_password, random_password};
use simpul_store::audit::{self, Actor};
use simpul_store::db::StoreError;
use simpul_store::tokens::{self, Purpose};
use simpul_store::{catalog, regions, settings, staff};

const REGIONS: &str = include_str!("../../demo/wilayah-demo.csv");
const HOLIDAYS: &str = include_str!("../../demo/libur-2026.csv");
const STANDARDS: [(&str, &str); 4] = [
    ("01-ktp-el-orang-asing.md", include_str!("../../demo/katalog/01-ktp-el-orang-asing.md")),
    ("02-ktp-el-perubahan-data.md", include_str!("../../demo/katalog/02-ktp-el-perubahan-data.md")),
    ("03-legalisir-ktp-el.md", include_str!("../../demo/katalog/03-legalisir-ktp-el.md")),
    ("04-aktivasi-ikd.md", include_str!("../../demo/katalog/04-aktivasi-ikd.md")),
];

/// The demo office (Kecamatan Mengwi) and regency (Kabupaten Badung).
pub const OFFICE_CODE: &str = "51.03.02";
const REGENCY_CODE: &str = "51.03";

/// What the demo created that is shown once: accounts, and the kiosk and display tokens.
#[derive(Debug, Clone)]
pub struct Demo {
    /// One account per role.
    pub accounts: Vec<DemoAccount>,
    /// Token of the demo kiosk.
    pub kiosk_token: String,
    /// Token of the demo waiting-room display.
    pub display_token: String,
}

/// One demo account as printed.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Role.
    pub role: Role,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// The generated password.
    pub password: String,
}

fn accounts() -> [(Role, &'static str, &'static str); 5] {
    [
        (Role::Petugas, "petugas", "Ni Luh Ayu Lestari"),
        (Role::Verifikator, "verifikator", "I Made Suardana"),
        (Role::Kepala, "kepala", "I Wayan Sudirta"),
        (Role::AdminKabupaten, "adminkab", "Ni Komang Sari (Admin Kabupaten)"),
        (Role::Installer, "installer", "Putu Teknisi"),
    ]
}

/// Fills an empty database with the demo. Everything in one transaction.
pub fn seed(conn: &mut Connection, role: BoxRole, now: OffsetDateTime) -> Result<Demo, StoreError> {
    let region_list = parse_region_list(REGIONS, &HashSet::new())
        .map_err(|e| StoreError::Corrupt(format!("demo regions: {}", e[0])))?;
    let unit = match role {
        BoxRole::Office => {
            Unit { code: OFFICE_CODE.parse().expect("demo code"), name: "Kantor Kecamatan Mengwi".into() }
        }
        BoxRole::Hub => {
            Unit { code: REGENCY_CODE.parse().expect("demo code"), name: "Dinas Dukcapil Kabupaten Badung".into() }
        }
    };
    // Hashing is slow on purpose: do it before the transaction.
    let mut created = Vec::new();
    let mut hashes = Vec::new();
    // A hub serves the regency: its counter staff live on the office boxes (and reach them
    // from the hub as reference data), so a demo hub holds regency accounts only.
    let wanted = accounts().into_iter().filter(|(r, _, _)| match role {
        BoxRole::Office => true,
        BoxRole::Hub => matches!(r, Role::AdminKabupaten | Role::Installer),
    });
    for (role, username, name) in wanted {
        let password = random_password();
        hashes.push(hash_password(&password)?);
        created.push(DemoAccount { role, username: username.into(), display_name: name.into(), password });
    }
    let tx = conn.transaction()?;
    regions::import(&tx, &region_list, now)?;
    // A box enrolled before its first start keeps the office its enrollment gave it.
    if settings::unit(&tx)?.is_none() {
        settings::set_unit(&tx, role, &unit)?;
    }
    for (name, text) in STANDARDS {
        let imported =
            import_standard(text.as_bytes()).map_err(|e| StoreError::Corrupt(format!("demo standard {name}: {e}")))?;
        catalog::upsert(&tx, &imported.standard, Some(name), now)?;
    }
    // The office in effect: an enrolled box got it from the hub before its first start.
    let office = match settings::unit(&tx)? {
        Some((BoxRole::Office, unit)) => Some(unit.code),
        _ => None,
    };
    for (account, hash) in created.iter().zip(&hashes) {
        let username = Username::parse(&account.username).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let new = staff::NewAccount {
            username: &username,
            display_name: &account.display_name,
            role: account.role,
            office: if account.role == Role::AdminKabupaten { None } else { office },
            password_hash: hash,
        };
        staff::insert(&tx, &new, now)?;
    }
    simpul_store::holidays::import(&tx, HOLIDAYS).map_err(|e| StoreError::Corrupt(format!("demo holidays: {e}")))?;
    let ids: Vec<String> = catalog::list(&tx)?.into_iter().map(|e| e.id).collect();
    simpul_store::queue::set_counter(&tx, "L1", "Loket 1", &[])?;
    simpul_store::queue::set_counter(&tx, "L2", "Loket 2", &ids[..ids.len().min(2)])?;
    let (kiosk_token, display_token) = (crate::office::auth::random_token(), crate::office::auth::random_token());
    tokens::create(&tx, Purpose::Kiosk, "kios demo", &kiosk_token, now)?;
    tokens::create(&tx, Purpose::Display, "layar demo", &display_token, now)?;
    audit::record(&tx, now, &Actor::System, "demo_seeded", Some(&unit.code.to_string()), None)?;
    tx.commit()?;
    Ok(Demo { accounts: created, kiosk_token, display_token })
}

/// The accounts and device addresses as shown on the console and in the credentials file.
pub fn table(demo: &Demo, base: &str) -> String {
    let mut out = String::from("  role             username      password\n");
    for a in &demo.accounts {
        out.push_str(&format!("  {:<16} {:<13} {}\n", a.role.code(), a.username, a.password));
    }
    out.push_str(&format!("  kiosk:   {base}/kios?token={}\n", demo.kiosk_token));
    out.push_str(&format!("  display: {base}/layar?token={}\n", demo.display_token));
    out
}

/// Writes the credentials file, readable by the owner only.
pub fn write_credentials(dir: &Path, demo: &Demo, base: &str) -> std::io::Result<std::path::PathBuf> {
    let path = dir.join("demo-accounts.txt");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    writeln!(file, "# Simpul demo accounts (delete this file once noted; demo boxes only)")?;
    file.write_all(table(demo, base).as_bytes())?;
    file.sync_all()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_every_role_and_the_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = simpul_store::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let demo = seed(&mut conn, BoxRole::Office, OffsetDateTime::now_utc()).unwrap();
        let accounts = demo.accounts;
        assert_eq!(accounts.len(), 5);
        assert!(tokens::valid(&conn, Purpose::Kiosk, &demo.kiosk_token).unwrap());
        assert_eq!(simpul_store::queue::counters(&conn).unwrap().len(), 2);
        assert_eq!(staff::count(&conn).unwrap(), 5);
        assert_eq!(catalog::count(&conn).unwrap(), 4);
        let (role, unit) = settings::unit(&conn).unwrap().unwrap();
        assert_eq!((role, unit.code.to_string()), (BoxRole::Office, OFFICE_CODE.to_string()));
        let petugas = staff::by_username(&conn, "petugas").unwrap().unwrap();
        assert!(crate::office::auth::verify_password(&accounts[0].password, &petugas.password_hash));
        assert!(regions::all_codes(&conn).unwrap().contains(&OFFICE_CODE.parse().unwrap()));
    }

    #[test]
    fn a_demo_hub_holds_regency_accounts_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = simpul_store::db::open_sync(
            &dir.path().join("t.sqlite3"),
            &simpul_store::crypt::MasterKey::generate().unwrap().database_key(),
        )
        .unwrap();
        let demo = seed(&mut conn, BoxRole::Hub, OffsetDateTime::now_utc()).unwrap();
        let roles: Vec<Role> = demo.accounts.iter().map(|a| a.role).collect();
        assert_eq!(roles, [Role::AdminKabupaten, Role::Installer]);
        assert!(staff::list(&conn).unwrap().iter().all(|a| a.office.is_none()));
    }
}
